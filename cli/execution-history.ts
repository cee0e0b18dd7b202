// What the operator CLI reads out of a Step Functions execution history (GetExecutionHistory with
// includeExecutionData): the progress lines `watch` prints, the approval a run waits on (its task
// token, in the TaskScheduled event of the `.waitForTaskToken` Task), and the report PublishReport
// stored. Pure functions over the API's HistoryEvent shapes; no AWS call here.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { DeploymentConfig, Objective } from '../shared/config.js';
import { SCENARIO_NAMES, type ScenarioName } from '../shared/scenarios.js';

/** `arn:aws:states:<region>:<account>:execution:<state machine>:<name>`, taken apart. */
export interface ExecutionArnParts {
  region: string;
  account: string;
  stateMachine: string;
  name: string;
  /** The scenario the state machine runs (`frontier-dr-<stage>-<scenario>`), if it is one of ours. */
  scenario: ScenarioName | null;
}

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):execution:([^:\s]{1,80}):([^:\s]{1,80})$/;

/** The parts of an execution ARN, or null when `arn` is not one. */
export function parseExecutionArn(arn: string): ExecutionArnParts | null {
  const match = EXECUTION_ARN.exec(arn);
  if (!match) return null;
  const stateMachine = match[3] as string;
  // The longest scenario name the machine's name ends with (`...-region-failover`).
  const scenario = [...SCENARIO_NAMES].sort((a, b) => b.length - a.length).find((s) => stateMachine === s || stateMachine.endsWith(`-${s}`)) ?? null;
  return { region: match[1] as string, account: match[2] as string, stateMachine, name: match[4] as string, scenario };
}

