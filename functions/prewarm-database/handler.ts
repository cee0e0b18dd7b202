// Optional: loads the configured tables of the restored instance into memory before traffic returns
// (a restored volume is fetched from S3 block by block on first read), timed for the report. It is an
// optimisation: a table that cannot be prewarmed, or a database it cannot reach, is a failed `prewarm`
// check (on-call is told), never a reason to stop a recovery with the API down.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { recoveryConfig } from '../../shared/database-recovery.js';
import { prewarmTables, type PrewarmedTable } from '../../shared/read-only.js';
import type { Check } from '../../shared/report.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { fetchDatabaseCredentials } from '../../shared/secrets.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

/** Well inside the function's 600 s timeout (serverless.yml), so it always returns its report. */
const PREWARM_BUDGET_MS = 8 * 60_000;

interface PrewarmEvent {
  run: RunContext;
  endpoint: { host: string; port: number } | null;
}

export const handler = recoveryHandler(async (event: PrewarmEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  const tables = recoveryConfig(database).prewarmTables;
  return runStep<{ tables: PrewarmedTable[]; elapsedMs: number }>(async () => {
    if (event.run.dryRun || tables.length === 0 || !event.endpoint) {
      return { data: { tables: [], elapsedMs: 0 }, status: 'skipped', detail: tables.length === 0 ? 'no tables to prewarm (recovery.prewarmTables)' : 'dry run: nothing to prewarm' };
    }
    const credentials = await fetchDatabaseCredentials(secretsClient(config.recoveryRegion), database.credentialsSecret);
    const resource = `${event.endpoint.host}/${database.databaseName}`;
    const target = { ...event.endpoint, databaseName: database.databaseName, tls: database.tls };
    const started = Date.now();
    let outcomes: PrewarmedTable[];
    try {
      outcomes = await prewarmTables(target, credentials, tables, { connectTimeoutMs: config.health.timeoutSeconds * 1000, budgetMs: PREWARM_BUDGET_MS });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      outcomes = tables.map((table) => ({ table, blocks: null, error: `could not connect: ${reason}` }));
    }
    const elapsedMs = Date.now() - started;
    const missed = outcomes.filter((o) => o.error !== null);
    const check: Check = {
      name: 'prewarm',
      resource,
      measured: `${outcomes.length - missed.length} of ${outcomes.length} tables in ${(elapsedMs / 1000).toFixed(1)} s`,
      target: `every table of recovery.prewarmTables loaded within ${PREWARM_BUDGET_MS / 60_000} min`,
      passed: missed.length === 0,
      message:
        missed.length === 0
          ? 'The restored tables are in memory: first reads will not wait on S3.'
          : `Not prewarmed: ${missed.map((m) => `${m.table} (${m.error})`).join('; ')}. The recovery went on; first reads of these tables will be slow.`,
    };
    const loaded = outcomes.filter((o) => o.error === null).map((o) => `${o.table} (${o.blocks} blocks)`);
    return {
      data: { tables: outcomes, elapsedMs },
      checks: [check],
      detail: `prewarmed ${loaded.length ? loaded.join(', ') : 'nothing'} in ${(elapsedMs / 1000).toFixed(1)} s${missed.length ? `; WARNING: ${missed.length} table(s) not prewarmed` : ''}`,
    };
  });
});
