// Backup verification: can each protected database be recovered, in the recovery region, within its
// RPO? Every finding is a Check with the measured value and the target, never just a boolean.
import {
  DBInstanceAlreadyExistsFault,
  DescribeDBInstancesCommand,
  paginateDescribeDBInstanceAutomatedBackups,
  paginateDescribeDBSnapshots,
  type DBInstanceAutomatedBackup,
  type DBInstance,
  type DBSnapshot,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { DatabaseConfig, DeploymentConfig } from './config.js';
import { findObjective } from './config.js';
import { awsCall, classifyAwsError, ResourceNotFound, UnexpectedResourceState } from './errors.js';
import { INCIDENT_TAG, SOURCE_TAG } from './names.js';
import { evaluateObjective, minutesBetween, type ObjectiveResult } from './objectives.js';
import type { Check } from './report.js';
import type { StepResult } from './steps.js';

export interface SnapshotSummary {
  id: string;
  arn: string;
  type: 'manual' | 'automated';
  createdAt: string;
  encrypted: boolean;
  region: string;
  sourceInstance: string;
  /** The engine version the snapshot restores (RDS restores cannot change it). */
  engineVersion?: string;
  /** The KMS key the restored instance will be encrypted with (RDS restores cannot change it). */
  kmsKeyId?: string;
  /** The account that owns it, when another than the one restoring (a shared snapshot). */
  sharedFrom?: string;
}

function summarise(s: DBSnapshot, region: string, fallbackInstance: string): SnapshotSummary {
  return {
    id: s.DBSnapshotIdentifier as string,
    arn: s.DBSnapshotArn ?? (s.DBSnapshotIdentifier as string),
    type: s.SnapshotType === 'automated' ? ('automated' as const) : ('manual' as const),
    createdAt: (s.SnapshotCreateTime as Date).toISOString(),
    encrypted: s.Encrypted === true,
    region,
    sourceInstance: s.DBInstanceIdentifier ?? fallbackInstance,
    ...(s.EngineVersion ? { engineVersion: s.EngineVersion } : {}),
    ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}),
  };
}

/**
 * Usable snapshots of one database in one region, newest first: status `available`, automated ones,
 * and manual ones whose identifier starts with the configured prefix (copies in the recovery region
 * are manual snapshots that keep the source instance identifier).
 */
export async function listUsableSnapshots(rds: RDSClient, region: string, database: DatabaseConfig): Promise<SnapshotSummary[]> {
  const snapshots: DBSnapshot[] = [];
  await awsCall('rds:DescribeDBSnapshots', `${database.name} in ${region}`, async () => {
    for await (const page of paginateDescribeDBSnapshots({ client: rds, pageSize: 100 }, { DBInstanceIdentifier: database.name })) {
      snapshots.push(...(page.DBSnapshots ?? []));
    }
  });
  return snapshots
    .filter((s) => s.Status === 'available' && s.SnapshotCreateTime && s.DBSnapshotIdentifier)
    .filter((s) => s.SnapshotType === 'automated' || (s.DBSnapshotIdentifier ?? '').startsWith(database.snapshotPrefix))
    .map((s) => summarise(s, region, database.name))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** The parts of a snapshot ARN: `arn:<partition>:rds:<region>:<account>:snapshot:<id>`. */
export function parseSnapshotArn(arn: string): { region: string; account: string; id: string } | null {
  const match = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):snapshot:(.+)$/.exec(arn);
  return match ? { region: match[1]!, account: match[2]!, id: match[3]! } : null;
}

/**
 * The snapshot an operator named, looked up as named (rds:DescribeDBSnapshots): by identifier, or by
 * ARN. None of the automatic choice's filters apply (instance, prefix): `pre-migration-20261128` or a
 * snapshot shared from another account is as good as any. An ARN of this account (the source
 * instance's, `account`) in this region is looked up by its identifier; one of another account is
 * looked up by ARN among the snapshots shared with this account (SnapshotType shared, IncludeShared),
 * and the answer is matched on the ARN. An automated snapshot's identifier (`rds:...`) is looked up
 * with SnapshotType automated, as the API asks.
 *
 * Throws ResourceNotFound (not found, or not in this region: a restore cannot use a snapshot of
 * another region, copy it first), UnexpectedResourceState (not `available`), and what awsCall throws.
 */
