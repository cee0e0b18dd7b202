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
    const snapshot = snapshots.find((s) => s.id === facts.requestedSnapshot || s.arn === facts.requestedSnapshot);
    if (!snapshot) {
      throw new ResourceNotFound(
        `snapshot ${facts.requestedSnapshot} is not an available snapshot of ${facts.database} (available: ${snapshots.slice(0, 5).map((s) => s.id).join(', ') || 'none'})`,
      );
    }
    const after = snapshot.createdAt > incidentAt ? ' It was taken after the incident time: check it predates the damage.' : '';
    return { kind: 'snapshot', snapshot, reason: `snapshot ${snapshot.id} named in the input.${after}`, rejected: [], dataLossMinutes: lossMinutes(snapshot.createdAt, incidentAt) };
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
