// region-failback, the whole state machine against the emulated environment: moto RDS in both regions
// (snapshots, the cross-region copy and the restore carry the data: local/rds-effects.ts), the reports
// bucket holding a region-failover report built by that scenario's report module, Route 53 with the record
// the failover moved, the recovery lock and the secrets; real PostgreSQL behind every instance, the
// primary cluster (a real control plane, deploy/rbac/ enforced), redis-server and the loopback /health.
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient, RestoreDBInstanceFromDBSnapshotCommand } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import type { DeploymentConfig } from '../../shared/config.js';
import { connectToCluster } from '../../shared/kubernetes/connection.js';
import { scaleDeployment } from '../../shared/kubernetes/workloads.js';
import { restoredInstanceId } from '../../shared/names.js';
import { buildReport, reportKey, type RunState } from '../../shared/report.js';
import type { RunContext } from '../../shared/run.js';
import {
  EMULATOR_CREDENTIALS,
  emulatorConfig,
  PRODUCTION_IMAGE,
  primaryIngress,
  runEmulatedExecution,
  seedExampleDeployment,
  startClusterEnvironment,
  startEmulatedEnvironment,
  type ClusterEnvironment,
  type EmulatedEnvironment,
  type SeededDeployment,
} from '../../local/index.js';
import { importHandler, type LambdaHandler } from '../../local/local-state-machine.js';
import { configWith, useConfig } from '../support/fixtures.js';
import { publishedReport, reportStep, stepNames } from '../support/state-machine-runs.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';

let environment: EmulatedEnvironment;
let clusters: ClusterEnvironment;
let config: DeploymentConfig;
let seeded: SeededDeployment;
const direct = (region: string) => ({ region, endpoint: environment.moto.endpoint, credentials: EMULATOR_CREDENTIALS });
let restoreErrorRealm: () => void = () => undefined;

const NS = 'production';
const API = 'frontier-api';
const SECRET_ID = 'frontier/prod/database';
const FAILOVER = 'region-failover-20261130-1204';
const FAILOVER_INCIDENT = '202611301204';
const BACKUP_VALUE = 'frontier-backup-ingress.us-east-1.elb.amazonaws.com.';

/** The recovery-region instance the failover restored and the application used since. */
let recoveryInstance: { id: string; host: string; port: number };

