// shared/database-recovery.ts against client mocks: the assessment (restore window, restore point), the
// restore to a NEW instance named after the incident (exact parameters, dry run, adoption on resume,
// the DBInstanceAlreadyExists race), the wait's single look, the parameter-group read-only switch and
// the repoint of the connection secret; every AWS call with throttling, 5xx, AccessDenied and not-found.
import {
  DBInstanceAlreadyExistsFault,
  DBInstanceAutomatedBackupNotFoundFault,
  DBInstanceNotFoundFault,
  DBParameterGroupNotFoundFault,
  DBSnapshotNotFoundFault,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
  RDSServiceException,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
  type DBInstanceAutomatedBackup,
} from '@aws-sdk/client-rds';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { SnapshotSummary } from '../../shared/backups.js';
import {
  assessDatabase,
  describeAssessment,
  checkDatabaseRestore,
  databaseUrl,
  repointDatabaseUrl,
  recoveryConfig,
  repointConnectionSecret,
  readOnlyParameterGroupProblem,
  setReadOnlyParameter,
  startDatabaseRestore,
  stopWritesWithParameterGroup,
} from '../../shared/database-recovery.js';
import { AwsAccessDenied, AwsTransientError, DatabaseRestoreTimedOut, InvalidConfig, RecoveryError, ResourceNotFound, UnexpectedResourceState, ValidationFailed } from '../../shared/errors.js';
import { INCIDENT_TAG, SOURCE_TAG } from '../../shared/names.js';
import { refusalSqlState } from '../../shared/read-only.js';
import type { RestorePoint } from '../../shared/restore-point.js';
import { resolveRestoreSettings } from '../../shared/restore-settings.js';
import { configWith, dbInstance, exampleConfig, hoursAgo, minutesAgo, NOW, snapshot } from '../support/fixtures.js';

const rds = new RDSClient({ region: 'us-west-2', maxAttempts: 1 });
const rdsMock = mockClient(rds);
const secrets = new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 });
const secretsMock = mockClient(secrets);

const config = exampleConfig();
const database = config.databases[0]!;

// The incident began 10 minutes before the fixtures' NOW.
const INCIDENT_AT = minutesAgo(10).toISOString(); // 2026-11-25T11:50:00.000Z
const INCIDENT_ID = '202611251150';
const RESTORED_ID = 'frontier-prod-r-202611251150';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-database-recovery:alarm-1';
const SECRET_ID = 'frontier/prod/database';
const PASSWORD = 'c0rrect-h0rse-battery-staple';

// ---------------------------------------------------------------------------------------------------
// Faults, as the SDK raises them

const throttled = () => new RDSServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
const serverError = () => new RDSServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'An internal error has occurred' });
const denied = () =>
  new RDSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'User is not authorized to perform this action' });
const instanceNotFound = (id = RESTORED_ID) => new DBInstanceNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: `DBInstance ${id} not found.` });

type Fault = readonly [label: string, make: () => Error, expected: new (...args: never[]) => RecoveryError];

const rdsFaults = (notFound: () => Error): Fault[] => [
  ['throttling', throttled, AwsTransientError],
  ['a 5xx', serverError, AwsTransientError],
  ['AccessDenied', denied, AwsAccessDenied],
  ['not-found', notFound, ResourceNotFound],
  ['a timeout', () => Object.assign(new Error('connect ETIMEDOUT 52.94.1.1:443'), { name: 'TimeoutError', code: 'ETIMEDOUT' }), AwsTransientError],
];

const secretsFaults: Fault[] = [
  ['throttling', () => new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }), AwsTransientError],
  ['a 5xx', () => new SecretsManagerServiceException({ name: 'InternalServiceError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'internal error' }), AwsTransientError],
  [
    'AccessDenied',
    () =>
      new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'User is not authorized to perform: secretsmanager:PutSecretValue',
      }),
    AwsAccessDenied,
  ],
  ['not-found', () => new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: "Secrets Manager can't find the specified secret." }), ResourceNotFound],
];

// ---------------------------------------------------------------------------------------------------
// RDS shapes

function sourceInstance(options: Partial<DBInstance> = {}): DBInstance {
  return dbInstance('frontier-prod', {
    DBInstanceClass: 'db.r6g.large',
    AllocatedStorage: 200,
    BackupRetentionPeriod: 7,
    LatestRestorableTime: minutesAgo(4),
    InstanceCreateTime: hoursAgo(400 * 24),
    DBParameterGroups: [{ DBParameterGroupName: 'frontier-prod-source-pg16', ParameterApplyStatus: 'in-sync' }],
    ...options,
  });
}

function automatedBackup(arn: string, earliest: Date, status = 'active'): DBInstanceAutomatedBackup {
  return { DBInstanceArn: arn, DBInstanceIdentifier: 'frontier-prod', Status: status, RestoreWindow: { EarliestTime: earliest, LatestTime: minutesAgo(4) } };
}

/** A restored instance as DescribeDBInstances shows it, tagged as startDatabaseRestore tags it. */
function restoredInstance(options: Partial<DBInstance> = {}, tags: { incident?: string; source?: string } = {}): DBInstance {
  return dbInstance(RESTORED_ID, {
    DBInstanceStatus: 'creating',
    Endpoint: undefined,
    InstanceCreateTime: minutesAgo(3),
    TagList: [
      { Key: INCIDENT_TAG, Value: tags.incident ?? INCIDENT_ID },
      { Key: SOURCE_TAG, Value: tags.source ?? 'frontier-prod' },
      { Key: 'frontier-dr:execution', Value: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-database-recovery:earlier' },
    ],
    ...options,
  });
}

function snapshotSummary(id: string, createdAt: Date): SnapshotSummary {
  return { id, arn: `arn:aws:rds:us-west-2:123456789012:snapshot:${id}`, type: 'manual', createdAt: createdAt.toISOString(), encrypted: true, region: 'us-west-2', sourceInstance: 'frontier-prod' };
}

const PITR_POINT: RestorePoint = { kind: 'point-in-time', time: minutesAgo(15).toISOString(), reason: 'point in time 5 min before the incident', rejected: [], dataLossMinutes: 5 };
const SNAPSHOT_POINT: RestorePoint = {
  kind: 'snapshot',
  snapshot: snapshotSummary('frontier-prod-20261125-0800', hoursAgo(4)),
  reason: 'newest usable snapshot taken before the incident',
  rejected: [],
  dataLossMinutes: 230,
};

const EXPECTED_TAGS = [
  { Key: INCIDENT_TAG, Value: INCIDENT_ID },
  { Key: SOURCE_TAG, Value: 'frontier-prod' },
  { Key: 'frontier-dr:execution', Value: EXECUTION },
];

/** The settings the assessment resolves for the example config and sourceInstance(). */
const settingsFor = (point: RestorePoint, databaseConfig = database, source = sourceInstance()) => resolveRestoreSettings(databaseConfig, source, point);

/** Everything the deployment's recovery section (and, for the rest, the source) puts on the restored instance. */
const RESTORED_SETTINGS = {
  DBInstanceClass: 'db.r6g.large',
  MultiAZ: true,
  PubliclyAccessible: false,
  DBSubnetGroupName: 'frontier-prod-db',
  VpcSecurityGroupIds: ['sg-0b1c2d3e4f5a60718'],
  DBParameterGroupName: 'frontier-prod-pg16',
  Port: 5432,
  BackupRetentionPeriod: 7,
  DeletionProtection: true,
  Tags: EXPECTED_TAGS,
};

function sentCommandNames(): string[] {
  return rdsMock.calls().map((call) => (call.args[0] as object).constructor.name);
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure, got a result');
    },
    (error: unknown) => error as Error,
  );
}

beforeEach(() => {
  rdsMock.reset();
  secretsMock.reset();
});

// ---------------------------------------------------------------------------------------------------

describe('recoveryConfig', () => {
  it('refuses a database without a recovery section', () => {
    const bare = configWith((c) => {
      delete c.databases[0]!.recovery;
    });

    expect(() => recoveryConfig(bare.databases[0]!)).toThrow(InvalidConfig);
    expect(() => recoveryConfig(bare.databases[0]!)).toThrow('database frontier-prod has no recovery section');
  });
});

