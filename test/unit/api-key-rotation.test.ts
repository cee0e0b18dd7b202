// The API-key rotation (shared/api-key-rotation.ts) against a Secrets Manager double that keeps versions
// and labels as Secrets Manager does, and two Kubernetes "servers" (the kube client double, one per
// cluster) that keep the Secret the API reads: every step from every starting label state, the refusals
// that come before any change, bad key sets, every Secrets Manager and Kubernetes failure ending in a
// named error with nothing half-done, the other cluster skipped only when absent, and no key in any
// result or error.
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { V1Secret } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import {
  API_KEY_ROTATION_STEPS,
  apiKeySetDigest,
  parseApiKeySet,
  rotateApiKeysStep,
  type ApiKeyRotationDependencies,
  type ApiKeyRotationStep,
  type ApiKeyRotationStepResult,
} from '../../shared/api-key-rotation.js';
import type { ClusterRole, DeploymentConfig } from '../../shared/config.js';
import {
  ApiKeyCopyMismatch,
  ApiKeySetInvalid,
  AwsAccessDenied,
  AwsTransientError,
  InvalidConfig,
  KubernetesConflict,
  KubernetesNotFound,
  KubernetesTransientError,
  KubernetesUnauthorized,
  KubernetesUnreachable,
  ResourceNotFound,
  RotationRefused,
} from '../../shared/errors.js';
import type { KubernetesConnection } from '../../shared/kubernetes/connection.js';
import { configWith } from '../support/fixtures.js';
import { connectToDouble, kubeStatus, KubeClientDouble } from '../support/kube-client-double.js';

