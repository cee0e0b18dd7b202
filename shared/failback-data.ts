// Region failback's steps on the databases themselves: the write freeze on the recovery-region
// database, the proof that the data moved (row counts on both sides), and the freeze measured.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { findDatabase, type DeploymentConfig } from './config.js';
import { databaseClient, type DatabaseTarget } from './database.js';
import { ValidationFailed } from './errors.js';
import type { FailoverRecord } from './failback-record.js';
import { enableReadOnlyMode } from './read-only.js';
import type { Check } from './report.js';
import type { RunContext } from './run.js';
import { fetchDatabaseCredentials, type DatabaseCredentials } from './secrets.js';
import type { Action, StepResult } from './steps.js';

// ---------------------------------------------------------------------------------------------------
// The freeze

export interface FreezeData {
  frozenAt: string | null;
  writeRefused: boolean | null;
  endpoint: { host: string; port: number } | null;
  terminatedSessions: number;
}

/**
 * FreezeRecoveryWrites: the recovery-region database stops taking writes for the final delta, reads
 * still served: `ALTER DATABASE ... SET default_transaction_read_only = on` (with
 * recovery.readOnlyStrength revoke-writes, the application roles' write privileges revoked too), the
 * other sessions ended (they would keep their read-write default), then a write that must be refused.
 * Everything written before this is in the final snapshot; a write accepted after it would be lost,
 * so a freeze that is not proven fails the step before the final snapshot.
 *
 * AWS: secretsmanager:GetSecretValue; PostgreSQL as enableReadOnlyMode. Thrown: ValidationFailed
 * (no endpoint, a write was not refused, a session not ended), the database's errors.
 *
 * @param endpoint The recovery-region instance's, as StartBaselineSnapshot found it (null: none).
 */
export async function freezeRecoveryWrites(
  config: DeploymentConfig,
  record: FailoverRecord,
  endpoint: { host: string; port: number } | null,
  run: Pick<RunContext, 'dryRun'>,
  deps: { secrets: SecretsManagerClient; enable?: typeof enableReadOnlyMode },
  now: () => Date,
): Promise<StepResult<FreezeData>> {
  const database = findDatabase(config, record.database.name);
  const instanceId = record.database.recoveryInstanceId;
  const action: Action = {
    description: `freeze writes on ${instanceId} (${record.recoveryRegion}): ALTER DATABASE ${database.databaseName} SET default_transaction_read_only = on, end the other sessions; reads are still served`,
    service: 'postgresql',
    operation: 'ALTER DATABASE',
    parameters: { instance: instanceId, database: database.databaseName, strength: database.recovery?.readOnlyStrength ?? 'default' },
    performed: false,
  };
  if (run.dryRun) return { data: { frozenAt: null, writeRefused: null, endpoint: null, terminatedSessions: 0 }, actions: [action], detail: 'dry run: writes not frozen' };
  if (!endpoint) throw new ValidationFailed(`${instanceId} in ${record.recoveryRegion} has no endpoint: its writes cannot be frozen, and a snapshot would miss what it still takes`);
  const credentials = await fetchDatabaseCredentials(deps.secrets, database.credentialsSecret);
  const outcome = await (deps.enable ?? enableReadOnlyMode)({ ...endpoint, databaseName: database.databaseName, tls: database.tls }, credentials, {
    alterDatabase: true,
    timeoutMs: config.health.timeoutSeconds * 1000,
    strength: database.recovery?.readOnlyStrength ?? 'default',
    applicationRoles: database.recovery?.applicationRoles ?? [],
  });
  const frozenAt = now().toISOString();
  if (!outcome.writeRefused) throw new ValidationFailed(`writes on ${instanceId} are not frozen: a test write was accepted after ALTER DATABASE; the final snapshot would miss later writes, so the failback stops here (the database is left read-only by default)`);
  if (outcome.sessionsNotEnded.length) {
    throw new ValidationFailed(`writes on ${instanceId} are not frozen: sessions still open with their read-write default (${outcome.sessionsNotEnded.map((s) => `pid ${s.pid}`).join(', ')})`);
  }
  return {
    data: { frozenAt, writeRefused: true, endpoint, terminatedSessions: outcome.terminatedSessions },
    actions: [{ ...action, performed: true }],
    resources: [{ kind: 'postgresql:read-only', id: `${instanceId}/${database.databaseName}`, region: record.recoveryRegion, kept: true, note: 'writes frozen for the failback and left so: the primary region serves now (ALTER DATABASE ... RESET default_transaction_read_only to lift it)' }],
    detail: `writes frozen at ${frozenAt} (a test write was refused; ${outcome.terminatedSessions} other session(s) ended); reads still served`,
  };
}

