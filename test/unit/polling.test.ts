// How long a wait loop sleeps before its next look (shared/polling.ts): the first wait runs to the
// earliest moment the resource can be ready and no further, later waits are short polls, and no wait
// ends past the loop's limit. The loop itself is simulated too: whenever the resource becomes ready
// (never before its lower bound), the look that sees it comes less than 15 s later.
import { InvalidInput } from '../../shared/errors.js';
import { DEFAULT_POLL_SECONDS, MAX_OVERSHOOT_SECONDS, MAX_POLL_SECONDS, nextCheckSeconds, RDS_RESTORE_EARLIEST_SECONDS, ROLLOUT_POLL_SECONDS, secondsBetween } from '../../shared/polling.js';

describe('nextCheckSeconds', () => {
  it('runs the first wait to the lower bound and no further, whenever the first look comes', () => {
    for (const elapsed of [0, 0.4, 1, 7.5, 60, 179, 179.6]) {
      const wait = nextCheckSeconds({ elapsedSeconds: elapsed, expectedSeconds: RDS_RESTORE_EARLIEST_SECONDS });
      // Never sleeps past the earliest moment by a whole second (Step Functions waits whole seconds)...
      expect(elapsed + wait).toBeGreaterThanOrEqual(RDS_RESTORE_EARLIEST_SECONDS);
      expect(elapsed + wait).toBeLessThan(RDS_RESTORE_EARLIEST_SECONDS + 1);
      // ...and is never longer than the lower bound itself.
      expect(wait).toBeLessThanOrEqual(RDS_RESTORE_EARLIEST_SECONDS);
    }
    expect(nextCheckSeconds({ elapsedSeconds: 0, expectedSeconds: 180 })).toBe(180);
    expect(nextCheckSeconds({ elapsedSeconds: 4.2, expectedSeconds: 180 })).toBe(176);
  });

  it('polls every pollSeconds (10 s by default) once the lower bound has passed, never more than 15 s', () => {
    for (const elapsed of [180, 180.1, 600, 5_000]) {
      expect(nextCheckSeconds({ elapsedSeconds: elapsed, expectedSeconds: 180 })).toBe(DEFAULT_POLL_SECONDS);
      expect(nextCheckSeconds({ elapsedSeconds: elapsed, expectedSeconds: 180, pollSeconds: ROLLOUT_POLL_SECONDS })).toBe(ROLLOUT_POLL_SECONDS);
      expect(nextCheckSeconds({ elapsedSeconds: elapsed, expectedSeconds: 180, pollSeconds: MAX_POLL_SECONDS })).toBeLessThanOrEqual(15);
    }
    // Without a lower bound (a DNS change can be INSYNC within seconds) the loop polls from the start.
    expect(nextCheckSeconds({ elapsedSeconds: 0, expectedSeconds: 0 })).toBe(10);
  });

  it('never sleeps past the limit: a wait ends at it, or 1 s later at most when it is less than a second away', () => {
    const timeoutSeconds = 90 * 60;
    for (const elapsed of [0, 100, 5_000, 5_390, 5_391.5, 5_395, 5_398.2, 5_399, 5_399.7]) {
      const wait = nextCheckSeconds({ elapsedSeconds: elapsed, expectedSeconds: 180, timeoutSeconds });
      expect(wait).toBeGreaterThanOrEqual(1);
      if (timeoutSeconds - elapsed >= 1) expect(elapsed + wait).toBeLessThanOrEqual(timeoutSeconds);
      else expect(wait).toBe(1);
    }
    expect(nextCheckSeconds({ elapsedSeconds: 5_395, expectedSeconds: 180, timeoutSeconds })).toBe(5);
    // A limit shorter than the lower bound: the first wait stops at the limit.
    expect(nextCheckSeconds({ elapsedSeconds: 0, expectedSeconds: 180, timeoutSeconds: 60 })).toBe(60);
  });

  it('counts a negative elapsed time (clocks apart) as none', () => {
    expect(nextCheckSeconds({ elapsedSeconds: -3, expectedSeconds: 180 })).toBe(180);
    expect(nextCheckSeconds({ elapsedSeconds: -3, expectedSeconds: 0 })).toBe(10);
  });

  it.each([
    ['an elapsed time that is not a number', { elapsedSeconds: Number.NaN, expectedSeconds: 180 }, 'elapsedSeconds: got NaN; expected a number of seconds'],
    ['an infinite lower bound', { elapsedSeconds: 0, expectedSeconds: Number.POSITIVE_INFINITY }, 'expectedSeconds: got Infinity; expected a number of seconds'],
    ['a negative lower bound', { elapsedSeconds: 0, expectedSeconds: -1 }, 'expectedSeconds: got -1; expected 0 or more'],
    ['a 30 s poll', { elapsedSeconds: 0, expectedSeconds: 0, pollSeconds: 30 }, 'pollSeconds: got 30; expected 1 to 15 s (a longer poll sees the resource ready more than 15 s late)'],
    ['a poll under a second', { elapsedSeconds: 0, expectedSeconds: 0, pollSeconds: 0.5 }, 'pollSeconds: got 0.5; expected 1 to 15 s'],
    ['a limit that is not a number', { elapsedSeconds: 0, expectedSeconds: 0, timeoutSeconds: Number.NaN }, 'timeoutSeconds: got NaN; expected a number of seconds'],
  ])('refuses %s, naming the field and the value', (_case, plan, message) => {
    expect(() => nextCheckSeconds(plan)).toThrow(InvalidInput);
    expect(() => nextCheckSeconds(plan)).toThrow(message);
  });

  /**
   * The loop as the state machine runs it: a look at `start`, then Wait (what the look said) and look
   * again, each look taking `lookSeconds`, until one sees the resource ready. Returns when that look
   * came and how many looks there were.
   */
  function simulate(readyAt: number, plan: { expectedSeconds: number; pollSeconds?: number; timeoutSeconds?: number }, lookSeconds: number) {
    let now = 0;
    let looks = 0;
    for (;;) {
      looks += 1;
      now += lookSeconds;
      if (now >= readyAt) return { seenAt: now, looks };
      if (plan.timeoutSeconds !== undefined && now > plan.timeoutSeconds) return { seenAt: Number.POSITIVE_INFINITY, looks };
      now += nextCheckSeconds({ elapsedSeconds: now, ...plan });
    }
  }

  it(`sees a resource ready at any moment after its lower bound less than ${MAX_OVERSHOOT_SECONDS} s late`, () => {
    // A restore ready 3 min to 1 h after it started, every 11.3 s; a look (one Describe call and a Lambda start) up to 2 s.
    let restoreLate = 0;
    for (let readyAt = RDS_RESTORE_EARLIEST_SECONDS; readyAt <= 3_600; readyAt += 11.3) {
      for (const lookSeconds of [0.05, 0.8, 2]) {
        const { seenAt } = simulate(readyAt, { expectedSeconds: RDS_RESTORE_EARLIEST_SECONDS, timeoutSeconds: 3 * 3_600 }, lookSeconds);
        restoreLate = Math.max(restoreLate, seenAt - readyAt);
      }
    }
    expect(restoreLate).toBeLessThan(MAX_OVERSHOOT_SECONDS);
    expect(restoreLate).toBeGreaterThan(DEFAULT_POLL_SECONDS);
    // A rollout ready 0.5 to 120 s after the change, polled every 5 s, each look 1 s.
    let rolloutLate = 0;
    for (let readyAt = 0.5; readyAt <= 120; readyAt += 0.7) {
      const { seenAt } = simulate(readyAt, { expectedSeconds: 0, pollSeconds: ROLLOUT_POLL_SECONDS, timeoutSeconds: 300 }, 1);
      rolloutLate = Math.max(rolloutLate, seenAt - readyAt);
    }
    expect(rolloutLate).toBeLessThanOrEqual(ROLLOUT_POLL_SECONDS + 1 + 1e-9);
  });

  it('sees a restore that is ready exactly at its lower bound at once: the first wait does not overshoot', () => {
    const { seenAt, looks } = simulate(RDS_RESTORE_EARLIEST_SECONDS, { expectedSeconds: RDS_RESTORE_EARLIEST_SECONDS }, 0.5);

    expect(looks).toBe(2);
    expect(seenAt - RDS_RESTORE_EARLIEST_SECONDS).toBeLessThan(1 + 0.5);
  });

  it('costs about one look per 10 s after the first wait: a 30-minute restore takes about 164 looks', () => {
    const { looks } = simulate(30 * 60, { expectedSeconds: RDS_RESTORE_EARLIEST_SECONDS }, 0.3);

    // (1800 - 180) s of 10-s polls (each with its 0.3-s look), plus the look at once and the one at 3 min.
    expect(looks).toBeGreaterThanOrEqual(155);
    expect(looks).toBeLessThanOrEqual(165);
  });
});

describe('secondsBetween', () => {
  it('gives seconds between two ISO times, negative when the second is earlier', () => {
    expect(secondsBetween('2026-11-30T10:00:00.000Z', '2026-11-30T10:03:00.500Z')).toBe(180.5);
    expect(secondsBetween(new Date('2026-11-30T10:00:10.000Z'), '2026-11-30T10:00:00.000Z')).toBe(-10);
  });
});
