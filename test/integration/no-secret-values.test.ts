// No secret values leave the Lambdas (issue 11, item 4), proved on the real thing: the seeded example
// deployment in the local environment (moto behind the AWS front, PostgreSQL, the two Kubernetes control
// planes, Redis), with every secret value known to the test, runs
//   (a) a rotation of the database secret through RotateSecret (startSecretRotation, which the AWS front
//       answers by running rotateDatabaseSecret's four steps as Secrets Manager does, then
//       checkSecretRotation until the new version is AWSCURRENT), and
//   (b) the security-incident state machine end to end, approved on its task token as the drill does
//       (API keys revoked, addresses blocked, emergency mode, evidence, the database secret rotated
//       again, the patch rolled out, the report).
// Then everything they wrote is searched: every state's input and output in the execution's event log
// (and the task calls, the run's output), the handlers' own inputs and outputs in (a), every object in
// the reports bucket (JSON and Markdown), every object version in the evidence bucket, every message
// published to the alert topic (an SQS queue in moto subscribed to it), the items of the approvals and recovery-lock tables, and
// every line written to stdout and stderr while they ran (the handlers log at DEBUG here). The known
// values are every version of every secret in Secrets Manager in both regions (the database passwords
// before and after each rotation, the API keys before and after, the Redis AUTH password, the approval
// signing key), the Kubernetes copies (the API keys, the database URL: a connection string) and the
// servers' own passwords; each is searched as itself and base64-encoded (Kubernetes Secret data is).
//
// The evidence bucket's pod logs are searched too, not excepted: they are the API's container logs, which
// the environment controls (local/clusters.ts apiContainerLog: access-log lines naming key names, never a
// key), so a key found there would be a leak by the collection, not the application's own doing.
//
// The search must not pass vacuously: the corpus is asserted to contain the secrets' names, the
// rotations' version ids, the rotation function's step log lines and the pod logs' lines. And the search
// is proved to catch a leak: a handler wrapped to add a secret value (or its base64) to its output is
// found by the same function.
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, ListSecretsCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import type { DeploymentConfig } from '../../shared/config.js';
import type { RotationLook, StartedRotation } from '../../shared/rotate-now.js';
import type { RunContext } from '../../shared/run.js';
import type { StepOutput } from '../../shared/steps.js';
import {
  APPROVAL_SIGNING_SECRET,
  APPROVALS_TABLE,
  emulatorClients,
  emulatorConfig,
  onTaskWaiting,
  PRODUCTION_IMAGE,
  runEmulatedExecution,
  seedExampleDeployment,
  sendTaskSuccess,
  startClusterEnvironment,
  startEmulatedEnvironment,
  withSeededWafIpSet,
  type ClusterEnvironment,
  type EmulatedEnvironment,
  type LocalRunResult,
  type SeededDeployment,
} from '../../local/index.js';
import { configWith, useConfig } from '../support/fixtures.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';

const NS = 'production';
const API = 'frontier-api';
const DATABASE_SECRET = 'frontier/prod/database';
const API_KEYS_SECRET = 'frontier/prod/api-keys';
const REDIS_SECRET = 'frontier/prod/redis-auth';
/** Fields of a secret's JSON that are not secret (where to connect, as whom). */
const NOT_SECRET_FIELDS = new Set(['username', 'engine', 'host', 'port', 'dbname', 'dbInstanceIdentifier', 'masterarn']);

type Handler = (event: unknown, context: Context) => Promise<unknown>;

let environment: EmulatedEnvironment;
let clusters: ClusterEnvironment;
let config: DeploymentConfig;
let seeded: SeededDeployment;
let restoreErrorRealm: () => void = () => undefined;
const saved = { ...process.env };

/** Everything the two runs wrote, one entry per place (named for the failure message). */
const corpus: { where: string; text: string }[] = [];
/** Every secret value known to the test: label -> value. */
const secretValues = new Map<string, string>();
const logLines: string[] = [];
let rotationVersion = '';
let incident: LocalRunResult;

