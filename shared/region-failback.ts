// Region failback (plan scenario 1, the way back): after a region failover, once the primary region is
// back, the data written in the recovery region goes back first (snapshot, encrypted cross-region copy,
// restore to a NEW instance in the primary region, with a short write freeze for the final delta), the
// primary cluster's API comes up on it, the gates pass there, and DNS returns to exactly the values
// the failover recorded. Nothing is deleted: the recovery-region instance stays (read-only), and so
// do the snapshots and their copies.
import {
  CopyDBSnapshotCommand,
  CreateDBSnapshotCommand,
  DBInstanceAlreadyExistsFault,
  DBSnapshotAlreadyExistsFault,
  DescribeDBSnapshotsCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBSnapshot,
  type RDSClient,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
} from '@aws-sdk/client-rds';
import { describeInstance } from './backups.js';
import { findDatabase, type DeploymentConfig } from './config.js';
import { awsCall, classifyAwsError, FailbackRefused, InvalidConfig, SnapshotTransferFailed } from './errors.js';
import { failbackRestoreProblems, type FailoverRecord } from './failback-record.js';
import { EXECUTION_TAG, INCIDENT_TAG, PURPOSE_TAG, SOURCE_TAG } from './names.js';
import { minutesBetween } from './objectives.js';
import { MAX_POLL_SECONDS, nextCheckSeconds, RDS_RESTORE_EARLIEST_SECONDS } from './polling.js';
import type { FreezeData } from './failback-data.js';
import type { Check } from './report.js';
import type { RunContext } from './run.js';
import type { Action, StepResult } from './steps.js';

/** Every poll after the first wait looks again within this many seconds (shared/polling.ts's bound). */
export { MAX_POLL_SECONDS };

// ---------------------------------------------------------------------------------------------------
// The write freeze and its plan

export type TransferPhase = 'baseline' | 'final';

/** How a failback moves the data, and what the write freeze is made of. JSON-safe. */
export interface FreezePlan {
  /** Allocated storage of the recovery-region instance (what the first snapshot and copy move), GiB. */
  allocatedStorageGiB: number;
  /**
   * The earliest each transfer can be done, seconds after it started, sized from what is moved: the
   * first look comes at once, the wait after it runs to this moment (shared/polling.ts
   * nextCheckSeconds), later looks come every ≤ MAX_POLL_SECONDS.
   */
  firstWaitSeconds: { baselineSnapshot: number; baselineCopy: number; finalSnapshot: number; finalCopy: number; restore: number };
  /** The states between the freeze and DNS back in the primary region: writes are refused throughout, reads served. */
  frozenStates: string[];
  /** What the freeze's length is made of, in words (for the report). */
  freezeMadeOf: string;
}

/** The states a failback runs while writes in the recovery region are frozen (the ASL's names). */
export const FROZEN_STATES = [
  'FreezeRecoveryWrites',
  'StartFinalSnapshot',
  'CheckFinalSnapshot',
  'CopyFinalSnapshot',
  'CheckFinalCopy',
  'StartPrimaryRestore',
  'CheckPrimaryRestore',
  'VerifyFailbackData',
  'RepointApplication',
  'ScaleApiOnPrimary',
  'CheckRollout',
  'RunHealthChecks',
  'RestoreDnsTraffic',
  'CheckDnsRestore',
] as const;

/**
 * Plans the transfer: a baseline snapshot and copy while the recovery region still takes writes (the
 * full copy of the volume, which takes longest), then the freeze, and a final snapshot and copy that
 * carry only the blocks changed since the baseline (an RDS snapshot after an earlier one of the same
 * instance is incremental, and so is a cross-region copy whose earlier copy with the same KMS key is
 * in the destination region). Waits: after the first look, one to a moment sized from the storage to
 * move (full: about 1.5 s/GiB to snapshot and 3 s/GiB to copy, at least 15 s and 30 s; incremental:
 * 15 s and 30 s), the restore's RDS_RESTORE_EARLIEST_SECONDS (an RDS restore takes minutes whatever the
 * size), then looks every ≤ 15 s.
 * Pure: no AWS call.
 */
