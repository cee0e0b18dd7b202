// Which point to restore a damaged database to: the latest one that is still clean. Pure: every fact
// comes in as an argument, so the choice (and why newer candidates were refused) is easy to test and
// is written into the report as it was made.
import type { SnapshotSummary } from './backups.js';
import { InvalidInput, ResourceNotFound } from './errors.js';
import { minutesBetween } from './objectives.js';

export interface RestoreWindow {
  earliest: string;
  latest: string;
}

export interface RestorePointFacts {
  database: string;
  incidentAt: string;
  safetyMarginMinutes: number;
  requestedSnapshot: string | null;
  requestedTime: string | null;
  /** Point-in-time restore window of the automated backups; null when they are off. */
  window: RestoreWindow | null;
  /** Usable snapshots of the database, newest first (backups.ts listUsableSnapshots). */
  snapshots: SnapshotSummary[];
  /**
   * The snapshot `requestedSnapshot` names, as looked up by that id or ARN (backups.ts
   * findNamedSnapshot): it need not carry the prefix nor belong to this account. Without it the
   * named snapshot is searched among `snapshots`.
   */
  namedSnapshot?: SnapshotSummary | null;
  /** The source instance as assessed: automatic choice never changes its encryption or major version. */
  source?: SourceFacts;
}

export interface SourceFacts {
  instance: string;
  encrypted: boolean;
  kmsKeyId: string | null;
  engineVersion: string | null;
}

interface Common {
  /** Why this point, in one sentence for the report. */
  reason: string;
  /** Newer candidates that were not used, each with why. */
  rejected: string[];
  /** Minutes of writes before the incident that the restored database will not have. */
  dataLossMinutes: number;
}

export type RestorePoint = ({ kind: 'point-in-time'; time: string } | { kind: 'snapshot'; snapshot: SnapshotSummary }) & Common;

/** The moment the restored data will reflect. */
export function restorePointTime(point: RestorePoint): string {
  return point.kind === 'point-in-time' ? point.time : point.snapshot.createdAt;
}

/** `point in time <time>` or `snapshot <id> (taken <time>)`, for reports and the drill. */
export function describeRestorePoint(point: RestorePoint): string {
  return point.kind === 'point-in-time' ? `point in time ${point.time}` : `snapshot ${point.snapshot.id} (taken ${point.snapshot.createdAt})`;
}

function lossMinutes(pointIso: string, incidentAt: string): number {
  return Math.max(0, Math.round(minutesBetween(pointIso, incidentAt) * 10) / 10);
}

function inWindow(time: string, window: RestoreWindow): boolean {
  return time >= window.earliest && time <= window.latest;
}

/**
 * The major version of an engine version string: `16` of `16.4`, `9.6` of `9.6.22` (PostgreSQL
 * before 10 numbered majors with two parts). A restore keeps the snapshot's version, and a different
 * major fits neither the source's parameter group family nor the application.
 */
export function engineMajor(version: string): string {
  const [first = '', second] = version.split('.');
  return Number(first) < 10 && second !== undefined ? `${first}.${second}` : first;
}

/**
 * Why this snapshot would restore something other than the source, or null: an unencrypted instance
 * from an encrypted source, or another engine major version. Unknown facts are not held against it.
 */
export function snapshotMismatch(snapshot: SnapshotSummary, source: SourceFacts | undefined): string | null {
  if (!source) return null;
  const problems: string[] = [];
  if (source.encrypted && !snapshot.encrypted) problems.push(`it is unencrypted and would restore an unencrypted instance from encrypted ${source.instance}`);
  if (source.engineVersion && snapshot.engineVersion && engineMajor(source.engineVersion) !== engineMajor(snapshot.engineVersion)) {
    problems.push(`its engine version ${snapshot.engineVersion} is another major version than ${source.instance}'s ${source.engineVersion}`);
  }
  return problems.length ? problems.join(', and ') : null;
}

/** Every time as UTC with milliseconds, so that comparing the strings compares the instants. */
function normalised(facts: RestorePointFacts): RestorePointFacts {
  const iso = (time: string) => new Date(time).toISOString();
  return {
    ...facts,
    incidentAt: iso(facts.incidentAt),
    requestedTime: facts.requestedTime ? iso(facts.requestedTime) : null,
    window: facts.window ? { earliest: iso(facts.window.earliest), latest: iso(facts.window.latest) } : null,
    snapshots: facts.snapshots.map((s) => ({ ...s, createdAt: iso(s.createdAt) })),
  };
}

