// Runs a real statemachines/*.asl.yaml locally with aws-local-stepfunctions, every Task bound to the
// real handler of the function its `Fn::GetAtt` names, invoked in-process the way Lambda would:
// JSON in, JSON out, a thrown error's name as the ASL error and a Lambda-style JSON Cause.
// A callback Task (`arn:aws:states:::lambda:invoke.waitForTaskToken`, which the engine does not know)
// is bound here: its function is invoked with a fresh task token in place of `$$.Task.Token`, then the
// Task waits until that token is answered (SendTaskSuccess / SendTaskFailure through the AWS front, or
// local/task-tokens.ts directly) or its TimeoutSeconds(Path) passes (States.Timeout).
// Used by the state machine tests, the integration tests and the local drill.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import { parse as parseYaml } from 'yaml';
import { describeFailure } from '../shared/report.js';
import { awaitTaskToken, newTaskToken } from './task-tokens.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type Execution = ReturnType<StateMachine['run']>;
/** One entry of the engine's event log (state entered/exited/retried/caught, execution events). */
export type EventLog = Execution['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface LoadedDefinition {
  definition: Record<string, unknown>;
  /** Task state name -> function logical name (from `Fn::GetAtt: [name, Arn]`). */
  taskFunctions: Record<string, string>;
  /** The callback Tasks (`lambda:invoke.waitForTaskToken`) among them. */
  callbackTasks: string[];
  waitStates: string[];
  retryingStates: string[];
}

/** Where the runner finds the token and the timeout in a rewritten callback Task's input. */
const TOKEN_PLACEHOLDER = '<local task token>';
const TIMEOUT_FIELD = '__localTimeoutSeconds';
/** What the engine is told a callback Task may take: the runner times it itself (below setTimeout's 2^31 ms). */
const ENGINE_CALLBACK_TIMEOUT_SECONDS = 2_000_000;
const CALLBACK_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** `Payload` with every `"<key>.$": "$$.Task.Token"` turned into `"<key>": TOKEN_PLACEHOLDER`. */
function withTokenPlaceholder(value: Json): Json {
  if (Array.isArray(value)) return value.map(withTokenPlaceholder);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => (key.endsWith('.$') && item === '$$.Task.Token' ? [key.slice(0, -2), TOKEN_PLACEHOLDER] : [key, withTokenPlaceholder(item)])),
  );
}

function withToken(value: unknown, token: string): unknown {
  if (value === TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(value)) return value.map((item) => withToken(item, token));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withToken(item, token)]));
}

/** A definition given as a file under statemachines/ (its scenario name), or as an object (test-only machines). */
export type DefinitionSource = string | { name: string; definition: Record<string, unknown> };

/**
 * Replaces CloudFormation's `Fn::GetAtt` with a plain Lambda ARN and records which state calls what.
 * A callback Task becomes a plain Task whose input is its `Payload` (the token a placeholder, its
 * TimeoutSecondsPath evaluated into TIMEOUT_FIELD against the state's input, as Step Functions does).
 */
