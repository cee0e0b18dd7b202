// Runs the validation query on the scratch instance (credentials fetched in shared/, never passed
// through Step Functions) and measures the restore against the database RTO. Runs inside the recovery VPC.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import type { ScratchRestore, ScratchStatus } from '../../shared/restore-test.js';
import { validateScratchInstance } from '../../shared/restore-validation.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface ValidateScratchInstanceEvent {
  run: RunContext;
  database: string;
  restore: ScratchRestore;
  status: ScratchStatus;
}

export const handler = recoveryHandler(async (event: ValidateScratchInstanceEvent) => {
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, event.database);
  return runStep(() => validateScratchInstance(config, database, event.restore, event.status, { secrets: secretsClient(config.recoveryRegion) }, () => new Date()));
});
