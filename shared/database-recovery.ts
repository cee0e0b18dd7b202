// Database recovery (plan scenario 2): restore a damaged database to its last clean point as a NEW
// instance named after the incident, and move the application to it. Never destroys: the source
// instance, its snapshots and the previous secret version stay, so failback is possible.
import {
  ModifyDBParameterGroupCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  paginateDescribeDBInstanceAutomatedBackups,
  type DBInstance,
  type DBInstanceAutomatedBackup,
  type RDSClient,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
  type RestoreDBInstanceToPointInTimeCommandInput,
} from '@aws-sdk/client-rds';
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describeInstance, restoreOnce, findNamedSnapshot, listUsableSnapshots, RESTORE_FAILED_STATES, type SnapshotSummary } from './backups.js';
import type { DatabaseConfig, DeploymentConfig } from './config.js';
import { awsCall, DatabaseRestoreTimedOut, InvalidConfig, ResourceNotFound, UnexpectedResourceState } from './errors.js';
import { EXECUTION_TAG, INCIDENT_TAG, restoredInstanceId, SOURCE_TAG } from './names.js';
import { minutesBetween } from './objectives.js';
import { nextCheckSeconds, RDS_RESTORE_EARLIEST_SECONDS, secondsBetween } from './polling.js';
import { chooseRestorePoint, describeRestorePoint, type RestorePoint, type RestoreWindow, type SourceFacts } from './restore-point.js';
import { describeRestoreSettings, resolveRestoreSettings, restoreParameters, type RestoreSetting } from './restore-settings.js';
import { readSecretVersion } from './secrets.js';
import type { Action, StepResult } from './steps.js';

export type RecoveryConfig = NonNullable<DatabaseConfig['recovery']>;

export function recoveryConfig(database: DatabaseConfig): RecoveryConfig {
  if (!database.recovery) throw new InvalidConfig(`database ${database.name} has no recovery section: database-recovery cannot run for it`);
  return database.recovery;
}

export interface DatabaseAssessment {
  /** Where the damaged instance answers: the read-only step connects here, never to the secret's host. */
  sourceEndpoint: { host: string; port: number } | null;
  /** The damaged instance's own parameter group (read-only mode `parameter-group` changes it). */
  sourceParameterGroup: string | null;
  status: string;
  instanceClass: string | null;
  allocatedStorageGiB: number | null;
  backupRetentionDays: number;
  window: RestoreWindow | null;
  recentSnapshots: Pick<SnapshotSummary, 'id' | 'type' | 'createdAt' | 'encrypted'>[];
  restorePoint: RestorePoint;
  /** Encryption, key and engine version of the source: what automatic choice keeps. */
  source: SourceFacts;
  /** Every setting the restore sends (or inherits), each with where it came from. */
  restoreSettings: RestoreSetting[];
}

/** The point-in-time window: from the automated backups, else from retention and LatestRestorableTime. */
async function restoreWindow(rds: RDSClient, region: string, instance: DBInstance, now: Date): Promise<RestoreWindow | null> {
  const latest = instance.LatestRestorableTime;
  if (!instance.BackupRetentionPeriod || !latest) return null;
  const backups: DBInstanceAutomatedBackup[] = [];
  try {
    await awsCall('rds:DescribeDBInstanceAutomatedBackups', `${instance.DBInstanceIdentifier} in ${region}`, async () => {
      for await (const page of paginateDescribeDBInstanceAutomatedBackups({ client: rds, pageSize: 100 }, { DBInstanceIdentifier: instance.DBInstanceIdentifier })) {
        backups.push(...(page.DBInstanceAutomatedBackups ?? []));
      }
    });
  } catch (error) {
    // No record yet: the window is then derived from the retention period below.
    if (!(error instanceof ResourceNotFound)) throw error;
  }
  // Retained backups of an earlier instance with the same name share its ARN: the resource id does not.
  const own = backups.find((b) => (instance.DbiResourceId ? b.DbiResourceId === instance.DbiResourceId : b.DBInstanceArn === instance.DBInstanceArn));
  const reported = own?.RestoreWindow?.EarliestTime;
  const byRetention = new Date(now.getTime() - instance.BackupRetentionPeriod * 86_400_000);
  const created = instance.InstanceCreateTime ?? byRetention;
  const earliest = reported ?? (created > byRetention ? created : byRetention);
  return { earliest: earliest.toISOString(), latest: latest.toISOString() };
}

