// The health gates against the real servers of the emulated environment: redis-server (with and
// without a password), the embedded PostgreSQL, and the loopback /health server.
import { checkApiHealth } from '../../shared/health/api.js';
import { checkDatabase } from '../../shared/health/database.js';
import { checkRedis } from '../../shared/health/redis.js';
import { healthResultsToChecks, runHealthGates } from '../../shared/health/gates.js';
import { startHealthServer, type HealthServer } from '../../local/health-server.js';
import { startPostgres, type LocalPostgres } from '../../local/postgres.js';
import { startRedis, type LocalRedis } from '../../local/redis.js';

const TIMEOUT_MS = 5_000;
/** For probes meant to give up against a server told to be slow. */
const GIVE_UP_MS = 300;
const REDIS_PASSWORD = 'correct horse — battery ✓';

let openRedis: LocalRedis;
let securedRedis: LocalRedis;
let database: LocalPostgres;
let api: HealthServer;

beforeAll(async () => {
  // Assigned as each one starts, so afterAll still stops those that started when another fails.
  await Promise.all([
    startRedis().then((server) => (openRedis = server)),
    startRedis({ password: REDIS_PASSWORD }).then((server) => (securedRedis = server)),
    startPostgres({ user: 'frontier_app', password: 'app-password', databaseName: 'frontier' }).then((server) => (database = server)),
    startHealthServer().then((server) => (api = server)),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([openRedis?.stop(), securedRedis?.stop(), database?.stop(), api?.stop()]);
}, 60_000);

beforeEach(() => {
  api.behave('ok');
});

const redis = (server: LocalRedis, password?: string) => ({ host: server.host, port: server.port, tls: false, ...(password !== undefined ? { password } : {}) });
const postgres = () => ({ host: database.host, port: database.port, databaseName: database.databaseName, tls: 'disable' as const });

describe('checkRedis against redis-server', () => {
  it('passes without a password when none is required', async () => {
    const result = await checkRedis(redis(openRedis), TIMEOUT_MS);

    expect(result).toMatchObject({ name: 'redis-ping', passed: true, target: `redis://127.0.0.1:${openRedis.port}` });
  });

  it('passes with the right password (spaces and unicode included)', async () => {
    const result = await checkRedis(redis(securedRedis, REDIS_PASSWORD), TIMEOUT_MS);

    expect(result.passed).toBe(true);
  });

  it('reports AUTH rejected for a wrong password, without repeating it', async () => {
    const result = await checkRedis(redis(securedRedis, 'not the password'), TIMEOUT_MS);

    expect(result).toMatchObject({ passed: false, failure: { stage: 'authentication', timedOut: false } });
    expect(result.message).toMatch(/^AUTH rejected by redis:\/\/127\.0\.0\.1:\d+: -WRONGPASS /);
    expect(JSON.stringify(result)).not.toContain('not the password');
  });

  it('says a password is needed when none was configured', async () => {
    const result = await checkRedis(redis(securedRedis), TIMEOUT_MS);

    expect(result).toMatchObject({ passed: false, failure: { stage: 'authentication' } });
    expect(result.message).toContain('-NOAUTH');
  });

  it('reports AUTH rejected when a password is sent to a server that has none', async () => {
    const result = await checkRedis(redis(openRedis, 'unexpected'), TIMEOUT_MS);

    expect(result).toMatchObject({ passed: false, failure: { stage: 'authentication' } });
    expect(result.message).toMatch(/^AUTH rejected by .*: -ERR AUTH /);
  });
});

describe('checkDatabase against the embedded PostgreSQL', () => {
  it('passes with the right credentials', async () => {
    const result = await checkDatabase(postgres(), { username: database.user, password: database.password }, TIMEOUT_MS);

    expect(result).toMatchObject({ name: 'database-select-1', passed: true, target: `127.0.0.1:${database.port}/frontier` });
    expect(result.message).toContain('SELECT 1 answered 1');
  });

  it('reports an authentication failure for a wrong password', async () => {
    const result = await checkDatabase(postgres(), { username: database.user, password: 'wrong-password' }, TIMEOUT_MS);

    expect(result).toMatchObject({ passed: false, failure: { stage: 'authentication', timedOut: false } });
    expect(result.message).toMatch(/^Authentication failed: .*password authentication failed for user "frontier_app"/);
    expect(result.message).not.toContain('wrong-password');
  });

  it('reports a missing database as a connect failure', async () => {
    const result = await checkDatabase({ ...postgres(), databaseName: 'no_such_db' }, { username: database.user, password: database.password }, TIMEOUT_MS);

    expect(result).toMatchObject({ passed: false, failure: { stage: 'connect' } });
    expect(result.message).toMatch(/^Connect failed: .*database "no_such_db" does not exist/);
  });
});

describe('checkApiHealth against the /health server', () => {
  it('passes while the API is healthy', async () => {
    const result = await checkApiHealth(api.url, TIMEOUT_MS);

    expect(result).toMatchObject({ name: 'api-health', passed: true });
  });

  it('fails on 503 and quotes the body', async () => {
    api.behave({ mode: 'failing', status: 503, body: 'no healthy upstream' });

    const result = await checkApiHealth(api.url, TIMEOUT_MS);

    expect(result).toMatchObject({ passed: false, failure: { stage: 'response' } });
    expect(result.message).toBe(`GET ${api.url} answered HTTP 503 Service Unavailable: no healthy upstream`);
  });

  it('times out when the API is too slow', async () => {
    api.behave({ mode: 'slow', delayMs: 60_000 });

    const result = await checkApiHealth(api.url, GIVE_UP_MS);

    expect(result).toMatchObject({ passed: false, failure: { stage: 'request', timedOut: true } });
    expect(result.message).toContain(`timed out after ${GIVE_UP_MS} ms`);
  });
});

describe('runHealthGates', () => {
  const gates = () => [
    () => checkApiHealth(api.url, TIMEOUT_MS),
    () => checkDatabase(postgres(), { username: database.user, password: database.password }, TIMEOUT_MS),
    () => checkRedis(redis(securedRedis, REDIS_PASSWORD), TIMEOUT_MS),
  ];

  it('passes when the API, the database and Redis are all healthy', async () => {
    const outcome = await runHealthGates(gates());

    expect(outcome.allPassed).toBe(true);
    expect(outcome.results.map((r) => r.name)).toEqual(['api-health', 'database-select-1', 'redis-ping']);
    expect(healthResultsToChecks(outcome.results).every((check) => check.passed)).toBe(true);
  });

  it('fails the gate when one of them is down, and says which', async () => {
    api.behave('failing');

    const outcome = await runHealthGates(gates());

    expect(outcome.allPassed).toBe(false);
    expect(outcome.results.map((r) => [r.name, r.passed])).toEqual([
      ['api-health', false],
      ['database-select-1', true],
      ['redis-ping', true],
    ]);
    const [apiCheck] = healthResultsToChecks(outcome.results);
    expect(apiCheck).toMatchObject({ name: 'api-health', resource: api.url, target: `HTTP 2xx within ${TIMEOUT_MS} ms`, passed: false });
  });
});
