// Region failback's decisions without AWS: which failover report it starts from (and every refusal, each
// naming the report and why, before any change), the primary region's answer, the freeze plan and the
// waits, the data comparison and the freeze measured.
import { DescribeDBInstancesCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessDenied, FailbackRefused, InvalidConfig, PrimaryRegionUnavailable } from '../../shared/errors.js';
import { failbackSnapshotId, restoredInstanceId } from '../../shared/names.js';
import { differingTables, freezeRecoveryWrites, verifyFailbackData } from '../../shared/failback-data.js';
import type { FailoverRecord } from '../../shared/failback-record.js';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ValidationFailed } from '../../shared/errors.js';
import { checkPrimaryRegionBack } from '../../shared/failback-primary-check.js';
import { loadFailoverRecord } from '../../shared/failback-record.js';
import { freezeCheck, FROZEN_STATES, MAX_POLL_SECONDS, planWriteFreeze, progressPollSeconds } from '../../shared/region-failback.js';
import { repointTargetFor } from '../../shared/repoint.js';
import { configWith, exampleConfig } from '../support/fixtures.js';

const s3 = new S3Client({ region: 'us-east-1', maxAttempts: 1 });
const s3Mock = mockClient(s3);
const config = exampleConfig();
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-region-failback:failback-1';
const run = { executionId: EXECUTION, startedAt: '2026-11-30T13:05:42.000Z', failback: { failoverExecution: 'region-failover-1204' } };
const KEY = 'reports/region-failover/2026/11/30/120400000-region-failover-1204.json';

function failoverReport(change: (report: Record<string, unknown>) => void = () => undefined): Record<string, unknown> {
  const report: Record<string, unknown> = {
    scenario: 'region-failover',
    executionId: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-region-failover:region-failover-1204',
    executionName: 'region-failover-1204',
    dryRun: false,
    status: 'succeeded',
    finishedAt: '2026-11-30T12:21:00.000Z',
    failures: [],
    failback: {
      primaryRegion: 'us-west-2',
      recoveryRegion: 'us-east-1',
      dns: [
        {
          mode: 'control-plane',
          record: 'api.frontier.com. CNAME',
          hostedZoneId: 'Z0FRONTIEREXAMPLE01',
          recordSet: { Name: 'api.frontier.com.', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'frontier-prod-ingress.us-west-2.elb.amazonaws.com.' }] },
        },
        {
          mode: 'data-plane',
          record: 'www.frontier.com.',
          routingControls: [{ arn: 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/def', state: 'On' }],
          clusterEndpoints: [{ region: 'us-west-2', endpoint: 'https://host-aaaaaa.us-west-2.example.com/v1' }],
        },
      ],
      database: { name: 'frontier-prod', recoveryInstanceId: 'frontier-prod-r-202611301204', restorePoint: '2026-11-30T08:00:00.000Z' },
    },
  };
  change(report);
  return report;
}

function serve(report: unknown, keys: string[] = [KEY]): void {
  s3Mock.reset();
  s3Mock.on(ListObjectsV2Command).resolves({ Contents: [...keys, 'reports/region-failover/2026/11/30/120000000-another-run.json'].map((Key) => ({ Key })) });
  s3Mock.on(GetObjectCommand).resolves({ Body: { transformToString: async () => (typeof report === 'string' ? report : JSON.stringify(report)) } as never });
}

