// Rollback edge cases (issue 8): a second rollback must not bring back the release the first one
// removed; a rollback restores the target's change-cause like `kubectl rollout undo`; a progress
// deadline left on the deployment by the failed rollout is not the rollback's own failure.
import type { V1ReplicaSet } from '@kubernetes/client-node';
import { NothingToRollBack, RolloutFailed } from '../../shared/errors.js';
import { connectToCluster, type KubernetesConnection } from '../../shared/kubernetes/connection.js';
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
import { FAKE_AWS_CREDENTIALS, startKubeFake, type KubeFake } from '../../local/kube-fake.js';

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
// Against the Kubernetes fake (its controller keeps revision-history and copies annotations like the real one)

let fake: KubeFake | undefined;
let clock = new Date('2026-11-20T10:00:00Z');

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function seeded(): Promise<{ server: KubeFake; conn: KubernetesConnection }> {
  clock = new Date('2026-11-20T10:00:00Z');
  const server = await startKubeFake({ tickMs: 3_600_000, now: () => clock });
  fake = server;
  server.addDeployment(NS, API, { revisions: IMAGES, changeCauses: CAUSES, replicas: 2 });
  const conn = await connectToCluster({ name: server.clusterName, region: 'us-east-1' }, { resolveEndpoint: () => ({ endpoint: server.url }), credentials: FAKE_AWS_CREDENTIALS });
  return { server, conn };
}

function settle(server: KubeFake): void {
  for (let i = 0; i < 30; i++) server.tick();
}

