// Moves the application to the restored instance: a new version of the connection secret (the old
// one stays as AWSPREVIOUS) and the Kubernetes secret the API reads its database URL from (on the
// primary cluster in a database recovery and a region failback, on the recovery cluster in a region
// failover; shared/repoint.ts repointTargetFor). The URL is built in shared/repoint.ts and never
// leaves the function.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { repointApplication, repointTargetFor } from '../../shared/repoint.js';
import type { RunContext } from '../../shared/run.js';
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
  const target = repointTargetFor(config, event.run);
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'RepointApplication');
  return runStep(() =>
    repointApplication(config, target.database, { instanceId: event.instanceId, endpoint: event.endpoint, dryRun: event.run.dryRun }, secretsClient(target.secretRegion), target.cluster),
  );
});