export async function findNamedSnapshot(rds: RDSClient, region: string, named: string, account: string | null): Promise<SnapshotSummary> {
  const arn = named.startsWith('arn:') ? parseSnapshotArn(named) : null;
  if (named.startsWith('arn:') && !arn) throw new ResourceNotFound(`snapshot ${named} is not a DB snapshot ARN`);
  if (arn && arn.region !== region) {
    throw new ResourceNotFound(
      `snapshot ${named} is in ${arn.region}, and a restore in ${region} can only use a snapshot of ${region}: copy it first (aws rds copy-db-snapshot --region ${region} --source-db-snapshot-identifier ${named} ...) and name the copy`,
    );
  }
  const shared = arn !== null && account !== null && arn.account !== account;
  const identifier = arn && !shared ? arn.id : named;
  const automated = identifier.startsWith('rds:');
  const input = shared
    ? { DBSnapshotIdentifier: named, SnapshotType: 'shared', IncludeShared: true }
    : { DBSnapshotIdentifier: identifier, ...(automated ? { SnapshotType: 'automated' } : {}) };
  const where = shared ? `${named} (shared with this account) in ${region}` : `${named} in ${region}`;
  const found: DBSnapshot[] = [];
  try {
    await awsCall('rds:DescribeDBSnapshots', where, async () => {
      for await (const page of paginateDescribeDBSnapshots({ client: rds, pageSize: 100 }, input)) found.push(...(page.DBSnapshots ?? []));
    });
  } catch (error) {
    if (!(error instanceof ResourceNotFound)) throw error;
  }
  const snapshot = shared
    ? found.find((s) => s.DBSnapshotArn === named)
    : found.find((s) => (s.DBSnapshotIdentifier ?? '').toLowerCase() === identifier.toLowerCase() || s.DBSnapshotArn === named);
  if (!snapshot || !snapshot.DBSnapshotIdentifier) {
    throw new ResourceNotFound(
      shared
        ? `snapshot ${named} is not shared with this account (${account}) in ${region}: the owner must share it (aws rds modify-db-snapshot-attribute --attribute-name restore --values-to-add ${account}) and, for an encrypted one, grant the KMS key`
        : `snapshot ${named} does not exist in ${region}`,
    );
  }
  if (snapshot.Status !== 'available' || !snapshot.SnapshotCreateTime) {
    throw new UnexpectedResourceState(`snapshot ${named} is '${snapshot.Status ?? 'unknown'}', not available: a restore cannot start from it yet`);
  }
  return { ...summarise(snapshot, region, snapshot.DBInstanceIdentifier ?? 'unknown'), ...(shared ? { sharedFrom: arn.account } : {}) };
}

export async function describeInstance(rds: RDSClient, region: string, identifier: string): Promise<DBInstance> {
  const answer = await awsCall('rds:DescribeDBInstances', `${identifier} in ${region}`, () =>
    rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier })),
  );
  const instance = answer.DBInstances?.[0];
  if (!instance) throw new ResourceNotFound(`rds:DescribeDBInstances on ${identifier} in ${region}: not found`);
  return instance;
}

/** The instance, or null when it does not exist (any other failure is still thrown). */
export async function findInstance(rds: RDSClient, region: string, identifier: string): Promise<DBInstance | null> {
  try {
    return await describeInstance(rds, region, identifier);
  } catch (error) {
    if (error instanceof ResourceNotFound) return null;
    throw error;
  }
}

/**
 * Starts an RDS restore to the new instance `instanceId` once per incident. An instance of that name
 * restored for this incident and source (its INCIDENT_TAG and SOURCE_TAG) is adopted instead of
 * restored again, also when another attempt created it between the look and the call
 * (DBInstanceAlreadyExistsFault); one restored for anything else is never touched. A retried or
 * re-run step therefore makes no second instance.
 *
 * AWS: rds:DescribeDBInstances, then `send` (RestoreDBInstanceToPointInTime or
 * RestoreDBInstanceFromDBSnapshot, named by `operation` in errors). Result: `{adoptedStartedAt}`, the
 * adopted instance's creation time (UTC ISO, or `fallbackStartedAt` when RDS gives none), or null
 * when this call started the restore. Throws UnexpectedResourceState (the name is taken by another
 * incident's instance), and what classifyAwsError names for the restore call.
 */
