// Region failback: a new instance in the primary region from the final copy, with the database's
// recovery settings.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { FailoverRecord } from '../../shared/failback-record.js';
import { startPrimaryRestore, type FreezePlan, type SnapshotRef } from '../../shared/region-failback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface RestoreEvent {
  run: RunContext;
  record: FailoverRecord;
  copy: Pick<SnapshotRef, 'snapshotId'> & { plan: FreezePlan };
}

export const handler = recoveryHandler(async (event: RestoreEvent) => {
  const config = deploymentConfigFromEnvironment();
  await ensureOwnsRecovery(config, event.run, 'StartPrimaryRestore');
  return runStep(() => startPrimaryRestore(rdsClient(event.record.primaryRegion), config, event.record, event.copy, event.run, new Date()));
});
