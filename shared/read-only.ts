// Stops writes on a damaged PostgreSQL database on RDS. The plan's `ALTER SYSTEM SET
// default_transaction_read_only` is refused on RDS (no superuser), so: ALTER DATABASE ... SET
// default_transaction_read_only = on (new sessions start read-only), end the other sessions (the
// open ones would keep writing), then prove it with a write that must be refused.
// No RDS here: the functions that connect to a database bundle the driver, not the RDS client.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import type { DatabaseConfig, DeploymentConfig } from './config.js';
import type { ReadOnlyMode } from './database-recovery.js';
import { databaseClient, type DatabaseTarget } from './database.js';
import { fetchDatabaseCredentials, type DatabaseCredentials } from './secrets.js';
import { InvalidConfig, ValidationFailed } from './errors.js';
import type { Action, StepResult } from './steps.js';

export interface ReadOnlyOutcome {
  terminatedSessions: number;
  /** A new session's write was refused with SQLSTATE 25006 (read_only_sql_transaction). */
  writeRefused: boolean;
  sizeBytes: number | null;
}

const READ_ONLY_SQLSTATE = '25006';

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function withClient<T>(target: DatabaseTarget, credentials: DatabaseCredentials, timeoutMs: number, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = databaseClient(target, credentials, timeoutMs);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Only the ALTER (or the parameter group, done elsewhere) changes anything; the rest is read-only. */
export async function enableReadOnlyMode(
  target: DatabaseTarget,
  credentials: DatabaseCredentials,
  options: { alterDatabase: boolean; timeoutMs: number },
): Promise<ReadOnlyOutcome> {
  const { terminated, sizeBytes } = await withClient(target, credentials, options.timeoutMs, async (client) => {
    // On a re-run the database is read-only already, and so is this session: lift it for this
    // session only, or the ALTER itself is refused.
    await client.query('SET default_transaction_read_only = off');
    if (options.alterDatabase) await client.query(`ALTER DATABASE ${quoteIdentifier(target.databaseName)} SET default_transaction_read_only = on`);
    const size = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
    // Sessions of other users are ended too when our user may (rds_superuser can end any but rdsadmin's).
    const ended = await client.query<{ ended: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = $1',
      ['client backend'],
    );
    return { terminated: ended.rows.filter((r) => r.ended).length, sizeBytes: Number(size.rows[0]?.size ?? NaN) };
  });
  const writeRefused = await withClient(target, credentials, options.timeoutMs, async (client) => {
    try {
      await client.query('CREATE TEMP TABLE frontier_dr_write_probe (x int)');
      return false;
    } catch (error) {
      if ((error as { code?: string }).code === READ_ONLY_SQLSTATE) return true;
      throw new ValidationFailed(`write probe on ${target.host}/${target.databaseName} failed for another reason: ${(error as Error).message}`, { cause: error });
    }
  });
  return { terminatedSessions: terminated, writeRefused, sizeBytes: Number.isFinite(sizeBytes) ? sizeBytes : null };
}

/** SQLSTATEs that mean the server is not (or no longer) taking sessions: it did not really answer. */
const NOT_SERVING_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014']);

/**
 * The SQLSTATE of a refusal by a PostgreSQL server that is up and answering (wrong database or
 * password, missing privilege...), looking through `cause`; null for a server that did not answer
 * (network errors, timeouts, shutting down).
 */
export function refusalSqlState(error: unknown): string | null {
  // By shape, not instanceof: Node's own network errors may come from another realm (as errors.ts notes).
  let current: unknown = error;
  for (let depth = 0; depth < 10 && typeof current === 'object' && current !== null; depth++, current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code;
    // SQLSTATEs are five digits and capitals (3D000, 28P01, 42501); Node's own codes start with E and are longer.
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return NOT_SERVING_SQLSTATES.has(code) ? null : code;
  }
  return null;
}

export interface PrewarmedTable {
  table: string;
  /** Blocks loaded, or null when the table was not prewarmed (`error` says why). */
  blocks: number | null;
  error: string | null;
}

/**
 * Loads the listed tables into shared buffers (pg_prewarm), one at a time, within `budgetMs` in all:
 * prewarming is an optimisation, so a table that fails or would overrun the budget is reported and
 * skipped, never an error. Only failing to connect at all throws.
 */
export async function prewarmTables(
  target: DatabaseTarget,
  credentials: DatabaseCredentials,
  tables: string[],
  options: { connectTimeoutMs: number; budgetMs: number },
): Promise<PrewarmedTable[]> {
  const deadline = Date.now() + options.budgetMs;
  const client = databaseClient(target, credentials, options.connectTimeoutMs, options.budgetMs);
  await client.connect();
  try {
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
    } catch (error) {
      const reason = `pg_prewarm is not available: ${(error as Error).message}`;
      return tables.map((table) => ({ table, blocks: null, error: reason }));
    }
    const outcomes: PrewarmedTable[] = [];
    for (const table of tables) {
      const remainingMs = deadline - Date.now();
      if (remainingMs < 1000) {
        outcomes.push({ table, blocks: null, error: `not started: the ${Math.round(options.budgetMs / 1000)} s prewarm budget was used up` });
        continue;
      }
      try {
        // The server stops the statement when the budget runs out, so the Lambda is never cut off mid-way.
        await client.query(`SET statement_timeout = ${Math.floor(remainingMs)}`);
        const answer = await client.query<{ blocks: string }>('SELECT pg_prewarm($1::regclass)::text AS blocks', [table]);
        outcomes.push({ table, blocks: Number(answer.rows[0]?.blocks ?? 0), error: null });
      } catch (error) {
        const code = (error as { code?: string }).code;
        outcomes.push({ table, blocks: null, error: code === '57014' ? `stopped: the ${Math.round(options.budgetMs / 1000)} s prewarm budget ran out` : (error as Error).message });
      }
    }
    return outcomes;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface ReadOnlyRequest {
  mode: ReadOnlyMode;
  /** The damaged instance's own endpoint (from AssessDatabase); null when it has none (e.g. stopped). */
  sourceEndpoint: { host: string; port: number } | null;
  dryRun: boolean;
}

export interface ReadOnlyStepData {
  mode: ReadOnlyMode;
  applied: boolean;
  /** Null when no write was tried (dry run, no endpoint, refused, unreachable). */
  writeRefused: boolean | null;
  sizeBytes: number | null;
  terminatedSessions: number;
}

export interface ReadOnlyDependencies {
  /** Secrets Manager in the recovery region (the credentials are replicated there). */
  secrets: SecretsManagerClient;
  /** The database work; a parameter so tests can make the server refuse or vanish. */
  enable?: typeof enableReadOnlyMode;
}

/**
 * The SetDatabaseReadOnly step: stops writes on the damaged instance and proves it with a write that
 * must be refused. It connects to the instance's own endpoint, never to where the connection secret
 * points (after a repoint that is the restored instance, which must stay writable).
 *
 * Outcomes, none of them thrown: applied (a `read-only-mode` check, passed when the test write was
 * refused with 25006); no endpoint (nothing can write to it either); refused by a server that answered
 * (a failed check: other writers may still reach it, on-call is told); no answer (recorded: it takes no
 * writes while it is down). What is thrown: reading the credentials (secretsmanager:GetSecretValue, as
 * awsCall names it, and InvalidConfig for a malformed secret).
 *
 * PostgreSQL: ALTER DATABASE ... SET default_transaction_read_only = on (alter-database mode only),
 * pg_terminate_backend of the other sessions, then a CREATE TEMP TABLE that must fail.
 *
 * @param request.mode as SetReadOnlyParameter decided it.
 */
export async function makeDamagedDatabaseReadOnly(
  config: DeploymentConfig,
  database: DatabaseConfig,
  request: ReadOnlyRequest,
  deps: ReadOnlyDependencies,
): Promise<StepResult<ReadOnlyStepData>> {
  const { mode } = request;
  const byParameterGroup = mode === 'parameter-group';
  const notApplied: ReadOnlyStepData = { mode, applied: false, writeRefused: null, sizeBytes: null, terminatedSessions: 0 };
  const action: Action = {
    description: byParameterGroup
      ? `end the other sessions of ${database.databaseName} (the parameter group makes new ones read-only)`
      : `ALTER DATABASE ${database.databaseName} SET default_transaction_read_only = on; end the other sessions`,
    service: 'postgresql',
    operation: byParameterGroup ? 'pg_terminate_backend' : 'ALTER DATABASE',
    parameters: { database: database.databaseName, instance: database.name },
    performed: false,
  };
  if (request.dryRun) return { data: notApplied, actions: [action] };
  if (!request.sourceEndpoint) {
    return { data: notApplied, actions: [action], detail: `${database.name} has no endpoint (not running): it takes no writes; read-only mode not applied` };
  }
  const credentials = await fetchDatabaseCredentials(deps.secrets, database.credentialsSecret);
  const target = { ...request.sourceEndpoint, databaseName: database.databaseName, tls: database.tls };
  const resource = `${database.name} (${config.primaryRegion})`;
  let outcome: ReadOnlyOutcome;
  try {
    outcome = await (deps.enable ?? enableReadOnlyMode)(target, credentials, { alterDatabase: !byParameterGroup, timeoutMs: config.health.timeoutSeconds * 1000 });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const refusal = refusalSqlState(error);
    if (!refusal) {
      return { data: notApplied, actions: [action], detail: `the database did not answer (${reason}): read-only mode not verified; it takes no writes while it is down` };
    }
    // It is up and refused us: writers other than the API may still reach it. The recovery goes on
    // (the API is stopped and the restore does not depend on it), and on-call is told.
    return {
      data: notApplied,
      actions: [action],
      checks: [
        {
          name: 'read-only-mode',
          resource,
          measured: `refused (SQLSTATE ${refusal})`,
          target: 'writes refused',
          passed: false,
          message: `${database.name} answered but could not be made read-only: ${reason}. Writers other than the API may still change it: check the recovery user's rights and stop them by hand.`,
        },
      ],
      detail: `WARNING: read-only mode not set, the database refused (${reason})`,
    };
  }
  return {
    data: { mode, applied: true, ...outcome },
    actions: [{ ...action, performed: true }],
    checks: [
      {
        name: 'read-only-mode',
        resource,
        measured: outcome.writeRefused ? 'test write refused (25006)' : 'test write accepted',
        target: 'writes refused',
        passed: outcome.writeRefused,
        message: outcome.writeRefused
          ? 'New sessions are read-only and the open ones were ended.'
          : 'A new session could still write: check that the recovery user may ALTER DATABASE, or use readOnlyMode: parameter-group.',
      },
    ],
    detail: `${outcome.writeRefused ? 'a test write was refused' : 'WARNING: a test write was NOT refused'}; ${outcome.terminatedSessions} other sessions ended${outcome.sizeBytes === null ? '' : `; database size ${(outcome.sizeBytes / 1e6).toFixed(1)} MB`}`,
  };
}

/** Well inside the prewarm function's 600 s timeout (serverless.yml), so it always returns its report. */
export const PREWARM_BUDGET_MS = 8 * 60_000;

export interface PrewarmDependencies {
  secrets: SecretsManagerClient;
  /** The database work; a parameter so tests can make tables fail or the server vanish. */
  prewarm?: typeof prewarmTables;
  /** Milliseconds since the epoch, for the elapsed time. */
  clock?: () => number;
}

/**
 * The PrewarmDatabase step: pg_prewarm of recovery.prewarmTables on the restored instance, within
 * PREWARM_BUDGET_MS, timed (elapsedMs, ms). An optimisation: a table that cannot be prewarmed, or a
 * server it cannot reach, is a failed `prewarm` check (on-call is told), never an error, since the
 * API is down while the recovery waits. Skipped in a dry run, with no tables, or with no endpoint.
 * Thrown: reading the credentials (secretsmanager:GetSecretValue as awsCall names it, InvalidConfig),
 * and InvalidConfig when the database has no recovery section.
 */
export async function prewarmRestoredDatabase(
  database: DatabaseConfig,
  request: { endpoint: { host: string; port: number } | null; dryRun: boolean; connectTimeoutMs: number },
  deps: PrewarmDependencies,
): Promise<StepResult<{ tables: PrewarmedTable[]; elapsedMs: number }>> {
  if (!database.recovery) throw new InvalidConfig(`database ${database.name} has no recovery section: database-recovery cannot run for it`);
  const tables = database.recovery.prewarmTables;
  if (tables.length === 0) return { data: { tables: [], elapsedMs: 0 }, status: 'skipped', detail: 'no tables to prewarm (recovery.prewarmTables)' };
  if (request.dryRun || !request.endpoint) {
    return { data: { tables: [], elapsedMs: 0 }, status: 'skipped', detail: request.dryRun ? 'dry run: nothing to prewarm' : 'the restored instance has no endpoint yet: nothing to prewarm' };
  }
  const clock = deps.clock ?? Date.now;
  const credentials = await fetchDatabaseCredentials(deps.secrets, database.credentialsSecret);
  const target = { ...request.endpoint, databaseName: database.databaseName, tls: database.tls };
  const started = clock();
  let outcomes: PrewarmedTable[];
  try {
    outcomes = await (deps.prewarm ?? prewarmTables)(target, credentials, tables, { connectTimeoutMs: request.connectTimeoutMs, budgetMs: PREWARM_BUDGET_MS });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    outcomes = tables.map((table) => ({ table, blocks: null, error: `could not connect: ${reason}` }));
  }
  const elapsedMs = clock() - started;
  const missed = outcomes.filter((o) => o.error !== null);
  const loaded = outcomes.filter((o) => o.error === null).map((o) => `${o.table} (${o.blocks} blocks)`);
  const seconds = (elapsedMs / 1000).toFixed(1);
  return {
    data: { tables: outcomes, elapsedMs },
    checks: [
      {
        name: 'prewarm',
        resource: `${request.endpoint.host}/${database.databaseName}`,
        measured: `${outcomes.length - missed.length} of ${outcomes.length} tables in ${seconds} s`,
        target: `every table of recovery.prewarmTables loaded within ${PREWARM_BUDGET_MS / 60_000} min`,
        passed: missed.length === 0,
        message:
          missed.length === 0
            ? 'The restored tables are in memory: first reads will not wait on S3.'
            : `Not prewarmed: ${missed.map((m) => `${m.table} (${m.error})`).join('; ')}. The recovery went on; first reads of these tables will be slow.`,
      },
    ],
    detail: `prewarmed ${loaded.length ? loaded.join(', ') : 'nothing'} in ${seconds} s${missed.length ? `; WARNING: ${missed.length} table(s) not prewarmed` : ''}`,
  };
}
