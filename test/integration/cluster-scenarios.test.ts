// cluster-failover and emergency-rollback, whole state machines against the emulated environment:
// two real Kubernetes control planes (RBAC from deploy/rbac/ enforced) reached through EKS
// DescribeCluster on the AWS front (the cluster's CA, tokens signed in-process with the environment's
// keys and reviewed by the EKS token webhook), a real redis-server with its AUTH token in Secrets
// Manager, the embedded PostgreSQL behind the database endpoint, and the loopback /health server behind
// the health URLs.
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { Context } from 'aws-lambda';
import type { DeploymentConfig } from '../../shared/config.js';
import { connectToCluster } from '../../shared/kubernetes/connection.js';
import { scaleDeployment } from '../../shared/kubernetes/workloads.js';
import type { Report } from '../../shared/report.js';
import {
  BAD_RELEASE,
  EMULATOR_CREDENTIALS,
  emulatorConfig,
  PRODUCTION_IMAGE,
  seedExampleDeployment,
  startClusterEnvironment,
  startEmulatedEnvironment,
  type ClusterEnvironment,
  type EmulatedEnvironment,
  type LocalCluster,
  type SeededDeployment,
} from '../../local/index.js';
import { exampleConfig, useConfig } from '../support/fixtures.js';
import { publishedReport, reportStep, stepNames } from '../support/state-machine-runs.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';
import { importHandler, runStateMachine } from '../../local/local-state-machine.js';

let environment: EmulatedEnvironment;
let clusters: ClusterEnvironment;
let config: DeploymentConfig;
let seeded: SeededDeployment;

let restoreErrorRealm: () => void = () => undefined;

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  const example = exampleConfig();
  environment = await startEmulatedEnvironment();
  clusters = await startClusterEnvironment(environment, example, { primary: 'nodes-not-ready' });
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

const NS = 'production';
const API = 'frontier-api';
/** Wait states last this long: the controllers and kwok move a rollout on between two looks. */
const WAIT_MS = 100;

interface DeploymentView {
  metadata: { generation: number; resourceVersion: string; annotations: Record<string, string> };
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  status?: { availableReplicas?: number };
}

async function deploymentOn(cluster: LocalCluster, name = API): Promise<DeploymentView> {
  const deployment = await cluster.deployment(NS, name);
  if (!deployment) throw new Error(`no deployment ${NS}/${name} on ${cluster.clusterName}`);
  return deployment as unknown as DeploymentView;
}

/** The requests through a cluster's proxy that change something (apply, scale, patch): [] proves it was only read. */
const writes = (cluster: LocalCluster) => cluster.requests.filter((r) => r.method !== 'GET');

const imageOf = (deployment: DeploymentView) => deployment.spec.template.spec.containers[0]?.image;

/** Test setup through the real API (not the code under test's connection): scale the backup's API back to 0. */
async function scaleBackupToZero(): Promise<void> {
  const conn = await connectToCluster(
    { name: clusters.backup.clusterName, region: config.kubernetes!.clusters.backup.region },
    { resolveEndpoint: () => ({ endpoint: clusters.backup.url, caData: clusters.backup.caData }), credentials: EMULATOR_CREDENTIALS },
  );
  await scaleDeployment(conn, NS, API, 0);
  await clusters.backup.waitForRollout(NS, API);
}

/** Every report step that ran (not a Pass state's "skipped") has both timestamps, in order. */
function expectTimedSteps(report: Report, names: string[]): void {
  expect(stepNames(report)).toEqual(names);
  for (const step of report.steps) {
    expect(step).toMatchObject({ status: 'succeeded', startedAt: expect.any(String), finishedAt: expect.any(String) });
    expect(Date.parse(step.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(step.startedAt!));
  }
}

/** kubernetes.traffic's record as moto holds it, read past the front (its zone id is moto's own). */
async function trafficRecordValues(): Promise<string[]> {
  const route53 = new Route53Client({ region: 'us-east-1', endpoint: environment.moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    const traffic = seeded.traffic!;
    const answer = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: traffic.hostedZoneId, StartRecordName: traffic.record, StartRecordType: 'CNAME', MaxItems: 1 }));
    return (answer.ResourceRecordSets?.[0]?.ResourceRecords ?? []).map((r) => r.Value ?? '');
  } finally {
    route53.destroy();
  }
}

