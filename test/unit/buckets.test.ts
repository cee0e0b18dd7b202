import {
  AccessDenied,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  NoSuchBucket,
  S3Client,
  S3ServiceException,
  type BucketLocationConstraint,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { normaliseBucketRegion, verifyBucket, verifyBuckets } from '../../shared/buckets.js';
import type { BucketConfig } from '../../shared/config.js';
import { AwsAccessDenied, AwsTransientError, ResourceNotFound } from '../../shared/errors.js';
import type { Check } from '../../shared/report.js';
import { exampleConfig } from '../support/fixtures.js';

// The source bucket lives in the primary region; the replication destination is looked up with a
// client for the recovery region.
const source = new S3Client({ region: 'us-west-2', maxAttempts: 1 });
const destination = new S3Client({ region: 'us-east-1', maxAttempts: 1 });
const sourceMock = mockClient(source);
const destinationMock = mockClient(destination);
const regionsAsked: string[] = [];
const s3ForRegion = (region: string): S3Client => {
  regionsAsked.push(region);
  if (region === 'us-west-2') return source;
  if (region === 'us-east-1') return destination;
  throw new Error(`no S3 client prepared for ${region}`);
};

const bucket: BucketConfig = exampleConfig().buckets.find((b) => b.name === 'frontier-app-backups')!;
const RESOURCE = 's3://frontier-app-backups (application data)';
const DESTINATION_ARN = 'arn:aws:s3:::frontier-app-backups-replica';

const s3Error = (name: string, status: number, fault: 'client' | 'server' = 'client') =>
  new S3ServiceException({ name, $fault: fault, $metadata: { httpStatusCode: status }, message: `${name} from S3` });

function lifecycle(rules: LifecycleRule[]) {
  sourceMock.on(GetBucketLifecycleConfigurationCommand).resolves({ Rules: rules });
}

function replicatingTo(constraint: BucketLocationConstraint | undefined, status: 'Enabled' | 'Disabled' = 'Enabled') {
  sourceMock.on(GetBucketReplicationCommand).resolves({
    ReplicationConfiguration: {
      Role: 'arn:aws:iam::123456789012:role/s3-replication',
      Rules: [{ ID: 'to-recovery', Status: status, Destination: { Bucket: DESTINATION_ARN } }],
    },
  });
  destinationMock.on(GetBucketLocationCommand).resolves({ LocationConstraint: constraint });
}

function healthyBucket() {
  sourceMock.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' });
  replicatingTo('us-east-1' as BucketLocationConstraint);
  lifecycle([{ ID: 'expire-old-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 120 } }]);
}

function check(checks: Check[], name: string): Check {
  const found = checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name} in ${checks.map((c) => c.name).join(', ')}`);
  return found;
}

beforeEach(() => {
  sourceMock.reset();
  destinationMock.reset();
  regionsAsked.length = 0;
});

describe('normaliseBucketRegion', () => {
  it.each([
    [undefined, 'us-east-1'],
    [null, 'us-east-1'],
    ['', 'us-east-1'],
    ['EU', 'eu-west-1'],
    ['eu-central-1', 'eu-central-1'],
  ])('reads %p as %s', (constraint, region) => {
    expect(normaliseBucketRegion(constraint)).toBe(region);
  });
});

describe('verifyBucket', () => {
  it('passes versioning, replication and retention for a healthy bucket', async () => {
    // Prepare
    healthyBucket();

    // Act
    const checks = await verifyBucket(bucket, s3ForRegion);

    // Assess
    expect(checks.map((c) => [c.name, c.passed])).toEqual([
      ['bucket-versioning', true],
      ['bucket-replication', true],
      ['bucket-retention', true],
    ]);
    expect(checks.every((c) => c.resource === RESOURCE)).toBe(true);
    expect(check(checks, 'bucket-replication').measured).toBe('replicating to frontier-app-backups-replica in us-east-1');
    expect(check(checks, 'bucket-retention').measured).toBe('shortest expiration 120 days');
    expect(sourceMock).toHaveReceivedCommandWith(GetBucketVersioningCommand, { Bucket: 'frontier-app-backups' });
    // The destination's region is asked of the destination bucket, by name (not ARN).
    expect(destinationMock).toHaveReceivedCommandWith(GetBucketLocationCommand, { Bucket: 'frontier-app-backups-replica' });
    expect(regionsAsked).toEqual(expect.arrayContaining(['us-west-2', 'us-east-1']));
  });

  describe('versioning', () => {
    it.each([
      ['Suspended', 'Suspended'],
      ['never enabled', undefined],
    ])('fails when versioning is %s, with the command that fixes it', async (measured, status) => {
      healthyBucket();
      sourceMock.on(GetBucketVersioningCommand).resolves(status ? { Status: status as 'Suspended' } : {});

      const checks = await verifyBucket(bucket, s3ForRegion);

      expect(check(checks, 'bucket-versioning')).toMatchObject({ passed: false, measured, target: 'Enabled' });
      expect(check(checks, 'bucket-versioning').message).toContain('put-bucket-versioning --bucket frontier-app-backups');
    });

    it('is not checked when the config does not require it', async () => {
      healthyBucket();
      sourceMock.on(GetBucketVersioningCommand).resolves({});

      const checks = await verifyBucket({ ...bucket, requireVersioning: false }, s3ForRegion);

      expect(checks.map((c) => c.name)).toEqual(['bucket-replication', 'bucket-retention']);
    });
  });

  describe('replication', () => {
    it('fails when the bucket has no replication configuration', async () => {
      healthyBucket();
      sourceMock.on(GetBucketReplicationCommand).rejects(s3Error('ReplicationConfigurationNotFoundError', 404));

      const checks = await verifyBucket(bucket, s3ForRegion);

      expect(check(checks, 'bucket-replication')).toMatchObject({
        passed: false,
        measured: 'no replication configuration',
        target: 'enabled rule replicating to a bucket in us-east-1',
      });
      expect(check(checks, 'bucket-replication').message).toContain('lost with us-west-2');
      expect(destinationMock).not.toHaveReceivedCommand(GetBucketLocationCommand);
    });

    it('fails when every rule is disabled', async () => {
      healthyBucket();
      replicatingTo('us-east-1' as BucketLocationConstraint, 'Disabled');

      const checks = await verifyBucket(bucket, s3ForRegion);

      expect(check(checks, 'bucket-replication')).toMatchObject({ passed: false, measured: 'all rules disabled' });
      expect(destinationMock).not.toHaveReceivedCommand(GetBucketLocationCommand);
    });

    it('fails when the destination is in another region than the recovery region', async () => {
      healthyBucket();
      replicatingTo('us-west-1');

      const checks = await verifyBucket(bucket, s3ForRegion);

      expect(check(checks, 'bucket-replication')).toMatchObject({
        passed: false,
        measured: 'replicating to frontier-app-backups-replica (us-west-1)',
      });
      expect(check(checks, 'bucket-replication').message).toContain('not to us-east-1');
    });

    it('reads an empty location constraint as us-east-1', async () => {
      healthyBucket();
      replicatingTo(undefined);

      const checks = await verifyBucket(bucket, s3ForRegion);

      expect(check(checks, 'bucket-replication')).toMatchObject({ passed: true, measured: 'replicating to frontier-app-backups-replica in us-east-1' });
    });

    it('reads the legacy EU constraint as eu-west-1', async () => {
      const european = { ...bucket, replicationRegion: 'eu-west-1' };
      healthyBucket();
      replicatingTo('EU');

      // The destination client stands in for eu-west-1: only its answer matters here.
      const checks = await verifyBucket(european, (region) => (region === 'us-west-2' ? source : destination));

      expect(check(checks, 'bucket-replication')).toMatchObject({ passed: true, measured: 'replicating to frontier-app-backups-replica in eu-west-1' });
    });

    it('passes when one of several enabled rules reaches the recovery region', async () => {
      healthyBucket();
      sourceMock.on(GetBucketReplicationCommand).resolves({
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::123456789012:role/s3-replication',
          Rules: [
            { ID: 'same-region-copy', Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::frontier-app-backups-srr' } },
            { ID: 'to-recovery', Status: 'Enabled', Destination: { Bucket: DESTINATION_ARN } },
          ],
        },
      });
      destinationMock
        .on(GetBucketLocationCommand, { Bucket: 'frontier-app-backups-srr' })
        .resolves({ LocationConstraint: 'us-west-2' })
        .on(GetBucketLocationCommand, { Bucket: 'frontier-app-backups-replica' })
        .resolves({ LocationConstraint: undefined });

      const checks = await verifyBucket(bucket, s3ForRegion);

      expect(check(checks, 'bucket-replication')).toMatchObject({ passed: true, measured: 'replicating to frontier-app-backups-replica in us-east-1' });
    });

    it('is not checked when the config expects no replication', async () => {
      healthyBucket();
      const { replicationRegion: _unused, ...unreplicated } = bucket;

      const checks = await verifyBucket(unreplicated, s3ForRegion);

      expect(checks.map((c) => c.name)).toEqual(['bucket-versioning', 'bucket-retention']);
      expect(sourceMock).not.toHaveReceivedCommand(GetBucketReplicationCommand);
    });
  });

  describe('retention', () => {
    it('passes when the bucket has no lifecycle configuration (objects are kept)', async () => {
      healthyBucket();
      sourceMock.on(GetBucketLifecycleConfigurationCommand).rejects(s3Error('NoSuchLifecycleConfiguration', 404));

      const checks = await verifyBucket(bucket, s3ForRegion);

      expect(check(checks, 'bucket-retention')).toMatchObject({
        passed: true,
        measured: 'no expiration rule (kept indefinitely)',
        target: 'objects kept >= 90 days',
      });
    });

    it.each([
      ['current versions', { Expiration: { Days: 30 } }],
      ['noncurrent versions', { NoncurrentVersionExpiration: { NoncurrentDays: 30 } }],
    ])('fails when a rule expires %s sooner than the retention', async (_label, rule) => {
      healthyBucket();
      lifecycle([
        { ID: 'long', Status: 'Enabled', Expiration: { Days: 365 } },
        { ID: 'short', Status: 'Enabled', ...rule },
      ]);

      const checks = await verifyBucket(bucket, s3ForRegion);

      expect(check(checks, 'bucket-retention')).toMatchObject({ passed: false, measured: 'shortest expiration 30 days' });
      expect(check(checks, 'bucket-retention').message).toContain('before the 90-day retention');
    });

    it('passes when expiration equals or exceeds the retention, and ignores disabled rules', async () => {
      healthyBucket();
      lifecycle([
        { ID: 'exact', Status: 'Enabled', Expiration: { Days: 90 } },
        { ID: 'noncurrent', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 400 } },
        { ID: 'old-experiment', Status: 'Disabled', Expiration: { Days: 1 } },
      ]);

      const checks = await verifyBucket(bucket, s3ForRegion);

      expect(check(checks, 'bucket-retention')).toMatchObject({ passed: true, measured: 'shortest expiration 90 days' });
    });
  });

  it('reports a missing bucket as a single failed check and asks nothing more', async () => {
    sourceMock.on(GetBucketVersioningCommand).rejects(new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'The specified bucket does not exist' }));

    const checks = await verifyBucket(bucket, s3ForRegion);

    expect(checks).toEqual([
      expect.objectContaining({ name: 'bucket-exists', resource: RESOURCE, measured: 'not found', passed: false }),
    ]);
    expect(checks[0]!.message).toContain('frontier-app-backups does not exist in us-west-2');
    expect(sourceMock).not.toHaveReceivedCommand(GetBucketReplicationCommand);
    expect(sourceMock).not.toHaveReceivedCommand(GetBucketLifecycleConfigurationCommand);
  });

  it('reports a replication destination it may not read, or that no longer exists, as a failed check', async () => {
    healthyBucket();
    destinationMock.on(GetBucketLocationCommand).rejects(new AccessDenied({ $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));

    const denied = await verifyBucket(bucket, s3ForRegion);

    expect(denied.find((c) => c.name === 'bucket-replication')).toMatchObject({
      passed: false,
      measured: 'replicating to frontier-app-backups-replica (region unknown: access denied)',
    });

    destinationMock.on(GetBucketLocationCommand).rejects(new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'The specified bucket does not exist' }));
    const gone = await verifyBucket(bucket, s3ForRegion);
    expect(gone.find((c) => c.name === 'bucket-replication')).toMatchObject({ passed: false, measured: 'replicating to frontier-app-backups-replica (does not exist)' });
  });

  describe('faults on every call', () => {
    const calls = {
      GetBucketVersioning: ['frontier-app-backups', () => sourceMock.on(GetBucketVersioningCommand)],
      GetBucketReplication: ['frontier-app-backups', () => sourceMock.on(GetBucketReplicationCommand)],
      GetBucketLocation: ['frontier-app-backups-replica', () => destinationMock.on(GetBucketLocationCommand)],
      GetBucketLifecycleConfiguration: ['frontier-app-backups', () => sourceMock.on(GetBucketLifecycleConfigurationCommand)],
    } as const;
    const names = Object.keys(calls) as (keyof typeof calls)[];

    // The replication destination is reported as a finding instead (see the tests above/below).
    it.each(names.filter((n) => n !== 'GetBucketLocation'))('AccessDenied on %s becomes AwsAccessDenied naming the call and bucket', async (call) => {
      healthyBucket();
      const [resource, stub] = calls[call];
      stub().rejects(new AccessDenied({ $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));

      const failure = verifyBucket(bucket, s3ForRegion);

      await expect(failure).rejects.toThrow(AwsAccessDenied);
      await expect(failure).rejects.toThrow(`s3:${call} on ${resource}`);
    });

    it.each(names)('SlowDown (503) on %s becomes AwsTransientError naming the call', async (call) => {
      healthyBucket();
      const [resource, stub] = calls[call];
      stub().rejects(s3Error('SlowDown', 503, 'server'));

      const failure = verifyBucket(bucket, s3ForRegion);

      await expect(failure).rejects.toThrow(AwsTransientError);
      await expect(failure).rejects.toThrow(`s3:${call} on ${resource} failed temporarily (SlowDown)`);
    });

    it('a "no configuration" answer is a finding only for the call it belongs to', async () => {
      // A lifecycle-style answer from GetBucketReplication is not silently treated as "none".
      healthyBucket();
      sourceMock.on(GetBucketReplicationCommand).rejects(s3Error('NoSuchLifecycleConfiguration', 404));

      await expect(verifyBucket(bucket, s3ForRegion)).rejects.toMatchObject({ name: 'ResourceNotFound' });
    });
  });
});

describe('verifyBuckets', () => {
  const second: BucketConfig = { ...bucket, name: 'frontier-app-uploads', purpose: 'uploads' };

  it('is skipped, asking S3 nothing, when the deployment configures no bucket', async () => {
    const result = await verifyBuckets([], s3ForRegion);

    expect(result).toEqual({ data: { buckets: [] }, checks: [], detail: 'no bucket configured', status: 'skipped' });
    expect(sourceMock.calls()).toHaveLength(0);
    expect(regionsAsked).toEqual([]);
  });

  it('checks every bucket in config order and counts the passed checks', async () => {
    healthyBucket();
    sourceMock.on(GetBucketVersioningCommand, { Bucket: second.name }).resolves({ Status: 'Suspended' });

    const result = await verifyBuckets([bucket, second], s3ForRegion);

    expect(result.status).toBeUndefined();
    expect(result.data).toEqual({ buckets: ['frontier-app-backups', 'frontier-app-uploads'] });
    expect(result.checks!.map((c) => [c.name, c.resource, c.passed])).toEqual([
      ['bucket-versioning', RESOURCE, true],
      ['bucket-replication', RESOURCE, true],
      ['bucket-retention', RESOURCE, true],
      ['bucket-versioning', 's3://frontier-app-uploads (uploads)', false],
      ['bucket-replication', 's3://frontier-app-uploads (uploads)', true],
      ['bucket-retention', 's3://frontier-app-uploads (uploads)', true],
    ]);
    expect(result.detail).toBe('5/6 checks passed');
  });

  it('reports a missing bucket as a failed check and goes on with the next', async () => {
    healthyBucket();
    sourceMock.on(GetBucketVersioningCommand, { Bucket: bucket.name }).rejects(new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'The specified bucket does not exist' }));

    const result = await verifyBuckets([bucket, second], s3ForRegion);

    expect(result.checks!.map((c) => c.name)).toEqual(['bucket-exists', 'bucket-versioning', 'bucket-replication', 'bucket-retention']);
    expect(result.detail).toBe('3/4 checks passed');
  });

  describe('faults on every call fail the step with a named error', () => {
    const stubs = {
      GetBucketVersioning: () => sourceMock.on(GetBucketVersioningCommand, { Bucket: second.name }),
      GetBucketReplication: () => sourceMock.on(GetBucketReplicationCommand, { Bucket: second.name }),
      GetBucketLocation: () => destinationMock.on(GetBucketLocationCommand),
      GetBucketLifecycleConfiguration: () => sourceMock.on(GetBucketLifecycleConfigurationCommand, { Bucket: second.name }),
    } as const;
    const faults = [
      ['throttling', () => s3Error('SlowDown', 503, 'server'), AwsTransientError],
      ['a 5xx', () => s3Error('InternalError', 500, 'server'), AwsTransientError],
      ['a timeout', () => Object.assign(new Error('connect ETIMEDOUT 52.216.1.1:443'), { name: 'TimeoutError', code: 'ETIMEDOUT' }), AwsTransientError],
      ['AccessDenied', () => new AccessDenied({ $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }), AwsAccessDenied],
      ['an unexpected not-found', () => s3Error('NoSuchKey', 404), ResourceNotFound],
    ] as const;
    const cases = (Object.keys(stubs) as (keyof typeof stubs)[]).flatMap((call) =>
      faults
        // Findings, not failures (tested above): a missing bucket, and a replication destination denied or gone.
        .filter(([label]) => (call !== 'GetBucketLocation' || label !== 'AccessDenied') && (call === 'GetBucketReplication' || call === 'GetBucketLifecycleConfiguration' || label !== 'an unexpected not-found'))
        .map(([label, fault, expected]) => [call, label, expected.name, fault, expected] as const),
    );

    it.each(cases)('%s: %s becomes %s', async (call, _label, _name, fault, expected) => {
      healthyBucket();
      stubs[call]().rejects(fault());

      const failure = verifyBuckets([bucket, second], s3ForRegion);

      await expect(failure).rejects.toThrow(expected);
      await expect(failure).rejects.toThrow(`s3:${call} on`);
    });
  });
});
