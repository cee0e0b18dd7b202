// One look at a rollout (rolloutStatus) judges only the rollout the deployment is in now: a
// ProgressDeadlineExceeded condition counts when it names the deployment's current ReplicaSet (the one
// with its pod template), and is ignored when it names one an earlier rollout left behind, as the
// controller's first passes after a rollback show it. The client layer is a stub here (no network);
// the real controller doing it: test/integration/kubernetes-real-server.test.ts.
import { jest } from '@jest/globals';
import { ApiException, type V1Deployment, type V1PodTemplateSpec, type V1ReplicaSet } from '@kubernetes/client-node';
import { RolloutFailed } from '../../shared/errors.js';
import type { KubernetesConnection } from '../../shared/kubernetes/connection.js';
import { rolloutStatus } from '../../shared/kubernetes/workloads.js';

const NS = 'production';
const API = 'frontier-api';
const UID = 'deployment-uid-1';
const template = (image: string): V1PodTemplateSpec => ({ metadata: { labels: { app: API } }, spec: { containers: [{ name: 'api', image }] } });
const GOOD = template('frontier/api:1.8.2');
const BAD = template('frontier/api:1.9.0');

function deployment(options: { template: V1PodTemplateSpec; generation?: number; observed?: number; message?: string; lastUpdateTime?: string; replicas?: number }): V1Deployment {
  const replicas = options.replicas ?? 1;
  return {
    metadata: { name: API, namespace: NS, uid: UID, generation: options.generation ?? 3, annotations: { 'deployment.kubernetes.io/revision': '3' } },
    spec: { replicas, selector: { matchLabels: { app: API } }, template: options.template },
    status: {
      observedGeneration: options.observed ?? options.generation ?? 3,
      replicas: replicas + 1,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      conditions: options.message
        ? [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: options.message, lastUpdateTime: (options.lastUpdateTime ?? '2026-11-30T10:00:00Z') as unknown as Date }]
        : [],
    },
  };
}

function replicaSet(name: string, podTemplate: V1PodTemplateSpec, ownerUid = UID): V1ReplicaSet {
  const withHash = structuredClone(podTemplate);
  withHash.metadata!.labels = { ...withHash.metadata!.labels, 'pod-template-hash': name.split('-').pop()! };
  return { metadata: { name, namespace: NS, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: API, uid: ownerUid, controller: true }] }, spec: { selector: {}, template: withHash } };
}

/** A connection whose client layer answers from `objects` (a missing ReplicaSet is a 404). */
function stubConnection(current: V1Deployment, replicaSets: V1ReplicaSet[]) {
  const readNamespacedReplicaSet = jest.fn(async ({ name }: { name: string }) => {
    const found = replicaSets.find((rs) => rs.metadata?.name === name);
    if (!found) throw new ApiException(404, 'HTTP 404', JSON.stringify({ kind: 'Status', message: `replicasets.apps "${name}" not found`, code: 404 }), {});
    return found;
  });
  const conn = {
    server: 'https://cluster.example',
    requestTimeoutMs: 1_000,
    token: { current: async () => 'token', refresh: () => false },
    apps: { readNamespacedDeployment: async () => current, readNamespacedReplicaSet },
  } as unknown as KubernetesConnection;
  return { conn, readNamespacedReplicaSet };
}

const timedOut = (name: string) => `ReplicaSet "${name}" has timed out progressing.`;

