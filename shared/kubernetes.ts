// Kubernetes (EKS) operations for the recovery scenarios: assess a cluster, scale the API, patch a
// ConfigMap or Secret, apply the production manifests, roll a deployment back, look at a rollout once,
// collect pod logs. Each is one short call sequence; the state machines do the waiting between looks.
//
// The same code runs against EKS and against the loopback Kubernetes fake the tests start: only
// connectToCluster's `resolveEndpoint` option (tests and the local drill) differs from production, where
// EKS DescribeCluster supplies the endpoint and CA and an in-process STS token authenticates.
import { createHash } from 'node:crypto';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  Observable,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  VersionApi,
  type ConfigurationOptions,
  type RequestContext,
  type ResponseContext,
  type V1Deployment,
  type V1LabelSelector,
  type V1ListMeta,
  type V1PodTemplateSpec,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { parseAllDocuments } from 'yaml';
import type { ClusterConfig } from './config.js';
import { eksToken } from './eks-token.js';
import { awsCall, classifyAwsError, InvalidInput, RecoveryError, UnexpectedResourceState } from './errors.js';

export { eksToken } from './eks-token.js';

// ---------------------------------------------------------------------------------------------------
// Errors. `name` is what the state machines' Retry/Catch match.

/** The API server could not be reached (refused, timed out, DNS): the cluster or its network is down. */
export class KubernetesUnreachable extends RecoveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubernetesUnreachable';
  }
}

/** 401 even with a fresh token, or 403 (RBAC): a deployment problem, retrying will not help. */
export class KubernetesUnauthorized extends RecoveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubernetesUnauthorized';
  }
}

export class KubernetesNotFound extends RecoveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubernetesNotFound';
  }
}

export class KubernetesConflict extends RecoveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubernetesConflict';
  }
}

/** 5xx or 429 from the API server: ASL retries with backoff. */
export class KubernetesTransientError extends RecoveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubernetesTransientError';
  }
}

/** 400, 415 or 422: the API server refused what we sent (e.g. an invalid manifest). Never retried. */
export class KubernetesRejected extends RecoveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubernetesRejected';
  }
}

/** The deployment has no earlier revision, or not the one asked for. */
export class NothingToRollBack extends RecoveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NothingToRollBack';
  }
}

/** The rollout hit its progressDeadlineSeconds (condition Progressing=False, ProgressDeadlineExceeded). */
export class RolloutFailed extends RecoveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RolloutFailed';
  }
}

/** The Kubernetes error names worth an ASL Retry (the others go straight to a Catch). */
export const KUBERNETES_RETRYABLE_ERROR_NAMES = ['KubernetesTransientError', 'KubernetesUnreachable'] as const;

// ---------------------------------------------------------------------------------------------------
// Connection

/** Where a cluster's API is, when it does not come from EKS (tests, the local drill). */
export interface ClusterEndpoint {
  endpoint: string;
  /** Base64 PEM bundle, as EKS DescribeCluster returns it. */
  caData?: string;
  /** A fixed bearer token instead of an EKS token (it cannot be refreshed). */
  token?: string;
  /** Defaults to true for a plain http:// endpoint (the loopback fake), false otherwise. */
  skipTLSVerify?: boolean;
}

export interface ConnectOptions {
  /** Replaces EKS DescribeCluster. Never set in AWS. */
  resolveEndpoint?: (cluster: ClusterTarget) => ClusterEndpoint | Promise<ClusterEndpoint>;
  /** EKS client for DescribeCluster (default: one per region, created once per container). */
  eks?: EKSClient;
  /** Credentials the token is signed with (default: the EKS client's, i.e. the SDK's provider chain). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Clock for token age and signing (tests). */
  now?: () => Date;
  /** Age at which the token is replaced before use. EKS accepts a token for 15 minutes. */
  refreshTokenAfterMs?: number;
  /** Deadline of each API request. */
  requestTimeoutMs?: number;
}

export type ClusterTarget = Pick<ClusterConfig, 'name' | 'region'>;

/** A bearer token that can be replaced when the API server stops accepting it. */
export interface BearerToken {
  current(): Promise<string>;
  /** Forgets the token so the next request mints a new one; false when it cannot be replaced. */
  refresh(): boolean;
}

export interface KubernetesConnection {
  readonly cluster: string;
  readonly region: string;
  readonly server: string;
  readonly kubeConfig: KubeConfig;
  readonly token: BearerToken;
  readonly requestTimeoutMs: number;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly networking: NetworkingV1Api;
  readonly autoscaling: AutoscalingV2Api;
  readonly policy: PolicyV1Api;
  readonly version: VersionApi;
}

const DEFAULT_REFRESH_AFTER_MS = 10 * 60_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
const AUTH_PROVIDER = 'frontier-dr-eks-token';
const MAX_ATTEMPTS = 5;

const eksClients = new Map<string, EKSClient>();

/** One EKS client per region for the life of the container (the module-scope rule of shared/clients.ts). */
export function eksClient(region: string): EKSClient {
  let client = eksClients.get(region);
  if (!client) {
    client = new EKSClient({ region, maxAttempts: MAX_ATTEMPTS });
    eksClients.set(region, client);
  }
  return client;
}

