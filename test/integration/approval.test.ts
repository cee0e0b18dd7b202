// The approval step end to end: the fragment (statemachines/fragments/approval.asl.yaml) in a
// test-only machine, run by the local runner with its real functions against the emulated environment
// (moto: the approvals table, the signing secret, the alert topic, read back through an SQS queue
// subscribed to it). Answers go the product's way: the answer-approval function (the link's page and
// form) and the CLI's SendTaskSuccess / SendTaskFailure, both through the SFN client to the AWS
// front, which hands them to the run waiting on that token.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { parse as parseYaml } from 'yaml';
import { stepFunctionsClient } from '../../shared/clients.js';
import type { RunContext } from '../../shared/run.js';
import { EMULATOR_CREDENTIALS, emulatorConfig, startEmulatedEnvironment, type EmulatedEnvironment } from '../../local/index.js';
import { importHandler, runStateMachine, type LocalRunResult } from '../../local/local-state-machine.js';
import { configWith, useConfig } from '../support/fixtures.js';
import { loadHandlers } from '../support/state-machine-runs.js';

const REGION = 'us-east-1';
const TABLE = 'frontier-dr-test-approvals';
const SIGNING_SECRET = 'frontier-dr-test-approval-signing-key';
const SIGNING_KEY = 'S'.repeat(20) + 'signing-key-value-never-shown' + 'S'.repeat(20);
const TOPIC = 'frontier-dr-test-approvals';
const QUEUE = 'approval-messages';
const LINK_BASE = 'https://approvals.example.test';
const ACTIONS = ['Restore database frontier-prod in us-east-1', 'Point api.frontier.com at us-east-1'];
const TEST_TIMEOUT = 60_000;

const fragment = parseYaml(readFileSync(join(process.cwd(), 'statemachines', 'fragments', 'approval.asl.yaml'), 'utf8')) as Record<string, unknown>;

/** The fragment as a machine pastes it: something says what will be done, then the fragment, then the change. */
const machine = {
  name: 'approval-test',
  definition: {
    StartAt: 'DescribeChanges',
    States: {
      DescribeChanges: { Type: 'Pass', Result: { actions: ACTIONS }, ResultPath: '$.approvalRequest', Next: 'PlanApproval' },
      ...fragment,
      AfterApproval: { Type: 'Pass', Result: 'the change was made', ResultPath: '$.changed', Next: 'PublishReport' },
      PublishReport: { Type: 'Pass', End: true },
    },
  },
};

let environment: EmulatedEnvironment;
let answerHandler: (event: unknown, context: Context) => Promise<unknown>;
let queueUrl: string;
let runCount = 0;

/** SQS through moto's query protocol (the project has no SQS client; nothing of the product uses SQS). */
async function sqs(parameters: Record<string, string>): Promise<string> {
  const answer = await fetch(environment.moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=${EMULATOR_CREDENTIALS.accessKeyId}/20261130/${REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ Version: '2012-11-05', ...parameters }).toString(),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`SQS ${parameters.Action}: ${answer.status} ${text}`);
  return text;
}

const unescapeXml = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&#xD;|&#13;/g, '\r').replace(/&amp;/g, '&');

/** The next approval message published to the topic (waits up to 10 s). */
async function nextMessage(): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const xml = await sqs({ Action: 'ReceiveMessage', QueueUrl: queueUrl, MaxNumberOfMessages: '1' });
    const body = /<Body>([\s\S]*?)<\/Body>/.exec(xml)?.[1];
    const receipt = /<ReceiptHandle>([\s\S]*?)<\/ReceiptHandle>/.exec(xml)?.[1];
    if (body !== undefined && receipt !== undefined) {
      await sqs({ Action: 'DeleteMessage', QueueUrl: queueUrl, ReceiptHandle: unescapeXml(receipt) });
      return unescapeXml(body);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no approval message was published');
}

function linkIn(message: string): URL {
  const line = message.split('\n').find((l) => l.trim().startsWith(`${LINK_BASE}/approvals/`));
  if (!line) throw new Error(`no link in:\n${message}`);
  return new URL(line.trim());
}

function tokenIn(message: string): string {
  const match = /send-task-success --region \S+ --task-token '([^']+)'/.exec(message);
  if (!match) throw new Error(`no CLI line in:\n${message}`);
  return match[1] as string;
}

/** The link opened (GET) or its form posted (POST), as API Gateway's HTTP API hands it to the function. */
async function openLink(link: URL, method: 'GET' | 'POST', form?: Record<string, string>): Promise<{ status: number; body: string }> {
  const event = {
    version: '2.0',
    routeKey: `${method} /approvals/{approvalId}`,
    rawPath: link.pathname,
    rawQueryString: link.search.slice(1),
    queryStringParameters: Object.fromEntries(link.searchParams),
    pathParameters: { approvalId: link.pathname.split('/').pop() },
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    requestContext: { http: { method, path: link.pathname } },
    body: form ? new URLSearchParams(form).toString() : undefined,
    isBase64Encoded: false,
  };
  const answer = (await answerHandler(event, { awsRequestId: 'test' } as Context)) as APIGatewayProxyStructuredResultV2;
  return { status: answer.statusCode ?? 0, body: String(answer.body) };
}