describe('loadFailoverRecord', () => {
  it('reads the named run\'s record and names what the failback will create', async () => {
    serve(failoverReport());
    const result = await loadFailoverRecord(s3, config, run);
    expect(result.data).toEqual({
      failoverExecution: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-region-failover:region-failover-1204',
      report: `s3://${config.reports.bucket}/${KEY}`,
      failoverFinishedAt: '2026-11-30T12:21:00.000Z',
      primaryRegion: 'us-west-2',
      recoveryRegion: 'us-east-1',
      dns: (failoverReport().failback as { dns: unknown }).dns,
      database: { name: 'frontier-prod', recoveryInstanceId: 'frontier-prod-r-202611301204', restorePoint: '2026-11-30T08:00:00.000Z' },
      primaryInstanceId: restoredInstanceId('frontier-prod', '202611301305'),
      snapshots: { baseline: failbackSnapshotId('frontier-prod', EXECUTION, 'baseline'), final: failbackSnapshotId('frontier-prod', EXECUTION, 'final') },
    });
    expect(s3Mock.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toMatchObject({ Bucket: config.reports.bucket, Prefix: 'reports/region-failover/' });
  });

  it('finds the run by its ARN too', async () => {
    serve(failoverReport());
    const arn = { ...run, failback: { failoverExecution: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-region-failover:region-failover-1204' } };
    expect((await loadFailoverRecord(s3, config, arn)).data.database.name).toBe('frontier-prod');
  });

  const refusals: [string, () => void, Partial<typeof run> | null, RegExp][] = [
    ['an execution of another state machine', () => serve(failoverReport()), { failback: { failoverExecution: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-database-recovery:x' } }, /is an execution of frontier-dr-prod-database-recovery, not of region-failover/],
    ['no report of that run', () => serve(failoverReport(), []), null, /no region-failover report of execution region-failover-1204 in s3:\/\/frontier-prod-dr-reports\/reports\/region-failover\//],
    ['a report that is not JSON', () => serve('<html>'), null, /is not JSON/],
    ['a report of another scenario', () => serve(failoverReport((r) => (r.scenario = 'cluster-failover'))), null, /is a cluster-failover report, not a region failover/],
    ['a dry run', () => serve(failoverReport((r) => (r.dryRun = true))), null, /is a dry run: it moved nothing/],
    ['a failover that did not complete', () => serve(failoverReport((r) => Object.assign(r, { status: 'failed', failures: [{ step: 'MoveTraffic', error: 'DnsChangeTimedOut' }] }))), null, /did not complete \(status failed: MoveTraffic \(DnsChangeTimedOut\)\)/],
    ['a report without a failback record', () => serve(failoverReport((r) => delete r.failback)), null, /holds no failback record/],
    ['a failback record missing a field', () => serve(failoverReport((r) => delete (r.failback as { database: { recoveryInstanceId?: string } }).database.recoveryInstanceId)), null, /failback\.database\.recoveryInstanceId/],
    ['another pair of regions', () => serve(failoverReport((r) => ((r.failback as { primaryRegion: string }).primaryRegion = 'eu-west-1'))), null, /moved eu-west-1 to us-east-1; this deployment protects us-west-2 from us-east-1/],
    ['a database the deployment does not configure', () => serve(failoverReport((r) => ((r.failback as { database: { name: string } }).database.name = 'billing'))), null, /moved database billing, which this deployment does not configure/],
  ];

  it.each(refusals)('refuses %s, naming the report, before any change', async (_what, arrange, runChange, message) => {
    arrange();
    const attempt = loadFailoverRecord(s3, config, { ...run, ...(runChange ?? {}) });
    await expect(attempt).rejects.toThrow(FailbackRefused);
    await expect(attempt).rejects.toThrow(message);
  });

  it('refuses a deployment whose database lacks the primary-region restore settings, naming the field', async () => {
    serve(failoverReport());
    const bare = configWith((raw) => {
      delete raw.databases[0]!.recovery!.subnetGroup;
    });
    await expect(loadFailoverRecord(s3, bare, run)).rejects.toThrow(InvalidConfig);
    await expect(loadFailoverRecord(s3, bare, run)).rejects.toThrow(/databases\[0\]\.recovery\.subnetGroup: missing/);
  });
});

describe('checkPrimaryRegionBack', () => {
  const rds = new RDSClient({ region: 'us-west-2', maxAttempts: 1 });
  const eks = new EKSClient({ region: 'us-west-2', maxAttempts: 1 });
  const rdsMock = mockClient(rds);
  const eksMock = mockClient(eks);
  beforeEach(() => {
    rdsMock.reset();
    eksMock.reset();
  });

  it('passes when RDS answers and the primary cluster is ACTIVE', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: 'frontier-prod' }] });
    eksMock.on(DescribeClusterCommand).resolves({ cluster: { name: 'frontier-prod-cluster', status: 'ACTIVE' } });
    expect((await checkPrimaryRegionBack(config, { rds, eks })).data).toEqual({ rdsInstances: 1, clusterStatus: 'ACTIVE' });
  });

  it('names every call that failed, and says nothing was changed', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error', code: 'ECONNREFUSED', $metadata: {} }));
    eksMock.on(DescribeClusterCommand).resolves({ cluster: { name: 'frontier-prod-cluster', status: 'UPDATING' } });
    const attempt = checkPrimaryRegionBack(config, { rds, eks });
    await expect(attempt).rejects.toThrow(PrimaryRegionUnavailable);
    await expect(attempt).rejects.toThrow(/the primary region us-west-2 is not back: rds:DescribeDBInstances on instances in us-west-2.*; EKS cluster .* is UPDATING, not ACTIVE\. Nothing was changed/);
  });

  it('reports a missing permission as such, not as the region being down', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(new RDSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized' }));
    eksMock.on(DescribeClusterCommand).resolves({ cluster: { status: 'ACTIVE' } });
    await expect(checkPrimaryRegionBack(config, { rds, eks })).rejects.toThrow(AwsAccessDenied);
  });
});

describe('planWriteFreeze', () => {
  it('sizes the first waits from the storage to move: full baseline, incremental final, the restore in minutes', () => {
    expect(planWriteFreeze(400, false).firstWaitSeconds).toEqual({ baselineSnapshot: 600, baselineCopy: 1200, finalSnapshot: 15, finalCopy: 30, restore: 180 });
    // Small volumes still wait the floor; huge ones at most the ceiling, then poll.
    expect(planWriteFreeze(5, false).firstWaitSeconds).toMatchObject({ baselineSnapshot: 15, baselineCopy: 30 });
    expect(planWriteFreeze(64_000, false).firstWaitSeconds).toMatchObject({ baselineSnapshot: 900, baselineCopy: 1800 });
    expect(planWriteFreeze(undefined, false).allocatedStorageGiB).toBe(0);
  });

  it('waits for nothing in a dry run', () => {
    expect(Object.values(planWriteFreeze(400, true).firstWaitSeconds)).toEqual([0, 0, 0, 0, 0]);
  });

  it('freezes writes from FreezeRecoveryWrites until DNS is back, and never during the baseline', () => {
    const plan = planWriteFreeze(100, false);
    expect(plan.frozenStates[0]).toBe('FreezeRecoveryWrites');
    expect(plan.frozenStates.at(-1)).toBe('CheckDnsRestore');
    expect(plan.frozenStates).not.toContain('StartBaselineSnapshot');
    expect(plan.frozenStates).not.toContain('CopyBaselineSnapshot');
    expect(plan.frozenStates).toEqual([...FROZEN_STATES]);
    expect(plan.freezeMadeOf).toContain('reads are served throughout');
  });
});

describe('progressPollSeconds', () => {
  it('polls at most every 15 s, sooner when the progress says the rest is near', () => {
    expect(progressPollSeconds(60, null)).toBe(MAX_POLL_SECONDS);
    expect(progressPollSeconds(60, 0)).toBe(MAX_POLL_SECONDS);
    expect(progressPollSeconds(60, 10)).toBe(MAX_POLL_SECONDS);
    expect(progressPollSeconds(90, 90)).toBe(10);
    expect(progressPollSeconds(10, 99)).toBe(2);
  });
});

describe('differingTables and freezeCheck', () => {
  it('names each table whose count differs or that exists on one side only', () => {
    const recovery = new Map([['public.orders', 3], ['public.users', 2], ['public.audit', 1]]);
    const primary = new Map([['public.orders', 3], ['public.users', 1]]);
    expect(differingTables(recovery, primary)).toEqual([
      { table: 'public.audit', recoveryRegion: 1, primaryRegion: null },
      { table: 'public.users', recoveryRegion: 2, primaryRegion: 1 },
    ]);
    expect(differingTables(primary, new Map(primary))).toEqual([]);
  });

  it('measures the freeze from the refused write to now', () => {
    const record = { database: { name: 'frontier-prod', recoveryInstanceId: 'frontier-prod-r-202611301204', restorePoint: '' }, recoveryRegion: 'us-east-1' };
    const check = freezeCheck(record, '2026-11-30T13:10:00.000Z', new Date('2026-11-30T13:31:30.000Z'));
    expect(check).toMatchObject({ name: 'write-freeze', passed: true, metric: { name: 'FailbackWriteFreezeSeconds', unit: 'Seconds', value: 1290 } });
    expect(check.measured).toBe('1290 s of refused writes (2026-11-30T13:10:00.000Z to 2026-11-30T13:31:30.000Z), reads served');
    expect(freezeCheck(record, null, new Date()).measured).toBe('no freeze (dry run)');
  });
});

describe('the freeze and the data check', () => {
  const secrets = new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 });
  const secretsMock = mockClient(secrets);
  const record: FailoverRecord = {
    failoverExecution: 'x',
    report: 's3://b/k.json',
    failoverFinishedAt: '2026-11-30T12:21:00.000Z',
    primaryRegion: 'us-west-2',
    recoveryRegion: 'us-east-1',
    dns: [],
    database: { name: 'frontier-prod', recoveryInstanceId: 'frontier-prod-r-202611301204', restorePoint: '2026-11-30T08:00:00.000Z' },
    primaryInstanceId: 'frontier-prod-r-202611301305',
    snapshots: { baseline: 'b', final: 'f' },
  };
  const endpoint = { host: 'frontier-prod-r-202611301204.abc.us-east-1.rds.amazonaws.com', port: 5432 };
  const outcome = { terminatedSessions: 2, sessionsNotEnded: [], readWriteOverrides: [], sizeBytes: 1, privileges: null, writeRefused: true };
  beforeEach(() => {
    secretsMock.reset();
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'u', password: 'p', host: endpoint.host, port: 5432 }) });
  });

  it('freezes with ALTER DATABASE on the recovery-region instance and proves it with a refused write', async () => {
    const calls: unknown[] = [];
    const result = await freezeRecoveryWrites(config, record, endpoint, { dryRun: false }, { secrets, enable: async (target, _c, options) => (calls.push({ target, options }), outcome) }, () => new Date('2026-11-30T13:10:00.000Z'));
    expect(calls).toEqual([{ target: expect.objectContaining({ host: endpoint.host, databaseName: 'frontier' }), options: expect.objectContaining({ alterDatabase: true }) }]);
    expect(result.data).toEqual({ frozenAt: '2026-11-30T13:10:00.000Z', writeRefused: true, endpoint, terminatedSessions: 2 });
  });

  it('stops before the final snapshot when a write is not refused, or a session would not end', async () => {
    const run = (o: typeof outcome | (Omit<typeof outcome, 'sessionsNotEnded'> & { sessionsNotEnded: { pid: number; role: string; reason: string }[] })) =>
      freezeRecoveryWrites(config, record, endpoint, { dryRun: false }, { secrets, enable: async () => o as never }, () => new Date());
    await expect(run({ ...outcome, writeRefused: false })).rejects.toThrow(ValidationFailed);
    await expect(run({ ...outcome, sessionsNotEnded: [{ pid: 42, role: 'app', reason: 'superuser' }] })).rejects.toThrow(/sessions still open .*pid 42/);
    await expect(freezeRecoveryWrites(config, record, null, { dryRun: false }, { secrets }, () => new Date())).rejects.toThrow(/has no endpoint/);
  });

  it('compares row counts, and fails naming the tables that differ', async () => {
    const primary = { host: 'frontier-prod-r-202611301305.abc.us-west-2.rds.amazonaws.com', port: 5432 };
    const same = await verifyFailbackData(config, record, primary, { endpoint }, { dryRun: false }, { secrets, count: async () => new Map([['public.orders', 3]]) });
    expect(same.checks?.[0]).toMatchObject({ name: 'failback-data', passed: true, measured: '1 table(s), 3 row(s), every count equal' });
    let side = 0;
    const differing = verifyFailbackData(config, record, primary, { endpoint }, { dryRun: false }, { secrets, count: async () => (side++ === 0 ? new Map([['public.orders', 4]]) : new Map([['public.orders', 3]])) });
    await expect(differing).rejects.toThrow('failback data differs: 1 of 1 table(s) differ: public.orders 4 vs 3');
  });
});

describe('repointTargetFor', () => {
  it('repoints a failback in the primary region: its connection secret there, the primary cluster and recovery.kubernetesSecret', () => {
    const recovery = { database: 'frontier-prod', snapshot: null, restoreTime: null, sourceInstance: 'frontier-prod-r-202611301204' };
    const failback = repointTargetFor(config, { scenario: 'region-failback', recovery });
    expect(failback.secretRegion).toBe(config.primaryRegion);
    expect(failback.cluster).toEqual({ role: 'primary', kubernetesSecret: config.databases[0]!.recovery!.kubernetesSecret });
    // A database recovery keeps the recovery region's copy; a region failover the backup cluster's Secret.
    expect(repointTargetFor(config, { scenario: 'database-recovery', recovery }).secretRegion).toBe(config.recoveryRegion);
    expect(repointTargetFor(config, { scenario: 'region-failover', recovery: null })).toMatchObject({ secretRegion: config.recoveryRegion, cluster: { role: 'backup' } });
  });
});