// ---------------------------------------------------------------------------------------------------
// Proof the data moved

export interface TableCount {
  table: string;
  recoveryRegion: number | null;
  primaryRegion: number | null;
}

/** Tables compared at most; a schema with more is compared on the first ones by name, and says so. */
export const MAX_COMPARED_TABLES = 200;

const TABLES_SQL = `
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
    AND NOT c.relispartition
  ORDER BY 1 LIMIT ${MAX_COMPARED_TABLES + 1}`;

async function countRows(target: DatabaseTarget, credentials: DatabaseCredentials, timeoutMs: number): Promise<Map<string, number>> {
  const client = databaseClient(target, credentials, timeoutMs, 60_000);
  await client.connect();
  try {
    const tables = (await client.query<{ name: string }>(TABLES_SQL)).rows.map((r) => r.name);
    const counts = new Map<string, number>();
    for (const table of tables.slice(0, MAX_COMPARED_TABLES)) {
      const answer = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
      counts.set(table, Number(answer.rows[0]?.n ?? NaN));
    }
    return counts;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The tables whose row counts differ (or exist on one side only). Pure. */
export function differingTables(recovery: Map<string, number>, primary: Map<string, number>): TableCount[] {
  const names = [...new Set([...recovery.keys(), ...primary.keys()])].sort();
  return names
    .map((table) => ({ table, recoveryRegion: recovery.get(table) ?? null, primaryRegion: primary.get(table) ?? null }))
    .filter((row) => row.recoveryRegion !== row.primaryRegion);
}

/**
 * VerifyFailbackData: the data written during the failover is in the primary region. The recovery-region
 * database has been frozen since before the final snapshot, so every table must hold exactly as many
 * rows in the new primary instance (exact count(*), up to MAX_COMPARED_TABLES tables): the check
 * `failback-data` names any table that differs. Read-only on both.
 *
 * AWS: secretsmanager:GetSecretValue (the credentials; recovery region), rds:DescribeDBInstances;
 * PostgreSQL: SELECT count(*) per table on both instances. Thrown: what the connections throw.
 */
export async function verifyFailbackData(
  config: DeploymentConfig,
  record: FailoverRecord,
  primaryEndpoint: { host: string; port: number } | null,
  frozen: Pick<FreezeData, 'endpoint'>,
  run: Pick<RunContext, 'dryRun'>,
  deps: { secrets: SecretsManagerClient; count?: typeof countRows },
): Promise<StepResult<{ tables: number; differing: TableCount[]; rows: number }>> {
  if (run.dryRun || !primaryEndpoint || !frozen.endpoint) return { data: { tables: 0, differing: [], rows: 0 }, status: 'skipped', detail: 'dry run: nothing was moved to compare' };
  const database = findDatabase(config, record.database.name);
  const credentials = await fetchDatabaseCredentials(deps.secrets, database.credentialsSecret);
  const count = deps.count ?? countRows;
  const timeoutMs = config.health.timeoutSeconds * 1000;
  const target = (endpoint: { host: string; port: number }): DatabaseTarget => ({ ...endpoint, databaseName: database.databaseName, tls: database.tls });
  const [recovery, primary] = await Promise.all([count(target(frozen.endpoint), credentials, timeoutMs), count(target(primaryEndpoint), credentials, timeoutMs)]);
  const differing = differingTables(recovery, primary);
  const rows = [...primary.values()].reduce((sum, n) => sum + n, 0);
  const check: Check = {
    name: 'failback-data',
    resource: `${record.primaryInstanceId} (${record.primaryRegion})`,
    measured: differing.length ? `${differing.length} of ${recovery.size} table(s) differ: ${differing.map((d) => `${d.table} ${d.recoveryRegion ?? 'missing'} vs ${d.primaryRegion ?? 'missing'}`).join(', ')}` : `${primary.size} table(s), ${rows} row(s), every count equal`,
    target: `the row count of every table of ${record.database.recoveryInstanceId} (frozen)`,
    passed: differing.length === 0,
    message: differing.length
      ? `The primary-region instance does not hold what the recovery region held when writes were frozen: do not move DNS back; compare the tables named, and check that nothing wrote to ${record.database.recoveryInstanceId} after the freeze.`
      : `The data written in ${record.recoveryRegion} during the failover is in ${record.primaryInstanceId}.`,
  };
  if (differing.length) throw new ValidationFailed(`failback data differs: ${check.measured}`);
  return { data: { tables: primary.size, differing, rows }, checks: [check], detail: check.measured };
}
