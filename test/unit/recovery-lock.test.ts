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
  claimRecovery,
  completeRecovery,
  completeRecoveryStep,
  isExecutionRunning,
  lockClaimFor,
  releaseUnchangedStep,
  rememberReplicas,
  verifyRecoveryOwnership,
  type AcquireRequest,
} from '../../shared/recovery-lock.js';
import { exampleConfig, NOW } from '../support/fixtures.js';

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
    incidentNamedByOperator: false,
    startedByAlarm: false,
    quietPeriodMinutes: 60,
    now: NOW,
    isRunning: jest.fn(async () => true),
    ...overrides,
  };
}

/** The lock item as DynamoDB stores it. */
function lockItem(owner: string, options: { incidentId?: string; acquiredAt?: string; previousReplicas?: number; completedAt?: string; servingInstance?: string } = {}) {
  return {
    target: { S: TARGET },
    owner: { S: owner },
    ...(options.completedAt
      ? {
          status: { S: 'completed' },
          completedAt: { S: options.completedAt },
          completedBy: { S: owner },
          completedIncidentId: { S: options.incidentId ?? '202611251157' },
          ...(options.servingInstance ? { servingInstance: { S: options.servingInstance } } : {}),
        }
      : {}),
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
      fresh: true,
      resumed: false,
      takenOverFrom: null,
      supersededIncident: null,
      lock: {
        target: TARGET,
        owner: ME,
        status: 'active',
        completion: null,
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
        status: { S: 'active' },
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
      fresh: false,
      resumed: true,
      takenOverFrom: HOLDER,
      supersededIncident: null,
      lock: {
        target: TARGET,
        owner: ME,
        status: 'active',
        completion: null,
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
      UpdateExpression: 'SET #owner = :me, acquiredAt = :now, incidentId = :incident, incidentAt = :incidentAt, #status = :active',
      ConditionExpression: '#owner = :holder AND (attribute_not_exists(#status) OR #status = :active)',
      ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
      // A plain re-run (no incident time given) keeps the holder's incident.
      ExpressionAttributeValues: {
        ':me': { S: ME },
        ':now': { S: NOW.toISOString() },
        ':holder': { S: HOLDER },
        ':incident': { S: '202611251157' },
        ':incidentAt': { S: '2026-11-25T11:57:10.000Z' },
        ':active': { S: 'active' },
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

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ isRunning: jest.fn(async () => false), incidentNamedByOperator: true }));

    expect(outcome).toMatchObject({ acquired: true, resumed: false, takenOverFrom: HOLDER, supersededIncident: '202611180900' });
    expect(outcome.acquired && outcome.lock).toMatchObject({ incidentId: '202611251159', incidentAt: '2026-11-25T11:59:30.000Z', previousReplicas: 4 });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeValues: expect.objectContaining({ ':incident': { S: '202611251159' } }) });
  });

  it('resumes it when this start names no incident time (a plain re-run)', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { incidentId: '202611180900', previousReplicas: 4 }) });
    ddbMock.on(UpdateItemCommand).resolves({});

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ isRunning: jest.fn(async () => false), incidentNamedByOperator: false }));

    expect(outcome).toMatchObject({ acquired: true, resumed: true, supersededIncident: null });
    expect(outcome.acquired && outcome.lock.incidentId).toBe('202611180900');
  });

  it('resumes it when a later alarm names a later time: the earliest incident time stands', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { incidentId: '202611251157', previousReplicas: 4 }) });
    ddbMock.on(UpdateItemCommand).resolves({});

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ isRunning: jest.fn(async () => false), startedByAlarm: true, incidentId: '202611251230', incidentAt: '2026-11-25T12:30:00.000Z' }));

    expect(outcome).toMatchObject({ acquired: true, fresh: false, resumed: true, supersededIncident: null, lock: { incidentId: '202611251157', incidentAt: '2026-11-25T11:57:10.000Z', previousReplicas: 4 } });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeValues: expect.objectContaining({ ':incidentAt': { S: '2026-11-25T11:57:10.000Z' } }) });
  });
});