export async function restoreOnce(
  rds: RDSClient,
  region: string,
  instanceId: string,
  owner: { incidentId: string; source: string },
  send: () => Promise<unknown>,
  operation: string,
  fallbackStartedAt: string,
): Promise<{ adoptedStartedAt: string | null }> {
  const adopt = async (): Promise<string | null> => {
    const existing = await findInstance(rds, region, instanceId);
    if (!existing) return null;
    const tag = (key: string) => existing.TagList?.find((t) => t.Key === key)?.Value;
    if (tag(INCIDENT_TAG) !== owner.incidentId || tag(SOURCE_TAG) !== owner.source) {
      throw new UnexpectedResourceState(`DB instance ${instanceId} exists in ${region} but was not restored for incident ${owner.incidentId} of ${owner.source}: not touching it`);
    }
    return existing.InstanceCreateTime?.toISOString() ?? fallbackStartedAt;
  };
  const earlier = await adopt();
  if (earlier) return { adoptedStartedAt: earlier };
  try {
    await send();
  } catch (error) {
    if (error instanceof DBInstanceAlreadyExistsFault) {
      const raced = await adopt();
      if (raced) return { adoptedStartedAt: raced };
    }
    throw classifyAwsError(error, `rds:${operation}`, `${instanceId} in ${region}`);
  }
  return { adoptedStartedAt: null };
}

/** RDS states a restore can end in that will never become `available` without a person. */
export const RESTORE_FAILED_STATES: ReadonlySet<string> = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'storage-full',
  'deleting',
  'deleted',
]);

/**
 * What VerifyDatabaseBackups hands on: the ids of the newest snapshot and recovery-region copy it
 * found (their ages and encryption are in the checks). Ids only: one of these joins the execution's
 * state per database, which Step Functions caps at 256 KB for the whole run.
 */
export interface DatabaseVerification {
  database: string;
  newestSnapshot: string | null;
  newestRecoveryCopy: string | null;
}

export interface VerifyClients {
  primary: RDSClient;
  recovery: RDSClient;
}

function hours(minutes: number): string {
  return minutes >= 120 ? `${(minutes / 60).toFixed(1)} h` : `${Math.round(minutes)} min`;
}

/**
 * VerifyDatabaseBackups: checks one protected database's backups: the instance exists, the newest
 * snapshot's age against the snapshot interval (+ tolerance), encryption, retention, point-in-time
 * recovery, and the recovery-region copies (or replicated automated backups) against the RPO.
 * Read-only. A missing source instance is a failed check, not an error.
 *
 * Result: `checks` one per finding (ages carry a metric in seconds); `objectives` the database's RPO
 * measured at the primary and in the recovery region (minutes); `detail` the passed-check count.
 *
 * AWS: rds:DescribeDBInstances, rds:DescribeDBSnapshots (both regions),
 * rds:DescribeDBInstanceAutomatedBackups (recovery region, when backups replicate). Throws
 * AwsTransientError (throttling, 5xx, timeouts), AwsAccessDenied, ResourceNotFound.
 *
 * @param clients RDS clients of the primary and the recovery region.
 */
export async function verifyDatabaseBackups(
  config: DeploymentConfig,
  database: DatabaseConfig,
  clients: VerifyClients,
  now: Date,
): Promise<StepResult<DatabaseVerification>> {
  const { checks, objectives, newestSnapshot, newestRecoveryCopy } = await inspectBackups(config, database, clients, now);
  return {
    data: { database: database.name, newestSnapshot: newestSnapshot?.id ?? null, newestRecoveryCopy: newestRecoveryCopy?.id ?? null },
    checks,
    objectives,
    detail: `${checks.filter((c) => c.passed).length}/${checks.length} checks passed` };
}

