// Runs a real statemachines/*.asl.yaml locally with aws-local-stepfunctions, every Task bound to the
// real handler of the function its `Fn::GetAtt` names, invoked in-process the way Lambda would:
// JSON in, JSON out, a thrown error's name as the ASL error and a Lambda-style JSON Cause.
// Used by the state machine tests, the integration tests and the local drill.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import { parse as parseYaml } from 'yaml';
import { describeFailure } from '../shared/report.js';

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
  waitStates: string[];
  retryingStates: string[];
}

/** Replaces CloudFormation's `Fn::GetAtt` with a plain Lambda ARN and records which state calls what. */
export function loadDefinition(scenario: string): LoadedDefinition {
  const raw = parseYaml(readFileSync(join(root, 'statemachines', `${scenario}.asl.yaml`), 'utf8')) as Json;
  const taskFunctions: Record<string, string> = {};
  const waitStates: string[] = [];
  const retryingStates: string[] = [];
  const visitStates = (states: Record<string, Json>) => {
    for (const [name, state] of Object.entries(states)) {
      if (!state || typeof state !== 'object' || Array.isArray(state)) continue;
      if (state.Type === 'Wait') waitStates.push(name);
      if (Array.isArray(state.Retry)) retryingStates.push(name);
      const resource = state.Resource;
      if (resource && typeof resource === 'object' && !Array.isArray(resource)) {
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
  return { definition: raw as Record<string, unknown>, taskFunctions, waitStates, retryingStates };
}

/** `startScratchRestore` -> functions/start-scratch-restore/handler.ts */
export function handlerPath(functionName: string): string {
  const folder = functionName.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return join(root, 'functions', folder, 'handler.ts');
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
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
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

export async function runStateMachine(scenario: string, input: unknown, options: LocalRunOptions = {}): Promise<LocalRunResult> {
  const loaded = loadDefinition(scenario);
  const machine = new StateMachine(loaded.definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  const calls: TaskCall[] = [];
  const handlers: Record<string, (event: Json) => Promise<Json>> = {};
  for (const [state, functionName] of Object.entries(loaded.taskFunctions)) {
    handlers[state] = async (event: Json) => {
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
  }
  const waitMs = options.waitMilliseconds ?? 0;
  const executionName = options.executionName ?? `local-${Date.now()}-${++executionCounter}`;
  const executionId = `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-${scenario}:${executionName}`;
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
