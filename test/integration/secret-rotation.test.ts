// The rotation function (functions/rotate-database-secret, as Secrets Manager invokes it) against moto's
// Secrets Manager and a real PostgreSQL: after a rotation the old password is refused and the new one
// works; a rotation stopped after setSecret and run again completes; alternating users keep their grants
// and each can read what the other created. And nothing the function writes (results, log lines, thrown
// errors) holds a secret value.
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import pg from 'pg';
import { forgetClients } from '../../shared/clients.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { ROTATION_STEPS, type RotationEvent, type RotationStep } from '../../shared/rotation.js';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { startPostgres, type LocalPostgres } from '../../local/postgres.js';
import { configWith, useConfig } from '../support/fixtures.js';

const REGION = 'us-east-1';
const SINGLE_SECRET = 'frontier/prod/database';
const ALTERNATING_SECRET = 'frontier/orders/database';
const MASTER_SECRET = 'frontier/orders/master';
const SINGLE = { username: 'app_single', password: 'Single-Old-Password-1a' };
const ALTERNATING = { username: 'orders_app', password: 'Orders-Old-Password-2b' };
const MASTER = { username: 'rds_master', password: 'Master-Password-3c' };
const ROTATION_FUNCTION_ARN = `arn:aws:lambda:${REGION}:123456789012:function:frontier-dr-test-rotateDatabaseSecret`;

let moto: MotoServer;
let server: LocalPostgres;
let secrets: SecretsManagerClient;
const savedEndpoint = process.env.AWS_ENDPOINT_URL;
const savedRegion = process.env.AWS_REGION;
const savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
/** The function as deployed, loaded once its logger may write (the test setup silences it). */
let handler: (event: RotationEvent, context: Context) => Promise<unknown>;

/** Every log line the function writes, as written. */
const logLines: string[] = [];
/** Every result and every thrown error, as the caller (Secrets Manager) would see them. */
const outputs: unknown[] = [];

function config(): DeploymentConfig {
  return configWith((c) => {
    const first = c.databases[0]!;
    first.tls = 'disable';
    first.rotation = { strategy: 'single-user', scheduleExpression: 'rate(30 days)' } as never;
    c.databases.push({
      ...structuredClone(first),
      name: 'frontier-orders',
      credentialsSecret: ALTERNATING_SECRET,
      recovery: undefined,
      rotation: { strategy: 'alternating-users', scheduleExpression: 'rate(7 days)', masterSecret: MASTER_SECRET, validationQuery: 'SELECT count(*) FROM shop.reference' } as never,
    });
    c.health.timeoutSeconds = 5;
  });
}

