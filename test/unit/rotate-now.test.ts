// Rotating a secret now and waiting for it (shared/rotate-now.ts, functions/start-secret-rotation,
// functions/check-secret-rotation): the start is idempotent per execution and secret, refuses secrets
// the stack does not rotate and rotations already in progress, makes only DescribeSecret in a dry run;
// the check completes on AWSCURRENT, polls while AWSPENDING, and fails named past the limit or when the
// version is gone; every Secrets Manager failure ends in a named error. No step reads a secret value.
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  RotateSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { forgetClients } from '../../shared/clients.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { AwsAccessDenied, AwsTransientError, InvalidInput, ResourceNotFound, RotationInProgress, RotationNotCompleted } from '../../shared/errors.js';
import { ROTATION_EARLIEST_SECONDS, ROTATION_POLL_SECONDS } from '../../shared/polling.js';
import {
  checkSecretRotation,
  DEFAULT_ROTATION_TIMEOUT_MINUTES,
  rotationFunctionFor,
  rotationToken,
  startSecretRotation,
  type RotationFunctions,
  type StartedRotation,
} from '../../shared/rotate-now.js';
import type { RunContext } from '../../shared/run.js';
import { configWith, NOW, useConfig } from '../support/fixtures.js';

const DATABASE_SECRET = 'frontier/prod/database';
const API_KEYS_SECRET = 'frontier/prod/api-keys';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-security-incident:incident-1';
const FUNCTIONS: RotationFunctions = {
  database: 'arn:aws:lambda:us-east-1:123456789012:function:frontier-dr-prod-rotateDatabaseSecret',
  apiKeys: 'arn:aws:lambda:us-east-1:123456789012:function:frontier-dr-prod-rotateApiKeys',
};
const CURRENT = '11111111-1111-4111-8111-111111111111';
const OTHER_PENDING = '33333333-3333-4333-8333-333333333333';

const sm = mockClient(SecretsManagerClient);
const secrets = new SecretsManagerClient({ region: 'us-east-1' });

function config(options: { timeoutMinutes?: number; incident?: boolean } = {}): DeploymentConfig {
  return configWith((c) => {
    const database = c.databases[0]!;
    database.credentialsSecret = DATABASE_SECRET;
    database.rotation = { strategy: 'single-user', scheduleExpression: 'rate(30 days)' } as never;
    if (options.incident !== false) {
      c.securityIncident = {
        apiKeys: { secret: API_KEYS_SECRET },
        evidence: { bucket: 'frontier-prod-incident-evidence' },
        ...(options.timeoutMinutes ? { rotationTimeoutMinutes: options.timeoutMinutes } : {}),
      } as never;
    }
  });
}

