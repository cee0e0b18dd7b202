// shared/kubernetes/ over HTTP against the Kubernetes fake (local/kube-fake.ts), authenticated
// with real EKS tokens signed by the fake's test credentials.
import { createHash } from 'node:crypto';
import { applyManifests, parseManifests } from '../../shared/kubernetes/manifests.js';
import { assessCluster, rolloutStatus, scaleDeployment } from '../../shared/kubernetes/workloads.js';
import { connectToCluster, type ConnectOptions, type KubernetesConnection } from '../../shared/kubernetes/connection.js';
import { KubernetesNotFound, NothingToRollBack, RolloutFailed } from '../../shared/errors.js';
import { patchConfigMapKeys, patchSecretKeys } from '../../shared/kubernetes/objects.js';
import { readPodLogs } from '../../shared/kubernetes/logs.js';
import { rollbackDeployment } from '../../shared/kubernetes/rollback.js';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { FAKE_AWS_CREDENTIALS, startKubeFake, type KubeFake, type KubeFakeOptions, type RecordedRequest } from '../../local/kube-fake.js';

const NS = 'production';
const API = 'frontier-api';

let fake: KubeFake | undefined;

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

/** A fake whose controller moves only when the test calls tick(), unless told otherwise. */
async function start(options: KubeFakeOptions = {}): Promise<KubeFake> {
  fake = await startKubeFake({ tickMs: 3_600_000, ...options });
  return fake;
}

function connect(server: KubeFake, options: ConnectOptions = {}): Promise<KubernetesConnection> {
  return connectToCluster(
    { name: server.clusterName, region: 'us-east-1' },
    { resolveEndpoint: () => ({ endpoint: server.url }), credentials: FAKE_AWS_CREDENTIALS, ...options },
  );
}

type Deployment = {
  metadata: { generation: number; annotations: Record<string, string> };
  spec: { replicas: number; template: { spec: { containers: { image: string; env?: unknown }[] } } };
};
type ReplicaSet = { metadata: { name: string; annotations: Record<string, string> }; spec: { template: { spec: { containers: { image: string }[] } } } };

function deploymentOf(server: KubeFake, name = API): Deployment {
  return server.deployment(NS, name) as unknown as Deployment;
}

function revisionsOf(server: KubeFake, name = API): Record<string, string> {
  const replicaSets = server.replicaSets(NS, name) as unknown as ReplicaSet[];
  return Object.fromEntries(
    replicaSets
      .map((rs) => [rs.metadata.annotations['deployment.kubernetes.io/revision']!, rs.spec.template.spec.containers[0]!.image] as const)
      .sort(([a], [b]) => Number(a) - Number(b)),
  );
}

/** Looks at the rollout after each controller step, like the state machine's Wait/Choice loop. */
async function waitForRollout(conn: KubernetesConnection, server: KubeFake, maxLooks = 50, name = API) {
  for (let look = 1; look <= maxLooks; look++) {
    const status = await rolloutStatus(conn, NS, name);
    if (status.done) return { status, looks: look };
    server.tick();
  }
  throw new Error(`rollout of ${name} not done after ${maxLooks} looks`);
}

