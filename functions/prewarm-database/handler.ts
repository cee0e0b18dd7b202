// Optional: loads the configured tables of the restored instance into memory before traffic returns
// (a restored volume is fetched from S3 block by block on first read), timed for the report.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { recoveryConfig } from '../../shared/database-recovery.js';
import { prewarmTables } from '../../shared/read-only.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { fetchDatabaseCredentials } from '../../shared/secrets.js';
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
  const tables = recoveryConfig(database).prewarmTables;
  return runStep(async () => {
    if (event.run.dryRun || tables.length === 0 || !event.endpoint) {
      return { data: { tables: [] as { table: string; blocks: number }[], elapsedMs: 0 }, status: 'skipped' as const, detail: tables.length === 0 ? 'no tables to prewarm (recovery.prewarmTables)' : 'dry run: nothing to prewarm' };
    }
    const credentials = await fetchDatabaseCredentials(secretsClient(config.recoveryRegion), database.credentialsSecret);
    const started = Date.now();
    // Prewarming reads whole tables: allow it far longer than a health probe.
    const loaded = await prewarmTables({ ...event.endpoint, databaseName: database.databaseName, tls: database.tls }, credentials, tables, 10 * 60_000);
    const elapsedMs = Date.now() - started;
    return { data: { tables: loaded, elapsedMs }, detail: `prewarmed ${loaded.map((t) => `${t.table} (${t.blocks} blocks)`).join(', ')} in ${(elapsedMs / 1000).toFixed(1)} s` };
  });
});
