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
import { awsCall, AwsTransientError, classifyAwsError, RecoveryLockLost } from './errors.js';
import { clusterFor, findDatabase, type DeploymentConfig } from './config.js';
import { clusterLockTarget, databaseLockTarget, incidentIdFor, regionLockTarget, securityIncidentLockTarget } from './names.js';
import type { RunContext } from './run.js';
import { startedByAlarm } from './trigger.js';
import type { StepResult } from './steps.js';

/** What a completed recovery left behind: when, for which incident, and what serves now. */
export interface CompletedRecovery {
  completedAt: string;
  completedBy: string;
  incidentId: string;
  /** What serves the target after that recovery (the restored DB instance, or the backup cluster). */
  servingInstance: string | null;
}

export interface LockRecord {
  target: string;
  owner: string;
  /** `active`: a recovery runs or waits to be resumed; `completed`: the last recovery finished (kept as a record). */
  status: 'active' | 'completed';
  incidentId: string;
  incidentAt: string;
  acquiredAt: string;
  previousReplicas: number | null;
  /** The last completed recovery of this target; kept while a later recovery is active. */
  completion: CompletedRecovery | null;
}

export type LockOutcome =
  | {
      acquired: true;
      lock: LockRecord;
      /** Taken fresh (the target was free, or its last recovery had completed): nothing of an earlier execution is carried. */
      fresh: boolean;
      resumed: boolean;
      takenOverFrom: string | null;
      supersededIncident: string | null;
    }
  | { acquired: false; heldBy: string; since: string; incidentId: string; completed?: undefined }
  | { acquired: false; heldBy: string; since: string; incidentId: string; completed: CompletedRecovery; quietUntil: string };

export interface AcquireRequest {
  target: string;
  owner: string;
  incidentId: string;
  incidentAt: string;
  /**
   * True when an operator named the incident time. An unfinished recovery of another incident is then
   * superseded; otherwise (a plain re-run, a repeated or flapping alarm) this run resumes the unfinished one.
   */
  incidentNamedByOperator: boolean;
  /** True when an alarm started the run: a completed recovery within the quiet period holds it back. */
  startedByAlarm: boolean;
  /** Minutes after a completed recovery during which an alarm starts nothing (0: none). */
  quietPeriodMinutes: number;
  now: Date;
  /** Whether the execution holding the lock still runs (Step Functions DescribeExecution). */
  isRunning: (owner: string) => Promise<boolean>;
}

type Item = Record<string, { S?: string; N?: string }>;

function toRecord(item: Item | undefined): LockRecord | null {
  if (!item?.target?.S || !item.owner?.S) return null;
  return {
    target: item.target.S,
    owner: item.owner.S,
    status: item.status?.S === 'completed' ? 'completed' : 'active',
    incidentId: item.incidentId?.S ?? '',
    incidentAt: item.incidentAt?.S ?? '',
    acquiredAt: item.acquiredAt?.S ?? '',
    previousReplicas: item.previousReplicas?.N !== undefined ? Number(item.previousReplicas.N) : null,
    completion: item.completedAt?.S
      ? {
          completedAt: item.completedAt.S,
          completedBy: item.completedBy?.S ?? '',
          incidentId: item.completedIncidentId?.S ?? '',
          servingInstance: item.servingInstance?.S ?? null,
        }
      : null,
  };
}

/** The lock item of `target` as it is now (a consistent read), or null when there is none. */
export async function readLock(ddb: DynamoDBClient, table: string, target: string): Promise<LockRecord | null> {
  const answer = await awsCall('dynamodb:GetItem', `${table} ${target}`, () =>
    ddb.send(new GetItemCommand({ TableName: table, Key: { target: { S: target } }, ConsistentRead: true })),
  );
  return toRecord(answer.Item as Item | undefined);
}

const ACTIVE = 'attribute_not_exists(#status) OR #status = :active';