describe('assessCluster', () => {
  it('reports a healthy cluster: API version and every node Ready', async () => {
    const server = await start();
    for (let i = 0; i < 3; i++) server.addNode(true);
    const conn = await connect(server);

    const assessment = await assessCluster(conn, 2_000);

    expect(assessment).toEqual({ reachable: true, version: 'v1.31.4-eks-fake', nodes: 3, readyNodes: 3, healthy: true, reason: '3 of 3 nodes Ready' });
  });

  it('calls half the nodes NotReady still healthy, fewer than half unhealthy (the plan alerts below 0.5)', async () => {
    const server = await start();
    const nodes = [server.addNode(true), server.addNode(true), server.addNode(false), server.addNode(false)];
    const conn = await connect(server);

    expect(await assessCluster(conn, 2_000)).toMatchObject({ reachable: true, nodes: 4, readyNodes: 2, healthy: true });

    server.setNodeReady(nodes[1]!, false);
    const degraded = await assessCluster(conn, 2_000);
    expect(degraded).toMatchObject({ reachable: true, nodes: 4, readyNodes: 1, healthy: false });
    expect(degraded.reason).toBe('only 1 of 4 nodes Ready (less than half)');
  });

  it('reads a big node list in pages', async () => {
    const server = await start();
    for (let i = 0; i < 1_100; i++) server.addNode(i % 10 !== 0);
    const conn = await connect(server);

    const assessment = await assessCluster(conn, 5_000);

    expect(assessment).toMatchObject({ nodes: 1_100, readyNodes: 990, healthy: true });
    expect(server.requests.filter((r) => r.path === '/api/v1/nodes').map((r) => r.query.limit)).toEqual(['500', '500', '500']);
  });

  it('reports an unreachable API as a result, not an error', async () => {
    const server = await start();
    server.addNode(true);
    const conn = await connect(server);
    await server.refuseConnections();

    const assessment = await assessCluster(conn, 2_000);

    expect(assessment).toMatchObject({ reachable: false, nodes: 0, readyNodes: 0, healthy: false });
    expect(assessment.reason).toContain('could not be reached');

    await server.acceptConnections();
    expect(await assessCluster(conn, 2_000)).toMatchObject({ reachable: true, healthy: true });
  });
});

describe('scaleDeployment', () => {
  it('scales through the scale subresource with a merge patch and returns the previous count', async () => {
    const server = await start();
    server.addDeployment(NS, API, { image: 'api:1', replicas: 3 });
    const conn = await connect(server);

    const down = await scaleDeployment(conn, NS, API, 0);
    const up = await scaleDeployment(conn, NS, API, 3);
    const again = await scaleDeployment(conn, NS, API, 3);

    expect(down).toEqual({ previousReplicas: 3, replicas: 0, changed: true });
    expect(up).toEqual({ previousReplicas: 0, replicas: 3, changed: true });
    expect(again).toEqual({ previousReplicas: 3, replicas: 3, changed: false });
    const patches = server.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(2);
    expect(patches.every((r) => r.path === `/apis/apps/v1/namespaces/${NS}/deployments/${API}/scale` && r.contentType === 'application/merge-patch+json')).toBe(true);
    // A scale is a spec change: same template, same revision, new generation.
    expect(deploymentOf(server).metadata.annotations['deployment.kubernetes.io/revision']).toBe('1');
    expect(deploymentOf(server).spec.replicas).toBe(3);
  });
});

