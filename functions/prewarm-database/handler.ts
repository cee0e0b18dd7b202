// Optional: loads the configured tables of the restored instance into memory before traffic returns
// (a restored volume is fetched from S3 block by block on first read), timed for the report. Never a
// reason to stop a recovery: shared/read-only.ts turns every failure into a failed `prewarm` check.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { prewarmRestoredDatabase } from '../../shared/read-only.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface PrewarmEvent {
  run: RunContext;
  endpoint: { host: string; port: number } | null;
}

export const handler = recoveryHandler(async (event: PrewarmEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  return runStep(() =>
    prewarmRestoredDatabase(
      database,
      { endpoint: event.endpoint, dryRun: event.run.dryRun, connectTimeoutMs: config.health.timeoutSeconds * 1000 },
      { secrets: secretsClient(config.recoveryRegion) },
    ),
  );
});
