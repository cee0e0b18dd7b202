// The recovery lock as the handlers reach it: the table (RECOVERY_LOCK_TABLE, read when first needed,
// so a scenario that takes no lock does not need it) in the recovery region, and the ownership check
// every mutating step makes before it acts.
import { dynamoClient } from '../../shared/clients.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { verifyRunOwnsRecovery, type LockStore } from '../../shared/recovery-lock.js';
import type { RunContext } from '../../shared/run.js';

export function lockStore(config: DeploymentConfig): LockStore {
  return { ddb: dynamoClient(config.recoveryRegion), table: requiredEnvironment('RECOVERY_LOCK_TABLE') };
}

/** RecoveryLockLost unless this execution still owns its recovery; nothing to check in a dry run or a scenario without a lock. */
export async function ensureOwnsRecovery(config: DeploymentConfig, run: RunContext, step: string): Promise<void> {
  if (run.dryRun || !['database-recovery', 'cluster-failover', 'region-failover', 'region-failback', 'security-incident'].includes(run.scenario)) return;
  await verifyRunOwnsRecovery(lockStore(config), config, run, step);
}
