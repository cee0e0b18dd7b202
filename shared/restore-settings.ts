// What the restored instance is made of. RDS fills every restore parameter left out with a default of
// its own (the engine's default parameter group, the default option group, the newest CA, gp2...),
// silently, and a default is rarely what the damaged instance had: a restored instance that boots with
// another parameter group, CA or storage is a second outage. So every setting comes from the config
// or else from the source instance as the assessment found it, and each one says where it came from.
// Pure: the facts come in as arguments, so the choice is easy to test and goes into the report as made.
import type { DBInstance } from '@aws-sdk/client-rds';
import type { DatabaseConfig } from './config.js';
import { InvalidConfig } from './errors.js';
import type { RestorePoint } from './restore-point.js';

export type SettingOrigin = 'config' | 'source-instance' | 'restore-point' | 'policy';

export type SettingValue = string | number | boolean | string[];

export interface RestoreSetting {
  /** The restore call's parameter; for what no restore call can set (sent: false), the DBInstance field. */
  parameter: string;
  value: SettingValue;
  origin: SettingOrigin;
  /** For the report: `from config (recovery.parameterGroup)`, `from source instance frontier-prod`... */
  from: string;
  /** False for what RDS takes from the restore point and no restore call changes (KMS key, engine version). */
  sent: boolean;
}

type RecoverySection = NonNullable<DatabaseConfig['recovery']>;

/** Restore parameters taken from the config when it names them, else from the source instance. */
const CONFIGURABLE: {
  parameter: string;
  field: keyof RecoverySection & string;
  fromSource: (source: DBInstance) => SettingValue | undefined;
  /** Without it the restore would silently fall back to an RDS default: refuse instead. */
  required?: boolean;
  /** Why the source's value is recorded but not sent, or null to send it. */
  keptBy?: (value: SettingValue) => string | null;
}[] = [
  { parameter: 'DBInstanceClass', field: 'instanceClass', fromSource: (s) => s.DBInstanceClass, required: true },
  { parameter: 'MultiAZ', field: 'multiAz', fromSource: (s) => s.MultiAZ },
  { parameter: 'DBSubnetGroupName', field: 'subnetGroup', fromSource: (s) => s.DBSubnetGroup?.DBSubnetGroupName, required: true },
  {
    parameter: 'VpcSecurityGroupIds',
    field: 'securityGroupIds',
    fromSource: (s) => {
      const ids = (s.VpcSecurityGroups ?? []).filter((g) => g.VpcSecurityGroupId && g.Status !== 'removing').map((g) => g.VpcSecurityGroupId as string);
      return ids.length ? ids : undefined;
    },
    required: true,
  },
  { parameter: 'DBParameterGroupName', field: 'parameterGroup', fromSource: (s) => s.DBParameterGroups?.[0]?.DBParameterGroupName, required: true },
  {
    parameter: 'OptionGroupName',
    field: 'optionGroup',
    fromSource: (s) => s.OptionGroupMemberships?.[0]?.OptionGroupName,
    // A default option group is per engine version, and the restore gets the one of its own version:
    // naming the source's would fail a restore of another minor version for nothing.
    keptBy: (value) => (String(value).startsWith('default:') ? "a default option group: RDS gives the restored instance its engine version's default" : null),
  },
  { parameter: 'Port', field: 'port', fromSource: (s) => s.Endpoint?.Port ?? s.DbInstancePort },
  { parameter: 'StorageType', field: 'storageType', fromSource: (s) => s.StorageType },
  { parameter: 'EnableIAMDatabaseAuthentication', field: 'iamDatabaseAuthentication', fromSource: (s) => s.IAMDatabaseAuthenticationEnabled },
  { parameter: 'CopyTagsToSnapshot', field: 'copyTagsToSnapshot', fromSource: (s) => s.CopyTagsToSnapshot },
  { parameter: 'CACertificateIdentifier', field: 'caCertificateIdentifier', fromSource: (s) => s.CACertificateIdentifier },
];

/** Restore parameters with no config field: the source's, so that the restored instance behaves as it did. */
const FROM_SOURCE_ONLY: { parameter: string; fromSource: (source: DBInstance) => SettingValue | undefined; pointInTimeOnly?: boolean }[] = [
  { parameter: 'AutoMinorVersionUpgrade', fromSource: (s) => s.AutoMinorVersionUpgrade },
  { parameter: 'EnableCloudwatchLogsExports', fromSource: (s) => (s.EnabledCloudwatchLogsExports?.length ? s.EnabledCloudwatchLogsExports : undefined) },
  { parameter: 'NetworkType', fromSource: (s) => s.NetworkType },
  { parameter: 'BackupRetentionPeriod', fromSource: (s) => s.BackupRetentionPeriod },
  { parameter: 'PreferredBackupWindow', fromSource: (s) => s.PreferredBackupWindow },
  // Without it RDS enrols the restored instance in paid extended support.
  { parameter: 'EngineLifecycleSupport', fromSource: (s) => s.EngineLifecycleSupport },
  { parameter: 'DedicatedLogVolume', fromSource: (s) => s.DedicatedLogVolume },
  // Storage autoscaling's ceiling; RestoreDBInstanceFromDBSnapshot has no such parameter.
  { parameter: 'MaxAllocatedStorage', fromSource: (s) => s.MaxAllocatedStorage, pointInTimeOnly: true },
];

/** Below this size, PostgreSQL gp3 volumes have fixed baseline IOPS and throughput that cannot be set. */
const GP3_CONFIGURABLE_FROM_GIB = 400;

/** Never public, always deletion-protected, whatever the source was: a recovery never destroys and never exposes. */
const POLICY: { parameter: string; value: SettingValue; why: string }[] = [
  { parameter: 'PubliclyAccessible', value: false, why: 'recovery policy: a restored instance is never public' },
  { parameter: 'DeletionProtection', value: true, why: 'recovery policy: a restored instance is always deletion-protected' },
];