function runOf(scenario: RunContext['scenario']): RunContext {
  const name = `approval-${++runCount}`;
  const now = new Date().toISOString();
  return {
    scenario,
    executionId: `arn:aws:states:${REGION}:123456789012:execution:frontier-dr-approval-test:${name}`,
    executionName: name,
    startedAt: now,
    incidentAt: now,
    incidentNamedByOperator: false,
    trigger: 'manual',
    dryRun: false,
    reason: 'primary region down',
    databases: ['frontier-prod'],
    force: false,
    rollback: null,
    productionReplicas: 3,
    recovery: null,
  };
}

/** Starts a run; `timeoutMs` is how long one minute of the policy's timeout lasts here. */
function start(scenario: RunContext['scenario'], minuteMs = 60_000): Promise<LocalRunResult> {
  return runStateMachine(machine, { run: runOf(scenario), steps: {}, failures: {} }, { timeoutMillisecondsPerSecond: minuteMs / 60 });
}

const output = (run: LocalRunResult) => run.output as { changed?: string; steps: Record<string, { data: Record<string, unknown> }>; failures: Record<string, { Error: string; Cause: string }> };

beforeAll(async () => {
  environment = await startEmulatedEnvironment();
  const dynamodb = new DynamoDBClient({ region: REGION, endpoint: environment.moto.endpoint, credentials: EMULATOR_CREDENTIALS });
  const secrets = new SecretsManagerClient({ region: REGION, endpoint: environment.moto.endpoint, credentials: EMULATOR_CREDENTIALS });
  const sns = new SNSClient({ region: REGION, endpoint: environment.moto.endpoint, credentials: EMULATOR_CREDENTIALS });
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'approvalId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'approvalId', KeyType: 'HASH' }],
    }),
  );
  const secret = await secrets.send(new CreateSecretCommand({ Name: SIGNING_SECRET, SecretString: SIGNING_KEY }));
  const topic = await sns.send(new CreateTopicCommand({ Name: TOPIC }));
  queueUrl = /<QueueUrl>([^<]+)<\/QueueUrl>/.exec(await sqs({ Action: 'CreateQueue', QueueName: QUEUE }))![1]!;
  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: `arn:aws:sqs:${REGION}:123456789012:${QUEUE}`, Attributes: { RawMessageDelivery: 'true' } }));
  for (const client of [dynamodb, secrets, sns]) client.destroy();

  Object.assign(process.env, { APPROVALS_TABLE: TABLE, APPROVAL_SIGNING_SECRET: secret.ARN, APPROVAL_LINK_BASE_URL: LINK_BASE });
  useConfig(
    emulatorConfig(
      configWith((raw) => {
        (raw as unknown as Record<string, unknown>).approvals = {
          'cluster-failover': { policy: 'approval', timeoutMinutes: 30, onTimeout: 'decline' },
          'emergency-rollback': { policy: 'approval', timeoutMinutes: 1, onTimeout: 'approve' },
          'restore-test': { policy: 'automatic' },
        };
      }),
    ),
  );
  process.env.ALERT_TOPIC_ARN = topic.TopicArn;
  await loadHandlers(['planApproval', 'requestApproval', 'answerApproval']);
  answerHandler = await importHandler('answerApproval');
}, 180_000);

afterAll(async () => {
  await environment?.stop();
}, 60_000);

