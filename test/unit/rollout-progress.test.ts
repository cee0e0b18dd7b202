// The progress deadline of a scale-up Kubernetes does not time. After a rollout has finished (Progressing
// condition NewReplicaSetAvailable), the deployment controller estimates no progress for a scale-up, so
// a deployment scaled from 0 to 3 whose pods never become Ready is never marked ProgressDeadlineExceeded.
// CheckRollout then judges spec.progressDeadlineSeconds itself from the record the state machine carries
// between looks (shared/kubernetes/progress.ts): no new ready or available replica for that long since
// the scale, or since the last look that saw one, fails the look with RolloutFailed. Each branch of that
// decision, through the product's whole look (checkRolloutProgress), with the API answered by the client
// double; the real controller doing it: test/integration/scale-up-deadline.test.ts.
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import type { V1Deployment } from '@kubernetes/client-node';
import { checkRolloutProgress, connectTo } from '../../shared/cluster-ops.js';
import { eksClient } from '../../shared/clients.js';
import { InvalidInput, RolloutFailed, RolloutTimedOut } from '../../shared/errors.js';
import { startProgress, type RolloutProgress } from '../../shared/kubernetes/progress.js';
import { configWith } from '../support/fixtures.js';
import { deploymentObject, deploymentPath, DOUBLE_CREDENTIALS, KubeClientDouble, replicaSetObject } from '../support/kube-client-double.js';

// A cluster name of this file's own: connections are cached per cluster for the container's life.
const config = configWith((c) => {
  c.kubernetes!.clusters.backup.name = 'unit-progress-backup';
  c.kubernetes!.rolloutTimeoutMinutes = 5;
});
const NS = 'production';
const API = 'frontier-api';
const eks = mockClient(eksClient('us-east-1'));
const double = new KubeClientDouble();
const described = {
  cluster: { name: 'unit-progress-backup', endpoint: 'https://unit-progress-backup.gr7.us-east-1.eks.amazonaws.com', certificateAuthority: { data: Buffer.from('a CA').toString('base64') }, status: 'ACTIVE' as const },
};

/** The time of the scale in these tests; every look is some seconds after it. */
const SCALED_AT = new Date('2026-11-30T10:00:00.000Z');
const at = (seconds: number) => new Date(SCALED_AT.getTime() + seconds * 1000);
/** The rollout wait's own start (the apply before the scale): well within rolloutTimeoutMinutes. */
const SINCE = at(-5).toISOString();
/** The clock StartRolloutClock starts at the scale. */
const CLOCK = startProgress(SCALED_AT.toISOString(), 'the scale-up (ScaleApiOnBackup)');

type Condition = { type: string; status: string; reason: string; message: string; lastUpdateTime?: string };
const FINISHED: Condition = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "frontier-api-rs2" has successfully progressed.' };
const UPDATING: Condition = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "frontier-api-rs2" is progressing.' };

/**
 * The deployment the API answers: `desired` replicas wanted, every one created on the current
 * template, `ready` of them Ready and available; spec.progressDeadlineSeconds `deadline` (null: none).
 */
function answer(shape: { ready: number; available?: number; desired?: number; deadline?: number | null; conditions?: Condition[]; generation?: number; observedGeneration?: number }): V1Deployment {
  const desired = shape.desired ?? 3;
  const object = deploymentObject({
    namespace: NS,
    name: API,
    image: 'frontier/api:1.9.0',
    replicas: desired,
    revision: 2,
    ...(shape.generation !== undefined ? { generation: shape.generation } : {}),
    ...(shape.observedGeneration !== undefined ? { observedGeneration: shape.observedGeneration } : {}),
    status: { replicas: desired, updatedReplicas: desired, readyReplicas: shape.ready, availableReplicas: shape.available ?? shape.ready },
    conditions: shape.conditions ?? [FINISHED],
  });
  const deadline = shape.deadline === undefined ? 3 : shape.deadline;
  if (deadline !== null) object.spec!.progressDeadlineSeconds = deadline;
  double.on('GET', deploymentPath(NS, API), { body: object });
  return object;
}

/** One look, as CheckRollout makes it at `now`, carrying `progress` from the look before. */
function look(now: Date, progress?: RolloutProgress, rollback?: { replicaSet?: string }) {
  return checkRolloutProgress(config, 'backup', NS, API, SINCE, now, rollback, progress);
}

/** The failure a look ends with (or the test fails). */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the look to fail');
    },
    (error: unknown) => error as Error,
  );
}

