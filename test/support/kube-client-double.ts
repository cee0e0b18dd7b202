// A test double of the HTTP library the Kubernetes client sends through (ConnectOptions.httpApi): the
// unit tier's Kubernetes "server", with no network. The product's whole client path still runs (request
// building by @kubernetes/client-node, the EKS token and its refresh, the per-request deadline, the
// classification of answers into named errors); only the bytes on the wire are replaced. Answers are
// scripted per request (`on`), faults injected per request (`failNext`); every request is recorded.
// What a real API server does with a request (rollouts, apply, RBAC) is tested on real control planes
// in the integration tier, not here.
import {
  ResponseContext,
  wrapHttpLibrary,
  type HttpLibrary,
  type RequestContext,
  type V1Deployment,
  type V1Node,
  type V1Pod,
  type V1ReplicaSet,
  type V1Scale,
  type V1Status,
} from '@kubernetes/client-node';
import { KUBERNETES_STATUS_REASONS } from '../../local/kube-fault-proxy.js';
import { connectToCluster, type ConnectOptions, type KubernetesConnection } from '../../shared/kubernetes/connection.js';

/** Where the double "is": never resolved, never connected to. */
export const DOUBLE_SERVER = 'https://kubernetes.double.invalid';
/** Keys the tokens are signed with: the double does not check signatures, only the token's age. */
export const DOUBLE_CREDENTIALS = Object.freeze({ accessKeyId: 'AKIDKUBEDOUBLE000001', secretAccessKey: 'kube-client-double-secret-key-000000000' });
/** EKS honours a token for 15 minutes after its X-Amz-Date. */
const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;

export interface DoubleRequest {
  method: string;
  /** The URL's path, e.g. /apis/apps/v1/namespaces/production/deployments/api/scale */
  path: string;
  query: Record<string, string>;
  contentType?: string;
  /** The bearer token sent (Authorization header without "Bearer "). */
  token?: string;
  /** The request body, JSON-parsed when it is JSON. */
  body?: unknown;
  /** The HTTP status answered, or how the request ended without one. */
  status: number | 'timeout' | 'refused' | 'dropped' | 'unanswered';
}

export interface Answer {
  status?: number;
  /** An object is sent as JSON, a string as text/plain (pod logs). */
  body?: unknown;
}

export type Responder = Answer | ((request: DoubleRequest) => Answer);

export interface DoubleFault {
  method?: string;
  /** The exact path, or a pattern of it. */
  path: string | RegExp;
  /** Answer this status with a Kubernetes Status body (reason and message as given or typical). */
  status?: number;
  reason?: string;
  message?: string;
  /** Never answer: the request's own deadline (its AbortSignal) ends it, as with a silent API server. */
  timeout?: boolean;
  /** Fail as undici's fetch does when the connection is refused (ECONNREFUSED). */
  refused?: boolean;
  /** Fail as undici's fetch does when the server closes the connection without an answer. */
  dropped?: boolean;
  /** How many matching requests get the fault (default 1). */
  times?: number;
}


/** A Kubernetes Status object, as the API server answers a failed request. */
export function kubeStatus(code: number, message: string, reason = KUBERNETES_STATUS_REASONS[code] ?? 'Unknown'): V1Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}

function fetchFailed(code: string, message: string): TypeError {
  // What undici's fetch rejects with: a TypeError whose cause is the socket error.
  return Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code }) });
}

/** X-Amz-Date of an EKS token (k8s-aws-v1. + base64url presigned URL), as ms; undefined for other tokens. */
export function eksTokenIssuedAt(token: string | undefined): number | undefined {
  if (!token?.startsWith('k8s-aws-v1.')) return undefined;
  const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
  const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(url.searchParams.get('X-Amz-Date') ?? '');
  if (!stamp) return undefined;
  const [, y, mo, d, h, mi, s] = stamp.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}

export class KubeClientDouble {
  readonly requests: DoubleRequest[] = [];
  /** Give this to connectToCluster ({ httpApi }). */
  readonly httpApi: HttpLibrary;
  private routes: { method: string; path: string | RegExp; responder: Responder }[] = [];
  private faults: (DoubleFault & { left: number })[] = [];
  private expiredBefore: number | undefined;
  private refusing = false;
  private readonly accepted = new Set<string>();

  /**
   * @param now The clock the 15-minute EKS token lifetime is measured against; without it token age
   * is not checked (only expireTokensIssuedBefore refuses tokens).
   */
  constructor(private readonly now?: () => Date) {
    this.httpApi = wrapHttpLibrary({ send: (context) => this.send(context) });
  }

  /** Answers `method path` with `responder` from now on; a later `on` for the same request wins. */
  on(method: string, path: string | RegExp, responder: Responder): this {
    this.routes.push({ method, path, responder });
    return this;
  }

  /** The next matching request(s) get the fault instead of their answer. */
  failNext(fault: DoubleFault): this {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
    return this;
  }

  /** Every EKS token signed before `date` is refused with 401 (as if its role mapping was re-created). */
  expireTokensIssuedBefore(date: Date): void {
    this.expiredBefore = date.getTime();
  }