export function planWriteFreeze(allocatedStorageGiB: number | null | undefined, dryRun: boolean): FreezePlan {
  const gib = Math.max(0, allocatedStorageGiB ?? 0);
  const clamp = (seconds: number, low: number, high: number) => Math.round(Math.min(high, Math.max(low, seconds)));
  const waits = dryRun
    ? { baselineSnapshot: 0, baselineCopy: 0, finalSnapshot: 0, finalCopy: 0, restore: 0 }
    : { baselineSnapshot: clamp(gib * 1.5, 15, 900), baselineCopy: clamp(gib * 3, 30, 1800), finalSnapshot: 15, finalCopy: 30, restore: RDS_RESTORE_EARLIEST_SECONDS };
  return {
    allocatedStorageGiB: gib,
    firstWaitSeconds: waits,
    frozenStates: [...FROZEN_STATES],
    freezeMadeOf:
      'the final snapshot (incremental: the blocks written since the baseline), its cross-region copy (incremental too), the restore in the primary ' +
      'region (minutes, whatever the size), the repoint, the API rollout and the health gates there, and the DNS change back; reads are served throughout',
  };
}

// ---------------------------------------------------------------------------------------------------
// Snapshots and copies

export interface SnapshotRef {
  phase: TransferPhase;
  snapshotId: string;
  snapshotArn: string | null;
  region: string;
  startedAt: string;
  /** The earliest the transfer can be done, seconds after `startedAt` (0 in a dry run): the looks wait to it. */
  firstWaitSeconds: number;
  dryRun: boolean;
  /** Where the recovery-region instance answers (the snapshot steps only): the freeze connects there. */
  sourceEndpoint?: { host: string; port: number } | null;
}

const tags = (executionId: string, purpose: string, extra: { Key: string; Value: string }[] = []) => [
  { Key: EXECUTION_TAG, Value: executionId },
  { Key: PURPOSE_TAG, Value: purpose },
  ...extra,
];

/**
 * StartBaselineSnapshot / StartFinalSnapshot: CreateDBSnapshot of the recovery-region instance, named
 * after the execution and phase; a retried step adopts the snapshot its first attempt created. The
 * baseline also plans the freeze from the instance's storage (`data.plan`, the final reuses it).
 *
 * AWS: rds:DescribeDBInstances, rds:CreateDBSnapshot (recovery region). Thrown: what awsCall names.
 */
