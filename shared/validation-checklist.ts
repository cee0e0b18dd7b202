// The plan's recovery validation checklist ("After any disaster recovery procedure", ten items),
// evaluated at the end of a recovery scenario's report: an item the run's own checks prove is ticked
// (or marked failed), an item no check of this run covers stays open, and the items only a person can
// do are listed as to-do. Pure: built from the report's checks.
import type { Check, Report } from './report.js';

/** Scenarios that recover something (the checklist applies after them); verification runs do not. */
export const RECOVERY_SCENARIOS: readonly string[] = [
  'cluster-failover',
  'emergency-rollback',
  'database-recovery',
  'region-failover',
  'region-failback',
  'security-incident',
];

export type ChecklistState =
  /** Every check that proves the item ran and passed. */
  | 'done'
  /** A check that proves the item failed. */
  | 'failed'
  /** Automated, but no check of this run covers it (e.g. the scenario does not probe Redis). */
  | 'not checked'
  /** Only a person can do it. */
  | 'to do';

export interface ChecklistItem {
  /** The plan's words. */
  item: string;
  state: ChecklistState;
  /** The checks it was decided from (`name on resource`), or what a person should do. */
  evidence: string;
}

interface ItemRule {
  item: string;
  /** Check names that prove it; an empty list means a manual item. */
  checks: readonly string[];
  /** What to do by hand (manual items), or what would check it (automated items not covered). */
  todo: string;
}

/**
 * The plan's ten items, in its order, with the checks of this project that prove each. Names are the
 * checks' `name` (shared/health: api-health, database-select-1, redis-ping; shared/cluster-ops:
 * `<role>-cluster-health`; shared/restore-validation and shared/failback-data (row counts);
 * shared/backups and shared/buckets for the backups).
 */
export const CHECKLIST_RULES: readonly ItemRule[] = [
  {
    item: 'All services are healthy and responding',
    checks: ['api-health', 'redis-ping', 'backup-cluster-health'],
    todo: 'the health gates (API /health, Redis PING) did not run in this run: check the API by hand',
  },
  {
    item: 'Database integrity verified',
    checks: ['database-select-1', 'restore-test-query', 'failback-data'],
    todo: 'no database check ran in this run: run SELECT 1 and compare row counts by hand',
  },
  { item: 'Application functionality tested', checks: [], todo: 'run the application smoke tests (a login, an order) against the recovered service' },
  { item: 'Performance metrics within normal ranges', checks: [], todo: 'compare latency and error rates on the dashboards with the week before' },
  { item: 'Security controls functioning', checks: [], todo: 'confirm WAF rules, network policies and secret access in the serving region' },
  { item: 'Monitoring and alerting operational', checks: [], todo: 'confirm the alarms and the on-call topic see the serving region (a test alert)' },
  {
    item: 'Backup systems running',
    checks: ['newest-snapshot-age', 'recovery-region-copy', 'automated-backup-replication', 'point-in-time-recovery', 'backup-retention', 'bucket-replication'],
    todo: 'start backup-verification for the serving database (its snapshots and cross-region copies)',
  },
  { item: 'Customer communication sent (if applicable)', checks: [], todo: 'send the customer communication (templates/customer-communication.md)' },
  { item: 'Post-incident review scheduled', checks: [], todo: 'schedule the post-incident review within 24 hours' },
  { item: 'Documentation updated', checks: [], todo: 'update the runbooks with what this run showed' },
];

const describe = (checks: Check[]) => checks.map((c) => `${c.name} on ${c.resource}: ${c.passed ? 'passed' : `FAILED (${c.message.replace(/\s+/g, ' ')})`}`).join('; ');

/**
 * The checklist for a recovery scenario's report, null for a verification run (backup verification,
 * restore test): those are not recoveries, and the plan's list follows a recovery procedure.
 * An automated item is `done` when at least one of its checks ran and all of them passed, `failed`
 * when any failed, `not checked` when none ran; a manual item is always `to do`.
 */
export function validationChecklist(report: Pick<Report, 'scenario' | 'checks'>): ChecklistItem[] | null {
  if (!RECOVERY_SCENARIOS.includes(report.scenario)) return null;
  return CHECKLIST_RULES.map((rule) => {
    if (rule.checks.length === 0) return { item: rule.item, state: 'to do', evidence: rule.todo };
    const found = report.checks.filter((c) => rule.checks.includes(c.name));
    if (found.length === 0) return { item: rule.item, state: 'not checked', evidence: rule.todo };
    return { item: rule.item, state: found.every((c) => c.passed) ? 'done' : 'failed', evidence: describe(found) };
  });
}

/** GitHub task-list lines: `[x]` for done, `[ ]` for everything else with its state in words. */
export function renderChecklist(items: ChecklistItem[], dryRun: boolean): string[] {
  const lines = ['', '## Recovery validation checklist', ''];
  if (dryRun) lines.push('A dry run recovered nothing: ticked items show what the checks found on the current state.', '');
  for (const i of items) {
    const label = i.state === 'done' ? `- [x] ${i.item}` : i.state === 'failed' ? `- [ ] **${i.item}: FAILED**` : `- [ ] ${i.item} (${i.state === 'to do' ? 'to do by hand' : 'not checked by this run'})`;
    lines.push(`${label}: ${i.evidence.replace(/\|/g, '\\|')}`);
  }
  return lines;
}