describe('assessDatabase', () => {
  const request = { incidentAt: INCIDENT_AT, snapshot: null, restoreTime: null };

  function healthyRds(options: { instance?: Partial<DBInstance>; backups?: DBInstanceAutomatedBackup[] } = {}) {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [sourceInstance(options.instance)] });
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({ DBInstanceAutomatedBackups: options.backups ?? [automatedBackup(sourceInstance().DBInstanceArn!, hoursAgo(100))] });
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        snapshot('frontier-prod-20261125-0800', hoursAgo(4)),
        snapshot('rds:frontier-prod-2026-11-25-06-00', hoursAgo(6), { type: 'automated' }),
        snapshot('frontier-prod-20261125-1155', minutesAgo(5)),
      ],
    });
  }

  it('gives the report its paragraph on the assessment as the step detail', async () => {
    healthyRds();

    const result = await assessDatabase(config, database, request, rds, NOW);

    expect(result.detail).toBe(describeAssessment('frontier-prod', result.data));
    expect(result.detail).toMatch(/^frontier-prod is available \(db\.r6g\.large/);
    expect(result.actions).toBeUndefined();
  });

  it('reads the restore window from the automated backups and restores to the incident minus the safety margin', async () => {
    healthyRds();

    const { data: assessment } = await assessDatabase(config, database, request, rds, NOW);

    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'frontier-prod' });
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstanceAutomatedBackupsCommand, { DBInstanceIdentifier: 'frontier-prod' });
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { DBInstanceIdentifier: 'frontier-prod' });
    expect(assessment).toEqual({
      sourceEndpoint: { host: 'frontier-prod.abcdefghij.us-west-2.rds.amazonaws.com', port: 5432 },
      sourceParameterGroup: 'frontier-prod-source-pg16',
      status: 'available',
      instanceClass: 'db.r6g.large',
      allocatedStorageGiB: 200,
      backupRetentionDays: 7,
      window: { earliest: hoursAgo(100).toISOString(), latest: minutesAgo(4).toISOString() },
      recentSnapshots: [
        { id: 'frontier-prod-20261125-1155', type: 'manual', createdAt: minutesAgo(5).toISOString(), encrypted: true },
        { id: 'frontier-prod-20261125-0800', type: 'manual', createdAt: hoursAgo(4).toISOString(), encrypted: true },
        { id: 'rds:frontier-prod-2026-11-25-06-00', type: 'automated', createdAt: hoursAgo(6).toISOString(), encrypted: true },
      ],
      restorePoint: expect.objectContaining({ kind: 'point-in-time', time: '2026-11-25T11:45:00.000Z', dataLossMinutes: 5, rejected: [] }),
      source: { instance: 'frontier-prod', encrypted: true, kmsKeyId: null, engineVersion: null },
      restoreSettings: resolveRestoreSettings(database, sourceInstance(), assessment.restorePoint),
    });
  });

  it('resolves the restore settings there, before anything changes: the source\'s parameter group when the config names none (issue 8)', async () => {
    healthyRds();
    const bare = configWith((c) => {
      delete c.databases[0]!.recovery!.parameterGroup;
    });

    const { data: assessment } = await assessDatabase(bare, bare.databases[0]!, request, rds, NOW);

    expect(assessment.restoreSettings).toContainEqual({
      parameter: 'DBParameterGroupName',
      value: 'frontier-prod-source-pg16',
      origin: 'source-instance',
      from: 'from source instance frontier-prod',
      sent: true,
    });
    expect(describeAssessment('frontier-prod', assessment)).toContain('DBParameterGroupName frontier-prod-source-pg16 (from source instance frontier-prod)');
  });

  describe('automatic snapshot choice (point-in-time recovery off)', () => {
    const KEY = 'arn:aws:kms:us-west-2:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666';
    const encryptedSource = { BackupRetentionPeriod: 0, LatestRestorableTime: undefined, StorageEncrypted: true, KmsKeyId: KEY, EngineVersion: '16.4' };

    it('skips the unencrypted snapshot of a previous instance of the same name (issue 8) and says why', async () => {
      healthyRds({ instance: encryptedSource });
      rdsMock.on(DescribeDBSnapshotsCommand).resolves({
        DBSnapshots: [
          { ...snapshot('frontier-prod-20261125-0800', hoursAgo(4), { encrypted: false }), EngineVersion: '16.4' },
          { ...snapshot('frontier-prod-20261125-0400', hoursAgo(8)), EngineVersion: '16.4', KmsKeyId: KEY },
        ],
      });

      const { data: assessment } = await assessDatabase(config, database, request, rds, NOW);

      expect(assessment.restorePoint).toMatchObject({ kind: 'snapshot', snapshot: { id: 'frontier-prod-20261125-0400', kmsKeyId: KEY } });
      expect(assessment.restorePoint.rejected).toContainEqual(expect.stringContaining('snapshot frontier-prod-20261125-0800'));
      expect(assessment.restorePoint.rejected.join(' ')).toContain('it is unencrypted and would restore an unencrypted instance from encrypted frontier-prod');
      expect(assessment.restoreSettings).toContainEqual(expect.objectContaining({ parameter: 'KmsKeyId', value: KEY, sent: false }));
    });

    it('skips a snapshot of another engine major version', async () => {
      healthyRds({ instance: encryptedSource });
      rdsMock.on(DescribeDBSnapshotsCommand).resolves({
        DBSnapshots: [
          { ...snapshot('frontier-prod-20261125-0800', hoursAgo(4)), EngineVersion: '15.8' },
          { ...snapshot('frontier-prod-20261125-0400', hoursAgo(8)), EngineVersion: '16.2' },
        ],
      });

      const { data: assessment } = await assessDatabase(config, database, request, rds, NOW);

      expect(assessment.restorePoint).toMatchObject({ kind: 'snapshot', snapshot: { id: 'frontier-prod-20261125-0400' } });
      expect(assessment.restorePoint.rejected.join(' ')).toContain("its engine version 15.8 is another major version than frontier-prod's 16.4");
    });

    it('fails before anything changes when every snapshot before the incident would change encryption or version', async () => {
      healthyRds({ instance: encryptedSource });
      rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-20261125-0800', hoursAgo(4), { encrypted: false })] });

      const error = await rejection(assessDatabase(config, database, request, rds, NOW));

      expect(error).toBeInstanceOf(ResourceNotFound);
      expect(error.message).toContain('no clean restore point for frontier-prod');
      expect(error.message).toContain('unencrypted');
    });
  });

  describe('a snapshot named in the input is looked up as named', () => {
    const SHARED_ARN = 'arn:aws:rds:us-west-2:210987654321:snapshot:frontier-prod-handover';

    it('finds a manual snapshot without the prefix by its identifier (issue 8: pre-migration-20261128)', async () => {
      healthyRds();
      rdsMock.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-migration-20261128' }).resolves({ DBSnapshots: [snapshot('pre-migration-20261128', hoursAgo(30))] });

      const { data: assessment } = await assessDatabase(config, database, { ...request, snapshot: 'pre-migration-20261128' }, rds, NOW);

      expect(rdsMock).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-migration-20261128' });
      const named = rdsMock.commandCalls(DescribeDBSnapshotsCommand).find((c) => c.args[0].input.DBSnapshotIdentifier)!.args[0].input;
      expect(named).not.toHaveProperty('DBInstanceIdentifier');
      expect(assessment.restorePoint).toMatchObject({ kind: 'snapshot', snapshot: { id: 'pre-migration-20261128' } });
      expect(assessment.restorePoint.reason).toMatch(/^snapshot pre-migration-20261128 named in the input\./);
    });

    it('finds an own-account ARN by its identifier', async () => {
      healthyRds();
      rdsMock.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-migration-20261128' }).resolves({ DBSnapshots: [snapshot('pre-migration-20261128', hoursAgo(30))] });

      const { data: assessment } = await assessDatabase(config, database, { ...request, snapshot: 'arn:aws:rds:us-west-2:123456789012:snapshot:pre-migration-20261128' }, rds, NOW);

      expect(assessment.restorePoint).toMatchObject({ kind: 'snapshot', snapshot: { arn: 'arn:aws:rds:us-west-2:123456789012:snapshot:pre-migration-20261128' } });
    });

    it('looks up an automated snapshot with SnapshotType automated', async () => {
      healthyRds();
      const id = 'rds:frontier-prod-2026-11-25-06-00';
      rdsMock.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: id }).resolves({ DBSnapshots: [snapshot(id, hoursAgo(6), { type: 'automated' })] });

      await assessDatabase(config, database, { ...request, snapshot: id }, rds, NOW);

      expect(rdsMock).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: id, SnapshotType: 'automated' });
    });

    it('finds a snapshot shared from another account by ARN among the shared ones, and restores by that ARN', async () => {
      healthyRds();
      rdsMock.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: SHARED_ARN }).resolves({
        DBSnapshots: [{ ...snapshot('frontier-prod-handover', hoursAgo(20), { instance: 'frontier-staging' }), DBSnapshotArn: SHARED_ARN }],
      });

      const { data: assessment } = await assessDatabase(config, database, { ...request, snapshot: SHARED_ARN }, rds, NOW);

      expect(rdsMock).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: SHARED_ARN, SnapshotType: 'shared', IncludeShared: true });
      expect(assessment.restorePoint).toMatchObject({ kind: 'snapshot', snapshot: { arn: SHARED_ARN, sharedFrom: '210987654321' } });
      expect(assessment.restorePoint.reason).toContain('It is a snapshot of frontier-staging, not of frontier-prod.');

      rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
      rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
      await startDatabaseRestore(config, database, assessment.restorePoint, assessment.restoreSettings, INCIDENT_ID, EXECUTION, false, rds, NOW);
      expect(rdsMock).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, { DBSnapshotIdentifier: SHARED_ARN });
    });

    it('keeps an unencrypted named snapshot (the operator chose it) and says what automatic choice would have said', async () => {
      healthyRds({ instance: { StorageEncrypted: true } });
      rdsMock.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-migration-20261128' }).resolves({ DBSnapshots: [snapshot('pre-migration-20261128', hoursAgo(30), { encrypted: false })] });

      const { data: assessment } = await assessDatabase(config, database, { ...request, snapshot: 'pre-migration-20261128' }, rds, NOW);

      expect(assessment.restorePoint.reason).toContain('named in the input');
      expect(assessment.restorePoint.reason).toContain('Automatic choice would not have used it: it is unencrypted');
    });

    it.each([
      ['an identifier that does not exist', 'pre-migration-typo', () => new DBSnapshotNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'DBSnapshot not found' }), 'snapshot pre-migration-typo does not exist in us-west-2'],
      ['a shared ARN not shared with this account', SHARED_ARN, () => undefined, 'is not shared with this account (123456789012) in us-west-2'],
      ['an ARN of another region', 'arn:aws:rds:us-east-1:123456789012:snapshot:frontier-prod-copy', () => undefined, 'is in us-east-1, and a restore in us-west-2 can only use a snapshot of us-west-2: copy it first'],
    ])('fails with ResourceNotFound for %s, naming it', async (_label, named, fault, message) => {
      healthyRds();
      const error0 = fault();
      if (error0) rdsMock.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: named }).rejects(error0);
      else rdsMock.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: named }).resolves({ DBSnapshots: [] });

      const error = await rejection(assessDatabase(config, database, { ...request, snapshot: named }, rds, NOW));

      expect(error).toBeInstanceOf(ResourceNotFound);
      expect(error.message).toContain(message);
    });

    it('fails for a named snapshot that is not available yet', async () => {
      healthyRds();
      rdsMock.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-migration-20261128' }).resolves({ DBSnapshots: [snapshot('pre-migration-20261128', hoursAgo(1), { status: 'creating' })] });

      const error = await rejection(assessDatabase(config, database, { ...request, snapshot: 'pre-migration-20261128' }, rds, NOW));

      expect(error).toBeInstanceOf(UnexpectedResourceState);
      expect(error.message).toBe("snapshot pre-migration-20261128 is 'creating', not available: a restore cannot start from it yet");
    });

    it.each(rdsFaults(() => new DBSnapshotNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'DBSnapshot not found' })).filter(([label]) => label !== 'not-found'))(
      'fails with %s on the named lookup, naming the call',
      async (_label, make, expected) => {
        healthyRds();
        rdsMock.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-migration-20261128' }).rejects(make());

        const error = await rejection(assessDatabase(config, database, { ...request, snapshot: 'pre-migration-20261128' }, rds, NOW));

        expect(error).toBeInstanceOf(expected);
        expect(error.message).toContain('rds:DescribeDBSnapshots on pre-migration-20261128 in us-west-2');
      },
    );
  });

  it('uses the window of the backup of this instance, not another with the same name', async () => {
    healthyRds({ backups: [automatedBackup('arn:aws:rds:us-west-2:123456789012:db:frontier-prod-old', hoursAgo(700)), automatedBackup(sourceInstance().DBInstanceArn!, hoursAgo(90))] });

    const { data: assessment } = await assessDatabase(config, database, request, rds, NOW);

    expect(assessment.window?.earliest).toBe(hoursAgo(90).toISOString());
  });

  it('follows the automated-backup pages', async () => {
    healthyRds();
    const markers: (string | undefined)[] = [];
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).callsFake((input: { Marker?: string }) => {
      markers.push(input.Marker);
      return input.Marker === 'page-2'
        ? { DBInstanceAutomatedBackups: [automatedBackup(sourceInstance().DBInstanceArn!, hoursAgo(80))] }
        : { DBInstanceAutomatedBackups: [], Marker: 'page-2' };
    });

    const { data: assessment } = await assessDatabase(config, database, request, rds, NOW);

    expect(markers).toEqual([undefined, 'page-2']);
    expect(assessment.window?.earliest).toBe(hoursAgo(80).toISOString());
  });

  it('falls back to retention when no automated backup reports a window', async () => {
    healthyRds({ backups: [] });

    const { data: assessment } = await assessDatabase(config, database, request, rds, NOW);

    expect(assessment.window).toEqual({ earliest: hoursAgo(7 * 24).toISOString(), latest: minutesAgo(4).toISOString() });
    expect(assessment.restorePoint).toMatchObject({ kind: 'point-in-time', time: '2026-11-25T11:45:00.000Z' });
  });

  it('falls back to the creation time when the instance is younger than its retention', async () => {
    healthyRds({ backups: [], instance: { InstanceCreateTime: hoursAgo(30) } });

    const { data: assessment } = await assessDatabase(config, database, request, rds, NOW);

    expect(assessment.window?.earliest).toBe(hoursAgo(30).toISOString());
  });

  it('with point-in-time recovery off, asks for no window and takes the newest snapshot before the incident', async () => {
    healthyRds({ instance: { BackupRetentionPeriod: 0, LatestRestorableTime: undefined } });

    const { data: assessment } = await assessDatabase(config, database, request, rds, NOW);

    expect(rdsMock).not.toHaveReceivedCommand(DescribeDBInstanceAutomatedBackupsCommand);
    expect(assessment.window).toBeNull();
    expect(assessment.backupRetentionDays).toBe(0);
    expect(assessment.restorePoint).toMatchObject({ kind: 'snapshot', snapshot: { id: 'frontier-prod-20261125-0800' }, dataLossMinutes: 230 });
    expect(assessment.restorePoint.rejected).toEqual([
      'point in time: automated backups are off (backup retention 0)',
      `snapshot frontier-prod-20261125-1155 (${minutesAgo(5).toISOString()}): taken at or after the incident, it may contain the damage`,
    ]);
  });

  it('honours a snapshot named in the input', async () => {
    healthyRds();

    const { data: assessment } = await assessDatabase(config, database, { ...request, snapshot: 'rds:frontier-prod-2026-11-25-06-00' }, rds, NOW);

    expect(assessment.restorePoint).toMatchObject({ kind: 'snapshot', snapshot: { id: 'rds:frontier-prod-2026-11-25-06-00', type: 'automated' }, dataLossMinutes: 350 });
  });

  it('honours a restore time named in the input', async () => {
    healthyRds();

    const { data: assessment } = await assessDatabase(config, database, { ...request, restoreTime: '2026-11-25T11:30:00Z' }, rds, NOW);

    expect(assessment.restorePoint).toMatchObject({ kind: 'point-in-time', time: '2026-11-25T11:30:00.000Z', dataLossMinutes: 20 });
  });

  it.each(rdsFaults(() => instanceNotFound('frontier-prod')))('fails with %s on DescribeDBInstances, naming the call', async (_label, make, expected) => {
    healthyRds();
    rdsMock.on(DescribeDBInstancesCommand).rejects(make());

    const error = await rejection(assessDatabase(config, database, request, rds, NOW));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain('rds:DescribeDBInstances on frontier-prod in us-west-2');
    expect(rdsMock).not.toHaveReceivedCommand(DescribeDBSnapshotsCommand);
  });

  it.each(rdsFaults(() => instanceNotFound('frontier-prod')))('fails with %s on DescribeDBSnapshots, naming the call', async (_label, make, expected) => {
    healthyRds();
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(make());

    const error = await rejection(assessDatabase(config, database, request, rds, NOW));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain('rds:DescribeDBSnapshots on frontier-prod in us-west-2');
  });

  it('derives the window from retention and creation time when RDS has no automated-backup record yet', async () => {
    healthyRds({ instance: { InstanceCreateTime: hoursAgo(30) } });
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).rejects(new DBInstanceAutomatedBackupNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'No automated backup found' }));

    const { data: assessment } = await assessDatabase(config, database, request, rds, NOW);

    // Created 30 h ago with 7 days' retention: the window starts at the creation.
    expect(assessment.window).toEqual({ earliest: hoursAgo(30).toISOString(), latest: minutesAgo(4).toISOString() });
    expect(assessment.restorePoint).toMatchObject({ kind: 'point-in-time', time: '2026-11-25T11:45:00.000Z' });
  });

  it('has no source endpoint for an instance that is not running (the read-only step then records that)', async () => {
    healthyRds({ instance: { DBInstanceStatus: 'stopped', Endpoint: undefined } });

    const { data: assessment } = await assessDatabase(config, database, request, rds, NOW);

    expect(assessment).toMatchObject({ status: 'stopped', sourceEndpoint: null });
  });

  it.each(rdsFaults(() => new DBInstanceAutomatedBackupNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'No automated backup found' })).filter(([label]) => label !== 'not-found'))(
    'fails with %s on DescribeDBInstanceAutomatedBackups, naming the call',
    async (_label, make, expected) => {
      healthyRds();
      rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).rejects(make());

      const error = await rejection(assessDatabase(config, database, request, rds, NOW));

      expect(error).toBeInstanceOf(expected);
      expect(error.message).toContain('rds:DescribeDBInstanceAutomatedBackups on frontier-prod in us-west-2');
    },
  );
});

