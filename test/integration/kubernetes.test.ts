// shared/kubernetes/ over HTTPS against a real control plane (local/kube-cluster.ts: kube-apiserver,
// etcd, the deployment controller, the scheduler, kwok for the nodes and pods), authenticated with the
// product's own EKS tokens by the token webhook and authorised by deploy/rbac/ alone. What the product
// does with an answer or a fault is tested in the unit tier (test/unit/kubernetes.test.ts, against the
// client double); here, what the real server does with the product's requests. Rollbacks:
// test/integration/rollback.test.ts. That deploy/rbac/ allows each Lambda function exactly the calls it
// makes, and nothing more: test/integration/rbac.test.ts. A library call no function makes (yet) is
// not granted by deploy/rbac/; its tests here add a test-only grant beside it (grantForTest), saying so.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AuthorizationV1Api, CoreV1Api, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { applyManifests, parseManifests } from '../../shared/kubernetes/manifests.js';
import { assessCluster, rolloutStatus, scaleDeployment, type RolloutStatus } from '../../shared/kubernetes/workloads.js';
import { connectToCluster, type ConnectOptions, type KubernetesConnection } from '../../shared/kubernetes/connection.js';
import { KubernetesNotFound, KubernetesUnauthorized, KubernetesUnreachable, RolloutFailed } from '../../shared/errors.js';
import { patchConfigMapKeys, patchSecretKeys } from '../../shared/kubernetes/objects.js';
import { readPodLogs } from '../../shared/kubernetes/logs.js';
import { rollbackDeployment } from '../../shared/kubernetes/rollback.js';
import { startLocalCluster, type LocalCluster, type LocalClusterOptions, type RecordedRequest } from '../../local/kube-cluster.js';
import { EMULATOR_CREDENTIALS } from '../../local/emulator-clients.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';

const API = 'frontier-api';
/** A release whose pods run but never become Ready. */
const BAD_RELEASE = 'frontier/api:9.9.9-never-ready';
const TEST_TIMEOUT_MS = 120_000;

let cluster: LocalCluster;
let restoreErrorRealm: () => void = () => undefined;
let namespaces = 0;
/** The Kubernetes user the webhook makes of the product's key (its IAM role's ARN). */
let caller: string;
// The log every container has (kwok serves this file through the API server, as a kubelet would).
const logsDir = mkdtempSync(path.join(os.tmpdir(), 'frontier-dr-kube-logs-'));
const CONTAINER_LOG = path.join(logsDir, 'container.log');

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  writeFileSync(CONTAINER_LOG, '');
  const options: LocalClusterOptions = {
    name: 'kubernetes-test',
    clusterName: 'frontier-kubernetes-test',
    keys: [EMULATOR_CREDENTIALS],
    neverReadyImages: [BAD_RELEASE],
    nodes: 3,
    containerLogsFile: CONTAINER_LOG,
  };
  cluster = await startLocalCluster(options);
  await assessCluster(await connect(), 5_000);
  const review = cluster.plane.webhook?.reviews().find((r) => r.authenticated);
  if (!review) throw new Error('the webhook accepted no token of the product');
  caller = review.detail;
}, 600_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(logsDir, { recursive: true, force: true });
  restoreErrorRealm();
}, 60_000);

/** A fresh namespace with deploy/rbac/ installed, for one test. */
async function namespace(): Promise<string> {
  const name = `kube-${++namespaces}`;
  await cluster.addNamespace(name);
  return name;
}

/**
 * A test-only grant beside deploy/rbac/, in `ns` only: a Role `frontier-dr-test:<name>` with `rules`,
 * bound to the product's user (or to `group`); resolves once the authorizer allows every verb of it.
 * For a library call no Lambda function makes, which deploy/rbac/ therefore does not grant (it grants
 * exactly what the functions call: test/integration/rbac.test.ts).
 */
