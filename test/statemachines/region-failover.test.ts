// The real region-failover definition, every Task bound to its real handler. AWS (CloudWatch, RDS,
// Secrets Manager, S3, SNS, Route 53, DynamoDB, Step Functions, EKS) is answered by client mocks, all
// of the recovery region except Route 53 (global); the primary region's EKS is a mock that must never
// be called. The clusters are two real local control planes started once for the file, each test in a
// namespace of its own; the gates probe a real PostgreSQL (standing for the restored instance), a real
// Redis with AUTH and a /health server per cluster.
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import {
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  DescribeDBSnapshotsCommand,
  DescribeDBSubnetGroupsCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { cloudWatchClient, dynamoClient, eksClient, rdsClient, route53Client, s3Client, secretsClient, snsClient, stepFunctionsClient } from '../../shared/clients.js';
import { databaseUrl } from '../../shared/database-recovery.js';
import type { LocalCluster } from '../../local/kube-cluster.js';
import { runStateMachine, type LambdaHandler, type LocalRunOptions, type LocalRunResult } from '../../local/local-state-machine.js';
import { onTaskWaiting, sendTaskFailure, sendTaskSuccess, type WaitingTask } from '../../local/task-tokens.js';
import {
  API,
  BACKUP_INGRESS,
  CLUSTER_START_TIMEOUT_MS,
  DATABASE_SECRET,
  PRIMARY_INGRESS,
  PRODUCTION_IMAGE,
  REDIS_PASSWORD,
  REDIS_SECRET,
  STANDBY_IMAGE,
  TRAFFIC_RECORD,
  clusterConfig,
  describedCluster,
  installHostedZone,
  manifestFiles,
  objectBody,
  scaleNamespaceToZero,
  startClusters,
  startGateServers,
  startTest,
  useEnvironmentCredentials,
  type Clusters,
  type GateServers,
  type HostedZone,
} from '../support/cluster-fixtures.js';
import { LOCK_TABLE, installExecutions, installLockTable, type LockTable } from '../support/database-recovery-fixtures.js';
import { ALERT_TOPIC_ARN, useConfig } from '../support/fixtures.js';
import { alarmEvent, imagesOf, loadHandlers, replicasOf, storedReports, writes } from '../support/state-machine-runs.js';

useEnvironmentCredentials();

const cloudwatch = mockClient(cloudWatchClient('us-east-1'));
const rds = mockClient(rdsClient('us-east-1'));
const rdsPrimary = mockClient(rdsClient('us-west-2'));
const eksPrimary = mockClient(eksClient('us-west-2'));
const eksRecovery = mockClient(eksClient('us-east-1'));
const s3 = mockClient(s3Client('us-east-1'));
const secrets = mockClient(secretsClient('us-east-1'));
const sns = mockClient(snsClient('us-east-1'));
const route53 = mockClient(route53Client());
const ddb = mockClient(dynamoClient('us-east-1'));
const sfn = mockClient(stepFunctionsClient('us-east-1'));
const allMocks = [cloudwatch, rds, rdsPrimary, eksPrimary, eksRecovery, s3, secrets, sns, route53, ddb, sfn];
const { storedReport } = storedReports(s3);

const TEST_TIMEOUT = 90_000;
const WAIT_MS = 100;
const HANDLERS = [
  'startRun',
  'planApproval',
  'acquireRecoveryLock',
  'releaseRecoveryLock',
  'confirmOutage',
  'notifyRegionOutage',
  'regionFailoverPreflight',
  'regionTrafficPreflight',
  'assessPrimaryCluster',
  'startRegionRestore',
  'checkRegionRestore',
  'applyManifestsToBackup',
  'scaleDeployment',
  'checkRollout',
  'repointApplication',
  'runRegionHealthChecks',
  'moveDns',
  'checkRegionDnsChange',
  'publishReport',
  'notifyOnCall',
];
/** The primary's instance, where the connection secret and the API's URL point before the failover. */
const PRIMARY_HOST = 'frontier-prod.abcdefghij.us-west-2.rds.amazonaws.com';
const COPY = 'frontier-prod-20261125-0800';

let servers: GateServers;
let clusters: Clusters;
let backup: LocalCluster;
let namespace: string;
let zone: HostedZone;
let lockTable: LockTable;
let runCount = 0;
let restoreCalls = 0;

beforeAll(async () => {
  servers = await startGateServers();
  clusters = await startClusters({ primaryNodes: 1, backupNodes: 3 });
  ({ backup } = clusters);
  // The primary region is down: its cluster refuses every connection for the whole file.
  await clusters.primary.refuseConnections();
  process.env.ALERT_TOPIC_ARN = ALERT_TOPIC_ARN; // read when the notify functions load
  process.env.RECOVERY_LOCK_TABLE = LOCK_TABLE;
  await loadHandlers(HANDLERS);
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([servers?.stop(), clusters?.stop()]);
}, 60_000);

function configure(confirmationMinutes = 3, approval: 'automatic' | 'approval' = 'automatic'): void {
  useConfig(
    clusterConfig(servers, clusters, (c) => {
      c.approvals = { 'region-failover': { policy: approval, timeoutMinutes: 30, onTimeout: 'decline' } };
      c.regionFailover!.health.redis = { host: '127.0.0.1', port: servers.redis.port, tls: false, authSecret: REDIS_SECRET };
      c.regionFailover!.detection.confirmationMinutes = confirmationMinutes;
    }),
  );
}

beforeEach(async () => {
  for (const mock of allMocks) mock.reset();
  servers.backupHealth.behave('ok');
  namespace = startTest('region', backup);
  await backup.addNamespace(namespace);
  await backup.addDeployment(namespace, API, { image: STANDBY_IMAGE, replicas: 0 });
  await backup.addSecret(namespace, 'frontier-secrets', { 'database-url': databaseUrl({ username: servers.postgres.user, password: servers.postgres.password }, { host: PRIMARY_HOST, port: 5432 }, 'frontier') });
  configure();
  healthyRecoveryRegion();
  lockTable = installLockTable(ddb);
  installExecutions(sfn);
}, TEST_TIMEOUT);

afterEach(async () => {
  if (namespace) await scaleNamespaceToZero(backup, namespace);
}, TEST_TIMEOUT);

/** Everything the recovery region holds, as healthy; the restored instance becomes available at its second look. */
function healthyRecoveryRegion(): void {
  const files = manifestFiles();
  s3.on(ListObjectsV2Command).resolves({ Contents: Object.keys(files).map((Key) => ({ Key })), IsTruncated: false });
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({ Body: objectBody(files[input.Key] ?? '') }));
  s3.on(PutObjectCommand).resolves({});
  eksRecovery.on(DescribeClusterCommand, { name: backup.clusterName }).resolves(describedCluster(backup.clusterName, 'us-east-1', backup.url, backup.caData));
  const { postgres } = servers;
  secrets
    .on(GetSecretValueCommand, { SecretId: DATABASE_SECRET })
    .resolves({ VersionId: 'v-primary', SecretString: JSON.stringify({ engine: 'postgres', host: PRIMARY_HOST, port: 5432, username: postgres.user, password: postgres.password, dbname: 'frontier' }) })
    .on(GetSecretValueCommand, { SecretId: REDIS_SECRET })
    .resolves({ SecretString: JSON.stringify({ password: REDIS_PASSWORD }) });
  secrets.on(PutSecretValueCommand).resolves({ VersionId: 'v-restored' });
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
  zone = installHostedZone(route53, { pendingLooks: 1 });
  rds.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [
      { DBSnapshotIdentifier: COPY, DBSnapshotArn: `arn:aws:rds:us-east-1:123456789012:snapshot:${COPY}`, DBInstanceIdentifier: 'frontier-prod', SnapshotCreateTime: new Date(Date.now() - 3 * 3_600_000), SnapshotType: 'manual', Status: 'available', Encrypted: true, EngineVersion: '16.4' },
    ],
  });
  rds.on(DescribeDBSubnetGroupsCommand).resolves({ DBSubnetGroups: [{ DBSubnetGroupName: 'frontier-dr-db', Subnets: [{}, {}] }] });
  rds.on(DescribeDBParameterGroupsCommand).resolves({ DBParameterGroups: [{ DBParameterGroupName: 'frontier-dr-pg16', DBParameterGroupFamily: 'postgres16' }] });
  restoreCalls = 0;
  let looks = 0;
  rds.on(RestoreDBInstanceFromDBSnapshotCommand).callsFake(() => {
    restoreCalls += 1;
    return {};
  });
  rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
    if (restoreCalls === 0) throw Object.assign(new Error(`DBInstance ${input.DBInstanceIdentifier} not found`), { name: 'DBInstanceNotFoundFault', $metadata: { httpStatusCode: 404 } });
    looks += 1;
    const available = looks > 1;
    return {
      DBInstances: [
        {
          DBInstanceIdentifier: input.DBInstanceIdentifier,
          DBInstanceStatus: available ? 'available' : 'creating',
          ...(available ? { Endpoint: { Address: postgres.host, Port: postgres.port } } : {}),
          TagList: [],
        },
      ],
    };
  });
  alarmState('ALARM', new Date(Date.now() - 10 * 60_000));
}

