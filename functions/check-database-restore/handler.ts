// One look at the restored instance per loop of the state machine's Wait/Choice.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { checkDatabaseRestore } from '../../shared/database-recovery.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CheckRestoreEvent {
  run: RunContext;
  restore: { instanceId: string; region: string; restoreStartedAt: string };
}

export const handler = recoveryHandler(async (event: CheckRestoreEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  const { instanceId, region, restoreStartedAt } = event.restore;
  return runStep(() => checkDatabaseRestore(database, instanceId, region, restoreStartedAt, rdsClient(region), new Date()));
});
