// The stack's state machines as the Step Functions API shows them, served by the AWS front for the local
// runs: ListStateMachines lists `frontier-dr-<stage>-<scenario>`, StartExecution starts the real
// definition with the real handlers in this process (the local runner), DescribeExecution and
// GetExecutionHistory answer from the run as it goes. So a separate process (the operator CLI, with
// AWS_ENDPOINT_URL at the front) can start, watch, approve and report a run as it would in AWS; moto's
// own Step Functions cannot run our Lambdas.
//
// The history is the runner's event log in Step Functions' shapes (`TaskStateEntered` with
// `stateEnteredEventDetails`, `LambdaFunctionFailed`, `ExecutionSucceeded`...): the types and fields the
// API documents, a subset of the events (no LambdaFunctionScheduled/Started/Succeeded around each Task).
// A callback Task (`.waitForTaskToken`) gets the `TaskScheduled` event AWS writes, whose `parameters`
// hold the task token in `Payload.taskToken` (in AWS the whole resolved Payload; here the token alone,
// which is what an answer needs), then `TaskSucceeded` / `TaskFailed` / `TaskTimedOut` when it ends
// (TaskSucceeded's `output` is the state's output here, the answer inside it: the runner's events do
// not carry the task's raw result).
import { randomUUID } from 'node:crypto';
import type { EventLog, LocalRunResult } from './local-state-machine.js';
import { localExecutionArn } from './local-state-machine.js';
import { onTaskWaiting } from './task-tokens.js';

/** The local runner's account and region: where its executions are named (local-state-machine.ts). */
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

export interface StateMachineServiceOptions {
  /** The stage the machines are named for (`frontier-dr-<stage>-<scenario>`). */
  stage: string;
  /** The scenarios served (statemachines/<name>.asl.yaml). */
  scenarios: readonly string[];
  /** Runs one execution to its end (e.g. runEmulatedExecution), reporting each engine event as it happens. */
  run(scenario: string, input: unknown, options: { executionName: string; onEvent: (event: EventLog) => void }): Promise<LocalRunResult>;
}

/** One history event as the Step Functions JSON API sends it (timestamps in epoch seconds). */
type HistoryEvent = { id: number; previousEventId: number; timestamp: number; type: string } & Record<string, unknown>;

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  startDate: number;
  stopDate?: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  output?: string;
  error?: string;
  cause?: string;
  history: HistoryEvent[];
  /** The id of the last `*StateEntered` event of each state now running (for previousEventId). */
  entered: Map<string, number>;
  /** Callback states waiting on a token now. */
  callbacks: Set<string>;
  done: Promise<void>;
}

/** An answer of the service: a JSON body, or an API error by its name (the SDK's exception class). */
export type ServiceAnswer = { status: 200; body: unknown } | { status: 400; error: string; message: string };

export interface StateMachineService {
  /** The Step Functions actions the service answers (X-Amz-Target `AWSStepFunctions.<action>`). */
  handles(action: string): boolean;
  /** The answer, or null when the request is not about a served machine or execution (moto answers it). */
  answer(action: string, body: Record<string, unknown>, region: string): ServiceAnswer | null;
  /** Resolves once every execution started so far has ended. */
  settled(): Promise<void>;
  stop(): void;
}

const ACTIONS = new Set(['ListStateMachines', 'DescribeStateMachine', 'StartExecution', 'DescribeExecution', 'GetExecutionHistory']);

const seconds = (ms: number) => ms / 1000;

const STATE_EVENT_PREFIX: Record<string, string> = { Task: 'Task', Choice: 'Choice', Wait: 'Wait', Pass: 'Pass', Map: 'Map', Parallel: 'Parallel', Succeed: 'Succeed', Fail: 'Fail' };

