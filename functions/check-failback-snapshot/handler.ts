// Region failback: one look per loop of a Wait/Choice at what it waits for in RDS: a snapshot or its
// cross-region copy (`snapshot`), or the instance restored in the primary region (`restore`).
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { FailoverRecord } from '../../shared/failback-record.js';
import { checkFailbackSnapshot, checkPrimaryRestore, type PrimaryRestore, type SnapshotRef } from '../../shared/region-failback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

type CheckEvent = { run: RunContext; snapshot: SnapshotRef } | { run: RunContext; record: FailoverRecord; restore: PrimaryRestore };

export const handler = recoveryHandler(async (event: CheckEvent) => {
  const config = deploymentConfigFromEnvironment();
  if ('restore' in event) return runStep(() => checkPrimaryRestore(rdsClient(event.record.primaryRegion), config, event.record, event.restore, new Date()));
  return runStep(() => checkFailbackSnapshot(rdsClient(event.snapshot.region), config, event.snapshot, new Date()));
});
