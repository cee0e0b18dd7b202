// Stops writes on a damaged PostgreSQL database on RDS. The plan's `ALTER SYSTEM SET
// default_transaction_read_only` is refused on RDS (no superuser), so: ALTER DATABASE ... SET
// default_transaction_read_only = on (new sessions start read-only), end the other sessions (the
// open ones would keep writing), then prove it with a write that must be refused. That setting is only
// a default (SET, BEGIN READ WRITE and role settings turn it off), so the check names the role settings
// that do, and readOnlyStrength revoke-writes also takes the application roles' write privileges away,
// recorded so restoreWritePrivileges can give them back.
// No RDS here: the functions that connect to a database bundle the driver, not the RDS client.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import type { DatabaseConfig, DeploymentConfig } from './config.js';
import type { ReadOnlyMode, RecoveryConfig } from './database-recovery.js';
import { databaseClient, type DatabaseTarget } from './database.js';
import { fetchDatabaseCredentials, type DatabaseCredentials } from './secrets.js';
import { InvalidConfig, ValidationFailed } from './errors.js';
import type { Check } from './report.js';
import type { Action, StepResult } from './steps.js';

export type ReadOnlyStrength = RecoveryConfig['readOnlyStrength'];
export type WritePrivilege = 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE';
const WRITE_PRIVILEGES: readonly WritePrivilege[] = ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'];

/** A session of the database that was open at the switch and is still there. */
export interface SessionNotEnded {
  pid: number;
  /** Null when the server does not say (a background process). */
  role: string | null;
  reason: string;
}

/** A pg_db_role_setting entry for default_transaction_read_only; null role = every role, null database = every database. */
export interface ReadOnlySetting {
  role: string | null;
  database: string | null;
  value: string;
}

/** A setting that makes new sessions read-write despite the switch, with the statement that made it. */
export interface ReadWriteOverride extends ReadOnlySetting {
  statement: string;
}

/**
 * Write privileges revoked in revoke-writes mode: exactly what was held, so GRANTing it back
 * (restoreWritePrivileges, grantStatements) undoes the revoke.
 */
export interface RevokedGrant {
  /** A role name, or PUBLIC. */
  grantee: string;
  privileges: WritePrivilege[];
  withGrantOption: boolean;
  /** Column privileges: the columns; null for table privileges. */
  columns: string[] | null;
  /** Schema-qualified, quoted as SQL identifiers: "public"."orders". */
  relations: string[];
}

/** An application role that may still write, or may give itself the right back. */
export interface StillWritable {
  role: string;
  /** A relation ("public"."orders"), or null for the role itself (e.g. it does not exist). */
  relation: string | null;
  reason: string;
}

export interface RevokeOutcome {
  revoked: RevokedGrant[];
  stillWritable: StillWritable[];
}

export interface ReadOnlyOutcome {
  terminatedSessions: number;
  /** Sessions open at the switch that could not be ended (they may still write), named. */
  sessionsNotEnded: SessionNotEnded[];
  /** Role or database settings that turn default_transaction_read_only off for new sessions. */
  readWriteOverrides: ReadWriteOverride[];
  /** A new session's write was refused with SQLSTATE 25006 (read_only_sql_transaction). */
  writeRefused: boolean;
  sizeBytes: number | null;
  /** revoke-writes mode only (null otherwise). */
  privileges: RevokeOutcome | null;
}

const READ_ONLY_SQLSTATE = '25006';
/** How long ended sessions get to go away before they are named as still there. */
const SESSION_EXIT_WAIT_MS = 5_000;

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteGrantee(grantee: string): string {
  // "public" is reserved: no role can have that name, so PUBLIC is unambiguous.
  return grantee === 'PUBLIC' ? 'PUBLIC' : quoteIdentifier(grantee);
}

/** PostgreSQL's boolean spellings of false (parse_bool: any prefix of false/no, "of"/"off", 0). */
export function isFalseSetting(value: string): boolean {
  const v = value.trim().replace(/^'(.*)'$/, '$1').toLowerCase();
  if (v === '0') return true;
  if (v.length >= 2 && 'off'.startsWith(v)) return true;
  return v.length >= 1 && ('false'.startsWith(v) || 'no'.startsWith(v));
}