async function sql<T extends pg.QueryResultRow = { note: string }>(host: string, port: number, text: string): Promise<pg.QueryResult<T>> {
  const client = new pg.Client({ host, port, user: environment.postgres.user, password: environment.postgres.password, database: 'frontier', connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await client.query<T>(text);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function notes(host: string, port = 5432): Promise<string[]> {
  return (await sql(host, port, 'SELECT note FROM orders ORDER BY id')).rows.map((r) => r.note);
}

async function describe1(region: string, id: string) {
  const rds = new RDSClient(direct(region));
  try {
    return (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances![0]!;
  } finally {
    rds.destroy();
  }
}

async function trafficRecord() {
  const route53 = new Route53Client(direct('us-east-1'));
  try {
    const answer = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: seeded.traffic!.hostedZoneId, StartRecordName: seeded.traffic!.record, StartRecordType: 'CNAME', MaxItems: 1 }));
    return answer.ResourceRecordSets![0]!;
  } finally {
    route53.destroy();
  }
}

/** What the failover recorded before it moved the record: exactly what the failback must set again. */
let recordedBefore: { Name: string; Type: string; TTL: number; ResourceRecords: { Value: string }[] };

/**
 * A region-failover report as that scenario publishes it: built by the report module region failover's
 * PublishReport runs (shared/report.ts, its `failback` object from shared/region-failover-report.ts)
 * from the step data such a run hands it, and stored under the key PublishReport uses.
 */
async function publishFailoverReport(name: string, change: (report: Record<string, unknown>) => void = () => undefined): Promise<void> {
  const at = (minute: number) => `2026-11-30T12:${String(minute).padStart(2, '0')}:00.000Z`;
  const step = (from: number, to: number) => ({ status: 'succeeded' as const, startedAt: at(from), finishedAt: at(to), actions: [] });
  const objective = config.objectives[0]!;
  const run = {
    scenario: 'region-failover',
    executionId: `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-region-failover:${name}`,
    executionName: name,
    startedAt: at(4),
    incidentAt: at(1),
    incidentNamedByOperator: false,
    trigger: 'alarm RegionFailure',
    dryRun: false,
    reason: null,
    databases: ['frontier-prod'],
    force: false,
    rollback: null,
    productionReplicas: null,
    recovery: null,
    regionFailover: { skipConfirmation: false },
  } satisfies RunContext;
  const state: RunState = {
    run,
    steps: {
      Preflight: {
        step: step(5, 6),
        data: {
          database: 'frontier-prod',
          regions: { primary: config.primaryRegion, recovery: config.recoveryRegion },
          restoreSource: { kind: 'snapshot', snapshot: { id: seeded.recoveryCopies.at(-1)! }, ageMinutes: 240, restorePoint: '2026-11-30T08:00:00.000Z', dataLossMinutes: 241, rpoMinutes: 15, withinRpo: false },
          objectives: { api: objective, database: objective },
          outageAt: at(1),
        },
      },
      MoveDns: {
        step: step(18, 19),
        data: {
          waitForChange: false,
          recorded: [{ mode: 'control-plane', record: `${recordedBefore.Name} CNAME`, hostedZoneId: (config.kubernetes!.traffic as { hostedZoneId: string }).hostedZoneId, recordSet: recordedBefore }],
          modes: ['control-plane'],
          warnings: [],
        },
      },
    },
    items: [{ item: 'database', steps: { StartRegionRestore: { step: step(6, 7), data: { instanceId: recoveryInstance.id } }, CheckRegionRestore: { step: step(7, 16), data: { available: true } } } }],
  };
  const report = buildReport(state, new Date(at(21)));
  // The record a failback reads, exactly as region failover writes it.
  expect(report.failback).toEqual({
    primaryRegion: config.primaryRegion,
    recoveryRegion: config.recoveryRegion,
    dns: [{ mode: 'control-plane', record: `${recordedBefore.Name} CNAME`, hostedZoneId: expect.any(String), recordSet: recordedBefore }],
    database: { name: 'frontier-prod', recoveryInstanceId: recoveryInstance.id, restorePoint: '2026-11-30T08:00:00.000Z' },
  });
  const json = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
  change(json);
  const s3 = new S3Client({ ...direct(config.recoveryRegion), forcePathStyle: true });
  try {
    await s3.send(new PutObjectCommand({ Bucket: config.reports.bucket, Key: `${reportKey(config.reports.prefix, report)}.json`, Body: JSON.stringify(json) }));
  } finally {
    s3.destroy();
  }
}

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  environment = await startEmulatedEnvironment();
  const example = configWith(() => undefined);
  clusters = await startClusterEnvironment(environment, example, { primary: 'healthy' });
  config = emulatorConfig(example, environment);
  // The seed creates the primary region's key the copies are encrypted with (moto chooses its id) and the
  // primary region's replicas of the secrets (the connection secret, the Redis AUTH secret).
  seeded = await seedExampleDeployment(config, environment.endpoint, environment.postgres, clusters);
  expect(seeded.failbackKeyArn).toMatch(new RegExp(`^arn:aws:kms:${config.primaryRegion}:`));
  config = { ...config, regionFailback: { ...config.regionFailback!, kmsKeyArn: seeded.failbackKeyArn! } };
  await clusters.primary.rollOut(NS, API, PRODUCTION_IMAGE, `deploy ${PRODUCTION_IMAGE}`);
  useConfig(config);
  process.env.ALERT_TOPIC_ARN = seeded.alertTopicArn;
  process.env.RECOVERY_LOCK_TABLE = seeded.recoveryLockTable;

  // What a region failover left: the database restored in the recovery region from the newest copy,
  // serving (rows written there during the failover), the connection secrets pointing at it, the
  // primary's API at 0, and the record moved to the recovery region (its earlier value recorded).
  const recoveryRds = new RDSClient(direct(config.recoveryRegion));
  const id = restoredInstanceId('frontier-prod', FAILOVER_INCIDENT);
  await recoveryRds.send(
    new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: id, DBSnapshotIdentifier: seeded.recoveryCopies.at(-1)!, DBInstanceClass: 'db.r6g.large', DBSubnetGroupName: config.databases[0]!.restoreTest.subnetGroup! }),
  );
  recoveryRds.destroy();
  const restored = await describe1(config.recoveryRegion, id);
  recoveryInstance = { id, host: restored.Endpoint!.Address!, port: restored.Endpoint!.Port! };
  await sql(recoveryInstance.host, 5432, 'CREATE TABLE orders (id serial PRIMARY KEY, note text)');
  await sql(recoveryInstance.host, 5432, `INSERT INTO orders (note) VALUES ('restored from the copy'), ('written during the failover')`);
  const secretValue = JSON.stringify({ username: environment.postgres.user, password: environment.postgres.password, engine: 'postgres', host: recoveryInstance.host, port: recoveryInstance.port, dbname: 'frontier' });
  // The failover repointed the secrets (replicated to both regions) at the recovery-region instance.
  const primarySecrets = new SecretsManagerClient(direct(config.primaryRegion));
  await primarySecrets.send(new PutSecretValueCommand({ SecretId: SECRET_ID, SecretString: secretValue }));
  primarySecrets.destroy();
  const conn = await connectToCluster(
    { name: clusters.primary.clusterName, region: config.primaryRegion },
    { resolveEndpoint: () => ({ endpoint: clusters.primary.url, caData: clusters.primary.caData }), credentials: EMULATOR_CREDENTIALS },
  );
  await scaleDeployment(conn, NS, API, 0);

  const before = await trafficRecord();
  recordedBefore = { Name: before.Name!, Type: before.Type!, TTL: before.TTL!, ResourceRecords: before.ResourceRecords!.map((r) => ({ Value: r.Value! })) };
  expect(recordedBefore.ResourceRecords[0]!.Value).toBe(primaryIngress(config.primaryRegion));
  const route53 = new Route53Client(direct('us-east-1'));
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: seeded.traffic!.hostedZoneId,
      ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: recordedBefore.Name, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: BACKUP_VALUE }] } }] },
    }),
  );
  route53.destroy();
  await publishFailoverReport(FAILOVER);
}, 300_000);

