// shared/read-only.ts against a real PostgreSQL: read-only mode (also when applied twice), prewarming
// within its budget (a table that fails, a budget that runs out), and how a refusal by a server that
// answers is told from a server that does not.
import pg from 'pg';
import { enableReadOnlyMode, prewarmTables, refusalSqlState } from '../../shared/read-only.js';
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
