// shared/read-only.ts against a real PostgreSQL: read-only mode (also when applied twice), and whether it
// holds, run as recovery users that are not superusers (one shaped like RDS's master user, one with only
// pg_signal_backend): sessions opened before the switch, role settings, SET and BEGIN READ WRITE, in
// both strengths, and the revoke given back on failback; prewarming within its budget (a table that
// fails, a budget that runs out), and how a refusal by a server that answers is told from a server that
// does not.
import pg from 'pg';
import { enableReadOnlyMode, prewarmTables, readOnlyCheck, refusalSqlState, restoreWritePrivileges, type ReadOnlyOutcome } from '../../shared/read-only.js';
import { startPostgres, type LocalPostgres } from '../../local/postgres.js';
import { findFreePort } from '../../local/processes.js';

const TIMEOUT_MS = 5_000;
let server: LocalPostgres;

beforeAll(async () => {
  server = await startPostgres({ user: 'frontier_admin', password: 'admin-password', databaseName: 'frontier' });
  await server.execute('CREATE TABLE accounts (id int PRIMARY KEY, name text); INSERT INTO accounts SELECT g, md5(g::text) FROM generate_series(1, 2000) g', 'frontier');
}, 60_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

afterEach(async () => {
  await server.execute('ALTER DATABASE frontier RESET default_transaction_read_only');
  await server.execute('ALTER DATABASE frontier ALLOW_CONNECTIONS true');
});

const target = () => ({ host: server.host, port: server.port, databaseName: 'frontier', tls: 'disable' as const });
const credentials = () => ({ username: server.user, password: server.password });

describe('enableReadOnlyMode', () => {
  it('makes new sessions read-only, proves it with a refused write, and can be applied again', async () => {
    const first = await enableReadOnlyMode(target(), credentials(), { alterDatabase: true, timeoutMs: TIMEOUT_MS });
    // A re-run finds its own session read-only already; the ALTER must still go through.
    const again = await enableReadOnlyMode(target(), credentials(), { alterDatabase: true, timeoutMs: TIMEOUT_MS });

    expect(first).toMatchObject({ writeRefused: true, sizeBytes: expect.any(Number) });
    expect(again.writeRefused).toBe(true);
  });
});

// The application's database on RDS: owned by the master user (CREATEROLE, CREATEDB, a member of the
// application role, pg_signal_backend, not a superuser), who created the tables and granted the
// application role its rights. `etl` is another writer the master user is not a member of.
const SHOP = 'shop';
const MASTER = { username: 'rds_master', password: 'master-password' };
const SIGNALLER = { username: 'signaller', password: 'signaller-password' };
const ROLES = { app: 'app-password', etl: 'etl-password' } as const;
const GRANTS = `
  REVOKE ALL ON orders, audit FROM app, etl, PUBLIC;
  GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO app;
  GRANT INSERT ON orders TO etl WITH GRANT OPTION;
  GRANT SELECT, UPDATE (note) ON audit TO app;
  GRANT TRUNCATE ON audit TO PUBLIC`;

describe('read-only mode that holds, for recovery users that are not superusers', () => {
  const shop = () => ({ ...target(), databaseName: SHOP });
  const opened: pg.Client[] = [];

  async function sessionAs(role: keyof typeof ROLES | 'frontier_admin'): Promise<pg.Client> {
    const password = role === 'frontier_admin' ? server.password : ROLES[role];
    const client = new pg.Client({ host: server.host, port: server.port, user: role, password, database: SHOP });
    client.on('error', () => undefined);
    await client.connect();
    opened.push(client);
    return client;
  }

  /** 'written' (the statement went through: a read too), or the SQLSTATE (or message) of the refusal. */
  async function write(client: pg.Client, sql = "INSERT INTO orders VALUES (1, 'x')"): Promise<string> {
    try {
      await client.query(sql);
      return 'written';
    } catch (error) {
      return (error as { code?: string }).code ?? (error as Error).message;
    }
  }

  const enable = (credentials: { username: string; password: string }, options: Partial<Parameters<typeof enableReadOnlyMode>[2]> = {}) =>
    enableReadOnlyMode(shop(), credentials, { alterDatabase: true, timeoutMs: TIMEOUT_MS, sessionExitWaitMs: 2_000, ...options });

  const acl = () =>
    server.session(SHOP, async (c) => {
      const tables = await c.query<{ relname: string; relacl: string }>("SELECT relname, relacl::text FROM pg_class WHERE relname IN ('orders', 'audit') ORDER BY relname");
      const columns = await c.query<{ attname: string; attacl: string }>("SELECT attname, attacl::text FROM pg_attribute WHERE attrelid = 'audit'::regclass AND attacl IS NOT NULL");
      return { tables: tables.rows, columns: columns.rows };
    });

  beforeAll(async () => {
    await server.execute(`
      CREATE ROLE app LOGIN PASSWORD '${ROLES.app}';
      CREATE ROLE etl LOGIN PASSWORD '${ROLES.etl}';
      CREATE ROLE ${MASTER.username} LOGIN PASSWORD '${MASTER.password}' CREATEROLE CREATEDB;
      GRANT app TO ${MASTER.username};
      GRANT pg_signal_backend TO ${MASTER.username};
      CREATE ROLE ${SIGNALLER.username} LOGIN PASSWORD '${SIGNALLER.password}';
      GRANT pg_signal_backend TO ${SIGNALLER.username}`);
    await server.execute(`CREATE DATABASE ${SHOP} OWNER ${MASTER.username}`);
    const master = new pg.Client({ host: server.host, port: server.port, user: MASTER.username, password: MASTER.password, database: SHOP });
    await master.connect();
    try {
      await master.query(`CREATE TABLE orders (id int, note text); CREATE TABLE audit (id int, note text); ${GRANTS}`);
    } finally {
      await master.end();
    }
  }, 60_000);

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.end().catch(() => undefined)));
    await server.execute(`ALTER DATABASE ${SHOP} RESET default_transaction_read_only; ALTER ROLE app RESET default_transaction_read_only`);
    await server.session(SHOP, (c) => c.query(`SET default_transaction_read_only = off; SET ROLE ${MASTER.username}; ${GRANTS}`));
  });

  it('ends an application session opened before the switch, for a recovery user with only pg_signal_backend', async () => {
    const before = await sessionAs('app');
    // The parameter group (or an earlier ALTER by someone allowed to) made new sessions read-only;
    // this user may not ALTER DATABASE and cannot see other roles' backend_type in pg_stat_activity.
    await server.execute(`ALTER DATABASE ${SHOP} SET default_transaction_read_only = on`);

    const outcome = await enable(SIGNALLER, { alterDatabase: false });

    expect(outcome).toMatchObject({ terminatedSessions: 1, sessionsNotEnded: [], writeRefused: true });
    expect(await write(before)).not.toBe('written');
  });

  it("ends a session opened before the switch by a role the RDS-shaped master user is not a member of", async () => {
    const before = await sessionAs('etl');

    const outcome = await enable(MASTER);

    expect(outcome).toMatchObject({ terminatedSessions: 1, sessionsNotEnded: [], readWriteOverrides: [], writeRefused: true });
    expect(await write(before)).not.toBe('written');
    expect(readOnlyCheck('default', outcome, []).passed).toBe(true);
  });

  it('names a session it may not end (a superuser\'s) and fails the check', async () => {
    const admin = await sessionAs('frontier_admin');
    const pid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

    const outcome = await enable(MASTER);

    expect(outcome.sessionsNotEnded).toEqual([{ pid, role: 'frontier_admin', reason: expect.stringContaining('may not be ended by the recovery user (a superuser session') }]);
    const check = readOnlyCheck('default', outcome, []);
    expect(check.passed).toBe(false);
    expect(check.message).toContain(`pid ${pid} (frontier_admin)`);
  });

  describe('a role setting that turns read-only off (ALTER ROLE app SET default_transaction_read_only = off)', () => {
    beforeEach(async () => {
      await server.execute('ALTER ROLE app SET default_transaction_read_only = off');
    });

    it('is named by the check in default mode (the application role still writes)', async () => {
      const outcome = await enable(MASTER);
      const after = await sessionAs('app');

      expect(await write(after)).toBe('written');
      expect(outcome.readWriteOverrides).toEqual([{ role: 'app', database: null, value: 'off', statement: 'ALTER ROLE "app" SET default_transaction_read_only = off' }]);
      const check = readOnlyCheck('default', outcome, []);
      expect(check).toMatchObject({ passed: false, measured: 'test write refused (25006); 1 setting(s) turning read-only off' });
      expect(check.message).toContain('ALTER ROLE "app" SET default_transaction_read_only = off');
    });

    it('no longer lets the application role write with revoke-writes', async () => {
      const outcome = await enable(MASTER, { strength: 'revoke-writes', applicationRoles: ['app', 'etl'] });
      const after = await sessionAs('app');

      expect(await write(after)).toBe('42501');
      expect(await write(after, "UPDATE audit SET note = 'y'")).toBe('42501');
      expect(await write(after, 'TRUNCATE audit')).toBe('42501');
      expect(await write(after, 'SELECT count(*) FROM orders')).toBe('written');
      expect(readOnlyCheck('revoke-writes', outcome, ['app', 'etl']).passed).toBe(true);
    });
  });

  it.each([
    ['SET default_transaction_read_only = off', 'SET default_transaction_read_only = off', "INSERT INTO orders VALUES (1, 'x')"],
    ['BEGIN READ WRITE', 'BEGIN READ WRITE', "INSERT INTO orders VALUES (1, 'x'); COMMIT"],
  ])('a session that turns read-only off (%s) writes in default mode, which the check says, and cannot with revoke-writes', async (_label, optOut, insert) => {
    const defaultOutcome = await enable(MASTER);
    const inDefault = await sessionAs('app');
    await inDefault.query(optOut);
    expect(await write(inDefault, insert)).toBe('written');
    expect(readOnlyCheck('default', defaultOutcome, []).message).toContain('default_transaction_read_only is only a default: a session can still turn it off');

    await enable(MASTER, { strength: 'revoke-writes', applicationRoles: ['app', 'etl'] });
    const inRevoked = await sessionAs('app');
    await inRevoked.query(optOut);

    expect(await write(inRevoked, insert)).toBe('42501');
  });

  it('records exactly what revoke-writes took away, and restoreWritePrivileges gives exactly that back', async () => {
    const before = await acl();

    const outcome: ReadOnlyOutcome = await enable(MASTER, { strength: 'revoke-writes', applicationRoles: ['app', 'etl'] });

    expect(outcome.privileges?.stillWritable).toEqual([]);
    expect(outcome.privileges?.revoked).toEqual(
      expect.arrayContaining([
        { grantee: 'app', privileges: ['INSERT', 'UPDATE', 'DELETE'], withGrantOption: false, columns: null, relations: ['public.orders'] },
        { grantee: 'etl', privileges: ['INSERT'], withGrantOption: true, columns: null, relations: ['public.orders'] },
        { grantee: 'app', privileges: ['UPDATE'], withGrantOption: false, columns: ['note'], relations: ['public.audit'] },
        { grantee: 'PUBLIC', privileges: ['TRUNCATE'], withGrantOption: false, columns: null, relations: ['public.audit'] },
      ]),
    );
    expect(outcome.privileges?.revoked).toHaveLength(4);
    expect(await acl()).not.toEqual(before);

    await restoreWritePrivileges(shop(), MASTER, outcome.privileges!.revoked, { timeoutMs: TIMEOUT_MS });

    expect(await acl()).toEqual(before);
  });

  it('names an application role that owns a table: an owner can grant itself the privileges back', async () => {
    await server.execute('CREATE TABLE app_owned (id int); ALTER TABLE app_owned OWNER TO app', SHOP);
    try {
      const outcome = await enable(MASTER, { strength: 'revoke-writes', applicationRoles: ['app', 'nobody'] });

      expect(outcome.privileges?.stillWritable).toEqual([
        { role: 'nobody', relation: null, reason: 'no such role: check recovery.applicationRoles' },
        { role: 'app', relation: 'public.app_owned', reason: expect.stringContaining('owns it') },
      ]);
      expect(readOnlyCheck('revoke-writes', outcome, ['app', 'nobody']).passed).toBe(false);
    } finally {
      await server.execute('BEGIN READ WRITE; DROP TABLE app_owned; COMMIT', SHOP);
    }
  });
});

