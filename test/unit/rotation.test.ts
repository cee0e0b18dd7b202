// The rotation contract (shared/rotation.ts) against a Secrets Manager double that keeps versions and
// labels as Secrets Manager does, and a database double that keeps each role's password: every step from
// every starting label state, the refusals that come before any change, every Secrets Manager and
// database failure ending in a named error with nothing half-done, and no secret value in any error.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
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
import { mockClient } from 'aws-sdk-client-mock';
import { awsClientConfig, withEndpointErrors } from '../../shared/clients.js';
import type { DeploymentConfig } from '../../shared/config.js';
import type { DatabaseTarget } from '../../shared/database.js';
import {
  AwsAccessDenied,
  AwsTransientError,
  DatabaseLoginRefused,
  DatabaseStatementFailed,
  DatabaseUnreachable,
  InvalidConfig,
  ResourceNotFound,
  RotationRefused,
  SecretsManagerUnreachable,
} from '../../shared/errors.js';
import {
  alternateUser,
  databaseError,
  PASSWORD_EXCLUDED_CHARACTERS,
  postgresRotation,
  rotateSecretStep,
  ROTATION_STEPS,
  scramVerifier,
  type RotationDatabase,
  type RotationStep,
} from '../../shared/rotation.js';
import type { DatabaseCredentials } from '../../shared/secrets.js';
import { configWith } from '../support/fixtures.js';

const SECRET = 'frontier/prod/database';
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET}-AbCdEf`;
const MASTER_SECRET = 'frontier/prod/database-master';
const OLD_VERSION = '11111111-1111-4111-8111-111111111111';
const TOKEN = '22222222-2222-4222-8222-222222222222';
const HOST = 'frontier-prod.abc.us-west-2.rds.amazonaws.com';
const OLD_PASSWORD = 'Old-Password-1aA';
const MASTER_PASSWORD = 'Master-Password-2bB';
/** What GetRandomPassword hands out, in order: every one of them must stay out of errors and results. */
const NEW_PASSWORDS = ['New-Password-3cC', 'New-Password-4dD', 'New-Password-5eE'];
const KNOWN_SECRETS = [OLD_PASSWORD, MASTER_PASSWORD, ...NEW_PASSWORDS];

function configFor(strategy: 'single-user' | 'alternating-users'): DeploymentConfig {
  return configWith((c) => {
    c.databases[0]!.rotation = {
      strategy,
      scheduleExpression: 'rate(30 days)',
      ...(strategy === 'alternating-users' ? { masterSecret: MASTER_SECRET } : {}),
    } as never;
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
  master = JSON.stringify({ username: 'rds_master', password: MASTER_PASSWORD, host: HOST, port: 5432 });
  generated = 0;

  constructor(username = 'frontier_app') {
    this.versions.set(OLD_VERSION, { value: value(username, OLD_PASSWORD), stages: ['AWSCURRENT'] });
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

  /** Moves `stage` onto `to` (from wherever it is). */
  label(stage: string, to: string): void {
    for (const version of this.versions.values()) version.stages = version.stages.filter((s) => s !== stage);
    this.versions.get(to)!.stages.push(stage);
  }

  currentValue(): { username: string; password: string } {
    return JSON.parse(this.withStage('AWSCURRENT')![1].value!) as { username: string; password: string };
  }
}

const value = (username: string, password: string) => JSON.stringify({ username, password, engine: 'postgres', host: HOST, port: 5432, dbname: 'frontier' });
const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: { httpStatusCode: 400 } });
const awsError = (name: string, status: number) => new SecretsManagerServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: `${name} happened` });

const client = new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 });
const secretsMock = mockClient(client);
let store: SecretStore;
/** Failures to inject, per command name, each thrown once before the double answers. */
const injected = new Map<string, Error[]>();

function failOnce(command: { name: string }, error: Error): void {
  injected.set(command.name, [...(injected.get(command.name) ?? []), error]);
}

/** Serves `command` with `answer`, after any failure injected for it. */
function fake<I>(command: { name: string }, answer: (input: I) => unknown): void {
  secretsMock.on(command as never).callsFake((input: I) => {
    const failure = injected.get(command.name)?.shift();
    if (failure) throw failure;
    return answer(input);
  });
}

function serve(): void {
  fake(DescribeSecretCommand, (input: { SecretId: string }) => {
    if (input.SecretId !== SECRET && input.SecretId !== SECRET_ARN) throw notFound(`Secrets Manager can't find the specified secret ${input.SecretId}.`);
    return { ARN: SECRET_ARN, Name: SECRET, RotationEnabled: store.rotationEnabled, VersionIdsToStages: Object.fromEntries([...store.versions].map(([id, v]) => [id, [...v.stages]])) };
  });
  fake(GetSecretValueCommand, (input: { SecretId: string; VersionId?: string; VersionStage?: string }) => {
    if (input.SecretId === MASTER_SECRET) return { Name: MASTER_SECRET, VersionId: 'master', SecretString: store.master };
    const found = input.VersionId ? ([input.VersionId, store.versions.get(input.VersionId)] as const) : store.withStage(input.VersionStage ?? 'AWSCURRENT');
    const version = found?.[1];
    if (!version || (input.VersionStage && !version.stages.includes(input.VersionStage)) || version.value === undefined) {
      throw notFound("Secrets Manager can't find the specified secret value for the version or staging label.");
    }
    return { Name: SECRET, VersionId: found[0], VersionStages: [...version.stages], SecretString: version.value };
  });
  fake(GetRandomPasswordCommand, () => ({ RandomPassword: NEW_PASSWORDS[store.generated++ % NEW_PASSWORDS.length] }));
  fake(PutSecretValueCommand, (input: { ClientRequestToken: string; SecretString: string; VersionStages: string[] }) => {
    const existing = store.versions.get(input.ClientRequestToken);
    if (existing?.value !== undefined && existing.value !== input.SecretString) throw awsError('ResourceExistsException', 400);
    if (!existing) store.versions.set(input.ClientRequestToken, { stages: [] });
    store.versions.get(input.ClientRequestToken)!.value = input.SecretString;
    for (const stage of input.VersionStages) store.label(stage, input.ClientRequestToken);
    return { Name: SECRET, VersionId: input.ClientRequestToken };
  });
  fake(UpdateSecretVersionStageCommand, updateStage);
}