async function grantForTest(ns: string, name: string, rules: V1PolicyRule[], group?: string): Promise<void> {
  const admin = cluster.plane.adminKubeConfig();
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const metadata = { name: `frontier-dr-test:${name}`, namespace: ns };
  const subject = { apiGroup: 'rbac.authorization.k8s.io', kind: group ? 'Group' : 'User', name: group ?? caller };
  await rbac.createNamespacedRole({ namespace: ns, body: { metadata, rules } });
  await rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: metadata.name }, subjects: [subject] } });
  const authorization = admin.makeApiClient(AuthorizationV1Api);
  const deadline = Date.now() + 30_000;
  for (const rule of rules) {
    for (const [apiGroup, resource, verb] of (rule.apiGroups ?? ['']).flatMap((g) => (rule.resources ?? []).flatMap((r) => rule.verbs.map((v) => [g, r, v] as const)))) {
      const [plural, subresource] = resource.split('/');
      const spec = { ...(group ? { user: 'frontier-dr-test-probe', groups: [group] } : { user: caller }), resourceAttributes: { namespace: ns, verb, group: apiGroup, resource: plural, ...(subresource ? { subresource } : {}) } };
      while (!(await authorization.createSubjectAccessReview({ body: { spec } })).status?.allowed) {
        if (Date.now() > deadline) throw new Error(`the test-only grant of ${verb} ${resource} in ${ns} is not in force after 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

/** The product's connection: EKS token signed in-process, the cluster CA EKS would give. */
function connect(options: ConnectOptions = {}, clusterName = cluster.clusterName): Promise<KubernetesConnection> {
  return connectToCluster(
    { name: clusterName, region: 'us-east-1' },
    { resolveEndpoint: () => ({ endpoint: cluster.url, caData: cluster.caData }), credentials: EMULATOR_CREDENTIALS, ...options },
  );
}

/** The requests the product sent into `ns` from `since` (an index into cluster.requests) on. */
function requestsIn(ns: string, since = 0): RecordedRequest[] {
  return cluster.requests.slice(since).filter((r) => r.path.includes(`/namespaces/${ns}/`) || r.path.endsWith(`/namespaces/${ns}`));
}

const revisionOf = (object: { metadata?: { annotations?: Record<string, string> } } | undefined) => object?.metadata?.annotations?.['deployment.kubernetes.io/revision'];

/** rolloutStatus every 100 ms, like the state machine's Wait/Choice loop, until done (or `timeoutMs`). */
async function lookUntilDone(conn: KubernetesConnection, ns: string, name = API, timeoutMs = 60_000): Promise<RolloutStatus[]> {
  const looks: RolloutStatus[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await rolloutStatus(conn, ns, name);
    looks.push(status);
    if (status.done) return looks;
    if (Date.now() > deadline) throw new Error(`rollout of ${ns}/${name} not done after ${timeoutMs} ms: ${status.message}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('assessCluster', () => {
  it('reports a healthy cluster: the real API version and every node Ready, the node list read in pages of 500', async () => {
    const before = cluster.requests.length;

    const assessment = await assessCluster(await connect(), 5_000);

    expect(assessment).toEqual({ reachable: true, version: 'v1.34.4', nodes: 3, readyNodes: 3, healthy: true, reason: '3 of 3 nodes Ready' });
    expect(cluster.requests.slice(before).map((r) => [r.method, r.path, r.query, r.status])).toEqual([
      ['GET', '/version', {}, 200],
      ['GET', '/api/v1/nodes', { limit: '500' }, 200],
    ]);
  }, TEST_TIMEOUT_MS);

  it('counts nodes that stopped running as NotReady: half Ready is still healthy, fewer is not', async () => {
    const conn = await connect();
    const [first, second] = (await cluster.nodes()).map((n) => n.name);
    const core = cluster.plane.adminKubeConfig().makeApiClient(CoreV1Api);
    const addressesOf = async (name: string) => (await core.readNode({ name })).status?.addresses;
    const addresses = await addressesOf(first!);
    // kwok's own server as each node's kubelet (containerLogsFile): where the API server asks for pod logs.
    expect(addresses).toEqual([{ address: '127.0.0.1', type: 'InternalIP' }]);
    const lost = await cluster.addNode(false, 'ip-10-0-9-9.ec2.internal');
    try {
      expect(await assessCluster(conn, 5_000)).toMatchObject({ reachable: true, nodes: 4, readyNodes: 3, healthy: true });

      await cluster.setNodeReady(first!, false);
      expect(await assessCluster(conn, 5_000)).toMatchObject({ nodes: 4, readyNodes: 2, healthy: true, reason: '2 of 4 nodes Ready' });

      await cluster.setNodeReady(second!, false);
      expect(await assessCluster(conn, 5_000)).toMatchObject({ nodes: 4, readyNodes: 1, healthy: false, reason: 'only 1 of 4 nodes Ready (less than half)' });
    } finally {
      await cluster.setNodeReady(first!, true);
      await cluster.setNodeReady(second!, true);
      await core.deleteNode({ name: lost });
    }
    expect(await assessCluster(conn, 5_000)).toMatchObject({ nodes: 3, readyNodes: 3, healthy: true });
    // Run again, the nodes keep their address: their pods' logs stay readable (readPodLogs below).
    expect(await addressesOf(first!)).toEqual(addresses);
    expect(await addressesOf(second!)).toEqual(addresses);
  }, TEST_TIMEOUT_MS);

  it('reports an API that refuses connections as a result, not an error; other calls are KubernetesUnreachable', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, API, { image: 'api:1', replicas: 1 });
    const conn = await connect();
    await cluster.refuseConnections();
    try {
      const assessment = await assessCluster(conn, 2_000);
      expect(assessment).toMatchObject({ reachable: false, nodes: 0, readyNodes: 0, healthy: false });
      expect(assessment.reason).toContain(`the Kubernetes API at ${cluster.url} could not be reached (ECONNREFUSED)`);
      await expect(scaleDeployment(conn, ns, API, 0)).rejects.toThrow(KubernetesUnreachable);
    } finally {
      await cluster.acceptConnections();
    }
    expect(await assessCluster(conn, 5_000)).toMatchObject({ reachable: true, healthy: true });
    expect((await cluster.deployment(ns, API))?.spec?.replicas).toBe(1);
  }, TEST_TIMEOUT_MS);
});

describe('authentication and RBAC', () => {
  it('refuses a token signed for another cluster (x-k8s-aws-id): KubernetesUnauthorized', async () => {
    const reviews = cluster.plane.webhook?.reviews().length ?? 0;

    await expect(assessCluster(await connect({}, 'frontier-another-cluster'), 5_000)).rejects.toThrow(KubernetesUnauthorized);

    expect(cluster.plane.webhook?.reviews().slice(reviews).some((review) => !review.authenticated)).toBe(true);
  }, TEST_TIMEOUT_MS);

  it('a verb deploy/rbac/ does not grant is KubernetesUnauthorized naming it, with the server\'s reason; nothing changes', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, API, { image: 'api:1', replicas: 3 });
    await cluster.forbid({ verb: 'patch', resource: 'deployments/scale', namespace: ns });
    try {
      const failure = scaleDeployment(await connect(), ns, API, 0);

      await expect(failure).rejects.toThrow(KubernetesUnauthorized);
      await expect(failure).rejects.toThrow(/verb "patch" on resource "deployments\/scale" in API group "apps"/);
      await expect(failure).rejects.toThrow(`cannot patch resource "deployments/scale" in API group "apps" in the namespace "${ns}"`);
    } finally {
      await cluster.restoreRbac();
    }
    expect((await cluster.deployment(ns, API))?.spec?.replicas).toBe(3);
    expect(requestsIn(ns).filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([403]);
  }, TEST_TIMEOUT_MS);
});

describe('request deadline', () => {
  it('an API that accepts the connection but never answers is KubernetesUnreachable after the deadline', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const conn = await connectToCluster({ name: cluster.clusterName, region: 'us-east-1' }, { resolveEndpoint: () => ({ endpoint: url }), credentials: EMULATOR_CREDENTIALS, requestTimeoutMs: 300 });
      const started = Date.now();

      await expect(scaleDeployment(conn, 'production', API, 0)).rejects.toThrow(`the Kubernetes API at ${url} could not be reached (no answer in time). Likely cause`);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await assessCluster(conn, 300)).toMatchObject({ reachable: false, healthy: false });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  }, TEST_TIMEOUT_MS);
});