  /** Every request fails as a refused connection until acceptConnections(). */
  refuseConnections(): void {
    this.refusing = true;
  }

  acceptConnections(): void {
    this.refusing = false;
  }

  unauthorizedCount(): number {
    return this.requests.filter((r) => r.status === 401).length;
  }

  /** Distinct tokens answered with something other than 401. */
  acceptedTokens(): string[] {
    return [...this.accepted];
  }

  /** Requests of `method` whose path matches. */
  sent(method: string, path: string | RegExp): DoubleRequest[] {
    return this.requests.filter((r) => r.method === method && matches(path, r.path));
  }

  private async send(context: RequestContext): Promise<ResponseContext> {
    const url = new URL(context.getUrl());
    const headers = Object.fromEntries(Object.entries(context.getHeaders()).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const raw = context.getBody();
    let body: unknown = raw;
    if (typeof raw === 'string') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const request: DoubleRequest = {
      method: context.getHttpMethod().toString(),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(headers['content-type'] ? { contentType: headers['content-type'] } : {}),
      ...(headers.authorization?.startsWith('Bearer ') ? { token: headers.authorization.slice('Bearer '.length) } : {}),
      ...(body !== undefined ? { body } : {}),
      status: 'unanswered',
    };
    this.requests.push(request);

    if (this.refusing) {
      request.status = 'refused';
      throw fetchFailed('ECONNREFUSED', `connect ECONNREFUSED ${url.host}`);
    }
    const fault = this.faults.find((f) => f.left > 0 && (!f.method || f.method === request.method) && matches(f.path, request.path));
    if (fault) fault.left--;
    if (fault?.refused) {
      request.status = 'refused';
      throw fetchFailed('ECONNREFUSED', `connect ECONNREFUSED ${url.host}`);
    }
    if (fault?.dropped) {
      request.status = 'dropped';
      throw fetchFailed('UND_ERR_SOCKET', 'other side closed');
    }
    if (fault?.timeout) {
      request.status = 'timeout';
      return this.never(context.getSignal(), request);
    }

    const issuedAt = eksTokenIssuedAt(request.token);
    const tooOld = issuedAt !== undefined && this.now !== undefined && this.now().getTime() - issuedAt > EKS_TOKEN_LIFETIME_MS;
    const revoked = issuedAt !== undefined && this.expiredBefore !== undefined && issuedAt < this.expiredBefore;
    if (tooOld || revoked) return this.answer(request, { status: 401, body: kubeStatus(401, 'Unauthorized') });
    if (fault?.status !== undefined) {
      const message = fault.message ?? `injected ${fault.status} for ${request.method} ${request.path}`;
      return this.answer(request, { status: fault.status, body: kubeStatus(fault.status, message, fault.reason) });
    }

    const route = [...this.routes].reverse().find((r) => r.method === request.method && matches(r.path, request.path));
    if (!route) throw new Error(`kube-client-double: no answer for ${request.method} ${request.path}`);
    const answer = typeof route.responder === 'function' ? route.responder(request) : route.responder;
    return this.answer(request, answer);
  }

  private answer(request: DoubleRequest, answer: Answer): ResponseContext {
    const status = answer.status ?? 200;
    request.status = status;
    if (status !== 401 && request.token) this.accepted.add(request.token);
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
    const contentType = typeof answer.body === 'string' ? 'text/plain' : 'application/json';
    return new ResponseContext(status, { 'content-type': contentType }, {
      text: async () => text,
      binary: async () => Buffer.from(text, 'utf8'),
      stream: () => null,
    });
  }

  /** A server that never answers: the request ends when its deadline aborts it, as undici's fetch does. */
  private never(signal: AbortSignal | undefined, request: DoubleRequest): Promise<ResponseContext> {
    return new Promise((_resolve, reject) => {
      // The product sets a deadline on every request; one without would hang, so say so instead.
      const guard = setTimeout(() => reject(new Error(`kube-client-double: ${request.method} ${request.path} has no deadline`)), 30_000);
      const abort = () => {
        clearTimeout(guard);
        reject(signal?.reason ?? Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }));
      };
      if (signal?.aborted) abort();
      else signal?.addEventListener('abort', abort, { once: true });
    });
  }
}

/** A connection whose requests the double answers (no EKS call, tokens signed with DOUBLE_CREDENTIALS). */
export function connectToDouble(double: KubeClientDouble, options: ConnectOptions & { clusterName?: string } = {}): Promise<KubernetesConnection> {
  const { clusterName = 'unit-cluster', ...rest } = options;
  return connectToCluster(
    { name: clusterName, region: 'us-east-1' },
    { resolveEndpoint: () => ({ endpoint: DOUBLE_SERVER }), credentials: DOUBLE_CREDENTIALS, httpApi: double.httpApi, ...rest },
  );
}

// ---------------------------------------------------------------------------------------------------
// Objects as the API server answers them

const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';

