// One recovery per protected target at a time. Two alarms seconds apart, a flapping alarm or a manual
// start during an automatic one race for the same DynamoDB item; the conditional write lets exactly
// one win. The item also remembers what a recovery must not forget if it dies half-way (the incident
// it is recovering and the API's replica count before it was scaled to 0), so a re-run resumes the
// same recovery instead of starting another.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, type SFNClient } from '@aws-sdk/client-sfn';
import { awsCall, classifyAwsError, RecoveryLockLost } from './errors.js';
import { databaseLockTarget, incidentIdFor } from './names.js';
import type { RunContext } from './run.js';
import type { StepResult } from './steps.js';

export interface LockRecord {
  target: string;
  owner: string;
  incidentId: string;
  incidentAt: string;
  acquiredAt: string;
  previousReplicas: number | null;
}

export type LockOutcome =
  | { acquired: true; lock: LockRecord; resumed: boolean; takenOverFrom: string | null; supersededIncident: string | null }
  | { acquired: false; heldBy: string; since: string; incidentId: string };

export interface AcquireRequest {
  target: string;
  owner: string;
  incidentId: string;
  incidentAt: string;
  /**
   * True when the operator or the alarm named the incident time. An unfinished recovery of another
   * incident is then superseded; otherwise (a plain re-run) this run resumes the unfinished one.
   */
  incidentGiven: boolean;
  now: Date;
  /** Whether the execution holding the lock still runs (Step Functions DescribeExecution). */
  isRunning: (owner: string) => Promise<boolean>;
}

function toRecord(item: Record<string, { S?: string; N?: string }> | undefined): LockRecord | null {
  if (!item?.target?.S || !item.owner?.S) return null;
  return {
    target: item.target.S,
    owner: item.owner.S,
    incidentId: item.incidentId?.S ?? '',
    incidentAt: item.incidentAt?.S ?? '',
    acquiredAt: item.acquiredAt?.S ?? '',
    previousReplicas: item.previousReplicas?.N !== undefined ? Number(item.previousReplicas.N) : null,
  };
}

async function readLock(ddb: DynamoDBClient, table: string, target: string): Promise<LockRecord | null> {
  const answer = await awsCall('dynamodb:GetItem', `${table} ${target}`, () =>
    ddb.send(new GetItemCommand({ TableName: table, Key: { target: { S: target } }, ConsistentRead: true })),
  );
  return toRecord(answer.Item as Record<string, { S?: string; N?: string }> | undefined);
}

export async function acquireRecoveryLock(ddb: DynamoDBClient, table: string, request: AcquireRequest, attempt = 1): Promise<LockOutcome> {
  const item = {
    target: { S: request.target },
    owner: { S: request.owner },
    incidentId: { S: request.incidentId },
    incidentAt: { S: request.incidentAt },
    acquiredAt: { S: request.now.toISOString() },
  };
  try {
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#target)',
        ExpressionAttributeNames: { '#target': 'target' },
      }),
    );
    return { acquired: true, lock: { ...toRecord(item), previousReplicas: null } as LockRecord, resumed: false, takenOverFrom: null, supersededIncident: null };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw classifyAwsError(error, 'dynamodb:PutItem', `${table} ${request.target}`);
  }

  const held = await readLock(ddb, table, request.target);
  if (!held) return acquireRecoveryLock(ddb, table, request, attempt + 1); // released between the two calls
  // A retried or redriven step of the owning execution: it still owns the lock.
  if (held.owner === request.owner) return { acquired: true, lock: held, resumed: true, takenOverFrom: null, supersededIncident: null };
  if (await request.isRunning(held.owner)) {
    return { acquired: false, heldBy: held.owner, since: held.acquiredAt, incidentId: held.incidentId };
  }
  // The holder ended without finishing (failed, timed out, aborted). A plain re-run resumes its
  // incident; a start naming another incident supersedes it. Either way the replica count it
  // remembered stays: the API has been at 0 since that recovery began.
  const supersede = request.incidentGiven && request.incidentId !== held.incidentId;
  const incidentId = supersede ? request.incidentId : held.incidentId;
  const incidentAt = supersede ? request.incidentAt : held.incidentAt;
  try {
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { target: { S: request.target } },
        UpdateExpression: 'SET #owner = :me, acquiredAt = :now, incidentId = :incident, incidentAt = :incidentAt',
        ConditionExpression: '#owner = :holder',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':me': { S: request.owner },
          ':now': { S: request.now.toISOString() },
          ':holder': { S: held.owner },
          ':incident': { S: incidentId },
          ':incidentAt': { S: incidentAt },
        },
      }),
    );
  } catch (error) {
    // Someone else took it over in between: they own the recovery now (or, once released, try again).
    if (error instanceof ConditionalCheckFailedException) {
      const winner = await readLock(ddb, table, request.target);
      if (!winner && attempt < 3) return acquireRecoveryLock(ddb, table, request, attempt + 1);
      return { acquired: false, heldBy: winner?.owner ?? 'unknown', since: winner?.acquiredAt ?? '', incidentId: winner?.incidentId ?? held.incidentId };
    }
    throw classifyAwsError(error, 'dynamodb:UpdateItem', `${table} ${request.target}`);
  }
  return {
    acquired: true,
    lock: { ...held, owner: request.owner, acquiredAt: request.now.toISOString(), incidentId, incidentAt },
    resumed: !supersede,
    takenOverFrom: held.owner,
    supersededIncident: supersede ? held.incidentId : null,
  };
}

