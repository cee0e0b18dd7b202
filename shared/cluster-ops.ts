// Cluster steps shared by the Kubernetes scenarios: which cluster, its connection, and the production
// manifests kept in the recovery region (so a failover never reads them from the failing region).
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { clusterFor, kubernetesConfig, type ClusterRole, type DeploymentConfig } from './config.js';
import { awsCall, AwsTransientError, InvalidInput, KubernetesTransientError, KubernetesUnreachable, ResourceNotFound, RolloutTimedOut } from './errors.js';
import { connectToCluster, type ConnectOptions, type KubernetesConnection } from './kubernetes/connection.js';
import { applyManifests, parseManifests, type AppliedObject, type KubernetesManifest } from './kubernetes/manifests.js';
import { describeProgressClock, judgeProgress, startProgress, type RolloutProgress } from './kubernetes/progress.js';
import { planRollback, rollbackDeployment, type RollbackPlan, type RollbackResult } from './kubernetes/rollback.js';
import { assessCluster, rolloutStatus, scaleDeployment, type ClusterAssessment, type RolloutStatus } from './kubernetes/workloads.js';
import { minutesBetween } from './objectives.js';
import { nextCheckSeconds, ROLLOUT_POLL_SECONDS, secondsBetween } from './polling.js';
import { databaseLockTarget } from './names.js';
import { rememberReplicas, type LockStore } from './recovery-lock.js';
import type { RollbackTarget, RunContext } from './run.js';
import type { Action, StepResult } from './steps.js';

export { clusterFor, kubernetesConfig, type ClusterRole } from './config.js';

// One connection per cluster per container: its token refreshes itself before it expires.
const connections = new Map<string, Promise<KubernetesConnection>>();

export function connectTo(config: DeploymentConfig, role: ClusterRole, options?: ConnectOptions): Promise<KubernetesConnection> {
  const cluster = clusterFor(config, role);
  const key = `${cluster.region}/${cluster.name}`;
  let connection = connections.get(key);
  if (!connection) {
    connection = connectToCluster(cluster, options);
    // A failed connect (e.g. the cluster is down) must not be cached for the next invocation.
    connection.catch(() => connections.delete(key));
    connections.set(key, connection);
  }
  return connection;
}

/**
 * Forgets every cached connection, as a new Lambda container starts without any: the next connectTo
 * describes the cluster (eks:DescribeCluster) and mints a token again. For tests that run several
 * functions' steps in one process (each as its own IAM role, or each as if in a cold container).
 */
export function forgetConnections(): void {
  connections.clear();
}

export interface ManifestSet {
  /** s3:// keys read, in the order applied. */
  sources: string[];
  documents: KubernetesManifest[];
}