/** The account of an ARN (`arn:aws:rds:<region>:<account>:...`), or null. */
function accountOf(arn: string | undefined): string | null {
  return /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(arn ?? '')?.[1] ?? null;
}

/**
 * AssessDatabase, the recovery's preflight: looks at the damaged database in the primary region
 * (status, size, recent snapshots, restorable window), resolves every restore setting (config, else the
 * source instance: restore-settings.ts) and chooses the restore point (restore-point.ts), saying in
 * `detail` why newer candidates were refused and how many minutes of writes the choice loses. Everything
 * the restore needs is decided here, before the API is stopped or the database made read-only, so a
 * snapshot or restore time that cannot be used fails the run while nothing has changed. Read-only.
 *
 * @param request `incidentAt` (ISO) from the recovery lock; `snapshot`/`restoreTime` named by the operator.
 * @param rds An RDS client of the primary region.
 *
 * AWS: rds:DescribeDBInstances, rds:DescribeDBInstanceAutomatedBackups, rds:DescribeDBSnapshots (the
 * usable ones, and a named snapshot looked up as named: backups.ts findNamedSnapshot).
 * Throws ResourceNotFound (instance, named snapshot, no clean point), InvalidInput (a requested point
 * outside the restorable window), InvalidConfig (a restore setting neither configured nor on the
 * source), UnexpectedResourceState (named snapshot not available), AwsTransientError (throttling, 5xx,
 * timeouts), AwsAccessDenied.
 */
export async function assessDatabase(
  config: DeploymentConfig,
  database: DatabaseConfig,
  request: { incidentAt: string; snapshot: string | null; restoreTime: string | null },
  rds: RDSClient,
  now: Date,
): Promise<StepResult<DatabaseAssessment>> {
  const assessment = await lookAtDamagedDatabase(config, database, request, rds, now);
  return { data: assessment, detail: describeAssessment(database.name, assessment) };
}

async function lookAtDamagedDatabase(
  config: DeploymentConfig,
  database: DatabaseConfig,
  request: { incidentAt: string; snapshot: string | null; restoreTime: string | null },
  rds: RDSClient,
  now: Date,
): Promise<DatabaseAssessment> {
  const region = config.primaryRegion;
  const instance = await describeInstance(rds, region, database.name);
  const [window, snapshots, namedSnapshot] = await Promise.all([
    restoreWindow(rds, region, instance, now),
    listUsableSnapshots(rds, region, database),
    request.snapshot ? findNamedSnapshot(rds, region, request.snapshot, accountOf(instance.DBInstanceArn)) : Promise.resolve(null),
  ]);
  const source: SourceFacts = {
    instance: database.name,
    encrypted: instance.StorageEncrypted === true,
    kmsKeyId: instance.KmsKeyId ?? null,
    engineVersion: instance.EngineVersion ?? null,
  };
  const restorePoint = chooseRestorePoint({
    database: database.name,
    incidentAt: request.incidentAt,
    safetyMarginMinutes: recoveryConfig(database).safetyMarginMinutes,
    requestedSnapshot: request.snapshot,
    requestedTime: request.restoreTime,
    window,
    snapshots,
    namedSnapshot,
    source,
  });
  return {
    sourceEndpoint: instance.Endpoint?.Address ? { host: instance.Endpoint.Address, port: instance.Endpoint.Port ?? database.port } : null,
    sourceParameterGroup: instance.DBParameterGroups?.[0]?.DBParameterGroupName ?? null,
    status: instance.DBInstanceStatus ?? 'unknown',
    instanceClass: instance.DBInstanceClass ?? null,
    allocatedStorageGiB: instance.AllocatedStorage ?? null,
    backupRetentionDays: instance.BackupRetentionPeriod ?? 0,
    window,
    recentSnapshots: snapshots.slice(0, 10).map(({ id, type, createdAt, encrypted }) => ({ id, type, createdAt, encrypted })),
    restorePoint,
    source,
    restoreSettings: resolveRestoreSettings(database, instance, restorePoint),
  };
}