interface StageUpdate {
  VersionStage: string;
  MoveToVersionId?: string;
  RemoveFromVersionId?: string;
}

/** UpdateSecretVersionStage as Secrets Manager answers it. */
function updateStage(input: StageUpdate) {
  const holder = store.withStage(input.VersionStage)?.[0];
  if (input.RemoveFromVersionId && holder !== input.RemoveFromVersionId) throw awsError('InvalidParameterException', 400);
  if (input.MoveToVersionId && holder && holder !== input.MoveToVersionId && !input.RemoveFromVersionId) throw awsError('InvalidParameterException', 400);
  if (input.RemoveFromVersionId) {
    const from = store.versions.get(input.RemoveFromVersionId)!;
    from.stages = from.stages.filter((s) => s !== input.VersionStage);
  }
  if (input.MoveToVersionId) store.label(input.VersionStage, input.MoveToVersionId);
  // As Secrets Manager does: AWSPREVIOUS follows the version AWSCURRENT left.
  if (input.VersionStage === 'AWSCURRENT' && input.RemoveFromVersionId && input.MoveToVersionId) store.label('AWSPREVIOUS', input.RemoveFromVersionId);
  return { Name: SECRET };
}

// ---- a database that keeps each role's password and grants ----

type DbFailure = { method: keyof RotationDatabase; error: Error; times?: number };

class FakeDatabase implements RotationDatabase {
  passwords = new Map<string, string>([
    ['frontier_app', OLD_PASSWORD],
    ['rds_master', MASTER_PASSWORD],
  ]);
  memberOf = new Map<string, string>();
  failures: DbFailure[] = [];
  calls: string[] = [];

  snapshot(): string {
    return JSON.stringify({ passwords: [...this.passwords], memberOf: [...this.memberOf] });
  }