export async function acquireRecoveryLock(ddb: DynamoDBClient, table: string, request: AcquireRequest, attempt = 1): Promise<LockOutcome> {
  const item = {
    target: { S: request.target },
    owner: { S: request.owner },
    status: { S: 'active' },
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
    return { acquired: true, lock: toRecord(item) as LockRecord, fresh: true, resumed: false, takenOverFrom: null, supersededIncident: null };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw classifyAwsError(error, 'dynamodb:PutItem', `${table} ${request.target}`);
  }

  const held = await readLock(ddb, table, request.target);
  if (!held) {
    if (attempt >= 3) throw new AwsTransientError(`the recovery lock of ${request.target} kept changing under ${attempt} attempts to take it`);
    return acquireRecoveryLock(ddb, table, request, attempt + 1); // released between the two calls
  }
  if (held.status === 'completed') return afterCompletedRecovery(ddb, table, request, held, attempt);
  // A retried or redriven step of the owning execution: it still owns the lock.
  if (held.owner === request.owner) return { acquired: true, lock: held, fresh: false, resumed: true, takenOverFrom: null, supersededIncident: null };
  if (await request.isRunning(held.owner)) {
    return { acquired: false, heldBy: held.owner, since: held.acquiredAt, incidentId: held.incidentId };
  }
  // The holder ended without finishing (failed, timed out, aborted). A re-run or a repeated alarm
  // resumes its incident (the earliest incident time stands); only an operator naming another incident
  // supersedes it. Either way the replica count it remembered stays: the API has been at 0 since that
  // recovery began.
  const supersede = request.incidentNamedByOperator && request.incidentId !== held.incidentId;
  const incidentId = supersede ? request.incidentId : held.incidentId;
  const incidentAt = supersede ? request.incidentAt : held.incidentAt;
  try {
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { target: { S: request.target } },
        UpdateExpression: 'SET #owner = :me, acquiredAt = :now, incidentId = :incident, incidentAt = :incidentAt, #status = :active',
        ConditionExpression: `#owner = :holder AND (${ACTIVE})`,
        ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
        ExpressionAttributeValues: {
          ':me': { S: request.owner },
          ':now': { S: request.now.toISOString() },
          ':holder': { S: held.owner },
          ':incident': { S: incidentId },
          ':incidentAt': { S: incidentAt },
          ':active': { S: 'active' },
        },
      }),
    );
  } catch (error) {
    // Someone else took it over in between: they own the recovery now (or, once released, try again).
    if (error instanceof ConditionalCheckFailedException) {
      const winner = await readLock(ddb, table, request.target);
      if ((!winner || winner.status === 'completed') && attempt < 3) return acquireRecoveryLock(ddb, table, request, attempt + 1);
      return { acquired: false, heldBy: winner?.owner ?? 'unknown', since: winner?.acquiredAt ?? '', incidentId: winner?.incidentId ?? held.incidentId };
    }
    throw classifyAwsError(error, 'dynamodb:UpdateItem', `${table} ${request.target}`);
  }
  return {
    acquired: true,
    lock: { ...held, owner: request.owner, acquiredAt: request.now.toISOString(), incidentId, incidentAt },
    fresh: false,
    resumed: !supersede,
    takenOverFrom: held.owner,
    supersededIncident: supersede ? held.incidentId : null,
  };
}

/**
 * The target's last recovery completed. An alarm within the quiet period starts nothing (the same
 * incident, most likely, seen again); after it, or on an operator's start, a new recovery begins fresh,
 * keeping the record of the completed one (what serves now is what the new recovery acts on).
 */