describe('startDatabaseRestore', () => {
  function nothingRestoredYet() {
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
  }

  it('restores to a point in time on a new instance with the deployment settings and tags (the source keeps its key)', async () => {
    nothingRestoredYet();
    rdsMock.on(RestoreDBInstanceToPointInTimeCommand).resolves({ DBInstance: restoredInstance() });

    const started = await startDatabaseRestore(config, database, PITR_POINT, settingsFor(PITR_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW);

    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 1);
    expect(rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0]!.args[0].input).toEqual({
      SourceDBInstanceIdentifier: 'frontier-prod',
      TargetDBInstanceIdentifier: RESTORED_ID,
      RestoreTime: new Date('2026-11-25T11:45:00.000Z'),
      ...RESTORED_SETTINGS,
    });
    // It looked for an instance of this incident first, under the new name (never the source's).
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: RESTORED_ID });
    expect(rdsMock).not.toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'frontier-prod' });
    expect(started).toEqual({
      data: { instanceId: RESTORED_ID, region: 'us-west-2', restoreStartedAt: NOW.toISOString(), resumed: false },
      detail: expect.stringMatching(/; settings: DBInstanceClass db\.r6g\.large \(from config \(recovery\.instanceClass\)\);.* DBParameterGroupName frontier-prod-pg16 \(from config \(recovery\.parameterGroup\)\);/),
      actions: [
        {
          description: `restore frontier-prod as it was at 2026-11-25T11:45:00.000Z to new instance ${RESTORED_ID}`,
          service: 'rds',
          operation: 'RestoreDBInstanceToPointInTime',
          parameters: expect.objectContaining({ RestoreTime: '2026-11-25T11:45:00.000Z', TargetDBInstanceIdentifier: RESTORED_ID }),
          performed: true,
        },
      ],
      // Both instances stay: the restored one serves, the damaged source is kept for failback.
      resources: [
        { kind: 'rds:db-instance', id: RESTORED_ID, region: 'us-west-2', kept: true, note: `restored frontier-prod for incident ${INCIDENT_ID}` },
        { kind: 'rds:db-instance', id: 'frontier-prod', region: 'us-west-2', kept: true, note: 'the damaged source instance, untouched: kept for failback and investigation' },
      ],
    });
  });

  it("sends the source's parameter group when the config has none (issue 8), and never a KmsKeyId", async () => {
    nothingRestoredYet();
    rdsMock.on(RestoreDBInstanceToPointInTimeCommand).resolves({});
    const bare = configWith((c) => {
      delete c.databases[0]!.recovery!.parameterGroup;
    });

    await startDatabaseRestore(bare, bare.databases[0]!, PITR_POINT, settingsFor(PITR_POINT, bare.databases[0]!), INCIDENT_ID, EXECUTION, false, rds, NOW);

    const input = rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0]!.args[0].input;
    expect(input).not.toHaveProperty('KmsKeyId');
    expect(input).toMatchObject({ DBParameterGroupName: 'frontier-prod-source-pg16', PubliclyAccessible: false, DeletionProtection: true });
  });

  it('refuses to restore without the settings of an assessment, sending nothing', async () => {
    const error = await rejection(startDatabaseRestore(config, database, PITR_POINT, [], INCIDENT_ID, EXECUTION, false, rds, NOW));

    expect(error).toBeInstanceOf(InvalidConfig);
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('restores a snapshot by ARN on a new instance with the same settings (the snapshot keeps its own key)', async () => {
    nothingRestoredYet();
    rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({ DBInstance: restoredInstance() });

    const started = await startDatabaseRestore(config, database, SNAPSHOT_POINT, settingsFor(SNAPSHOT_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW);

    expect(rdsMock).not.toHaveReceivedCommand(RestoreDBInstanceToPointInTimeCommand);
    expect(rdsMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0]!.args[0].input).toEqual({
      DBInstanceIdentifier: RESTORED_ID,
      DBSnapshotIdentifier: 'arn:aws:rds:us-west-2:123456789012:snapshot:frontier-prod-20261125-0800',
      ...RESTORED_SETTINGS,
    });
    expect(started.actions![0]).toMatchObject({
      operation: 'RestoreDBInstanceFromDBSnapshot',
      description: `restore snapshot frontier-prod-20261125-0800 to new instance ${RESTORED_ID}`,
      performed: true,
    });
  });

  it.each([
    ['point in time', PITR_POINT, 'RestoreDBInstanceToPointInTimeCommand'],
    ['snapshot', SNAPSHOT_POINT, 'RestoreDBInstanceFromDBSnapshotCommand'],
  ] as const)('in a dry run (%s) sends nothing at all and records exactly what a real run sends', async (_label, point, commandName) => {
    const dry = await startDatabaseRestore(config, database, point, settingsFor(point), INCIDENT_ID, EXECUTION, true, rds, NOW);

    expect(rdsMock.calls()).toHaveLength(0);
    expect(dry).toMatchObject({ data: { instanceId: RESTORED_ID, resumed: false }, actions: [{ performed: false }] });
    // Nothing was created: the report lists no instance.
    expect(dry.resources).toEqual([]);

    nothingRestoredYet();
    rdsMock.on(RestoreDBInstanceToPointInTimeCommand).resolves({});
    rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
    await startDatabaseRestore(config, database, point, settingsFor(point), INCIDENT_ID, EXECUTION, false, rds, NOW);
    const sent = rdsMock.calls().map((call) => call.args[0] as { constructor: { name: string }; input: object });
    const restore = sent.filter((command) => command.constructor.name.startsWith('RestoreDBInstance'));
    expect(restore.map((command) => command.constructor.name)).toEqual([commandName]);
    expect(JSON.parse(JSON.stringify(restore[0]!.input))).toEqual(dry.actions![0]!.parameters);
  });

  it('adopts the instance an earlier run restored for this incident: no second restore', async () => {
    const createdAt = minutesAgo(20);
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restoredInstance({ InstanceCreateTime: createdAt })] });

    const started = await startDatabaseRestore(config, database, PITR_POINT, settingsFor(PITR_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW);

    expect(sentCommandNames()).toEqual(['DescribeDBInstancesCommand']);
    expect(started.data).toMatchObject({ instanceId: RESTORED_ID, resumed: true, restoreStartedAt: createdAt.toISOString() });
    expect(started.resources).toHaveLength(2);
    expect(started.actions![0]!.performed).toBe(true);
    expect(started.actions![0]!.description).toContain('(already started for this incident)');
  });

  it('adopts a still-creating instance (no create time yet) and measures from now', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restoredInstance({ InstanceCreateTime: undefined })] });

    const started = await startDatabaseRestore(config, database, SNAPSHOT_POINT, settingsFor(SNAPSHOT_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW);

    expect(rdsMock).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    expect(started.data).toMatchObject({ resumed: true, restoreStartedAt: NOW.toISOString() });
  });

  it.each([
    ['carries no tags', restoredInstance({ TagList: [] })],
    ['was restored for another incident', restoredInstance({}, { incident: '202611240900' })],
    ['was restored from another database', restoredInstance({}, { source: 'frontier-orders' })],
  ])('refuses an existing instance of that name that %s, and restores nothing', async (_label, instance) => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance] });

    const error = await rejection(startDatabaseRestore(config, database, PITR_POINT, settingsFor(PITR_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW));

    expect(error).toBeInstanceOf(UnexpectedResourceState);
    expect(error.message).toBe(`DB instance ${RESTORED_ID} exists in us-west-2 but was not restored for incident ${INCIDENT_ID} of frontier-prod: not touching it`);
    expect(rdsMock).not.toHaveReceivedCommand(RestoreDBInstanceToPointInTimeCommand);
  });

  it('on DBInstanceAlreadyExists (another attempt won the race) adopts the instance when it is ours', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejectsOnce(instanceNotFound()).resolves({ DBInstances: [restoredInstance({ InstanceCreateTime: undefined })] });
    rdsMock.on(RestoreDBInstanceToPointInTimeCommand).rejects(new DBInstanceAlreadyExistsFault({ $metadata: { httpStatusCode: 400 }, message: 'DB instance already exists' }));

    const started = await startDatabaseRestore(config, database, PITR_POINT, settingsFor(PITR_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW);

    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 1);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 2);
    expect(started).toMatchObject({ data: { instanceId: RESTORED_ID, resumed: true }, actions: [{ performed: true }] });
  });

  it('on DBInstanceAlreadyExists refuses an instance that is not ours', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejectsOnce(instanceNotFound()).resolves({ DBInstances: [restoredInstance({ TagList: [{ Key: 'team', Value: 'analytics' }] })] });
    rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(new DBInstanceAlreadyExistsFault({ $metadata: { httpStatusCode: 400 }, message: 'DB instance already exists' }));

    const error = await rejection(startDatabaseRestore(config, database, SNAPSHOT_POINT, settingsFor(SNAPSHOT_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW));

    expect(error).toBeInstanceOf(UnexpectedResourceState);
    expect(error.message).toContain('not touching it');
  });

  it('on DBInstanceAlreadyExists with the instance gone again, fails naming the fault', async () => {
    nothingRestoredYet();
    rdsMock.on(RestoreDBInstanceToPointInTimeCommand).rejects(new DBInstanceAlreadyExistsFault({ $metadata: { httpStatusCode: 400 }, message: 'DB instance already exists' }));

    const error = await rejection(startDatabaseRestore(config, database, PITR_POINT, settingsFor(PITR_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW));

    expect(error).toBeInstanceOf(RecoveryError);
    expect(error.message).toContain(`rds:RestoreDBInstanceToPointInTime on ${RESTORED_ID} in us-west-2 failed (DBInstanceAlreadyExists`);
  });

  it.each(rdsFaults(() => instanceNotFound('frontier-prod')))('fails with %s on RestoreDBInstanceToPointInTime, naming the call', async (_label, make, expected) => {
    nothingRestoredYet();
    rdsMock.on(RestoreDBInstanceToPointInTimeCommand).rejects(make());

    const error = await rejection(startDatabaseRestore(config, database, PITR_POINT, settingsFor(PITR_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain(`rds:RestoreDBInstanceToPointInTime on ${RESTORED_ID} in us-west-2`);
  });

  it.each(rdsFaults(() => new DBSnapshotNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'DBSnapshot not found' })))(
    'fails with %s on RestoreDBInstanceFromDBSnapshot, naming the call',
    async (_label, make, expected) => {
      nothingRestoredYet();
      rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(make());

      const error = await rejection(startDatabaseRestore(config, database, SNAPSHOT_POINT, settingsFor(SNAPSHOT_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW));

      expect(error).toBeInstanceOf(expected);
      expect(error.message).toContain(`rds:RestoreDBInstanceFromDBSnapshot on ${RESTORED_ID} in us-west-2`);
    },
  );

  it.each(rdsFaults(instanceNotFound).filter(([label]) => label !== 'not-found'))(
    'fails with %s on the DescribeDBInstances that looks for an earlier restore, and restores nothing',
    async (_label, make, expected) => {
      rdsMock.on(DescribeDBInstancesCommand).rejects(make());

      const error = await rejection(startDatabaseRestore(config, database, PITR_POINT, settingsFor(PITR_POINT), INCIDENT_ID, EXECUTION, false, rds, NOW));

      expect(error).toBeInstanceOf(expected);
      expect(error.message).toContain(`rds:DescribeDBInstances on ${RESTORED_ID} in us-west-2`);
      expect(rdsMock).not.toHaveReceivedCommand(RestoreDBInstanceToPointInTimeCommand);
    },
  );
});

describe('checkDatabaseRestore', () => {
  const step = (startedMinutesAgo: number) => checkDatabaseRestore(database, RESTORED_ID, 'us-west-2', minutesAgo(startedMinutesAgo).toISOString(), rds, NOW);
  const look = (startedMinutesAgo: number) => step(startedMinutesAgo).then((result) => result.data);

  it('says in the step detail how long it has waited for what', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restoredInstance()] });

    await expect(step(12)).resolves.toMatchObject({ detail: `${RESTORED_ID} is creating after 12 min` });
  });

  it('says "not yet" while the instance is creating', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restoredInstance()] });

    await expect(look(12)).resolves.toEqual({ instanceId: RESTORED_ID, status: 'creating', available: false, endpoint: null, waitedMinutes: 12, nextCheckSeconds: 10 });
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: RESTORED_ID });
  });

  it('says when to look again: at 3 min after the restore started (none is available sooner), then every 10 s, never past recovery.timeoutMinutes', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restoredInstance()] });

    // The first look comes as soon as the writes are stopped, seconds after the restore started.
    expect((await look(0.1)).nextCheckSeconds).toBe(174);
    expect((await look(2.5)).nextCheckSeconds).toBe(30);
    expect((await look(3)).nextCheckSeconds).toBe(10);
    expect((await look(45)).nextCheckSeconds).toBe(10);
    // 4 s before the 90-min limit: the wait ends at it, and the look then fails the run.
    expect((await look(90 - 4 / 60)).nextCheckSeconds).toBe(4);
  });

  it('returns the endpoint once the instance is available', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restoredInstance({ DBInstanceStatus: 'available', Endpoint: { Address: `${RESTORED_ID}.abcdefghij.us-west-2.rds.amazonaws.com`, Port: 6432 } })] });

    await expect(look(25)).resolves.toEqual({
      instanceId: RESTORED_ID,
      status: 'available',
      available: true,
      endpoint: { host: `${RESTORED_ID}.abcdefghij.us-west-2.rds.amazonaws.com`, port: 6432 },
      waitedMinutes: 25,
      nextCheckSeconds: 10,
    });
  });

  it('uses the configured port when RDS gives none, and waits when there is no address yet', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [restoredInstance({ DBInstanceStatus: 'available', Endpoint: undefined })] })
      .resolves({ DBInstances: [restoredInstance({ DBInstanceStatus: 'available', Endpoint: { Address: 'restored.example' } })] });

    await expect(look(5)).resolves.toMatchObject({ available: false, endpoint: null });
    await expect(look(6)).resolves.toMatchObject({ available: true, endpoint: { host: 'restored.example', port: 5432 } });
  });

  it.each(['failed', 'incompatible-restore', 'incompatible-parameters', 'incompatible-network', 'storage-full', 'inaccessible-encryption-credentials', 'deleting'])(
    'fails at once when the restore ends %s, saying the source is untouched',
    async (status) => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restoredInstance({ DBInstanceStatus: status })] });

      const error = await rejection(look(3));

      expect(error).toBeInstanceOf(UnexpectedResourceState);
      expect(error).not.toBeInstanceOf(DatabaseRestoreTimedOut);
      expect(error.message).toBe(`restored instance ${RESTORED_ID} is '${status}': the restore failed; the source frontier-prod is untouched`);
    },
  );

  it('times out after recovery.timeoutMinutes of waiting, with its own error name', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restoredInstance({ DBInstanceStatus: 'modifying' })] });

    await expect(look(90)).resolves.toMatchObject({ available: false, status: 'modifying' });
    const error = await rejection(look(91));

    expect(error).toBeInstanceOf(DatabaseRestoreTimedOut);
    expect(error.name).toBe('DatabaseRestoreTimedOut');
    expect(error.message).toBe(`restored instance ${RESTORED_ID} is still 'modifying' after 91.0 min (limit 90 min)`);
  });

  it('does not time out an instance that became available late', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restoredInstance({ DBInstanceStatus: 'available', Endpoint: { Address: 'restored.example', Port: 5432 } })] });

    await expect(look(120)).resolves.toMatchObject({ available: true, waitedMinutes: 120 });
  });

  it.each(rdsFaults(instanceNotFound))('fails with %s on DescribeDBInstances, naming the call', async (_label, make, expected) => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(make());

    const error = await rejection(look(3));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain(`rds:DescribeDBInstances on ${RESTORED_ID} in us-west-2`);
  });
});

