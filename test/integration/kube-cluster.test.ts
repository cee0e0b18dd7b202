// LocalCluster (local/kube-cluster.ts), what every cluster test and the local environment stand on: a
// real control plane with deploy/rbac/ installed, behind the fault proxy the product connects through.
// Each method is proved against the real thing, through the product's own connection (EKS token,
// cluster CA) where the product would see it.
import { rolloutStatus, assessCluster, readDeployment, scaleDeployment } from '../../shared/kubernetes/workloads.js';
import { connectToCluster, type KubernetesConnection } from '../../shared/kubernetes/connection.js';
import { KubernetesTransientError, KubernetesUnauthorized, KubernetesUnreachable } from '../../shared/errors.js';
import { startLocalCluster, until, type LocalCluster } from '../../local/kube-cluster.js';
import { rbacDocumentsForNamespace, rbacGroups, rbacDocuments } from '../../local/rbac.js';
import { EMULATOR_CREDENTIALS } from '../../local/emulator-clients.js';
import { CoreV1Api } from '@kubernetes/client-node';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';

const BAD_RELEASE = 'frontier/api:1.9.0';
const TEST_TIMEOUT_MS = 120_000;

let cluster: LocalCluster;
let restoreErrorRealm: () => void = () => undefined;
let namespaces = 0;

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  cluster = await startLocalCluster({ name: 'test', clusterName: 'frontier-test', keys: [EMULATOR_CREDENTIALS], neverReadyImages: [BAD_RELEASE], nodes: 3 });
}, 600_000);

afterAll(async () => {
  await cluster?.stop();
  restoreErrorRealm();
}, 60_000);

/** A fresh namespace with deploy/rbac/ installed, for one test. */
async function namespace(): Promise<string> {
  const name = `test-${++namespaces}`;
  await cluster.addNamespace(name);
  return name;
}

/** The product's connection: EKS token signed in-process, the proxy's CA as the cluster CA. */
function connect(options: { requestTimeoutMs?: number } = {}): Promise<KubernetesConnection> {
  return connectToCluster({ name: cluster.clusterName, region: 'us-east-1' }, { resolveEndpoint: () => ({ endpoint: cluster.url, caData: cluster.caData }), credentials: EMULATOR_CREDENTIALS, ...options });
}

const revisionOf = (object: { metadata?: { annotations?: Record<string, string> } }) => object.metadata?.annotations?.['deployment.kubernetes.io/revision'];
const causeOf = (object: { metadata?: { annotations?: Record<string, string> } }) => object.metadata?.annotations?.['kubernetes.io/change-cause'];