async function afterCompletedRecovery(ddb: DynamoDBClient, table: string, request: AcquireRequest, held: LockRecord, attempt: number): Promise<LockOutcome> {
  const completion = held.completion ?? { completedAt: held.acquiredAt, completedBy: held.owner, incidentId: held.incidentId, servingInstance: null };
  const quietUntil = new Date(Date.parse(completion.completedAt) + request.quietPeriodMinutes * 60_000);
  if (request.startedByAlarm && request.now < quietUntil) {
    return { acquired: false, heldBy: completion.completedBy, since: completion.completedAt, incidentId: completion.incidentId, completed: completion, quietUntil: quietUntil.toISOString() };
  }
  try {
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { target: { S: request.target } },
        UpdateExpression: 'SET #owner = :me, acquiredAt = :now, incidentId = :incident, incidentAt = :incidentAt, #status = :active REMOVE previousReplicas',
        ConditionExpression: '#owner = :holder AND #status = :completed',
        ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
        ExpressionAttributeValues: {
          ':me': { S: request.owner },
          ':now': { S: request.now.toISOString() },
          ':holder': { S: held.owner },
          ':incident': { S: request.incidentId },
          ':incidentAt': { S: request.incidentAt },
          ':active': { S: 'active' },
          ':completed': { S: 'completed' },
        },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException && attempt < 3) return acquireRecoveryLock(ddb, table, request, attempt + 1);
    throw classifyAwsError(error, 'dynamodb:UpdateItem', `${table} ${request.target}`);
  }
  return {
    acquired: true,
    lock: { ...held, owner: request.owner, status: 'active', acquiredAt: request.now.toISOString(), incidentId: request.incidentId, incidentAt: request.incidentAt, previousReplicas: null, completion },
    fresh: true,
    resumed: false,
    takenOverFrom: null,
    supersededIncident: null,
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
        ConditionExpression: `#owner = :me AND (${ACTIVE})`,
        ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
        ExpressionAttributeValues: { ':replicas': { N: String(replicas) }, ':me': { S: owner }, ':active': { S: 'active' } },
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

/** How a lock release found the lock; only `released` and `already-completed` are this execution's success. */
export type ReleaseOutcome =
  | { outcome: 'released' }
  | { outcome: 'already-completed'; completedAt: string }
  | { outcome: 'not-ours'; owner: string; status: LockRecord['status'] }
  | { outcome: 'missing' };

/** Why `owner` may not act on `target`, or null when it owns the active recovery. */
function notOwnedReason(held: LockRecord | null, target: string, owner: string): string | null {
  if (!held) return `no recovery of ${target} is held (the lock was released)`;
  if (held.owner !== owner) return `execution ${held.owner} owns the recovery of ${target} (since ${held.acquiredAt}, incident ${held.incidentId})`;
  if (held.status === 'completed') return `the recovery of ${target} already completed at ${held.completion?.completedAt ?? '?'}`;
  return null;
}

/**
 * Fails with RecoveryLockLost unless `owner` still owns the active recovery of `target` (a consistent
 * GetItem). Every mutating step calls it BEFORE it acts: a superseded execution, or a redriven step of
 * one, changes nothing. AWS: dynamodb:GetItem.
 */
export async function verifyRecoveryOwnership(ddb: DynamoDBClient, table: string, target: string, owner: string, step: string): Promise<LockRecord> {
  const held = await readLock(ddb, table, target);
  const reason = notOwnedReason(held, target, owner);
  if (reason) throw new RecoveryLockLost(`${step}: execution ${owner} no longer owns the recovery of ${target}: ${reason}. Nothing was changed by this step.`);
  return held as LockRecord;
}

/**
 * Marks the recovery of `target` completed (the item stays, as the record a later alarm reads):
 * status completed, when, by whom, for which incident, and what serves now. Only the owner of the
 * active recovery may; a retried call that finds its own completion says `already-completed`.
 * AWS: dynamodb:GetItem, dynamodb:UpdateItem (conditional on the owner).
 */
export async function completeRecovery(ddb: DynamoDBClient, table: string, target: string, owner: string, servingInstance: string | null, now: Date): Promise<ReleaseOutcome> {
  const held = await readLock(ddb, table, target);
  if (!held) return { outcome: 'missing' };
  if (held.owner !== owner) return { outcome: 'not-ours', owner: held.owner, status: held.status };
  if (held.status === 'completed') return { outcome: 'already-completed', completedAt: held.completion?.completedAt ?? '' };
  try {
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { target: { S: target } },
        UpdateExpression:
          'SET #status = :completed, completedAt = :now, completedBy = :me, completedIncidentId = :incident' +
          (servingInstance ? ', servingInstance = :serving' : '') +
          ' REMOVE previousReplicas',
        ConditionExpression: `#owner = :me AND (${ACTIVE})`,
        ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
        ExpressionAttributeValues: {
          ':me': { S: owner },
          ':now': { S: now.toISOString() },
          ':incident': { S: held.incidentId },
          ':completed': { S: 'completed' },
          ':active': { S: 'active' },
          ...(servingInstance ? { ':serving': { S: servingInstance } } : {}),
        },
      }),
    );
    return { outcome: 'released' };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      const now2 = await readLock(ddb, table, target);
      return now2 ? { outcome: 'not-ours', owner: now2.owner, status: now2.status } : { outcome: 'missing' };
    }
    throw classifyAwsError(error, 'dynamodb:UpdateItem', `${table} ${target}`);
  }
}

/**
 * Gives back a lock this execution took fresh and then changed nothing under (a preflight failed):
 * deleted, or back to the record of the recovery completed before it. Only the owner of the active
 * recovery may. AWS: dynamodb:GetItem, DeleteItem / UpdateItem (conditional on the owner).
 */
