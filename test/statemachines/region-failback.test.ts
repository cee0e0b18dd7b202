// The real region-failback definition, every Task bound to its real handler; AWS answered by client mocks
// (the lock table and the executions by the in-memory stand-ins database recovery's tests use). What a
// failback must never do is the point here: act while the primary region does not answer, or act at all
// in a dry run.
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { CopyDBSnapshotCommand, CreateDBSnapshotCommand, DescribeDBInstancesCommand, RestoreDBInstanceFromDBSnapshotCommand } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoClient, eksClient, rdsClient, route53Client, s3Client, secretsClient, snsClient, stepFunctionsClient } from '../../shared/clients.js';
import { regionLockTarget } from '../../shared/names.js';
import { installExecutions, installLockTable, LOCK_TABLE, type LockTable } from '../support/database-recovery-fixtures.js';
import { ALERT_TOPIC_ARN, configWith, useConfig } from '../support/fixtures.js';
import { reportStep, storedReports } from '../support/state-machine-runs.js';
import { runStateMachine, type LambdaHandler } from '../../local/local-state-machine.js';

process.env.RECOVERY_LOCK_TABLE = LOCK_TABLE;
process.env.ALERT_TOPIC_ARN = ALERT_TOPIC_ARN;

const rdsPrimary = mockClient(rdsClient('us-west-2'));
const rdsRecovery = mockClient(rdsClient('us-east-1'));
const eks = mockClient(eksClient('us-west-2'));
const s3 = mockClient(s3Client('us-east-1'));
const secrets = mockClient(secretsClient('us-east-1'));
const secretsPrimary = mockClient(secretsClient('us-west-2'));
const sns = mockClient(snsClient('us-east-1'));
const ddb = mockClient(dynamoClient('us-east-1'));
const sfn = mockClient(stepFunctionsClient('us-east-1'));
const route53 = mockClient(route53Client());
const allMocks = [rdsPrimary, rdsRecovery, eks, s3, secrets, secretsPrimary, sns, ddb, sfn, route53];
const { storedReport } = storedReports(s3);

const FAILOVER = 'region-failover-1204';
const RECOVERY_INSTANCE = 'frontier-prod-r-202611301204';
const RECORDED = { Name: 'api.frontier.com.', Type: 'CNAME' as const, TTL: 60, ResourceRecords: [{ Value: 'frontier-prod-ingress.us-west-2.elb.amazonaws.com.' }] };
const config = configWith(() => undefined);
let lock: LockTable;

const failoverReport = {
  scenario: 'region-failover',
  executionId: `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-region-failover:${FAILOVER}`,
  executionName: FAILOVER,
  dryRun: false,
  status: 'succeeded',
  finishedAt: '2026-11-30T12:21:00.000Z',
  failures: [],
  failback: {
    primaryRegion: 'us-west-2',
    recoveryRegion: 'us-east-1',
    dns: [{ mode: 'control-plane', record: 'api.frontier.com. CNAME', hostedZoneId: 'Z0FRONTIEREXAMPLE01', recordSet: RECORDED }],
    database: { name: 'frontier-prod', recoveryInstanceId: RECOVERY_INSTANCE, restorePoint: '2026-11-30T08:00:00.000Z' },
  },
};

/** The calls that would change something, by service: none may happen in these tests. */
function mutations(): string[] {
  const mutating = [
    [rdsRecovery, CreateDBSnapshotCommand],
    [rdsPrimary, CopyDBSnapshotCommand],
    [rdsPrimary, RestoreDBInstanceFromDBSnapshotCommand],
    [secrets, PutSecretValueCommand],
    [secretsPrimary, PutSecretValueCommand],
    [route53, ChangeResourceRecordSetsCommand],
  ] as const;
  return mutating.flatMap(([mock, command]) => (mock.commandCalls(command as never).length ? [command.name] : []));
}

