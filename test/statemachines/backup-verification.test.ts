// The real backup-verification definition, every Task bound to its real handler; AWS answered by
// client mocks (this tier injects faults; the integration tier runs against moto).
import {
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSServiceException,
  type DBSnapshot,
} from '@aws-sdk/client-rds';
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { PublishCommand, SNSServiceException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { rdsClient, s3Client, snsClient } from '../../shared/clients.js';
import { configWith, dbInstance, exampleConfig, hoursAgo, minutesAgo, snapshot, useConfig } from '../support/fixtures.js';
import { scheduledEvent, stepNames, storedReports, totalAwsCalls } from '../support/state-machine-runs.js';
import { runStateMachine } from '../../local/local-state-machine.js';

const primaryRds = mockClient(rdsClient('us-west-2'));
const recoveryRds = mockClient(rdsClient('us-east-1'));
const primaryS3 = mockClient(s3Client('us-west-2'));
const recoveryS3 = mockClient(s3Client('us-east-1'));
const sns = mockClient(snsClient('us-east-1'));
const allMocks = [primaryRds, recoveryRds, primaryS3, recoveryS3, sns];
const { storedReport } = storedReports(recoveryS3);

// Times relative to the real clock: the handlers measure ages against `new Date()`.
const now = () => new Date();

function snapshotsIn(region: string, instance: string, ageHours: number): DBSnapshot[] {
  return [snapshot(`${instance}-latest`, hoursAgo(ageHours, now()), { region, instance })];
}

function healthyAws() {
  primaryRds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => ({
    DBInstances: [dbInstance(input.DBInstanceIdentifier, { LatestRestorableTime: minutesAgo(3, now()) })],
  }));
  primaryRds.on(DescribeDBSnapshotsCommand).callsFake((input: { DBInstanceIdentifier: string }) => ({
    DBSnapshots: snapshotsIn('us-west-2', input.DBInstanceIdentifier, 1),
  }));
  recoveryRds.on(DescribeDBSnapshotsCommand).callsFake((input: { DBInstanceIdentifier: string }) => ({
    DBSnapshots: snapshotsIn('us-east-1', input.DBInstanceIdentifier, 1.5),
  }));
  primaryS3.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' });
  primaryS3.on(GetBucketReplicationCommand).callsFake((input: { Bucket: string }) => ({
    ReplicationConfiguration: { Role: 'arn:aws:iam::123456789012:role/replication', Rules: [{ Status: 'Enabled', Destination: { Bucket: `arn:aws:s3:::${input.Bucket}-replica` } }] },
  }));
  primaryS3.on(GetBucketLifecycleConfigurationCommand).resolves({ Rules: [{ ID: 'expire', Status: 'Enabled', Expiration: { Days: 365 } }] });
  recoveryS3.on(GetBucketLocationCommand).resolves({});
  recoveryS3.on(PutObjectCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
}

beforeEach(() => {
  for (const mock of allMocks) mock.reset();
  useConfig(exampleConfig());
});

describe('backup-verification state machine', () => {
  it('verifies a healthy deployment, stores the report and pages nobody', async () => {
    healthyAws();

    const run = await runStateMachine('backup-verification', { databases: ['frontier-prod'] });

    expect(run.status).toBe('SUCCEEDED');
    const report = storedReport();
    expect(report).toMatchObject({ scenario: 'backup-verification', status: 'succeeded', dryRun: false, trigger: 'manual', executionId: run.executionId });
    expect(report.checks.length).toBeGreaterThanOrEqual(11);
    expect(report.checks.filter((c) => !c.passed)).toEqual([]);
    expect(stepNames(report)).toEqual(['frontier-prod: VerifyDatabaseBackups', 'VerifyBuckets']);
    // 1.5-hour-old copies cannot meet the 15-minute RPO in the recovery region: reported, not paged.
    expect(report.objectives.map((o) => o.met)).toEqual([true, false]);
    expect(recoveryS3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'frontier-prod-dr-reports',
      Key: expect.stringMatching(/^reports\/backup-verification\/\d{4}\/\d{2}\/\d{2}\/.+\.md$/),
      ContentType: 'text/markdown; charset=utf-8',
    });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(run.calls.map((c) => c.state)).not.toContain('NotifyOnCall');
  });

  it('completes and alerts, naming the check, when a backup problem is found', async () => {
    healthyAws();
    recoveryRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: snapshotsIn('us-east-1', 'frontier-prod', 30) });

    const run = await runStateMachine('backup-verification', {});

    // The verification itself completed: the run succeeded, with a failed check.
    expect(run.status).toBe('SUCCEEDED');
    const report = storedReport();
    expect(report.status).toBe('succeeded');
    expect(report.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['recovery-region-copy']);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const published = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(published.Subject).toBe('[frontier-dr] backup-verification succeeded, 1 check(s) failed');
    expect(published.Message).toContain('FAILED CHECK recovery-region-copy on frontier-prod (us-east-1)');
  });

  it('verifies the other databases when one cannot be read, and ends failed naming it', async () => {
    useConfig(
      configWith((c) => {
        c.databases.push({ ...c.databases[0]!, name: 'frontier-billing', snapshotPrefix: 'frontier-billing-', credentialsSecret: 'frontier/billing/database' });
      }),
    );
    healthyAws();
    primaryRds.on(DescribeDBSnapshotsCommand, { DBInstanceIdentifier: 'frontier-billing' }).rejects(
      new RDSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized to perform rds:DescribeDBSnapshots' }),
    );

    const run = await runStateMachine('backup-verification', {});

    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('RunFailed');
    const report = storedReport();
    expect(report.status).toBe('failed');
    expect(report.failures).toEqual([
      { step: 'frontier-billing: VerifyDatabaseBackups', error: 'AwsAccessDenied', message: expect.stringContaining('rds:DescribeDBSnapshots on frontier-billing in us-west-2 was denied') },
    ]);
    // frontier-prod was still verified.
    expect(report.checks.filter((c) => c.resource.startsWith('frontier-prod')).length).toBeGreaterThanOrEqual(5);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('retries a throttled call and completes', async () => {
    healthyAws();
    const throttling = new RDSServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
    let calls = 0;
    primaryRds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
      calls += 1;
      if (calls === 1) throw throttling;
      return { DBInstances: [dbInstance(input.DBInstanceIdentifier, { LatestRestorableTime: minutesAgo(3, now()) })] };
    });

    const run = await runStateMachine('backup-verification', {});

    expect(run.status).toBe('SUCCEEDED');
    expect(run.events.some((e) => e.type === 'StateRetried' && e.state.name === 'VerifyDatabaseBackups')).toBe(true);
    expect(storedReport().failures).toEqual([]);
  });

  it('ends failed when the buckets cannot be checked', async () => {
    healthyAws();
    primaryS3.on(GetBucketVersioningCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));

    const run = await runStateMachine('backup-verification', {});

    expect(run.status).toBe('FAILED');
    expect(storedReport().failures.map((f) => [f.step, f.error])).toEqual([['VerifyBuckets', 'AwsAccessDenied']]);
  });

  it('still completes when the alert cannot be sent', async () => {
    healthyAws();
    recoveryRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    sns.on(PublishCommand).rejects(new SNSServiceException({ name: 'AuthorizationError', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized' }));

    const run = await runStateMachine('backup-verification', {});

    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.find((c) => c.state === 'NotifyOnCall')?.error).toMatch(/^AwsAccessDenied: sns:Publish/);
    expect(storedReport().checks.some((c) => c.name === 'recovery-region-copy' && !c.passed)).toBe(true);
  });

  it('treats a scheduled EventBridge event as a scheduled run of every database', async () => {
    healthyAws();
    const run = await runStateMachine('backup-verification', scheduledEvent(new Date('2026-11-25T12:00:00Z'), 'frontier-dr-backup-verification'));

    expect(run.status).toBe('SUCCEEDED');
    expect(storedReport()).toMatchObject({ trigger: 'schedule', dryRun: false });
  });

  it("keeps each database's result in the execution state without the copy of the run it was given, and only snapshot ids", async () => {
    healthyAws();

    const run = await runStateMachine('backup-verification', {});

    expect(run.status).toBe('SUCCEEDED');
    const items = (run.output as { items: Record<string, unknown>[] }).items;
    expect(items.map((item) => Object.keys(item).sort())).toEqual([['failures', 'item', 'steps']]);
    const data = (items[0] as { steps: { VerifyDatabaseBackups: { data: Record<string, unknown> } } }).steps.VerifyDatabaseBackups.data;
    expect(data).toEqual({ database: 'frontier-prod', newestSnapshot: expect.any(String), newestRecoveryCopy: expect.any(String) });
  });

  it.each([
    [{ dryRun: 'yes' }, 'dryRun: got "yes" (string); expected boolean'],
    [{ databases: 'frontier-prod' }, 'databases: got "frontier-prod" (string); expected array'],
    [{ databases: ['frontier-typo'] }, 'databases: got ["frontier-typo"]; expected databases protected by this deployment (frontier-prod)'],
    [{ dryrun: true }, 'dryrun: got true (boolean); unknown field (a typo?)'],
    ['verify everything', '(root): got "verify everything" (string); expected object'],
  ])('refuses bad input %j in the first state, naming the field, with no AWS call', async (input, message) => {
    healthyAws();

    const run = await runStateMachine('backup-verification', input);

    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('InvalidInput');
    expect(run.error?.message).toContain(message);
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun']);
    expect(totalAwsCalls(allMocks)).toBe(0);
  });
});
