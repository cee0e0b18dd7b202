// Rollback edge cases (issue 8): a second rollback must not bring back the release the first one
// removed; a rollback restores the target's change-cause like `kubectl rollout undo`; a progress
// deadline left on the deployment by the failed rollout is not the rollback's own failure. Here the
// choice and the requests (client double, no network); test/integration/rollback.test.ts runs them
// against a real deployment controller.
import type { V1ReplicaSet } from '@kubernetes/client-node';
import { NothingToRollBack, RolloutFailed } from '../../shared/errors.js';
import {
  CHANGE_CAUSE_ANNOTATION,
  chooseRollback,
  planRollback,
  releasesRemovedByRollbacks,
  revisionHistory,
  rollbackAnnotations,
  rollbackDeployment,
} from '../../shared/kubernetes/rollback.js';
import { rolloutStatus } from '../../shared/kubernetes/workloads.js';
import { answerDeployment, connectToDouble, deploymentObject, deploymentPath, KubeClientDouble, listOf, replicaSetObject } from '../support/kube-client-double.js';

const NS = 'production';
const API = 'frontier-api';
const IMAGES = ['api:1', 'api:2', 'api:3', 'api:4'];
const CAUSES = IMAGES.map((image) => `kubectl set image deployment/${API} api=${image}`);

function replicaSet(name: string, revision: string, image: string, history?: string, changeCause?: string): V1ReplicaSet {
  return {
    metadata: {
      name,
      annotations: {
        'deployment.kubernetes.io/revision': revision,
        ...(history ? { 'deployment.kubernetes.io/revision-history': history } : {}),
        ...(changeCause ? { [CHANGE_CAUSE_ANNOTATION]: changeCause } : {}),
      },
    },
    spec: { selector: {}, template: { metadata: { labels: { app: 'api', 'pod-template-hash': name } }, spec: { containers: [{ name: 'api', image }] } } },
  };
}

describe('releasesRemovedByRollbacks and chooseRollback', () => {
  it('after one rollback (3 came back as 5), passes over 4, the release that rollback removed', () => {
    const history = revisionHistory([replicaSet('api-a', '1', 'api:1'), replicaSet('api-b', '2', 'api:2'), replicaSet('api-c', '5', 'api:3', '3'), replicaSet('api-d', '4', 'api:4')]);

    expect(releasesRemovedByRollbacks(history)).toEqual([{ revision: 4, replicaSet: 'api-d', removedAt: 5 }]);
    expect(chooseRollback(5, history)).toMatchObject({ target: { revision: 2, replicaSet: 'api-b' }, skipped: [{ revision: 4, removedAt: 5 }] });
  });

  it('after two rollbacks, passes over both removed releases', () => {
    // 1,2,3,4 -> undo to 3 (5) -> undo to 2 (6): 4 removed at 5, 3 (now 5) removed at 6.
    const history = revisionHistory([replicaSet('api-a', '1', 'api:1'), replicaSet('api-b', '6', 'api:2', '2'), replicaSet('api-c', '5', 'api:3', '3'), replicaSet('api-d', '4', 'api:4')]);

    expect(releasesRemovedByRollbacks(history).map((r) => [r.revision, r.removedAt])).toEqual([
      [4, 5],
      [5, 6],
    ]);
    expect(chooseRollback(6, history).target.revision).toBe(1);
  });

  it('follows a revision-history with several entries (a ReplicaSet that came back twice)', () => {
    // 1 (a), 2 (b), back to a as 3, 4 (c), back to a as 5: b removed at 3, c removed at 5.
    const history = revisionHistory([replicaSet('api-a', '5', 'api:1', '1,3'), replicaSet('api-b', '2', 'api:2'), replicaSet('api-c', '4', 'api:3')]);

    expect(releasesRemovedByRollbacks(history).map((r) => r.replicaSet)).toEqual(['api-b', 'api-c']);
  });

  it('does not count a release that came back after it was removed', () => {
    // 1 (a), 2 (b), back to a as 3, b again as 4 (history 2), 5 (c): b is in service again after its removal.
    const history = revisionHistory([replicaSet('api-a', '3', 'api:1', '1'), replicaSet('api-b', '4', 'api:2', '2'), replicaSet('api-c', '5', 'api:3')]);

    expect(releasesRemovedByRollbacks(history)).toEqual([{ revision: 3, replicaSet: 'api-a', removedAt: 4 }]);
    expect(chooseRollback(5, history).target.replicaSet).toBe('api-b');
  });

  it('refuses with NothingToRollBack, asking for toRevision, when every earlier release was removed by a rollback', () => {
    // 1 (a), 2 (b, bad), back to a as 3: rolling back again would bring b back.
    const history = revisionHistory([replicaSet('api-a', '3', 'api:1', '1'), replicaSet('api-b', '2', 'api:2')]);

    expect(() => chooseRollback(3, history)).toThrow(NothingToRollBack);
    expect(() => chooseRollback(3, history)).toThrow(
      'every revision earlier than the current one (3) is a release an earlier rollback took out of service: 2 (removed by the rollback at revision 3); to go back to one of them anyway, start the rollback again with toRevision',
    );
    // Asked for by number, it is allowed.
    expect(chooseRollback(3, history, 2).target.replicaSet).toBe('api-b');
  });

  it('without any rollback in the history, is kubectl rollout undo (the revision just below)', () => {
    const history = revisionHistory(IMAGES.map((image, i) => replicaSet(`api-${i}`, String(i + 1), image)));

    expect(releasesRemovedByRollbacks(history)).toEqual([]);
    expect(chooseRollback(4, history)).toMatchObject({ target: { revision: 3 }, skipped: [] });
  });
});