const SECRET = 'frontier/prod/api-keys';
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET}-AbCdEf`;
const OLD_VERSION = '11111111-1111-4111-8111-111111111111';
const TOKEN = '22222222-2222-4222-8222-222222222222';
const NAMESPACE = 'production';
const COPY = 'frontier-api-keys';
const COPY_PATH = `/api/v1/namespaces/${NAMESPACE}/secrets/${COPY}`;
const KEY_LENGTH = 40;
const OLD_KEYS = { 'partner-acme': 'OldAcmeKey0000000000000000000000000000000', 'mobile.app': 'OldMobileKey00000000000000000000000000000' };
/** What GetRandomPassword hands out, in order: none may appear in a result or an error. */
const NEW_KEYS = ['NewKeyA1', 'NewKeyB2', 'NewKeyC3', 'NewKeyD4'].map((k) => k.padEnd(KEY_LENGTH, 'x'));
const KNOWN_KEYS = [...Object.values(OLD_KEYS), ...NEW_KEYS];

function config(change?: (c: DeploymentConfig) => void): DeploymentConfig {
  return configWith((c) => {
    c.securityIncident = {
      cluster: 'primary',
      apiKeys: { secret: SECRET, kubernetesSecret: COPY, keyLength: KEY_LENGTH },
      evidence: { bucket: 'frontier-dr-evidence' },
    } as never;
    change?.(c);
  });
}

// ---- a Secrets Manager that keeps versions and labels ----

interface Version {
  value?: string;
  stages: string[];
}

class SecretStore {
  rotationEnabled = true;
  versions = new Map<string, Version>();
  generated = 0;

  constructor(current: string = JSON.stringify(OLD_KEYS)) {
    this.versions.set(OLD_VERSION, { value: current, stages: ['AWSCURRENT'] });
  }

  snapshot(): string {
    return JSON.stringify({ enabled: this.rotationEnabled, versions: [...this.versions] });
  }

  labels(): Record<string, string[]> {
    return Object.fromEntries([...this.versions].map(([id, v]) => [id, [...v.stages].sort()]));
  }

  withStage(stage: string): [string, Version] | undefined {
    return [...this.versions].find(([, v]) => v.stages.includes(stage));
  }

  label(stage: string, to: string): void {
    for (const version of this.versions.values()) version.stages = version.stages.filter((s) => s !== stage);
    this.versions.get(to)!.stages.push(stage);
  }

  valueOf(id: string): Record<string, string> {
    return JSON.parse(this.versions.get(id)!.value!) as Record<string, string>;
  }
}

const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: { httpStatusCode: 400 } });
const awsError = (name: string, status: number) => new SecretsManagerServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: `${name} happened` });

const client = new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 });
const secretsMock = mockClient(client);
let store: SecretStore;
const injected = new Map<string, Error[]>();

function failOnce(command: { name: string }, error: Error): void {
  injected.set(command.name, [...(injected.get(command.name) ?? []), error]);
}

function fake<I>(command: { name: string }, answer: (input: I) => unknown): void {
  secretsMock.on(command as never).callsFake((input: I) => {
    const failure = injected.get(command.name)?.shift();
    if (failure) throw failure;
    return answer(input);
  });
}

function serveSecretsManager(): void {
  fake(DescribeSecretCommand, (input: { SecretId: string }) => {
    if (input.SecretId !== SECRET && input.SecretId !== SECRET_ARN) throw notFound(`Secrets Manager can't find the specified secret ${input.SecretId}.`);
    return { ARN: SECRET_ARN, Name: SECRET, RotationEnabled: store.rotationEnabled, VersionIdsToStages: Object.fromEntries([...store.versions].map(([id, v]) => [id, [...v.stages]])) };
  });
  fake(GetSecretValueCommand, (input: { SecretId: string; VersionId?: string; VersionStage?: string }) => {
    const found = input.VersionId ? ([input.VersionId, store.versions.get(input.VersionId)] as const) : store.withStage(input.VersionStage ?? 'AWSCURRENT');
    const version = found?.[1];
    if (!version || (input.VersionStage && !version.stages.includes(input.VersionStage)) || version.value === undefined) {
      throw notFound("Secrets Manager can't find the specified secret value for the version or staging label.");
    }
    return { Name: SECRET, VersionId: found[0], VersionStages: [...version.stages], SecretString: version.value };
  });
  fake(GetRandomPasswordCommand, () => ({ RandomPassword: NEW_KEYS[store.generated++ % NEW_KEYS.length] }));
  fake(PutSecretValueCommand, (input: { ClientRequestToken: string; SecretString: string; VersionStages: string[] }) => {
    const existing = store.versions.get(input.ClientRequestToken);
    if (existing?.value !== undefined && existing.value !== input.SecretString) throw awsError('ResourceExistsException', 400);
    if (!existing) store.versions.set(input.ClientRequestToken, { stages: [] });
    store.versions.get(input.ClientRequestToken)!.value = input.SecretString;
    for (const stage of input.VersionStages) store.label(stage, input.ClientRequestToken);
    return { Name: SECRET, VersionId: input.ClientRequestToken };
  });
  fake(UpdateSecretVersionStageCommand, (input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string }) => {
    const holder = store.withStage(input.VersionStage)?.[0];
    if (input.RemoveFromVersionId && holder !== input.RemoveFromVersionId) throw awsError('InvalidParameterException', 400);
    if (input.RemoveFromVersionId) {
      const from = store.versions.get(input.RemoveFromVersionId)!;
      from.stages = from.stages.filter((s) => s !== input.VersionStage);
    }
    if (input.MoveToVersionId) store.label(input.VersionStage, input.MoveToVersionId);
    if (input.VersionStage === 'AWSCURRENT' && input.RemoveFromVersionId && input.MoveToVersionId) store.label('AWSPREVIOUS', input.RemoveFromVersionId);
    return { Name: SECRET };
  });
}

// ---- a cluster that keeps the Secret the API reads ----

class ClusterSecret {
  readonly double = new KubeClientDouble();
  data: Record<string, string> | undefined;
  resourceVersion = 1;
  /** A write by someone else between our GET and PATCH (the next PATCH meets a newer resourceVersion). */
  raceOnce = false;

  constructor(readonly name: string, keys: Record<string, string> | undefined) {
    this.data = keys ? encode(keys) : undefined;
    this.double.on('GET', COPY_PATH, () => (this.data ? { body: this.object() } : { status: 404, body: kubeStatus(404, `secrets "${COPY}" not found`) }));
    this.double.on('PATCH', COPY_PATH, (request) => {
      if (!this.data) return { status: 404, body: kubeStatus(404, `secrets "${COPY}" not found`) };
      if (this.raceOnce) {
        this.raceOnce = false;
        this.resourceVersion++;
      }
      const patch = request.body as { metadata?: { resourceVersion?: string }; data?: Record<string, string | null> };
      if (patch.metadata?.resourceVersion !== undefined && patch.metadata.resourceVersion !== String(this.resourceVersion)) {
        return { status: 409, body: kubeStatus(409, 'Operation cannot be fulfilled on secrets "frontier-api-keys": the object has been modified; please apply your changes to the latest version and try again') };
      }
      for (const [key, value] of Object.entries(patch.data ?? {})) {
        if (value === null) delete this.data[key];
        else this.data[key] = value;
      }
      this.resourceVersion++;
      return { body: this.object() };
    });
  }

