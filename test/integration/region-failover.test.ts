// region-failover, the whole state machine against the emulated environment, with the primary region
// DOWN: the AWS front refuses every request signed for it and the primary Kubernetes cluster refuses
// connections. moto holds RDS (the primary's instance and snapshots, their encrypted copies in the
// recovery region), Route 53, CloudWatch, Secrets Manager, S3, SNS, DynamoDB; two real Kubernetes
// control planes stand for the clusters, a real redis-server for the recovery region's cache, the
// embedded PostgreSQL for the restored instance (local/endpoint-map.ts) and the loopback /health server
// for the recovery cluster's API. The proof of independence: the failover completes, and not one
// request the product made was signed for the primary region.
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import type { DeploymentConfig } from '../../shared/config.js';
import type { Report } from '../../shared/report.js';
import {
  emulatorClients,
  emulatorConfig,
  seedExampleDeployment,
  startClusterEnvironment,
  startEmulatedEnvironment,
  type ClusterEnvironment,
  type EmulatedEnvironment,
  type SeededDeployment,
} from '../../local/index.js';
import { runStateMachine } from '../../local/local-state-machine.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';
import { exampleConfig, useConfig } from '../support/fixtures.js';
import { alarmEvent, publishedReport, stepNames } from '../support/state-machine-runs.js';

let environment: EmulatedEnvironment;
let clusters: ClusterEnvironment;
let config: DeploymentConfig;
let seeded: SeededDeployment;
let restoreErrorRealm: () => void = () => undefined;

/** Wait states last this long: the controllers and kwok move a rollout on between two looks. */
const WAIT_MS = 100;
const NS = 'production';

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  const example = exampleConfig();
  // The alarm must stay in ALARM this long (3 s) after it fired: the confirmation loop runs for real.
  example.regionFailover!.detection.confirmationMinutes = 0.05;
  environment = await startEmulatedEnvironment();
  clusters = await startClusterEnvironment(environment, example, { primary: 'refusing-connections' });
  config = emulatorConfig(example, environment);
  seeded = await seedExampleDeployment(config, environment.endpoint, environment.postgres, clusters);
  useConfig(config);
  process.env.ALERT_TOPIC_ARN = seeded.alertTopicArn;
  process.env.RECOVERY_LOCK_TABLE = seeded.recoveryLockTable;
}, 300_000);

afterAll(async () => {
  await environment?.stop();
  restoreErrorRealm();
}, 60_000);

/** The region-failover record as moto holds it, read past the front (its zone id is moto's own). */
async function recordValues(): Promise<string[]> {
  const route53 = new Route53Client({ region: 'us-east-1', endpoint: environment.moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    const traffic = seeded.traffic!;
    const answer = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: traffic.hostedZoneId, StartRecordName: traffic.record, StartRecordType: 'CNAME', MaxItems: 1 }));
    return (answer.ResourceRecordSets?.[0]?.ResourceRecords ?? []).map((r) => r.Value ?? '');
  } finally {
    route53.destroy();
  }
}

