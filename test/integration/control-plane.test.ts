// The local environment's real Kubernetes control plane (local/control-plane.ts): etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok on loopback. A Deployment really rolls
// out; the product's own connection (cluster CA over HTTPS, in-process EKS token) is authenticated by
// the EKS token webhook and authorised by deploy/rbac/ alone.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions, VersionApi, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startControlPlane, KWOK_NODE_ANNOTATION, type LocalControlPlane } from '../../local/control-plane.js';
import { EMULATOR_CREDENTIALS } from '../../local/emulator-clients.js';
import { until } from '../../local/kube-cluster.js';
import { projectRoot } from '../../local/python-environment.js';
import { connectToCluster } from '../../shared/kubernetes/connection.js';
import { assessCluster, scaleDeployment } from '../../shared/kubernetes/workloads.js';
import { KubernetesUnauthorized } from '../../shared/errors.js';

const CLUSTER = 'frontier-test';
const REGION = 'us-east-1';
const BAD_RELEASE = 'frontier/api:1.9.0';
const OTHER_KEY = { accessKeyId: 'AKIAUNKNOWNKEY000001', secretAccessKey: 'not-a-key-the-local-sts-knows-0000000000' };

const TEST_TIMEOUT_MS = 180_000;

let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startControlPlane({ name: 'test', eks: { clusterName: CLUSTER, keys: [EMULATOR_CREDENTIALS] }, neverReadyImages: [BAD_RELEASE] });
}, 600_000);

afterAll(async () => {
  await plane?.stop();
}, 60_000);


function productConnection(credentials = EMULATOR_CREDENTIALS, clusterName = CLUSTER) {
  return connectToCluster({ name: clusterName, region: REGION }, { resolveEndpoint: () => ({ endpoint: plane.url, caData: plane.caData }), credentials });
}