/** The assessment in one paragraph for the report: the instance, its backups and the chosen point. */
export function describeAssessment(database: string, assessment: DatabaseAssessment): string {
  const { restorePoint: point, window } = assessment;
  const instance = [
    assessment.instanceClass,
    assessment.allocatedStorageGiB === null ? null : `${assessment.allocatedStorageGiB} GiB allocated`,
    `backups kept ${assessment.backupRetentionDays} days`,
    window ? `restorable ${window.earliest} .. ${window.latest}` : 'no point-in-time recovery',
  ].filter((part): part is string => part !== null);
  const shown = assessment.recentSnapshots.slice(0, 5);
  const snapshots = shown.length
    ? `recent snapshots: ${shown.map((s) => `${s.id} (${s.createdAt}, ${s.type}${s.encrypted ? '' : ', UNENCRYPTED'})`).join(', ')}${assessment.recentSnapshots.length > shown.length ? ` and ${assessment.recentSnapshots.length - shown.length} older` : ''}`
    : 'no usable snapshots';
  return (
    `${database} is ${assessment.status} (${instance.join(', ')}); ${snapshots}. ` +
    `Restore point: ${describeRestorePoint(point)}, ${point.dataLossMinutes} min of writes before the incident lost. ${point.reason}` +
    (point.rejected.length ? ` Not used: ${point.rejected.join('; ')}.` : '') +
    (assessment.restoreSettings?.length ? ` Restore settings: ${describeRestoreSettings(assessment.restoreSettings)}.` : '')
  );
}

/** What StartDatabaseRestore tells the wait loop (CheckDatabaseRestore) and the later steps. */
export interface StartedRestore {
  instanceId: string;
  region: string;
  /** ISO UTC: when the restore started (an adopted instance's creation time). */
  restoreStartedAt: string;
  /** True when an earlier attempt of this incident's recovery had already started it. */
  resumed: boolean;
}

/**
/**
 * StartDatabaseRestore: restores `database` to `point` on a new instance `<database>-r-<incident>`
 * (names.ts restoredInstanceId) in the primary region (`config.primaryRegion`) with the settings the
 * assessment resolved (`settings`: config, else the source instance; restore-settings.ts); never
 * public, deletion-protected, tagged with the incident. Returns at once; the state machine waits.
 * Idempotent: an instance tagged with this incident and source is adopted (`data.resumed`), anything
 * else with that name is refused.
 *
 * Result: `actions` the one restore call with its exact parameters (`performed: false` in a dry run,
 * which calls nothing); `resources` the restored instance and the untouched source, both kept for
 * failback (none in a dry run: nothing was created); `detail` where each setting came from.
 *
 * AWS: rds:DescribeDBInstances, then rds:RestoreDBInstanceToPointInTime or
 * rds:RestoreDBInstanceFromDBSnapshot. Throws UnexpectedResourceState (the name is taken by an instance
 * of another incident or source), InvalidConfig (no resolved settings), AwsTransientError (throttling,
 * 5xx, timeouts), AwsAccessDenied, ResourceNotFound (source instance or snapshot gone), RecoveryError
 * for any other RDS refusal.
 *
 * @param incidentId From the recovery lock: a resumed run restores under the first run's name.
 * @param rds An RDS client of the primary region.
 * @param now When the restore starts, if it starts now.
 */
export async function startDatabaseRestore(
  config: DeploymentConfig,
  database: DatabaseConfig,
  point: RestorePoint,
  settings: readonly RestoreSetting[],
  incidentId: string,
  executionId: string,
  dryRun: boolean,
  rds: RDSClient,
  now: Date,
  /** The instance restored from: what serves now (run.recovery.sourceInstance); the configured name by default. */
  sourceInstance: string = database.name,
): Promise<StepResult<StartedRestore>> {
  const { action, ...started } = await restoreToNewInstance(config, database, point, settings, incidentId, executionId, dryRun, rds, now, sourceInstance);
  return {
    data: started,
    actions: [action],
    detail: `${action.description}; settings: ${describeRestoreSettings(settings)}`,
    resources: dryRun
      ? []
      : [
          { kind: 'rds:db-instance', id: started.instanceId, region: started.region, kept: true, note: `restored ${sourceInstance} for incident ${incidentId}` },
          { kind: 'rds:db-instance', id: sourceInstance, region: started.region, kept: true, note: 'the damaged source instance, untouched: kept for failback and investigation' },
        ],
  };
}