  private check(method: keyof RotationDatabase): void {
    this.calls.push(method);
    const failure = this.failures.find((f) => f.method === method);
    if (failure) {
      if (failure.times !== undefined && --failure.times <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      throw failure.error;
    }
  }

  private login(credentials: DatabaseCredentials): void {
    if (this.passwords.get(credentials.username) !== credentials.password) throw new DatabaseLoginRefused(`login refused for ${credentials.username}`);
  }

  async canLogIn(_target: DatabaseTarget, credentials: DatabaseCredentials): Promise<boolean> {
    this.check('canLogIn');
    return this.passwords.get(credentials.username) === credentials.password;
  }

  async sessionRole(_target: DatabaseTarget, credentials: DatabaseCredentials): Promise<string | null> {
    this.check('sessionRole');
    if (this.passwords.get(credentials.username) !== credentials.password) return null;
    return this.memberOf.get(credentials.username) ?? credentials.username;
  }

  async setPassword(_target: DatabaseTarget, as: DatabaseCredentials, role: string, password: string): Promise<void> {
    this.check('setPassword');
    this.login(as);
    this.passwords.set(role, password);
  }

  async ensureAlternateUser(_target: DatabaseTarget, as: DatabaseCredentials, user: { name: string; original: string; password: string }): Promise<'created' | 'updated'> {
    this.check('ensureAlternateUser');
    this.login(as);
    const exists = this.passwords.has(user.name);
    this.passwords.set(user.name, user.password);
    if (user.name !== user.original) this.memberOf.set(user.name, user.original);
    return exists ? 'updated' : 'created';
  }

  async runQuery(_target: DatabaseTarget, credentials: DatabaseCredentials): Promise<void> {
    this.check('runQuery');
    this.login(credentials);
  }
}

let database: FakeDatabase;

beforeEach(() => {
  secretsMock.reset();
  injected.clear();
  store = new SecretStore();
  database = new FakeDatabase();
  serve();
});

const run = (step: RotationStep, config = configFor('single-user'), token = TOKEN, secretId = SECRET_ARN) =>
  rotateSecretStep(config, { SecretId: secretId, ClientRequestToken: token, Step: step }, { secrets: client, database });

async function failure(work: Promise<unknown>): Promise<Error> {
  const error = await work.then(
    () => {
      throw new Error('the step succeeded');
    },
    (e: unknown) => e as Error,
  );
  expectNoSecretIn(error);
  return error;
}

/** Everything an error carries, its cause chain included, as text. */
function everythingIn(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as Error;
    parts.push(String(e.message), String(e.stack), JSON.stringify(e, Object.getOwnPropertyNames(e)));
    current = e.cause;
  }
  return parts.join('\n');
}

function expectNoSecretIn(thing: unknown): void {
  const text = thing instanceof Error ? everythingIn(thing) : JSON.stringify(thing);
  for (const secret of KNOWN_SECRETS) expect(text).not.toContain(secret);
}

/** Secrets Manager starting a rotation: a version under the token, labelled AWSPENDING, without a value yet. */
function startRotation(token = TOKEN): void {
  store.versions.set(token, { stages: [] });
  store.label('AWSPENDING', token);
}

async function rotateFully(config = configFor('single-user'), token = TOKEN) {
  const results = [];
  for (const step of ROTATION_STEPS) results.push(await run(step, config, token));
  return results;
}

function expectCompleted(token = TOKEN, previous = OLD_VERSION): void {
  expect(store.labels()).toEqual({ ...Object.fromEntries([...store.versions.keys()].map((id) => [id, []])), [token]: ['AWSCURRENT'], [previous]: ['AWSPREVIOUS'] });
  const current = store.currentValue();
  expect(database.passwords.get(current.username)).toBe(current.password);
}

