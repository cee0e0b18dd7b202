// The recovery-time model: how long each state machine takes to recover, in AWS, under stated durations
// of the AWS operations it waits for, against the plan's manual runbook for the same scenario.
//
// The state machine side walks the real definition (statemachines/<name>.asl.yaml, loaded as the local
// runner loads it, the approval fragment already pasted in) on a modelled clock:
//   - a Task is one Lambda invocation (ASSUMPTIONS.lambdaInvocation, or its own figure in TASK_SECONDS);
//     a callback Task (the approval) also waits for the approvers' answer when the config's policy asks;
//   - a Task that starts an AWS operation (a restore, a snapshot, a rollout, a DNS change, a rotation:
//     STARTED_BY) starts its clock; the operation is done ASSUMPTIONS-many seconds later;
//   - a wait loop (look -> Choice -> Wait -> look) runs on its real schedule: the look's function sizes
//     each Wait with shared/polling.ts `nextCheckSeconds` from the same lower bound and poll as the
//     deployed function (LOOKS), and the loop leaves at the first look that comes after the operation
//     is done: the difference is the loop's overshoot;
//   - a Parallel lasts as long as its longest branch; a Map runs its items `MaxConcurrency` at a time
//     (items from the run's own context: StartRun's planRun on the example input);
//   - a Choice takes the alternative that makes the run longest and still ends in success (Catch
//     edges and Fail states are failures, not the recovery): the critical path in the project-planning
//     sense, an upper bound for a run that does every optional step (approval asked, outage confirmed
//     by the alarm, control-plane DNS, the patched image rolled out...).
// The manual side adds the plan's shell steps one after another (MANUAL_RUNBOOKS): an operator's time
// per command, and the same operation durations, waited on as a person would with the AWS CLI's waiters
// (which look every 30 s) or `kubectl rollout status` (which watches).
//
// Used by `npm run bench` (scripts/bench.ts, `--only recovery-time-model` alone); tested in
// test/unit/recovery-time-model.test.ts. Never imported by deployed code.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeploymentConfig } from '../shared/config.js';
import {
  DEFAULT_POLL_SECONDS,
  nextCheckSeconds,
  RDS_RESTORE_EARLIEST_SECONDS,
  ROLLOUT_POLL_SECONDS,
  ROTATION_EARLIEST_SECONDS,
  ROTATION_POLL_SECONDS,
} from '../shared/polling.js';
import { planWriteFreeze, progressPollSeconds } from '../shared/region-failback.js';
import { planRun } from '../shared/run.js';
import { loadDefinition, type DefinitionSource } from '../local/local-state-machine.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------------
// Assumptions: every duration the model uses, in one place, each with where it comes from.

export interface Assumption {
  /** What takes this long. */
  what: string;
  seconds: number;
  source: string;
}

export const ASSUMPTIONS = {
  lambdaInvocation: {
    what: 'a Task state: one Lambda invocation, its start included, making its AWS or Kubernetes calls',
    seconds: 1,
    source: 'assumption; npm run bench measures the module init (tens to a few hundred ms in a fresh node), and a step makes one to a few AWS calls; Step Functions adds tens of ms per transition',
  },
  rdsRestore: {
    what: 'RDS restore to a new instance (snapshot or point in time) until `available`',
    seconds: 20 * 60,
    source: 'assumption (a common planning figure for a 100-GiB instance); AWS publishes no restore duration; shared/polling.ts floors the first wait at 3 min',
  },
  rdsSnapshotFull: {
    what: 'RDS snapshot of the 100-GiB recovery instance, the first (full) one',
    seconds: 10 * 60,
    source: 'assumption; a first snapshot copies every allocated block (RDS User Guide, "Creating a DB snapshot"); region-failback plans it at 1.5 s/GiB at the earliest',
  },
  rdsSnapshotIncremental: {
    what: 'RDS snapshot after an earlier one of the same instance (incremental)',
    seconds: 60,
    source: 'assumption; later snapshots hold only the changed blocks (RDS User Guide); region-failback floors it at 15 s',
  },
  snapshotCopyFull: {
    what: 'cross-region copy of that full snapshot',
    seconds: 20 * 60,
    source: 'assumption; time grows with size and distance (RDS User Guide, "Copying a DB snapshot"); region-failback plans it at 3 s/GiB at the earliest',
  },
  snapshotCopyIncremental: {
    what: 'cross-region copy of an incremental snapshot (an earlier copy with the same key is there)',
    seconds: 3 * 60,
    source: 'assumption; incremental cross-region copies carry the changed blocks only (RDS User Guide); region-failback floors it at 30 s',
  },
  allocatedStorageGiB: {
    what: 'allocated storage of the instance a failback moves (GiB; sizes the failback\'s first waits)',
    seconds: 100,
    source: 'assumption (not seconds: GiB); shared/region-failback.ts planWriteFreeze sizes the first waits from it',
  },
  dnsInsync: {
    what: 'Route 53 change until `INSYNC`',
    seconds: 60,
    source: 'Route 53 API Reference, ChangeResourceRecordSets: changes generally propagate to all Route 53 name servers within 60 seconds',
  },
  rollout: {
    what: 'Kubernetes rollout of the API on nodes that are there (pull, start, readiness probe, minReadySeconds)',
    seconds: 2 * 60,
    source: 'assumption (a common planning figure); kubectl rollout status in the plan\'s rollback script allows 300 s',
  },
  nodeJoin: {
    what: 'nodes joining the standby cluster before the scaled-up API can run there (EC2 launch, kubelet Ready)',
    seconds: 3 * 60,
    source: 'assumption; EKS managed node groups add a node in 2-4 min; added to the first rollout after manifests are applied to the standby cluster',
  },
  rolloutEarliest: {
    what: 'earliest a rollout can complete after the change: readiness probe initialDelaySeconds + minReadySeconds',
    seconds: 5,
    source: 'the example manifests (README, "Waits and what they cost"); checkRollout reads it from the deployment',
  },
  secretRotation: {
    what: 'a secret rotation started now (the rotation function\'s four steps) until the new version is AWSCURRENT',
    seconds: 10,
    source: 'assumption; two database logins and a few Secrets Manager calls (shared/polling.ts ROTATION_EARLIEST_SECONDS 5 s is its floor)',
  },
  approvalAnswer: {
    what: 'the approvers read the request and answer (when the config\'s approval policy asks)',
    seconds: 5 * 60,
    source: 'assumption; bounded by approvals.<scenario>.timeoutMinutes (30 and 15 min in the example)',
  },
  operatorCommand: {
    what: 'an operator runs one runbook command: reads the step, fills in the values, runs it, reads the answer',
    seconds: 60,
    source: 'assumption; the plan times its phases in minutes (e.g. "Immediate Isolation (0-2 minutes)" for two commands)',
  },
  assessment: {
    what: 'the manual runbook\'s assessment before acting (AWS Health Dashboard, confirm the outage, call the team)',
    seconds: 5 * 60,
    source: 'the plan, Scenario 1: "Immediate Assessment (0-5 minutes)"',
  },
  cliWaiterPoll: {
    what: 'how often an AWS CLI waiter looks (`aws rds wait db-instance-available`, `aws route53 wait resource-record-sets-changed`)',
    seconds: 30,
    source: 'AWS CLI waiters: DBInstanceAvailable and ResourceRecordSetsChanged poll every 30 s',
  },
} as const satisfies Record<string, Assumption>;