export function deploymentPath(namespace: string, name: string): string {
  return `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
}

export interface DeploymentShape {
  namespace: string;
  name: string;
  uid?: string;
  image: string;
  replicas?: number;
  revision?: number;
  generation?: number;
  observedGeneration?: number;
  annotations?: Record<string, string>;
  /** Status counts; default: every replica updated, ready and available. */
  status?: { replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number };
  conditions?: { type: string; status: string; reason?: string; message?: string; lastUpdateTime?: string; lastTransitionTime?: string }[];
  paused?: boolean;
  labels?: Record<string, string>;
}

export function deploymentObject(shape: DeploymentShape): V1Deployment {
  const replicas = shape.replicas ?? 1;
  const labels = shape.labels ?? { app: shape.name };
  const generation = shape.generation ?? 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: shape.name,
      namespace: shape.namespace,
      uid: shape.uid ?? `uid-${shape.name}`,
      generation,
      annotations: { ...(shape.revision !== undefined ? { [REVISION]: String(shape.revision) } : {}), ...shape.annotations },
    },
    spec: {
      replicas,
      ...(shape.paused ? { paused: true } : {}),
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: shape.image }] } },
    },
    status: {
      observedGeneration: shape.observedGeneration ?? generation,
      replicas: shape.status?.replicas ?? replicas,
      updatedReplicas: shape.status?.updatedReplicas ?? replicas,
      readyReplicas: shape.status?.readyReplicas ?? replicas,
      availableReplicas: shape.status?.availableReplicas ?? replicas,
      ...(shape.conditions ? { conditions: shape.conditions as never } : {}),
    },
  };
}

export interface ReplicaSetShape {
  namespace: string;
  name: string;
  /** The deployment that owns it (controller reference). */
  deployment: { name: string; uid?: string };
  image: string;
  revision: number;
  history?: number[];
  changeCause?: string;
  labels?: Record<string, string>;
}

export function replicaSetObject(shape: ReplicaSetShape): V1ReplicaSet {
  const labels = { ...(shape.labels ?? { app: shape.deployment.name }), 'pod-template-hash': shape.name.split('-').pop() ?? shape.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: shape.name,
      namespace: shape.namespace,
      annotations: {
        [REVISION]: String(shape.revision),
        ...(shape.history?.length ? { [REVISION_HISTORY]: shape.history.join(',') } : {}),
        ...(shape.changeCause ? { [CHANGE_CAUSE]: shape.changeCause } : {}),
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: shape.deployment.name, uid: shape.deployment.uid ?? `uid-${shape.deployment.name}`, controller: true }],
    },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: shape.image }] } } },
  };
}

export function scaleObject(namespace: string, name: string, replicas: number): V1Scale {
  return { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name, namespace }, spec: { replicas }, status: { replicas, selector: `app=${name}` } };
}

export function nodeObject(name: string, ready: boolean): V1Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } };
}

/** A pod scheduled to `nodeName` (null: not scheduled yet, Pending). */
export function podObject(namespace: string, name: string, labels: Record<string, string>, containers: string[] = ['app'], nodeName: string | null = 'node-1'): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: `${c}:1` })) },
  };
}

export function listOf<T>(kind: string, items: T[], continueToken?: string): { apiVersion: string; kind: string; metadata: { _continue?: string; continue?: string }; items: T[] } {
  return { apiVersion: 'v1', kind, metadata: continueToken ? { continue: continueToken } : {}, items };
}

/**
 * A deployment with a release history, answered consistently: GET of it and of its scale, LIST of its
 * ReplicaSets (one per revision, oldest first, owned by it), and PATCH of its scale and template (the
 * patched object echoed back). Later `on` calls override any of these.
 */
export function answerDeployment(
  double: KubeClientDouble,
  shape: { namespace: string; name: string; revisions: string[]; replicas?: number; changeCauses?: string[] },
): { deployment: V1Deployment; replicaSets: V1ReplicaSet[] } {
  const { namespace, name, revisions } = shape;
  const replicas = shape.replicas ?? 1;
  const replicaSets = revisions.map((image, i) =>
    replicaSetObject({ namespace, name: `${name}-rs${i + 1}`, deployment: { name }, image, revision: i + 1, ...(shape.changeCauses ? { changeCause: shape.changeCauses[i] } : {}) }),
  );
  const deployment = deploymentObject({
    namespace,
    name,
    image: revisions[revisions.length - 1]!,
    replicas,
    revision: revisions.length,
    ...(shape.changeCauses ? { annotations: { [CHANGE_CAUSE]: shape.changeCauses[shape.changeCauses.length - 1]! } } : {}),
  });
  const path = deploymentPath(namespace, name);
  double
    .on('GET', path, { body: deployment })
    .on('PATCH', path, { body: deployment })
    .on('GET', `${path}/scale`, { body: scaleObject(namespace, name, replicas) })
    .on('PATCH', `${path}/scale`, (request) => ({ body: scaleObject(namespace, name, (request.body as { spec?: { replicas?: number } }).spec?.replicas ?? replicas) }))
    .on('GET', `/apis/apps/v1/namespaces/${namespace}/replicasets`, { body: listOf('ReplicaSetList', replicaSets) });
  return { deployment, replicaSets };
}