const context = (): Context =>
  ({
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'rotateDatabaseSecret',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:123456789012:function:rotateDatabaseSecret`,
    memoryLimitInMB: '256',
    awsRequestId: `test-${Math.random().toString(16).slice(2)}`,
    logGroupName: '/aws/lambda/rotateDatabaseSecret',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 60_000,
  }) as Context;

/** Invokes the function as Secrets Manager does, recording what it returns or throws. */
async function invoke(secretId: string, token: string, step: RotationStep): Promise<unknown> {
  const event: RotationEvent = { SecretId: secretId, ClientRequestToken: token, Step: step };
  try {
    const result = await handler(event, context());
    outputs.push(result);
    return result;
  } catch (error) {
    outputs.push(error);
    throw error;
  }
}

/**
 * Secrets Manager starting a rotation: a new version under the token, labelled AWSPENDING, without a
 * value, and rotation enabled; then it invokes the function. moto cannot invoke a Lambda function it
 * does not host, but it leaves exactly that state before it says so (ResourceNotFoundException for the
 * function's ARN); the test then invokes the function itself, step by step, as Secrets Manager would.
 */
async function startRotation(secretId: string): Promise<string> {
  const token = randomUUID();
  const started = await secrets
    .send(new RotateSecretCommand({ SecretId: secretId, ClientRequestToken: token, RotationLambdaARN: ROTATION_FUNCTION_ARN, RotationRules: { AutomaticallyAfterDays: 30 } }))
    .then(() => 'invoked', (error: Error) => error.message);
  expect(started).toContain(`Resource not found for ARN '${ROTATION_FUNCTION_ARN}'`);
  expect((await labels(secretId))[token]).toEqual(['AWSPENDING']);
  return token;
}

async function rotate(secretId: string): Promise<string> {
  const token = await startRotation(secretId);
  for (const step of ROTATION_STEPS) await invoke(secretId, token, step);
  return token;
}

async function stage(secretId: string, versionStage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<{ username: string; password: string }> {
  const answer = await secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: versionStage }));
  return JSON.parse(answer.SecretString as string) as { username: string; password: string };
}

async function labels(secretId: string): Promise<Record<string, string[]>> {
  const answer = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  return Object.fromEntries(Object.entries(answer.VersionIdsToStages ?? {}).filter(([, stages]) => stages.length > 0).map(([id, stages]) => [id, [...stages].sort()]));
}

/** 'ok' when `credentials` log in (and run `sql`), else the SQLSTATE of the refusal. */
async function as<T = unknown>(credentials: { username: string; password: string }, sql = 'SELECT 1'): Promise<'ok' | string | T> {
  const client = new pg.Client({ host: server.host, port: server.port, user: credentials.username, password: credentials.password, database: 'frontier' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(sql);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function createSecret(name: string, value: { username: string; password: string }): Promise<void> {
  await secrets.send(
    new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ ...value, engine: 'postgres', host: server.host, port: server.port, dbname: 'frontier' }) }),
  );
}

const writeSpy = { restore: () => undefined as void };

beforeAll(async () => {
  [moto, server] = await Promise.all([startMoto(), startPostgres({ user: 'frontier_admin', password: 'Admin-Password-4d', databaseName: 'frontier' })]);
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  process.env.AWS_REGION = REGION;
  forgetClients();
  useConfig(config());
  secrets = new SecretsManagerClient({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

  // The master user as on RDS (CREATEROLE, not a superuser) creates the application user, so it holds
  // ADMIN on it; the application's objects: a schema it may create in, a table granted to it directly,
  // one granted through a group role, and a table of its own.
  await server.execute(`
    CREATE ROLE ${SINGLE.username} LOGIN PASSWORD '${SINGLE.password}';
    CREATE ROLE ${MASTER.username} LOGIN CREATEROLE PASSWORD '${MASTER.password}';
    GRANT CONNECT, CREATE ON DATABASE frontier TO ${MASTER.username};`);
  const master = new pg.Client({ host: server.host, port: server.port, user: MASTER.username, password: MASTER.password, database: 'frontier' });
  await master.connect();
  try {
    await master.query(`
      CREATE ROLE ${ALTERNATING.username} LOGIN PASSWORD '${ALTERNATING.password}';
      CREATE ROLE readers NOLOGIN;
      GRANT readers TO ${ALTERNATING.username};
      CREATE SCHEMA shop;
      GRANT USAGE, CREATE ON SCHEMA shop TO ${ALTERNATING.username};
      CREATE TABLE shop.reference (id int); INSERT INTO shop.reference VALUES (1);
      GRANT SELECT ON shop.reference TO ${ALTERNATING.username};
      CREATE TABLE shop.audit (id int); INSERT INTO shop.audit VALUES (1);
      GRANT SELECT ON shop.audit TO readers;`);
  } finally {
    await master.end();
  }
  expect(await as(ALTERNATING, 'CREATE TABLE shop.orders_by_original (id int); INSERT INTO shop.orders_by_original VALUES (1)')).toBe('ok');

  await createSecret(SINGLE_SECRET, SINGLE);
  await createSecret(ALTERNATING_SECRET, ALTERNATING);
  await createSecret(MASTER_SECRET, MASTER);

  // Everything the function logs, at every level.
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  ({ handler } = await import('../../functions/rotate-database-secret/handler.js'));
  const original = process.stdout.write.bind(process.stdout);
  const originalErr = process.stderr.write.bind(process.stderr);
  const capture =
    (write: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      logLines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = capture(original) as typeof process.stdout.write;
  process.stderr.write = capture(originalErr) as typeof process.stderr.write;
  writeSpy.restore = () => {
    process.stdout.write = original;
    process.stderr.write = originalErr;
  };
}, 120_000);

afterAll(async () => {
  writeSpy.restore();
  process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
  secrets?.destroy();
  forgetClients();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
  if (savedRegion === undefined) delete process.env.AWS_REGION;
  else process.env.AWS_REGION = savedRegion;
  await Promise.all([moto?.stop(), server?.stop()]);
}, 60_000);

describe('single user', () => {
  it('after a rotation the old password is refused and the new one, now AWSCURRENT, works; AWSPENDING is gone', async () => {
    const token = await rotate(SINGLE_SECRET);

    const current = await stage(SINGLE_SECRET, 'AWSCURRENT');
    const previous = await stage(SINGLE_SECRET, 'AWSPREVIOUS');
    expect(current.username).toBe(SINGLE.username);
    expect(current.password).not.toBe(SINGLE.password);
    expect(previous.password).toBe(SINGLE.password);
    expect(await as(current)).toBe('ok');
    expect(await as(SINGLE)).toBe('28P01');
    const stages = await labels(SINGLE_SECRET);
    expect(stages[token]).toEqual(['AWSCURRENT']);
    expect(Object.values(stages).flat().sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
  }, 60_000);

  it('a rotation stopped after setSecret, run again with its token, completes with working current credentials', async () => {
    const before = await stage(SINGLE_SECRET, 'AWSCURRENT');
    const token = await startRotation(SINGLE_SECRET);
    await invoke(SINGLE_SECRET, token, 'createSecret');
    await invoke(SINGLE_SECRET, token, 'setSecret');
    // Stopped here: the database already has the new password, the secret still says the old one.
    expect(await as(before)).toBe('28P01');

    // Secrets Manager retries the rotation from its first step with the same token.
    const results = [];
    for (const step of ROTATION_STEPS) results.push(await invoke(SINGLE_SECRET, token, step));

    expect(results.map((r) => (r as { outcome: string }).outcome)).toEqual(['already-done', 'already-done', 'done', 'done']);
    const current = await stage(SINGLE_SECRET, 'AWSCURRENT');
    expect(current.password).not.toBe(before.password);
    expect(await as(current)).toBe('ok');
    expect((await labels(SINGLE_SECRET))[token]).toEqual(['AWSCURRENT']);
  }, 60_000);

  it('testSecret refuses credentials the database does not accept, and finishSecret moves no label then', async () => {
    const token = await startRotation(SINGLE_SECRET);
    await invoke(SINGLE_SECRET, token, 'createSecret');
    const before = await labels(SINGLE_SECRET);

    await expect(invoke(SINGLE_SECRET, token, 'testSecret')).rejects.toMatchObject({ name: 'DatabaseLoginRefused' });
    await expect(invoke(SINGLE_SECRET, token, 'finishSecret')).rejects.toMatchObject({ name: 'DatabaseLoginRefused' });

    expect(await labels(SINGLE_SECRET)).toEqual(before);
    expect(await as(await stage(SINGLE_SECRET, 'AWSCURRENT'))).toBe('ok');
    // Completed by running it again, as Secrets Manager would.
    for (const step of ROTATION_STEPS) await invoke(SINGLE_SECRET, token, step);
    expect((await labels(SINGLE_SECRET))[token]).toEqual(['AWSCURRENT']);
  }, 60_000);
});

describe('alternating users', () => {
  const READ_ALL = 'SELECT (SELECT count(*) FROM shop.reference) + (SELECT count(*) FROM shop.audit) + (SELECT count(*) FROM shop.orders_by_original)';

  it('the clone holds the grants of the user, the user keeps working until finishSecret, and each reads what the other created', async () => {
    const token = await startRotation(ALTERNATING_SECRET);
    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const) {
      await invoke(ALTERNATING_SECRET, token, step);
      expect(await as(ALTERNATING)).toBe('ok');
    }
    await invoke(ALTERNATING_SECRET, token, 'finishSecret');

    const clone = await stage(ALTERNATING_SECRET, 'AWSCURRENT');
    expect(clone.username).toBe(`${ALTERNATING.username}_clone`);
    expect(await stage(ALTERNATING_SECRET, 'AWSPREVIOUS')).toMatchObject(ALTERNATING);
    expect(Object.values(await labels(ALTERNATING_SECRET)).flat().sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    // Directly granted, through a group role, and the original's own table.
    expect(await as(clone, READ_ALL)).toBe('ok');
    expect(await as(clone, 'CREATE TABLE shop.orders_by_clone (id int); INSERT INTO shop.orders_by_clone VALUES (1)')).toBe('ok');
    // The previous user (AWSPREVIOUS) still logs in and reads what the clone created.
    expect(await as(ALTERNATING, 'SELECT * FROM shop.orders_by_clone')).toBe('ok');
    expect(await as(ALTERNATING, 'INSERT INTO shop.orders_by_clone VALUES (2)')).toBe('ok');
  }, 60_000);

  it('the next rotation returns to the user with a new password; the old password is refused, the clone keeps its own until the rotation after', async () => {
    const clone = await stage(ALTERNATING_SECRET, 'AWSCURRENT');

    const token = await rotate(ALTERNATING_SECRET);

    const current = await stage(ALTERNATING_SECRET, 'AWSCURRENT');
    expect(current.username).toBe(ALTERNATING.username);
    expect(await as(ALTERNATING)).toBe('28P01');
    expect(await as(current, `${READ_ALL} + (SELECT count(*) FROM shop.orders_by_clone)`)).toBe('ok');
    expect(await as(clone, 'SELECT count(*) FROM shop.orders_by_original')).toBe('ok');
    expect((await labels(ALTERNATING_SECRET))[token]).toEqual(['AWSCURRENT']);

    // And the one after: the clone gets a new password, its old one is refused.
    await rotate(ALTERNATING_SECRET);
    const again = await stage(ALTERNATING_SECRET, 'AWSCURRENT');
    expect(again.username).toBe(clone.username);
    expect(await as(clone)).toBe('28P01');
    expect(await as(again, READ_ALL)).toBe('ok');
  }, 90_000);

  it('a rotation stopped after setSecret (the clone created), run again, completes', async () => {
    const token = await startRotation(ALTERNATING_SECRET);
    await invoke(ALTERNATING_SECRET, token, 'createSecret');
    await invoke(ALTERNATING_SECRET, token, 'setSecret');

    for (const step of ROTATION_STEPS) await invoke(ALTERNATING_SECRET, token, step);

    expect((await labels(ALTERNATING_SECRET))[token]).toEqual(['AWSCURRENT']);
    expect(await as(await stage(ALTERNATING_SECRET, 'AWSCURRENT'), READ_ALL)).toBe('ok');
    expect(await as(await stage(ALTERNATING_SECRET, 'AWSPREVIOUS'), READ_ALL)).toBe('ok');
  }, 60_000);
});

describe('what the function writes', () => {
  it('refuses a token that is no version of the secret, before any change', async () => {
    await expect(invoke(SINGLE_SECRET, '00000000-0000-4000-8000-000000000000', 'createSecret')).rejects.toMatchObject({ name: 'RotationRefused' });
  });

  it('holds no secret value: not in a result, a log line or a thrown error', async () => {
    // Every password every version of the three secrets ever held, and the originals.
    const known = new Set([SINGLE.password, ALTERNATING.password, MASTER.password]);
    for (const secretId of [SINGLE_SECRET, ALTERNATING_SECRET, MASTER_SECRET]) {
      const versions = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
      for (const versionId of Object.keys(versions.VersionIdsToStages ?? {})) {
        const value = await secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId })).catch(() => undefined);
        if (value?.SecretString) known.add((JSON.parse(value.SecretString) as { password: string }).password);
      }
    }
    expect(known.size).toBeGreaterThanOrEqual(8);
    const errors = outputs.filter((o): o is Error => o instanceof Error);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(logLines.some((line) => line.includes('rotation step'))).toBe(true);
    expect(logLines.some((line) => line.includes('step failed'))).toBe(true);

    const written = [
      ...logLines,
      ...outputs.map((o) => (o instanceof Error ? errorText(o) : JSON.stringify(o))),
    ].join('\n');
    const found = [...known].filter((password) => written.includes(password));
    expect(found).toEqual([]);
  });
});

function errorText(error: Error): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as Error;
    parts.push(e.message, String(e.stack), JSON.stringify(e, Object.getOwnPropertyNames(e)));
    current = e.cause;
  }
  return parts.join('\n');
}
