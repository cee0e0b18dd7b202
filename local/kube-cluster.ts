// One local EKS cluster for tests and the local environment: a real control plane (local/control-plane.ts:
// etcd, kube-apiserver with RBAC and the EKS token webhook, kube-controller-manager, kube-scheduler, kwok)
// with deploy/rbac/ installed, behind the fault proxy (local/kube-fault-proxy.ts) the product connects
// through. The environment's own seeding and inspection use the control plane's admin token directly
// (never recorded, never subject to RBAC); everything the product does goes through the proxy and is
// authenticated by the webhook and authorised by deploy/rbac/ alone.
//
// What the cluster's state is made of, all real: nodes are kwok nodes (Ready while kwok runs them; a
// node kwok does not run is NotReady, as a lost node is); a Deployment's revision history is made by real
// rollouts, one per revision; a bad release is an image whose pods run but never become Ready; RBAC
// denials are rules removed from the installed roles. Only what the real server cannot be made to do on
// demand (an error status, a dropped connection, refused connections) is the proxy's.
import { Buffer } from 'node:buffer';
import https from 'node:https';
import { AppsV1Api, type KubernetesObject, type V1Deployment, type V1ReplicaSet } from '@kubernetes/client-node';
import { startControlPlane, KWOK_NODE_ANNOTATION, type LocalControlPlane } from './control-plane.js';
import type { AwsKey } from './eks-token-review.js';
import { startKubeFaultProxy, type Fault, type KubeFaultProxy, type RecordedRequest } from './kube-fault-proxy.js';
import { rbacDocumentsForNamespace, rbacGroups, rbacDocuments } from './rbac.js';

export type { Fault, RecordedRequest } from './kube-fault-proxy.js';

export interface SeedDeployment {
  /** Image history, oldest first; the last one is current. Defaults to [image]. */
  revisions?: string[];
  /** kubernetes.io/change-cause of each revision (as `kubectl annotate` or `--record` leaves it), parallel to `revisions`. */
  changeCauses?: string[];
  image?: string;
  /** Default 3; 0 allowed. */
  replicas?: number;
  /** Default: the deployment's name. */
  containerName?: string;
  /** Pod labels and selector; default { app: <name> }. */
  labels?: Record<string, string>;
  /** Default 600 (the API's default). */
  progressDeadlineSeconds?: number;
  /**
   * The rolling update the seeding rollouts use, for seeding only (e.g. { maxSurge: '100%',
   * maxUnavailable: 0 }: each revision in one step instead of one pod at a time). Once seeded, the
   * deployment has the default strategy (25%/25%: of 3 replicas, one new pod at a time) for whatever
   * rolls it out next; a never-ready revision is rolled out with the default too, so its stall has the
   * usual shape (one new pod, the old ones serving). Default: the default strategy throughout.
   */
  strategy?: { maxSurge?: number | string; maxUnavailable?: number | string };
}

export interface LocalNode {
  name: string;
  ready: boolean;
  /** Cordoned (blockScheduling). */
  unschedulable: boolean;
}