describe('cluster-failover against the emulated clusters', () => {
  beforeEach(async () => {
    await scaleBackupToZero();
    await clusters.setPrimary('nodes-not-ready');
  });

  // First on purpose: a cold start (no cluster connection cached yet), so the assessment really asks EKS
  // in the failing region, as a fresh Lambda container would during the outage.
  it('fails over while the primary REGION is down; only the assessment tried the failing region', async () => {
    await clusters.setPrimary('refusing-connections');
    environment.front.failRegion(config.primaryRegion);
    const refusedBefore = environment.front.refused().length;
    let refusedWhenAssessed = -1;
    try {
      const run = await runStateMachine(
        'cluster-failover',
        { reason: 'region outage test' },
        {
          waitMilliseconds: WAIT_MS,
          onEvent: (event) => {
            if (event.type === 'StateExited' && event.state.name === 'AssessPrimaryCluster') refusedWhenAssessed = environment.front.refused().length;
          },
        },
      );

      expect(run.status).toBe('SUCCEEDED');
      const report = await publishedReport(run, environment, config.recoveryRegion);
      expect(report.status).toBe('succeeded');
      expect(report.checks.find((c) => c.name === 'primary-cluster-health')).toMatchObject({ measured: 'unreachable', passed: false });
      expect(stepNames(report)).toEqual(['AcquireRecoveryLock', 'AssessPrimaryCluster', 'AssessBackupCluster', 'ApplyManifestsToBackup', 'ScaleApiOnBackup', 'CheckRollout', 'RunHealthChecks', 'MoveTraffic', 'CheckDnsChange', 'ReleaseRecoveryLock']);
      // Clients now resolve api.frontier.com to the backup cluster (Route 53 is global: not cut).
      const traffic = config.kubernetes!.traffic!;
      expect(traffic.mode).toBe('control-plane');
      expect(await trafficRecordValues()).toEqual((traffic.mode === 'control-plane' ? traffic.backupValues! : []).map((v) => `${v}.`));
      expect(report.resources).toContainEqual(expect.objectContaining({ kind: 'route53:record', note: `before the failover: ${seeded.traffic!.before}; set it back to fail back` }));
      const backup = await deploymentOn(clusters.backup);
      expect(backup.spec.replicas).toBe(config.kubernetes!.productionReplicas);
      expect(imageOf(backup)).toBe(PRODUCTION_IMAGE);
      // Refused: the assessment's EKS DescribeCluster in the failing region (the SDK's attempts), and
      // nothing after it: manifests, tokens, gates, report and alert all stayed in the recovery region.
      const refused = environment.front.refused().slice(refusedBefore);
      expect(refused.length).toBeGreaterThan(0);
      expect(new Set(refused)).toEqual(new Set([`eks ${config.primaryRegion}`]));
      expect(refusedWhenAssessed).toBe(environment.front.refused().length);
      // What failRegion cannot cut: the SELECT 1 gate connects to the database endpoint its secret names
      // (the primary's, here mapped to the embedded PostgreSQL), which is no AWS API call. In a real
      // outage of the primary region that gate fails unless a database failover repointed the secret.
      expect(report.checks.find((c) => c.name === 'database-select-1')?.resource).toContain(`.${config.primaryRegion}.rds.amazonaws.com`);
    } finally {
      environment.front.restoreRegion(config.primaryRegion);
    }
  }, 60_000);

  it('changes nothing when the primary cluster is healthy', async () => {
    await clusters.setPrimary('healthy');
    const before = await deploymentOn(clusters.backup);
    const backupRequestsBefore = clusters.backup.requests.length;

    const run = await runStateMachine('cluster-failover', { reason: 'false alarm test' }, { waitMilliseconds: WAIT_MS });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun', 'AcquireRecoveryLock', 'AssessPrimaryCluster', 'ReleaseUnchangedLock', 'PublishReport']);
    const report = await publishedReport(run, environment, config.recoveryRegion);
    expect(report.status).toBe('succeeded');
    expect(report.checks).toEqual([expect.objectContaining({ name: 'primary-cluster-health', measured: '3 of 3 nodes Ready', passed: true })]);
    expect(reportStep(report, 'NoFailoverNeeded')).toMatchObject({ status: 'skipped', actions: [] });
    // Not one request reached the backup cluster, and its deployment is as it was.
    expect(clusters.backup.requests.slice(backupRequestsBefore)).toEqual([]);
    const after = await deploymentOn(clusters.backup);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.spec).toEqual(before.spec);
  }, 60_000);

  it('brings the API up on the backup when most primary nodes are NotReady: manifests, scale, rollout, gates', async () => {
    const backupRequestsBefore = clusters.backup.requests.length;

    const run = await runStateMachine('cluster-failover', { reason: 'nodes NotReady test' }, { waitMilliseconds: WAIT_MS });

    expect(run.status).toBe('SUCCEEDED');
    const report = await publishedReport(run, environment, config.recoveryRegion);
    expect(report.status).toBe('succeeded');
    expect(report.failures).toEqual([]);
    // The record already points at the backup since the region-outage test: nothing to change or wait for.
    expectTimedSteps(report, ['AcquireRecoveryLock', 'AssessPrimaryCluster', 'AssessBackupCluster', 'ApplyManifestsToBackup', 'ScaleApiOnBackup', 'CheckRollout', 'RunHealthChecks', 'MoveTraffic', 'ReleaseRecoveryLock']);
    expect(reportStep(report, 'MoveTraffic').detail).toContain('already points at the backup cluster');
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['primary-cluster-health', false],
      ['backup-cluster-health', true],
      ['api-health', true],
      ['database-select-1', true],
      ['redis-ping', true],
    ]);
    expect(report.checks[0]?.measured).toBe('1 of 3 nodes Ready');
    expect(report.objectives).toEqual([expect.objectContaining({ component: 'API Services', met: true })]);
    expect(report.objectives[0]?.measuredRtoMinutes).toBeLessThan(15);

    // The manifests from the recovery region's bucket, applied server-side in dependency order.
    const apply = reportStep(report, 'ApplyManifestsToBackup');
    expect(apply.actions.map((a) => [a.parameters.kind, a.parameters.name, a.performed])).toEqual([
      ['Namespace', NS, true],
      ['ConfigMap', 'frontier-config', true],
      ['Service', API, true],
      ['Deployment', API, true],
    ]);
    const applies = clusters.backup.requests.slice(backupRequestsBefore).filter((r) => r.contentType === 'application/apply-patch+yaml');
    expect(applies.map((r) => [r.path, r.status])).toEqual([
      [`/api/v1/namespaces/${NS}`, 200],
      [`/api/v1/namespaces/${NS}/configmaps/frontier-config`, expect.any(Number)],
      [`/api/v1/namespaces/${NS}/services/${API}`, expect.any(Number)],
      [`/apis/apps/v1/namespaces/${NS}/deployments/${API}`, 200],
    ]);
    expect(await clusters.backup.configMapData(NS, 'frontier-config')).toMatchObject({ LOG_LEVEL: 'info' });
    expect(await clusters.backup.object('services', NS, API)).toBeDefined();

    // Scaled from 0 to the production count, the previous count kept for failback; rolled out.
    expect(reportStep(report, 'ScaleApiOnBackup').detail).toBe(`scaled from 0 to ${config.kubernetes!.productionReplicas} (previous count kept for failback)`);
    const backup = await deploymentOn(clusters.backup);
    expect(backup.spec.replicas).toBe(config.kubernetes!.productionReplicas);
    expect(backup.status?.availableReplicas).toBe(config.kubernetes!.productionReplicas);
    expect(imageOf(backup)).toBe(PRODUCTION_IMAGE);
    // The primary was only looked at.
    expect(writes(clusters.primary)).toEqual([]);
  }, 60_000);
});