beforeAll(async () => {
  eks.on(DescribeClusterCommand).resolves(described);
  await connectTo(config, 'backup', { httpApi: double.httpApi, credentials: DOUBLE_CREDENTIALS });
});

describe('checkRolloutProgress on a scale-up Kubernetes does not time', () => {
  it('fails at the deployment\'s own progress deadline when no replica became ready since the scale, and says why Kubernetes did not', async () => {
    answer({ ready: 0 });

    const first = await look(at(1), CLOCK);
    const failure = await failureOf(look(at(4), first.data.progress));

    expect(failure).toBeInstanceOf(RolloutFailed);
    expect(failure.name).toBe('RolloutFailed');
    expect(failure.message).toBe(
      `deployment ${NS}/${API} exceeded its progress deadline: 0 of 3 replicas ready (0 available), no new ready replica since the scale-up (ScaleApiOnBackup) at 2026-11-30T10:00:00.000Z, ` +
        '4 s without progress against spec.progressDeadlineSeconds 3. Kubernetes does not flag this itself: its Progressing condition still reads NewReplicaSetAvailable from the rollout that ' +
        'finished before the scale-up, and the deployment controller does not time a scale-up of a finished rollout, so frontier-dr applied the deadline. ' +
        'Find out why its new pods are not Ready (image, readiness probe, room to schedule).',
    );
  });

  it('keeps waiting within the deadline, handing the next look the clock and the counts it saw', async () => {
    answer({ ready: 0 });

    const first = await look(at(2), CLOCK);

    expect(first.data).toMatchObject({ done: false, timedByKubernetes: false, progressingReason: 'NewReplicaSetAvailable', progressDeadlineSeconds: 3, desiredReplicas: 3 });
    expect(first.data.progress).toEqual({ startedAt: CLOCK.startedAt, change: CLOCK.change, lastProgressAt: null, readyReplicas: 0, availableReplicas: 0 });
    expect(first.detail).toBe('0 of 3 updated replicas available (after 0.1 min; frontier-dr times its progress deadline (Kubernetes does not): 0 of 3 ready, no new ready replica for 2 s of 3 s)');
  });

  it('restarts the clock at each look that sees a new ready replica: a slow scale-up that keeps progressing is never failed', async () => {
    // One more replica ready every 2.5 s against a 3 s deadline: 7.5 s in all, more than the deadline.
    let progress = CLOCK;
    const looks: [number, number][] = [
      [1, 0],
      [2.5, 1],
      [4, 1],
      [5, 2],
      [7, 2],
      [7.5, 3],
    ];
    for (const [seconds, ready] of looks) {
      answer({ ready });
      const result = await look(at(seconds), progress);
      progress = result.data.progress;
    }

    expect(progress).toEqual({ startedAt: CLOCK.startedAt, change: CLOCK.change, lastProgressAt: at(7.5).toISOString(), readyReplicas: 3, availableReplicas: 3 });
  });

  it('counts a replica that becomes available after being ready as progress', async () => {
    answer({ ready: 2, available: 1 });
    const before = await look(at(1), CLOCK);
    answer({ ready: 2, available: 2 });

    const after = await look(at(3.5), { ...before.data.progress, lastProgressAt: at(1).toISOString() });

    expect(after.data.progress).toMatchObject({ lastProgressAt: at(3.5).toISOString(), readyReplicas: 2, availableReplicas: 2 });
  });

  it('fails by the deadline counted from the last progress, naming when that was', async () => {
    answer({ ready: 1 });
    const progress: RolloutProgress = { ...CLOCK, lastProgressAt: at(2).toISOString(), readyReplicas: 1, availableReplicas: 1 };

    expect((await look(at(5), progress)).data.progress).toEqual(progress);
    const failure = await failureOf(look(at(5.5), progress));

    expect(failure).toBeInstanceOf(RolloutFailed);
    expect(failure.message).toContain(`1 of 3 replicas ready (1 available), no new ready replica since ${at(2).toISOString()} (the last one a look saw; the scale-up (ScaleApiOnBackup) was at ${CLOCK.startedAt}), 3.5 s without progress`);
  });

  it('does not take a replica that failed and became ready again for a new one', async () => {
    // Two were ready at 1 s; one failed; it is ready again: still no more than two.
    answer({ ready: 2 });
    const progress: RolloutProgress = { ...CLOCK, lastProgressAt: at(1).toISOString(), readyReplicas: 2, availableReplicas: 2 };

    const failure = await failureOf(look(at(4.5), progress));

    expect(failure).toBeInstanceOf(RolloutFailed);
    expect(failure.message).toContain('2 of 3 replicas ready (2 available)');
  });

  it('counts replicas a first look finds ready as progress at that look, since it cannot tell when they became ready', async () => {
    answer({ ready: 1 });

    const first = await look(at(30), CLOCK);

    expect(first.data.progress).toMatchObject({ lastProgressAt: at(30).toISOString(), readyReplicas: 1, availableReplicas: 1 });
    await expect(look(at(33.5), first.data.progress)).rejects.toThrow(RolloutFailed);
  });

  it('decides a retried look (same record, same answer) as the first attempt did', async () => {
    answer({ ready: 0 });
    const progress: RolloutProgress = { ...CLOCK, readyReplicas: 0, availableReplicas: 0 };

    const attempts = [await look(at(2), progress), await look(at(2), progress)];
    expect(attempts[1]!.data.progress).toEqual(attempts[0]!.data.progress);
    const failures = [await failureOf(look(at(4), progress)), await failureOf(look(at(4), progress))];
    expect(failures[1]!.message).toBe(failures[0]!.message);
  });

  it('starts the clock at this look when it is given none (a caller that does not carry one)', async () => {
    answer({ ready: 0 });

    const first = await look(at(100));

    expect(first.data.progress).toEqual({ startedAt: at(100).toISOString(), lastProgressAt: null, readyReplicas: 0, availableReplicas: 0 });
  });

  it('reports success once every replica is available, however long it took', async () => {
    answer({ ready: 3 });

    const done = await look(at(60), { ...CLOCK, readyReplicas: 0, availableReplicas: 0 });

    expect(done.data.done).toBe(true);
    expect(done.detail).not.toContain('frontier-dr times');
  });

  it('judges nothing for a deployment without a progress deadline (RolloutTimedOut still bounds the wait)', async () => {
    for (const deadline of [null, 2_147_483_647]) {
      answer({ ready: 0, deadline });

      const result = await look(at(120), { ...CLOCK, readyReplicas: 0, availableReplicas: 0 });

      expect(result.data).toMatchObject({ done: false, progressDeadlineSeconds: null });
    }
    answer({ ready: 0 });
    const tooLate = checkRolloutProgress(config, 'backup', NS, API, at(-6 * 60).toISOString(), at(2), undefined, CLOCK);
    await expect(tooLate).rejects.toThrow(RolloutTimedOut);
  });

  it('judges the deadline before the overall limit: a scale-up past both fails by its deadline', async () => {
    answer({ ready: 0 });

    const failure = await failureOf(checkRolloutProgress(config, 'backup', NS, API, at(-6 * 60).toISOString(), at(10), undefined, CLOCK));

    expect(failure).toBeInstanceOf(RolloutFailed);
  });

  it('judges nothing until the controller has observed the scale', async () => {
    answer({ ready: 0, generation: 3, observedGeneration: 2 });

    const result = await look(at(10), CLOCK);

    expect(result.data).toMatchObject({ done: false, timedByKubernetes: true });
    expect(result.detail).toContain('waiting for the controller to observe generation 3');
  });

  it('refuses a record it cannot read, naming the field', async () => {
    answer({ ready: 0 });

    await expect(look(at(1), { ...CLOCK, startedAt: 'yesterday' })).rejects.toThrow(InvalidInput);
    await expect(look(at(1), { ...CLOCK, startedAt: 'yesterday' })).rejects.toThrow('progress.startedAt: got "yesterday"; expected an ISO 8601 time');
    await expect(look(at(1), { ...CLOCK, readyReplicas: -1 })).rejects.toThrow('progress.readyReplicas: got -1; expected a whole number >= 0 or null');
  });
});

