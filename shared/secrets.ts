// Secret values are fetched inside the Lambda that needs them and never returned to Step Functions,
// whose execution history is plain text.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsCall, InvalidConfig } from './errors.js';

export interface DatabaseCredentials {
  username: string;
  password: string;
  /** Where the application connects, when the secret says (RDS-format secrets carry host and port). */
  host?: string;
  port?: number;
}

/**
 * Reads the AWSCURRENT version explicitly: without a stage, a read right after a rotation moved the
 * labels can still return the previous value.
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