  object(): V1Secret {
    return { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: COPY, namespace: NAMESPACE, resourceVersion: String(this.resourceVersion) }, data: { ...this.data } };
  }

  keys(): Record<string, string> | undefined {
    return this.data ? Object.fromEntries(Object.entries(this.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : undefined;
  }

  patches(): number {
    return this.double.sent('PATCH', COPY_PATH).length;
  }
}

const encode = (keys: Record<string, string>) => Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));

let primary: ClusterSecret;
let backup: ClusterSecret;
/** Per role: a failure of the connection itself (eks:DescribeCluster) instead of a connection. */
let connectFailures: Partial<Record<ClusterRole, Error>>;

function deps(): ApiKeyRotationDependencies {
  return {
    secrets: client,
    connect: (role: ClusterRole): Promise<KubernetesConnection> => {
      const failure = connectFailures[role];
      if (failure) return Promise.reject(failure);
      const cluster = role === 'primary' ? primary : backup;
      return connectToDouble(cluster.double, { clusterName: cluster.name, requestTimeoutMs: 200 });
    },
  };
}

beforeEach(() => {
  secretsMock.reset();
  injected.clear();
  store = new SecretStore();
  primary = new ClusterSecret('frontier-prod-cluster', OLD_KEYS);
  backup = new ClusterSecret('frontier-backup-cluster', OLD_KEYS);
  connectFailures = {};
  serveSecretsManager();
});

/** Everything a caller sees must be free of keys. */
function expectNoKeys(seen: unknown): void {
  const text = seen instanceof Error ? `${seen.name} ${seen.message} ${JSON.stringify(seen)}` : JSON.stringify(seen);
  for (const key of KNOWN_KEYS) expect(text).not.toContain(key);
  for (const key of KNOWN_KEYS) expect(text).not.toContain(Buffer.from(key).toString('base64'));
}

async function run(step: ApiKeyRotationStep, c: DeploymentConfig = config(), secretId = SECRET): Promise<ApiKeyRotationStepResult> {
  const result = await rotateApiKeysStep(c, { SecretId: secretId, ClientRequestToken: TOKEN, Step: step }, deps());
  expectNoKeys(result);
  return result;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!error) throw new Error('expected the step to fail');
  expectNoKeys(error);
  return error;
}

/** What Secrets Manager does when a rotation starts: a version under the token, labelled AWSPENDING, without a value. */
function startRotation(): void {
  store.versions.set(TOKEN, { stages: ['AWSPENDING'] });
}

function pendingKeys(): Record<string, string> {
  return store.valueOf(TOKEN);
}

