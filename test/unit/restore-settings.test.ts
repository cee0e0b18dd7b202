// shared/restore-settings.ts: every setting of a restored instance comes from the config or else from
// the source instance as assessed, never from an RDS default, and says where it came from (issue 8:
// with recovery.parameterGroup omitted, the restore went out without DBParameterGroupName).
import type { DBInstance } from '@aws-sdk/client-rds';
import { InvalidConfig } from '../../shared/errors.js';
import type { RestorePoint } from '../../shared/restore-point.js';
import { describeRestoreSettings, resolveRestoreSettings, restoreParameters, type RestoreSetting } from '../../shared/restore-settings.js';
import { configWith, dbInstance, exampleConfig, hoursAgo, minutesAgo } from '../support/fixtures.js';

const KMS_KEY = 'arn:aws:kms:us-west-2:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666';
const FROM_SOURCE = 'from source instance frontier-prod';

/** The source as DescribeDBInstances shows a fully configured production instance. */
function source(options: Partial<DBInstance> = {}): DBInstance {
  return dbInstance('frontier-prod', {
    DBInstanceClass: 'db.r6g.xlarge',
    MultiAZ: true,
    Engine: 'postgres',
    EngineVersion: '16.4',
    StorageEncrypted: true,
    KmsKeyId: KMS_KEY,
    AllocatedStorage: 500,
    StorageType: 'gp3',
    Iops: 12_000,
    StorageThroughput: 500,
    MaxAllocatedStorage: 1000,
    DBSubnetGroup: { DBSubnetGroupName: 'frontier-prod-private' },
    VpcSecurityGroups: [
      { VpcSecurityGroupId: 'sg-0aaa1111bbbb2222c', Status: 'active' },
      { VpcSecurityGroupId: 'sg-0ddd3333eeee4444f', Status: 'removing' },
    ],
    DBParameterGroups: [{ DBParameterGroupName: 'frontier-prod-source-pg16', ParameterApplyStatus: 'in-sync' }],
    OptionGroupMemberships: [{ OptionGroupName: 'frontier-prod-og16', Status: 'in-sync' }],
    Endpoint: { Address: 'frontier-prod.abcdefghij.us-west-2.rds.amazonaws.com', Port: 6432 },
    IAMDatabaseAuthenticationEnabled: true,
    CopyTagsToSnapshot: true,
    CACertificateIdentifier: 'rds-ca-rsa4096-g1',
    AutoMinorVersionUpgrade: false,
    EnabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
    NetworkType: 'DUAL',
    BackupRetentionPeriod: 14,
    PreferredBackupWindow: '03:00-03:30',
    EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
    ...options,
  });
}

const PITR: RestorePoint = { kind: 'point-in-time', time: minutesAgo(15).toISOString(), reason: 'r', rejected: [], dataLossMinutes: 5 };
const SNAPSHOT: RestorePoint = {
  kind: 'snapshot',
  snapshot: {
    id: 'pre-migration-20261128',
    arn: 'arn:aws:rds:us-west-2:123456789012:snapshot:pre-migration-20261128',
    type: 'manual',
    createdAt: hoursAgo(4).toISOString(),
    encrypted: true,
    kmsKeyId: KMS_KEY,
    engineVersion: '16.3',
    region: 'us-west-2',
    sourceInstance: 'frontier-prod',
  },
  reason: 'named',
  rejected: [],
  dataLossMinutes: 240,
};

/** A config whose recovery section names nothing but what the schema requires. */
const minimal = configWith((c) => {
  const recovery = c.databases[0]!.recovery!;
  for (const key of ['instanceClass', 'multiAz', 'subnetGroup', 'securityGroupIds', 'parameterGroup'] as const) delete recovery[key];
}).databases[0]!;

function setting(settings: RestoreSetting[], parameter: string): RestoreSetting | undefined {
  return settings.find((s) => s.parameter === parameter);
}

