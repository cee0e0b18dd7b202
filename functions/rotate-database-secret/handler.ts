// Secrets Manager's rotation function for the database credentials the config lists
// (databases[].rotation): invoked by Secrets Manager itself, once per step (createSecret, setSecret,
// testSecret, finishSecret), not by a state machine. Runs in the database's VPC.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { postgresRotation, rotateSecretStep, type RotationEvent } from '../../shared/rotation.js';
import { logger, recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: RotationEvent) => {
  const config = deploymentConfigFromEnvironment();
  // Each connect and statement is bounded (the health gates' timeout), well inside the Lambda timeout.
  const timeoutMs = config.health.timeoutSeconds * 1000;
  const result = await rotateSecretStep(config, event, { secrets: secretsClient(config.recoveryRegion), database: postgresRotation(timeoutMs) });
  // The result names the secret, the version and what was done: never a value.
  logger.info('rotation step', { ...result });
  return result;
});