describe('a whole rotation', () => {
  it('single-user: a new password set, proved and made current; the old version AWSPREVIOUS, no AWSPENDING left', async () => {
    startRotation();

    const results = await rotateFully();

    expect(results.map((r) => [r.step, r.outcome])).toEqual(ROTATION_STEPS.map((step) => [step, 'done']));
    expectCompleted();
    expect(store.currentValue()).toEqual({ username: 'frontier_app', password: NEW_PASSWORDS[0], engine: 'postgres', host: HOST, port: 5432, dbname: 'frontier' });
    expect(database.passwords.get('frontier_app')).toBe(NEW_PASSWORDS[0]);
    expectNoSecretIn(results);
  });

  it('asks GetRandomPassword for a password without the characters that break a connection URL', async () => {
    startRotation();

    await run('createSecret');

    const input = secretsMock.commandCalls(GetRandomPasswordCommand)[0]!.args[0].input;
    expect(input.PasswordLength).toBeGreaterThanOrEqual(32);
    for (const character of ['@', '/', ':', '?', '#', '%', '"', "'", '\\', ' ', '&', '+']) expect(input.ExcludeCharacters).toContain(character);
    expect(input.ExcludeCharacters).toBe(PASSWORD_EXCLUDED_CHARACTERS);
  });

  it('alternating-users: the clone is created with the grants of the user, then the rotation after it returns to the user', async () => {
    const config = configFor('alternating-users');
    startRotation();

    await rotateFully(config);

    expectCompleted();
    expect(store.currentValue().username).toBe('frontier_app_clone');
    expect(database.memberOf.get('frontier_app_clone')).toBe('frontier_app');
    // The user of the previous version still logs in with its password until the next rotation.
    expect(database.passwords.get('frontier_app')).toBe(OLD_PASSWORD);

    const second = '33333333-3333-4333-8333-333333333333';
    startRotation(second);
    const results = await rotateFully(config, second);

    expectCompleted(second, TOKEN);
    expect(store.currentValue()).toMatchObject({ username: 'frontier_app', password: NEW_PASSWORDS[1] });
    expect(database.passwords.get('frontier_app_clone')).toBe(NEW_PASSWORDS[0]);
    expectNoSecretIn(results);
  });

  it('alternating-users: the current credentials keep working through every step until finishSecret', async () => {
    const config = configFor('alternating-users');
    startRotation();
    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const) {
      await run(step, config);
      expect(database.passwords.get('frontier_app')).toBe(OLD_PASSWORD);
      expect(store.currentValue()).toMatchObject({ username: 'frontier_app', password: OLD_PASSWORD });
    }
  });

  it('alternating-users: a clone that already logs in without the grants of the user is given them at setSecret, and testSecret refuses one without', async () => {
    const config = configFor('alternating-users');
    startRotation();
    await run('createSecret', config);
    const pending = JSON.parse(store.versions.get(TOKEN)!.value!) as { password: string };
    // Made by hand, with the right password but no membership.
    database.passwords.set('frontier_app_clone', pending.password);

    const error = await failure(run('testSecret', config));
    expect(error).toBeInstanceOf(DatabaseStatementFailed);
    expect(error.message).toContain('its sessions run as frontier_app_clone, not frontier_app');

    const set = await run('setSecret', config);
    expect(set.outcome).toBe('done');
    expect(database.memberOf.get('frontier_app_clone')).toBe('frontier_app');
    expect((await run('setSecret', config)).outcome).toBe('already-done');
    await run('testSecret', config);
    await run('finishSecret', config);
    expectCompleted();
  });

  it('names the clone `<user>_clone` and back, and refuses a clone name PostgreSQL would truncate', () => {
    expect(alternateUser('frontier_app')).toBe('frontier_app_clone');
    expect(alternateUser('frontier_app_clone')).toBe('frontier_app');
    expect(() => alternateUser('u'.repeat(60))).toThrow(InvalidConfig);
  });
});

// The label states a rotation can be found in, each reached by the real steps (so the states are the
// ones an interruption leaves).
const STARTING_STATES = {
  'rotation started (token AWSPENDING, no value)': async () => startRotation(),
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
  'AWSCURRENT moved, AWSPENDING still on the token': async () => {
    startRotation();
    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const) await run(step);
    store.label('AWSCURRENT', TOKEN);
    store.label('AWSPREVIOUS', OLD_VERSION);
  },
  'rotation completed': async () => {
    startRotation();
    await rotateFully();
  },
} as const;

type ErrorClass = abstract new (message: string) => Error;

/** What a step must do from a state: succeed, or refuse with this error and change nothing. */
const REFUSED: Partial<Record<keyof typeof STARTING_STATES, Partial<Record<RotationStep, ErrorClass>>>> = {
  'rotation started (token AWSPENDING, no value)': { setSecret: RotationRefused, testSecret: RotationRefused, finishSecret: RotationRefused },
  'after createSecret': { testSecret: DatabaseLoginRefused, finishSecret: DatabaseLoginRefused },
};