/** Reads every *.yaml / *.yml under the configured prefix, in key order (name them 00-namespace.yaml ...). */
export async function loadProductionManifests(s3: S3Client, config: DeploymentConfig): Promise<ManifestSet> {
  const { bucket, prefix } = kubernetesConfig(config).manifests;
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall('s3:ListObjectsV2', `s3://${bucket}/${prefix}`, () =>
      s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
    );
    for (const object of page.Contents ?? []) if (object.Key && /\.ya?ml$/i.test(object.Key)) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (keys.length === 0) throw new ResourceNotFound(`no manifests (*.yaml) under s3://${bucket}/${prefix}: nothing to apply to the backup cluster`);
  keys.sort();
  const documents: KubernetesManifest[] = [];
  for (const key of keys) {
    const object = await awsCall('s3:GetObject', `s3://${bucket}/${key}`, () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
    const text = (await object.Body?.transformToString('utf-8')) ?? '';
    documents.push(...parseManifests(text, `s3://${bucket}/${key}`));
  }
  return { sources: keys.map((key) => `s3://${bucket}/${key}`), documents };
}

/**
 * Looks at a cluster for the failover decision. Not being able to reach it at all (its region's EKS
 * API or its own API server down) is the answer "unhealthy", not a failed step: that is exactly the
 * outage being recovered from. Being denied is still thrown, since that is our deployment's fault.
 */
export async function assessClusterHealth(config: DeploymentConfig, role: ClusterRole, timeoutMs: number): Promise<ClusterAssessment> {
  let connection: KubernetesConnection;
  try {
    connection = await connectTo(config, role);
  } catch (error) {
    if (error instanceof AwsTransientError || error instanceof KubernetesUnreachable || error instanceof KubernetesTransientError) {
      return { reachable: false, nodes: 0, readyNodes: 0, healthy: false, reason: `cannot reach the cluster: ${error.message}` };
    }
    throw error;
  }
  return assessCluster(connection, timeoutMs);
}

/**
 * CheckRollout: one look at a rollout the state machine is waiting for (never waits). `data.done` once
 * every replica is updated and available; `data.waitedMinutes` since `since` (ISO), one decimal;
 * `data.nextCheckSeconds` how long the loop sleeps before the next look (nextRolloutCheck); `detail`
 * where the rollout is. `rollback`: the ReplicaSet an emergency rollback returned to; then
 * `since` is when it was applied, and only that rollout's own progress deadline fails the look (one an
 * earlier, bad rollout left behind does not).
 *
 * `progress`: what the previous look returned as `data.progress` (the state machine carries it), or, for
 * the first look, startProgress(<when the scale or rollback was made>). With it, a rollout the
 * deployment controller does not time (a scale-up of a finished rollout, e.g. the failover's pilot
 * light scaled up after the apply of a new release at 0 replicas, or a database recovery's API scaled
 * back up after StopApiWrites had it at 0) fails by the deployment's own
 * spec.progressDeadlineSeconds when no look sees a new ready replica for that long (judgeProgress);
 * a rollout Kubernetes times is judged by its condition, as before. Without it the clock starts at
 * this look. `data.progress` is the record for the next look.
 *
 * Kubernetes: GET the deployment (and, when it shows a progress deadline exceeded that `rollback` does
 * not settle, GET the ReplicaSet the condition names); AWS: eks:DescribeCluster (connectTo). Throws
 * RolloutFailed (the progress deadline: Kubernetes' condition, or judgeProgress), RolloutTimedOut (not
 * done past kubernetes.rolloutTimeoutMinutes, saying where it stopped), InvalidInput (an unreadable
 * `progress`), and what connectTo and the Kubernetes client throw (AwsAccessDenied, AwsTransientError,
 * KubernetesForbidden...).
 */
export async function checkRolloutProgress(
  config: DeploymentConfig,
  role: ClusterRole,
  namespace: string,
  deployment: string,
  since: string,
  now: Date,
  rollback?: { replicaSet?: string },
  progress?: RolloutProgress,
): Promise<StepResult<RolloutStatus & { waitedMinutes: number; progress: RolloutProgress; nextCheckSeconds: number }>> {
  const own = rollback ? { since, ...(rollback.replicaSet ? { replicaSet: rollback.replicaSet } : {}) } : undefined;
  const status = await rolloutStatus(await connectTo(config, role), namespace, deployment, own);
  // Before the overall limit: a deadline that passed is the sharper answer.
  const next = judgeProgress(namespace, deployment, status, progress ?? startProgress(now.toISOString()), now);
  const waited = minutesBetween(since, now);
  const limit = kubernetesConfig(config).rolloutTimeoutMinutes;
  if (!status.done && waited > limit) {
    throw new RolloutTimedOut(`rollout of ${namespace}/${deployment} not finished after ${waited.toFixed(1)} min (limit ${limit} min); it stopped at: ${status.message}`);
  }
  const waitedMinutes = Math.round(waited * 10) / 10;
  const clock = describeProgressClock(status, next, now);
  return {
    data: { ...status, waitedMinutes, progress: next, nextCheckSeconds: nextRolloutCheck(status, next, since, limit, now) },
    detail: `${status.message} (after ${waitedMinutes} min${clock ? `; ${clock}` : ''})`,
  };
}

/**
 * Seconds before the next look at a rollout (polling.ts): the first wait runs to the earliest its new
 * pods can be available (status.earliestAvailableSeconds after `since`: the pods are started by the
 * change), then 5 s polls; never past kubernetes.rolloutTimeoutMinutes, nor past the progress deadline
 * this look judges (judgeProgress), so a stalled rollout fails at its deadline, not a poll later.
 */
function nextRolloutCheck(status: RolloutStatus, progress: RolloutProgress, since: string, limitMinutes: number, now: Date): number {
  let timeoutSeconds = limitMinutes * 60;
  if (!status.done && !status.timedByKubernetes && status.progressDeadlineSeconds !== null) {
    const clockStart = progress.lastProgressAt ?? progress.startedAt;
    timeoutSeconds = Math.min(timeoutSeconds, secondsBetween(since, clockStart) + status.progressDeadlineSeconds);
  }
  return nextCheckSeconds({ elapsedSeconds: secondsBetween(since, now), expectedSeconds: status.earliestAvailableSeconds, pollSeconds: ROLLOUT_POLL_SECONDS, timeoutSeconds });
}

// ---- the Kubernetes steps: each decides, acts (or, in a dry run, records the exact call) and reports ----

/** The Kubernetes call a step made, or in a dry run would have made. */
function kubernetesAction(description: string, operation: string, parameters: Record<string, unknown>): Action {
  return { description, service: 'kubernetes', operation, parameters, performed: false };
}

/**
 * The AssessPrimaryCluster step: is the cluster serving (API reachable, at least half the nodes Ready)?
 * One `<role>-cluster-health` check. Read-only; unreachable is an answer (assessClusterHealth).
 * Kubernetes: GET /version, list nodes; AWS: eks:DescribeCluster. Thrown: a denial (AwsAccessDenied,
 * KubernetesForbidden...), as assessClusterHealth says.
 *
 * @param timeoutMs How long the API gets to answer, ms.
 */
export async function assessClusterForFailover(config: DeploymentConfig, role: ClusterRole, timeoutMs: number): Promise<StepResult<ClusterAssessment & { cluster: string; role: ClusterRole }>> {
  const cluster = clusterFor(config, role);
  const assessment = await assessClusterHealth(config, role, timeoutMs);
  return {
    data: { cluster: cluster.name, role, ...assessment },
    checks: [
      {
        name: `${role}-cluster-health`,
        resource: `${cluster.name} (${cluster.region})`,
        measured: assessment.reachable ? `${assessment.readyNodes} of ${assessment.nodes} nodes Ready` : 'unreachable',
        target: 'API reachable, at least half the nodes Ready',
        passed: assessment.healthy,
        message: assessment.reason,
      },
    ],
    detail: assessment.reason,
  };
}

/**
 * The ApplyManifestsToBackup step: server-side apply (fieldManager frontier-dr, force) of the production
 * manifests kept in the recovery region's bucket (s3:ListObjectsV2, s3:GetObject) to the `role`
 * cluster. Safe to repeat. A dry run reads the manifests and records one action per object.
 * Thrown: ResourceNotFound (no manifests), the S3 errors awsCall names, Kubernetes errors.
 */
export async function applyProductionManifests(
  config: DeploymentConfig,
  role: ClusterRole,
  dryRun: boolean,
  s3: S3Client,
): Promise<StepResult<{ sources: string[]; applied: AppliedObject[] }>> {
  const cluster = clusterFor(config, role);
  const namespace = kubernetesConfig(config).namespace;
  const manifests = await loadProductionManifests(s3, config);
  const action = (kind: string, name: string, objectNamespace: string | undefined, created?: boolean): Action =>
    kubernetesAction(
      `server-side apply ${kind} ${objectNamespace ? `${objectNamespace}/` : ''}${name} on ${cluster.name}${created === undefined ? '' : created ? ' (created)' : ' (updated)'}`,
      'apply',
      { cluster: cluster.name, kind, name, namespace: objectNamespace ?? null, fieldManager: 'frontier-dr', force: true },
    );
  if (dryRun) {
    const actions = manifests.documents.map((d) => action(d.kind, d.metadata.name, d.metadata.namespace ?? (d.kind === 'Namespace' ? undefined : namespace)));
    return { data: { sources: manifests.sources, applied: [] }, actions, detail: `would apply ${actions.length} objects from ${manifests.sources.length} files` };
  }
  const applied = await applyManifests(await connectTo(config, role), manifests.documents, 'frontier-dr', namespace);
  return {
    data: { sources: manifests.sources, applied },
    actions: applied.map((a) => ({ ...action(a.kind, a.name, a.namespace, a.created), performed: true })),
    detail: `applied ${applied.length} objects from ${manifests.sources.length} files`,
  };
}

export interface ApiScale {
  namespace: string;
  deployment: string;
  /** The count before this step (kept for failback); null in a dry run. */
  previousReplicas: number | null;
  replicas: number;
  changed?: boolean;
}

/**
 * Scales the API deployment (kubernetes.namespace / apiDeployment) on the `role` cluster to
 * `replicas` (PATCH deployments/scale) and reports the count it had. Serves ScaleApiOnBackup
 * (cluster-failover) and RestoreApiReplicas (database-recovery). Thrown: InvalidInput for a count that
 * is not a whole number >= 0 (before any call), Kubernetes errors.
 */
export async function scaleApi(config: DeploymentConfig, role: ClusterRole, replicas: number, dryRun: boolean): Promise<StepResult<ApiScale>> {
  if (!Number.isInteger(replicas) || replicas < 0) throw new InvalidInput(`replicas: got ${JSON.stringify(replicas)}; expected a whole number >= 0`);
  const { namespace, apiDeployment } = kubernetesConfig(config);
  const cluster = clusterFor(config, role);
  const action = kubernetesAction(`scale ${namespace}/${apiDeployment} on ${cluster.name} to ${replicas} replicas`, 'patch deployments/scale', {
    cluster: cluster.name,
    namespace,
    deployment: apiDeployment,
    replicas,
  });
  if (dryRun) return { data: { namespace, deployment: apiDeployment, previousReplicas: null, replicas }, actions: [action] };
  const result = await scaleDeployment(await connectTo(config, role), namespace, apiDeployment, replicas);
  return {
    data: { namespace, deployment: apiDeployment, ...result },
    actions: [{ ...action, performed: result.changed }],
    detail: result.changed ? `scaled from ${result.previousReplicas} to ${result.replicas} (previous count kept for failback)` : `already at ${result.replicas} replicas`,
  };
}

/**
 * The StopApiWrites step of a database recovery: scales the API on the primary cluster to 0 and
 * remembers in the recovery lock how many replicas it had, only the first time (a resumed run finds 0
 * and must not remember that). An API already at 0 with nothing remembered (another recovery, or a
 * person, stopped it) gets kubernetes.productionReplicas back afterwards, never 0.
 *
 * Kubernetes: PATCH deployments/scale; AWS: dynamodb:UpdateItem on the lock (conditional on the
 * owner). Thrown: RecoveryLockLost when another execution took the recovery over (the handler checks
 * ownership before the scale; the conditional write catches a takeover in between), Kubernetes and
 * DynamoDB errors.
 */
export async function stopApiWrites(
  config: DeploymentConfig,
  lock: LockStore,
  run: Pick<RunContext, 'executionId' | 'dryRun'>,
  database: string,
): Promise<StepResult<{ previousReplicas: number | null; namespace: string; deployment: string }>> {
  const { namespace, apiDeployment, productionReplicas } = kubernetesConfig(config);
  const cluster = clusterFor(config, 'primary');
  const action = kubernetesAction(`scale ${namespace}/${apiDeployment} on ${cluster.name} to 0 replicas (stop writes)`, 'patch deployments/scale', {
    cluster: cluster.name,
    namespace,
    deployment: apiDeployment,
    replicas: 0,
  });
  if (run.dryRun) return { data: { previousReplicas: null, namespace, deployment: apiDeployment }, actions: [action] };
  const scaled = await scaleDeployment(await connectTo(config, 'primary'), namespace, apiDeployment, 0);
  const toRemember = scaled.previousReplicas > 0 ? scaled.previousReplicas : productionReplicas;
  const remembered = await rememberReplicas(lock.ddb, lock.table, databaseLockTarget(database), run.executionId, toRemember);
  const why = scaled.changed
    ? ''
    : remembered.fromEarlierAttempt
      ? ' (it was already at 0: count kept from the first attempt)'
      : ' (it was already at 0 with no count remembered: kubernetes.productionReplicas)';
  return {
    data: { previousReplicas: remembered.replicas, namespace, deployment: apiDeployment },
    resources: [
      {
        kind: 'kubernetes:deployment',
        id: `${cluster.name}/${namespace}/${apiDeployment}`,
        region: cluster.region,
        kept: true,
        note: scaled.changed || remembered.fromEarlierAttempt ? `${remembered.replicas} replicas before the recovery` : `at 0 replicas before the recovery; ${remembered.replicas} to restore`,
      },
    ],
    actions: [{ ...action, performed: scaled.changed }],
    detail: `API scaled to 0; ${remembered.replicas} replicas to restore afterwards${why}`,
  };
}

/**
 * The PlanRollback step: fixes, once, the revision an emergency rollback goes back to (the newest earlier
 * release that no earlier rollback took out of service, or run.rollback.toRevision), so a retried or
 * redriven rollback cannot go one further.
 * Read-only (Kubernetes: read the deployment and its ReplicaSets). Thrown: InvalidInput when the run is
 * not an emergency rollback or the revision does not exist, Kubernetes errors.
 */
export async function planEmergencyRollback(config: DeploymentConfig, run: Pick<RunContext, 'rollback'>): Promise<StepResult<RollbackTarget & RollbackPlan & { clusterName: string }>> {
  const target = run.rollback;
  if (!target) throw new InvalidInput('run.rollback is missing: this step belongs to emergency-rollback');
  const cluster = clusterFor(config, target.cluster);
  const plan = await planRollback(await connectTo(config, target.cluster), target.namespace, target.deployment, target.toRevision ?? undefined);
  const skipped = plan.skippedRevisions.length
    ? `; passed over ${plan.skippedRevisions.map((r) => `revision ${r.revision} (taken out of service by the rollback at revision ${r.removedAt})`).join(', ')}`
    : '';
  return {
    data: { ...target, clusterName: cluster.name, ...plan },
    detail: `${target.namespace}/${target.deployment} on ${cluster.name}: revision ${plan.currentRevision ?? '?'} (${plan.currentImages.join(', ')}) -> ${plan.targetRevision} (${plan.targetImages.join(', ')})${skipped}`,
  };
}

export interface PlannedRollback {
  cluster: ClusterRole;
  namespace: string;
  deployment: string;
  targetRevision: number;
  currentRevision: number | null;
}

/**
 * The RollBackDeployment step: `kubectl rollout undo --to-revision` to the planned revision. When the
 * deployment already runs that template (an earlier attempt, or it was never rolled forward) nothing
 * is changed and the action says so. Kubernetes: PATCH the deployment's template. Thrown: Kubernetes
 * errors, InvalidInput for a paused deployment or a missing revision.
 */
export async function rollBackToPlannedRevision(
  config: DeploymentConfig,
  plan: PlannedRollback,
  dryRun: boolean,
): Promise<StepResult<(RollbackResult & { plannedRevision: number }) | { changed: false; plannedRevision: number }>> {
  const cluster = clusterFor(config, plan.cluster);
  const action = kubernetesAction(
    `roll back ${plan.namespace}/${plan.deployment} on ${cluster.name} from revision ${plan.currentRevision ?? '?'} to ${plan.targetRevision}`,
    'patch deployments (rollout undo)',
    { cluster: cluster.name, namespace: plan.namespace, deployment: plan.deployment, toRevision: plan.targetRevision },
  );
  if (dryRun) return { data: { changed: false, plannedRevision: plan.targetRevision }, actions: [action] };
  const result = await rollbackDeployment(await connectTo(config, plan.cluster), plan.namespace, plan.deployment, plan.targetRevision);
  // The controller re-numbers the rolled-back ReplicaSet as the newest revision, so the number it
  // has now differs from the planned one; the report gives both.
  const renumbered = result.toRevision !== plan.targetRevision ? ` (now numbered ${result.toRevision})` : '';
  const data = { ...result, plannedRevision: plan.targetRevision };
  if (!result.changed) {
    return {
      data,
      actions: [{ ...action, description: `${action.description}: no change needed, it already runs that template (an earlier attempt of this step, or it was never rolled forward)` }],
      detail: `already running planned revision ${plan.targetRevision}${renumbered}: ${result.images.join(', ')}`,
    };
  }
  return { data, actions: [{ ...action, performed: true }], detail: `rolled back to planned revision ${plan.targetRevision}${renumbered}: now running ${result.images.join(', ')}` };
}