describe('describeAssessment', () => {
  const base = {
    sourceEndpoint: null,
    sourceParameterGroup: null,
    status: 'storage-full',
    instanceClass: 'db.r6g.large',
    allocatedStorageGiB: 200,
    backupRetentionDays: 7,
    window: { earliest: '2026-11-21T08:00:00.000Z', latest: '2026-11-25T11:56:00.000Z' },
    recentSnapshots: Array.from({ length: 7 }, (_, i) => ({ id: `frontier-prod-snap-${i}`, type: 'manual' as const, createdAt: hoursAgo(4 * i).toISOString(), encrypted: i !== 1 })),
    restorePoint: { kind: 'point-in-time' as const, time: '2026-11-25T11:45:00.000Z', dataLossMinutes: 5, reason: 'point in time 5 min before the incident.', rejected: ['snapshot x (t): taken after the incident'] },
    source: { instance: 'frontier-prod', encrypted: true, kmsKeyId: null, engineVersion: '16.4' },
    restoreSettings: [],
  };

  it('gives status, class, storage, retention, window, the newest five snapshots and the choice with what it refused', () => {
    const text = describeAssessment('frontier-prod', base);

    expect(text).toBe(
      'frontier-prod is storage-full (db.r6g.large, 200 GiB allocated, backups kept 7 days, restorable 2026-11-21T08:00:00.000Z .. 2026-11-25T11:56:00.000Z); ' +
        `recent snapshots: frontier-prod-snap-0 (${hoursAgo(0).toISOString()}, manual), frontier-prod-snap-1 (${hoursAgo(4).toISOString()}, manual, UNENCRYPTED), ` +
        `frontier-prod-snap-2 (${hoursAgo(8).toISOString()}, manual), frontier-prod-snap-3 (${hoursAgo(12).toISOString()}, manual), frontier-prod-snap-4 (${hoursAgo(16).toISOString()}, manual) and 2 older. ` +
        'Restore point: point in time 2026-11-25T11:45:00.000Z, 5 min of writes before the incident lost. point in time 5 min before the incident. Not used: snapshot x (t): taken after the incident.',
    );
  });

  it('says when there is no point-in-time recovery and no snapshot', () => {
    const text = describeAssessment('frontier-prod', { ...base, window: null, allocatedStorageGiB: null, recentSnapshots: [], restorePoint: { ...base.restorePoint, rejected: [] } });

    expect(text).toMatch(/^frontier-prod is storage-full \(db\.r6g\.large, backups kept 7 days, no point-in-time recovery\); no usable snapshots\. Restore point: /);
    expect(text).not.toContain('Not used');
  });
});

