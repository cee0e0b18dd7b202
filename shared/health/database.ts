// The database gate: connect and `SELECT 1` (PostgreSQL, through shared/database.ts and its driver).
import { runValidationQuery, type DatabaseTarget } from '../database.js';
import { ValidationFailed } from '../errors.js';
import type { DatabaseCredentials } from '../secrets.js';
import { describeNetworkError, errorCode, errorText } from './network-errors.js';
import { elapsedSince, type HealthResult, type HealthStage } from './result.js';

// SQLSTATE class 28: invalid authorization (28P01 wrong password, 28000 no pg_hba.conf entry / no such role).
const AUTHENTICATION_SQLSTATE = /^28/;

/**
 * Connects and runs `SELECT 1` through {@link runValidationQuery}. `timeoutMs` bounds the connect
 * (including TLS and authentication) and the query separately, as the driver's timeouts do.
 * Connects to `target` (host, port, databaseName, tls) as `credentials.username`. Resolves to a
 * HealthResult (`name: 'database-select-1'`, target `host:port/db`); a failure names its stage
 * (dns-lookup, connect, tls-handshake, authentication, request, response). Rethrows only errors that are
 * not probe failures.
 */
export async function checkDatabase(target: DatabaseTarget, credentials: DatabaseCredentials, timeoutMs: number): Promise<HealthResult> {
  const where = `${target.host}:${target.port}/${target.databaseName}`;
  const base = { name: 'database-select-1' as const, target: where, expected: `connect and SELECT 1 within ${timeoutMs} ms each` };
  const started = performance.now();
  try {
    const result = await runValidationQuery(target, credentials, 'SELECT 1', timeoutMs);
    return {
      ...base,
      passed: true,
      measured: `SELECT 1 in ${result.elapsedMs} ms`,
      message: `Connected to ${where} as ${credentials.username} and SELECT 1 answered ${result.firstValue ?? 'null'}.`,
      elapsedMs: elapsedSince(started),
    };
  } catch (error) {
    if (!(error instanceof ValidationFailed)) throw error;
    const elapsedMs = elapsedSince(started);
    const { stage, timedOut, what } = classifyDatabaseFailure(error, target);
    return {
      ...base,
      passed: false,
      measured: timedOut ? `no answer within ${timeoutMs} ms` : `${what} failed after ${elapsedMs} ms`,
      message: `${what} failed${timedOut ? ` (timed out after ${timeoutMs} ms)` : ''}: ${error.message}`,
      elapsedMs,
      failure: { stage, timedOut },
    };
  }
}

function classifyDatabaseFailure(error: ValidationFailed, target: DatabaseTarget): { stage: HealthStage; timedOut: boolean; what: string } {
  const cause = error.cause;
  const sqlState = errorCode(cause);
  // runValidationQuery says "cannot connect ..." for everything up to a ready session, "validation query ..." after.
  const duringQuery = error.message.startsWith('validation query');
  // pg: "Connection terminated due to connection timeout", "Query read timeout"; PostgreSQL: 57014 statement_timeout.
  const timedOut = sqlState === '57014' || /timeout/i.test(errorText(cause));
  if (duringQuery) return { stage: timedOut ? 'request' : 'response', timedOut, what: 'Query' };
  if (sqlState !== undefined && AUTHENTICATION_SQLSTATE.test(sqlState)) return { stage: 'authentication', timedOut: false, what: 'Authentication' };
  if (/password authentication failed|SASL|pg_hba\.conf/i.test(errorText(cause))) return { stage: 'authentication', timedOut: false, what: 'Authentication' };
  if (timedOut) return { stage: 'connect', timedOut, what: 'Connect' };
  const network = describeNetworkError(cause, target.host, target.port, 'connect');
  return { stage: network.stage, timedOut: false, what: network.stage === 'tls-handshake' ? 'TLS handshake' : network.stage === 'dns-lookup' ? 'DNS lookup' : 'Connect' };
}
