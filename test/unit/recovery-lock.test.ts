import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessDenied, AwsTransientError, RecoveryError } from '../../shared/errors.js';
import {
  acquireRecoveryLock,
  claimDatabaseRecovery,
  isExecutionRunning,
  releaseDatabaseRecovery,
  releaseRecoveryLock,
  rememberReplicas,
  type AcquireRequest,
} from '../../shared/recovery-lock.js';
import { NOW } from '../support/fixtures.js';

const ddb = new DynamoDBClient({ region: 'us-east-1', maxAttempts: 1 });
const ddbMock = mockClient(ddb);
const TABLE = 'recovery-locks';
const TARGET = 'frontier-prod';
const ME = 'arn:aws:states:us-east-1:123456789012:execution:database-recovery:alarm-2';
const HOLDER = 'arn:aws:states:us-east-1:123456789012:execution:database-recovery:alarm-1';
const WINNER = 'arn:aws:states:us-east-1:123456789012:execution:database-recovery:manual-1';
const HOLDER_SINCE = '2026-11-25T11:58:00.000Z';

function request(overrides: Partial<AcquireRequest> = {}): AcquireRequest {
  return {
    target: TARGET,
    owner: ME,
    incidentId: '202611251159',
    incidentAt: '2026-11-25T11:59:30.000Z',
    incidentGiven: false,
    now: NOW,
    isRunning: jest.fn(async () => true),
    ...overrides,
  };
}

/** The lock item as DynamoDB stores it. */
function lockItem(owner: string, options: { incidentId?: string; acquiredAt?: string; previousReplicas?: number } = {}) {
  return {
    target: { S: TARGET },
    owner: { S: owner },
    incidentId: { S: options.incidentId ?? '202611251157' },
    incidentAt: { S: '2026-11-25T11:57:10.000Z' },
    acquiredAt: { S: options.acquiredAt ?? HOLDER_SINCE },
    ...(options.previousReplicas !== undefined ? { previousReplicas: { N: String(options.previousReplicas) } } : {}),
  };
}

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
const faults = [
  ['throttling', () => new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: { httpStatusCode: 400 } }), AwsTransientError],
  [
    'a ThrottlingException',
    () => new DynamoDBServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }),
    AwsTransientError,
  ],
  ['a 5xx', () => new InternalServerError({ message: 'Internal server error', $metadata: { httpStatusCode: 500 } }), AwsTransientError],
  [
    'AccessDenied',
    () =>
      new DynamoDBServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'User is not authorized to perform: dynamodb:PutItem',
      }),
    AwsAccessDenied,
  ],
] as const;

beforeEach(() => {
  ddbMock.reset();
});