describe.each(Object.keys(STARTING_STATES) as (keyof typeof STARTING_STATES)[])('from state "%s"', (state) => {
  it.each(ROTATION_STEPS)('%s acts or refuses with nothing changed, and the rotation run again from there completes', async (step) => {
    await STARTING_STATES[state]();
    const before = { store: store.snapshot(), database: database.snapshot() };
    const refusal = REFUSED[state]?.[step];

    if (refusal) {
      const error = await failure(run(step));
      expect(error).toBeInstanceOf(refusal);
      expect({ store: store.snapshot(), database: database.snapshot() }).toEqual(before);
    } else {
      const result = await run(step);
      expectNoSecretIn(result);
      // Running the same step again finds its work done (testSecret only reads: it proves again).
      const again = await run(step);
      expect(['already-done', 'already-current', ...(step === 'testSecret' ? ['done'] : [])]).toContain(again.outcome);
    }

    await rotateFully();
    expectCompleted();
    expect(database.passwords.get('frontier_app')).toBe(NEW_PASSWORDS[0]);
  });
});

describe('checks before any step acts', () => {
  it('refuses a token that is no version of the secret', async () => {
    startRotation();
    const error = await failure(run('createSecret', configFor('single-user'), '99999999-9999-4999-8999-999999999999'));
    expect(error).toBeInstanceOf(RotationRefused);
    expect(error.message).toContain('is not a version of secret frontier/prod/database');
    expect(secretsMock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('refuses a token whose version is neither AWSPENDING nor AWSCURRENT', async () => {
    startRotation();
    await rotateFully();
    const error = await failure(run('setSecret', configFor('single-user'), OLD_VERSION));
    expect(error).toBeInstanceOf(RotationRefused);
    expect(error.message).toContain('neither AWSPENDING nor AWSCURRENT (labels: AWSPREVIOUS)');
  });

  it('refuses a secret without rotation enabled', async () => {
    startRotation();
    store.rotationEnabled = false;
    const before = store.snapshot();
    for (const step of ROTATION_STEPS) {
      const error = await failure(run(step));
      expect(error).toBeInstanceOf(RotationRefused);
      expect(error.message).toContain('does not have rotation enabled');
    }
    expect(store.snapshot()).toBe(before);
    expect(database.calls).toEqual([]);
  });

  it('refuses a secret the deployment does not rotate', async () => {
    startRotation();
    const error = await failure(run('createSecret', configWith((c) => c.databases.forEach((d) => delete d.rotation))));
    expect(error).toBeInstanceOf(RotationRefused);
    expect(error.message).toContain('is not a credentialsSecret with rotation in this deployment (rotated: none)');
  });

  it('refuses an event with an unknown step', async () => {
    const error = await failure(rotateSecretStep(configFor('single-user'), { SecretId: SECRET, ClientRequestToken: TOKEN, Step: 'dropSecret' as RotationStep }, { secrets: client, database }));
    expect(error).toBeInstanceOf(RotationRefused);
  });

  it('refuses a pending value for another user or another server at setSecret', async () => {
    startRotation();
    store.versions.get(TOKEN)!.value = value('someone_else', NEW_PASSWORDS[0]!);
    expect(await failure(run('setSecret'))).toBeInstanceOf(RotationRefused);
    store.versions.get(TOKEN)!.value = JSON.stringify({ ...JSON.parse(value('frontier_app', NEW_PASSWORDS[0]!)), host: 'elsewhere.example.com' });
    expect(await failure(run('setSecret'))).toBeInstanceOf(RotationRefused);
    expect(database.passwords.get('frontier_app')).toBe(OLD_PASSWORD);
  });
});

describe('Secrets Manager failures', () => {
  const FAILURES = [
    ['throttling', () => awsError('ThrottlingException', 400), AwsTransientError],
    ['access denied', () => awsError('AccessDeniedException', 400), AwsAccessDenied],
    ['not found', () => notFound("Secrets Manager can't find the specified secret."), ResourceNotFound],
  ] as const;
  // The call that fails, the step it belongs to, and the state that step starts from.
  const CALLS = [
    [DescribeSecretCommand, 'createSecret', 'rotation started (token AWSPENDING, no value)'],
    [GetRandomPasswordCommand, 'createSecret', 'rotation started (token AWSPENDING, no value)'],
    [PutSecretValueCommand, 'createSecret', 'rotation started (token AWSPENDING, no value)'],
    [DescribeSecretCommand, 'setSecret', 'after createSecret'],
    [UpdateSecretVersionStageCommand, 'finishSecret', 'after testSecret'],
  ] as const;

  describe.each(FAILURES)('%s', (_label, makeError, named) => {
    it.each(CALLS)('of %p during %s: a named error, nothing changed, and the step run again completes', async (command, step, state) => {
      await STARTING_STATES[state]();
      const before = { store: store.snapshot(), database: database.snapshot() };
      failOnce(command, makeError());

      const error = await failure(run(step));

      expect(error).toBeInstanceOf(named);
      expect({ store: store.snapshot(), database: database.snapshot() }).toEqual(before);
      await rotateFully();
      expectCompleted();
    });
  });

  it('GetSecretValue refused for the pending value is named, and nothing is set', async () => {
    await STARTING_STATES['after createSecret']();
    failOnce(GetSecretValueCommand, awsError('AccessDeniedException', 400));
    expect(await failure(run('setSecret'))).toBeInstanceOf(AwsAccessDenied);
    expect(database.passwords.get('frontier_app')).toBe(OLD_PASSWORD);
  });

  it('a failure between moving AWSCURRENT and removing AWSPENDING is completed by finishSecret run again', async () => {
    await STARTING_STATES['after testSecret']();
    let calls = 0;
    fake(UpdateSecretVersionStageCommand, (input: StageUpdate) => {
      calls++;
      if (calls === 2) throw awsError('ThrottlingException', 400);
      return updateStage(input);
    });

    expect(await failure(run('finishSecret'))).toBeInstanceOf(AwsTransientError);
    expect(store.labels()[TOKEN]).toEqual(['AWSCURRENT', 'AWSPENDING']);

    const again = await run('finishSecret');
    expect(again.outcome).toBe('done');
    expectCompleted();
  });

  it('a silent Secrets Manager endpoint ends in SecretsManagerUnreachable naming it, not a Lambda timeout', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const silent = withEndpointErrors(
        new SecretsManagerClient({
          ...awsClientConfig('us-east-1'),
          requestHandler: { connectionTimeout: 300, requestTimeout: 300, throwOnRequestTimeout: true },
          endpoint: url,
          credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
        }),
      );
      const error = await failure(rotateSecretStep(configFor('single-user'), { SecretId: SECRET, ClientRequestToken: TOKEN, Step: 'createSecret' }, { secrets: silent, database }));
      expect(error).toBeInstanceOf(SecretsManagerUnreachable);
      expect(error).toBeInstanceOf(AwsTransientError);
      expect(error.name).toBe('SecretsManagerUnreachable');
      expect(error.message).toContain(`secretsmanager:DescribeSecret on ${SECRET} could not reach ${url}`);
      expect(error.message).toContain('com.amazonaws.<region>.secretsmanager');
      silent.destroy();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 15_000);
});

describe('database failures', () => {
  const unreachable = () => new DatabaseUnreachable('connecting to the database: no connection (ECONNREFUSED)');
  const timedOut = () => new DatabaseUnreachable('connecting to the database: no connection: Connection terminated due to connection timeout');
  const refused = () => new DatabaseLoginRefused('login refused (28P01): password authentication failed for user "frontier_app"');
  const statement = () => new DatabaseStatementFailed('permission denied to create role (42501)');

  it.each([
    ['connection refused', 'setSecret', 'after createSecret', 'canLogIn', unreachable, DatabaseUnreachable],
    ['timeout', 'setSecret', 'after createSecret', 'canLogIn', timedOut, DatabaseUnreachable],
    ['connection refused', 'testSecret', 'after setSecret', 'runQuery', unreachable, DatabaseUnreachable],
    ['timeout', 'finishSecret', 'after testSecret', 'runQuery', timedOut, DatabaseUnreachable],
    ['login refused', 'testSecret', 'after setSecret', 'runQuery', refused, DatabaseLoginRefused],
    ['statement refused', 'setSecret', 'after createSecret', 'setPassword', statement, DatabaseStatementFailed],
  ] as const)('%s during %s: a named error, nothing changed, and the rotation run again completes', async (_label, step, state, method, makeError, named) => {
    await STARTING_STATES[state]();
    const before = { store: store.snapshot(), database: database.snapshot() };
    database.failures.push({ method, error: makeError(), times: 1 });

    const error = await failure(run(step));

    expect(error).toBeInstanceOf(named);
    expect({ store: store.snapshot(), database: database.snapshot() }).toEqual(before);
    await rotateFully();
    expectCompleted();
  });

  it('single-user: the current password refused (changed behind the rotation) and no previous one: DatabaseLoginRefused, nothing set', async () => {
    await STARTING_STATES['after createSecret']();
    database.passwords.set('frontier_app', 'changed-by-hand');

    const error = await failure(run('setSecret'));

    expect(error).toBeInstanceOf(DatabaseLoginRefused);
    expect(error.message).toContain('refuses frontier_app with the current password of frontier/prod/database');
    expect(database.passwords.get('frontier_app')).toBe('changed-by-hand');
  });

  it('single-user: when the database holds the AWSPREVIOUS password (restored from a backup taken before the last rotation), logs in with it', async () => {
    startRotation();
    await rotateFully();
    database.passwords.set('frontier_app', OLD_PASSWORD);
    const second = '33333333-3333-4333-8333-333333333333';
    startRotation(second);

    const results = await rotateFully(configFor('single-user'), second);

    expect(results[1]!.detail).toContain('logged in with the previous password');
    expectCompleted(second, TOKEN);
    expect(database.passwords.get('frontier_app')).toBe(NEW_PASSWORDS[1]);
  });

  it('alternating-users: a master login refused is named and creates nothing', async () => {
    const config = configFor('alternating-users');
    startRotation();
    await run('createSecret', config);
    database.passwords.set('rds_master', 'rotated-elsewhere');

    const error = await failure(run('setSecret', config));

    expect(error).toBeInstanceOf(DatabaseLoginRefused);
    expect(database.passwords.has('frontier_app_clone')).toBe(false);
  });
});

describe('PostgreSQL errors and the real driver', () => {
  it.each([
    [{ code: '28P01', message: 'password authentication failed for user "frontier_app"' }, DatabaseLoginRefused],
    [{ code: '28000', message: 'no pg_hba.conf entry for host' }, DatabaseLoginRefused],
    [Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' }), DatabaseUnreachable],
    [new Error('Connection terminated due to connection timeout'), DatabaseUnreachable],
    [{ code: '42501', message: 'permission denied to create role' }, DatabaseStatementFailed],
  ])('names %p', (error, named) => {
    const classified = databaseError(error, 'setting the password of frontier_app');
    expect(classified).toBeInstanceOf(named);
    expect(classified.cause).toBeUndefined();
  });

  it('connection refused by a real socket: DatabaseUnreachable, without the password', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const error = await failure(postgresRotation(1_000).canLogIn({ host: '127.0.0.1', port, databaseName: 'frontier', tls: 'disable' }, { username: 'frontier_app', password: OLD_PASSWORD }));

    expect(error).toBeInstanceOf(DatabaseUnreachable);
    expect(error.message).toContain(`127.0.0.1:${port}/frontier`);
  });

  it('a server that never answers: DatabaseUnreachable within the timeout', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const error = await failure(postgresRotation(500).runQuery({ host: '127.0.0.1', port, databaseName: 'frontier', tls: 'disable' }, { username: 'frontier_app', password: OLD_PASSWORD }, 'SELECT 1'));
      expect(error).toBeInstanceOf(DatabaseUnreachable);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('sends PostgreSQL a SCRAM-SHA-256 verifier, never the password', () => {
    const verifier = scramVerifier(NEW_PASSWORDS[0]!, Buffer.alloc(16, 1));
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(verifier).not.toContain(NEW_PASSWORDS[0]);
  });
});
