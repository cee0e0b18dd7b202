// Rolling a deployment back like `kubectl rollout undo`: a read-only plan first (which revision), then
// the pod template of that revision's ReplicaSet put back. Safe to run twice with the planned revision.
import { PatchStrategy, type V1Deployment, type V1LabelSelector, type V1PodTemplateSpec, type V1ReplicaSet } from '@kubernetes/client-node';
import { InvalidInput, NothingToRollBack, UnexpectedResourceState } from '../errors.js';
import type { KubernetesConnection } from './connection.js';
import { listAll, PAGE_SIZE, requestOptions, send } from './requests.js';
import { canonical, templateWithoutHash } from './templates.js';
import { parseRevision, readDeployment, REVISION_ANNOTATION } from './workloads.js';

const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
/** The annotation `kubectl rollout history` shows as CHANGE-CAUSE. */
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';

// What `kubectl rollout undo` keeps from the deployment instead of taking from the ReplicaSet
// (kubectl's annotationsToSkip): the controller's own bookkeeping and kubectl apply's record.
const ANNOTATIONS_KEPT_FROM_DEPLOYMENT = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  REVISION_HISTORY_ANNOTATION,
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** One ReplicaSet of a deployment's history. */
export interface RevisionRecord {
  replicaSet: string;
  revision: number;
  /** Earlier revisions this ReplicaSet held (a rollback re-numbers the ReplicaSet it returns to). */
  earlierRevisions: number[];
  template?: V1PodTemplateSpec;
  annotations?: Record<string, string>;
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
      return [{ replicaSet: rs.metadata?.name ?? '', revision, earlierRevisions, template: rs.spec?.template, annotations }];
    })
    .sort((a, b) => a.revision - b.revision);
}

/** A release an earlier rollback took out of service. */
export interface RemovedRelease {
  /** The revision its ReplicaSet carries. */
  revision: number;
  replicaSet: string;
  /** The revision at which an older ReplicaSet came back and replaced it. */
  removedAt: number;
}

/**
 * The releases earlier rollbacks took out of service, read from the revision-history annotations.
 * A ReplicaSet with a revision-history came back into service (a rollback re-numbers the ReplicaSet it
 * returns to) at each revision it held after its first one; the controller numbers a new revision
 * one past the newest, so the release it replaced is the one that held the revision just before.
 * A release that itself came back later (it holds a revision past its removal) is not counted.
 */
export function releasesRemovedByRollbacks(history: RevisionRecord[]): RemovedRelease[] {
  const holder = new Map<number, RevisionRecord>();
  for (const record of history) for (const revision of [...record.earlierRevisions, record.revision]) holder.set(revision, record);
  const removed = new Map<string, RemovedRelease>();
  for (const record of history) {
    if (record.earlierRevisions.length === 0) continue;
    const returns = [...[...record.earlierRevisions].sort((a, b) => a - b).slice(1), record.revision];
    for (const at of returns) {
      const replaced = holder.get(at - 1);
      if (!replaced || replaced === record || replaced.revision > at) continue;
      const earlier = removed.get(replaced.replicaSet);
      if (!earlier || earlier.removedAt > at) removed.set(replaced.replicaSet, { revision: replaced.revision, replicaSet: replaced.replicaSet, removedAt: at });
    }
  }
  return [...removed.values()].sort((a, b) => a.revision - b.revision);
}

/** The revision a rollback goes to, and the releases it passed over because an earlier rollback removed them. */
export interface RollbackChoice {
  target: RevisionRecord;
  skipped: RemovedRelease[];
}

/**
 * The revision a rollback goes to. `toRevision` when given (also found under the revision-history of a
 * ReplicaSet a previous rollback re-numbered). Otherwise the newest earlier release, as
 * `kubectl rollout undo` chooses it, except that a release an earlier rollback took out of service is
 * never gone back to (kubectl would: after a first rollback, "the revision before" is the bad release
 * it removed); those are passed over and listed in `skipped`.
 */
export function chooseRollback(currentRevision: number | undefined, history: RevisionRecord[], toRevision?: number): RollbackChoice {
  const current = currentRevision ?? Math.max(0, ...history.map((h) => h.revision));
  if (toRevision !== undefined) {
    const exact = history.find((h) => h.revision === toRevision) ?? history.find((h) => h.earlierRevisions.includes(toRevision));
    if (!exact) {
      const known = history.map((h) => h.revision).join(', ') || 'none';
      throw new NothingToRollBack(`revision ${toRevision} is not in the deployment's history (revisions kept: ${known})`);
    }
    return { target: exact, skipped: [] };
  }
  const removed = new Map(releasesRemovedByRollbacks(history).map((r) => [r.replicaSet, r]));
  const earlier = history.filter((h) => h.revision < current);
  if (earlier.length === 0) throw new NothingToRollBack(`no revision earlier than the current one (${current}) is kept: nothing to roll back to`);
  const skipped: RemovedRelease[] = [];
  for (const candidate of [...earlier].reverse()) {
    const gone = removed.get(candidate.replicaSet);
    if (!gone) return { target: candidate, skipped };
    skipped.push(gone);
  }
  const listed = skipped.map((r) => `${r.revision} (removed by the rollback at revision ${r.removedAt})`).join(', ');
  throw new NothingToRollBack(
    `every revision earlier than the current one (${current}) is a release an earlier rollback took out of service: ${listed}; ` +
      `to go back to one of them anyway, start the rollback again with toRevision`,
  );
}