async function restoreToNewInstance(
  config: DeploymentConfig,
  database: DatabaseConfig,
  point: RestorePoint,
  settings: readonly RestoreSetting[],
  incidentId: string,
  executionId: string,
  dryRun: boolean,
  rds: RDSClient,
  now: Date,
  sourceInstance: string,
): Promise<StartedRestore & { action: Action }> {
  const region = config.primaryRegion;
  recoveryConfig(database);
  const instanceId = restoredInstanceId(database.name, incidentId);
  if (!settings.some((s) => s.parameter === 'DBParameterGroupName') || !settings.some((s) => s.parameter === 'DBSubnetGroupName')) {
    // Only an assessment from before restore settings existed lacks them: refuse rather than let RDS default.
    throw new InvalidConfig(`no restore settings for ${database.name} from the assessment: re-run the recovery so that AssessDatabase resolves them`);
  }
  const common = {
    ...restoreParameters(settings),
    Tags: [
      { Key: INCIDENT_TAG, Value: incidentId },
      { Key: SOURCE_TAG, Value: sourceInstance },
      { Key: EXECUTION_TAG, Value: executionId },
    ],
  };
  let action: Action;
  let send: () => Promise<unknown>;
  if (point.kind === 'point-in-time') {
    const parameters: RestoreDBInstanceToPointInTimeCommandInput = {
      SourceDBInstanceIdentifier: sourceInstance,
      TargetDBInstanceIdentifier: instanceId,
      RestoreTime: new Date(point.time),
      ...common,
    };
    action = {
      description: `restore ${sourceInstance} as it was at ${point.time} to new instance ${instanceId}`,
      service: 'rds',
      operation: 'RestoreDBInstanceToPointInTime',
      parameters: { ...parameters, RestoreTime: point.time },
      performed: false,
    };
    send = () => rds.send(new RestoreDBInstanceToPointInTimeCommand(parameters));
  } else {
    const parameters: RestoreDBInstanceFromDBSnapshotCommandInput = { DBInstanceIdentifier: instanceId, DBSnapshotIdentifier: point.snapshot.arn, ...common };
    action = {
      description: `restore snapshot ${point.snapshot.id} to new instance ${instanceId}`,
      service: 'rds',
      operation: 'RestoreDBInstanceFromDBSnapshot',
      parameters: { ...parameters },
      performed: false,
    };
    send = () => rds.send(new RestoreDBInstanceFromDBSnapshotCommand(parameters));
  }
  const started = { instanceId, region, restoreStartedAt: now.toISOString(), action, resumed: false };
  if (dryRun) return started;

  const once = await restoreOnce(rds, region, instanceId, { incidentId, source: sourceInstance }, send, action.operation, started.restoreStartedAt);
  if (once.adoptedStartedAt) {
    return {
      ...started,
      restoreStartedAt: once.adoptedStartedAt,
      action: { ...action, description: `${action.description} (already started for this incident)`, performed: true },
      resumed: true,
    };
  }
  return { ...started, action: { ...action, performed: true } };
}

export interface RestoredStatus {
  instanceId: string;
  status: string;
  available: boolean;
  endpoint: { host: string; port: number } | null;
  waitedMinutes: number;
  /**
   * Seconds the state machine waits before the next look (its Wait state's SecondsPath): to the
   * earliest an RDS restore can be available, then 10 s polls, never past recovery.timeoutMinutes.
   */
  nextCheckSeconds: number;
}

