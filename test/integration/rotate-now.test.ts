// Rotating a secret now and waiting for it, end to end in the local environment: the real
// startSecretRotation and checkSecretRotation handlers against moto behind the AWS front, which runs the
// stack's rotation function (rotateDatabaseSecret, in this process) when RotateSecret names it, as
// Secrets Manager does; and a real PostgreSQL. The check loop (as the state machine runs it) sees the
// rotation complete; then the old password is refused and the new one works. A retried start starts
// nothing more; a second start while a rotation is in progress is refused by name; a rotation whose
// function fails is seen as not completed and named at the limit.
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import pg from 'pg';
import { forgetClients } from '../../shared/clients.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { securityIncidentLockTarget } from '../../shared/names.js';
import { rotationToken, type RotationLook, type StartedRotation } from '../../shared/rotate-now.js';
import type { RunContext } from '../../shared/run.js';
import type { StepOutput } from '../../shared/steps.js';
import { startAwsFront, type AwsFront } from '../../local/aws-front.js';
import { serveRotationFunctions } from '../../local/environment.js';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { startPostgres, type LocalPostgres } from '../../local/postgres.js';
import { enableRotation } from '../../local/secret-rotation.js';
import { configWith, useConfig } from '../support/fixtures.js';

const REGION = 'us-east-1';
const SECRET = 'frontier/prod/database';
const API_KEYS_SECRET = 'frontier/prod/api-keys';
const USER = { username: 'app_user', password: 'App-Old-Password-1a' };

let moto: MotoServer;
let front: AwsFront;
let server: LocalPostgres;
let secrets: SecretsManagerClient;
let locks: DynamoDBClient;
const saved = { ...process.env };
type Handler = (event: unknown, context: Context) => Promise<unknown>;
let start: Handler;
let check: Handler;

const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'test', awsRequestId: 'test' } as unknown as Context;

function config(): DeploymentConfig {
  return configWith((c) => {
    const database = c.databases[0]!;
    database.credentialsSecret = SECRET;
    database.tls = 'disable';
    database.rotation = { strategy: 'single-user', scheduleExpression: 'rate(30 days)' } as never;
    c.securityIncident = { apiKeys: { secret: API_KEYS_SECRET }, evidence: { bucket: 'frontier-prod-incident-evidence' }, rotationTimeoutMinutes: 1 } as never;
    c.health.timeoutSeconds = 5;
  });
}

const LOCK_TABLE = 'frontier-dr-test-recovery-locks';

/**
 * The run, holding the incident response's recovery lock (as AcquireRecoveryLock leaves it): the start
 * is a mutating step and checks that its execution owns the response before RotateSecret.
 */
async function ownedRun(executionName: string): Promise<RunContext> {
  const owned = run(executionName);
  await locks.send(
    new PutItemCommand({
      TableName: LOCK_TABLE,
      Item: { target: { S: securityIncidentLockTarget(config().deployment) }, owner: { S: owned.executionId }, status: { S: 'active' } },
    }),
  );
  return owned;
}

const run = (executionName: string): RunContext =>
  ({ scenario: 'security-incident', executionId: `arn:aws:states:${REGION}:123456789012:execution:frontier-dr-test-security-incident:${executionName}`, executionName, dryRun: false }) as unknown as RunContext;

