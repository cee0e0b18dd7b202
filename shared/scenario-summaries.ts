// One line per scenario on what it does, for the drill's --help (cli/drill.ts). Kept out of
// shared/scenarios.ts, which every function's bundle loads.
import type { ScenarioName } from './scenarios.js';

export const SCENARIO_SUMMARIES: Record<ScenarioName, string> = {
  'backup-verification': 'checks snapshots, encryption, retention, point-in-time recovery, cross-region copies and bucket replication against the RPO',
  'restore-test': 'restores the newest recovery-region copy to a scratch instance, queries it, deletes it and measures the RTO',
  'cluster-failover': 'brings the API up on the backup cluster when the primary is unhealthy, passes the health gates and moves DNS',
  'emergency-rollback': "rolls the API's deployment back one revision on the primary cluster and passes the health gates",
  'database-recovery': 'restores the database to before the incident while it stops the API and makes the damaged database read-only, then repoints the API (runs last)',
  'region-failover': 'moves the product to the recovery region when the primary region fails: restores the database there and brings up the recovery cluster in parallel, passes the gates, then moves DNS (runs last)',
  'security-incident': 'after approval: revokes the API keys, blocks the listed addresses, sets emergency mode, collects 24 h of evidence, rotates the listed secrets and rolls the API to the patched image',
  'region-failback': 'after a region failover, by hand: moves the data back to the primary region (short write freeze), brings the primary up and returns DNS to the recorded values',
};
