// publishReadiness (shared/readiness-report.ts): the report stored, the ScenarioReady metrics as EMF
// lines, an alert only when a scenario's readiness changes (first not ready, turned not ready, ready
// again), each verdict recorded conditionally, and the faults of each call.
import { jest } from '@jest/globals';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { METRICS_NAMESPACE } from '../../shared/metrics.js';
import type { ReadinessRun, ScenarioReadiness } from '../../shared/readiness-run.js';
import { isAnnounced, publishReadiness, readinessChange, renderReadinessMarkdown, type ReadinessItem, type ReadinessReport, type ReadinessSinks } from '../../shared/readiness-report.js';
import type { ScenarioName } from '../../shared/scenarios.js';

const TABLE = 'frontier-dr-prod-recovery-locks';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:frontier-prod-dr-alerts';
const STARTED = '2026-11-30T12:00:00.000Z';
const FINISHED = new Date('2026-11-30T12:00:20.000Z');

const s3 = new S3Client({ region: 'us-east-1' });
const ddb = new DynamoDBClient({ region: 'us-east-1' });
const sns = new SNSClient({ region: 'us-east-1' });
const s3Mock = mockClient(s3);
const ddbMock = mockClient(ddb);
const snsMock = mockClient(sns);

/** The verdicts in the table, as the previous evaluations left them. */
let table: Map<string, { ready: boolean; evaluatedAt: string }>;
let printed: string[];

function run(overrides: Partial<ReadinessRun> = {}): ReadinessRun {
  return {
    scenario: 'readiness',
    executionId: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-readiness:r2',
    executionName: 'r2',
    startedAt: STARTED,
    trigger: 'schedule',
    dryRun: false,
    reason: 'scheduled readiness evaluation',
    scenarios: ['restore-test', 'cluster-failover'],
    unsupported: [],
    ...overrides,
  };
}

function evaluation(scenario: ScenarioName, ready: boolean): ScenarioReadiness {
  return {
    scenario,
    ready,
    evaluatedAt: STARTED,
    durationMs: 120,
    checks: [
      { scenario, name: 'subnet-group', resource: 'DB subnet group x in us-east-1', passed: true, message: 'exists' },
      ...(ready ? [] : [{ scenario, name: 'backup-cluster', resource: 'backup cluster frontier-backup-cluster (us-east-1)', passed: false, message: 'only 0 of 3 nodes Ready (less than half)' }]),
    ],
  };
}

function sinks(): ReadinessSinks {
  return { s3, bucket: 'frontier-prod-dr-reports', prefix: 'reports/', ddb, table: TABLE, sns, topicArn: TOPIC, metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'frontier-dr' }), logger: { info: () => undefined } };
}

function emitted(): { name: string; value: unknown; scenario: unknown }[] {
  return printed.flatMap((line) => {
    const emf = JSON.parse(line) as { _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] }; Scenario?: unknown; [key: string]: unknown };
    return emf._aws.CloudWatchMetrics.flatMap((d) => {
      expect(d.Namespace).toBe('FrontierDR');
      return d.Metrics.map((m) => ({ name: m.Name, value: emf[m.Name], scenario: emf.Scenario }));
    });
  });
}

function storedReport(): ReadinessReport {
  const put = s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key?.endsWith('.json'));
  return JSON.parse(String(put?.args[0].input.Body)) as ReadinessReport;
}

const saved = { disabled: process.env.POWERTOOLS_METRICS_DISABLED, dev: process.env.POWERTOOLS_DEV };

beforeEach(() => {
  s3Mock.reset();
  ddbMock.reset();
  snsMock.reset();
  table = new Map();
  s3Mock.on(PutObjectCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ddbMock.on(GetItemCommand).callsFake((input: { Key: { target: { S: string } } }) => {
    const item = table.get(input.Key.target.S);
    return item ? { Item: { target: input.Key.target, ready: { BOOL: item.ready }, evaluatedAt: { S: item.evaluatedAt } } } : {};
  });
  ddbMock.on(PutItemCommand).callsFake((input: { Item: Record<string, { S?: string; BOOL?: boolean }>; ExpressionAttributeValues: Record<string, { S: string }> }) => {
    const key = input.Item.target!.S!;
    const current = table.get(key);
    if (current && current.evaluatedAt > input.ExpressionAttributeValues[':evaluatedAt']!.S) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
    }
    table.set(key, { ready: input.Item.ready!.BOOL!, evaluatedAt: input.Item.evaluatedAt!.S! });
    return {};
  });
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_DEV = 'true';
  printed = [];
  jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
    printed.push(String(line));
  });
});

