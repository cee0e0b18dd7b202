// Stops writes on a damaged PostgreSQL database on RDS. The plan's `ALTER SYSTEM SET
// default_transaction_read_only` is refused on RDS (no superuser), so: ALTER DATABASE ... SET
// default_transaction_read_only = on (new sessions start read-only), end the other sessions (the
// open ones would keep writing), then prove it with a write that must be refused.
import pg from 'pg';
import { databaseClient, type DatabaseTarget } from './database.js';
import type { DatabaseCredentials } from './secrets.js';
import { ValidationFailed } from './errors.js';

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
