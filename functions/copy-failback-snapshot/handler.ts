// Region failback: a failback snapshot copied to the primary region, encrypted with its configured key.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { FailoverRecord } from '../../shared/failback-record.js';
import { copySnapshotToPrimary, type FreezePlan, type SnapshotRef } from '../../shared/region-failback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface CopyEvent {
  run: RunContext;
  record: FailoverRecord;
  /** The source snapshot once available (its ARN from the last look) and the plan. */
  snapshot: Pick<SnapshotRef, 'phase' | 'snapshotId'> & { plan: FreezePlan };
  snapshotArn: string | null;
}

export const handler = recoveryHandler(async (event: CopyEvent) => {
  const config = deploymentConfigFromEnvironment();
  await ensureOwnsRecovery(config, event.run, event.snapshot.phase === 'baseline' ? 'CopyBaselineSnapshot' : 'CopyFinalSnapshot');
  return runStep(() =>
    copySnapshotToPrimary(rdsClient(event.record.primaryRegion), config, event.record, { ...event.snapshot, snapshotArn: event.snapshotArn }, event.run, new Date()),
  );
});