export async function startFailbackSnapshot(
  rds: RDSClient,
  record: FailoverRecord,
  phase: TransferPhase,
  run: Pick<RunContext, 'executionId' | 'dryRun'>,
  now: Date,
  plan?: FreezePlan,
): Promise<StepResult<SnapshotRef & { plan: FreezePlan }>> {
  const instanceId = record.database.recoveryInstanceId;
  const snapshotId = record.snapshots[phase];
  const instance = await describeInstance(rds, record.recoveryRegion, instanceId);
  const freeze = plan ?? planWriteFreeze(instance.AllocatedStorage, run.dryRun);
  const firstWaitSeconds = phase === 'baseline' ? freeze.firstWaitSeconds.baselineSnapshot : freeze.firstWaitSeconds.finalSnapshot;
  const action: Action = {
    description: `${phase} snapshot ${snapshotId} of ${instanceId} in ${record.recoveryRegion}${phase === 'final' ? ' (writes frozen: the final delta)' : ' (writes still served)'}`,
    service: 'rds',
    operation: 'CreateDBSnapshot',
    parameters: { DBInstanceIdentifier: instanceId, DBSnapshotIdentifier: snapshotId },
    performed: false,
  };
  const sourceEndpoint = instance.Endpoint?.Address ? { host: instance.Endpoint.Address, port: instance.Endpoint.Port ?? 5432 } : null;
  const ref: SnapshotRef = { phase, snapshotId, snapshotArn: null, region: record.recoveryRegion, startedAt: now.toISOString(), firstWaitSeconds, dryRun: run.dryRun, sourceEndpoint };
  if (run.dryRun) return { data: { ...ref, plan: freeze }, actions: [action], detail: `dry run: would take the ${phase} snapshot ${snapshotId}` };
  let snapshot: DBSnapshot | undefined;
  let adopted = false;
  try {
    snapshot = (
      await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: instanceId, DBSnapshotIdentifier: snapshotId, Tags: tags(run.executionId, `failback ${phase} snapshot`, [{ Key: SOURCE_TAG, Value: instanceId }]) }))
    ).DBSnapshot;
  } catch (error) {
    if (!(error instanceof DBSnapshotAlreadyExistsFault)) throw classifyAwsError(error, 'rds:CreateDBSnapshot', `${snapshotId} of ${instanceId} in ${record.recoveryRegion}`);
    snapshot = await describeSnapshot(rds, record.recoveryRegion, snapshotId);
    adopted = true;
  }
  return {
    data: { ...ref, snapshotArn: snapshot?.DBSnapshotArn ?? null, plan: freeze },
    actions: [{ ...action, performed: !adopted }],
    resources: [{ kind: 'rds:snapshot', id: snapshotId, region: record.recoveryRegion, kept: true, note: `failback ${phase} snapshot of ${instanceId}` }],
    detail: `${adopted ? 'adopted the snapshot a first attempt took' : 'took'} ${phase} snapshot ${snapshotId} of ${instanceId} (${freeze.allocatedStorageGiB} GiB allocated); done at the earliest in ${firstWaitSeconds} s`,
  };
}

async function describeSnapshot(rds: RDSClient, region: string, snapshotId: string): Promise<DBSnapshot | undefined> {
  const answer = await awsCall('rds:DescribeDBSnapshots', `${snapshotId} in ${region}`, () => rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId })));
  return answer.DBSnapshots?.[0];
}

export interface SnapshotStatus {
  snapshotId: string;
  region: string;
  status: string;
  available: boolean;
  percentProgress: number | null;
  waitedMinutes: number;
  /** When to look again (shared/polling.ts nextCheckSeconds; the poll from the progress RDS reports). */
  nextCheckSeconds: number;
  snapshotArn: string | null;
}

/**
 * The poll once the earliest moment has passed, seconds: when RDS reports progress, the time the
 * remaining part should take at the rate so far; never more than MAX_POLL_SECONDS, never less than 2 s.
 */
export function progressPollSeconds(waitedSeconds: number, percentProgress: number | null): number {
  if (percentProgress === null || percentProgress <= 0 || percentProgress >= 100) return MAX_POLL_SECONDS;
  const remaining = (waitedSeconds * (100 - percentProgress)) / percentProgress;
  return Math.max(2, Math.min(MAX_POLL_SECONDS, Math.ceil(remaining)));
}

/**
 * CheckBaselineSnapshot / CheckBaselineCopy / CheckFinalSnapshot / CheckFinalCopy: one look at a
 * snapshot (or a copy) in `region`. Never waits. A dry run looks at nothing.
 *
 * AWS: rds:DescribeDBSnapshots. Thrown: SnapshotTransferFailed (failed, gone, or not available within
 * regionFailback.transferTimeoutMinutes), what awsCall names.
 */
