// One look at a rotation startSecretRotation started, per loop of the state machine's Wait/Choice.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { checkSecretRotation, type StartedRotation } from '../../shared/rotate-now.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { rotationFunctions } from '../common/rotation-functions.js';

interface CheckSecretRotationEvent {
  run: RunContext;
  secret: string;
  /** startSecretRotation's data. */
  rotation: StartedRotation;
}

export const handler = recoveryHandler(async (event: CheckSecretRotationEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => checkSecretRotation(config, { ...event.rotation, secret: event.secret }, event.run.dryRun, rotationFunctions(), secretsClient(config.recoveryRegion), new Date()));
});