/**
 * CheckDatabaseRestore: one look at the restored instance per loop of the state machine's Wait/Choice
 * (never waits). `data.available` once it is `available` with an endpoint; `data.waitedMinutes` since
 * `restoreStartedAt` (ISO), one decimal; `data.nextCheckSeconds` how long the loop sleeps before the
 * next look (polling.ts: the first look comes right after the writes are stopped, so the first wait
 * runs to 3 min after the restore started).
 *
 * AWS: rds:DescribeDBInstances. Throws UnexpectedResourceState (the restore failed),
 * DatabaseRestoreTimedOut (not available past recovery.timeoutMinutes), ResourceNotFound,
 * AwsTransientError (throttling, 5xx, timeouts), AwsAccessDenied.
 *
 * @param rds An RDS client of `region`, where the restored instance is.
 */
export async function checkDatabaseRestore(
  database: DatabaseConfig,
  instanceId: string,
  region: string,
  restoreStartedAt: string,
  rds: RDSClient,
  now: Date,
): Promise<StepResult<RestoredStatus>> {
  const instance = await describeInstance(rds, region, instanceId);
  const status = instance.DBInstanceStatus ?? 'unknown';
  const waited = minutesBetween(restoreStartedAt, now);
  if (RESTORE_FAILED_STATES.has(status)) throw new UnexpectedResourceState(`restored instance ${instanceId} is '${status}': the restore failed; the source ${database.name} is untouched`);
  const available = status === 'available' && Boolean(instance.Endpoint?.Address);
  const limit = recoveryConfig(database).timeoutMinutes;
  if (!available && waited > limit) throw new DatabaseRestoreTimedOut(`restored instance ${instanceId} is still '${status}' after ${waited.toFixed(1)} min (limit ${limit} min)`);
  const look: RestoredStatus = {
    instanceId,
    status,
    available,
    endpoint: available ? { host: instance.Endpoint?.Address as string, port: instance.Endpoint?.Port ?? database.port } : null,
    waitedMinutes: Math.round(waited * 10) / 10,
    nextCheckSeconds: nextCheckSeconds({ elapsedSeconds: secondsBetween(restoreStartedAt, now), expectedSeconds: RDS_RESTORE_EARLIEST_SECONDS, timeoutSeconds: limit * 60 }),
  };
  return { data: look, detail: `${instanceId} is ${status} after ${look.waitedMinutes} min` };
}

export type ReadOnlyMode = RecoveryConfig['readOnlyMode'];

/**
 * Why the damaged instance's parameter group `group` cannot be made read-only, or null when it can:
 * it must be the group the config names (recovery.readOnlyParameterGroup, the one IAM lets the
 * recovery modify). The config check keeps that group custom and apart from the restored instance's.
 */
export function readOnlyParameterGroupProblem(database: DatabaseConfig, group: string | null): string | null {
  const configured = database.recovery?.readOnlyParameterGroup;
  if (!configured) return `${database.name} has no recovery.readOnlyParameterGroup`;
  if (!group) return `${database.name} reports no parameter group`;
  if (group !== configured) return `${database.name} uses parameter group ${group}, not recovery.readOnlyParameterGroup ${configured} (the only one the recovery may modify)`;
  return null;
}