export async function checkFailbackSnapshot(
  rds: RDSClient,
  config: DeploymentConfig,
  ref: Pick<SnapshotRef, 'snapshotId' | 'region' | 'startedAt' | 'dryRun'> & Partial<Pick<SnapshotRef, 'firstWaitSeconds'>>,
  now: Date,
): Promise<StepResult<SnapshotStatus>> {
  const waitedSeconds = Math.max(0, (now.getTime() - Date.parse(ref.startedAt)) / 1000);
  if (ref.dryRun) {
    return { data: { snapshotId: ref.snapshotId, region: ref.region, status: 'dry-run', available: true, percentProgress: null, waitedMinutes: 0, nextCheckSeconds: 0, snapshotArn: null }, status: 'skipped', detail: 'dry run: nothing to wait for' };
  }
  const snapshot = await describeSnapshot(rds, ref.region, ref.snapshotId);
  if (!snapshot) throw new SnapshotTransferFailed(`snapshot ${ref.snapshotId} in ${ref.region} is gone (deleted while the failback waited?)`);
  const status = snapshot.Status ?? 'unknown';
  const limit = config.regionFailback?.transferTimeoutMinutes ?? 120;
  const waited = minutesBetween(ref.startedAt, now);
  if (status === 'failed' || status === 'error') throw new SnapshotTransferFailed(`snapshot ${ref.snapshotId} in ${ref.region} is '${status}': the transfer failed; nothing in the primary region was changed by it`);
  const available = status === 'available';
  if (!available && waited > limit) throw new SnapshotTransferFailed(`snapshot ${ref.snapshotId} in ${ref.region} is still '${status}' after ${waited.toFixed(1)} min (limit regionFailback.transferTimeoutMinutes ${limit})`);
  const progress = snapshot.PercentProgress ?? null;
  const look: SnapshotStatus = {
    snapshotId: ref.snapshotId,
    region: ref.region,
    status,
    available,
    percentProgress: progress,
    waitedMinutes: Math.round(waited * 10) / 10,
    nextCheckSeconds: available
      ? 0
      : nextCheckSeconds({ elapsedSeconds: waitedSeconds, expectedSeconds: ref.firstWaitSeconds ?? 0, pollSeconds: progressPollSeconds(waitedSeconds, progress), timeoutSeconds: limit * 60 }),
    snapshotArn: snapshot.DBSnapshotArn ?? null,
  };
  return { data: look, detail: `${ref.snapshotId} (${ref.region}) is ${status}${progress !== null ? ` (${progress} %)` : ''} after ${look.waitedMinutes} min` };
}

/**
 * CopyBaselineSnapshot / CopyFinalSnapshot: CopyDBSnapshot into the primary region, encrypted with
 * regionFailback.kmsKeyArn (the primary region's key), tags copied. The final copy follows the
 * baseline's with the same key, so RDS copies only the changed blocks. A retried step adopts its copy.
 *
 * AWS: rds:CopyDBSnapshot (primary region; KMS grants on both regions' keys). Thrown: what awsCall names.
 */
