// validateScratchInstance: the restore test's proof. The query runner is injected so each answer of
// the database can be forced; Secrets Manager is a client mock with its faults.
import { jest } from '@jest/globals';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { QueryResult } from '../../shared/database.js';
import { AwsAccessDenied, AwsTransientError, InvalidConfig, InvalidInput, ResourceNotFound, ValidationFailed } from '../../shared/errors.js';
import type { ScratchRestore } from '../../shared/restore-test.js';
import { validateScratchInstance } from '../../shared/restore-validation.js';
import { exampleConfig, hoursAgo, minutesAgo, NOW } from '../support/fixtures.js';

const secrets = new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 });
const secretsMock = mockClient(secrets);
const config = exampleConfig();
const database = config.databases[0]!;
const CREDENTIALS = { username: 'frontier_admin', password: 'not-a-real-password' };
const SCRATCH_ID = 'frontier-prod-rt-weekly';
const ENDPOINT = { host: `${SCRATCH_ID}.abcdefghij.us-east-1.rds.amazonaws.com`, port: 5432 };

function restoreStarted(minutesBefore: number, copyAgeHours = 4): ScratchRestore {
  const startedAt = minutesAgo(minutesBefore);
  return {
    database: database.name,
    instanceId: SCRATCH_ID,
    region: 'us-east-1',
    snapshot: {
      id: 'frontier-prod-20261125-0800',
      arn: 'arn:aws:rds:us-east-1:123456789012:snapshot:frontier-prod-20261125-0800',
      type: 'manual',
      createdAt: hoursAgo(copyAgeHours, startedAt).toISOString(),
      encrypted: true,
      region: 'us-east-1',
      sourceInstance: database.name,
    },
    restoreStartedAt: startedAt.toISOString(),
    started: true,
  };
}

const answered = (result: Partial<QueryResult> = {}) => jest.fn(async () => ({ rows: 1, firstValue: '1', elapsedMs: 12, ...result }));

beforeEach(() => {
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand, { SecretId: database.credentialsSecret, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: JSON.stringify(CREDENTIALS) });
});

describe('validateScratchInstance', () => {
  it('runs the validation query on the scratch endpoint and passes a restore within the RTO', async () => {
    const query = answered();

    const result = await validateScratchInstance(config, database, restoreStarted(20), { endpoint: ENDPOINT }, { secrets, query }, () => NOW);

    expect(query).toHaveBeenCalledWith({ ...ENDPOINT, databaseName: database.databaseName, tls: database.tls }, CREDENTIALS, database.restoreTest.validationQuery);
    expect(result.data).toEqual({ rows: 1, firstValue: '1', elapsedMs: 12 });
    expect(result.detail).toBe('validation query answered in 12 ms');
    expect(result.actions).toBeUndefined();
    expect(result.checks).toEqual([
      expect.objectContaining({ name: 'restore-test-query', resource: `${SCRATCH_ID} (us-east-1)`, passed: true, measured: '1 row(s), first value 1, 12 ms' }),
      expect.objectContaining({
        name: 'restore-test-duration',
        passed: true,
        measured: '20.0 min',
        target: '<= 30 min (RTO)',
        metric: { name: 'RestoreTestDuration', unit: 'Seconds', value: 1200 },
      }),
    ]);
    expect(result.objectives).toEqual([
      expect.objectContaining({ component: 'Database', rtoMinutes: 30, rpoMinutes: 15, measuredRtoMinutes: 20, measuredRpoMinutes: 240 }),
    ]);
  });

  it('fails the duration check, with advice, when the restore took longer than the RTO', async () => {
    const result = await validateScratchInstance(config, database, restoreStarted(45), { endpoint: ENDPOINT }, { secrets, query: answered({ firstValue: null }) }, () => NOW);

    const duration = result.checks!.find((c) => c.name === 'restore-test-duration')!;
    expect(duration).toMatchObject({ passed: false, measured: '45.0 min' });
    expect(duration.message).toContain('over the 30-minute RTO');
    expect(result.checks![0]!.measured).toBe('1 row(s), first value null, 12 ms');
  });

  it('refuses an instance without an endpoint with InvalidInput, reading and connecting nothing', async () => {
    const query = answered();

    const failure = validateScratchInstance(config, database, restoreStarted(20), { endpoint: null }, { secrets, query }, () => NOW);

    await expect(failure).rejects.toThrow(InvalidInput);
    await expect(failure).rejects.toThrow(`status.endpoint: scratch instance ${SCRATCH_ID} has no endpoint yet`);
    expect(secretsMock.calls()).toHaveLength(0);
    expect(query).not.toHaveBeenCalled();
  });

  it('lets the database refusal through as ValidationFailed', async () => {
    const query = jest.fn(async (): Promise<QueryResult> => {
      throw new ValidationFailed('validation query on scratch returned no rows; expected at least one');
    });

    await expect(validateScratchInstance(config, database, restoreStarted(20), { endpoint: ENDPOINT }, { secrets, query }, () => NOW)).rejects.toThrow(ValidationFailed);
  });

  it('refuses a credentials secret without a username and password, connecting nowhere', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ user: 'x' }) });
    const query = answered();

    await expect(validateScratchInstance(config, database, restoreStarted(20), { endpoint: ENDPOINT }, { secrets, query }, () => NOW)).rejects.toThrow(InvalidConfig);
    expect(query).not.toHaveBeenCalled();
  });

  it.each([
    ['throttling', () => new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }), AwsTransientError],
    ['a 5xx', () => new SecretsManagerServiceException({ name: 'InternalServiceError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'internal error' }), AwsTransientError],
    ['a timeout', () => Object.assign(new Error('connect ETIMEDOUT 52.94.1.1:443'), { name: 'TimeoutError', code: 'ETIMEDOUT' }), AwsTransientError],
    ['AccessDenied', () => new SecretsManagerServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'denied' }), AwsAccessDenied],
    ['not-found', () => new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: "Secrets Manager can't find the specified secret." }), ResourceNotFound],
  ] as const)('turns %s on GetSecretValue into a named error and connects nowhere', async (_label, fault, expected) => {
    secretsMock.on(GetSecretValueCommand).rejects(fault());
    const query = answered();

    const failure = validateScratchInstance(config, database, restoreStarted(20), { endpoint: ENDPOINT }, { secrets, query }, () => NOW);

    await expect(failure).rejects.toThrow(expected);
    await expect(failure).rejects.toThrow(`secretsmanager:GetSecretValue on ${database.credentialsSecret}`);
    expect(query).not.toHaveBeenCalled();
  });
});
