// The Alertmanager webhook's decisions without AWS: the bearer token (missing, wrong, right), the
// notification's validation and size limit, the mapping from alertname to scenario (and the database
// label), resolved, repeated and unmapped alerts, the run contract's alert start shape, and the faults
// of the Step Functions calls (client mocks, real SDK exception classes).
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand, StateMachineDoesNotExist } from '@aws-sdk/client-sfn';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  alertStartInput,
  bearerTokenMatches,
  executionNameFor,
  MAX_NOTIFICATION_BYTES,
  receiveAlertmanagerNotification,
  tokenFromSecret,
  type AlertmanagerAlert,
  type WebhookDependencies,
} from '../../shared/alertmanager.js';
import { parseDeploymentConfig, type DeploymentConfig } from '../../shared/config.js';
import { InvalidConfig, InvalidInput } from '../../shared/errors.js';
import { planRun, startedByAlarm } from '../../shared/run.js';
import { configWith, exampleConfig } from '../support/fixtures.js';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const TOKEN = 't'.repeat(40) + 'webhook-token-value';
const PREFIX = 'arn:aws:states:us-east-1:123456789012:stateMachine:frontier-dr-prod-';
const config = exampleConfig();

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: 'us-east-1' });

function deps(token = TOKEN): WebhookDependencies {
  return { sfn, token: async () => token, stateMachineArn: (scenario) => `${PREFIX}${scenario}` };
}

function alert(overrides: Partial<AlertmanagerAlert> & { alertname?: string; extraLabels?: Record<string, string> } = {}): AlertmanagerAlert {
  const { alertname = 'DatabaseDown', extraLabels = {}, ...rest } = overrides;
  return {
    status: 'firing',
    labels: { alertname, severity: 'critical', ...extraLabels },
    annotations: { summary: 'postgres-exporter down' },
    startsAt: '2026-11-30T11:58:00.000Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph',
    fingerprint: 'a1b2c3d4e5f60718',
    ...rest,
  };
}

function notification(alerts: AlertmanagerAlert[]): string {
  return JSON.stringify({ version: '4', groupKey: '{}:{alertname="DatabaseDown"}', status: 'firing', receiver: 'frontier-dr', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://alertmanager:9093', alerts });
}

const bearer = `Bearer ${TOKEN}`;
const receive = (body: string, options: { authorization?: string; deployment?: DeploymentConfig; dependencies?: WebhookDependencies } = {}) =>
  receiveAlertmanagerNotification(options.dependencies ?? deps(), options.deployment ?? config, { authorization: 'authorization' in options ? options.authorization : bearer, body }, NOW);

const notFound = () => new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(DescribeExecutionCommand).rejects(notFound());
  sfnMock.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => ({
    executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: NOW,
  }));
});

