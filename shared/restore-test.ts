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
import { AwsTransientError, classifyAwsError, ResourceNotFound, RestoreTimedOut, UnexpectedResourceState } from './errors.js';
import { minutesBetween } from './objectives.js';
import type { ResourceRecord } from './report.js';
import type { Action } from './steps.js';

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

export interface StartRestoreResult {
  restore: ScratchRestore;
  action: Action;
  resource: ResourceRecord;
}

export async function startScratchRestore(
  config: DeploymentConfig,
  database: DatabaseConfig,
  executionId: string,
  dryRun: boolean,
  recovery: RDSClient,
  now: Date,
): Promise<StartRestoreResult> {
  const region = config.recoveryRegion;
  const instanceId = scratchInstanceId(database.name, executionId);
  const copies = await listUsableSnapshots(recovery, region, database);
  const snapshot = copies[0];
  if (!snapshot) {
    throw new ResourceNotFound(
      `no available snapshot copy of ${database.name} in ${region}: nothing to restore-test (run backup-verification to see why copies are missing)`,
    );
  }

  const parameters: RestoreDBInstanceFromDBSnapshotCommandInput = {
    DBInstanceIdentifier: instanceId,
    DBSnapshotIdentifier: snapshot.arn,
    DBInstanceClass: database.restoreTest.instanceClass,
    ...(database.restoreTest.subnetGroup ? { DBSubnetGroupName: database.restoreTest.subnetGroup } : {}),
    ...(database.restoreTest.securityGroupIds.length ? { VpcSecurityGroupIds: database.restoreTest.securityGroupIds } : {}),
    MultiAZ: false,
    PubliclyAccessible: false,
    DeletionProtection: false,
    AutoMinorVersionUpgrade: false,
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
  const resource: ResourceRecord = { kind: 'rds:db-instance', id: instanceId, region, kept: false, note: 'scratch restore-test instance' };
  if (dryRun) return { restore, action, resource };

  // A retried or redriven step must not start a second restore: reuse ours, refuse anyone else's.
  const existing = await findInstance(recovery, region, instanceId);
  if (existing) {
    if (!isOurs(existing, executionId)) refuseForeign(existing, region, executionId);
    const createdAt = existing.InstanceCreateTime?.toISOString() ?? restore.restoreStartedAt;
    // Report the snapshot the earlier attempt restored, which may no longer be the newest copy.
    const restoredFrom = copies.find((c) => c.id === tagValue(existing, SNAPSHOT_TAG)) ?? snapshot;
    return {
      restore: { ...restore, snapshot: restoredFrom, restoreStartedAt: createdAt, started: true },
      action: { ...action, description: `${action.description} (already started by an earlier attempt)`, performed: true },
      resource: { ...resource, kept: true },
    };
  }
  try {
    await recovery.send(new RestoreDBInstanceFromDBSnapshotCommand(parameters));
  } catch (error) {
    if (error instanceof DBInstanceAlreadyExistsFault) {
      // Lost a race with a concurrent attempt of this same step: adopt it only if it is ours.
      const raced = await findInstance(recovery, region, instanceId);
      if (raced && isOurs(raced, executionId)) {
        return { restore: { ...restore, started: true }, action: { ...action, performed: true }, resource: { ...resource, kept: true } };
      }
      if (raced) refuseForeign(raced, region, executionId);
    }
    throw classifyAwsError(error, 'rds:RestoreDBInstanceFromDBSnapshot', `${instanceId} in ${region}`);
  }
  return { restore: { ...restore, started: true }, action: { ...action, performed: true }, resource: { ...resource, kept: true } };
}

export interface ScratchStatus {
  instanceId: string;
  status: string;
  available: boolean;
  endpoint: { host: string; port: number } | null;
  waitedMinutes: number;
}

/** One look at the scratch instance; the state machine's Wait/Choice loop does the waiting. */
export async function checkScratchInstance(
  restore: ScratchRestore,
  database: DatabaseConfig,
  executionId: string,
  recovery: RDSClient,
  now: Date,
): Promise<ScratchStatus> {
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
  return {
    instanceId: restore.instanceId,
    status,
    available,
    endpoint: available ? { host: instance.Endpoint?.Address as string, port: instance.Endpoint?.Port ?? database.port } : null,
    waitedMinutes: Math.round(waited * 10) / 10,
  };
}

export interface CleanupResult {
  instanceId: string;
  outcome: 'deleted' | 'already-deleting' | 'never-created' | 'dry-run';
  action: Action | null;
}

/**
 * Deletes the scratch instance of this execution, and nothing else: an instance without our scratch
 * and execution tags is refused. Runs after success and after any failure.
 */
export async function deleteScratchInstance(
  database: string,
  region: string,
  executionId: string,
  dryRun: boolean,
  recovery: RDSClient,
): Promise<CleanupResult> {
  const instanceId = scratchInstanceId(database, executionId);
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

