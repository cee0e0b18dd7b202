// The Alertmanager webhook's function against the emulated environment: the token in Secrets Manager,
// the stack's state machines in moto's Step Functions (StartExecution with its idempotency and
// ExecutionAlreadyExists, as in AWS), every request through the AWS front, which records them. The
// execution it starts is then planned by the real StartRun handler from the input moto kept.
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateStateMachineCommand, DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { EMULATOR_CREDENTIALS, emulatorConfig, startEmulatedEnvironment, type EmulatedEnvironment } from '../../local/index.js';
import { importHandler } from '../../local/local-state-machine.js';
import type { RunContext } from '../../shared/run.js';
import { configWith, useConfig } from '../support/fixtures.js';

const REGION = 'us-east-1';
const TOKEN_SECRET = 'frontier-dr-test-alertmanager-token';
const TOKEN = 'AmToken'.repeat(9) + 'x';
const PREFIX = `arn:aws:states:${REGION}:123456789012:stateMachine:frontier-dr-test-`;
const SCENARIOS = ['database-recovery', 'cluster-failover', 'region-failover'];
/** When the alert began firing: one time for every notification of it (a repeat carries the same). */
const STARTS_AT = new Date(Date.now() - 90_000).toISOString();

let environment: EmulatedEnvironment;
let sfn: SFNClient;
let receive: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let startRun: (event: unknown, context: Context) => Promise<{ run: RunContext }>;

const context = { functionName: 'receiveAlertmanagerAlerts', getRemainingTimeInMillis: () => 15_000 } as unknown as Context;

function firing(options: { status?: string; fingerprint?: string; startsAt?: string } = {}) {
  return {
    status: options.status ?? 'firing',
    labels: { alertname: 'DatabaseDown', database: 'frontier-prod', job: 'postgres-exporter', severity: 'critical' },
    annotations: { runbook: 'https://docs.frontier.com/runbooks/database-failure' },
    startsAt: options.startsAt ?? STARTS_AT,
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up%7Bjob%3D%22postgres-exporter%22%7D+%3D%3D+0',
    fingerprint: options.fingerprint ?? '5d2c0e8f1a3b4c6d',
  };
}

