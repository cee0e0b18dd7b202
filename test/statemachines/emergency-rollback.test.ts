// The real emergency-rollback definition, every Task bound to its real handler. EKS DescribeCluster,
// Secrets Manager, the reports bucket and SNS are answered by client mocks; the clusters are two real
// local control planes (EKS tokens reviewed by a webhook, deploy/rbac/ enforced, kwok nodes;
// local/kube-cluster.ts), started once for the file, each test in a namespace of its own with the
// API's release history made by real rollouts; the health gates probe a real PostgreSQL, a real Redis
// with AUTH and a /health server per cluster.
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { eksClient, s3Client, secretsClient, snsClient } from '../../shared/clients.js';
import { connectToCluster } from '../../shared/kubernetes/connection.js';
import { planRollback } from '../../shared/kubernetes/rollback.js';
import type { RunContext } from '../../shared/run.js';
import {
  API,
  CLUSTER_START_TIMEOUT_MS,
  DATABASE_SECRET,
  NEVER_READY_IMAGE,
  REDIS_PASSWORD,
  REDIS_SECRET,
  clusterConfig,
  databaseSecret,
  describedCluster,
  patchDeployment,
  progressingCondition,
  requestsOf,
  scaleNamespaceToZero,
  startClusters,
  startGateServers,
  startLosingFront,
  startTest,
  unauthorizedOf,
  until,
  untilProgressDeadlineExceeded,
  useEnvironmentCredentials,
  type Clusters,
  type GateServers,
} from '../support/cluster-fixtures.js';
import { ALERT_TOPIC_ARN, useConfig } from '../support/fixtures.js';
import { entered, loadHandlers, reportStep, rolloutCountsOf, stepData, stepNames, statesCalled, storedReports, totalAwsCalls } from '../support/state-machine-runs.js';
import { EMULATOR_CREDENTIALS } from '../../local/emulator-clients.js';
import type { LocalCluster } from '../../local/kube-cluster.js';
import { importHandler, runStateMachine, type LambdaHandler, type LocalRunOptions, type LocalRunResult } from '../../local/local-state-machine.js';

useEnvironmentCredentials();

const eksPrimary = mockClient(eksClient('us-west-2'));
const eksRecovery = mockClient(eksClient('us-east-1'));
const s3 = mockClient(s3Client('us-east-1'));
const secrets = mockClient(secretsClient('us-east-1'));
const sns = mockClient(snsClient('us-east-1'));
const allMocks = [eksPrimary, eksRecovery, s3, secrets, sns];
const { storedReport, storedMarkdown } = storedReports(s3);

const TEST_TIMEOUT = 60_000;
/** How long each Wait state lasts (what each look says in the definition, 5 s in AWS): a rollback rolls out in a second or two here. */
const WAIT_MS = 100;
const HANDLERS = ['startRun', 'planRollback', 'rollBackDeployment', 'checkRollout', 'runHealthChecks', 'publishReport', 'notifyOnCall'];

/** The API's release history on the primary cluster: revision n runs IMAGES[n - 1]; 4 is the bad release. */
const IMAGES = [1, 2, 3, 4].map((n) => `123456789012.dkr.ecr.us-west-2.amazonaws.com/frontier-api:2026.11.${n}`);
const image = (revision: number) => IMAGES[revision - 1]!;
/** What each release's deploy recorded in kubernetes.io/change-cause. */
const CAUSES = IMAGES.map((img) => `deploy ${img}`);
const cause = (revision: number) => CAUSES[revision - 1]!;

let servers: GateServers;
let clusters: Clusters;
let primary: LocalCluster;
let backup: LocalCluster;
/** This test's namespace, on both clusters (deploy/rbac/'s Role installed in it). */
let namespace: string;
/** What a test changed on the shared clusters, undone after it (last first). */
let undo: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  servers = await startGateServers();
  clusters = await startClusters({ primaryNodes: 3, backupNodes: 2 });
  ({ primary, backup } = clusters);
  process.env.ALERT_TOPIC_ARN = ALERT_TOPIC_ARN; // read when notify-on-call loads
  await loadHandlers(HANDLERS);
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([servers?.stop(), clusters?.stop()]);
}, 60_000);