afterAll(async () => {
  await environment?.stop();
  restoreErrorRealm();
}, 60_000);

async function snapshotsIn(region: string): Promise<string[]> {
  const rds = new RDSClient(direct(region));
  try {
    return ((await rds.send(new DescribeDBSnapshotsCommand({}))).DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier!).filter((s) => s.includes('failback'));
  } finally {
    rds.destroy();
  }
}

it('refuses a failover report that is not a completed region failover, naming it, and changes nothing', async () => {
  await publishFailoverReport('region-failover-failed', (report) => {
    report.status = 'failed';
    report.failures = [{ step: 'MoveTraffic', error: 'DnsChangeTimedOut', message: '...' }];
  });
  const run = await runEmulatedExecution(environment.endpoint, 'region-failback', { failoverExecution: 'region-failover-failed' });
  expect(run.status).toBe('FAILED');
  const report = await publishedReport(run, environment, config.recoveryRegion);
  expect(report.failures).toEqual([expect.objectContaining({ step: 'LoadFailoverRecord', error: 'FailbackRefused' })]);
  expect(report.failures[0]!.message).toContain('region-failover-failed');
  expect(report.failures[0]!.message).toContain('did not complete (status failed: MoveTraffic (DnsChangeTimedOut))');
  expect(reportStep(report, 'ReleaseUnchangedLock').detail).toContain('nothing was changed');
  expect(await snapshotsIn(config.recoveryRegion)).toEqual([]);
  expect((await trafficRecord()).ResourceRecords![0]!.Value).toBe(BACKUP_VALUE);
}, 120_000);

it('stops before any change while the primary region does not answer', async () => {
  environment.front.failRegion(config.primaryRegion);
  let run;
  try {
    run = await runEmulatedExecution(environment.endpoint, 'region-failback', { failoverExecution: FAILOVER });
  } finally {
    environment.front.restoreRegion(config.primaryRegion);
  }
  expect(run.status).toBe('FAILED');
  const report = await publishedReport(run, environment, config.recoveryRegion);
  expect(report.failures).toEqual([expect.objectContaining({ step: 'CheckPrimaryRegionBack', error: 'PrimaryRegionUnavailable' })]);
  expect(report.failures[0]!.message).toContain(`the primary region ${config.primaryRegion} is not back`);
  expect(await snapshotsIn(config.recoveryRegion)).toEqual([]);
  expect(await sql(recoveryInstance.host, 5432, `INSERT INTO orders (note) VALUES ('still writable') RETURNING note`)).toMatchObject({ rowCount: 1 });
  await sql(recoveryInstance.host, 5432, `DELETE FROM orders WHERE note = 'still writable'`);
}, 120_000);

