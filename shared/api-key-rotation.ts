// Secrets Manager's rotation contract for the API key set (securityIncident.apiKeys): the keys clients
// call the API with. Their source is a Secrets Manager secret holding a JSON object `{"<key name>":
// "<key>", ...}`; the API reads a copy, the Kubernetes Secret `apiKeys.kubernetesSecret` (one data
// entry per key name) in kubernetes.namespace. Secrets Manager calls the function four times per
// rotation, with the same ClientRequestToken, as for the database credentials (shared/rotation.ts):
//
//   createSecret  a new key for every name, stored under the token as AWSPENDING;
//   setSecret     the Kubernetes copy on the serving cluster made to hold exactly the pending set (and on
//                 the other cluster, when it answers and holds that Secret): from here on the API, once
//                 it reloads the Secret, accepts only the new keys;
//   testSecret    the serving cluster's copy read back equals the pending set;
//   finishSecret  AWSCURRENT moved to the token (the old version becomes AWSPREVIOUS), AWSPENDING removed.
//
// After finishSecret the old keys are revoked at their source: they are neither AWSCURRENT nor in a
// Kubernetes copy the function could reach. AWSPREVIOUS keeps them, as AWS's rotation templates do, for
// audit only: nothing reads that stage to authenticate a client.
//
// Every step checks before it acts, so Secrets Manager's retries and a rotation started again with the
// same token end in the same state. Keys never leave this module: results, log lines and errors carry
// key names, version ids and digest prefixes (12 hex digits of a SHA-256), never a key.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  GetRandomPasswordCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { PatchStrategy, type V1Secret } from '@kubernetes/client-node';
import { clusterFor, kubernetesConfig, type ApiKeysConfig, type ClusterRole, type DeploymentConfig } from './config.js';
import {
  ApiKeyCopyMismatch,
  ApiKeySetInvalid,
  AwsTransientError,
  KubernetesNotFound,
  KubernetesTransientError,
  KubernetesUnreachable,
  ResourceNotFound,
  RotationRefused,
  UnexpectedResourceState,
} from './errors.js';
import type { KubernetesConnection } from './kubernetes/connection.js';
import { requestOptions, send } from './kubernetes/requests.js';
import { describeRotatedSecret, readRotationVersion, removePendingLabel, ROTATION_STEPS as API_KEY_ROTATION_STEPS, secretsManagerCall, type RotationEvent as ApiKeyRotationEvent, type RotationStep as ApiKeyRotationStep } from './secrets.js';

// The same contract as the database credentials' rotation (shared/secrets.ts), under this module's names.
export { ROTATION_STEPS as API_KEY_ROTATION_STEPS, type RotationStep as ApiKeyRotationStep, type RotationEvent as ApiKeyRotationEvent } from './secrets.js';

/**
 * What setSecret did to one cluster's Kubernetes copy. `updated`: the Secret now holds the pending set
 * (`removed` names it no longer holds); `already-equal`: it held it; `skipped` (the other cluster only):
 * it did not answer or has no such Secret, `reason` says which.
 */
export interface ApiKeyCopyResult {
  role: ClusterRole;
  cluster: string;
  secret: string;
  outcome: 'updated' | 'already-equal' | 'skipped';
  removed?: string[];
  reason?: string;
}

/**
 * What a step did, without any key (Secrets Manager ignores it; logs and tests read it). `outcome`:
 * `done` (the step acted), `already-done` (it found its work done), `already-current` (the token's
 * version is AWSCURRENT: the rotation is complete). `keyNames`: the names of the key set the step
 * worked on (empty when it read no value). `digest`: 12 hex digits of a keyed hash of that set
 * (shortDigest: HMAC under a per-process random key, never a plain hash of the keys), to tell key sets
 * apart in one invocation's logs. `copies`: setSecret's per cluster.
 */
export interface ApiKeyRotationStepResult {
  step: ApiKeyRotationStep;
  secret: string;
  token: string;
  outcome: 'done' | 'already-done' | 'already-current';
  keyNames: string[];
  digest?: string;
  copies?: ApiKeyCopyResult[];
  detail: string;
}

/**
 * The clusters the Kubernetes copies live on. `connect` is the product's cached connection
 * (cluster-ops connectTo); unit tests give a double.
 */
export interface ApiKeyRotationDependencies {
  secrets: SecretsManagerClient;
  connect: (role: ClusterRole) => Promise<KubernetesConnection>;
}