/** Mints EKS tokens on demand and replaces them once they are older than `refreshAfterMs`. */
class RefreshingToken implements BearerToken {
  private value: { token: string; issuedAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly mint: (now: Date) => Promise<string>,
    private readonly now: () => Date,
    private readonly refreshAfterMs: number,
  ) {}

  async current(): Promise<string> {
    const now = this.now();
    if (this.value && now.getTime() - this.value.issuedAt < this.refreshAfterMs) return this.value.token;
    // Concurrent requests share one mint.
    this.pending ??= this.mint(now)
      .then((token) => {
        this.value = { token, issuedAt: now.getTime() };
        return token;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  refresh(): boolean {
    this.value = undefined;
    return true;
  }
}

class FixedToken implements BearerToken {
  constructor(private readonly token: string) {}
  async current(): Promise<string> {
    return this.token;
  }
  refresh(): boolean {
    return false;
  }
}

/**
 * Connects to a cluster: its endpoint and CA from EKS DescribeCluster (or `resolveEndpoint`), and a
 * KubeConfig built in memory whose token is minted per request and replaced before EKS would refuse it.
 */
export async function connectToCluster(cluster: ClusterTarget, options: ConnectOptions = {}): Promise<KubernetesConnection> {
  const now = options.now ?? (() => new Date());
  const endpoint = options.resolveEndpoint ? await options.resolveEndpoint(cluster) : await describeEndpoint(cluster, options.eks);

  let token: BearerToken;
  if (endpoint.token !== undefined) {
    token = new FixedToken(endpoint.token);
  } else {
    const credentials = options.credentials ?? (options.eks ?? eksClient(cluster.region)).config.credentials;
    token = new RefreshingToken(
      async (at) => {
        try {
          return await eksToken(cluster.name, cluster.region, credentials, at);
        } catch (error) {
          throw classifyAwsError(error, 'signing the EKS token (credentials)', cluster.name);
        }
      },
      now,
      options.refreshTokenAfterMs ?? DEFAULT_REFRESH_AFTER_MS,
    );
  }

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: endpoint.endpoint,
        caData: endpoint.caData,
        skipTLSVerify: endpoint.skipTLSVerify ?? endpoint.endpoint.startsWith('http:'),
      },
    ],
    users: [{ name: 'frontier-dr', authProvider: { name: AUTH_PROVIDER, config: {} } }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: 'frontier-dr' }],
    currentContext: cluster.name,
  });
  // The token is asked for at every request, so a refreshed one is used from the next request on.
  kubeConfig.addAuthenticator({
    isAuthProvider: (user) => (user.authProvider as { name?: unknown } | undefined)?.name === AUTH_PROVIDER,
    applyAuthentication: async (_user, requestOptions) => {
      const bearer = `Bearer ${await token.current()}`;
      const headers = requestOptions.headers;
      if (headers && !Array.isArray(headers)) (headers as Record<string, string>).Authorization = bearer;
      else requestOptions.headers = { Authorization: bearer };
    },
  });

  return {
    cluster: cluster.name,
    region: cluster.region,
    server: endpoint.endpoint,
    kubeConfig,
    token,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    core: kubeConfig.makeApiClient(CoreV1Api),
    apps: kubeConfig.makeApiClient(AppsV1Api),
    networking: kubeConfig.makeApiClient(NetworkingV1Api),
    autoscaling: kubeConfig.makeApiClient(AutoscalingV2Api),
    policy: kubeConfig.makeApiClient(PolicyV1Api),
    version: kubeConfig.makeApiClient(VersionApi),
  };
}

async function describeEndpoint(cluster: ClusterTarget, client?: EKSClient): Promise<ClusterEndpoint> {
  const eks = client ?? eksClient(cluster.region);
  const answer = await awsCall('eks:DescribeCluster', `${cluster.name} (${cluster.region})`, () => eks.send(new DescribeClusterCommand({ name: cluster.name })));
  const described = answer.cluster;
  // UPDATING clusters (version or config updates) keep serving the API.
  if (described?.status !== 'ACTIVE' && described?.status !== 'UPDATING') {
    throw new UnexpectedResourceState(`EKS cluster ${cluster.name} in ${cluster.region} is ${described?.status ?? 'unknown'}, not ACTIVE`);
  }
  // An https endpoint (every real EKS one) is only trusted through the cluster's own CA.
  const caData = described.certificateAuthority?.data;
  if (!described.endpoint || (described.endpoint.startsWith('https:') && !caData)) {
    throw new UnexpectedResourceState(`EKS cluster ${cluster.name} in ${cluster.region} has no API endpoint or CA yet`);
  }
  return { endpoint: described.endpoint, ...(caData ? { caData } : {}) };
}

// ---------------------------------------------------------------------------------------------------
// Requests: options, error mapping, 401 retry, paging

/** What a request does, for error messages: `patch deployments/scale production/frontier-api`. */
export interface RequestTarget {
  verb: string;
  resource: string;
  group?: string;
  namespace?: string;
  name?: string;
}

function describeTarget(target: RequestTarget): string {
  const where = target.namespace ? `${target.namespace}/${target.name ?? ''}` : (target.name ?? '');
  return `${target.verb} ${target.resource}${where ? ` ${where}` : ''}`;
}

