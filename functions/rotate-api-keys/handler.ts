// Secrets Manager's rotation function for the API key set (securityIncident.apiKeys.secret): invoked by
// Secrets Manager itself, once per step (createSecret, setSecret, testSecret, finishSecret), on the
// secret's rotation schedule or when a rotation is started (the security incident's containment, or
// `aws secretsmanager rotate-secret`). Not in a VPC: it calls Secrets Manager, EKS and the clusters' API.
import { secretsClient } from '../../shared/clients.js';
import { connectTo } from '../../shared/cluster-ops.js';
import { rotateApiKeysStep, type ApiKeyRotationEvent } from '../../shared/api-key-rotation.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { logger, recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: ApiKeyRotationEvent) => {
  const config = deploymentConfigFromEnvironment();
  const result = await rotateApiKeysStep(config, event, { secrets: secretsClient(config.recoveryRegion), connect: (role) => connectTo(config, role) });
  // The result names the secret, the version, the key names and digest prefixes: never a key.
  logger.info('rotation step', { ...result });
  return result;
});