const described = (versions: Record<string, string[]>) => ({ ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${DATABASE_SECRET}-AbCdEf`, Name: DATABASE_SECRET, VersionIdsToStages: versions });
const awsError = (name: string, status: number) => new SecretsManagerServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: `${name} happened` });
const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: { httpStatusCode: 400 } });

const FAULTS: [string, () => Error, new (...args: never[]) => Error][] = [
  ['throttling', () => awsError('ThrottlingException', 400), AwsTransientError],
  ['a 5xx', () => awsError('InternalServiceError', 500), AwsTransientError],
  ['a timeout', () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ETIMEDOUT' }), AwsTransientError],
  ['access denied', () => awsError('AccessDeniedException', 400), AwsAccessDenied],
  ['a missing secret', notFound, ResourceNotFound],
];

beforeEach(() => sm.reset());

describe('rotationToken', () => {
  it('names the same version for the same execution and secret, another for another of either', () => {
    const token = rotationToken(EXECUTION, DATABASE_SECRET);
    expect(rotationToken(EXECUTION, DATABASE_SECRET)).toBe(token);
    expect(rotationToken(`${EXECUTION}-2`, DATABASE_SECRET)).not.toBe(token);
    expect(rotationToken(EXECUTION, API_KEYS_SECRET)).not.toBe(token);
  });

  it('is a UUID, within RotateSecret ClientRequestToken limits (32-64 characters)', () => {
    const token = rotationToken(EXECUTION, DATABASE_SECRET);
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(token.length).toBeGreaterThanOrEqual(32);
  });
});

describe('rotationFunctionFor', () => {
  it('gives a database secret the database rotation function and the API-key secret its own', () => {
    expect(rotationFunctionFor(config(), DATABASE_SECRET, FUNCTIONS)).toEqual({ kind: 'database', functionArn: FUNCTIONS.database });
    expect(rotationFunctionFor(config(), API_KEYS_SECRET, FUNCTIONS)).toEqual({ kind: 'api-keys', functionArn: FUNCTIONS.apiKeys });
  });

  it('refuses a secret the stack does not rotate, naming the ones it does', () => {
    expect(() => rotationFunctionFor(config(), 'frontier/prod/other', FUNCTIONS)).toThrow(InvalidInput);
    expect(() => rotationFunctionFor(config(), 'frontier/prod/other', FUNCTIONS)).toThrow(`${DATABASE_SECRET}, ${API_KEYS_SECRET}`);
    // A database secret without `rotation` is not rotated by the stack either.
    const unrotated = configWith((c) => {
      c.databases[0]!.credentialsSecret = DATABASE_SECRET;
      delete c.databases[0]!.rotation;
    });
    expect(() => rotationFunctionFor(unrotated, DATABASE_SECRET, FUNCTIONS)).toThrow(InvalidInput);
  });
});

describe('startSecretRotation', () => {
  it('asks Secrets Manager to rotate with the derived token and the stack function, after one DescribeSecret', async () => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSCURRENT'] }));
    sm.on(RotateSecretCommand).resolves({ VersionId: rotationToken(EXECUTION, DATABASE_SECRET) });
    const result = await startSecretRotation(config(), DATABASE_SECRET, EXECUTION, false, FUNCTIONS, secrets, NOW);
    const token = rotationToken(EXECUTION, DATABASE_SECRET);
    expect(result.data).toEqual({ secret: DATABASE_SECRET, versionId: token, startedAt: NOW.toISOString() });
    expect(sm.commandCalls(RotateSecretCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: DATABASE_SECRET, ClientRequestToken: token, RotationLambdaARN: FUNCTIONS.database }]);
    expect(result.actions).toEqual([expect.objectContaining({ operation: 'RotateSecret', performed: true })]);
    // Never a value: no GetSecretValue at all.
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('rotates the API-key secret with the API-key rotation function', async () => {
    sm.on(DescribeSecretCommand).resolves({ ...described({ [CURRENT]: ['AWSCURRENT'] }), Name: API_KEYS_SECRET });
    sm.on(RotateSecretCommand).resolves({});
    await startSecretRotation(config(), API_KEYS_SECRET, EXECUTION, false, FUNCTIONS, secrets, NOW);
    expect(sm.commandCalls(RotateSecretCommand)[0]!.args[0].input.RotationLambdaARN).toBe(FUNCTIONS.apiKeys);
  });

  it.each([
    ['AWSPENDING (started, not finished)', ['AWSPENDING']],
    ['AWSCURRENT (already completed)', ['AWSCURRENT']],
  ])('does not start again when its version is already %s: a retried step never starts a second rotation', async (_case, stages) => {
    const token = rotationToken(EXECUTION, DATABASE_SECRET);
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: stages.includes('AWSCURRENT') ? ['AWSPREVIOUS'] : ['AWSCURRENT'], [token]: stages }));
    const result = await startSecretRotation(config(), DATABASE_SECRET, EXECUTION, false, FUNCTIONS, secrets, NOW);
    expect(result.data.versionId).toBe(token);
    expect(result.detail).toContain('not started again');
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  it('refuses while another rotation is in progress, naming its version and where to look, and calls nothing else', async () => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSCURRENT'], [OTHER_PENDING]: ['AWSPENDING'] }));
    const start = startSecretRotation(config(), DATABASE_SECRET, EXECUTION, false, FUNCTIONS, secrets, NOW);
    await expect(start).rejects.toThrow(RotationInProgress);
    await expect(startSecretRotation(config(), DATABASE_SECRET, EXECUTION, false, FUNCTIONS, secrets, NOW)).rejects.toThrow(
      new RegExp(`version ${OTHER_PENDING} is AWSPENDING.*Secrets Manager retries it.*/aws/lambda/frontier-dr-prod-rotateDatabaseSecret`),
    );
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  it('starts when AWSPENDING is left on the AWSCURRENT version (a completed rotation, as Secrets Manager sees it)', async () => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSCURRENT', 'AWSPENDING'] }));
    sm.on(RotateSecretCommand).resolves({});
    await startSecretRotation(config(), DATABASE_SECRET, EXECUTION, false, FUNCTIONS, secrets, NOW);
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(1);
  });

  it('in a dry run, only describes the secret and reports the exact call it would make', async () => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSCURRENT'] }));
    const result = await startSecretRotation(config(), DATABASE_SECRET, EXECUTION, true, FUNCTIONS, secrets, NOW);
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
    expect(sm.calls()).toHaveLength(1);
    expect(result.actions).toEqual([
      expect.objectContaining({
        operation: 'RotateSecret',
        performed: false,
        parameters: { SecretId: DATABASE_SECRET, ClientRequestToken: rotationToken(EXECUTION, DATABASE_SECRET), RotationLambdaARN: FUNCTIONS.database },
      }),
    ]);
  });

  it('refuses a secret the stack does not rotate before any call', async () => {
    await expect(startSecretRotation(config(), 'frontier/prod/other', EXECUTION, false, FUNCTIONS, secrets, NOW)).rejects.toThrow(InvalidInput);
    await expect(startSecretRotation(config(), '', EXECUTION, false, FUNCTIONS, secrets, NOW)).rejects.toThrow(InvalidInput);
    expect(sm.calls()).toHaveLength(0);
  });

  it.each(FAULTS)('DescribeSecret failing with %s ends in its named error, RotateSecret not called', async (_case, fault, named) => {
    sm.on(DescribeSecretCommand).rejects(fault());
    await expect(startSecretRotation(config(), DATABASE_SECRET, EXECUTION, false, FUNCTIONS, secrets, NOW)).rejects.toThrow(named);
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  it.each(FAULTS)('RotateSecret failing with %s ends in its named error', async (_case, fault, named) => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSCURRENT'] }));
    sm.on(RotateSecretCommand).rejects(fault());
    await expect(startSecretRotation(config(), DATABASE_SECRET, EXECUTION, false, FUNCTIONS, secrets, NOW)).rejects.toThrow(named);
  });
});

describe('checkSecretRotation', () => {
  const token = rotationToken(EXECUTION, DATABASE_SECRET);
  const started = (secondsAgo: number): StartedRotation => ({ secret: DATABASE_SECRET, versionId: token, startedAt: new Date(NOW.getTime() - secondsAgo * 1000).toISOString() });

  it('sees the rotation completed once its version is AWSCURRENT and no longer AWSPENDING', async () => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] }));
    const look = await checkSecretRotation(config(), started(7), false, FUNCTIONS, secrets, NOW);
    expect(look.data).toMatchObject({ completed: true, versionId: token, stages: ['AWSCURRENT'], waitedSeconds: 7 });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it.each([
    ['AWSPENDING', ['AWSPENDING']],
    ['AWSCURRENT with AWSPENDING still on it (finishSecret not done)', ['AWSCURRENT', 'AWSPENDING']],
  ])('is not completed while the version is %s', async (_case, stages) => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSCURRENT'], [token]: stages }));
    const look = await checkSecretRotation(config(), started(1), false, FUNCTIONS, secrets, NOW);
    expect(look.data.completed).toBe(false);
  });

  it(`waits to ${ROTATION_EARLIEST_SECONDS} s after the start first, then looks every ${ROTATION_POLL_SECONDS} s, never past the limit`, async () => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSCURRENT'], [token]: ['AWSPENDING'] }));
    const wait = async (secondsAgo: number) => (await checkSecretRotation(config(), started(secondsAgo), false, FUNCTIONS, secrets, NOW)).data.nextCheckSeconds;
    expect(await wait(0)).toBe(ROTATION_EARLIEST_SECONDS);
    expect(await wait(2)).toBe(ROTATION_EARLIEST_SECONDS - 2);
    expect(await wait(30)).toBe(ROTATION_POLL_SECONDS);
    expect(await wait(DEFAULT_ROTATION_TIMEOUT_MINUTES * 60 - 2)).toBe(2);
  });

  it('fails RotationNotCompleted past rotationTimeoutMinutes, naming the secret, the version and the log group', async () => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSCURRENT'], [token]: ['AWSPENDING'] }));
    await expect(checkSecretRotation(config({ timeoutMinutes: 3 }), started(3 * 60 - 1), false, FUNCTIONS, secrets, NOW)).resolves.toBeDefined();
    const late = checkSecretRotation(config({ timeoutMinutes: 3 }), started(3 * 60 + 1), false, FUNCTIONS, secrets, NOW);
    await expect(late).rejects.toThrow(RotationNotCompleted);
    await expect(checkSecretRotation(config({ timeoutMinutes: 3 }), started(3 * 60 + 1), false, FUNCTIONS, secrets, NOW)).rejects.toThrow(
      new RegExp(`${DATABASE_SECRET} version ${token} is still AWSPENDING.*limit 3 min.*/aws/lambda/frontier-dr-prod-rotateDatabaseSecret`),
    );
  });

  it('uses 10 minutes as the limit by default, and without a securityIncident section', async () => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSCURRENT'], [token]: ['AWSPENDING'] }));
    expect(config().securityIncident?.rotationTimeoutMinutes).toBe(DEFAULT_ROTATION_TIMEOUT_MINUTES);
    await expect(checkSecretRotation(config({ incident: false }), started(10 * 60 - 5), false, FUNCTIONS, secrets, NOW)).resolves.toBeDefined();
    await expect(checkSecretRotation(config({ incident: false }), started(10 * 60 + 5), false, FUNCTIONS, secrets, NOW)).rejects.toThrow(RotationNotCompleted);
  });

  it('fails RotationNotCompleted when the version is gone (abandoned or replaced)', async () => {
    sm.on(DescribeSecretCommand).resolves(described({ [CURRENT]: ['AWSCURRENT'] }));
    await expect(checkSecretRotation(config(), started(10), false, FUNCTIONS, secrets, NOW)).rejects.toThrow(new RegExp(`no longer has version ${token}`));
  });

  it('in a dry run, reports completed without a call (nothing was started)', async () => {
    const look = await checkSecretRotation(config(), started(0), true, FUNCTIONS, secrets, NOW);
    expect(look.data.completed).toBe(true);
    expect(sm.calls()).toHaveLength(0);
  });

  it.each(FAULTS)('DescribeSecret failing with %s ends in its named error', async (_case, fault, named) => {
    sm.on(DescribeSecretCommand).rejects(fault());
    await expect(checkSecretRotation(config(), started(10), false, FUNCTIONS, secrets, NOW)).rejects.toThrow(named);
  });
});

describe('the handlers', () => {
  const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'test' } as unknown as Context;
  const run = (dryRun: boolean) => ({ scenario: 'security-incident', executionId: EXECUTION, dryRun }) as unknown as RunContext;
  const saved = { ...process.env };

  // The start is a mutating step: it checks that this execution owns the incident's recovery lock first.
  const locks = mockClient(DynamoDBClient);

  beforeAll(() => {
    useConfig(config());
    process.env.RECOVERY_LOCK_TABLE = 'frontier-dr-test-recovery-lock';
    locks.on(GetItemCommand).resolves({ Item: { target: { S: 'security-incident/frontier-prod' }, owner: { S: EXECUTION }, status: { S: 'active' } } });
    process.env.DATABASE_ROTATION_FUNCTION_ARN = FUNCTIONS.database;
    process.env.API_KEY_ROTATION_FUNCTION_ARN = FUNCTIONS.apiKeys;
    process.env.AWS_REGION = 'us-east-1';
    forgetClients();
  });
  afterAll(() => {
    process.env = saved;
    locks.restore();
    forgetClients();
  });

  it('start then check: the check gets the start data and sees it complete; both in the step envelope', async () => {
    const { handler: start } = await import('../../functions/start-secret-rotation/handler.js');
    const { handler: check } = await import('../../functions/check-secret-rotation/handler.js');
    const token = rotationToken(EXECUTION, DATABASE_SECRET);
    sm.on(DescribeSecretCommand).resolvesOnce(described({ [CURRENT]: ['AWSCURRENT'] })).resolves(described({ [CURRENT]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] }));
    sm.on(RotateSecretCommand).resolves({});
    const started = (await start({ run: run(false), secret: DATABASE_SECRET }, context)) as { data: StartedRotation; step: { status: string } };
    expect(started.step.status).toBe('succeeded');
    expect(started.data).toMatchObject({ secret: DATABASE_SECRET, versionId: token });
    const look = (await check({ run: run(false), secret: DATABASE_SECRET, rotation: started.data }, context)) as { data: { completed: boolean } };
    expect(look.data.completed).toBe(true);
  });

  it('a missing rotation function variable is a packaging mistake (InvalidConfig), before any call', async () => {
    const { handler: start } = await import('../../functions/start-secret-rotation/handler.js');
    delete process.env.API_KEY_ROTATION_FUNCTION_ARN;
    try {
      await expect(start({ run: run(false), secret: DATABASE_SECRET }, context)).rejects.toThrow(/API_KEY_ROTATION_FUNCTION_ARN/);
      expect(sm.calls()).toHaveLength(0);
    } finally {
      process.env.API_KEY_ROTATION_FUNCTION_ARN = FUNCTIONS.apiKeys;
    }
  });
});