export type AssumptionKey = keyof typeof ASSUMPTIONS;
export type Durations = Record<AssumptionKey, number>;

/** The assumed durations, seconds (tests and `--only` runs may override some). */
export function defaultDurations(): Durations {
  return Object.fromEntries(Object.entries(ASSUMPTIONS).map(([key, a]) => [key, a.seconds])) as Durations;
}

/** Functions whose one invocation takes longer than a plain Lambda call, seconds, with why. */
export const TASK_SECONDS: Record<string, { seconds: number; why: string }> = {
  applyManifestsToBackup: { seconds: 5, why: 'reads and applies every manifest in the bucket' },
  runHealthChecks: { seconds: 5, why: 'HTTP, SQL and Redis gates, each with its own timeout' },
  runRegionHealthChecks: { seconds: 5, why: 'the same gates in the recovery region' },
  prewarmDatabase: { seconds: 60, why: 'reads the listed tables once so the restored volume loads their blocks (assumption)' },
  collectEvidence: { seconds: 30, why: 'copies the API\'s logs and the database log files to the evidence bucket (assumption)' },
  verifyFailbackData: { seconds: 10, why: 'row counts of the listed tables on both instances' },
};

/** An AWS operation a step starts and a later wait loop waits for. */
export type OperationKind = 'rds-restore' | 'rds-snapshot' | 'snapshot-copy' | 'rollout' | 'dns-change' | 'secret-rotation' | 'outage-confirmation';

/** The function that starts each operation (its call is made within the invocation: the clock starts at its end). */
export const STARTED_BY: Record<string, OperationKind> = {
  startDatabaseRestore: 'rds-restore',
  startScratchRestore: 'rds-restore',
  startRegionRestore: 'rds-restore',
  startPrimaryRestore: 'rds-restore',
  startFailbackSnapshot: 'rds-snapshot',
  copyFailbackSnapshot: 'snapshot-copy',
  scaleDeployment: 'rollout',
  rollBackDeployment: 'rollout',
  setApiImage: 'rollout',
  moveTraffic: 'dns-change',
  moveDns: 'dns-change',
  restoreRecordedTraffic: 'dns-change',
  startSecretRotation: 'secret-rotation',
};

interface Operation {
  kind: OperationKind;
  /** How many of this kind the run started before it (the first snapshot is full, the next incremental). */
  nth: number;
  startedAt: number;
  readyAt: number;
  /** The lower bound the look's function gives nextCheckSeconds. */
  expectedSeconds: number;
}

/**
 * How each look's function schedules its next look, as the deployed function does: the operations it
 * looks at (the most recent one started) and its nextCheckSeconds arguments.
 */
interface LookSchedule {
  watches: OperationKind[];
  pollSeconds: (op: Operation, elapsedSeconds: number) => number;
}

const fixedPoll = (seconds: number) => () => seconds;

export const LOOKS: Record<string, LookSchedule> = {
  checkDatabaseRestore: { watches: ['rds-restore'], pollSeconds: fixedPoll(DEFAULT_POLL_SECONDS) },
  checkScratchInstance: { watches: ['rds-restore'], pollSeconds: fixedPoll(DEFAULT_POLL_SECONDS) },
  checkRegionRestore: { watches: ['rds-restore'], pollSeconds: fixedPoll(DEFAULT_POLL_SECONDS) },
  // Snapshots and copies: a poll from RDS's PercentProgress (whole percent, linear here); the restore: 10 s.
  checkFailbackProgress: {
    watches: ['rds-snapshot', 'snapshot-copy', 'rds-restore'],
    pollSeconds: (op, elapsed) =>
      op.kind === 'rds-restore' ? DEFAULT_POLL_SECONDS : progressPollSeconds(elapsed, Math.floor((100 * elapsed) / Math.max(1, op.readyAt - op.startedAt))),
  },
  checkRollout: { watches: ['rollout'], pollSeconds: fixedPoll(ROLLOUT_POLL_SECONDS) },
  checkDnsChange: { watches: ['dns-change'], pollSeconds: fixedPoll(DEFAULT_POLL_SECONDS) },
  checkRegionDnsChange: { watches: ['dns-change'], pollSeconds: fixedPoll(DEFAULT_POLL_SECONDS) },
  checkSecretRotation: { watches: ['secret-rotation'], pollSeconds: fixedPoll(ROTATION_POLL_SECONDS) },
  confirmOutage: { watches: ['outage-confirmation'], pollSeconds: fixedPoll(DEFAULT_POLL_SECONDS) },
};

// ---------------------------------------------------------------------------------------------------
// The model of one state machine

export interface ModelOptions {
  durations?: Partial<Durations>;
  /** Items of a Map, by its ItemsPath (e.g. `$.run.databases`); default: resolved from `run`, else 1. */
  mapItems?: Record<string, number>;
  /** The run context StartRun makes ($.run), to count a Map's items. */
  run?: unknown;
  /** The approvers must answer (the scenario's approval policy is `approval`); default true. */
  approvalAsked?: boolean;
  /** Seconds the region-failure alarm must stay in ALARM (regionFailover.detection.confirmationMinutes × 60). */
  confirmationSeconds?: number;
}

/** One piece of the critical path. */
export interface Segment {
  /** The state (a loop: its look state; a Parallel or Map: its own name). */
  state: string;
  kind: 'task' | 'approval' | 'wait' | 'loop' | 'parallel' | 'map';
  function?: string;
  startSeconds: number;
  seconds: number;
  detail?: string;
  /** Parallel: the longest branch's segments; Map: one item's. */
  inner?: Segment[];
}

export interface WaitLoopFigures {
  /** The look state. */
  state: string;
  waitsFor: OperationKind;
  /** Seconds from the operation's start. */
  readyAfterSeconds: number;
  seenAfterSeconds: number;
  overshootSeconds: number;
  looks: number;
  /** The Wait states' lengths, in order, compressed ("179, 10 ×93"). */
  waits: string;
  transitions: number;
}

