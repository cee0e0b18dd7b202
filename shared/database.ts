// Database probes: connect and run one query, with timeouts on both, and a message that says which
// part failed (connect, authenticate, query) so the on-call engineer knows where to look.
import pg from 'pg';
import type { DatabaseCredentials } from './secrets.js';
import { ValidationFailed } from './errors.js';

export type TlsMode = 'verify-full' | 'require' | 'disable';

export interface DatabaseTarget {
  host: string;
  port: number;
  databaseName: string;
  tls: TlsMode;
}

export interface QueryResult {
  rows: number;
  /** First column of the first row, as text, shortened: enough to show the query really ran. */
  firstValue: string | null;
  elapsedMs: number;
}

function sslOption(tls: TlsMode): pg.ClientConfig['ssl'] {
  if (tls === 'disable') return false;
  return { rejectUnauthorized: tls === 'verify-full' };
}

/**
 * A client (not yet connected) with timeouts on connecting and on every statement (the same, unless a
 * longer statement timeout is given).
 */
export function databaseClient(target: DatabaseTarget, credentials: DatabaseCredentials, timeoutMs: number, statementTimeoutMs = timeoutMs): pg.Client {
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    database: target.databaseName,
    user: credentials.username,
    password: credentials.password,
    ssl: sslOption(target.tls),
    connectionTimeoutMillis: timeoutMs,
    query_timeout: statementTimeoutMs,
    statement_timeout: statementTimeoutMs,
  });
  // pg emits 'error' for a connection dropped while idle; without a listener that crashes the process.
  client.on('error', () => undefined);
  return client;
}

export async function runValidationQuery(
  target: DatabaseTarget,
  credentials: DatabaseCredentials,
  query: string,
  timeoutMs = 10_000,
): Promise<QueryResult> {
  const where = `${target.host}:${target.port}/${target.databaseName}`;
  const client = databaseClient(target, credentials, timeoutMs);
  const started = Date.now();
  try {
    try {
      await client.connect();
    } catch (error) {
      throw new ValidationFailed(`cannot connect to ${where} as ${credentials.username}: ${(error as Error).message}`, { cause: error });
    }
    let result: pg.QueryResult;
    try {
      result = await client.query(query);
    } catch (error) {
      throw new ValidationFailed(`validation query on ${where} failed: ${(error as Error).message}`, { cause: error });
    }
    if (result.rows.length === 0) {
      throw new ValidationFailed(`validation query on ${where} returned no rows; expected at least one`);
    }
    const first = result.rows[0] as Record<string, unknown>;
    const value = Object.values(first)[0];
    return {
      rows: result.rows.length,
      firstValue: value === undefined || value === null ? null : String(value).slice(0, 100),
      elapsedMs: Date.now() - started,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