function settingStatement(setting: ReadOnlySetting): string {
  const assignment = `SET default_transaction_read_only = ${setting.value}`;
  const inDatabase = setting.database === null ? '' : ` IN DATABASE ${quoteIdentifier(setting.database)}`;
  if (setting.role === null) return setting.database === null ? `ALTER ROLE ALL ${assignment}` : `ALTER DATABASE ${quoteIdentifier(setting.database)} ${assignment}`;
  return `ALTER ROLE ${quoteIdentifier(setting.role)}${inDatabase} ${assignment}`;
}

/**
 * The settings (of this database, or of every database) that make new sessions read-write after the
 * switch. PostgreSQL applies them in this order, the first found winning: role in this database, role,
 * this database (what ALTER DATABASE sets), every role (ALTER ROLE ALL), then the server's own (the
 * parameter group). So a role's `off` beats the database's `on`, and a database's `off` beats the
 * parameter group's `on`.
 */
export function readWriteOverrides(settings: ReadOnlySetting[]): ReadWriteOverride[] {
  const find = (role: string | null, database: 'this' | 'all') => settings.find((s) => s.role === role && (database === 'all' ? s.database === null : s.database !== null));
  const overrides: ReadWriteOverride[] = [];
  const everyone = find(null, 'this') ?? find(null, 'all');
  if (everyone && isFalseSetting(everyone.value)) overrides.push({ ...everyone, statement: settingStatement(everyone) });
  const roles = [...new Set(settings.map((s) => s.role).filter((r): r is string => r !== null))].sort();
  for (const role of roles) {
    const winning = find(role, 'this') ?? find(role, 'all');
    if (winning && isFalseSetting(winning.value)) overrides.push({ ...winning, statement: settingStatement(winning) });
  }
  return overrides;
}

/** The GRANT statements that give back exactly what was revoked. */
export function grantStatements(revoked: RevokedGrant[]): string[] {
  return revoked.map((grant) => {
    const columns = grant.columns ? ` (${grant.columns.map(quoteIdentifier).join(', ')})` : '';
    const privileges = grant.privileges.map((p) => `${p}${columns}`).join(', ');
    return `GRANT ${privileges} ON TABLE ${grant.relations.join(', ')} TO ${quoteGrantee(grant.grantee)}${grant.withGrantOption ? ' WITH GRANT OPTION' : ''}`;
  });
}

interface HeldPrivilege {
  relation: string;
  column: string | null;
  grantee: string;
  privilege: WritePrivilege;
  grantable: boolean;
}