/** A key set: key name -> key. */
export type ApiKeySet = Record<string, string>;

/** Kubernetes Secret data keys (the names the API looks the keys up by). */
const KEY_NAME = /^[-._a-zA-Z0-9]{1,253}$/;

// ---------------------------------------------------------------------------------------------------
// Key sets

/**
 * Reads a key set from a secret's text. Throws ApiKeySetInvalid, naming what is wrong and never a
 * value (a key name that is not valid is not quoted either: a value pasted in the wrong place would be).
 */
export function parseApiKeySet(text: string | undefined, what: string): ApiKeySet {
  const expected = 'expected a JSON object of key names (letters, digits, "-", "_", ".") to non-empty strings, at least one';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    throw new ApiKeySetInvalid(`${what} is not JSON: ${expected}; nothing was changed`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiKeySetInvalid(`${what} is ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`}: ${expected}; nothing was changed`);
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length === 0) throw new ApiKeySetInvalid(`${what} holds no keys: ${expected}; nothing was changed`);
  const badNames = entries.filter(([name]) => !KEY_NAME.test(name)).length;
  if (badNames > 0) throw new ApiKeySetInvalid(`${what} has ${badNames} key name(s) that are not Kubernetes Secret data keys: ${expected}; nothing was changed`);
  const badValues = entries.filter(([, value]) => typeof value !== 'string' || value === '').map(([name]) => name);
  if (badValues.length > 0) throw new ApiKeySetInvalid(`${what}: the value of ${badValues.join(', ')} is not a non-empty string: ${expected}; nothing was changed`);
  return Object.fromEntries(entries) as ApiKeySet;
}

/** The names of a key set, sorted. */
export function keyNames(set: ApiKeySet): string[] {
  return Object.keys(set).sort();
}

/**
 * SHA-256 (hex) of a key set, independent of the order of its names: what testSecret compares. Never
 * shown: results and logs show shortDigest, a keyed hash.
 */
export function apiKeySetDigest(set: ApiKeySet): string {
  const hash = createHash('sha256');
  for (const name of keyNames(set)) hash.update(`${name}\0${set[name]}\0`);
  return hash.digest('hex');
}

/**
 * The key under which results and logs show a key set (shortDigest): random per process, so a digest in
 * a log cannot be checked against a guessed key set (a plain SHA-256 of the keys could), while two sets
 * shown by one invocation (held and expected) still compare.
 */
const LOG_DIGEST_KEY = randomBytes(32);

/** The first 12 hex digits of HMAC-SHA256(LOG_DIGEST_KEY, the set's SHA-256): what results and logs show. */
const shortDigest = (set: ApiKeySet): string => createHmac('sha256', LOG_DIGEST_KEY).update(apiKeySetDigest(set)).digest('hex').slice(0, 12);

function sameNames(a: ApiKeySet, b: ApiKeySet): boolean {
  return JSON.stringify(keyNames(a)) === JSON.stringify(keyNames(b));
}

// ---------------------------------------------------------------------------------------------------
// Secrets Manager

/**
 * The key set of the version carrying `stage` (with `versionId`: that version); undefined when there is
 * none, or when the version has no value yet (Secrets Manager creates the rotation's version empty).
 */
async function readKeySet(secrets: SecretsManagerClient, secretId: string, stage: 'AWSCURRENT' | 'AWSPENDING', versionId?: string): Promise<ApiKeySet | undefined> {
  const version = await readRotationVersion(secrets, secretId, stage, versionId);
  return version && parseApiKeySet(version.text, `secret ${version.what}`);
}

async function requireKeySet(secrets: SecretsManagerClient, secretId: string, stage: 'AWSCURRENT' | 'AWSPENDING', versionId?: string): Promise<ApiKeySet> {
  const set = await readKeySet(secrets, secretId, stage, versionId);
  if (!set) {
    throw new RotationRefused(
      `secret ${secretId} has no ${stage} value${versionId ? ` for version ${versionId}` : ''}: ${stage === 'AWSPENDING' ? 'createSecret has not run for this token' : 'nothing to rotate from'}; nothing was changed`,
    );
  }
  return set;
}

// ---------------------------------------------------------------------------------------------------
// The Kubernetes copies

interface CopyTarget {
  namespace: string;
  name: string;
}

function copyTarget(config: DeploymentConfig, apiKeys: ApiKeysConfig): CopyTarget {
  return { namespace: kubernetesConfig(config).namespace, name: apiKeys.kubernetesSecret };
}

/** The key set a Kubernetes Secret holds (its data, base64-decoded as UTF-8). */
function secretKeySet(secret: V1Secret): ApiKeySet {
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([name, encoded]) => [name, Buffer.from(encoded, 'base64').toString('utf8')]));
}

async function readCopy(conn: KubernetesConnection, target: CopyTarget): Promise<V1Secret> {
  return send(conn, { verb: 'get', resource: 'secrets', ...target }, () => conn.core.readNamespacedSecret(target, requestOptions(conn)));
}

/**
 * Makes the Secret hold exactly `set`: every name with its key, and no other data entry. One merge
 * patch: the new values, `null` for each name to remove (RFC 7386), and the resourceVersion read, so a
 * change made in between is refused (409, KubernetesConflict; Secrets Manager retries the step) instead
 * of overwritten. The Secret is never created: it must exist (deploy/rbac/ grants get and patch on that
 * one name; RBAC cannot limit `create` to a name, and the API mounts a Secret its manifests declare).
 * Kubernetes: GET, then (only when it differs) PATCH v1 secrets/<name>.
 */
async function writeCopy(conn: KubernetesConnection, target: CopyTarget, set: ApiKeySet): Promise<{ changed: boolean; removed: string[] }> {
  const current = await readCopy(conn, target);
  const held = secretKeySet(current);
  if (apiKeySetDigest(held) === apiKeySetDigest(set)) return { changed: false, removed: [] };
  const removed = keyNames(held).filter((name) => !(name in set));
  const data: Record<string, string | null> = Object.fromEntries(keyNames(set).map((name) => [name, Buffer.from(set[name]!, 'utf8').toString('base64')]));
  for (const name of removed) data[name] = null;
  const body = { metadata: { resourceVersion: current.metadata?.resourceVersion }, data };
  await send(conn, { verb: 'patch', resource: 'secrets', ...target }, () =>
    conn.core.patchNamespacedSecret({ ...target, body }, requestOptions(conn, { contentType: PatchStrategy.MergePatch })),
  );
  return { changed: true, removed };
}

/** Failures that mean the other cluster is down or does not hold the copy: skipped, not a failed step. */
function otherClusterAbsent(error: unknown): boolean {
  return (
    error instanceof KubernetesUnreachable ||
    error instanceof KubernetesTransientError ||
    error instanceof KubernetesNotFound ||
    // eks:DescribeCluster: throttled or unreachable, no such cluster, not ACTIVE.
    error instanceof AwsTransientError ||
    error instanceof ResourceNotFound ||
    error instanceof UnexpectedResourceState
  );
}

// ---------------------------------------------------------------------------------------------------
// The steps

/**
 * Runs one step of Secrets Manager's rotation contract for the API key set, `event.SecretId` being
 * securityIncident.apiKeys.secret (matched by name or ARN).
 *
 * First, as AWS's rotation templates do: the step name, DescribeSecret, rotation enabled, the secret
 * the configured one, the token a version of it. A version already AWSCURRENT needs nothing
 * (finishSecret only removes a leftover AWSPENDING from it); any other must carry AWSPENDING.
 *
 * - createSecret: done when the token's version already holds a key set with AWSCURRENT's names; else
 *   a key for every name (GetRandomPassword: `keyLength` letters and digits) stored under the token as
 *   AWSPENDING (PutSecretValue). A version holding other names is refused (PutSecretValue cannot
 *   change a version's value): start a new rotation.
 * - setSecret: the Kubernetes copy (apiKeys.kubernetesSecret in kubernetes.namespace) on the serving
 *   cluster (securityIncident.cluster) made to hold exactly the pending set; then the other cluster's,
 *   when it answers and holds that Secret (otherwise skipped, the reason in `copies`).
 * - testSecret: the serving cluster's copy read back equals the pending set (digests compared).
 * - finishSecret: the same check (labels never move onto keys the API does not hold), then AWSCURRENT
 *   moved to the token (UpdateSecretVersionStage; the old version becomes AWSPREVIOUS), AWSPENDING removed.
 *
 * Result: ApiKeyRotationStepResult (names, version, digest prefixes; never a key). Throws
 * RotationRefused (the event or the secret's state; nothing changed), ApiKeySetInvalid (a value that is
 * not a key set; nothing changed), ApiKeyCopyMismatch (testSecret, finishSecret), InvalidConfig (no
 * securityIncident.apiKeys or kubernetes section), SecretsManagerUnreachable and the AWS errors of
 * awsCall (AwsAccessDenied, ResourceNotFound, AwsTransientError), and the Kubernetes errors of
 * shared/kubernetes/requests.ts (KubernetesNotFound for a missing copy on the serving cluster,
 * KubernetesUnauthorized, KubernetesConflict, KubernetesUnreachable, KubernetesTransientError...).
 * AWS APIs: secretsmanager DescribeSecret, GetSecretValue, GetRandomPassword, PutSecretValue,
 * UpdateSecretVersionStage; eks DescribeCluster (through `deps.connect`). Kubernetes: GET and PATCH v1
 * secrets/<apiKeys.kubernetesSecret>.
 */
export async function rotateApiKeysStep(config: DeploymentConfig, event: ApiKeyRotationEvent, deps: ApiKeyRotationDependencies): Promise<ApiKeyRotationStepResult> {
  const { SecretId: secretId, ClientRequestToken: token, Step: step } = event;
  if (!API_KEY_ROTATION_STEPS.includes(step)) throw new RotationRefused(`Step ${JSON.stringify(step)} is not a rotation step; expected one of ${API_KEY_ROTATION_STEPS.join(', ')}`);
  if (typeof secretId !== 'string' || secretId === '' || typeof token !== 'string' || token === '') {
    throw new RotationRefused('the rotation event needs SecretId and ClientRequestToken (strings)');
  }
  const apiKeys = config.securityIncident?.apiKeys;
  if (!apiKeys) throw new RotationRefused(`the deployment config has no securityIncident.apiKeys: secret ${secretId} is not rotated by this function; nothing was changed`);
  const state = await describeRotatedSecret(deps.secrets, secretId);
  if (apiKeys.secret !== state.name && apiKeys.secret !== state.arn) {
    throw new RotationRefused(`secret ${state.name} is not securityIncident.apiKeys.secret (${apiKeys.secret}): nothing was changed`);
  }
  const result = (outcome: ApiKeyRotationStepResult['outcome'], detail: string, set?: ApiKeySet, copies?: ApiKeyCopyResult[]): ApiKeyRotationStepResult => ({
    step,
    secret: state.name,
    token,
    outcome,
    keyNames: set ? keyNames(set) : [],
    ...(set ? { digest: shortDigest(set) } : {}),
    ...(copies ? { copies } : {}),
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

  const target = copyTarget(config, apiKeys);
  const serving = config.securityIncident!.cluster;
  switch (step) {
    case 'createSecret': {
      const current = await requireKeySet(deps.secrets, state.name, 'AWSCURRENT');
      const pending = await readKeySet(deps.secrets, state.name, 'AWSPENDING', token);
      if (pending) {
        if (sameNames(pending, current)) return result('already-done', `version ${token} already holds a new key set with the same names`, pending);
        throw new RotationRefused(
          `version ${token} of ${state.name} holds keys ${keyNames(pending).join(', ')}, AWSCURRENT holds ${keyNames(current).join(', ')}: a version's value cannot change; start a new rotation (nothing was changed)`,
        );
      }
      const next: ApiKeySet = {};
      for (const name of keyNames(current)) next[name] = await newKey(deps.secrets, state.name, apiKeys.keyLength);
      await secretsManagerCall('secretsmanager:PutSecretValue', `${state.name} (AWSPENDING ${token})`, () =>
        deps.secrets.send(new PutSecretValueCommand({ SecretId: state.name, ClientRequestToken: token, SecretString: JSON.stringify(next), VersionStages: ['AWSPENDING'] })),
      );
      return result('done', `stored ${keyNames(next).length} new key(s) of ${apiKeys.keyLength} characters as version ${token} (AWSPENDING)`, next);
    }
    case 'setSecret': {
      const pending = await requireKeySet(deps.secrets, state.name, 'AWSPENDING', token);
      const other: ClusterRole = serving === 'primary' ? 'backup' : 'primary';
      const copies = [await setCopy(deps, serving, clusterFor(config, serving).name, target, pending, true)];
      copies.push(await setCopy(deps, other, clusterFor(config, other).name, target, pending, false));
      const done = copies.some((c) => c.outcome === 'updated');
      const said = copies.map((c) => `${c.role} cluster ${c.cluster}: ${c.outcome}${c.removed?.length ? ` (removed ${c.removed.join(', ')})` : ''}${c.reason ? ` (${c.reason})` : ''}`).join('; ');
      return result(done ? 'done' : 'already-done', `Secret ${target.namespace}/${target.name} holds the pending key set: ${said}`, pending, copies);
    }
    case 'testSecret': {
      const pending = await requireKeySet(deps.secrets, state.name, 'AWSPENDING', token);
      await proveCopy(deps, serving, target, pending);
      return result('done', `Secret ${target.namespace}/${target.name} on the ${serving} cluster holds the pending key set`, pending);
    }
    case 'finishSecret': {
      const pending = await requireKeySet(deps.secrets, state.name, 'AWSPENDING', token);
      await proveCopy(deps, serving, target, pending);
      const currentVersion = Object.entries(state.versions).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
      await secretsManagerCall('secretsmanager:UpdateSecretVersionStage', `${state.name} (AWSCURRENT to ${token})`, () =>
        deps.secrets.send(
          new UpdateSecretVersionStageCommand({ SecretId: state.name, VersionStage: 'AWSCURRENT', MoveToVersionId: token, ...(currentVersion ? { RemoveFromVersionId: currentVersion } : {}) }),
        ),
      );
      await removePendingLabel(deps.secrets, state.name, token);
      return result('done', `version ${token} is AWSCURRENT${currentVersion ? `, ${currentVersion} AWSPREVIOUS (kept for audit only)` : ''}; AWSPENDING removed`, pending);
    }
  }
}

