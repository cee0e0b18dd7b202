// Moves the application to the restored instance: a new version of the connection secret (the old
// one stays as AWSPREVIOUS) and the Kubernetes secret the API reads its database URL from (on the
// primary cluster in a database recovery, on the recovery cluster in a region failover). The URL is
// built in shared/repoint.ts and never leaves the function.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase, regionFailoverConfig } from '../../shared/config.js';
import { repointApplication } from '../../shared/repoint.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface RepointEvent {
  run: RunContext;
  instanceId: string;
  endpoint: { host: string; port: number } | null;
}

export const handler = recoveryHandler(async (event: RepointEvent) => {
  const config = deploymentConfigFromEnvironment();
  const repoint = { instanceId: event.instanceId, endpoint: event.endpoint, dryRun: event.run.dryRun };
  if (event.run.scenario === 'region-failover') {
    // The recovery region's copy of the connection secret, and the API's Secret on the recovery cluster.
    const failover = regionFailoverConfig(config);
    await ensureOwnsRecovery(config, event.run, 'RepointApplication');
    return runStep(() =>
      repointApplication(config, findDatabase(config, failover.database), repoint, secretsClient(config.recoveryRegion), { role: 'backup', kubernetesSecret: failover.kubernetesSecret }),
    );
  }
  const request = recoveryRequest(event.run);
  const database = findDatabase(config, request.database);
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'RepointApplication');
  return runStep(() =>
    repointApplication(config, database, repoint, secretsClient(config.recoveryRegion)),
  );
});