describe('emergency-rollback against the emulated clusters', () => {
  beforeAll(async () => {
    await clusters.setPrimary('nodes-not-ready');
  });

  it('rolls the primary API back one revision across three (the previous image, not the current or the oldest)', async () => {
    const [oldest, previous, current] = clusters.revisions.primary;
    expect(current).toBe(BAD_RELEASE);
    expect(imageOf(await deploymentOn(clusters.primary))).toBe(current);
    // The bad release was really rolled out and stalled: its ReplicaSet's pods never became Ready, the
    // previous release's still serve.
    const history = await clusters.primary.replicaSets(NS, API);
    expect(history.map((rs) => [rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], rs.spec?.template?.spec?.containers[0]?.image])).toEqual([
      ['1', oldest],
      ['2', previous],
      ['3', current],
    ]);
    expect(history[2]?.status?.readyReplicas ?? 0).toBe(0);
    expect(history[1]?.status?.readyReplicas).toBe(config.kubernetes!.productionReplicas);

    const run = await runStateMachine('emergency-rollback', { reason: 'bad release test' }, { waitMilliseconds: WAIT_MS });

    expect(run.status).toBe('SUCCEEDED');
    const plan = run.calls.find((c) => c.state === 'PlanRollback')?.output as { data: Record<string, unknown> };
    expect(plan.data).toMatchObject({ cluster: 'primary', currentRevision: 3, targetRevision: 2, currentImages: [current], targetImages: [previous] });
    const deployment = await deploymentOn(clusters.primary);
    expect(imageOf(deployment)).toBe(previous);
    expect(imageOf(deployment)).not.toBe(oldest);
    // The controller re-numbers the ReplicaSet it went back to as the newest revision.
    expect(deployment.metadata.annotations['deployment.kubernetes.io/revision']).toBe('4');
    expect(deployment.status?.availableReplicas).toBe(config.kubernetes!.productionReplicas);
    const report = await publishedReport(run, environment, config.recoveryRegion);
    expect(report.status).toBe('succeeded');
    expectTimedSteps(report, ['PlanRollback', 'RollBackDeployment', 'CheckRollout', 'RunHealthChecks']);
    expect(reportStep(report, 'RollBackDeployment').actions).toEqual([
      expect.objectContaining({ performed: true, parameters: expect.objectContaining({ cluster: config.kubernetes!.clusters.primary.name, toRevision: 2 }) }),
    ]);
    expect(report.checks.every((c) => c.passed)).toBe(true);
    expect(report.objectives).toEqual([expect.objectContaining({ component: 'API Services', met: true })]);
  }, 60_000);

  it('rides out the EKS token expiring in the middle of the rollout wait', async () => {
    const worker = 'frontier-worker';
    await clusters.primary.addDeployment(NS, worker, { revisions: ['frontier/worker:3.0.0', 'frontier/worker:3.1.0', 'frontier/worker:3.2.0'], replicas: 2 });
    const realCheck = await importHandler('checkRollout');
    let checks = 0;
    let refusedBefore = 0;
    let tokensBefore = 0;
    // The rollback's pods stay Pending (every node cordoned) until the second look, which finds every
    // token issued so far expired (EKS: 15 minutes).
    await clusters.primary.blockScheduling(true);
    const checkRollout = async (event: unknown, context: Context) => {
      checks += 1;
      if (checks === 2) {
        // X-Amz-Date has whole seconds: move to a fresh second so the refreshed token is younger than the cut.
        await new Promise((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 5));
        refusedBefore = clusters.primary.unauthorizedCount();
        tokensBefore = clusters.primary.acceptedTokens().length;
        // Resolves once kube-apiserver's own cache of the accepted tokens (10 s) has lapsed.
        await clusters.primary.expireTokensIssuedBefore(new Date(Math.floor(Date.now() / 1_000) * 1_000));
        await clusters.primary.blockScheduling(false);
      }
      return realCheck(event, context);
    };

    let run: Awaited<ReturnType<typeof runStateMachine>>;
    try {
      run = await runStateMachine('emergency-rollback', { deployment: worker, reason: 'token expiry test' }, { waitMilliseconds: WAIT_MS, handlerOverrides: { checkRollout } });
    } finally {
      await clusters.primary.blockScheduling(false);
    }

    expect(run.status).toBe('SUCCEEDED');
    expect(checks).toBeGreaterThanOrEqual(2);
    const looks = run.calls.filter((c) => c.state === 'CheckRollout');
    expect(looks.every((c) => c.error === undefined)).toBe(true);
    expect((looks[0]?.output as { data: { done: boolean } }).data.done).toBe(false);
    // The expired token was refused once, replaced, and the same look went on with the new one.
    expect(clusters.primary.unauthorizedCount()).toBe(refusedBefore + 1);
    expect(clusters.primary.acceptedTokens().length).toBe(tokensBefore + 1);
    expect(imageOf(await deploymentOn(clusters.primary, worker))).toBe('frontier/worker:3.1.0');
    expect((await publishedReport(run, environment, config.recoveryRegion)).status).toBe('succeeded');
  }, 60_000);
});