describe('acquireRecoveryLock after a completed recovery', () => {
  const completedAt = new Date(NOW.getTime() - 10 * 60_000).toISOString();

  it('starts nothing for an alarm within the quiet period, saying when and to what it recovered', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { completedAt, servingInstance: 'frontier-prod-r-202611251157' }) });

    const outcome = await acquireRecoveryLock(ddb, TABLE, request({ startedByAlarm: true }));

    expect(outcome).toMatchObject({ acquired: false, completed: { completedAt, servingInstance: 'frontier-prod-r-202611251157', incidentId: '202611251157' } });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  it.each([
    ['an alarm after the quiet period', { startedByAlarm: true, quietPeriodMinutes: 5 }],
    ["an operator's start within it", { startedByAlarm: false }],
  ])('starts a fresh recovery for %s, carrying what now serves', async (_case, overrides) => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { completedAt, servingInstance: 'frontier-prod-r-202611251157', previousReplicas: 3 }) });
    ddbMock.on(UpdateItemCommand).resolves({});

    const outcome = await acquireRecoveryLock(ddb, TABLE, request(overrides));

    expect(outcome).toMatchObject({ acquired: true, fresh: true, resumed: false, lock: { owner: ME, status: 'active', incidentId: '202611251159', previousReplicas: null, completion: { servingInstance: 'frontier-prod-r-202611251157' } } });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, { ConditionExpression: '#owner = :holder AND #status = :completed' });
  });
});

describe('verifyRecoveryOwnership', () => {
  it('passes for the owner of the active recovery, with a consistent read', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(ME) });

    await expect(verifyRecoveryOwnership(ddb, TABLE, TARGET, ME, 'StopApiWrites')).resolves.toMatchObject({ owner: ME });
    expect(ddbMock).toHaveReceivedCommandWith(GetItemCommand, { ConsistentRead: true, Key: { target: { S: TARGET } } });
  });

  it.each([
    ['another execution owns it', () => lockItem(HOLDER), `owns the recovery of ${TARGET}`],
    ['the recovery completed', () => lockItem(ME, { completedAt: '2026-11-25T11:00:00.000Z' }), 'already completed'],
    ['no lock is held', () => undefined, 'the lock was released'],
  ])('fails with RecoveryLockLost, changing nothing, when %s', async (_case, item, reason) => {
    ddbMock.on(GetItemCommand).resolves({ Item: item() });

    const error = await verifyRecoveryOwnership(ddb, TABLE, TARGET, ME, 'RepointApplication').catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'RecoveryLockLost', message: expect.stringContaining(reason) });
    expect((error as Error).message).toContain('Nothing was changed by this step');
  });

  it.each(faults)('fails with a named error when DynamoDB answers %s', async (_fault, fault, expected) => {
    ddbMock.on(GetItemCommand).rejects(fault());

    await expect(verifyRecoveryOwnership(ddb, TABLE, TARGET, ME, 'StopApiWrites')).rejects.toBeInstanceOf(expected);
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
      ConditionExpression: '#owner = :me AND (attribute_not_exists(#status) OR #status = :active)',
      ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
      ExpressionAttributeValues: { ':replicas': { N: '4' }, ':me': { S: ME }, ':active': { S: 'active' } },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('returns the first remembered count to a resumed recovery that finds the API already at 0', async () => {
    ddbMock.on(UpdateItemCommand).resolves({ Attributes: { ...lockItem(ME), previousReplicas: { N: '3' } } });

    const stored = await rememberReplicas(ddb, TABLE, TARGET, ME, 0);

    expect(stored).toEqual({ replicas: 3, fromEarlierAttempt: true });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeValues: { ':replicas': { N: '0' }, ':me': { S: ME }, ':active': { S: 'active' } } });
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

describe('completeRecovery', () => {
  it('turns the owner\'s lock into the record of a completed recovery, naming what serves now', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(ME) });
    ddbMock.on(UpdateItemCommand).resolves({});

    expect(await completeRecovery(ddb, TABLE, TARGET, ME, 'frontier-prod-r-202611251157', NOW)).toEqual({ outcome: 'released' });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      ConditionExpression: '#owner = :me AND (attribute_not_exists(#status) OR #status = :active)',
      ExpressionAttributeValues: expect.objectContaining({ ':serving': { S: 'frontier-prod-r-202611251157' }, ':now': { S: NOW.toISOString() }, ':me': { S: ME } }),
    });
    expect(ddbMock).not.toHaveReceivedCommand(DeleteItemCommand);
  });

  it('reports a lock another execution owns, and changes nothing', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER) });

    expect(await completeRecovery(ddb, TABLE, TARGET, ME, null, NOW)).toEqual({ outcome: 'not-ours', owner: HOLDER, status: 'active' });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  it('reports a takeover between the read and the write', async () => {
    ddbMock.on(GetItemCommand).resolvesOnce({ Item: lockItem(ME) }).resolves({ Item: lockItem(HOLDER) });
    ddbMock.on(UpdateItemCommand).rejects(conditionFailed());

    expect(await completeRecovery(ddb, TABLE, TARGET, ME, null, NOW)).toEqual({ outcome: 'not-ours', owner: HOLDER, status: 'active' });
  });

  it.each(faults)('fails with a named error when DynamoDB answers %s', async (_fault, fault, expected) => {
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(ME) });
    ddbMock.on(UpdateItemCommand).rejects(fault());

    const error = await completeRecovery(ddb, TABLE, TARGET, ME, null, NOW).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(expected);
    expect((error as Error).message).toContain(`dynamodb:UpdateItem on ${TABLE} ${TARGET}`);
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

