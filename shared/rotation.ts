// Secrets Manager's rotation contract for the PostgreSQL credentials of a configured database.
// Secrets Manager calls the function four times per rotation, with the same ClientRequestToken:
// createSecret, setSecret, testSecret, finishSecret. Every step checks what is already done before it
// acts, so Secrets Manager's own retries, a rotation started again after an interruption, and a person
// running a step by hand all end in the same state: the new version AWSCURRENT, the old one AWSPREVIOUS,
// no AWSPENDING left (as AWS's own rotation templates leave it).
//
// Secret values never leave this module: no password appears in a return value, a log line or an error
// message, and database errors are rethrown without their driver object (which holds the connection's
// parameters). PostgreSQL never receives a new password in clear text either: ALTER/CREATE ROLE is sent
// a SCRAM-SHA-256 verifier computed here (as psql's \password does), so no server log can hold it.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import {
  GetRandomPasswordCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import type { DatabaseConfig, DeploymentConfig, RotationConfig } from './config.js';
import { databaseClient, type DatabaseTarget } from './database.js';
import {
  DatabaseLoginRefused,
  DatabaseStatementFailed,
  DatabaseUnreachable,
  InvalidConfig,
  RotationRefused,
} from './errors.js';
import {
  describeRotatedSecret,
  fetchDatabaseCredentials,
  readRotationVersion,
  removePendingLabel,
  ROTATION_STEPS,
  secretsManagerCall,
  type DatabaseCredentials,
  type RotatedSecretState,
  type RotationEvent,
  type RotationStep,
} from './secrets.js';

export { ROTATION_STEPS, type RotationEvent, type RotationStep } from './secrets.js';

/**
 * What a step did, without any secret value (Secrets Manager ignores it; logs and tests read it).
 * `outcome`: `done` (the step acted), `already-done` (it found its work done), `already-current` (the
 * token's version is AWSCURRENT: the rotation is complete, nothing to do).
 */
export interface RotationStepResult {
  step: RotationStep;
  secret: string;
  token: string;
  database: string;
  strategy: RotationConfig['strategy'];
  outcome: 'done' | 'already-done' | 'already-current';
  detail: string;
}

/** Characters GetRandomPassword leaves out: those that need escaping in a connection URL or a shell. */
export const PASSWORD_EXCLUDED_CHARACTERS = ' "#$%&\'+,/:;<=>?@[\\]^`{|}~';
export const PASSWORD_LENGTH = 32;
/** PostgreSQL truncates identifiers to 63 bytes: a longer clone name would silently be another role. */
const MAX_IDENTIFIER_BYTES = 63;
export const CLONE_SUFFIX = '_clone';

/**
 * The database operations of a rotation. `postgresRotation` is the real one; the unit tests put a
 * double in its place to inject failures.
 */
export interface RotationDatabase {
  /** Logs in and out. true: logged in; false: the login was refused (SQLSTATE class 28). Unreachable: DatabaseUnreachable. */
  canLogIn(target: DatabaseTarget, credentials: DatabaseCredentials): Promise<boolean>;
  /** Logs in and returns the role the session runs as (current_user); null when the login was refused. */
  sessionRole(target: DatabaseTarget, credentials: DatabaseCredentials): Promise<string | null>;
  /** `as` logs in and sets `role`'s password (ALTER ROLE ... PASSWORD). */
  setPassword(target: DatabaseTarget, as: DatabaseCredentials, role: string, password: string): Promise<void>;
  /**
   * `as` (the master user) makes `user` a login role with `password` that holds the grants of
   * `original` (when user differs from original): created when missing, password set when present.
   */
  ensureAlternateUser(target: DatabaseTarget, as: DatabaseCredentials, user: { name: string; original: string; password: string }): Promise<'created' | 'updated'>;
  /** Logs in as `credentials` and runs `query`, which must return at least one row. */
  runQuery(target: DatabaseTarget, credentials: DatabaseCredentials, query: string): Promise<void>;
}

export interface RotationDependencies {
  secrets: SecretsManagerClient;
  database: RotationDatabase;
}

// ---------------------------------------------------------------------------------------------------
// Secrets Manager calls

