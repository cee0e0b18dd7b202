// Restore test: prove the newest recovery-region snapshot copy really restores and answers a query,
// and measure how long that takes against the database RTO. The scratch instance is named after the
// execution and tagged, so every step can find it again after a retry or a redrive, and so cleanup
// can prove it deletes only what this run created.
import {
  DBInstanceAlreadyExistsFault,
  DeleteDBInstanceCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
  type RDSClient,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
} from '@aws-sdk/client-rds';
import { describeInstance, findInstance, listUsableSnapshots, RESTORE_FAILED_STATES, type SnapshotSummary } from './backups.js';
import type { DatabaseConfig, DeploymentConfig } from './config.js';
import { DATABASE_TAG, EXECUTION_TAG, PURPOSE_TAG, SCRATCH_TAG, scratchInstanceId, SNAPSHOT_TAG } from './names.js';
import { AwsTransientError, classifyAwsError, InvalidConfig, ResourceNotFound, RestoreTimedOut, UnexpectedResourceState } from './errors.js';
import { minutesBetween } from './objectives.js';
import { nextCheckSeconds, RDS_RESTORE_EARLIEST_SECONDS, secondsBetween } from './polling.js';
import type { ResourceRecord } from './report.js';
import { describeRestoreSettings, restoreParameters, type RestoreSetting } from './restore-settings.js';
import type { Action, StepResult } from './steps.js';

function tagValue(instance: DBInstance, key: string): string | undefined {
  return instance.TagList?.find((t) => t.Key === key)?.Value;
}

function isOurs(instance: DBInstance, executionId: string): boolean {
  return tagValue(instance, SCRATCH_TAG) === 'true' && tagValue(instance, EXECUTION_TAG) === executionId;
}

function refuseForeign(instance: DBInstance, region: string, executionId: string): never {
  throw new UnexpectedResourceState(
    `DB instance ${instance.DBInstanceIdentifier} in ${region} exists but was not created by execution ${executionId} ` +
      `(tags ${SCRATCH_TAG}=${tagValue(instance, SCRATCH_TAG) ?? 'missing'}, ${EXECUTION_TAG}=${tagValue(instance, EXECUTION_TAG) ?? 'missing'}): ` +
      'the restore test will not touch it',
  );
}

export interface ScratchRestore {
  database: string;
  instanceId: string;
  region: string;
  snapshot: SnapshotSummary;
  restoreStartedAt: string;
  /** False in a dry run: the restore was only described. */
  started: boolean;
}

/**
 * The scratch instance's settings: network and class from restoreTest (never RDS's default VPC and
 * security group: the config must name them), the scratch policy (single-AZ, private, deletable, no
 * upgrades), and what the snapshot decides. Throws InvalidConfig naming a missing field.
 */
export function scratchRestoreSettings(database: DatabaseConfig, snapshot: SnapshotSummary | null): RestoreSetting[] {
  const test = database.restoreTest;
  const missing = (field: string, what: string) =>
    new InvalidConfig(
      `restoreTest.${field} of database ${database.name} is not set: the restore test will not let RDS put the scratch instance in the default VPC and security group; name the ${what} in the config`,
    );
  if (!test.subnetGroup) throw missing('subnetGroup', 'DB subnet group of the recovery region');
  if (test.securityGroupIds.length === 0) throw missing('securityGroupIds', 'security groups that let the validation function reach the instance');
  const config = (parameter: string, value: RestoreSetting['value'], field: string): RestoreSetting => ({ parameter, value, origin: 'config', from: `from config (restoreTest.${field})`, sent: true });
  const policy = (parameter: string, value: boolean): RestoreSetting => ({ parameter, value, origin: 'policy', from: 'restore-test policy: a scratch instance', sent: true });
  const settings: RestoreSetting[] = [
    config('DBInstanceClass', test.instanceClass, 'instanceClass'),
    config('DBSubnetGroupName', test.subnetGroup, 'subnetGroup'),
    config('VpcSecurityGroupIds', test.securityGroupIds, 'securityGroupIds'),
  ];
  for (const [parameter, field, what] of [
    ['DBParameterGroupName', 'parameterGroup', 'parameter group'],
    ['OptionGroupName', 'optionGroup', 'option group'],
  ] as const) {
    const value = test[field];
    settings.push(
      value
        ? config(parameter, value, field)
        : { parameter, value: `the engine's default ${what}`, origin: 'policy', from: `restoreTest.${field} not set: RDS's default for the engine`, sent: false },
    );
  }
  settings.push(policy('MultiAZ', false), policy('PubliclyAccessible', false), policy('DeletionProtection', false), policy('AutoMinorVersionUpgrade', false));
  if (snapshot) {
    const fromSnapshot = `from snapshot ${snapshot.id} (snapshot restores keep it)`;
    settings.push({ parameter: 'StorageEncrypted', value: snapshot.encrypted, origin: 'restore-point', from: fromSnapshot, sent: false });
    if (snapshot.kmsKeyId) settings.push({ parameter: 'KmsKeyId', value: snapshot.kmsKeyId, origin: 'restore-point', from: fromSnapshot, sent: false });
    if (snapshot.engineVersion) settings.push({ parameter: 'EngineVersion', value: snapshot.engineVersion, origin: 'restore-point', from: fromSnapshot, sent: false });
  }
  return settings;
}