beforeEach(async () => {
  for (const mock of allMocks) mock.reset();
  servers.primaryHealth.behave('ok');
  servers.backupHealth.behave('ok');
  namespace = startTest('rollback', primary, backup);
  await Promise.all([primary.addNamespace(namespace), backup.addNamespace(namespace)]);
  useConfig(clusterConfig(servers, clusters));
  healthyAws(primary.url, primary.caData);
}, TEST_TIMEOUT);

afterEach(async () => {
  const steps = undo.reverse();
  undo = [];
  for (const step of steps) await step();
  await Promise.all([scaleNamespaceToZero(primary, namespace), scaleNamespaceToZero(backup, namespace)]);
}, TEST_TIMEOUT);

/**
 * How the release history is rolled out while seeding: each release in one step (all new pods at once,
 * no old one stopped first) rather than one pod at a time. For seeding only: addDeployment leaves the
 * deployment with the default strategy (maxSurge 1, maxUnavailable 0 of 3), which the rollbacks use.
 */
const SEED_STRATEGY = { maxSurge: '100%', maxUnavailable: 0 };

/** The API on the primary at 3 replicas, its four releases rolled out one after the other. */
function seedReleases(): Promise<void> {
  return primary.addDeployment(namespace, API, { revisions: IMAGES, changeCauses: CAUSES, replicas: 3, strategy: SEED_STRATEGY });
}

/** `primaryEndpoint`: where EKS says the primary's API is (its proxy with its CA, or a plain-http front before it). */
function healthyAws(primaryEndpoint: string, primaryCa = ''): void {
  eksPrimary.on(DescribeClusterCommand, { name: primary.clusterName }).resolves(describedCluster(primary.clusterName, 'us-west-2', primaryEndpoint, primaryCa));
  eksRecovery.on(DescribeClusterCommand, { name: backup.clusterName }).resolves(describedCluster(backup.clusterName, 'us-east-1', backup.url, backup.caData));
  s3.on(PutObjectCommand).resolves({});
  secrets
    .on(GetSecretValueCommand, { SecretId: DATABASE_SECRET })
    .resolves({ SecretString: databaseSecret(servers) })
    .on(GetSecretValueCommand, { SecretId: REDIS_SECRET })
    .resolves({ SecretString: REDIS_PASSWORD });
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
}

function rollback(input: unknown, options: LocalRunOptions = {}): Promise<LocalRunResult> {
  return runStateMachine('emergency-rollback', input, { waitMilliseconds: WAIT_MS, ...options });
}

function deploymentPatches(cluster: LocalCluster) {
  return requestsOf(cluster).filter((r) => r.method === 'PATCH' && r.path === `/apis/apps/v1/namespaces/${namespace}/deployments/${API}`);
}

interface DeploymentView {
  images: string[];
  revision: string;
  replicas: number;
  available: number;
}

async function deploymentOf(cluster: LocalCluster): Promise<DeploymentView> {
  const d = await cluster.deployment(namespace, API);
  if (!d) throw new Error(`no deployment ${namespace}/${API} on the ${cluster.name} cluster`);
  return {
    images: (d.spec?.template.spec?.containers ?? []).map((c) => c.image ?? ''),
    revision: d.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '',
    replicas: d.spec?.replicas ?? 1,
    // The API leaves a count of 0 out.
    available: d.status?.availableReplicas ?? 0,
  };
}

/** The deployment is exactly as seeded: revision 4, the bad release, nothing patched. */
async function expectUnchanged(cluster: LocalCluster = primary): Promise<void> {
  expect(deploymentPatches(cluster)).toEqual([]);
  expect(await deploymentOf(cluster)).toEqual({ images: [image(4)], revision: '4', replicas: 3, available: 3 });
}