function requestOptions(conn: KubernetesConnection, extra: { contentType?: string; signal?: AbortSignal } = {}): ConfigurationOptions {
  // A fresh deadline per request (also for the retry after a 401), unless the caller shares one.
  const deadline = {
    pre: (context: RequestContext) => {
      context.setSignal(extra.signal ?? AbortSignal.timeout(conn.requestTimeoutMs));
      return new Observable(Promise.resolve(context));
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  };
  const base: ConfigurationOptions = { middleware: [deadline], middlewareMergeStrategy: 'append' };
  return extra.contentType ? setHeaderOptions('Content-Type', extra.contentType, base) : base;
}

/** Sends a request; after a 401 it replaces the token and sends it once more. Failures become named errors. */
async function send<T>(conn: KubernetesConnection, target: RequestTarget, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (statusCode(error) === 401 && conn.token.refresh()) {
      try {
        return await request();
      } catch (retryError) {
        throw classifyKubernetesError(retryError, target);
      }
    }
    throw classifyKubernetesError(error, target);
  }
}

function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

/** The `message` of the Kubernetes Status object in an error answer, when there is one. */
function statusMessage(error: ApiException<unknown>): string | undefined {
  const body: unknown = error.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim().slice(0, 500) || undefined;
    }
  }
  if (parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') {
    return (parsed as { message: string }).message;
  }
  return undefined;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * The Node/undici error code behind a failed fetch (it hides under one or more `cause`s). Duck-typed:
 * undici's errors may come from another realm (jest's VM modules), where `instanceof Error` is false.
 */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { name, code, cause } = current as { name?: unknown; code?: unknown; cause?: unknown };
    if (name === 'TimeoutError' || name === 'AbortError') return name;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return code;
    current = cause;
  }
  return undefined;
}

/** Turns what a Kubernetes request threw into a named error that says which request failed and why. */
export function classifyKubernetesError(error: unknown, target: RequestTarget): RecoveryError {
  if (error instanceof RecoveryError) return error;
  const what = describeTarget(target);
  if (error instanceof ApiException) {
    const code = (error as ApiException<unknown>).code;
    const detail = statusMessage(error as ApiException<unknown>) ?? `HTTP ${code}`;
    if (code === 401) {
      return new KubernetesUnauthorized(
        `${what}: the API server refused the EKS token even after a fresh one (401: ${detail}); check the function role's EKS access entry`,
        { cause: error },
      );
    }
    if (code === 403) {
      const group = target.group ? ` in API group "${target.group}"` : '';
      return new KubernetesUnauthorized(
        `${what}: forbidden by RBAC (403): the frontier-dr group needs verb "${target.verb}" on resource "${target.resource}"${group} (deploy/rbac/frontier-dr-rbac.yaml). ${detail}`,
        { cause: error },
      );
    }
    if (code === 404) return new KubernetesNotFound(`${what}: not found (${detail})`, { cause: error });
    if (code === 409) return new KubernetesConflict(`${what}: conflict (${detail})`, { cause: error });
    if (code === 429 || code >= 500) return new KubernetesTransientError(`${what} failed temporarily (HTTP ${code}): ${detail}`, { cause: error });
    if (code === 400 || code === 415 || code === 422) return new KubernetesRejected(`${what} was rejected (HTTP ${code}): ${detail}`, { cause: error });
    return new RecoveryError(`${what} failed (HTTP ${code}): ${detail}`, { cause: error });
  }
  const network = networkCode(error);
  if (network) {
    const why = network === 'TimeoutError' || network === 'AbortError' ? 'no answer in time' : network;
    return new KubernetesUnreachable(`${what}: the Kubernetes API could not be reached (${why})`, { cause: error });
  }
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return new RecoveryError(`${what} failed: ${typeof message === 'string' ? message : String(error)}`, { cause: error });
}

const PAGE_SIZE = 500;

/** Follows `continue` tokens so a big cluster's lists are read in pages, not in one huge answer. */
async function listAll<T>(page: (continueToken: string | undefined) => Promise<{ items: T[]; metadata?: V1ListMeta }>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const answer = await page(token);
    items.push(...answer.items);
    token = answer.metadata?._continue || undefined;
  } while (token);
  return items;
}

// ---------------------------------------------------------------------------------------------------
// Assess

export interface ClusterAssessment {
  reachable: boolean;
  version?: string;
  nodes: number;
  readyNodes: number;
  /** Reachable and at least half the nodes Ready (the plan's alert: up{job="kubernetes-nodes"} < 0.5). */
  healthy: boolean;
  reason: string;
}

/**
 * Looks at a cluster within `timeoutMs`: does the API answer, how many nodes are Ready. An unreachable
 * API is an answer (healthy: false), not an error; a 401/403 is still thrown, since that is our
 * deployment's fault and must not pass for an outage.
 */