const context = (name: string) => ({ getRemainingTimeInMillis: () => 60_000, functionName: name, awsRequestId: `no-secret-values-${name}` }) as unknown as Context;
const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? String(value));

/**
 * Where any known value, or its base64, appears in the corpus: `<what> (<label>) in <where>`. The one
 * search both tests use.
 */
function findSecretValues(entries: readonly { where: string; text: string }[], values: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [label, value] of values) {
    const forms = [
      ['value', value],
      ['base64', Buffer.from(value, 'utf8').toString('base64')],
      ['base64url', Buffer.from(value, 'utf8').toString('base64url')],
    ] as const;
    for (const entry of entries) {
      for (const [form, needle] of forms) if (entry.text.includes(needle)) found.push(`${form} of ${label} in ${entry.where}`);
    }
  }
  return found;
}

/** Every string leaf of a secret's value that is secret (the whole value when it is not JSON). */
function secretLeaves(label: string, value: string): [string, string][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [[label, value]];
  }
  if (!parsed || typeof parsed !== 'object') return [[label, value]];
  return Object.entries(parsed as Record<string, unknown>)
    .filter(([field, leaf]) => typeof leaf === 'string' && !NOT_SECRET_FIELDS.has(field))
    .map(([field, leaf]) => [`${label}.${field}`, leaf as string]);
}

/** Every version of every secret in both regions, by label. */
async function collectSecretValues(): Promise<void> {
  for (const region of [config.recoveryRegion, config.primaryRegion]) {
    const secrets = emulatorClients(environment.endpoint, region).secrets;
    const listed = await secrets.send(new ListSecretsCommand({ MaxResults: 100 }));
    for (const secret of listed.SecretList ?? []) {
      const versions = await secrets.send(new ListSecretVersionIdsCommand({ SecretId: secret.ARN, IncludeDeprecated: true }));
      for (const version of versions.Versions ?? []) {
        const answer = await secrets.send(new GetSecretValueCommand({ SecretId: secret.ARN, VersionId: version.VersionId })).catch(() => null);
        if (!answer?.SecretString) continue;
        for (const [label, leaf] of secretLeaves(`${secret.Name}@${version.VersionId} (${region})`, answer.SecretString)) secretValues.set(label, leaf);
      }
    }
  }
  for (const role of ['primary', 'backup'] as const) {
    for (const name of ['frontier-api-keys', 'frontier-secrets']) {
      const data = await clusters[role].secretData(NS, name);
      for (const [key, value] of Object.entries(data ?? {})) secretValues.set(`Kubernetes Secret ${role}/${NS}/${name}.${key}`, value);
    }
  }
  secretValues.set('PostgreSQL password', environment.postgres.password);
  if (clusters.redis.password) secretValues.set('Redis password', clusters.redis.password);
}

async function readAllObjects(bucket: string, prefix = ''): Promise<void> {
  const s3 = emulatorClients(environment.endpoint, config.recoveryRegion).s3;
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
  const versions = listed.Versions ?? [];
  if (versions.length === 0) {
    const plain = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    for (const o of plain.Contents ?? []) if (o.Key) versions.push({ Key: o.Key });
  }
  for (const version of versions) {
    if (!version.Key) continue;
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: version.Key, ...(version.VersionId && version.VersionId !== 'null' ? { VersionId: version.VersionId } : {}) }));
    corpus.push({ where: `s3://${bucket}/${version.Key}`, text: (await answer.Body?.transformToString('utf8')) ?? '' });
  }
}

/**
 * One SQS call to moto (JSON protocol; moto routes by the credential scope and does not check the
 * signature). The project has no SQS client: the queue only listens to the alert topic for this test.
 */