describe('LocalCluster', () => {
  it('serves the product over HTTPS with the proxy\'s own CA, in front of the real API server', async () => {
    expect(cluster.url).not.toBe(cluster.plane.url);
    expect(cluster.caData).not.toBe(cluster.plane.caData);
    // Node's own trust store does not know the proxy's CA.
    const refused = await fetch(`${cluster.url}/version`).then(() => undefined, (error: { cause?: { code?: string } }) => error.cause?.code);
    expect(refused).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    const before = cluster.requests.length;
    const assessment = await assessCluster(await connect());
    expect(assessment).toMatchObject({ reachable: true, version: 'v1.34.4', nodes: 3, readyNodes: 3, healthy: true });
    expect(cluster.requests.slice(before).map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/version', 200],
      ['GET', '/api/v1/nodes', 200],
    ]);
    expect(cluster.requests.at(-1)?.query).toEqual({ limit: '500' });
    expect(cluster.acceptedTokens()).toHaveLength(1);
    expect(cluster.plane.webhook?.reviews().at(-1)?.authenticated).toBe(true);
  }, TEST_TIMEOUT_MS);

  it('addNamespace installs deploy/rbac/\'s namespaced objects there; the webhook maps the key to every group they bind', async () => {
    const ns = await namespace();
    const namespaced = rbacDocuments().filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding');
    expect(namespaced.length).toBeGreaterThan(0);
    for (const object of namespaced) {
      const installed = await cluster.object(object.kind === 'Role' ? 'roles' : 'rolebindings', ns, object.metadata!.name!);
      expect(installed).toMatchObject({ kind: object.kind, metadata: { name: object.metadata!.name, namespace: ns } });
    }
    for (const object of rbacDocuments().filter((o) => o.kind === 'ClusterRole')) {
      expect(await cluster.object('clusterroles', undefined, object.metadata!.name!)).toBeDefined();
    }
    // A ClusterRole that names deploy/rbac/'s namespace (the apply's patch of its own Namespace) is copied for this one, with its binding.
    const copies = rbacDocumentsForNamespace(ns).filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding');
    expect(copies.map((o) => o.metadata.name)).toEqual([`frontier-dr:apply-manifests-to-backup:${ns}`, `frontier-dr:apply-manifests-to-backup:${ns}`]);
    expect(await cluster.object('clusterroles', undefined, `frontier-dr:apply-manifests-to-backup:${ns}`)).toMatchObject({ rules: [{ resources: ['namespaces'], resourceNames: [ns], verbs: ['patch'] }] });
    expect(await cluster.object('clusterrolebindings', undefined, `frontier-dr:apply-manifests-to-backup:${ns}`)).toMatchObject({ subjects: [{ kind: 'Group', name: 'frontier-dr:apply-manifests-to-backup' }] });
    expect(await cluster.object('roles', ns, 'no-such-role')).toBeUndefined();
    // For another deployment config, the Secret deploy/rbac/ names is the config's (startLocalCluster secretNames).
    const secretRules = (secrets?: string[]) =>
      rbacDocumentsForNamespace(ns, secrets ? { secrets } : {}).flatMap((d) => ((d as { rules?: { resources?: string[]; resourceNames?: string[] }[] }).rules ?? []).filter((r) => r.resources?.includes('secrets')).map((r) => r.resourceNames));
    // The database-URL Secret follows the config; the API keys' copy keeps its own name.
    expect(secretRules()).toEqual([['frontier-secrets'], ['frontier-api-keys']]);
    expect(secretRules(['orders-db', 'billing-db'])).toEqual([['orders-db', 'billing-db'], ['frontier-api-keys']]);
    expect(rbacGroups().length).toBeGreaterThan(0);
    // The product may read a deployment there (deploy/rbac/ grants it); in a namespace without the
    // RBAC, it may not.
    await cluster.addDeployment(ns, 'web', { image: 'frontier/api:1.8.2', replicas: 1 });
    const conn = await connect();
    expect((await readDeployment(conn, ns, 'web')).metadata?.name).toBe('web');
    await cluster.addDeployment('without-rbac', 'web', { image: 'frontier/api:1.8.2', replicas: 0 });
    await expect(readDeployment(conn, 'without-rbac', 'web')).rejects.toBeInstanceOf(KubernetesUnauthorized);
  }, TEST_TIMEOUT_MS);

  it('addDeployment builds revisions 1..n by real rollouts, each ReplicaSet with its change-cause', async () => {
    const ns = await namespace();
    const revisions = ['frontier/api:1.8.0', 'frontier/api:1.8.1', 'frontier/api:1.8.2'];
    const changeCauses = ['release 1.8.0', 'release 1.8.1', 'release 1.8.2'];
    await cluster.addDeployment(ns, 'frontier-api', { revisions, changeCauses, replicas: 3 });

    const deployment = (await cluster.deployment(ns, 'frontier-api'))!;
    expect(revisionOf(deployment)).toBe('3');
    expect(causeOf(deployment)).toBe('release 1.8.2');
    expect(deployment.spec?.template.spec?.containers.map((c) => [c.name, c.image])).toEqual([['frontier-api', 'frontier/api:1.8.2']]);
    expect(deployment.status).toMatchObject({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    const replicaSets = await cluster.replicaSets(ns, 'frontier-api');
    expect(replicaSets.map((rs) => [revisionOf(rs), causeOf(rs), rs.spec?.template?.spec?.containers[0]?.image, rs.spec?.replicas])).toEqual([
      ['1', 'release 1.8.0', 'frontier/api:1.8.0', 0],
      ['2', 'release 1.8.1', 'frontier/api:1.8.1', 0],
      ['3', 'release 1.8.2', 'frontier/api:1.8.2', 3],
    ]);
    expect(await rolloutStatus(await connect(), ns, 'frontier-api')).toMatchObject({ done: true, revision: 3 });

    // rollOut to an earlier release: the controller takes its ReplicaSet back as revision 4.
    await cluster.rollOut(ns, 'frontier-api', 'frontier/api:1.8.1', 'back to 1.8.1');
    const back = (await cluster.replicaSets(ns, 'frontier-api')).map((rs) => [revisionOf(rs), rs.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], causeOf(rs), rs.spec?.template?.spec?.containers[0]?.image, rs.spec?.replicas]);
    expect(back).toEqual([
      ['1', undefined, 'release 1.8.0', 'frontier/api:1.8.0', 0],
      ['3', undefined, 'release 1.8.2', 'frontier/api:1.8.2', 0],
      ['4', '2', 'back to 1.8.1', 'frontier/api:1.8.1', 3],
    ]);

    // Scaled to zero, the history is the same; other deployments' ReplicaSets are not its own.
    await cluster.addDeployment(ns, 'standby', { revisions: revisions.slice(0, 2), replicas: 0 });
    expect((await cluster.replicaSets(ns, 'standby')).map((rs) => [revisionOf(rs), rs.spec?.replicas])).toEqual([
      ['1', 0],
      ['2', 0],
    ]);
    expect(await cluster.replicaSets(ns)).toHaveLength(5);
    expect(await cluster.deployment(ns, 'no-such-deployment')).toBeUndefined();

    // Seeded with a faster strategy (all new pods at once): the same history, and the default strategy after.
    await cluster.addDeployment(ns, 'fast', { revisions, changeCauses, replicas: 3, strategy: { maxSurge: '100%', maxUnavailable: 0 } });
    const fast = (await cluster.deployment(ns, 'fast'))!;
    expect(fast.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(revisionOf(fast)).toBe('3');
    expect(fast.status).toMatchObject({ replicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: fast.metadata?.generation });
    expect((await cluster.replicaSets(ns, 'fast')).map((rs) => [revisionOf(rs), causeOf(rs), rs.spec?.template?.spec?.containers[0]?.image, rs.spec?.replicas])).toEqual([
      ['1', 'release 1.8.0', 'frontier/api:1.8.0', 0],
      ['2', 'release 1.8.1', 'frontier/api:1.8.1', 0],
      ['3', 'release 1.8.2', 'frontier/api:1.8.2', 3],
    ]);
  }, TEST_TIMEOUT_MS);

  it('a bad release (a never-ready image) stalls its rollout: the old pods keep serving; a short deadline really passes', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, 'frontier-api', { revisions: ['frontier/api:1.8.2', BAD_RELEASE], replicas: 3, progressDeadlineSeconds: 2 });
    const stalled = (await cluster.deployment(ns, 'frontier-api'))!;
    expect(revisionOf(stalled)).toBe('2');
    expect(stalled.status).toMatchObject({ updatedReplicas: 1, availableReplicas: 3 });
    await expect(cluster.waitForRollout(ns, 'frontier-api', 30_000)).rejects.toThrow(/exceeded its progress deadline/);
    const conn = await connect();
    await expect(rolloutStatus(conn, ns, 'frontier-api')).rejects.toThrow(/progress deadline/);
  }, TEST_TIMEOUT_MS);

  it('addConfigMap and addSecret create or replace; configMapData and secretData read them back', async () => {
    const ns = await namespace();
    await cluster.addConfigMap(ns, 'frontier-config', { LOG_LEVEL: 'info', emergency_mode: 'false' });
    await cluster.addSecret(ns, 'frontier-secrets', { 'database-url': 'postgres://u:p@db:5432/frontier' });
    expect(await cluster.configMapData(ns, 'frontier-config')).toEqual({ LOG_LEVEL: 'info', emergency_mode: 'false' });
    expect(await cluster.secretData(ns, 'frontier-secrets')).toEqual({ 'database-url': 'postgres://u:p@db:5432/frontier' });
    // Stored as the API stores it: base64.
    expect((await cluster.object('secrets', ns, 'frontier-secrets')) as unknown).toMatchObject({ type: 'Opaque', data: { 'database-url': Buffer.from('postgres://u:p@db:5432/frontier').toString('base64') } });
    await cluster.addConfigMap(ns, 'frontier-config', { LOG_LEVEL: 'debug' });
    expect(await cluster.configMapData(ns, 'frontier-config')).toEqual({ LOG_LEVEL: 'debug' });
    expect(await cluster.configMapData(ns, 'missing')).toBeUndefined();
    expect(await cluster.secretData(ns, 'missing')).toBeUndefined();
  }, TEST_TIMEOUT_MS);

  it('failNext answers the next matching request with a Status (503), drops its connection, or loses the answer of a change the server made', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, 'web', { image: 'frontier/api:1.8.2', replicas: 1 });
    const conn = await connect();
    const before = cluster.requests.length;

    cluster.failNext({ method: 'GET', path: `/namespaces/${ns}/deployments/web`, status: 503, message: 'etcdserver: request timed out' });
    const unavailable = await readDeployment(conn, ns, 'web').catch((error: unknown) => error);
    expect(unavailable).toBeInstanceOf(KubernetesTransientError);
    expect((unavailable as Error).message).toContain('(HTTP 503): etcdserver: request timed out');
    expect((await readDeployment(conn, ns, 'web')).metadata?.name).toBe('web');

    cluster.failNext({ path: /\/deployments\/web$/, drop: true, times: 2 });
    await expect(readDeployment(conn, ns, 'web')).rejects.toBeInstanceOf(KubernetesUnreachable);
    await expect(readDeployment(conn, ns, 'web')).rejects.toBeInstanceOf(KubernetesUnreachable);
    expect((await readDeployment(conn, ns, 'web')).metadata?.name).toBe('web');

    expect(cluster.requests.slice(before).map((r) => r.status)).toEqual([503, 200, 0, 0, 200]);

    // lose: the server scales, the product hears 503 (a write whose answer was lost).
    cluster.failNext({ method: 'PATCH', path: `/deployments/web/scale`, lose: true });
    await expect(scaleDeployment(conn, ns, 'web', 2)).rejects.toBeInstanceOf(KubernetesTransientError);
    expect((await cluster.deployment(ns, 'web'))?.spec?.replicas).toBe(2);
    expect(cluster.requests.at(-1)).toMatchObject({ method: 'PATCH', status: 503 });
    expect(await scaleDeployment(conn, ns, 'web', 2)).toMatchObject({ changed: false, previousReplicas: 2 });
  }, TEST_TIMEOUT_MS);

  it('refuseConnections gives ECONNREFUSED until acceptConnections', async () => {
    const conn = await connect();
    await assessCluster(conn);
    await cluster.refuseConnections();
    try {
      const refused = await assessCluster(conn);
      expect(refused).toMatchObject({ reachable: false, healthy: false, reason: expect.stringContaining('ECONNREFUSED') });
      const fresh = await connect();
      expect((await assessCluster(fresh)).reason).toContain('ECONNREFUSED');
    } finally {
      await cluster.acceptConnections();
    }
    expect(await assessCluster(conn)).toMatchObject({ reachable: true, healthy: true });
  }, TEST_TIMEOUT_MS);

  it('forbid removes the verb from the installed RBAC (the product\'s call fails with KubernetesUnauthorized); restoreRbac puts it back', async () => {
    const ns = await namespace();
    const other = await namespace();
    await cluster.addDeployment(ns, 'web', { image: 'frontier/api:1.8.2', replicas: 1 });
    await cluster.addDeployment(other, 'web', { image: 'frontier/api:1.8.2', replicas: 1 });
    const conn = await connect();

    await cluster.forbid({ verb: 'patch', resource: 'deployments/scale', namespace: ns });
    const denied = await scaleDeployment(conn, ns, 'web', 2).catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(KubernetesUnauthorized);
    expect((denied as Error).message).toMatch(/forbidden by RBAC \(403\).*cannot patch resource "deployments\/scale" in API group "apps" in the namespace/);
    // Only that verb, only there: reading the scale still works, and so does patching it elsewhere.
    expect(await scaleDeployment(conn, ns, 'web', 1)).toMatchObject({ changed: false });
    expect(await scaleDeployment(conn, other, 'web', 2)).toMatchObject({ changed: true, replicas: 2 });
    expect(cluster.requests.filter((r) => r.method === 'PATCH' && r.path.includes(`/namespaces/${ns}/`)).map((r) => r.status)).toEqual([403]);

    // Cluster-wide: the ClusterRole's node list.
    await cluster.forbid({ verb: 'list', resource: 'nodes' });
    await expect(assessCluster(conn)).rejects.toBeInstanceOf(KubernetesUnauthorized);

    await cluster.restoreRbac();
    await expect(assessCluster(conn)).resolves.toMatchObject({ healthy: true });
    expect(await scaleDeployment(conn, ns, 'web', 2)).toMatchObject({ changed: true, replicas: 2 });
  }, TEST_TIMEOUT_MS);

  it('setNodeReady(false) makes a real NotReady node: tainted, its pods evicted and replaced on the Ready nodes; setNodeReady(true) brings it back', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, 'spread', { image: 'frontier/api:1.8.2', replicas: 6 });
    const conn = await connect();
    const [node] = await cluster.nodes();
    const core = cluster.plane.adminKubeConfig().makeApiClient(CoreV1Api);
    /** The deployment's pods that are not being deleted, by node. */
    const activePods = async () => (await core.listNamespacedPod({ namespace: ns })).items.filter((pod) => !pod.metadata?.deletionTimestamp);
    expect((await activePods()).filter((pod) => pod.spec?.nodeName === node!.name).length).toBeGreaterThan(0);
    try {
      await cluster.setNodeReady(node!.name, false);
      expect(await assessCluster(conn)).toMatchObject({ nodes: 3, readyNodes: 2, healthy: true });
      expect((await cluster.nodes()).find((n) => n.name === node!.name)).toMatchObject({ ready: false });
      // The node-lifecycle controller taints it; the taint-eviction controller evicts its pods (they
      // tolerate a not-ready node for 2 s) and the ReplicaSet replaces them on the Ready nodes.
      const tainted = (await until('the not-ready node tainted NoExecute', async () => {
        const seen = (await cluster.object('nodes', undefined, node!.name)) as { spec?: { taints?: { key: string; effect: string }[] } } | undefined;
        return seen?.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready' && t.effect === 'NoExecute') ? seen : undefined;
      }))!;
      expect(tainted.spec?.taints).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' })]));
      const moved = await until('the pods moved off the not-ready node', async () => {
        const pods = await activePods();
        return pods.length === 6 && pods.every((pod) => pod.spec?.nodeName && pod.spec.nodeName !== node!.name) ? pods : undefined;
      });
      expect(moved).toHaveLength(6);
      expect((await cluster.waitForRollout(ns, 'spread')).status?.availableReplicas).toBe(6);
    } finally {
      await cluster.setNodeReady(node!.name, true);
    }
    expect(await assessCluster(conn)).toMatchObject({ nodes: 3, readyNodes: 3, healthy: true });

    const lost = await cluster.addNode(false);
    expect(await assessCluster(conn)).toMatchObject({ nodes: 4, readyNodes: 3 });
    await cluster.setNodeReady(lost, true);
    expect(await assessCluster(conn)).toMatchObject({ nodes: 4, readyNodes: 4 });
  }, TEST_TIMEOUT_MS);

  it('blockScheduling stalls a rollout (new pods stay Pending) until it is lifted', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, 'web', { image: 'frontier/api:1.8.1', replicas: 2 });
    const conn = await connect();
    await cluster.blockScheduling(true);
    try {
      expect((await cluster.nodes()).every((n) => n.unschedulable)).toBe(true);
      await scaleDeployment(conn, ns, 'web', 4);
      await expect(cluster.waitForRollout(ns, 'web', 2_000)).rejects.toThrow(/timed out/);
      expect(await rolloutStatus(conn, ns, 'web')).toMatchObject({ done: false, availableReplicas: 2 });
    } finally {
      await cluster.blockScheduling(false);
    }
    expect((await cluster.waitForRollout(ns, 'web')).status?.availableReplicas).toBe(4);
  }, TEST_TIMEOUT_MS);

  it('expireTokensIssuedBefore: the webhook refuses the older token once (401), the product mints a new one and goes on', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, 'web', { image: 'frontier/api:1.8.2', replicas: 1 });
    const conn = await connect();
    await readDeployment(conn, ns, 'web');
    // X-Amz-Date has whole seconds: the next token must be minted in a later second than the cut.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const unauthorized = cluster.unauthorizedCount();
    const tokens = cluster.acceptedTokens().length;
    // Resolves once kube-apiserver's own cache of the accepted token (10 s) has lapsed.
    const cut = Date.now();
    await cluster.expireTokensIssuedBefore(new Date(Math.floor(cut / 1_000) * 1_000));
    expect(Date.now() - cut).toBeGreaterThan(7_000);

    expect((await readDeployment(conn, ns, 'web')).metadata?.name).toBe('web');
    expect(cluster.unauthorizedCount()).toBe(unauthorized + 1);
    expect(cluster.acceptedTokens()).toHaveLength(tokens + 1);
    expect(cluster.plane.webhook?.reviews().some((r) => !r.authenticated && /expired/.test(r.detail))).toBe(true);
  }, TEST_TIMEOUT_MS);
});