/**
 * StartScratchRestore: restores the newest available snapshot copy of `database` in the recovery region
 * (`config.recoveryRegion`) to a new scratch instance named after the execution
 * (names.ts scratchInstanceId) and tagged with it, so only this execution's cleanup deletes it.
 * Returns at once (`data.restoreStartedAt`, ISO UTC); the state machine waits for `available`.
 * A retried or redriven step adopts the instance an earlier attempt of this execution started.
 *
 * Result: `data` the ScratchRestore later states pass back; `actions` the RestoreDBInstanceFromDBSnapshot
 * call with its exact parameters (`performed: false` in a dry run, which calls nothing but
 * DescribeDBSnapshots); `resources` the scratch instance once it exists (none in a dry run); `detail`
 * where each setting of the scratch instance came from (scratchRestoreSettings).
 *
 * AWS: rds:DescribeDBSnapshots, rds:DescribeDBInstances, rds:RestoreDBInstanceFromDBSnapshot.
 * Throws InvalidConfig (restoreTest names no subnet group or security groups: checked before any
 * call), ResourceNotFound (no available copy), UnexpectedResourceState (an instance of that name this
 * execution did not create), and what classifyAwsError makes of an RDS failure (AwsTransientError for
 * throttling, 5xx and timeouts; AwsAccessDenied; ResourceNotFound).
 *
 * @param recovery An RDS client of the recovery region.
 * @param now When the restore starts (the RTO clock of the restore test).
 */
