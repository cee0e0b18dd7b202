// A Kubernetes API fake on loopback, for exactly the calls shared/kubernetes/ makes (see DESIGN.md,
// "No real kube-apiserver"). It follows the real API where our code could tell the difference:
//   - paths, list shapes with `continue` paging, Status objects with the real reasons and codes;
//   - patch content types (merge, JSON patch, server-side apply; anything else is 415), apply creating
//     what is missing (and refusing a namespaced object whose namespace does not exist);
//   - EKS authentication: only `k8s-aws-v1.` tokens whose presigned STS URL carries a valid SigV4
//     signature by a known key, over `host;x-k8s-aws-id` with this cluster's name, younger than the
//     token lifetime (15 min like EKS) and not expired by the test;
//   - RBAC denials with the real 403 message (`cannot patch resource "deployments/scale" ...`);
//   - a deployment controller: a changed pod template bumps `generation` and gets a ReplicaSet with the
//     next `deployment.kubernetes.io/revision` (or, on a rollback, the matching old ReplicaSet is
//     re-numbered and keeps its old numbers in `revision-history`, comma-separated), then status moves
//     one step per tick. Like the real controller it copies the deployment's annotations (change-cause
//     among them, bookkeeping excepted) onto the current ReplicaSet, stamps conditions with
//     lastUpdateTime/lastTransitionTime, names the ReplicaSet in Progressing messages, and leaves the
//     Progressing condition as it was until the new ReplicaSet makes progress (so a
//     ProgressDeadlineExceeded of a failed rollout outlives a rollback's first status update).
// Simplifications: apply merges like a JSON merge patch (no per-field ownership), strategic merge is
// treated as a merge patch, watches and POST creates are not served.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { presignedSignature } from './eks-token-review.js';
import { findFreePort } from './processes.js';

/** The one AWS identity the fake's "STS" knows unless told otherwise (any test credentials will do). */
export const FAKE_AWS_CREDENTIALS = Object.freeze({ accessKeyId: 'AKIAFRONTIERDRTEST01', secretAccessKey: 'frontier-dr-kube-fake-secret-key-0000000' });

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface KubeFakeOptions {
  /** The EKS cluster name tokens must be signed for (x-k8s-aws-id). */
  clusterName?: string;
  /** AWS keys "STS" accepts signatures from. */
  credentials?: { accessKeyId: string; secretAccessKey: string }[];
  /** How long after its X-Amz-Date a token is accepted (EKS: 15 min). */
  tokenTtlSeconds?: number;
  /** Controller step interval. */
  tickMs?: number;
  /** Clock for token ages and log windows. */
  now?: () => Date;
  gitVersion?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  status: number;
}

export interface Fault {
  method?: string;
  /** Substring of, or pattern for, the request path. */
  path: string | RegExp;
  status: number;
  times?: number;
  reason?: string;
  message?: string;
}

export interface SeedDeployment {
  /** Image history, oldest first; the last one is current. Defaults to [image]. */
  revisions?: string[];
  /** kubernetes.io/change-cause of each revision (as `kubectl annotate` or `--record` leaves it), parallel to `revisions`. */
  changeCauses?: string[];
  image?: string;
  replicas?: number;
  containerName?: string;
  labels?: Record<string, string>;
  progressDeadlineSeconds?: number;
}

export interface LogLine {
  at: Date;
  text: string;
}

export interface SeedPods {
  labels: Record<string, string>;
  count?: number;
  namePrefix?: string;
  containers?: string[];
  /** Log lines of every container of these pods (or per pod and container). */
  lines?: LogLine[] | ((pod: string, container: string) => LogLine[]);
  /** A pod whose containers have not started: its log answers 400 like the real API. */
  waiting?: boolean;
}

export type RolloutBehaviour = 'progress' | 'stall' | 'fail';

export interface KubeFake {
  url: string;
  port: number;
  clusterName: string;
  requests: RecordedRequest[];
  /** 401 answers given so far. */
  unauthorizedCount(): number;
  /** Distinct tokens the fake has accepted. */
  acceptedTokens(): string[];

  addNamespace(name: string): void;
  addNode(ready?: boolean, name?: string): string;
  setNodeReady(name: string, ready: boolean): void;
  addDeployment(namespace: string, name: string, seed: SeedDeployment): void;
  addConfigMap(namespace: string, name: string, data: Record<string, string>): void;
  /** `data` holds plain values; the fake stores them base64-encoded like the API. */
  addSecret(namespace: string, name: string, data: Record<string, string>): void;
  addPods(namespace: string, seed: SeedPods): string[];

  object(resource: string, namespace: string | undefined, name: string): JsonObject | undefined;
  deployment(namespace: string, name: string): JsonObject | undefined;
  replicaSets(namespace: string, deployment?: string): JsonObject[];
  configMapData(namespace: string, name: string): Record<string, string> | undefined;
  /** A Secret's values, decoded. */
  secretData(namespace: string, name: string): Record<string, string> | undefined;

  setRollout(namespace: string, name: string, behaviour: RolloutBehaviour): void;
  /** Runs one controller step now (the timer also does, every tickMs). */
  tick(): void;

  expireTokensIssuedBefore(date: Date): void;
  forbid(rule: { verb: string; resource: string; namespace?: string }): void;
  failNext(fault: Fault): void;
  refuseConnections(): Promise<void>;
  acceptConnections(): Promise<void>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Resource registry

interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const RESOURCE_TYPES: ResourceType[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true },
  { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true },
];

function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

function typeByPlural(plural: string): ResourceType {
  const type = RESOURCE_TYPES.find((t) => t.plural === plural);
  if (!type) throw new Error(`kube-fake: unknown resource ${plural}`);
  return type;
}

