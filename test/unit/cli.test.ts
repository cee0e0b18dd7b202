// The operator CLI without a process or a network: argument handling (commander, exit statuses), what
// it reads out of an execution history (progress lines, the waiting approval, the report location) and
// its AWS calls against client mocks, faults included.
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListStateMachinesCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CliError, answerApproval, fetchReport, oneLine, readInput, startScenario } from '../../cli/operator.js';
import { consoleLink, elapsedAgainstRto, formatDuration, parseExecutionArn, progressLines, reportLocation, scenarioObjectives, waitingApproval } from '../../cli/execution-history.js';
import { program } from '../../cli/frontier-dr.js';
import { declaredFunctions, definitionFindings } from '../../cli/validate.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleConfig } from '../support/fixtures.js';

const ARN = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-region-failover:manual-1';
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:frontier-dr-prod-region-failover';
const START = new Date('2026-11-30T12:00:00.000Z');
const TOKEN = 'AQtoken'.padEnd(200, 'x');

const sfn = new SFNClient({ region: 'us-east-1' });
const sfnMock = mockClient(sfn);
const s3 = new S3Client({ region: 'us-east-1' });
const s3Mock = mockClient(s3);

beforeEach(() => {
  sfnMock.reset();
  s3Mock.reset();
});

const at = (seconds: number) => new Date(START.getTime() + seconds * 1000);

/** A region failover's history as Step Functions writes it, up to its approval waiting. */
function historyUpToApproval(): HistoryEvent[] {
  return [
    { id: 1, type: 'ExecutionStarted', timestamp: at(0), executionStartedEventDetails: { input: '{}' } },
    { id: 2, previousEventId: 1, type: 'TaskStateEntered', timestamp: at(1), stateEnteredEventDetails: { name: 'StartRun', input: '{}' } },
    { id: 3, previousEventId: 2, type: 'TaskStateExited', timestamp: at(2), stateExitedEventDetails: { name: 'StartRun', output: JSON.stringify({ steps: { StartRun: { step: { detail: 'planned' } } } }) } },
    { id: 4, previousEventId: 3, type: 'TaskStateEntered', timestamp: at(3), stateEnteredEventDetails: { name: 'RequestApproval', input: '{}' } },
    {
      id: 5,
      previousEventId: 4,
      type: 'TaskScheduled',
      timestamp: at(4),
      taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', region: 'us-east-1', parameters: JSON.stringify({ FunctionName: 'arn:...:requestApproval', Payload: { run: {}, taskToken: TOKEN } }) },
    },
  ];
}

describe('the command line', () => {
  async function run(args: string[]): Promise<{ code: number | undefined; stderr: string }> {
    let stderr = '';
    const cli = program().configureOutput({ writeErr: (text) => (stderr += text), writeOut: () => undefined });
    for (const command of cli.commands) command.configureOutput({ writeErr: (text) => (stderr += text), writeOut: () => undefined });
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((text: string) => ((stderr += text), true)) as typeof process.stderr.write;
    process.exitCode = undefined;
    try {
      await cli.parseAsync(['node', 'frontier-dr', ...args]);
      return { code: process.exitCode as number | undefined, stderr };
    } catch (error) {
      return { code: (error as { code?: string }).code === 'commander.helpDisplayed' ? 0 : 2, stderr };
    } finally {
      process.stderr.write = write;
      process.exitCode = undefined;
    }
  }

  it.each([
    [['start'], /required option '--stage <stage>' not specified/],
    [['start', '--stage', 'prod'], /missing required argument 'scenario'/],
    [['start', 'restore-test'], /required option '--stage <stage>' not specified/],
    [['report', ARN, '--format', 'html'], /argument 'html' is invalid. Allowed choices are markdown, json/],
    [['watch', ARN, '--interval', '0'], /expected seconds between 0 and 3600/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('refuses %j with exit 2 and one line', async (args, message) => {
    const ran = await run(args);
    expect(ran.code).toBe(2);
    expect(ran.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
  });

  it('refuses an unknown scenario and a bad stage before making a client', async () => {
    const made: string[] = [];
    const sfnFor = (region: string) => (made.push(region), sfn);
    await expect(startScenario({ scenario: 'region-failovr', stage: 'prod' }, sfnFor)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/^scenario: got "region-failovr"; expected one of backup-verification/) });
    await expect(startScenario({ scenario: 'restore-test', stage: 'prod stage' }, sfnFor)).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('--stage: got "prod stage"') });
    expect(made).toEqual([]);
  });

  it('reads --input as JSON text or a file, and names what is wrong with it', () => {
    expect(readInput('{"dryRun": true}')).toEqual({ dryRun: true });
    expect(() => readInput('{"dryRun": tru}')).toThrow(/^--input: not JSON/);
    expect(() => readInput('no-such-file.json')).toThrow('--input: got "no-such-file.json"; expected a JSON object or a file holding one');
    expect(() => readInput('[1]')).toThrow(/^--input: not JSON|expected a JSON object/);
  });

  it('puts a multi-line validation message in one line', () => {
    expect(oneLine('restore-test input is invalid; nothing was changed:\n  - dryRun: got "yes" (string); expected boolean\n  - reason: too long')).toBe(
      'restore-test input is invalid; nothing was changed: dryRun: got "yes" (string); expected boolean; reason: too long',
    );
  });
});