export async function assessCluster(conn: KubernetesConnection, timeoutMs = 5_000): Promise<ClusterAssessment> {
  const signal = AbortSignal.timeout(timeoutMs);
  let version: string | undefined;
  try {
    const info = await send(conn, { verb: 'get', resource: '/version' }, () => conn.version.getCode({}, requestOptions(conn, { signal })));
    version = info.gitVersion;
  } catch (error) {
    if (error instanceof KubernetesUnreachable || error instanceof KubernetesTransientError) {
      return { reachable: false, nodes: 0, readyNodes: 0, healthy: false, reason: error.message };
    }
    throw error;
  }
  let nodes;
  try {
    nodes = await listAll((token) =>
      send(conn, { verb: 'list', resource: 'nodes' }, () => conn.core.listNode({ limit: PAGE_SIZE, _continue: token }, requestOptions(conn, { signal }))),
    );
  } catch (error) {
    if (error instanceof KubernetesUnreachable || error instanceof KubernetesTransientError) {
      return { reachable: true, version, nodes: 0, readyNodes: 0, healthy: false, reason: `the API answered /version but not the node list: ${error.message}` };
    }
    throw error;
  }
  const readyNodes = nodes.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  const total = nodes.length;
  const healthy = total > 0 && readyNodes / total >= 0.5;
  const reason =
    total === 0
      ? 'the API answers but no node is registered'
      : healthy
        ? `${readyNodes} of ${total} nodes Ready`
        : `only ${readyNodes} of ${total} nodes Ready (less than half)`;
  return { reachable: true, version, nodes: total, readyNodes, healthy, reason };
}

// ---------------------------------------------------------------------------------------------------
// Scale

export interface ScaleResult {
  previousReplicas: number;
  replicas: number;
  changed: boolean;
}

/** Sets a deployment's replica count through the scale subresource and says what it was before. */
export async function scaleDeployment(conn: KubernetesConnection, namespace: string, name: string, replicas: number): Promise<ScaleResult> {
  if (!Number.isInteger(replicas) || replicas < 0) throw new InvalidInput(`replicas must be a whole number >= 0, got ${replicas}`);
  const target = { resource: 'deployments/scale', group: 'apps', namespace, name };
  const current = await send(conn, { verb: 'get', ...target }, () => conn.apps.readNamespacedDeploymentScale({ name, namespace }, requestOptions(conn)));
  const previousReplicas = current.spec?.replicas ?? 0;
  if (previousReplicas === replicas) return { previousReplicas, replicas, changed: false };
  const updated = await send(conn, { verb: 'patch', ...target }, () =>
    conn.apps.patchNamespacedDeploymentScale({ name, namespace, body: { spec: { replicas } } }, requestOptions(conn, { contentType: PatchStrategy.MergePatch })),
  );
  return { previousReplicas, replicas: updated.spec?.replicas ?? replicas, changed: true };
}

// ---------------------------------------------------------------------------------------------------
// ConfigMaps and Secrets

export interface ConfigMapKeyChange {
  key: string;
  existed: boolean;
  /** The value before the patch (ConfigMaps hold configuration, not secrets). */
  previous?: string;
  changed: boolean;
}

export interface SecretKeyChange {
  key: string;
  existed: boolean;
  /** First 12 hex digits of the SHA-256 of the previous value: enough to tell versions apart, never the value. */
  previousSha256Prefix?: string;
  changed: boolean;
}

function validateKeys(data: Record<string, string>, what: string): string[] {
  const keys = Object.keys(data);
  if (keys.length === 0) throw new InvalidInput(`${what}: no keys to set`);
  for (const key of keys) {
    if (!/^[-._a-zA-Z0-9]{1,253}$/.test(key)) throw new InvalidInput(`${what}: "${key}" is not a valid key (letters, digits, '-', '_', '.')`);
    if (typeof data[key] !== 'string') throw new InvalidInput(`${what}: the value of "${key}" must be a string`);
  }
  return keys;
}