describe('scaleDeployment', () => {
  it('scales through the scale subresource with a merge patch; a scale is no new revision', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, API, { image: 'api:1', replicas: 3 });
    const conn = await connect();

    const down = await scaleDeployment(conn, ns, API, 0);
    await cluster.waitForRollout(ns, API);
    const up = await scaleDeployment(conn, ns, API, 3);
    const again = await scaleDeployment(conn, ns, API, 3);

    expect(down).toEqual({ previousReplicas: 3, replicas: 0, changed: true });
    expect(up).toEqual({ previousReplicas: 0, replicas: 3, changed: true });
    expect(again).toEqual({ previousReplicas: 3, replicas: 3, changed: false });
    const patches = requestsIn(ns).filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => [r.path, r.contentType, r.status])).toEqual([
      [`/apis/apps/v1/namespaces/${ns}/deployments/${API}/scale`, 'application/merge-patch+json', 200],
      [`/apis/apps/v1/namespaces/${ns}/deployments/${API}/scale`, 'application/merge-patch+json', 200],
    ]);
    const deployment = await cluster.waitForRollout(ns, API);
    expect(deployment.spec?.replicas).toBe(3);
    expect(deployment.status).toMatchObject({ replicas: 3, availableReplicas: 3 });
    // Same template: same revision, one ReplicaSet.
    expect(revisionOf(deployment)).toBe('1');
    expect(await cluster.replicaSets(ns, API)).toHaveLength(1);
  }, TEST_TIMEOUT_MS);
});