describe('startScenario', () => {
  it('validates the input with the contract StartRun applies and sends nothing when it is bad', async () => {
    const error = await startScenario({ scenario: 'region-failover', stage: 'prod', input: '{"skipConfirmation": "yes"}' }, () => sfn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ exitCode: 2, message: expect.stringContaining('skipConfirmation: got "yes" (string); expected boolean') });
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('finds frontier-dr-<stage>-<scenario> across pages and starts it with the input and --dry-run', async () => {
    sfnMock
      .on(ListStateMachinesCommand)
      .resolvesOnce({ stateMachines: [{ name: 'frontier-dr-prod-restore-test', stateMachineArn: 'x', type: 'STANDARD', creationDate: START }], nextToken: 'page2' })
      .resolvesOnce({ stateMachines: [{ name: 'frontier-dr-prod-region-failover', stateMachineArn: MACHINE, type: 'STANDARD', creationDate: START }] });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: ARN, startDate: START });
    const started = await startScenario({ scenario: 'region-failover', stage: 'prod', input: '{"reason": "drill"}', dryRun: true, name: 'manual-1' }, () => sfn, START);
    expect(started).toMatchObject({ executionArn: ARN, region: 'us-east-1', link: consoleLink(ARN, 'us-east-1') });
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: MACHINE, name: 'manual-1', input: JSON.stringify({ reason: 'drill', dryRun: true }) });
  });

  it('fails with exit 1 naming the machine when the stage has none', async () => {
    sfnMock.on(ListStateMachinesCommand).resolves({ stateMachines: [] });
    await expect(startScenario({ scenario: 'restore-test', stage: 'staging' }, () => sfn)).rejects.toMatchObject({ exitCode: 1, message: 'no state machine frontier-dr-staging-restore-test in us-east-1: is the stack deployed there with --stage staging?' });
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it.each([
    ['throttling', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), 'states:ListStateMachines in us-east-1 failed: ThrottlingException: Rate exceeded'],
    ['access denied', Object.assign(new Error('not authorized to perform states:ListStateMachines'), { name: 'AccessDeniedException' }), 'AccessDeniedException: not authorized'],
    ['a timeout', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), 'TimeoutError: socket hang up'],
  ])('turns %s into one line and exit 1', async (_fault, error, message) => {
    sfnMock.on(ListStateMachinesCommand).rejects(error);
    await expect(startScenario({ scenario: 'restore-test', stage: 'prod' }, () => sfn)).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining(message) });
  });
});