describe('rollbackAnnotations', () => {
  it("takes the ReplicaSet's annotations (change-cause) and keeps the controller's bookkeeping from the deployment", () => {
    const deployment = {
      'deployment.kubernetes.io/revision': '4',
      [CHANGE_CAUSE_ANNOTATION]: 'bad release',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      'example.com/owner': 'team-a',
    };
    const rs = {
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/revision-history': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      [CHANGE_CAUSE_ANNOTATION]: 'good release',
    };

    // Like kubectl: annotations only on the deployment (example.com/owner) are not kept.
    expect(rollbackAnnotations(deployment, rs)).toEqual({
      'deployment.kubernetes.io/revision': '4',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      [CHANGE_CAUSE_ANNOTATION]: 'good release',
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// The requests a rollback sends and the looks that follow it, against the client double. What the
// deployment controller does with them (re-numbering, revision-history, the change-cause it copies,
// the conditions it leaves) is tested on a real control plane: test/integration/rollback.test.ts.

const deploymentUrl = deploymentPath(NS, API);

/** Releases api:1..4 with their change-causes, revision 4 current (as `kubectl set image` four times leaves it). */
function fourReleases(): { double: KubeClientDouble; replicaSets: V1ReplicaSet[] } {
  const double = new KubeClientDouble();
  const { replicaSets } = answerDeployment(double, { namespace: NS, name: API, revisions: IMAGES, changeCauses: CAUSES, replicas: 2 });
  return { double, replicaSets };
}

describe('rollbackDeployment', () => {
  it("puts back the target's pod template (without its pod-template-hash) and its annotations, keeping the controller's bookkeeping, in one JSON patch", async () => {
    const { double } = fourReleases();
    double.on('GET', deploymentUrl, {
      body: deploymentObject({
        namespace: NS,
        name: API,
        image: 'api:4',
        replicas: 2,
        revision: 4,
        annotations: { [CHANGE_CAUSE_ANNOTATION]: CAUSES[3]!, 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'example.com/owner': 'team-a' },
      }),
    });
    const conn = await connectToDouble(double);

    const result = await rollbackDeployment(conn, NS, API);

    expect(result).toEqual({ fromRevision: 4, toRevision: 3, replicaSet: `${API}-rs3`, images: ['api:3'], changed: true });
    const patches = double.sent('PATCH', deploymentUrl);
    expect(patches).toHaveLength(1);
    expect(patches[0]!.contentType).toBe('application/json-patch+json');
    expect(patches[0]!.body).toEqual([
      { op: 'replace', path: '/spec/template', value: { metadata: { labels: { app: API } }, spec: { containers: [{ name: 'app', image: 'api:3' }] } } },
      {
        op: 'add',
        path: '/metadata/annotations',
        value: { 'deployment.kubernetes.io/revision': '4', 'kubectl.kubernetes.io/last-applied-configuration': '{}', [CHANGE_CAUSE_ANNOTATION]: CAUSES[2] },
      },
    ]);
    // The ReplicaSets were listed by the deployment's selector.
    expect(double.sent('GET', /\/replicasets$/)[0]!.query.labelSelector).toBe(`app=${API}`);
  });

  it('counts only the ReplicaSets the deployment owns (another owner with the same labels is not its history)', async () => {
    const { double, replicaSets } = fourReleases();
    const stranger = replicaSetObject({ namespace: NS, name: 'other-rs9', deployment: { name: 'other', uid: 'uid-other' }, image: 'other:9', revision: 9, labels: { app: API } });
    double.on('GET', /\/replicasets$/, { body: listOf('ReplicaSetList', [...replicaSets, stranger]) });
    const conn = await connectToDouble(double);

    const plan = await planRollback(conn, NS, API, 3);
    await expect(planRollback(conn, NS, API, 9)).rejects.toThrow("revision 9 is not in the deployment's history (revisions kept: 1, 2, 3, 4)");

    expect(plan).toMatchObject({ currentRevision: 4, targetRevision: 3, targetImages: ['api:3'] });
  });

  it('after a rollback whose only earlier release is the removed one, refuses and sends no patch', async () => {
    // 1 (api:1), 2 (api:2), rolled back to api:1 as 3.
    const double = new KubeClientDouble()
      .on('GET', deploymentUrl, { body: deploymentObject({ namespace: NS, name: API, image: 'api:1', replicas: 2, revision: 3 }) })
      .on('GET', /\/replicasets$/, {
        body: listOf('ReplicaSetList', [
          replicaSetObject({ namespace: NS, name: `${API}-rs1`, deployment: { name: API }, image: 'api:1', revision: 3, history: [1] }),
          replicaSetObject({ namespace: NS, name: `${API}-rs2`, deployment: { name: API }, image: 'api:2', revision: 2 }),
        ]),
      });
    const conn = await connectToDouble(double);

    await expect(rollbackDeployment(conn, NS, API)).rejects.toThrow(NothingToRollBack);
    await expect(planRollback(conn, NS, API)).rejects.toThrow(/start the rollback again with toRevision/);
    expect(double.sent('PATCH', /./)).toEqual([]);
  });

  it('sends nothing when the deployment already runs the target template (a re-run of the same rollback)', async () => {
    const double = new KubeClientDouble()
      .on('GET', deploymentUrl, { body: deploymentObject({ namespace: NS, name: API, image: 'api:1', replicas: 2, revision: 5 }) })
      .on('GET', /\/replicasets$/, {
        body: listOf('ReplicaSetList', [
          replicaSetObject({ namespace: NS, name: `${API}-rs1`, deployment: { name: API }, image: 'api:1', revision: 5, history: [1] }),
          replicaSetObject({ namespace: NS, name: `${API}-rs4`, deployment: { name: API }, image: 'api:4', revision: 4 }),
        ]),
      });
    const conn = await connectToDouble(double);

    expect(await rollbackDeployment(conn, NS, API, 1)).toEqual({ fromRevision: 5, toRevision: 5, replicaSet: `${API}-rs1`, images: ['api:1'], changed: false });
    expect(double.sent('PATCH', /./)).toEqual([]);
  });

  it('refuses a paused deployment before reading its history', async () => {
    const double = new KubeClientDouble().on('GET', deploymentUrl, { body: deploymentObject({ namespace: NS, name: API, image: 'api:4', revision: 4, paused: true }) });
    const conn = await connectToDouble(double);

    await expect(rollbackDeployment(conn, NS, API)).rejects.toThrow(/is paused: resume it/);
    expect(double.requests.map((r) => r.path)).toEqual([deploymentUrl]);
  });
});

describe('rolloutStatus after a rollback that follows a failed rollout', () => {
  // Revision 4's rollout exceeded its deadline at 10:00; the rollback to frontier-api-rs3 was applied at
  // 10:20:01.5. The controller's first status after it: generation observed, no progress yet, the old
  // ProgressDeadlineExceeded still in place.
  const SINCE = '2026-11-20T10:20:01.500Z';
  const REPLICA_SET = `${API}-rs3`;
  const deadline = (replicaSet: string, at?: string) => ({
    type: 'Progressing',
    status: 'False',
    reason: 'ProgressDeadlineExceeded',
    message: `ReplicaSet "${replicaSet}" has timed out progressing.`,
    ...(at ? { lastUpdateTime: at, lastTransitionTime: at } : {}),
  });
  // The ReplicaSets a look may read to tell whose deadline a condition is: revision 4's (the failed
  // release) and revision 3's (the rollback's target, the deployment's template now).
  const replicaSetUrl = (name: string) => `/apis/apps/v1/namespaces/${NS}/replicasets/${name}`;
  async function answering(condition: ReturnType<typeof deadline> | { type: string; status: string; reason: string; message: string }, done = false) {
    const double = new KubeClientDouble()
      .on('GET', replicaSetUrl(`${API}-rs4`), { body: replicaSetObject({ namespace: NS, name: `${API}-rs4`, deployment: { name: API }, image: 'api:4', revision: 4 }) })
      .on('GET', replicaSetUrl(REPLICA_SET), { body: replicaSetObject({ namespace: NS, name: REPLICA_SET, deployment: { name: API }, image: 'api:3', revision: 5 }) });
    double.on('GET', deploymentUrl, {
      body: deploymentObject({
        namespace: NS,
        name: API,
        image: 'api:3',
        replicas: 2,
        revision: 5,
        generation: 6,
        status: done ? {} : { replicas: 3, updatedReplicas: 1, availableReplicas: 2 },
        conditions: [condition],
      }),
    });
    return Object.assign(await connectToDouble(double), { double });
  }

  it('is not failed by the deadline condition of the rollout the rollback replaced (older, other ReplicaSet)', async () => {
    const conn = await answering(deadline(`${API}-rs4`, '2026-11-20T10:00:00Z'));
    // Without knowing which rollout it waits for, the look reads the ReplicaSet the condition names: its
    // pod template (api:4) is not the deployment's (api:3) any more, so the condition is an earlier
    // rollout's and is ignored too.
    const unknowing = await rolloutStatus(conn, NS, API);
    expect(unknowing.done).toBe(false);
    expect(unknowing.message).toBe(
      `1 of 2 new replicas updated (a progress deadline exceeded by an earlier rollout is ignored: it is about ReplicaSet ${API}-rs4, whose pod template the deployment no longer has (a rollout the current one replaced))`,
    );
    expect(conn.double.sent('GET', replicaSetUrl(`${API}-rs4`)).map((r) => r.status)).toEqual([200]);

    const look = await rolloutStatus(conn, NS, API, { since: SINCE, replicaSet: REPLICA_SET });

    expect(look.done).toBe(false);
    expect(look.message).toBe(
      `1 of 2 new replicas updated (a progress deadline exceeded by an earlier rollout is ignored: it is about ReplicaSet ${API}-rs4, not ${REPLICA_SET})`,
    );
    // Knowing the rollback's ReplicaSet settles it without reading any.
    expect(conn.double.sent('GET', /\/replicasets\//)).toHaveLength(1);
    // Once the controller reports the rollback's progress, the look is done.
    const progressed = await answering({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${REPLICA_SET}" has successfully progressed.` }, true);
    expect(await rolloutStatus(progressed, NS, API, { since: SINCE, replicaSet: REPLICA_SET })).toMatchObject({ done: true });
  });

  it('tells the stale condition by its time alone (no ReplicaSet name known)', async () => {
    const conn = await answering(deadline(`${API}-rs4`, '2026-11-20T10:00:00Z'));

    const look = await rolloutStatus(conn, NS, API, { since: SINCE });

    expect(look.done).toBe(false);
    expect(look.message).toContain('it was last updated at 2026-11-20T10:00:00.000Z, before this rollout started (2026-11-20T10:20:01.500Z)');
  });

  it('tells the stale condition by its ReplicaSet alone (no time known)', async () => {
    const conn = await answering(deadline(`${API}-rs4`));

    expect((await rolloutStatus(conn, NS, API, { replicaSet: REPLICA_SET })).done).toBe(false);
  });

  it("fails with RolloutFailed when the rollback's own rollout exceeds its deadline (even in the second it started)", async () => {
    for (const at of ['2026-11-20T10:31:00Z', '2026-11-20T10:20:01Z']) {
      const conn = await answering(deadline(REPLICA_SET, at));

      const look = rolloutStatus(conn, NS, API, { since: SINCE, replicaSet: REPLICA_SET });

      await expect(look).rejects.toThrow(RolloutFailed);
      await expect(look).rejects.toThrow(`ReplicaSet "${REPLICA_SET}" has timed out progressing.`);
    }
  });

  it('still fails on a deadline condition it cannot tell apart (same ReplicaSet, no usable time)', async () => {
    const conn = await answering(deadline(`${API}-rs4`));

    await expect(rolloutStatus(conn, NS, API, { replicaSet: `${API}-rs4` })).rejects.toThrow(RolloutFailed);
  });
});