async function sqs<T>(action: string, body: Record<string, unknown>): Promise<T> {
  const answer = await fetch(environment.moto.endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `AmazonSQS.${action}`,
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${config.recoveryRegion}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`SQS ${action}: HTTP ${answer.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text || '{}') as T;
}

/** A queue subscribed to the alert topic (raw delivery off: each message as SNS delivers it, subject included). */
async function subscribeQueueToAlerts(): Promise<string> {
  const { QueueUrl } = await sqs<{ QueueUrl: string }>('CreateQueue', { QueueName: `no-secret-values-alerts-${Date.now()}` });
  const { Attributes } = await sqs<{ Attributes: { QueueArn: string } }>('GetQueueAttributes', { QueueUrl, AttributeNames: ['QueueArn'] });
  await emulatorClients(environment.endpoint, config.recoveryRegion).sns.send(new SubscribeCommand({ TopicArn: seeded.alertTopicArn, Protocol: 'sqs', Endpoint: Attributes.QueueArn }));
  return QueueUrl;
}

/** Every message the queue received from the alert topic. */
async function alertMessages(queueUrl: string): Promise<string[]> {
  const messages: string[] = [];
  for (;;) {
    const { Messages } = await sqs<{ Messages?: { Body: string; ReceiptHandle: string }[] }>('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 });
    if (!Messages?.length) return messages;
    for (const m of Messages) {
      messages.push(m.Body);
      await sqs('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle });
    }
  }
}

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  environment = await startEmulatedEnvironment();
  const example = configWith(() => undefined);
  clusters = await startClusterEnvironment(environment, example, { primary: 'healthy', log: () => undefined });
  config = emulatorConfig(example, environment);
  seeded = await seedExampleDeployment(config, environment.endpoint, environment.postgres, clusters);
  config = withSeededWafIpSet(config, seeded);
  // The primary serves a good release (the planted bad release is emergency-rollback's).
  await clusters.primary.rollOut(NS, API, PRODUCTION_IMAGE, `deploy ${PRODUCTION_IMAGE}`);
  useConfig(config);
  process.env.ALERT_TOPIC_ARN = seeded.alertTopicArn;
  process.env.RECOVERY_LOCK_TABLE = seeded.recoveryLockTable;
  process.env.APPROVALS_TABLE = APPROVALS_TABLE;
  process.env.APPROVAL_SIGNING_SECRET = APPROVAL_SIGNING_SECRET;
  process.env.APPROVAL_LINK_BASE_URL = 'https://approvals.test.invalid';
  // The most the handlers ever log.
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  await collectSecretValues();
  const alertQueue = await subscribeQueueToAlerts();

  const original = process.stdout.write.bind(process.stdout);
  const originalErr = process.stderr.write.bind(process.stderr);
  const capture =
    (write: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      logLines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = capture(original) as typeof process.stdout.write;
  process.stderr.write = capture(originalErr) as typeof process.stderr.write;
  try {
    // (a) The database secret rotated through RotateSecret.
    const { handler: start } = (await import('../../functions/start-secret-rotation/handler.js')) as unknown as { handler: Handler };
    const { handler: check } = (await import('../../functions/check-secret-rotation/handler.js')) as unknown as { handler: Handler };
    const executionName = `no-secret-values-rotation-${Date.now()}`;
    const run = {
      scenario: 'secret-rotation',
      executionId: `arn:aws:states:${config.recoveryRegion}:123456789012:execution:test:${executionName}`,
      executionName,
      startedAt: new Date().toISOString(),
      dryRun: false,
    } as unknown as RunContext;
    const startInput = { run, secret: DATABASE_SECRET };
    const begun = (await start(startInput, context('startSecretRotation'))) as StepOutput<StartedRotation>;
    corpus.push({ where: 'startSecretRotation input', text: text(startInput) }, { where: 'startSecretRotation output', text: text(begun) });
    rotationVersion = begun.data.versionId;
    for (let looks = 0; looks < 300; looks++) {
      const checkInput = { run, secret: DATABASE_SECRET, rotation: begun.data };
      const look = (await check(checkInput, context('checkSecretRotation'))) as StepOutput<RotationLook>;
      corpus.push({ where: `checkSecretRotation input ${looks}`, text: text(checkInput) }, { where: `checkSecretRotation output ${looks}`, text: text(look) });
      if (look.data.completed) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // (b) The security incident, approved on its task token as the drill does.
    const stopAnswering = onTaskWaiting((task) => sendTaskSuccess(task.token, JSON.stringify({ approved: true, by: 'no-secret-values test', via: 'console', at: new Date().toISOString() })));
    try {
      incident = await runEmulatedExecution(
        environment.endpoint,
        'security-incident',
        { incidentId: 'SEC-TEST-0004', blockIps: ['203.0.113.7', '198.51.100.0/24'], patchedImage: 'frontier/api:security-patch', reason: 'no-secret-values test' },
        { executionName: `no-secret-values-incident-${Date.now()}`, waitMilliseconds: 300 },
      );
    } finally {
      stopAnswering();
    }
  } finally {
    process.stdout.write = original;
    process.stderr.write = originalErr;
  }

  // Everything they wrote.
  for (const [i, event] of incident.events.entries()) corpus.push({ where: `execution event ${i} (${'state' in event ? event.state.name : event.type})`, text: text(event) });
  for (const [i, call] of incident.calls.entries()) corpus.push({ where: `task call ${i} (${call.state})`, text: text(call) });
  corpus.push({ where: 'execution output', text: text(incident.output) }, { where: 'execution error', text: text(incident.error ?? null) });
  await readAllObjects(config.reports.bucket);
  await readAllObjects(config.securityIncident!.evidence.bucket);
  for (const [i, message] of (await alertMessages(alertQueue)).entries()) corpus.push({ where: `alert topic message ${i}`, text: message });
  const dynamodb = emulatorClients(environment.endpoint, config.recoveryRegion).dynamodb;
  for (const table of [APPROVALS_TABLE, seeded.recoveryLockTable]) {
    const items = await dynamodb.send(new ScanCommand({ TableName: table }));
    corpus.push({ where: `DynamoDB ${table}`, text: text(items.Items ?? []) });
  }
  for (const [i, line] of logLines.entries()) corpus.push({ where: `log line ${i}`, text: line });
  // The values after both runs: every version now held (the rotated passwords and keys among them).
  await collectSecretValues();
}, 300_000);

afterAll(async () => {
  restoreErrorRealm();
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
  await environment?.stop();
}, 120_000);

describe('no secret values leave the Lambdas', () => {
  it('the rotation and the security incident completed, and the known values are the rotated ones too', () => {
    expect(incident.status).toBe('SUCCEEDED');
    const labels = [...secretValues.keys()];
    // Before and after each rotation: at least three database passwords (seed, (a), the incident) and two API key sets.
    expect(labels.filter((l) => l.startsWith(`${DATABASE_SECRET}@`) && l.endsWith('.password') && l.includes(`(${config.recoveryRegion})`)).length).toBeGreaterThanOrEqual(3);
    expect(new Set(labels.filter((l) => l.startsWith(`${API_KEYS_SECRET}@`)).map((l) => l.split('@')[1]!.split(' ')[0])).size).toBeGreaterThanOrEqual(2);
    expect(labels.some((l) => l.startsWith(`${REDIS_SECRET}@`))).toBe(true);
    expect(labels.some((l) => l.startsWith(`${APPROVAL_SIGNING_SECRET}@`))).toBe(true);
    expect(labels).toContain(`Kubernetes Secret primary/${NS}/frontier-secrets.database-url`);
    for (const value of secretValues.values()) expect(value.length).toBeGreaterThanOrEqual(8);
  });

  it('the corpus is everything they wrote: secret names, version ids, rotation steps, reports, evidence, notifications', () => {
    const all = corpus.map((e) => e.text).join('\n');
    expect(all).toContain(DATABASE_SECRET);
    expect(all).toContain(API_KEYS_SECRET);
    expect(all).toContain(rotationVersion);
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) expect(logLines.join('')).toContain(step);
    expect(corpus.some((e) => e.where.startsWith(`s3://${config.reports.bucket}/`) && e.where.endsWith('.json'))).toBe(true);
    expect(corpus.some((e) => e.where.startsWith(`s3://${config.reports.bucket}/`) && e.where.endsWith('.md'))).toBe(true);
    const podLogs = corpus.filter((e) => e.where.includes('/pod-logs/'));
    expect(podLogs.length).toBeGreaterThan(0);
    for (const log of podLogs) expect(log.text).toContain('GET /v1/accounts/export 200 from 203.0.113.7 key=partner');
    expect(corpus.filter((e) => e.where.startsWith('alert topic message')).length).toBeGreaterThanOrEqual(2);
    expect(corpus.filter((e) => e.where.startsWith('execution event')).length).toBeGreaterThan(50);
    // The handlers' own log lines: both rotation functions' steps, the approval, the run's end, its metrics.
    const logged = logLines.join('');
    for (const line of ['"function_name":"rotateDatabaseSecret"', '"function_name":"rotateApiKeys"', '"message":"approval requested"', '"message":"run finished"', '"RunSucceeded"']) expect(logged).toContain(line);
    expect(logLines.length).toBeGreaterThanOrEqual(10);
  });

  it('no known secret value, nor its base64, appears anywhere in it', () => {
    expect(findSecretValues(corpus, secretValues)).toEqual([]);
  });

  it('the same search finds a secret that a handler returned', async () => {
    // checkSecretRotation as a handler that leaked: its real output, plus a secret value.
    const { handler: check } = (await import('../../functions/check-secret-rotation/handler.js')) as unknown as { handler: Handler };
    const current = JSON.parse(
      (await emulatorClients(environment.endpoint, config.recoveryRegion).secrets.send(new GetSecretValueCommand({ SecretId: DATABASE_SECRET }))).SecretString!,
    ) as { password: string };
    const apiKeys = Object.values(JSON.parse((await emulatorClients(environment.endpoint, config.recoveryRegion).secrets.send(new GetSecretValueCommand({ SecretId: API_KEYS_SECRET }))).SecretString!) as Record<string, string>);
    const leaking =
      (inner: Handler, leak: (output: Record<string, unknown>) => void): Handler =>
      async (event, ctx) => {
        const output = (await inner(event, ctx)) as Record<string, unknown>;
        leak(output);
        return output;
      };
    const run = { scenario: 'secret-rotation', executionId: 'arn:aws:states:us-east-1:123456789012:execution:test:leak', executionName: 'leak', startedAt: new Date().toISOString(), dryRun: false };
    const event = { run, secret: DATABASE_SECRET, rotation: { secret: DATABASE_SECRET, versionId: rotationVersion, startedAt: new Date().toISOString() } };
    const plain = await leaking(check, (output) => Object.assign(output, { debug: { password: current.password } }))(event, context('checkSecretRotation'));
    const encoded = await leaking(check, (output) => Object.assign(output, { copy: { data: { web: Buffer.from(apiKeys[0]!).toString('base64') } } }))(event, context('checkSecretRotation'));
    const honest = await check(event, context('checkSecretRotation'));
    expect(findSecretValues([{ where: 'leaking output', text: text(plain) }], secretValues)).toEqual(expect.arrayContaining([expect.stringMatching(/^value of frontier\/prod\/database@.*\.password in leaking output$/)]));
    expect(findSecretValues([{ where: 'leaking output', text: text(encoded) }], secretValues)).toEqual(expect.arrayContaining([expect.stringMatching(/^base64 of .* in leaking output$/)]));
    expect(findSecretValues([{ where: 'honest output', text: text(honest) }], secretValues)).toEqual([]);
  });
});