describe('what watch prints', () => {
  const context = { executionArn: ARN, startedAt: START, objectives: scenarioObjectives(exampleConfig(), 'region-failover'), command: 'npx frontier-dr' };

  it('shows each step, its detail and the approval prompt with the command lines that answer it', () => {
    expect(progressLines(historyUpToApproval(), context)).toEqual([
      '[    1s] started  StartRun',
      '[    2s] done     StartRun — planned',
      '[    3s] started  RequestApproval',
      '[    4s] APPROVAL RequestApproval is waiting for an answer. Approve or decline with:',
      `           npx frontier-dr approve ${ARN} --by "<your name>"`,
      `           npx frontier-dr approve ${ARN} --by "<your name>" --decline --reason "<why>"`,
    ]);
  });

  it('names a failed step with its error, and the end against the tightest RTO', () => {
    const lines = progressLines(
      [
        { id: 6, previousEventId: 5, type: 'TaskFailed', timestamp: at(70), taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error: 'ApprovalDeclined', cause: 'declined by Ann through the CLI' } },
        { id: 7, previousEventId: 4, type: 'LambdaFunctionFailed', timestamp: at(80), lambdaFunctionFailedEventDetails: { error: 'AwsAccessDenied', cause: JSON.stringify({ errorType: 'AwsAccessDenied', errorMessage: 'rds:RestoreDBInstance denied' }) } },
        { id: 8, previousEventId: 7, type: 'ExecutionFailed', timestamp: at(16 * 60), executionFailedEventDetails: { error: 'RunFailed', cause: 'A step could not complete' } },
      ],
      context,
      historyUpToApproval(),
    );
    expect(lines).toEqual([
      '[ 1m10s] FAILED   RequestApproval: ApprovalDeclined: declined by Ann through the CLI',
      '[ 1m20s] FAILED   RequestApproval: AwsAccessDenied: rds:RestoreDBInstance denied',
      '[16m00s] ended FAILED after 16m00s of the 15-min RTO (API Services), OVER: RunFailed A step could not complete',
    ]);
  });

  it('measures each scenario against its own objectives', () => {
    const config = exampleConfig();
    expect(scenarioObjectives(config, 'region-failover').map((o) => o.component)).toEqual(['API Services', 'Database']);
    expect(scenarioObjectives(config, 'database-recovery').map((o) => o.component)).toEqual(['Database']);
    expect(scenarioObjectives(config, 'cluster-failover').map((o) => o.component)).toEqual(['API Services']);
    expect(scenarioObjectives(config, 'backup-verification')).toEqual([]);
    expect(elapsedAgainstRto(61_000, [])).toBe('1m01s');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000)).toBe('2h05m');
  });

  it('takes an execution ARN apart and knows its scenario', () => {
    expect(parseExecutionArn(ARN)).toEqual({ region: 'us-east-1', account: '123456789012', stateMachine: 'frontier-dr-prod-region-failover', name: 'manual-1', scenario: 'region-failover' });
    expect(parseExecutionArn('arn:aws:states:us-east-1:123456789012:stateMachine:x')).toBeNull();
  });
});

describe('waitingApproval', () => {
  it('finds the token of the callback Task waiting now', () => {
    expect(waitingApproval(historyUpToApproval())).toEqual({ state: 'RequestApproval', taskToken: TOKEN, since: at(4) });
  });

  it.each(['TaskSucceeded', 'TaskFailed', 'TaskTimedOut', 'ExecutionAborted'])('finds none once %s ended it', (type) => {
    expect(waitingApproval([...historyUpToApproval(), { id: 6, previousEventId: 5, type: type as HistoryEvent['type'], timestamp: at(5) }])).toBeNull();
  });
});