it('moves the data written in the recovery region to a new primary instance and DNS back to exactly the recorded values', async () => {
  // A write after the baseline snapshot, just before the freeze: the final delta must carry it.
  const freezeRecoveryWrites: LambdaHandler = async (event, context) => {
    await sql(recoveryInstance.host, 5432, `INSERT INTO orders (note) VALUES ('written after the baseline')`);
    return (await importHandler('freezeRecoveryWrites'))(event, context);
  };
  const run = await runEmulatedExecution(environment.endpoint, 'region-failback', { failoverExecution: FAILOVER, reason: 'us-west-2 is back' }, { handlerOverrides: { freezeRecoveryWrites } });
  const report = await publishedReport(run, environment, config.recoveryRegion);
  expect(report.failures).toEqual([]);
  expect(run.status).toBe('SUCCEEDED');
  expect(stepNames(report)).toEqual([
    'AcquireRecoveryLock',
    'LoadFailoverRecord',
    'CheckPrimaryRegionBack',
    'StartBaselineSnapshot',
    'CheckBaselineSnapshot',
    'CopyBaselineSnapshot',
    'CheckBaselineCopy',
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
    'SummariseFailback',
    'ReleaseRecoveryLock',
  ]);

  // A new instance in the primary region holding everything written in the recovery region.
  const primaryId = (run.calls.find((c) => c.state === 'StartPrimaryRestore')?.output as { data: { instanceId: string } }).data.instanceId;
  const primary = await describe1(config.primaryRegion, primaryId);
  expect(primary.DBInstanceArn).toContain(`:rds:${config.primaryRegion}:`);
  expect(primary).toMatchObject({ DeletionProtection: true, DBSubnetGroup: expect.objectContaining({ DBSubnetGroupName: 'frontier-prod-db' }) });
  expect(await notes(primary.Endpoint!.Address!)).toEqual(['restored from the copy', 'written during the failover', 'written after the baseline']);
  // Its own database: the recovery region's, frozen, is another one.
  await sql(primary.Endpoint!.Address!, 5432, `INSERT INTO orders (note) VALUES ('written after the failback')`);
  expect(await notes(recoveryInstance.host)).toEqual(['restored from the copy', 'written during the failover', 'written after the baseline']);
  await expect(sql(recoveryInstance.host, 5432, `INSERT INTO orders (note) VALUES ('refused')`)).rejects.toMatchObject({ code: '25006' });
  // The copies are in the primary region, encrypted with its configured key.
  expect((await snapshotsIn(config.primaryRegion)).sort()).toEqual(
    (await snapshotsIn(config.recoveryRegion)).sort(),
  );
  expect(report.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'failback-data', passed: true, measured: '1 table(s), 3 row(s), every count equal' })]));

  // DNS: exactly what the failover recorded.
  const after = await trafficRecord();
  expect({ Name: after.Name, Type: after.Type, TTL: after.TTL, ResourceRecords: after.ResourceRecords }).toEqual(recordedBefore);

  // The application in the primary region points at the new instance; its API runs at the production count.
  const primarySecrets = new SecretsManagerClient(direct(config.primaryRegion));
  const secret = JSON.parse((await primarySecrets.send(new GetSecretValueCommand({ SecretId: SECRET_ID }))).SecretString!) as { host: string };
  primarySecrets.destroy();
  expect(secret.host).toBe(primary.Endpoint!.Address);
  expect((await clusters.primary.deployment(NS, API))?.spec?.replicas).toBe(config.kubernetes!.productionReplicas);

  // The freeze, measured and reported.
  const freeze = report.checks.find((c) => c.name === 'write-freeze');
  expect(freeze?.measured).toMatch(/^\d+ s of refused writes \(.+\), reads served$/);
  expect(reportStep(report, 'SummariseFailback').detail).toContain(`${recoveryInstance.id} (${config.recoveryRegion}) -> ${primaryId} (${config.primaryRegion})`);
}, 240_000);