/** One key: `length` letters and digits (no punctuation, no space: safe in a header, a URL or a shell). */
async function newKey(secrets: SecretsManagerClient, secretName: string, length: number): Promise<string> {
  const answer = await secretsManagerCall('secretsmanager:GetRandomPassword', secretName, () =>
    secrets.send(new GetRandomPasswordCommand({ PasswordLength: length, ExcludePunctuation: true, IncludeSpace: false, RequireEachIncludedType: true })),
  );
  const key = answer.RandomPassword;
  if (!key || key.length !== length || !/^[A-Za-z0-9]+$/.test(key)) {
    throw new RotationRefused(`secretsmanager:GetRandomPassword for ${secretName} returned no key of ${length} letters and digits: nothing was changed`);
  }
  return key;
}

/** setSecret on one cluster: the serving one's failures fail the step; the other one's absence is a skip. */
async function setCopy(deps: ApiKeyRotationDependencies, role: ClusterRole, cluster: string, target: CopyTarget, set: ApiKeySet, serving: boolean): Promise<ApiKeyCopyResult> {
  try {
    const conn = await deps.connect(role);
    const written = await writeCopy(conn, target, set);
    return { role, cluster, secret: `${target.namespace}/${target.name}`, outcome: written.changed ? 'updated' : 'already-equal', ...(written.changed ? { removed: written.removed } : {}) };
  } catch (error) {
    if (serving || !otherClusterAbsent(error)) throw error;
    const reason = error instanceof KubernetesNotFound ? `it has no Secret ${target.namespace}/${target.name}` : `it did not answer: ${(error as Error).name}: ${(error as Error).message}`;
    return { role, cluster, secret: `${target.namespace}/${target.name}`, outcome: 'skipped', reason };
  }
}

/** The serving cluster's copy holds exactly `set`; else ApiKeyCopyMismatch naming the names that differ. */
async function proveCopy(deps: ApiKeyRotationDependencies, role: ClusterRole, target: CopyTarget, set: ApiKeySet): Promise<void> {
  const conn = await deps.connect(role);
  const held = secretKeySet(await readCopy(conn, target));
  if (apiKeySetDigest(held) === apiKeySetDigest(set)) return;
  const differing = [...new Set([...keyNames(held), ...keyNames(set)])].filter((name) => held[name] !== set[name]).sort();
  throw new ApiKeyCopyMismatch(
    `Secret ${target.namespace}/${target.name} on the ${role} cluster ${conn.cluster} does not hold the pending key set (digest ${shortDigest(held)}, expected ${shortDigest(set)}; names that differ: ${differing.join(', ')}): run setSecret again`,
  );
}

