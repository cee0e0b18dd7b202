// Region failback: a snapshot of the recovery-region instance, the baseline (writes still served) or
// the final one (writes frozen). Shared by StartBaselineSnapshot and StartFinalSnapshot.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { FailoverRecord } from '../../shared/failback-record.js';
import { startFailbackSnapshot, type FreezePlan, type TransferPhase } from '../../shared/region-failback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface StartSnapshotEvent {
  run: RunContext;
  record: FailoverRecord;
  phase: TransferPhase;
  /** The final snapshot: the plan the baseline made. */
  plan?: FreezePlan;
}

export const handler = recoveryHandler(async (event: StartSnapshotEvent) => {
  const config = deploymentConfigFromEnvironment();
  await ensureOwnsRecovery(config, event.run, event.phase === 'baseline' ? 'StartBaselineSnapshot' : 'StartFinalSnapshot');
  return runStep(() => startFailbackSnapshot(rdsClient(event.record.recoveryRegion), event.record, event.phase, event.run, new Date(), event.plan));
});