describe('patchConfigMapKeys', () => {
  it('sets the given keys, keeps the others, and reports the previous values', async () => {
    const server = await start();
    server.addConfigMap(NS, 'frontier-config', { emergency_mode: 'false', log_level: 'info' });
    const conn = await connect(server);

    const result = await patchConfigMapKeys(conn, NS, 'frontier-config', { emergency_mode: 'true', read_only_since: '2026-11-25T10:00:00Z' });

    expect(result.keys).toEqual([
      { key: 'emergency_mode', existed: true, previous: 'false', changed: true },
      { key: 'read_only_since', existed: false, changed: true },
    ]);
    expect(server.configMapData(NS, 'frontier-config')).toEqual({ emergency_mode: 'true', log_level: 'info', read_only_since: '2026-11-25T10:00:00Z' });
    expect(server.requests.find((r) => r.method === 'PATCH')?.contentType).toBe('application/merge-patch+json');
  });

  it('changes nothing when the values are already set (safe to run twice)', async () => {
    const server = await start();
    server.addConfigMap(NS, 'frontier-config', { emergency_mode: 'true' });
    const conn = await connect(server);

    const result = await patchConfigMapKeys(conn, NS, 'frontier-config', { emergency_mode: 'true' });

    expect(result.keys).toEqual([{ key: 'emergency_mode', existed: true, previous: 'true', changed: false }]);
    expect(server.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });
});

describe('patchSecretKeys', () => {
  it('writes a 100 KB UTF-8 value that reads back equal, and never returns a value', async () => {
    const server = await start();
    server.addSecret(NS, 'database-url', { url: 'postgres://frontier:old-password@old-host:5432/frontier', other: 'kept' });
    const conn = await connect(server);
    const url = `postgres://frontier:${'ü-密-🔑'.repeat(10_000)}@frontier-prod-restored.aaaaaaaaaa.us-east-1.rds.amazonaws.com:5432/frontier`;
    expect(Buffer.byteLength(url)).toBeGreaterThan(100_000);

    const result = await patchSecretKeys(conn, NS, 'database-url', { url, api_key: 'ключ-🔑' });

    const oldHash = createHash('sha256').update('postgres://frontier:old-password@old-host:5432/frontier').digest('hex').slice(0, 12);
    expect(result.keys).toEqual([
      { key: 'url', existed: true, previousSha256Prefix: oldHash, changed: true },
      { key: 'api_key', existed: false, changed: true },
    ]);
    const reported = JSON.stringify(result);
    expect(reported).not.toContain('old-password');
    expect(reported).not.toContain('ключ');
    // Read back through the fake's store and through the API.
    expect(server.secretData(NS, 'database-url')).toEqual({ url, api_key: 'ключ-🔑', other: 'kept' });
    const secret = await conn.core.readNamespacedSecret({ name: 'database-url', namespace: NS });
    expect(Buffer.from(secret.data!.url!, 'base64').toString('utf8')).toBe(url);
  });

  it('names a missing Secret', async () => {
    const server = await start();
    server.addNamespace(NS);
    const conn = await connect(server);

    await expect(patchSecretKeys(conn, NS, 'database-url', { url: 'x' })).rejects.toThrow(KubernetesNotFound);
  });
});

const MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontier-api
  namespace: staging
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
          image: registry.example.com/frontier-api:IMAGE_TAG
          envFrom:
            - configMapRef: {name: frontier-config}
---
apiVersion: v1
kind: Service
metadata: {name: frontier-api, namespace: staging}
spec:
  selector: {app: frontier-api}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: frontier-config}
data:
  emergency_mode: "EMERGENCY"
---
apiVersion: v1
kind: Secret
metadata: {name: frontier-tls, namespace: staging}
type: Opaque
data:
  token: ${Buffer.from('s3cr3t').toString('base64')}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: block-listed-ips, namespace: staging}
