// How long a state machine's wait loop sleeps before its next look (DESIGN principle 12: recovery time
// is a feature). Every loop is Look -> Choice -> Wait (SecondsPath: the look's `nextCheckSeconds`) ->
// Look: the first look comes at once, the first wait runs to the earliest moment the resource can be
// ready (a lower bound, so it never sleeps past readiness), and after that the loop polls every few
// seconds, never sleeping past the loop's own limit. The resource is then seen ready at most one poll
// and one look after it became so: under 15 s. Waiting costs state transitions, not Lambda time: a
// poll is Wait + Task + Choice (3 transitions, 4 with a rollout's progress record), a fraction of a
// cent (README "Waits").
import { InvalidInput } from './errors.js';

/** The most a loop may see its resource ready late: one poll plus one look (DESIGN principle 12). */
export const MAX_OVERSHOOT_SECONDS = 15;

/** The longest poll a loop may use: a wait of more than this could not keep the overshoot bound. */
export const MAX_POLL_SECONDS = 15;

/**
 * The poll of the AWS loops (an RDS restore, a Route 53 change): 10 s, which leaves a look (one
 * Describe/Get call, a Lambda start included) 5 s within the 15 s overshoot bound.
 */
export const DEFAULT_POLL_SECONDS = 10;

/**
 * A rollout's poll: 5 s. Its pods become Ready one by one within seconds (the readiness probe of the
 * production manifests runs every 5 s) while the API serves nothing or too little, and a look is one
 * GET of the deployment.
 */
export const ROLLOUT_POLL_SECONDS = 5;

/**
 * The earliest an RDS restore to a new instance (from a snapshot or to a point in time) can be
 * `available`, seconds after the restore call: 3 minutes. AWS publishes no restore duration; this is
 * a floor, not an estimate. RDS first provisions a new host, creates the volumes from the snapshot and
 * starts the engine (a point-in-time restore then replays the transaction logs up to its time), and
 * reports `available` only after that; the restored volumes load their blocks lazily afterwards
 * (why PrewarmDatabase exists), so the time to `available` does not grow with the allocated storage
 * and the floor is the same for every size. A restore faster than the floor would be seen late by
 * the difference; the restore test's report (its measured RTO) is where to check it.
 */
export const RDS_RESTORE_EARLIEST_SECONDS = 180;

/**
 * A secret rotation started now (RotateSecret): Secrets Manager invokes the rotation function at once
 * and its four steps take a few seconds (two database logins, a few Secrets Manager calls), so the
 * first wait runs to 5 s after the start and the loop then looks every 5 s: a look is one
 * DescribeSecret, and the credentials the run waits for are what the incident is about.
 */
export const ROTATION_EARLIEST_SECONDS = 5;
export const ROTATION_POLL_SECONDS = 5;

export interface PollPlan {
  /** Seconds since the change the loop waits on was made (restore started, scale, DNS change submitted). */
  elapsedSeconds: number;
  /**
   * A lower bound: the resource cannot be ready sooner than this many seconds after the change (0 when
   * it may be ready at once). The first wait runs to it, so it never overshoots.
   */
  expectedSeconds: number;
  /** Seconds between looks once that moment has passed: 1 to 15 (DEFAULT_POLL_SECONDS when omitted). */
  pollSeconds?: number;
  /** The loop's limit, seconds after the change: no wait ends past it (the look then fails the loop). */
  timeoutSeconds?: number;
}

function finite(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidInput(`${field}: got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}; expected a number of seconds`);
  return value;
}

/**
 * Whole seconds the loop's Wait state sleeps before the next look (its SecondsPath value), at least 1:
 * until `expectedSeconds` while that moment is ahead, else `pollSeconds`; never past `timeoutSeconds`
 * (a limit less than a second ahead gives 1 s, Step Functions' smallest wait). An elapsed time below 0
 * (clocks apart) counts as 0. Pure. Throws InvalidInput for a value that is not a finite number, a poll
 * outside 1..15 s, or a negative lower bound.
 */
export function nextCheckSeconds(plan: PollPlan): number {
  const poll = finite(plan.pollSeconds ?? DEFAULT_POLL_SECONDS, 'pollSeconds');
  if (poll < 1 || poll > MAX_POLL_SECONDS) throw new InvalidInput(`pollSeconds: got ${poll}; expected 1 to ${MAX_POLL_SECONDS} s (a longer poll sees the resource ready more than ${MAX_OVERSHOOT_SECONDS} s late)`);
  const expected = finite(plan.expectedSeconds, 'expectedSeconds');
  if (expected < 0) throw new InvalidInput(`expectedSeconds: got ${expected}; expected 0 or more`);
  const elapsed = Math.max(0, finite(plan.elapsedSeconds, 'elapsedSeconds'));

  const untilExpected = expected - elapsed;
  let wait = untilExpected > 0 ? Math.ceil(untilExpected) : Math.round(poll);
  if (plan.timeoutSeconds !== undefined) {
    const untilLimit = finite(plan.timeoutSeconds, 'timeoutSeconds') - elapsed;
    wait = Math.min(wait, Math.floor(untilLimit));
  }
  return Math.max(1, wait);
}

/** Seconds from `from` to `to` (ISO times or Dates); negative when `to` is earlier. */
export function secondsBetween(from: Date | string, to: Date | string): number {
  return (new Date(to).getTime() - new Date(from).getTime()) / 1000;
}