describe('refusalSqlState', () => {
  const pgError = (code: string, message = 'refused') => Object.assign(new Error(message), { code });

  it.each([
    ['a missing database', '3D000'],
    ['a wrong password', '28P01'],
    ['a missing privilege', '42501'],
    ['a database that allows no connections', '55000'],
  ])('names the SQLSTATE of %s: the server answered', (_label, code) => {
    expect(refusalSqlState(pgError(code))).toBe(code);
  });

  it('looks through the cause of a wrapping error', () => {
    expect(refusalSqlState(new ValidationFailed('write probe failed', { cause: pgError('42501') }))).toBe('42501');
  });

  it.each([
    ['connection refused', 'ECONNREFUSED'],
    ['a DNS failure', 'ENOTFOUND'],
    ['a timeout', 'ETIMEDOUT'],
    ['a statement timeout', '57014'],
    ['a server shutting down', '57P01'],
    ['a server starting up', '57P03'],
  ])('is null for %s: the server did not really answer', (_label, code) => {
    expect(refusalSqlState(pgError(code))).toBeNull();
  });

  it('is null for an error without a code (pg: "Connection terminated due to connection timeout")', () => {
    expect(refusalSqlState(new Error('Connection terminated due to connection timeout'))).toBeNull();
    expect(refusalSqlState('not an error')).toBeNull();
  });
});