function expectCompleted(): void {
  expect(store.labels()).toEqual({ [OLD_VERSION]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT'] });
  const current = store.valueOf(TOKEN);
  expect(primary.keys()).toEqual(current);
  for (const old of Object.values(OLD_KEYS)) expect(Object.values(primary.keys()!)).not.toContain(old);
}

const STARTING_STATES = {
  'rotation started': async () => startRotation(),
  'after createSecret': async () => {
    startRotation();
    await run('createSecret');
  },
  'after setSecret': async () => {
    startRotation();
    await run('createSecret');
    await run('setSecret');
  },
  'after testSecret': async () => {
    startRotation();
    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const) await run(step);
  },
  'completed': async () => {
    startRotation();
    for (const step of API_KEY_ROTATION_STEPS) await run(step);
  },
} as const;

describe('the key set in the secret', () => {
  it('is a JSON object of Kubernetes data key names to non-empty strings, its digest independent of order', () => {
    expect(parseApiKeySet(JSON.stringify(OLD_KEYS), 'x')).toEqual(OLD_KEYS);
    expect(apiKeySetDigest({ a: '1', b: '2' })).toBe(apiKeySetDigest({ b: '2', a: '1' }));
    expect(apiKeySetDigest({ a: '1', b: '2' })).not.toBe(apiKeySetDigest({ a: '2', b: '1' }));
    // A separator between name and value: moving characters across the boundary changes the digest.
    expect(apiKeySetDigest({ ab: 'c' })).not.toBe(apiKeySetDigest({ a: 'bc' }));
  });

  it.each([
    ['not JSON', 'OldAcmeKey0000000000000000000000000000000', /is not JSON/],
    ['a string', JSON.stringify('OldAcmeKey0000000000000000000000000000000'), /is a string/],
    ['an array', JSON.stringify(['OldAcmeKey0000000000000000000000000000000']), /is an array/],
    ['null', 'null', /is null/],
    ['an empty object', '{}', /holds no keys/],
    ['a name with a slash', JSON.stringify({ 'partner/acme': 'OldAcmeKey0000000000000000000000000000000' }), /1 key name\(s\) that are not Kubernetes Secret data keys/],
    ['a key as a name', JSON.stringify({ 'OldAcmeKey0000000000000000000000000000000 ': 'x' }), /1 key name\(s\)/],
    ['a number value', JSON.stringify({ 'partner-acme': 12345 }), /the value of partner-acme is not a non-empty string/],
    ['an empty value', JSON.stringify({ 'partner-acme': '' }), /the value of partner-acme is not a non-empty string/],
    ['an RDS secret', JSON.stringify({ username: 'app', password: 'OldAcmeKey0000000000000000000000000000000', port: 5432 }), /the value of port is not a non-empty string/],
  ])('a current value that is %s: ApiKeySetInvalid before anything is generated or stored', async (_label, text, message) => {
    store = new SecretStore(text);
    startRotation();
    const before = store.snapshot();
    const error = await failure(run('createSecret'));
    expect(error).toBeInstanceOf(ApiKeySetInvalid);
    expect(error).toBeInstanceOf(InvalidConfig);
    expect(error.name).toBe('ApiKeySetInvalid');
    expect(error.message).toMatch(message);
    expect(error.message).toContain('nothing was changed');
    expect(store.snapshot()).toBe(before);
    expect(secretsMock.commandCalls(GetRandomPasswordCommand)).toHaveLength(0);
    expect(secretsMock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('a pending value of another shape (stored by hand): ApiKeySetInvalid in setSecret, no cluster touched', async () => {
    store.versions.set(TOKEN, { value: '["OldAcmeKey0000000000000000000000000000000"]', stages: ['AWSPENDING'] });
    const error = await failure(run('setSecret'));
    expect(error.name).toBe('ApiKeySetInvalid');
    expect(primary.double.requests).toEqual([]);
    expect(backup.double.requests).toEqual([]);
  });
});

describe('rotating the API keys, step by step', () => {
  it('a whole rotation: new keys for every name, both copies hold exactly them, labels as AWS leaves them', async () => {
    startRotation();
    const results = [];
    for (const step of API_KEY_ROTATION_STEPS) results.push(await run(step));
    expect(results.map((r) => [r.step, r.outcome])).toEqual([
      ['createSecret', 'done'],
      ['setSecret', 'done'],
      ['testSecret', 'done'],
      ['finishSecret', 'done'],
    ]);
    const pending = pendingKeys();
    expect(Object.keys(pending).sort()).toEqual(['mobile.app', 'partner-acme']);
    for (const key of Object.values(pending)) {
      expect(key).toHaveLength(KEY_LENGTH);
      expect(Object.values(OLD_KEYS)).not.toContain(key);
    }
    expect(secretsMock.commandCalls(GetRandomPasswordCommand).map((c) => c.args[0].input)).toEqual([
      { PasswordLength: KEY_LENGTH, ExcludePunctuation: true, IncludeSpace: false, RequireEachIncludedType: true },
      { PasswordLength: KEY_LENGTH, ExcludePunctuation: true, IncludeSpace: false, RequireEachIncludedType: true },
    ]);
    expectCompleted();
    expect(backup.keys()).toEqual(pending);
    expect(results[0]).toMatchObject({ secret: SECRET, token: TOKEN, keyNames: ['mobile.app', 'partner-acme'], digest: expect.stringMatching(/^[0-9a-f]{12}$/) });
    // A keyed hash: the plain SHA-256 of the keys (checkable against a guessed set) is never shown.
    expect(JSON.stringify(results)).not.toContain(apiKeySetDigest(pending).slice(0, 12));
    expect(results[1]!.copies).toEqual([
      { role: 'primary', cluster: 'frontier-prod-cluster', secret: `${NAMESPACE}/${COPY}`, outcome: 'updated', removed: [] },
      { role: 'backup', cluster: 'frontier-backup-cluster', secret: `${NAMESPACE}/${COPY}`, outcome: 'updated', removed: [] },
    ]);
    // Every read of a version names its stage (a read without one can return the old value).
    for (const call of secretsMock.commandCalls(GetSecretValueCommand)) expect(call.args[0].input.VersionStage).toBeDefined();
  });

  it('names no longer in the set are removed from the copy, and a copy missing a name gets it', async () => {
    primary = new ClusterSecret('frontier-prod-cluster', { 'partner-acme': OLD_KEYS['partner-acme'], 'retired-partner': 'RetiredKey' });
    startRotation();
    await run('createSecret');
    const set = await run('setSecret');
    expect(set.copies![0]).toMatchObject({ role: 'primary', outcome: 'updated', removed: ['retired-partner'] });
    expect(primary.keys()).toEqual(pendingKeys());
    // One merge patch: new values, null for the removed name, the resourceVersion read as its precondition.
    expect(primary.double.sent('PATCH', COPY_PATH).map((r) => [r.contentType, (r.body as { metadata: unknown }).metadata, Object.keys((r.body as { data: object }).data).sort()])).toEqual([
      ['application/merge-patch+json', { resourceVersion: '1' }, ['mobile.app', 'partner-acme', 'retired-partner']],
    ]);
    expect((primary.double.sent('PATCH', COPY_PATH)[0]!.body as { data: Record<string, unknown> }).data['retired-partner']).toBeNull();
  });

  it.each(['rotation started', 'after createSecret', 'after setSecret', 'after testSecret'] as const)(
    'started again %s with the same token, it completes; no step acts twice',
    async (state) => {
      await STARTING_STATES[state]();
      const putsBefore = secretsMock.commandCalls(PutSecretValueCommand).length;
      const patchesBefore = primary.patches();
      const results = [];
      for (const step of API_KEY_ROTATION_STEPS) results.push(await run(step));
      expectCompleted();
      const expected = {
        'rotation started': ['done', 'done', 'done', 'done'],
        'after createSecret': ['already-done', 'done', 'done', 'done'],
        'after setSecret': ['already-done', 'already-done', 'done', 'done'],
        'after testSecret': ['already-done', 'already-done', 'done', 'done'],
      }[state];
      expect(results.map((r) => r.outcome)).toEqual(expected);
      expect(secretsMock.commandCalls(PutSecretValueCommand).length - putsBefore).toBe(state === 'rotation started' ? 1 : 0);
      expect(primary.patches() - patchesBefore).toBe(state === 'rotation started' || state === 'after createSecret' ? 1 : 0);
    },
  );

  it('a completed rotation: every step says already-current and changes nothing', async () => {
    await STARTING_STATES.completed();
    const before = { store: store.snapshot(), primary: JSON.stringify(primary.data), backup: JSON.stringify(backup.data) };
    for (const step of API_KEY_ROTATION_STEPS) expect((await run(step)).outcome).toBe('already-current');
    expect({ store: store.snapshot(), primary: JSON.stringify(primary.data), backup: JSON.stringify(backup.data) }).toEqual(before);
  });

  it('finishSecret on a version left AWSCURRENT and AWSPENDING removes the AWSPENDING label', async () => {
    await STARTING_STATES.completed();
    store.versions.get(TOKEN)!.stages.push('AWSPENDING');
    const result = await run('finishSecret');
    expect(result.outcome).toBe('done');
    expect(store.labels()[TOKEN]).toEqual(['AWSCURRENT']);
  });

  it('the secret given by ARN is the configured one (matched against the ARN DescribeSecret returns)', async () => {
    startRotation();
    for (const step of API_KEY_ROTATION_STEPS) await run(step, config((c) => (c.securityIncident!.apiKeys!.secret = SECRET_ARN)), SECRET_ARN);
    expectCompleted();
  });

  it('with the backup cluster serving, the backup copy is the one proved, and a primary that does not answer is skipped', async () => {
    const c = config((raw) => (raw.securityIncident!.cluster = 'backup'));
    connectFailures.primary = new AwsTransientError('eks:DescribeCluster on frontier-prod-cluster (us-west-2) failed: the region does not answer');
    startRotation();
    const results = [];
    for (const step of API_KEY_ROTATION_STEPS) results.push(await run(step, c));
    expect(results[1]!.copies!.map((copy) => [copy.role, copy.outcome])).toEqual([
      ['backup', 'updated'],
      ['primary', 'skipped'],
    ]);
    expect(results[1]!.copies![1]!.reason).toContain('it did not answer: AwsTransientError');
    expect(backup.keys()).toEqual(store.valueOf(TOKEN));
    expect(store.labels()[TOKEN]).toEqual(['AWSCURRENT']);
  });
});

describe('refusals before any change', () => {
  it.each([
    ['rotation not enabled', () => void (store.rotationEnabled = false), /does not have rotation enabled/],
    ['a token that is no version of the secret', () => undefined, /is not a version of secret/],
    ['a token whose version is AWSPREVIOUS only', () => store.versions.set(TOKEN, { value: JSON.stringify(OLD_KEYS), stages: ['AWSPREVIOUS'] }), /neither AWSPENDING nor AWSCURRENT/],
  ])('%s: RotationRefused, nothing changed', async (_label, arrange, message) => {
    arrange();
    const before = store.snapshot();
    for (const step of API_KEY_ROTATION_STEPS) {
      const error = await failure(run(step));
      expect(error).toBeInstanceOf(RotationRefused);
      expect(error.message).toMatch(message);
    }
    expect(store.snapshot()).toBe(before);
    expect(primary.double.requests).toEqual([]);
  });

  it('a secret other than securityIncident.apiKeys.secret (e.g. a database secret): RotationRefused, nothing read', async () => {
    startRotation();
    const c = config((raw) => (raw.securityIncident!.apiKeys!.secret = 'frontier/other/api-keys'));
    const error = await failure(run('createSecret', c));
    expect(error).toBeInstanceOf(RotationRefused);
    expect(error.message).toContain('is not securityIncident.apiKeys.secret (frontier/other/api-keys)');
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('a deployment without securityIncident.apiKeys: RotationRefused before any call', async () => {
    const c = configWith((raw) => {
      delete raw.securityIncident!.apiKeys;
    });
    const error = await failure(run('createSecret', c));
    expect(error).toBeInstanceOf(RotationRefused);
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it.each([
    ['an unknown step', { SecretId: SECRET, ClientRequestToken: TOKEN, Step: 'deleteSecret' }],
    ['no token', { SecretId: SECRET, ClientRequestToken: '', Step: 'createSecret' }],
    ['no secret', { SecretId: '', ClientRequestToken: TOKEN, Step: 'createSecret' }],
  ])('%s in the event: RotationRefused before any call', async (_label, event) => {
    const error = await failure(rotateApiKeysStep(config(), event as never, deps()));
    expect(error).toBeInstanceOf(RotationRefused);
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it('setSecret, testSecret or finishSecret before createSecret stored a value: RotationRefused, nothing changed', async () => {
    startRotation();
    for (const step of ['setSecret', 'testSecret', 'finishSecret'] as const) {
      const error = await failure(run(step));
      expect(error).toBeInstanceOf(RotationRefused);
      expect(error.message).toContain('createSecret has not run for this token');
    }
    expect(primary.patches()).toBe(0);
    expect(store.labels()[TOKEN]).toEqual(['AWSPENDING']);
  });

  it('createSecret when the token\'s version holds other key names than AWSCURRENT: RotationRefused (a version cannot change)', async () => {
    store.versions.set(TOKEN, { value: JSON.stringify({ 'only-one': NEW_KEYS[0] }), stages: ['AWSPENDING'] });
    const error = await failure(run('createSecret'));
    expect(error).toBeInstanceOf(RotationRefused);
    expect(error.message).toContain('holds keys only-one, AWSCURRENT holds mobile.app, partner-acme');
    expect(secretsMock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('GetRandomPassword answering something that is not letters and digits of the key length: RotationRefused, nothing stored', async () => {
    startRotation();
    secretsMock.on(GetRandomPasswordCommand).resolves({ RandomPassword: 'short' });
    const error = await failure(run('createSecret'));
    expect(error).toBeInstanceOf(RotationRefused);
    expect(secretsMock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});

describe('Secrets Manager failures', () => {
  const throttled = () => awsError('ThrottlingException', 400);
  const internal = () => awsError('InternalServiceError', 500);
  const denied = () => awsError('AccessDeniedException', 400);
  const missing = () => notFound("Secrets Manager can't find the specified secret.");

  it.each([
    ['throttled', DescribeSecretCommand, 'createSecret', 'rotation started', throttled, AwsTransientError],
    ['5xx', DescribeSecretCommand, 'setSecret', 'after createSecret', internal, AwsTransientError],
    ['denied', DescribeSecretCommand, 'createSecret', 'rotation started', denied, AwsAccessDenied],
    ['missing secret', DescribeSecretCommand, 'createSecret', 'rotation started', missing, ResourceNotFound],
    ['throttled', GetSecretValueCommand, 'createSecret', 'rotation started', throttled, AwsTransientError],
    ['denied', GetSecretValueCommand, 'setSecret', 'after createSecret', denied, AwsAccessDenied],
    ['throttled', GetRandomPasswordCommand, 'createSecret', 'rotation started', throttled, AwsTransientError],
    ['denied', GetRandomPasswordCommand, 'createSecret', 'rotation started', denied, AwsAccessDenied],
    ['throttled', PutSecretValueCommand, 'createSecret', 'rotation started', throttled, AwsTransientError],
    ['5xx', PutSecretValueCommand, 'createSecret', 'rotation started', internal, AwsTransientError],
    ['denied', PutSecretValueCommand, 'createSecret', 'rotation started', denied, AwsAccessDenied],
    ['throttled', UpdateSecretVersionStageCommand, 'finishSecret', 'after testSecret', throttled, AwsTransientError],
    ['denied', UpdateSecretVersionStageCommand, 'finishSecret', 'after testSecret', denied, AwsAccessDenied],
  ] as const)('%s on %p during %s: a named error, nothing half-done, and the step run again succeeds', async (_label, command, step, state, makeError, named) => {
    await STARTING_STATES[state]();
    const before = { store: store.snapshot(), primary: JSON.stringify(primary.data) };
    failOnce(command, makeError());
    const error = await failure(run(step));
    expect(error).toBeInstanceOf(named);
    expect(error.message).toContain((command as { name: string }).name.replace(/Command$/, ''));
    expect({ store: store.snapshot(), primary: JSON.stringify(primary.data) }).toEqual(before);
    for (const next of API_KEY_ROTATION_STEPS.slice(API_KEY_ROTATION_STEPS.indexOf(step))) await run(next);
    expectCompleted();
  });

  it('the second move of finishSecret (AWSPENDING removal) failing leaves the rotation complete but labelled; run again, it removes the label', async () => {
    await STARTING_STATES['after testSecret']();
    secretsMock.on(UpdateSecretVersionStageCommand, { VersionStage: 'AWSPENDING' }).rejectsOnce(awsError('ThrottlingException', 400));
    expect(await failure(run('finishSecret'))).toBeInstanceOf(AwsTransientError);
    expect(store.labels()[TOKEN]).toEqual(['AWSCURRENT', 'AWSPENDING']);
    serveSecretsManager();
    expect((await run('finishSecret')).outcome).toBe('done');
    expectCompleted();
  });
});

describe('Kubernetes failures', () => {
  it.each([
    ['unreachable (refused)', { path: COPY_PATH, refused: true }, KubernetesUnreachable],
    ['silent (deadline)', { path: COPY_PATH, timeout: true }, KubernetesUnreachable],
    ['5xx', { path: COPY_PATH, status: 503 }, KubernetesTransientError],
    ['429', { path: COPY_PATH, status: 429 }, KubernetesTransientError],
    ['forbidden (RBAC)', { path: COPY_PATH, status: 403 }, KubernetesUnauthorized],
    ['the Secret missing', { path: COPY_PATH, status: 404 }, KubernetesNotFound],
    ['a conflicting write (409)', { method: 'PATCH', path: COPY_PATH, status: 409 }, KubernetesConflict],
  ] as const)('serving cluster %s during setSecret: a named error, labels unchanged, and setSecret run again completes', async (_label, fault, named) => {
    await STARTING_STATES['after createSecret']();
    const before = store.snapshot();
    primary.double.failNext(fault);
    const error = await failure(run('setSecret'));
    expect(error).toBeInstanceOf(named);
    expect(store.snapshot()).toBe(before);
    expect(primary.keys()).toEqual(OLD_KEYS);
    // The other cluster is not touched before the serving one holds the new keys.
    expect(backup.double.requests).toEqual([]);
    for (const step of ['setSecret', 'testSecret', 'finishSecret'] as const) await run(step);
    expectCompleted();
  });

  it('a write between our read and our patch is refused by the resourceVersion precondition, not overwritten', async () => {
    await STARTING_STATES['after createSecret']();
    primary.raceOnce = true;
    const error = await failure(run('setSecret'));
    expect(error).toBeInstanceOf(KubernetesConflict);
    expect(primary.keys()).toEqual(OLD_KEYS);
    await run('setSecret');
    expect(primary.keys()).toEqual(pendingKeys());
  });

  it('the serving cluster\'s connection failing (eks:DescribeCluster denied): the error, nothing changed', async () => {
    await STARTING_STATES['after createSecret']();
    connectFailures.primary = new AwsAccessDenied('eks:DescribeCluster on frontier-prod-cluster (us-west-2) was denied');
    expect(await failure(run('setSecret'))).toBeInstanceOf(AwsAccessDenied);
    expect(backup.double.requests).toEqual([]);
  });

  it.each([
    ['does not hold the Secret', () => (backup = new ClusterSecret('frontier-backup-cluster', undefined)), 'it has no Secret production/frontier-api-keys'],
    ['refuses connections', () => backup.double.refuseConnections(), 'it did not answer: KubernetesUnreachable'],
    ['answers 503', () => backup.double.failNext({ path: COPY_PATH, status: 503 }), 'it did not answer: KubernetesTransientError'],
    ['cannot be described', () => (connectFailures.backup = new ResourceNotFound('eks:DescribeCluster: no cluster frontier-backup-cluster')), 'it did not answer: ResourceNotFound'],
  ])('the other cluster %s: skipped with the reason, the rotation completes', async (_label, arrange, reason) => {
    await STARTING_STATES['after createSecret']();
    arrange();
    const result = await run('setSecret');
    expect(result.outcome).toBe('done');
    expect(result.copies![1]).toMatchObject({ role: 'backup', outcome: 'skipped' });
    expect(result.copies![1]!.reason).toContain(reason);
    expect(result.detail).toContain('backup cluster frontier-backup-cluster: skipped');
    for (const step of ['testSecret', 'finishSecret'] as const) await run(step);
    expectCompleted();
  });

  it('the other cluster holding the Secret but refusing us (RBAC): the step fails, the old keys are not left behind silently', async () => {
    await STARTING_STATES['after createSecret']();
    backup.double.failNext({ path: COPY_PATH, status: 403 });
    expect(await failure(run('setSecret'))).toBeInstanceOf(KubernetesUnauthorized);
    expect(store.labels()[TOKEN]).toEqual(['AWSPENDING']);
  });

  it('testSecret and finishSecret with a copy that does not hold the pending set: ApiKeyCopyMismatch naming the names, labels unchanged', async () => {
    await STARTING_STATES['after setSecret']();
    primary.data!['partner-acme'] = Buffer.from(OLD_KEYS['partner-acme']).toString('base64');
    const before = store.snapshot();
    for (const step of ['testSecret', 'finishSecret'] as const) {
      const error = await failure(run(step));
      expect(error).toBeInstanceOf(ApiKeyCopyMismatch);
      expect(error.name).toBe('ApiKeyCopyMismatch');
      expect(error.message).toContain('names that differ: partner-acme');
      expect(error.message).toContain('on the primary cluster frontier-prod-cluster');
    }
    expect(store.snapshot()).toBe(before);
    // setSecret puts it right; the rotation then completes.
    for (const step of ['setSecret', 'testSecret', 'finishSecret'] as const) await run(step);
    expectCompleted();
  });

  it('testSecret with the serving cluster unreachable: KubernetesUnreachable, labels unchanged', async () => {
    await STARTING_STATES['after setSecret']();
    primary.double.failNext({ path: COPY_PATH, refused: true });
    expect(await failure(run('testSecret'))).toBeInstanceOf(KubernetesUnreachable);
    expect(store.labels()[TOKEN]).toEqual(['AWSPENDING']);
  });
});