export interface MachineModel {
  name: string;
  totalSeconds: number;
  transitions: number;
  segments: Segment[];
  loops: WaitLoopFigures[];
  /** The Task states on the critical path, in order (a loop's look once). */
  criticalPath: string[];
  notes: string[];
}

type StateDef = Record<string, unknown>;
type StatesDef = Record<string, StateDef>;

interface Clock {
  now: number;
  transitions: number;
  ops: Operation[];
  started: Partial<Record<OperationKind, number>>;
  manifestsApplied: boolean;
  /** The latest look: its state and the Wait it asked for (SecondsPath). */
  lastLook: { state: string; ready: boolean; nextCheck: number } | null;
  /** The loop in progress (its look state), with its figures so far. */
  loop: (WaitLoopFigures & { waitList: number[]; segment: Segment; startTransitions: number }) | null;
  segments: Segment[];
  loops: WaitLoopFigures[];
  visits: number;
  notes: string[];
}

const MAX_VISITS = 20_000;

function clone(clock: Clock): Clock {
  const copy: Clock = {
    ...clock,
    ops: [...clock.ops],
    started: { ...clock.started },
    lastLook: clock.lastLook ? { ...clock.lastLook } : null,
    segments: clock.segments.map((s) => ({ ...s })),
    loops: [...clock.loops],
    notes: [...clock.notes],
    loop: null,
  };
  if (clock.loop) {
    const segment = copy.segments.find((s) => s.state === clock.loop?.segment.state && s.startSeconds === clock.loop.segment.startSeconds && s.kind === 'loop') ?? { ...clock.loop.segment };
    copy.loop = { ...clock.loop, waitList: [...clock.loop.waitList], segment };
  }
  return copy;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The function a (loaded) Task state invokes: the last part of its Lambda ARN. */
function taskFunction(state: StateDef): string | undefined {
  return typeof state.Resource === 'string' ? /:function:([^:]+)$/.exec(state.Resource)?.[1] : undefined;
}

function successors(state: StateDef): string[] {
  const next: string[] = [];
  if (Array.isArray(state.Choices)) for (const rule of state.Choices) if (isRecord(rule) && typeof rule.Next === 'string') next.push(rule.Next);
  if (typeof state.Default === 'string') next.push(state.Default);
  if (typeof state.Next === 'string') next.push(state.Next);
  return next;
}

/** Whether `from` leads back to `target` through states that are not Tasks (Pass, Wait, Choice): a loop edge. */
function leadsBackTo(states: StatesDef, from: string, target: string): boolean {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (name === target) return true;
    if (seen.has(name)) continue;
    seen.add(name);
    const state = states[name];
    if (!state || state.Type === 'Task' || state.Type === 'Parallel' || state.Type === 'Map') continue;
    queue.push(...successors(state));
  }
  return false;
}

/** Whether the Task `name` is a wait loop's look: its Next is a Choice with a way back to it through no other Task. */
function isLoopLook(states: StatesDef, name: string): boolean {
  const next = states[name]?.Next;
  const choice = typeof next === 'string' ? states[next] : undefined;
  return !!choice && choice.Type === 'Choice' && successors(choice).some((alternative) => leadsBackTo(states, alternative, name));
}

function compress(values: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[i]) j++;
    parts.push(j > i ? `${values[i]} ×${j - i + 1}` : String(values[i]));
    i = j + 1;
  }
  return parts.join(', ');
}

function resolvePath(value: unknown, path: string): unknown {
  if (!path.startsWith('$.')) return undefined;
  let at: unknown = value;
  for (const key of path.slice(2).split('.')) {
    if (!isRecord(at)) return undefined;
    at = at[key];
  }
  return at;
}

class Modeller {
  constructor(
    private readonly d: Durations,
    private readonly options: ModelOptions,
  ) {}

  operationSeconds(kind: OperationKind, nth: number, clock: Clock): number {
    switch (kind) {
      case 'rds-restore':
        return this.d.rdsRestore;
      case 'rds-snapshot':
        return nth === 0 ? this.d.rdsSnapshotFull : this.d.rdsSnapshotIncremental;
      case 'snapshot-copy':
        return nth === 0 ? this.d.snapshotCopyFull : this.d.snapshotCopyIncremental;
      case 'rollout':
        // The first rollout after the manifests went to the standby cluster waits for its nodes too.
        return this.d.rollout + (nth === 0 && clock.manifestsApplied ? this.d.nodeJoin : 0);
      case 'dns-change':
        return this.d.dnsInsync;
      case 'secret-rotation':
        return this.d.secretRotation;
      case 'outage-confirmation':
        return this.options.confirmationSeconds ?? 0;
    }
  }

  /** The lower bound the deployed look function gives nextCheckSeconds for this operation. */
  expectedSeconds(kind: OperationKind, nth: number): number {
    const freeze = planWriteFreeze(this.d.allocatedStorageGiB, false).firstWaitSeconds;
    switch (kind) {
      case 'rds-restore':
        return RDS_RESTORE_EARLIEST_SECONDS;
      case 'rds-snapshot':
        return nth === 0 ? freeze.baselineSnapshot : freeze.finalSnapshot;
      case 'snapshot-copy':
        return nth === 0 ? freeze.baselineCopy : freeze.finalCopy;
      case 'rollout':
        return this.d.rolloutEarliest;
      case 'dns-change':
        return 0;
      case 'secret-rotation':
        return ROTATION_EARLIEST_SECONDS;
      case 'outage-confirmation':
        return this.options.confirmationSeconds ?? 0;
    }
  }

  start(clock: Clock, kind: OperationKind): void {
    const nth = clock.started[kind] ?? 0;
    clock.started[kind] = nth + 1;
    clock.ops.push({ kind, nth, startedAt: clock.now, readyAt: clock.now + this.operationSeconds(kind, nth, clock), expectedSeconds: this.expectedSeconds(kind, nth) });
  }

