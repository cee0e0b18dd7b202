// The API-key rotation function (functions/rotate-api-keys, as Secrets Manager invokes it) against moto's
// Secrets Manager and two real Kubernetes control planes (deploy/rbac/ enforced: the environment's key
// is mapped to the groups it binds, so the function's GET and PATCH of the Secret go through the
// frontier-dr:rotate-api-keys Role): after a rotation the Kubernetes copies hold the new keys and none
// of the old, AWSCURRENT holds the new set and AWSPREVIOUS the old, no AWSPENDING is left; a rotation
// stopped after setSecret and run again completes; names no longer in the set leave the copy; the other
// cluster without the Secret is skipped. Nothing the function writes (results, log lines, errors) holds
// a key.
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Context } from 'aws-lambda';
import { API_KEY_ROTATION_STEPS, type ApiKeyRotationEvent, type ApiKeyRotationStep, type ApiKeyRotationStepResult } from '../../shared/api-key-rotation.js';
import { forgetClients } from '../../shared/clients.js';
import { connectTo, forgetConnections, type ClusterRole } from '../../shared/cluster-ops.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { EMULATOR_CREDENTIALS } from '../../local/emulator-clients.js';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { CLUSTER_START_TIMEOUT_MS, startClusters, type Clusters } from '../support/cluster-fixtures.js';
import { configWith, useConfig } from '../support/fixtures.js';

const REGION = 'us-east-1';
const SECRET = 'frontier/prod/api-keys';
const NS = 'production';
const COPY = 'frontier-api-keys';
const KEY_LENGTH = 48;
const FIRST_KEYS = { 'partner-acme': 'FirstAcmeKeyForTheIntegrationTest000000000000001', 'mobile.app': 'FirstMobileKeyForTheIntegrationTest0000000000002' };
const ROTATION_FUNCTION_ARN = `arn:aws:lambda:${REGION}:123456789012:function:frontier-dr-test-rotateApiKeys`;

let moto: MotoServer;
let clusters: Clusters;
let secrets: SecretsManagerClient;
let config: DeploymentConfig;
const savedEndpoint = process.env.AWS_ENDPOINT_URL;
const savedRegion = process.env.AWS_REGION;
const savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
let handler: (event: ApiKeyRotationEvent, context: Context) => Promise<ApiKeyRotationStepResult>;

/** Every log line the function writes, every result and every thrown error. */
const logLines: string[] = [];
const outputs: unknown[] = [];
/** Every key the secret ever held (read by the test itself): none may appear in what the function wrote. */
const knownKeys = new Set<string>(Object.values(FIRST_KEYS));

const context = (): Context =>
  ({
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'rotateApiKeys',
    functionVersion: '$LATEST',
    invokedFunctionArn: ROTATION_FUNCTION_ARN,
    memoryLimitInMB: '256',
    awsRequestId: `test-${Math.random().toString(16).slice(2)}`,
    logGroupName: '/aws/lambda/rotateApiKeys',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 60_000,
  }) as Context;

async function invoke(token: string, step: ApiKeyRotationStep): Promise<ApiKeyRotationStepResult> {
  try {
    const result = await handler({ SecretId: SECRET, ClientRequestToken: token, Step: step }, context());
    outputs.push(result);
    return result;
  } catch (error) {
    outputs.push(error);
    throw error;
  }
}

/** Secrets Manager starting a rotation (moto leaves the AWSPENDING version, then cannot invoke the function: see secret-rotation.test.ts). */
async function startRotation(): Promise<string> {
  const token = randomUUID();
  const started = await secrets
    .send(new RotateSecretCommand({ SecretId: SECRET, ClientRequestToken: token, RotationLambdaARN: ROTATION_FUNCTION_ARN, RotationRules: { AutomaticallyAfterDays: 30 } }))
    .then(() => 'invoked', (error: Error) => error.message);
  expect(started).toContain(`Resource not found for ARN '${ROTATION_FUNCTION_ARN}'`);
  expect((await labels())[token]).toEqual(['AWSPENDING']);
  return token;
}