export interface LocalCluster {
  /** 'primary' | 'backup' | any label. */
  name: string;
  /** The EKS cluster name tokens are signed for. */
  clusterName: string;
  /** What the product connects to: the fault proxy, https with its own CA. */
  url: string;
  /** Base64 PEM of the CA the product must trust for `url` (as EKS DescribeCluster returns it). */
  caData: string;
  /** The real control plane behind the proxy (admin access: plane.adminKubeConfig()). */
  plane: LocalControlPlane;
  /** Every request that came through the proxy. */
  requests: RecordedRequest[];
  /** 401 answers given to the product. */
  unauthorizedCount(): number;
  /** Distinct bearer tokens the webhook accepted. */
  acceptedTokens(): string[];
  /**
   * Creates the namespace (if missing) and installs deploy/rbac/ for it as its header says to cover one
   * more namespace (local/rbac.ts rbacDocumentsForNamespace): its Roles and RoleBindings there, and a
   * copy of each ClusterRole that names the namespace (`<name>:<namespace>`: the apply's patch of its
   * own Namespace) with its binding.
   */
  addNamespace(name: string): Promise<void>;
  /** A kwok node (Ready once kwok runs it); ready=false: a node nobody runs (NotReady). Returns its name. */
  addNode(ready?: boolean, name?: string): Promise<string>;
  /** The nodes, in name order, with their Ready condition. */
  nodes(): Promise<LocalNode[]>;
  /**
   * Runs (ready) or stops running (not ready) a node; waits until its Ready condition shows it. A node
   * no longer run reports Ready=False: it is tainted (no new pod lands there) and its pods are evicted
   * 2 s later and replaced on the Ready nodes (local/control-plane.ts).
   */
  setNodeReady(name: string, ready: boolean): Promise<void>;
  /**
   * Revision history by real rollouts: one rollout per entry of seed.revisions (oldest first), each with
   * its kubernetes.io/change-cause, waiting for each (for a never-ready image: until its ReplicaSet is
   * scaled up and its pods are counted in the deployment's status: the stall). Creates the namespace if
   * missing (without RBAC: see addNamespace). seed.strategy: how the seeding rollouts go (seeding only).
   */
  addDeployment(namespace: string, name: string, seed: SeedDeployment): Promise<void>;
  /**
   * Rolls an existing deployment out to `image` (its first container; `kubectl set image`, with the
   * change-cause annotated when given) and waits as addDeployment does; nothing when it already runs it.
   */
  rollOut(namespace: string, name: string, image: string, changeCause?: string): Promise<void>;
  /** Creates or replaces a ConfigMap (the namespace is created if missing). */
  addConfigMap(namespace: string, name: string, data: Record<string, string>): Promise<void>;
  /** Creates or replaces an Opaque Secret from plain values (the namespace is created if missing). */
  addSecret(namespace: string, name: string, data: Record<string, string>): Promise<void>;
  /** Any object by its resource's plural name (`configmaps`, `deployments`, `roles`...), as JSON. */
  object(resource: string, namespace: string | undefined, name: string): Promise<KubernetesObject | undefined>;
  deployment(namespace: string, name: string): Promise<V1Deployment | undefined>;
  /** The ReplicaSets of a namespace, or those a deployment owns, oldest revision first. */
  replicaSets(namespace: string, deployment?: string): Promise<V1ReplicaSet[]>;
  configMapData(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** A Secret's values, decoded. */
  secretData(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Waits until the deployment is rolled out (kubectl rollout status); throws on ProgressDeadlineExceeded or after timeoutMs (default 60 s). */
  waitForRollout(namespace: string, name: string, timeoutMs?: number): Promise<V1Deployment>;
  /** Cordons (or uncordons) every node: new pods stay Pending, so a rollout stalls. */
  blockScheduling(blocked: boolean): Promise<void>;
  /**
   * The webhook refuses tokens whose X-Amz-Date is earlier (as EKS refuses an expired one). kube-apiserver
   * keeps each accepted token for 10 s (its built-in cache, as on EKS): resolves once that has lapsed for
   * every such token, so the next request with one gets a 401.
   */
  expireTokensIssuedBefore(date: Date): Promise<void>;
  /**
   * Real RBAC: removes `verb` from every deploy/rbac/ rule granting it on `resource` (a plural, with
   * `/subresource`, or a non-resource URL such as `/version`): in that namespace's Roles, or, without a
   * namespace, in every ClusterRole and Role deploy/rbac/ installed. Waits until the authorizer refuses.
   */
  forbid(rule: { verb: string; resource: string; namespace?: string }): Promise<void>;
  /**
   * Installs deploy/rbac/ again as it is on disk (cluster-wide and in every namespace addNamespace set
   * up), undoing forbid; waits until the authorizer allows again what forbid took away.
   */
  restoreRbac(): Promise<void>;
  /**
   * The next matching request(s) through the proxy get `status` with a Kubernetes Status body; or
   * {drop: true}: the connection is destroyed; or {lose: true}: the API server acts, and its answer is
   * replaced by `status` (default 503).
   */
  failNext(fault: Fault): void;
  /** The proxy stops listening (ECONNREFUSED). */
  refuseConnections(): Promise<void>;
  acceptConnections(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalClusterOptions {
  name: string;
  /** The EKS cluster name tokens must be signed for. */
  clusterName: string;
  /** AWS keys the webhook's "STS" accepts; their callers get every group deploy/rbac/ binds. */
  keys: readonly AwsKey[];
  /** Images whose pods run but never become Ready (a bad release). */
  neverReadyImages?: readonly string[];
  /** Ready nodes to start with (default 0). */
  nodes?: number;
  /** Where startup lines go (default: stderr). */
  log?: (line: string) => void;
  /**
   * The Secrets deploy/rbac/ is installed for, in place of `frontier-secrets` (the operator changes it to
   * the deployment config's databases[].recovery.kubernetesSecret.name, as its header says). Default: as written.
   */
  secretNames?: readonly string[];
  /** A CRI-format log file kwok serves as every container's log through the API server (see startControlPlane). */
  containerLogsFile?: string;
}

const CHANGE_CAUSE = 'kubernetes.io/change-cause';
/** The rolling update seeded deployments have (the API's default). */
const DEFAULT_ROLLING_UPDATE = { maxSurge: '25%', maxUnavailable: '25%' };
const REVISION = 'deployment.kubernetes.io/revision';
const FIELD_MANAGER = 'frontier-dr-local-environment';
const DEFAULT_WAIT_MS = 60_000;
/**
 * How long kube-apiserver keeps a successful token authentication (its built-in token cache; no flag
 * sets it). The webhook's own cache is off (cacheTtlSeconds: 0).
 */
const API_SERVER_TOKEN_CACHE_MS = 10_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Polls `look` every 100 ms until it returns something other than undefined; throws naming `what`
 * after `timeoutMs` (default 60 s). For the environment's waits on the real controllers and the tests'.
 */
export async function until<T>(what: string, look: () => Promise<T | undefined>, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await look();
    if (seen !== undefined) return seen;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface ResourceInfo {
  /** /api/v1 or /apis/<group>/<version> */
  base: string;
  group: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const plane = await startControlPlane({
    name: options.name,
    // Reviews are not cached: a token refused from now on (expireTokensIssuedBefore) is refused at once.
    eks: { clusterName: options.clusterName, keys: options.keys, cacheTtlSeconds: 0 },
    ...(options.neverReadyImages ? { neverReadyImages: options.neverReadyImages } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.containerLogsFile ? { containerLogsFile: options.containerLogsFile } : {}),
  });
  let proxy: KubeFaultProxy;
  try {
    proxy = await startKubeFaultProxy({ target: plane.url, targetCa: Buffer.from(plane.caData, 'base64').toString('utf8'), name: options.name });
  } catch (error) {
    await plane.stop();
    throw error;
  }
  const cluster = localCluster(options, plane, proxy);
  try {
    await cluster.restoreRbac();
    for (let i = 0; i < (options.nodes ?? 0); i++) await cluster.addNode(true);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

function localCluster(options: LocalClusterOptions, plane: LocalControlPlane, proxy: KubeFaultProxy): LocalCluster {
  const neverReady = new Set(options.neverReadyImages ?? []);
  const agent = new https.Agent({ keepAlive: true, ca: Buffer.from(plane.caData, 'base64').toString('utf8') });
  const apps = plane.adminKubeConfig().makeApiClient(AppsV1Api);
  const server = new URL(plane.url);
  const secretNames = options.secretNames?.length ? { secrets: options.secretNames } : {};
  /** Namespaces addNamespace installed deploy/rbac/ into. */
  const rbacNamespaces = new Set<string>();
  let nodeCount = 0;

  /** One request as the environment's admin; the parsed JSON answer (undefined for a 404 when `missingOk`). */
  function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
      const request = https.request(
        {
          hostname: server.hostname,
          port: server.port,
          method,
          path,
          agent,
          headers: {
            authorization: `Bearer ${plane.adminToken}`,
            accept: 'application/json',
            ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              try {
                resolve((text ? JSON.parse(text) : {}) as T);
              } catch (error) {
                reject(error);
              }
              return;
            }
            let message = text;
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? text;
            } catch {
              // not a Status
            }
            reject(new HttpError(status, `${method} ${path}: HTTP ${status}: ${message}`));
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  }
  const missing = <T>(promise: Promise<T>): Promise<T | undefined> =>
    promise.catch((error: unknown) => {
      if (error instanceof HttpError && error.status === 404) return undefined;
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    });

  // -- discovery: where a kind or a plural lives, and whether it is namespaced -------------------------
  const discovered = new Map<string, Promise<ResourceInfo[]>>();
  const resourcesOf = (groupVersion: string): Promise<ResourceInfo[]> => {
    let found = discovered.get(groupVersion);
    if (!found) {
      const base = groupVersion.includes('/') ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
      const group = groupVersion.includes('/') ? groupVersion.split('/')[0]! : '';
      found = api<{ resources: { name: string; kind: string; namespaced: boolean }[] }>('GET', base).then((list) =>
        list.resources.map((r) => ({ base, group, plural: r.name, kind: r.kind, namespaced: r.namespaced })),
      );
      found.catch(() => discovered.delete(groupVersion));
      discovered.set(groupVersion, found);
    }
    return found;
  };
  let groupVersions: Promise<string[]> | undefined;
  const allGroupVersions = () => {
    groupVersions ??= api<{ groups: { preferredVersion: { groupVersion: string } }[] }>('GET', '/apis').then((list) => ['v1', ...list.groups.map((g) => g.preferredVersion.groupVersion)]);
    return groupVersions;
  };
  const byKind = async (apiVersion: string, kind: string): Promise<ResourceInfo> => {
    const info = (await resourcesOf(apiVersion)).find((r) => r.kind === kind && !r.plural.includes('/'));
    if (!info) throw new Error(`${options.name}: the API server does not serve ${kind} in ${apiVersion}`);
    return info;
  };
  const byPlural = async (plural: string): Promise<ResourceInfo> => {
    for (const groupVersion of await allGroupVersions()) {
      const info = (await resourcesOf(groupVersion)).find((r) => r.plural === plural);
      if (info) return info;
    }
    throw new Error(`${options.name}: the API server serves no resource "${plural}"`);
  };
  const pathOf = (info: ResourceInfo, namespace: string | undefined, name?: string) =>
    `${info.base}${info.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : ''}/${info.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;

  /** Server-side apply by the environment (its one field manager): creates or updates to exactly `object`'s fields. */
  const apply = async (object: KubernetesObject): Promise<void> => {
    const info = await byKind(object.apiVersion!, object.kind!);
    const path = `${pathOf(info, object.metadata?.namespace, object.metadata!.name!)}?fieldManager=${FIELD_MANAGER}&force=true`;
    await api('PATCH', path, object, 'application/apply-patch+yaml');
  };

  // -- namespaces and RBAC -----------------------------------------------------------------------------
  const ensureNamespace = async (name: string) => {
    if (await missing(api('GET', `/api/v1/namespaces/${encodeURIComponent(name)}`))) return;
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch((error: unknown) => {
      if (!(error instanceof HttpError && error.status === 409)) throw error;
    });
  };

  /** deploy/rbac/'s objects split into cluster-scoped and namespaced (by what the API server says of their kinds). */
  const rbacScopes = async () => {
    const objects = rbacDocuments();
    const scoped = await Promise.all(objects.map(async (object) => ({ object, namespaced: (await byKind(object.apiVersion!, object.kind!)).namespaced })));
    return { cluster: scoped.filter((s) => !s.namespaced).map((s) => s.object), namespaced: scoped.filter((s) => s.namespaced).map((s) => s.object) };
  };
  const installRbacInto = async (namespace: string) => {
    for (const object of rbacDocumentsForNamespace(namespace, secretNames)) await apply(object);
  };
  /** The ClusterRole copies installRbacInto made for the namespaces addNamespace set up. */
  const namespaceClusterRoles = (): KubernetesObject[] => [...rbacNamespaces].flatMap((namespace) => rbacDocumentsForNamespace(namespace, secretNames).filter((d) => d.kind === 'ClusterRole'));

  /** SubjectAccessReviews forbid found allowed before it took the verb away (restoreRbac waits for them). */
  const forbidden: { what: string; spec: Record<string, unknown> }[] = [];
  const allowed = async (spec: Record<string, unknown>) =>
    (await api<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec })).status?.allowed ===
    true;

  // -- nodes ----------------------------------------------------------------------------------------------
  interface NodeJson {
    metadata: { name: string; annotations?: Record<string, string> };
    spec?: { unschedulable?: boolean };
    status?: { conditions?: { type: string; status: string }[] };
  }
  const isReady = (node: NodeJson) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  /**
   * The scheduler works from its own watch of the nodes, so a pod created right after a cordon can still
   * be placed on a node it has not yet seen cordoned. A probe pod it refuses as unschedulable proves the
   * cordon has reached it; a probe it placed anyway is deleted and another one tried.
   */
  async function untilSchedulerSeesCordon(): Promise<void> {
    let attempt = 0;
    await until(`${options.name}: the scheduler to see every node cordoned`, async () => {
      attempt += 1;
      const name = `scheduling-probe-${Date.now().toString(36)}-${attempt}`;
      const path = `/api/v1/namespaces/default/pods/${name}`;
      await api('POST', '/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: { automountServiceAccountToken: false, terminationGracePeriodSeconds: 0, containers: [{ name: 'probe', image: 'frontier/scheduling-probe:1' }] },
      });
      try {
        const verdict = await until(`${options.name}: the scheduler to judge ${name}`, async () => {
          const pod = await api<{ spec?: { nodeName?: string }; status?: { conditions?: { type: string; status: string; reason?: string }[] } }>('GET', path);
          if (pod.spec?.nodeName) return 'placed';
          const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
          return scheduled?.status === 'False' && scheduled.reason === 'Unschedulable' ? 'refused' : undefined;
        }, 15_000);
        return verdict === 'refused' ? true : undefined;
      } finally {
        await missing(api('DELETE', `${path}?gracePeriodSeconds=0`));
      }
    });
  }

  const readNode = (name: string) => api<NodeJson>('GET', `/api/v1/nodes/${encodeURIComponent(name)}`);
  const waitForNode = (name: string, ready: boolean) =>
    until(`node ${name} to be ${ready ? 'Ready' : 'NotReady'}`, async () => (isReady(await readNode(name)) === ready ? true : undefined));

  // -- deployments ------------------------------------------------------------------------------------------
  const rolledOut = (deployment: V1Deployment): boolean => {
    const status = deployment.status ?? {};
    const desired = deployment.spec?.replicas ?? 1;
    return (
      (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
      (status.updatedReplicas ?? 0) >= desired &&
      (status.replicas ?? 0) <= (status.updatedReplicas ?? 0) &&
      (status.availableReplicas ?? 0) >= (status.updatedReplicas ?? 0)
    );
  };
  const readDeployment = (namespace: string, name: string) => missing(apps.readNamespacedDeployment({ namespace, name }));
  /** Until the controller has made `revision` of `image` and rolled it out (a never-ready image: until its rollout has started and stalls). */
  const waitForRevision = (namespace: string, name: string, image: string, revision: number) =>
    until(`${namespace}/${name} revision ${revision} (${image}) to roll out`, async () => {
      const deployment = await readDeployment(namespace, name);
      if (!deployment || deployment.metadata?.annotations?.[REVISION] !== String(revision)) return undefined;
      if ((deployment.status?.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0)) return undefined;
      // A release whose pods never become Ready stalls: wait until it stalled as far as the strategy
      // lets it go (its ReplicaSet scaled up, those pods counted in the deployment's status).
      if (neverReady.has(image)) {
        const stalled = (await cluster.replicaSets(namespace, name)).find((rs) => rs.metadata?.annotations?.[REVISION] === String(revision));
        const scaledTo = stalled?.spec?.replicas ?? 0;
        if (!stalled || (scaledTo === 0 && (deployment.spec?.replicas ?? 1) > 0)) return undefined;
        return (deployment.status?.updatedReplicas ?? 0) >= scaledTo || undefined;
      }
      return rolledOut(deployment) || undefined;
    });

  const cluster: LocalCluster = {
    name: options.name,
    clusterName: options.clusterName,
    url: proxy.url,
    caData: proxy.caData,
    plane,
    requests: proxy.requests,
    unauthorizedCount: () => proxy.requests.filter((r) => r.status === 401).length,
    acceptedTokens: () => plane.webhook?.acceptedTokens() ?? [],

    async addNamespace(name) {
      await ensureNamespace(name);
      await installRbacInto(name);
      rbacNamespaces.add(name);
    },

    async addNode(ready = true, name) {
      nodeCount++;
      const nodeName = name ?? `ip-10-0-${Math.floor(nodeCount / 250)}-${(nodeCount % 250) + 1}.ec2.internal`;
      await api('POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: nodeName,
          labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', type: 'kwok' },
          ...(ready ? { annotations: { [KWOK_NODE_ANNOTATION]: 'fake' } } : {}),
        },
        spec: { providerID: `aws:///us-east-1a/i-${nodeCount.toString(16).padStart(17, '0')}` },
      });
      if (ready) await waitForNode(nodeName, true);
      return nodeName;
    },

    async nodes() {
      const list = await api<{ items: NodeJson[] }>('GET', '/api/v1/nodes');
      return list.items
        .map((node) => ({ name: node.metadata.name, ready: isReady(node), unschedulable: node.spec?.unschedulable ?? false }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },

    async setNodeReady(name, ready) {
      const patchNode = (body: unknown) => api('PATCH', `/api/v1/nodes/${encodeURIComponent(name)}`, body, 'application/merge-patch+json');
      const current = await readNode(name);
      const running = current.metadata.annotations?.[KWOK_NODE_ANNOTATION] === 'fake';
      if (running === ready && isReady(current) === ready) return;
      if (ready) {
        // kwok runs it again: its node-initialize stage reports it Ready.
        await patchNode({ metadata: { annotations: { [KWOK_NODE_ANNOTATION]: 'fake' } } });
        await waitForNode(name, true);
        return;
      }
      // Nobody runs it any more; its last report says the kubelet is not ready (as a node that lost its
      // kubelet or its network reads until the node-lifecycle controller marks it Unknown). kwok may take
      // a moment to let go of it (and would report it Ready again meanwhile): report until it stays so.
      await patchNode({ metadata: { annotations: { [KWOK_NODE_ANNOTATION]: null } } });
      const notReady = {
        status: {
          conditions: [
            { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'the node stopped running (local environment)', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() },
          ],
        },
      };
      await until(`node ${name} to stay NotReady`, async () => {
        if (isReady(await readNode(name))) await api('PATCH', `/api/v1/nodes/${encodeURIComponent(name)}/status`, notReady, 'application/strategic-merge-patch+json');
        await new Promise((resolve) => setTimeout(resolve, 500));
        return isReady(await readNode(name)) ? undefined : true;
      });
    },

    async addDeployment(namespace, name, seed) {
      const images = seed.revisions ?? (seed.image ? [seed.image] : []);
      if (images.length === 0) throw new Error(`${options.name}: addDeployment needs an image or revisions`);
      if (seed.changeCauses && seed.changeCauses.length !== images.length) throw new Error(`${options.name}: addDeployment needs one change-cause per revision`);
      await ensureNamespace(namespace);
      const labels = seed.labels ?? { app: name };
      const container = (image: string) => ({ name: seed.containerName ?? name, image, ports: [{ containerPort: 8080, protocol: 'TCP' }] });
      const seeding = (image: string) => seed.strategy !== undefined && !neverReady.has(image);
      const strategy = (seeded: boolean) => ({ type: 'RollingUpdate', rollingUpdate: seeded ? { ...DEFAULT_ROLLING_UPDATE, ...seed.strategy } : DEFAULT_ROLLING_UPDATE });
      const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`;
      for (const [index, image] of images.entries()) {
        const cause = seed.changeCauses?.[index];
        const annotations = cause === undefined ? {} : { [CHANGE_CAUSE]: cause };
        if (index === 0) {
          await api('POST', path, {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name, namespace, labels, annotations },
            spec: {
              replicas: seed.replicas ?? 3,
              selector: { matchLabels: labels },
              template: { metadata: { labels }, spec: { containers: [container(image)] } },
              strategy: strategy(seeding(image)),
              progressDeadlineSeconds: seed.progressDeadlineSeconds ?? 600,
              revisionHistoryLimit: 10,
            },
          });
        } else {
          // What `kubectl set image` + `kubectl annotate kubernetes.io/change-cause=...` do.
          await api('PATCH', `${path}/${encodeURIComponent(name)}`, { metadata: { annotations }, spec: { strategy: strategy(seeding(image)), template: { spec: { containers: [container(image)] } } } }, 'application/merge-patch+json');
        }
        await waitForRevision(namespace, name, image, index + 1);
      }
      if (seeding(images[images.length - 1]!)) {
        // Seeded: back to the default strategy (a spec change outside the pod template: no new revision).
        await api('PATCH', `${path}/${encodeURIComponent(name)}`, { spec: { strategy: strategy(false) } }, 'application/merge-patch+json');
        await until(`${namespace}/${name}'s strategy to be observed`, async () => {
          const deployment = await readDeployment(namespace, name);
          return deployment && (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) ? true : undefined;
        });
      }
    },

    async rollOut(namespace, name, image, changeCause) {
      const deployment = await readDeployment(namespace, name);
      if (!deployment) throw new Error(`${options.name}: no deployment ${namespace}/${name}`);
      if (deployment.spec?.template.spec?.containers[0]?.image === image) return;
      const revision = Number(deployment.metadata?.annotations?.[REVISION] ?? 0) + 1;
      await api(
        'PATCH',
        `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments/${encodeURIComponent(name)}`,
        [
          { op: 'replace', path: '/spec/template/spec/containers/0/image', value: image },
          ...(changeCause === undefined
            ? []
            : [{ op: 'add', path: '/metadata/annotations', value: { ...(deployment.metadata?.annotations ?? {}), [CHANGE_CAUSE]: changeCause } }]),
        ],
        'application/json-patch+json',
      );
      await waitForRevision(namespace, name, image, revision);
    },

    async addConfigMap(namespace, name, data) {
      await ensureNamespace(namespace);
      await createOrReplace('/api/v1', 'configmaps', namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { ...data } });
    },

    async addSecret(namespace, name, data) {
      await ensureNamespace(namespace);
      const encoded = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]));
      await createOrReplace('/api/v1', 'secrets', namespace, { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace }, data: encoded });
    },

    async object(resource, namespace, name) {
      const info = await byPlural(resource);
      return missing(api<KubernetesObject>('GET', pathOf(info, namespace, name)));
    },

    deployment: readDeployment,

    async replicaSets(namespace, deployment) {
      const list = await apps.listNamespacedReplicaSet({ namespace });
      let items = list.items;
      if (deployment) {
        const owner = await readDeployment(namespace, deployment);
        if (!owner) return [];
        items = items.filter((rs) => rs.metadata?.ownerReferences?.some((ref) => ref.uid === owner.metadata?.uid));
      }
      const revision = (rs: V1ReplicaSet) => Number(rs.metadata?.annotations?.[REVISION] ?? 0);
      return items.sort((a, b) => revision(a) - revision(b));
    },

    async configMapData(namespace, name) {
      const found = await missing(api<{ data?: Record<string, string> }>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`));
      return found ? { ...(found.data ?? {}) } : undefined;
    },

    async secretData(namespace, name) {
      const found = await missing(api<{ data?: Record<string, string> }>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`));
      if (!found) return undefined;
      return Object.fromEntries(Object.entries(found.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
    },

    waitForRollout(namespace, name, timeoutMs = DEFAULT_WAIT_MS) {
      return until(
        `${namespace}/${name} to roll out`,
        async () => {
          const deployment = await readDeployment(namespace, name);
          if (!deployment) throw new Error(`${options.name}: no deployment ${namespace}/${name}`);
          const progressing = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
          if (progressing?.reason === 'ProgressDeadlineExceeded' && (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0)) {
            throw new Error(`${options.name}: ${namespace}/${name} exceeded its progress deadline: ${progressing.message ?? ''}`);
          }
          return rolledOut(deployment) ? deployment : undefined;
        },
        timeoutMs,
      );
    },

    async blockScheduling(blocked) {
      for (const node of await cluster.nodes()) {
        await api('PATCH', `/api/v1/nodes/${encodeURIComponent(node.name)}`, { spec: { unschedulable: blocked ? true : null } }, 'application/merge-patch+json');
      }
      if (blocked) await untilSchedulerSeesCordon();
    },

    async expireTokensIssuedBefore(date) {
      if (!plane.webhook) throw new Error(`${options.name}: no EKS token webhook`);
      const lastAccepted = plane.webhook.expireTokensIssuedBefore(date);
      const lapse = lastAccepted + API_SERVER_TOKEN_CACHE_MS + 250 - Date.now();
      if (lastAccepted > 0 && lapse > 0) await new Promise((resolve) => setTimeout(resolve, lapse));
    },

    async forbid(rule) {
      const [plural = '', subresource] = rule.resource.startsWith('/') ? [rule.resource] : rule.resource.split('/');
      const nonResource = rule.resource.startsWith('/');
      const { cluster: clusterScoped, namespaced } = await rbacScopes();
      const roles = [
        ...(rule.namespace === undefined
          ? [...clusterScoped.filter((o) => o.kind === 'ClusterRole'), ...namespaceClusterRoles()].map((o) => ({ object: o, namespace: undefined as string | undefined }))
          : []),
        ...namespaced
          .filter((o) => o.kind === 'Role')
          .flatMap((o) => [...rbacNamespaces].filter((ns) => rule.namespace === undefined || ns === rule.namespace).map((ns) => ({ object: o, namespace: ns as string | undefined }))),
      ];
      const apiGroups = new Set<string>();
      const edits: { object: KubernetesObject; namespace: string | undefined; rules: PolicyRule[] }[] = [];
      for (const { object, namespace } of roles) {
        const info = await byKind(object.apiVersion!, object.kind!);
        const installed = await missing(api<KubernetesObject & { rules?: PolicyRule[] }>('GET', pathOf(info, namespace, object.metadata!.name!)));
        if (!installed) continue;
        let changed = false;
        const rules = (installed.rules ?? []).flatMap((policy): PolicyRule[] => {
          const targets = nonResource ? (policy.nonResourceURLs ?? []) : (policy.resources ?? []);
          if (!targets.includes(rule.resource) || !(policy.verbs.includes(rule.verb) || policy.verbs.includes('*'))) return [policy];
          if (policy.verbs.includes('*')) throw new Error(`${options.name}: forbid cannot narrow a wildcard verb in ${object.kind} ${object.metadata?.name}`);
          changed = true;
          for (const group of policy.apiGroups ?? []) apiGroups.add(group);
          const others = targets.filter((t) => t !== rule.resource);
          const verbs = policy.verbs.filter((v) => v !== rule.verb);
          const key = nonResource ? 'nonResourceURLs' : 'resources';
          return [...(others.length ? [{ ...policy, [key]: others }] : []), ...(verbs.length ? [{ ...policy, [key]: [rule.resource], verbs }] : [])];
        });
        if (changed) edits.push({ object, namespace, rules });
      }
      // What the authorizer answers the groups deploy/rbac/ binds, where the verb could have been granted.
      const groups = rbacGroups();
      const namespaces = rule.namespace !== undefined ? [rule.namespace] : nonResource ? [undefined] : [undefined, ...rbacNamespaces];
      const reviews = namespaces.flatMap((namespace) =>
        [...(apiGroups.size ? apiGroups : new Set(['']))].map((group) => ({
          what: `${rule.verb} ${rule.resource}${namespace ? ` in ${namespace}` : ''}`,
          spec: {
            user: 'frontier-dr-forbid-check',
            groups,
            ...(nonResource
              ? { nonResourceAttributes: { path: rule.resource, verb: rule.verb } }
              : { resourceAttributes: { verb: rule.verb, group, resource: plural, ...(subresource ? { subresource } : {}), ...(namespace ? { namespace } : {}) } }),
          },
        })),
      );
      // Allowed now: what restoreRbac must see allowed again.
      for (const review of reviews) if (await allowed(review.spec)) forbidden.push(review);
      for (const { object, namespace, rules } of edits) {
        await apply({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata!.name!, ...(namespace ? { namespace } : {}) }, rules } as KubernetesObject);
      }
      // Wait until the authorizer (its informers see role changes a moment later) refuses.
      for (const review of reviews) await until(`RBAC to refuse ${review.what}`, async () => ((await allowed(review.spec)) ? undefined : true));
    },

    async restoreRbac() {
      const { cluster: clusterScoped } = await rbacScopes();
      for (const object of clusterScoped) await apply(object);
      for (const namespace of rbacNamespaces) await installRbacInto(namespace);
      // Wait until the authorizer allows again what forbid took away.
      for (const review of forbidden.splice(0)) await until(`RBAC to allow ${review.what} again`, async () => ((await allowed(review.spec)) ? true : undefined));
    },

    failNext: (fault) => proxy.failNext(fault),
    refuseConnections: () => proxy.refuseConnections(),
    acceptConnections: () => proxy.acceptConnections(),

    async stop() {
      await proxy.stop();
      agent.destroy();
      await plane.stop();
    },
  };

  async function createOrReplace(base: string, plural: string, namespace: string, object: KubernetesObject & Record<string, unknown>): Promise<void> {
    const collection = `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
    const path = `${collection}/${encodeURIComponent(object.metadata!.name!)}`;
    const existing = await missing(api<KubernetesObject>('GET', path));
    if (existing) await api('PUT', path, { ...object, metadata: { ...object.metadata, resourceVersion: existing.metadata?.resourceVersion } });
    else await api('POST', collection, object);
  }

  return cluster;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}