// ---------------------------------------------------------------------------------------------------
// Errors as the API answers them

class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
  ) {
    super(message);
  }

  body(): JsonObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

function qualified(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

function notFound(type: ResourceType, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualified(type)} "${name}" not found`, { name, ...(type.group ? { group: type.group } : {}), kind: type.plural });
}

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

// ---------------------------------------------------------------------------------------------------
// JSON helpers: merge patch (RFC 7386), JSON patch (RFC 6902), canonical form

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new StatusError(422, 'Invalid', `invalid JSON pointer ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function jsonPatch(document: Json, operations: Json): Json {
  if (!Array.isArray(operations)) {
    throw new StatusError(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  let result = structuredClone(document);
  for (const operation of operations) {
    if (!isObject(operation) || typeof operation.op !== 'string' || typeof operation.path !== 'string') {
      throw new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request');
    }
    const parts = pointer(operation.path);
    if (parts.length === 0) {
      if (operation.op === 'replace' || operation.op === 'add') result = structuredClone(operation.value ?? null);
      continue;
    }
    const parent = parts.slice(0, -1).reduce<Json | undefined>((node, key) => (isObject(node) ? node[key] : Array.isArray(node) ? node[Number(key)] : undefined), result);
    const last = parts[parts.length - 1]!;
    if (!isObject(parent) && !Array.isArray(parent)) {
      throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "${operation.path}"`);
    }
    const container = parent as JsonObject | Json[];
    const exists = Array.isArray(container) ? Number(last) < container.length : last in container;
    switch (operation.op) {
      case 'test':
        if (!exists || JSON.stringify(canonicalJson((container as JsonObject)[last] ?? null)) !== JSON.stringify(canonicalJson(operation.value ?? null))) {
          throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value ${operation.path} failed`);
        }
        break;
      case 'remove':
      case 'replace':
        if (!exists) throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing key: ${operation.path}`);
        if (operation.op === 'remove') {
          if (Array.isArray(container)) container.splice(Number(last), 1);
          else delete container[last];
        } else {
          (container as JsonObject)[last] = structuredClone(operation.value ?? null);
        }
        break;
      case 'add':
        if (Array.isArray(container)) container.splice(last === '-' ? container.length : Number(last), 0, structuredClone(operation.value ?? null));
        else container[last] = structuredClone(operation.value ?? null);
        break;
      default:
        throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: unsupported op ${operation.op}`);
    }
  }
  return result;
}

function canonicalJson(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonicalJson);
  if (isObject(value)) {
    const sorted: JsonObject = {};
    for (const key of Object.keys(value).sort()) sorted[key] = canonicalJson(value[key]!);
    return sorted;
  }
  return value;
}

function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(canonicalJson(a ?? null)) === JSON.stringify(canonicalJson(b ?? null));
}

// ---------------------------------------------------------------------------------------------------
// Label selectors: a=b, a==b, a!=b, a in (x,y), a notin (x,y), a, !a

function matchesSelector(labels: Record<string, string>, selector: string | undefined): boolean {
  if (!selector) return true;
  const terms = selector.split(/,(?![^(]*\))/).map((t) => t.trim()).filter(Boolean);
  return terms.every((term) => {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      const has = m[1]! in labels && values.includes(labels[m[1]!]!);
      return m[2] === 'in' ? has : !has;
    }
    if ((m = term.match(/^([^\s!=]+)\s*!=\s*(.*)$/))) return labels[m[1]!] !== m[2];
    if ((m = term.match(/^([^\s!=]+)\s*==?\s*(.*)$/))) return labels[m[1]!] === m[2];
    if ((m = term.match(/^!([^\s!=]+)$/))) return !(m[1]! in labels);
    return term in labels;
  });
}