  /** Runs `scope` from `start` on `clock`: the longest successful way through, or null (only failures). */
  run(states: StatesDef, start: string, clock: Clock): Clock | null {
    let name = start;
    for (;;) {
      if (++clock.visits > MAX_VISITS) throw new Error(`state ${name}: more than ${MAX_VISITS} states on one path (a loop the model does not know how to leave)`);
      const state = states[name];
      if (!state) throw new Error(`state ${name} is not defined`);
      clock.transitions += 1;
      switch (state.Type) {
        case 'Succeed':
          return clock;
        case 'Fail':
          return null;
        case 'Pass':
          break;
        case 'Task':
          this.task(name, state, clock, isLoopLook(states, name));
          break;
        case 'Wait':
          this.wait(name, state, clock);
          break;
        case 'Choice':
          return this.choice(states, name, state, clock);
        case 'Parallel': {
          const after = this.parallel(name, state, clock);
          if (!after) return null;
          clock = after;
          break;
        }
        case 'Map': {
          const after = this.map(name, state, clock);
          if (!after) return null;
          clock = after;
          break;
        }
        default:
          throw new Error(`state ${name}: type ${String(state.Type)} is not modelled`);
      }
      if (state.End === true) return clock;
      if (typeof state.Next !== 'string') throw new Error(`state ${name} has neither Next nor End`);
      name = state.Next;
    }
  }

  task(name: string, state: StateDef, clock: Clock, inLoop: boolean): void {
    const fn = taskFunction(state) ?? '?';
    // loadDefinition turns a callback Task's TimeoutSeconds(Path) into this field of its input.
    const parameters = isRecord(state.Parameters) ? state.Parameters : {};
    const callback = '__localTimeoutSeconds' in parameters || '__localTimeoutSeconds.$' in parameters;
    const startedAt = clock.now;
    const own = TASK_SECONDS[fn]?.seconds ?? this.d.lambdaInvocation;
    const answer = callback && this.options.approvalAsked !== false ? this.d.approvalAnswer : 0;
    clock.now += own + answer;
    if (fn === 'applyManifestsToBackup') clock.manifestsApplied = true;
    const starts = STARTED_BY[fn];
    if (starts) this.start(clock, starts);

    const look = inLoop ? LOOKS[fn] : undefined;
    const watched = look ? [...clock.ops].reverse().find((op) => look.watches.includes(op.kind)) : undefined;
    if (look && watched) {
      const ready = clock.now >= watched.readyAt;
      const elapsed = clock.now - watched.startedAt;
      const nextCheck = ready ? 0 : nextCheckSeconds({ elapsedSeconds: elapsed, expectedSeconds: watched.expectedSeconds, pollSeconds: look.pollSeconds(watched, elapsed) });
      clock.lastLook = { state: name, ready, nextCheck };
      if (!clock.loop || clock.loop.state !== name) {
        const segment: Segment = { state: name, kind: 'loop', function: fn, startSeconds: startedAt, seconds: 0 };
        clock.segments.push(segment);
        clock.loop = {
          state: name,
          waitsFor: watched.kind,
          readyAfterSeconds: watched.readyAt - watched.startedAt,
          seenAfterSeconds: 0,
          overshootSeconds: 0,
          looks: 0,
          waits: '',
          transitions: 0,
          waitList: [],
          segment,
          startTransitions: clock.transitions - 1,
        };
      }
      const loop = clock.loop;
      loop.looks += 1;
      loop.segment.seconds = clock.now - loop.segment.startSeconds;
      if (ready) {
        loop.seenAfterSeconds = clock.now - watched.startedAt;
        loop.overshootSeconds = Math.max(0, clock.now - Math.max(watched.readyAt, loop.segment.startSeconds));
        loop.waits = compress(loop.waitList);
        // The Choice that leaves the loop is its last transition.
        loop.transitions = clock.transitions - loop.startTransitions + 1;
        const { waitList: _w, segment, startTransitions: _s, ...figures } = loop;
        segment.detail = `waits for ${loop.waitsFor}: done ${loop.readyAfterSeconds} s after it started, seen at ${loop.seenAfterSeconds} s (${loop.looks} look${loop.looks === 1 ? '' : 's'}${loop.waitList.length ? `, waits ${figures.waits} s` : ''})`;
        clock.loops.push(figures);
        clock.loop = null;
      }
      return;
    }
    if (inLoop && !look) clock.notes.push(`${name} (${fn}) is the look of a wait loop the model has no schedule for (LOOKS): seen done at its first look`);
    if (look && !watched) clock.notes.push(`${name} (${fn}) looks at an operation no earlier step started: seen done at its first look`);
    clock.lastLook = null;
    clock.segments.push({ state: name, kind: answer > 0 ? 'approval' : 'task', function: fn, startSeconds: startedAt, seconds: clock.now - startedAt, ...(answer > 0 ? { detail: `invocation, then the approvers' answer (${answer} s)` } : {}) });
  }

  wait(name: string, state: StateDef, clock: Clock): void {
    let seconds: number;
    if (typeof state.Seconds === 'number') seconds = state.Seconds;
    else if (typeof state.SecondsPath === 'string' && clock.lastLook) seconds = Math.max(1, clock.lastLook.nextCheck);
    else {
      seconds = 0;
      clock.notes.push(`${name}: a Wait the model cannot size (${String(state.SecondsPath ?? state.Timestamp ?? state.TimestampPath)}): 0 s`);
    }
    const startedAt = clock.now;
    clock.now += seconds;
    if (clock.loop) {
      clock.loop.waitList.push(seconds);
      clock.loop.segment.seconds = clock.now - clock.loop.segment.startSeconds;
    } else {
      clock.segments.push({ state: name, kind: 'wait', startSeconds: startedAt, seconds });
    }
  }

  choice(states: StatesDef, name: string, state: StateDef, clock: Clock): Clock | null {
    let alternatives = [...new Set(successors(state))];
    const look = clock.lastLook;
    if (look && states[look.state]?.Next === name) {
      // The Choice right after a look: back round the loop while the operation is not done, out of it once it is.
      const loopEdges = alternatives.filter((next) => leadsBackTo(states, next, look.state));
      if (loopEdges.length > 0) alternatives = look.ready ? alternatives.filter((a) => !loopEdges.includes(a)) : loopEdges;
    }
    let best: Clock | null = null;
    for (const next of alternatives) {
      const result = this.run(states, next, clone(clock));
      if (result && (!best || result.now > best.now)) best = result;
    }
    return best;
  }

  parallel(name: string, state: StateDef, clock: Clock): Clock | null {
    const branches = Array.isArray(state.Branches) ? state.Branches.filter(isRecord) : [];
    const startedAt = clock.now;
    const results: Clock[] = [];
    for (const branch of branches) {
      const inner = this.fresh(clock);
      const result = this.run(branch.States as StatesDef, String(branch.StartAt), inner);
      if (!result) return null;
      results.push(result);
    }
    const longest = results.reduce<Clock | null>((a, b) => (!a || b.now > a.now ? b : a), null);
    const after = clone(clock);
    after.now = longest?.now ?? clock.now;
    after.lastLook = null;
    for (const result of results) {
      after.transitions += result.transitions;
      after.ops.push(...result.ops.filter((op) => !clock.ops.includes(op)));
      for (const [kind, count] of Object.entries(result.started)) after.started[kind as OperationKind] = Math.max(after.started[kind as OperationKind] ?? 0, count);
      after.manifestsApplied ||= result.manifestsApplied;
      after.loops.push(...result.loops);
      after.notes.push(...result.notes);
    }
    const index = longest ? results.indexOf(longest) : -1;
    after.segments.push({
      state: name,
      kind: 'parallel',
      startSeconds: startedAt,
      seconds: after.now - startedAt,
      detail: `${branches.length} branches; the longest is branch ${index} (${results.map((r) => `${Math.round(r.now - startedAt)} s`).join(', ')})`,
      inner: longest?.segments ?? [],
    });
    return after;
  }