export interface RememberedReplicas {
  /** The count to restore after the recovery. */
  replicas: number;
  /** True when an earlier attempt of this recovery had stored it (this call changed nothing). */
  fromEarlierAttempt: boolean;
}

/**
 * Stores the replica count to restore later, only if none is stored yet: a resumed recovery finds the
 * API already at 0 and must not remember 0. Returns the count that is stored, and whether it was
 * stored before this call.
 */
export async function rememberReplicas(ddb: DynamoDBClient, table: string, target: string, owner: string, replicas: number): Promise<RememberedReplicas> {
  try {
    const answer = await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { target: { S: target } },
        UpdateExpression: 'SET previousReplicas = if_not_exists(previousReplicas, :replicas)',
        ConditionExpression: '#owner = :me',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':replicas': { N: String(replicas) }, ':me': { S: owner } },
        // The item as it was: it says whether a count was stored before.
        ReturnValues: 'ALL_OLD',
      }),
    );
    const earlier = answer.Attributes?.previousReplicas?.N;
    return earlier === undefined ? { replicas, fromEarlierAttempt: false } : { replicas: Number(earlier), fromEarlierAttempt: true };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      throw new RecoveryLockLost(`execution ${owner} no longer owns the recovery of ${target}: another execution took it over`, { cause: error });
    }
    throw classifyAwsError(error, 'dynamodb:UpdateItem', `${table} ${target}`);
  }
}