async function changeCauseOf(cluster: LocalCluster): Promise<string | undefined> {
  return (await cluster.deployment(namespace, API))?.metadata?.annotations?.['kubernetes.io/change-cause'];
}

/** The API's ReplicaSets: revision, image, and `key` of their annotations (null when absent), oldest first. */
async function history(cluster: LocalCluster, key: string): Promise<[string, string, string | null][]> {
  return (await cluster.replicaSets(namespace, API))
    .map((rs): [string, string, string | null] => [
      rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '',
      rs.spec?.template?.spec?.containers[0]?.image ?? '',
      rs.metadata?.annotations?.[key] ?? null,
    ])
    .sort((a, b) => Number(a[0]) - Number(b[0]));
}

/** `kubectl rollout history` of the API: revision, image, change-cause, oldest first. */
function historyWithCauses(cluster: LocalCluster) {
  return history(cluster, 'kubernetes.io/change-cause');
}

describe('emergency-rollback state machine', () => {
  beforeEach(seedReleases, TEST_TIMEOUT);

  it('rolls back to the previous revision (3, not 4), waits for the rollout and passes the gates', async () => {
    const run = await rollback({ reason: 'frontier-api 2026.11.4 returns 500 on /v1/chat' });

    expect(run.status).toBe('SUCCEEDED');
    expect(statesCalled(run)).toEqual([
      'StartRun',
      'PlanRollback',
      'RollBackDeployment',
      'CheckRollout',
      'RunHealthChecks',
      'PublishReport',
      'NotifyOnCall',
    ]);
    // Revision 3's ReplicaSet is back in service (re-numbered 5 by the controller) and fully rolled out.
    expect(await deploymentOf(primary)).toEqual({ images: [image(3)], revision: '5', replicas: 3, available: 3 });
    expect(await history(primary, 'deployment.kubernetes.io/revision-history')).toEqual([
      ['1', image(1), null],
      ['2', image(2), null],
      ['4', image(4), null],
      ['5', image(3), '3'],
    ]);
    expect(deploymentPatches(primary)).toHaveLength(1);
    expect(requestsOf(backup)).toEqual([]);
    // The plan was fixed once and handed to the rollback.
    expect(stepData(run, 'PlanRollback')).toMatchObject({
      cluster: 'primary',
      clusterName: primary.clusterName,
      namespace,
      deployment: API,
      currentRevision: 4,
      targetRevision: 3,
      currentImages: [image(4)],
      targetImages: [image(3)],
    });
    expect(stepData(run, 'RollBackDeployment')).toEqual({ fromRevision: 4, toRevision: 3, replicaSet: expect.stringMatching(/^frontier-api-/), images: [image(3)], changed: true, plannedRevision: 3 });
    // Waited in the state machine: several looks until the old pods were gone, the first at once, then
    // a Wait before each further one, 5 s apart in AWS (the manifests' pods have no readiness delay).
    expect(entered(run, 'CheckRollout')).toBeGreaterThan(1);
    expect(entered(run, 'WaitForRollout')).toBe(entered(run, 'CheckRollout') - 1);
    expect(new Set(run.calls.filter((c) => c.state === 'CheckRollout').map((c) => (c.output as { data: { nextCheckSeconds: number } }).data.nextCheckSeconds))).toEqual(new Set([5]));
    expect(stepData(run, 'CheckRollout')).toMatchObject({ done: true, revision: 5, updatedReplicas: 3, availableReplicas: 3, replicas: 3 });

    const report = storedReport();
    expect(report).toMatchObject({ scenario: 'emergency-rollback', status: 'succeeded', dryRun: false, trigger: 'manual', failures: [] });
    expect(stepNames(report)).toEqual(['PlanRollback', 'RollBackDeployment', 'CheckRollout', 'RunHealthChecks']);
    expect(report.steps[0]!.detail).toBe(`${namespace}/${API} on ${primary.clusterName}: revision 4 (${image(4)}) -> 3 (${image(3)})`);
    expect(report.steps[1]!.actions).toEqual([
      {
        description: `roll back ${namespace}/${API} on ${primary.clusterName} from revision 4 to 3`,
        service: 'kubernetes',
        operation: 'patch deployments (rollout undo)',
        parameters: { cluster: primary.clusterName, namespace, deployment: API, toRevision: 3 },
        performed: true,
      },
    ]);
    expect(report.steps[1]!.detail).toBe(`rolled back to planned revision 3: now running ${image(3)}`);
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['api-health', true],
      ['database-select-1', true],
      ['redis-ping', true],
    ]);
    // The gate probed the rolled-back (primary) cluster's /health.
    expect(report.checks[0]!.resource).toBe(servers.primaryHealth.url);
    expect(report.objectives).toEqual([expect.objectContaining({ component: 'API Services', met: true })]);
    // The rollback changed production: the on-call engineer is told, with the report.
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(unauthorizedOf(primary)).toBe(0);
    expect(JSON.stringify(run.events)).not.toContain(servers.postgres.password);
  }, TEST_TIMEOUT);

  it('rolls back to the revision given in toRevision', async () => {
    const run = await rollback({ toRevision: 1 });

    expect(run.status).toBe('SUCCEEDED');
    expect(await deploymentOf(primary)).toEqual({ images: [image(1)], revision: '5', replicas: 3, available: 3 });
    expect(stepData(run, 'PlanRollback')).toMatchObject({ toRevision: 1, currentRevision: 4, targetRevision: 1, targetImages: [image(1)] });
    const report = storedReport();
    expect(report.status).toBe('succeeded');
    expect(reportStep(report, 'RollBackDeployment').actions[0]).toMatchObject({
      description: `roll back ${namespace}/${API} on ${primary.clusterName} from revision 4 to 1`,
      parameters: { toRevision: 1 },
      performed: true,
    });
  }, TEST_TIMEOUT);

  it('fails with NothingToRollBack for a revision the deployment does not keep, and changes nothing', async () => {
    const run = await rollback({ toRevision: 9 });

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'RunFailed' });
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun', 'PlanRollback', 'PublishReport', 'NotifyOnCall']);
    await expectUnchanged();
    const report = storedReport();
    expect(report.failures).toEqual([
      { step: 'PlanRollback', error: 'NothingToRollBack', message: "revision 9 is not in the deployment's history (revisions kept: 1, 2, 3, 4)" },
    ]);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('FAILED STEP PlanRollback: NothingToRollBack');
  }, TEST_TIMEOUT);

  it('fails with NothingToRollBack for a deployment with a single revision', async () => {
    await primary.addDeployment(namespace, 'frontier-worker', { image: image(4), replicas: 2 });

    const run = await rollback({ deployment: 'frontier-worker' });

    expect(run.status).toBe('FAILED');
    expect(run.calls.map((c) => c.state)).not.toContain('RollBackDeployment');
    expect(requestsOf(primary).filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(storedReport().failures).toEqual([
      { step: 'PlanRollback', error: 'NothingToRollBack', message: 'no revision earlier than the current one (1) is kept: nothing to roll back to' },
    ]);
    await expectUnchanged();
  }, TEST_TIMEOUT);

  it('in a dry run records the plan and the rollback it would make, changes nothing, and still runs the gates', async () => {
    const run = await rollback({ dryRun: true });

    expect(run.status).toBe('SUCCEEDED');
    await expectUnchanged();
    expect(entered(run, 'CheckRollout')).toBe(0);
    expect(entered(run, 'RunHealthChecks')).toBe(1);
    const report = storedReport();
    expect(report.dryRun).toBe(true);
    expect(report.status).toBe('succeeded');
    // The plan is the same one a real run would follow.
    expect(report.steps[0]).toMatchObject({ name: 'PlanRollback', detail: `${namespace}/${API} on ${primary.clusterName}: revision 4 (${image(4)}) -> 3 (${image(3)})` });
    expect(report.steps.flatMap((s) => s.actions)).toEqual([
      expect.objectContaining({
        description: `roll back ${namespace}/${API} on ${primary.clusterName} from revision 4 to 3`,
        parameters: { cluster: primary.clusterName, namespace, deployment: API, toRevision: 3 },
        performed: false,
      }),
    ]);
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['api-health', true],
      ['database-select-1', true],
      ['redis-ping', true],
    ]);
    expect(report.objectives).toEqual([]);
    expect(storedMarkdown()).toContain('DRY RUN: no changes made');
  }, TEST_TIMEOUT);

  it('ends failed with RolloutTimedOut when the rolled-back pods never become available, saying where it stopped', async () => {
    // No node takes new pods (all cordoned): the rolled-back release's pods stay Pending.
    undo.push(() => primary.blockScheduling(false));
    await primary.blockScheduling(true);
    const realCheckRollout = await importHandler('checkRollout');
    let looks = 0;
    // The only handler replaced in these tests, and only around the real one: the 5-minute limit is
    // measured from `since` (when RollBackDeployment finished) to now, and a test cannot wait 5 minutes.
    // The first two looks see the real `since`; from the third on it is ten minutes ago, and the test
    // waits until the controller has done all it will (with the seeded strategy, maxSurge 1 and
    // maxUnavailable 0 of 3: one new pod created and never scheduled, the 3 old ones kept serving).
    const checkRollout: LambdaHandler = async (event, context) => {
      looks += 1;
      if (looks < 3) return realCheckRollout(event, context);
      await until('the stalled rollback to settle', async () => {
        const deployment = await primary.deployment(namespace, API);
        const status = deployment?.status;
        return (status?.observedGeneration ?? 0) >= (deployment?.metadata?.generation ?? 1) && status?.updatedReplicas === 1 && status.replicas === 4 ? true : undefined;
      });
      return realCheckRollout({ ...(event as object), since: new Date(Date.now() - 10 * 60_000).toISOString() }, context);
    };

    const run = await rollback({}, { handlerOverrides: { checkRollout } });

    expect(run.status).toBe('FAILED');
    expect(entered(run, 'CheckRollout')).toBe(3);
    expect(entered(run, 'RunHealthChecks')).toBe(0);
    const report = storedReport();
    expect(report.status).toBe('failed');
    expect(report.failures).toEqual([
      {
        step: 'CheckRollout',
        error: 'RolloutTimedOut',
        message: `rollout of ${namespace}/${API} not finished after 10.0 min (limit 5 min); it stopped at: 1 of 3 new replicas updated`,
      },
    ]);
    // The old pods keep serving: the rollback is left where it stopped for a person to decide.
    expect(await deploymentOf(primary)).toMatchObject({ images: [image(3)], revision: '5', available: 3 });
    expect(await rolloutCountsOf(primary)).toMatchObject({ desired: 3, replicas: 4, updated: 1, available: 3 });
    expect(storedMarkdown()).toContain('it stopped at: 1 of 3 new replicas updated');
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('FAILED STEP CheckRollout: RolloutTimedOut');
  }, TEST_TIMEOUT);

  it('retries the rollback after a transient 5xx from the API and still ends at revision 3', async () => {
    // The fault proxy answers the first PATCH of the deployment with a 503, in the API server's place.
    primary.failNext({ method: 'PATCH', path: new RegExp(`/namespaces/${namespace}/deployments/${API}$`), status: 503 });

    const run = await rollback({});

    expect(run.status).toBe('SUCCEEDED');
    expect(run.events.filter((e) => e.type === 'StateRetried' && e.state.name === 'RollBackDeployment')).toHaveLength(1);
    expect(run.calls.filter((c) => c.state === 'RollBackDeployment').map((c) => c.error?.split(':')[0] ?? 'ok')).toEqual(['KubernetesTransientError', 'ok']);
    // Both attempts carried the plan made once: revision 3.
    expect(run.calls.filter((c) => c.state === 'RollBackDeployment').map((c) => (c.input as { plan: { targetRevision: number } }).plan.targetRevision)).toEqual([3, 3]);
    expect(deploymentPatches(primary).map((r) => r.status)).toEqual([503, 200]);
    expect(await deploymentOf(primary)).toEqual({ images: [image(3)], revision: '5', replicas: 3, available: 3 });
    expect(storedReport().status).toBe('succeeded');
  }, TEST_TIMEOUT);

  it('does not go one revision further when a retry finds its own earlier rollback already applied (plan once)', async () => {
    // The API server applies the rollback but its answer is lost (503): the step fails after the change.
    // EKS names a plain-http front before the cluster's proxy as the primary's endpoint.
    const front = await startLosingFront(primary, { method: 'PATCH', path: new RegExp(`/namespaces/${namespace}/deployments/${API}$`) });
    try {
      eksPrimary.reset();
      healthyAws(front.url);
      // In AWS the retry comes 5 s later (clusterTransientRetry), long after the deployment controller
      // has taken the rollback in (revision 5); local retries are immediate, so the retry waits for that.
      const realRollBack = await importHandler('rollBackDeployment');
      let attempts = 0;
      const rollBackDeployment: LambdaHandler = async (event, context) => {
        if (++attempts > 1) {
          await until('the controller to number the rolled-back revision', async () =>
            (await primary.deployment(namespace, API))?.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '5' ? true : undefined,
          );
        }
        return realRollBack(event, context);
      };

      const run = await rollback({}, { handlerOverrides: { rollBackDeployment } });

      expect(front.lost()).toBe(1);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.filter((c) => c.state === 'RollBackDeployment').map((c) => c.error?.split(':')[0] ?? 'ok')).toEqual(['KubernetesTransientError', 'ok']);
      // The retry saw the deployment already on revision 3's template and patched nothing more.
      expect(deploymentPatches(primary)).toHaveLength(1);
      // Revision 3's ReplicaSet now carries number 5 (revision-history "3"), so that is the number reported.
      expect(stepData(run, 'RollBackDeployment')).toEqual({ fromRevision: 5, toRevision: 5, replicaSet: expect.any(String), images: [image(3)], changed: false, plannedRevision: 3 });
      expect(await deploymentOf(primary)).toEqual({ images: [image(3)], revision: '5', replicas: 3, available: 3 });
      // What the retry would have done had it planned again: gone one release further back, to 2 (not to
      // 4, the bad release the rollback removed, which `kubectl rollout undo` would pick).
      const conn = await connectToCluster(
        { name: primary.clusterName, region: 'us-west-2' },
        { resolveEndpoint: () => ({ endpoint: primary.url, caData: primary.caData }), credentials: EMULATOR_CREDENTIALS },
      );
      expect(await planRollback(conn, namespace, API)).toMatchObject({ currentRevision: 5, targetRevision: 2, targetImages: [image(2)] });
      const report = storedReport();
      expect(report.status).toBe('succeeded');
      const step = reportStep(report, 'RollBackDeployment');
      expect(step.detail).toBe(`already running planned revision 3 (now numbered 5): ${image(3)}`);
      expect(step.actions[0]!.description).toContain('no change needed, it already runs that template');
    } finally {
      await front.stop();
    }
  }, TEST_TIMEOUT);

  it("puts the target release's change-cause back on the deployment, like kubectl rollout undo", async () => {
    const run = await rollback({});

    expect(run.status).toBe('SUCCEEDED');
    expect(await changeCauseOf(primary)).toBe(cause(3));
    // `kubectl rollout history`: revision 5 is release 3 with its own cause, not release 4's again.
    expect(await historyWithCauses(primary)).toEqual([
      ['1', image(1), cause(1)],
      ['2', image(2), cause(2)],
      ['4', image(4), cause(4)],
      ['5', image(3), cause(3)],
    ]);
  }, TEST_TIMEOUT);

  it('a second emergency rollback goes one release further back (2), never to 4 which the first one removed', async () => {
    const first = await rollback({ reason: 'frontier-api 2026.11.4 returns 500' });
    expect(first.status).toBe('SUCCEEDED');
    expect(await deploymentOf(primary)).toMatchObject({ images: [image(3)], revision: '5' });

    const second = await rollback({ reason: 'frontier-api 2026.11.3 also fails' });

    expect(second.status).toBe('SUCCEEDED');
    expect(stepData(second, 'PlanRollback')).toMatchObject({
      currentRevision: 5,
      targetRevision: 2,
      targetImages: [image(2)],
      skippedRevisions: [{ revision: 4, removedAt: 5 }],
    });
    expect(await deploymentOf(primary)).toEqual({ images: [image(2)], revision: '6', replicas: 3, available: 3 });
    expect(await changeCauseOf(primary)).toBe(cause(2));
    const plan = (second.output as { steps: { PlanRollback: { step: { detail: string } } } }).steps.PlanRollback;
    expect(JSON.stringify(plan)).toContain('passed over revision 4 (taken out of service by the rollback at revision 5)');
  }, TEST_TIMEOUT);

  it('refuses a repeated rollback whose only earlier release is the one removed, naming toRevision, and changes nothing', async () => {
    await primary.addDeployment(namespace, 'frontier-worker', { revisions: [image(3), image(4)], replicas: 2, strategy: SEED_STRATEGY });
    expect((await rollback({ deployment: 'frontier-worker' })).status).toBe('SUCCEEDED');
    const patchesBefore = requestsOf(primary).filter((r) => r.method === 'PATCH').length;
    s3.reset();
    s3.on(PutObjectCommand).resolves({});

    const run = await rollback({ deployment: 'frontier-worker' });

    expect(run.status).toBe('FAILED');
    expect(run.calls.map((c) => c.state)).not.toContain('RollBackDeployment');
    expect(requestsOf(primary).filter((r) => r.method === 'PATCH')).toHaveLength(patchesBefore);
    expect(storedReport().failures).toEqual([
      {
        step: 'PlanRollback',
        error: 'NothingToRollBack',
        message:
          'every revision earlier than the current one (3) is a release an earlier rollback took out of service: 2 (removed by the rollback at revision 3); to go back to one of them anyway, start the rollback again with toRevision',
      },
    ]);
  }, TEST_TIMEOUT);

  it("ends failed with RolloutFailed when the rollback's own rollout exceeds its progress deadline", async () => {
    // The deployment gives up after 2 s without progress, and no node takes new pods (all cordoned):
    // the rolled-back release's new pod stays Pending and the controller reports the deadline passed.
    await patchDeployment(primary, namespace, API, { spec: { progressDeadlineSeconds: 2 } });
    undo.push(() => primary.blockScheduling(false));
    await primary.blockScheduling(true);

    const run = await rollback({});

    expect(run.status).toBe('FAILED');
    const rolledBackTo = (run.calls.find((c) => c.state === 'RollBackDeployment')!.output as { data: { replicaSet: string } }).data.replicaSet;
    expect(storedReport().failures).toEqual([
      { step: 'CheckRollout', error: 'RolloutFailed', message: expect.stringContaining(`ReplicaSet "${rolledBackTo}" has timed out progressing.`) },
    ]);
  }, TEST_TIMEOUT);
});

