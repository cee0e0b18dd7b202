// Region failover's first decision: is the primary region really down? The region-failure alarm, read
// in the recovery region, must still be in ALARM once its confirmation period has passed. The decision
// is pure; confirmOutage is the one look per wait loop.
import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { regionFailoverConfig, type DeploymentConfig } from './config.js';
import { awsCall, ResourceNotFound } from './errors.js';
import type { StepResult } from './steps.js';


/** The alarm as DescribeAlarms shows it: its state and when it last changed state (UTC ISO). */
export interface AlarmFacts {
  name: string;
  state: string;
  changedAt: string;
}

export interface ConfirmationDecision {
  /** confirmed: in ALARM for the whole confirmation period; waiting: not long enough yet; cleared: no longer in ALARM. */
  outcome: 'confirmed' | 'waiting' | 'cleared';
  confirmed: boolean;
  cleared: boolean;
  /** Seconds until the period ends (the state machine's Wait SecondsPath); 0 unless waiting. */
  waitSeconds: number;
  /** UTC ISO: since when the alarm has been in ALARM without a break (null unless in ALARM). */
  inAlarmSince: string | null;
  /** UTC ISO: when the outage counts as confirmed (null unless in ALARM). */
  confirmAt: string | null;
  alarmState: string;
}

/**
 * Whether the outage is confirmed: the alarm still in ALARM `confirmationMinutes` after it went into
 * ALARM. The period counts from the later of the alarm's own last state change and `alarmedAt` (the
 * state change that started the run): an alarm that went OK and back meanwhile starts its period again.
 * A manual start (`alarmedAt` null) counts from the alarm's own change: an alarm in ALARM for ten
 * minutes already is confirmed at once. Pure.
 */
export function decideConfirmation(alarm: AlarmFacts, alarmedAt: string | null, confirmationMinutes: number, now: Date): ConfirmationDecision {
  if (alarm.state !== 'ALARM') {
    return { outcome: 'cleared', confirmed: false, cleared: true, waitSeconds: 0, inAlarmSince: null, confirmAt: null, alarmState: alarm.state };
  }
  const since = alarmedAt === null ? Date.parse(alarm.changedAt) : Math.max(Date.parse(alarm.changedAt), Date.parse(alarmedAt));
  const confirmAt = since + confirmationMinutes * 60_000;
  const remaining = confirmAt - now.getTime();
  const base = { inAlarmSince: new Date(since).toISOString(), confirmAt: new Date(confirmAt).toISOString(), alarmState: alarm.state, cleared: false };
  if (remaining <= 0) return { ...base, outcome: 'confirmed', confirmed: true, waitSeconds: 0 };
  // Wait exactly until the period ends (rounded up to a whole second): no overshoot, no extra look.
  return { ...base, outcome: 'waiting', confirmed: false, waitSeconds: Math.max(1, Math.ceil(remaining / 1000)) };
}

/**
 * The ConfirmOutage step: one look at the region-failure alarm (regionFailover.detection.alarmName)
 * in the recovery region, decided by decideConfirmation. Read-only.
 *
 * AWS: cloudwatch:DescribeAlarms (recovery region). Throws ResourceNotFound (no such alarm: the stack
 * creates it), AwsTransientError, AwsAccessDenied.
 *
 * @param alarmedAt UTC ISO time the alarm went into ALARM as the starting event said (run.incidentAt
 *   of an alarm start); null for a manual start.
 */
export async function confirmOutage(
  config: DeploymentConfig,
  alarmedAt: string | null,
  cloudwatch: CloudWatchClient,
  now: Date,
): Promise<StepResult<ConfirmationDecision & { alarmName: string; confirmationMinutes: number }>> {
  const { alarmName, confirmationMinutes } = regionFailoverConfig(config).detection;
  const answer = await awsCall('cloudwatch:DescribeAlarms', `${alarmName} in ${config.recoveryRegion}`, () =>
    cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] })),
  );
  const found = answer.MetricAlarms?.[0] ?? answer.CompositeAlarms?.[0];
  if (!found) throw new ResourceNotFound(`alarm ${alarmName} does not exist in ${config.recoveryRegion}: the stack creates it (regionFailover.detection)`);
  const changed = ('StateTransitionedTimestamp' in found ? found.StateTransitionedTimestamp : undefined) ?? found.StateUpdatedTimestamp ?? now;
  const decision = decideConfirmation({ name: alarmName, state: found.StateValue ?? 'UNKNOWN', changedAt: changed.toISOString() }, alarmedAt, confirmationMinutes, now);
  const detail =
    decision.outcome === 'confirmed'
      ? `${alarmName} has been in ALARM since ${decision.inAlarmSince} (at least ${confirmationMinutes} min): outage confirmed`
      : decision.outcome === 'waiting'
        ? `${alarmName} in ALARM since ${decision.inAlarmSince}; confirmed at ${decision.confirmAt} if it stays so (${decision.waitSeconds} s from now)`
        : `${alarmName} is ${decision.alarmState}, no longer in ALARM: the outage was not confirmed, and nothing was changed`;
  return { data: { ...decision, alarmName, confirmationMinutes }, detail };
}