/**
 * Every setting of the instance `database` is restored to, each with where it came from: the config's
 * recovery section, else the source instance (as DescribeDBInstances showed it to the assessment),
 * else, for the two safety settings, recovery policy. The KMS key and the engine version are recorded
 * too (sent: false): no restore call sets them, RDS takes them from the restore point.
 *
 * Throws InvalidConfig naming the field when a setting RDS would otherwise default (instance class,
 * subnet group, security groups, parameter group) is neither configured nor found on the source, and
 * when the parameter group resolved is the one read-only mode makes read-only.
 */
export function resolveRestoreSettings(database: DatabaseConfig, source: DBInstance, point: RestorePoint): RestoreSetting[] {
  const recovery = database.recovery;
  if (!recovery) throw new InvalidConfig(`database ${database.name} has no recovery section: database-recovery cannot run for it`);
  const fromSource = `from source instance ${database.name}`;
  const settings: RestoreSetting[] = [];
  for (const setting of CONFIGURABLE) {
    const configured = recovery[setting.field] as SettingValue | undefined;
    if (configured !== undefined) {
      settings.push({ parameter: setting.parameter, value: configured, origin: 'config', from: `from config (recovery.${setting.field})`, sent: true });
      continue;
    }
    const value = setting.fromSource(source);
    if (value !== undefined) {
      const kept = setting.keptBy?.(value) ?? null;
      settings.push({ parameter: setting.parameter, value, origin: 'source-instance', from: kept ? `${fromSource} (${kept})` : fromSource, sent: kept === null });
    } else if (setting.required) {
      throw new InvalidConfig(
        `recovery.${setting.field} of database ${database.name} is not set and the source instance reports no ${setting.parameter}: set it in the config (a restore without it gets an RDS default)`,
      );
    }
  }
  const parameterGroup = settings.find((s) => s.parameter === 'DBParameterGroupName');
  if (recovery.readOnlyMode === 'parameter-group' && parameterGroup && parameterGroup.value === recovery.readOnlyParameterGroup) {
    throw new InvalidConfig(
      `the restored instance of ${database.name} would get parameter group ${String(parameterGroup.value)} (${parameterGroup.from}), which readOnlyMode parameter-group makes read-only: set recovery.parameterGroup to another group`,
    );
  }

  // Provisioned IOPS and throughput go with the storage type they belong to, and only the source's.
  const storageType = settings.find((s) => s.parameter === 'StorageType')?.value;
  if (storageType === source.StorageType) {
    const provisioned = storageType === 'io1' || storageType === 'io2' || (storageType === 'gp3' && (source.AllocatedStorage ?? 0) >= GP3_CONFIGURABLE_FROM_GIB);
    if (provisioned && source.Iops !== undefined) settings.push({ parameter: 'Iops', value: source.Iops, origin: 'source-instance', from: fromSource, sent: true });
    if (provisioned && storageType === 'gp3' && source.StorageThroughput !== undefined) {
      settings.push({ parameter: 'StorageThroughput', value: source.StorageThroughput, origin: 'source-instance', from: fromSource, sent: true });
    }
  }
  for (const setting of FROM_SOURCE_ONLY) {
    if (setting.pointInTimeOnly && point.kind !== 'point-in-time') continue;
    const value = setting.fromSource(source);
    if (value !== undefined) settings.push({ parameter: setting.parameter, value, origin: 'source-instance', from: fromSource, sent: true });
  }
  for (const policy of POLICY) settings.push({ parameter: policy.parameter, value: policy.value, origin: 'policy', from: policy.why, sent: true });

  // What the restore point decides and no restore call can change.
  if (point.kind === 'point-in-time') {
    settings.push({ parameter: 'StorageEncrypted', value: source.StorageEncrypted === true, origin: 'restore-point', from: `${fromSource} (point-in-time restores keep it)`, sent: false });
    if (source.KmsKeyId) settings.push({ parameter: 'KmsKeyId', value: source.KmsKeyId, origin: 'restore-point', from: `${fromSource} (point-in-time restores keep it)`, sent: false });
    if (source.EngineVersion) settings.push({ parameter: 'EngineVersion', value: source.EngineVersion, origin: 'restore-point', from: `${fromSource} (point-in-time restores keep it)`, sent: false });
  } else {
    const snapshot = point.snapshot;
    const fromSnapshot = `from snapshot ${snapshot.id} (snapshot restores keep it)`;
    settings.push({ parameter: 'StorageEncrypted', value: snapshot.encrypted, origin: 'restore-point', from: fromSnapshot, sent: false });
    if (snapshot.kmsKeyId) settings.push({ parameter: 'KmsKeyId', value: snapshot.kmsKeyId, origin: 'restore-point', from: fromSnapshot, sent: false });
    if (snapshot.engineVersion) settings.push({ parameter: 'EngineVersion', value: snapshot.engineVersion, origin: 'restore-point', from: fromSnapshot, sent: false });
  }
  return settings;
}

/** The parameters a restore call sends, from the settings (sent: true only). */
export function restoreParameters(settings: readonly RestoreSetting[]): Record<string, SettingValue> {
  return Object.fromEntries(settings.filter((s) => s.sent).map((s) => [s.parameter, s.value]));
}

function shown(value: SettingValue): string {
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** `DBParameterGroupName frontier-prod-pg16 (from config (recovery.parameterGroup)); ...` for the report. */
export function describeRestoreSettings(settings: readonly RestoreSetting[]): string {
  return settings.map((s) => `${s.parameter} ${shown(s.value)} (${s.from})`).join('; ');
}