async function inspectBackups(
  config: DeploymentConfig,
  database: DatabaseConfig,
  clients: VerifyClients,
  now: Date,
): Promise<{ checks: Check[]; objectives: ObjectiveResult[]; newestSnapshot: SnapshotSummary | null; newestRecoveryCopy: SnapshotSummary | null }> {
  const objective = findObjective(config, database.component);
  const resource = `${database.name} (${config.primaryRegion})`;
  const checks: Check[] = [];
  const staleAfterMinutes = database.snapshotIntervalHours * 60 + database.toleranceMinutes;

  let instance: DBInstance | null = null;
  try {
    instance = await describeInstance(clients.primary, config.primaryRegion, database.name);
  } catch (error) {
    // A missing source instance is a finding, not a reason to stop: its snapshots may still exist.
    if (!(error instanceof ResourceNotFound)) throw error;
    checks.push({
      name: 'database-instance',
      resource,
      measured: 'not found',
      target: 'instance exists',
      passed: false,
      message: `DB instance ${database.name} does not exist in ${config.primaryRegion}: check the identifier in the deployment config.`,
    });
  }

  const snapshots = await listUsableSnapshots(clients.primary, config.primaryRegion, database);
  const newest = snapshots[0] ?? null;
  const newestAge = newest ? minutesBetween(newest.createdAt, now) : null;
  checks.push({
    name: 'newest-snapshot-age',
    resource,
    measured: newest ? `${hours(newestAge as number)} (${newest.id})` : 'no usable snapshot',
    target: `<= ${hours(staleAfterMinutes)}`,
    passed: newestAge !== null && newestAge <= staleAfterMinutes,
    ...(newestAge !== null ? { metric: { name: 'BackupAgeSeconds', unit: 'Seconds' as const, value: Math.round(newestAge * 60) } } : {}),
    message: !newest
      ? `No available snapshot of ${database.name} (automated, or manual named ${database.snapshotPrefix}*): take one now (aws rds create-db-snapshot).`
      : newestAge !== null && newestAge <= staleAfterMinutes
        ? `Newest snapshot ${newest.id} is ${hours(newestAge)} old.`
        : `Newest snapshot ${newest.id} is ${hours(newestAge as number)} old: the ${database.snapshotIntervalHours}-hourly snapshot job is not running; check it and take a snapshot now.`,
  });

  const unencrypted = snapshots.filter((s) => !s.encrypted);
  if (database.requireEncryption) {
    const instanceEncrypted = instance?.StorageEncrypted === true;
    const passed = unencrypted.length === 0 && (instance === null || instanceEncrypted);
    const problems: string[] = [];
    if (instance && !instanceEncrypted) problems.push(`instance storage is not encrypted`);
    if (unencrypted.length > 0) {
      problems.push(`${unencrypted.length} of ${snapshots.length} snapshots are unencrypted (${unencrypted.slice(0, 5).map((s) => s.id).join(', ')}${unencrypted.length > 5 ? ', ...' : ''})`);
    }
    checks.push({
      name: 'encryption',
      resource,
      measured: problems.length === 0 ? `all ${snapshots.length} snapshots encrypted` : problems.join('; '),
      target: 'storage and every snapshot encrypted',
      passed,
      message: passed
        ? 'Storage and snapshots are encrypted.'
        : `Unencrypted backups: ${problems.join('; ')}. Copy them with --kms-key-id to encrypt, then delete the unencrypted ones.`,
    });
  }

  if (instance) {
    const retention = instance.BackupRetentionPeriod ?? 0;
    checks.push({
      name: 'backup-retention',
      resource,
      measured: `${retention} days`,
      target: `>= ${database.retentionDays} days`,
      passed: retention >= database.retentionDays,
      message:
        retention >= database.retentionDays
          ? `Automated backups are kept ${retention} days.`
          : `Automated backups are kept ${retention} days, below the ${database.retentionDays}-day target: aws rds modify-db-instance --db-instance-identifier ${database.name} --backup-retention-period ${database.retentionDays} --apply-immediately.`,
    });

    const latest = instance.LatestRestorableTime;
    const lag = retention > 0 && latest ? minutesBetween(latest, now) : null;
    const pitrPassed = lag !== null && lag <= objective.rpoMinutes;
    checks.push({
      name: 'point-in-time-recovery',
      resource,
      measured: lag === null ? 'disabled (backup retention 0)' : `latest restorable time ${hours(lag)} ago`,
      target: `enabled, <= ${objective.rpoMinutes} min behind (RPO)`,
      passed: pitrPassed,
      message:
        lag === null
          ? `Point-in-time recovery is off: snapshots alone cannot meet a ${objective.rpoMinutes}-minute RPO. Set a backup retention period.`
          : pitrPassed
            ? `Point-in-time recovery is ${hours(lag)} behind.`
            : `Latest restorable time is ${hours(lag)} behind, over the ${objective.rpoMinutes}-minute RPO: transaction-log upload to S3 is lagging; open an AWS support case if it persists.`,
    });
  }

  let newestCopy: SnapshotSummary | null = null;
  if (database.requireCrossRegionCopy) {
    const copies = await listUsableSnapshots(clients.recovery, config.recoveryRegion, database);
    newestCopy = copies[0] ?? null;
    const copyAge = newestCopy ? minutesBetween(newestCopy.createdAt, now) : null;
    const passed = copyAge !== null && copyAge <= staleAfterMinutes && (!database.requireEncryption || newestCopy?.encrypted === true);
    checks.push({
      name: 'recovery-region-copy',
      resource: `${database.name} (${config.recoveryRegion})`,
      measured: newestCopy ? `${hours(copyAge as number)} (${newestCopy.id}${newestCopy.encrypted ? '' : ', unencrypted'})` : 'no copy',
      target: `<= ${hours(staleAfterMinutes)}${database.requireEncryption ? ', encrypted' : ''}`,
      passed,
      ...(copyAge !== null ? { metric: { name: 'RecoveryCopyAgeSeconds', unit: 'Seconds' as const, value: Math.round(copyAge * 60) } } : {}),
      message: !newestCopy
        ? `No snapshot copy of ${database.name} in ${config.recoveryRegion}: a region failover would have nothing to restore. Start the cross-region copy job.`
        : passed
          ? `Newest recovery-region copy ${newestCopy.id} is ${hours(copyAge as number)} old.`
          : `Newest recovery-region copy ${newestCopy.id} is ${hours(copyAge as number)} old${newestCopy.encrypted ? '' : ' and unencrypted'}: the cross-region copy job is failing or late; check it and copy the newest snapshot now.`,
    });
  }

  let replicatedLag: number | null = null;
  if (database.requireAutomatedBackupReplication) {
    replicatedLag = await verifyReplicatedBackups(config, database, instance, clients.recovery, now, checks, objective.rpoMinutes);
  }

  // RPO exposure today: the newest point a restore could reach, from the best source available.
  const candidates = [newestAge, instance?.BackupRetentionPeriod && instance.LatestRestorableTime ? minutesBetween(instance.LatestRestorableTime, now) : null].filter(
    (v): v is number => v !== null,
  );
  const regionCandidates = [newestCopy ? minutesBetween(newestCopy.createdAt, now) : null, replicatedLag].filter((v): v is number => v !== null);
  const objectives: ObjectiveResult[] = [
    evaluateObjective(
      objective,
      { rpoMinutes: candidates.length ? Math.min(...candidates) : null },
      `${database.name}: data a restore in ${config.primaryRegion} would lose today (newest of snapshot and point-in-time recovery)`,
    ),
  ];
  if (database.requireCrossRegionCopy || database.requireAutomatedBackupReplication) {
    objectives.push(
      evaluateObjective(
        objective,
        { rpoMinutes: regionCandidates.length ? Math.min(...regionCandidates) : null },
        `${database.name}: data a region failover to ${config.recoveryRegion} would lose today`,
      ),
    );
  }

  return { checks, objectives, newestSnapshot: newest, newestRecoveryCopy: newestCopy };
}