async function keysAt(stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<Record<string, string>> {
  const answer = await secrets.send(new GetSecretValueCommand({ SecretId: SECRET, VersionStage: stage }));
  const keys = JSON.parse(answer.SecretString as string) as Record<string, string>;
  for (const key of Object.values(keys)) knownKeys.add(key);
  return keys;
}

async function labels(): Promise<Record<string, string[]>> {
  const answer = await secrets.send(new DescribeSecretCommand({ SecretId: SECRET }));
  return Object.fromEntries(Object.entries(answer.VersionIdsToStages ?? {}).filter(([, stages]) => stages.length > 0).map(([id, stages]) => [id, [...stages].sort()]));
}

/** The rotation's end state: as AWS's templates leave it, and the old keys in no copy. */
async function expectRotated(token: string, previous: Record<string, string>, copiesOn: ClusterRole[]): Promise<Record<string, string>> {
  const current = await keysAt('AWSCURRENT');
  const all = await labels();
  expect(all[token]).toEqual(['AWSCURRENT']);
  expect(Object.values(all).filter((stages) => stages.includes('AWSPENDING'))).toEqual([]);
  expect(Object.values(all).filter((stages) => stages.includes('AWSPREVIOUS'))).toHaveLength(1);
  expect(await keysAt('AWSPREVIOUS')).toEqual(previous);
  expect(Object.keys(current).sort()).toEqual(Object.keys(previous).sort());
  for (const [name, key] of Object.entries(current)) {
    expect(key).toMatch(new RegExp(`^[A-Za-z0-9]{${KEY_LENGTH}}$`));
    expect(key).not.toBe(previous[name]);
  }
  for (const role of copiesOn) {
    const copy = await clusters[role].secretData(NS, COPY);
    expect(copy).toEqual(current);
    for (const old of Object.values(previous)) expect(Object.values(copy ?? {})).not.toContain(old);
  }
  return current;
}

beforeAll(async () => {
  [moto, clusters] = await Promise.all([startMoto(), startClusters({ primaryNodes: 0, backupNodes: 0 })]);
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  process.env.AWS_REGION = REGION;
  forgetClients();
  config = configWith((c) => {
    c.kubernetes!.namespace = NS;
    c.kubernetes!.clusters.primary.name = clusters.primary.clusterName;
    c.kubernetes!.clusters.backup.name = clusters.backup.clusterName;
    c.securityIncident = { cluster: 'primary', apiKeys: { secret: SECRET, kubernetesSecret: COPY, keyLength: KEY_LENGTH }, evidence: { bucket: 'frontier-dr-evidence' } } as never;
  });
  useConfig(config);
  secrets = new SecretsManagerClient({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await secrets.send(new CreateSecretCommand({ Name: SECRET, SecretString: JSON.stringify(FIRST_KEYS) }));
  // The namespace with deploy/rbac/'s Roles (frontier-dr:rotate-api-keys among them), and the copy the
  // API's manifests declare, on both clusters.
  for (const cluster of [clusters.primary, clusters.backup]) {
    await cluster.addNamespace(NS);
    await cluster.addSecret(NS, COPY, FIRST_KEYS);
  }

  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  ({ handler } = (await import('../../functions/rotate-api-keys/handler.js')) as unknown as { handler: typeof handler });
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
  restoreWrites = () => {
    process.stdout.write = original;
    process.stderr.write = originalErr;
  };
}, CLUSTER_START_TIMEOUT_MS);

let restoreWrites = (): void => undefined;

/**
 * Each test's function container: its connections to the clusters are the ones the handler makes
 * (connectTo, cached per container), with the local clusters' endpoints in place of EKS DescribeCluster
 * and the environment's key (mapped by the clusters' token webhook to deploy/rbac/'s groups).
 */
beforeEach(async () => {
  forgetConnections();
  for (const role of ['primary', 'backup'] as const) {
    const cluster = clusters[role];
    await connectTo(config, role, { resolveEndpoint: () => ({ endpoint: cluster.url, caData: cluster.caData }), credentials: EMULATOR_CREDENTIALS });
  }
});

afterAll(async () => {
  restoreWrites();
  forgetConnections();
  process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
  secrets?.destroy();
  forgetClients();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
  if (savedRegion === undefined) delete process.env.AWS_REGION;
  else process.env.AWS_REGION = savedRegion;
  await Promise.all([moto?.stop(), clusters?.stop()]);
}, 60_000);

describe('API-key rotation against moto and real clusters', () => {
  it('after a rotation both Kubernetes copies hold the new keys and not the old; labels as AWS leaves them', async () => {
    const previous = await keysAt('AWSCURRENT');
    const token = await startRotation();
    const results = [];
    for (const step of API_KEY_ROTATION_STEPS) results.push(await invoke(token, step));
    expect(results.map((r) => r.outcome)).toEqual(['done', 'done', 'done', 'done']);
    expect(results[1]!.copies!.map((c) => [c.role, c.cluster, c.outcome])).toEqual([
      ['primary', clusters.primary.clusterName, 'updated'],
      ['backup', clusters.backup.clusterName, 'updated'],
    ]);
    await expectRotated(token, previous, ['primary', 'backup']);
    // Through the clusters' proxies, as the function's own group: a GET and a PATCH of that one Secret, allowed.
    const secretRequests = clusters.primary.requests.filter((r) => r.path.endsWith(`/namespaces/${NS}/secrets/${COPY}`));
    expect(secretRequests.length).toBeGreaterThan(0);
    expect(secretRequests.every((r) => r.status === 200)).toBe(true);
    expect(new Set(secretRequests.map((r) => r.method))).toEqual(new Set(['GET', 'PATCH']));
  }, 120_000);

  it('a rotation stopped after setSecret (the copies already hold the new keys) and started again completes', async () => {
    const previous = await keysAt('AWSCURRENT');
    const token = await startRotation();
    await invoke(token, 'createSecret');
    await invoke(token, 'setSecret');
    // The function "died" here: the copies hold the pending keys, the secret still says the old ones are current.
    expect((await labels())[token]).toEqual(['AWSPENDING']);
    const pending = JSON.parse((await secrets.send(new GetSecretValueCommand({ SecretId: SECRET, VersionId: token, VersionStage: 'AWSPENDING' }))).SecretString as string) as Record<string, string>;
    for (const key of Object.values(pending)) knownKeys.add(key);
    expect(await clusters.primary.secretData(NS, COPY)).toEqual(pending);

    const again = [];
    for (const step of API_KEY_ROTATION_STEPS) again.push(await invoke(token, step));
    expect(again.map((r) => r.outcome)).toEqual(['already-done', 'already-done', 'done', 'done']);
    expect(await expectRotated(token, previous, ['primary', 'backup'])).toEqual(pending);
  }, 120_000);

  it('names no longer in the set leave the serving copy; the other cluster without the Secret is skipped, not a failure', async () => {
    const previous = await keysAt('AWSCURRENT');
    // A partner retired from the key set earlier, whose key is still in the copy the API reads.
    await clusters.primary.addSecret(NS, COPY, { ...previous, 'retired-partner': 'RetiredPartnerKeyStillInTheCopy000000000000000003' });
    knownKeys.add('RetiredPartnerKeyStillInTheCopy000000000000000003');
    await clusters.backup.plane.adminKubeConfig().makeApiClient(CoreV1Api).deleteNamespacedSecret({ name: COPY, namespace: NS });

    const token = await startRotation();
    const results = [];
    for (const step of API_KEY_ROTATION_STEPS) results.push(await invoke(token, step));
    expect(results[1]!.copies).toEqual([
      { role: 'primary', cluster: clusters.primary.clusterName, secret: `${NS}/${COPY}`, outcome: 'updated', removed: ['retired-partner'] },
      { role: 'backup', cluster: clusters.backup.clusterName, secret: `${NS}/${COPY}`, outcome: 'skipped', reason: `it has no Secret ${NS}/${COPY}` },
    ]);
    await expectRotated(token, previous, ['primary']);
    expect(Object.keys((await clusters.primary.secretData(NS, COPY)) ?? {}).sort()).toEqual(['mobile.app', 'partner-acme']);
    expect(await clusters.backup.secretData(NS, COPY)).toBeUndefined();
  }, 120_000);

  it('wrote no key anywhere: not in a result, an error or a log line', () => {
    expect(outputs.length).toBeGreaterThan(10);
    expect(logLines.some((line) => line.includes('rotation step'))).toBe(true);
    const written = [...logLines, ...outputs.map((o) => (o instanceof Error ? `${o.name} ${o.message}` : JSON.stringify(o)))].join('\n');
    // The first keys, three rotations' new keys, the retired one.
    expect(knownKeys.size).toBe(9);
    for (const key of knownKeys) {
      expect(written).not.toContain(key);
      expect(written).not.toContain(Buffer.from(key).toString('base64'));
    }
  });
});