export async function copySnapshotToPrimary(
  rds: RDSClient,
  config: DeploymentConfig,
  record: FailoverRecord,
  source: Pick<SnapshotRef, 'phase' | 'snapshotId' | 'snapshotArn'> & { plan: FreezePlan },
  run: Pick<RunContext, 'executionId' | 'dryRun'>,
  now: Date,
): Promise<StepResult<SnapshotRef & { plan: FreezePlan }>> {
  const kmsKeyId = config.regionFailback?.kmsKeyArn;
  if (!kmsKeyId) throw new InvalidConfig('regionFailback.kmsKeyArn: missing; the snapshot copies in the primary region must be encrypted with a key of that region');
  const sourceArn = source.snapshotArn ?? `arn:aws:rds:${record.recoveryRegion}:<account>:snapshot:${source.snapshotId}`;
  const firstWaitSeconds = source.phase === 'baseline' ? source.plan.firstWaitSeconds.baselineCopy : source.plan.firstWaitSeconds.finalCopy;
  const action: Action = {
    description: `copy ${source.snapshotId} from ${record.recoveryRegion} to ${record.primaryRegion}, encrypted with ${kmsKeyId}${source.phase === 'final' ? ' (incremental: the baseline copy is there with the same key)' : ''}`,
    service: 'rds',
    operation: 'CopyDBSnapshot',
    parameters: { SourceDBSnapshotIdentifier: sourceArn, TargetDBSnapshotIdentifier: source.snapshotId, KmsKeyId: kmsKeyId, CopyTags: true },
    performed: false,
  };
  const ref: SnapshotRef = { phase: source.phase, snapshotId: source.snapshotId, snapshotArn: null, region: record.primaryRegion, startedAt: now.toISOString(), firstWaitSeconds, dryRun: run.dryRun };
  if (run.dryRun) return { data: { ...ref, plan: source.plan }, actions: [action], detail: `dry run: would copy ${source.snapshotId} to ${record.primaryRegion}` };
  let copy: DBSnapshot | undefined;
  let adopted = false;
  try {
    copy = (
      await rds.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: sourceArn,
          TargetDBSnapshotIdentifier: source.snapshotId,
          KmsKeyId: kmsKeyId,
          CopyTags: true,
          Tags: tags(run.executionId, `failback ${source.phase} copy`),
        }),
      )
    ).DBSnapshot;
  } catch (error) {
    if (!(error instanceof DBSnapshotAlreadyExistsFault)) throw classifyAwsError(error, 'rds:CopyDBSnapshot', `${source.snapshotId} to ${record.primaryRegion}`);
    copy = await describeSnapshot(rds, record.primaryRegion, source.snapshotId);
    adopted = true;
  }
  return {
    data: { ...ref, snapshotArn: copy?.DBSnapshotArn ?? null, plan: source.plan },
    actions: [{ ...action, performed: !adopted }],
    resources: [{ kind: 'rds:snapshot', id: source.snapshotId, region: record.primaryRegion, kept: true, note: `failback ${source.phase} copy, encrypted with ${kmsKeyId}` }],
    detail: `${adopted ? 'adopted the copy a first attempt started' : 'copying'} ${source.snapshotId} to ${record.primaryRegion}; done at the earliest in ${firstWaitSeconds} s`,
  };
}

// ---------------------------------------------------------------------------------------------------
// The restore in the primary region

export interface PrimaryRestore {
  instanceId: string;
  snapshotId: string;
  startedAt: string;
  firstWaitSeconds: number;
  dryRun: boolean;
}

/**
 * StartPrimaryRestore: a NEW instance in the primary region from the final copy, with the database's
 * recovery settings (class, subnet group, security groups, parameter and option groups, port, Multi-AZ,
 * storage type, CA), never public, deletion-protected, tagged. A retry adopts the instance its first
 * attempt created (tagged with this execution); any other instance of that name is refused.
 *
 * AWS: rds:RestoreDBInstanceFromDBSnapshot, rds:DescribeDBInstances (primary region). Thrown:
 * UnexpectedResourceState-family errors, what awsCall names.
 */