describe('prewarmTables', () => {
  it('loads each table and reports a missing one by name, without failing', async () => {
    const outcomes = await prewarmTables(target(), credentials(), ['public.accounts', 'public.no_such_table'], { connectTimeoutMs: TIMEOUT_MS, budgetMs: 60_000 });

    expect(outcomes).toEqual([
      { table: 'public.accounts', blocks: expect.any(Number), error: null },
      { table: 'public.no_such_table', blocks: null, error: 'relation "public.no_such_table" does not exist' },
    ]);
    expect(outcomes[0]!.blocks).toBeGreaterThan(0);
  });

  it('stops a table that outlasts the budget and starts none after it', async () => {
    // Another session holds the table exclusively, so prewarming it waits until the budget runs out.
    const holder = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: 'frontier' });
    await holder.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE');

      const outcomes = await prewarmTables(target(), credentials(), ['public.accounts', 'public.accounts'], { connectTimeoutMs: TIMEOUT_MS, budgetMs: 1_500 });

      expect(outcomes).toEqual([
        { table: 'public.accounts', blocks: null, error: 'stopped: the 2 s prewarm budget ran out' },
        { table: 'public.accounts', blocks: null, error: 'not started: the 2 s prewarm budget was used up' },
      ]);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  });

  it('throws when it cannot connect at all (the handler turns that into a failed prewarm check)', async () => {
    const port = await findFreePort();

    await expect(prewarmTables({ ...target(), port }, credentials(), ['public.accounts'], { connectTimeoutMs: TIMEOUT_MS, budgetMs: 60_000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('refusalSqlState on real failures', () => {
  it('names the SQLSTATE of a server that answers and refuses', async () => {
    await server.execute('ALTER DATABASE frontier ALLOW_CONNECTIONS false');

    const error = await enableReadOnlyMode(target(), credentials(), { alterDatabase: true, timeoutMs: TIMEOUT_MS }).catch((e: unknown) => e);

    expect(refusalSqlState(error)).toBe('55000');
  });

  it('is null for a server that does not answer', async () => {
    const port = await findFreePort();

    const error = await enableReadOnlyMode({ ...target(), port }, credentials(), { alterDatabase: true, timeoutMs: TIMEOUT_MS }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(refusalSqlState(error)).toBeNull();
  });
});