describe('readOnlyParameterGroupProblem', () => {
  const byGroup = configWith((c) => {
    c.databases[0]!.recovery!.readOnlyMode = 'parameter-group';
    c.databases[0]!.recovery!.readOnlyParameterGroup = 'frontier-prod-source-pg16';
  }).databases[0]!;

  it('allows the group the config names as the source instance\'s own', () => {
    expect(readOnlyParameterGroupProblem(byGroup, 'frontier-prod-source-pg16')).toBeNull();
  });

  it.each([
    ['no group', null, 'frontier-prod reports no parameter group'],
    ['another group than the configured one', 'frontier-prod-pg16', 'uses parameter group frontier-prod-pg16, not recovery.readOnlyParameterGroup frontier-prod-source-pg16'],
  ])('refuses %s', (_label, group, why) => {
    expect(readOnlyParameterGroupProblem(byGroup, group)).toContain(why);
  });

  it('refuses any group when the config names none', () => {
    expect(readOnlyParameterGroupProblem(database, 'frontier-prod-source-pg16')).toBe('frontier-prod has no recovery.readOnlyParameterGroup');
  });
});

describe('setReadOnlyParameter', () => {
  it('sets default_transaction_read_only=1 in the parameter group, applied immediately', async () => {
    rdsMock.on(ModifyDBParameterGroupCommand).resolves({ DBParameterGroupName: 'frontier-prod-pg16' });

    await setReadOnlyParameter(rds, 'us-west-2', 'frontier-prod-pg16');

    expect(sentCommandNames()).toEqual(['ModifyDBParameterGroupCommand']);
    expect(rdsMock.commandCalls(ModifyDBParameterGroupCommand)[0]!.args[0].input).toEqual({
      DBParameterGroupName: 'frontier-prod-pg16',
      Parameters: [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1', ApplyMethod: 'immediate' }],
    });
  });

  it.each(rdsFaults(() => new DBParameterGroupNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'DBParameterGroup not found' })))(
    'fails with %s on ModifyDBParameterGroup, naming the call',
    async (_label, make, expected) => {
      rdsMock.on(ModifyDBParameterGroupCommand).rejects(make());

      const error = await rejection(setReadOnlyParameter(rds, 'us-west-2', 'frontier-prod-pg16'));

      expect(error).toBeInstanceOf(expected);
      expect(error.message).toContain('rds:ModifyDBParameterGroup on frontier-prod-pg16 in us-west-2');
    },
  );
});