export async function startScratchRestore(
  config: DeploymentConfig,
  database: DatabaseConfig,
  executionId: string,
  dryRun: boolean,
  recovery: RDSClient,
  now: Date,
): Promise<StepResult<ScratchRestore>> {
  const region = config.recoveryRegion;
  const instanceId = scratchInstanceId(database.name, executionId);
  // The network is checked before anything is looked up or created.
  scratchRestoreSettings(database, null);
  const copies = await listUsableSnapshots(recovery, region, database);
  const snapshot = copies[0];
  if (!snapshot) {
    throw new ResourceNotFound(
      `no available snapshot copy of ${database.name} in ${region}: nothing to restore-test (run backup-verification to see why copies are missing)`,
    );
  }

  const settings = scratchRestoreSettings(database, snapshot);
  const parameters: RestoreDBInstanceFromDBSnapshotCommandInput = {
    DBInstanceIdentifier: instanceId,
    DBSnapshotIdentifier: snapshot.arn,
    ...restoreParameters(settings),
    Tags: [
      { Key: SCRATCH_TAG, Value: 'true' },
      { Key: EXECUTION_TAG, Value: executionId },
      { Key: PURPOSE_TAG, Value: 'restore-test' },
      { Key: SNAPSHOT_TAG, Value: snapshot.id },
      { Key: DATABASE_TAG, Value: database.name },
    ],
  };
  const action: Action = {
    description: `restore ${snapshot.id} to scratch instance ${instanceId} in ${region}`,
    service: 'rds',
    operation: 'RestoreDBInstanceFromDBSnapshot',
    parameters: { ...parameters },
    performed: false,
  };
  const restore: ScratchRestore = { database: database.name, instanceId, region, snapshot, restoreStartedAt: now.toISOString(), started: false };
  // Listed once it exists: the delete step's record of it replaces this one in the report.
  const resource: ResourceRecord = { kind: 'rds:db-instance', id: instanceId, region, kept: true, note: 'scratch restore-test instance' };
  const started = (result: ScratchRestore, performed: Action): StepResult<ScratchRestore> => ({
    data: result,
    actions: [performed],
    resources: [resource],
    detail: `settings: ${describeRestoreSettings(scratchRestoreSettings(database, result.snapshot))}`,
  });
  if (dryRun) return { data: restore, actions: [action], resources: [], detail: `settings: ${describeRestoreSettings(settings)}` };

  // A retried or redriven step must not start a second restore: reuse ours, refuse anyone else's.
  const existing = await findInstance(recovery, region, instanceId);
  if (existing) {
    if (!isOurs(existing, executionId)) refuseForeign(existing, region, executionId);
    const createdAt = existing.InstanceCreateTime?.toISOString() ?? restore.restoreStartedAt;
    // Report the snapshot the earlier attempt restored, which may no longer be the newest copy.
    const restoredFrom = copies.find((c) => c.id === tagValue(existing, SNAPSHOT_TAG)) ?? snapshot;
    return started(
      { ...restore, snapshot: restoredFrom, restoreStartedAt: createdAt, started: true },
      { ...action, description: `${action.description} (already started by an earlier attempt)`, performed: true },
    );
  }
  try {
    await recovery.send(new RestoreDBInstanceFromDBSnapshotCommand(parameters));
  } catch (error) {
    if (error instanceof DBInstanceAlreadyExistsFault) {
      // Lost a race with a concurrent attempt of this same step: adopt it only if it is ours.
      const raced = await findInstance(recovery, region, instanceId);
      if (raced && isOurs(raced, executionId)) {
        return started({ ...restore, started: true }, { ...action, performed: true });
      }
      if (raced) refuseForeign(raced, region, executionId);
    }
    throw classifyAwsError(error, 'rds:RestoreDBInstanceFromDBSnapshot', `${instanceId} in ${region}`);
  }
  return started({ ...restore, started: true }, { ...action, performed: true });
}

export interface ScratchStatus {
  instanceId: string;
  status: string;
  available: boolean;
  endpoint: { host: string; port: number } | null;
  waitedMinutes: number;
  /**
   * Seconds the state machine waits before the next look (its Wait state's SecondsPath): to the
   * earliest an RDS restore can be available, then 10 s polls, never past the limit (polling.ts).
   */
  nextCheckSeconds: number;
}

/**
 * CheckScratchInstance: one look at the scratch instance (never waits; the state machine's Wait/Choice
 * loop does). `data.available` is true once it is `available` with an endpoint; `data.waitedMinutes`
 * counts from `restore.restoreStartedAt` (minutes, one decimal); `data.nextCheckSeconds` is how long
 * the loop sleeps before the next look.
 *
 * AWS: rds:DescribeDBInstances. Throws UnexpectedResourceState (the instance is not this execution's,
 * or its restore failed), RestoreTimedOut (not available past database.restoreTest.timeoutMinutes),
 * ResourceNotFound (no such instance), and AwsTransientError/AwsAccessDenied for RDS failures.
 *
 * @param recovery An RDS client of the recovery region.
 */
export async function checkScratchInstance(
  restore: ScratchRestore,
  database: DatabaseConfig,
  executionId: string,
  recovery: RDSClient,
  now: Date,
): Promise<StepResult<ScratchStatus>> {
  const waited = minutesBetween(restore.restoreStartedAt, now);
  const instance = await describeInstance(recovery, restore.region, restore.instanceId);
  if (!isOurs(instance, executionId)) refuseForeign(instance, restore.region, executionId);
  const status = instance.DBInstanceStatus ?? 'unknown';
  if (RESTORE_FAILED_STATES.has(status)) {
    throw new UnexpectedResourceState(`scratch instance ${restore.instanceId} is '${status}' after ${waited.toFixed(1)} min: the restore of ${restore.snapshot.id} failed`);
  }
  const available = status === 'available' && Boolean(instance.Endpoint?.Address);
  if (!available && waited > database.restoreTest.timeoutMinutes) {
    throw new RestoreTimedOut(
      `scratch instance ${restore.instanceId} is still '${status}' after ${waited.toFixed(1)} min (limit ${database.restoreTest.timeoutMinutes} min)`,
    );
  }
  const look: ScratchStatus = {
    instanceId: restore.instanceId,
    status,
    available,
    endpoint: available ? { host: instance.Endpoint?.Address as string, port: instance.Endpoint?.Port ?? database.port } : null,
    waitedMinutes: Math.round(waited * 10) / 10,
    nextCheckSeconds: nextCheckSeconds({
      elapsedSeconds: secondsBetween(restore.restoreStartedAt, now),
      expectedSeconds: RDS_RESTORE_EARLIEST_SECONDS,
      timeoutSeconds: database.restoreTest.timeoutMinutes * 60,
    }),
  };
  return { data: look, detail: `${look.instanceId} is ${look.status} after ${look.waitedMinutes} min` };
}