spec:
  podSelector: {matchLabels: {app: frontier-api}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - ipBlock: {cidr: 0.0.0.0/0, except: [203.0.113.7/32]}
---
apiVersion: v1
kind: Namespace
metadata: {name: staging}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: frontier-api, namespace: staging}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: frontier-api, namespace: staging}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: frontier-api}
  minReplicas: 3
  maxReplicas: 12
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: frontier-api, namespace: staging}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: frontier-api}}
`;

describe('applyManifests', () => {
  it('creates every object with server-side apply, namespaces first, then updates them', async () => {
    const server = await start();
    const conn = await connect(server);

    const created = await applyManifests(conn, parseManifests(MANIFESTS.replace('IMAGE_TAG', '1.4.0').replace('EMERGENCY', 'false')), 'frontier-dr', 'staging');
    const updated = await applyManifests(conn, parseManifests(MANIFESTS.replace('IMAGE_TAG', '1.4.1').replace('EMERGENCY', 'true')), 'frontier-dr', 'staging');

    expect(created).toEqual([
      { kind: 'Namespace', name: 'staging', created: true },
      { kind: 'ServiceAccount', namespace: 'staging', name: 'frontier-api', created: true },
      { kind: 'ConfigMap', namespace: 'staging', name: 'frontier-config', created: true },
      { kind: 'Secret', namespace: 'staging', name: 'frontier-tls', created: true },
      { kind: 'NetworkPolicy', namespace: 'staging', name: 'block-listed-ips', created: true },
      { kind: 'Service', namespace: 'staging', name: 'frontier-api', created: true },
      { kind: 'Deployment', namespace: 'staging', name: 'frontier-api', created: true },
      { kind: 'HorizontalPodAutoscaler', namespace: 'staging', name: 'frontier-api', created: true },
      { kind: 'PodDisruptionBudget', namespace: 'staging', name: 'frontier-api', created: true },
    ]);
    expect(updated.every((o) => !o.created)).toBe(true);
    expect(server.configMapData('staging', 'frontier-config')).toEqual({ emergency_mode: 'true' });
    expect(server.secretData('staging', 'frontier-tls')).toEqual({ token: 's3cr3t' });
    const deployment = server.deployment('staging', 'frontier-api') as unknown as Deployment;
    expect(deployment.spec.template.spec.containers[0]!.image).toBe('registry.example.com/frontier-api:1.4.1');
    expect(deployment.metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    const applies = server.requests.filter((r) => r.method === 'PATCH');
    expect(applies).toHaveLength(18);
    expect(applies.every((r) => r.contentType === 'application/apply-patch+yaml' && r.query.fieldManager === 'frontier-dr' && r.query.force === 'true')).toBe(true);
    expect(applies[0]!.path).toBe('/api/v1/namespaces/staging');
    expect(applies.map((r) => r.path)).toContain('/apis/networking.k8s.io/v1/namespaces/staging/networkpolicies/block-listed-ips');
  });

  it('fails on a namespace that does not exist, like the API server', async () => {
    const server = await start();
    const conn = await connect(server);

    const failure = applyManifests(conn, parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: nowhere}\ndata: {}\n'));

    await expect(failure).rejects.toThrow(KubernetesNotFound);
    await expect(failure).rejects.toThrow(/namespaces "nowhere" not found/);
  });
});

describe('rollbackDeployment', () => {
  it('goes to the previous revision; the controller makes it revision 5 with revision 3\'s image', async () => {
    const server = await start();
    server.addDeployment(NS, API, { revisions: ['api:1', 'api:2', 'api:3', 'api:4'], replicas: 3 });
    const conn = await connect(server);
    expect(revisionsOf(server)).toEqual({ 1: 'api:1', 2: 'api:2', 3: 'api:3', 4: 'api:4' });

    const result = await rollbackDeployment(conn, NS, API);

    expect(result).toEqual({ fromRevision: 4, toRevision: 3, replicaSet: expect.stringMatching(/^frontier-api-/), images: ['api:3'], changed: true });
    expect(server.requests.find((r) => r.method === 'PATCH')?.contentType).toBe('application/json-patch+json');
    const { status } = await waitForRollout(conn, server);
    expect(status).toMatchObject({ done: true, revision: 5, updatedReplicas: 3, availableReplicas: 3 });
    // Revision 3's ReplicaSet was re-used and re-numbered, as the real controller does.
    expect(revisionsOf(server)).toEqual({ 1: 'api:1', 2: 'api:2', 4: 'api:4', 5: 'api:3' });
    const reused = (server.replicaSets(NS, API) as unknown as ReplicaSet[]).find((rs) => rs.metadata.annotations['deployment.kubernetes.io/revision'] === '5')!;
    expect(reused.metadata.annotations['deployment.kubernetes.io/revision-history']).toBe('3');
    expect(deploymentOf(server).spec.template.spec.containers[0]!.image).toBe('api:3');
  });

  it('goes to a given revision, and a second run with the same revision changes nothing', async () => {
    const server = await start();
    server.addDeployment(NS, API, { revisions: ['api:1', 'api:2', 'api:3', 'api:4'] });
    const conn = await connect(server);

    const first = await rollbackDeployment(conn, NS, API, 1);
    await waitForRollout(conn, server);
    const second = await rollbackDeployment(conn, NS, API, 1);

    expect(first).toEqual({ fromRevision: 4, toRevision: 1, replicaSet: expect.stringMatching(/^frontier-api-/), images: ['api:1'], changed: true });
    expect(second).toEqual({ fromRevision: 5, toRevision: 5, replicaSet: first.replicaSet, images: ['api:1'], changed: false });
    expect(revisionsOf(server)).toEqual({ 2: 'api:2', 3: 'api:3', 4: 'api:4', 5: 'api:1' });
    expect(server.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('replaces the whole pod template, so settings added since the target revision go away', async () => {
    const server = await start();
    server.addDeployment(NS, API, { revisions: ['api:1'], containerName: 'api', replicas: 2 });
    const conn = await connect(server);
    await applyManifests(conn, [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: API, namespace: NS },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: API } },
          template: { metadata: { labels: { app: API } }, spec: { containers: [{ name: 'api', image: 'api:2', env: [{ name: 'FEATURE_X', value: 'on' }] }] } },
        },
      },
    ]);
    await waitForRollout(conn, server);

    const result = await rollbackDeployment(conn, NS, API);

    expect(result).toMatchObject({ fromRevision: 2, toRevision: 1, images: ['api:1'] });
    const container = deploymentOf(server).spec.template.spec.containers[0]!;
    expect(container.image).toBe('api:1');
    expect(container.env).toBeUndefined();
  });

  it('throws NothingToRollBack for a deployment with one revision, or a revision not kept', async () => {
    const server = await start();
    server.addDeployment(NS, 'single', { image: 'api:1' });
    server.addDeployment(NS, API, { revisions: ['api:1', 'api:2'] });
    const conn = await connect(server);

    await expect(rollbackDeployment(conn, NS, 'single')).rejects.toThrow(NothingToRollBack);
    await expect(rollbackDeployment(conn, NS, API, 7)).rejects.toMatchObject({ name: 'NothingToRollBack', message: expect.stringContaining('revision 7') });
    expect(server.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });
});

describe('rolloutStatus', () => {
  it('moves to done as the controller ticks', async () => {
    const server = await start({ tickMs: 10 });
    server.addDeployment(NS, API, { revisions: ['api:1', 'api:2'], replicas: 3 });
    const conn = await connect(server);
    await rollbackDeployment(conn, NS, API);

    const looks = [];
    for (let i = 0; i < 200; i++) {
      const status = await rolloutStatus(conn, NS, API);
      looks.push(status);
      if (status.done) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const last = looks[looks.length - 1]!;
    expect(last).toMatchObject({ done: true, replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 3, revision: 3 });
    expect(last.observedGeneration).toBeGreaterThanOrEqual(last.generation);
    expect(looks.length).toBeGreaterThan(1);
    expect(looks.slice(0, -1).every((s) => !s.done)).toBe(true);
  });

  it('is never done while a rollout stalls', async () => {
    const server = await start();
    server.addDeployment(NS, API, { revisions: ['api:1', 'api:2'], replicas: 3 });
    server.setRollout(NS, API, 'stall');
    const conn = await connect(server);
    await rollbackDeployment(conn, NS, API);

    let status = await rolloutStatus(conn, NS, API);
    for (let i = 0; i < 30; i++) {
      server.tick();
      status = await rolloutStatus(conn, NS, API);
      expect(status.done).toBe(false);
    }

    // New pods exist but never become available, so the old ones are never let go (kubectl's wording).
    expect(status).toMatchObject({ updatedReplicas: 3, replicas: 6, message: '3 old replicas pending termination' });
  });

  it('throws RolloutFailed when the progress deadline is exceeded', async () => {
    const server = await start();
    server.addDeployment(NS, API, { revisions: ['api:1', 'api:2'] });
    server.setRollout(NS, API, 'fail');
    const conn = await connect(server);
    await rollbackDeployment(conn, NS, API);
    server.tick();
    server.tick();

    const failure = rolloutStatus(conn, NS, API);

    await expect(failure).rejects.toThrow(RolloutFailed);
    await expect(failure).rejects.toThrow(/exceeded its progress deadline/);
  });

  it('keeps working through a 30-minute wait in which the token in hand is revoked', async () => {
    let clock = new Date('2026-11-25T10:00:00Z');
    const server = await start({ now: () => clock });
    server.addDeployment(NS, API, { revisions: ['api:1', 'api:2'], replicas: 10 });
    const conn = await connect(server, { now: () => clock });
    await rollbackDeployment(conn, NS, API);

    let status = await rolloutStatus(conn, NS, API);
    // One controller step a minute: 31 steps for 10 replicas, about twice the 15-minute token lifetime.
    for (let minute = 1; !status.done && minute <= 59; minute++) {
      clock = new Date(Date.UTC(2026, 10, 25, 10, minute));
      if (minute === 14) server.expireTokensIssuedBefore(clock);
      server.tick();
      status = await rolloutStatus(conn, NS, API);
    }

    expect(status.done).toBe(true);
    expect(clock.getUTCMinutes()).toBeGreaterThan(25);
    // One refusal: the revoked token; the 15-minute EKS limit itself is never reached thanks to refresh.
    expect(server.unauthorizedCount()).toBe(1);
    expect(server.acceptedTokens().length).toBeGreaterThanOrEqual(3);
  });
});

describe('readPodLogs', () => {
  it('reads the window of every matching pod and container, with timestamps', async () => {
    const server = await start();
    const now = Date.now();
    const lines = [
      { at: new Date(now - 2 * 3_600_000), text: 'GET /health 200 (too old)' },
      { at: new Date(now - 30 * 60_000), text: 'POST /login 401 from 203.0.113.7' },
      { at: new Date(now - 60_000), text: 'GET /api/keys 200 from 203.0.113.7' },
    ];
    server.addPods(NS, { labels: { app: API }, count: 2, namePrefix: 'frontier-api-7d9f', lines });
    server.addPods(NS, { labels: { app: API }, namePrefix: 'frontier-api-sidecar', containers: ['api', 'envoy'], lines });
    server.addPods(NS, { labels: { app: 'frontier-worker' }, namePrefix: 'worker', lines });
    const conn = await connect(server);

    const logs = await readPodLogs(conn, NS, `app=${API}`, 3_600, 10_000);

    expect(logs.map((l) => `${l.pod}/${l.container}`)).toEqual([
      'frontier-api-7d9f-0/app',
      'frontier-api-7d9f-1/app',
      'frontier-api-sidecar-0/api',
      'frontier-api-sidecar-0/envoy',
    ]);
    for (const entry of logs) {
      expect(entry.truncated).toBe(false);
      expect(entry.log.split('\n').filter(Boolean)).toEqual([
        `${lines[1]!.at.toISOString().replace('Z', '000000Z')} POST /login 401 from 203.0.113.7`,
        `${lines[2]!.at.toISOString().replace('Z', '000000Z')} GET /api/keys 200 from 203.0.113.7`,
      ]);
    }
    const logRequest = server.requests.find((r) => r.path.endsWith('/log'))!;
    expect(logRequest.query).toMatchObject({ sinceSeconds: '3600', timestamps: 'true', limitBytes: '10001' });
  });

  it('caps each log and says so; a container that has not started does not cost the others', async () => {
    const server = await start();
    const lines = Array.from({ length: 100 }, (_, i) => ({ at: new Date(Date.now() - 1_000 * (100 - i)), text: `línea ${i} ✓` }));
    server.addPods(NS, { labels: { app: API }, namePrefix: 'a-running', lines });
    server.addPods(NS, { labels: { app: API }, namePrefix: 'b-pending', waiting: true });
    const conn = await connect(server);

    const logs = await readPodLogs(conn, NS, `app=${API}`, 86_400, 1_000);

    expect(logs[0]).toMatchObject({ pod: 'a-running-0', truncated: true });
    expect(Buffer.byteLength(logs[0]!.log)).toBeLessThanOrEqual(1_000);
    expect(logs[0]!.log).not.toContain('\uFFFD');
    expect(logs[1]).toMatchObject({ pod: 'b-pending-0', log: '', truncated: false, error: expect.stringContaining('waiting to start') });
  });
});

describe('the fake itself', () => {
  it('answers a patch with an unsupported content type with 415 and a Status', async () => {
    const server = await start();
    server.addConfigMap(NS, 'frontier-config', {});
    const conn = await connect(server);
    const token = await conn.token.current();

    const response = await fetch(`${server.url}/api/v1/namespaces/${NS}/configmaps/frontier-config`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: { a: 'b' } }),
    });

    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'UnsupportedMediaType', code: 415 });
  });
});

// Every request of a tour of all operations must be allowed by the RBAC the clusters get, and every
// rule there must be needed by some request.
describe('deploy/rbac/frontier-dr-rbac.yaml', () => {
  type Rule = { apiGroups?: string[]; resources?: string[]; nonResourceURLs?: string[]; verbs: string[] };

  function permissionsUsed(requests: RecordedRequest[]): Set<string> {
    const used = new Set<string>();
    for (const request of requests) {
      if (request.status === 401) continue;
      if (request.path === '/version') {
        used.add('get nonResource /version');
        continue;
      }
      const parts = request.path.split('/').filter(Boolean);
      const [group, rest] = parts[0] === 'api' ? ['', parts.slice(2)] : [parts[1]!, parts.slice(3)];
      const local = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
      const [plural, name, sub] = local;
      const resource = sub ? `${plural}/${sub}` : plural!;
      const verb = request.method === 'GET' ? (name ? 'get' : 'list') : request.method.toLowerCase();
      used.add(`${verb} ${group}/${resource}`);
      if (request.contentType === 'application/apply-patch+yaml' && request.status === 201) used.add(`create ${group}/${resource}`);
    }
    return used;
  }

  it('allows exactly what the library uses', async () => {
    const documents = parseAllDocuments(await readFile(new URL('../../deploy/rbac/frontier-dr-rbac.yaml', import.meta.url), 'utf8'));
    const rules = (Array.isArray(documents) ? documents : [])
      .map((d) => d.toJS() as { kind: string; rules?: Rule[] })
      .filter((d) => d.kind === 'Role' || d.kind === 'ClusterRole')
      .flatMap((d) => d.rules ?? []);
    const granted = new Set(
      rules.flatMap((rule) =>
        rule.nonResourceURLs
          ? rule.nonResourceURLs.flatMap((url) => rule.verbs.map((verb) => `${verb} nonResource ${url}`))
          : (rule.apiGroups ?? []).flatMap((group) => (rule.resources ?? []).flatMap((resource) => rule.verbs.map((verb) => `${verb} ${group}/${resource}`))),
      ),
    );
    const server = await start();
    server.addNode(true);
    server.addDeployment(NS, API, { revisions: ['api:1', 'api:2'] });
    server.addConfigMap(NS, 'frontier-config', { emergency_mode: 'false' });
    server.addSecret(NS, 'database-url', { url: 'postgres://old' });
    server.addPods(NS, { labels: { app: API }, lines: [{ at: new Date(), text: 'hello' }] });
    const conn = await connect(server);
    await assessCluster(conn, 2_000);
    await scaleDeployment(conn, NS, API, 0);
    await patchConfigMapKeys(conn, NS, 'frontier-config', { emergency_mode: 'true' });
    await patchSecretKeys(conn, NS, 'database-url', { url: 'postgres://new' });
    await applyManifests(conn, parseManifests(MANIFESTS.replace('IMAGE_TAG', '1.4.0')), 'frontier-dr', 'staging');
    await rollbackDeployment(conn, NS, API);
    await rolloutStatus(conn, NS, API);
    await readPodLogs(conn, NS, `app=${API}`, 3_600, 1_000);
    const used = permissionsUsed(server.requests);

    expect([...used].filter((p) => !granted.has(p)).sort()).toEqual([]);
    expect([...granted].filter((p) => !used.has(p)).sort()).toEqual([]);
  });
});