export async function releaseUnchangedRecovery(ddb: DynamoDBClient, table: string, target: string, owner: string): Promise<ReleaseOutcome> {
  const held = await readLock(ddb, table, target);
  if (!held) return { outcome: 'missing' };
  if (held.owner !== owner || held.status === 'completed') return { outcome: 'not-ours', owner: held.owner, status: held.status };
  const condition = {
    ConditionExpression: `#owner = :me AND (${ACTIVE})`,
    ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
  };
  try {
    if (held.completion) {
      await ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { target: { S: target } },
          UpdateExpression: 'SET #owner = :before, #status = :completed, incidentId = :incident REMOVE previousReplicas',
          ...condition,
          ExpressionAttributeValues: {
            ':me': { S: owner },
            ':active': { S: 'active' },
            ':completed': { S: 'completed' },
            ':before': { S: held.completion.completedBy },
            ':incident': { S: held.completion.incidentId },
          },
        }),
      );
    } else {
      await ddb.send(
        new DeleteItemCommand({ TableName: table, Key: { target: { S: target } }, ...condition, ExpressionAttributeValues: { ':me': { S: owner }, ':active': { S: 'active' } } }),
      );
    }
    return { outcome: 'released' };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      const now = await readLock(ddb, table, target);
      return now ? { outcome: 'not-ours', owner: now.owner, status: now.status } : { outcome: 'missing' };
    }
    throw classifyAwsError(error, held.completion ? 'dynamodb:UpdateItem' : 'dynamodb:DeleteItem', `${table} ${target}`);
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
export type LockingRun = Pick<RunContext, 'executionId' | 'incidentAt' | 'incidentNamedByOperator' | 'dryRun' | 'trigger'>;

/** What AcquireRecoveryLock tells the next states; `acquired: false` ends the run without a change. */
export interface RecoveryClaim<R extends LockingRun = RunContext> {
  acquired: boolean;
  incidentId: string;
  /** UTC ISO time of the incident this recovery is for (a resumed run keeps the first run's). */
  incidentAt?: string;
  /** The API's replica count an earlier attempt remembered, to restore afterwards; null: none yet. */
  previousReplicas?: number | null;
  resumed?: boolean;
  /** Taken fresh: a failure before the first mutation gives it back (a resumed lock carries an earlier execution's changes and is kept). */
  fresh?: boolean;
  /** The execution ARN that owns the recovery when this one did not get it. */
  heldBy?: string;
  /** The recovery that completed within the quiet period, when that is why this run starts nothing. */
  completed?: CompletedRecovery;
  /**
   * The run as every later state reads it (the next state writes it to `$.run`): the lock's incident
   * time (one incident time per run) and, in database-recovery, the instance that serves now.
   */
  run?: R;
}

export interface ClaimTarget {
  /** The lock item's key (databaseLockTarget / clusterLockTarget). */
  target: string;
  /** How the report names it: `frontier-prod`, `cluster frontier-primary`. */
  label: string;
  quietPeriodMinutes: number;
}

/**
 * The AcquireRecoveryLock step: makes this execution the one recovery of `target`, or says which
 * running execution already is, or which recovery completed within the quiet period (then the step is
 * `skipped` and the run changes nothing). A dry run takes no lock, so it can never block a real
 * recovery. A holder that is no longer running is taken over: a re-run or a repeated alarm resumes its
 * incident, only an operator naming another incident supersedes it. The run it returns carries the
 * lock's incident time, and in database-recovery the instance that serves now (`recovery.sourceInstance`).
 *
 * AWS: dynamodb:PutItem / GetItem / UpdateItem on the lock table (conditional writes),
 * states:DescribeExecution on the holder. Throws what awsCall throws for those (AwsAccessDenied,
 * AwsTransientError...); a lost race is an answer, not an error.
 *
 * @param now When the lock is taken (stored as acquiredAt, UTC ISO).
 */