describe('bearerTokenMatches', () => {
  it.each([
    ['the right token', `Bearer ${TOKEN}`, true],
    ['the scheme in another case', `bearer ${TOKEN}`, true],
    ['no header', undefined, false],
    ['an empty header', '', false],
    ['another scheme', `Basic ${TOKEN}`, false],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`, false],
    ['the token and more', `Bearer ${TOKEN}x`, false],
    ['two tokens', `Bearer ${TOKEN} ${TOKEN}`, false],
  ])('%s: %s', (_label, header, expected) => {
    expect(bearerTokenMatches(header, TOKEN)).toBe(expected);
  });

  it('never matches an empty expected token', () => {
    expect(bearerTokenMatches('Bearer x', '')).toBe(false);
  });
});

describe('authentication', () => {
  it.each([
    ['without an Authorization header', undefined],
    ['with another scheme', `Basic ${TOKEN}`],
  ])('answers 401 %s and reads neither the token secret nor the body', async (_label, authorization) => {
    // Prepare
    const token = jest.fn(async () => TOKEN);

    // Act
    const response = await receive('not even JSON', { authorization, dependencies: { ...deps(), token } });

    // Assess
    expect(response.statusCode).toBe(401);
    expect(token).not.toHaveBeenCalled();
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('answers 401 with a wrong token and starts nothing', async () => {
    const response = await receive(notification([alert()]), { authorization: 'Bearer guessed-token-value' });

    expect(response).toEqual({ statusCode: 401, body: { message: expect.stringContaining('wrong bearer token') } });
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('the notification', () => {
  it('answers 413 for a body over the limit, starting nothing', async () => {
    const response = await receive(' '.repeat(MAX_NOTIFICATION_BYTES + 1));

    expect(response.statusCode).toBe(413);
    expect(response.body.message).toContain(`at most ${MAX_NOTIFICATION_BYTES}`);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it.each([
    ['not JSON', '{"version": "4", ', 'not JSON'],
    ['another version', JSON.stringify({ version: '3', alerts: [] }), 'version: got "3" (string); expected one of "4"'],
    ['no alerts', JSON.stringify({ version: '4' }), 'alerts: got nothing'],
    ['a bad status', JSON.stringify({ version: '4', alerts: [{ ...alert(), status: 'pending' }] }), 'alerts[0].status: got "pending"'],
    ['a bad fingerprint', JSON.stringify({ version: '4', alerts: [{ ...alert(), fingerprint: '../../etc' }] }), 'alerts[0].fingerprint: got "../../etc"'],
    ['a bad label name', JSON.stringify({ version: '4', alerts: [{ ...alert(), labels: { alertname: 'DatabaseDown', 'bad-label': 'x' } }] }), 'alerts[0].labels.bad-label'],
    ['too many alerts', JSON.stringify({ version: '4', alerts: Array.from({ length: 1001 }, () => alert()) }), 'alerts: got'],
  ])('answers 400 naming the field for %s, starting nothing', async (_label, body, expected) => {
    const response = await receive(body);

    expect(response.statusCode).toBe(400);
    expect(response.body.message).toContain(expected);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('mapping alerts to scenarios', () => {
  it('starts database-recovery for a firing DatabaseDown, named after the alert, with the alert start shape as input', async () => {
    // Act
    const response = await receive(notification([alert()]));

    // Assess
    const name = 'am-DatabaseDown-a1b2c3d4e5f60718-20261130T115800Z';
    expect(response.statusCode).toBe(200);
    expect(response.body.alerts).toEqual([
      { alertname: 'DatabaseDown', fingerprint: 'a1b2c3d4e5f60718', outcome: 'started', scenario: 'database-recovery', executionArn: `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-database-recovery:${name}` },
    ]);
    const [start] = sfnMock.commandCalls(StartExecutionCommand);
    expect(start!.args[0].input).toMatchObject({ stateMachineArn: `${PREFIX}database-recovery`, name });
    expect(JSON.parse(start!.args[0].input.input!)).toEqual({
      source: 'frontier-dr.alertmanager',
      'detail-type': 'Alertmanager Alert',
      detail: { alertname: 'DatabaseDown', status: 'firing', startsAt: '2026-11-30T11:58:00.000Z', fingerprint: 'a1b2c3d4e5f60718', labels: { alertname: 'DatabaseDown', severity: 'critical' } },
    });
  });

  it.each([
    ['RegionFailure', 'region-failover'],
    ['ClusterUnreachable', 'cluster-failover'],
  ])('starts the scenario %s maps to (%s)', async (alertname, scenario) => {
    const response = await receive(notification([alert({ alertname })]));

    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'started', scenario })]);
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input.stateMachineArn).toBe(`${PREFIX}${scenario}`);
  });

  it('starts nothing for a resolved alert and says so', async () => {
    const response = await receive(notification([alert({ status: 'resolved', endsAt: '2026-11-30T11:59:00Z' })]));

    expect(response.statusCode).toBe(200);
    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'skipped', reason: expect.stringContaining('resolved') })]);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('starts nothing for an unmapped alertname and names the mapped ones', async () => {
    const response = await receive(notification([alert({ alertname: 'HighLatency' })]));

    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'skipped', reason: expect.stringMatching(/unmapped: no scenario for alertname HighLatency .*RegionFailure, DatabaseDown, ClusterUnreachable/) })]);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('starts nothing for an alert without an alertname label', async () => {
    const response = await receive(notification([{ ...alert(), labels: { severity: 'critical' } }]));

    expect(response.body.alerts).toEqual([expect.objectContaining({ alertname: null, outcome: 'skipped' })]);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('refuses, starting nothing, an alert mapped to a scenario the deployment does not configure', async () => {
    const noRegionFailover = configWith((c) => {
      delete (c as Partial<DeploymentConfig>).regionFailover;
      delete (c as Partial<DeploymentConfig>).regionFailback;
    });

    const response = await receive(notification([alert({ alertname: 'RegionFailure' })]), { deployment: noRegionFailover });

    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'skipped', reason: expect.stringContaining("refused: region-failover needs the deployment config's regionFailover section") })]);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('starts nothing without an alertmanager section in the config', async () => {
    const withoutSection = configWith((c) => {
      delete (c as Partial<DeploymentConfig>).alertmanager;
    });

    const response = await receive(notification([alert()]), { deployment: withoutSection });

    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'skipped', reason: expect.stringContaining('maps none') })]);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('handles each alert of a group on its own: started, resolved and unmapped in one answer', async () => {
    const response = await receive(notification([alert(), alert({ alertname: 'ClusterUnreachable', status: 'resolved', fingerprint: '0000000000000001' }), alert({ alertname: 'DiskFull', fingerprint: '0000000000000002' })]));

    expect(response.statusCode).toBe(200);
    expect(response.body.alerts!.map((a) => a.outcome)).toEqual(['started', 'skipped', 'skipped']);
    expect(response.body.message).toBe('1 started, 0 already started, 2 skipped, 0 failed');
  });
});

describe('which database a DatabaseDown recovers', () => {
  const twoDatabases = configWith((c) => {
    const first = c.databases[0]!;
    c.databases.push({ ...structuredClone(first), name: 'frontier-orders', snapshotPrefix: 'frontier-orders-', credentialsSecret: 'frontier/orders/database', rotation: undefined });
  });

  it('is the only database with a recovery section when the alert names none', () => {
    const run = planRun('database-recovery', alertStartInput(alert()), { id: 'arn', name: 'n', startTime: NOW.toISOString() }, config);
    expect(run.recovery).toEqual({ database: 'frontier-prod', snapshot: null, restoreTime: null, sourceInstance: 'frontier-prod' });
  });

  it('is the one its database label names', async () => {
    const response = await receive(notification([alert({ extraLabels: { database: 'frontier-orders' } })]), { deployment: twoDatabases });

    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'started' })]);
    expect(JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!).detail.labels.database).toBe('frontier-orders');
  });

  it('refuses, starting nothing, when several databases are protected and the label is missing', async () => {
    const response = await receive(notification([alert()]), { deployment: twoDatabases });

    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'skipped', reason: expect.stringContaining('detail.labels.database: got nothing') })]);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('refuses a label naming no protected database', async () => {
    const response = await receive(notification([alert({ extraLabels: { database: 'frontier-typo' } })]));

    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'skipped', reason: expect.stringContaining('detail.labels.database: got "frontier-typo"') })]);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('reads the label the config names', async () => {
    const custom = configWith((c) => {
      c.alertmanager = { alerts: { DatabaseDown: 'database-recovery' }, databaseLabel: 'db_instance' };
    });
    const run = planRun('database-recovery', alertStartInput(alert({ extraLabels: { db_instance: 'frontier-prod' } })), { id: 'arn', name: 'n', startTime: NOW.toISOString() }, custom);
    expect(run.databases).toEqual(['frontier-prod']);
  });
});

describe('repeats and duplicate protection', () => {
  it('gives a repeated alert the same execution name and input, and a new firing of it a new name', () => {
    const first = alert();
    const repeat = { ...alert(), annotations: { summary: 'changed text' } };
    const again = alert({ startsAt: '2026-11-30T13:00:00Z' });

    expect(executionNameFor('DatabaseDown', repeat.fingerprint, repeat.startsAt)).toBe(executionNameFor('DatabaseDown', first.fingerprint, first.startsAt));
    expect(alertStartInput(repeat)).toEqual(alertStartInput(first));
    expect(executionNameFor('DatabaseDown', again.fingerprint, again.startsAt)).not.toBe(executionNameFor('DatabaseDown', first.fingerprint, first.startsAt));
  });

  it('keeps the name within Step Functions rules for a long alertname', () => {
    const name = executionNameFor('A'.repeat(128), 'a1b2c3d4e5f60718', '2026-11-30T11:58:00Z');
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(name.endsWith('-a1b2c3d4e5f60718-20261130T115800Z')).toBe(true);
  });

  it('starts nothing when the execution for this alert exists already', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: new Date('2026-11-30T11:58:30Z') });

    // Act
    const response = await receive(notification([alert()]));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'already-started', reason: expect.stringContaining('2026-11-30T11:58:30.000Z (RUNNING)') })]);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('counts ExecutionAlreadyExists (a concurrent notification won) as already started', async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: { httpStatusCode: 400 } }));

    const response = await receive(notification([alert()]));

    expect(response.statusCode).toBe(200);
    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'already-started' })]);
  });

  it('refuses a stale alert (over 60 min) with the contract message, starting nothing', async () => {
    const response = await receive(notification([alert({ startsAt: '2026-11-30T10:30:00Z' })]));

    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'skipped', reason: expect.stringContaining('detail.startsAt: got "2026-11-30T10:30:00Z"; expected an alert firing at most 60 min') })]);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('refuses an alert starting in the future', async () => {
    const response = await receive(notification([alert({ startsAt: '2026-11-30T12:30:00Z' })]));

    expect(response.body.alerts).toEqual([expect.objectContaining({ outcome: 'skipped', reason: expect.stringContaining('not in the future') })]);
  });
});

describe('faults of the Step Functions calls', () => {
  const sdkError = (name: string, status: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

  it.each([
    ['StartExecution throttled', StartExecutionCommand, sdkError('ThrottlingException', 400), 'AwsTransientError'],
    ['StartExecution 5xx', StartExecutionCommand, sdkError('InternalServerError', 500), 'AwsTransientError'],
    ['StartExecution timed out', StartExecutionCommand, Object.assign(new Error('socket timeout'), { name: 'TimeoutError', code: 'ETIMEDOUT' }), 'AwsTransientError'],
    ['StartExecution denied', StartExecutionCommand, sdkError('AccessDeniedException', 400), 'AwsAccessDenied'],
    ['no such state machine', StartExecutionCommand, new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', $metadata: { httpStatusCode: 400 } }), 'ResourceNotFound'],
    ['DescribeExecution throttled', DescribeExecutionCommand, sdkError('ThrottlingException', 400), 'AwsTransientError'],
    ['DescribeExecution denied', DescribeExecutionCommand, sdkError('AccessDeniedException', 400), 'AwsAccessDenied'],
  ])('%s: 502 naming the failure, so Alertmanager sends the notification again', async (_label, command, error, name) => {
    // Prepare
    sfnMock.on(command as typeof StartExecutionCommand).rejects(error);

    // Act
    const response = await receive(notification([alert(), alert({ status: 'resolved', fingerprint: '0000000000000003' })]));

    // Assess
    expect(response.statusCode).toBe(502);
    expect(response.body.alerts![0]).toEqual(expect.objectContaining({ outcome: 'failed', reason: expect.stringMatching(new RegExp(`^${name}: `)) }));
    expect(response.body.alerts![1]).toEqual(expect.objectContaining({ outcome: 'skipped' }));
  });

  it('answers a retried notification after a failure by starting the alert once', async () => {
    sfnMock.on(StartExecutionCommand).rejectsOnce(sdkError('ThrottlingException', 400)).resolves({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:x:y', startDate: NOW });
    const first = await receive(notification([alert()]));

    const retried = await receive(notification([alert()]));

    expect(first.statusCode).toBe(502);
    expect(retried.body.alerts).toEqual([expect.objectContaining({ outcome: 'started' })]);
  });
});

describe('the token secret', () => {
  const secretsMock = mockClient(SecretsManagerClient);
  const secrets = new SecretsManagerClient({ region: 'us-east-1' });
  beforeEach(() => secretsMock.reset());

  it('is read once and kept', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: TOKEN });
    const token = tokenFromSecret(secrets, 'frontier-dr-prod-alertmanager-token');

    expect(await token()).toBe(TOKEN);
    expect(await token()).toBe(TOKEN);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it.each([
    ['missing', new ResourceNotFoundException({ message: 'Secrets Manager cannot find the specified secret.', $metadata: { httpStatusCode: 400 } }), 'ResourceNotFound'],
    ['denied', Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }), 'AwsAccessDenied'],
    ['throttled', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }), 'AwsTransientError'],
  ])('fails named when the secret is %s, and reads it again next time', async (_label, error, name) => {
    secretsMock.on(GetSecretValueCommand).rejectsOnce(error).resolves({ SecretString: TOKEN });
    const token = tokenFromSecret(secrets, 'frontier-dr-prod-alertmanager-token');

    await expect(token()).rejects.toMatchObject({ name });
    expect(await token()).toBe(TOKEN);
  });

  it('refuses a token too short to be the generated one, without showing it', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'short-token' });

    const failure = tokenFromSecret(secrets, 'frontier-dr-prod-alertmanager-token')();

    await expect(failure).rejects.toBeInstanceOf(InvalidConfig);
    await expect(failure).rejects.not.toThrow(/short-token/);
  });
});

describe('the run contract for an alert start', () => {
  const execution = { id: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-database-recovery:am-1', name: 'am-1', startTime: NOW.toISOString() };

  it('plans an alarm-like run: trigger, incident time from startsAt, not named by an operator', () => {
    const run = planRun('database-recovery', alertStartInput(alert()), execution, config);

    expect(run).toMatchObject({ trigger: 'alertmanager DatabaseDown', incidentAt: '2026-11-30T11:58:00.000Z', incidentNamedByOperator: false, dryRun: false, databases: ['frontier-prod'] });
    expect(startedByAlarm(run)).toBe(true);
  });

  it('always waits out region failover confirmation for an alert start', () => {
    const run = planRun('region-failover', alertStartInput(alert({ alertname: 'RegionFailure' })), execution, config);
    expect(run.regionFailover).toEqual({ skipConfirmation: false });
  });

  it('honours dryRun added at the top when an alert is replayed by hand', () => {
    expect(planRun('cluster-failover', { ...alertStartInput(alert({ alertname: 'ClusterUnreachable' })), dryRun: true }, execution, config).dryRun).toBe(true);
  });

  it.each([
    ['an alert mapped to another scenario', 'cluster-failover', alertStartInput(alert()), 'detail.alertname: got "DatabaseDown"; expected an alert this deployment starts cluster-failover on (ClusterUnreachable)'],
    ['a resolved alert', 'database-recovery', alertStartInput(alert({ status: 'resolved' })), 'detail.status: got "resolved"; expected "firing"'],
    ['an unknown field', 'database-recovery', { ...alertStartInput(alert()), force: true }, 'force: got true (boolean); unknown field'],
    ['a run option inside the detail', 'database-recovery', { ...alertStartInput(alert()), detail: { ...(alertStartInput(alert()).detail as object), dryRun: true } }, 'detail.dryRun: got true (boolean); unknown field'],
    ['a scenario no alert starts', 'backup-verification', alertStartInput(alert()), 'source: got "frontier-dr.alertmanager" (string); expected "aws.events"'],
  ])('refuses %s, naming the field', (_label, scenario, input, expected) => {
    expect(() => planRun(scenario, input, execution, config)).toThrow(InvalidInput);
    expect(() => planRun(scenario, input, execution, config)).toThrow(expected);
  });

  it('is refused when the deployment has no alertmanager section', () => {
    const withoutSection = configWith((c) => {
      delete (c as Partial<DeploymentConfig>).alertmanager;
    });
    expect(() => planRun('database-recovery', alertStartInput(alert()), execution, withoutSection)).toThrow('source: got "frontier-dr.alertmanager" (string); expected "aws.cloudwatch"');
  });
});

describe('the alertmanager config section', () => {
  function configError(change: (raw: Record<string, unknown>) => void): string {
    const raw = structuredClone(exampleConfig()) as unknown as Record<string, unknown>;
    change(raw);
    try {
      parseDeploymentConfig(raw, 'config/broken.yml');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidConfig);
      return (error as Error).message;
    }
    throw new Error('the config was accepted');
  }

  it.each([
    ['a scenario no alert may start', (raw: Record<string, unknown>) => (raw.alertmanager = { alerts: { Breach: 'security-incident' } }), 'alertmanager.alerts.Breach: got "security-incident"'],
    ['a bad alertname', (raw: Record<string, unknown>) => (raw.alertmanager = { alerts: { 'Database-Down': 'database-recovery' } }), 'alertmanager.alerts.Database-Down'],
    ['no alert at all', (raw: Record<string, unknown>) => (raw.alertmanager = { alerts: {} }), 'alertmanager.alerts'],
    ['a bad label name', (raw: Record<string, unknown>) => (raw.alertmanager = { alerts: { DatabaseDown: 'database-recovery' }, databaseLabel: 'data base' }), 'alertmanager.databaseLabel'],
  ])('refuses %s, naming the field', (_label, change, expected) => {
    expect(configError(change)).toContain(expected);
  });
});
