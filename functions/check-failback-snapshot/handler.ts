// Region failback: one look at a snapshot or its cross-region copy per loop of the Wait/Choice.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { checkFailbackSnapshot, type SnapshotRef } from '../../shared/region-failback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext; snapshot: SnapshotRef }) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => checkFailbackSnapshot(rdsClient(event.snapshot.region), config, event.snapshot, new Date()));
});
