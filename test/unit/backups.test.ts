import {
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DBInstanceNotFoundFault,
  RDSClient,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { listUsableSnapshots, verifyDatabaseBackups } from '../../shared/backups.js';
import { AwsAccessDenied, AwsTransientError } from '../../shared/errors.js';
import { configWith, dbInstance, exampleConfig, hoursAgo, minutesAgo, NOW, snapshot } from '../support/fixtures.js';

const primary = new RDSClient({ region: 'us-west-2', maxAttempts: 1 });
const recovery = new RDSClient({ region: 'us-east-1', maxAttempts: 1 });
const primaryMock = mockClient(primary);
const recoveryMock = mockClient(recovery);
const config = exampleConfig();
const database = config.databases[0]!;

function healthyEnvironment() {
  primaryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance('frontier-prod')] });
  primaryMock.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [snapshot('frontier-prod-20261125-0800', hoursAgo(4)), snapshot('rds:frontier-prod-2026-11-25-10-00', hoursAgo(2), { type: 'automated' })],
  });
  recoveryMock.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [snapshot('frontier-prod-20261125-0800', hoursAgo(3.5), { region: 'us-east-1' })],
  });
}

function check(result: Awaited<ReturnType<typeof verifyDatabaseBackups>>, name: string) {
  const found = result.checks!.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name} in ${result.checks!.map((c) => c.name).join(', ')}`);
  return found;
}

const throttled = () => new RDSServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
const serverError = () => new RDSServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'internal error' });
const denied = () =>
  new RDSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'User is not authorized to perform rds:Describe*' });

beforeEach(() => {
  primaryMock.reset();
  recoveryMock.reset();
});

describe('listUsableSnapshots', () => {
  it('follows every page of DescribeDBSnapshots and returns the newest first', async () => {
    // Prepare: the newest snapshot is on the last of three pages. The paginator reuses one input
    // object, so the marker sent with each call is recorded when the call is made.
    const pages = [
      { DBSnapshots: [snapshot('frontier-prod-a', hoursAgo(30))], Marker: 'page-2' },
      { DBSnapshots: [snapshot('frontier-prod-b', hoursAgo(20))], Marker: 'page-3' },
      { DBSnapshots: [snapshot('frontier-prod-c', hoursAgo(1))] },
    ];
    const markersSent: (string | undefined)[] = [];
    primaryMock.on(DescribeDBSnapshotsCommand).callsFake((input: { Marker?: string }) => {
      markersSent.push(input.Marker);
      return pages[markersSent.length - 1];
    });

    // Act
    const snapshots = await listUsableSnapshots(primary, 'us-west-2', database);

    // Assess
    expect(snapshots.map((s) => s.id)).toEqual(['frontier-prod-c', 'frontier-prod-b', 'frontier-prod-a']);
    expect(markersSent).toEqual([undefined, 'page-2', 'page-3']);
    expect(primaryMock).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { DBInstanceIdentifier: 'frontier-prod' });
  });

  it('keeps available automated snapshots and prefixed manual ones, and nothing else', async () => {
    primaryMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        snapshot('frontier-prod-creating', hoursAgo(0.1), { status: 'creating' }),
        snapshot('someone-elses-manual', hoursAgo(0.5)),
        snapshot('frontier-prod-failed', hoursAgo(0.7), { status: 'failed' }),
        snapshot('rds:frontier-prod-2026-11-25-11-00', hoursAgo(1), { type: 'automated' }),
        snapshot('frontier-prod-20261125-0800', hoursAgo(4)),
      ],
    });

    const snapshots = await listUsableSnapshots(primary, 'us-west-2', database);

    expect(snapshots.map((s) => [s.id, s.type])).toEqual([
      ['rds:frontier-prod-2026-11-25-11-00', 'automated'],
      ['frontier-prod-20261125-0800', 'manual'],
    ]);
  });
});

describe('verifyDatabaseBackups', () => {
  it('passes every check for a healthy database and measures the RPO exposure', async () => {
    healthyEnvironment();

    const result = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);

    expect(result.checks!.filter((c) => !c.passed)).toEqual([]);
    expect(result.checks!.map((c) => c.name)).toEqual([
      'newest-snapshot-age',
      'encryption',
      'backup-retention',
      'point-in-time-recovery',
      'recovery-region-copy',
    ]);
    expect(result.data.newestSnapshot).toBe('rds:frontier-prod-2026-11-25-10-00');
    expect(check(result, 'newest-snapshot-age').metric).toEqual({ name: 'BackupAgeSeconds', unit: 'Seconds', value: 7200 });
    // Point-in-time recovery (4 min behind) is the best restore point in the primary region.
    expect(result.objectives![0]).toMatchObject({ component: 'Database', measuredRpoMinutes: 4, met: true });
    // In the recovery region only the 3.5-hour-old copy exists: a region failover would miss the RPO.
    expect(result.objectives![1]).toMatchObject({ component: 'Database', measuredRpoMinutes: 210, met: false });
  });

  it('fails the age check when the newest snapshot is older than the interval plus tolerance', async () => {
    healthyEnvironment();
    primaryMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-old', hoursAgo(5.5))] });

    const result = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);

    const age = check(result, 'newest-snapshot-age');
    expect(age).toMatchObject({ passed: false, measured: '5.5 h (frontier-prod-old)', target: '<= 5.0 h' });
    expect(age.message).toContain('not running');
  });

  it('reports a database with no usable snapshot at all', async () => {
    healthyEnvironment();
    primaryMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-x', hoursAgo(1), { status: 'creating' })] });

    const result = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);

    expect(check(result, 'newest-snapshot-age')).toMatchObject({ passed: false, measured: 'no usable snapshot' });
  });

  it('names each unencrypted snapshot', async () => {
    healthyEnvironment();
    primaryMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [snapshot('frontier-prod-new', hoursAgo(1)), snapshot('frontier-prod-plain', hoursAgo(9), { encrypted: false })],
    });

    const result = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);

    const encryption = check(result, 'encryption');
    expect(encryption.passed).toBe(false);
    expect(encryption.measured).toBe('1 of 2 snapshots are unencrypted (frontier-prod-plain)');
  });

  it('fails encryption when the instance storage is not encrypted', async () => {
    healthyEnvironment();
    primaryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance('frontier-prod', { StorageEncrypted: false })] });

    const result = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);

    expect(check(result, 'encryption')).toMatchObject({ passed: false, measured: 'instance storage is not encrypted' });
  });

  it('fails when point-in-time recovery is off, and when it lags beyond the RPO', async () => {
    healthyEnvironment();
    primaryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance('frontier-prod', { BackupRetentionPeriod: 0 })] });
    const off = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);
    expect(check(off, 'point-in-time-recovery')).toMatchObject({ passed: false, measured: 'disabled (backup retention 0)' });
    expect(check(off, 'backup-retention')).toMatchObject({ passed: false, measured: '0 days', target: '>= 30 days' });

    primaryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance('frontier-prod', { LatestRestorableTime: minutesAgo(16) })] });
    const lagging = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);
    expect(check(lagging, 'point-in-time-recovery')).toMatchObject({ passed: false, measured: 'latest restorable time 16 min ago' });
  });

  it('fails the recovery-region check when the copy is stale, missing, or unencrypted', async () => {
    healthyEnvironment();
    recoveryMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-copy', hoursAgo(26), { region: 'us-east-1' })] });
    const stale = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);
    expect(check(stale, 'recovery-region-copy')).toMatchObject({ passed: false, measured: '26.0 h (frontier-prod-copy)' });

    recoveryMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    const missing = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);
    expect(check(missing, 'recovery-region-copy')).toMatchObject({ passed: false, measured: 'no copy' });
    expect(missing.objectives![1]).toMatchObject({ measuredRpoMinutes: null, met: null });

    recoveryMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-copy', hoursAgo(1), { region: 'us-east-1', encrypted: false })] });
    const plain = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);
    expect(check(plain, 'recovery-region-copy').passed).toBe(false);
    expect(check(plain, 'recovery-region-copy').message).toContain('unencrypted');
  });

  it('records a missing source instance as a finding and still checks its snapshots', async () => {
    healthyEnvironment();
    primaryMock.on(DescribeDBInstancesCommand).rejects(new DBInstanceNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'DBInstance frontier-prod not found.' }));

    const result = await verifyDatabaseBackups(config, database, { primary, recovery }, NOW);

    expect(check(result, 'database-instance')).toMatchObject({ passed: false, measured: 'not found' });
    expect(check(result, 'newest-snapshot-age').passed).toBe(true);
    expect(result.checks!.some((c) => c.name === 'point-in-time-recovery')).toBe(false);
  });

  describe('automated-backup replication', () => {
    const replicating = configWith((c) => {
      c.databases[0]!.requireAutomatedBackupReplication = true;
    });

    it('passes when the recovery region holds replicated backups within the RPO', async () => {
      healthyEnvironment();
      recoveryMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
        DBInstanceAutomatedBackups: [
          { DBInstanceArn: 'arn:aws:rds:us-west-2:123456789012:db:other', DBInstanceIdentifier: 'other', Status: 'replicating' },
          {
            DBInstanceArn: 'arn:aws:rds:us-west-2:123456789012:db:frontier-prod',
            DBInstanceIdentifier: 'frontier-prod',
            Status: 'replicating',
            RestoreWindow: { EarliestTime: hoursAgo(200), LatestTime: minutesAgo(9) },
          },
        ],
      });

      const result = await verifyDatabaseBackups(replicating, replicating.databases[0]!, { primary, recovery }, NOW);

      expect(check(result, 'automated-backup-replication')).toMatchObject({ passed: true, measured: 'restorable to 9 min ago' });
      // The replicated backups (9 min) beat the 3.5-hour copy for a region failover.
      expect(result.objectives![1]).toMatchObject({ measuredRpoMinutes: 9, met: true });
    });

    it('fails when nothing is replicated', async () => {
      healthyEnvironment();
      recoveryMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({ DBInstanceAutomatedBackups: [] });

      const result = await verifyDatabaseBackups(replicating, replicating.databases[0]!, { primary, recovery }, NOW);

      expect(check(result, 'automated-backup-replication')).toMatchObject({ passed: false, measured: 'not replicated' });
    });

    it.each([
      ['throttling', throttled, AwsTransientError],
      ['AccessDenied', denied, AwsAccessDenied],
    ])('turns %s on DescribeDBInstanceAutomatedBackups into a named error', async (_label, fault, expected) => {
      healthyEnvironment();
      recoveryMock.on(DescribeDBInstanceAutomatedBackupsCommand).rejects(fault());

      await expect(verifyDatabaseBackups(replicating, replicating.databases[0]!, { primary, recovery }, NOW)).rejects.toThrow(expected);
    });
  });

  describe('faults on every call', () => {
    const cases = [
      ['DescribeDBInstances (primary)', () => primaryMock.on(DescribeDBInstancesCommand)],
      ['DescribeDBSnapshots (primary)', () => primaryMock.on(DescribeDBSnapshotsCommand)],
      ['DescribeDBSnapshots (recovery)', () => recoveryMock.on(DescribeDBSnapshotsCommand)],
    ] as const;

    it.each(cases)('throttling on %s becomes AwsTransientError (retried by the state machine)', async (_label, stub) => {
      healthyEnvironment();
      stub().rejects(throttled());
      const failure = verifyDatabaseBackups(config, database, { primary, recovery }, NOW);
      await expect(failure).rejects.toThrow(AwsTransientError);
      await expect(failure).rejects.toMatchObject({ name: 'AwsTransientError' });
    });

    it.each(cases)('a 5xx on %s becomes AwsTransientError', async (_label, stub) => {
      healthyEnvironment();
      stub().rejects(serverError());
      await expect(verifyDatabaseBackups(config, database, { primary, recovery }, NOW)).rejects.toThrow(AwsTransientError);
    });

    it.each(cases)('AccessDenied on %s becomes AwsAccessDenied naming the call', async (label, stub) => {
      healthyEnvironment();
      stub().rejects(denied());
      const failure = verifyDatabaseBackups(config, database, { primary, recovery }, NOW);
      await expect(failure).rejects.toThrow(AwsAccessDenied);
      await expect(failure).rejects.toThrow(`rds:${label.split(' ')[0]} on frontier-prod`);
    });

    it('a network timeout becomes AwsTransientError', async () => {
      healthyEnvironment();
      const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
      primaryMock.on(DescribeDBSnapshotsCommand).rejects(timeout);
      await expect(verifyDatabaseBackups(config, database, { primary, recovery }, NOW)).rejects.toThrow(AwsTransientError);
    });

    it('a missing snapshot list in the recovery region is not mistaken for a missing database', async () => {
      healthyEnvironment();
      recoveryMock.on(DescribeDBSnapshotsCommand).rejects(new DBInstanceNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'not found' }));
      await expect(verifyDatabaseBackups(config, database, { primary, recovery }, NOW)).rejects.toMatchObject({ name: 'ResourceNotFound' });
    });
  });
});