function annotationsOf(object: Record<string, unknown> | undefined): Record<string, string> {
  return ((object?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations ?? {}) as Record<string, string>;
}

function historyOf(server: KubeFake): [string, string, string | null, string | null][] {
  return server
    .replicaSets(NS, API)
    .map((rs) => {
      const a = annotationsOf(rs);
      const image = (rs.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;
      return [a['deployment.kubernetes.io/revision']!, image, a['deployment.kubernetes.io/revision-history'] ?? null, a[CHANGE_CAUSE_ANNOTATION] ?? null] as [string, string, string | null, string | null];
    })
    .sort((x, y) => Number(x[0]) - Number(y[0]));
}

describe('rollbackDeployment against the fake', () => {
  it("restores the target's change-cause on the deployment, so the history does not show the bad release's cause twice", async () => {
    const { server, conn } = await seeded();

    const result = await rollbackDeployment(conn, NS, API);
    settle(server);

    expect(result).toMatchObject({ fromRevision: 4, toRevision: 3, changed: true, images: ['api:3'] });
    expect(result.replicaSet).toMatch(/^frontier-api-/);
    expect(annotationsOf(server.deployment(NS, API))[CHANGE_CAUSE_ANNOTATION]).toBe(CAUSES[2]);
    // `kubectl rollout history`: revision 5 is release 3 with its own change-cause (not release 4's).
    expect(historyOf(server)).toEqual([
      ['1', 'api:1', null, CAUSES[0]],
      ['2', 'api:2', null, CAUSES[1]],
      ['4', 'api:4', null, CAUSES[3]],
      ['5', 'api:3', '3', CAUSES[2]],
    ]);
  });

  it('a second rollback goes to release 2, not back to release 4 which the first one removed', async () => {
    const { server, conn } = await seeded();
    await rollbackDeployment(conn, NS, API);
    settle(server);

    const plan = await planRollback(conn, NS, API);
    expect(plan).toMatchObject({ currentRevision: 5, targetRevision: 2, targetImages: ['api:2'], skippedRevisions: [{ revision: 4, removedAt: 5 }] });
    const second = await rollbackDeployment(conn, NS, API, plan.targetRevision);
    settle(server);

    expect(second).toMatchObject({ fromRevision: 5, toRevision: 2, images: ['api:2'], changed: true });
    const deployment = server.deployment(NS, API) as { spec: { template: { spec: { containers: { image: string }[] } } } };
    expect(deployment.spec.template.spec.containers[0]!.image).toBe('api:2');
    expect(annotationsOf(server.deployment(NS, API))).toMatchObject({ 'deployment.kubernetes.io/revision': '6', [CHANGE_CAUSE_ANNOTATION]: CAUSES[1] });
    // A third look: every earlier release but 1 was removed by a rollback.
    expect((await planRollback(conn, NS, API)).targetRevision).toBe(1);
  });

  it('after a rollback whose only earlier release is the removed one, refuses and changes nothing', async () => {
    clock = new Date('2026-11-20T10:00:00Z');
    const server = await startKubeFake({ tickMs: 3_600_000, now: () => clock });
    fake = server;
    server.addDeployment(NS, API, { revisions: ['api:1', 'api:2'], replicas: 2 });
    const conn = await connectToCluster({ name: server.clusterName, region: 'us-east-1' }, { resolveEndpoint: () => ({ endpoint: server.url }), credentials: FAKE_AWS_CREDENTIALS });
    await rollbackDeployment(conn, NS, API);
    settle(server);
    const patches = () => server.requests.filter((r) => r.method === 'PATCH').length;
    const before = patches();

    await expect(rollbackDeployment(conn, NS, API)).rejects.toThrow(NothingToRollBack);
    await expect(planRollback(conn, NS, API)).rejects.toThrow(/start the rollback again with toRevision/);
    expect(patches()).toBe(before);
  });
});

describe('rolloutStatus after a rollback that follows a failed rollout', () => {
  /** Revision 4's rollout exceeded its deadline at 10:00; the rollback is applied at 10:20. */
  async function failedThenRolledBack(): Promise<{ server: KubeFake; conn: KubernetesConnection; replicaSet: string; since: string }> {
    const { server, conn } = await seeded();
    server.setRollout(NS, API, 'fail');
    server.tick();
    const condition = ((server.deployment(NS, API)!.status as { conditions: { type: string; reason: string }[] }).conditions).find((c) => c.type === 'Progressing');
    expect(condition).toMatchObject({ reason: 'ProgressDeadlineExceeded', lastUpdateTime: '2026-11-20T10:00:00Z' });
    clock = new Date('2026-11-20T10:20:00Z');
    server.setRollout(NS, API, 'progress');
    const result = await rollbackDeployment(conn, NS, API);
    // The controller's first status update after the rollback: generation observed, no progress yet,
    // the old ProgressDeadlineExceeded still in place.
    server.tick();
    return { server, conn, replicaSet: result.replicaSet, since: '2026-11-20T10:20:01.500Z' };
  }

  it('is not failed by the deadline condition of the rollout the rollback replaced (older, other ReplicaSet)', async () => {
    const { server, conn, replicaSet, since } = await failedThenRolledBack();
    // Without knowing which rollout it waits for, the look fails (the old behaviour).
    await expect(rolloutStatus(conn, NS, API)).rejects.toThrow(RolloutFailed);

    const look = await rolloutStatus(conn, NS, API, { since, replicaSet });

    expect(look.done).toBe(false);
    expect(look.message).toContain('a progress deadline exceeded by an earlier rollout is ignored');
    // And the rollback's own rollout then completes.
    clock = new Date('2026-11-20T10:21:00Z');
    settle(server);
    expect(await rolloutStatus(conn, NS, API, { since, replicaSet })).toMatchObject({ done: true });
  });

  it('tells the stale condition by its time alone (no ReplicaSet name known)', async () => {
    const { conn, since } = await failedThenRolledBack();

    expect((await rolloutStatus(conn, NS, API, { since })).done).toBe(false);
  });

  it('tells the stale condition by its ReplicaSet alone (no time known)', async () => {
    const { conn, replicaSet } = await failedThenRolledBack();

    expect((await rolloutStatus(conn, NS, API, { replicaSet })).done).toBe(false);
  });

  it("fails with RolloutFailed when the rollback's own rollout exceeds its deadline", async () => {
    const { server, conn, replicaSet, since } = await failedThenRolledBack();
    clock = new Date('2026-11-20T10:31:00Z');
    server.setRollout(NS, API, 'fail');
    server.tick();

    await expect(rolloutStatus(conn, NS, API, { since, replicaSet })).rejects.toThrow(RolloutFailed);
    await expect(rolloutStatus(conn, NS, API, { since, replicaSet })).rejects.toThrow(`ReplicaSet "${replicaSet}" has timed out progressing.`);
  });

  it('still fails on a deadline condition it cannot tell apart (same ReplicaSet, no usable time)', async () => {
    const { server, conn } = await seeded();
    server.setRollout(NS, API, 'fail');
    server.tick();
    const current = server.replicaSets(NS, API).find((rs) => annotationsOf(rs)['deployment.kubernetes.io/revision'] === '4')!;

    await expect(rolloutStatus(conn, NS, API, { replicaSet: String((current.metadata as { name: string }).name) })).rejects.toThrow(RolloutFailed);
  });
});