export async function startPrimaryRestore(
  rds: RDSClient,
  config: DeploymentConfig,
  record: FailoverRecord,
  copy: Pick<SnapshotRef, 'snapshotId'> & { plan: FreezePlan },
  run: Pick<RunContext, 'executionId' | 'dryRun'>,
  now: Date,
): Promise<StepResult<PrimaryRestore>> {
  const database = findDatabase(config, record.database.name);
  const recovery = database.recovery;
  const problems = failbackRestoreProblems(config, database);
  if (!recovery || problems.length) throw new InvalidConfig(problems.join('; '));
  const input: RestoreDBInstanceFromDBSnapshotCommandInput = {
    DBInstanceIdentifier: record.primaryInstanceId,
    DBSnapshotIdentifier: copy.snapshotId,
    DBSubnetGroupName: recovery.subnetGroup,
    VpcSecurityGroupIds: recovery.securityGroupIds,
    DBParameterGroupName: recovery.parameterGroup,
    ...(recovery.instanceClass ? { DBInstanceClass: recovery.instanceClass } : {}),
    ...(recovery.optionGroup ? { OptionGroupName: recovery.optionGroup } : {}),
    ...(recovery.port ? { Port: recovery.port } : {}),
    ...(recovery.multiAz !== undefined ? { MultiAZ: recovery.multiAz } : {}),
    ...(recovery.storageType ? { StorageType: recovery.storageType } : {}),
    ...(recovery.caCertificateIdentifier ? { CACertificateIdentifier: recovery.caCertificateIdentifier } : {}),
    PubliclyAccessible: false,
    DeletionProtection: true,
    Tags: tags(run.executionId, 'region failback', [
      { Key: INCIDENT_TAG, Value: record.primaryInstanceId.slice(-12) },
      { Key: SOURCE_TAG, Value: record.database.recoveryInstanceId },
    ]),
  };
  const action: Action = {
    description: `restore ${record.primaryInstanceId} in ${record.primaryRegion} from ${copy.snapshotId} (the final delta included), settings from databases[].recovery`,
    service: 'rds',
    operation: 'RestoreDBInstanceFromDBSnapshot',
    parameters: { ...input, Tags: undefined },
    performed: false,
  };
  const data: PrimaryRestore = { instanceId: record.primaryInstanceId, snapshotId: copy.snapshotId, startedAt: now.toISOString(), firstWaitSeconds: copy.plan.firstWaitSeconds.restore, dryRun: run.dryRun };
  if (run.dryRun) return { data, actions: [action], detail: `dry run: would restore ${record.primaryInstanceId}` };
  let adopted = false;
  try {
    await rds.send(new RestoreDBInstanceFromDBSnapshotCommand(input));
  } catch (error) {
    if (!(error instanceof DBInstanceAlreadyExistsFault)) throw classifyAwsError(error, 'rds:RestoreDBInstanceFromDBSnapshot', `${record.primaryInstanceId} in ${record.primaryRegion}`);
    const existing = await describeInstance(rds, record.primaryRegion, record.primaryInstanceId);
    const owner = existing.TagList?.find((t) => t.Key === EXECUTION_TAG)?.Value;
    if (owner !== run.executionId) {
      throw new FailbackRefused(`${record.primaryInstanceId} already exists in ${record.primaryRegion} and was not created by this execution (${owner ?? 'no execution tag'}): it is left alone; start the failback again a minute later for a new name`);
    }
    adopted = true;
  }
  return {
    data,
    actions: [{ ...action, performed: !adopted }],
    resources: [{ kind: 'rds:db-instance', id: record.primaryInstanceId, region: record.primaryRegion, kept: true, note: `restored from ${copy.snapshotId}: the recovery region's data, final delta included; serves after the failback` }],
    detail: `${adopted ? 'adopted' : 'restoring'} ${record.primaryInstanceId} from ${copy.snapshotId}; available at the earliest in ${data.firstWaitSeconds} s`,
  };
}


export interface PrimaryInstanceStatus {
  instanceId: string;
  status: string;
  available: boolean;
  endpoint: { host: string; port: number } | null;
  waitedMinutes: number;
  nextCheckSeconds: number;
}

/** RDS states an instance does not come back from by itself: the restore failed. */
const RESTORE_FAILED = new Set(['failed', 'incompatible-restore', 'incompatible-parameters', 'incompatible-network', 'incompatible-option-group', 'inaccessible-encryption-credentials', 'storage-full']);

/**
 * CheckPrimaryRestore: one look at the instance restored in the primary region. Never waits; a dry run
 * looks at nothing.
 *
 * AWS: rds:DescribeDBInstances. Thrown: SnapshotTransferFailed (the restore failed, or is not available
 * within the database's recovery.timeoutMinutes), what awsCall names.
 */