beforeEach(() => {
  for (const mock of allMocks) mock.reset();
  useConfig(config);
  lock = installLockTable(ddb);
  installExecutions(sfn);
  s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `reports/region-failover/2026/11/30/120400000-${FAILOVER}.json` }] });
  s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify(failoverReport) } as never });
  s3.on(PutObjectCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  rdsRecovery.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [{ DBInstanceIdentifier: RECOVERY_INSTANCE, DBInstanceStatus: 'available', AllocatedStorage: 100, Endpoint: { Address: `${RECOVERY_INSTANCE}.abc.us-east-1.rds.amazonaws.com`, Port: 5432 } }],
  });
  route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [{ ...RECORDED, ResourceRecords: [{ Value: 'frontier-backup-ingress.us-east-1.elb.amazonaws.com.' }] }] });
});

it('stops before any change while the primary region does not answer, and gives the lock back', async () => {
  rdsPrimary.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('connect ETIMEDOUT 52.94.0.1:443'), { code: 'ETIMEDOUT', $metadata: {} }));
  eks.on(DescribeClusterCommand).rejects(Object.assign(new Error('getaddrinfo ENOTFOUND eks.us-west-2.amazonaws.com'), { code: 'ENOTFOUND', $metadata: {} }));

  const run = await runStateMachine('region-failback', { failoverExecution: FAILOVER });

  expect(run.status).toBe('FAILED');
  const report = storedReport(run);
  expect(report.failures).toEqual([expect.objectContaining({ step: 'CheckPrimaryRegionBack', error: 'PrimaryRegionUnavailable' })]);
  expect(report.failures[0]!.message).toMatch(/the primary region us-west-2 is not back: .*DescribeDBInstances.*; .*DescribeCluster.*Nothing was changed/);
  expect(run.calls.map((c) => c.state)).not.toContain('StartBaselineSnapshot');
  expect(mutations()).toEqual([]);
  expect(reportStep(report, 'ReleaseUnchangedLock').detail).toContain('lock of region/us-west-2 released');
  expect(lock.lock(regionLockTarget('us-west-2'))).toBeUndefined();
}, 60_000);

it('acts on nothing in a dry run, and records every change it would make', async () => {
  rdsPrimary.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
  eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'frontier-prod-cluster', status: 'ACTIVE' } });
  // The gates probe servers this tier does not run; a dry run's gates change nothing either way.
  const runHealthChecks: LambdaHandler = async () => ({ step: { status: 'succeeded', startedAt: null, finishedAt: null, actions: [] }, data: { allPassed: true, notConfigured: [] } });

  const run = await runStateMachine('region-failback', { failoverExecution: FAILOVER, dryRun: true }, { handlerOverrides: { runHealthChecks } });

  const report = storedReport(run);
  expect(report.failures).toEqual([]);
  expect(run.status).toBe('SUCCEEDED');
  expect(mutations()).toEqual([]);
  // No lock taken (a dry run never blocks a real recovery), no wait waited, nothing scaled.
  expect(ddb.calls()).toEqual([]);
  expect(run.calls.map((c) => c.state)).not.toContain('ScaleApiOnPrimary');
  const wouldDo = report.steps.flatMap((s) => s.actions.map((a) => ({ step: s.name, operation: a.operation, performed: a.performed })));
  expect(wouldDo.filter((a) => a.performed)).toEqual([]);
  expect(wouldDo.map((a) => `${a.step} ${a.operation}`)).toEqual(
    expect.arrayContaining([
      'StartBaselineSnapshot CreateDBSnapshot',
      'CopyBaselineSnapshot CopyDBSnapshot',
      'FreezeRecoveryWrites ALTER DATABASE',
      'StartFinalSnapshot CreateDBSnapshot',
      'CopyFinalSnapshot CopyDBSnapshot',
      'StartPrimaryRestore RestoreDBInstanceFromDBSnapshot',
      'RepointApplication PutSecretValue',
      'RestoreDnsTraffic ChangeResourceRecordSets',
    ]),
  );
  const copy = report.steps.find((s) => s.name === 'CopyFinalSnapshot')!.actions[0]!;
  expect(copy.parameters).toMatchObject({ KmsKeyId: config.regionFailback!.kmsKeyArn });
  const dns = report.steps.find((s) => s.name === 'RestoreDnsTraffic')!.actions[0]!;
  expect(dns.parameters).toMatchObject({ HostedZoneId: 'Z0FRONTIEREXAMPLE01', ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: RECORDED }] } });
}, 60_000);