export async function releaseRecoveryLock(ddb: DynamoDBClient, table: string, target: string, owner: string): Promise<boolean> {
  try {
    await ddb.send(
      new DeleteItemCommand({
        TableName: table,
        Key: { target: { S: target } },
        ConditionExpression: '#owner = :me',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':me': { S: owner } },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw classifyAwsError(error, 'dynamodb:DeleteItem', `${table} ${target}`);
  }
}

/**
 * Whether a Step Functions execution is still RUNNING (states:DescribeExecution). An execution Step
 * Functions no longer knows (ExecutionDoesNotExist: deleted, or past the 90-day history) is not
 * running; any other failure is thrown as awsCall names it (AwsAccessDenied, AwsTransientError...),
 * because guessing "not running" could hand one recovery to two executions.
 *
 * @param sfn Step Functions client of the region the state machine runs in (the recovery region).
 * @param executionArn The execution's ARN.
 */
export async function isExecutionRunning(sfn: SFNClient, executionArn: string): Promise<boolean> {
  try {
    const answer = await awsCall('states:DescribeExecution', executionArn, () => sfn.send(new DescribeExecutionCommand({ executionArn })));
    return answer.status === 'RUNNING';
  } catch (error) {
    if (error instanceof Error && error.cause instanceof ExecutionDoesNotExist) return false;
    throw error;
  }
}

/** Where the lock lives: the DynamoDB table (RECOVERY_LOCK_TABLE) and clients of the recovery region. */
export interface LockStore {
  ddb: DynamoDBClient;
  table: string;
}

/** The run fields the lock steps read (RunContext has them). */
export type LockingRun = Pick<RunContext, 'executionId' | 'incidentAt' | 'incidentGiven' | 'dryRun'>;

/** What AcquireRecoveryLock tells the next states; `acquired: false` ends the run without a change. */
export interface RecoveryClaim {
  acquired: boolean;
  incidentId: string;
  /** UTC ISO time of the incident this recovery is for (a resumed run keeps the first run's). */
  incidentAt?: string;
  /** The API's replica count an earlier attempt remembered, to restore afterwards; null: none yet. */
  previousReplicas?: number | null;
  resumed?: boolean;
  /** The execution ARN that owns the recovery when this one did not get it. */
  heldBy?: string;
}

/**
 * The AcquireRecoveryLock step: makes this execution the one recovery of `database`, or says which
 * running execution already is (then the step is `skipped` and the run changes nothing). A dry run
 * takes no lock, so it can never block a real recovery. A holder that is no longer running is taken
 * over: a plain re-run resumes its incident, a start naming another incident supersedes it.
 *
 * AWS: dynamodb:PutItem / GetItem / UpdateItem on the lock table (conditional writes),
 * states:DescribeExecution on the holder. Throws what awsCall throws for those (AwsAccessDenied,
 * AwsTransientError...); a lost race is an answer, not an error.
 *
 * @param now When the lock is taken (stored as acquiredAt, UTC ISO).
 */
export async function claimDatabaseRecovery(store: LockStore, sfn: SFNClient, run: LockingRun, database: string, now: Date): Promise<StepResult<RecoveryClaim>> {
  const incidentId = incidentIdFor(run.incidentAt);
  if (run.dryRun) {
    return { data: { acquired: true, incidentId, incidentAt: run.incidentAt, previousReplicas: null, resumed: false }, detail: 'dry run: lock not taken' };
  }
  const outcome = await acquireRecoveryLock(store.ddb, store.table, {
    target: databaseLockTarget(database),
    owner: run.executionId,
    incidentId,
    incidentAt: run.incidentAt,
    incidentGiven: run.incidentGiven,
    now,
    isRunning: (owner) => isExecutionRunning(sfn, owner),
  });
  if (!outcome.acquired) {
    return {
      data: { acquired: false, heldBy: outcome.heldBy, incidentId: outcome.incidentId },
      status: 'skipped',
      detail: `execution ${outcome.heldBy} already owns the recovery of ${database} (since ${outcome.since}): this start changes nothing`,
    };
  }
  const { lock } = outcome;
  return {
    data: { acquired: true, incidentId: lock.incidentId, incidentAt: lock.incidentAt, previousReplicas: lock.previousReplicas, resumed: outcome.resumed },
    detail: outcome.supersededIncident
      ? `recovery of incident ${lock.incidentId}; it supersedes the unfinished recovery of incident ${outcome.supersededIncident} by ${outcome.takenOverFrom} (whose replica count is kept)`
      : outcome.takenOverFrom
        ? `resuming the recovery of incident ${lock.incidentId} left unfinished by ${outcome.takenOverFrom}`
        : outcome.resumed
          ? `this execution already owned the recovery of ${database}`
          : `recovery of ${database} for incident ${lock.incidentId} is this execution's`,
  };
}

/**
 * The ReleaseRecoveryLock step: lets the next incident of `database` start its own recovery. Only the
 * owner releases (dynamodb:DeleteItem, conditional on the owner); `released: false` says this
 * execution no longer held it. A dry run took no lock and releases none.
 */
export async function releaseDatabaseRecovery(store: LockStore, run: Pick<RunContext, 'executionId' | 'dryRun'>, database: string): Promise<StepResult<{ released: boolean }>> {
  if (run.dryRun) return { data: { released: false }, detail: 'dry run: no lock was taken' };
  const released = await releaseRecoveryLock(store.ddb, store.table, databaseLockTarget(database), run.executionId);
  return { data: { released }, detail: released ? 'recovery lock released' : 'this execution no longer held the lock' };
}