describe('patchConfigMapKeys', () => {
  // No Lambda function patches a ConfigMap's keys: deploy/rbac/ grants ConfigMaps only to the apply
  // (patch, create; never get). Test-only grant of what patchConfigMapKeys calls.
  const grantConfigMapKeys = (ns: string) => grantForTest(ns, 'configmap-keys', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'patch'] }]);

  it('sets the given keys, keeps the others, and reports the previous values', async () => {
    const ns = await namespace();
    await grantConfigMapKeys(ns);
    await cluster.addConfigMap(ns, 'frontier-config', { emergency_mode: 'false', log_level: 'info' });

    const result = await patchConfigMapKeys(await connect(), ns, 'frontier-config', { emergency_mode: 'true', read_only_since: '2026-11-25T10:00:00Z' });

    expect(result.keys).toEqual([
      { key: 'emergency_mode', existed: true, previous: 'false', changed: true },
      { key: 'read_only_since', existed: false, changed: true },
    ]);
    expect(await cluster.configMapData(ns, 'frontier-config')).toEqual({ emergency_mode: 'true', log_level: 'info', read_only_since: '2026-11-25T10:00:00Z' });
  }, TEST_TIMEOUT_MS);

  it('changes nothing when the values are already set (safe to run twice)', async () => {
    const ns = await namespace();
    await grantConfigMapKeys(ns);
    await cluster.addConfigMap(ns, 'frontier-config', { emergency_mode: 'true' });
    const before = (await cluster.object('configmaps', ns, 'frontier-config'))?.metadata?.resourceVersion;

    const result = await patchConfigMapKeys(await connect(), ns, 'frontier-config', { emergency_mode: 'true' });

    expect(result.keys).toEqual([{ key: 'emergency_mode', existed: true, previous: 'true', changed: false }]);
    expect(requestsIn(ns).filter((r) => r.method === 'PATCH')).toHaveLength(0);
    expect((await cluster.object('configmaps', ns, 'frontier-config'))?.metadata?.resourceVersion).toBe(before);
  }, TEST_TIMEOUT_MS);
});

