// The callback pattern (`.waitForTaskToken`) for the local runs: aws-local-stepfunctions has no task
// tokens, so the local runner (local-state-machine.ts) makes one per callback Task, invokes the
// function with it and waits here until it is answered; the AWS front (aws-front.ts) answers
// SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat from here, with Step Functions' own errors,
// so the product's answer path (its SFN client, AWS_ENDPOINT_URL) runs unchanged. One registry per
// process: the runs and the front of the local environment live in the same process.
import { randomBytes } from 'node:crypto';

/** A token this registry made: a prefix and 96 random bytes, base64 like Step Functions' own. */
const TOKEN = /^AQlocal[A-Za-z0-9+/]{128}$/;

/** What a waiting callback Task is told: its output, or the error and cause to fail with. */
export type TaskAnswer = { output: unknown } | { error: string; cause: string };

export interface WaitingTask {
  token: string;
  executionId: string;
  state: string;
  since: Date;
}

/** Step Functions' answer to a SendTask* call it refuses, by its error name (the API's own names). */
export class TaskTokenError extends Error {
  constructor(
    name: 'TaskDoesNotExist' | 'TaskTimedOut' | 'InvalidToken' | 'InvalidOutput',
    message: string,
  ) {
    super(message);
    this.name = name;
  }
}

interface Entry extends WaitingTask {
  answer: (answer: TaskAnswer) => void;
}

const waiting = new Map<string, Entry>();
/** Tokens no longer waiting, and why: SendTask* on them is refused as Step Functions does. */
const finished = new Map<string, 'answered' | 'timed-out' | 'ended'>();
const listeners = new Set<(task: WaitingTask) => void>();

export function newTaskToken(): string {
  return `AQlocal${randomBytes(96).toString('base64')}`;
}

/**
 * Registers `token` as waiting; `answered` settles with its answer. Register before invoking the
 * function: the answer can come while the function still runs.
 */
export function awaitTaskToken(token: string, executionId: string, state: string): { answered: Promise<TaskAnswer>; end(why: 'timed-out' | 'ended'): void } {
  let resolve!: (answer: TaskAnswer) => void;
  const answered = new Promise<TaskAnswer>((r) => (resolve = r));
  const entry: Entry = { token, executionId, state, since: new Date(), answer: resolve };
  waiting.set(token, entry);
  for (const listener of listeners) listener({ token, executionId, state, since: entry.since });
  return {
    answered,
    end(why) {
      if (waiting.delete(token)) finished.set(token, why);
    },
  };
}

function take(token: unknown): Entry {
  if (typeof token !== 'string' || token.length === 0 || token.length > 2048) throw new TaskTokenError('InvalidToken', 'Invalid Token');
  const entry = waiting.get(token);
  if (entry) return entry;
  const why = finished.get(token);
  if (why === 'timed-out') throw new TaskTokenError('TaskTimedOut', 'Task Timed Out');
  if (why || TOKEN.test(token)) throw new TaskTokenError('TaskDoesNotExist', 'Task Does Not Exist');
  throw new TaskTokenError('InvalidToken', 'Invalid Token: Invalid token format');
}

/** SendTaskSuccess: `output` is the JSON text the task's result becomes. */
export function sendTaskSuccess(token: unknown, output: unknown): void {
  const entry = take(token);
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(output));
  } catch {
    throw new TaskTokenError('InvalidOutput', 'Invalid Output: not JSON');
  }
  waiting.delete(entry.token);
  finished.set(entry.token, 'answered');
  entry.answer({ output: parsed });
}

/** SendTaskFailure: the task fails with `error` and `cause` (Step Functions' defaults when omitted). */
export function sendTaskFailure(token: unknown, error: unknown, cause: unknown): void {
  const entry = take(token);
  waiting.delete(entry.token);
  finished.set(entry.token, 'answered');
  entry.answer({ error: typeof error === 'string' && error ? error : 'States.TaskFailed', cause: typeof cause === 'string' ? cause : '' });
}

/** SendTaskHeartbeat: only checks that the task still waits (no heartbeat timeouts locally). */
export function sendTaskHeartbeat(token: unknown): void {
  take(token);
}

/** The callback Tasks waiting now, oldest first. */
export function waitingTasks(): WaitingTask[] {
  return [...waiting.values()].map(({ token, executionId, state, since }) => ({ token, executionId, state, since }));
}

/** Calls `listener` for each callback Task that starts waiting from now on, until the returned function is called. */
export function onTaskWaiting(listener: (task: WaitingTask) => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}