afterEach(() => {
  jest.restoreAllMocks();
  for (const [name, value] of [['POWERTOOLS_METRICS_DISABLED', saved.disabled], ['POWERTOOLS_DEV', saved.dev]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

async function publish(items: ReadinessItem[], at = STARTED) {
  return publishReadiness({ run: run({ startedAt: at }), items }, sinks(), new Date(Date.parse(at) + 20_000));
}

describe('readinessChange', () => {
  it('announces a scenario turning not ready, first seen not ready, and ready again; nothing else', () => {
    const cases: [boolean | null, boolean, string, boolean][] = [
      [null, true, 'ready-first-seen', false],
      [null, false, 'not-ready-first-seen', true],
      [true, false, 'became-not-ready', true],
      [false, false, 'still-not-ready', false],
      [false, true, 'ready-again', true],
      [true, true, 'still-ready', false],
    ];
    for (const [previous, ready, change, announced] of cases) {
      expect(readinessChange(previous, ready)).toBe(change);
      expect(isAnnounced(readinessChange(previous, ready))).toBe(announced);
    }
  });
});

describe('publishReadiness', () => {
  it('stores the report under <prefix>readiness/, emits ScenarioReady and ReadinessChecksFailed per scenario', async () => {
    const published = await publish([evaluation('restore-test', true), evaluation('cluster-failover', false)]);

    expect(published).toMatchObject({
      ready: ['restore-test'],
      notReady: [{ scenario: 'cluster-failover', reasons: ['backup-cluster on backup cluster frontier-backup-cluster (us-east-1): only 0 of 3 nodes Ready (less than half)'] }],
      location: { json: 's3://frontier-prod-dr-reports/reports/readiness/2026/11/30/120000000-r2.json', markdown: 's3://frontier-prod-dr-reports/reports/readiness/2026/11/30/120000000-r2.md' },
    });
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['reports/readiness/2026/11/30/120000000-r2.json', 'reports/readiness/2026/11/30/120000000-r2.md']);
    const report = storedReport();
    expect(report).toMatchObject({ scenario: 'readiness', trigger: 'schedule', durationSeconds: 20, summary: '1 of 2 scenario(s) NOT READY (cluster-failover: 1 reason(s))' });
    const markdown = String(s3Mock.commandCalls(PutObjectCommand)[1]!.args[0].input.Body);
    // Not ready first, with its reason.
    expect(markdown).toMatch(/\| cluster-failover \| \*\*NO\*\* \| not-ready-first-seen \| backup-cluster on .*only 0 of 3 nodes Ready.*\|\n\| restore-test \| yes \|/);
    expect(emitted()).toEqual([
      { name: 'ScenarioReady', value: 1, scenario: 'restore-test' },
      { name: 'ReadinessChecksFailed', value: 0, scenario: 'restore-test' },
      { name: 'ScenarioReady', value: 0, scenario: 'cluster-failover' },
      { name: 'ReadinessChecksFailed', value: 1, scenario: 'cluster-failover' },
    ]);
  });

  it('alerts once when a scenario turns not ready, stays quiet while it stays so, and announces its return once', async () => {
    // First evaluation: cluster-failover not ready (first seen): one alert.
    await publish([evaluation('restore-test', true), evaluation('cluster-failover', false)], '2026-11-30T12:00:00.000Z');
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    const first = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(first.Subject).toBe('[frontier-dr] readiness: cluster-failover NOT READY');
    expect(first.Message).toContain('NOT READY cluster-failover (first evaluation):\n  - backup-cluster on backup cluster frontier-backup-cluster (us-east-1): only 0 of 3 nodes Ready');
    expect(first.Message).toContain('Report: s3://frontier-prod-dr-reports/reports/readiness/2026/11/30/');
    expect(first.TopicArn).toBe(TOPIC);

    // Still not ready 30 minutes later: nothing.
    const quiet = await publish([evaluation('restore-test', true), evaluation('cluster-failover', false)], '2026-11-30T12:30:00.000Z');
    expect(quiet.announced).toEqual([]);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);

    // Ready again: announced once.
    const back = await publish([evaluation('restore-test', true), evaluation('cluster-failover', true)], '2026-11-30T13:00:00.000Z');
    expect(back.announced).toEqual([{ scenario: 'cluster-failover', change: 'ready-again' }]);
    expect(snsMock.commandCalls(PublishCommand)[1]!.args[0].input.Subject).toBe('[frontier-dr] readiness: cluster-failover ready again');
    await publish([evaluation('restore-test', true), evaluation('cluster-failover', true)], '2026-11-30T13:30:00.000Z');
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(2);

    // A ready scenario turning not ready (restore-test) is announced with when it was last ready.
    const down = await publish([evaluation('restore-test', false), evaluation('cluster-failover', true)], '2026-11-30T14:00:00.000Z');
    expect(down.announced).toEqual([{ scenario: 'restore-test', change: 'became-not-ready' }]);
    expect(snsMock.commandCalls(PublishCommand)[2]!.args[0].input.Message).toContain('NOT READY restore-test (ready at 2026-11-30T13:30:00.000Z)');
  });

  it('records each verdict under readiness#<scenario>, and an older evaluation finishing late never overwrites a newer one', async () => {
    await publish([evaluation('cluster-failover', true)], '2026-11-30T13:00:00.000Z');
    expect(table.get('readiness#cluster-failover')).toEqual({ ready: true, evaluatedAt: '2026-11-30T13:00:00.000Z' });
    expect(ddbMock.commandCalls(PutItemCommand)[0]!.args[0].input).toMatchObject({
      TableName: TABLE,
      ConditionExpression: 'attribute_not_exists(#target) OR #evaluatedAt <= :evaluatedAt',
      Item: { target: { S: 'readiness#cluster-failover' }, ready: { BOOL: true }, executionId: { S: run().executionId }, failedChecks: { N: '0' } },
    });

    // An evaluation started earlier (12:45) finishes after it: its verdict is not kept.
    await publish([evaluation('cluster-failover', false)], '2026-11-30T12:45:00.000Z');
    expect(table.get('readiness#cluster-failover')).toEqual({ ready: true, evaluatedAt: '2026-11-30T13:00:00.000Z' });
  });

  it('turns an evaluation that could not run (the Map item\'s Catch) into a scenario not ready, with the error and no stack trace', async () => {
    const published = await publish([
      evaluation('restore-test', true),
      { scenario: 'region-failover', failure: { Error: 'Sandbox.Timedout', Cause: JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 60.00 seconds', trace: ['at secret place'] }) } },
    ]);
    expect(published.notReady).toEqual([{ scenario: 'region-failover', reasons: ['evaluation on region-failover: the evaluation could not run: Sandbox.Timedout: Task timed out after 60.00 seconds'] }]);
    expect(JSON.stringify(storedReport())).not.toContain('secret place');
  });

  it('lists the scenarios the config does not support in the report, unevaluated', async () => {
    await publishReadiness({ run: run({ unsupported: [{ scenario: 'region-failback', why: 'has no regionFailback section' }] }), items: [evaluation('restore-test', true)] }, sinks(), FINISHED);
    expect(storedReport().unsupported).toEqual([{ scenario: 'region-failback', why: 'has no regionFailback section' }]);
    expect(storedReport().summary).toBe('all 1 scenario(s) ready; not configured: region-failback');
  });

  it.each([
    ['throttled S3', 'AwsTransientError', () => s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error('slow down'), { name: 'SlowDown', $fault: 'client', $metadata: { httpStatusCode: 503 } }))],
    ['denied DynamoDB', 'AwsAccessDenied', () => ddbMock.on(GetItemCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } }))],
    ['a missing table', 'ResourceNotFound', () => ddbMock.on(GetItemCommand).rejects(Object.assign(new Error('no table'), { name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 } }))],
    ['SNS 5xx', 'AwsTransientError', () => snsMock.on(PublishCommand).rejects(Object.assign(new Error('oops'), { name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } }))],
  ] as const)('%s: throws %s for the state\'s Retry, and records no verdict it has not announced', async (_what, name, inject) => {
    inject();
    await expect(publish([evaluation('cluster-failover', false)])).rejects.toMatchObject({ name });
    // The alert goes before the verdicts: a failed alert leaves the old verdict, so the retry alerts.
    expect(table.has('readiness#cluster-failover')).toBe(false);
  });

  it('a retry after a failed write alerts again (at least once), a retry after the writes does not', async () => {
    ddbMock.on(PutItemCommand).rejectsOnce(Object.assign(new Error('busy'), { name: 'ProvisionedThroughputExceededException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    await expect(publish([evaluation('cluster-failover', false)])).rejects.toMatchObject({ name: 'AwsTransientError' });
    ddbMock.on(PutItemCommand).callsFake((input: { Item: Record<string, { S?: string; BOOL?: boolean }> }) => {
      table.set(input.Item.target!.S!, { ready: input.Item.ready!.BOOL!, evaluatedAt: input.Item.evaluatedAt!.S! });
      return {};
    });
    await publish([evaluation('cluster-failover', false)]);
    await publish([evaluation('cluster-failover', false)]);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(2);
  });
});

describe('renderReadinessMarkdown', () => {
  it('escapes table cells', () => {
    const report: ReadinessReport = {
      scenario: 'readiness',
      executionId: 'e',
      executionName: 'e',
      trigger: 'manual',
      startedAt: STARTED,
      finishedAt: STARTED,
      durationSeconds: 0,
      summary: 's',
      scenarios: [{ scenario: 'restore-test', ready: false, reasons: ['a | b\nc'], checks: [], change: 'still-not-ready', previousEvaluatedAt: null }],
      unsupported: [],
    };
    expect(renderReadinessMarkdown(report)).toContain('| restore-test | **NO** | still-not-ready | a \\| b c |');
  });
});