function selectorOf(deployment: JsonObject): string {
  const matchLabels = ((deployment.spec as JsonObject | undefined)?.selector as JsonObject | undefined)?.matchLabels as Record<string, string> | undefined;
  return Object.entries(matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

// ---------------------------------------------------------------------------------------------------
// SigV4 check of a presigned STS URL, as STS does it for EKS

function amzDate(value: string): Date | undefined {
  const m = value.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// The fake

interface RolloutState {
  behaviour: RolloutBehaviour;
  /** Pods of earlier ReplicaSets still running. */
  old: number;
  /** Pods of the current ReplicaSet that are available. */
  availableNew: number;
}

interface PodSeed {
  lines: LogLine[] | ((pod: string, container: string) => LogLine[]);
  waiting: boolean;
}

const PUBLIC_PATHS = new Set(['/version', '/healthz', '/readyz', '/livez']);

export async function startKubeFake(options: KubeFakeOptions = {}): Promise<KubeFake> {
  const clusterName = options.clusterName ?? 'frontier-backup';
  const identities = new Map((options.credentials ?? [FAKE_AWS_CREDENTIALS]).map((c) => [c.accessKeyId, c.secretAccessKey]));
  const ttlMs = (options.tokenTtlSeconds ?? 900) * 1000;
  const now = options.now ?? (() => new Date());
  const store = new Map<string, JsonObject>();
  const rollouts = new Map<string, RolloutState>();
  const podSeeds = new Map<string, PodSeed>();
  const faults: (Fault & { remaining: number })[] = [];
  const forbidden: { verb: string; resource: string; namespace?: string }[] = [];
  const requests: RecordedRequest[] = [];
  const accepted = new Set<string>();
  let expiredBefore: Date | undefined;
  let unauthorized = 0;
  let resourceVersion = 1000;
  let nodeCount = 0;

  const keyOf = (type: ResourceType, namespace: string | undefined, name: string) => `${qualified(type)}|${type.namespaced ? (namespace ?? '') : ''}|${name}`;
  const get = (type: ResourceType, namespace: string | undefined, name: string) => store.get(keyOf(type, namespace, name));
  const list = (type: ResourceType, namespace?: string) =>
    [...store.entries()]
      .filter(([key]) => {
        const [resource, objectNamespace] = key.split('|');
        return resource === qualified(type) && (namespace === undefined || !type.namespaced || objectNamespace === namespace);
      })
      .map(([, value]) => value)
      .sort((a, b) => String(meta(a).name).localeCompare(String(meta(b).name)));

  function meta(object: JsonObject): JsonObject {
    return object.metadata as JsonObject;
  }

  /** Stores an object, stamping the metadata the API server owns. */
  function put(type: ResourceType, object: JsonObject, previous?: JsonObject): JsonObject {
    const metadata = meta(object);
    const stored: JsonObject = {
      ...object,
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: {
        ...metadata,
        uid: previous ? meta(previous).uid! : ((metadata.uid as string | undefined) ?? randomUUID()),
        creationTimestamp: previous ? meta(previous).creationTimestamp! : now().toISOString().replace(/\.\d+Z$/, 'Z'),
        resourceVersion: String(++resourceVersion),
      },
    };
    if ('spec' in stored) {
      const generation = (previous ? Number(meta(previous).generation ?? 1) : 0) + (previous && sameJson(previous.spec, stored.spec) ? 0 : 1);
      (stored.metadata as JsonObject).generation = generation;
    }
    store.set(keyOf(type, metadata.namespace as string | undefined, metadata.name as string), stored);
    if (type.kind === 'Deployment') syncDeployment(stored);
    return stored;
  }

  // -- deployment controller ------------------------------------------------------------------------

  const DEPLOYMENTS = typeByPlural('deployments');
  const REPLICASETS = typeByPlural('replicasets');
  const REVISION = 'deployment.kubernetes.io/revision';
  const HISTORY = 'deployment.kubernetes.io/revision-history';
  // Annotations the controller does not copy from a deployment to its ReplicaSets (annotationsToSkip).
  const NOT_COPIED = new Set([
    'kubectl.kubernetes.io/last-applied-configuration',
    REVISION,
    HISTORY,
    'deployment.kubernetes.io/desired-replicas',
    'deployment.kubernetes.io/max-replicas',
    'deprecated.deployment.rollback.to',
  ]);
  const stamp = () => now().toISOString().replace(/\.\d+Z$/, 'Z');

  /** The deployment's annotations a ReplicaSet carries (copyDeploymentAnnotationsToReplicaSet). */
  function copiedAnnotations(deployment: JsonObject): JsonObject {
    const annotations = (meta(deployment).annotations as JsonObject | undefined) ?? {};
    return Object.fromEntries(Object.entries(annotations).filter(([key]) => !NOT_COPIED.has(key)));
  }

  function templateHash(template: Json | undefined): string {
    const copy = structuredClone(template ?? {}) as JsonObject;
    const labels = (copy.metadata as JsonObject | undefined)?.labels as JsonObject | undefined;
    if (labels) delete labels['pod-template-hash'];
    return createHash('sha256').update(JSON.stringify(canonicalJson(copy))).digest('hex').slice(0, 10).replace(/[aeiou]/g, 'x');
  }

  function ownedReplicaSets(deployment: JsonObject): JsonObject[] {
    const uid = meta(deployment).uid;
    return list(REPLICASETS, meta(deployment).namespace as string).filter((rs) =>
      ((meta(rs).ownerReferences as JsonObject[] | undefined) ?? []).some((o) => o.uid === uid && o.controller === true),
    );
  }

  function revisionOf(object: JsonObject): number {
    return Number(((meta(object).annotations as JsonObject | undefined) ?? {})[REVISION] ?? 0);
  }

  /** Makes sure the deployment's current template has a ReplicaSet with the newest revision. */
  function syncDeployment(deployment: JsonObject): void {
    const namespace = meta(deployment).namespace as string;
    const name = meta(deployment).name as string;
    const spec = deployment.spec as JsonObject;
    const hash = templateHash(spec.template);
    const owned = ownedReplicaSets(deployment);
    const maxRevision = Math.max(0, ...owned.map(revisionOf));
    const key = `${namespace}/${name}`;
    const state = rollouts.get(key) ?? { behaviour: 'progress', old: 0, availableNew: 0 };
    rollouts.set(key, state);
    let current = owned.find((rs) => ((meta(rs).labels as JsonObject | undefined) ?? {})['pod-template-hash'] === hash);
    if (current && revisionOf(current) === maxRevision) {
      const annotations = (meta(current).annotations as JsonObject | undefined) ?? {};
      const synced = { ...annotations, ...copiedAnnotations(deployment) };
      if (!sameJson(synced, annotations)) current.metadata = { ...meta(current), annotations: synced, resourceVersion: String(++resourceVersion) };
      setRevision(deployment, maxRevision);
      return;
    }
    // A new template (or a return to an old one): the running pods become "old".
    const status = (deployment.status as JsonObject | undefined) ?? {};
    state.old = Number(status.availableReplicas ?? 0);
    state.availableNew = 0;
    if (isObject(deployment.status)) deployment.status = { ...deployment.status, updatedReplicas: 0 };
    const revision = maxRevision + 1;
    if (current) {
      const annotations = (meta(current).annotations as JsonObject | undefined) ?? {};
      const history = [annotations[HISTORY], String(revisionOf(current))].filter((v) => typeof v === 'string' && v !== '').join(',');
      current = {
        ...current,
        metadata: {
          ...meta(current),
          annotations: { ...annotations, ...copiedAnnotations(deployment), [REVISION]: String(revision), [HISTORY]: history },
          resourceVersion: String(++resourceVersion),
        },
      };
    } else {
      const template = structuredClone(spec.template ?? {}) as JsonObject;
      const templateMeta = (template.metadata as JsonObject | undefined) ?? {};
      const labels = { ...((templateMeta.labels as JsonObject | undefined) ?? {}), 'pod-template-hash': hash };
      template.metadata = { ...templateMeta, labels };
      const selector = structuredClone((spec.selector as JsonObject | undefined) ?? {}) as JsonObject;
      selector.matchLabels = { ...((selector.matchLabels as JsonObject | undefined) ?? {}), 'pod-template-hash': hash };
      current = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${name}-${hash}`,
          namespace,
          uid: randomUUID(),
          creationTimestamp: now().toISOString().replace(/\.\d+Z$/, 'Z'),
          resourceVersion: String(++resourceVersion),
          generation: 1,
          labels,
          annotations: { ...copiedAnnotations(deployment), [REVISION]: String(revision), 'deployment.kubernetes.io/desired-replicas': String(spec.replicas ?? 1) },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: meta(deployment).uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: { replicas: 0, selector, template },
        status: { replicas: 0, observedGeneration: 1 },
      };
    }
    store.set(keyOf(REPLICASETS, namespace, meta(current).name as string), current);
    setRevision(deployment, revision);
  }

  function setRevision(deployment: JsonObject, revision: number): void {
    const metadata = meta(deployment);
    metadata.annotations = { ...((metadata.annotations as JsonObject | undefined) ?? {}), [REVISION]: String(revision) };
  }

  /** The deployment's current ReplicaSet (the one with its revision). */
  function currentReplicaSet(deployment: JsonObject): JsonObject | undefined {
    const revision = revisionOf(deployment);
    return ownedReplicaSets(deployment).find((rs) => revisionOf(rs) === revision);
  }

  /**
   * A Progressing condition as the controller sets it: a new reason (or status) gets fresh times; the
   * same one keeps its lastTransitionTime, and lastUpdateTime too unless `touch` (progress was seen).
   */
  function progressingCondition(previous: JsonObject | undefined, status: 'True' | 'False', reason: string, message: string, touch: boolean): JsonObject {
    const at = stamp();
    if (previous && previous.status === status && previous.reason === reason && previous.message === message && !touch) return previous;
    const sameStatus = previous?.status === status;
    return { type: 'Progressing', status, lastUpdateTime: at, lastTransitionTime: sameStatus ? (previous!.lastTransitionTime ?? at) : at, reason, message };
  }

  /** One controller step for one deployment. */
  function step(deployment: JsonObject): void {
    const metadata = meta(deployment);
    const key = `${metadata.namespace as string}/${metadata.name as string}`;
    const state = rollouts.get(key);
    if (!state) return;
    const spec = deployment.spec as JsonObject;
    const status: JsonObject = { ...((deployment.status as JsonObject | undefined) ?? {}) };
    const desired = Number(spec.replicas ?? 1);
    const generation = Number(metadata.generation ?? 1);
    let updated = Number(status.updatedReplicas ?? 0);
    const previousConditions = (status.conditions as JsonObject[] | undefined) ?? [];
    const previous = previousConditions.find((c) => c.type === 'Progressing');
    const previousAvailable = previousConditions.find((c) => c.type === 'Available');
    let conditions = previousConditions.filter((c) => c.type !== 'Progressing' && c.type !== 'Available');
    const rsName = (meta(currentReplicaSet(deployment) ?? { metadata: {} }).name as string | undefined) ?? (metadata.name as string);
    const progressed = () => progressingCondition(previous, 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, true);
    // No progress seen in this step: the controller leaves the condition as it was (even a
    // ProgressDeadlineExceeded of an earlier rollout, until the new ReplicaSet moves).
    let progressing: JsonObject = previous ?? progressingCondition(undefined, 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, true);
    const before = JSON.stringify(status);

    if (Number(status.observedGeneration ?? 0) < generation) {
      status.observedGeneration = generation;
    } else if (state.behaviour === 'fail') {
      // The fake does not model time: "fail" means this ReplicaSet's deadline has passed.
      progressing = progressingCondition(previous, 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`, false);
    } else if (updated < desired) {
      updated++;
      progressing = progressed();
    } else if (updated > desired) {
      updated--;
      state.availableNew = Math.min(state.availableNew, updated);
      progressing = progressed();
    } else if (state.behaviour === 'stall') {
      // Pods created, never available (think ImagePullBackOff before the deadline).
    } else if (state.availableNew < updated) {
      state.availableNew++;
      progressing = progressed();
    } else if (state.old > 0) {
      state.old--;
      progressing = progressed();
    } else {
      progressing = progressingCondition(previous, 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`, false);
    }
    const available = state.availableNew + state.old;
    status.replicas = updated + state.old;
    status.updatedReplicas = updated;
    status.availableReplicas = available;
    status.readyReplicas = available;
    status.unavailableReplicas = Math.max(0, desired - available);
    const isAvailable = available >= desired ? 'True' : 'False';
    const availableCondition: JsonObject =
      previousAvailable?.status === isAvailable
        ? previousAvailable
        : { type: 'Available', status: isAvailable, lastUpdateTime: stamp(), lastTransitionTime: stamp(), reason: available >= desired ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable' };
    conditions = [availableCondition, progressing, ...conditions];
    status.conditions = conditions;
    if (JSON.stringify(status) === before) return;
    deployment.status = status;
    metadata.resourceVersion = String(++resourceVersion);
    // Mirror the counts onto the ReplicaSets.
    const revision = revisionOf(deployment);
    for (const rs of ownedReplicaSets(deployment)) {
      const isCurrent = revisionOf(rs) === revision;
      const replicas = isCurrent ? updated : 0;
      rs.spec = { ...(rs.spec as JsonObject), replicas: isCurrent ? desired : 0 };
      rs.status = { ...(rs.status as JsonObject), replicas: isCurrent ? replicas : 0, availableReplicas: isCurrent ? state.availableNew : 0 };
    }
  }

  function tick(): void {
    for (const deployment of list(DEPLOYMENTS)) step(deployment);
  }

  // -- authentication and authorisation ---------------------------------------------------------------

  /** The user a token belongs to, or the reason it is refused. */
  function authenticate(header: string | undefined): { user: string } | { refused: string } | undefined {
    if (!header) return undefined;
    const match = header.match(/^Bearer\s+(.+)$/i);
    if (!match) return { refused: 'not a bearer token' };
    const token = match[1]!;
    if (!token.startsWith('k8s-aws-v1.')) return { refused: 'not an EKS token' };
    let url: URL;
    try {
      url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
    } catch {
      return { refused: 'token is not a URL' };
    }
    const q = url.searchParams;
    if (url.protocol !== 'https:' || !/^sts(\.[a-z0-9-]+)?\.amazonaws\.com$/.test(url.host) || url.pathname !== '/') return { refused: `not an STS URL: ${url.host}` };
    if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') return { refused: 'not GetCallerIdentity' };
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return { refused: 'not SigV4' };
    const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
    if (!signedHeaders.includes('x-k8s-aws-id') || !signedHeaders.includes('host')) return { refused: 'x-k8s-aws-id is not signed' };
    if (!q.get('X-Amz-Expires')) return { refused: 'no X-Amz-Expires' };
    const [accessKeyId = '', , region = '', service] = (q.get('X-Amz-Credential') ?? '').split('/');
    if (service !== 'sts') return { refused: 'not signed for sts' };
    if (url.host !== 'sts.amazonaws.com' && url.host !== `sts.${region}.amazonaws.com`) return { refused: 'signing region does not match the STS host' };
    const secret = identities.get(accessKeyId);
    if (!secret) return { refused: `unknown access key ${accessKeyId}` };
    const expected = presignedSignature(url, { host: url.host, 'x-k8s-aws-id': clusterName }, secret);
    if (q.get('X-Amz-Signature') !== expected) return { refused: `signature does not match (is the token for cluster ${clusterName}?)` };
    const issued = amzDate(q.get('X-Amz-Date') ?? '');
    if (!issued) return { refused: 'bad X-Amz-Date' };
    if (now().getTime() - issued.getTime() > ttlMs) return { refused: 'X-Amz-Date parameter is expired (15 minute expiration)' };
    if (expiredBefore && issued.getTime() < expiredBefore.getTime()) return { refused: 'token expired by the test' };
    accepted.add(token);
    return { user: `arn:aws:sts::123456789012:assumed-role/frontier-dr/${accessKeyId}` };
  }

  function authorise(user: string, verb: string, type: ResourceType, subresource: string | undefined, namespace: string | undefined, name: string | undefined): void {
    const resource = subresource ? `${type.plural}/${subresource}` : type.plural;
    const denied = forbidden.some((rule) => rule.verb === verb && rule.resource === resource && (rule.namespace === undefined || rule.namespace === namespace));
    if (!denied) return;
    const scope = type.namespaced ? `in the namespace "${namespace ?? ''}"` : 'at the cluster scope';
    const subject = name ? `${qualified(type)} "${name}" is forbidden` : `${qualified(type)} is forbidden`;
    throw new StatusError(403, 'Forbidden', `${subject}: User "${user}" cannot ${verb} resource "${resource}" in API group "${type.group}" ${scope}`, {
      ...(name ? { name } : {}),
      ...(type.group ? { group: type.group } : {}),
      kind: type.plural,
    });
  }

  // -- HTTP ----------------------------------------------------------------------------------------

  function send(response: http.ServerResponse, status: number, body: Json | Buffer, contentType = 'application/json'): void {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' && contentType.startsWith('text/') ? body : JSON.stringify(body), 'utf8');
    response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.length });
    response.end(bytes);
  }

  async function readBody(request: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function parseRoute(pathname: string): { type: ResourceType; namespace?: string; name?: string; subresource?: string } | undefined {
    const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1]) {
      group = '';
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts[1] && parts[2]) {
      group = parts[1];
      version = parts[2];
      rest = parts.slice(3);
    } else {
      return undefined;
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === rest[0]);
    if (!type || (namespace !== undefined && !type.namespaced) || rest.length > 3) return undefined;
    return { type, namespace, name: rest[1], subresource: rest[2] };
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const contentType = request.headers['content-type']?.split(';')[0]?.trim();
    const record: RecordedRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), ...(contentType ? { contentType } : {}), status: 0 };
    requests.push(record);
    const answer = (status: number, body: Json | Buffer, type?: string) => {
      record.status = status;
      send(response, status, body, type);
    };
    try {
      const identity = authenticate(request.headers.authorization);
      if (identity && 'refused' in identity) {
        unauthorized++;
        throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      }
      // Injected faults apply to every path, /version included.
      const fault = faults.find((f) => f.remaining > 0 && (!f.method || f.method === method) && (typeof f.path === 'string' ? url.pathname.includes(f.path) : f.path.test(url.pathname)));
      if (fault && (identity || PUBLIC_PATHS.has(url.pathname))) {
        fault.remaining--;
        const reason = fault.reason ?? (fault.status >= 500 ? 'InternalError' : fault.status === 409 ? 'Conflict' : fault.status === 404 ? 'NotFound' : 'BadRequest');
        throw new StatusError(fault.status, reason, fault.message ?? `injected ${fault.status} by the test`);
      }
      if (PUBLIC_PATHS.has(url.pathname) && method === 'GET') {
        if (url.pathname === '/version') {
          answer(200, {
            major: '1',
            minor: '31',
            gitVersion: options.gitVersion ?? 'v1.31.4-eks-fake',
            gitCommit: '0000000000000000000000000000000000000000',
            gitTreeState: 'clean',
            buildDate: '2026-10-01T00:00:00Z',
            goVersion: 'go1.22.9',
            compiler: 'gc',
            platform: 'linux/amd64',
          });
        } else {
          answer(200, 'ok', 'text/plain');
        }
        return;
      }
      if (!identity) {
        throw new StatusError(403, 'Forbidden', `forbidden: User "system:anonymous" cannot ${method.toLowerCase()} path "${url.pathname}"`);
      }
      const route = parseRoute(url.pathname);
      if (!route) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      const { type, namespace, name, subresource } = route;
      const verb = method === 'GET' ? (name ? 'get' : 'list') : method === 'PATCH' ? 'patch' : method === 'POST' ? 'create' : method.toLowerCase();
      authorise(identity.user, verb, type, subresource, namespace, name);

      if (method === 'GET' && !name) {
        answer(200, listAnswer(type, namespace, url.searchParams));
        return;
      }
      if (!name) throw new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
      const existing = get(type, namespace, name);

      if (method === 'GET') {
        if (!existing) throw notFound(type, name);
        if (!subresource) return answer(200, existing);
        if (subresource === 'scale' && type.kind === 'Deployment') return answer(200, scaleOf(existing));
        if (subresource === 'log' && type.kind === 'Pod') return answer(200, podLog(existing, url.searchParams), 'text/plain');
        throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      }
      if (method !== 'PATCH') throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      if (!contentType || !PATCH_TYPES.includes(contentType)) {
        throw new StatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
        );
      }
      const text = await readBody(request);
      if (subresource === 'scale' && type.kind === 'Deployment') {
        if (!existing) throw notFound(type, name);
        if (contentType === 'application/apply-patch+yaml') throw new StatusError(415, 'UnsupportedMediaType', 'apply is not supported on the scale subresource by this fake');
        const patched = applyPatch(scaleOf(existing), contentType, text) as JsonObject;
        const replicas = (patched.spec as JsonObject | undefined)?.replicas;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) throw new StatusError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value`);
        const stored = put(type, { ...existing, spec: { ...(existing.spec as JsonObject), replicas } }, existing);
        return answer(200, scaleOf(stored));
      }
      if (subresource) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');

      if (contentType === 'application/apply-patch+yaml') {
        const fieldManager = url.searchParams.get('fieldManager');
        if (!fieldManager) {
          throw new StatusError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
        }
        const body = parseApplyBody(text, type, name, namespace);
        if (!existing) {
          authorise(identity.user, 'create', type, undefined, namespace, name);
          if (type.namespaced && !get(typeByPlural('namespaces'), undefined, namespace ?? '')) {
            throw new StatusError(404, 'NotFound', `namespaces "${namespace ?? ''}" not found`, { name: namespace ?? '', kind: 'namespaces' });
          }
          validate(type, body);
          return answer(201, put(type, withoutServerFields(body)));
        }
        const merged = mergePatch(existing, withoutServerFields(body)) as JsonObject;
        validate(type, merged);
        return answer(200, put(type, merged, existing));
      }
      if (!existing) throw notFound(type, name);
      const patched = applyPatch(existing, contentType, text) as JsonObject;
      const requestedVersion = (patched.metadata as JsonObject | undefined)?.resourceVersion;
      if (requestedVersion !== undefined && requestedVersion !== meta(existing).resourceVersion) {
        throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
      }
      validate(type, patched);
      answer(200, put(type, { ...patched, metadata: { ...meta(patched), name, ...(namespace ? { namespace } : {}) } }, existing));
    } catch (error) {
      if (error instanceof StatusError) {
        answer(error.code, error.body());
      } else {
        answer(500, new StatusError(500, 'InternalError', `kube-fake: ${(error as Error).message}`).body());
      }
    }
  }

  function applyPatch(target: JsonObject, contentType: string, text: string): Json {
    let patch: Json;
    try {
      patch = JSON.parse(text) as Json;
    } catch {
      throw new StatusError(400, 'BadRequest', 'error decoding patch: invalid character in JSON body');
    }
    if (contentType === 'application/json-patch+json') return jsonPatch(target, patch);
    if (!isObject(patch)) throw new StatusError(400, 'BadRequest', 'json: cannot unmarshal array into Go value of type map[string]interface {}');
    return mergePatch(target, patch);
  }

  function parseApplyBody(text: string, type: ResourceType, name: string, namespace: string | undefined): JsonObject {
    let body: unknown;
    try {
      body = parseYaml(text);
    } catch (error) {
      throw new StatusError(400, 'BadRequest', `error decoding YAML: ${(error as Error).message}`);
    }
    if (!isObject(body)) throw new StatusError(400, 'BadRequest', 'the body of an apply patch must be an object');
    if (body.apiVersion !== apiVersionOf(type) || body.kind !== type.kind) {
      throw new StatusError(400, 'BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(type)}) or kind`);
    }
    const metadata = isObject(body.metadata) ? body.metadata : {};
    if (metadata.name !== name) throw new StatusError(400, 'BadRequest', `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`);
    if (type.namespaced && metadata.namespace !== undefined && metadata.namespace !== namespace) {
      throw new StatusError(400, 'BadRequest', `the namespace of the provided object does not match the namespace sent on the request`);
    }
    return { ...body, metadata: { ...metadata, name, ...(type.namespaced ? { namespace: namespace ?? '' } : {}) } };
  }

  function withoutServerFields(body: JsonObject): JsonObject {
    const metadata = { ...meta(body) };
    for (const field of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields']) delete metadata[field];
    const copy: JsonObject = { ...body, metadata };
    delete copy.status;
    return copy;
  }

  /** The checks the API server makes that our code could get wrong. */
  function validate(type: ResourceType, object: JsonObject): void {
    const name = meta(object).name as string;
    if (type.kind === 'Secret') {
      for (const [key, value] of Object.entries((object.data as JsonObject | undefined) ?? {})) {
        if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
          throw new StatusError(400, 'BadRequest', `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at key ${key}`);
        }
      }
    }
    if (type.kind === 'ConfigMap') {
      for (const [key, value] of Object.entries((object.data as JsonObject | undefined) ?? {})) {
        if (typeof value !== 'string') throw new StatusError(400, 'BadRequest', `ConfigMap in version "v1" cannot be handled as a ConfigMap: data.${key} is not a string`);
      }
    }
    if (type.kind === 'Deployment') {
      const spec = object.spec as JsonObject | undefined;
      const containers = ((spec?.template as JsonObject | undefined)?.spec as JsonObject | undefined)?.containers;
      if (!Array.isArray(containers) || containers.length === 0) {
        throw new StatusError(422, 'Invalid', `Deployment.apps "${name}" is invalid: spec.template.spec.containers: Required value`);
      }
      if (!isObject(spec?.selector)) throw new StatusError(422, 'Invalid', `Deployment.apps "${name}" is invalid: spec.selector: Required value`);
    }
  }

  function listAnswer(type: ResourceType, namespace: string | undefined, query: URLSearchParams): JsonObject {
    const selector = query.get('labelSelector') ?? undefined;
    const all = list(type, namespace).filter((o) => matchesSelector(((meta(o).labels as Record<string, string> | undefined) ?? {}), selector));
    const limit = Number(query.get('limit') ?? 0);
    const offset = Number(query.get('continue') ? Buffer.from(query.get('continue')!, 'base64').toString('utf8') : 0);
    const items = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    const more = limit > 0 && offset + limit < all.length;
    return {
      kind: `${type.kind}List`,
      apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: String(resourceVersion), ...(more ? { continue: Buffer.from(String(offset + limit)).toString('base64') } : {}) },
      items,
    };
  }

  function scaleOf(deployment: JsonObject): JsonObject {
    const metadata = meta(deployment);
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: metadata.name!, namespace: metadata.namespace!, uid: metadata.uid!, resourceVersion: metadata.resourceVersion!, creationTimestamp: metadata.creationTimestamp! },
      spec: { replicas: (deployment.spec as JsonObject).replicas ?? 1 },
      status: { replicas: ((deployment.status as JsonObject | undefined)?.replicas as number | undefined) ?? 0, selector: selectorOf(deployment) },
    };
  }

  function podLog(pod: JsonObject, query: URLSearchParams): Buffer {
    const metadata = meta(pod);
    const podName = metadata.name as string;
    const containers = (((pod.spec as JsonObject).containers as JsonObject[]) ?? []).map((c) => c.name as string);
    const container = query.get('container') ?? (containers.length === 1 ? containers[0] : undefined);
    if (!container) {
      throw new StatusError(400, 'BadRequest', `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`);
    }
    if (!containers.includes(container)) throw new StatusError(400, 'BadRequest', `container ${container} is not valid for pod ${podName}`);
    const seed = podSeeds.get(`${metadata.namespace as string}/${podName}`);
    if (seed?.waiting) throw new StatusError(400, 'BadRequest', `container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`);
    const lines = typeof seed?.lines === 'function' ? seed.lines(podName, container) : (seed?.lines ?? []);
    const since = query.get('sinceSeconds');
    const from = since ? now().getTime() - Number(since) * 1000 : -Infinity;
    const timestamps = query.get('timestamps') === 'true';
    const tail = query.get('tailLines');
    let selected = lines.filter((line) => line.at.getTime() >= from);
    if (tail) selected = selected.slice(-Number(tail));
    const text = selected.map((line) => `${timestamps ? `${line.at.toISOString().replace('Z', '000000Z')} ` : ''}${line.text}\n`).join('');
    const bytes = Buffer.from(text, 'utf8');
    const limit = query.get('limitBytes');
    // Like the kubelet: cut at the byte limit, even inside a line or a character.
    return limit ? bytes.subarray(0, Number(limit)) : bytes;
  }

  // -- server ------------------------------------------------------------------------------------------

  const server = http.createServer((request, response) => {
    void handle(request, response);
  });
  const port = await findFreePort();
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen();
  const boundPort = (server.address() as AddressInfo).port;
  const timer = setInterval(tick, options.tickMs ?? 50);
  timer.unref();

  const closeServer = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      // Keep-alive connections would otherwise keep serving (and keep this process alive).
      server.closeAllConnections();
    });

  function ensureNamespace(name: string): void {
    const type = typeByPlural('namespaces');
    if (!get(type, undefined, name)) put(type, { metadata: { name }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  }

  return {
    url: `http://127.0.0.1:${boundPort}`,
    port: boundPort,
    clusterName,
    requests,
    unauthorizedCount: () => unauthorized,
    acceptedTokens: () => [...accepted],

    addNamespace: ensureNamespace,

    addNode(ready = true, name = `ip-10-0-${Math.floor(nodeCount / 250)}-${(nodeCount % 250) + 1}.ec2.internal`) {
      nodeCount++;
      put(typeByPlural('nodes'), {
        metadata: { name, labels: { 'kubernetes.io/hostname': name } },
        spec: { providerID: `aws:///us-east-1a/i-${nodeCount.toString(16).padStart(17, '0')}` },
        status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'NodeStatusUnknown' }] },
      });
      return name;
    },

    setNodeReady(name, ready) {
      const node = get(typeByPlural('nodes'), undefined, name);
      if (!node) throw new Error(`kube-fake: no node ${name}`);
      node.status = { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'NodeStatusUnknown' }] };
    },

    addDeployment(namespace, name, seed) {
      ensureNamespace(namespace);
      const images = seed.revisions ?? (seed.image ? [seed.image] : []);
      if (images.length === 0) throw new Error('kube-fake: addDeployment needs an image or revisions');
      const labels = seed.labels ?? { app: name };
      const replicas = seed.replicas ?? 3;
      const template = (image: string): JsonObject => ({
        metadata: { labels },
        spec: { containers: [{ name: seed.containerName ?? name, image, ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
      });
      if (seed.changeCauses && seed.changeCauses.length !== images.length) throw new Error('kube-fake: addDeployment needs one change-cause per revision');
      let deployment: JsonObject | undefined;
      for (const [index, image] of images.entries()) {
        const spec: JsonObject = {
          replicas,
          selector: { matchLabels: labels },
          template: template(image),
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
          progressDeadlineSeconds: seed.progressDeadlineSeconds ?? 600,
          revisionHistoryLimit: 10,
        };
        const changeCause = seed.changeCauses?.[index];
        const annotations: JsonObject = { ...((deployment ? (meta(deployment).annotations as JsonObject | undefined) : undefined) ?? {}) };
        if (changeCause !== undefined) annotations['kubernetes.io/change-cause'] = changeCause;
        deployment = put(DEPLOYMENTS, { metadata: { name, namespace, labels, annotations }, spec }, deployment);
      }
      // Seeded history is fully rolled out.
      const stored = get(DEPLOYMENTS, namespace, name)!;
      const state = rollouts.get(`${namespace}/${name}`)!;
      state.old = 0;
      state.availableNew = replicas;
      stored.status = {
        observedGeneration: meta(stored).generation!,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          { type: 'Available', status: 'True', lastUpdateTime: stamp(), lastTransitionTime: stamp(), reason: 'MinimumReplicasAvailable' },
          {
            type: 'Progressing',
            status: 'True',
            lastUpdateTime: stamp(),
            lastTransitionTime: stamp(),
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${(meta(currentReplicaSet(stored) ?? { metadata: {} }).name as string | undefined) ?? name}" has successfully progressed.`,
          },
        ],
      };
      const revision = revisionOf(stored);
      for (const rs of ownedReplicaSets(stored)) {
        const isCurrent = revisionOf(rs) === revision;
        rs.spec = { ...(rs.spec as JsonObject), replicas: isCurrent ? replicas : 0 };
        rs.status = { replicas: isCurrent ? replicas : 0, availableReplicas: isCurrent ? replicas : 0, observedGeneration: 1 };
      }
    },

    addConfigMap(namespace, name, data) {
      ensureNamespace(namespace);
      put(typeByPlural('configmaps'), { metadata: { name, namespace }, data: { ...data } });
    },

    addSecret(namespace, name, data) {
      ensureNamespace(namespace);
      const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));
      put(typeByPlural('secrets'), { metadata: { name, namespace }, type: 'Opaque', data: encoded });
    },

    addPods(namespace, seed) {
      ensureNamespace(namespace);
      const names: string[] = [];
      const count = seed.count ?? 1;
      const prefix = seed.namePrefix ?? `${Object.values(seed.labels)[0] ?? 'pod'}-${randomUUID().slice(0, 5)}`;
      for (let i = 0; i < count; i++) {
        const name = `${prefix}-${i}`;
        names.push(name);
        const containers = (seed.containers ?? ['app']).map((c) => ({ name: c, image: 'example.invalid/app:1' }));
        put(typeByPlural('pods'), {
          metadata: { name, namespace, labels: { ...seed.labels } },
          spec: { containers },
          status: { phase: seed.waiting ? 'Pending' : 'Running' },
        });
        podSeeds.set(`${namespace}/${name}`, { lines: seed.lines ?? [], waiting: seed.waiting ?? false });
      }
      return names;
    },

    object: (resource, namespace, name) => {
      const found = get(typeByPlural(resource), namespace, name);
      return found ? structuredClone(found) : undefined;
    },
    deployment: (namespace, name) => {
      const found = get(DEPLOYMENTS, namespace, name);
      return found ? structuredClone(found) : undefined;
    },
    replicaSets(namespace, deployment) {
      const all = list(REPLICASETS, namespace);
      const owner = deployment ? get(DEPLOYMENTS, namespace, deployment) : undefined;
      return structuredClone(owner ? ownedReplicaSets(owner) : all);
    },
    configMapData(namespace, name) {
      const found = get(typeByPlural('configmaps'), namespace, name);
      return found ? ({ ...((found.data as Record<string, string> | undefined) ?? {}) } as Record<string, string>) : undefined;
    },
    secretData(namespace, name) {
      const found = get(typeByPlural('secrets'), namespace, name);
      if (!found) return undefined;
      return Object.fromEntries(Object.entries((found.data as Record<string, string> | undefined) ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    },

    setRollout(namespace, name, behaviour) {
      const state = rollouts.get(`${namespace}/${name}`);
      if (!state) throw new Error(`kube-fake: no deployment ${namespace}/${name}`);
      state.behaviour = behaviour;
    },
    tick,

    expireTokensIssuedBefore(date) {
      expiredBefore = date;
    },
    forbid(rule) {
      forbidden.push(rule);
    },
    failNext(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    refuseConnections: closeServer,
    acceptConnections: async () => {
      if (!server.listening) await listen();
    },
    async stop() {
      clearInterval(timer);
      await closeServer();
    },
  };
}