export interface CleanupResult {
  instanceId: string;
  outcome: 'deleted' | 'already-deleting' | 'never-created' | 'dry-run';
  action: Action | null;
}

/**
 * DeleteScratchInstance: deletes the scratch instance of this execution, and nothing else: an instance
 * without our scratch and execution tags is refused. Runs after success and after any failure.
 *
 * Result: `data.outcome` deleted | already-deleting | never-created | dry-run; `actions` the
 * DeleteDBInstance call (`performed: false` in a dry run, which calls nothing), none when there was
 * nothing to delete; `resources` the instance, no longer kept, when it was deleted or already going.
 *
 * AWS: rds:DescribeDBInstances, rds:DeleteDBInstance. Throws UnexpectedResourceState (not this
 * execution's instance), AwsTransientError (throttling, 5xx, timeouts, and an instance still being
 * created or modified: ASL retries), AwsAccessDenied.
 *
 * @param database The protected database's name (the scratch instance id derives from it).
 * @param region The recovery region, where the scratch instance is.
 * @param recovery An RDS client of that region.
 */
export async function deleteScratchInstance(
  database: string,
  region: string,
  executionId: string,
  dryRun: boolean,
  recovery: RDSClient,
): Promise<StepResult<CleanupResult>> {
  const instanceId = scratchInstanceId(database, executionId);
  const result = await deleteOwnScratchInstance(instanceId, region, executionId, dryRun, recovery);
  const gone = result.outcome === 'deleted' || result.outcome === 'already-deleting';
  return {
    data: result,
    actions: result.action ? [result.action] : [],
    resources: gone ? [{ kind: 'rds:db-instance', id: instanceId, region, kept: false, note: `scratch instance ${result.outcome}` }] : [],
    detail: `scratch instance ${instanceId}: ${result.outcome}`,
  };
}

async function deleteOwnScratchInstance(instanceId: string, region: string, executionId: string, dryRun: boolean, recovery: RDSClient): Promise<CleanupResult> {
  const parameters = { DBInstanceIdentifier: instanceId, SkipFinalSnapshot: true, DeleteAutomatedBackups: true };
  const action: Action = {
    description: `delete scratch instance ${instanceId} in ${region}`,
    service: 'rds',
    operation: 'DeleteDBInstance',
    parameters,
    performed: false,
  };
  if (dryRun) return { instanceId, outcome: 'dry-run', action };
  const instance = await findInstance(recovery, region, instanceId);
  if (!instance) return { instanceId, outcome: 'never-created', action: null };
  if (!isOurs(instance, executionId)) refuseForeign(instance, region, executionId);
  if (instance.DBInstanceStatus === 'deleting') return { instanceId, outcome: 'already-deleting', action: null };
  try {
    await recovery.send(new DeleteDBInstanceCommand(parameters));
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    // An instance still being created or modified cannot be deleted yet; ASL retries this error.
    if (name === 'InvalidDBInstanceStateFault' || name === 'InvalidDBInstanceState') {
      throw new AwsTransientError(`scratch instance ${instanceId} cannot be deleted while '${instance.DBInstanceStatus}'; will retry`, { cause: error });
    }
    if (name === 'DBInstanceNotFoundFault' || name === 'DBInstanceNotFound') return { instanceId, outcome: 'never-created', action: null };
    throw classifyAwsError(error, 'rds:DeleteDBInstance', `${instanceId} in ${region}`);
  }
  return { instanceId, outcome: 'deleted', action: { ...action, performed: true } };
}