describe('rolloutStatus and a progress deadline condition', () => {
  it('fails when the condition names the current ReplicaSet (it has the deployment\'s pod template)', async () => {
    const { conn, readNamespacedReplicaSet } = stubConnection(deployment({ template: BAD, message: timedOut('frontier-api-bad') }), [replicaSet('frontier-api-bad', BAD), replicaSet('frontier-api-good', GOOD)]);

    await expect(rolloutStatus(conn, NS, API)).rejects.toThrow(RolloutFailed);
    await expect(rolloutStatus(conn, NS, API)).rejects.toThrow('exceeded its progress deadline: ReplicaSet "frontier-api-bad" has timed out progressing.');
    expect(readNamespacedReplicaSet).toHaveBeenCalledWith(expect.objectContaining({ name: 'frontier-api-bad', namespace: NS }), expect.anything());
  });

  it('ignores a condition naming a ReplicaSet whose template the deployment no longer has (right after a rollback)', async () => {
    const { conn } = stubConnection(deployment({ template: GOOD, message: timedOut('frontier-api-bad') }), [replicaSet('frontier-api-bad', BAD), replicaSet('frontier-api-good', GOOD)]);

    const look = await rolloutStatus(conn, NS, API);

    expect(look.done).toBe(false);
    expect(look.message).toContain('a progress deadline exceeded by an earlier rollout is ignored: it is about ReplicaSet frontier-api-bad, whose pod template the deployment no longer has');
  });

  it('ignores a condition naming a ReplicaSet that is gone, or that another deployment owns', async () => {
    const gone = stubConnection(deployment({ template: GOOD, message: timedOut('frontier-api-old') }), []);
    expect((await rolloutStatus(gone.conn, NS, API)).message).toContain('frontier-api-old, which no longer exists');

    const foreign = stubConnection(deployment({ template: GOOD, message: timedOut('frontier-api-x') }), [replicaSet('frontier-api-x', GOOD, 'another-uid')]);
    expect((await rolloutStatus(foreign.conn, NS, API)).message).toContain('frontier-api-x, which the deployment does not own');
  });

  it('says done once the rolled-back replicas are all there, the stale condition notwithstanding', async () => {
    const current = deployment({ template: GOOD, message: timedOut('frontier-api-bad') });
    current.status!.replicas = 1;
    const { conn } = stubConnection(current, [replicaSet('frontier-api-bad', BAD)]);

    expect(await rolloutStatus(conn, NS, API)).toMatchObject({ done: true });
  });

  it('judges no condition of a generation the controller has not observed yet (and reads nothing more)', async () => {
    const { conn, readNamespacedReplicaSet } = stubConnection(deployment({ template: BAD, generation: 4, observed: 3, message: timedOut('frontier-api-bad') }), [replicaSet('frontier-api-bad', BAD)]);

    expect((await rolloutStatus(conn, NS, API)).message).toBe('waiting for the controller to observe generation 4 (seen 3)');
    expect(readNamespacedReplicaSet).not.toHaveBeenCalled();
  });

  it('fails on a condition that names no ReplicaSet (nothing to tell it apart by)', async () => {
    const { conn, readNamespacedReplicaSet } = stubConnection(deployment({ template: GOOD, message: `Deployment "${API}" has timed out progressing.` }), []);

    await expect(rolloutStatus(conn, NS, API)).rejects.toThrow(RolloutFailed);
    expect(readNamespacedReplicaSet).not.toHaveBeenCalled();
  });

  it('decides by the ReplicaSet the caller names (a rollback\'s target) without reading it', async () => {
    const { conn, readNamespacedReplicaSet } = stubConnection(deployment({ template: GOOD, message: timedOut('frontier-api-bad') }), []);

    expect((await rolloutStatus(conn, NS, API, { replicaSet: 'frontier-api-good' })).message).toContain('it is about ReplicaSet frontier-api-bad, not frontier-api-good');
    await expect(rolloutStatus(conn, NS, API, { replicaSet: 'frontier-api-bad' })).rejects.toThrow(RolloutFailed);
    expect(readNamespacedReplicaSet).not.toHaveBeenCalled();
  });

  it('tells a condition older than the change by its time when the caller gives the time only', async () => {
    const { conn, readNamespacedReplicaSet } = stubConnection(deployment({ template: GOOD, message: timedOut('frontier-api-bad'), lastUpdateTime: '2026-11-30T10:00:00Z' }), []);

    expect((await rolloutStatus(conn, NS, API, { since: '2026-11-30T10:05:00.400Z' })).message).toContain('before this rollout started');
    // Written after the change: this rollout's own deadline.
    await expect(rolloutStatus(conn, NS, API, { since: '2026-11-30T09:59:00Z' })).rejects.toThrow(RolloutFailed);
    expect(readNamespacedReplicaSet).not.toHaveBeenCalled();
  });
});