describe('acquireRecoveryLock', () => {
  it('takes a free lock with one conditional write, remembering the incident', async () => {
    ddbMock.on(PutItemCommand).resolves({});
    const isRunning = jest.fn(async () => true);

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ isRunning }));

    expect(outcome).toEqual({
      acquired: true,
      resumed: false,
      takenOverFrom: null,
      supersededIncident: null,
      lock: {
        target: TARGET,
        owner: ME,
        incidentId: '202611251159',
        incidentAt: '2026-11-25T11:59:30.000Z',
        acquiredAt: NOW.toISOString(),
        previousReplicas: null,
      },
    });
    expect(ddbMock).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: TABLE,
      Item: {
        target: { S: TARGET },
        owner: { S: ME },
        incidentId: { S: '202611251159' },
        incidentAt: { S: '2026-11-25T11:59:30.000Z' },
        acquiredAt: { S: NOW.toISOString() },
      },
      ConditionExpression: 'attribute_not_exists(#target)',
      ExpressionAttributeNames: { '#target': 'target' },
    });
    expect(ddbMock).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(ddbMock).not.toHaveReceivedCommand(GetItemCommand);
    expect(isRunning).not.toHaveBeenCalled();
  });

  it('lets the owning execution re-acquire (a retried or redriven step) and resume with what it remembered', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(ME, { previousReplicas: 3 }) });
    const isRunning = jest.fn(async () => true);

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ isRunning }));

    expect(outcome).toMatchObject({ acquired: true, resumed: true, takenOverFrom: null, lock: { owner: ME, previousReplicas: 3, acquiredAt: HOLDER_SINCE } });
    expect(ddbMock).toHaveReceivedCommandWith(GetItemCommand, { TableName: TABLE, Key: { target: { S: TARGET } }, ConsistentRead: true });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(isRunning).not.toHaveBeenCalled();
  });

  it('refuses a second recovery while the holder still runs, naming the holder', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER) });
    const isRunning = jest.fn(async () => true);

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ isRunning }));

    expect(outcome).toEqual({ acquired: false, heldBy: HOLDER, since: HOLDER_SINCE, incidentId: '202611251157' });
    expect(isRunning).toHaveBeenCalledWith(HOLDER);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(ddbMock).not.toHaveReceivedCommand(DeleteItemCommand);
  });

  it('takes over from a holder that is no longer running, keeping its incident and remembered replicas', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { previousReplicas: 4 }) });
    ddbMock.on(UpdateItemCommand).resolves({});
    const isRunning = jest.fn(async () => false);

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ isRunning }));

    expect(outcome).toEqual({
      acquired: true,
      resumed: true,
      takenOverFrom: HOLDER,
      supersededIncident: null,
      lock: {
        target: TARGET,
        owner: ME,
        incidentId: '202611251157',
        incidentAt: '2026-11-25T11:57:10.000Z',
        acquiredAt: NOW.toISOString(),
        previousReplicas: 4,
      },
    });
    // Conditional on the holder it read, so two re-runs cannot both take over.
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: TABLE,
      Key: { target: { S: TARGET } },
      UpdateExpression: 'SET #owner = :me, acquiredAt = :now, incidentId = :incident, incidentAt = :incidentAt',
      ConditionExpression: '#owner = :holder',
      ExpressionAttributeNames: { '#owner': 'owner' },
      // A plain re-run (no incident time given) keeps the holder's incident.
      ExpressionAttributeValues: {
        ':me': { S: ME },
        ':now': { S: NOW.toISOString() },
        ':holder': { S: HOLDER },
        ':incident': { S: '202611251157' },
        ':incidentAt': { S: '2026-11-25T11:57:10.000Z' },
      },
    });
  });

  it('loses a takeover race gracefully, naming the execution that won it', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock
      .on(GetItemCommand)
      .resolvesOnce({ Item: lockItem(HOLDER) })
      .resolvesOnce({ Item: lockItem(WINNER, { acquiredAt: '2026-11-25T11:59:59.000Z' }) });
    ddbMock.on(UpdateItemCommand).rejects(conditionFailed());

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ isRunning: async () => false }));

    expect(outcome).toEqual({ acquired: false, heldBy: WINNER, since: '2026-11-25T11:59:59.000Z', incidentId: '202611251157' });
    expect(ddbMock).toHaveReceivedCommandTimes(GetItemCommand, 2);
  });

  it('takes the lock when the holder released it between the write and the read', async () => {
    ddbMock.on(PutItemCommand).rejectsOnce(conditionFailed()).resolves({});
    ddbMock.on(GetItemCommand).resolves({});

    const outcome = await acquireRecoveryLock(ddb, TABLE, request());

    expect(outcome).toMatchObject({ acquired: true, resumed: false, takenOverFrom: null, lock: { owner: ME } });
    expect(ddbMock).toHaveReceivedCommandTimes(PutItemCommand, 2);
  });

  describe.each(faults)('when DynamoDB answers %s', (_fault, fault, expected) => {
    it('fails the first write with a named error', async () => {
      ddbMock.on(PutItemCommand).rejects(fault());

      const error = await acquireRecoveryLock(ddb, TABLE, request()).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(expected);
      expect((error as Error).message).toContain(`dynamodb:PutItem on ${TABLE} ${TARGET}`);
    });

    it('fails the read of the holder with a named error', async () => {
      ddbMock.on(PutItemCommand).rejects(conditionFailed());
      ddbMock.on(GetItemCommand).rejects(fault());

      const error = await acquireRecoveryLock(ddb, TABLE, request()).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(expected);
      expect((error as Error).message).toContain(`dynamodb:GetItem on ${TABLE} ${TARGET}`);
    });

    it('fails the takeover with a named error', async () => {
      ddbMock.on(PutItemCommand).rejects(conditionFailed());
      ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER) });
      ddbMock.on(UpdateItemCommand).rejects(fault());

      const error = await acquireRecoveryLock(ddb, TABLE, request({ isRunning: async () => false })).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(expected);
      expect((error as Error).message).toContain(`dynamodb:UpdateItem on ${TABLE} ${TARGET}`);
    });
  });
});