describe('the approval fragment', () => {
  it('approved through the link: the page names the run, the POST approves, the run goes on; a second answer is refused', async () => {
    const running = start('cluster-failover');
    const message = await nextMessage();
    const link = linkIn(message);

    const page = await openLink(link, 'GET');
    expect(page.status).toBe(200);
    for (const action of ACTIONS) expect(page.body).toContain(action);
    expect(page.body).not.toContain(tokenIn(message));

    const answered = await openLink(link, 'POST', { decision: 'approve', by: 'Dana Ops' });
    expect(answered).toMatchObject({ status: 200, body: expect.stringContaining('Approved: the run goes ahead.') });
    const run = await running;
    expect(run.status).toBe('SUCCEEDED');
    expect(output(run).changed).toBe('the change was made');
    expect(output(run).steps.RequestApproval!.data).toEqual({ approved: true, by: 'Dana Ops', via: 'link', at: expect.any(String) });

    const again = await openLink(link, 'POST', { decision: 'decline', by: 'Eve' });
    expect(again).toMatchObject({ status: 409, body: expect.stringContaining('already answered: approved by Dana Ops through the link') });
    expect((await openLink(link, 'GET')).status).toBe(409);
  }, TEST_TIMEOUT);

  it('declined through the link: nothing after the approval runs, the decline is the named failure', async () => {
    const running = start('cluster-failover');
    const link = linkIn(await nextMessage());
    expect((await openLink(link, 'POST', { decision: 'decline', by: 'Dana', reason: 'false alarm' })).status).toBe(200);
    const run = await running;
    expect(output(run).changed).toBeUndefined();
    expect(output(run).failures.RequestApproval).toEqual({
      Error: 'ApprovalDeclined',
      Cause: expect.stringMatching(/^declined by Dana through the approval link at .+: false alarm; nothing was changed$/),
    });
  }, TEST_TIMEOUT);

  it('approved from the CLI with the token in the message; the link then says the run no longer waits', async () => {
    const running = start('cluster-failover');
    const message = await nextMessage();
    await stepFunctionsClient(REGION).send(new SendTaskSuccessCommand({ taskToken: tokenIn(message), output: JSON.stringify({ approved: true, by: 'Sam', via: 'cli' }) }));
    const run = await running;
    expect(output(run).changed).toBe('the change was made');
    expect(output(run).steps.RequestApproval!.data).toEqual({ approved: true, by: 'Sam', via: 'cli' });

    const late = await openLink(linkIn(message), 'POST', { decision: 'decline', by: 'Eve' });
    expect(late).toMatchObject({ status: 409, body: expect.stringContaining('the run no longer waited for this approval (TaskDoesNotExist)') });
    // Answering the same token again: Step Functions' own refusal.
    await expect(stepFunctionsClient(REGION).send(new SendTaskSuccessCommand({ taskToken: tokenIn(message), output: '{}' }))).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
  }, TEST_TIMEOUT);

  it('declined from the CLI (ApprovalDeclined), and a success without approved: true is a decline too', async () => {
    const declined = start('cluster-failover');
    await stepFunctionsClient(REGION).send(new SendTaskFailureCommand({ taskToken: tokenIn(await nextMessage()), error: 'ApprovalDeclined', cause: 'declined by Sam' }));
    expect(output(await declined)).toMatchObject({ failures: { RequestApproval: { Error: 'ApprovalDeclined', Cause: 'declined by Sam' } } });
    expect(output(await declined).changed).toBeUndefined();

    const notApproved = start('cluster-failover');
    await stepFunctionsClient(REGION).send(new SendTaskSuccessCommand({ taskToken: tokenIn(await nextMessage()), output: JSON.stringify({ approved: false }) }));
    const run = await notApproved;
    expect(output(run).changed).toBeUndefined();
    expect(output(run).failures.RequestApproval!.Error).toBe('ApprovalDeclined');
  }, TEST_TIMEOUT);

  it('refuses unknown and malformed tokens with the API errors', async () => {
    const sfn = stepFunctionsClient(REGION);
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: `AQlocal${'A'.repeat(128)}`, output: '{}' }))).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
    await expect(sfn.send(new SendTaskFailureCommand({ taskToken: 'not-a-token', error: 'ApprovalDeclined' }))).rejects.toMatchObject({ name: 'InvalidToken' });
  }, TEST_TIMEOUT);

  it('timed out with onTimeout decline: declined, nothing changed; the link then says why it cannot answer', async () => {
    // 30 minutes pass in 0.9 s.
    const running = start('cluster-failover', 30);
    const link = linkIn(await nextMessage());
    const run = await running;
    expect(output(run).changed).toBeUndefined();
    expect(output(run).failures.RequestApproval).toEqual({ Error: 'ApprovalDeclined', Cause: "No answer within the timeout; the policy's onTimeout is decline, so nothing was changed." });
    const late = await openLink(link, 'POST', { decision: 'approve', by: 'Dana' });
    expect(late).toMatchObject({ status: 409, body: expect.stringContaining('(TaskTimedOut)') });
  }, TEST_TIMEOUT);

  it('timed out with onTimeout approve: the run goes on, saying so', async () => {
    const running = start('emergency-rollback', 300);
    await nextMessage();
    const run = await running;
    expect(output(run).changed).toBe('the change was made');
    expect(output(run).steps.RequestApproval!.data).toEqual({ approved: true, by: null, via: 'timeout', at: null });
  }, TEST_TIMEOUT);

  it('policy automatic: no request, the run goes on', async () => {
    const run = await start('restore-test');
    expect(run.calls.map((c) => c.state)).toEqual(['PlanApproval']);
    expect(output(run).changed).toBe('the change was made');
  }, TEST_TIMEOUT);

  it('refuses a forged link without showing anything of the run', async () => {
    const running = start('cluster-failover');
    const message = await nextMessage();
    const link = linkIn(message);
    const forged = new URL(link);
    forged.searchParams.set('signature', 'A'.repeat(43));
    const page = await openLink(forged, 'POST', { decision: 'approve', by: 'Mallory' });
    expect(page.status).toBe(404);
    expect(page.body).not.toContain(ACTIONS[0]);
    await stepFunctionsClient(REGION).send(new SendTaskFailureCommand({ taskToken: tokenIn(message), error: 'ApprovalDeclined', cause: 'test over' }));
    expect(output(await running).changed).toBeUndefined();
  }, TEST_TIMEOUT);
});
