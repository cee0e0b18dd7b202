// A cluster and its workloads, one short call sequence each: is the API up and are the nodes Ready,
// set a deployment's replica count, one look at a rollout (the state machine waits between looks).
import { PatchStrategy, type V1Deployment, type V1DeploymentCondition } from '@kubernetes/client-node';
import { InvalidInput, KubernetesNotFound, KubernetesTransientError, KubernetesUnreachable, RolloutFailed } from '../errors.js';
import type { KubernetesConnection } from './connection.js';
import { listAll, PAGE_SIZE, requestOptions, send } from './requests.js';
import { samePodTemplate } from './templates.js';

/** The annotation the deployment controller numbers revisions with (ReplicaSets carry it too). */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** A revision annotation's number; undefined when absent or not a whole number. */
export function parseRevision(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** GET apps/v1 deployments/<name>. Throws the named errors of requests.ts (KubernetesNotFound...). */
export async function readDeployment(conn: KubernetesConnection, namespace: string, name: string): Promise<V1Deployment> {
  return send(conn, { verb: 'get', resource: 'deployments', group: 'apps', namespace, name }, () =>
    conn.apps.readNamespacedDeployment({ name, namespace }, requestOptions(conn)),
  );
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
 * Calls GET /version and GET /api/v1/nodes (paged). `timeoutMs` (ms) bounds both together.
 * Result: { reachable, version?, nodes, readyNodes, healthy, reason }. Throws KubernetesUnauthorized,
 * KubernetesRejected, KubernetesNotFound.
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

/**
 * Sets a deployment's replica count through the scale subresource and says what it was before.
 * Calls GET then (only when the count differs) PATCH apps/v1 deployments/<name>/scale (merge patch).
 * `replicas` must be a whole number >= 0 (InvalidInput). Result: { previousReplicas, replicas, changed }.
 * Throws the named Kubernetes errors (KubernetesNotFound, KubernetesUnauthorized, KubernetesTransientError...).
 */
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
// Rollout status (one look)

/** spec.progressDeadlineSeconds at this value (math.MaxInt32) means "no deadline" to the deployment controller. */
const NO_PROGRESS_DEADLINE = 2_147_483_647;

export interface RolloutStatus {
  done: boolean;
  revision?: number;
  observedGeneration: number;
  generation: number;
  /** spec.replicas: how many the deployment wants. */
  desiredReplicas: number;
  replicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  readyReplicas: number;
  /** spec.progressDeadlineSeconds; null when the deployment has none (unset, or 2147483647, which the controller reads as none). */
  progressDeadlineSeconds: number | null;
  /**
   * Whether the deployment controller itself will mark this rollout ProgressDeadlineExceeded if it
   * stalls. False when its Progressing condition is a finished rollout's (NewReplicaSetAvailable: the
   * controller does not time a scale-up of a finished rollout, e.g. a deployment scaled up from 0 after
   * a new template was applied at 0), when it is an earlier rollout's deadline (ignored, see
   * staleDeadline), or when there is none; then checkRolloutProgress judges the deadline itself
   * (judgeProgress). True until the controller has observed the current generation (nothing to judge yet).
   */
  timedByKubernetes: boolean;
  /** The Progressing condition's reason, when there is one. */
  progressingReason?: string;
  /**
   * The least time, seconds, a pod of the current template takes from its start to counting as
   * available: its readiness probe's initialDelaySeconds (no probe runs before it, so the pod cannot be
   * Ready sooner; the largest over the containers) plus spec.minReadySeconds (Ready that long before it
   * is available). A rollout that starts pods is done no sooner than this after the change; 0 without either.
   */
  earliestAvailableSeconds: number;
  message: string;
}

/** Which rollout a look is about, so a progress deadline left over from an earlier one is not taken for its failure. */
export interface OwnRollout {
  /** When the change that started this rollout was applied (e.g. a rollback's PATCH); ISO time or Date. */
  since?: string | Date;
  /** The ReplicaSet this rollout brings into service (a rollback's target). */
  replicaSet?: string;
}

/** The ReplicaSet a Progressing condition's message names (`ReplicaSet "api-6b7f" has timed out progressing.`). */
function replicaSetNamedIn(message: string | undefined): string | undefined {
  return /ReplicaSet "([^"]+)"/.exec(message ?? '')?.[1];
}

/** A condition time as ms since the epoch; undefined when absent or unreadable. */
function conditionTime(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Why a ProgressDeadlineExceeded condition is not about the rollout the deployment is in now, or
 * undefined when it is. After a deployment goes back to a pod template an existing ReplicaSet already
 * has (a rollback, or an apply of an earlier release), the controller reuses that ReplicaSet and keeps
 * the Progressing condition as it was until the rollout makes progress: for a pass or more, with the
 * new generation observed, it still names the ReplicaSet that timed out, with its old lastUpdateTime.
 * A new ReplicaSet resets the condition, so a deadline condition is this rollout's exactly when it
 * names the deployment's current ReplicaSet: `own.replicaSet` when the caller knows it (a rollback's
 * target), else the named ReplicaSet is read and is current when it belongs to the deployment and has
 * its pod template (as the controller finds its new ReplicaSet). `own.since`, when given and the
 * ReplicaSet is not, tells an older condition by its time.
 */