  map(name: string, state: StateDef, clock: Clock): Clock | null {
    const processor = isRecord(state.ItemProcessor) ? state.ItemProcessor : isRecord(state.Iterator) ? state.Iterator : null;
    if (!processor) throw new Error(`state ${name}: a Map without ItemProcessor`);
    const itemsPath = typeof state.ItemsPath === 'string' ? state.ItemsPath : '$';
    const given = this.options.mapItems?.[itemsPath];
    const resolved = resolvePath({ run: this.options.run }, itemsPath);
    const items = given ?? (Array.isArray(resolved) ? resolved.length : 1);
    if (given === undefined && !Array.isArray(resolved)) clock.notes.push(`${name}: items of ${itemsPath} unknown; 1 assumed`);
    const concurrency = typeof state.MaxConcurrency === 'number' && state.MaxConcurrency > 0 ? state.MaxConcurrency : Math.max(1, items);
    const startedAt = clock.now;
    const after = clone(clock);
    after.lastLook = null;
    if (items === 0) {
      after.segments.push({ state: name, kind: 'map', startSeconds: startedAt, seconds: 0, detail: `no items (${itemsPath})` });
      return after;
    }
    // The items are alike: each takes one item's time, `concurrency` of them at once.
    const item = this.run(processor.States as StatesDef, String(processor.StartAt), this.fresh(clock));
    if (!item) return null;
    const itemSeconds = item.now - startedAt;
    const waves = Math.ceil(items / concurrency);
    after.now = startedAt + waves * itemSeconds;
    after.transitions += items * item.transitions;
    after.loops.push(...item.loops);
    after.notes.push(...item.notes);
    after.segments.push({
      state: name,
      kind: 'map',
      startSeconds: startedAt,
      seconds: after.now - startedAt,
      detail: `${items} item${items === 1 ? '' : 's'} (${itemsPath}), ${concurrency} at a time: ${waves} × ${Math.round(itemSeconds)} s`,
      inner: item.segments,
    });
    return after;
  }

  /** A clock for a branch or an item: the same time and operations, its own path. */
  fresh(clock: Clock): Clock {
    return { ...clone(clock), transitions: 0, segments: [], loops: [], notes: [], lastLook: null, loop: null };
  }
}

function flattenPath(segments: Segment[]): string[] {
  return segments.flatMap((s) => (s.kind === 'parallel' || s.kind === 'map' ? [s.state, ...flattenPath(s.inner ?? [])] : s.kind === 'wait' ? [] : [s.state]));
}

/**
 * Models one state machine: a statemachines/ file by name, or a definition object (tests). Clock 0 is
 * the execution's start. Throws for a definition the model cannot walk (an unknown state type, a loop
 * it cannot leave), naming the state.
 */
export function modelStateMachine(source: DefinitionSource, options: ModelOptions = {}): MachineModel {
  const durations: Durations = { ...defaultDurations(), ...options.durations };
  const loaded = loadDefinition(source);
  const definition = loaded.definition as { StartAt?: unknown; States?: unknown };
  if (typeof definition.StartAt !== 'string' || !isRecord(definition.States)) throw new Error('the definition has no StartAt or States');
  const modeller = new Modeller(durations, options);
  const clock: Clock = { now: 0, transitions: 0, ops: [], started: {}, manifestsApplied: false, lastLook: null, loop: null, segments: [], loops: [], visits: 0, notes: [] };
  // The region-failure alarm that starts a failover went into ALARM at the start: its confirmation period runs from there.
  if (options.confirmationSeconds !== undefined) clock.ops.push({ kind: 'outage-confirmation', nth: 0, startedAt: 0, readyAt: options.confirmationSeconds, expectedSeconds: options.confirmationSeconds });
  const result = modeller.run(definition.States as StatesDef, definition.StartAt, clock);
  const name = typeof source === 'string' ? source : source.name;
  if (!result) throw new Error(`${name}: every way through the state machine ends in a Fail state`);
  return {
    name,
    totalSeconds: result.now,
    transitions: result.transitions,
    segments: result.segments,
    loops: result.loops,
    criticalPath: flattenPath(result.segments),
    notes: [...new Set(result.notes)],
  };
}

// ---------------------------------------------------------------------------------------------------
// Every state machine of the repository, with the example deployment's figures

/** Every statemachines/*.asl.yaml, by name (the fragments folder is not a machine). */
export function stateMachineNames(): string[] {
  return readdirSync(join(root, 'statemachines'))
    .filter((file) => file.endsWith('.asl.yaml'))
    .map((file) => file.replace(/\.asl\.yaml$/, ''))
    .sort();
}

/** The input an operator (or the alarm) would start each scenario with, for StartRun's plan of the run. */
function typicalInput(name: string): Record<string, unknown> {
  switch (name) {
    case 'security-incident':
      return { incidentId: 'MODEL-1', blockIps: ['203.0.113.7'], patchedImage: 'frontier/api:security-patch', reason: 'recovery-time model' };
    case 'region-failback':
      return { failoverExecution: 'model-failover', reason: 'recovery-time model' };
    default:
      return { reason: 'recovery-time model' };
  }
}