export function loadDefinition(source: DefinitionSource): LoadedDefinition {
  const raw = (
    typeof source === 'string' ? parseYaml(readFileSync(join(root, 'statemachines', `${source}.asl.yaml`), 'utf8')) : structuredClone(source.definition)
  ) as Json;
  const scenario = typeof source === 'string' ? source : source.name;
  const taskFunctions: Record<string, string> = {};
  const callbackTasks: string[] = [];
  const waitStates: string[] = [];
  const retryingStates: string[] = [];
  const visitStates = (states: Record<string, Json>) => {
    for (const [name, state] of Object.entries(states)) {
      if (!state || typeof state !== 'object' || Array.isArray(state)) continue;
      if (state.Type === 'Wait') waitStates.push(name);
      if (Array.isArray(state.Retry)) retryingStates.push(name);
      const resource = state.Resource;
      if (typeof resource === 'string' && resource.startsWith('arn:aws:states:::lambda:invoke')) {
        const parameters = state.Parameters;
        const functionName = parameters && typeof parameters === 'object' && !Array.isArray(parameters) ? parameters.FunctionName : undefined;
        const getAtt = functionName && typeof functionName === 'object' && !Array.isArray(functionName) ? functionName['Fn::GetAtt'] : undefined;
        if (resource !== CALLBACK_RESOURCE || !Array.isArray(getAtt) || typeof getAtt[0] !== 'string') {
          throw new Error(`state ${name}: unsupported Resource ${resource} (only ${CALLBACK_RESOURCE} with FunctionName Fn::GetAtt)`);
        }
        const payload = (parameters as Record<string, Json>).Payload;
        if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new Error(`state ${name}: a callback Task needs an object Payload`);
        const input = withTokenPlaceholder(payload) as Record<string, Json>;
        if (typeof state.TimeoutSecondsPath === 'string') input[`${TIMEOUT_FIELD}.$`] = state.TimeoutSecondsPath;
        else if (typeof state.TimeoutSeconds === 'number') input[TIMEOUT_FIELD] = state.TimeoutSeconds;
        delete state.TimeoutSecondsPath;
        state.TimeoutSeconds = ENGINE_CALLBACK_TIMEOUT_SECONDS;
        state.Parameters = input;
        taskFunctions[name] = getAtt[0];
        callbackTasks.push(name);
        state.Resource = `arn:aws:lambda:us-east-1:123456789012:function:${getAtt[0]}`;
      } else if (resource && typeof resource === 'object' && !Array.isArray(resource)) {
        const getAtt = resource['Fn::GetAtt'];
        if (!Array.isArray(getAtt) || typeof getAtt[0] !== 'string') throw new Error(`state ${name}: unsupported Resource ${JSON.stringify(resource)}`);
        taskFunctions[name] = getAtt[0];
        state.Resource = `arn:aws:lambda:us-east-1:123456789012:function:${getAtt[0]}`;
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as Json;
      if (processor && typeof processor === 'object' && !Array.isArray(processor)) visitStates(processor.States as Record<string, Json>);
      if (Array.isArray(state.Branches)) {
        for (const branch of state.Branches) {
          if (branch && typeof branch === 'object' && !Array.isArray(branch)) visitStates(branch.States as Record<string, Json>);
        }
      }
    }
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${scenario}: definition is not an object`);
  visitStates(raw.States as Record<string, Json>);
  return { definition: raw as Record<string, unknown>, taskFunctions, callbackTasks, waitStates, retryingStates };
}

/** `startScratchRestore` -> functions/start-scratch-restore/handler.ts */
export function handlerPath(functionName: string): string {
  const folder = functionName.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return join(root, 'functions', folder, 'handler.ts');
}

/** The ARN a function has in the local runs (the Task states' Resource, the handler's context). */
export function localFunctionArn(functionName: string): string {
  return `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`;
}

/** Invokes the function's handler in this process as Lambda would (an async invocation's caller, e.g. Secrets Manager). */
export async function invokeLocalFunction(functionName: string, event: unknown): Promise<unknown> {
  const handler = await importHandler(functionName);
  return handler(JSON.parse(JSON.stringify(event)) as unknown, lambdaContext(functionName));
}

export async function importHandler(functionName: string): Promise<LambdaHandler> {
  const module = (await import(pathToFileURL(handlerPath(functionName)).href)) as { handler: LambdaHandler };
  return module.handler;
}

function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(functionName),
    memoryLimitInMB: '256',
    awsRequestId: `local-${Math.random().toString(16).slice(2)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** How Lambda reports a function error to Step Functions: Error = errorType, Cause = JSON. */
class LambdaFunctionError extends Error {
  constructor(original: Error) {
    super(JSON.stringify({ errorType: original.name, errorMessage: original.message, trace: [] }));
    this.name = original.name;
  }
}

/** The ARN a local run of `scenario` named `executionName` has (its `$$.Execution.Id`). */
export function localExecutionArn(scenario: string, executionName: string): string {
  return `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-${scenario}:${executionName}`;
}

export interface TaskCall {
  state: string;
  functionName: string;
  input: unknown;
  output?: unknown;
  error?: string;
}

export interface LocalRunOptions {
  executionName?: string;
  /** Replace a function's handler (e.g. to inject a fault); others use the real handler. */
  handlerOverrides?: Record<string, LambdaHandler>;
  /** Wait states last this many milliseconds (default 0). */
  waitMilliseconds?: number;
  /** Retry intervals as the definition has them (IntervalSeconds, BackoffRate) instead of 0 (the default). */
  realRetryIntervals?: boolean;
  /**
   * How long one second of a callback Task's TimeoutSeconds(Path) lasts here, in milliseconds (default
   * 1000: real time). E.g. 1 makes an approval's 30-minute timeout pass in 1.8 s.
   */
  timeoutMillisecondsPerSecond?: number;
  onEvent?: (event: EventLog) => void;
}

export interface LocalRunResult {
  status: 'SUCCEEDED' | 'FAILED';
  output: unknown;
  /** `cause` as Step Functions shows it; `message` is the errorMessage inside a Lambda's JSON cause. */
  error?: { name: string; cause: string; message: string };
  events: EventLog[];
  calls: TaskCall[];
  /** States entered, the unit Step Functions bills and limits (state transitions). */
  transitions: number;
  executionId: string;
  wallMilliseconds: number;
}

let executionCounter = 0;

/** Step Functions' States.Timeout, as the engine's Catch matches it (by name). */
class CallbackTimeout extends Error {
  constructor(seconds: number) {
    super(`The task did not get an answer within ${seconds} seconds`);
    this.name = 'States.Timeout';
  }
}

/** The error a SendTaskFailure names, with its cause as Step Functions passes it on (not a Lambda JSON cause). */
class CallbackFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

export async function runStateMachine(source: DefinitionSource, input: unknown, options: LocalRunOptions = {}): Promise<LocalRunResult> {
  const loaded = loadDefinition(source);
  const scenario = typeof source === 'string' ? source : source.name;
  const machine = new StateMachine(loaded.definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  const calls: TaskCall[] = [];
  const handlers: Record<string, (event: Json) => Promise<Json>> = {};
  const waitMs = options.waitMilliseconds ?? 0;
  const executionName = options.executionName ?? `local-${Date.now()}-${++executionCounter}`;
  const executionId = localExecutionArn(scenario, executionName);
  const invoke = async (state: string, functionName: string, event: unknown): Promise<Json> => {
    const handler = options.handlerOverrides?.[functionName] ?? (await importHandler(functionName));
    const call: TaskCall = { state, functionName, input: event };
    calls.push(call);
    try {
      // Lambda serialises both ways: no Date objects or undefined fields survive, here neither.
      const result = await handler(JSON.parse(JSON.stringify(event ?? null)), lambdaContext(functionName));
      const output = (result === undefined ? null : JSON.parse(JSON.stringify(result))) as Json;
      call.output = output;
      return output;
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      call.error = `${failure.name}: ${failure.message}`;
      throw new LambdaFunctionError(failure);
    }
  };
  const perSecond = options.timeoutMillisecondsPerSecond ?? 1000;
  for (const state of loaded.callbackTasks) {
    const functionName = loaded.taskFunctions[state] as string;
    handlers[state] = async (event: Json) => {
      const { [TIMEOUT_FIELD]: timeout, ...payload } = (event ?? {}) as Record<string, Json>;
      const seconds = typeof timeout === 'number' ? timeout : 99_999_999;
      if (!Number.isInteger(seconds) || seconds < 1) throw new CallbackFailure('States.Runtime', `TimeoutSecondsPath gave ${JSON.stringify(timeout)}; expected a positive integer`);
      const token = newTaskToken();
      const waiting = awaitTaskToken(token, executionId, state);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CallbackTimeout(seconds)), Math.min(seconds * perSecond, 2 ** 31 - 1));
      });
      try {
        // The function's own failure fails the Task (it sent nothing); its result is not the Task's.
        await Promise.race([invoke(state, functionName, withToken(payload, token)), timedOut]);
        const answer = await Promise.race([waiting.answered, timedOut]);
        if ('error' in answer) throw new CallbackFailure(answer.error, answer.cause);
        return answer.output as Json;
      } catch (error) {
        waiting.end(error instanceof CallbackTimeout ? 'timed-out' : 'ended');
        throw error;
      } finally {
        clearTimeout(timer);
      }
    };
  }
  for (const [state, functionName] of Object.entries(loaded.taskFunctions)) {
    if (loaded.callbackTasks.includes(state)) continue;
    handlers[state] = (event: Json) => invoke(state, functionName, event);
  }
  const started = Date.now();
  const execution = machine.run(input as Json, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      waitTimeOverrides: Object.fromEntries(loaded.waitStates.map((s) => [s, waitMs])),
      ...(options.realRetryIntervals ? {} : { retryIntervalOverrides: Object.fromEntries(loaded.retryingStates.map((s) => [s, 0])) }),
    },
    context: {
      Execution: {
        Id: executionId,
        Name: executionName,
        Input: input as Json,
        StartTime: new Date(started).toISOString(),
        RoleArn: 'arn:aws:iam::123456789012:role/local',
      },
      StateMachine: { Id: `arn:aws:states:us-east-1:123456789012:stateMachine:frontier-dr-${scenario}`, Name: `frontier-dr-${scenario}` },
    },
  });
  const events: EventLog[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      events.push(event);
      options.onEvent?.(event);
    }
  })();
  let output: unknown;
  let failed = false;
  try {
    output = await execution.result;
  } catch {
    failed = true;
  }
  await collecting;
  // The execution's Error and Cause as Step Functions reports them (a Fail state's, or the failed
  // task's error name and Lambda-style JSON cause).
  const failure = events.find((e) => e.type === 'ExecutionFailed');
  const error: LocalRunResult['error'] =
    failed && failure && 'Error' in failure
      ? { name: String(failure.Error), cause: String(failure.Cause ?? ''), message: describeFailure({ Error: String(failure.Error), Cause: String(failure.Cause ?? '') }).message }
      : failed
        ? { name: 'Unknown', cause: '', message: '' }
        : undefined;
  return {
    status: failed ? 'FAILED' : 'SUCCEEDED',
    output,
    ...(error ? { error } : {}),
    events,
    calls,
    transitions: events.filter((e) => e.type === 'StateEntered').length,
    executionId,
    wallMilliseconds: Date.now() - started,
  };
}
