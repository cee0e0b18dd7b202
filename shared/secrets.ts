// Secret values are fetched inside the Lambda that needs them and never returned to Step Functions,
// whose execution history is plain text.
import { DescribeSecretCommand, GetSecretValueCommand, UpdateSecretVersionStageCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsCall, classifyAwsError, InvalidConfig, ResourceNotFound, SecretsManagerUnreachable } from './errors.js';

export interface DatabaseCredentials {
  username: string;
  password: string;
  /** Where the application connects, when the secret says (RDS-format secrets carry host and port). */
  host?: string;
  port?: number;
}

/**
 * Reads a database connection secret (RDS's JSON format: username, password, optionally host and port)
 * with Secrets Manager GetSecretValue. Reads the AWSCURRENT version explicitly: without a stage, a read
 * right after a rotation moved the labels can still return the previous value. Throws InvalidConfig for
 * a secret that is not JSON or lacks username/password, and the named AWS errors of awsCall.
 */
export async function fetchDatabaseCredentials(secrets: SecretsManagerClient, secretId: string): Promise<DatabaseCredentials> {
  const answer = await awsCall('secretsmanager:GetSecretValue', secretId, () =>
    secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' })),
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.SecretString ?? '');
  } catch {
    throw new InvalidConfig(`secret ${secretId} is not JSON: expected {"username": ..., "password": ...} as RDS stores it`);
  }
  const value = (parsed !== null && typeof parsed === 'object' ? parsed : {}) as Partial<Record<string, unknown>>;
  if (typeof value.username !== 'string' || typeof value.password !== 'string') {
    throw new InvalidConfig(`secret ${secretId} lacks string fields username and password`);
  }
  return {
    username: value.username,
    password: value.password,
    ...(typeof value.host === 'string' && value.host ? { host: value.host } : {}),
    ...(typeof value.port === 'number' || (typeof value.port === 'string' && /^\d+$/.test(value.port)) ? { port: Number(value.port) } : {}),
  };
}

/**
 * Reads the Redis AUTH token (AWSCURRENT, named explicitly so a rotation's label move is seen at once)
 * with Secrets Manager GetSecretValue. The secret is the token itself, or JSON with a `password` or
 * `authToken` field. Throws InvalidConfig for an empty, binary or field-less secret (naming the fields
 * present, never a value), and the named AWS errors of awsCall (ResourceNotFound, AwsAccessDenied,
 * AwsTransientError).
 */
export async function fetchRedisPassword(secrets: SecretsManagerClient, secretId: string): Promise<string> {
  const answer = await awsCall('secretsmanager:GetSecretValue', secretId, () =>
    secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' })),
  );
  const text = answer.SecretString;
  if (text === undefined) throw new InvalidConfig(`secret ${secretId} has no SecretString (a binary secret cannot hold the Redis AUTH token)`);
  if (text === '') throw new InvalidConfig(`secret ${secretId} is empty: expected the Redis AUTH token`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the token itself.
    return text;
  }
  // A token that happens to parse as a JSON number or string literal is still a plain token.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return text;
  const fields = parsed as Record<string, unknown>;
  for (const key of ['password', 'authToken'] as const) {
    const value = fields[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  const keys = Object.keys(fields);
  throw new InvalidConfig(
    `secret ${secretId} is JSON without a non-empty string field "password" or "authToken" (fields present: ${keys.length ? keys.join(', ') : 'none'})`,
  );
}

/** One version of a secret, as read by stage. */
export interface SecretVersion {
  versionId?: string;
  /** Undefined for a binary secret. */
  secretString?: string;
}

/**
 * Reads the version of `secretId` that carries `stage` (always named: a plain read right after a label
 * move can return the previous value) with Secrets Manager GetSecretValue. Throws the named AWS errors of
 * awsCall: ResourceNotFound (also for a stage no version carries), AwsAccessDenied, AwsTransientError.
 */
export async function readSecretVersion(secrets: SecretsManagerClient, secretId: string, stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<SecretVersion> {
  const answer = await awsCall('secretsmanager:GetSecretValue', stage === 'AWSCURRENT' ? secretId : `${secretId} (${stage})`, () =>
    secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage })),
  );
  return { ...(answer.VersionId !== undefined ? { versionId: answer.VersionId } : {}), ...(answer.SecretString !== undefined ? { secretString: answer.SecretString } : {}) };
}

