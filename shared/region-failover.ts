// Region failover (plan scenario 1), the database side (the outage confirmation is in
// region-confirmation.ts, so this module's functions bundle no CloudWatch client): choosing what to restore from in the recovery region (replicated
// automated backups, else the newest encrypted snapshot copy), restoring it to a new instance there,
// and one look at that restore per wait loop. Every AWS call here is made in the recovery region: the
// primary region is the one that failed, and nothing here may need it to answer (DESIGN principle 1;
// shared/region-failover-path.ts declares it and test/unit/region-failover-path.test.ts checks it).
// The decisions are pure functions, so the choice and its reasons go into the report as made.
import {
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  paginateDescribeDBInstanceAutomatedBackups,
  type DBInstanceAutomatedBackup,
  type RDSClient,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
  type RestoreDBInstanceToPointInTimeCommandInput,
} from '@aws-sdk/client-rds';
import { describeInstance, restoreOnce, listUsableSnapshots, RESTORE_FAILED_STATES, type SnapshotSummary } from './backups.js';
import { findDatabase, findObjective, regionFailoverConfig, type DatabaseConfig, type DeploymentConfig, type RegionFailoverConfig } from './config.js';
import { awsCall, DatabaseRestoreTimedOut, InvalidConfig, ResourceNotFound, UnexpectedResourceState } from './errors.js';
import { EXECUTION_TAG, INCIDENT_TAG, restoredInstanceId, SOURCE_TAG } from './names.js';
import { minutesBetween } from './objectives.js';
import { nextCheckSeconds, RDS_RESTORE_EARLIEST_SECONDS, secondsBetween } from './polling.js';
import { describeRestoreSettings, restoreParameters, type RestoreSetting } from './restore-settings.js';
import type { Action, StepResult } from './steps.js';

// ---------------------------------------------------------------------------------------------------
// What to restore from in the recovery region

/** A replicated automated backup of the primary's instance, as the recovery region lists it. */
export interface ReplicatedBackupFacts {
  arn: string;
  status: string;
  /** The primary instance's region the backups are replicated from. */
  sourceRegion: string | null;
  earliest: string | null;
  latest: string | null;
  encrypted: boolean;
  kmsKeyId: string | null;
  engineVersion: string | null;
}

interface SourceCommon {
  /** UTC ISO: the moment the restored data reflects. */
  restorePoint: string;
  /** Minutes of writes between the restore point and the outage start that the restored database lacks. */
  dataLossMinutes: number;
  rpoMinutes: number;
  withinRpo: boolean;
  /** Why this source, in one sentence for the report. */
  reason: string;
  /** What was not used, each with why. */
  rejected: string[];
}

export type RegionRestoreSource =
  | ({ kind: 'point-in-time'; automatedBackupsArn: string; time: string; encrypted: boolean; kmsKeyId: string | null; engineVersion: string | null } & SourceCommon)
  | ({ kind: 'snapshot'; snapshot: SnapshotSummary; ageMinutes: number } & SourceCommon);