/** The state machine's loop: look, and while not completed, "wait" (here: no real wait) and look again. */
async function waitForRotation(runContext: RunContext, started: StartedRotation, maxLooks = 200): Promise<StepOutput<RotationLook>[]> {
  const looks: StepOutput<RotationLook>[] = [];
  for (let i = 0; i < maxLooks; i++) {
    const look = (await check({ run: runContext, secret: started.secret, rotation: started }, context)) as StepOutput<RotationLook>;
    looks.push(look);
    if (look.data.completed) return looks;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not completed after ${maxLooks} looks`);
}

async function labels(): Promise<Record<string, string[]>> {
  const answer = await secrets.send(new DescribeSecretCommand({ SecretId: SECRET }));
  return Object.fromEntries(Object.entries(answer.VersionIdsToStages ?? {}).filter(([, s]) => s.length > 0).map(([id, s]) => [id, [...s].sort()]));
}

async function current(): Promise<{ username: string; password: string }> {
  const answer = await secrets.send(new GetSecretValueCommand({ SecretId: SECRET, VersionStage: 'AWSCURRENT' }));
  return JSON.parse(answer.SecretString as string) as { username: string; password: string };
}

/** 'ok' when the credentials log in, else the SQLSTATE. */
async function login(credentials: { username: string; password: string }): Promise<string> {
  const client = new pg.Client({ host: server.host, port: server.port, user: credentials.username, password: credentials.password, database: 'frontier' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

beforeAll(async () => {
  [moto, server] = await Promise.all([startMoto(), startPostgres({ user: 'frontier_admin', password: 'Admin-Password-4d', databaseName: 'frontier' })]);
  front = await startAwsFront(moto.endpoint);
  Object.assign(process.env, serveRotationFunctions(front));
  process.env.AWS_ENDPOINT_URL = front.endpoint;
  process.env.AWS_REGION = REGION;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  forgetClients();
  useConfig(config());
  secrets = new SecretsManagerClient({ region: REGION, endpoint: front.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  locks = new DynamoDBClient({ region: REGION, endpoint: front.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await locks.send(
    new CreateTableCommand({ TableName: LOCK_TABLE, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'target', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }] }),
  );
  process.env.RECOVERY_LOCK_TABLE = LOCK_TABLE;
  await server.execute(`CREATE ROLE ${USER.username} LOGIN PASSWORD '${USER.password}';`);
  const { CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
  await secrets.send(
    new CreateSecretCommand({ Name: SECRET, SecretString: JSON.stringify({ ...USER, engine: 'postgres', host: server.host, port: server.port, dbname: 'frontier' }) }),
  );
  // What the stack's RotationSchedule does in AWS: rotation configured, nothing rotated.
  await enableRotation(secrets, SECRET, 30);
  ({ handler: start } = (await import('../../functions/start-secret-rotation/handler.js')) as { handler: Handler });
  ({ handler: check } = (await import('../../functions/check-secret-rotation/handler.js')) as { handler: Handler });
}, 120_000);

afterAll(async () => {
  await front?.rotationsSettled();
  secrets?.destroy();
  locks?.destroy();
  process.env = saved;
  forgetClients();
  await front?.stop();
  await Promise.all([moto?.stop(), server?.stop()]);
}, 60_000);

describe('rotating the database secret now', () => {
  it('configuring rotation locally leaves one current version, no AWSPENDING, and the user working', async () => {
    expect(Object.values(await labels()).flat()).not.toContain('AWSPENDING');
    expect((await secrets.send(new DescribeSecretCommand({ SecretId: SECRET }))).RotationEnabled).toBe(true);
    expect(await login(USER)).toBe('ok');
  });

  it('start + check loop completes a real rotation: the new version is AWSCURRENT, the old password is refused, the new one works', async () => {
    const runContext = await ownedRun('rotate-1');
    const started = (await start({ run: runContext, secret: SECRET }, context)) as StepOutput<StartedRotation>;
    const token = rotationToken(runContext.executionId, SECRET);
    expect(started.data).toMatchObject({ secret: SECRET, versionId: token });
    expect(started.step.actions).toEqual([expect.objectContaining({ operation: 'RotateSecret', performed: true })]);

    const looks = await waitForRotation(runContext, started.data);
    expect(looks.at(-1)!.data).toMatchObject({ completed: true, stages: ['AWSCURRENT'] });
    expect(front.rotations().at(-1)).toMatchObject({ versionId: token, steps: ['createSecret', 'setSecret', 'testSecret', 'finishSecret'], done: true });
    expect(front.rotations().at(-1)!.failed).toBeUndefined();

    const now = await current();
    expect(now.password).not.toBe(USER.password);
    expect(await login(now)).toBe('ok');
    expect(await login(USER)).toBe('28P01');
    const after = await labels();
    expect(after[token]).toEqual(['AWSCURRENT']);
    expect(Object.values(after).flat().sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    // Nothing either step returned holds a password.
    expect(JSON.stringify([started, looks])).not.toContain(now.password);
    expect(JSON.stringify([started, looks])).not.toContain(USER.password);
  }, 60_000);

  it('a retried start of the same execution starts no second rotation', async () => {
    const runContext = await ownedRun('rotate-1');
    const before = front.rotations().length;
    const again = (await start({ run: runContext, secret: SECRET }, context)) as StepOutput<StartedRotation>;
    expect(again.step.detail).toContain('not started again');
    expect(again.step.actions).toEqual([]);
    expect(front.rotations()).toHaveLength(before);
  });

  it('rotates a database the recovery made read-only (ALTER DATABASE ... default_transaction_read_only): a role is not its data', async () => {
    await server.execute('ALTER DATABASE frontier SET default_transaction_read_only = on;');
    try {
      const before = await current();
      const runContext = await ownedRun('rotate-read-only');
      const started = (await start({ run: runContext, secret: SECRET }, context)) as StepOutput<StartedRotation>;
      const looks = await waitForRotation(runContext, started.data);
      expect(looks.at(-1)!.data.completed).toBe(true);
      expect(front.rotations().at(-1)!.failed).toBeUndefined();
      const now = await current();
      expect(await login(now)).toBe('ok');
      expect(await login(before)).toBe('28P01');
    } finally {
      await server.execute('ALTER DATABASE frontier RESET default_transaction_read_only;');
    }
  }, 60_000);

  it('a start while another rotation is in progress is refused by name; a failing rotation is seen not completed, then named at the limit', async () => {
    // The database refuses the rotation function (its user may not log in any more): the rotation stops
    // at setSecret, as it would in AWS with a database it cannot reach, and AWSPENDING stays.
    const before = await current();
    await server.execute(`ALTER ROLE ${USER.username} NOLOGIN;`);
    try {
      const runContext = await ownedRun('rotate-2');
      const started = (await start({ run: runContext, secret: SECRET }, context)) as StepOutput<StartedRotation>;
      await front.rotationsSettled();
      expect(front.rotations().at(-1)).toMatchObject({ versionId: started.data.versionId, steps: ['createSecret'], failed: { step: 'setSecret' } });
      expect(front.rotations().at(-1)!.failed!.error).toMatch(/^DatabaseLoginRefused/);

      const look = (await check({ run: runContext, secret: SECRET, rotation: started.data }, context)) as StepOutput<RotationLook>;
      expect(look.data).toMatchObject({ completed: false, stages: ['AWSPENDING'] });

      await expect(start({ run: await ownedRun('rotate-3'), secret: SECRET }, context)).rejects.toMatchObject({
        name: 'RotationInProgress',
        message: expect.stringContaining(`version ${started.data.versionId} is AWSPENDING`),
      });

      // Past rotationTimeoutMinutes (1 here) the look fails the loop, naming where to look.
      const late = { ...started.data, startedAt: new Date(Date.now() - 61_000).toISOString() };
      await expect(check({ run: runContext, secret: SECRET, rotation: late }, context)).rejects.toMatchObject({
        name: 'RotationNotCompleted',
        message: expect.stringContaining('/aws/lambda/rotateDatabaseSecret'),
      });
      // The current credentials were never touched.
      expect(await current()).toEqual(before);
    } finally {
      await server.execute(`ALTER ROLE ${USER.username} LOGIN;`);
    }
  }, 60_000);

  // The API-key secret's rotation started now, through rotateApiKeys and the real clusters, runs in the
  // security incident's containment: test/integration/no-secret-values.test.ts and the drill.
});
