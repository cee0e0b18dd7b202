import { DBInstanceNotFoundFault, DBSnapshotNotFoundFault, RDSServiceException } from '@aws-sdk/client-rds';
import { NoSuchBucket, S3ServiceException } from '@aws-sdk/client-s3';
import { ResourceNotFoundException, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import {
  awsCall,
  AwsAccessDenied,
  AwsTransientError,
  classifyAwsError,
  InvalidConfig,
  RecoveryError,
  ResourceNotFound,
  UnexpectedResourceState,
} from '../../shared/errors.js';

const CALL = 'rds:DescribeDBInstances';
const RESOURCE = 'frontier-prod in us-west-2';

const rdsError = (name: string, status: number, fault: 'client' | 'server' = 'client') =>
  new RDSServiceException({ name, $fault: fault, $metadata: { httpStatusCode: status }, message: `${name} happened` });

const networkError = (code: string, name = 'Error') => Object.assign(new Error(`connect ${code} rds.us-west-2.amazonaws.com`), { name, code });

/** Asserts the classification and what every classified error must carry: call, resource and cause. */
function expectClassified(error: unknown, expected: typeof RecoveryError, expectedName: string): RecoveryError {
  const classified = classifyAwsError(error, CALL, RESOURCE);
  expect(classified).toBeInstanceOf(expected);
  expect(classified.constructor).toBe(expected);
  expect(classified.name).toBe(expectedName);
  expect(classified.message).toContain(`${CALL} on ${RESOURCE}`);
  expect(classified.cause).toBe(error);
  return classified;
}

describe('classifyAwsError', () => {
  describe('transient faults (retried by the state machines)', () => {
    it.each(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'SlowDown', 'RequestLimitExceeded'])(
      'treats %s as AwsTransientError',
      (name) => {
        const classified = expectClassified(rdsError(name, 400), AwsTransientError, 'AwsTransientError');
        expect(classified.message).toContain(`failed temporarily (${name})`);
      },
    );

    it('treats any 429 as throttling, whatever the name', () => {
      expectClassified(rdsError('SomethingNew', 429), AwsTransientError, 'AwsTransientError');
    });

    it.each([
      [500, 'InternalFailure'],
      [502, 'BadGateway'],
      [503, 'ServiceUnavailable'],
      [504, 'GatewayTimeout'],
      [501, 'NotImplementedYet'],
    ])('treats a %i server fault (%s) as AwsTransientError', (status, name) => {
      expectClassified(rdsError(name, status, 'server'), AwsTransientError, 'AwsTransientError');
    });

    it.each(['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])(
      'treats the Node network error %s (no $metadata) as AwsTransientError',
      (code) => {
        expectClassified(networkError(code), AwsTransientError, 'AwsTransientError');
      },
    );

    it('treats the SDK timeout error as AwsTransientError', () => {
      expectClassified(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), AwsTransientError, 'AwsTransientError');
    });

    it('treats a fault whose cause is a network error as AwsTransientError', () => {
      const wrapped = new Error('request failed', { cause: networkError('ECONNRESET') });

      expectClassified(wrapped, AwsTransientError, 'AwsTransientError');
    });
  });

  describe('access denied (a deployment problem, never retried)', () => {
    it.each(['AccessDenied', 'UnauthorizedOperation', 'ExpiredToken', 'KMSAccessDeniedFault', 'InvalidClientTokenId'])(
      'treats %s as AwsAccessDenied and says the role needs the permission',
      (name) => {
        const classified = expectClassified(rdsError(name, 400), AwsAccessDenied, 'AwsAccessDenied');
        expect(classified.message).toContain(`was denied (${name}): the function's IAM role needs this permission`);
      },
    );

    it('treats any 403 as AwsAccessDenied, whatever the name', () => {
      expectClassified(rdsError('Forbidden', 403), AwsAccessDenied, 'AwsAccessDenied');
    });

    it.each([
      ['JSON-protocol services answer 400', 400],
      ['with a 403', 403],
    ])('treats AccessDeniedException (%s) as AwsAccessDenied', (_label, status) => {
      const denied = new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: status },
        message: 'User is not authorized to perform secretsmanager:GetSecretValue',
      });

      expectClassified(denied, AwsAccessDenied, 'AwsAccessDenied');
    });
  });

  describe('not found', () => {
    it.each([
      ['DBInstanceNotFoundFault', new DBInstanceNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'DBInstance x not found.' })],
      ['DBSnapshotNotFoundFault', new DBSnapshotNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'DBSnapshot x not found.' })],
      ['NoSuchBucket', new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'The specified bucket does not exist' })],
      ['ResourceNotFoundException', new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: "Secrets Manager can't find the secret." })],
      ['DBInstanceNotFound (name only, status 400)', rdsError('DBInstanceNotFound', 400)],
    ])('treats %s as ResourceNotFound', (_label, error) => {
      const classified = expectClassified(error, ResourceNotFound, 'ResourceNotFound');
      expect(classified.message).toContain(': not found (');
    });

    it('treats any 404 as ResourceNotFound, whatever the name', () => {
      expectClassified(new S3ServiceException({ name: 'NoSuchThing', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: '' }), ResourceNotFound, 'ResourceNotFound');
    });
  });

  it.each([
    ['InvalidConfig', new InvalidConfig('bad config')],
    ['UnexpectedResourceState', new UnexpectedResourceState('odd state')],
    ['an already classified transient error', new AwsTransientError('x failed temporarily')],
  ])('passes %s through unchanged', (_label, error) => {
    expect(classifyAwsError(error, CALL, RESOURCE)).toBe(error);
  });

  it('turns an unknown SDK error into a RecoveryError naming the call, the resource and the error', () => {
    const error = rdsError('InvalidParameterCombination', 400);

    const classified = expectClassified(error, RecoveryError, 'RecoveryError');

    expect(classified.message).toBe(`${CALL} on ${RESOURCE} failed (InvalidParameterCombination): InvalidParameterCombination happened`);
  });

  it('turns something that is not an Error into a RecoveryError', () => {
    const classified = classifyAwsError('boom', CALL, RESOURCE);

    expect(classified.constructor).toBe(RecoveryError);
    expect(classified.message).toBe(`${CALL} on ${RESOURCE} failed (UnknownError): boom`);
    expect(classified.cause).toBe('boom');
  });

  it('does not treat a plain programming error as transient', () => {
    expectClassified(new TypeError("Cannot read properties of undefined (reading 'DBInstances')"), RecoveryError, 'RecoveryError');
  });
});

describe('awsCall', () => {
  it('returns what the call answered', async () => {
    await expect(awsCall(CALL, RESOURCE, async () => ({ DBInstances: [] }))).resolves.toEqual({ DBInstances: [] });
  });

  it('rethrows a failure as the named error', async () => {
    const failure = awsCall(CALL, RESOURCE, async () => {
      throw rdsError('Throttling', 400);
    });

    await expect(failure).rejects.toThrow(AwsTransientError);
    await expect(failure).rejects.toThrow(`${CALL} on ${RESOURCE} failed temporarily (Throttling)`);
  });
});
