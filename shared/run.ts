// The first state of every state machine: validate the execution input against the deployment and
// turn it into the run context later states read. Nothing here calls AWS, so bad input stops the
// execution before any change.
import * as z from 'zod/mini';
import type { DeploymentConfig } from './config.js';
import { InvalidConfig, InvalidInput, describeIssues } from './errors.js';

export const SCENARIOS = ['backup-verification', 'restore-test', 'cluster-failover', 'emergency-rollback', 'database-recovery'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Scenarios that act on the EKS clusters and need the config's `kubernetes` section. */
const KUBERNETES_SCENARIOS: readonly Scenario[] = ['cluster-failover', 'emergency-rollback', 'database-recovery'];
/** Scenarios a CloudWatch alarm may start (through an EventBridge rule of the stack). */
const ALARM_SCENARIOS: readonly Scenario[] = ['cluster-failover', 'database-recovery'];

export interface RollbackTarget {
  cluster: 'primary' | 'backup';
  namespace: string;
  deployment: string;
  /** Null: the revision before the current one, resolved once by the plan step. */
  toRevision: number | null;
}

export interface DatabaseRecoveryRequest {
  database: string;
  /** A snapshot named by the operator (id or ARN). */
  snapshot: string | null;
  /** A point in time named by the operator. */
  restoreTime: string | null;
}

export interface RunContext {
  scenario: Scenario;
  executionId: string;
  executionName: string;
  startedAt: string;
  /** When the incident began: the alarm's state-change time, else the execution's start. */
  incidentAt: string;
  /** True when the alarm or the input named the incident time (not defaulted to the start). */
  incidentGiven: boolean;
  trigger: string;
  dryRun: boolean;
  reason: string | null;
  /** The protected databases this run covers, in config order. */
  databases: string[];
  /** cluster-failover: fail over even when the primary cluster looks healthy. */
  force: boolean;
  /** emergency-rollback only. */
  rollback: RollbackTarget | null;
  /** Replica count the API runs with in production (cluster-failover). */
  productionReplicas: number | null;
  /** database-recovery only. */
  recovery: DatabaseRecoveryRequest | null;
}

export interface ExecutionInfo {
  id: string;
  name: string;
  startTime: string;
}

const kubernetesName = z.string().check(z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a Kubernetes name (lower-case letters, digits, dashes)'), z.maxLength(63));

// Fields every manual input may carry. Each scenario's schema is strict: a typo such as "dryrun"
// must fail, not be ignored.
const commonFields = {
  dryRun: z._default(z.boolean(), false),
  reason: z.optional(z.string().check(z.maxLength(500))),
  /** Set by the stack's own schedules that pass a fixed input (e.g. the monthly drill). */
  trigger: z._default(z.enum(['manual', 'schedule']), 'manual'),
};

const databaseScenarioInput = z.strictObject({
  ...commonFields,
  databases: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
});

const clusterFailoverInput = z.strictObject({
  ...commonFields,
  force: z._default(z.boolean(), false),
});

const isoTime = z.iso.datetime({ offset: true, message: 'an ISO 8601 time such as 2026-11-25T12:04:00Z' });

const databaseRecoveryInput = z.strictObject({
  ...commonFields,
  database: z.optional(z.string().check(z.minLength(1))),
  incidentTime: z.optional(isoTime),
  snapshot: z.optional(z.string().check(z.minLength(1))),
  restoreTime: z.optional(isoTime),
});

const emergencyRollbackInput = z.strictObject({
  ...commonFields,
  cluster: z._default(z.enum(['primary', 'backup']), 'primary'),
  namespace: z.optional(kubernetesName),
  deployment: z.optional(kubernetesName),
  toRevision: z.optional(z.int().check(z.minimum(1))),
});

// EventBridge starts a state machine with the whole event when a rule gives no Input.
const scheduledEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

const alarmEvent = z.looseObject({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  time: z.optional(z.string()),
  detail: z.looseObject({
    alarmName: z.string(),
    state: z.looseObject({ value: z.string(), timestamp: z.optional(z.string()) }),
  }),
});

/** Times are compared as strings later on: always UTC with milliseconds. */
function normaliseTime(time: string): string {
  return new Date(time).toISOString();
}

/** Clocks differ a little between an operator's machine and Step Functions; more than this is a typo. */
const CLOCK_SKEW_MS = 60_000;

/**
 * A time in the future is a typo (a wrong year, local time written as UTC): restoring to it would bring
 * the damage back, so it is refused, naming the field.
 */
function refuseTimesAfterStart(scenario: Scenario, startedAt: string, times: Record<string, string | undefined>): void {
  const lines = Object.entries(times)
    .filter(([, time]) => time !== undefined && Date.parse(time) > Date.parse(startedAt) + CLOCK_SKEW_MS)
    .map(([field, time]) => `  - ${field}: got ${JSON.stringify(time)}; expected a time before the run started (${startedAt}), not in the future`);
  if (lines.length > 0) throw invalid(scenario, lines.join('\n'));
}

function invalid(scenario: Scenario, lines: string): InvalidInput {
  return new InvalidInput(`${scenario} input is invalid; nothing was changed:\n${lines}`);
}

export function planRun(scenario: Scenario, rawInput: unknown, execution: ExecutionInfo, config: DeploymentConfig): RunContext {
  if (KUBERNETES_SCENARIOS.includes(scenario) && !config.kubernetes) {
    throw new InvalidConfig(`${scenario} needs the deployment config's kubernetes section (clusters, namespace, API deployment)`);
  }
  const configured = config.databases.map((d) => d.name);
  const base: RunContext = {
    scenario,
    executionId: execution.id,
    executionName: execution.name,
    startedAt: normaliseTime(execution.startTime),
    incidentAt: normaliseTime(execution.startTime),
    incidentGiven: false,
    trigger: 'manual',
    dryRun: false,
    reason: null,
    databases: configured,
    force: false,
    rollback: null,
    productionReplicas: config.kubernetes?.productionReplicas ?? null,
    recovery: null,
  };

  if (scheduledEvent.safeParse(rawInput).success) {
    return { ...base, trigger: 'schedule', reason: 'scheduled run' };
  }

  const alarm = alarmEvent.safeParse(rawInput);
  if (alarm.success && ALARM_SCENARIOS.includes(scenario)) {
    const { alarmName, state } = alarm.data.detail;
    // The rules match ALARM only; anything else reaching here (a hand-replayed event) changes nothing.
    if (state.value !== 'ALARM') throw invalid(scenario, `  - detail.state.value: got ${JSON.stringify(state.value)}; expected "ALARM"`);
    const incidentAt = normaliseTime(state.timestamp ?? alarm.data.time ?? base.startedAt);
    const fromAlarm = { ...base, trigger: `alarm ${alarmName}`, reason: `alarm ${alarmName} in ALARM`, incidentAt, incidentGiven: true };
    if (scenario !== 'database-recovery') return fromAlarm;
    const database = config.databases.find((d) => d.recovery?.alarmName === alarmName);
    if (!database) {
      throw invalid(scenario, `  - detail.alarmName: got ${JSON.stringify(alarmName)}; expected an alarm named in databases[].recovery.alarmName`);
    }
    return { ...fromAlarm, recovery: { database: database.name, snapshot: null, restoreTime: null } };
  }

  // An empty input (`{}` or no input at all) is a manual start with every default.
  const input = rawInput === undefined || rawInput === null ? {} : rawInput;
  switch (scenario) {
    case 'backup-verification':
    case 'restore-test': {
      const parsed = databaseScenarioInput.safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      const requested = parsed.data.databases ?? configured;
      const unknown = requested.filter((name) => !configured.includes(name));
      if (unknown.length > 0) {
        throw invalid(scenario, `  - databases: got ${JSON.stringify(unknown)}; expected databases protected by this deployment (${configured.join(', ')})`);
      }
      return {
        ...base,
        trigger: parsed.data.trigger,
        dryRun: parsed.data.dryRun,
        reason: parsed.data.reason ?? null,
        databases: configured.filter((name) => requested.includes(name)),
      };
    }
    case 'cluster-failover': {
      const parsed = clusterFailoverInput.safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      return { ...base, trigger: parsed.data.trigger, dryRun: parsed.data.dryRun, reason: parsed.data.reason ?? null, force: parsed.data.force };
    }
    case 'database-recovery': {
      const parsed = databaseRecoveryInput.safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      const recoverable = config.databases.filter((d) => d.recovery).map((d) => d.name);
      const database = parsed.data.database ?? recoverable[0];
      if (!database || !recoverable.includes(database)) {
        throw invalid(scenario, `  - database: got ${JSON.stringify(parsed.data.database ?? null)}; expected a database with a recovery section (${recoverable.join(', ') || 'none configured'})`);
      }
      if (parsed.data.snapshot && parsed.data.restoreTime) throw invalid(scenario, '  - snapshot, restoreTime: got both; expected at most one restore point');
      const incidentAt = parsed.data.incidentTime ? normaliseTime(parsed.data.incidentTime) : base.startedAt;
      const restoreTime = parsed.data.restoreTime ? normaliseTime(parsed.data.restoreTime) : null;
      refuseTimesAfterStart(scenario, base.startedAt, { incidentTime: parsed.data.incidentTime, restoreTime: parsed.data.restoreTime });
      if (restoreTime && parsed.data.incidentTime && restoreTime >= incidentAt) {
        throw invalid(
          scenario,
          `  - restoreTime: got ${JSON.stringify(parsed.data.restoreTime)}; expected a time before incidentTime (${incidentAt}): a point at or after the incident may hold the damage`,
        );
      }
      return {
        ...base,
        trigger: parsed.data.trigger,
        dryRun: parsed.data.dryRun,
        reason: parsed.data.reason ?? null,
        databases: [database],
        incidentAt,
        incidentGiven: parsed.data.incidentTime !== undefined,
        recovery: { database, snapshot: parsed.data.snapshot ?? null, restoreTime },
      };
    }
    case 'emergency-rollback': {
      const parsed = emergencyRollbackInput.safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      const kubernetes = config.kubernetes as NonNullable<DeploymentConfig['kubernetes']>;
      return {
        ...base,
        trigger: parsed.data.trigger,
        dryRun: parsed.data.dryRun,
        reason: parsed.data.reason ?? null,
        rollback: {
          cluster: parsed.data.cluster,
          namespace: parsed.data.namespace ?? kubernetes.namespace,
          deployment: parsed.data.deployment ?? kubernetes.apiDeployment,
          toRevision: parsed.data.toRevision ?? null,
        },
      };
    }
  }
}

/** The database-recovery part of the run; a step of that scenario cannot run without it. */
export function recoveryRequest(run: RunContext): DatabaseRecoveryRequest {
  if (!run.recovery) throw new InvalidInput(`run.recovery is missing: this step belongs to database-recovery, not ${run.scenario}`);
  return run.recovery;
}
