// The Step Functions API the AWS front serves for the local runs (local/state-machine-service.ts): the
// stack's machines listed by stage, an execution started and described, its history in Step Functions'
// shapes with the waiting callback's token where the CLI looks for it, and requests about anything
// else left to moto (null). The run is a stand-in that emits the runner's events and waits on a real
// task token (local/task-tokens.ts), so no server is needed.
import { createStateMachineService } from '../../local/state-machine-service.js';
import { localExecutionArn, type EventLog, type LocalRunResult } from '../../local/local-state-machine.js';
import { awaitTaskToken, newTaskToken, sendTaskSuccess } from '../../local/task-tokens.js';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:frontier-dr-test-region-failover';

function fakeRun(scenario: string, _input: unknown, options: { executionName: string; onEvent: (event: EventLog) => void }): Promise<LocalRunResult> {
  const executionId = localExecutionArn(scenario, options.executionName);
  const state = (name: string, type: 'Task' | 'Choice', extra: Record<string, unknown> = {}) => ({ name, type, input: {}, ...extra });
  return (async () => {
    options.onEvent({ type: 'StateEntered', timestamp: Date.now(), state: state('StartRun', 'Task') } as EventLog);
    options.onEvent({ type: 'StateExited', timestamp: Date.now(), state: state('StartRun', 'Task', { output: { run: {} } }) } as EventLog);
    options.onEvent({ type: 'StateEntered', timestamp: Date.now(), state: state('RequestApproval', 'Task') } as EventLog);
    const token = newTaskToken();
    const waiting = awaitTaskToken(token, executionId, 'RequestApproval');
    const answer = await waiting.answered;
    options.onEvent({ type: 'StateExited', timestamp: Date.now(), state: state('RequestApproval', 'Task', { output: { steps: { RequestApproval: { data: 'output' in answer ? answer.output : null } } } }) } as EventLog);
    return { status: 'SUCCEEDED', output: { done: true }, events: [], calls: [], transitions: 4, executionId, wallMilliseconds: 1 } as LocalRunResult;
  })();
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('createStateMachineService', () => {
  const service = createStateMachineService({ stage: 'test', scenarios: ['backup-verification', 'region-failover'], run: fakeRun });
  afterAll(() => service.stop());

  it("lists the stack's machines, named for the stage, in the runner's region only", () => {
    expect(service.answer('ListStateMachines', {}, 'us-east-1')).toEqual({
      status: 200,
      body: { stateMachines: [expect.objectContaining({ name: 'frontier-dr-test-backup-verification' }), expect.objectContaining({ name: 'frontier-dr-test-region-failover', stateMachineArn: MACHINE })] },
    });
    expect(service.answer('ListStateMachines', {}, 'us-west-2')).toEqual({ status: 200, body: { stateMachines: [] } });
  });

  it('leaves other machines and executions to moto', () => {
    expect(service.answer('StartExecution', { stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:frontier-dr-region-failover' }, 'us-east-1')).toBeNull();
    expect(service.answer('DescribeExecution', { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:x:y' }, 'us-east-1')).toBeNull();
  });

  it('refuses a bad name, an input that is not JSON and a name used twice, with the API errors', () => {
    expect(service.answer('StartExecution', { stateMachineArn: MACHINE, name: 'has space' }, 'us-east-1')).toMatchObject({ status: 400, error: 'InvalidName' });
    expect(service.answer('StartExecution', { stateMachineArn: MACHINE, name: 'bad-input', input: '{' }, 'us-east-1')).toMatchObject({ status: 400, error: 'InvalidExecutionInput' });
  });

  it('runs an execution and shows its history: the waiting token in TaskScheduled, the answer, the end', async () => {
    const started = service.answer('StartExecution', { stateMachineArn: MACHINE, name: 'run-1', input: '{"dryRun": false}' }, 'us-east-1');
    const arn = localExecutionArn('region-failover', 'run-1');
    expect(started).toEqual({ status: 200, body: { executionArn: arn, startDate: expect.any(Number) } });
    expect(service.answer('StartExecution', { stateMachineArn: MACHINE, name: 'run-1' }, 'us-east-1')).toMatchObject({ status: 400, error: 'ExecutionAlreadyExists' });

    const history = () => (service.answer('GetExecutionHistory', { executionArn: arn, maxResults: 1000 }, 'us-east-1') as { body: { events: { id: number; previousEventId: number; type: string; [key: string]: unknown }[] } }).body.events;
    await until(() => history().some((e) => e.type === 'TaskScheduled'));
    const scheduled = history().find((e) => e.type === 'TaskScheduled')!;
    const entered = history().find((e) => e.type === 'TaskStateEntered' && (e.stateEnteredEventDetails as { name: string }).name === 'RequestApproval')!;
    expect(scheduled.previousEventId).toBe(entered.id);
    const token = (JSON.parse((scheduled.taskScheduledEventDetails as { parameters: string }).parameters) as { Payload: { taskToken: string } }).Payload.taskToken;
    expect(service.answer('DescribeExecution', { executionArn: arn }, 'us-east-1')).toMatchObject({ status: 200, body: { status: 'RUNNING', stateMachineArn: MACHINE, name: 'run-1' } });

    sendTaskSuccess(token, JSON.stringify({ approved: true, by: 'Ann', via: 'cli' }));
    await service.settled();
    expect(history().map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(service.answer('DescribeExecution', { executionArn: arn }, 'us-east-1')).toMatchObject({ body: { status: 'SUCCEEDED', output: '{"done":true}', stopDate: expect.any(Number) } });
    // Paging as the API pages: maxResults, then nextToken.
    const first = service.answer('GetExecutionHistory', { executionArn: arn, maxResults: 3 }, 'us-east-1') as { body: { events: unknown[]; nextToken?: string } };
    expect(first.body.events).toHaveLength(3);
    const rest = service.answer('GetExecutionHistory', { executionArn: arn, maxResults: 10, nextToken: first.body.nextToken }, 'us-east-1') as { body: { events: unknown[]; nextToken?: string } };
    expect(rest.body).toEqual({ events: expect.any(Array) });
    expect(rest.body.events).toHaveLength(5);
  });
});
