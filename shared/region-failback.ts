// Region failback (issue 10, item 4): after a region failover, once the primary region is back, the
// data written in the recovery region goes back first (snapshot, encrypted cross-region copy, restore
// to a NEW instance in the primary region, with a short write freeze for the final delta), the
// primary cluster's API comes up on it, the gates pass there, and DNS returns to exactly the values
// the failover recorded. Nothing is deleted: the recovery-region instance stays (read-only), and so
// do the snapshots and their copies.
import {
  CopyDBSnapshotCommand,
  CreateDBSnapshotCommand,
  DBInstanceAlreadyExistsFault,
  DBSnapshotAlreadyExistsFault,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
  type DBSnapshot,
  type RDSClient,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { DescribeClusterCommandOutput, EKSClient } from '@aws-sdk/client-eks';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import { describeInstance } from './backups.js';
import { clusterFor, findDatabase, type DatabaseConfig, type DeploymentConfig } from './config.js';
import { databaseClient, type DatabaseTarget } from './database.js';
import type { RecordedDnsState } from './dns.js';
import { awsCall, classifyAwsError, describeIssues, FailbackRefused, InvalidConfig, PrimaryRegionUnavailable, SnapshotTransferFailed, ValidationFailed } from './errors.js';
import { EXECUTION_TAG, failbackSnapshotId, incidentIdFor, INCIDENT_TAG, PURPOSE_TAG, restoredInstanceId, SOURCE_TAG } from './names.js';
import { minutesBetween } from './objectives.js';
import { enableReadOnlyMode } from './read-only.js';
import type { Check } from './report.js';
import type { RunContext } from './run.js';
import { fetchDatabaseCredentials, type DatabaseCredentials } from './secrets.js';
import type { Action, StepResult } from './steps.js';

/** Every poll after the first wait looks again within this many seconds (the issue's overshoot bound). */
export const MAX_POLL_SECONDS = 15;

// ---------------------------------------------------------------------------------------------------
// The failover's record

const recordedDnsSchema = z.union([
  z.object({
    mode: z.literal('control-plane'),
    // `api.frontier.com. CNAME` (shared/dns.ts recordLabel).
    record: z.string().check(z.minLength(1)),
    hostedZoneId: z.string().check(z.minLength(1)),
    // The record set as Route 53 returned it (or null: there was none); set again as it is.
    recordSet: z.nullable(z.looseObject({ Name: z.string(), Type: z.string() })),
  }),
  z.object({
    mode: z.literal('data-plane'),
    record: z.string().check(z.minLength(1)),
    routingControls: z.array(z.object({ arn: z.string().check(z.minLength(1)), state: z.enum(['On', 'Off']) })).check(z.minLength(1)),
    clusterEndpoints: z.array(z.object({ region: z.string(), endpoint: z.string() })).check(z.minLength(1)),
  }),
]);

/** The `failback` object a region-failover report carries (written by that scenario's report). */
const failbackObjectSchema = z.object({
  primaryRegion: z.string().check(z.minLength(1)),
  recoveryRegion: z.string().check(z.minLength(1)),
  dns: z.array(recordedDnsSchema).check(z.minLength(1)),
  database: z.object({
    name: z.string().check(z.minLength(1)),
    recoveryInstanceId: z.string().check(z.minLength(1)),
    restorePoint: z.string().check(z.minLength(1)),
  }),
});

const failoverReportSchema = z.object({
  scenario: z.string(),
  executionId: z.string(),
  executionName: z.string(),
  dryRun: z.boolean(),
  status: z.string(),
  finishedAt: z.string(),
  failures: z.optional(z.array(z.object({ step: z.string(), error: z.string() }))),
  failback: z.optional(z.unknown()),
});

/** What LoadFailoverRecord hands every later state: the failover's record and this failback's names. */
export interface FailoverRecord {
  /** The failover execution's ARN, from its report. */
  failoverExecution: string;
  /** Where its report is (`s3://bucket/key.json`). */
  report: string;
  failoverFinishedAt: string;
  primaryRegion: string;
  recoveryRegion: string;
  dns: RecordedDnsState[];
  database: { name: string; recoveryInstanceId: string; restorePoint: string };
  /** The new primary-region instance this failback restores to (`<database>-r-<failback start>`). */
  primaryInstanceId: string;
  /** The snapshots this failback takes in the recovery region, and their copies' names in the primary region. */
  snapshots: { baseline: string; final: string };
}

/** `arn:aws:states:<region>:<account>:execution:<state machine>:<name>` -> its parts; a bare name -> name only. */
function executionParts(execution: string): { stateMachine: string | null; name: string } {
  const arn = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:([^:]+):([^:]+)$/.exec(execution);
  return arn ? { stateMachine: arn[1] as string, name: arn[2] as string } : { stateMachine: null, name: execution };
}

/**
 * The settings a failback restore needs from the database's `recovery` section (the primary region's
 * network and parameter group: the recovery-region instance's own are of another region): named
 * before anything changes.
 */
export function failbackRestoreProblems(config: DeploymentConfig, database: DatabaseConfig): string[] {
  const index = config.databases.indexOf(database);
  const at = (field: string) => `databases[${index}].recovery.${field}`;
  const recovery = database.recovery;
  if (!recovery) return [`databases[${index}].recovery: missing; a failback restores ${database.name} in ${config.primaryRegion} with its settings (subnetGroup, securityGroupIds, parameterGroup)`];
  const problems: string[] = [];
  if (!recovery.subnetGroup) problems.push(`${at('subnetGroup')}: missing; the primary region's subnet group the failback restores into`);
  if (!recovery.securityGroupIds?.length) problems.push(`${at('securityGroupIds')}: missing; the primary region's security groups of the restored instance`);
  if (!recovery.parameterGroup) problems.push(`${at('parameterGroup')}: missing; the primary region's parameter group of the restored instance`);
  return problems;
}

/**
 * The LoadFailoverRecord step: finds the named region-failover run's published report in the reports
 * bucket (recovery region), and refuses one a failback cannot start from, naming it and why: not
 * found, not a region failover, not completed, a dry run, no `failback` record, another pair of
 * regions, an unknown database. Also refuses a deployment whose database lacks the primary-region
 * restore settings. Read-only.
 *
 * AWS: s3:ListObjectsV2 (`<prefix>region-failover/`), s3:GetObject. Thrown: FailbackRefused,
 * InvalidConfig, what awsCall names.
 */
export async function loadFailoverRecord(s3: S3Client, config: DeploymentConfig, run: Pick<RunContext, 'failback' | 'executionId' | 'startedAt'>): Promise<StepResult<FailoverRecord>> {
  const wanted = run.failback?.failoverExecution;
  if (!wanted) throw new FailbackRefused('run.failback.failoverExecution is missing: name the region-failover execution to fail back from');
  const { stateMachine, name } = executionParts(wanted);
  if (stateMachine !== null && !stateMachine.endsWith('region-failover')) {
    throw new FailbackRefused(`failoverExecution ${wanted} is an execution of ${stateMachine}, not of region-failover: only a region failover's record can be failed back; nothing was changed`);
  }
  const { bucket } = config.reports;
  const folder = config.reports.prefix && !config.reports.prefix.endsWith('/') ? `${config.reports.prefix}/` : config.reports.prefix;
  const prefix = `${folder}region-failover/`;
  const suffix = `-${name.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
  const keys: string[] = [];
  await awsCall('s3:ListObjectsV2', `s3://${bucket}/${prefix}`, async () => {
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
      for (const object of page.Contents ?? []) if (object.Key?.endsWith(suffix)) keys.push(object.Key);
    }
  });
  // Keys sort by the run's start within a scenario; the same execution's report is one key.
  const key = keys.sort().at(-1);
  if (!key) throw new FailbackRefused(`no region-failover report of execution ${name} in s3://${bucket}/${prefix}: check the execution name (a failover that never reached its report cannot be failed back automatically); nothing was changed`);
  const location = `s3://${bucket}/${key}`;
  const body = await awsCall('s3:GetObject', location, async () => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString());
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch (error) {
    throw new FailbackRefused(`${location} is not JSON (${(error as Error).message}): not a report this product wrote; nothing was changed`, { cause: error });
  }
  const parsed = failoverReportSchema.safeParse(json);
  if (!parsed.success) throw new FailbackRefused(`${location} is not a run report:\n${describeIssues(parsed.error.issues, json)}`);
  const report = parsed.data;
  const refuse = (why: string) => new FailbackRefused(`${location} (execution ${report.executionName}) ${why}; nothing was changed`);
  if (report.scenario !== 'region-failover') throw refuse(`is a ${report.scenario} report, not a region failover`);
  if (report.dryRun) throw refuse('is a dry run: it moved nothing, so there is nothing to fail back');
  if (report.status !== 'succeeded') {
    const failed = (report.failures ?? []).map((f) => `${f.step} (${f.error})`).join(', ');
    throw refuse(`did not complete (status ${report.status}${failed ? `: ${failed}` : ''}): fail back by hand from what its report says it changed`);
  }
  if (report.failback === undefined) throw refuse('holds no failback record (the DNS values and database it moved)');
  const record = failbackObjectSchema.safeParse(report.failback);
  if (!record.success) throw refuse(`has a failback record a failback cannot use:\n${describeIssues(record.error.issues, report.failback).replaceAll('  - ', '  - failback.')}`);
  const failback = record.data;
  if (failback.primaryRegion !== config.primaryRegion || failback.recoveryRegion !== config.recoveryRegion) {
    throw refuse(`moved ${failback.primaryRegion} to ${failback.recoveryRegion}; this deployment protects ${config.primaryRegion} from ${config.recoveryRegion}`);
  }
  if (!config.databases.some((d) => d.name === failback.database.name)) throw refuse(`moved database ${failback.database.name}, which this deployment does not configure`);
  const database = findDatabase(config, failback.database.name);
  const problems = failbackRestoreProblems(config, database);
  if (problems.length) throw new InvalidConfig(`region failback cannot restore ${database.name} in ${config.primaryRegion}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const data: FailoverRecord = {
    failoverExecution: report.executionId,
    report: location,
    failoverFinishedAt: report.finishedAt,
    primaryRegion: failback.primaryRegion,
    recoveryRegion: failback.recoveryRegion,
    dns: failback.dns as RecordedDnsState[],
    database: failback.database,
    primaryInstanceId: restoredInstanceId(database.name, incidentIdFor(run.startedAt)),
    snapshots: { baseline: failbackSnapshotId(database.name, run.executionId, 'baseline'), final: failbackSnapshotId(database.name, run.executionId, 'final') },
  };
  return {
    data,
    detail: `region failover ${report.executionName} (finished ${report.finishedAt}) moved ${data.database.name} to ${data.database.recoveryInstanceId} in ${data.recoveryRegion} (restore point ${data.database.restorePoint}) and ${data.dns.length} DNS record(s); failing back to ${data.primaryInstanceId} in ${data.primaryRegion}`,
  };
}

// ---------------------------------------------------------------------------------------------------
// Is the primary region back?

export interface PrimaryRegionClients {
  rds: RDSClient;
  eks: EKSClient;
}

/**
 * The CheckPrimaryRegionBack step: the primary region answers RDS (DescribeDBInstances) and EKS
 * (DescribeCluster of the primary cluster, which must be ACTIVE). Read-only; every call is made, so
 * the error names every one that failed.
 *
 * AWS: rds:DescribeDBInstances, eks:DescribeCluster in the primary region. Thrown:
 * PrimaryRegionUnavailable (naming each failed call and why), AwsAccessDenied.
 */
export async function checkPrimaryRegionBack(config: DeploymentConfig, clients: PrimaryRegionClients): Promise<StepResult<{ rdsInstances: number; clusterStatus: string }>> {
  const region = config.primaryRegion;
  const cluster = clusterFor(config, 'primary');
  const [rds, eks] = await Promise.allSettled([
    awsCall('rds:DescribeDBInstances', `instances in ${region}`, () => clients.rds.send(new DescribeDBInstancesCommand({ MaxRecords: 20 }))),
    awsCall('eks:DescribeCluster', `${cluster.name} in ${region}`, () => clients.eks.send(new DescribeClusterCommand({ name: cluster.name }))),
  ]);
  const problems: string[] = [];
  for (const outcome of [rds, eks]) {
    if (outcome.status === 'rejected') {
      const error = outcome.reason as Error;
      // A missing permission is the deployment's fault, not the region's: say that instead.
      if (error.name === 'AwsAccessDenied') throw error;
      problems.push(error.message);
    }
  }
  const status = eks.status === 'fulfilled' ? ((eks.value as DescribeClusterCommandOutput).cluster?.status ?? 'unknown') : 'unreachable';
  if (eks.status === 'fulfilled' && status !== 'ACTIVE') problems.push(`EKS cluster ${cluster.name} in ${region} is ${status}, not ACTIVE`);
  if (problems.length) {
    throw new PrimaryRegionUnavailable(`the primary region ${region} is not back: ${problems.join('; ')}. Nothing was changed; start the failback again once it answers`);
  }
  const instances = rds.status === 'fulfilled' ? (rds.value.DBInstances?.length ?? 0) : 0;
  return { data: { rdsInstances: instances, clusterStatus: status }, detail: `${region} answers: RDS (${instances} instance(s) listed), EKS cluster ${cluster.name} ${status}` };
}

// ---------------------------------------------------------------------------------------------------
// The write freeze and its plan

export type TransferPhase = 'baseline' | 'final';

/** How a failback moves the data, and what the write freeze is made of. JSON-safe. */
export interface FreezePlan {
  /** Allocated storage of the recovery-region instance (what the first snapshot and copy move), GiB. */
  allocatedStorageGiB: number;
  /** First waits, seconds, each sized from what is waited for; later looks come every ≤ MAX_POLL_SECONDS. */
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
 * in the destination region). Waits: a first one sized from the storage to move (full: about
 * 1.5 s/GiB to snapshot and 3 s/GiB to copy, at least 15 s and 30 s; incremental: 15 s and 30 s), the
 * restore 240 s (an RDS restore takes minutes whatever the size), then looks every ≤ 15 s.
 * Pure: no AWS call.
 */
export function planWriteFreeze(allocatedStorageGiB: number | null | undefined, dryRun: boolean): FreezePlan {
  const gib = Math.max(0, allocatedStorageGiB ?? 0);
  const clamp = (seconds: number, low: number, high: number) => Math.round(Math.min(high, Math.max(low, seconds)));
  const waits = dryRun
    ? { baselineSnapshot: 0, baselineCopy: 0, finalSnapshot: 0, finalCopy: 0, restore: 0 }
    : { baselineSnapshot: clamp(gib * 1.5, 15, 900), baselineCopy: clamp(gib * 3, 30, 1800), finalSnapshot: 15, finalCopy: 30, restore: 240 };
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
  /** Seconds the state machine waits before the first look (0 in a dry run). */
  firstWaitSeconds: number;
  dryRun: boolean;
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
  const ref: SnapshotRef = { phase, snapshotId, snapshotArn: null, region: record.recoveryRegion, startedAt: now.toISOString(), firstWaitSeconds, dryRun: run.dryRun };
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
    detail: `${adopted ? 'adopted the snapshot a first attempt took' : 'took'} ${phase} snapshot ${snapshotId} of ${instanceId} (${freeze.allocatedStorageGiB} GiB allocated); first look in ${firstWaitSeconds} s`,
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
  /** When to look again (≤ MAX_POLL_SECONDS): from the progress RDS reports, else the bound. */
  nextCheckSeconds: number;
  snapshotArn: string | null;
}

/**
 * The next look, seconds: when RDS reports progress, the time the remaining part should take at the
 * rate so far; never more than MAX_POLL_SECONDS, never less than 2 s.
 */
export function nextCheckSeconds(waitedSeconds: number, percentProgress: number | null): number {
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
export async function checkFailbackSnapshot(rds: RDSClient, config: DeploymentConfig, ref: Pick<SnapshotRef, 'snapshotId' | 'region' | 'startedAt' | 'dryRun'>, now: Date): Promise<StepResult<SnapshotStatus>> {
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
    nextCheckSeconds: available ? 0 : nextCheckSeconds(waitedSeconds, progress),
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
    detail: `${adopted ? 'adopted the copy a first attempt started' : 'copying'} ${source.snapshotId} to ${record.primaryRegion}; first look in ${firstWaitSeconds} s`,
  };
}

// ---------------------------------------------------------------------------------------------------
// The freeze

export interface FreezeData {
  frozenAt: string | null;
  writeRefused: boolean | null;
  endpoint: { host: string; port: number } | null;
  terminatedSessions: number;
}

/**
 * FreezeRecoveryWrites: the recovery-region database stops taking writes for the final delta, reads
 * still served: `ALTER DATABASE ... SET default_transaction_read_only = on` (with
 * recovery.readOnlyStrength revoke-writes, the application roles' write privileges revoked too), the
 * other sessions ended (they would keep their read-write default), then a write that must be refused.
 * Everything written before this is in the final snapshot; a write accepted after it would be lost,
 * so a freeze that is not proven fails the step before the final snapshot.
 *
 * AWS: rds:DescribeDBInstances (recovery region), secretsmanager:GetSecretValue; PostgreSQL as
 * enableReadOnlyMode. Thrown: ValidationFailed (a write was not refused), the database's errors.
 */
export async function freezeRecoveryWrites(
  config: DeploymentConfig,
  record: FailoverRecord,
  run: Pick<RunContext, 'dryRun'>,
  deps: { rds: RDSClient; secrets: SecretsManagerClient; enable?: typeof enableReadOnlyMode },
  now: () => Date,
): Promise<StepResult<FreezeData>> {
  const database = findDatabase(config, record.database.name);
  const instanceId = record.database.recoveryInstanceId;
  const action: Action = {
    description: `freeze writes on ${instanceId} (${record.recoveryRegion}): ALTER DATABASE ${database.databaseName} SET default_transaction_read_only = on, end the other sessions; reads are still served`,
    service: 'postgresql',
    operation: 'ALTER DATABASE',
    parameters: { instance: instanceId, database: database.databaseName, strength: database.recovery?.readOnlyStrength ?? 'default' },
    performed: false,
  };
  if (run.dryRun) return { data: { frozenAt: null, writeRefused: null, endpoint: null, terminatedSessions: 0 }, actions: [action], detail: 'dry run: writes not frozen' };
  const instance = await describeInstance(deps.rds, record.recoveryRegion, instanceId);
  const endpoint = instanceEndpoint(instance, database);
  if (!endpoint) throw new ValidationFailed(`${instanceId} in ${record.recoveryRegion} has no endpoint (status ${instance.DBInstanceStatus}): its writes cannot be frozen, and a snapshot would miss what it still takes`);
  const credentials = await fetchDatabaseCredentials(deps.secrets, database.credentialsSecret);
  const outcome = await (deps.enable ?? enableReadOnlyMode)({ ...endpoint, databaseName: database.databaseName, tls: database.tls }, credentials, {
    alterDatabase: true,
    timeoutMs: config.health.timeoutSeconds * 1000,
    strength: database.recovery?.readOnlyStrength ?? 'default',
    applicationRoles: database.recovery?.applicationRoles ?? [],
  });
  const frozenAt = now().toISOString();
  if (!outcome.writeRefused) throw new ValidationFailed(`writes on ${instanceId} are not frozen: a test write was accepted after ALTER DATABASE; the final snapshot would miss later writes, so the failback stops here (the database is left read-only by default)`);
  if (outcome.sessionsNotEnded.length) {
    throw new ValidationFailed(`writes on ${instanceId} are not frozen: sessions still open with their read-write default (${outcome.sessionsNotEnded.map((s) => `pid ${s.pid}`).join(', ')})`);
  }
  return {
    data: { frozenAt, writeRefused: true, endpoint, terminatedSessions: outcome.terminatedSessions },
    actions: [{ ...action, performed: true }],
    resources: [{ kind: 'postgresql:read-only', id: `${instanceId}/${database.databaseName}`, region: record.recoveryRegion, kept: true, note: 'writes frozen for the failback and left so: the primary region serves now (ALTER DATABASE ... RESET default_transaction_read_only to lift it)' }],
    detail: `writes frozen at ${frozenAt} (a test write was refused; ${outcome.terminatedSessions} other session(s) ended); reads still served`,
  };
}

function instanceEndpoint(instance: DBInstance, database: DatabaseConfig): { host: string; port: number } | null {
  return instance.Endpoint?.Address ? { host: instance.Endpoint.Address, port: instance.Endpoint.Port ?? database.port } : null;
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
    detail: `${adopted ? 'adopted' : 'restoring'} ${record.primaryInstanceId} from ${copy.snapshotId}; first look in ${data.firstWaitSeconds} s`,
  };
}

// ---------------------------------------------------------------------------------------------------
// Proof the data moved

export interface TableCount {
  table: string;
  recoveryRegion: number | null;
  primaryRegion: number | null;
}

/** Tables compared at most; a schema with more is compared on the first ones by name, and says so. */
export const MAX_COMPARED_TABLES = 200;

const TABLES_SQL = `
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
    AND NOT c.relispartition
  ORDER BY 1 LIMIT ${MAX_COMPARED_TABLES + 1}`;

async function countRows(target: DatabaseTarget, credentials: DatabaseCredentials, timeoutMs: number): Promise<Map<string, number>> {
  const client = databaseClient(target, credentials, timeoutMs, 60_000);
  await client.connect();
  try {
    const tables = (await client.query<{ name: string }>(TABLES_SQL)).rows.map((r) => r.name);
    const counts = new Map<string, number>();
    for (const table of tables.slice(0, MAX_COMPARED_TABLES)) {
      const answer = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
      counts.set(table, Number(answer.rows[0]?.n ?? NaN));
    }
    return counts;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The tables whose row counts differ (or exist on one side only). Pure. */
export function differingTables(recovery: Map<string, number>, primary: Map<string, number>): TableCount[] {
  const names = [...new Set([...recovery.keys(), ...primary.keys()])].sort();
  return names
    .map((table) => ({ table, recoveryRegion: recovery.get(table) ?? null, primaryRegion: primary.get(table) ?? null }))
    .filter((row) => row.recoveryRegion !== row.primaryRegion);
}

/**
 * VerifyFailbackData: the data written during the failover is in the primary region. The recovery-region
 * database has been frozen since before the final snapshot, so every table must hold exactly as many
 * rows in the new primary instance (exact count(*), up to MAX_COMPARED_TABLES tables): the check
 * `failback-data` names any table that differs. Read-only on both.
 *
 * AWS: secretsmanager:GetSecretValue (the credentials; recovery region), rds:DescribeDBInstances;
 * PostgreSQL: SELECT count(*) per table on both instances. Thrown: what the connections throw.
 */
export async function verifyFailbackData(
  config: DeploymentConfig,
  record: FailoverRecord,
  primaryEndpoint: { host: string; port: number } | null,
  frozen: Pick<FreezeData, 'endpoint'>,
  run: Pick<RunContext, 'dryRun'>,
  deps: { secrets: SecretsManagerClient; count?: typeof countRows },
): Promise<StepResult<{ tables: number; differing: TableCount[]; rows: number }>> {
  if (run.dryRun || !primaryEndpoint || !frozen.endpoint) return { data: { tables: 0, differing: [], rows: 0 }, status: 'skipped', detail: 'dry run: nothing was moved to compare' };
  const database = findDatabase(config, record.database.name);
  const credentials = await fetchDatabaseCredentials(deps.secrets, database.credentialsSecret);
  const count = deps.count ?? countRows;
  const timeoutMs = config.health.timeoutSeconds * 1000;
  const target = (endpoint: { host: string; port: number }): DatabaseTarget => ({ ...endpoint, databaseName: database.databaseName, tls: database.tls });
  const [recovery, primary] = await Promise.all([count(target(frozen.endpoint), credentials, timeoutMs), count(target(primaryEndpoint), credentials, timeoutMs)]);
  const differing = differingTables(recovery, primary);
  const rows = [...primary.values()].reduce((sum, n) => sum + n, 0);
  const check: Check = {
    name: 'failback-data',
    resource: `${record.primaryInstanceId} (${record.primaryRegion})`,
    measured: differing.length ? `${differing.length} of ${recovery.size} table(s) differ: ${differing.map((d) => `${d.table} ${d.recoveryRegion ?? 'missing'} vs ${d.primaryRegion ?? 'missing'}`).join(', ')}` : `${primary.size} table(s), ${rows} row(s), every count equal`,
    target: `the row count of every table of ${record.database.recoveryInstanceId} (frozen)`,
    passed: differing.length === 0,
    message: differing.length
      ? `The primary-region instance does not hold what the recovery region held when writes were frozen: do not move DNS back; compare the tables named, and check that nothing wrote to ${record.database.recoveryInstanceId} after the freeze.`
      : `The data written in ${record.recoveryRegion} during the failover is in ${record.primaryInstanceId}.`,
  };
  if (differing.length) throw new ValidationFailed(`failback data differs: ${check.measured}`);
  return { data: { tables: primary.size, differing, rows }, checks: [check], detail: check.measured };
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