export function createStateMachineService(options: StateMachineServiceOptions): StateMachineService {
  const machineName = (scenario: string) => `frontier-dr-${options.stage}-${scenario}`;
  const machineArn = (scenario: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machineName(scenario)}`;
  const created = Date.now();
  const executions = new Map<string, Execution>();

  const add = (execution: Execution, type: string, details: Record<string, unknown>, previousEventId?: number): number => {
    const id = execution.history.length + 1;
    execution.history.push({ id, previousEventId: previousEventId ?? id - 1, timestamp: seconds(Date.now()), type, ...details });
    return id;
  };

  // A callback Task starts waiting: the event an answer finds its token in.
  const unsubscribe = onTaskWaiting((task) => {
    const execution = executions.get(task.executionId);
    if (!execution) return;
    execution.callbacks.add(task.state);
    // The engine's events reach the history a few microtasks after they happen, and the token is made
    // as the state starts: after them, as in AWS, TaskScheduled follows the state's TaskStateEntered.
    setImmediate(() => add(
      execution,
      'TaskScheduled',
      {
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke.waitForTaskToken',
          region: REGION,
          parameters: JSON.stringify({ FunctionName: task.state, Payload: { taskToken: task.token } }),
        },
      },
      execution.entered.get(task.state),
    ));
  });

  const record = (execution: Execution, event: EventLog) => {
    switch (event.type) {
      case 'StateEntered': {
        const prefix = STATE_EVENT_PREFIX[event.state.type] ?? 'Task';
        const id = add(execution, `${prefix}StateEntered`, { stateEnteredEventDetails: { name: event.state.name, input: JSON.stringify(event.state.input ?? null) } });
        execution.entered.set(event.state.name, id);
        break;
      }
      case 'StateExited': {
        const prefix = STATE_EVENT_PREFIX[event.state.type] ?? 'Task';
        if (execution.callbacks.delete(event.state.name)) add(execution, 'TaskSucceeded', { taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', output: JSON.stringify(event.state.output ?? null) } });
        add(execution, `${prefix}StateExited`, { stateExitedEventDetails: { name: event.state.name, output: JSON.stringify(event.state.output ?? null) } });
        execution.entered.delete(event.state.name);
        break;
      }
      case 'StateFailed': {
        const error = String(event.Error);
        const cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause ?? '');
        if (execution.callbacks.delete(event.state.name)) {
          if (error === 'States.Timeout') add(execution, 'TaskTimedOut', { taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error, cause } });
          else add(execution, 'TaskFailed', { taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error, cause } });
        } else if (event.state.type === 'Task') {
          add(execution, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error, cause } }, execution.entered.get(event.state.name));
        }
        execution.entered.delete(event.state.name);
        break;
      }
      case 'MapIterationStarted':
        add(execution, 'MapIterationStarted', { mapIterationStartedEventDetails: { name: event.parentState.name, index: event.index } });
        break;
      default:
        break;
    }
  };

  const start = (scenario: string, body: Record<string, unknown>): ServiceAnswer => {
    const name = typeof body.name === 'string' ? body.name : randomUUID();
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) return { status: 400, error: 'InvalidName', message: `Invalid Name: '${name}'` };
    const inputText = typeof body.input === 'string' ? body.input : '{}';
    let input: unknown;
    try {
      input = JSON.parse(inputText);
    } catch {
      return { status: 400, error: 'InvalidExecutionInput', message: 'Invalid State Machine Execution Input: not JSON' };
    }
    const executionArn = localExecutionArn(scenario, name);
    if (executions.has(executionArn)) return { status: 400, error: 'ExecutionAlreadyExists', message: `Execution Already Exists: '${executionArn}'` };
    const execution: Execution = {
      executionArn,
      stateMachineArn: machineArn(scenario),
      name,
      input: inputText,
      startDate: seconds(Date.now()),
      status: 'RUNNING',
      history: [],
      entered: new Map(),
      callbacks: new Set(),
      done: Promise.resolve(),
    };
    executions.set(executionArn, execution);
    add(execution, 'ExecutionStarted', { executionStartedEventDetails: { input: inputText, roleArn: `arn:aws:iam::${ACCOUNT}:role/local` } }, 0);
    execution.done = options
      .run(scenario, input, { executionName: name, onEvent: (event) => record(execution, event) })
      .then((run) => {
        if (run.executionId !== executionArn) throw new Error(`local execution ${run.executionId} is not the one started (${executionArn})`);
        execution.status = run.status;
        if (run.status === 'SUCCEEDED') {
          execution.output = JSON.stringify(run.output ?? null);
          add(execution, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: execution.output } });
        } else {
          execution.error = run.error?.name ?? 'Unknown';
          execution.cause = run.error?.cause ?? '';
          add(execution, 'ExecutionFailed', { executionFailedEventDetails: { error: execution.error, cause: execution.cause } });
        }
      })
      .catch((error: unknown) => {
        // The runner itself broke (not the run): the execution fails as an engine failure would.
        execution.status = 'FAILED';
        execution.error = 'States.Runtime';
        execution.cause = error instanceof Error ? error.message : String(error);
        add(execution, 'ExecutionFailed', { executionFailedEventDetails: { error: execution.error, cause: execution.cause } });
      })
      .finally(() => {
        execution.stopDate = seconds(Date.now());
      });
    return { status: 200, body: { executionArn, startDate: execution.startDate } };
  };

  const scenarioOf = (arn: unknown): string | undefined =>
    typeof arn === 'string' ? options.scenarios.find((scenario) => arn === machineArn(scenario)) : undefined;

  return {
    handles: (action) => ACTIONS.has(action),
    answer(action, body, region) {
      switch (action) {
        case 'ListStateMachines':
          return {
            status: 200,
            body: {
              stateMachines:
                region === REGION ? options.scenarios.map((s) => ({ stateMachineArn: machineArn(s), name: machineName(s), type: 'STANDARD', creationDate: seconds(created) })) : [],
            },
          };
        case 'DescribeStateMachine': {
          const scenario = scenarioOf(body.stateMachineArn);
          return scenario ? { status: 200, body: { stateMachineArn: machineArn(scenario), name: machineName(scenario), status: 'ACTIVE', type: 'STANDARD', creationDate: seconds(created), definition: '{}', roleArn: `arn:aws:iam::${ACCOUNT}:role/local` } } : null;
        }
        case 'StartExecution': {
          const scenario = scenarioOf(body.stateMachineArn);
          return scenario ? start(scenario, body) : null;
        }
        case 'DescribeExecution': {
          const execution = executions.get(String(body.executionArn));
          if (!execution) return null;
          const { executionArn, stateMachineArn, name, status, startDate, stopDate, input, output, error, cause } = execution;
          return { status: 200, body: { executionArn, stateMachineArn, name, status, startDate, stopDate, input, output, error, cause } };
        }
        case 'GetExecutionHistory': {
          const execution = executions.get(String(body.executionArn));
          if (!execution) return null;
          const events = body.reverseOrder === true ? [...execution.history].reverse() : execution.history;
          const max = typeof body.maxResults === 'number' && body.maxResults > 0 ? Math.min(body.maxResults, 1000) : 100;
          const from = typeof body.nextToken === 'string' ? Number(body.nextToken) : 0;
          const page = events.slice(from, from + max);
          return { status: 200, body: { events: page, ...(from + max < events.length ? { nextToken: String(from + max) } : {}) } };
        }
        default:
          return null;
      }
    },
    settled: async () => {
      await Promise.all([...executions.values()].map((e) => e.done));
    },
    stop: unsubscribe,
  };
}