export async function checkPrimaryRestore(rds: RDSClient, config: DeploymentConfig, record: FailoverRecord, restore: PrimaryRestore, now: Date): Promise<StepResult<PrimaryInstanceStatus>> {
  if (restore.dryRun) {
    return { data: { instanceId: restore.instanceId, status: 'dry-run', available: true, endpoint: null, waitedMinutes: 0, nextCheckSeconds: 0 }, status: 'skipped', detail: 'dry run: nothing to wait for' };
  }
  const database = findDatabase(config, record.database.name);
  const instance = await describeInstance(rds, record.primaryRegion, restore.instanceId);
  const status = instance.DBInstanceStatus ?? 'unknown';
  const waited = minutesBetween(restore.startedAt, now);
  if (RESTORE_FAILED.has(status)) throw new SnapshotTransferFailed(`${restore.instanceId} in ${record.primaryRegion} is '${status}': the restore failed; the recovery region still serves (writes frozen)`);
  const available = status === 'available' && Boolean(instance.Endpoint?.Address);
  const limit = database.recovery?.timeoutMinutes ?? 90;
  if (!available && waited > limit) throw new SnapshotTransferFailed(`${restore.instanceId} in ${record.primaryRegion} is still '${status}' after ${waited.toFixed(1)} min (limit recovery.timeoutMinutes ${limit})`);
  const data: PrimaryInstanceStatus = {
    instanceId: restore.instanceId,
    status,
    available,
    endpoint: available ? { host: instance.Endpoint?.Address as string, port: instance.Endpoint?.Port ?? database.port } : null,
    waitedMinutes: Math.round(waited * 10) / 10,
    nextCheckSeconds: available ? 0 : nextCheckSeconds({ elapsedSeconds: Math.max(0, (now.getTime() - Date.parse(restore.startedAt)) / 1000), expectedSeconds: restore.firstWaitSeconds, timeoutSeconds: limit * 60 }),
  };
  return { data, detail: `${restore.instanceId} is ${status} after ${data.waitedMinutes} min` };
}

// ---------------------------------------------------------------------------------------------------
// The write freeze, measured

/**
 * The report's `write-freeze` check: from FreezeRecoveryWrites to DNS verified back in the primary
 * region (writes refused, reads served throughout). Informational: passes whenever the freeze ended.
 */
export function freezeCheck(record: Pick<FailoverRecord, 'database' | 'recoveryRegion'>, frozenAt: string | null, endedAt: Date): Check {
  const seconds = frozenAt ? Math.max(0, Math.round((endedAt.getTime() - Date.parse(frozenAt)) / 1000)) : null;
  return {
    name: 'write-freeze',
    resource: `${record.database.recoveryInstanceId} (${record.recoveryRegion})`,
    measured: seconds === null ? 'no freeze (dry run)' : `${seconds} s of refused writes (${frozenAt} to ${endedAt.toISOString()}), reads served`,
    target: 'writes frozen only for the final delta: final snapshot, its copy, the restore, the API and the gates in the primary region, DNS back',
    passed: true,
    message: 'Informational: the failback held writes for this long.',
    ...(seconds === null ? {} : { metric: { name: 'FailbackWriteFreezeSeconds', unit: 'Seconds' as const, value: seconds } }),
  };
}

// ---------------------------------------------------------------------------------------------------
// DNS back, and the summary

/**
 * SummariseFailback, the last step before the lock is released: what moved, and the write freeze
 * measured from FreezeRecoveryWrites to now (DNS verified back). Calls nothing.
 */
export function summariseFailback(
  record: FailoverRecord,
  freeze: Pick<FreezeData, 'frozenAt'>,
  data: { tables: number; rows: number } | null,
  run: Pick<RunContext, 'dryRun'>,
  now: Date,
): StepResult<{ freezeSeconds: number | null }> {
  const check = freezeCheck(record, freeze.frozenAt, now);
  const freezeSeconds = check.metric?.value ?? null;
  const moved = [
    `${record.database.name}: ${record.database.recoveryInstanceId} (${record.recoveryRegion}) -> ${record.primaryInstanceId} (${record.primaryRegion})` +
      (data ? `, ${data.tables} table(s) and ${data.rows} row(s) verified there, written up to the freeze` : ''),
    `${record.dns.length} DNS record(s) back to the values region failover ${record.failoverExecution} recorded`,
  ];
  return {
    data: { freezeSeconds },
    checks: run.dryRun ? [] : [check],
    detail: run.dryRun ? `dry run: would move ${moved.join('; ')}` : `${moved.join('; ')}; writes frozen ${freezeSeconds} s (reads served)`,
  };
}