describe('acquireRecoveryLock after an unfinished recovery of another incident', () => {
  it('supersedes it when this start names its own incident, keeping the remembered replicas', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { incidentId: '202611180900', previousReplicas: 4 }) });
    ddbMock.on(UpdateItemCommand).resolves({});

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ isRunning: jest.fn(async () => false), incidentGiven: true }));

    expect(outcome).toMatchObject({ acquired: true, resumed: false, takenOverFrom: HOLDER, supersededIncident: '202611180900' });
    expect(outcome.acquired && outcome.lock).toMatchObject({ incidentId: '202611251159', incidentAt: '2026-11-25T11:59:30.000Z', previousReplicas: 4 });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeValues: expect.objectContaining({ ':incident': { S: '202611251159' } }) });
  });

  it('resumes it when this start names no incident time (a plain re-run)', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { incidentId: '202611180900', previousReplicas: 4 }) });
    ddbMock.on(UpdateItemCommand).resolves({});

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ isRunning: jest.fn(async () => false), incidentGiven: false }));

    expect(outcome).toMatchObject({ acquired: true, resumed: true, supersededIncident: null });
    expect(outcome.acquired && outcome.lock.incidentId).toBe('202611180900');
  });
});

describe('rememberReplicas', () => {
  it('stores the count only if none is stored yet, and only while this execution owns the lock', async () => {
    ddbMock.on(UpdateItemCommand).resolves({ Attributes: lockItem(ME) });

    const stored = await rememberReplicas(ddb, TABLE, TARGET, ME, 4);

    expect(stored).toEqual({ replicas: 4, fromEarlierAttempt: false });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: TABLE,
      Key: { target: { S: TARGET } },
      UpdateExpression: 'SET previousReplicas = if_not_exists(previousReplicas, :replicas)',
      ConditionExpression: '#owner = :me',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':replicas': { N: '4' }, ':me': { S: ME } },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('returns the first remembered count to a resumed recovery that finds the API already at 0', async () => {
    ddbMock.on(UpdateItemCommand).resolves({ Attributes: { ...lockItem(ME), previousReplicas: { N: '3' } } });

    const stored = await rememberReplicas(ddb, TABLE, TARGET, ME, 0);

    expect(stored).toEqual({ replicas: 3, fromEarlierAttempt: true });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeValues: { ':replicas': { N: '0' }, ':me': { S: ME } } });
  });

  it('fails with RecoveryLockLost, not retried, once this execution no longer owns the recovery', async () => {
    ddbMock.on(UpdateItemCommand).rejects(conditionFailed());

    const error = await rememberReplicas(ddb, TABLE, TARGET, ME, 4).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RecoveryError);
    expect(error).not.toBeInstanceOf(AwsTransientError);
    expect((error as Error).name).toBe('RecoveryLockLost');
    expect((error as Error).message).toContain(`execution ${ME} no longer owns the recovery of ${TARGET}`);
  });

  it.each(faults)('fails with a named error when DynamoDB answers %s', async (_fault, fault, expected) => {
    ddbMock.on(UpdateItemCommand).rejects(fault());

    const error = await rememberReplicas(ddb, TABLE, TARGET, ME, 4).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(expected);
    expect((error as Error).message).toContain(`dynamodb:UpdateItem on ${TABLE} ${TARGET}`);
  });
});