/** The options of the example deployment for one machine: its run context, approval policy, confirmation period. */
export function optionsFor(name: string, config: DeploymentConfig, durations: Partial<Durations> = {}): ModelOptions {
  let run: unknown;
  const notes: string[] = [];
  try {
    run = planRun(name, typicalInput(name), { id: `arn:aws:states:${config.recoveryRegion}:123456789012:execution:model:${name}`, name: 'model', startTime: new Date(0).toISOString() }, config);
  } catch (error) {
    notes.push(`StartRun refused the model's input (${(error as Error).message.split('\n')[0]}): Map items 1`);
  }
  const approvals = (config as { approvals?: Record<string, { policy?: string } | undefined> }).approvals;
  const confirmationMinutes = name === 'region-failover' ? config.regionFailover?.detection.confirmationMinutes : undefined;
  return {
    durations,
    run,
    approvalAsked: approvals?.[name]?.policy !== 'automatic',
    ...(confirmationMinutes !== undefined ? { confirmationSeconds: confirmationMinutes * 60 } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// The plan's manual runbooks

export interface ManualStep {
  /** The command as the plan writes it (or the one the operator must add, `inPlan` false). */
  command: string;
  /** Operator time, seconds (default ASSUMPTIONS.operatorCommand). */
  operatorSeconds?: number;
  /** An operation the step starts and waits for before the next step. */
  waitsFor?: { operation: 'rds-restore' | 'rollout-standby' | 'rollout' | 'dns-change' | 'secret-rotation'; times?: number; how: 'cli-waiter' | 'watch' };
  /** False for a step the plan leaves out but the same end state needs. */
  inPlan: boolean;
  note?: string;
}

export interface ManualRunbook {
  source: string;
  steps: ManualStep[];
}

/**
 * The plan's shell steps per scenario (seed plan, "Disaster Scenarios & Response" and "Recovery
 * Scripts"), in its order, one after another as one operator runs them. Steps the plan leaves out but
 * the same end state needs are marked `inPlan: false` (a restore is only started by the plan's script;
 * something has to wait for it). Scenarios without shell steps in the plan have none here.
 */
export const MANUAL_RUNBOOKS: Record<string, ManualRunbook> = {
  'region-failover': {
    source: 'plan, Scenario 1: Complete AWS Region Failure (steps 1-3) and restore-database.sh, health-check.sh',
    steps: [
      { command: '# Check AWS Service Health Dashboard; verify region-wide outage; activate DR team', operatorSeconds: ASSUMPTIONS.assessment.seconds, inPlan: true, note: 'the plan\'s "Immediate Assessment (0-5 minutes)"' },
      { command: 'aws route53 change-resource-record-sets --hosted-zone-id ZXXXXX --change-batch file://failover-dns.json', operatorSeconds: 120, inPlan: true, note: 'the change batch written for the records at hand: 2 min' },
      { command: 'aws route53 wait resource-record-sets-changed --id <change>', operatorSeconds: 0, waitsFor: { operation: 'dns-change', how: 'cli-waiter' }, inPlan: false },
      { command: 'kubectl apply -f disaster-recovery/dr-cluster.yaml', inPlan: true },
      { command: 'kubectl rollout status deployment/frontier-api -n production', operatorSeconds: 0, waitsFor: { operation: 'rollout-standby', how: 'watch' }, inPlan: false, note: 'nodes join the standby cluster, then the pods roll out' },
      { command: './scripts/restore-database.sh --region us-east-1 --backup latest', inPlan: true, note: 'finds the newest snapshot and starts the restore' },
      { command: 'aws rds wait db-instance-available --db-instance-identifier frontier-prod-restored-<time>', operatorSeconds: 0, waitsFor: { operation: 'rds-restore', how: 'cli-waiter' }, inPlan: false },
      { command: 'kubectl patch secret frontier-secrets -n production (database-url of the restored instance)', operatorSeconds: 120, inPlan: false, note: 'the API on the DR cluster must reach the restored database; its endpoint read with describe-db-instances' },
      { command: 'kubectl rollout restart deployment/frontier-api -n production && kubectl rollout status ...', waitsFor: { operation: 'rollout', how: 'watch' }, inPlan: false },
      { command: './scripts/health-check.sh --environment dr', inPlan: true },
      { command: 'pytest tests/smoke/ --env=dr', operatorSeconds: 300, inPlan: true, note: 'smoke tests: 5 min (assumption)' },
    ],
  },
  'database-recovery': {
    source: 'plan, Scenario 2: Database Corruption/Failure (steps 1-3) and health-check.sh',
    steps: [
      { command: 'kubectl scale deployment frontier-api --replicas=0 -n production', inPlan: true },
      { command: 'psql -h $DB_HOST -c "ALTER SYSTEM SET default_transaction_read_only = on;"', inPlan: true, note: 'needs a reload (SELECT pg_reload_conf()) to take effect, which the plan leaves out' },
      { command: 'psql -h $DB_HOST -c "SELECT pg_database_size(\'frontier\');"', inPlan: true },
      { command: 'aws rds describe-db-snapshots --db-instance-identifier frontier-prod', operatorSeconds: 120, inPlan: true, note: 'read the list and pick the newest clean snapshot: 2 min' },
      { command: 'aws rds restore-db-instance-from-db-snapshot --db-instance-identifier frontier-prod-restored --db-snapshot-identifier frontier-prod-snapshot-YYYYMMDD', inPlan: true },
      { command: 'aws rds wait db-instance-available --db-instance-identifier frontier-prod-restored', operatorSeconds: 0, waitsFor: { operation: 'rds-restore', how: 'cli-waiter' }, inPlan: false },
      { command: 'kubectl patch secret frontier-secrets -n production --patch=\'{"data":{"database-url":"..."}}\'', operatorSeconds: 120, inPlan: true, note: 'NEW_DB_URL built from the restored instance\'s endpoint: 2 min' },
      { command: 'kubectl scale deployment frontier-api --replicas=3 -n production && kubectl rollout status ...', waitsFor: { operation: 'rollout', how: 'watch' }, inPlan: false, note: 'the API was scaled to 0 in step 1' },
      { command: './scripts/health-check.sh production', inPlan: true, note: 'the plan\'s validation checklist' },
    ],
  },
  'cluster-failover': {
    source: 'plan, Scenario 3: Kubernetes Cluster Failure (steps 1-2) and health-check.sh',
    steps: [
      { command: 'kubectl cluster-info && kubectl get nodes', inPlan: true, note: 'against a failing cluster: answers slowly or times out' },
      { command: 'aws eks describe-cluster --name frontier-prod-cluster', inPlan: true },
      { command: 'kubectl config use-context frontier-backup-cluster', operatorSeconds: 30, inPlan: true },
      { command: 'kubectl apply -f k8s/ -n production', inPlan: true },
      { command: 'kubectl scale deployment frontier-api --replicas=3 -n production', inPlan: true },
      { command: 'kubectl rollout status deployment/frontier-api -n production', operatorSeconds: 0, waitsFor: { operation: 'rollout-standby', how: 'watch' }, inPlan: false },
      { command: 'aws route53 change-resource-record-sets (the API record to the backup cluster)', operatorSeconds: 120, inPlan: false, note: 'the state machine moves traffic (kubernetes.traffic); the plan does not say how clients reach the backup cluster' },
      { command: 'aws route53 wait resource-record-sets-changed --id <change>', operatorSeconds: 0, waitsFor: { operation: 'dns-change', how: 'cli-waiter' }, inPlan: false },
      { command: './scripts/health-check.sh production', inPlan: true, note: 'the plan\'s validation checklist' },
    ],
  },
  'emergency-rollback': {
    source: 'plan, Emergency Rollback Script (emergency-rollback.sh)',
    steps: [
      { command: 'kubectl rollout history deployment/frontier-api -n production | tail -2 | head -1', inPlan: true },
      { command: 'kubectl rollout undo deployment/frontier-api -n production --to-revision=$PREVIOUS_VERSION', operatorSeconds: 30, inPlan: true },
      { command: 'kubectl rollout status deployment/frontier-api -n production --timeout=300s', operatorSeconds: 0, waitsFor: { operation: 'rollout', how: 'watch' }, inPlan: true },
      { command: './health-check.sh production', inPlan: true },
    ],
  },
  'security-incident': {
    source: 'plan, Scenario 4: Security Breach (steps 1-3) and health-check.sh',
    steps: [
      { command: 'kubectl delete secret frontier-api-keys -n production', operatorSeconds: 30, inPlan: true },
      { command: 'kubectl apply -f security/emergency-block.yaml', inPlan: true },
      { command: 'kubectl patch configmap frontier-config -n production --patch=\'{"data":{"emergency_mode":"true"}}\'', inPlan: true },
      { command: 'kubectl logs -l app=frontier-api -n production --since=24h > audit.log', operatorSeconds: 120, inPlan: true, note: 'the export only; reading it is the investigation, on neither side' },
      { command: 'aws rds describe-db-log-files --db-instance-identifier frontier-prod', inPlan: true },
      { command: './scripts/rotate-secrets.sh --force', operatorSeconds: 120, waitsFor: { operation: 'secret-rotation', how: 'watch', times: 2 }, inPlan: true, note: 'the API keys and the database credentials, one after the other' },
      { command: 'kubectl set image deployment/frontier-api frontier-api=frontier/api:security-patch', inPlan: true },
      { command: 'kubectl rollout status deployment/frontier-api -n production', operatorSeconds: 0, waitsFor: { operation: 'rollout', how: 'watch' }, inPlan: false },
      { command: './scripts/health-check.sh production', inPlan: true, note: 'the plan\'s validation checklist' },
    ],
  },
};

export interface ManualModel {
  source: string;
  totalSeconds: number;
  steps: { command: string; startSeconds: number; seconds: number; inPlan: boolean; detail: string }[];
}

/** The plan's runbook for `name` run by hand, one step after another; null when the plan has none. */
export function modelManualRunbook(name: string, durations: Partial<Durations> = {}): ManualModel | null {
  const runbook = MANUAL_RUNBOOKS[name];
  if (!runbook) return null;
  const d: Durations = { ...defaultDurations(), ...durations };
  let now = 0;
  const steps = runbook.steps.map((step) => {
    const operator = step.operatorSeconds ?? d.operatorCommand;
    let waited = 0;
    let detail = operator > 0 ? `operator ${operator} s` : '';
    if (step.waitsFor) {
      const one = {
        'rds-restore': d.rdsRestore,
        'rollout-standby': d.nodeJoin + d.rollout,
        rollout: d.rollout,
        'dns-change': d.dnsInsync,
        'secret-rotation': d.secretRotation,
      }[step.waitsFor.operation];
      const times = step.waitsFor.times ?? 1;
      // A waiter looks at once, then every 30 s: it sees the operation done at the next multiple; a watch at once.
      const seen = step.waitsFor.how === 'cli-waiter' ? Math.ceil(one / d.cliWaiterPoll) * d.cliWaiterPoll : one;
      waited = seen * times;
      detail = `${detail ? `${detail}, ` : ''}${step.waitsFor.operation} ${one} s${times > 1 ? ` ×${times}` : ''}${seen !== one ? ` seen at ${seen} s (${step.waitsFor.how})` : ` (${step.waitsFor.how})`}`;
    }
    const startSeconds = now;
    now += operator + waited;
    return { command: step.command, startSeconds, seconds: operator + waited, inPlan: step.inPlan, detail: step.note ? `${detail}; ${step.note}` : detail };
  });
  return { source: runbook.source, totalSeconds: now, steps };
}

// ---------------------------------------------------------------------------------------------------
// All of it, and its Markdown

/** The objectives' components a scenario brings back (its run ends when the last of them serves). */
export const RECOVERS: Record<string, string[]> = {
  'cluster-failover': ['API Services'],
  'emergency-rollback': ['API Services'],
  'database-recovery': ['Database', 'API Services'],
  'region-failover': ['Database', 'API Services'],
  'security-incident': ['API Services'],
};

export interface ScenarioModel {
  name: string;
  model?: MachineModel;
  error?: string;
  manual: ManualModel | null;
  /** The tightest RTO of the components it recovers (config objectives), minutes; null when it recovers none. */
  rtoMinutes: number | null;
  rtoComponent: string | null;
}

export interface RecoveryTimeModel {
  durations: Durations;
  scenarios: ScenarioModel[];
}

/** Every state machine in statemachines/, modelled with the example deployment, beside its manual runbook. */
export function modelEveryStateMachine(config: DeploymentConfig, durations: Partial<Durations> = {}): RecoveryTimeModel {
  const scenarios = stateMachineNames().map((name): ScenarioModel => {
    const manual = modelManualRunbook(name, durations);
    const objective = config.objectives.filter((o) => RECOVERS[name]?.includes(o.component)).sort((a, b) => a.rtoMinutes - b.rtoMinutes)[0];
    const rto = { rtoMinutes: objective?.rtoMinutes ?? null, rtoComponent: objective?.component ?? null };
    try {
      return { name, model: modelStateMachine(name, optionsFor(name, config, durations)), manual, ...rto };
    } catch (error) {
      return { name, error: (error as Error).message, manual, ...rto };
    }
  });
  return { durations: { ...defaultDurations(), ...durations }, scenarios };
}

/** `1234` -> `20 min 34 s`. */
export function minutes(seconds: number): string {
  const whole = Math.round(seconds);
  const m = Math.floor(whole / 60);
  const s = whole % 60;
  return m === 0 ? `${s} s` : s === 0 ? `${m} min` : `${m} min ${s} s`;
}

/** A GitHub-flavoured Markdown table (cells' pipes escaped). */
export function markdownTable(headers: string[], rows: string[][], rightAligned: number[] = []): string {
  const cell = (value: string) => value.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `| ${headers.map(cell).join(' | ')} |`,
    `| ${headers.map((_, i) => (rightAligned.includes(i) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

function describeSegment(segment: Segment): string {
  const what = segment.kind === 'loop' ? `${segment.state} (loop)` : segment.kind === 'wait' ? `${segment.state} (Wait)` : segment.state;
  return `${what} ${minutes(segment.seconds)}`;
}

/** The critical path in one line: the segments of a minute or more by name, the rest counted. */
function pathLine(segments: Segment[]): string {
  const parts: string[] = [];
  let small = 0;
  let smallSeconds = 0;
  const flush = () => {
    if (small > 0) parts.push(`${small} step${small === 1 ? '' : 's'} ${minutes(smallSeconds)}`);
    small = 0;
    smallSeconds = 0;
  };
  for (const segment of segments) {
    if (segment.seconds >= 60 || segment.kind === 'parallel' || segment.kind === 'map' || segment.kind === 'loop' || segment.kind === 'approval') {
      flush();
      const inner = segment.inner && segment.inner.length > 0 ? ` [${pathLine(segment.inner)}]` : '';
      parts.push(`**${describeSegment(segment)}**${inner}`);
    } else {
      small += 1;
      smallSeconds += segment.seconds;
    }
  }
  flush();
  return parts.join(' → ');
}

/** The model's section of docs/benchmarks.md. */
export function renderRecoveryTimeModel(model: RecoveryTimeModel): string {
  const lines: string[] = [];
  const rows = model.scenarios.map((s) => {
    const manual = s.manual;
    const automated = s.model?.totalSeconds;
    const ratio = automated !== undefined && manual ? `${(manual.totalSeconds / automated).toFixed(1)}×` : '-';
    return [
      `\`${s.name}\``,
      s.rtoMinutes === null ? '-' : `${s.rtoMinutes} min (${s.rtoComponent})`,
      s.model ? minutes(s.model.totalSeconds) : `not modelled: ${s.error ?? ''}`,
      s.model ? String(s.model.transitions) : '-',
      s.model ? String(s.model.loops.reduce((max, l) => Math.max(max, l.overshootSeconds), 0)) : '-',
      manual ? minutes(manual.totalSeconds) : 'no shell steps in the plan',
      ratio,
    ];
  });
  lines.push(markdownTable(['state machine', 'RTO (example config)', 'critical path (model)', 'state transitions on it', 'largest loop overshoot s', 'manual runbook', 'manual / model'], rows, [1, 2, 3, 4, 5, 6]));
  lines.push('');
  for (const s of model.scenarios) {
    lines.push(`#### \`${s.name}\``);
    lines.push('');
    if (!s.model) {
      lines.push(`Not modelled: ${s.error ?? 'unknown error'}`);
      lines.push('');
      continue;
    }
    lines.push(`Critical path, ${minutes(s.model.totalSeconds)}: ${pathLine(s.model.segments)}.`);
    lines.push('');
    if (s.model.loops.length > 0) {
      lines.push(
        markdownTable(
          ['wait loop (its look)', 'waits for', 'done after s', 'seen after s', 'overshoot s', 'looks', 'waits s', 'transitions'],
          s.model.loops.map((l) => [l.state, l.waitsFor, String(l.readyAfterSeconds), String(l.seenAfterSeconds), String(l.overshootSeconds), String(l.looks), l.waits || '-', String(l.transitions)]),
          [2, 3, 4, 5, 7],
        ),
      );
      lines.push('');
    }
    if (s.model.notes.length > 0) {
      lines.push(...s.model.notes.map((n) => `- ${n}`));
      lines.push('');
    }
    if (s.manual) {
      lines.push(`Manual runbook (${s.manual.source}), ${minutes(s.manual.totalSeconds)}, one step after another:`);
      lines.push('');
      lines.push(
        markdownTable(
          ['at', 'command', 'in the plan', 'takes', 'how'],
          s.manual.steps.map((step) => [minutes(step.startSeconds), `\`${step.command}\``, step.inPlan ? 'yes' : 'no (needed)', minutes(step.seconds), step.detail]),
          [0, 3],
        ),
      );
      lines.push('');
    }
  }
  return lines.join('\n');
}