describe('claimRecovery', () => {
  const sfn = new SFNClient({ region: 'us-east-1', maxAttempts: 1 });
  const sfnMock = mockClient(sfn);
  const store = { ddb, table: TABLE };
  const run = { executionId: ME, incidentAt: '2026-11-25T11:59:30.000Z', incidentNamedByOperator: false, dryRun: false, trigger: 'manual' };
  const claim = { target: 'database/frontier-prod', label: 'frontier-prod', quietPeriodMinutes: 60 };
  beforeEach(() => sfnMock.reset());

  it('takes no lock in a dry run, so a dry run never blocks a real recovery', async () => {
    const result = await claimRecovery(store, sfn, { ...run, dryRun: true }, claim, NOW);

    expect(result.data).toEqual({ acquired: true, incidentId: '202611251159', incidentAt: run.incidentAt, previousReplicas: null, resumed: false, fresh: true, run: { ...run, dryRun: true } });
    expect(result.detail).toBe('dry run: lock not taken');
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('makes a free lock this execution\'s, keyed by the database', async () => {
    ddbMock.on(PutItemCommand).resolves({});

    const result = await claimRecovery(store, sfn, run, claim, NOW);

    expect(result.status).toBeUndefined();
    expect(result.data).toEqual({ acquired: true, incidentId: '202611251159', incidentAt: run.incidentAt, previousReplicas: null, resumed: false, fresh: true, run });
    expect(result.detail).toBe('recovery of frontier-prod for incident 202611251159 is this execution\'s');
    expect(ddbMock).toHaveReceivedCommandWith(PutItemCommand, { Item: expect.objectContaining({ target: { S: 'database/frontier-prod' }, owner: { S: ME } }) });
  });

  it('is skipped, naming the holder, when a running execution owns the recovery', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER) });
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

    const result = await claimRecovery(store, sfn, run, claim, NOW);

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

    const result = await claimRecovery(store, sfn, run, claim, NOW);

    // The run every later state reads carries the held incident's time, not this start's.
    expect(result.data).toEqual({
      acquired: true,
      incidentId: '202611251157',
      incidentAt: '2026-11-25T11:57:10.000Z',
      previousReplicas: 3,
      resumed: true,
      fresh: false,
      run: { ...run, incidentAt: '2026-11-25T11:57:10.000Z' },
    });
    expect(result.detail).toBe(`resuming the recovery of incident 202611251157 (from 2026-11-25T11:57:10.000Z) left unfinished by ${HOLDER}`);
  });

  it('supersedes a stopped holder\'s incident when the start names another one', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { previousReplicas: 3 }) });
    ddbMock.on(UpdateItemCommand).resolves({});
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: { httpStatusCode: 400 } }));

    const result = await claimRecovery(store, sfn, { ...run, incidentNamedByOperator: true }, claim, NOW);

    expect(result.data).toMatchObject({ acquired: true, incidentId: '202611251159', previousReplicas: 3, resumed: false });
    expect(result.detail).toBe(`recovery of incident 202611251159; it supersedes the unfinished recovery of incident 202611251157 by ${HOLDER} (whose replica count is kept)`);
  });

  it('says so when this execution already owned the recovery (a retried step)', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(ME, { previousReplicas: 2 }) });

    const result = await claimRecovery(store, sfn, run, claim, NOW);

    expect(result.data).toMatchObject({ acquired: true, previousReplicas: 2, resumed: true });
    expect(result.detail).toBe('this execution already owned the recovery of frontier-prod');
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('fails the step when it cannot tell whether the holder still runs', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER) });
    sfnMock.on(DescribeExecutionCommand).rejects(new SFNServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'denied' }));

    await expect(claimRecovery(store, sfn, run, claim, NOW)).rejects.toThrow(AwsAccessDenied);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
  });
});