describe('emergency-rollback on the backup cluster', () => {
  it('rolls back on the backup cluster when asked, and leaves the primary alone', async () => {
    await backup.addDeployment(namespace, API, { revisions: IMAGES.slice(1), replicas: 3, strategy: SEED_STRATEGY });

    const run = await rollback({ cluster: 'backup' });

    expect(run.status).toBe('SUCCEEDED');
    expect(await deploymentOf(backup)).toEqual({ images: [image(3)], revision: '4', replicas: 3, available: 3 });
    expect(requestsOf(primary)).toEqual([]);
    expect(eksPrimary.calls()).toHaveLength(0);
    expect(storedReport().checks[0]!.resource).toBe(servers.backupHealth.url);
  }, TEST_TIMEOUT);
});

describe('emergency-rollback after a release whose pods never became Ready', () => {
  // Releases 1 to 3 rolled out; release 4 is a build whose pods never become Ready. Its rollout
  // stalled at one new pod (maxSurge 1, maxUnavailable 0 of 3: release 3's pods kept serving) and
  // passed its progress deadline (2 s here, so the test need not wait the default 10 minutes).
  beforeEach(async () => {
    await primary.addDeployment(namespace, API, {
      revisions: [image(1), image(2), image(3), NEVER_READY_IMAGE],
      changeCauses: [cause(1), cause(2), cause(3), `deploy ${NEVER_READY_IMAGE}`],
      replicas: 3,
      progressDeadlineSeconds: 2,
      // Releases 1 to 3 in one step each; release 4 (never ready) with the default strategy.
      strategy: SEED_STRATEGY,
    });
    await untilProgressDeadlineExceeded(primary, namespace, API);
  }, TEST_TIMEOUT);

  it("is not failed by the progress deadline the bad release's rollout left on the deployment", async () => {
    // The condition names release 4's ReplicaSet; it stays until the rolled-back ReplicaSet makes progress.
    expect(await progressingCondition(primary, namespace, API)).toMatchObject({ reason: 'ProgressDeadlineExceeded' });

    const run = await rollback({});

    expect(run.status).toBe('SUCCEEDED');
    // No look was failed by the old condition. (The real controller replaces it at its first pass after
    // the rollback here, release 3's pods being there to take over: a look sees either the rollback not
    // yet observed, or the new condition. The fake's "first look sees the stale condition" is only seen
    // on a real cluster for a target whose ReplicaSet has no pods, for one controller pass.)
    const looks = run.calls.filter((c) => c.state === 'CheckRollout');
    expect(looks.map((c) => c.error ?? 'ok')).toEqual(looks.map(() => 'ok'));
    expect(stepData(run, 'CheckRollout')).toMatchObject({ done: true, revision: 5 });
    expect(await deploymentOf(primary)).toEqual({ images: [image(3)], revision: '5', replicas: 3, available: 3 });
    const rolledBackTo = stepData<{ replicaSet: string }>(run, 'RollBackDeployment').replicaSet;
    expect(await progressingCondition(primary, namespace, API)).toMatchObject({ reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rolledBackTo}" has successfully progressed.` });
    expect(storedReport().failures).toEqual([]);
  }, TEST_TIMEOUT);
});

describe('emergency-rollback input', () => {
  it.each([
    [{ toRevision: 0 }, 'toRevision: got 0 (number); expected at least 1'],
    [{ cluster: 'tertiary' }, 'cluster: got "tertiary" (string); expected one of "primary", "backup"'],
    [{ deployment: 'Frontier_API' }, 'deployment: got "Frontier_API" (string)'],
  ])('rejects bad input %j in StartRun with no AWS call', async (input, message) => {
    const run = await rollback(input);

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'InvalidInput', message: expect.stringContaining(message) });
    expect(run.error!.message).toContain('emergency-rollback input is invalid; nothing was changed');
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun']);
    expect(totalAwsCalls(allMocks)).toBe(0);
    expect(requestsOf(primary)).toEqual([]);
    expect(requestsOf(backup)).toEqual([]);
    expect((run.output as { run?: RunContext } | undefined)?.run).toBeUndefined();
  }, TEST_TIMEOUT);
});
