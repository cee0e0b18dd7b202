// The real database-recovery definition, every Task bound to its real handler. AWS is answered by client
// mocks with small in-memory stand-ins where AWS keeps state: the lock table (conditional writes, so two
// executions really contend), the connection secret's versions, the DB instances a restore creates.
// The primary cluster is a real local control plane (EKS tokens reviewed by a webhook, deploy/rbac/
// enforced; local/kube-cluster.ts), started once for the file, each test in a namespace of its own;
// the damaged and the restored databases are two embedded PostgreSQL servers (the connection secret
// points at the damaged one until the repoint, the restored instance's mocked endpoint is the other),
// behind the gates also Redis with AUTH and the API's /health.
import { repointToken } from '../../shared/repoint.js';
import { jest } from '@jest/globals';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import {
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBParameterGroupCommand,
  RDSServiceException,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PutSecretValueCommand, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoClient, eksClient, rdsClient, s3Client, secretsClient, snsClient, stepFunctionsClient } from '../../shared/clients.js';
import { incidentIdFor, INCIDENT_TAG, restoredInstanceId, SOURCE_TAG } from '../../shared/names.js';
import type { RunContext } from '../../shared/run.js';
import {
  CLUSTER_START_TIMEOUT_MS,
  NEVER_READY_IMAGE,
  describedCluster,
  patchDeployment,
  requestsOf,
  scaleNamespaceToZero,
  startPrimaryClusterOnly,
  startTest,
  until,
  useEnvironmentCredentials,
} from '../support/cluster-fixtures.js';
import {
  API,
  API_IMAGE,
  DATABASE_NAME,
  DATABASE_PASSWORD,
  DATABASE_SECRET,
  DATABASE_USER,
  KUBE_SECRET,
  LOCK_TABLE,
  ORIGINAL_SECRET_VERSION,
  REDIS_PASSWORD,
  REDIS_SECRET,
  SOURCE_DB,
  installExecutions,
  installLockTable,
  installRds,
  installSecrets,
  makeReadOnly,
  makeWritable,
  recoveryConfig,
  runSql,
  seedPrimaryCluster,
  startRecoveryServers,
  writeIsRefused,
  type Executions,
  type LockTable,
  type RdsWorld,
  type RdsWorldOptions,
  type RecoveryServers,
  type SecretStore,
} from '../support/database-recovery-fixtures.js';
import { ALERT_TOPIC_ARN, snapshot, useConfig } from '../support/fixtures.js';
import { alarmEvent, databaseUrlOf, entered, imagesOf, loadHandlers, replicasOf, reportStep, rolloutCountsOf, stepData, statesCalled, storedReports, totalAwsCalls, writes } from '../support/state-machine-runs.js';
import type { LocalCluster } from '../../local/kube-cluster.js';
import { findFreePort, startAll } from '../../local/processes.js';
import { importHandler, runStateMachine, type LambdaHandler, type LocalRunOptions, type LocalRunResult } from '../../local/local-state-machine.js';

// Read by the lock handlers and notify-on-call when they load.
process.env.RECOVERY_LOCK_TABLE = LOCK_TABLE;
process.env.ALERT_TOPIC_ARN = ALERT_TOPIC_ARN;
useEnvironmentCredentials();

const rds = mockClient(rdsClient('us-west-2'));
const rdsRecovery = mockClient(rdsClient('us-east-1'));
const secrets = mockClient(secretsClient('us-east-1'));
const s3 = mockClient(s3Client('us-east-1'));
const sns = mockClient(snsClient('us-east-1'));
const ddb = mockClient(dynamoClient('us-east-1'));
const sfn = mockClient(stepFunctionsClient('us-east-1'));
const eks = mockClient(eksClient('us-west-2'));
const allMocks = [rds, rdsRecovery, secrets, s3, sns, ddb, sfn, eks];
const { storedReport } = storedReports(s3);

const SCENARIO = 'database-recovery';
const TEST_TIMEOUT = 60_000;
/**
 * How long each Wait state lasts (in the definition what each look says: the restore's first wait runs
 * to 3 min after it started, then 10 s; the API's rollout 5 s): the local controllers and kwok bring
 * pods up in a second or less, so the rollout is looked at every 0.1 s, as it would be every 5 s
 * against a real cluster.
 */
const WAIT_MS = 100;
const HANDLERS = [
  'startRun',
  'acquireRecoveryLock',
  'stopApiWrites',
  'setReadOnlyParameter',
  'setDatabaseReadOnly',
  'assessDatabase',
  'startDatabaseRestore',
  'checkDatabaseRestore',
  'prewarmDatabase',
  'repointApplication',
  'scaleDeployment',
  'checkRollout',
  'runHealthChecks',
  'releaseRecoveryLock',
  'publishReport',
  'notifyOnCall',
];

let servers: RecoveryServers;
let primary: LocalCluster;
/** This test's namespace on the primary cluster (deploy/rbac/'s Role installed in it). */
let namespace: string;
let lockTable: LockTable;
let executions: Executions;
let secretStore: SecretStore;
let world: RdsWorld;
let runCount = 0;

beforeAll(async () => {
  [servers, primary] = await startAll([startRecoveryServers(), startPrimaryClusterOnly(3)] as const);
  await loadHandlers(HANDLERS);
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([servers?.stop(), primary?.stop()]);
}, 60_000);

beforeEach(async () => {
  for (const mock of allMocks) mock.reset();
  servers.health.behave('ok');
  namespace = startTest('recovery', primary);
  await Promise.all([makeWritable(servers.damaged), makeWritable(servers.restored), seedPrimaryCluster(primary, servers.damaged)]);
  useConfig(recoveryConfig(servers, primary));
  eks.on(DescribeClusterCommand, { name: primary.clusterName }).resolves(describedCluster(primary.clusterName, 'us-west-2', primary.url, primary.caData));
  s3.on(PutObjectCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  lockTable = installLockTable(ddb);
  executions = installExecutions(sfn);
  secretStore = installSecrets(secrets, {
    [DATABASE_SECRET]: { value: originalSecret(), versionId: ORIGINAL_SECRET_VERSION },
    [REDIS_SECRET]: { value: REDIS_PASSWORD, versionId: 'v-redis-1' },
  });
  world = restoringRds();
}, TEST_TIMEOUT);

afterEach(async () => {
  await scaleNamespaceToZero(primary, namespace);
}, TEST_TIMEOUT);

// ---------------------------------------------------------------------------------------------------
// Helpers

/** The connection secret in RDS's format, pointing at the damaged instance. */
function originalSecret(): string {
  const { damaged } = servers;
  return JSON.stringify({ engine: 'postgres', host: damaged.host, port: damaged.port, username: DATABASE_USER, password: DATABASE_PASSWORD, dbname: DATABASE_NAME, dbInstanceIdentifier: SOURCE_DB });
}

function restoringRds(options: Partial<RdsWorldOptions> = {}): RdsWorld {
  return installRds(rds, {
    sourceEndpoint: { Address: servers.damaged.host, Port: servers.damaged.port },
    restoredEndpoint: { Address: servers.restored.host, Port: servers.restored.port },
    pendingLooks: 2,
    ...options,
  });
}

function executionArn(name: string): string {
  return `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-${SCENARIO}:${name}`;
}

/** Runs the state machine as one execution; DescribeExecution says RUNNING while it runs, FAILED after. */
async function recover(input: unknown, options: LocalRunOptions & { name?: string } = {}): Promise<LocalRunResult> {
  const name = options.name ?? `manual-${++runCount}`;
  const arn = executionArn(name);
  executions.running.add(arn);
  try {
    return await runStateMachine(SCENARIO, input, { waitMilliseconds: WAIT_MS, ...options, executionName: name });
  } finally {
    executions.running.delete(arn);
    executions.finished.add(arn);
  }
}

function minutesBeforeNow(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString();
}

function restoredIdFor(incidentTime: string): string {
  return restoredInstanceId(SOURCE_DB, incidentIdFor(new Date(incidentTime).toISOString()));
}

function restoreCalls(): number {
  return rds.commandCalls(RestoreDBInstanceToPointInTimeCommand).length + rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand).length;
}

function restoredUrl(): string {
  return `postgresql://${DATABASE_USER}:${encodeURIComponent(DATABASE_PASSWORD)}@127.0.0.1:${servers.restored.port}/${DATABASE_NAME}`;
}

const LOCK_TARGET = `database/${SOURCE_DB}`;

const accessDenied = () =>
  new SecretsManagerServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'User: arn:aws:sts::123456789012:assumed-role/frontier-dr-repoint/x is not authorized to perform: secretsmanager:PutSecretValue',
  });

// ---------------------------------------------------------------------------------------------------

