// The progress deadline of a rollout the deployment controller does not time itself. Kubernetes marks a
// rollout ProgressDeadlineExceeded only while it estimates progress, and it estimates none once a
// rollout has finished (Progressing condition NewReplicaSetAvailable): a deployment whose new template
// was applied at 0 replicas (the failover's pilot light) finished that rollout at once, and scaling it
// up afterwards is never timed, however long its pods stay unready. The same holds while the condition
// is a deadline an earlier rollout exceeded (kept until this rollout makes progress). For those, the
// look applies spec.progressDeadlineSeconds itself, from what the state machine carries between looks.
import { InvalidInput, RolloutFailed } from '../errors.js';
import type { RolloutStatus } from './workloads.js';

/**
 * What one look at a rollout hands to the next (the state machine keeps it between looks): when the
 * change being waited for was made, and the progress seen since. Plain JSON, no secrets.
 */
export interface RolloutProgress {
  /** When the change being waited for was made (the scale, the rollback), ISO time: the clock starts there. */
  startedAt: string;
  /** What that change was, for the message (e.g. "the scale-up (ScaleApiOnBackup)"). */
  change?: string;
  /** When a look last saw a new ready or available replica, ISO time; null: none since `startedAt`. */
  lastProgressAt: string | null;
  /** The most replicas seen ready since `startedAt`; null before the first look. */
  readyReplicas: number | null;
  /** The most replicas seen available since `startedAt`; null before the first look. */
  availableReplicas: number | null;
}

/** A clock started at `startedAt` (ISO), with nothing looked at yet. */
export function startProgress(startedAt: string, change?: string): RolloutProgress {
  return { startedAt, ...(change ? { change } : {}), lastProgressAt: null, readyReplicas: null, availableReplicas: null };
}

function timeOf(value: string, field: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidInput(`progress.${field}: got ${JSON.stringify(value)}; expected an ISO 8601 time`);
  return ms;
}

function count(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new InvalidInput(`progress.${field}: got ${JSON.stringify(value)}; expected a whole number >= 0 or null`);
  return value;
}

/** Seconds for a message: one decimal below a minute (a 2 s deadline passed after 2.1 s reads so), whole above. */
function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return seconds < 60 ? String(Math.round(seconds * 10) / 10) : String(Math.round(seconds));
}

/** Why Kubernetes will not flag this rollout, in words for the on-call engineer. */
function whyKubernetesDoesNot(status: RolloutStatus): string {
  if (status.progressingReason === 'NewReplicaSetAvailable') {
    return 'Kubernetes does not flag this itself: its Progressing condition still reads NewReplicaSetAvailable from the rollout that finished before the scale-up, and the deployment controller does not time a scale-up of a finished rollout';
  }
  if (status.progressingReason === 'ProgressDeadlineExceeded') {
    return 'Kubernetes does not flag this itself: its Progressing condition is the deadline an earlier rollout exceeded, which the controller keeps until this rollout makes progress';
  }
  return 'Kubernetes does not flag this itself: the deployment has no Progressing condition';
}

/**
 * Takes one look's counts into the progress record and judges the deadline Kubernetes does not.
 * Progress = more replicas ready or available than any earlier look since `startedAt` saw (a replica
 * that was ready, failed and is ready again is not new); it restarts the clock at the look that saw
 * it. A first look (counts still null) that finds replicas ready cannot tell when they became ready:
 * that counts as progress at this look (the deadline may end up to one look late, never early); one
 * that finds none ready knows none became ready since `startedAt`.
 *
 * Throws RolloutFailed when the rollout is not done, Kubernetes does not time it
 * (`status.timedByKubernetes` false), the deployment has a progress deadline, and no look has seen
 * progress for longer than that deadline since `startedAt` or the last progress. Otherwise returns the
 * record for the next look. Pure: the same record, look and time give the same answer (a retried look
 * decides as the first attempt did).
 */
export function judgeProgress(namespace: string, name: string, status: RolloutStatus, previous: RolloutProgress, now: Date): RolloutProgress {
  const startedAt = timeOf(previous.startedAt, 'startedAt');
  const lastProgressAt = previous.lastProgressAt === null || previous.lastProgressAt === undefined ? null : timeOf(previous.lastProgressAt, 'lastProgressAt');
  const seenReady = count(previous.readyReplicas, 'readyReplicas');
  const seenAvailable = count(previous.availableReplicas, 'availableReplicas');

  const progressed =
    seenReady === null || seenAvailable === null
      ? status.readyReplicas > 0 || status.availableReplicas > 0
      : status.readyReplicas > seenReady || status.availableReplicas > seenAvailable;
  const next: RolloutProgress = {
    startedAt: previous.startedAt,
    ...(previous.change ? { change: previous.change } : {}),
    lastProgressAt: progressed ? now.toISOString() : previous.lastProgressAt ?? null,
    readyReplicas: Math.max(seenReady ?? 0, status.readyReplicas),
    availableReplicas: Math.max(seenAvailable ?? 0, status.availableReplicas),
  };
  const deadline = status.progressDeadlineSeconds;
  if (status.done || status.timedByKubernetes || deadline === null || progressed) return next;

  const clock = lastProgressAt ?? startedAt;
  const stalledMs = now.getTime() - clock;
  // As the controller does: exceeded once strictly more than the deadline has passed.
  if (stalledMs <= deadline * 1000) return next;

  const change = previous.change ?? 'the change being waited for';
  const since =
    lastProgressAt === null
      ? `since ${change} at ${previous.startedAt}`
      : `since ${previous.lastProgressAt} (the last one a look saw; ${change} was at ${previous.startedAt})`;
  throw new RolloutFailed(
    `deployment ${namespace}/${name} exceeded its progress deadline: ${status.readyReplicas} of ${status.desiredReplicas} replicas ready ` +
      `(${status.availableReplicas} available), no new ready replica ${since}, ${formatSeconds(stalledMs)} s without progress ` +
      `against spec.progressDeadlineSeconds ${deadline}. ${whyKubernetesDoesNot(status)}, so frontier-dr applied the deadline. ` +
      `Find out why its new pods are not Ready (image, readiness probe, room to schedule).`,
  );
}

/** A few words on the clock frontier-dr runs for a rollout Kubernetes does not time, for a look's detail; undefined when there is none. */
export function describeProgressClock(status: RolloutStatus, progress: RolloutProgress, now: Date): string | undefined {
  if (status.done || status.timedByKubernetes || status.progressDeadlineSeconds === null) return undefined;
  const clock = Date.parse(progress.lastProgressAt ?? progress.startedAt);
  const seconds = Math.max(0, Math.round((now.getTime() - clock) / 1000));
  return `frontier-dr times its progress deadline (Kubernetes does not): ${status.readyReplicas} of ${status.desiredReplicas} ready, no new ready replica for ${seconds} s of ${status.progressDeadlineSeconds} s`;
}