describe('answerApproval', () => {
  beforeEach(() => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: historyUpToApproval() });
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: ARN, stateMachineArn: MACHINE, status: 'RUNNING', startDate: START });
  });

  it('approves with the output README "Answering" documents', async () => {
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const answered = await answerApproval(ARN, sfn, { by: 'Ann On-Call' }, START);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TOKEN, output: JSON.stringify({ approved: true, by: 'Ann On-Call', via: 'cli', at: START.toISOString() }) });
    expect(answered).toEqual({ state: 'RequestApproval', answer: `approved by Ann On-Call through the CLI at ${START.toISOString()}` });
  });

  it('declines with ApprovalDeclined and a cause naming who, how, when and why', async () => {
    sfnMock.on(SendTaskFailureCommand).resolves({});
    await answerApproval(ARN, sfn, { decline: true, by: 'Ann', reason: 'the primary is back' }, START);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TOKEN, error: 'ApprovalDeclined', cause: `declined by Ann through the CLI at ${START.toISOString()}: the primary is back; nothing was changed` });
  });

  it('refuses --reason without --decline before any call', async () => {
    await expect(answerApproval(ARN, sfn, { by: 'Ann', reason: 'why not' })).rejects.toMatchObject({ exitCode: 2 });
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('says nothing waits (exit 1) and sends nothing when no approval is pending', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: historyUpToApproval().slice(0, 3) });
    await expect(answerApproval(ARN, sfn, { by: 'Ann' })).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('no approval is waiting') });
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('explains an answer Step Functions refuses because the task ended meanwhile', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejects(new TaskDoesNotExist({ message: 'Task Does Not Exist', $metadata: {} }));
    await expect(answerApproval(ARN, sfn, { by: 'Ann' })).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('is no longer waiting (TaskDoesNotExist)') });
  });

  it('names a missing execution (exit 1)', async () => {
    sfnMock.on(GetExecutionHistoryCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    await expect(answerApproval(ARN, sfn, { by: 'Ann' })).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('states:GetExecutionHistory of') });
  });
});

describe('fetchReport', () => {
  const location = { json: 's3://reports/r/region-failover/run.json', markdown: 's3://reports/r/region-failover/run.md' };

  it("reads the location from PublishReport's output when the failed execution has none, and prints the object", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: ARN, stateMachineArn: MACHINE, status: 'FAILED', startDate: START });
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [...historyUpToApproval(), { id: 6, type: 'TaskStateExited', timestamp: at(9), stateExitedEventDetails: { name: 'PublishReport', output: JSON.stringify({ report: { location } }) } }],
    });
    s3Mock.on(GetObjectCommand).resolves({ Body: { transformToString: async () => '# region-failover report\n' } as never });
    await expect(fetchReport(ARN, 'markdown', sfn, () => s3)).resolves.toBe('# region-failover report\n');
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'reports', Key: 'r/region-failover/run.md' });
  });

  it('says there is no report yet while the run has not reached PublishReport', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: ARN, stateMachineArn: MACHINE, status: 'RUNNING', startDate: START });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: historyUpToApproval() });
    await expect(fetchReport(ARN, 'json', sfn, () => s3)).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('has not stored one yet') });
  });

  it('turns a denied GetObject into one line (exit 1)', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: ARN, stateMachineArn: MACHINE, status: 'SUCCEEDED', startDate: START, output: JSON.stringify({ report: { location } }) });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [] });
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(fetchReport(ARN, 'json', sfn, () => s3)).rejects.toMatchObject({ exitCode: 1, message: 's3:GetObject of s3://reports/r/region-failover/run.json failed: AccessDenied: Access Denied' });
  });

  it('prefers the execution output', () => {
    expect(reportLocation(JSON.stringify({ report: { location } }), [])).toEqual(location);
    expect(reportLocation(undefined, [])).toBeNull();
  });
});

describe("validate's definition checks", () => {
  it('passes every state machine of the repository against serverless.yml', () => {
    expect(definitionFindings()).toEqual([]);
  });

  it('names a Task whose function serverless.yml does not declare, and a definition that is not ASL', () => {
    const directory = mkdtempSync(join(tmpdir(), 'frontier-dr-definitions-'));
    writeFileSync(
      join(directory, 'orphan.asl.yaml'),
      'StartAt: Restore\nStates:\n  Restore:\n    Type: Task\n    Resource:\n      Fn::GetAtt: [restoreEverything, Arn]\n    End: true\n',
    );
    writeFileSync(join(directory, 'broken.asl.yaml'), 'StartAt: Nowhere\nStates:\n  Somewhere:\n    Type: Pass\n    End: true\n');
    expect(definitionFindings(directory, declaredFunctions())).toEqual([
      { severity: 'error', where: 'statemachines/broken.asl.yaml', message: expect.stringContaining('not a valid state machine') },
      { severity: 'error', where: 'statemachines/orphan.asl.yaml', message: 'state Restore calls function restoreEverything, which serverless.yml does not declare' },
    ]);
  });
});