export async function claimRecovery<R extends LockingRun>(store: LockStore, sfn: SFNClient, run: R, claim: ClaimTarget, now: Date): Promise<StepResult<RecoveryClaim<R>>> {
  const incidentId = incidentIdFor(run.incidentAt);
  if (run.dryRun) {
    return { data: { acquired: true, incidentId, incidentAt: run.incidentAt, previousReplicas: null, resumed: false, fresh: true, run }, detail: 'dry run: lock not taken' };
  }
  const outcome = await acquireRecoveryLock(store.ddb, store.table, {
    target: claim.target,
    owner: run.executionId,
    incidentId,
    incidentAt: run.incidentAt,
    incidentNamedByOperator: run.incidentNamedByOperator,
    startedByAlarm: startedByAlarm(run),
    quietPeriodMinutes: claim.quietPeriodMinutes,
    now,
    isRunning: (owner) => isExecutionRunning(sfn, owner),
  });
  if (!outcome.acquired) {
    if (outcome.completed) {
      const { completed } = outcome;
      return {
        data: { acquired: false, heldBy: completed.completedBy, incidentId: completed.incidentId, completed },
        status: 'skipped',
        detail:
          `the recovery of ${claim.label} for incident ${completed.incidentId} completed at ${completed.completedAt}` +
          (completed.servingInstance ? `; ${completed.servingInstance} serves now` : '') +
          `: an alarm within the quiet period (until ${outcome.quietUntil}) starts nothing, and nothing was changed. Start by hand to recover again.`,
      };
    }
    return {
      data: { acquired: false, heldBy: outcome.heldBy, incidentId: outcome.incidentId },
      status: 'skipped',
      detail: `execution ${outcome.heldBy} already owns the recovery of ${claim.label} (since ${outcome.since}): this start changes nothing`,
    };
  }
  const { lock } = outcome;
  const serving = lock.completion?.servingInstance ?? null;
  const recovery = (run as Partial<RunContext>).recovery;
  const lockedRun: R = {
    ...run,
    incidentAt: lock.incidentAt,
    ...(recovery ? { recovery: { ...recovery, sourceInstance: serving ?? recovery.sourceInstance } } : {}),
  };
  const after = lock.completion ? ` The recovery of incident ${lock.completion.incidentId} completed at ${lock.completion.completedAt}${serving ? `: this one acts on ${serving}, which serves now` : ''}.` : '';
  return {
    data: {
      acquired: true,
      incidentId: lock.incidentId,
      incidentAt: lock.incidentAt,
      previousReplicas: lock.previousReplicas,
      resumed: outcome.resumed,
      fresh: outcome.fresh,
      run: lockedRun,
    },
    detail:
      (outcome.supersededIncident
        ? `recovery of incident ${lock.incidentId}; it supersedes the unfinished recovery of incident ${outcome.supersededIncident} by ${outcome.takenOverFrom} (whose replica count is kept)`
        : outcome.takenOverFrom
          ? `resuming the recovery of incident ${lock.incidentId} (from ${lock.incidentAt}) left unfinished by ${outcome.takenOverFrom}`
          : outcome.resumed
            ? `this execution already owned the recovery of ${claim.label}`
            : `recovery of ${claim.label} for incident ${lock.incidentId} is this execution's`) + after,
  };
}

/**
 * The ReleaseRecoveryLock step after a recovery that reached its end: the lock becomes the record of
 * a completed recovery (what serves now: `servingInstance`). It reports what it found; a release by an
 * execution that no longer owns the recovery fails with RecoveryLockLost instead of reporting success.
 * A dry run took no lock and releases none.
 */
export async function completeRecoveryStep(
  store: LockStore,
  run: Pick<RunContext, 'executionId' | 'dryRun'>,
  target: string,
  servingInstance: string | null,
  now: Date,
): Promise<StepResult<{ released: boolean; outcome: ReleaseOutcome['outcome']; servingInstance: string | null }>> {
  if (run.dryRun) return { data: { released: false, outcome: 'missing', servingInstance: null }, detail: 'dry run: no lock was taken' };
  const found = await completeRecovery(store.ddb, store.table, target, run.executionId, servingInstance, now);
  switch (found.outcome) {
    case 'released':
      return { data: { released: true, outcome: found.outcome, servingInstance }, detail: `recovery of ${target} recorded as completed${servingInstance ? `; ${servingInstance} serves now` : ''}` };
    case 'already-completed':
      return { data: { released: true, outcome: found.outcome, servingInstance }, detail: `this execution had already recorded the recovery of ${target} as completed (at ${found.completedAt})` };
    case 'not-ours':
      throw new RecoveryLockLost(`release of ${target}: not ours: ${found.status === 'completed' ? 'a recovery completed by' : 'owned by'} ${found.owner}; this execution was superseded and released nothing`);
    case 'missing':
      throw new RecoveryLockLost(`release of ${target}: no lock was held (released by hand?); this execution released nothing`);
  }
}

