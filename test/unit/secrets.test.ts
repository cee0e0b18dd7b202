import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessDenied, AwsTransientError, InvalidConfig, ResourceNotFound } from '../../shared/errors.js';
import { fetchDatabaseCredentials } from '../../shared/secrets.js';

const secrets = new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 });
const secretsMock = mockClient(secrets);
const SECRET_ID = 'frontier/prod/database';
const PASSWORD = 'c0rrect-h0rse-battery-staple';

/** Fetches and returns the error, checking the secret value leaks nowhere in it. */
async function failureFor(secretString: string | undefined): Promise<Error> {
  secretsMock.on(GetSecretValueCommand).resolves({ Name: SECRET_ID, SecretString: secretString });
  const error = await fetchDatabaseCredentials(secrets, SECRET_ID).then(
    () => {
      throw new Error('credentials were accepted');
    },
    (e: unknown) => e as Error,
  );
  const everything = `${error.message} ${String(error.stack)} ${JSON.stringify(error)} ${String(error.cause ?? '')}`;
  expect(everything).not.toContain(PASSWORD);
  return error;
}

beforeEach(() => {
  secretsMock.reset();
});

describe('fetchDatabaseCredentials', () => {
  it('reads the AWSCURRENT version explicitly and returns username and password', async () => {
    // Prepare
    secretsMock.on(GetSecretValueCommand).resolves({ Name: SECRET_ID, SecretString: JSON.stringify({ username: 'frontier_app', password: PASSWORD, engine: 'postgres' }) });

    // Act
    const credentials = await fetchDatabaseCredentials(secrets, SECRET_ID);

    // Assess
    expect(credentials).toEqual({ username: 'frontier_app', password: PASSWORD });
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(secretsMock.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' });
  });

  it.each([
    ['plain text', PASSWORD],
    ['truncated JSON', `{"username":"frontier_app","password":"${PASSWORD}"`],
  ])('refuses a secret that is %s, without echoing it', async (_label, value) => {
    const error = await failureFor(value);

    expect(error).toBeInstanceOf(InvalidConfig);
    expect(error.message).toBe(`secret ${SECRET_ID} is not JSON: expected {"username": ..., "password": ...} as RDS stores it`);
  });

  it('refuses a binary secret (no SecretString)', async () => {
    const error = await failureFor(undefined);

    expect(error).toBeInstanceOf(InvalidConfig);
    expect(error.message).toContain('is not JSON');
  });

  it.each([
    ['no username', { password: PASSWORD }],
    ['a misspelt password field', { username: 'frontier_app', passwd: PASSWORD }],
    ['a numeric password', { username: 'frontier_app', password: 12345 }],
    ['a password under another key and a null one', { username: 'frontier_app', password: null, pw: PASSWORD }],
  ])('refuses a secret with %s, without echoing the value', async (_label, value) => {
    const error = await failureFor(JSON.stringify(value));

    expect(error).toBeInstanceOf(InvalidConfig);
    expect(error.message).toBe(`secret ${SECRET_ID} lacks string fields username and password`);
  });

  it('refuses a secret that is JSON but not an object', async () => {
    const error = await failureFor(JSON.stringify([PASSWORD]));

    expect(error).toBeInstanceOf(InvalidConfig);
  });

  it('refuses a secret whose JSON is null', async () => {
    const error = await failureFor('null');

    expect(error).toBeInstanceOf(InvalidConfig);
  });

  it('turns ResourceNotFoundException into ResourceNotFound naming the secret', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: "Secrets Manager can't find the specified secret." }));

    const failure = fetchDatabaseCredentials(secrets, SECRET_ID);

    await expect(failure).rejects.toThrow(ResourceNotFound);
    await expect(failure).rejects.toThrow(`secretsmanager:GetSecretValue on ${SECRET_ID}: not found (ResourceNotFoundException)`);
  });

  it('turns AccessDeniedException into AwsAccessDenied naming the call', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(
      new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: secretsmanager:GetSecretValue',
      }),
    );

    const failure = fetchDatabaseCredentials(secrets, SECRET_ID);

    await expect(failure).rejects.toThrow(AwsAccessDenied);
    await expect(failure).rejects.toThrow(`secretsmanager:GetSecretValue on ${SECRET_ID} was denied`);
  });

  it('turns a KMS decryption denial (403) into AwsAccessDenied', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(
      new SecretsManagerServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access to KMS is not allowed' }),
    );

    await expect(fetchDatabaseCredentials(secrets, SECRET_ID)).rejects.toThrow(AwsAccessDenied);
  });

  it('turns throttling into AwsTransientError', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(
      new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }),
    );

    await expect(fetchDatabaseCredentials(secrets, SECRET_ID)).rejects.toThrow(AwsTransientError);
  });
});