describe('claimRecovery after a completed recovery', () => {
  const sfn = new SFNClient({ region: 'us-east-1', maxAttempts: 1 });
  const store = { ddb, table: TABLE };
  const claim = { target: 'database/frontier-prod', label: 'frontier-prod', quietPeriodMinutes: 60 };
  const completedAt = new Date(NOW.getTime() - 5 * 60_000).toISOString();
  const run = {
    executionId: ME,
    incidentAt: '2026-11-25T11:59:30.000Z',
    incidentNamedByOperator: false,
    dryRun: false,
    trigger: 'alarm DatabaseDown',
    recovery: { database: 'frontier-prod', snapshot: null, restoreTime: null, sourceInstance: 'frontier-prod' },
  };

  it('is skipped for an alarm within the quiet period, naming when and to what it recovered', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { completedAt, servingInstance: 'frontier-prod-r-202611251157' }) });

    const result = await claimRecovery(store, sfn, run, claim, NOW);

    expect(result.status).toBe('skipped');
    expect(result.data).toMatchObject({ acquired: false, completed: { completedAt, servingInstance: 'frontier-prod-r-202611251157' } });
    expect(result.detail).toContain(`completed at ${completedAt}; frontier-prod-r-202611251157 serves now`);
    expect(result.detail).toContain('nothing was changed');
  });

  it('is skipped the same way for a Prometheus alert through the Alertmanager webhook within the quiet period', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { completedAt, servingInstance: 'frontier-prod-r-202611251157' }) });

    const result = await claimRecovery(store, sfn, { ...run, trigger: 'alertmanager DatabaseDown' }, claim, NOW);

    expect(result.status).toBe('skipped');
    expect(result.data).toMatchObject({ acquired: false, completed: { completedAt } });
    expect(ddbMock.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  it("acts on what now serves on an operator's start: the run's source instance is the restored one", async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER, { completedAt, servingInstance: 'frontier-prod-r-202611251157' }) });
    ddbMock.on(UpdateItemCommand).resolves({});

    const result = await claimRecovery(store, sfn, { ...run, trigger: 'manual' }, claim, NOW);

    expect(result.data).toMatchObject({ acquired: true, fresh: true, run: { recovery: { sourceInstance: 'frontier-prod-r-202611251157' } } });
    expect(result.detail).toContain('this one acts on frontier-prod-r-202611251157, which serves now');
  });
});