describe('patchSecretKeys', () => {
  // The Secret deploy/rbac/'s repoint-application Role names (resourceNames: the config's
  // databases[].recovery.kubernetesSecret.name); no other Secret may be read or patched.
  const SECRET = 'frontier-secrets';

  it('writes a 100 KB UTF-8 value that reads back equal, keeps the other keys, and never returns a value', async () => {
    const ns = await namespace();
    await cluster.addSecret(ns, SECRET, { url: 'postgres://frontier:old-password@old-host:5432/frontier', other: 'kept' });
    const conn = await connect();
    const url = `postgres://frontier:${'ü-密-🔑'.repeat(10_000)}@frontier-prod-restored.aaaaaaaaaa.us-east-1.rds.amazonaws.com:5432/frontier`;
    expect(Buffer.byteLength(url)).toBeGreaterThan(100_000);

    const result = await patchSecretKeys(conn, ns, SECRET, { url, api_key: 'ключ-🔑' });

    const oldHash = createHash('sha256').update('postgres://frontier:old-password@old-host:5432/frontier').digest('hex').slice(0, 12);
    expect(result.keys).toEqual([
      { key: 'url', existed: true, previousSha256Prefix: oldHash, changed: true },
      { key: 'api_key', existed: false, changed: true },
    ]);
    const reported = JSON.stringify(result);
    expect(reported).not.toContain('old-password');
    expect(reported).not.toContain('ключ');
    expect(await cluster.secretData(ns, SECRET)).toEqual({ url, api_key: 'ключ-🔑', other: 'kept' });
  }, TEST_TIMEOUT_MS);

  it('names a missing Secret', async () => {
    const ns = await namespace();

    const failure = patchSecretKeys(await connect(), ns, SECRET, { url: 'x' });

    await expect(failure).rejects.toThrow(KubernetesNotFound);
    await expect(failure).rejects.toThrow(`secrets "${SECRET}" not found`);
  }, TEST_TIMEOUT_MS);

  it('may not read or patch any other Secret (deploy/rbac/ names the one it may)', async () => {
    const ns = await namespace();
    await cluster.addSecret(ns, 'database-url', { url: 'postgres://old' });

    const failure = patchSecretKeys(await connect(), ns, 'database-url', { url: 'postgres://new' });

    await expect(failure).rejects.toThrow(KubernetesUnauthorized);
    await expect(failure).rejects.toThrow(`cannot get resource "secrets" in API group "" in the namespace "${ns}"`);
    expect(await cluster.secretData(ns, 'database-url')).toEqual({ url: 'postgres://old' });
  }, TEST_TIMEOUT_MS);
});

/** Production manifests of every kind the recovery applies, into namespace NS. */
function manifests(ns: string, tag: string, emergency: string): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontier-api
  namespace: ${ns}
  labels: {app: frontier-api}
spec:
  replicas: 2
  selector:
    matchLabels: {app: frontier-api}
  template:
    metadata:
      labels: {app: frontier-api}
    spec:
      containers:
        - name: api
          image: registry.example.com/frontier-api:${tag}
          envFrom:
            - configMapRef: {name: frontier-config}
---
apiVersion: v1
kind: Service
metadata: {name: frontier-api, namespace: ${ns}}
spec:
  selector: {app: frontier-api}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: frontier-config}
data:
  emergency_mode: "${emergency}"
---
apiVersion: v1
kind: Secret
metadata: {name: frontier-tls, namespace: ${ns}}
type: Opaque
data:
  token: ${Buffer.from('s3cr3t').toString('base64')}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: block-listed-ips, namespace: ${ns}}