async function staleDeadline(conn: KubernetesConnection, namespace: string, deployment: V1Deployment, condition: V1DeploymentCondition, own: OwnRollout | undefined): Promise<string | undefined> {
  const named = replicaSetNamedIn(condition.message);
  if (own?.replicaSet && named) return named !== own.replicaSet ? `it is about ReplicaSet ${named}, not ${own.replicaSet}` : undefined;
  const updated = conditionTime(condition.lastUpdateTime) ?? conditionTime(condition.lastTransitionTime);
  const since = conditionTime(own?.since);
  if (updated !== undefined && since !== undefined) {
    // Condition times have whole seconds: only a time before the second the change was made is older.
    if (updated < Math.floor(since / 1000) * 1000) {
      return `it was last updated at ${new Date(updated).toISOString()}, before this rollout started (${new Date(since).toISOString()})`;
    }
    return undefined;
  }
  // A condition that names no ReplicaSet ("Deployment ... has timed out") cannot be told apart: judged.
  if (!named) return undefined;
  let replicaSet;
  try {
    replicaSet = await send(conn, { verb: 'get', resource: 'replicasets', group: 'apps', namespace, name: named }, () =>
      conn.apps.readNamespacedReplicaSet({ name: named, namespace }, requestOptions(conn)),
    );
  } catch (error) {
    if (error instanceof KubernetesNotFound) return `it is about ReplicaSet ${named}, which no longer exists`;
    throw error;
  }
  const owned = replicaSet.metadata?.ownerReferences?.some((owner) => owner.controller && owner.uid === deployment.metadata?.uid);
  if (!owned) return `it is about ReplicaSet ${named}, which the deployment does not own`;
  if (!samePodTemplate(replicaSet.spec?.template, deployment.spec?.template)) {
    return `it is about ReplicaSet ${named}, whose pod template the deployment no longer has (a rollout the current one replaced)`;
  }
  return undefined;
}

/**
 * One look at a rollout, with `kubectl rollout status` semantics: done once the controller has seen the
 * latest spec and every desired replica is updated and available, with no old replica left. Throws
 * RolloutFailed when the deployment exceeded its progress deadline in the rollout it is in now; a
 * deadline condition left by an earlier rollout (see staleDeadline: it names a ReplicaSet that is not the
 * deployment's current one) is ignored, the message says so, and the look goes on. Says whether the
 * controller times this rollout at all (`timedByKubernetes`): it does not for a scale-up of a finished
 * rollout, nor while an earlier rollout's deadline is shown; judgeProgress (progress.ts) then applies
 * the deadline from the looks, and RolloutTimedOut bounds every wait. `own`: when and which ReplicaSet
 * the change being waited for was, if known.
 * Calls GET apps/v1 deployments/<name>; when a deadline condition is present and `own` does not settle
 * it, GET apps/v1 replicasets/<the one it names>. Also throws the named Kubernetes errors of requests.ts.
 */
export async function rolloutStatus(conn: KubernetesConnection, namespace: string, name: string, own?: OwnRollout): Promise<RolloutStatus> {
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
  const deadline = deployment.spec?.progressDeadlineSeconds;
  const progressDeadlineSeconds = deadline === undefined || deadline === null || deadline >= NO_PROGRESS_DEADLINE ? null : deadline;
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  const readinessDelay = Math.max(0, ...(deployment.spec?.template?.spec?.containers ?? []).map((c) => c.readinessProbe?.initialDelaySeconds ?? 0));
  const facts = {
    revision,
    observedGeneration,
    generation,
    desiredReplicas: desired,
    replicas,
    updatedReplicas,
    availableReplicas,
    readyReplicas,
    progressDeadlineSeconds,
    ...(progressing?.reason ? { progressingReason: progressing.reason } : {}),
    earliestAvailableSeconds: readinessDelay + (deployment.spec?.minReadySeconds ?? 0),
  };
  let note = '';
  let timedByKubernetes = true;
  const look = (done: boolean, message: string): RolloutStatus => ({ done, ...facts, timedByKubernetes, message: `${message}${note}` });

  // Conditions of an older generation say nothing about this one.
  if (observedGeneration < generation) return look(false, `waiting for the controller to observe generation ${generation} (seen ${observedGeneration})`);
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    const stale = await staleDeadline(conn, namespace, deployment, progressing, own);
    if (!stale) throw new RolloutFailed(`deployment ${namespace}/${name} exceeded its progress deadline: ${progressing.message ?? 'no progress'}`);
    note = ` (a progress deadline exceeded by an earlier rollout is ignored: ${stale})`;
    // The controller leaves that condition as it is until this rollout makes progress: it will not
    // time this one out by itself.
    timedByKubernetes = false;
  } else {
    // NewReplicaSetAvailable: the controller estimates no progress for a finished rollout, however far
    // below spec.replicas it is scaled up (DeploymentTimedOut is false for that reason). No condition
    // at all: nothing will time it either.
    timedByKubernetes = progressing !== undefined && progressing.reason !== 'NewReplicaSetAvailable';
  }
  if (updatedReplicas < desired) return look(false, `${updatedReplicas} of ${desired} new replicas updated`);
  if (replicas > updatedReplicas) return look(false, `${replicas - updatedReplicas} old replicas pending termination`);
  if (availableReplicas < updatedReplicas) return look(false, `${availableReplicas} of ${updatedReplicas} updated replicas available`);
  return look(true, `deployment ${namespace}/${name} successfully rolled out (${availableReplicas} of ${desired} available)`);
}