/** The assumptions table of docs/benchmarks.md. */
export function renderAssumptions(durations: Durations): string {
  const rows = (Object.keys(ASSUMPTIONS) as AssumptionKey[]).map((key) => {
    const a: Assumption = ASSUMPTIONS[key];
    const value = key === 'allocatedStorageGiB' ? `${durations[key]} GiB` : minutes(durations[key]);
    return [`\`${key}\``, a.what, value, a.source];
  });
  const tasks = Object.entries(TASK_SECONDS).map(([fn, t]) => [`\`${fn}\``, `one invocation: ${t.why}`, minutes(t.seconds), 'assumption']);
  return markdownTable(['assumption', 'what', 'value', 'source'], [...rows, ...tasks], [2]);
}

/** What the model is, for the top of its section in docs/benchmarks.md. */
export function renderModelIntro(): string {
  return [
    'How long each state machine takes to recover **in AWS**, from its real definition (`statemachines/*.asl.yaml`, the',
    'approval fragment pasted in as packaged), under the stated durations below (`scripts/recovery-time-model.ts`): a Task',
    'is one Lambda invocation; a step that starts an AWS operation (restore, snapshot, copy, rollout, DNS change, rotation)',
    'starts its clock; a wait loop runs on its real schedule (`shared/polling.ts` `nextCheckSeconds` with the lower bound and',
    'poll of the look\'s own function: first wait to the earliest moment, then a look every poll) and leaves at the first look',
    'after the operation is done, the difference being its **overshoot**; a Parallel lasts as long as its longest branch; a',
    'Map runs its items (from StartRun\'s plan of the example input) `MaxConcurrency` at a time. Clock 0 is the execution\'s',
    'start. At each Choice the model takes the alternative that makes the run longest and still ends in success (Catch edges',
    'and Fail states are failures, not the recovery): the critical path of a run that does every optional step (the outage',
    'confirmed by the alarm, the approval asked and answered, control-plane DNS, the patched image rolled out). It also',
    'counts `NotifyOnCall` (1 s), which a clean run skips.',
    '',
    'The manual runbook is the plan\'s shell steps for the same scenario, one after another as one operator runs them, with',
    'the same operation durations, an operator\'s time per command, and the waits a person adds (the plan\'s scripts start a',
    'restore and stop; an AWS CLI waiter looks every 30 s, `kubectl rollout status` watches). Steps the plan leaves out but',
    'the same end state needs are marked "no (needed)". Reading the logs (the plan\'s investigation) is counted on neither',
    'side; the smoke tests the plan lists for a region failover only on the manual side (the state machine\'s own check is',
    'its health gates).',
  ].join('\n');
}