spec:
  podSelector: {matchLabels: {app: frontier-api}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - ipBlock: {cidr: 0.0.0.0/0, except: [203.0.113.7/32]}
---
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: frontier-api, namespace: ${ns}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: frontier-api, namespace: ${ns}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: frontier-api}
  minReplicas: 3
  maxReplicas: 12
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: frontier-api, namespace: ${ns}}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: frontier-api}}
`;
}

describe('applyManifests', () => {
  it('creates every object with server-side apply (namespace first), then updates them; the apply owns the fields it set', async () => {
    const ns = await namespace();
    // deploy/rbac/ lets the apply create the kinds the production manifests hold (Namespace update,
    // ConfigMap, Service, Deployment); for the other kinds applyManifests supports, its header says to
    // add a rule with verbs [patch, create] to the apply's Role: done here, test-only, for this namespace.
    await grantForTest(
      ns,
      'apply-more-kinds',
      [
        { apiGroups: [''], resources: ['serviceaccounts', 'secrets'], verbs: ['patch', 'create'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['patch', 'create'] },
        { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['patch', 'create'] },
        { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['patch', 'create'] },
      ],
      'frontier-dr:apply-manifests-to-backup',
    );
    const conn = await connect();
    const before = cluster.requests.length;

    const created = await applyManifests(conn, parseManifests(manifests(ns, '1.4.0', 'false')), 'frontier-dr', ns);
    await cluster.waitForRollout(ns, 'frontier-api');
    const updated = await applyManifests(conn, parseManifests(manifests(ns, '1.4.1', 'true')), 'frontier-dr', ns);

    expect(created).toEqual([
      // addNamespace made it (with deploy/rbac/'s Roles, and its ClusterRole's copy that lets the apply patch this namespace).
      { kind: 'Namespace', name: ns, created: false },
      { kind: 'ServiceAccount', namespace: ns, name: 'frontier-api', created: true },
      { kind: 'ConfigMap', namespace: ns, name: 'frontier-config', created: true },
      { kind: 'Secret', namespace: ns, name: 'frontier-tls', created: true },
      { kind: 'NetworkPolicy', namespace: ns, name: 'block-listed-ips', created: true },
      { kind: 'Service', namespace: ns, name: 'frontier-api', created: true },
      { kind: 'Deployment', namespace: ns, name: 'frontier-api', created: true },
      { kind: 'HorizontalPodAutoscaler', namespace: ns, name: 'frontier-api', created: true },
      { kind: 'PodDisruptionBudget', namespace: ns, name: 'frontier-api', created: true },
    ]);
    expect(updated.every((o) => !o.created)).toBe(true);
    expect(await cluster.configMapData(ns, 'frontier-config')).toEqual({ emergency_mode: 'true' });
    expect(await cluster.secretData(ns, 'frontier-tls')).toEqual({ token: 's3cr3t' });
    const deployment = await cluster.waitForRollout(ns, 'frontier-api');
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('registry.example.com/frontier-api:1.4.1');
    expect(revisionOf(deployment)).toBe('2');
    expect(deployment.metadata?.managedFields?.some((f) => f.manager === 'frontier-dr' && f.operation === 'Apply')).toBe(true);
    for (const [resource, name] of [['services', 'frontier-api'], ['serviceaccounts', 'frontier-api'], ['networkpolicies', 'block-listed-ips'], ['horizontalpodautoscalers', 'frontier-api'], ['poddisruptionbudgets', 'frontier-api']] as const) {
      expect(await cluster.object(resource, ns, name)).toMatchObject({ metadata: { name, namespace: ns } });
    }
    const applies = cluster.requests.slice(before).filter((r) => r.method === 'PATCH');
    expect(applies).toHaveLength(18);
    expect(applies.every((r) => r.contentType === 'application/apply-patch+yaml' && r.query.fieldManager === 'frontier-dr' && r.query.force === 'true')).toBe(true);
    expect(applies[0]!.path).toBe(`/api/v1/namespaces/${ns}`);
  }, TEST_TIMEOUT_MS);

  it('creates a namespace that does not exist yet only where create is granted: deploy/rbac/ creates it (00-namespace.yaml), not the apply', async () => {
    const ns = `kube-new-${++namespaces}`;
    const namespaceDocument = parseManifests(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);

    // Under deploy/rbac/ alone: refused, nothing created.
    const refused = applyManifests(await connect(), namespaceDocument);
    await expect(refused).rejects.toThrow(KubernetesUnauthorized);
    await expect(refused).rejects.toThrow(`cannot patch resource "namespaces" in API group "" in the namespace "${ns}"`);
    expect(await cluster.object('namespaces', undefined, ns)).toBeUndefined();

    // With create (and patch) of that one namespace granted (test-only, cluster-wide, removed after): created.
    const admin = cluster.plane.adminKubeConfig();
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const name = `frontier-dr-test:create-namespace-${ns}`;
    await rbac.createClusterRole({ body: { metadata: { name }, rules: [{ apiGroups: [''], resources: ['namespaces'], resourceNames: [ns], verbs: ['create', 'patch'] }] } });
    await rbac.createClusterRoleBinding({ body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: caller }] } });
    try {
      const authorization = admin.makeApiClient(AuthorizationV1Api);
      const spec = { user: caller, resourceAttributes: { verb: 'create', resource: 'namespaces', name: ns } };
      while (!(await authorization.createSubjectAccessReview({ body: { spec } })).status?.allowed) await new Promise((resolve) => setTimeout(resolve, 100));

      const applied = await applyManifests(await connect(), namespaceDocument);

      expect(applied).toEqual([{ kind: 'Namespace', name: ns, created: true }]);
      expect(await cluster.object('namespaces', undefined, ns)).toMatchObject({ metadata: { name: ns }, status: { phase: 'Active' } });
    } finally {
      await rbac.deleteClusterRoleBinding({ name });
      await rbac.deleteClusterRole({ name });
    }
  }, TEST_TIMEOUT_MS);

  it('is rejected by the server\'s validation, naming the field', async () => {
    const ns = await namespace();

    const failure = applyManifests(await connect(), [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_A_Valid_Name', namespace: ns }, data: {} }]);

    await expect(failure).rejects.toMatchObject({ name: 'KubernetesRejected', message: expect.stringContaining('metadata.name') });
  }, TEST_TIMEOUT_MS);
});

describe('rolloutStatus', () => {
  it('moves to done as the controller rolls the deployment out', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, API, { revisions: ['api:1', 'api:2'], replicas: 3 });
    const conn = await connect();
    await rollbackDeployment(conn, ns, API);

    const looks = await lookUntilDone(conn, ns);

    const last = looks[looks.length - 1]!;
    expect(last).toMatchObject({ done: true, replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 3, revision: 3 });
    expect(last.observedGeneration).toBeGreaterThanOrEqual(last.generation);
    expect(looks.length).toBeGreaterThan(1);
    expect(looks.slice(0, -1).every((s) => !s.done)).toBe(true);
  }, TEST_TIMEOUT_MS);

  it('is never done while a rollout stalls (new pods cannot be scheduled), and done once they can', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, API, { revisions: ['api:1', 'api:2'], replicas: 3 });
    const conn = await connect();
    await cluster.blockScheduling(true);
    try {
      await rollbackDeployment(conn, ns, API);

      let status = await rolloutStatus(conn, ns, API);
      for (let look = 0; look < 20; look++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        status = await rolloutStatus(conn, ns, API);
        expect(status.done).toBe(false);
      }
      // The new ReplicaSet's pods are Pending; the old ones keep serving.
      expect(status).toMatchObject({ revision: 3, availableReplicas: 3 });
      expect(status.updatedReplicas).toBeLessThan(3);
      expect(status.message).toBe(`${status.updatedReplicas} of 3 new replicas updated`);
    } finally {
      await cluster.blockScheduling(false);
    }
    expect((await lookUntilDone(conn, ns)).at(-1)).toMatchObject({ done: true, revision: 3, updatedReplicas: 3, availableReplicas: 3 });
  }, TEST_TIMEOUT_MS);

  it('throws RolloutFailed once the progress deadline is exceeded', async () => {
    const ns = await namespace();
    await cluster.addDeployment(ns, API, { revisions: ['api:1', BAD_RELEASE], replicas: 2, progressDeadlineSeconds: 2 });
    const conn = await connect();

    let failure: unknown;
    const deadline = Date.now() + 60_000;
    while (!failure && Date.now() < deadline) {
      failure = await rolloutStatus(conn, ns, API).then(
        (status) => {
          expect(status.done).toBe(false);
          return undefined;
        },
        (error: unknown) => error,
      );
      if (!failure) await new Promise((resolve) => setTimeout(resolve, 200));
    }

    expect(failure).toBeInstanceOf(RolloutFailed);
    const badReplicaSet = (await cluster.replicaSets(ns, API)).find((rs) => revisionOf(rs) === '2')!.metadata!.name!;
    expect((failure as Error).message).toBe(`deployment ${ns}/${API} exceeded its progress deadline: ReplicaSet "${badReplicaSet}" has timed out progressing.`);
  }, TEST_TIMEOUT_MS);
});

/** One line of a container log in the CRI format kwok reads (as a kubelet's runtime writes it). */
function criLine(at: Date, text: string): string {
  return `${at.toISOString().replace('Z', '000000Z')} stdout F ${text}`;
}

describe('readPodLogs (kwok serves the container log through the API server, as a kubelet does)', () => {
  // No Lambda function reads pod logs yet, so deploy/rbac/ does not grant them (it names no pod logs on
  // purpose). Test-only grant of what readPodLogs calls: list pods, get pods/log.
  const grantPodLogs = (ns: string) => grantForTest(ns, 'pod-logs', [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['list', 'get'] }]);

  it('reads the window of every container of every matching pod, with timestamps', async () => {
    const ns = await namespace();
    await grantPodLogs(ns);
    const now = Date.now();
    const lines = [
      { at: new Date(now - 2 * 3_600_000), text: 'GET /health 200 (too old)' },
      { at: new Date(now - 30 * 60_000), text: 'POST /login 401 from 203.0.113.7' },
      { at: new Date(now - 60_000), text: 'GET /api/keys 200 from 203.0.113.7' },
    ];
    writeFileSync(CONTAINER_LOG, lines.map((l) => criLine(l.at, l.text)).join('\n') + '\n');
    await cluster.addDeployment(ns, API, { image: 'api:1', replicas: 2 });
    await cluster.addDeployment(ns, 'frontier-worker', { image: 'worker:1', replicas: 1 });
    const before = cluster.requests.length;

    const logs = await readPodLogs(await connect(), ns, `app=${API}`, 3_600, 10_000);

    const pods = (await cluster.plane.adminKubeConfig().makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: `app=${API}` })).items.map((p) => p.metadata!.name!);
    expect(logs.map((l) => `${l.pod}/${l.container}`)).toEqual(pods.sort().map((pod) => `${pod}/${API}`));
    for (const entry of logs) {
      expect(entry).toMatchObject({ truncated: false });
      expect(entry.error).toBeUndefined();
      expect(entry.log.split('\n').filter(Boolean)).toEqual([
        `${lines[1]!.at.toISOString().replace('Z', '000000Z')} POST /login 401 from 203.0.113.7`,
        `${lines[2]!.at.toISOString().replace('Z', '000000Z')} GET /api/keys 200 from 203.0.113.7`,
      ]);
    }
    const logRequests = cluster.requests.slice(before).filter((r) => r.path.endsWith('/log'));
    expect(logRequests).toHaveLength(2);
    expect(logRequests[0]!.query).toMatchObject({ container: API, sinceSeconds: '3600', timestamps: 'true', limitBytes: '10001' });
  }, TEST_TIMEOUT_MS);

  it('caps each log without cutting a character; a pod not scheduled yet does not cost the others', async () => {
    const ns = await namespace();
    await grantPodLogs(ns);
    const now = Date.now();
    writeFileSync(CONTAINER_LOG, Array.from({ length: 100 }, (_, i) => criLine(new Date(now - 1_000 * (100 - i)), `línea ${i} ✓`)).join('\n') + '\n');
    await cluster.addDeployment(ns, API, { image: 'api:1', replicas: 1 });
    // A pod no node can take: Pending, no host, no log yet.
    await cluster.plane.adminKubeConfig().makeApiClient(CoreV1Api).createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'b-pending', labels: { app: API } }, spec: { nodeSelector: { 'frontier-dr/no-such-node': 'true' }, containers: [{ name: API, image: 'api:1' }] } },
    });

    const logs = await readPodLogs(await connect(), ns, `app=${API}`, 86_400, 1_000);

    const pending = logs.find((l) => l.pod === 'b-pending');
    const running = logs.find((l) => l.pod !== 'b-pending');
    expect(logs).toHaveLength(2);
    expect(running).toMatchObject({ container: API, truncated: true });
    expect(Buffer.byteLength(running!.log)).toBeLessThanOrEqual(1_000);
    expect(Buffer.byteLength(running!.log)).toBeGreaterThan(990);
    expect(running!.log).not.toContain('\uFFFD');
    expect(running!.log).toContain('línea 0 ✓');
    // The API server answers its log request with an empty body and no Content-Type: not asked.
    expect(pending).toMatchObject({ log: '', truncated: false, error: `pod ${ns}/b-pending is not scheduled to a node yet: no log` });
    expect(cluster.requests.filter((r) => r.path.endsWith('/pods/b-pending/log'))).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