describe('completeRecoveryStep', () => {
  const store = { ddb, table: TABLE };

  it('releases nothing in a dry run (it took no lock)', async () => {
    const result = await completeRecoveryStep(store, { executionId: ME, dryRun: true }, 'database/frontier-prod', 'x', NOW);

    expect(result.detail).toBe('dry run: no lock was taken');
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('records the completed recovery of the database when this execution owns it', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(ME) });
    ddbMock.on(UpdateItemCommand).resolves({});

    const result = await completeRecoveryStep(store, { executionId: ME, dryRun: false }, 'database/frontier-prod', 'frontier-prod-r-1', NOW);

    expect(result.data).toEqual({ released: true, outcome: 'released', servingInstance: 'frontier-prod-r-1' });
    expect(result.detail).toBe('recovery of database/frontier-prod recorded as completed; frontier-prod-r-1 serves now');
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, { Key: { target: { S: 'database/frontier-prod' } } });
  });

  it('does not report success when another execution owns the recovery: RecoveryLockLost naming it', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(HOLDER) });

    await expect(completeRecoveryStep(store, { executionId: ME, dryRun: false }, 'database/frontier-prod', null, NOW)).rejects.toMatchObject({
      name: 'RecoveryLockLost',
      message: expect.stringContaining(`not ours: owned by ${HOLDER}`),
    });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(ddbMock).not.toHaveReceivedCommand(DeleteItemCommand);
  });
});

describe('releaseUnchangedStep', () => {
  const store = { ddb, table: TABLE };

  it('deletes a lock taken fresh, saying nothing was changed', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: lockItem(ME) });
    ddbMock.on(DeleteItemCommand).resolves({});

    const result = await releaseUnchangedStep(store, { executionId: ME, dryRun: false }, 'database/frontier-prod', { fresh: true });

    expect(result.data).toEqual({ released: true, outcome: 'released' });
    expect(result.detail).toContain('nothing was changed');
    expect(ddbMock).toHaveReceivedCommandWith(DeleteItemCommand, { ExpressionAttributeValues: { ':me': { S: ME }, ':active': { S: 'active' } } });
  });

  it('puts back the record of the recovery completed before it, instead of deleting it', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: { ...lockItem(ME), completedAt: { S: '2026-11-25T10:00:00.000Z' }, completedBy: { S: HOLDER }, completedIncidentId: { S: '202611250930' } } });
    ddbMock.on(UpdateItemCommand).resolves({});

    const result = await releaseUnchangedStep(store, { executionId: ME, dryRun: false }, 'database/frontier-prod', { fresh: true });

    expect(result.data.released).toBe(true);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeValues: expect.objectContaining({ ':before': { S: HOLDER }, ':completed': { S: 'completed' } }) });
    expect(ddbMock).not.toHaveReceivedCommand(DeleteItemCommand);
  });

  it('keeps a lock resumed from an earlier execution: it carries that execution\'s changes', async () => {
    const result = await releaseUnchangedStep(store, { executionId: ME, dryRun: false }, 'database/frontier-prod', { fresh: false });

    expect(result).toMatchObject({ status: 'skipped', data: { released: false, outcome: 'kept' } });
    expect(result.detail).toContain('the lock is kept');
    expect(ddbMock.calls()).toHaveLength(0);
  });
});

describe('lockClaimFor: region failover and its failback', () => {
  it('claim the same target, the primary region, so only one of them runs for a region', () => {
    const config = exampleConfig();
    const failover = lockClaimFor(config, { scenario: 'region-failover', recovery: null });
    const failback = lockClaimFor(config, { scenario: 'region-failback', recovery: null });
    expect(failover?.target).toBe(`region/${config.primaryRegion}`);
    expect(failback?.target).toBe(failover?.target);
    // A failover waits out its quiet period after the last one (alarms); a failback is started by hand.
    expect(failover?.quietPeriodMinutes).toBe(config.regionFailover!.quietPeriodMinutes);
    expect(failback?.quietPeriodMinutes).toBe(0);
  });
});