describe('database-recovery state machine', () => {
  it('restores to a point 5 min before the incident on a new instance, repoints the app, restores the API and reports RTO/RPO', async () => {
    const incidentTime = minutesBeforeNow(10);
    const restoredId = restoredIdFor(incidentTime);
    const replicasWhenEntered: Record<string, number> = {};
    let readyAtGates: number | undefined;
    // The API's replica count as each of these steps starts (read on the cluster before the real handler runs).
    const lookFirst = (state: string, functionName: string): Record<string, LambdaHandler> => ({
      [functionName]: async (event, context) => {
        replicasWhenEntered[state] ??= await replicasOf(primary);
        if (state === 'RunHealthChecks') readyAtGates ??= (await rolloutCountsOf(primary)).ready;
        return (await importHandler(functionName))(event, context);
      },
    });

    const run = await recover(
      { incidentTime, reason: 'orders table dropped by a migration' },
      {
        name: 'manual-happy',
        handlerOverrides: { ...lookFirst('StopApiWrites', 'stopApiWrites'), ...lookFirst('RepointApplication', 'repointApplication'), ...lookFirst('RunHealthChecks', 'runHealthChecks') },
      },
    );

    expect(run.status).toBe('SUCCEEDED');
    expect(statesCalled(run)).toEqual([
      'StartRun',
      'AcquireRecoveryLock',
      'AssessDatabase',
      'StartDatabaseRestore',
      'StopApiWrites',
      'SetReadOnlyParameter',
      'SetDatabaseReadOnly',
      'CheckDatabaseRestore',
      'PrewarmDatabase',
      'RepointApplication',
      'RestoreApiReplicas',
      'CheckRollout',
      'RunHealthChecks',
      'ReleaseRecoveryLock',
      'PublishReport',
      'NotifyOnCall',
    ]);
    // Waiting happened in the state machine: creating, creating, available; a look at once, then a
    // Wait before each further look.
    expect(entered(run, 'CheckDatabaseRestore')).toBe(3);
    expect(entered(run, 'WaitForRestoredDatabase')).toBe(2);
    // Each look said how long to wait: to 3 min after the restore started (it started just before the
    // API was stopped, seconds ago), never longer.
    const restoreWaits = run.calls.filter((c) => c.state === 'CheckDatabaseRestore').map((c) => (c.output as { data: { nextCheckSeconds: number } }).data.nextCheckSeconds);
    for (const seconds of restoreWaits) {
      expect(seconds).toBeLessThanOrEqual(180);
      expect(seconds).toBeGreaterThan(120);
    }
    // And for the API's pods: the clock started at the scale, a look at once, then Wait + look until
    // the rollout was done, 5 s apart in AWS (the manifests' pods have no readiness delay).
    expect(entered(run, 'StartRolloutClock')).toBe(1);
    expect(entered(run, 'WaitForRollout')).toBeGreaterThanOrEqual(1);
    expect(entered(run, 'WaitForRollout')).toBe(entered(run, 'CheckRollout') - 1);
    expect(entered(run, 'KeepRolloutProgress')).toBe(entered(run, 'CheckRollout') - 1);
    const rolloutWaits = run.calls.filter((c) => c.state === 'CheckRollout').map((c) => (c.output as { data: { nextCheckSeconds: number } }).data.nextCheckSeconds);
    expect(new Set(rolloutWaits)).toEqual(new Set([5]));
    const firstLook = run.calls.find((c) => c.state === 'CheckRollout')!.input as { cluster: string; namespace: string; deployment: string; since: string; progress: { startedAt: string; change: string } };
    const scaled = (run.output as { steps: Record<string, { step: { startedAt: string; finishedAt: string } }> }).steps.RestoreApiReplicas!.step;
    expect(firstLook).toMatchObject({ cluster: 'primary', namespace, deployment: API, since: scaled.startedAt });
    expect(firstLook.progress).toEqual({ startedAt: scaled.finishedAt, change: 'the scale back up (RestoreApiReplicas)', lastProgressAt: null, readyReplicas: null, availableReplicas: null });

    // The restore: a NEW instance named after the incident, with the deployment's settings.
    expect(restoreCalls()).toBe(1);
    expect(rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0]!.args[0].input).toEqual({
      SourceDBInstanceIdentifier: SOURCE_DB,
      TargetDBInstanceIdentifier: restoredId,
      RestoreTime: new Date(Date.parse(incidentTime) - 5 * 60_000),
      DBInstanceClass: 'db.r6g.large',
      MultiAZ: true,
      PubliclyAccessible: false,
      DBSubnetGroupName: 'frontier-prod-db',
      VpcSecurityGroupIds: ['sg-0b1c2d3e4f5a60718'],
      DBParameterGroupName: 'frontier-prod-pg16',
      // Not in the config: the source's, never an RDS default.
      Port: servers.damaged.port,
      BackupRetentionPeriod: 30,
      DeletionProtection: true,
      Tags: [
        { Key: INCIDENT_TAG, Value: incidentIdFor(incidentTime) },
        { Key: SOURCE_TAG, Value: SOURCE_DB },
        { Key: 'frontier-dr:execution', Value: executionArn('manual-happy') },
      ],
    });
    expect(restoredId).not.toBe(SOURCE_DB);
    expect(rdsRecovery.calls()).toHaveLength(0);
    expect(rds).not.toHaveReceivedCommand(ModifyDBParameterGroupCommand);

    // The API: 3 -> 0 while the database was replaced -> 3 again.
    expect(replicasWhenEntered.StopApiWrites).toBe(3);
    expect(replicasWhenEntered.RepointApplication).toBe(0);
    expect(replicasWhenEntered.RunHealthChecks).toBe(3);
    // The gates probed an API whose pods were all Ready, not one still starting.
    expect(readyAtGates).toBe(3);
    expect(await replicasOf(primary)).toBe(3);
    expect(writes(primary).filter((r) => r.path.endsWith(`/deployments/${API}/scale`)).map((r) => r.method)).toEqual(['PATCH', 'PATCH']);

    // Writes were refused on the damaged database; the restored one takes them.
    expect(await writeIsRefused(servers.damaged)).toBe(true);
    expect(await writeIsRefused(servers.restored)).toBe(false);

    // The connection secret: a new version with only host and port changed; the old one is AWSPREVIOUS.
    // Its token names the version it was built on and the new endpoint (shared/repoint.ts repointToken).
    const written = JSON.parse(secrets.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString!) as { host: string; port: number | string };
    const token = repointToken(DATABASE_SECRET, restoredId, ORIGINAL_SECRET_VERSION, { host: written.host, port: Number(written.port) });
    expect(secrets).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: DATABASE_SECRET, ClientRequestToken: token, VersionStages: ['AWSCURRENT'] });
    const versions = secretStore.versions(DATABASE_SECRET);
    expect(versions.map((v) => [v.id, v.stages])).toEqual([
      [ORIGINAL_SECRET_VERSION, ['AWSPREVIOUS']],
      [token, ['AWSCURRENT']],
    ]);
    expect(JSON.parse(versions[1]!.value)).toEqual({ ...JSON.parse(originalSecret()), host: servers.restored.host, port: servers.restored.port });
    // The Kubernetes secret the API reads: the new URL, the password URL-encoded; other keys untouched.
    expect(await databaseUrlOf(primary)).toBe(restoredUrl());
    expect((await primary.secretData(namespace, KUBE_SECRET))?.['session-key']).toBe('not-touched-by-the-recovery');

    const report = storedReport(run);
    expect(report).toMatchObject({ scenario: SCENARIO, status: 'succeeded', dryRun: false, trigger: 'manual', failures: [] });
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['read-only-mode', true],
      ['api-health', true],
      ['database-select-1', true],
      ['redis-ping', true],
    ]);
    expect(report.checks[0]).toMatchObject({ resource: `${SOURCE_DB} (us-west-2)`, measured: 'test write refused (25006)' });
    // The gate followed the secret to the restored instance.
    expect(report.checks[2]!.resource).toBe(`127.0.0.1:${servers.restored.port}/${DATABASE_NAME}`);
    expect(report.objectives).toEqual([
      expect.objectContaining({ component: 'Database', rtoMinutes: 30, rpoMinutes: 15, measuredRpoMinutes: 5, met: true, measuredRtoMinutes: expect.any(Number) }),
    ]);
    expect(report.objectives[0]!.measuredRtoMinutes).toBeGreaterThanOrEqual(10);
    expect(report.objectives[0]!.measuredRtoMinutes).toBeLessThan(11);
    expect(report.objectives[0]!.note).toContain('5 min of writes before the incident lost');
    // Failback stays possible: the report names the restored instance, the kept source, the old
    // secret version and the replica count.
    // In the order the steps ran: the restore first.
    expect(report.resources).toEqual([
      { kind: 'rds:db-instance', id: restoredId, region: 'us-west-2', kept: true, note: `restored ${SOURCE_DB} for incident ${incidentIdFor(incidentTime)}` },
      { kind: 'rds:db-instance', id: SOURCE_DB, region: 'us-west-2', kept: true, note: 'the damaged source instance, untouched: kept for failback and investigation' },
      { kind: 'kubernetes:deployment', id: `${primary.clusterName}/${namespace}/${API}`, region: 'us-west-2', kept: true, note: '3 replicas before the recovery' },
      {
        kind: 'secretsmanager:secret-version',
        id: `${DATABASE_SECRET}@${ORIGINAL_SECRET_VERSION}`,
        region: 'us-east-1',
        kept: true,
        note: 'previous connection (host 127.0.0.1), now AWSPREVIOUS: move AWSCURRENT back to fail back',
      },
    ]);
    expect(reportStep(report, 'StopApiWrites').detail).toBe('API scaled to 0; 3 replicas to restore afterwards');
    expect(reportStep(report, 'RepointApplication').detail).toBe(
      `connection secret now points at 127.0.0.1 (previous host 127.0.0.1, previous version ${ORIGINAL_SECRET_VERSION} kept); ${KUBE_SECRET}/database-url updated (host and port only; the rest of the URL kept)`,
    );
    expect(reportStep(report, 'RestoreApiReplicas').detail).toBe('scaled from 0 to 3 (previous count kept for failback)');
    expect(reportStep(report, 'CheckRollout')).toMatchObject({ status: 'succeeded', detail: expect.stringMatching(new RegExp(`^deployment ${namespace}/${API} successfully rolled out \\(3 of 3 available\\) \\(after [\\d.]+ min\\)$`)) });
    expect(reportStep(report, 'SetReadOnlyParameter')).toMatchObject({ status: 'skipped' });
    expect(reportStep(report, 'AssessDatabase').detail).toMatch(/^frontier-prod is available \(db\.r6g\.large, 100 GiB allocated, backups kept 30 days, restorable \S+ \.\. \S+\); no usable snapshots\. /);
    expect(reportStep(report, 'SetDatabaseReadOnly').detail).toMatch(
      /^a test write was refused; \d+ other sessions ended; database size [\d.]+ MB; read-only is a default sessions can turn off \(SET default_transaction_read_only = off, BEGIN READ WRITE\)$/,
    );
    expect(reportStep(report, 'AssessDatabase').detail).toContain(`Restore point: point in time ${new Date(Date.parse(incidentTime) - 5 * 60_000).toISOString()}, 5 min of writes before the incident lost`);
    expect(reportStep(report, 'PrewarmDatabase')).toMatchObject({ status: 'skipped', detail: 'no tables to prewarm (recovery.prewarmTables)' });
    expect(reportStep(report, 'ReleaseRecoveryLock').detail).toBe(`recovery of ${LOCK_TARGET} recorded as completed; ${restoredIdFor(incidentTime)} serves now`);
    // The restore first, as soon as its point was chosen; writes stopped while RDS restores.
    expect(report.steps.flatMap((s) => s.actions).map((a) => [a.operation, a.performed])).toEqual([
      ['RestoreDBInstanceToPointInTime', true],
      ['patch deployments/scale', true],
      ['ALTER DATABASE', true],
      ['PutSecretValue', true],
      ['patch secrets', true],
      ['patch deployments/scale', true],
    ]);
    expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ status: 'completed' });
    // A recovery that changed something tells the on-call engineer, with the report.
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe('[frontier-dr] database-recovery succeeded');
    // No secret in the execution history or the report.
    for (const text of [JSON.stringify(run.events), JSON.stringify(report)]) {
      expect(text).not.toContain(DATABASE_PASSWORD);
      expect(text).not.toContain(encodeURIComponent(DATABASE_PASSWORD));
      expect(text).not.toContain(REDIS_PASSWORD);
    }
  }, TEST_TIMEOUT);

  it('without point-in-time recovery restores the newest snapshot before the incident, naming the one after it as rejected, and prewarms', async () => {
    const incidentTime = minutesBeforeNow(10);
    const incident = Date.parse(incidentTime);
    world = restoringRds({
      retentionDays: 0,
      snapshots: [
        snapshot('frontier-prod-after-incident', new Date(incident + 3 * 60_000)),
        snapshot('frontier-prod-20261125-0800', new Date(incident - 2 * 3_600_000)),
        snapshot('rds:frontier-prod-2026-11-25-06-00', new Date(incident - 6 * 3_600_000), { type: 'automated' }),
      ],
    });
    useConfig(recoveryConfig(servers, primary, (c) => (c.databases[0]!.recovery!.prewarmTables = ['public.accounts'])));
    await runSql(servers.restored, 'CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, name text); INSERT INTO accounts SELECT g, md5(g::text) FROM generate_series(1, 500) g ON CONFLICT DO NOTHING');

    const run = await recover({ incidentTime });

    expect(run.status).toBe('SUCCEEDED');
    expect(rds).not.toHaveReceivedCommand(DescribeDBInstanceAutomatedBackupsCommand);
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceToPointInTimeCommand);
    expect(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)).toHaveLength(1);
    expect(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0]!.args[0].input).toMatchObject({
      DBInstanceIdentifier: restoredIdFor(incidentTime),
      DBSnapshotIdentifier: 'arn:aws:rds:us-west-2:123456789012:snapshot:frontier-prod-20261125-0800',
      DBInstanceClass: 'db.r6g.large',
      MultiAZ: true,
      PubliclyAccessible: false,
      DeletionProtection: true,
    });
    const report = storedReport(run);
    const assess = reportStep(report, 'AssessDatabase').detail!;
    expect(assess).toContain("Restore point: snapshot frontier-prod-20261125-0800");
    expect(assess).toContain('120 min of writes before the incident lost');
    expect(assess).toContain('Not used: point in time: automated backups are off (backup retention 0)');
    expect(assess).toContain(`snapshot frontier-prod-after-incident (${new Date(incident + 3 * 60_000).toISOString()}): taken at or after the incident, it may contain the damage`);
    // Two hours of writes lost: the RPO is missed (it is reported, not a failure of the run).
    expect(report.status).toBe('succeeded');
    expect(report.objectives).toEqual([expect.objectContaining({ component: 'Database', measuredRpoMinutes: 120, met: false })]);
    expect(stepData<{ tables: { table: string; blocks: number }[] }>(run, 'PrewarmDatabase').tables).toEqual([{ table: 'public.accounts', blocks: expect.any(Number), error: null }]);
    expect(report.checks).toContainEqual(expect.objectContaining({ name: 'prewarm', passed: true, measured: expect.stringMatching(/^1 of 1 tables in /) }));
    expect(stepData<{ tables: { blocks: number }[] }>(run, 'PrewarmDatabase').tables[0]!.blocks).toBeGreaterThan(0);
    expect(await databaseUrlOf(primary)).toBe(restoredUrl());
  }, TEST_TIMEOUT);

  it('brings an API found at 0 with no count remembered back to the production count, never to 0', async () => {
    // Another database's recovery (or a person) had stopped the API before this one started.
    await patchDeployment(primary, namespace, API, { spec: { replicas: 0 } });
    await primary.waitForRollout(namespace, API);

    const run = await recover({ incidentTime: minutesBeforeNow(10) });

    expect(run.status).toBe('SUCCEEDED');
    expect(await replicasOf(primary)).toBe(3);
    const report = storedReport(run);
    expect(reportStep(report, 'StopApiWrites').detail).toBe('API scaled to 0; 3 replicas to restore afterwards (it was already at 0 with no count remembered: kubernetes.productionReplicas)');
    expect(report.resources).toContainEqual(expect.objectContaining({ kind: 'kubernetes:deployment', note: 'at 0 replicas before the recovery; 3 to restore' }));
  }, TEST_TIMEOUT);

  it('goes on when a table cannot be prewarmed: the prewarm check fails, the recovery completes and on-call is told', async () => {
    useConfig(recoveryConfig(servers, primary, (c) => (c.databases[0]!.recovery!.prewarmTables = ['public.accounts', 'public.no_such_table'])));
    await runSql(servers.restored, 'CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, name text); INSERT INTO accounts SELECT g, md5(g::text) FROM generate_series(1, 500) g ON CONFLICT DO NOTHING');

    const run = await recover({ incidentTime: minutesBeforeNow(10) });

    expect(run.status).toBe('SUCCEEDED');
    const report = storedReport(run);
    expect(report.status).toBe('succeeded');
    expect(reportStep(report, 'PrewarmDatabase')).toMatchObject({ status: 'succeeded', detail: expect.stringContaining('WARNING: 1 table(s) not prewarmed') });
    const prewarm = report.checks.find((c) => c.name === 'prewarm');
    expect(prewarm).toMatchObject({ passed: false, measured: expect.stringMatching(/^1 of 2 tables in /) });
    expect(prewarm?.message).toContain('public.no_such_table (relation "public.no_such_table" does not exist)');
    expect(await databaseUrlOf(primary)).toBe(restoredUrl());
    expect(await replicasOf(primary)).toBe(3);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe('[frontier-dr] database-recovery succeeded, 1 check(s) failed');
  }, TEST_TIMEOUT);

  it('goes on when the damaged database does not answer: read-only mode is recorded as not verified', async () => {
    world = restoringRds({ sourceEndpoint: { Address: '127.0.0.1', Port: await findFreePort() } });

    const run = await recover({ incidentTime: minutesBeforeNow(10) });

    expect(run.status).toBe('SUCCEEDED');
    const report = storedReport(run);
    expect(reportStep(report, 'SetDatabaseReadOnly').detail).toMatch(/^the database did not answer \(.*ECONNREFUSED.*\): read-only mode not verified/);
    expect(report.checks.map((c) => c.name)).not.toContain('read-only-mode');
    expect(await databaseUrlOf(primary)).toBe(restoredUrl());
  }, TEST_TIMEOUT);

  it('goes on, with a failed read-only check, when the damaged database answers but refuses', async () => {
    // Even a superuser cannot connect to a database that does not allow connections (55000).
    await servers.damaged.execute(`ALTER DATABASE ${DATABASE_NAME} ALLOW_CONNECTIONS false`);
    try {
      const run = await recover({ incidentTime: minutesBeforeNow(10) });

      expect(run.status).toBe('SUCCEEDED');
      const report = storedReport(run);
      expect(reportStep(report, 'SetDatabaseReadOnly').detail).toContain('WARNING: read-only mode not set, the database refused');
      expect(report.checks).toContainEqual(
        expect.objectContaining({ name: 'read-only-mode', passed: false, measured: 'refused (SQLSTATE 55000)', message: expect.stringContaining('could not be made read-only') }),
      );
      expect(await databaseUrlOf(primary)).toBe(restoredUrl());
      expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('read-only-mode');
    } finally {
      await servers.damaged.execute(`ALTER DATABASE ${DATABASE_NAME} ALLOW_CONNECTIONS true`);
    }
  }, TEST_TIMEOUT);

  it('restores the snapshot named in the input even when point-in-time recovery is on', async () => {
    const incidentTime = minutesBeforeNow(10);
    world = restoringRds({
      snapshots: [
        snapshot('frontier-prod-20261125-0800', new Date(Date.parse(incidentTime) - 2 * 3_600_000)),
        snapshot('frontier-prod-20261124-2000', new Date(Date.parse(incidentTime) - 14 * 3_600_000)),
      ],
    });

    const run = await recover({ incidentTime, snapshot: 'frontier-prod-20261124-2000' });

    expect(run.status).toBe('SUCCEEDED');
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceToPointInTimeCommand);
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceIdentifier: restoredIdFor(incidentTime),
      DBSnapshotIdentifier: 'arn:aws:rds:us-west-2:123456789012:snapshot:frontier-prod-20261124-2000',
    });
    expect(reportStep(storedReport(run), 'AssessDatabase').detail).toContain('snapshot frontier-prod-20261124-2000 named in the input.');
    expect(stepData<{ restorePoint: { dataLossMinutes: number } }>(run, 'AssessDatabase').restorePoint.dataLossMinutes).toBe(840);
  }, TEST_TIMEOUT);

  describe('preflight: a restore point that cannot be used fails before anything changes (issue 8)', () => {
    /** Nothing changed: the API still serves, the damaged database takes writes, no restore, the lock is held. */
    async function expectNothingChanged(run: LocalRunResult) {
      expect(run.status).toBe('FAILED');
      expect(statesCalled(run)).toEqual(['StartRun', 'AcquireRecoveryLock', 'AssessDatabase', 'ReleaseUnchangedLock', 'PublishReport', 'NotifyOnCall']);
      expect(await replicasOf(primary)).toBe(3);
      expect(writes(primary)).toEqual([]);
      expect(await writeIsRefused(servers.damaged)).toBe(false);
      expect(rds).not.toHaveReceivedCommand(ModifyDBParameterGroupCommand);
      expect(restoreCalls()).toBe(0);
      expect(secrets).not.toHaveReceivedCommand(PutSecretValueCommand);
    }

    it('fails at AssessDatabase on a named snapshot that does not exist, with the API still serving and the database writable', async () => {
      const run = await recover({ incidentTime: minutesBeforeNow(10), snapshot: 'pre-migration-20261127' });

      await expectNothingChanged(run);
      const report = storedReport(run);
      expect(reportStep(report, 'AssessDatabase')).toMatchObject({ status: 'failed' });
      expect(reportStep(report, 'AssessDatabase').error).toContain('snapshot pre-migration-20261127 does not exist in us-west-2');
    }, TEST_TIMEOUT);

    it('fails at AssessDatabase on a restore time outside the restorable window', async () => {
      world = restoringRds({ retentionDays: 1 });

      const run = await recover({ incidentTime: minutesBeforeNow(10), restoreTime: minutesBeforeNow(3 * 24 * 60) });

      await expectNothingChanged(run);
      expect(reportStep(storedReport(run), 'AssessDatabase').error).toContain('is outside frontier-prod');
    }, TEST_TIMEOUT);

    it('fails at AssessDatabase when a restore setting is neither configured nor on the source', async () => {
      useConfig(recoveryConfig(servers, primary, (c) => delete c.databases[0]!.recovery!.subnetGroup));

      const run = await recover({ incidentTime: minutesBeforeNow(10) });

      await expectNothingChanged(run);
      expect(reportStep(storedReport(run), 'AssessDatabase').error).toContain('recovery.subnetGroup of database frontier-prod is not set');
    }, TEST_TIMEOUT);
  });

  it('restores a named manual snapshot without the prefix (issue 8: pre-migration-20261128), found by its identifier', async () => {
    const incidentTime = minutesBeforeNow(10);
    world = restoringRds({
      snapshots: [
        snapshot('frontier-prod-20261125-0800', new Date(Date.parse(incidentTime) - 2 * 3_600_000)),
        snapshot('pre-migration-20261128', new Date(Date.parse(incidentTime) - 26 * 3_600_000)),
      ],
    });

    const run = await recover({ incidentTime, snapshot: 'pre-migration-20261128' });

    expect(run.status).toBe('SUCCEEDED');
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-migration-20261128' });
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceIdentifier: restoredIdFor(incidentTime),
      DBSnapshotIdentifier: 'arn:aws:rds:us-west-2:123456789012:snapshot:pre-migration-20261128',
    });
    expect(reportStep(storedReport(run), 'AssessDatabase').detail).toContain('snapshot pre-migration-20261128 named in the input.');
  }, TEST_TIMEOUT);

  it('restores a snapshot shared from another account, named by ARN, with that ARN', async () => {
    const incidentTime = minutesBeforeNow(10);
    const arn = 'arn:aws:rds:us-west-2:210987654321:snapshot:frontier-prod-handover';
    world = restoringRds({
      sharedSnapshots: [{ ...snapshot('frontier-prod-handover', new Date(Date.parse(incidentTime) - 20 * 3_600_000), { instance: 'frontier-staging' }), DBSnapshotArn: arn }],
    });

    const run = await recover({ incidentTime, snapshot: arn });

    expect(run.status).toBe('SUCCEEDED');
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: arn, SnapshotType: 'shared', IncludeShared: true });
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, { DBSnapshotIdentifier: arn });
    expect(reportStep(storedReport(run), 'AssessDatabase').detail).toContain('It is a snapshot of frontier-staging, not of frontier-prod.');
  }, TEST_TIMEOUT);

  it("without recovery.parameterGroup restores with the source's own group, and the report says where each setting came from (issue 8)", async () => {
    useConfig(recoveryConfig(servers, primary, (c) => delete c.databases[0]!.recovery!.parameterGroup));
    world = restoringRds({ source: { CACertificateIdentifier: 'rds-ca-rsa4096-g1', StorageType: 'gp3', AllocatedStorage: 100 } });

    const run = await recover({ incidentTime: minutesBeforeNow(10) });

    expect(run.status).toBe('SUCCEEDED');
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceToPointInTimeCommand, {
      DBParameterGroupName: 'frontier-prod-source-pg16',
      CACertificateIdentifier: 'rds-ca-rsa4096-g1',
      StorageType: 'gp3',
      DBSubnetGroupName: 'frontier-prod-db',
    });
    const report = storedReport(run);
    expect(reportStep(report, 'AssessDatabase').detail).toContain('DBParameterGroupName frontier-prod-source-pg16 (from source instance frontier-prod)');
    expect(reportStep(report, 'StartDatabaseRestore').detail).toContain('DBParameterGroupName frontier-prod-source-pg16 (from source instance frontier-prod)');
    expect(reportStep(report, 'StartDatabaseRestore').detail).toContain('DBSubnetGroupName frontier-prod-db (from config (recovery.subnetGroup))');
    // The restored instance really got it: the fake keeps the group a restore names.
    expect([...world.instances.values()][0]!.DBParameterGroups).toEqual([{ DBParameterGroupName: 'frontier-prod-source-pg16', ParameterApplyStatus: 'in-sync' }]);
  }, TEST_TIMEOUT);

  it('keeps every query parameter of the database URL the API reads (issue 8: TLS settings survived only by luck before)', async () => {
    const query = 'sslmode=disable&application_name=frontier-api&connect_timeout=5';
    const old = `${(await databaseUrlOf(primary))!}?${query}`;
    await primary.addSecret(namespace, KUBE_SECRET, { 'database-url': old, 'session-key': 'not-touched-by-the-recovery' });

    const run = await recover({ incidentTime: minutesBeforeNow(10) });

    expect(run.status).toBe('SUCCEEDED');
    expect(await databaseUrlOf(primary)).toBe(`${restoredUrl()}?${query}`);
  }, TEST_TIMEOUT);

  it('starts from the DatabaseDown alarm, mapped to its database, and measures from the alarm time', async () => {
    const alarmAt = new Date(Date.now() - 8 * 60_000);

    const run = await recover(alarmEvent('DatabaseDown', alarmAt));

    expect(run.status).toBe('SUCCEEDED');
    const context = (run.output as { run: RunContext }).run;
    expect(context).toMatchObject({ trigger: 'alarm DatabaseDown', incidentAt: alarmAt.toISOString(), incidentNamedByOperator: false, recovery: { database: SOURCE_DB, snapshot: null, restoreTime: null, sourceInstance: SOURCE_DB } });
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceToPointInTimeCommand, {
      TargetDBInstanceIdentifier: restoredIdFor(alarmAt.toISOString()),
      RestoreTime: new Date(alarmAt.getTime() - 5 * 60_000),
    });
    const report = storedReport(run);
    expect(report.trigger).toBe('alarm DatabaseDown');
    expect(report.objectives[0]!.measuredRtoMinutes).toBeGreaterThanOrEqual(8);
    expect(report.objectives[0]!.measuredRtoMinutes).toBeLessThan(9);
  }, TEST_TIMEOUT);

  it('refuses an alarm that no database names, before any AWS call', async () => {
    const run = await recover(alarmEvent('SomeOtherAlarm', new Date()));

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'InvalidInput' });
    expect(run.error!.message).toContain('detail.alarmName: got "SomeOtherAlarm"; expected an alarm this deployment starts database-recovery on');
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun']);
    expect(totalAwsCalls(allMocks)).toBe(0);
    expect(requestsOf(primary)).toEqual([]);
  }, TEST_TIMEOUT);

  it('lets exactly one of two simultaneous starts recover; the other ends cleanly naming the owner', async () => {
    const incidentTime = minutesBeforeNow(10);

    const [first, second] = await Promise.all([recover({ incidentTime }, { name: 'alarm-a' }), recover({ incidentTime }, { name: 'alarm-b' })]);

    expect(first.status).toBe('SUCCEEDED');
    expect(second.status).toBe('SUCCEEDED');
    expect(restoreCalls()).toBe(1);
    const runs = [first, second];
    const winner = runs.find((r) => stepData<{ acquired: boolean }>(r, 'AcquireRecoveryLock').acquired)!;
    const loser = runs.find((r) => r !== winner)!;
    expect(winner).toBeDefined();
    expect(stepData<{ acquired: boolean; heldBy: string }>(loser, 'AcquireRecoveryLock')).toMatchObject({ acquired: false, heldBy: winner.executionId });
    expect(statesCalled(loser)).toEqual(['StartRun', 'AcquireRecoveryLock', 'PublishReport']);
    const loserReport = storedReport(loser);
    expect(loserReport.status).toBe('succeeded');
    expect(loserReport.steps).toEqual([expect.objectContaining({ name: 'AcquireRecoveryLock', status: 'skipped', actions: [] })]);
    expect(loserReport.steps[0]!.detail).toMatch(new RegExp(`^execution ${winner.executionId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} already owns the recovery of ${SOURCE_DB} \\(since .+\\): this start changes nothing$`));
    expect(storedReport(winner).status).toBe('succeeded');
    // Scaled 3 -> 0 -> 3 once; one new secret version.
    expect(writes(primary).filter((r) => r.path.endsWith('/scale'))).toHaveLength(2);
    expect(await replicasOf(primary)).toBe(3);
    expect(secrets).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    // The completed recovery stays as a record, naming the instance that serves now.
    expect(lockTable.items.size).toBe(1);
    expect(lockTable.lock(`database/${SOURCE_DB}`)).toMatchObject({ status: 'completed', servingInstance: expect.stringMatching(/-r-\d{12}$/) });
  }, TEST_TIMEOUT);

  it('in a dry run changes nothing anywhere and records every action it would take', async () => {
    const incidentTime = minutesBeforeNow(10);

    const run = await recover({ incidentTime, dryRun: true });

    expect(run.status).toBe('SUCCEEDED');
    expect(entered(run, 'NoRestoreToWaitFor')).toBe(1);
    expect(entered(run, 'WaitForRestoredDatabase')).toBe(0);
    expect(run.calls.map((c) => c.state)).not.toContain('RestoreApiReplicas');
    // Nothing was scaled, so nothing is waited for: straight to the (read-only) gates.
    for (const state of ['StartRolloutClock', 'WaitForRollout', 'CheckRollout', 'KeepRolloutProgress']) expect(entered(run, state)).toBe(0);
    expect(entered(run, 'RunHealthChecks')).toBe(1);
    // AWS: only reads.
    expect(restoreCalls()).toBe(0);
    expect(rds).not.toHaveReceivedCommand(ModifyDBParameterGroupCommand);
    expect(secrets).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(ddb.calls()).toHaveLength(0); // no lock taken: a dry run must not block a real recovery
    expect(sfn.calls()).toHaveLength(0);
    expect(secretStore.versions(DATABASE_SECRET)).toHaveLength(1);
    // Kubernetes: nothing written; the API still at 3, the URL unchanged.
    expect(writes(primary)).toEqual([]);
    expect(await replicasOf(primary)).toBe(3);
    expect(await databaseUrlOf(primary)).toContain(`:${servers.damaged.port}/`);
    // PostgreSQL: no ALTER, the damaged database still takes writes.
    expect(await writeIsRefused(servers.damaged)).toBe(false);

    const report = storedReport(run);
    expect(report).toMatchObject({ dryRun: true, status: 'succeeded', objectives: [], resources: [], failures: [] });
    const actions = report.steps.flatMap((s) => s.actions);
    expect(actions.map((a) => [a.service, a.operation, a.performed])).toEqual([
      ['rds', 'RestoreDBInstanceToPointInTime', false],
      ['kubernetes', 'patch deployments/scale', false],
      ['postgresql', 'ALTER DATABASE', false],
      ['secretsmanager', 'PutSecretValue', false],
      ['kubernetes', 'patch secrets', false],
    ]);
    expect(actions[1]!.parameters).toEqual({ cluster: primary.clusterName, namespace, deployment: API, replicas: 0 });
    expect(actions[0]!.parameters).toMatchObject({
      TargetDBInstanceIdentifier: restoredIdFor(incidentTime),
      RestoreTime: new Date(Date.parse(incidentTime) - 5 * 60_000).toISOString(),
      PubliclyAccessible: false,
    });
    expect(reportStep(report, 'AcquireRecoveryLock').detail).toBe('dry run: lock not taken');
    expect(reportStep(report, 'CheckDatabaseRestore')).toMatchObject({ status: 'skipped', detail: 'Dry run: no restored instance to wait for.' });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  }, TEST_TIMEOUT);

  it('rides out a throttled restore and a 503 from the API server with the state machine retries', async () => {
    const incidentTime = minutesBeforeNow(10);
    // The fault proxy answers the first scale with a 503, in the API server's place.
    primary.failNext({ method: 'PATCH', path: `/namespaces/${namespace}/deployments/${API}/scale`, status: 503 });
    world.failNext('RestoreDBInstanceToPointInTime', new RDSServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }));

    const run = await recover({ incidentTime });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.filter((c) => c.state === 'StopApiWrites').map((c) => c.error?.split(':')[0] ?? 'ok')).toEqual(['KubernetesTransientError', 'ok']);
    expect(run.calls.filter((c) => c.state === 'StartDatabaseRestore').map((c) => c.error?.split(':')[0] ?? 'ok')).toEqual(['AwsTransientError', 'ok']);
    expect(world.instances.size).toBe(1);
    expect(stepData<{ previousReplicas: number }>(run, 'StopApiWrites').previousReplicas).toBe(3);
    expect(await replicasOf(primary)).toBe(3);
  }, TEST_TIMEOUT);

  describe('a failure after the restore, before the repoint', () => {
    async function failAtRepoint(incidentTime: string) {
      secretStore.failNext('PutSecretValue', accessDenied());
      return recover({ incidentTime }, { name: 'alarm-1' });
    }

    it('ends failed naming the step, keeps the restored instance, the API at 0 and the lock', async () => {
      const incidentTime = minutesBeforeNow(10);
      const restoredId = restoredIdFor(incidentTime);

      const run = await failAtRepoint(incidentTime);

      expect(run.status).toBe('FAILED');
      expect(run.error?.name).toBe('RunFailed');
      expect(statesCalled(run)).toEqual([
        'StartRun',
        'AcquireRecoveryLock',
        'AssessDatabase',
        'StartDatabaseRestore',
        'StopApiWrites',
        'SetReadOnlyParameter',
        'SetDatabaseReadOnly',
        'CheckDatabaseRestore',
        'PrewarmDatabase',
        'RepointApplication',
        'PublishReport',
        'NotifyOnCall',
      ]);
      // AccessDenied is not retried.
      expect(run.calls.filter((c) => c.state === 'RepointApplication')).toHaveLength(1);
      const report = storedReport(run);
      expect(report.status).toBe('failed');
      expect(report.failures).toEqual([{ step: 'RepointApplication', error: 'AwsAccessDenied', message: expect.stringContaining(`secretsmanager:PutSecretValue on ${DATABASE_SECRET} was denied`) }]);
      expect(report.resources.map((r) => [r.kind, r.id, r.kept])).toEqual([
        ['rds:db-instance', restoredId, true],
        ['rds:db-instance', SOURCE_DB, true],
        ['kubernetes:deployment', `${primary.clusterName}/${namespace}/${API}`, true],
      ]);
      expect(world.instances.has(restoredId)).toBe(true);
      // The application was not moved, and stays stopped: the damaged database must not take writes.
      expect(await replicasOf(primary)).toBe(0);
      expect(secretStore.versions(DATABASE_SECRET)).toHaveLength(1);
      expect(await databaseUrlOf(primary)).toContain(`:${servers.damaged.port}/`);
      // The lock is kept for the re-run, with the count to restore.
      expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ owner: executionArn('alarm-1'), incidentId: incidentIdFor(incidentTime), previousReplicas: 3 });
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
      expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('FAILED STEP RepointApplication: AwsAccessDenied');
    }, TEST_TIMEOUT);

    it('a re-run of the same incident resumes: no second restore, the remembered 3 replicas, success', async () => {
      const incidentTime = minutesBeforeNow(10);
      const restoredId = restoredIdFor(incidentTime);
      await failAtRepoint(incidentTime);
      expect(await replicasOf(primary)).toBe(0);

      const rerun = await recover({ incidentTime }, { name: 'manual-rerun' });

      expect(rerun.status).toBe('SUCCEEDED');
      expect(restoreCalls()).toBe(1);
      expect(world.instances.size).toBe(1);
      expect(stepData<{ acquired: boolean; resumed: boolean; previousReplicas: number }>(rerun, 'AcquireRecoveryLock')).toMatchObject({ acquired: true, resumed: true, previousReplicas: 3 });
      expect(stepData<{ instanceId: string; resumed: boolean }>(rerun, 'StartDatabaseRestore')).toMatchObject({ instanceId: restoredId, resumed: true });
      // The API was already at 0: the count remembered by the first attempt is the one restored.
      expect(stepData<{ previousReplicas: number }>(rerun, 'StopApiWrites').previousReplicas).toBe(3);
      expect(stepData<{ previousReplicas: number; replicas: number }>(rerun, 'RestoreApiReplicas')).toMatchObject({ previousReplicas: 0, replicas: 3 });
      expect(await replicasOf(primary)).toBe(3);
      expect(await databaseUrlOf(primary)).toBe(restoredUrl());
      expect(secretStore.versions(DATABASE_SECRET).map((v) => v.stages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]);
      const report = storedReport(rerun);
      expect(report.status).toBe('succeeded');
      expect(reportStep(report, 'AcquireRecoveryLock').detail).toBe(`resuming the recovery of incident ${incidentIdFor(incidentTime)} (from ${new Date(incidentTime).toISOString()}) left unfinished by ${executionArn('alarm-1')}`);
      expect(reportStep(report, 'StopApiWrites').detail).toBe('API scaled to 0; 3 replicas to restore afterwards (it was already at 0: count kept from the first attempt)');
      expect(reportStep(report, 'StartDatabaseRestore').actions[0]!.description).toContain('(already started for this incident)');
      expect(report.resources).toContainEqual(expect.objectContaining({ kind: 'rds:db-instance', id: restoredId, kept: true }));
      expect(report.resources).toContainEqual(expect.objectContaining({ kind: 'secretsmanager:secret-version', id: `${DATABASE_SECRET}@${ORIGINAL_SECRET_VERSION}` }));
      expect(report.resources).toContainEqual(expect.objectContaining({ kind: 'kubernetes:deployment', note: '3 replicas before the recovery' }));
      expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ status: 'completed' });
    }, TEST_TIMEOUT);

    // On a re-run the damaged database is read-only already, and so is the step's own session: the
    // ALTER must still go through (25006 otherwise) and the write test still be recorded.
    it('a re-run still verifies that writes are refused on the damaged database', async () => {
      const incidentTime = minutesBeforeNow(10);
      await failAtRepoint(incidentTime);

      const rerun = await recover({ incidentTime }, { name: 'manual-rerun' });

      expect(rerun.status).toBe('SUCCEEDED');
      expect(storedReport(rerun).checks).toContainEqual(expect.objectContaining({ name: 'read-only-mode', passed: true }));
    }, TEST_TIMEOUT);

    // A plain re-run resumes the held incident: the restore point (and the RTO) come from the lock's
    // incident time, not from the re-run's own start, which is after the damage.
    it('a plain re-run (no incidentTime) restores to the held incident, not to its own start', async () => {
      const incidentTime = minutesBeforeNow(30);
      // It fails at its first change, the restore, which comes before the API is stopped: the API
      // still serves and the damaged database takes writes, but the lock is kept (a restore call can
      // fail after RDS accepted it), so the incident is resumed.
      world.failNext('RestoreDBInstanceToPointInTime', new RDSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized' }));
      const first = await recover({ incidentTime }, { name: 'alarm-1' });
      expect(storedReport(first).failures).toEqual([expect.objectContaining({ step: 'StartDatabaseRestore', error: 'AwsAccessDenied' })]);
      expect(statesCalled(first)).toEqual(['StartRun', 'AcquireRecoveryLock', 'AssessDatabase', 'StartDatabaseRestore', 'PublishReport', 'NotifyOnCall']);
      expect(await replicasOf(primary)).toBe(3);
      expect(writes(primary)).toEqual([]);
      expect(await writeIsRefused(servers.damaged)).toBe(false);
      expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ owner: executionArn('alarm-1'), incidentId: incidentIdFor(incidentTime), status: 'active' });

      const rerun = await recover({}, { name: 'manual-rerun' });

      expect(rerun.status).toBe('SUCCEEDED');
      expect(stepData<{ incidentId: string }>(rerun, 'AcquireRecoveryLock').incidentId).toBe(incidentIdFor(incidentTime));
      expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceToPointInTimeCommand, {
        TargetDBInstanceIdentifier: restoredIdFor(incidentTime),
        RestoreTime: new Date(Date.parse(incidentTime) - 5 * 60_000),
      });
    }, TEST_TIMEOUT);
  });

  it('ends failed when RBAC forbids patching the Kubernetes secret, with the API still stopped', async () => {
    const incidentTime = minutesBeforeNow(10);
    // Real RBAC: the test namespace's Role (deploy/rbac/) loses `patch secrets`; configmaps keep it.
    await primary.forbid({ verb: 'patch', resource: 'secrets', namespace });

    const run = await recover({ incidentTime }, { name: 'alarm-1' });

    expect(run.status).toBe('FAILED');
    // A 403 is not retried.
    expect(run.calls.filter((c) => c.state === 'RepointApplication').map((c) => c.error?.split(':')[0])).toEqual(['KubernetesUnauthorized']);
    const report = storedReport(run);
    expect(report.failures).toEqual([{ step: 'RepointApplication', error: 'KubernetesUnauthorized', message: expect.stringContaining('forbidden by RBAC (403)') }]);
    // The API server itself refused: the secret was read (get is still granted), its one patch denied.
    const secretRequests = requestsOf(primary).filter((r) => r.path === `/api/v1/namespaces/${namespace}/secrets/${KUBE_SECRET}`);
    expect(secretRequests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([403]);
    expect(secretRequests.filter((r) => r.method === 'GET').every((r) => r.status === 200)).toBe(true);
    expect(await databaseUrlOf(primary)).toContain(`:${servers.damaged.port}/`);
    expect(await replicasOf(primary)).toBe(0);
    expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ owner: executionArn('alarm-1'), previousReplicas: 3 });
    // The connection secret had already moved: PutSecretValue comes before the Kubernetes patch.
    expect(secretStore.versions(DATABASE_SECRET).map((v) => v.stages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]);
  }, TEST_TIMEOUT);

  it('ends failed when the restore fails, keeping the API stopped and the lock', async () => {
    const incidentTime = minutesBeforeNow(10);
    world = restoringRds({ pendingLooks: 1, finalStatus: 'incompatible-restore' });

    const run = await recover({ incidentTime }, { name: 'alarm-1' });

    expect(run.status).toBe('FAILED');
    expect(entered(run, 'CheckDatabaseRestore')).toBe(2);
    const report = storedReport(run);
    expect(report.failures).toEqual([
      {
        step: 'CheckDatabaseRestore',
        error: 'UnexpectedResourceState',
        message: `restored instance ${restoredIdFor(incidentTime)} is 'incompatible-restore': the restore failed; the source ${SOURCE_DB} is untouched`,
      },
    ]);
    expect(report.resources).toContainEqual(expect.objectContaining({ kind: 'rds:db-instance', id: restoredIdFor(incidentTime), kept: true }));
    expect(run.calls.map((c) => c.state)).not.toContain('RepointApplication');
    expect(secrets).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(await replicasOf(primary)).toBe(0);
    expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ owner: executionArn('alarm-1'), previousReplicas: 3 });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  }, TEST_TIMEOUT);

  it('ends failed with DatabaseRestoreTimedOut when the instance is not available within recovery.timeoutMinutes', async () => {
    const incidentTime = minutesBeforeNow(10);
    world = restoringRds({ pendingLooks: 1_000 });
    // Only the clock is faked: each Wait of the loop lasts 40 minutes.
    jest.useFakeTimers({
      doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
      now: new Date(),
    });
    let run: LocalRunResult;
    try {
      run = await recover(
        { incidentTime },
        {
          onEvent: (event) => {
            if (event.type === 'StateEntered' && event.state.name === 'WaitForRestoredDatabase') jest.setSystemTime(Date.now() + 40 * 60_000);
          },
        },
      );
    } finally {
      jest.useRealTimers();
    }

    expect(run.status).toBe('FAILED');
    // Looks at 0, 40, 80 and 120 min: the last one is past the limit.
    expect(entered(run, 'CheckDatabaseRestore')).toBe(4);
    const looks = run.calls.filter((c) => c.state === 'CheckDatabaseRestore' && c.output).map((c) => (c.output as { data: { nextCheckSeconds: number } }).data.nextCheckSeconds);
    // The first wait runs to 3 min after the restore started, the later ones 10 s (the fake clock
    // jumps 40 min per Wait regardless); none sleeps past the 90-min limit.
    expect(looks).toEqual([expect.any(Number), 10, 10]);
    expect(looks[0]).toBeGreaterThan(120);
    expect(looks[0]).toBeLessThanOrEqual(180);
    const report = storedReport(run);
    expect(report.failures).toEqual([
      { step: 'CheckDatabaseRestore', error: 'DatabaseRestoreTimedOut', message: expect.stringMatching(new RegExp(`^restored instance ${restoredIdFor(incidentTime)} is still 'creating' after 120\\.\\d min \\(limit 90 min\\)$`)) },
    ]);
    expect(await replicasOf(primary)).toBe(0);
    expect(lockTable.items.size).toBe(1);
  }, TEST_TIMEOUT);

  describe('health gates failing after the repoint', () => {
    it('ends HealthGatesFailed and keeps the lock for a re-run', async () => {
      const incidentTime = minutesBeforeNow(10);
      servers.health.behave('failing');

      const run = await recover({ incidentTime }, { name: 'alarm-1' });

      expect(run.status).toBe('FAILED');
      expect(entered(run, 'HealthGatesFailed')).toBe(1);
      expect(run.calls.map((c) => c.state)).not.toContain('ReleaseRecoveryLock');
      const report = storedReport(run);
      expect(report.failures).toEqual([{ step: 'HealthGates', error: 'HealthGatesFailed', message: expect.stringContaining('The recovery lock is kept so a re-run resumes') }]);
      expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
        ['read-only-mode', true],
        ['api-health', false],
        ['database-select-1', true],
        ['redis-ping', true],
      ]);
      expect(report.objectives).toEqual([expect.objectContaining({ component: 'Database', measuredRtoMinutes: null, note: 'not recovered: the health gates did not pass' })]);
      // The application had been moved: the repoint and the replicas stay, the lock too.
      expect(await databaseUrlOf(primary)).toBe(restoredUrl());
      expect(await replicasOf(primary)).toBe(3);
      expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ owner: executionArn('alarm-1'), previousReplicas: 3 });
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
      expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe('[frontier-dr] database-recovery failed, 1 check(s) failed');
    }, TEST_TIMEOUT);

    // After the repoint the connection secret names the RESTORED instance: a re-run must make the
    // damaged instance read-only (its own endpoint), never the one the application now writes to.
    it('a re-run after the repoint leaves the restored database writable', async () => {
      const incidentTime = minutesBeforeNow(10);
      servers.health.behave('failing');
      await recover({ incidentTime }, { name: 'alarm-1' });
      servers.health.behave('ok');

      const rerun = await recover({ incidentTime }, { name: 'manual-rerun' });

      expect(rerun.status).toBe('SUCCEEDED');
      expect(await writeIsRefused(servers.restored)).toBe(false);
      expect(await writeIsRefused(servers.damaged)).toBe(true);
      // The secret moved in the first run; the re-run's report still names the version to fail back to.
      const report = storedReport(rerun);
      expect(reportStep(report, 'RepointApplication').detail).toMatch(/^connection secret already pointed at the restored instance/);
      expect(report.resources).toContainEqual(expect.objectContaining({ kind: 'secretsmanager:secret-version', id: `${DATABASE_SECRET}@${ORIGINAL_SECRET_VERSION}`, kept: true }));
    }, TEST_TIMEOUT);
  });

  describe("the API's rollout after the repoint", () => {
    /**
     * RestoreApiReplicas, but the release it brings back is one whose pods never become Ready, with a
     * 2 s progress deadline: as pods whose readiness probe fails against the restored database (a
     * security group, a CA) would be. Locally a pod's readiness follows its image (kwok), so the image
     * is swapped while the API is at 0: that rollout of no pods finishes at once, and the deployment
     * controller does not time the scale back up that follows (its condition stays
     * NewReplicaSetAvailable); CheckRollout applies the deadline itself.
     */
    const neverReadyOnScale: Record<string, LambdaHandler> = {
      scaleDeployment: async (event, context) => {
        const current = await primary.deployment(namespace, API);
        const containers = (current?.spec?.template.spec?.containers ?? []).map((c) => ({ ...c, image: NEVER_READY_IMAGE }));
        await patchDeployment(primary, namespace, API, { spec: { progressDeadlineSeconds: 2, template: { spec: { containers } } } });
        await primary.waitForRollout(namespace, API);
        return (await importHandler('scaleDeployment'))(event, context);
      },
    };

    /** A run that failed after the repoint: the application stays on the restored database, the API at its count, the lock kept; on-call told. */
    async function expectEndedAfterRepoint(run: LocalRunResult, incidentTime: string) {
      expect(run.status).toBe('FAILED');
      expect(run.error?.name).toBe('RunFailed');
      expect(statesCalled(run)).toEqual([
        'StartRun',
        'AcquireRecoveryLock',
        'AssessDatabase',
        'StartDatabaseRestore',
        'StopApiWrites',
        'SetReadOnlyParameter',
        'SetDatabaseReadOnly',
        'CheckDatabaseRestore',
        'PrewarmDatabase',
        'RepointApplication',
        'RestoreApiReplicas',
        'CheckRollout',
        'PublishReport',
        'NotifyOnCall',
      ]);
      // The gates never probed pods that are not Ready, and the recovery is not recorded as completed.
      expect(entered(run, 'RunHealthChecks')).toBe(0);
      expect(run.calls.map((c) => c.state)).not.toContain('ReleaseRecoveryLock');
      // Nothing is rolled back: the restored database is where the application must write, the
      // damaged one stays read-only, and the replicas stay for their pods to come up once the cause is fixed.
      expect(await databaseUrlOf(primary)).toBe(restoredUrl());
      expect(secretStore.versions(DATABASE_SECRET).map((v) => v.stages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]);
      expect(world.instances.has(restoredIdFor(incidentTime))).toBe(true);
      expect(await writeIsRefused(servers.damaged)).toBe(true);
      expect(await replicasOf(primary)).toBe(3);
      expect((await rolloutCountsOf(primary)).ready).toBe(0);
      // The lock is kept, with the count to restore, so a re-run (or a repeated alarm) resumes.
      expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ owner: executionArn('alarm-1'), incidentId: incidentIdFor(incidentTime), previousReplicas: 3, status: 'active' });
      const report = storedReport(run);
      expect(report.status).toBe('failed');
      expect(report.resources.map((r) => [r.kind, r.kept])).toEqual([
        ['rds:db-instance', true],
        ['rds:db-instance', true],
        ['kubernetes:deployment', true],
        ['secretsmanager:secret-version', true],
      ]);
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
      expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe('[frontier-dr] database-recovery failed');
      return report;
    }

    it("ends failed with RolloutFailed when the release's pods never become Ready, keeping the repoint, the replicas and the lock", async () => {
      const incidentTime = minutesBeforeNow(10);

      const run = await recover({ incidentTime }, { name: 'alarm-1', handlerOverrides: neverReadyOnScale });

      const report = await expectEndedAfterRepoint(run, incidentTime);
      // Looked more than once: the deadline runs from the scale, not from the first look.
      expect(entered(run, 'CheckRollout')).toBeGreaterThan(1);
      expect(report.failures).toEqual([
        {
          step: 'CheckRollout',
          error: 'RolloutFailed',
          message: expect.stringMatching(
            new RegExp(`^deployment ${namespace}/${API} exceeded its progress deadline: 0 of 3 replicas ready \\(0 available\\), no new ready replica since the scale back up \\(RestoreApiReplicas\\) at \\S+, [\\d.]+ s without progress against spec\\.progressDeadlineSeconds 2\\. Kubernetes does not flag this itself: its Progressing condition still reads NewReplicaSetAvailable`),
          ),
        },
      ]);
      expect(reportStep(report, 'RestoreApiReplicas')).toMatchObject({ status: 'succeeded', detail: 'scaled from 0 to 3 (previous count kept for failback)' });
      expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('FAILED STEP CheckRollout: RolloutFailed');
    }, TEST_TIMEOUT);

    it('a re-run once the release is fixed resumes the same incident and completes after the rollout', async () => {
      const incidentTime = minutesBeforeNow(10);
      await recover({ incidentTime }, { name: 'alarm-1', handlerOverrides: neverReadyOnScale });
      // The operator puts back a release whose pods do become Ready, with the default progress deadline
      // (a rolling update of the stalled one).
      const current = await primary.deployment(namespace, API);
      const containers = (current?.spec?.template.spec?.containers ?? []).map((c) => ({ ...c, image: API_IMAGE }));
      await patchDeployment(primary, namespace, API, { spec: { progressDeadlineSeconds: 600, template: { spec: { containers } } } });

      const rerun = await recover({ incidentTime }, { name: 'manual-rerun' });

      expect(rerun.status).toBe('SUCCEEDED');
      expect(restoreCalls()).toBe(1);
      expect(stepData<{ resumed: boolean }>(rerun, 'AcquireRecoveryLock').resumed).toBe(true);
      expect(await imagesOf(primary)).toEqual([API_IMAGE]);
      expect(await rolloutCountsOf(primary)).toMatchObject({ desired: 3, ready: 3, available: 3 });
      expect(stepData<{ done: boolean }>(rerun, 'CheckRollout').done).toBe(true);
      expect(await databaseUrlOf(primary)).toBe(restoredUrl());
      expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ status: 'completed', servingInstance: restoredIdFor(incidentTime) });
    }, TEST_TIMEOUT);

    it('ends failed with RolloutTimedOut when the pods cannot be scheduled within kubernetes.rolloutTimeoutMinutes, saying where it stopped', async () => {
      const incidentTime = minutesBeforeNow(10);
      const realCheckRollout = await importHandler('checkRollout');
      let looks = 0;
      // A stalled rollout needs rolloutTimeoutMinutes (5) of wall-clock time, measured from `since`
      // (RestoreApiReplicas' start): from the third look on, it is made ten minutes ago, once the
      // controller has done all it will (the 3 pods created, none scheduled), as ten minutes would have.
      const checkRollout: LambdaHandler = async (event, context) => {
        looks += 1;
        if (looks < 3) return realCheckRollout(event, context);
        await until('the stalled rollout to settle', async () => {
          const deployment = await primary.deployment(namespace, API);
          const status = deployment?.status;
          return (status?.observedGeneration ?? 0) >= (deployment?.metadata?.generation ?? 1) && status?.replicas === 3 && status.updatedReplicas === 3 ? true : undefined;
        });
        return realCheckRollout({ ...(event as object), since: new Date(Date.now() - 10 * 60_000).toISOString() }, context);
      };
      // No node takes new pods (all cordoned) once the API has been stopped: they stay Pending.
      const cordonAtRepoint: LambdaHandler = async (event, context) => {
        const answer = await (await importHandler('repointApplication'))(event, context);
        await primary.blockScheduling(true);
        return answer;
      };

      try {
        const run = await recover({ incidentTime }, { name: 'alarm-1', handlerOverrides: { checkRollout, repointApplication: cordonAtRepoint } });

        // Looked at while the nodes were still cordoned: nothing could have become Ready.
        const report = await expectEndedAfterRepoint(run, incidentTime);
        expect(entered(run, 'CheckRollout')).toBe(3);
        expect(report.failures).toEqual([
          { step: 'CheckRollout', error: 'RolloutTimedOut', message: `rollout of ${namespace}/${API} not finished after 10.0 min (limit 5 min); it stopped at: 0 of 3 updated replicas available` },
        ]);
      } finally {
        await primary.blockScheduling(false);
      }
    }, TEST_TIMEOUT);
  });

  describe('readOnlyMode: parameter-group', () => {
    function parameterGroupMode(sourceParameterGroup?: string) {
      useConfig(
        recoveryConfig(servers, primary, (c) => {
          c.databases[0]!.recovery!.readOnlyMode = 'parameter-group';
          c.databases[0]!.recovery!.readOnlyParameterGroup = 'frontier-prod-source-pg16';
        }),
      );
      // RDS applies the group to every instance that uses it: the damaged one now, a restore created with it later.
      world = restoringRds({
        ...(sourceParameterGroup ? { sourceParameterGroup } : {}),
        onParameterGroupReadOnly: () => makeReadOnly(servers.damaged),
        onRestoredWithReadOnlyGroup: () => makeReadOnly(servers.restored),
      });
    }

    it.each([
      ["is the restored instance's group (recovery.parameterGroup)", 'frontier-prod-pg16', 'uses parameter group frontier-prod-pg16, not recovery.readOnlyParameterGroup frontier-prod-source-pg16'],
      ['is a default group', 'default.postgres16', 'uses parameter group default.postgres16, not recovery.readOnlyParameterGroup'],
    ])("falls back to ALTER DATABASE when the source's group %s, not the configured one, and says why", async (_label, group, why) => {
      parameterGroupMode(group);

      const run = await recover({ incidentTime: minutesBeforeNow(10) });
      await world.settled();

      expect(run.status).toBe('SUCCEEDED');
      expect(rds).not.toHaveReceivedCommand(ModifyDBParameterGroupCommand);
      const report = storedReport(run);
      expect(reportStep(report, 'SetReadOnlyParameter')).toMatchObject({ status: 'skipped', detail: expect.stringContaining(why) });
      expect(reportStep(report, 'SetDatabaseReadOnly').actions).toEqual([expect.objectContaining({ operation: 'ALTER DATABASE', performed: true })]);
      expect(report.checks).toContainEqual(expect.objectContaining({ name: 'read-only-mode', passed: true }));
      expect(await writeIsRefused(servers.damaged)).toBe(true);
      expect(await writeIsRefused(servers.restored)).toBe(false);
    }, TEST_TIMEOUT);

    it('sets default_transaction_read_only=1 in the parameter group and verifies that a write is refused', async () => {
      parameterGroupMode();

      const run = await recover({ incidentTime: minutesBeforeNow(10) });

      expect(run.status).toBe('SUCCEEDED');
      expect(rds.commandCalls(ModifyDBParameterGroupCommand).map((c) => c.args[0].input)).toEqual([
        { DBParameterGroupName: 'frontier-prod-source-pg16', Parameters: [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1', ApplyMethod: 'immediate' }] },
      ]);
      const report = storedReport(run);
      expect(reportStep(report, 'SetReadOnlyParameter')).toMatchObject({ status: 'succeeded', actions: [expect.objectContaining({ operation: 'ModifyDBParameterGroup', performed: true })] });
      expect(reportStep(report, 'SetDatabaseReadOnly').actions).toEqual([expect.objectContaining({ operation: 'pg_terminate_backend', performed: true })]);
      expect(report.checks[0]).toMatchObject({ name: 'read-only-mode', passed: true });
      expect(await writeIsRefused(servers.damaged)).toBe(true);
    }, TEST_TIMEOUT);

    // The group made read-only is the source's own; the restore attaches recovery.parameterGroup, so the
    // restored instance starts writable.
    it('the restored instance does not inherit the read-only parameter group', async () => {
      parameterGroupMode();

      const run = await recover({ incidentTime: minutesBeforeNow(10) });
      await world.settled();

      expect(run.status).toBe('SUCCEEDED');
      const modified = rds.commandCalls(ModifyDBParameterGroupCommand)[0]!.args[0].input.DBParameterGroupName;
      expect(rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0]!.args[0].input.DBParameterGroupName).not.toBe(modified);
      expect(await writeIsRefused(servers.restored)).toBe(false);
    }, TEST_TIMEOUT);
  });

  it.each([
    ['an incidentTime that is not ISO 8601', { incidentTime: 'yesterday at noon' }, '  - incidentTime: got "yesterday at noon" (string); expected an ISO 8601 time with a zone on a real calendar day, such as 2026-11-25T12:04:00Z'],
    ['both a snapshot and a restoreTime', { snapshot: 'frontier-prod-20261125-0800', restoreTime: '2026-11-25T11:00:00Z' }, '  - snapshot, restoreTime: got both; expected at most one restore point'],
    ['an unknown database', { database: 'frontier-orders' }, '  - database: got "frontier-orders"; expected a database with a recovery section (frontier-prod)'],
    ['an unknown field', { dryrun: true }, '  - dryrun: got true (boolean); unknown field (a typo?)'],
  ])('refuses %s at the first state, naming the field, before any AWS call', async (_label, input, line) => {
    const run = await recover(input);

    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('InvalidInput');
    expect(run.error!.message).toBe(`database-recovery input is invalid; nothing was changed:\n${line}`);
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun']);
    expect(totalAwsCalls(allMocks)).toBe(0);
    expect(requestsOf(primary)).toEqual([]);
    expect(await writeIsRefused(servers.damaged)).toBe(false);
  }, TEST_TIMEOUT);

  it('refuses an incidentTime in the future (a typo would restore the damage) at the first state, before any AWS call', async () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();

    const run = await recover({ incidentTime: tomorrow });

    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('InvalidInput');
    expect(run.error!.message).toMatch(new RegExp(`^database-recovery input is invalid; nothing was changed:\\n  - incidentTime: got "${tomorrow.replace(/\./g, '\\.')}"; expected a time before the run started \\(\\S+\\), not in the future$`));
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun']);
    expect(totalAwsCalls(allMocks)).toBe(0);
    expect(requestsOf(primary)).toEqual([]);
  }, TEST_TIMEOUT);

  describe('preflight before the first change', () => {
    it.each([
      ['a snapshot that does not exist (a typo)', { snapshot: 'frontier-prod-19990101-0000' }],
      ['a restoreTime outside the restorable window', { restoreTime: new Date(Date.now() - 30 * 86_400_000).toISOString() }],
    ])('fails at AssessDatabase on %s with the API untouched, releases the lock and says nothing was changed', async (_case, input) => {
      const run = await recover(input);

      expect(run.status).toBe('FAILED');
      expect(statesCalled(run)).not.toContain('StopApiWrites');
      expect(statesCalled(run).slice(0, 4)).toEqual(['StartRun', 'AcquireRecoveryLock', 'AssessDatabase', 'ReleaseUnchangedLock']);
      expect(await replicasOf(primary)).toBe(3);
      expect(lockTable.items.size).toBe(0);
      const report = storedReport(run);
      expect(report.failures).toEqual([expect.objectContaining({ step: 'AssessDatabase' })]);
      expect(report.summary).toContain('nothing was changed');
      expect(reportStep(report, 'ReleaseUnchangedLock').detail).toContain('nothing was changed by this execution');
    }, TEST_TIMEOUT);

    it('keeps a resumed lock when the re-run fails its preflight: it carries the first run\'s stopped API and replica count', async () => {
      // The first run fails after the API was stopped: its restore failed in RDS.
      world = restoringRds({ pendingLooks: 1, finalStatus: 'incompatible-restore' });
      await recover({ incidentTime: minutesBeforeNow(20) }, { name: 'alarm-1' });
      expect(await replicasOf(primary)).toBe(0);

      const rerun = await recover({ snapshot: 'frontier-prod-19990101-0000' }, { name: 'manual-typo' });

      expect(rerun.status).toBe('FAILED');
      expect(statesCalled(rerun)).not.toContain('StopApiWrites');
      expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ owner: executionArn('manual-typo'), previousReplicas: 3, status: 'active' });
      expect(reportStep(storedReport(rerun), 'ReleaseUnchangedLock').detail).toContain('the lock is kept');
    }, TEST_TIMEOUT);
  });

  describe('repeated alarms', () => {
    it('a later alarm after a failed recovery resumes the held incident: the restore point stays before the FIRST alarm', async () => {
      const firstAlarm = new Date(Date.now() - 20 * 60_000);
      world.failNext('RestoreDBInstanceToPointInTime', new RDSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized' }));
      await recover(alarmEvent('DatabaseDown', firstAlarm), { name: 'alarm-1' });

      const laterAlarm = new Date(Date.now() - 2 * 60_000);
      const second = await recover(alarmEvent('DatabaseDown', laterAlarm), { name: 'alarm-2' });

      expect(second.status).toBe('SUCCEEDED');
      expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceToPointInTimeCommand, {
        TargetDBInstanceIdentifier: restoredIdFor(firstAlarm.toISOString()),
        RestoreTime: new Date(firstAlarm.getTime() - 5 * 60_000),
      });
      // One incident time through the whole run: the report measures from the first alarm.
      expect((second.output as { run: RunContext }).run.incidentAt).toBe(firstAlarm.toISOString());
    }, TEST_TIMEOUT);

    it('an alarm seconds after a completed recovery starts nothing and names the instance that serves now', async () => {
      const first = await recover(alarmEvent('DatabaseDown', new Date(Date.now() - 10 * 60_000)), { name: 'alarm-1' });
      expect(first.status).toBe('SUCCEEDED');
      const restoresBefore = restoreCalls();
      const secretWritesBefore = secrets.commandCalls(PutSecretValueCommand).length;
      const urlBefore = await databaseUrlOf(primary);

      const again = await recover(alarmEvent('DatabaseDown', new Date(Date.now() - 30_000)), { name: 'alarm-2' });

      expect(again.status).toBe('SUCCEEDED');
      expect(statesCalled(again)).toEqual(['StartRun', 'AcquireRecoveryLock', 'PublishReport']);
      const detail = reportStep(storedReport(again), 'AcquireRecoveryLock').detail;
      expect(detail).toContain('quiet period');
      expect(detail).toContain(`${stepData<{ instanceId: string }>(first, 'StartDatabaseRestore').instanceId} serves now`);
      expect(restoreCalls()).toBe(restoresBefore);
      expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(secretWritesBefore);
      expect(await databaseUrlOf(primary)).toBe(urlBefore);
      expect(await replicasOf(primary)).toBe(3);
    }, TEST_TIMEOUT);
  });

  describe('ownership checked before acting', () => {
    it('a superseded execution\'s redriven step changes nothing, and its lock release does not report success', async () => {
      world.failNext('RestoreDBInstanceToPointInTime', new RDSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized' }));
      const old = await recover({ incidentTime: minutesBeforeNow(20) }, { name: 'alarm-1' });
      const oldRun = (old.calls.find((c) => c.state === 'AcquireRecoveryLock')!.output as { data: { run: RunContext } }).data.run;
      const takeover = await recover({}, { name: 'manual-rerun' });
      expect(takeover.status).toBe('SUCCEEDED');
      const secretWrites = secrets.commandCalls(PutSecretValueCommand).length;
      const url = await databaseUrlOf(primary);

      const repoint = await importHandler('repointApplication');
      const redriven = await repoint({ run: oldRun, instanceId: 'frontier-prod-r-199901010000', endpoint: { host: servers.damaged.host, port: servers.damaged.port } }, {} as never).catch((e: unknown) => e);
      expect(redriven).toMatchObject({ name: 'RecoveryLockLost', message: expect.stringContaining('Nothing was changed') });
      const stop = await importHandler('stopApiWrites');
      await expect(stop({ run: oldRun }, {} as never)).rejects.toMatchObject({ name: 'RecoveryLockLost' });
      const release = await importHandler('releaseRecoveryLock');
      await expect(release({ run: oldRun, outcome: 'completed', servingInstance: 'x' }, {} as never)).rejects.toMatchObject({ name: 'RecoveryLockLost', message: expect.stringContaining('not ours') });

      expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(secretWrites);
      expect(await databaseUrlOf(primary)).toBe(url);
      expect(await replicasOf(primary)).toBe(3);
      expect(lockTable.lock(LOCK_TARGET)).toMatchObject({ status: 'completed', completedBy: executionArn('manual-rerun') });
    }, TEST_TIMEOUT);
  });
});