describe('a real control plane on loopback', () => {
  it('serves HTTPS with its own CA, reports a parseable version and runs simulated nodes to Ready', async () => {
    const core = plane.adminKubeConfig().makeApiClient(CoreV1Api);
    for (const name of ['node-a', 'node-b', 'node-c']) {
      await core.createNode({ body: { metadata: { name, annotations: { [KWOK_NODE_ANNOTATION]: 'fake' }, labels: { type: 'kwok' } } } });
    }
    const ready = await until('3 Ready nodes', async () => {
      const nodes = (await core.listNode()).items;
      const count = nodes.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      return count === 3 ? count : undefined;
    });
    expect(ready).toBe(3);
    // Node's fetch does not know the cluster CA: the certificate really is the server's own.
    const refused = await fetch(`${plane.url}/version`).then(() => undefined, (error: { cause?: { code?: string } }) => error.cause?.code);
    expect(refused).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    const version = await plane.adminKubeConfig().makeApiClient(VersionApi).getCode();
    expect(version).toMatchObject({ gitVersion: 'v1.34.4', major: '1', minor: '34' });
  }, TEST_TIMEOUT_MS);

  it('rolls out a 3-replica Deployment: scheduled onto the kwok nodes, pods Ready, a ReplicaSet at revision 1', async () => {
    const config = plane.adminKubeConfig();
    await config.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'rollout' } } });
    const apps = config.makeApiClient(AppsV1Api);
    const labels = { app: 'web' };
    const started = Date.now();
    await apps.createNamespacedDeployment({
      namespace: 'rollout',
      body: {
        metadata: { name: 'web' },
        spec: { replicas: 3, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'frontier/api:1.8.2' }] } } },
      },
    });
    const deployment = await until<V1Deployment>('the rollout', async () => {
      const seen = await apps.readNamespacedDeployment({ namespace: 'rollout', name: 'web' });
      return seen.status?.readyReplicas === 3 && seen.status?.updatedReplicas === 3 ? seen : undefined;
    });
    process.stderr.write(`[control-plane] 3-replica rollout took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    expect(deployment.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    const pods = await config.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'rollout' });
    expect(pods.items.map((pod) => pod.spec?.nodeName).every((node) => node?.startsWith('node-'))).toBe(true);
  }, TEST_TIMEOUT_MS);

  it('runs a bad release\'s pods unready, so its rollout passes the progress deadline and the old pods keep serving', async () => {
    const apps = plane.adminKubeConfig().makeApiClient(AppsV1Api);
    await apps.patchNamespacedDeployment(
      {
        namespace: 'rollout',
        name: 'web',
        body: [
          { op: 'replace', path: '/spec/progressDeadlineSeconds', value: 3 },
          { op: 'replace', path: '/spec/template/spec/containers/0/image', value: BAD_RELEASE },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const stalled = await until<V1Deployment>('ProgressDeadlineExceeded', async () => {
      const seen = await apps.readNamespacedDeployment({ namespace: 'rollout', name: 'web' });
      return seen.status?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded') ? seen : undefined;
    });
    expect(stalled.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(stalled.status).toMatchObject({ readyReplicas: 3, updatedReplicas: 1 });
    const pods = await plane.adminKubeConfig().makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'rollout' });
    const bad = pods.items.filter((pod) => pod.spec?.containers[0]?.image === BAD_RELEASE);
    expect(bad.map((pod) => [pod.status?.phase, pod.status?.containerStatuses?.[0]?.ready])).toEqual([['Running', false]]);
  }, TEST_TIMEOUT_MS);

  it('authenticates the product\'s EKS token through the webhook and enforces deploy/rbac/ (nothing before it is applied)', async () => {
    const conn = await productConnection();
    await expect(assessCluster(conn)).rejects.toBeInstanceOf(KubernetesUnauthorized);
    expect(plane.webhook?.reviews().at(-1)).toEqual({ authenticated: true, detail: expect.stringMatching(/^arn:aws:sts::\d+:assumed-role\/frontier-dr\//) });

    const admin = KubernetesObjectApi.makeApiClient(plane.adminKubeConfig());
    await plane.adminKubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'production' } } });
    const manifest = await readFile(path.join(projectRoot, 'deploy/rbac/frontier-dr-rbac.yaml'), 'utf8');
    for (const document of parseAllDocuments(manifest)) await admin.create(document.toJSON() as KubernetesObject);

    const assessment = await until('RBAC to take effect', async () => {
      const seen = await assessCluster(conn).catch(() => undefined);
      return seen?.reachable ? seen : undefined;
    });
    expect(assessment).toMatchObject({ reachable: true, nodes: 3, readyNodes: 3 });

    // A verb deploy/rbac/ does not grant (deployments/scale in a namespace it does not cover).
    await expect(scaleDeployment(conn, 'rollout', 'web', 2)).rejects.toBeInstanceOf(KubernetesUnauthorized);
  }, TEST_TIMEOUT_MS);

  it('refuses a token signed for another cluster and a key the local STS does not know', async () => {
    const before = plane.webhook?.reviews().length ?? 0;
    await expect(assessCluster(await productConnection(EMULATOR_CREDENTIALS, 'another-cluster'))).rejects.toBeInstanceOf(KubernetesUnauthorized);
    await expect(assessCluster(await productConnection(OTHER_KEY))).rejects.toBeInstanceOf(KubernetesUnauthorized);
    const refused = plane.webhook?.reviews().slice(before).filter((review) => !review.authenticated).map((review) => review.detail);
    expect(refused).toEqual(expect.arrayContaining([expect.stringMatching(/SignatureDoesNotMatch/), expect.stringMatching(/unknown access key/)]));
  }, TEST_TIMEOUT_MS);
});

describe('nodes kwok does not run', () => {
  it('never become Ready: what a cluster with lost nodes looks like', async () => {
    const core = plane.adminKubeConfig().makeApiClient(CoreV1Api);
    await core.createNode({ body: { metadata: { name: 'node-lost' } } });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const assessment = await assessCluster(await productConnection());
    expect(assessment).toMatchObject({ reachable: true, nodes: 4, readyNodes: 3 });
  }, TEST_TIMEOUT_MS);
});

describe('a control plane that fails to start', () => {
  it('stops every process it had started and removes its files', async () => {
    const name = `failing-${process.pid}`;
    // kwok, started last, refuses a stage document it cannot read.
    await expect(startControlPlane({ name, extraStages: ['kind: NotAStage\nspec: [this is not a stage'] })).rejects.toThrow(/kwok \(failing-/);
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(`frontier-dr-kube-${name}-`));
    expect(left).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