describe('resolveRestoreSettings', () => {
  it('takes every setting the config omits from the source instance, and says so (issue 8: the parameter group)', () => {
    const settings = resolveRestoreSettings(minimal, source(), PITR);

    expect(setting(settings, 'DBParameterGroupName')).toEqual({ parameter: 'DBParameterGroupName', value: 'frontier-prod-source-pg16', origin: 'source-instance', from: FROM_SOURCE, sent: true });
    expect(restoreParameters(settings)).toEqual({
      DBInstanceClass: 'db.r6g.xlarge',
      MultiAZ: true,
      DBSubnetGroupName: 'frontier-prod-private',
      // A group being removed from the source is not carried over.
      VpcSecurityGroupIds: ['sg-0aaa1111bbbb2222c'],
      DBParameterGroupName: 'frontier-prod-source-pg16',
      OptionGroupName: 'frontier-prod-og16',
      Port: 6432,
      StorageType: 'gp3',
      Iops: 12_000,
      StorageThroughput: 500,
      EnableIAMDatabaseAuthentication: true,
      CopyTagsToSnapshot: true,
      CACertificateIdentifier: 'rds-ca-rsa4096-g1',
      AutoMinorVersionUpgrade: false,
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
      NetworkType: 'DUAL',
      BackupRetentionPeriod: 14,
      PreferredBackupWindow: '03:00-03:30',
      EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
      MaxAllocatedStorage: 1000,
      PubliclyAccessible: false,
      DeletionProtection: true,
    });
    for (const s of settings.filter((s) => s.sent && s.origin !== 'policy')) expect(s).toMatchObject({ origin: 'source-instance', from: FROM_SOURCE });
  });

  it('prefers every setting the config names, and says which field it came from', () => {
    const configured = configWith((c) => {
      Object.assign(c.databases[0]!.recovery!, {
        optionGroup: 'frontier-dr-og16',
        port: 5433,
        storageType: 'io2',
        iamDatabaseAuthentication: false,
        copyTagsToSnapshot: false,
        caCertificateIdentifier: 'rds-ca-ecc384-g1',
      });
    }).databases[0]!;

    const settings = resolveRestoreSettings(configured, source(), PITR);

    expect(restoreParameters(settings)).toMatchObject({
      DBInstanceClass: 'db.r6g.large',
      MultiAZ: true,
      DBSubnetGroupName: 'frontier-prod-db',
      VpcSecurityGroupIds: ['sg-0b1c2d3e4f5a60718'],
      DBParameterGroupName: 'frontier-prod-pg16',
      OptionGroupName: 'frontier-dr-og16',
      Port: 5433,
      StorageType: 'io2',
      EnableIAMDatabaseAuthentication: false,
      CopyTagsToSnapshot: false,
      CACertificateIdentifier: 'rds-ca-ecc384-g1',
    });
    expect(setting(settings, 'DBParameterGroupName')).toMatchObject({ origin: 'config', from: 'from config (recovery.parameterGroup)' });
    expect(setting(settings, 'CACertificateIdentifier')).toMatchObject({ origin: 'config', from: 'from config (recovery.caCertificateIdentifier)' });
    // The source's gp3 IOPS and throughput do not belong to another storage type.
    expect(setting(settings, 'Iops')).toBeUndefined();
    expect(setting(settings, 'StorageThroughput')).toBeUndefined();
  });

  it('never makes the restored instance public or unprotected, whatever the source was', () => {
    const settings = resolveRestoreSettings(minimal, source({ PubliclyAccessible: true, DeletionProtection: false }), PITR);

    expect(setting(settings, 'PubliclyAccessible')).toMatchObject({ value: false, origin: 'policy' });
    expect(setting(settings, 'DeletionProtection')).toMatchObject({ value: true, origin: 'policy' });
  });

  it('records the KMS key and engine version a point-in-time restore keeps from the source (not sent: no restore call takes them)', () => {
    const settings = resolveRestoreSettings(minimal, source(), PITR);

    expect(setting(settings, 'KmsKeyId')).toEqual({ parameter: 'KmsKeyId', value: KMS_KEY, origin: 'restore-point', from: `${FROM_SOURCE} (point-in-time restores keep it)`, sent: false });
    expect(setting(settings, 'EngineVersion')).toMatchObject({ value: '16.4', sent: false });
    expect(setting(settings, 'StorageEncrypted')).toMatchObject({ value: true, sent: false });
    expect(restoreParameters(settings)).not.toHaveProperty('KmsKeyId');
    expect(restoreParameters(settings)).not.toHaveProperty('EngineVersion');
  });

  it('for a snapshot, records the snapshot\'s key and version and leaves out what only point-in-time restores take', () => {
    const settings = resolveRestoreSettings(minimal, source(), SNAPSHOT);

    expect(setting(settings, 'KmsKeyId')).toMatchObject({ value: KMS_KEY, from: 'from snapshot pre-migration-20261128 (snapshot restores keep it)', sent: false });
    expect(setting(settings, 'EngineVersion')).toMatchObject({ value: '16.3', sent: false });
    expect(restoreParameters(settings)).not.toHaveProperty('MaxAllocatedStorage');
  });

  it("records a source's default option group without sending it (the restore gets its own version's default)", () => {
    const settings = resolveRestoreSettings(minimal, source({ OptionGroupMemberships: [{ OptionGroupName: 'default:postgres-16', Status: 'in-sync' }] }), PITR);

    expect(setting(settings, 'OptionGroupName')).toMatchObject({ value: 'default:postgres-16', sent: false, from: expect.stringContaining(`${FROM_SOURCE} (a default option group`) });
    expect(restoreParameters(settings)).not.toHaveProperty('OptionGroupName');
  });

  it('sends no IOPS for a gp3 volume below 400 GiB, where they cannot be set', () => {
    const settings = resolveRestoreSettings(minimal, source({ AllocatedStorage: 100, Iops: 3000, StorageThroughput: 125 }), PITR);

    expect(restoreParameters(settings)).not.toHaveProperty('Iops');
    expect(restoreParameters(settings)).not.toHaveProperty('StorageThroughput');
  });

  it('sends the provisioned IOPS of an io1 source', () => {
    const settings = resolveRestoreSettings(minimal, source({ StorageType: 'io1', Iops: 20_000, AllocatedStorage: 100 }), PITR);

    expect(restoreParameters(settings)).toMatchObject({ StorageType: 'io1', Iops: 20_000 });
    expect(restoreParameters(settings)).not.toHaveProperty('StorageThroughput');
  });

  it.each<[string, string, Partial<DBInstance>]>([
    ['subnetGroup', 'DBSubnetGroupName', { DBSubnetGroup: undefined }],
    ['securityGroupIds', 'VpcSecurityGroupIds', { VpcSecurityGroups: [] }],
    ['parameterGroup', 'DBParameterGroupName', { DBParameterGroups: [] }],
    ['instanceClass', 'DBInstanceClass', { DBInstanceClass: undefined }],
  ])('refuses with InvalidConfig naming recovery.%s when neither the config nor the source has it', (field, parameter, missing) => {
    const run = () => resolveRestoreSettings(minimal, source(missing), PITR);

    expect(run).toThrow(InvalidConfig);
    expect(run).toThrow(`recovery.${field} of database frontier-prod is not set and the source instance reports no ${parameter}`);
  });

  it('refuses to give the restored instance the group read-only mode makes read-only', () => {
    const byGroup = configWith((c) => {
      c.databases[0]!.recovery!.readOnlyMode = 'parameter-group';
      c.databases[0]!.recovery!.readOnlyParameterGroup = 'frontier-prod-source-pg16';
    }).databases[0]!;
    const withoutGroup = { ...byGroup, recovery: { ...byGroup.recovery!, parameterGroup: undefined } };

    expect(() => resolveRestoreSettings(withoutGroup, source(), PITR)).toThrow(
      'the restored instance of frontier-prod would get parameter group frontier-prod-source-pg16 (from source instance frontier-prod), which readOnlyMode parameter-group makes read-only',
    );
    expect(setting(resolveRestoreSettings(byGroup, source(), PITR), 'DBParameterGroupName')).toMatchObject({ value: 'frontier-prod-pg16', origin: 'config' });
  });

  it('describes each setting with its origin for the report', () => {
    const text = describeRestoreSettings(resolveRestoreSettings(minimal, source(), PITR));

    expect(text).toContain(`DBParameterGroupName frontier-prod-source-pg16 (${FROM_SOURCE})`);
    expect(text).toContain(`VpcSecurityGroupIds sg-0aaa1111bbbb2222c (${FROM_SOURCE})`);
    expect(text).toContain('DeletionProtection true (recovery policy: a restored instance is always deletion-protected)');
    expect(text).toContain(`KmsKeyId ${KMS_KEY} (${FROM_SOURCE} (point-in-time restores keep it))`);
  });

  it('uses the example config unchanged: the class, network and parameter group it names', () => {
    const settings = resolveRestoreSettings(exampleConfig().databases[0]!, source(), PITR);

    expect(settings.filter((s) => s.origin === 'config').map((s) => s.parameter)).toEqual(['DBInstanceClass', 'MultiAZ', 'DBSubnetGroupName', 'VpcSecurityGroupIds', 'DBParameterGroupName']);
  });
});