function alarmState(state: 'ALARM' | 'OK', since: Date): void {
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'RegionFailure', StateValue: state, StateUpdatedTimestamp: since }] });
}

async function failover(input: unknown, options: LocalRunOptions = {}): Promise<LocalRunResult> {
  return runStateMachine('region-failover', input, { waitMilliseconds: WAIT_MS, executionName: `region-${++runCount}`, ...options });
}

/** Not one change anywhere: no restore, no secret, no DNS, nothing written on the recovery cluster. */
function expectNothingChanged(): void {
  expect(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)).toHaveLength(0);
  expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  expect(zone.record(TRAFFIC_RECORD, 'CNAME')?.ResourceRecords).toEqual([{ Value: PRIMARY_INGRESS }]);
  expect(writes(backup)).toEqual([]);
}

function statesEntered(run: LocalRunResult): string[] {
  return run.events.filter((e) => e.type === 'StateEntered').map((e) => (e as { state: { name: string } }).state.name);
}

describe('region-failover state machine', () => {
  it('confirms the outage, restores and brings up the recovery region in parallel, passes the gates, then moves DNS', async () => {
    // The alarm fired a moment ago: the run waits out the (shortened) confirmation period first. 3 s:
    // long enough that the steps before the first look never use it all up on a loaded machine.
    configure(0.05);
    alarmState('ALARM', new Date(Date.now() - 200));

    const run = await failover(alarmEvent('RegionFailure', new Date(Date.now() - 200), { alarmRegion: 'us-east-1' }));

    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const entered = statesEntered(run);
    expect(entered.filter((s) => s === 'WaitForConfirmation').length).toBeGreaterThan(0);
    expect(entered.indexOf('NotifyOutageConfirmed')).toBeGreaterThan(entered.lastIndexOf('ConfirmOutage'));
    // Policy automatic: the approval step plans and goes straight on, before the first look at the recovery region.
    expect(entered.slice(entered.indexOf('NotifyOutageConfirmed') + 1, entered.indexOf('Preflight'))).toEqual(['PlanApproval', 'IsApprovalRequired']);
    // DNS moved only after the gates passed, and the run waited for INSYNC.
    expect(entered.indexOf('MoveDns')).toBeGreaterThan(entered.indexOf('RunHealthChecks'));
    expect(zone.record(TRAFFIC_RECORD, 'CNAME')?.ResourceRecords).toEqual([{ Value: BACKUP_INGRESS }]);
    expect(entered.filter((s) => s === 'CheckDnsChange')).toHaveLength(2);
    // The restore: the snapshot copy in the recovery region, to a new instance named after the incident.
    expect(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ DBSnapshotIdentifier: `arn:aws:rds:us-east-1:123456789012:snapshot:${COPY}`, DBInstanceClass: 'db.r6g.large', DBSubnetGroupName: 'frontier-dr-db', DeletionProtection: true, PubliclyAccessible: false }),
    ]);
    // The recovery cluster: production manifests, production count, restarted onto the restored database.
    expect(await imagesOf(backup)).toEqual([PRODUCTION_IMAGE]);
    expect(await replicasOf(backup)).toBe(3);
    expect(new URL((await backup.secretData(namespace, 'frontier-secrets'))!['database-url']!).hostname).toBe(servers.postgres.host);
    expect(entered).toEqual(expect.arrayContaining(['StopApiForRestart', 'StartApiAfterRestart', 'CheckRestartRollout']));
    // Nothing asked of the primary region.
    expect(eksPrimary.calls()).toHaveLength(0);
    expect(rdsPrimary.calls()).toHaveLength(0);
    expect(lockTable.items.get('region/us-west-2')).toMatchObject({ status: { S: 'completed' } });

    const report = storedReport(run);
    expect(report.status).toBe('succeeded');
    expect(report.regionFailover?.confirmation).toMatch(/^confirmed: /);
    expect(report.regionFailover?.criticalPath?.branch).toMatch(/^(database|cluster)$/);
    expect(report.failback?.dns).toEqual([expect.objectContaining({ mode: 'control-plane', recordSet: expect.objectContaining({ ResourceRecords: [{ Value: PRIMARY_INGRESS }] }) })]);
  }, TEST_TIMEOUT);

  it('ends with no change when the alarm goes back to OK within the confirmation period', async () => {
    configure(3);
    const firedAt = new Date(Date.now() - 60_000);
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ AlarmName: 'RegionFailure', StateValue: 'ALARM', StateUpdatedTimestamp: firedAt }] })
      .resolves({ MetricAlarms: [{ AlarmName: 'RegionFailure', StateValue: 'OK', StateUpdatedTimestamp: new Date() }] });

    const run = await failover(alarmEvent('RegionFailure', firedAt, { alarmRegion: 'us-east-1' }));

    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun', 'AcquireRecoveryLock', 'ConfirmOutage', 'ConfirmOutage', 'ReleaseUnchangedLock', 'PublishReport']);
    expectNothingChanged();
    expect(sns.calls()).toHaveLength(0);
    expect(lockTable.items.has('region/us-west-2')).toBe(false);
    const report = storedReport(run);
    expect(report.status).toBe('succeeded');
    expect(report.steps.find((s) => s.name === 'NoFailoverNeeded')?.detail).toContain('nothing was changed (DNS untouched)');
    expect(report.regionFailover?.confirmation).toMatch(/^not confirmed: RegionFailure left ALARM/);
  }, TEST_TIMEOUT);

  it('leaves DNS untouched when a parallel branch fails, and reports which', async () => {
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(Object.assign(new Error('The parameter group frontier-dr-pg16 does not exist'), { name: 'DBParameterGroupNotFound', $metadata: { httpStatusCode: 404 } }));

    const run = await failover({ skipConfirmation: true, reason: 'us-west-2 outage (AWS health dashboard)' });

    expect(run.status).toBe('FAILED');
    expect(statesEntered(run)).not.toContain('MoveDns');
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(zone.record(TRAFFIC_RECORD, 'CNAME')?.ResourceRecords).toEqual([{ Value: PRIMARY_INGRESS }]);
    expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    const report = storedReport(run);
    expect(report.status).toBe('failed');
    expect(report.failures.map((f) => [f.step, f.error])).toEqual([
      ['RecoverInParallel', 'RecoveryBranchFailed'],
      ['database: StartRegionRestore', 'ResourceNotFound'],
    ]);
    expect(report.summary).toContain('DNS untouched');
    expect(report.regionFailover?.branches.map((b) => [b.branch, b.status])).toEqual([
      ['database', 'failed'],
      ['cluster', 'succeeded'],
    ]);
    // The operator vouched for the outage: said so, and the alarm was never read.
    expect(report.regionFailover?.confirmation).toMatch(/^skipped: a manual start with skipConfirmation/);
    expect(cloudwatch.calls()).toHaveLength(0);
  }, TEST_TIMEOUT);

  it('keeps DNS where it is when the recovery region fails its health gates', async () => {
    servers.backupHealth.behave('failing');

    const run = await failover({ skipConfirmation: true });

    expect(run.status).toBe('FAILED');
    expect(statesEntered(run)).not.toContain('MoveDns');
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(zone.record(TRAFFIC_RECORD, 'CNAME')?.ResourceRecords).toEqual([{ Value: PRIMARY_INGRESS }]);
    const report = storedReport(run);
    expect(report.failures.map((f) => f.error)).toEqual(['HealthGatesFailed']);
    expect(report.checks.find((c) => c.name === 'api-health')?.passed).toBe(false);
    expect(report.summary).toContain('DNS untouched');
  }, TEST_TIMEOUT);

  it('acts on nothing in a dry run, and records what it would do', async () => {
    const run = await failover({ dryRun: true, skipConfirmation: true });

    expect(run.error).toBeUndefined();
    expectNothingChanged();
    expect(lockTable.items.size).toBe(0);
    const report = storedReport(run);
    expect(report.dryRun).toBe(true);
    const actions = report.steps.flatMap((s) => s.actions);
    expect(actions.filter((a) => a.performed && a.service !== 'sns')).toEqual([]);
    expect(actions.map((a) => a.operation)).toEqual(expect.arrayContaining(['RestoreDBInstanceFromDBSnapshot', 'apply', 'patch deployments/scale', 'PutSecretValue', 'patch secrets', 'ChangeResourceRecordSets']));
    expect(report.objectives).toEqual([]);
  }, TEST_TIMEOUT);
  describe('the approval policy (approvals.region-failover: approval)', () => {
    // The approvers' side: what requestApproval was asked, and the answer given on its task token (the
    // real requestApproval, link and answer are exercised against moto in test/integration/approval.test.ts).
    async function failoverAnswering(answer: (task: WaitingTask) => void): Promise<{ run: LocalRunResult; asked: unknown[] }> {
      configure(3, 'approval');
      const asked: unknown[] = [];
      const requestApproval: LambdaHandler = async (event) => {
        asked.push(event);
        return { step: { status: 'succeeded' } };
      };
      const stop = onTaskWaiting((task) => setTimeout(() => answer(task), 20));
      try {
        const run = await failover({ skipConfirmation: true }, { handlerOverrides: { requestApproval } });
        return { run, asked };
      } finally {
        stop();
      }
    }

    it('asks before the first change, naming what it will do, and goes ahead once approved', async () => {
      const { run, asked } = await failoverAnswering((task) => sendTaskSuccess(task.token, JSON.stringify({ approved: true, by: 'Dana', via: 'console', at: new Date().toISOString() })));

      expect(run.status).toBe('SUCCEEDED');
      const entered = statesEntered(run);
      expect(entered.indexOf('RequestApproval')).toBeLessThan(entered.indexOf('Preflight'));
      const request = (asked[0] as { approval: { request: { actions: string[] } } }).approval.request;
      expect(request.actions.join('\n')).toMatch(/restore frontier-prod in us-east-1/);
      expect(request.actions.join('\n')).toMatch(/api\.frontier\.com.*to us-east-1/);
      expect(zone.record(TRAFFIC_RECORD, 'CNAME')?.ResourceRecords).toEqual([{ Value: BACKUP_INGRESS }]);
    }, TEST_TIMEOUT);

    it('changes nothing when the approvers decline, and gives the lock back', async () => {
      const { run } = await failoverAnswering((task) => sendTaskFailure(task.token, 'ApprovalDeclined', 'declined by Dana: the primary is recovering'));

      expect(run.status).toBe('FAILED');
      expectNothingChanged();
      expect(rds.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(0);
      expect(statesEntered(run)).not.toContain('Preflight');
      expect(lockTable.items.size).toBe(0);
      const report = storedReport(run);
      expect(report.failures.map((f) => [f.step, f.error])).toEqual([['RequestApproval', 'ApprovalDeclined']]);
    }, TEST_TIMEOUT);

    it('changes nothing when the approvers cannot be asked (requestApproval keeps failing), and gives the lock back', async () => {
      configure(3, 'approval');
      let attempts = 0;
      const requestApproval: LambdaHandler = async () => {
        attempts += 1;
        throw Object.assign(new Error('sns:Publish: Rate exceeded'), { name: 'AwsTransientError' });
      };
      const run = await failover({ skipConfirmation: true }, { handlerOverrides: { requestApproval } });

      expect(run.status).toBe('FAILED');
      // Retried as the fragment says (4 attempts after the first), then the run stops before any change.
      expect(attempts).toBe(5);
      expectNothingChanged();
      expect(statesEntered(run)).not.toContain('Preflight');
      expect(lockTable.items.size).toBe(0);
      expect(storedReport(run).failures.map((f) => [f.step, f.error])).toEqual([['RequestApproval', 'AwsTransientError']]);
    }, TEST_TIMEOUT);

    it('declines on its own when nobody answers within the timeout (onTimeout decline)', async () => {
      configure(3, 'approval');
      const requestApproval: LambdaHandler = async () => ({ step: { status: 'succeeded' } });
      const run = await failover({ skipConfirmation: true }, { handlerOverrides: { requestApproval }, timeoutMillisecondsPerSecond: 0.01 });

      expect(run.status).toBe('FAILED');
      expectNothingChanged();
      expect(statesEntered(run)).toContain('DeclinedOnTimeout');
      expect(lockTable.items.size).toBe(0);
    }, TEST_TIMEOUT);
  });
});

