// The local runner's callback pattern, which the approval step relies on: a
// `lambda:invoke.waitForTaskToken` Task (the approval fragment's RequestApproval) invokes its function
// with a fresh token in place of $$.Task.Token, then waits for that token's answer (here given straight
// to local/task-tokens.ts, as the AWS front does for SendTaskSuccess / SendTaskFailure), or until its
// TimeoutSecondsPath passes (scaled). The real planApproval runs; requestApproval is replaced by a
// function that only records its event (test/integration/approval.test.ts runs the real one).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { RunContext } from '../../shared/run.js';
import { runStateMachine, type LambdaHandler, type LocalRunResult } from '../../local/local-state-machine.js';
import { onTaskWaiting, sendTaskFailure, sendTaskHeartbeat, sendTaskSuccess, waitingTasks, type WaitingTask } from '../../local/task-tokens.js';
import { configWith, useConfig } from '../support/fixtures.js';
import { loadHandlers } from '../support/state-machine-runs.js';

const fragment = parseYaml(readFileSync(join(process.cwd(), 'statemachines', 'fragments', 'approval.asl.yaml'), 'utf8')) as Record<string, unknown>;
const machine = {
  name: 'approval-callback-test',
  definition: {
    StartAt: 'DescribeChanges',
    States: {
      DescribeChanges: { Type: 'Pass', Result: { actions: ['Move api.frontier.com to us-east-1'] }, ResultPath: '$.approvalRequest', Next: 'PlanApproval' },
      ...fragment,
      AfterApproval: { Type: 'Pass', Result: 'changed', ResultPath: '$.changed', Next: 'PublishReport' },
      PublishReport: { Type: 'Pass', End: true },
    },
  },
};

const run = {
  scenario: 'cluster-failover',
  executionId: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-approval-callback-test:x',
  executionName: 'x',
  startedAt: '2026-11-30T12:00:00.000Z',
  incidentAt: '2026-11-30T12:00:00.000Z',
  incidentNamedByOperator: false,
  trigger: 'manual',
  dryRun: false,
  reason: null,
  databases: [],
  force: false,
  rollback: null,
  productionReplicas: null,
  recovery: null,
} satisfies RunContext;

let events: unknown[] = [];
const recordingRequest: LambdaHandler = async (event) => {
  events.push(event);
  return { approvalId: 'recorded' };
};

beforeAll(async () => {
  useConfig(configWith((raw) => void ((raw as unknown as Record<string, unknown>).approvals = { 'cluster-failover': { policy: 'approval', timeoutMinutes: 10, onTimeout: 'decline' } })));
  await loadHandlers(['planApproval']);
});

beforeEach(() => {
  events = [];
});

/** Runs the machine; `answer` is given each callback Task as it starts waiting. */
async function runWith(answer: (task: WaitingTask) => void, options: { handler?: LambdaHandler; msPerSecond?: number } = {}): Promise<LocalRunResult> {
  const stop = onTaskWaiting((task) => setTimeout(() => answer(task), 20));
  try {
    return await runStateMachine(machine, { run, steps: {}, failures: {} }, { handlerOverrides: { requestApproval: options.handler ?? recordingRequest }, timeoutMillisecondsPerSecond: options.msPerSecond ?? 1000 });
  } finally {
    stop();
  }
}

const output = (result: LocalRunResult) => result.output as { changed?: string; steps: Record<string, { data: unknown }>; failures: Record<string, unknown> };

describe('a .waitForTaskToken Task run locally', () => {
  it('invokes the function with its Payload and a fresh token, and takes the SendTaskSuccess output as its result', async () => {
    let seen: WaitingTask | undefined;
    const result = await runWith((task) => {
      seen = task;
      sendTaskHeartbeat(task.token);
      sendTaskSuccess(task.token, JSON.stringify({ approved: true, by: 'Dana', via: 'console', at: '2026-11-30T12:01:00Z' }));
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(seen).toMatchObject({ state: 'RequestApproval', executionId: result.executionId });
    expect(events).toEqual([{ run, approval: expect.objectContaining({ required: true, timeoutSeconds: 600, onTimeout: 'decline' }), taskToken: seen!.token }]);
    expect(output(result).steps.RequestApproval!.data).toEqual({ approved: true, by: 'Dana', via: 'console', at: '2026-11-30T12:01:00Z' });
    expect(output(result).changed).toBe('changed');
    expect(waitingTasks()).toEqual([]);
    // The token is spent: Step Functions' own refusal.
    expect(() => sendTaskSuccess(seen!.token, '{}')).toThrow(expect.objectContaining({ name: 'TaskDoesNotExist' }));
  });

  it('fails the Task with the SendTaskFailure error and cause, which the fragment catches', async () => {
    const result = await runWith((task) => sendTaskFailure(task.token, 'ApprovalDeclined', 'declined by Dana'));
    expect(output(result).failures.RequestApproval).toEqual({ Error: 'ApprovalDeclined', Cause: 'declined by Dana' });
    expect(output(result).changed).toBeUndefined();
  });

  it('refuses output that is not JSON, keeping the task waiting', async () => {
    const result = await runWith((task) => {
      expect(() => sendTaskSuccess(task.token, 'yes')).toThrow(expect.objectContaining({ name: 'InvalidOutput' }));
      sendTaskSuccess(task.token, '{"approved": true}');
    });
    expect(output(result).changed).toBe('changed');
  });

  it('times out after TimeoutSecondsPath, scaled, as States.Timeout; the token then answers TaskTimedOut', async () => {
    let token = '';
    const started = Date.now();
    // 600 s at 2 ms per second: 1.2 s.
    const result = await runWith((task) => void (token = task.token), { msPerSecond: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1100);
    expect(output(result).failures.RequestApproval).toMatchObject({ Error: 'ApprovalDeclined', Cause: expect.stringContaining('onTimeout is decline') });
    expect(() => sendTaskSuccess(token, '{}')).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });

  it("fails the Task with the function's own error when the function fails (nothing was asked)", async () => {
    const failing: LambdaHandler = async () => {
      throw Object.assign(new Error('topic not found'), { name: 'ResourceNotFound' });
    };
    const result = await runWith(() => undefined, { handler: failing });
    expect(output(result).failures.RequestApproval).toMatchObject({ Error: 'ResourceNotFound' });
    expect(waitingTasks()).toEqual([]);
  });
});