describe('stopWritesWithParameterGroup', () => {
  const GROUP = 'frontier-prod-source-pg16';
  const byGroup = configWith((c) => {
    c.databases[0]!.recovery!.readOnlyMode = 'parameter-group';
    c.databases[0]!.recovery!.readOnlyParameterGroup = GROUP;
  }).databases[0]!;

  it('is skipped in alter-database mode, and says the next step alters the database', async () => {
    const result = await stopWritesWithParameterGroup(database, GROUP, false, rds, 'us-west-2');

    expect(result).toMatchObject({ data: { applied: false, mode: 'alter-database' }, status: 'skipped' });
    expect(result.detail).toContain('readOnlyMode is alter-database');
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it.each([
    ['uses another group', 'frontier-prod-pg16', 'uses parameter group frontier-prod-pg16, not recovery.readOnlyParameterGroup'],
    ['reports no group', null, 'frontier-prod reports no parameter group'],
  ])('falls back to ALTER DATABASE when the instance %s, changing nothing', async (_label, group, why) => {
    const result = await stopWritesWithParameterGroup(byGroup, group, false, rds, 'us-west-2');

    expect(result).toMatchObject({ data: { applied: false, mode: 'alter-database' }, status: 'skipped' });
    expect(result.detail).toContain(why);
    expect(result.detail).toContain('the next step uses ALTER DATABASE instead');
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('records the exact ModifyDBParameterGroup call in a dry run and makes none', async () => {
    const result = await stopWritesWithParameterGroup(byGroup, GROUP, true, rds, 'us-west-2');

    expect(result.data).toEqual({ applied: false, mode: 'parameter-group' });
    expect(result.actions).toEqual([
      {
        description: `set default_transaction_read_only=1 in frontier-prod's parameter group ${GROUP} (new sessions start read-only)`,
        service: 'rds',
        operation: 'ModifyDBParameterGroup',
        parameters: { DBParameterGroupName: GROUP, Parameters: [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1', ApplyMethod: 'immediate' }] },
        performed: false,
      },
    ]);
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('sets the parameter in the instance\'s own group and records the call as performed', async () => {
    rdsMock.on(ModifyDBParameterGroupCommand).resolves({ DBParameterGroupName: GROUP });

    const result = await stopWritesWithParameterGroup(byGroup, GROUP, false, rds, 'us-west-2');

    expect(result.data).toEqual({ applied: true, mode: 'parameter-group' });
    expect(result.actions?.map((a) => a.performed)).toEqual([true]);
    expect(rdsMock).toHaveReceivedCommandWith(ModifyDBParameterGroupCommand, { DBParameterGroupName: GROUP });
  });

  it.each(rdsFaults(() => new DBParameterGroupNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'DBParameterGroup not found' })))(
    'fails the step with %s from ModifyDBParameterGroup',
    async (_label, make, expected) => {
      rdsMock.on(ModifyDBParameterGroupCommand).rejects(make());

      await expect(stopWritesWithParameterGroup(byGroup, GROUP, false, rds, 'us-west-2')).rejects.toThrow(expected);
    },
  );
});

describe('repointConnectionSecret', () => {
  const TOKEN = 'a'.repeat(48);
  // Our version's token when built on v-old (the real one hashes the base version id: repointToken).
  const tokenFor = (base: string) => (base === 'v-old' ? TOKEN : `${base}`.padEnd(48, 'b'));
  const ENDPOINT = { host: `${RESTORED_ID}.abcdefghij.us-west-2.rds.amazonaws.com`, port: 5432 };
  const CURRENT = {
    engine: 'postgres',
    host: 'frontier-prod.abcdefghij.us-west-2.rds.amazonaws.com',
    port: 5432,
    username: 'frontier_admin',
    password: PASSWORD,
    dbname: 'frontier',
    dbInstanceIdentifier: 'frontier-prod',
  };

  function currentSecret(value: unknown = CURRENT, versionId = 'v-old') {
    secretsMock.on(GetSecretValueCommand).resolves({ Name: SECRET_ID, VersionId: versionId, SecretString: typeof value === 'string' ? value : JSON.stringify(value), VersionStages: ['AWSCURRENT'] });
  }

  it('writes a new AWSCURRENT version with only host and port changed, with the idempotency token', async () => {
    currentSecret();
    secretsMock.on(PutSecretValueCommand).resolves({ Name: SECRET_ID, VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });

    const result = await repointConnectionSecret(secrets, SECRET_ID, { ...ENDPOINT, port: 6432 }, tokenFor);

    expect(secretsMock.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' });
    const put = secretsMock.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
    expect(put).toEqual({ SecretId: SECRET_ID, ClientRequestToken: TOKEN, SecretString: expect.any(String), VersionStages: ['AWSCURRENT'] });
    expect(JSON.parse(put.SecretString!)).toEqual({ ...CURRENT, host: ENDPOINT.host, port: 6432 });
    // Every other key kept, in its place.
    expect(Object.keys(JSON.parse(put.SecretString!))).toEqual(Object.keys(CURRENT));
    expect(result).toEqual({ secretId: SECRET_ID, previousVersionId: 'v-old', newVersionId: TOKEN, previousHost: CURRENT.host, changed: true });
  });

  it.each([
    ['host and port already match', CURRENT.port],
    ['the port is stored as a string', '5432'],
  ])('writes no new version when %s, and names the version an earlier attempt displaced', async (_label, port) => {
    secretsMock
      .on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .resolves({ Name: SECRET_ID, VersionId: TOKEN, SecretString: JSON.stringify({ ...CURRENT, host: ENDPOINT.host, port }), VersionStages: ['AWSCURRENT'] })
      .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
      .resolves({ Name: SECRET_ID, VersionId: 'v-old', SecretString: JSON.stringify(CURRENT), VersionStages: ['AWSPREVIOUS'] });

    const result = await repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor);

    expect(secretsMock).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(result).toEqual({ secretId: SECRET_ID, previousVersionId: 'v-old', newVersionId: TOKEN, previousHost: CURRENT.host, changed: false });
  });

  it('claims no previous version when the secret already pointed there before this recovery (not our version)', async () => {
    secretsMock
      .on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .resolves({ Name: SECRET_ID, VersionId: 'v-set-by-hand', SecretString: JSON.stringify({ ...CURRENT, host: ENDPOINT.host }), VersionStages: ['AWSCURRENT'] })
      .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
      .resolves({ Name: SECRET_ID, VersionId: 'v-old', SecretString: JSON.stringify(CURRENT), VersionStages: ['AWSPREVIOUS'] });

    const result = await repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor);

    expect(secretsMock).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(result).toEqual({ secretId: SECRET_ID, previousVersionId: null, newVersionId: 'v-set-by-hand', previousHost: ENDPOINT.host, changed: false });
  });

  it('reports no previous version when our version has no AWSPREVIOUS beside it', async () => {
    secretsMock
      .on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .resolves({ Name: SECRET_ID, VersionId: TOKEN, SecretString: JSON.stringify({ ...CURRENT, host: ENDPOINT.host }), VersionStages: ['AWSCURRENT'] })
      .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
      .rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS", $metadata: { httpStatusCode: 400 } }));

    const result = await repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor);

    expect(result).toMatchObject({ previousVersionId: null, changed: false });
  });

  it('keeps a port stored as a string a string, and every other key (an sslmode, a proxy host)', async () => {
    const stored = { ...CURRENT, port: '5432', sslmode: 'verify-full', proxyHost: 'frontier-proxy.example' };
    currentSecret(stored);
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: TOKEN });

    await repointConnectionSecret(secrets, SECRET_ID, { ...ENDPOINT, port: 6432 }, tokenFor);

    expect(JSON.parse(secretsMock.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString!)).toEqual({ ...stored, host: ENDPOINT.host, port: '6432' });
  });

  it('writes a new version when only the port differs', async () => {
    currentSecret({ ...CURRENT, host: ENDPOINT.host, port: 5433 });
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: TOKEN });

    const result = await repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor);

    expect(result.changed).toBe(true);
    expect(secretsMock).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
  });

  it('adds host and port to a secret that had none (username and password only)', async () => {
    currentSecret({ username: 'frontier_admin', password: PASSWORD });
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: TOKEN });

    const result = await repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor);

    expect(JSON.parse(secretsMock.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString!)).toEqual({ username: 'frontier_admin', password: PASSWORD, ...ENDPOINT });
    expect(result.previousHost).toBeNull();
  });

  it.each([
    ['plain text', PASSWORD],
    ['truncated JSON', `{"username":"frontier_admin","password":"${PASSWORD}"`],
    ['a JSON array', JSON.stringify([PASSWORD])],
    ['a JSON string', JSON.stringify(PASSWORD)],
    ['JSON null', 'null'],
  ])('refuses a secret that is %s with InvalidConfig, without echoing the value, and writes nothing', async (_label, value) => {
    currentSecret(value);

    const error = await rejection(repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor));

    expect(error).toBeInstanceOf(InvalidConfig);
    expect(error.message).toBe(`secret ${SECRET_ID} is not a JSON object: cannot change its host`);
    expect(`${error.message} ${String(error.stack)} ${JSON.stringify(error)} ${String(error.cause ?? '')}`).not.toContain(PASSWORD);
    expect(secretsMock).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  it.each(secretsFaults)('fails with %s on GetSecretValue, naming the call, and writes nothing', async (_label, make, expected) => {
    secretsMock.on(GetSecretValueCommand).rejects(make());

    const error = await rejection(repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain(`secretsmanager:GetSecretValue on ${SECRET_ID}`);
    expect(secretsMock).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  it.each(secretsFaults)('fails with %s on PutSecretValue, naming the call, without the secret value', async (_label, make, expected) => {
    currentSecret();
    secretsMock.on(PutSecretValueCommand).rejects(make());

    const error = await rejection(repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain(`secretsmanager:PutSecretValue on ${SECRET_ID}`);
    expect(error.message).not.toContain(PASSWORD);
  });

  it('names the version it builds on in the token: a secret changed since (rotated) gets a new token, not the used one', async () => {
    // An earlier recovery to the same instance id used TOKEN on v-old; a rotation then made v-rotated AWSCURRENT.
    currentSecret({ ...CURRENT, password: 'rotated-password' }, 'v-rotated');
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: tokenFor('v-rotated') });

    const result = await repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor);

    expect(secretsMock).toHaveReceivedCommandWith(PutSecretValueCommand, { ClientRequestToken: tokenFor('v-rotated') });
    expect(secretsMock).not.toHaveReceivedCommandWith(PutSecretValueCommand, { ClientRequestToken: TOKEN });
    expect(result).toMatchObject({ previousVersionId: 'v-rotated', changed: true });
  });

  it('retries with the same token when the first attempt\'s write was lost: Secrets Manager returns that version', async () => {
    // The first attempt's PutSecretValue timed out before AWSCURRENT moved: the retry reads the same base.
    currentSecret();
    secretsMock.on(PutSecretValueCommand).rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })).resolves({ VersionId: TOKEN });

    await expect(repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor)).rejects.toThrow();
    const result = await repointConnectionSecret(secrets, SECRET_ID, ENDPOINT, tokenFor);

    const puts = secretsMock.commandCalls(PutSecretValueCommand).map((call) => call.args[0].input);
    expect(puts).toHaveLength(2);
    expect(puts[1]).toEqual(puts[0]);
    expect(puts[1]!.ClientRequestToken).toBe(TOKEN);
    expect(result).toMatchObject({ newVersionId: TOKEN, previousVersionId: 'v-old', changed: true });
  });
});

