// Asks Secrets Manager to rotate one of the stack's rotated secrets now (RotateSecret with the stack's
// rotation function for it) and returns at once; the state machine waits with checkSecretRotation.
// A retried step names the same new version, so it never starts a second rotation.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { startSecretRotation } from '../../shared/rotate-now.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';
import { rotationFunctions } from '../common/rotation-functions.js';

interface StartSecretRotationEvent {
  run: RunContext;
  /** A databases[].credentialsSecret with rotation, or securityIncident.apiKeys.secret. */
  secret: string;
}

export const handler = recoveryHandler(async (event: StartSecretRotationEvent) => {
  const config = deploymentConfigFromEnvironment();
  // Before the change: a superseded execution (or a redriven step of one) starts nothing.
  await ensureOwnsRecovery(config, event.run, 'StartSecretRotation');
  return runStep(() => startSecretRotation(config, event.secret, event.run.executionId, event.run.dryRun, rotationFunctions(), secretsClient(config.recoveryRegion), new Date()));
});