/**
 * One Secrets Manager call, its failure named (awsCall's classification). A call that got no answer
 * in time (shared/clients.ts turns a silent endpoint into EndpointTimeout) becomes
 * SecretsManagerUnreachable: the VPC has no route to the endpoint.
 */
export async function secretsManagerCall<T>(call: string, resource: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    const classified = classifyAwsError(error, call, resource);
    if ((error as { name?: unknown } | null)?.name === 'EndpointTimeout') {
      throw new SecretsManagerUnreachable(`${classified.message}. A rotation function in a VPC needs the Secrets Manager endpoint of its region (com.amazonaws.<region>.secretsmanager)`, {
        cause: classified.cause,
      });
    }
    throw classified;
  }
}

// ---------------------------------------------------------------------------------------------------
// Secrets Manager's rotation contract, as both rotation functions (shared/rotation.ts for database
// credentials, shared/api-key-rotation.ts for the API key set) read it.

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** What Secrets Manager sends a rotation function. */
export interface RotationEvent {
  SecretId: string;
  ClientRequestToken: string;
  Step: RotationStep;
}

/** A rotated secret as DescribeSecret shows it: `versions` maps each version id to its staging labels. */
export interface RotatedSecretState {
  arn: string;
  name: string;
  rotationEnabled: boolean;
  versions: Record<string, string[]>;
}

/** DescribeSecret of a secret being rotated. Throws the errors of secretsManagerCall. AWS: secretsmanager:DescribeSecret. */
export async function describeRotatedSecret(secrets: SecretsManagerClient, secretId: string): Promise<RotatedSecretState> {
  const answer = await secretsManagerCall('secretsmanager:DescribeSecret', secretId, () => secrets.send(new DescribeSecretCommand({ SecretId: secretId })));
  return {
    arn: answer.ARN ?? secretId,
    name: answer.Name ?? secretId,
    rotationEnabled: answer.RotationEnabled === true,
    versions: answer.VersionIdsToStages ?? {},
  };
}

/**
 * Removes AWSPENDING from the finished version `token`. Secrets Manager's own rotation leaves no
 * AWSPENDING behind either; doing it here makes a rotation finished by hand, or resumed, end in the
 * same state (a lingering AWSPENDING makes the next RotateSecret think a rotation is still in
 * progress). AWS: secretsmanager:UpdateSecretVersionStage.
 */
export async function removePendingLabel(secrets: SecretsManagerClient, secretId: string, token: string): Promise<void> {
  await secretsManagerCall('secretsmanager:UpdateSecretVersionStage', `${secretId} (AWSPENDING from ${token})`, () =>
    secrets.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: token })),
  );
}

/**
 * The text of the version carrying `stage` (with `versionId`: that version), or undefined when there is
 * none, or when it has no value yet (Secrets Manager creates a rotation's version empty, until
 * createSecret stores one). Always read with the stage: a read without one can return the old value
 * right after the labels moved. AWS: secretsmanager:GetSecretValue.
 */
export async function readRotationVersion(secrets: SecretsManagerClient, secretId: string, stage: 'AWSCURRENT' | 'AWSPENDING' | 'AWSPREVIOUS', versionId?: string): Promise<{ text: string; what: string } | undefined> {
  const what = `${secretId} (${stage}${versionId ? ` ${versionId}` : ''})`;
  try {
    const answer = await secretsManagerCall('secretsmanager:GetSecretValue', what, () =>
      secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage, ...(versionId ? { VersionId: versionId } : {}) })),
    );
    return answer.SecretString === undefined ? undefined : { text: answer.SecretString, what };
  } catch (error) {
    if (error instanceof ResourceNotFound) return undefined;
    throw error;
  }
}