describe('releaseRecoveryLock', () => {
  it('deletes the lock only on the condition that this execution owns it', async () => {
    ddbMock.on(DeleteItemCommand).resolves({});

    expect(await releaseRecoveryLock(ddb, TABLE, TARGET, ME)).toBe(true);
    expect(ddbMock).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: TABLE,
      Key: { target: { S: TARGET } },
      ConditionExpression: '#owner = :me',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':me': { S: ME } },
    });
  });

  it('leaves a lock another execution owns (or one already gone) and says it released nothing', async () => {
    ddbMock.on(DeleteItemCommand).rejects(conditionFailed());

    expect(await releaseRecoveryLock(ddb, TABLE, TARGET, ME)).toBe(false);
  });

  it.each(faults)('fails with a named error when DynamoDB answers %s', async (_fault, fault, expected) => {
    ddbMock.on(DeleteItemCommand).rejects(fault());

    const error = await releaseRecoveryLock(ddb, TABLE, TARGET, ME).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(expected);
    expect((error as Error).message).toContain(`dynamodb:DeleteItem on ${TABLE} ${TARGET}`);
  });
});


describe('isExecutionRunning', () => {
  const sfn = new SFNClient({ region: 'us-east-1', maxAttempts: 1 });
  const sfnMock = mockClient(sfn);
  beforeEach(() => sfnMock.reset());

  it.each([
    ['RUNNING', true],
    ['FAILED', false],
    ['SUCCEEDED', false],
    ['ABORTED', false],
    ['TIMED_OUT', false],
  ] as const)('is %s -> %s from DescribeExecution', async (status, running) => {
    sfnMock.on(DescribeExecutionCommand, { executionArn: HOLDER }).resolves({ status });

    expect(await isExecutionRunning(sfn, HOLDER)).toBe(running);
  });

  it('calls an execution Step Functions no longer knows not running', async () => {
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: { httpStatusCode: 400 } }));

    expect(await isExecutionRunning(sfn, HOLDER)).toBe(false);
  });

  it.each([
    ['AccessDenied', () => new SFNServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'not authorized: states:DescribeExecution' }), AwsAccessDenied],
    ['throttling', () => new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }), AwsTransientError],
  ] as const)('does not guess "not running" when Step Functions answers %s', async (_fault, fault, expected) => {
    sfnMock.on(DescribeExecutionCommand).rejects(fault());

    const error = await isExecutionRunning(sfn, HOLDER).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(expected);
    expect((error as Error).message).toContain(`states:DescribeExecution on ${HOLDER}`);
  });
});