/** Sets keys of a ConfigMap with a merge patch (other keys stay) and reports what each was before. */
export async function patchConfigMapKeys(
  conn: KubernetesConnection,
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<{ namespace: string; name: string; keys: ConfigMapKeyChange[] }> {
  const keys = validateKeys(data, `ConfigMap ${namespace}/${name}`);
  const target = { resource: 'configmaps', namespace, name };
  const current = await send(conn, { verb: 'get', ...target }, () => conn.core.readNamespacedConfigMap({ name, namespace }, requestOptions(conn)));
  const changes = keys.map((key): ConfigMapKeyChange => {
    const previous = current.data?.[key];
    return { key, existed: previous !== undefined, ...(previous !== undefined ? { previous } : {}), changed: previous !== data[key] };
  });
  if (changes.some((c) => c.changed)) {
    await send(conn, { verb: 'patch', ...target }, () =>
      conn.core.patchNamespacedConfigMap({ name, namespace, body: { data } }, requestOptions(conn, { contentType: PatchStrategy.MergePatch })),
    );
  }
  return { namespace, name, keys: changes };
}

/** Secret `data` values: base64 of the UTF-8 bytes, one line whatever the length (Buffer never wraps). */
export function encodeSecretValue(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}

export function decodeSecretValue(encoded: string): string {
  return Buffer.from(encoded, 'base64').toString('utf8');
}

function sha256Prefix(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

/** Sets keys of a Secret with a merge patch; the result never carries a value, old or new. */
export async function patchSecretKeys(
  conn: KubernetesConnection,
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<{ namespace: string; name: string; keys: SecretKeyChange[] }> {
  const keys = validateKeys(data, `Secret ${namespace}/${name}`);
  const target = { resource: 'secrets', namespace, name };
  const current = await send(conn, { verb: 'get', ...target }, () => conn.core.readNamespacedSecret({ name, namespace }, requestOptions(conn)));
  const encoded: Record<string, string> = {};
  const changes = keys.map((key): SecretKeyChange => {
    const next = Buffer.from(data[key] ?? '', 'utf8');
    encoded[key] = next.toString('base64');
    const previousEncoded = current.data?.[key];
    if (previousEncoded === undefined) return { key, existed: false, changed: true };
    const previous = Buffer.from(previousEncoded, 'base64');
    return { key, existed: true, previousSha256Prefix: sha256Prefix(previous), changed: !previous.equals(next) };
  });
  if (changes.some((c) => c.changed)) {
    await send(conn, { verb: 'patch', ...target }, () =>
      conn.core.patchNamespacedSecret({ name, namespace, body: { data: encoded } }, requestOptions(conn, { contentType: PatchStrategy.MergePatch })),
    );
  }
  return { namespace, name, keys: changes };
}

// ---------------------------------------------------------------------------------------------------
// Manifests: parse, then server-side apply

export interface KubernetesManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

/** Parses multi-document YAML (`---` separated; `kind: List` flattened). Empty documents are skipped. */
export function parseManifests(yamlText: string, source = 'manifests'): KubernetesManifest[] {
  const documents = parseAllDocuments(yamlText);
  if (!Array.isArray(documents)) return [];
  const manifests: KubernetesManifest[] = [];
  documents.forEach((document, index) => {
    const error = document.errors[0];
    if (error) {
      const line = error.linePos?.[0]?.line;
      throw new InvalidInput(`${source}: document ${index + 1}${line ? ` (line ${line})` : ''} is not valid YAML: ${error.message.split('\n')[0]}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    const items = isObject(value) && value.kind === 'List' && Array.isArray(value.items) ? (value.items as unknown[]) : [value];
    items.forEach((item) => manifests.push(checkManifest(item, `${source}: document ${index + 1}`)));
  });
  return manifests;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkManifest(value: unknown, where: string): KubernetesManifest {
  if (!isObject(value)) throw new InvalidInput(`${where} is not an object`);
  const metadata = value.metadata;
  if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') throw new InvalidInput(`${where} lacks apiVersion or kind`);
  if (!isObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
    throw new InvalidInput(`${where} (${value.kind}) lacks metadata.name`);
  }
  if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string') throw new InvalidInput(`${where} (${value.kind}) has a non-string metadata.namespace`);
  return value as KubernetesManifest;
}

type ApplyCall = (conn: KubernetesConnection, name: string, namespace: string, body: KubernetesManifest, options: ConfigurationOptions, fieldManager: string) => Promise<{ httpStatusCode: number }>;

interface ApplyKind {
  apiVersion: string;
  resource: string;
  group?: string;
  namespaced: boolean;
  apply: ApplyCall;
}

// The kinds the recovery applies, in the order they are applied (namespaces before what lives in them,
// configuration before the workloads that read it). Adding a kind here means adding its create/patch
// verbs to deploy/rbac/frontier-dr-rbac.yaml.
const APPLY_KINDS: Record<string, ApplyKind> = {
  Namespace: {
    apiVersion: 'v1',
    resource: 'namespaces',
    namespaced: false,
    apply: (c, name, _ns, body, o, fieldManager) => c.core.patchNamespaceWithHttpInfo({ name, body, fieldManager, force: true }, o),
  },
  ServiceAccount: {
    apiVersion: 'v1',
    resource: 'serviceaccounts',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.core.patchNamespacedServiceAccountWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  ConfigMap: {
    apiVersion: 'v1',
    resource: 'configmaps',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.core.patchNamespacedConfigMapWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  Secret: {
    apiVersion: 'v1',
    resource: 'secrets',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.core.patchNamespacedSecretWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  NetworkPolicy: {
    apiVersion: 'networking.k8s.io/v1',
    resource: 'networkpolicies',
    group: 'networking.k8s.io',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.networking.patchNamespacedNetworkPolicyWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  Service: {
    apiVersion: 'v1',
    resource: 'services',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.core.patchNamespacedServiceWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  Deployment: {
    apiVersion: 'apps/v1',
    resource: 'deployments',
    group: 'apps',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.apps.patchNamespacedDeploymentWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  HorizontalPodAutoscaler: {
    apiVersion: 'autoscaling/v2',
    resource: 'horizontalpodautoscalers',
    group: 'autoscaling',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) =>
      c.autoscaling.patchNamespacedHorizontalPodAutoscalerWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  PodDisruptionBudget: {
    apiVersion: 'policy/v1',
    resource: 'poddisruptionbudgets',
    group: 'policy',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.policy.patchNamespacedPodDisruptionBudgetWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
};

export const APPLICABLE_KINDS = Object.keys(APPLY_KINDS);

export interface AppliedObject {
  kind: string;
  namespace?: string;
  name: string;
  /** true when the apply created the object, false when it updated (or left) an existing one. */
  created: boolean;
}

/**
 * Server-side applies each document (PATCH application/apply-patch+yaml, force, fieldManager), creating
 * what is missing. Every document is checked before the first request, so a bad one changes nothing.
 * Namespaced documents without a namespace go to `defaultNamespace`.
 */
export async function applyManifests(
  conn: KubernetesConnection,
  documents: object[],
  fieldManager = 'frontier-dr',
  defaultNamespace?: string,
): Promise<AppliedObject[]> {
  const planned = documents.map((document, index) => {
    const manifest = checkManifest(document, `manifest ${index + 1}`);
    const kind = APPLY_KINDS[manifest.kind];
    if (!kind) throw new InvalidInput(`manifest ${index + 1}: kind ${manifest.kind} is not one the recovery applies (${APPLICABLE_KINDS.join(', ')})`);
    if (manifest.apiVersion !== kind.apiVersion) {
      throw new InvalidInput(`manifest ${index + 1}: ${manifest.kind} ${manifest.metadata.name} has apiVersion ${manifest.apiVersion}, expected ${kind.apiVersion}`);
    }
    const namespace = kind.namespaced ? (manifest.metadata.namespace ?? defaultNamespace) : undefined;
    if (kind.namespaced && !namespace) throw new InvalidInput(`manifest ${index + 1}: ${manifest.kind} ${manifest.metadata.name} has no metadata.namespace`);
    const body: KubernetesManifest = { ...manifest, metadata: { ...manifest.metadata, ...(namespace ? { namespace } : {}) } };
    return { kind, kindName: manifest.kind, name: manifest.metadata.name, namespace, body, order: APPLICABLE_KINDS.indexOf(manifest.kind), index };
  });
  planned.sort((a, b) => a.order - b.order || a.index - b.index);

  const applied: AppliedObject[] = [];
  for (const item of planned) {
    const target: RequestTarget = { verb: 'patch', resource: item.kind.resource, group: item.kind.group, namespace: item.namespace, name: item.name };
    const answer = await send(conn, target, () =>
      item.kind.apply(conn, item.name, item.namespace ?? '', item.body, requestOptions(conn, { contentType: PatchStrategy.ServerSideApply }), fieldManager),
    );
    applied.push({ kind: item.kindName, ...(item.namespace ? { namespace: item.namespace } : {}), name: item.name, created: answer.httpStatusCode === 201 });
  }
  return applied;
}

// ---------------------------------------------------------------------------------------------------
// Rollback (kubectl rollout undo)

const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
const POD_TEMPLATE_HASH = 'pod-template-hash';

/** One ReplicaSet of a deployment's history. */
export interface RevisionRecord {
  replicaSet: string;
  revision: number;
  /** Earlier revisions this ReplicaSet held (a rollback re-numbers the ReplicaSet it returns to). */
  earlierRevisions: number[];
  template?: V1PodTemplateSpec;
}

function parseRevision(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** The deployment's ReplicaSets as revisions (those without a revision annotation are ignored). */
export function revisionHistory(replicaSets: V1ReplicaSet[]): RevisionRecord[] {
  return replicaSets
    .flatMap((rs): RevisionRecord[] => {
      const annotations = rs.metadata?.annotations ?? {};
      const revision = parseRevision(annotations[REVISION_ANNOTATION]);
      if (revision === undefined) return [];
      const earlierRevisions = (annotations[REVISION_HISTORY_ANNOTATION] ?? '')
        .split(',')
        .map((v) => parseRevision(v.trim()))
        .filter((v): v is number => v !== undefined);
      return [{ replicaSet: rs.metadata?.name ?? '', revision, earlierRevisions, template: rs.spec?.template }];
    })
    .sort((a, b) => a.revision - b.revision);
}

/**
 * The revision a rollback goes to, as `kubectl rollout undo` chooses it: `toRevision` when given (also
 * found under the revision-history of a ReplicaSet a previous rollback re-numbered), otherwise the
 * highest revision below the current one.
 */
export function chooseRollbackTarget(currentRevision: number | undefined, history: RevisionRecord[], toRevision?: number): RevisionRecord {
  const current = currentRevision ?? Math.max(0, ...history.map((h) => h.revision));
  if (toRevision !== undefined) {
    const exact = history.find((h) => h.revision === toRevision) ?? history.find((h) => h.earlierRevisions.includes(toRevision));
    if (!exact) {
      const known = history.map((h) => h.revision).join(', ') || 'none';
      throw new NothingToRollBack(`revision ${toRevision} is not in the deployment's history (revisions kept: ${known})`);
    }
    return exact;
  }
  const earlier = history.filter((h) => h.revision < current);
  const target = earlier[earlier.length - 1];
  if (!target) throw new NothingToRollBack(`no revision earlier than the current one (${current}) is kept: nothing to roll back to`);
  return target;
}

/** The pod template a ReplicaSet was made from, without the label the controller added. */
function templateWithoutHash(template: V1PodTemplateSpec | undefined): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(template ?? {})) as { metadata?: { labels?: Record<string, string> } };
  if (plain.metadata?.labels) {
    delete plain.metadata.labels[POD_TEMPLATE_HASH];
  }
  return plain as Record<string, unknown>;
}

/** JSON with sorted keys: two templates are the same when these strings are. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function imagesOf(template: V1PodTemplateSpec | Record<string, unknown> | undefined): string[] {
  const spec = (template as { spec?: { containers?: { image?: string }[] } } | undefined)?.spec;
  return (spec?.containers ?? []).map((c) => c.image ?? '');
}

export function labelSelectorString(selector: V1LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const expression of selector?.matchExpressions ?? []) {
    const values = (expression.values ?? []).join(',');
    if (expression.operator === 'In') parts.push(`${expression.key} in (${values})`);
    else if (expression.operator === 'NotIn') parts.push(`${expression.key} notin (${values})`);
    else if (expression.operator === 'Exists') parts.push(expression.key);
    else if (expression.operator === 'DoesNotExist') parts.push(`!${expression.key}`);
  }
  return parts.join(',');
}

export interface RollbackResult {
  fromRevision: number;
  toRevision: number;
  images: string[];
  /** false when the deployment already runs the target's template (e.g. a re-run after success). */
  changed: boolean;
}

async function readDeployment(conn: KubernetesConnection, namespace: string, name: string): Promise<V1Deployment> {
  return send(conn, { verb: 'get', resource: 'deployments', group: 'apps', namespace, name }, () =>
    conn.apps.readNamespacedDeployment({ name, namespace }, requestOptions(conn)),
  );
}

export interface RollbackPlan {
  currentRevision: number | null;
  targetRevision: number;
  currentImages: string[];
  targetImages: string[];
}

interface RollbackContext {
  deployment: V1Deployment;
  currentRevision: number | undefined;
  target: RevisionRecord;
}

async function resolveRollback(conn: KubernetesConnection, namespace: string, name: string, toRevision?: number): Promise<RollbackContext> {
  if (toRevision !== undefined && (!Number.isInteger(toRevision) || toRevision < 1)) throw new InvalidInput(`toRevision must be a whole number >= 1, got ${toRevision}`);
  const deployment = await readDeployment(conn, namespace, name);
  if (deployment.spec?.paused) {
    throw new UnexpectedResourceState(`deployment ${namespace}/${name} is paused: resume it (kubectl rollout resume) before rolling back`);
  }
  const uid = deployment.metadata?.uid;
  const selector = labelSelectorString(deployment.spec?.selector);
  const replicaSets = await listAll((token) =>
    send(conn, { verb: 'list', resource: 'replicasets', group: 'apps', namespace }, () =>
      conn.apps.listNamespacedReplicaSet({ namespace, labelSelector: selector, limit: PAGE_SIZE, _continue: token }, requestOptions(conn)),
    ),
  );
  const owned = replicaSets.filter((rs) => rs.metadata?.ownerReferences?.some((owner) => owner.controller && owner.uid === uid));
  const currentRevision = parseRevision(deployment.metadata?.annotations?.[REVISION_ANNOTATION]);
  return { deployment, currentRevision, target: chooseRollbackTarget(currentRevision, revisionHistory(owned), toRevision) };
}

/**
 * Read-only first look of a rollback: which revision `kubectl rollout undo` would go to. A state
 * machine records it once and passes it to rollbackDeployment, so a retried or redriven rollback
 * step cannot go one revision further back.
 */
export async function planRollback(conn: KubernetesConnection, namespace: string, name: string, toRevision?: number): Promise<RollbackPlan> {
  const { deployment, currentRevision, target } = await resolveRollback(conn, namespace, name, toRevision);
  return {
    currentRevision: currentRevision ?? null,
    targetRevision: target.revision,
    currentImages: imagesOf(templateWithoutHash(deployment.spec?.template)),
    targetImages: imagesOf(templateWithoutHash(target.template)),
  };
}

/**
 * Rolls a deployment back like `kubectl rollout undo [--to-revision]`: the target ReplicaSet's pod template
 * replaces the deployment's (a JSON patch of /spec/template, so fields added since are removed too). The
 * controller then re-numbers that ReplicaSet as the newest revision. Pass `toRevision` from a first look
 * (planRollback) when the step may run twice: without it, a second run would roll back one revision further.
 */
export async function rollbackDeployment(conn: KubernetesConnection, namespace: string, name: string, toRevision?: number): Promise<RollbackResult> {
  const { deployment, currentRevision, target } = await resolveRollback(conn, namespace, name, toRevision);
  const fromRevision = currentRevision ?? target.revision;
  const template = templateWithoutHash(target.template);
  const images = imagesOf(template);

  if (canonical(template) === canonical(templateWithoutHash(deployment.spec?.template))) {
    return { fromRevision, toRevision: target.revision, images, changed: false };
  }
  await send(conn, { verb: 'patch', resource: 'deployments', group: 'apps', namespace, name }, () =>
    conn.apps.patchNamespacedDeployment(
      { name, namespace, body: [{ op: 'replace', path: '/spec/template', value: template }] },
      requestOptions(conn, { contentType: PatchStrategy.JsonPatch }),
    ),
  );
  return { fromRevision, toRevision: target.revision, images, changed: true };
}

// ---------------------------------------------------------------------------------------------------
// Rollout status (one look)

export interface RolloutStatus {
  done: boolean;
  revision?: number;
  observedGeneration: number;
  generation: number;
  replicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  readyReplicas: number;
  message: string;
}

/**
 * One look at a rollout, with `kubectl rollout status` semantics: done once the controller has seen the
 * latest spec and every desired replica is updated and available, with no old replica left. Throws
 * RolloutFailed when the deployment exceeded its progress deadline.
 */
export async function rolloutStatus(conn: KubernetesConnection, namespace: string, name: string): Promise<RolloutStatus> {
  const deployment = await readDeployment(conn, namespace, name);
  const status = deployment.status ?? {};
  const generation = deployment.metadata?.generation ?? 0;
  const observedGeneration = status.observedGeneration ?? 0;
  const desired = deployment.spec?.replicas ?? 1;
  const replicas = status.replicas ?? 0;
  const updatedReplicas = status.updatedReplicas ?? 0;
  const availableReplicas = status.availableReplicas ?? 0;
  const readyReplicas = status.readyReplicas ?? 0;
  const revision = parseRevision(deployment.metadata?.annotations?.[REVISION_ANNOTATION]);
  const facts = { revision, observedGeneration, generation, replicas, updatedReplicas, availableReplicas, readyReplicas };
  const look = (done: boolean, message: string): RolloutStatus => ({ done, ...facts, message });

  if (observedGeneration < generation) return look(false, `waiting for the controller to observe generation ${generation} (seen ${observedGeneration})`);
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    throw new RolloutFailed(`deployment ${namespace}/${name} exceeded its progress deadline: ${progressing.message ?? 'no progress'}`);
  }
  if (updatedReplicas < desired) return look(false, `${updatedReplicas} of ${desired} new replicas updated`);
  if (replicas > updatedReplicas) return look(false, `${replicas - updatedReplicas} old replicas pending termination`);
  if (availableReplicas < updatedReplicas) return look(false, `${availableReplicas} of ${updatedReplicas} updated replicas available`);
  return look(true, `deployment ${namespace}/${name} successfully rolled out (${availableReplicas} of ${desired} available)`);
}

// ---------------------------------------------------------------------------------------------------
// Logs

export interface PodLog {
  pod: string;
  container: string;
  log: string;
  truncated: boolean;
  /** Set when this container's log could not be read (e.g. it has not started); the others still are. */
  error?: string;
}

const LOG_CONCURRENCY = 4;

/** The last `sinceSeconds` of log of every container of the pods matching `labelSelector`, each capped at `maxBytesPerPod`. */
export async function readPodLogs(
  conn: KubernetesConnection,
  namespace: string,
  labelSelector: string,
  sinceSeconds: number,
  maxBytesPerPod: number,
): Promise<PodLog[]> {
  if (!Number.isInteger(sinceSeconds) || sinceSeconds < 1) throw new InvalidInput(`sinceSeconds must be a whole number >= 1, got ${sinceSeconds}`);
  if (!Number.isInteger(maxBytesPerPod) || maxBytesPerPod < 1) throw new InvalidInput(`maxBytesPerPod must be a whole number >= 1, got ${maxBytesPerPod}`);
  const pods = await listAll((token) =>
    send(conn, { verb: 'list', resource: 'pods', namespace }, () =>
      conn.core.listNamespacedPod({ namespace, labelSelector, limit: PAGE_SIZE, _continue: token }, requestOptions(conn)),
    ),
  );
  const work = pods
    .flatMap((pod) => (pod.spec?.containers ?? []).map((container) => ({ pod: pod.metadata?.name ?? '', container: container.name })))
    .sort((a, b) => a.pod.localeCompare(b.pod) || a.container.localeCompare(b.container));

  const results: PodLog[] = new Array<PodLog>(work.length);
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const index = next++;
      const item = work[index]!;
      results[index] = await readOneLog(conn, namespace, item.pod, item.container, sinceSeconds, maxBytesPerPod);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOG_CONCURRENCY, work.length) }, worker));
  return results;
}

async function readOneLog(conn: KubernetesConnection, namespace: string, pod: string, container: string, sinceSeconds: number, maxBytes: number): Promise<PodLog> {
  try {
    // One byte more than kept tells a log that fills the cap exactly from one that was cut.
    const text = await send(conn, { verb: 'get', resource: 'pods/log', namespace, name: pod }, () =>
      conn.core.readNamespacedPodLog({ name: pod, namespace, container, sinceSeconds, limitBytes: maxBytes + 1, timestamps: true }, requestOptions(conn)),
    );
    const bytes = Buffer.from(text ?? '', 'utf8');
    if (bytes.length <= maxBytes) return { pod, container, log: bytes.toString('utf8'), truncated: false };
    let end = maxBytes;
    // Never cut a UTF-8 character in half.
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    return { pod, container, log: bytes.subarray(0, end).toString('utf8'), truncated: true };
  } catch (error) {
    // A pod that is gone or not started yet must not cost the evidence of the others.
    if (error instanceof KubernetesNotFound || error instanceof KubernetesRejected) {
      return { pod, container, log: '', truncated: false, error: error.message };
    }
    throw error;
  }
}