export function chooseRestorePoint(given: RestorePointFacts): RestorePoint {
  const facts = normalised(given);
  const { incidentAt, window, snapshots } = facts;

  if (facts.requestedSnapshot) {
    const requested = facts.requestedSnapshot;
    const snapshot = facts.namedSnapshot ?? snapshots.find((s) => s.id === requested || s.arn === requested);
    if (!snapshot) {
      throw new ResourceNotFound(
        `snapshot ${requested} is not an available snapshot of ${facts.database} (available: ${snapshots.slice(0, 5).map((s) => s.id).join(', ') || 'none'})`,
      );
    }
    // The operator's choice stands, but the report says what it changes.
    const warnings = [
      snapshot.createdAt > incidentAt ? ' It was taken after the incident time: check it predates the damage.' : '',
      snapshot.sourceInstance !== facts.database ? ` It is a snapshot of ${snapshot.sourceInstance}, not of ${facts.database}.` : '',
      (() => {
        const mismatch = snapshotMismatch(snapshot, facts.source);
        return mismatch ? ` Automatic choice would not have used it: ${mismatch}.` : '';
      })(),
    ].join('');
    return { kind: 'snapshot', snapshot, reason: `snapshot ${snapshot.id} named in the input.${warnings}`, rejected: [], dataLossMinutes: lossMinutes(snapshot.createdAt, incidentAt) };
  }

  if (facts.requestedTime) {
    if (!window) throw new InvalidInput(`incidentTime/restore time ${facts.requestedTime} needs point-in-time recovery, which is off for ${facts.database}`);
    if (!inWindow(facts.requestedTime, window)) {
      throw new InvalidInput(`restore time ${facts.requestedTime} is outside ${facts.database}'s restorable window ${window.earliest} .. ${window.latest}`);
    }
    return { kind: 'point-in-time', time: facts.requestedTime, reason: `point in time ${facts.requestedTime} named in the input.`, rejected: [], dataLossMinutes: lossMinutes(facts.requestedTime, incidentAt) };
  }

  const rejected: string[] = [];
  const target = new Date(Date.parse(incidentAt) - facts.safetyMarginMinutes * 60_000).toISOString();
  if (!window) {
    rejected.push('point in time: automated backups are off (backup retention 0)');
  } else if (target < window.earliest) {
    rejected.push(`point in time: ${target} is before the earliest restorable time ${window.earliest}`);
  } else if (inWindow(target, window)) {
    return {
      kind: 'point-in-time',
      time: target,
      reason: `point in time ${facts.safetyMarginMinutes} min before the incident (${incidentAt}), within the restorable window.`,
      rejected,
      dataLossMinutes: lossMinutes(target, incidentAt),
    };
  } else {
    // Transaction logs reach S3 about every 5 minutes: the newest restorable time can trail the
    // target. It is still before the incident and newer than any snapshot.
    return {
      kind: 'point-in-time',
      time: window.latest,
      reason: `latest restorable time ${window.latest}: transaction logs up to ${target} (incident minus ${facts.safetyMarginMinutes} min) have not reached the backups yet.`,
      rejected: [`point in time: ${target} is after the latest restorable time ${window.latest}`],
      dataLossMinutes: lossMinutes(window.latest, incidentAt),
    };
  }

  for (const snapshot of snapshots) {
    if (snapshot.createdAt >= incidentAt) {
      rejected.push(`snapshot ${snapshot.id} (${snapshot.createdAt}): taken at or after the incident, it may contain the damage`);
      continue;
    }
    const mismatch = snapshotMismatch(snapshot, facts.source);
    if (mismatch) {
      rejected.push(`snapshot ${snapshot.id} (${snapshot.createdAt}): ${mismatch} (name it in the input to use it anyway)`);
      continue;
    }
    return {
      kind: 'snapshot',
      snapshot,
      reason: `newest usable snapshot taken before the incident (${incidentAt}).`,
      rejected,
      dataLossMinutes: lossMinutes(snapshot.createdAt, incidentAt),
    };
  }
  throw new ResourceNotFound(`no clean restore point for ${facts.database}: ${rejected.join('; ') || 'no usable snapshot'}`);
}