describe('claimDatabaseRecovery', () => {
  const sfn = new SFNClient({ region: 'us-east-1', maxAttempts: 1 });
  const sfnMock = mockClient(sfn);
  const store = { ddb, table: TABLE };
  const run = { executionId: ME, incidentAt: '2026-11-25T11:59:30.000Z', incidentGiven: false, dryRun: false };
  beforeEach(() => sfnMock.reset());

  it('takes no lock in a dry run, so a dry run never blocks a real recovery', async () => {
    const result = await claimDatabaseRecovery(store, sfn, { ...run, dryRun: true }, 'frontier-prod', NOW);

    expect(result.data).toEqual({ acquired: true, incidentId: '202611251159', incidentAt: run.incidentAt, previousReplicas: null, resumed: false });
    expect(result.detail).toBe('dry run: lock not taken');
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('makes a free lock this execution\'s, keyed by the database', async () => {
    ddbMock.on(PutItemCommand).resolves({});

    const result = await claimDatabaseRecovery(store, sfn, run, 'frontier-prod', NOW);

    expect(result.status).toBeUndefined();
    expect(result.data).toEqual({ acquired: true, incidentId: '202611251159', incidentAt: run.incidentAt, previousReplicas: null, resumed: false });
    expect(result.detail).toBe('recovery of frontier-prod for incident 202611251159 is this execution\'s');
    expect(ddbMock).toHaveReceivedCommandWith(PutItemCommand, { Item: expect.objectContaining({ target: { S: 'database/frontier-prod' }, owner: { S: ME } }) });
  });

  it('is skipped, naming the holder, when a running execution owns the recovery', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER) });
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

    const result = await claimDatabaseRecovery(store, sfn, run, 'frontier-prod', NOW);

    expect(result.status).toBe('skipped');
    expect(result.data).toEqual({ acquired: false, heldBy: HOLDER, incidentId: '202611251157' });
    expect(result.detail).toContain(`execution ${HOLDER} already owns the recovery of frontier-prod (since ${HOLDER_SINCE})`);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  it('resumes the incident of a holder that stopped, keeping its replica count', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { previousReplicas: 3 }) });
    ddbMock.on(UpdateItemCommand).resolves({});
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });

    const result = await claimDatabaseRecovery(store, sfn, run, 'frontier-prod', NOW);

    expect(result.data).toEqual({ acquired: true, incidentId: '202611251157', incidentAt: '2026-11-25T11:57:10.000Z', previousReplicas: 3, resumed: true });
    expect(result.detail).toBe(`resuming the recovery of incident 202611251157 left unfinished by ${HOLDER}`);
  });

  it('supersedes a stopped holder\'s incident when the start names another one', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { previousReplicas: 3 }) });
    ddbMock.on(UpdateItemCommand).resolves({});
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: { httpStatusCode: 400 } }));

    const result = await claimDatabaseRecovery(store, sfn, { ...run, incidentGiven: true }, 'frontier-prod', NOW);

    expect(result.data).toMatchObject({ acquired: true, incidentId: '202611251159', previousReplicas: 3, resumed: false });
    expect(result.detail).toBe(`recovery of incident 202611251159; it supersedes the unfinished recovery of incident 202611251157 by ${HOLDER} (whose replica count is kept)`);
  });

  it('says so when this execution already owned the recovery (a retried step)', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(ME, { previousReplicas: 2 }) });

    const result = await claimDatabaseRecovery(store, sfn, run, 'frontier-prod', NOW);

    expect(result.data).toMatchObject({ acquired: true, previousReplicas: 2, resumed: true });
    expect(result.detail).toBe('this execution already owned the recovery of frontier-prod');
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('fails the step when it cannot tell whether the holder still runs', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER) });
    sfnMock.on(DescribeExecutionCommand).rejects(new SFNServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'denied' }));

    await expect(claimDatabaseRecovery(store, sfn, run, 'frontier-prod', NOW)).rejects.toThrow(AwsAccessDenied);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
  });
});

describe('releaseDatabaseRecovery', () => {
  const store = { ddb, table: TABLE };

  it('releases nothing in a dry run (it took no lock)', async () => {
    const result = await releaseDatabaseRecovery(store, { executionId: ME, dryRun: true }, 'frontier-prod');

    expect(result).toEqual({ data: { released: false }, detail: 'dry run: no lock was taken' });
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('releases the database\'s lock when this execution owns it', async () => {
    ddbMock.on(DeleteItemCommand).resolves({});

    const result = await releaseDatabaseRecovery(store, { executionId: ME, dryRun: false }, 'frontier-prod');

    expect(result).toEqual({ data: { released: true }, detail: 'recovery lock released' });
    expect(ddbMock).toHaveReceivedCommandWith(DeleteItemCommand, { Key: { target: { S: 'database/frontier-prod' } }, ExpressionAttributeValues: { ':me': { S: ME } } });
  });

  it('says this execution no longer held the lock when another owns it', async () => {
    ddbMock.on(DeleteItemCommand).rejects(conditionFailed());

    const result = await releaseDatabaseRecovery(store, { executionId: ME, dryRun: false }, 'frontier-prod');

    expect(result).toEqual({ data: { released: false }, detail: 'this execution no longer held the lock' });
  });
});