function request(alerts: unknown[], authorization: string | null): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /alertmanager',
    rawPath: '/alertmanager',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    requestContext: { http: { method: 'POST', path: '/alertmanager' } },
    body: JSON.stringify({ version: '4', groupKey: '{}:{alertname="DatabaseDown"}', status: 'firing', receiver: 'frontier-dr', groupLabels: { alertname: 'DatabaseDown' }, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://alertmanager.example:9093', alerts }),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

async function send(alerts: unknown[], authorization: string | null = `Bearer ${TOKEN}`): Promise<{ statusCode: number; body: { message: string; alerts?: { outcome: string; executionArn?: string; reason?: string }[] } }> {
  const response = await receive(request(alerts, authorization), context);
  return { statusCode: response.statusCode ?? 0, body: JSON.parse(String(response.body)) };
}

async function executionsOf(scenario: string) {
  return (await sfn.send(new ListExecutionsCommand({ stateMachineArn: `${PREFIX}${scenario}` }))).executions ?? [];
}

beforeAll(async () => {
  environment = await startEmulatedEnvironment();
  const secrets = new SecretsManagerClient({ region: REGION, endpoint: environment.moto.endpoint, credentials: EMULATOR_CREDENTIALS });
  const secret = await secrets.send(new CreateSecretCommand({ Name: TOKEN_SECRET, SecretString: TOKEN }));
  secrets.destroy();
  sfn = new SFNClient({ region: REGION, endpoint: environment.moto.endpoint, credentials: EMULATOR_CREDENTIALS });
  for (const scenario of SCENARIOS) {
    await sfn.send(
      new CreateStateMachineCommand({
        name: `frontier-dr-test-${scenario}`,
        roleArn: 'arn:aws:iam::123456789012:role/frontier-dr-test-state-machine',
        definition: JSON.stringify({ StartAt: 'StartRun', States: { StartRun: { Type: 'Pass', End: true } } }),
      }),
    );
  }
  Object.assign(process.env, { ALERTMANAGER_TOKEN_SECRET: secret.ARN, STATE_MACHINE_ARN_PREFIX: PREFIX });
  useConfig(emulatorConfig(configWith(() => undefined)));
  receive = (await importHandler('receiveAlertmanagerAlerts')) as typeof receive;
  startRun = (await importHandler('startRun')) as typeof startRun;
}, 180_000);

afterAll(async () => {
  sfn?.destroy();
  await environment?.stop();
}, 60_000);

describe('the Alertmanager webhook against the emulated environment', () => {
  it('a bad or missing token: 401, and no request to Step Functions (only the token is read)', async () => {
    const recording = environment.front.recordRequests();
    try {
      const wrong = await send([firing({ fingerprint: '00000000000000aa' })], 'Bearer not-the-token');
      const missing = await send([firing({ fingerprint: '00000000000000aa' })], null);

      expect(wrong.statusCode).toBe(401);
      expect(missing.statusCode).toBe(401);
      const requests = recording.requests();
      expect(requests.filter((r) => r.service !== 'secretsmanager')).toEqual([]);
      expect(requests.every((r) => r.action.endsWith('GetSecretValue'))).toBe(true);
      expect(await executionsOf('database-recovery')).toEqual([]);
    } finally {
      recording.stop();
    }
  });

  it('a firing DatabaseDown starts database-recovery once; the same notification again starts nothing, running or ended', async () => {
    // Act
    const first = await send([firing()]);
    const repeat = await send([firing()]);

    // Assess
    expect(first.statusCode).toBe(200);
    expect(first.body.alerts).toEqual([expect.objectContaining({ outcome: 'started', scenario: 'database-recovery' })]);
    expect(repeat.statusCode).toBe(200);
    expect(repeat.body.alerts).toEqual([expect.objectContaining({ outcome: 'already-started', executionArn: first.body.alerts![0]!.executionArn, reason: expect.stringContaining('RUNNING') })]);
    expect(await executionsOf('database-recovery')).toHaveLength(1);

    // Once the run has ended, a notification of the same alert still starts nothing.
    await sfn.send(new StopExecutionCommand({ executionArn: first.body.alerts![0]!.executionArn! }));
    const afterEnd = await send([firing()]);
    expect(afterEnd.body.alerts).toEqual([expect.objectContaining({ outcome: 'already-started' })]);
    expect(await executionsOf('database-recovery')).toHaveLength(1);
  });

  it("the started execution's input passes StartRun: an alarm-like run of the labelled database, from the alert's start", async () => {
    const [execution] = await executionsOf('database-recovery');
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution!.executionArn! }));

    const planned = await startRun({ scenario: 'database-recovery', input: JSON.parse(described.input!), execution: { id: execution!.executionArn!, name: execution!.name!, startTime: new Date().toISOString() } }, context);

    expect(planned.run).toMatchObject({ trigger: 'alertmanager DatabaseDown', incidentNamedByOperator: false, databases: ['frontier-prod'], recovery: { database: 'frontier-prod' } });
  });

  it('a resolved DatabaseDown starts nothing and says so', async () => {
    const resolved = await send([firing({ status: 'resolved', fingerprint: '00000000000000bb' })]);

    expect(resolved.statusCode).toBe(200);
    expect(resolved.body.alerts).toEqual([expect.objectContaining({ outcome: 'skipped', reason: expect.stringContaining('resolved') })]);
    expect((await executionsOf('database-recovery')).map((e) => e.name)).not.toContainEqual(expect.stringContaining('00000000000000bb'));
  });

  it('the same label set firing again later (a new startsAt) is a new incident: one new execution', async () => {
    const later = await send([firing({ startsAt: new Date(Date.now() - 10_000).toISOString() })]);

    expect(later.body.alerts).toEqual([expect.objectContaining({ outcome: 'started' })]);
    expect(await executionsOf('database-recovery')).toHaveLength(2);
  });
});