/** The Step Functions console page of an execution. */
export function consoleLink(executionArn: string, region: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/**
 * The objectives a scenario's recovery time is measured against (config `objectives`): the API's for
 * the cluster scenarios, the recovered database's for the database ones, both for a region failover;
 * none for backup verification (it measures the RPO exposure, not a recovery).
 */
export function scenarioObjectives(config: DeploymentConfig, scenario: ScenarioName, input: Record<string, unknown> = {}): Objective[] {
  const byComponent = (component: string | undefined) => config.objectives.filter((o) => o.component === component);
  const api = byComponent(config.kubernetes?.component);
  const database = (name: unknown) => byComponent(config.databases.find((d) => d.name === name)?.component);
  const recoverable = config.databases.find((d) => d.recovery)?.name;
  let found: Objective[];
  switch (scenario) {
    case 'backup-verification':
      found = [];
      break;
    case 'restore-test':
      found = config.databases.flatMap((d) => database(d.name));
      break;
    case 'database-recovery':
      found = database(typeof input.database === 'string' ? input.database : recoverable);
      break;
    case 'region-failover':
    case 'region-failback':
      found = [...api, ...database(config.regionFailover?.database)];
      break;
    default:
      found = api;
  }
  return found.filter((o, i) => found.findIndex((other) => other.component === o.component) === i);
}

/** `45s`, `3m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** `elapsed against the tightest RTO`: `3m05s of the 15-min RTO (API Services)`, or the elapsed time alone. */
export function elapsedAgainstRto(ms: number, objectives: readonly Objective[]): string {
  const tightest = [...objectives].sort((a, b) => a.rtoMinutes - b.rtoMinutes)[0];
  if (!tightest) return formatDuration(ms);
  const over = ms > tightest.rtoMinutes * 60_000;
  return `${formatDuration(ms)} of the ${tightest.rtoMinutes}-min RTO (${tightest.component})${over ? ', OVER' : ''}`;
}

/** The name of the state an event belongs to: its own details, or the `*StateEntered` it follows from. */
function stateOf(event: HistoryEvent, byId: Map<number, HistoryEvent>): string | null {
  let current: HistoryEvent | undefined = event;
  for (let hops = 0; current && hops < 10; hops += 1) {
    const name = current.stateEnteredEventDetails?.name ?? current.stateExitedEventDetails?.name;
    if (name) return name;
    current = current.previousEventId ? byId.get(current.previousEventId) : undefined;
  }
  return null;
}

/** `errorMessage` of a Lambda's JSON cause, or the cause as it is; shortened for one line. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  let message = cause;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // Not JSON: a Fail state's or an answer's own cause.
  }
  message = message.replace(/\s+/g, ' ').trim();
  return message.length > 300 ? `${message.slice(0, 297)}...` : message;
}

/** What a step said about itself (`$.steps.<State>.step.detail`) in a state's output, shortened. */
function stepDetail(stateName: string, output: string | undefined): string {
  if (!output) return '';
  try {
    const steps = (JSON.parse(output) as { steps?: Record<string, { step?: { detail?: unknown } }> } | null)?.steps;
    const detail = steps?.[stateName]?.step?.detail;
    if (typeof detail !== 'string' || detail === '') return '';
    return ` — ${detail.length > 110 ? `${detail.slice(0, 107)}...` : detail}`;
  } catch {
    return '';
  }
}

const CALLBACK_RESOURCE = 'invoke.waitForTaskToken';

/** A callback Task waiting for its answer now: the state and the task token that answers it. */
export interface WaitingApproval {
  state: string;
  taskToken: string;
  /** When it started waiting. */
  since: Date | undefined;
}

/**
 * The callback Task (`lambda:invoke.waitForTaskToken`, the approval step's RequestApproval) this history
 * shows waiting now, with its token from the TaskScheduled event's parameters (`Payload.taskToken`),
 * or null: none was scheduled, or the last one has ended (TaskSucceeded, TaskFailed, TaskTimedOut, its
 * state exited, or the execution ended).
 */
export function waitingApproval(events: readonly HistoryEvent[]): WaitingApproval | null {
  const byId = new Map(events.map((e) => [e.id ?? 0, e]));
  let waiting: WaitingApproval | null = null;
  for (const event of events) {
    const details = event.taskScheduledEventDetails;
    if (event.type === 'TaskScheduled' && details?.resource === CALLBACK_RESOURCE) {
      let token: unknown;
      try {
        token = (JSON.parse(details.parameters ?? '{}') as { Payload?: { taskToken?: unknown } }).Payload?.taskToken;
      } catch {
        token = undefined;
      }
      waiting = typeof token === 'string' ? { state: stateOf(event, byId) ?? 'RequestApproval', taskToken: token, since: event.timestamp } : null;
      continue;
    }
    if (!waiting) continue;
    if (['TaskSucceeded', 'TaskFailed', 'TaskTimedOut', 'TaskAborted', 'ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut'].includes(event.type ?? '')) waiting = null;
    else if (event.type === 'TaskStateExited' && event.stateExitedEventDetails?.name === waiting.state) waiting = null;
  }
  return waiting;
}

/** Where PublishReport stored the run's report: from the execution's output, else from that state's own output. */
export function reportLocation(executionOutput: string | undefined, events: readonly HistoryEvent[]): { json: string; markdown: string } | null {
  const fromState = (output: string | undefined) => {
    if (!output) return null;
    try {
      const location = (JSON.parse(output) as { report?: { location?: { json?: unknown; markdown?: unknown } } } | null)?.report?.location;
      return typeof location?.json === 'string' && typeof location.markdown === 'string' ? { json: location.json, markdown: location.markdown } : null;
    } catch {
      return null;
    }
  };
  const fromOutput = fromState(executionOutput);
  if (fromOutput) return fromOutput;
  for (const event of [...events].reverse()) {
    if (event.type === 'TaskStateExited' && event.stateExitedEventDetails?.name === 'PublishReport') {
      const found = fromState(event.stateExitedEventDetails.output);
      if (found) return found;
    }
  }
  return null;
}

export interface ProgressContext {
  executionArn: string;
  /** When the execution started (elapsed times count from here). */
  startedAt: Date;
  objectives: readonly Objective[];
  /** How the operator runs this CLI, for the approve command line (e.g. `npx frontier-dr`). */
  command: string;
}

/**
 * The progress lines for `events` (the new part of a history), one per thing an operator follows: a
 * step started, finished or failed, a wait, an approval waiting (with the command line that answers
 * it), the end of the execution. Each line starts with the time since the execution started, against
 * the scenario's tightest RTO.
 */
export function progressLines(events: readonly HistoryEvent[], context: ProgressContext, earlier: readonly HistoryEvent[] = []): string[] {
  const byId = new Map([...earlier, ...events].map((e) => [e.id ?? 0, e]));
  const lines: string[] = [];
  for (const event of events) {
    const at = event.timestamp ? event.timestamp.getTime() - context.startedAt.getTime() : 0;
    const prefix = `[${formatDuration(at).padStart(6)}]`;
    const state = stateOf(event, byId) ?? '?';
    switch (event.type) {
      case 'TaskStateEntered':
        lines.push(`${prefix} started  ${state}`);
        break;
      case 'WaitStateEntered':
        lines.push(`${prefix} waiting  ${state}`);
        break;
      case 'TaskStateExited':
      case 'MapStateExited':
      case 'ParallelStateExited':
        lines.push(`${prefix} done     ${state}${stepDetail(state, event.stateExitedEventDetails?.output)}`);
        break;
      case 'LambdaFunctionFailed':
        lines.push(`${prefix} FAILED   ${state}: ${event.lambdaFunctionFailedEventDetails?.error ?? 'error'}: ${causeMessage(event.lambdaFunctionFailedEventDetails?.cause)}`);
        break;
      case 'TaskFailed':
        lines.push(`${prefix} FAILED   ${state}: ${event.taskFailedEventDetails?.error ?? 'error'}: ${causeMessage(event.taskFailedEventDetails?.cause)}`);
        break;
      case 'TaskTimedOut':
        lines.push(`${prefix} TIMED OUT ${state}: no answer in time`);
        break;
      case 'TaskScheduled':
        if (event.taskScheduledEventDetails?.resource === CALLBACK_RESOURCE) {
          lines.push(`${prefix} APPROVAL ${state} is waiting for an answer. Approve or decline with:`);
          lines.push(`           ${context.command} approve ${context.executionArn} --by "<your name>"`);
          lines.push(`           ${context.command} approve ${context.executionArn} --by "<your name>" --decline --reason "<why>"`);
        }
        break;
      case 'TaskSucceeded':
        if (event.taskSucceededEventDetails?.resource === CALLBACK_RESOURCE) lines.push(`${prefix} answered ${state}: ${approvalAnswer(state, event.taskSucceededEventDetails.output)}`);
        break;
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimedOut': {
        const status = event.type.replace('Execution', '').toUpperCase();
        const failure = event.executionFailedEventDetails;
        lines.push(`${prefix} ended ${status} after ${elapsedAgainstRto(at, context.objectives)}${failure ? `: ${failure.error ?? ''} ${causeMessage(failure.cause)}`.trimEnd() : ''}`);
        break;
      }
      default:
        break;
    }
  }
  return lines;
}

/**
 * The answer a callback Task got: the task's result as sent (AWS), or, where the history carries the
 * state's output instead (the local runner), the approval step's envelope of it (`steps.<state>.data`).
 */
function approvalAnswer(state: string, output: string | undefined): string {
  try {
    type Answer = { approved?: unknown; by?: unknown; via?: unknown };
    const parsed = JSON.parse(output ?? '{}') as Answer & { steps?: Record<string, { data?: Answer }> };
    const answer = 'approved' in parsed ? parsed : (parsed.steps?.[state]?.data ?? parsed);
    return `${answer.approved === true ? 'approved' : 'declined'}${typeof answer.by === 'string' ? ` by ${answer.by}` : ''}${typeof answer.via === 'string' ? ` (${answer.via})` : ''}`;
  } catch {
    return 'answered';
  }
}

