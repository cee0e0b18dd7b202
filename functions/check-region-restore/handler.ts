// One look at the database restored in the recovery region per loop of the state machine's Wait/Choice.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { checkRegionRestore } from '../../shared/region-failover.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CheckRegionRestoreEvent {
  run: RunContext;
  instanceId: string;
  restoreStartedAt: string;
}

export const handler = recoveryHandler(async (event: CheckRegionRestoreEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => checkRegionRestore(config, event.instanceId, event.restoreStartedAt, rdsClient(config.recoveryRegion), new Date()));
});
