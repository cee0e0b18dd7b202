// Stops writes from the application before the damaged database is touched: the API on the primary
// cluster to 0 replicas, the count it had remembered in the recovery lock (shared/cluster-ops.ts).
import { dynamoClient } from '../../shared/clients.js';
import { stopApiWrites } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

const table = requiredEnvironment('RECOVERY_LOCK_TABLE');

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'StopApiWrites');
  return runStep(() => stopApiWrites(config, { ddb: dynamoClient(config.recoveryRegion), table }, event.run, request.database));
});