describe('region-failover with the primary region down', () => {
  let report: Report;

  it('fails over to the recovery region without one request to the primary region', async () => {
    const recovery = emulatorClients(environment.endpoint, config.recoveryRegion);
    const alarmName = config.regionFailover!.detection.alarmName;
    const firedAt = new Date(Date.now() - 1_000);
    await recovery.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'ALARM', StateReason: 'primary API health check failing' }));
    expect(clusters.primaryCondition()).toBe('refusing-connections');
    environment.front.failRegion(config.primaryRegion);
    const refusedBefore = environment.front.refused().length;
    const recording = environment.front.recordRequests();
    const primaryRequestsBefore = clusters.primary.requests.length;
    try {
      const run = await runStateMachine('region-failover', alarmEvent(alarmName, firedAt, { alarmRegion: config.recoveryRegion }), { waitMilliseconds: WAIT_MS });

      expect(run.error).toBeUndefined();
      expect(run.status).toBe('SUCCEEDED');
      // The proof: the product asked the primary region nothing (so the front refused nothing), and
      // never reached the primary cluster.
      const requests = recording.requests();
      expect(requests.length).toBeGreaterThan(20);
      expect(requests.filter((r) => r.region === config.primaryRegion)).toEqual([]);
      expect(environment.front.refused().slice(refusedBefore)).toEqual([]);
      expect(clusters.primary.requests.slice(primaryRequestsBefore)).toEqual([]);
      expect(new Set(requests.map((r) => r.region))).toEqual(new Set([config.recoveryRegion]));

      report = await publishedReport(run, environment, config.recoveryRegion);
    } finally {
      recording.stop();
      environment.front.restoreRegion(config.primaryRegion);
    }
    expect(report.status).toBe('succeeded');
    expect(report.failures).toEqual([]);
    expect(stepNames(report)).toEqual(
      expect.arrayContaining([
        'AcquireRecoveryLock',
        'ConfirmOutage',
        'NotifyOutageConfirmed',
        'Preflight',
        'PreflightTraffic',
        'CheckManifests',
        'AssessRecoveryCluster',
        'database: StartRegionRestore',
        'database: CheckRegionRestore',
        'cluster: ApplyManifestsToBackup',
        'cluster: ScaleApiOnBackup',
        'cluster: CheckRollout',
        'RepointApplication',
        'RunHealthChecks',
        'MoveDns',
        'CheckDnsChange',
        'ReleaseRecoveryLock',
      ]),
    );
    // The outage was confirmed by the alarm, not skipped.
    expect(report.regionFailover?.confirmation).toMatch(/^confirmed: RegionFailure in ALARM since /);

    // The database: restored in the RECOVERY region from the newest encrypted snapshot copy.
    const instanceId = report.failback?.database.recoveryInstanceId;
    expect(instanceId).toMatch(/^frontier-prod-r-\d{12}$/);
    const described = await emulatorClients(environment.endpoint, config.recoveryRegion).rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId! }));
    const restored = described.DBInstances?.[0];
    expect(restored).toMatchObject({ DBInstanceClass: 'db.r6g.large', DBSubnetGroup: expect.objectContaining({ DBSubnetGroupName: 'frontier-dr-db' }), DeletionProtection: true });
    const newestCopy = seeded.recoveryCopies[seeded.recoveryCopies.length - 1]!;
    expect(report.regionFailover?.dataLoss).toMatchObject({ source: expect.stringContaining(`snapshot copy ${newestCopy}`), rpoMinutes: 15 });

    // The application on the recovery cluster reads the restored instance, and so does the connection secret.
    const host = restored!.Endpoint!.Address!;
    expect(host).toContain(`.${config.recoveryRegion}.rds.amazonaws.com`);
    const secret = await emulatorClients(environment.endpoint, config.recoveryRegion).secrets.send(new GetSecretValueCommand({ SecretId: config.databases[0]!.credentialsSecret }));
    expect(JSON.parse(secret.SecretString!)).toMatchObject({ host });
    const url = (await clusters.backup.secretData(NS, 'frontier-secrets'))?.['database-url'];
    expect(new URL(url!).hostname).toBe(host);
    expect(report.checks.filter((c) => ['api-health', 'database-select-1', 'redis-ping'].includes(c.name)).map((c) => [c.name, c.passed])).toEqual([
      ['api-health', true],
      ['database-select-1', true],
      ['redis-ping', true],
    ]);
    expect(report.checks.find((c) => c.name === 'database-select-1')?.resource).toContain(host);

    // The recovery cluster serves at the production count, and DNS moved only after all that.
    expect((await clusters.backup.deployment(NS, config.kubernetes!.apiDeployment))?.spec?.replicas).toBe(config.kubernetes!.productionReplicas);
    expect(await recordValues()).toEqual(['frontier-backup-ingress.us-east-1.elb.amazonaws.com.']);
    expect(report.regionFailover?.dns).toEqual({ modes: ['control-plane'], warnings: [], records: ['api.frontier.com. CNAME (control-plane)'] });
    expect(report.failback).toMatchObject({
      primaryRegion: config.primaryRegion,
      recoveryRegion: config.recoveryRegion,
      dns: [{ mode: 'control-plane', record: 'api.frontier.com. CNAME', recordSet: expect.objectContaining({ ResourceRecords: [{ Value: seeded.traffic!.before }] }) }],
      database: { name: 'frontier-prod', recoveryInstanceId: instanceId },
    });
    expect(report.regionFailover?.criticalPath?.branch).toMatch(/^(database|cluster)$/);
    expect(report.objectives.map((o) => [o.component, o.met])).toEqual([
      ['API Services', true],
      // The newest copy in the recovery region is up to 4 h old: a 15-minute RPO cannot be met from it.
      ['Database', expect.any(Boolean)],
    ]);
  }, 180_000);

  it('starts nothing on a repeated alarm within the quiet period after the completed failover', async () => {
    const alarmName = config.regionFailover!.detection.alarmName;
    const recording = environment.front.recordRequests();
    const backupWrites = clusters.backup.requests.filter((r) => r.method !== 'GET').length;
    try {
      const run = await runStateMachine('region-failover', alarmEvent(alarmName, new Date(Date.now() - 1_000), { alarmRegion: config.recoveryRegion }), { waitMilliseconds: WAIT_MS });
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.map((c) => c.state)).toEqual(['StartRun', 'AcquireRecoveryLock', 'PublishReport']);
      const again = await publishedReport(run, environment, config.recoveryRegion);
      expect(again.steps.find((s) => s.name === 'AcquireRecoveryLock')?.detail).toContain('quiet period');
    } finally {
      recording.stop();
    }
    // Nothing written anywhere: no RDS, Route 53 or Secrets Manager change, nothing on the cluster.
    expect(recording.requests().filter((r) => !r.readOnly && !['PutObject', 'GetItem', 'PutItem'].some((a) => r.action.includes(a)) && r.service !== 's3')).toEqual([]);
    expect(clusters.backup.requests.filter((r) => r.method !== 'GET').length).toBe(backupWrites);
  }, 60_000);
});
