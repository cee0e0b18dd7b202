// Moves the application to the restored instance: a new version of the connection secret (the old
// one stays as AWSPREVIOUS) and the Kubernetes secret the API reads its database URL from. The URL is
// built in shared/repoint.ts and never leaves the function.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { repointApplication } from '../../shared/repoint.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface RepointEvent {
  run: RunContext;
  instanceId: string;
  endpoint: { host: string; port: number } | null;
  /**
   * Whose connection secret to edit: `recovery` (default: the copy the recovery functions read, in the
   * recovery region) or `primary` (region failback: the primary region's, where the API reads it).
   */
  secretRegion?: 'recovery' | 'primary';
}

export const handler = recoveryHandler(async (event: RepointEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'RepointApplication');
  return runStep(() =>
    repointApplication(
      config,
      database,
      { instanceId: event.instanceId, endpoint: event.endpoint, dryRun: event.run.dryRun },
      secretsClient(event.secretRegion === 'primary' ? config.primaryRegion : config.recoveryRegion),
    ),
  );
});