/**
 * The ReleaseUnchangedLock step, after a preflight failed (before the first mutation): a lock this
 * execution took fresh is given back, so the next alarm or re-run starts cleanly; a lock it resumed or
 * took over carries an earlier execution's changes (the API at 0, the remembered replica count) and
 * is kept. Either way this execution changed nothing, and the step says so.
 */
export async function releaseUnchangedStep(
  store: LockStore,
  run: Pick<RunContext, 'executionId' | 'dryRun'>,
  target: string,
  claim: Pick<RecoveryClaim, 'fresh' | 'resumed'>,
): Promise<StepResult<{ released: boolean; outcome: ReleaseOutcome['outcome'] | 'kept' }>> {
  const nothing = 'The run ended before its first change (a check failed, or none was needed): nothing was changed by this execution';
  if (run.dryRun) return { data: { released: false, outcome: 'missing' }, detail: `${nothing} (dry run: no lock was taken)` };
  if (!claim.fresh) {
    return {
      data: { released: false, outcome: 'kept' },
      status: 'skipped',
      detail: `${nothing}; the lock is kept: it was resumed from an earlier execution whose changes (e.g. the API at 0 and its remembered replica count) it carries`,
    };
  }
  const found = await releaseUnchangedRecovery(store.ddb, store.table, target, run.executionId);
  if (found.outcome === 'released') return { data: { released: true, outcome: found.outcome }, detail: `${nothing}; recovery lock of ${target} released` };
  return {
    data: { released: false, outcome: found.outcome },
    status: 'skipped',
    detail: found.outcome === 'not-ours' ? `${nothing}; the lock is not ours (owned by ${found.owner}): left as it is` : `${nothing}; no lock was held`,
  };
}

/**
 * The protected target a run's lock guards: a database-recovery run its database
 * (`database/<name>`, quiet period `recovery.quietPeriodMinutes`), a cluster-failover run the primary
 * cluster (`cluster/<name>`, `kubernetes.failoverQuietPeriodMinutes`), a region-failover run the primary
 * region (`region/<region>`, `regionFailover.quietPeriodMinutes`), and a region-failback run the same
 * target (one recovery of a region at a time, failover or failback), and a security-incident run the
 * deployment (`security-incident/<deployment>`, no quiet period). Other scenarios take no lock.
 */
export function lockClaimFor(config: DeploymentConfig, run: Pick<RunContext, 'scenario' | 'recovery'>): ClaimTarget | null {
  if (run.scenario === 'database-recovery' && run.recovery) {
    const database = findDatabase(config, run.recovery.database);
    return { target: databaseLockTarget(database.name), label: database.name, quietPeriodMinutes: database.recovery?.quietPeriodMinutes ?? 60 };
  }
  if (run.scenario === 'region-failover' && config.regionFailover) {
    return { target: regionLockTarget(config.primaryRegion), label: `region ${config.primaryRegion}`, quietPeriodMinutes: config.regionFailover.quietPeriodMinutes };
  }
  if (run.scenario === 'region-failback') {
    // The same target as region failover: one recovery of a region at a time, failover or failback.
    // Started by hand only, so the quiet period (for alarms) never holds it back.
    return { target: regionLockTarget(config.primaryRegion), label: `region ${config.primaryRegion}`, quietPeriodMinutes: 0 };
  }
  if (run.scenario === 'cluster-failover' && config.kubernetes) {
    const cluster = clusterFor(config, 'primary');
    return { target: clusterLockTarget(cluster.name), label: `cluster ${cluster.name}`, quietPeriodMinutes: config.kubernetes.failoverQuietPeriodMinutes };
  }
  if (run.scenario === 'security-incident') {
    // Started by hand only: no alarm to hold back, so no quiet period.
    return { target: securityIncidentLockTarget(config.deployment), label: `the security incident response of ${config.deployment}`, quietPeriodMinutes: 0 };
  }
  return null;
}

/**
 * For a mutating step: fails with RecoveryLockLost unless this run's execution still owns its
 * recovery (verifyRecoveryOwnership), before the step changes anything. A dry run took no lock, and a
 * scenario without a lock has nothing to check.
 */
export async function verifyRunOwnsRecovery(
  store: LockStore,
  config: DeploymentConfig,
  run: Pick<RunContext, 'scenario' | 'recovery' | 'executionId' | 'dryRun'>,
  step: string,
): Promise<void> {
  if (run.dryRun) return;
  const claim = lockClaimFor(config, run);
  if (!claim) return;
  await verifyRecoveryOwnership(store.ddb, store.table, claim.target, run.executionId, step);
}