/** A database secret's value: RDS's JSON format, every field kept (engine, host, dbname, ...). */
type SecretValue = Record<string, unknown> & { username: string; password: string };

function parseValue(text: string | undefined, what: string): SecretValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    throw new InvalidConfig(`${what} is not JSON: expected {"username": ..., "password": ..., "host": ...} as RDS stores it`);
  }
  const value = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  if (typeof value.username !== 'string' || value.username === '' || typeof value.password !== 'string' || value.password === '') {
    throw new InvalidConfig(`${what} lacks non-empty string fields username and password (fields present: ${Object.keys(value).join(', ') || 'none'})`);
  }
  return value as SecretValue;
}

/** The value of the version carrying `stage` (and, with `versionId`, that version): undefined when there is none. */
async function readValue(secrets: SecretsManagerClient, secretId: string, stage: 'AWSCURRENT' | 'AWSPENDING' | 'AWSPREVIOUS', versionId?: string): Promise<SecretValue | undefined> {
  const version = await readRotationVersion(secrets, secretId, stage, versionId);
  return version && parseValue(version.text, `secret ${version.what}`);
}

async function requireValue(secrets: SecretsManagerClient, secretId: string, stage: 'AWSCURRENT' | 'AWSPENDING', versionId?: string): Promise<SecretValue> {
  const value = await readValue(secrets, secretId, stage, versionId);
  if (!value) throw new RotationRefused(`secret ${secretId} has no ${stage} value${versionId ? ` for version ${versionId}` : ''}: ${stage === 'AWSPENDING' ? 'createSecret has not run for this token' : 'nothing to rotate from'}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------
// The steps

/**
 * Runs one step of Secrets Manager's rotation contract for `event.SecretId`, one of the secrets
 * `databases[].rotation` lists (matched by name or ARN against credentialsSecret).
 *
 * First, as AWS's rotation templates do: DescribeSecret; rotation must be enabled and the token must be
 * a version of the secret. A token whose version is already AWSCURRENT needs nothing (finishSecret only
 * removes a leftover AWSPENDING from it); otherwise it must carry AWSPENDING.
 *
 * - createSecret: a new value under the token with AWSPENDING: the current value with a new password
 *   (GetRandomPassword) and, for alternating users, the other user. Skipped when the token has a value.
 * - setSecret: makes the database accept the pending credentials. Skipped when they already log in (and,
 *   for alternating users, their sessions already run as the original user).
 *   single-user: the user changes its own password, logging in with AWSCURRENT (or AWSPREVIOUS, when an
 *   earlier rotation changed the password but did not finish). alternating-users: the master user
 *   creates `<user>_clone` holding `<user>`'s grants, or sets the password of whichever user is pending.
 * - testSecret: logs in with the pending credentials and runs the validation query; for alternating
 *   users, also checks the session runs as the original user (the clone holds its grants).
 * - finishSecret: proves the pending credentials once more, moves AWSCURRENT to the token (Secrets
 *   Manager moves AWSPREVIOUS to the old version) and removes AWSPENDING.
 *
 * Throws RotationRefused (nothing changed), InvalidConfig (a secret not in RDS's format, a clone name
 * too long), SecretsManagerUnreachable and the AWS errors of awsCall (AwsAccessDenied, ResourceNotFound,
 * AwsTransientError), DatabaseLoginRefused, DatabaseUnreachable, DatabaseStatementFailed. AWS APIs:
 * secretsmanager DescribeSecret, GetSecretValue, GetRandomPassword, PutSecretValue,
 * UpdateSecretVersionStage; PostgreSQL through `deps.database`.
 */
export async function rotateSecretStep(config: DeploymentConfig, event: RotationEvent, deps: RotationDependencies): Promise<RotationStepResult> {
  const { SecretId: secretId, ClientRequestToken: token, Step: step } = event;
  if (!ROTATION_STEPS.includes(step)) throw new RotationRefused(`Step ${JSON.stringify(step)} is not a rotation step; expected one of ${ROTATION_STEPS.join(', ')}`);
  if (typeof secretId !== 'string' || secretId === '' || typeof token !== 'string' || token === '') {
    throw new RotationRefused('the rotation event needs SecretId and ClientRequestToken (strings)');
  }
  const state = await describeRotatedSecret(deps.secrets, secretId);
  const database = rotatedDatabase(config, state);
  const rotation = database.rotation as RotationConfig;
  const result = (outcome: RotationStepResult['outcome'], detail: string): RotationStepResult => ({
    step,
    secret: state.name,
    token,
    database: database.name,
    strategy: rotation.strategy,
    outcome,
    detail,
  });

  if (!state.rotationEnabled) throw new RotationRefused(`secret ${state.name} does not have rotation enabled: nothing was changed`);
  const stages = state.versions[token];
  if (!stages) throw new RotationRefused(`token ${token} is not a version of secret ${state.name}: nothing was changed`);
  if (stages.includes('AWSCURRENT')) {
    if (step === 'finishSecret' && stages.includes('AWSPENDING')) {
      await removePendingLabel(deps.secrets, state.name, token);
      return result('done', `version ${token} is AWSCURRENT; removed the AWSPENDING label left on it`);
    }
    return result('already-current', `version ${token} is already AWSCURRENT: nothing to do`);
  }
  if (!stages.includes('AWSPENDING')) {
    throw new RotationRefused(`version ${token} of secret ${state.name} is neither AWSPENDING nor AWSCURRENT (labels: ${stages.join(', ') || 'none'}): nothing was changed`);
  }

  switch (step) {
    case 'createSecret':
      return createSecret(state, token, database, rotation, deps, result);
    case 'setSecret':
      return setSecret(state, token, database, rotation, deps, result);
    case 'testSecret': {
      const pending = await requireValue(deps.secrets, state.name, 'AWSPENDING', token);
      await proveCredentials(database, rotation, pending, deps);
      return result('done', `the pending credentials of ${pending.username} log in and run the validation query`);
    }
    case 'finishSecret':
      return finishSecret(state, token, database, rotation, deps, result);
  }
}

/** The configured database whose credentialsSecret is this secret (by name or ARN) and which rotates. */
function rotatedDatabase(config: DeploymentConfig, state: RotatedSecretState): DatabaseConfig {
  const database = config.databases.find((d) => d.rotation && (d.credentialsSecret === state.name || d.credentialsSecret === state.arn));
  if (!database) {
    const listed = config.databases.filter((d) => d.rotation).map((d) => d.credentialsSecret);
    throw new RotationRefused(`secret ${state.name} is not a credentialsSecret with rotation in this deployment (rotated: ${listed.join(', ') || 'none'}): nothing was changed`);
  }
  return database;
}

type Result = (outcome: RotationStepResult['outcome'], detail: string) => RotationStepResult;

async function createSecret(state: RotatedSecretState, token: string, database: DatabaseConfig, rotation: RotationConfig, deps: RotationDependencies, result: Result): Promise<RotationStepResult> {
  const current = await requireValue(deps.secrets, state.name, 'AWSCURRENT');
  if (await readValue(deps.secrets, state.name, 'AWSPENDING', token)) return result('already-done', `version ${token} already holds the new value`);
  const username = rotation.strategy === 'alternating-users' ? alternateUser(current.username) : current.username;
  // Checked before anything is stored: the value must name a database the function can reach.
  targetOf(database, current);
  const answer = await secretsManagerCall('secretsmanager:GetRandomPassword', state.name, () =>
    deps.secrets.send(new GetRandomPasswordCommand({ PasswordLength: PASSWORD_LENGTH, ExcludeCharacters: PASSWORD_EXCLUDED_CHARACTERS, RequireEachIncludedType: true })),
  );
  const password = answer.RandomPassword;
  if (!password) throw new RotationRefused(`secretsmanager:GetRandomPassword for ${state.name} returned no password: nothing was changed`);
  await secretsManagerCall('secretsmanager:PutSecretValue', `${state.name} (AWSPENDING ${token})`, () =>
    deps.secrets.send(
      new PutSecretValueCommand({ SecretId: state.name, ClientRequestToken: token, SecretString: JSON.stringify({ ...current, username, password }), VersionStages: ['AWSPENDING'] }),
    ),
  );
  return result('done', `stored a new password for ${username} as version ${token} (AWSPENDING)`);
}

async function setSecret(state: RotatedSecretState, token: string, database: DatabaseConfig, rotation: RotationConfig, deps: RotationDependencies, result: Result): Promise<RotationStepResult> {
  const pending = await requireValue(deps.secrets, state.name, 'AWSPENDING', token);
  const current = await requireValue(deps.secrets, state.name, 'AWSCURRENT');
  const target = targetOf(database, current);
  const pendingTarget = targetOf(database, pending);
  if (pendingTarget.host !== target.host || pendingTarget.port !== target.port || pendingTarget.databaseName !== target.databaseName) {
    throw new RotationRefused(
      `the pending value of ${state.name} points at ${describeTarget(pendingTarget)}, the current one at ${describeTarget(target)}: a rotation changes the password only, nothing was changed`,
    );
  }
  const expectedUser = rotation.strategy === 'alternating-users' ? alternateUser(current.username) : current.username;
  if (pending.username !== expectedUser) {
    throw new RotationRefused(`the pending value of ${state.name} names user ${pending.username}, but rotating ${current.username} (${rotation.strategy}) needs ${expectedUser}: nothing was changed`);
  }
  if (rotation.strategy === 'single-user') {
    if (await deps.database.canLogIn(target, pending)) return result('already-done', `${pending.username} already logs in with the pending password`);
    const login = await loginFor(state, target, current, deps);
    await deps.database.setPassword(target, login, pending.username, pending.password);
    return result('done', `set the new password of ${pending.username} (logged in with the ${login === current ? 'current' : 'previous'} password)`);
  }
  const original = originalUser(current.username);
  // Done only when the pending user logs in and its sessions run as the original: a clone that logs in
  // without the original's grants (made by hand, say) is given them.
  if ((await deps.database.sessionRole(target, pending)) === original) {
    return result('already-done', `${pending.username} already logs in with the pending password and runs as ${original}`);
  }
  const master = await fetchDatabaseCredentials(deps.secrets, rotation.masterSecret as string);
  const how = await deps.database.ensureAlternateUser(target, master, { name: pending.username, original, password: pending.password });
  return result(
    'done',
    how === 'created'
      ? `created ${pending.username} with the grants of ${original} and the new password (as ${master.username})`
      : `set the new password of ${pending.username} (as ${master.username})`,
  );
}

/**
 * The credentials that may change the single user's own password: AWSCURRENT, or AWSPREVIOUS when the
 * current password no longer logs in (an earlier rotation set its password and then stopped before
 * finishSecret, and a new rotation was started: the database then holds that earlier pending password,
 * which is not stored anywhere but in its version; AWS's templates try AWSPREVIOUS the same way).
 */
async function loginFor(state: RotatedSecretState, target: DatabaseTarget, current: SecretValue, deps: RotationDependencies): Promise<SecretValue> {
  if (await deps.database.canLogIn(target, current)) return current;
  const previous = await readValue(deps.secrets, state.name, 'AWSPREVIOUS');
  if (previous && previous.username === current.username && (await deps.database.canLogIn(target, previous))) return previous;
  throw new DatabaseLoginRefused(
    `${describeTarget(target)} refuses ${current.username} with the current${previous ? ' and the previous' : ''} password of ${state.name}: cannot set the new one; nothing was changed`,
  );
}

async function finishSecret(state: RotatedSecretState, token: string, database: DatabaseConfig, rotation: RotationConfig, deps: RotationDependencies, result: Result): Promise<RotationStepResult> {
  const pending = await requireValue(deps.secrets, state.name, 'AWSPENDING', token);
  // Proved again here, so the labels never move onto credentials the database does not accept, even
  // when the steps were run out of order by hand.
  await proveCredentials(database, rotation, pending, deps);
  const currentVersion = Object.entries(state.versions).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
  await secretsManagerCall('secretsmanager:UpdateSecretVersionStage', `${state.name} (AWSCURRENT to ${token})`, () =>
    deps.secrets.send(
      new UpdateSecretVersionStageCommand({ SecretId: state.name, VersionStage: 'AWSCURRENT', MoveToVersionId: token, ...(currentVersion ? { RemoveFromVersionId: currentVersion } : {}) }),
    ),
  );
  await removePendingLabel(deps.secrets, state.name, token);
  return result('done', `version ${token} is AWSCURRENT${currentVersion ? `, ${currentVersion} AWSPREVIOUS` : ''}; AWSPENDING removed`);
}

async function proveCredentials(database: DatabaseConfig, rotation: RotationConfig, pending: SecretValue, deps: RotationDependencies): Promise<void> {
  const target = targetOf(database, pending);
  await deps.database.runQuery(target, pending, rotation.validationQuery);
  if (rotation.strategy !== 'alternating-users') return;
  // The clone must hold the original's grants before it becomes current: its sessions run as the original.
  const original = originalUser(pending.username);
  const role = await deps.database.sessionRole(target, pending);
  if (role !== original) {
    throw new DatabaseStatementFailed(
      `${pending.username} logs in to ${describeTarget(target)} but its sessions run as ${role ?? 'nobody'}, not ${original}: it does not hold the grants of ${original}; run setSecret again`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Users and targets

/** alternating-users: `<user>` <-> `<user>_clone`. */
export function alternateUser(username: string): string {
  if (username.endsWith(CLONE_SUFFIX) && username.length > CLONE_SUFFIX.length) return username.slice(0, -CLONE_SUFFIX.length);
  const clone = `${username}${CLONE_SUFFIX}`;
  if (Buffer.byteLength(clone) > MAX_IDENTIFIER_BYTES) {
    throw new InvalidConfig(`user ${username} cannot be rotated with alternating-users: ${clone} would exceed PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte identifiers; nothing was changed`);
  }
  return clone;
}

/** The user whose grants the clone holds: the name without `_clone`. */
export function originalUser(username: string): string {
  return username.endsWith(CLONE_SUFFIX) && username.length > CLONE_SUFFIX.length ? username.slice(0, -CLONE_SUFFIX.length) : username;
}

/** Where the secret's credentials log in: host (required) and port/dbname from the secret, else the config. */
function targetOf(database: DatabaseConfig, value: SecretValue): DatabaseTarget {
  if (typeof value.host !== 'string' || value.host === '') {
    throw new InvalidConfig(`secret ${database.credentialsSecret} has no host field: the rotation cannot tell which server holds the user; nothing was changed`);
  }
  const port = typeof value.port === 'number' || (typeof value.port === 'string' && /^\d+$/.test(value.port)) ? Number(value.port) : database.port;
  const databaseName = typeof value.dbname === 'string' && value.dbname !== '' ? value.dbname : database.databaseName;
  return { host: value.host, port, databaseName, tls: database.tls };
}

function describeTarget(target: DatabaseTarget): string {
  return `${target.host}:${target.port}/${target.databaseName}`;
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL

/**
 * A SCRAM-SHA-256 verifier of `password` (RFC 5802/7677, PostgreSQL's stored format): what ALTER ROLE
 * receives instead of the password, so the password itself never reaches the server, its statement
 * log or pg_stat_statements. GetRandomPassword's characters are printable ASCII, which SASLprep leaves
 * as they are.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const LOGIN_REFUSED_SQLSTATE = /^28/;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ETIMEDOUT']);

/**
 * A driver error as one of the named errors, with the SQLSTATE or network code and the server's own
 * message (PostgreSQL's messages name users and objects, never passwords). The driver object is not
 * kept as the cause: it carries the connection parameters, password included.
 */
export function databaseError(error: unknown, what: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error) ? String((error as { message: unknown }).message) : String(error);
  const codeText = typeof code === 'string' ? ` (${code})` : '';
  if (typeof code === 'string' && LOGIN_REFUSED_SQLSTATE.test(code)) return new DatabaseLoginRefused(`${what}: login refused${codeText}: ${message}`);
  if ((typeof code === 'string' && UNREACHABLE_CODES.has(code)) || /timeout|timed out|terminated unexpectedly|Connection terminated/i.test(message)) {
    return new DatabaseUnreachable(`${what}: no connection${codeText}: ${message}. The function runs in the database's VPC: its security group must reach the database port`);
  }
  return new DatabaseStatementFailed(`${what} failed${codeText}: ${message}`);
}