/** Groups held privileges into as few grants as give them back exactly (one per role and shape). */
export function groupRevokedGrants(held: HeldPrivilege[]): RevokedGrant[] {
  const perObject = new Map<string, { relation: string; column: string | null; grantee: string; grantable: boolean; privileges: Set<WritePrivilege> }>();
  for (const h of held) {
    const key = JSON.stringify([h.relation, h.column, h.grantee, h.grantable]);
    const entry = perObject.get(key) ?? { relation: h.relation, column: h.column, grantee: h.grantee, grantable: h.grantable, privileges: new Set<WritePrivilege>() };
    entry.privileges.add(h.privilege);
    perObject.set(key, entry);
  }
  // Columns of one relation with the same privileges go together; tables with the same privileges too.
  const perColumns = new Map<string, { relation: string; grantee: string; grantable: boolean; privileges: WritePrivilege[]; columns: string[] | null }>();
  for (const e of perObject.values()) {
    const privileges = WRITE_PRIVILEGES.filter((p) => e.privileges.has(p));
    const key = JSON.stringify([e.relation, e.grantee, e.grantable, privileges, e.column === null]);
    const entry = perColumns.get(key) ?? { relation: e.relation, grantee: e.grantee, grantable: e.grantable, privileges, columns: e.column === null ? null : [] };
    if (e.column !== null) entry.columns!.push(e.column);
    perColumns.set(key, entry);
  }
  const grants = new Map<string, RevokedGrant>();
  for (const e of perColumns.values()) {
    const columns = e.columns ? [...e.columns].sort() : null;
    const key = JSON.stringify([e.grantee, e.privileges, e.grantable, columns]);
    const grant = grants.get(key) ?? { grantee: e.grantee, privileges: e.privileges, withGrantOption: e.grantable, columns, relations: [] };
    grant.relations.push(e.relation);
    grants.set(key, grant);
  }
  return [...grants.values()].map((g) => ({ ...g, relations: [...g.relations].sort() }));
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

// The relations whose write privileges revoke-writes takes away: tables, partitioned tables, views
// (an updatable view writes to its tables as the view's owner) and foreign tables, in every schema
// but the system ones and other sessions' temporary ones.
const RELATIONS_SQL = `
  SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS relation, c.relowner, c.relacl
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`;

// Who the application roles write as: themselves, every role whose privileges they inherit, PUBLIC.
const HELD_PRIVILEGES_SQL = `
  WITH rels AS (${RELATIONS_SQL}),
  grantees AS (
    SELECT r.oid FROM pg_roles r
    WHERE EXISTS (SELECT 1 FROM pg_roles a WHERE a.rolname = ANY($1::text[]) AND pg_has_role(a.oid, r.oid, 'USAGE'))
    UNION ALL SELECT 0::oid
  )
  SELECT rels.relation, NULL::text AS column, acl.grantee = 0 AS public, pg_get_userbyid(acl.grantee) AS grantee, acl.privilege_type AS privilege, acl.is_grantable AS grantable
  FROM rels CROSS JOIN LATERAL aclexplode(coalesce(rels.relacl, acldefault('r', rels.relowner))) acl
  WHERE acl.grantee IN (SELECT oid FROM grantees) AND acl.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
  UNION ALL
  SELECT rels.relation, a.attname::text, acl.grantee = 0, pg_get_userbyid(acl.grantee), acl.privilege_type, acl.is_grantable
  FROM rels JOIN pg_attribute a ON a.attrelid = rels.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
  CROSS JOIN LATERAL aclexplode(a.attacl) acl
  WHERE acl.grantee IN (SELECT oid FROM grantees) AND acl.privilege_type IN ('INSERT', 'UPDATE')`;

async function heldPrivileges(client: pg.Client, roles: string[]): Promise<HeldPrivilege[]> {
  const rows = await client.query<{ relation: string; column: string | null; public: boolean; grantee: string; privilege: WritePrivilege; grantable: boolean }>(HELD_PRIVILEGES_SQL, [roles]);
  return rows.rows.map((r) => ({ relation: r.relation, column: r.column, grantee: r.public ? 'PUBLIC' : r.grantee, privilege: r.privilege, grantable: r.grantable }));
}

const heldKey = (h: HeldPrivilege) => JSON.stringify([h.relation, h.column, h.grantee, h.privilege, h.grantable]);

/**
 * revoke-writes: REVOKE INSERT, UPDATE, DELETE, TRUNCATE on every relation of the non-system schemas
 * from the application roles, the roles they inherit from and PUBLIC, in one transaction (all or
 * nothing if the function is cut off). What is revoked is what was held and is held no more, read from
 * the catalog before and after: a REVOKE the recovery user may not make is only a warning in
 * PostgreSQL. Then proves it: every application role that may still write on a relation, or owns one
 * (an owner can grant itself the privileges back), is named.
 */
export async function revokeWritePrivileges(client: pg.Client, roles: string[]): Promise<RevokeOutcome> {
  const stillWritable: StillWritable[] = [];
  const found = await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])', [roles]);
  const existing = roles.filter((r) => found.rows.some((f) => f.rolname === r));
  for (const role of roles.filter((r) => !existing.includes(r))) stillWritable.push({ role, relation: null, reason: 'no such role: check recovery.applicationRoles' });

  const before = await heldPrivileges(client, existing);
  const perRelation = new Map<string, Set<string>>();
  for (const h of before) perRelation.set(h.relation, (perRelation.get(h.relation) ?? new Set()).add(h.grantee));
  await client.query('BEGIN');
  try {
    for (const [relation, grantees] of perRelation) {
      await client.query('SAVEPOINT revoke_one');
      try {
        await client.query(`REVOKE ${WRITE_PRIVILEGES.join(', ')} ON TABLE ${relation} FROM ${[...grantees].map(quoteGrantee).join(', ')}`);
        await client.query('RELEASE SAVEPOINT revoke_one');
      } catch (error) {
        // E.g. dependent privileges (a grantee passed on a grant option): left as it was, named below.
        await client.query('ROLLBACK TO SAVEPOINT revoke_one');
        for (const grantee of grantees) stillWritable.push({ role: grantee, relation, reason: `not revoked: ${(error as Error).message}` });
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  const after = new Set((await heldPrivileges(client, existing)).map(heldKey));
  const revoked = before.filter((h) => !after.has(heldKey(h)));

  const remaining = await client.query<{ role: string; relation: string; owner: boolean; writable: boolean }>(
    `WITH rels AS (${RELATIONS_SQL})
     SELECT a.rolname AS role, rels.relation, pg_has_role(a.oid, rels.relowner, 'USAGE') AS owner,
            has_table_privilege(a.oid, rels.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') OR has_any_column_privilege(a.oid, rels.oid, 'INSERT, UPDATE') AS writable
     FROM pg_roles a CROSS JOIN rels
     WHERE a.rolname = ANY($1::text[])
       AND (pg_has_role(a.oid, rels.relowner, 'USAGE') OR has_table_privilege(a.oid, rels.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') OR has_any_column_privilege(a.oid, rels.oid, 'INSERT, UPDATE'))
     ORDER BY 1, 2`,
    [existing],
  );
  const named = new Set(stillWritable.map((s) => `${s.role} ${s.relation}`));
  for (const r of remaining.rows) {
    if (named.has(`${r.role} ${r.relation}`)) continue;
    stillWritable.push({
      role: r.role,
      relation: r.relation,
      reason: r.owner ? 'owns it (or inherits its owner): an owner can grant itself the privileges back' : 'may still write (a privilege the recovery user could not revoke)',
    });
  }
  return { revoked: groupRevokedGrants(revoked), stillWritable };
}

/**
 * Failback after revoke-writes: GRANTs back exactly what the step recorded (its data.privileges.revoked,
 * also in the report's action parameters). Safe to repeat: granting a privilege held already changes
 * nothing. Needs the same rights as the revoke (owner of the relations, or a member of their owner).
 */
export async function restoreWritePrivileges(target: DatabaseTarget, credentials: DatabaseCredentials, recorded: RevokedGrant[], options: { timeoutMs: number }): Promise<string[]> {
  const statements = grantStatements(recorded);
  await withClient(target, credentials, options.timeoutMs, async (client) => {
    // The database may still be read-only (failing back before lifting it): GRANT is refused then.
    await client.query('SET default_transaction_read_only = off');
    await client.query('BEGIN');
    try {
      for (const statement of statements) await client.query(statement);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
  return statements;
}

interface OpenSession {
  pid: number;
  role: string | null;
  superuser: boolean;
}

/**
 * Every other session of this database. Without pg_read_all_stats (or the session's role's
 * privileges), pg_stat_activity hides backend_type, state and query of other roles' sessions, so they
 * are filtered on what stays visible: datname, pid and usesysid; a NULL backend_type is a session
 * the recovery user may not inspect, never a reason to skip it.
 */
async function otherSessions(client: pg.Client): Promise<OpenSession[]> {
  const rows = await client.query<{ pid: number; role: string | null; superuser: boolean | null }>(
    `SELECT a.pid, a.usename AS role, r.rolsuper AS superuser
     FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid
     WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
       AND (a.backend_type = 'client backend' OR a.backend_type IS NULL)`,
  );
  return rows.rows.map((r) => ({ pid: r.pid, role: r.role, superuser: r.superuser === true }));
}

/**
 * pg_terminate_backend for each session, one statement each (the function raises an error, not
 * false, for a session it may not end, which would stop a single statement at the first), then waits
 * for them to go. Returns how many went and names those that did not.
 */
async function endSessions(client: pg.Client, sessions: OpenSession[], waitMs: number): Promise<{ ended: number; notEnded: SessionNotEnded[] }> {
  const notEnded: SessionNotEnded[] = [];
  const signalled: OpenSession[] = [];
  for (const session of sessions) {
    try {
      await client.query('SELECT pg_terminate_backend($1::int)', [session.pid]);
      signalled.push(session);
    } catch (error) {
      const why = session.superuser ? ' (a superuser session: an administrator, or an autovacuum worker)' : '';
      notEnded.push({ pid: session.pid, role: session.role, reason: `may not be ended by the recovery user${why}: ${(error as Error).message}` });
    }
  }
  const deadline = Date.now() + waitMs;
  let left = signalled.map((s) => s.pid);
  while (left.length > 0) {
    const still = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND datname = current_database()', [left]);
    left = still.rows.map((r) => r.pid);
    if (left.length === 0 || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const pid of left) {
    const session = signalled.find((s) => s.pid === pid)!;
    notEnded.push({ pid, role: session.role, reason: `still there ${(waitMs / 1000).toFixed(0)} s after pg_terminate_backend` });
  }
  return { ended: signalled.length - left.length, notEnded: notEnded.sort((a, b) => a.pid - b.pid) };
}

async function readOnlySettings(client: pg.Client): Promise<ReadOnlySetting[]> {
  const rows = await client.query<ReadOnlySetting>(
    `SELECT r.rolname AS role, d.datname AS database, substr(cfg, strpos(cfg, '=') + 1) AS value
     FROM pg_db_role_setting s
     CROSS JOIN LATERAL unnest(s.setconfig) cfg
     LEFT JOIN pg_roles r ON r.oid = s.setrole
     LEFT JOIN pg_database d ON d.oid = s.setdatabase
     WHERE lower(split_part(cfg, '=', 1)) = 'default_transaction_read_only'
       AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))`,
  );
  return rows.rows;
}

/**
 * Only the ALTER (or the parameter group, done elsewhere) and, in revoke-writes mode, the REVOKE
 * change anything; the rest reads.
 */
export async function enableReadOnlyMode(
  target: DatabaseTarget,
  credentials: DatabaseCredentials,
  options: { alterDatabase: boolean; timeoutMs: number; strength?: ReadOnlyStrength; applicationRoles?: string[]; sessionExitWaitMs?: number },
): Promise<ReadOnlyOutcome> {
  // Revoked privileges are committed at once: whatever fails afterwards, the record must reach the report.
  let privileges: RevokeOutcome | null = null;
  try {
    const opened = await withClient(target, credentials, options.timeoutMs, async (client) => {
      // On a re-run the database is read-only already, and so is this session: lift it for this
      // session only, or the ALTER itself is refused.
      await client.query('SET default_transaction_read_only = off');
      if (options.alterDatabase) {
        // The database this session is in (target.databaseName in AWS): the statement must name it,
        // and naming the session's own one cannot reach another database of the same server.
        const current = await client.query<{ name: string }>('SELECT current_database() AS name');
        await client.query(`ALTER DATABASE ${quoteIdentifier(current.rows[0]?.name ?? target.databaseName)} SET default_transaction_read_only = on`);
      }
      if (options.strength === 'revoke-writes') privileges = await revokeWritePrivileges(client, options.applicationRoles ?? []);
      const size = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
      // Every session open now started before the switch or raced it: end them all, then see they went.
      const { ended, notEnded } = await endSessions(client, await otherSessions(client), options.sessionExitWaitMs ?? SESSION_EXIT_WAIT_MS);
      const overrides = readWriteOverrides(await readOnlySettings(client));
      return { terminatedSessions: ended, sessionsNotEnded: notEnded, readWriteOverrides: overrides, sizeBytes: Number(size.rows[0]?.size ?? NaN) };
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
    return { ...opened, privileges, writeRefused, sizeBytes: Number.isFinite(opened.sizeBytes) ? opened.sizeBytes : null };
  } catch (error) {
    if (privileges && typeof error === 'object' && error !== null) Object.assign(error, { privileges } satisfies WithPrivileges);
    throw error;
  }
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
  strength: ReadOnlyStrength;
  applied: boolean;
  /** Null when no write was tried (dry run, no endpoint, refused, unreachable). */
  writeRefused: boolean | null;
  sizeBytes: number | null;
  terminatedSessions: number;
  /** Sessions open at the switch that are still there: they may still write. */
  sessionsNotEnded: SessionNotEnded[];
  /** Role or database settings that turn default_transaction_read_only off for new sessions. */
  readWriteOverrides: ReadWriteOverride[];
  /**
   * revoke-writes: exactly the write privileges revoked (give them back on failback with
   * restoreWritePrivileges, or the GRANT statements of the REVOKE action); null in default mode.
   */
  revoked: RevokedGrant[] | null;
  /** revoke-writes: application roles that may still write, or grant themselves the right back. */
  stillWritable: StillWritable[];
}

export interface ReadOnlyDependencies {
  /** Secrets Manager in the recovery region (the credentials are replicated there). */
  secrets: SecretsManagerClient;
  /** The database work; a parameter so tests can make the server refuse or vanish. */
  enable?: typeof enableReadOnlyMode;
}

const DEFAULT_ONLY_WARNING =
  'default_transaction_read_only is only a default: a session can still turn it off (SET default_transaction_read_only = off, BEGIN READ WRITE); readOnlyStrength revoke-writes takes the write privileges away instead';

function describeSession(s: SessionNotEnded): string {
  return `pid ${s.pid} (${s.role ?? 'unknown role'}): ${s.reason}`;
}

function roleList(roles: string[]): string {
  return roles.length ? roles.join(', ') : '(none configured)';
}

/**
 * Whether read-only mode holds, from what enableReadOnlyMode found: the `read-only-mode` check. It
 * passes when a new session's write was refused, no session open at the switch is left, and then, in
 * default mode, no role or database setting turns the default off, or in revoke-writes mode, no
 * application role may still write (or owns a relation, and so may grant itself the right back).
 */
export function readOnlyCheck(strength: ReadOnlyStrength, outcome: ReadOnlyOutcome, applicationRoles: string[]): Pick<Check, 'measured' | 'target' | 'passed' | 'message'> {
  const problems: string[] = [];
  const measured = [outcome.writeRefused ? 'test write refused (25006)' : 'test write accepted'];
  if (!outcome.writeRefused) {
    problems.push('A new session could still write: check that the recovery user may ALTER DATABASE, or use readOnlyMode: parameter-group.');
  }
  if (outcome.sessionsNotEnded.length > 0) {
    measured.push(`${outcome.sessionsNotEnded.length} session(s) from before the switch not ended`);
    problems.push(`Sessions open at the switch were not ended and may still write: ${outcome.sessionsNotEnded.map(describeSession).join('; ')}.`);
  }
  const overrides = outcome.readWriteOverrides.map((o) => o.statement);
  const stillWritable = outcome.privileges?.stillWritable ?? [];
  if (strength === 'default' && overrides.length > 0) {
    measured.push(`${overrides.length} setting(s) turning read-only off`);
    problems.push(`New sessions of these roles start read-write, whatever the database says: ${overrides.join('; ')} (undo each with ... RESET default_transaction_read_only).`);
  }
  if (strength === 'revoke-writes' && stillWritable.length > 0) {
    measured.push(`${stillWritable.length} application role grant(s) left`);
    problems.push(`Application roles may still write: ${stillWritable.map((w) => `${w.role}${w.relation ? ` on ${w.relation}` : ''} (${w.reason})`).join('; ')}.`);
  }
  const revoked = outcome.privileges?.revoked ?? [];
  const target =
    strength === 'revoke-writes'
      ? 'writes refused; no write privileges left to the application roles; no session from before the switch left'
      : 'writes refused by default; no session from before the switch left; no setting turning it off';
  if (problems.length > 0) {
    return {
      measured: measured.join('; '),
      target,
      passed: false,
      message: `${problems.join(' ')} Writers other than the API may still change it: stop them by hand.${strength === 'default' ? ` Note: ${DEFAULT_ONLY_WARNING}.` : ''}`,
    };
  }
  if (strength === 'revoke-writes') {
    const noted = overrides.length ? ` Settings that turn read-only off (they no longer matter for these roles): ${overrides.join('; ')}.` : '';
    return {
      measured: measured.join('; '),
      target,
      passed: true,
      message: `New sessions are read-only, every session open at the switch was ended, and ${roleList(applicationRoles)} may no longer write (${revoked.length} grant(s) revoked, given back on failback by restoreWritePrivileges): no session can turn that off.${noted}`,
    };
  }
  return {
    measured: measured.join('; '),
    target,
    passed: true,
    message: `New sessions start read-only, no role or database setting turns it off, and every session open at the switch was ended. But ${DEFAULT_ONLY_WARNING}.`,
  };
}

/** Attached to an error thrown after the REVOKE was committed, so the record of it is not lost. */
interface WithPrivileges {
  privileges?: RevokeOutcome | null;
}

/**
 * The SetDatabaseReadOnly step: stops writes on the damaged instance and proves it with a write that
 * must be refused. It connects to the instance's own endpoint, never to where the connection secret
 * points (after a repoint that is the restored instance, which must stay writable).
 *
 * Outcomes, none of them thrown: applied (a `read-only-mode` check, see readOnlyCheck); no endpoint
 * (nothing can write to it either); refused by a server that answered (a failed check: other writers
 * may still reach it, on-call is told); no answer (recorded: it takes no writes while it is down).
 * What is thrown: reading the credentials (secretsmanager:GetSecretValue, as awsCall names it, and
 * InvalidConfig for a malformed secret).
 *
 * PostgreSQL: ALTER DATABASE ... SET default_transaction_read_only = on (alter-database mode only);
 * with recovery.readOnlyStrength revoke-writes, REVOKE INSERT, UPDATE, DELETE, TRUNCATE from the
 * application roles (recorded in data.revoked and the REVOKE action, undone by restoreWritePrivileges);
 * pg_terminate_backend of every other session, waiting until they are gone; pg_db_role_setting read
 * for settings that turn the default off; then a CREATE TEMP TABLE that must fail.
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
  const strength: ReadOnlyStrength = database.recovery?.readOnlyStrength ?? 'default';
  const applicationRoles = database.recovery?.applicationRoles ?? [];
  const byParameterGroup = mode === 'parameter-group';
  const notApplied: ReadOnlyStepData = { mode, strength, applied: false, writeRefused: null, sizeBytes: null, terminatedSessions: 0, sessionsNotEnded: [], readWriteOverrides: [], revoked: null, stillWritable: [] };
  const action: Action = {
    description: byParameterGroup
      ? `end the other sessions of ${database.databaseName} (the parameter group makes new ones read-only)`
      : `ALTER DATABASE ${database.databaseName} SET default_transaction_read_only = on; end the other sessions`,
    service: 'postgresql',
    operation: byParameterGroup ? 'pg_terminate_backend' : 'ALTER DATABASE',
    parameters: { database: database.databaseName, instance: database.name },
    performed: false,
  };
  const revokeAction = (privileges: RevokeOutcome | null): Action => ({
    description: `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON every table and view of ${database.databaseName} FROM ${roleList(applicationRoles)}, the roles they inherit from and PUBLIC (restoreWritePrivileges, or the GRANT statements here, give them back)`,
    service: 'postgresql',
    operation: 'REVOKE',
    parameters: {
      database: database.databaseName,
      instance: database.name,
      roles: applicationRoles,
      ...(privileges ? { revoked: privileges.revoked, undo: grantStatements(privileges.revoked) } : {}),
    },
    performed: privileges !== null,
  });
  const actions = (privileges: RevokeOutcome | null, performed: boolean): Action[] => [
    { ...action, performed },
    ...(strength === 'revoke-writes' ? [revokeAction(privileges)] : []),
  ];
  const resources = (privileges: RevokeOutcome | null) =>
    privileges && privileges.revoked.length > 0
      ? {
          resources: [
            {
              kind: 'postgresql:write-privileges',
              id: `${database.name}/${database.databaseName}`,
              region: config.primaryRegion,
              kept: true,
              note: `write privileges revoked (${privileges.revoked.length} grant(s)); to fail back, run restoreWritePrivileges with SetDatabaseReadOnly data.revoked, or the GRANT statements of its REVOKE action`,
            },
          ],
        }
      : {};
  if (request.dryRun) return { data: notApplied, actions: actions(null, false) };
  if (!request.sourceEndpoint) {
    return { data: notApplied, actions: actions(null, false), detail: `${database.name} has no endpoint (not running): it takes no writes; read-only mode not applied` };
  }
  const credentials = await fetchDatabaseCredentials(deps.secrets, database.credentialsSecret);
  const target = { ...request.sourceEndpoint, databaseName: database.databaseName, tls: database.tls };
  const resource = `${database.name} (${config.primaryRegion})`;
  let outcome: ReadOnlyOutcome;
  try {
    outcome = await (deps.enable ?? enableReadOnlyMode)(target, credentials, { alterDatabase: !byParameterGroup, timeoutMs: config.health.timeoutSeconds * 1000, strength, applicationRoles });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const refusal = refusalSqlState(error);
    // A REVOKE already committed stays recorded, whatever failed after it.
    const privileges = (typeof error === 'object' && error !== null ? (error as WithPrivileges).privileges : null) ?? null;
    const data: ReadOnlyStepData = { ...notApplied, revoked: privileges?.revoked ?? null, stillWritable: privileges?.stillWritable ?? [] };
    if (!refusal) {
      return { data, actions: actions(privileges, false), ...resources(privileges), detail: `the database did not answer (${reason}): read-only mode not verified; it takes no writes while it is down` };
    }
    // It is up and refused us: writers other than the API may still reach it. The recovery goes on
    // (the API is stopped and the restore does not depend on it), and on-call is told.
    return {
      data,
      actions: actions(privileges, false),
      ...resources(privileges),
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
  const verdict = readOnlyCheck(strength, outcome, applicationRoles);
  const privileges = outcome.privileges;
  const detail = [
    outcome.writeRefused ? 'a test write was refused' : 'WARNING: a test write was NOT refused',
    `${outcome.terminatedSessions} other sessions ended`,
    ...(outcome.sessionsNotEnded.length ? [`WARNING: not ended: ${outcome.sessionsNotEnded.map((s) => `pid ${s.pid} (${s.role ?? 'unknown role'})`).join(', ')}`] : []),
    ...(outcome.readWriteOverrides.length ? [`${strength === 'default' ? 'WARNING: ' : ''}read-write settings: ${outcome.readWriteOverrides.map((o) => o.statement).join('; ')}`] : []),
    ...(privileges ? [`revoked ${privileges.revoked.length} write grant(s) from ${roleList(applicationRoles)}${privileges.stillWritable.length ? `; WARNING: ${privileges.stillWritable.length} left` : ''}`] : []),
    ...(outcome.sizeBytes === null ? [] : [`database size ${(outcome.sizeBytes / 1e6).toFixed(1)} MB`]),
    ...(strength === 'default' ? ['read-only is a default sessions can turn off (SET default_transaction_read_only = off, BEGIN READ WRITE)'] : []),
  ].join('; ');
  return {
    data: {
      mode,
      strength,
      applied: true,
      writeRefused: outcome.writeRefused,
      sizeBytes: outcome.sizeBytes,
      terminatedSessions: outcome.terminatedSessions,
      sessionsNotEnded: outcome.sessionsNotEnded,
      readWriteOverrides: outcome.readWriteOverrides,
      revoked: privileges?.revoked ?? null,
      stillWritable: privileges?.stillWritable ?? [],
    },
    actions: actions(privileges, true),
    ...resources(privileges),
    checks: [{ name: 'read-only-mode', resource, ...verdict }],
    detail,
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