describe('checkRolloutProgress on a rollout Kubernetes times', () => {
  it('leaves the deadline to the controller\'s own condition while it estimates progress', async () => {
    answer({ ready: 0, conditions: [UPDATING] });

    const result = await look(at(30), { ...CLOCK, readyReplicas: 0, availableReplicas: 0 });

    expect(result.data).toMatchObject({ done: false, timedByKubernetes: true, progressingReason: 'ReplicaSetUpdated' });
    expect(result.detail).not.toContain('frontier-dr times');
  });

  it('fails with the controller\'s own words once it marks the deadline exceeded', async () => {
    answer({ ready: 0, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "frontier-api-rs2" has timed out progressing.' }] });
    double.on('GET', `/apis/apps/v1/namespaces/${NS}/replicasets/${API}-rs2`, { body: replicaSetObject({ namespace: NS, name: `${API}-rs2`, deployment: { name: API }, image: 'frontier/api:1.9.0', revision: 2 }) });

    const failure = await failureOf(look(at(1), CLOCK));

    expect(failure).toBeInstanceOf(RolloutFailed);
    expect(failure.message).toBe(`deployment ${NS}/${API} exceeded its progress deadline: ReplicaSet "frontier-api-rs2" has timed out progressing.`);
  });

  it('judges a rollback\'s rollout itself while the deployment still shows the deadline an earlier rollout exceeded', async () => {
    answer({ ready: 0, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "frontier-api-bad" has timed out progressing.' }] });
    const rollback = { replicaSet: 'frontier-api-good' };
    const clock = startProgress(SCALED_AT.toISOString(), 'the rollback (RollBackDeployment)');

    const first = await look(at(1), clock, rollback);
    expect(first.data).toMatchObject({ done: false, timedByKubernetes: false });
    expect(first.detail).toContain('a progress deadline exceeded by an earlier rollout is ignored');
    const failure = await failureOf(look(at(3.5), first.data.progress, rollback));

    expect(failure).toBeInstanceOf(RolloutFailed);
    expect(failure.message).toContain('no new ready replica since the rollback (RollBackDeployment) at 2026-11-30T10:00:00.000Z');
    expect(failure.message).toContain('its Progressing condition is the deadline an earlier rollout exceeded, which the controller keeps until this rollout makes progress');
  });
});

describe('when a rollout look asks for the next one (nextCheckSeconds)', () => {
  /** A scale-up still under way: 0 of 3 ready, with the given readiness delay, minReadySeconds and deadline. */
  function starting(shape: { initialDelaySeconds?: number; minReadySeconds?: number; deadline?: number | null; conditions?: Condition[] }) {
    const object = answer({ ready: 0, deadline: shape.deadline ?? null, ...(shape.conditions ? { conditions: shape.conditions } : {}) });
    const container = object.spec!.template.spec!.containers[0]!;
    if (shape.initialDelaySeconds !== undefined) container.readinessProbe = { httpGet: { path: '/health', port: 8080 }, initialDelaySeconds: shape.initialDelaySeconds, periodSeconds: 5 };
    object.spec!.template.spec!.containers.push({ name: 'sidecar', image: 'frontier/proxy:1', readinessProbe: { tcpSocket: { port: 9000 }, initialDelaySeconds: 2 } });
    if (shape.minReadySeconds !== undefined) object.spec!.minReadySeconds = shape.minReadySeconds;
    return object;
  }

  it('waits first until the new pods can be available (the largest readiness delay plus minReadySeconds after the change), then every 5 s', async () => {
    starting({ initialDelaySeconds: 20, minReadySeconds: 10 });

    // SINCE is 5 s before the scale: at 1 s after it, 6 s have passed of the 30 no pod can be available sooner.
    const first = await look(at(1), CLOCK);
    expect(first.data).toMatchObject({ done: false, earliestAvailableSeconds: 30, nextCheckSeconds: 24 });
    const second = await look(at(25), first.data.progress);
    expect(second.data.nextCheckSeconds).toBe(5);
  });

  it('polls every 5 s from the first look when the pods have no readiness delay (their sidecar\'s 2 s aside)', async () => {
    starting({});

    const first = await look(at(0.2), CLOCK);

    expect(first.data).toMatchObject({ earliestAvailableSeconds: 2, nextCheckSeconds: 5 });
  });

  it('never sleeps past the progress deadline frontier-dr judges: the look that fails the rollout comes at the deadline', async () => {
    starting({ initialDelaySeconds: 20, deadline: 3 });

    const first = await look(at(1), CLOCK);

    // The deadline runs from the scale (no progress seen): 3 s after it, 2 s after this look.
    expect(first.data.nextCheckSeconds).toBe(2);
    await expect(look(at(1 + first.data.nextCheckSeconds + 0.1), first.data.progress)).rejects.toThrow(RolloutFailed);
  });

  it('leaves a deadline Kubernetes times to Kubernetes, and never sleeps past kubernetes.rolloutTimeoutMinutes', async () => {
    starting({ deadline: 3, conditions: [UPDATING] });

    expect((await look(at(1), CLOCK)).data).toMatchObject({ timedByKubernetes: true, nextCheckSeconds: 5 });
    // 5 min after SINCE is the limit: 2.5 s before it, the wait ends at it.
    expect((await look(at(300 - 5 - 2.5), CLOCK)).data.nextCheckSeconds).toBe(2);
  });
});