async function withSession<T>(target: DatabaseTarget, credentials: DatabaseCredentials, timeoutMs: number, what: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = databaseClient(target, credentials, timeoutMs);
  try {
    try {
      await client.connect();
    } catch (error) {
      throw databaseError(error, `${what}: connecting to ${describeTarget(target)} as ${credentials.username}`);
    }
    try {
      return await work(client);
    } catch (error) {
      if (error instanceof DatabaseStatementFailed || error instanceof DatabaseLoginRefused || error instanceof DatabaseUnreachable) throw error;
      throw databaseError(error, `${what} on ${describeTarget(target)} as ${credentials.username}`);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** PostgreSQL through the `pg` driver: identifiers quoted, passwords sent as SCRAM verifiers in escaped literals. */
export function postgresRotation(timeoutMs: number): RotationDatabase {
  return {
    async canLogIn(target, credentials) {
      try {
        await withSession(target, credentials, timeoutMs, 'login check', (client) => client.query('SELECT 1'));
        return true;
      } catch (error) {
        if (error instanceof DatabaseLoginRefused) return false;
        throw error;
      }
    },

    async sessionRole(target, credentials) {
      try {
        return await withSession(target, credentials, timeoutMs, 'session role check', async (client) => {
          const answer = await client.query<{ role: string }>('SELECT current_user AS role');
          return answer.rows[0]?.role ?? null;
        });
      } catch (error) {
        if (error instanceof DatabaseLoginRefused) return null;
        throw error;
      }
    },

    async setPassword(target, as, role, password) {
      await withSession(target, as, timeoutMs, `setting the password of ${role}`, async (client) => {
        // READ WRITE: a database made read-only by a recovery (ALTER DATABASE ... SET
        // default_transaction_read_only) still gets its credentials rotated, e.g. during a security
        // incident: a role is cluster-wide, not the database's data. A read replica still refuses.
        await client.query('BEGIN READ WRITE');
        try {
          await client.query(`ALTER ROLE ${client.escapeIdentifier(role)} WITH PASSWORD ${client.escapeLiteral(scramVerifier(password))}`);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
    },

    async ensureAlternateUser(target, as, user) {
      return withSession(target, as, timeoutMs, `preparing user ${user.name}`, async (client) => {
        const name = client.escapeIdentifier(user.name);
        const verifier = client.escapeLiteral(scramVerifier(user.password));
        // One transaction: a clone exists with its password, its grant and its role setting, or not at
        // all. READ WRITE as in setPassword: a database made read-only still gets its users rotated.
        await client.query('BEGIN READ WRITE');
        try {
          const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user.name])).rowCount !== 0;
          await client.query(exists ? `ALTER ROLE ${name} WITH LOGIN PASSWORD ${verifier}` : `CREATE ROLE ${name} WITH LOGIN PASSWORD ${verifier}`);
          if (user.name !== user.original) {
            const original = client.escapeIdentifier(user.original);
            const member = await client.query(
              'SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = $1 AND u.rolname = $2',
              [user.original, user.name],
            );
            // Every privilege of the original (object privileges, its memberships, ownership rights) by
            // membership; and every session of the clone runs as the original (SET ROLE at login), so
            // what either user creates is owned by the original and readable by both.
            if (member.rowCount === 0) await client.query(`GRANT ${original} TO ${name}`);
            await client.query(`ALTER ROLE ${name} SET role = ${client.escapeLiteral(user.original)}`);
          }
          await client.query('COMMIT');
          return exists ? 'updated' : 'created';
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
    },

    async runQuery(target, credentials, query) {
      await withSession(target, credentials, timeoutMs, 'the validation query', async (client) => {
        const answer = await client.query(query);
        if (answer.rows.length === 0) throw new DatabaseStatementFailed(`the validation query on ${describeTarget(target)} as ${credentials.username} returned no rows; expected at least one`);
      });
    },
  };
}