/** The record chooseRollback picks (see there). */
export function chooseRollbackTarget(currentRevision: number | undefined, history: RevisionRecord[], toRevision?: number): RevisionRecord {
  return chooseRollback(currentRevision, history, toRevision).target;
}

/**
 * The annotations `kubectl rollout undo` gives the deployment: the target ReplicaSet's (its
 * kubernetes.io/change-cause among them), except the controller's bookkeeping, kept from the deployment.
 */
export function rollbackAnnotations(deployment: Record<string, string> | undefined, replicaSet: Record<string, string> | undefined): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(deployment ?? {})) if (ANNOTATIONS_KEPT_FROM_DEPLOYMENT.has(key)) annotations[key] = value;
  for (const [key, value] of Object.entries(replicaSet ?? {})) if (!ANNOTATIONS_KEPT_FROM_DEPLOYMENT.has(key)) annotations[key] = value;
  return annotations;
}

function imagesOf(template: V1PodTemplateSpec | Record<string, unknown> | undefined): string[] {
  const spec = (template as { spec?: { containers?: { image?: string }[] } } | undefined)?.spec;
  return (spec?.containers ?? []).map((c) => c.image ?? '');
}

/** A label selector as the API's `labelSelector` query takes it (`app=api,tier in (web)`). */
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
  /** The ReplicaSet the rollback returns to: its rollout is the one CheckRollout waits for. */
  replicaSet: string;
  images: string[];
  /** false when the deployment already runs the target's template (e.g. a re-run after success). */
  changed: boolean;
}


export interface RollbackPlan {
  currentRevision: number | null;
  targetRevision: number;
  currentImages: string[];
  targetImages: string[];
  /** Earlier releases passed over because an earlier rollback took them out of service. */
  skippedRevisions: RemovedRelease[];
}

interface RollbackContext {
  deployment: V1Deployment;
  currentRevision: number | undefined;
  target: RevisionRecord;
  skipped: RemovedRelease[];
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
  return { deployment, currentRevision, ...chooseRollback(currentRevision, revisionHistory(owned), toRevision) };
}

/**
 * Read-only first look of a rollback: which revision `kubectl rollout undo` would go to. A state
 * machine records it once and passes it to rollbackDeployment, so a retried or redriven rollback
 * step cannot go one revision further back.
 * Calls GET apps/v1 deployments/<name> and LIST apps/v1 replicasets (the deployment's selector, paged).
 * Result: { currentRevision, targetRevision, currentImages, targetImages, skippedRevisions }. Throws
 * InvalidInput (bad `toRevision`), UnexpectedResourceState (paused deployment), NothingToRollBack (also
 * when every earlier release was removed by an earlier rollback), and the named Kubernetes errors.
 */
export async function planRollback(conn: KubernetesConnection, namespace: string, name: string, toRevision?: number): Promise<RollbackPlan> {
  const { deployment, currentRevision, target, skipped } = await resolveRollback(conn, namespace, name, toRevision);
  return {
    currentRevision: currentRevision ?? null,
    targetRevision: target.revision,
    currentImages: imagesOf(templateWithoutHash(deployment.spec?.template)),
    targetImages: imagesOf(templateWithoutHash(target.template)),
    skippedRevisions: skipped,
  };
}

/**
 * Rolls a deployment back like `kubectl rollout undo [--to-revision]`: the target ReplicaSet's pod template
 * replaces the deployment's (a JSON patch of /spec/template, so fields added since are removed too), and
 * so do its annotations (kubernetes.io/change-cause among them: otherwise the bad release's change-cause
 * stays on the deployment and the controller copies it onto the rolled-back ReplicaSet), the
 * controller's own bookkeeping annotations excepted. The controller then re-numbers that ReplicaSet as
 * the newest revision. Pass `toRevision` from a first look
 * (planRollback) when the step may run twice: without it, a second run would roll back one revision further.
 * Calls what planRollback calls, then PATCH apps/v1 deployments/<name> (JSON patch) unless the template
 * is already the target's. Result: { fromRevision, toRevision, images, changed }. Throws as planRollback.
 */
export async function rollbackDeployment(conn: KubernetesConnection, namespace: string, name: string, toRevision?: number): Promise<RollbackResult> {
  const { deployment, currentRevision, target } = await resolveRollback(conn, namespace, name, toRevision);
  const fromRevision = currentRevision ?? target.revision;
  const template = templateWithoutHash(target.template);
  const images = imagesOf(template);

  const replicaSet = target.replicaSet;

  if (canonical(template) === canonical(templateWithoutHash(deployment.spec?.template))) {
    return { fromRevision, toRevision: target.revision, replicaSet, images, changed: false };
  }
  const annotations = rollbackAnnotations(deployment.metadata?.annotations, target.annotations);
  await send(conn, { verb: 'patch', resource: 'deployments', group: 'apps', namespace, name }, () =>
    conn.apps.patchNamespacedDeployment(
      {
        name,
        namespace,
        body: [
          { op: 'replace', path: '/spec/template', value: template },
          // `add` sets the member whether or not the deployment has annotations yet.
          { op: 'add', path: '/metadata/annotations', value: annotations },
        ],
      },
      requestOptions(conn, { contentType: PatchStrategy.JsonPatch }),
    ),
  );
  return { fromRevision, toRevision: target.revision, replicaSet, images, changed: true };
}