async function verifyReplicatedBackups(
  config: DeploymentConfig,
  database: DatabaseConfig,
  instance: DBInstance | null,
  recovery: RDSClient,
  now: Date,
  checks: Check[],
  rpoMinutes: number,
): Promise<number | null> {
  const resource = `${database.name} (${config.recoveryRegion})`;
  // The source instance does not exist in the recovery region, so its identifier cannot be used as
  // a filter there: list the replicated backups and match on the source ARN (or identifier).
  const backups: DBInstanceAutomatedBackup[] = [];
  await awsCall('rds:DescribeDBInstanceAutomatedBackups', resource, async () => {
    for await (const page of paginateDescribeDBInstanceAutomatedBackups({ client: recovery, pageSize: 100 }, {})) {
      backups.push(...(page.DBInstanceAutomatedBackups ?? []));
    }
  });
  const replicated = backups.find(
    (b) => (instance?.DBInstanceArn && b.DBInstanceArn === instance.DBInstanceArn) || b.DBInstanceIdentifier === database.name,
  );
  const latest = replicated?.RestoreWindow?.LatestTime;
  const lag = latest ? minutesBetween(latest, now) : null;
  const passed = replicated !== undefined && lag !== null && lag <= rpoMinutes;
  checks.push({
    name: 'automated-backup-replication',
    resource,
    measured: !replicated ? 'not replicated' : lag === null ? `status ${replicated.Status ?? 'unknown'}, no restore window yet` : `restorable to ${hours(lag)} ago`,
    target: `replicated, <= ${rpoMinutes} min behind`,
    passed,
    message: !replicated
      ? `Automated backups of ${database.name} are not replicated to ${config.recoveryRegion}: a region failover can only use snapshot copies. aws rds start-db-instance-automated-backups-replication --region ${config.recoveryRegion} --source-db-instance-arn <arn>.`
      : passed
        ? `Replicated automated backups allow point-in-time restore in ${config.recoveryRegion} to ${hours(lag as number)} ago.`
        : `Replicated automated backups in ${config.recoveryRegion} are behind the ${rpoMinutes}-minute RPO or not ready (${replicated.Status ?? 'unknown'}).`,
  });
  return lag;
}