/** Read-only via the instance's own parameter group (the RDS way to "ALTER SYSTEM"). */
export async function setReadOnlyParameter(rds: RDSClient, region: string, parameterGroup: string): Promise<void> {
  await awsCall('rds:ModifyDBParameterGroup', `${parameterGroup} in ${region}`, () =>
    rds.send(
      new ModifyDBParameterGroupCommand({
        DBParameterGroupName: parameterGroup,
        Parameters: [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1', ApplyMethod: 'immediate' }],
      }),
    ),
  );
}

export interface SecretRepoint {
  secretId: string;
  previousVersionId: string | null;
  newVersionId: string | null;
  previousHost: string | null;
  changed: boolean;
}

/**
 * The ClientRequestToken (= version id) of a repoint's new version, from the version it is built on.
 * Called with the AWSCURRENT version id the new value is derived from.
 */
export type RepointVersionToken = (baseVersionId: string) => string;

/**
 * Points the connection secret at the restored instance: a new version with host and port changed
 * (everything else kept), so the old version remains as AWSPREVIOUS for failback. Safe to repeat.
 *
 * The new version's ClientRequestToken is `versionToken(<AWSCURRENT version id>)`: it names the version
 * the value is built on, not only the recovery, because Secrets Manager refuses a token already used
 * with another value (ResourceExistsException). Versions never change, so one base version and one
 * endpoint always give the same value: a retry that reaches PutSecretValue again gets the version its
 * first attempt created, and a secret that changed in between (a rotation, another recovery) gives a
 * new base, hence a new token, never a collision.
 */
export async function repointConnectionSecret(
  secrets: SecretsManagerClient,
  secretId: string,
  endpoint: { host: string; port: number },
  versionToken: RepointVersionToken,
): Promise<SecretRepoint> {
  const current = await readSecretVersion(secrets, secretId, 'AWSCURRENT');
  let value: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(current.secretString ?? '');
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    value = parsed as Record<string, unknown>;
  } catch {
    throw new InvalidConfig(`secret ${secretId} is not a JSON object: cannot change its host`);
  }
  const previousHost = hostOf(value);
  if (previousHost === endpoint.host && Number(value.port) === endpoint.port) {
    // Repointed by an earlier attempt of this recovery when AWSCURRENT is the version our token names on
    // top of AWSPREVIOUS: the version it displaced, which the report must still name for failback.
    const previous = await previousVersion(secrets, secretId);
    const displaced = previous?.versionId && current.versionId === versionToken(previous.versionId) ? previous : null;
    return { secretId, previousVersionId: displaced?.versionId ?? null, newVersionId: current.versionId ?? null, previousHost: displaced ? displaced.host : previousHost, changed: false };
  }
  const clientRequestToken = versionToken(current.versionId ?? '');
  const answer = await awsCall('secretsmanager:PutSecretValue', secretId, () =>
    secrets.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        // The same token on a retry makes Secrets Manager return the version already created.
        ClientRequestToken: clientRequestToken,
        // Only host and port change, in place; a port stored as a string stays a string.
        SecretString: JSON.stringify({ ...value, host: endpoint.host, port: typeof value.port === 'string' ? String(endpoint.port) : endpoint.port }),
        VersionStages: ['AWSCURRENT'],
      }),
    ),
  );
  return { secretId, previousVersionId: current.versionId ?? null, newVersionId: answer.VersionId ?? null, previousHost, changed: true };
}

function hostOf(value: Record<string, unknown>): string | null {
  return typeof value.host === 'string' ? value.host : null;
}

/** The AWSPREVIOUS version's id and host, or null when the secret has none. */
async function previousVersion(secrets: SecretsManagerClient, secretId: string): Promise<{ versionId: string | null; host: string | null } | null> {
  try {
    const previous = await readSecretVersion(secrets, secretId, 'AWSPREVIOUS');
    let host: string | null = null;
    try {
      const parsed: unknown = JSON.parse(previous.secretString ?? '');
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) host = hostOf(parsed as Record<string, unknown>);
    } catch {
      // Not JSON: the version id is what failback needs.
    }
    return { versionId: previous.versionId ?? null, host };
  } catch (error) {
    if (error instanceof ResourceNotFound) return null;
    throw error;
  }
}

/** The host as a URL carries it: an IPv6 address in brackets. */
function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * A new `postgresql://user:password@host:port/db`, every part URL-encoded (WHATWG URL). Only for a
 * database URL that does not exist yet: an existing one is edited (repointDatabaseUrl), never rebuilt.
 */
export function databaseUrl(credentials: { username: string; password: string }, endpoint: { host: string; port: number }, databaseName: string): string {
  const url = new URL('postgresql://placeholder');
  url.hostname = urlHost(endpoint.host);
  url.port = String(endpoint.port);
  // The userinfo setters leave '%', '&', '+' and '=' as they are: encode first, so they survive.
  url.username = encodeURIComponent(credentials.username);
  url.password = encodeURIComponent(credentials.password);
  url.pathname = `/${encodeURIComponent(databaseName)}`;
  return url.href;
}

/** libpq query parameters that override the URL's host or port: editing the host alone would not move the client. */
const HOST_OVERRIDES = ['host', 'hostaddr', 'port'];