export interface RegionRestoreFacts {
  database: string;
  recoveryRegion: string;
  /** UTC ISO: when the outage began (the alarm's state change, or the run's start). */
  outageAt: string;
  now: string;
  rpoMinutes: number;
  /** databases[].requireAutomatedBackupReplication: point-in-time restore in the recovery region is expected. */
  replicationConfigured: boolean;
  replicatedBackups: ReplicatedBackupFacts[];
  /** Usable snapshots of the database in the recovery region (the cross-region copies), any order. */
  snapshots: SnapshotSummary[];
  requireEncryption: boolean;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * The restore source for a region failover, in the recovery region: a point in time from the
 * replicated automated backups when replication is configured and they have a restorable window
 * (the latest restorable time, capped at the outage start), otherwise the newest encrypted snapshot
 * copy (named with its age). The data-loss window is the restore point against the outage start,
 * compared with the database's RPO. Pure. Throws ResourceNotFound naming every rejected candidate
 * when there is nothing to restore from.
 */
export function chooseRegionRestoreSource(facts: RegionRestoreFacts): RegionRestoreSource {
  const rejected: string[] = [];
  const loss = (point: string) => round1(Math.max(0, minutesBetween(point, facts.outageAt)));
  const common = (point: string, reason: string) => {
    const dataLossMinutes = loss(point);
    return { restorePoint: new Date(point).toISOString(), dataLossMinutes, rpoMinutes: facts.rpoMinutes, withinRpo: dataLossMinutes <= facts.rpoMinutes, reason, rejected };
  };
  if (!facts.replicationConfigured) {
    rejected.push(`point in time: automated-backup replication to ${facts.recoveryRegion} is not configured (databases[].requireAutomatedBackupReplication)`);
  } else {
    const usable = facts.replicatedBackups
      .filter((b) => b.latest && (b.status === 'replicating' || b.status === 'active' || b.status === 'retained'))
      .sort((a, b) => (b.latest as string).localeCompare(a.latest as string));
    const others = facts.replicatedBackups.filter((b) => !usable.includes(b));
    for (const b of others) rejected.push(`replicated backups ${b.arn}: status ${b.status}${b.latest ? '' : ', no restorable window'}`);
    const best = usable.find((b) => !facts.requireEncryption || b.encrypted);
    for (const b of usable) if (b !== best && facts.requireEncryption && !b.encrypted) rejected.push(`replicated backups ${b.arn}: unencrypted`);
    if (!best) {
      if (usable.length === 0 && others.length === 0) rejected.push(`point in time: no replicated automated backups of ${facts.database} in ${facts.recoveryRegion}`);
    } else {
      const latest = new Date(best.latest as string).toISOString();
      const outage = new Date(facts.outageAt).toISOString();
      // Writes after the outage began never reached the replica; restoring past it gains nothing.
      const time = latest < outage ? latest : outage;
      return {
        kind: 'point-in-time',
        automatedBackupsArn: best.arn,
        time,
        encrypted: best.encrypted,
        kmsKeyId: best.kmsKeyId,
        engineVersion: best.engineVersion,
        ...common(time, `point in time ${time} from the automated backups replicated to ${facts.recoveryRegion} (latest restorable time ${latest}).`),
      };
    }
  }
  const candidates = [...facts.snapshots].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  for (const snapshot of candidates) {
    if (snapshot.region !== facts.recoveryRegion) {
      rejected.push(`snapshot ${snapshot.id}: in ${snapshot.region}, not ${facts.recoveryRegion}`);
      continue;
    }
    if (!snapshot.encrypted) {
      rejected.push(`snapshot ${snapshot.id} (${snapshot.createdAt}): unencrypted`);
      continue;
    }
    const ageMinutes = round1(minutesBetween(snapshot.createdAt, facts.now));
    return {
      kind: 'snapshot',
      snapshot,
      ageMinutes,
      ...common(snapshot.createdAt, `newest encrypted snapshot copy in ${facts.recoveryRegion}: ${snapshot.id}, taken ${snapshot.createdAt} (${ageMinutes} min old).`),
    };
  }
  throw new ResourceNotFound(`nothing to restore ${facts.database} from in ${facts.recoveryRegion}: ${rejected.join('; ') || 'no snapshot copies'}`);
}

/** `point in time <time> (replicated backups)` or `snapshot copy <id> (taken <time>, <age> min old)`. */
export function describeRegionRestoreSource(source: RegionRestoreSource): string {
  const loss = `${source.dataLossMinutes} min of writes before the outage lost (RPO ${source.rpoMinutes} min: ${source.withinRpo ? 'met' : 'MISSED'})`;
  return source.kind === 'point-in-time'
    ? `point in time ${source.time} from replicated automated backups; ${loss}`
    : `snapshot copy ${source.snapshot.id} (taken ${source.snapshot.createdAt}, ${source.ageMinutes} min old); ${loss}`;
}

/** The replicated automated backups of `database` in the recovery region (DescribeDBInstanceAutomatedBackups). */
export async function listReplicatedBackups(rds: RDSClient, region: string, database: string): Promise<ReplicatedBackupFacts[]> {
  const found: DBInstanceAutomatedBackup[] = [];
  try {
    await awsCall('rds:DescribeDBInstanceAutomatedBackups', `${database} in ${region}`, async () => {
      for await (const page of paginateDescribeDBInstanceAutomatedBackups({ client: rds, pageSize: 100 }, { DBInstanceIdentifier: database })) {
        found.push(...(page.DBInstanceAutomatedBackups ?? []));
      }
    });
  } catch (error) {
    if (!(error instanceof ResourceNotFound)) throw error;
  }
  return found
    .filter((b) => b.DBInstanceAutomatedBackupsArn)
    .map((b) => ({
      arn: b.DBInstanceAutomatedBackupsArn as string,
      status: b.Status ?? 'unknown',
      sourceRegion: b.Region ?? null,
      earliest: b.RestoreWindow?.EarliestTime?.toISOString() ?? null,
      latest: b.RestoreWindow?.LatestTime?.toISOString() ?? null,
      encrypted: b.Encrypted === true,
      kmsKeyId: b.KmsKeyId ?? null,
      engineVersion: b.EngineVersion ?? null,
    }));
}

/**
 * Looks at what the recovery region holds for `database` and chooses the restore source
 * (chooseRegionRestoreSource). AWS (recovery region only): rds:DescribeDBInstanceAutomatedBackups
 * (only when replication is configured), rds:DescribeDBSnapshots.
 */
export async function findRegionRestoreSource(config: DeploymentConfig, database: DatabaseConfig, outageAt: string, rds: RDSClient, now: Date): Promise<RegionRestoreSource> {
  const region = config.recoveryRegion;
  const [replicatedBackups, snapshots] = await Promise.all([
    database.requireAutomatedBackupReplication ? listReplicatedBackups(rds, region, database.name) : Promise.resolve([]),
    listUsableSnapshots(rds, region, database),
  ]);
  return chooseRegionRestoreSource({
    database: database.name,
    recoveryRegion: region,
    outageAt,
    now: now.toISOString(),
    rpoMinutes: findObjective(config, database.component).rpoMinutes,
    replicationConfigured: database.requireAutomatedBackupReplication,
    replicatedBackups,
    snapshots,
    requireEncryption: database.requireEncryption,
  });
}

// ---------------------------------------------------------------------------------------------------
// The restore in the recovery region

type RestoreConfig = RegionFailoverConfig['restore'];

/**
 * Every setting of the instance restored in the recovery region, each with where it came from: the
 * config (regionFailover.restore; the primary region, where the source instance is, cannot be asked),
 * recovery policy (never public, deletion-protected), and the restore source (encryption, KMS key,
 * engine version: no restore call changes them). Pure.
 */
export function regionRestoreSettings(restore: RestoreConfig, database: DatabaseConfig, source: RegionRestoreSource): RestoreSetting[] {
  const fromConfig = (field: string) => `from config (regionFailover.restore.${field})`;
  const settings: RestoreSetting[] = [
    { parameter: 'DBInstanceClass', value: restore.instanceClass, origin: 'config', from: fromConfig('instanceClass'), sent: true },
    { parameter: 'MultiAZ', value: restore.multiAz, origin: 'config', from: fromConfig('multiAz'), sent: true },
    { parameter: 'DBSubnetGroupName', value: restore.subnetGroup, origin: 'config', from: fromConfig('subnetGroup'), sent: true },
    { parameter: 'VpcSecurityGroupIds', value: restore.securityGroupIds, origin: 'config', from: fromConfig('securityGroupIds'), sent: true },
    { parameter: 'DBParameterGroupName', value: restore.parameterGroup, origin: 'config', from: fromConfig('parameterGroup'), sent: true },
    { parameter: 'Port', value: restore.port ?? database.port, origin: 'config', from: restore.port ? fromConfig('port') : 'from config (databases[].port)', sent: true },
  ];
  if (restore.optionGroup) settings.push({ parameter: 'OptionGroupName', value: restore.optionGroup, origin: 'config', from: fromConfig('optionGroup'), sent: true });
  if (restore.storageType) settings.push({ parameter: 'StorageType', value: restore.storageType, origin: 'config', from: fromConfig('storageType'), sent: true });
  if (restore.caCertificateIdentifier) {
    settings.push({ parameter: 'CACertificateIdentifier', value: restore.caCertificateIdentifier, origin: 'config', from: fromConfig('caCertificateIdentifier'), sent: true });
  }
  settings.push(
    { parameter: 'PubliclyAccessible', value: false, origin: 'policy', from: 'recovery policy: a restored instance is never public', sent: true },
    { parameter: 'DeletionProtection', value: true, origin: 'policy', from: 'recovery policy: a restored instance is always deletion-protected', sent: true },
  );
  const origin = source.kind === 'snapshot' ? `from snapshot copy ${source.snapshot.id} (snapshot restores keep it)` : 'from the replicated automated backups (point-in-time restores keep it)';
  const encrypted = source.kind === 'snapshot' ? source.snapshot.encrypted : source.encrypted;
  const kmsKeyId = source.kind === 'snapshot' ? source.snapshot.kmsKeyId : source.kmsKeyId;
  const engineVersion = source.kind === 'snapshot' ? source.snapshot.engineVersion : source.engineVersion;
  settings.push({ parameter: 'StorageEncrypted', value: encrypted, origin: 'restore-point', from: origin, sent: false });
  if (kmsKeyId) settings.push({ parameter: 'KmsKeyId', value: kmsKeyId, origin: 'restore-point', from: origin, sent: false });
  if (engineVersion) settings.push({ parameter: 'EngineVersion', value: engineVersion, origin: 'restore-point', from: origin, sent: false });
  return settings;
}

/** What StartRegionRestore tells the wait loop and the later states. */
export interface StartedRegionRestore {
  instanceId: string;
  region: string;
  restoreStartedAt: string;
  resumed: boolean;
  /** Seconds until the first look (the Wait state's SecondsPath). */
  nextCheckSeconds: number;
}

/**
 * When to look at a restore again: not before RDS can have made the instance available
 * (RDS_RESTORE_EARLIEST_SECONDS after the restore started), then every few seconds, never past
 * regionFailover.restore.timeoutMinutes (shared/polling.ts).
 */
function nextRestoreLook(config: DeploymentConfig, restoreStartedAt: string, now: Date): number {
  return nextCheckSeconds({
    elapsedSeconds: secondsBetween(restoreStartedAt, now),
    expectedSeconds: RDS_RESTORE_EARLIEST_SECONDS,
    timeoutSeconds: regionFailoverConfig(config).restore.timeoutMinutes * 60,
  });
}

/**
 * The StartRegionRestore step: restores `database` from `source` to a new instance
 * `<database>-r-<incident>` (names.ts restoredInstanceId) in the RECOVERY region, with `settings`
 * (regionRestoreSettings), tagged with the incident. Returns at once; the state machine waits.
 * Idempotent: an instance of that name tagged with this incident and source is adopted
 * (`data.resumed`); any other is refused. A dry run records the call and makes none.
 *
 * AWS (recovery region): rds:DescribeDBInstances, then rds:RestoreDBInstanceToPointInTime (from the
 * replicated backups' ARN) or rds:RestoreDBInstanceFromDBSnapshot (the copy's ARN). Throws
 * UnexpectedResourceState (the name is taken by another incident's instance), AwsTransientError,
 * AwsAccessDenied, ResourceNotFound, RecoveryError for any other RDS refusal.
 */
export async function startRegionRestore(
  config: DeploymentConfig,
  database: DatabaseConfig,
  source: RegionRestoreSource,
  settings: readonly RestoreSetting[],
  run: { incidentId: string; executionId: string; dryRun: boolean },
  rds: RDSClient,
  now: Date,
): Promise<StepResult<StartedRegionRestore>> {
  const region = config.recoveryRegion;
  const instanceId = restoredInstanceId(database.name, run.incidentId);
  if (!settings.some((s) => s.parameter === 'DBSubnetGroupName') || !settings.some((s) => s.parameter === 'DBParameterGroupName')) {
    throw new InvalidConfig(`no restore settings for ${database.name}: Preflight resolves them from regionFailover.restore`);
  }
  const sourceName = `${database.name}@${config.primaryRegion}`;
  const common = {
    ...restoreParameters(settings),
    Tags: [
      { Key: INCIDENT_TAG, Value: run.incidentId },
      { Key: SOURCE_TAG, Value: sourceName },
      { Key: EXECUTION_TAG, Value: run.executionId },
    ],
  };
  let action: Action;
  let send: () => Promise<unknown>;
  if (source.kind === 'point-in-time') {
    const parameters: RestoreDBInstanceToPointInTimeCommandInput = {
      SourceDBInstanceAutomatedBackupsArn: source.automatedBackupsArn,
      TargetDBInstanceIdentifier: instanceId,
      RestoreTime: new Date(source.time),
      ...common,
    };
    action = {
      description: `restore ${database.name} as it was at ${source.time} (replicated backups in ${region}) to new instance ${instanceId}`,
      service: 'rds',
      operation: 'RestoreDBInstanceToPointInTime',
      parameters: { ...parameters, RestoreTime: source.time, region },
      performed: false,
    };
    send = () => rds.send(new RestoreDBInstanceToPointInTimeCommand(parameters));
  } else {
    const parameters: RestoreDBInstanceFromDBSnapshotCommandInput = { DBInstanceIdentifier: instanceId, DBSnapshotIdentifier: source.snapshot.arn, ...common };
    action = {
      description: `restore snapshot copy ${source.snapshot.id} to new instance ${instanceId} in ${region}`,
      service: 'rds',
      operation: 'RestoreDBInstanceFromDBSnapshot',
      parameters: { ...parameters, region },
      performed: false,
    };
    send = () => rds.send(new RestoreDBInstanceFromDBSnapshotCommand(parameters));
  }
  const started: StartedRegionRestore = { instanceId, region, restoreStartedAt: now.toISOString(), resumed: false, nextCheckSeconds: nextRestoreLook(config, now.toISOString(), now) };
  const result = (data: StartedRegionRestore, performed: Action): StepResult<StartedRegionRestore> => ({
    data,
    actions: [performed],
    detail: `${performed.description}; settings: ${describeRestoreSettings(settings)}`,
    resources: run.dryRun ? [] : [{ kind: 'rds:db-instance', id: instanceId, region, kept: true, note: `restored ${database.name} in the recovery region for incident ${run.incidentId}` }],
  });
  if (run.dryRun) return result(started, action);
  const once = await restoreOnce(rds, region, instanceId, { incidentId: run.incidentId, source: sourceName }, send, action.operation, started.restoreStartedAt);
  if (once.adoptedStartedAt) {
    const startedAt = once.adoptedStartedAt;
    return result({ ...started, restoreStartedAt: startedAt, resumed: true, nextCheckSeconds: nextRestoreLook(config, startedAt, now) }, { ...action, description: `${action.description} (already started for this incident)`, performed: true });
  }
  return result(started, { ...action, performed: true });
}

export interface RegionRestoreStatus {
  instanceId: string;
  status: string;
  available: boolean;
  endpoint: { host: string; port: number } | null;
  waitedMinutes: number;
  nextCheckSeconds: number;
}

/**
 * The CheckRegionRestore step: one look at the restored instance in the recovery region.
 * `available` once it is `available` with an endpoint; `nextCheckSeconds` from shared/polling.ts.
 * AWS: rds:DescribeDBInstances (recovery region). Throws UnexpectedResourceState (the restore failed),
 * DatabaseRestoreTimedOut (past regionFailover.restore.timeoutMinutes), ResourceNotFound,
 * AwsTransientError, AwsAccessDenied.
 */
export async function checkRegionRestore(
  config: DeploymentConfig,
  instanceId: string,
  restoreStartedAt: string,
  rds: RDSClient,
  now: Date,
): Promise<StepResult<RegionRestoreStatus>> {
  const failover = regionFailoverConfig(config);
  const database = findDatabase(config, failover.database);
  const region = config.recoveryRegion;
  const instance = await describeInstance(rds, region, instanceId);
  const status = instance.DBInstanceStatus ?? 'unknown';
  const waited = minutesBetween(restoreStartedAt, now);
  if (RESTORE_FAILED_STATES.has(status)) throw new UnexpectedResourceState(`restored instance ${instanceId} in ${region} is '${status}': the restore failed`);
  const available = status === 'available' && Boolean(instance.Endpoint?.Address);
  const limit = failover.restore.timeoutMinutes;
  if (!available && waited > limit) throw new DatabaseRestoreTimedOut(`restored instance ${instanceId} in ${region} is still '${status}' after ${waited.toFixed(1)} min (limit ${limit} min)`);
  const look: RegionRestoreStatus = {
    instanceId,
    status,
    available,
    endpoint: available ? { host: instance.Endpoint?.Address as string, port: instance.Endpoint?.Port ?? database.port } : null,
    waitedMinutes: round1(waited),
    nextCheckSeconds: available ? 0 : nextRestoreLook(config, restoreStartedAt, now),
  };
  return { data: look, detail: `${instanceId} in ${region} is ${status} after ${look.waitedMinutes} min` };
}
