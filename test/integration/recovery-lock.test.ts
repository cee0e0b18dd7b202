// The recovery lock against a real DynamoDB API (moto server): the conditional writes must let exactly
// one of several simultaneous starts win, let a re-run resume a failed recovery with what it
// remembered, and let only the owner release.
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { incidentIdFor } from '../../shared/names.js';
import {
  acquireRecoveryLock,
  completeRecovery,
  releaseUnchangedRecovery,
  rememberReplicas,
  verifyRecoveryOwnership,
  type AcquireRequest,
  type LockOutcome,
} from '../../shared/recovery-lock.js';
import { startMoto, type MotoServer } from '../../local/moto.js';

const TABLE = 'recovery-locks';
const INCIDENT_AT = '2026-11-25T12:04:00.000Z';
const execution = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:database-recovery:${name}`;

let moto: MotoServer;
let ddb: DynamoDBClient;

beforeAll(async () => {
  moto = await startMoto();
  ddb = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: 'target', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}, 60_000);

afterAll(async () => {
  ddb?.destroy();
  await moto?.stop();
});

function request(target: string, owner: string, isRunning: (owner: string) => Promise<boolean>): AcquireRequest {
  return { target, owner, incidentId: incidentIdFor(INCIDENT_AT), incidentAt: INCIDENT_AT, incidentNamedByOperator: false, startedByAlarm: false, quietPeriodMinutes: 60, now: new Date(), isRunning };
}

async function storedOwner(target: string): Promise<string | undefined> {
  const answer = await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { target: { S: target } }, ConsistentRead: true }));
  return answer.Item?.owner?.S;
}

describe('recovery lock on DynamoDB (moto)', () => {
  it('lets exactly one of ten simultaneous starts own the recovery; the nine others name it', async () => {
    const target = 'database/frontier-prod-race';
    const owners = Array.from({ length: 10 }, (_, i) => execution(`alarm-${i}`));

    const outcomes = await Promise.all(owners.map((owner) => acquireRecoveryLock(ddb, TABLE, request(target, owner, async () => true))));

    const winners = outcomes.filter((o): o is Extract<LockOutcome, { acquired: true }> => o.acquired);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    expect(winner).toMatchObject({ resumed: false, takenOverFrom: null, lock: { target, incidentId: '202611251204' } });
    const losers = outcomes.filter((o): o is Extract<LockOutcome, { acquired: false }> => !o.acquired);
    expect(losers).toHaveLength(9);
    for (const loser of losers) expect(loser).toEqual({ acquired: false, heldBy: winner.lock.owner, since: winner.lock.acquiredAt, incidentId: '202611251204' });
    expect(await storedOwner(target)).toBe(winner.lock.owner);
  });

  it('lets a re-run take over from a failed recovery and get back the replica count it remembered', async () => {
    const target = 'database/frontier-prod-resume';
    const first = execution('alarm-first');
    const rerun = execution('manual-rerun');
    const firstOutcome = await acquireRecoveryLock(ddb, TABLE, request(target, first, async () => true));
    expect(firstOutcome.acquired).toBe(true);
    expect(await rememberReplicas(ddb, TABLE, target, first, 3)).toEqual({ replicas: 3, fromEarlierAttempt: false });
    // The first execution dies after scaling the API to 0.

    const rerunOutcome = await acquireRecoveryLock(ddb, TABLE, { ...request(target, rerun, async (owner) => owner !== first), incidentId: '202611251230' });

    expect(rerunOutcome).toMatchObject({
      acquired: true,
      resumed: true,
      takenOverFrom: first,
      lock: { owner: rerun, incidentId: '202611251204', previousReplicas: 3 },
    });
    // The re-run finds the API already at 0 and must not remember 0.
    expect(await rememberReplicas(ddb, TABLE, target, rerun, 0)).toEqual({ replicas: 3, fromEarlierAttempt: true });
    // The failed execution, should it wake up, no longer owns anything.
    await expect(rememberReplicas(ddb, TABLE, target, first, 5)).rejects.toMatchObject({ name: 'RecoveryLockLost', message: expect.stringContaining('no longer owns the recovery') });
    await expect(verifyRecoveryOwnership(ddb, TABLE, target, first, 'RepointApplication')).rejects.toMatchObject({ name: 'RecoveryLockLost' });
    expect(await completeRecovery(ddb, TABLE, target, first, 'x', new Date())).toEqual({ outcome: 'not-ours', owner: rerun, status: 'active' });
    expect(await storedOwner(target)).toBe(rerun);
  });

  it('gives back a lock taken fresh when nothing was changed, and a release by anyone else leaves it', async () => {
    const target = 'database/frontier-prod-release';
    const owner = execution('alarm-owner');
    const other = execution('alarm-other');
    expect((await acquireRecoveryLock(ddb, TABLE, request(target, owner, async () => true))).acquired).toBe(true);

    expect(await releaseUnchangedRecovery(ddb, TABLE, target, other)).toEqual({ outcome: 'not-ours', owner, status: 'active' });
    expect(await storedOwner(target)).toBe(owner);
    expect(await releaseUnchangedRecovery(ddb, TABLE, target, owner)).toEqual({ outcome: 'released' });
    expect(await storedOwner(target)).toBeUndefined();

    const fresh = await acquireRecoveryLock(ddb, TABLE, request(target, other, async () => true));
    expect(fresh).toMatchObject({ acquired: true, fresh: true, resumed: false, takenOverFrom: null, lock: { owner: other, previousReplicas: null } });
    expect(await storedOwner(target)).toBe(other);
  });

  it('a repeated alarm after a failed recovery resumes its incident; only an operator naming another one supersedes it', async () => {
    const target = 'database/frontier-prod-repeat';
    const first = execution('alarm-1');
    await acquireRecoveryLock(ddb, TABLE, { ...request(target, first, async () => true), startedByAlarm: true });
    await rememberReplicas(ddb, TABLE, target, first, 3);
    // first failed part-way; a later alarm of the same database fires
    const later = { incidentId: '202611251230', incidentAt: '2026-11-25T12:30:00.000Z' };
    const alarm = await acquireRecoveryLock(ddb, TABLE, { ...request(target, execution('alarm-2'), async () => false), ...later, startedByAlarm: true });
    expect(alarm).toMatchObject({ acquired: true, fresh: false, resumed: true, supersededIncident: null, lock: { incidentAt: INCIDENT_AT, previousReplicas: 3 } });

    const operator = await acquireRecoveryLock(ddb, TABLE, { ...request(target, execution('manual-1'), async () => false), ...later, incidentNamedByOperator: true });
    expect(operator).toMatchObject({ acquired: true, resumed: false, supersededIncident: '202611251204', lock: { incidentAt: later.incidentAt, previousReplicas: 3 } });
  });

  it('a completed recovery stays as a record: an alarm within the quiet period starts nothing, one after it (or an operator) starts fresh on what serves now', async () => {
    const target = 'database/frontier-prod-completed';
    const owner = execution('alarm-complete');
    const completedAt = new Date(Date.now() - 10 * 60_000);
    await acquireRecoveryLock(ddb, TABLE, request(target, owner, async () => false));
    await rememberReplicas(ddb, TABLE, target, owner, 3);
    expect(await completeRecovery(ddb, TABLE, target, owner, 'frontier-prod-r-202611251204', completedAt)).toEqual({ outcome: 'released' });
    expect(await completeRecovery(ddb, TABLE, target, owner, 'frontier-prod-r-202611251204', completedAt)).toMatchObject({ outcome: 'already-completed' });
    await expect(verifyRecoveryOwnership(ddb, TABLE, target, owner, 'RepointApplication')).rejects.toMatchObject({ message: expect.stringContaining('already completed') });

    const within = await acquireRecoveryLock(ddb, TABLE, { ...request(target, execution('alarm-again'), async () => false), startedByAlarm: true });
    expect(within).toMatchObject({ acquired: false, completed: { completedBy: owner, servingInstance: 'frontier-prod-r-202611251204', completedAt: completedAt.toISOString() } });
    expect(await storedOwner(target)).toBe(owner);

    const after = await acquireRecoveryLock(ddb, TABLE, { ...request(target, execution('alarm-later'), async () => false), startedByAlarm: true, quietPeriodMinutes: 5 });
    expect(after).toMatchObject({ acquired: true, fresh: true, lock: { previousReplicas: null, completion: { servingInstance: 'frontier-prod-r-202611251204' } } });
    // That run fails its preflight: the record of the completed recovery comes back, not an empty table.
    expect(await releaseUnchangedRecovery(ddb, TABLE, target, execution('alarm-later'))).toEqual({ outcome: 'released' });
    const again = await acquireRecoveryLock(ddb, TABLE, { ...request(target, execution('alarm-third'), async () => false), startedByAlarm: true });
    expect(again).toMatchObject({ acquired: false, completed: { servingInstance: 'frontier-prod-r-202611251204' } });

    const operator = await acquireRecoveryLock(ddb, TABLE, request(target, execution('manual-after'), async () => false));
    expect(operator).toMatchObject({ acquired: true, fresh: true, lock: { completion: { servingInstance: 'frontier-prod-r-202611251204' } } });
  });
});