describe('databaseUrl', () => {
  it('URL-encodes the user, the password and the database name', () => {
    const password = 'p@ss:w/rd?#% &=+x';
    const url = databaseUrl({ username: 'frontier admin', password }, { host: 'restored.example', port: 6432 }, 'frontier/db');

    expect(url).toBe('postgresql://frontier%20admin:p%40ss%3Aw%2Frd%3F%23%25%20%26%3D%2Bx@restored.example:6432/frontier%2Fdb');
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.username)).toBe('frontier admin');
    expect(decodeURIComponent(parsed.password)).toBe(password);
    expect(parsed.hostname).toBe('restored.example');
    expect(parsed.port).toBe('6432');
    expect(decodeURIComponent(parsed.pathname.slice(1))).toBe('frontier/db');
  });
});

describe('repointDatabaseUrl', () => {
  const PASSWORD_CHARS = 'p@ss:w/rd?#% &=+x';
  const ENCODED = encodeURIComponent(PASSWORD_CHARS);
  const NEW = { host: 'frontier-prod-r-202611251150.abcdefghij.us-west-2.rds.amazonaws.com', port: 5432 };
  const QUERY = 'sslmode=verify-full&sslrootcert=/etc/ssl/certs/rds-global-bundle.pem&application_name=frontier-api&connect_timeout=5';
  const WHAT = 'the database URL in production/frontier-secrets key database-url';

  it('changes only the host of the issue-8 URL: every query parameter stays (TLS is not weakened)', () => {
    const old = `postgresql://frontier_admin:${ENCODED}@frontier-prod.abcdefghij.us-west-2.rds.amazonaws.com:5432/frontier?${QUERY}`;

    const edited = repointDatabaseUrl(old, NEW, WHAT);

    expect(edited).toBe(`postgresql://frontier_admin:${ENCODED}@${NEW.host}:5432/frontier?${QUERY}`);
    const url = new URL(edited);
    expect(decodeURIComponent(url.password)).toBe(PASSWORD_CHARS);
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
  });

  it.each([
    ['postgres:// with a port', `postgres://frontier_admin:${ENCODED}@old.example:5432/frontier?${QUERY}`, `postgres://frontier_admin:${ENCODED}@[2001:db8::7]:6432/frontier?${QUERY}`, { host: '2001:db8::7', port: 6432 }],
    ['postgresql:// without a port, new port the default', `postgresql://frontier_admin:${ENCODED}@old.example/frontier`, `postgresql://frontier_admin:${ENCODED}@new.example/frontier`, { host: 'new.example', port: 5432 }],
    ['postgresql:// without a port, new port another', `postgresql://frontier_admin:${ENCODED}@old.example/frontier`, `postgresql://frontier_admin:${ENCODED}@new.example:6432/frontier`, { host: 'new.example', port: 6432 }],
    ['an IPv6 host to a name', `postgresql://frontier_admin:${ENCODED}@[::1]:5432/frontier?sslmode=require`, `postgresql://frontier_admin:${ENCODED}@new.example:5432/frontier?sslmode=require`, { host: 'new.example', port: 5432 }],
    ['an IPv6 host to an IPv6 host', `postgresql://u:${ENCODED}@[fd00::1]:5432/db`, `postgresql://u:${ENCODED}@[fd00::2]:5432/db`, { host: 'fd00::2', port: 5432 }],
    ['no password, a fragment', 'postgresql://frontier_admin@old.example:5432/frontier#primary', 'postgresql://frontier_admin@new.example:5432/frontier#primary', { host: 'new.example', port: 5432 }],
  ])('keeps everything but host and port: %s', (_label, old, expected, endpoint) => {
    expect(repointDatabaseUrl(old, endpoint, WHAT)).toBe(expected);
  });

  it.each([
    ['not a URL', 'host=old.example port=5432 dbname=frontier', 'is not a URL'],
    ['several hosts', 'postgresql://u:p@h1:5432,h2:5432/db', 'is not a URL'],
    ['another scheme', 'mysql://u:p@old.example:3306/db', 'is a mysql:// URL, not postgresql:// or postgres://'],
    ['no host', 'postgresql:///frontier?host=/var/run/postgresql', 'names no host'],
    ['a host in its query', 'postgresql://u:p@old.example/db?host=old.example', 'sets host in its query'],
    ['hostaddr and port in its query', 'postgresql://u:p@old.example/db?hostaddr=10.0.0.5&port=5433', 'sets hostaddr, port in its query'],
  ])('refuses a URL with %s (InvalidConfig, never quoting it)', (_label, old, message) => {
    const run = () => repointDatabaseUrl(old, NEW, WHAT);

    expect(run).toThrow(InvalidConfig);
    expect(run).toThrow(message);
    try {
      run();
    } catch (error) {
      expect((error as Error).message).not.toContain(':p@');
    }
  });
});