/**
 * The database URL `current` moved to `endpoint`: only the host and the port change; the scheme
 * (postgres:// or postgresql://), user, password (as it was encoded), database, query parameters
 * (sslmode, sslrootcert, application_name, connect_timeout...) and fragment are kept. A URL without a
 * port keeps none when the new port is PostgreSQL's default 5432. `what` names the URL's place in
 * errors, which never quote it (it holds the password).
 *
 * Throws InvalidConfig for what cannot be edited safely: not a URL, another scheme, no host, several
 * hosts, or a query that sets host, hostaddr or port itself.
 */
export function repointDatabaseUrl(current: string, endpoint: { host: string; port: number }, what: string): string {
  let url: URL;
  try {
    url = new URL(current);
  } catch {
    throw new InvalidConfig(`${what} is not a URL (several hosts, or not postgresql://...): cannot change only its host`);
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new InvalidConfig(`${what} is a ${url.protocol}// URL, not postgresql:// or postgres://: cannot change only its host`);
  }
  if (!url.hostname) throw new InvalidConfig(`${what} names no host: cannot change only its host`);
  const overrides = HOST_OVERRIDES.filter((key) => url.searchParams.has(key));
  if (overrides.length) {
    throw new InvalidConfig(`${what} sets ${overrides.join(', ')} in its query, which would override a new host: remove ${overrides.length > 1 ? 'them' : 'it'} from the URL, then re-run`);
  }
  const host = urlHost(endpoint.host);
  url.hostname = host;
  // The setter ignores a host it cannot parse instead of failing.
  if (url.hostname.toLowerCase() !== host.toLowerCase()) throw new InvalidConfig(`${endpoint.host} is not a host a database URL can carry`);
  if (url.port !== '' || endpoint.port !== 5432) url.port = String(endpoint.port);
  return url.href;
}

/**
 * The SetReadOnlyParameter step (readOnlyMode: parameter-group): default_transaction_read_only=1 in
 * the damaged instance's own parameter group (rds:ModifyDBParameterGroup, ApplyMethod immediate), the
 * RDS way to do what the plan's ALTER SYSTEM meant. It decides the mode SetDatabaseReadOnly uses:
 * `alter-database` when the config says so, and also when the instance uses another group than
 * recovery.readOnlyParameterGroup (the only one IAM lets the recovery modify): falling back beats
 * failing the recovery with the API already stopped, and the detail says why.
 *
 * Thrown: what awsCall throws for ModifyDBParameterGroup (AwsAccessDenied, AwsTransientError,
 * ResourceNotFound...).
 *
 * @param sourceParameterGroup The damaged instance's group, from AssessDatabase (null: none reported).
 * @param rds An RDS client of the primary region, where the damaged instance is.
 */
export async function stopWritesWithParameterGroup(
  database: DatabaseConfig,
  sourceParameterGroup: string | null,
  dryRun: boolean,
  rds: RDSClient,
  region: string,
): Promise<StepResult<{ applied: boolean; mode: ReadOnlyMode }>> {
  if (recoveryConfig(database).readOnlyMode !== 'parameter-group') {
    return { data: { applied: false, mode: 'alter-database' }, status: 'skipped', detail: 'readOnlyMode is alter-database: the next step sets read-only mode in the database itself' };
  }
  const problem = readOnlyParameterGroupProblem(database, sourceParameterGroup);
  if (problem || !sourceParameterGroup) {
    return { data: { applied: false, mode: 'alter-database' }, status: 'skipped', detail: `${problem}: the next step uses ALTER DATABASE instead` };
  }
  const group = sourceParameterGroup;
  const action: Action = {
    description: `set default_transaction_read_only=1 in ${database.name}'s parameter group ${group} (new sessions start read-only)`,
    service: 'rds',
    operation: 'ModifyDBParameterGroup',
    parameters: { DBParameterGroupName: group, Parameters: [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1', ApplyMethod: 'immediate' }] },
    performed: false,
  };
  if (dryRun) return { data: { applied: false, mode: 'parameter-group' }, actions: [action] };
  await setReadOnlyParameter(rds, region, group);
  return {
    data: { applied: true, mode: 'parameter-group' },
    actions: [{ ...action, performed: true }],
    detail: `default_transaction_read_only=1 in ${group}: new sessions of every instance using it start read-only`,
  };
}
