// First action of a database recovery: become the one recovery of this database, or learn which
// execution already is. Also tells a re-run which incident it resumes.
import { dynamoClient, stepFunctionsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { claimDatabaseRecovery } from '../../shared/recovery-lock.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

const table = requiredEnvironment('RECOVERY_LOCK_TABLE');

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const store = { ddb: dynamoClient(config.recoveryRegion), table };
  return runStep(() => claimDatabaseRecovery(store, stepFunctionsClient(config.recoveryRegion), event.run, request.database, new Date()));
});
