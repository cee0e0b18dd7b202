// The real emergency-rollback definition, every Task bound to its real handler. EKS DescribeCluster,
// Secrets Manager, the reports bucket and SNS are answered by client mocks; the clusters are Kubernetes
// API fakes with real revision history (EKS tokens verified), and the health gates probe a real
// PostgreSQL, a real Redis with AUTH and a /health server per cluster.
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
  DATABASE_SECRET,
  NAMESPACE,
  REDIS_PASSWORD,
  REDIS_SECRET,
  clusterConfig,
  databaseSecret,
  describedCluster,
  startClusters,
  startGateServers,
  startLosingFront,
  tickOnRolloutWait,
  useFakeClusterCredentials,
  type Clusters,
  type GateServers,
} from '../support/cluster-fixtures.js';
import { ALERT_TOPIC_ARN, useConfig } from '../support/fixtures.js';
import { entered, loadHandlers, reportStep, stepData, stepNames, statesCalled, storedReports, totalAwsCalls } from '../support/state-machine-runs.js';
import { FAKE_AWS_CREDENTIALS, type KubeFake } from '../../local/kube-fake.js';
import { importHandler, runStateMachine, type LambdaHandler, type LocalRunOptions, type LocalRunResult } from '../../local/local-state-machine.js';

useFakeClusterCredentials();

const eksPrimary = mockClient(eksClient('us-west-2'));
const eksRecovery = mockClient(eksClient('us-east-1'));
const s3 = mockClient(s3Client('us-east-1'));
const secrets = mockClient(secretsClient('us-east-1'));
const sns = mockClient(snsClient('us-east-1'));
const allMocks = [eksPrimary, eksRecovery, s3, secrets, sns];
const { storedReport, storedMarkdown } = storedReports(s3);

const TEST_TIMEOUT = 20_000;
const HANDLERS = ['startRun', 'planRollback', 'rollBackDeployment', 'checkRollout', 'runHealthChecks', 'publishReport', 'notifyOnCall'];

/** The API's release history on the primary cluster: revision n runs IMAGES[n - 1]; 4 is the bad release. */
const IMAGES = [1, 2, 3, 4].map((n) => `123456789012.dkr.ecr.us-west-2.amazonaws.com/frontier-api:2026.11.${n}`);
const image = (revision: number) => IMAGES[revision - 1]!;
/** What each release's deploy recorded in kubernetes.io/change-cause. */
const CAUSES = IMAGES.map((img) => `deploy ${img}`);
const cause = (revision: number) => CAUSES[revision - 1]!;

let servers: GateServers;
let clusters: Clusters;
let primary: KubeFake;
let backup: KubeFake;

beforeAll(async () => {
  servers = await startGateServers();
  process.env.ALERT_TOPIC_ARN = ALERT_TOPIC_ARN; // read when notify-on-call loads
  await loadHandlers(HANDLERS);
}, 60_000);

afterAll(async () => {
  await servers?.stop();
});

beforeEach(async () => {
  for (const mock of allMocks) mock.reset();
  servers.primaryHealth.behave('ok');
  servers.backupHealth.behave('ok');
  clusters = await startClusters();
  ({ primary, backup } = clusters);
  for (let i = 0; i < 3; i++) primary.addNode(true);
  primary.addDeployment(NAMESPACE, API, { revisions: IMAGES, changeCauses: CAUSES, replicas: 3 });
  useConfig(clusterConfig(servers, clusters));
  healthyAws(primary.url);
});

afterEach(async () => {
  await clusters?.stop();
});

/** `primaryEndpoint`: where EKS says the primary's API is (the fake, or a front before it). */
function healthyAws(primaryEndpoint: string): void {
  eksPrimary.on(DescribeClusterCommand, { name: primary.clusterName }).resolves(describedCluster(primary.clusterName, 'us-west-2', primaryEndpoint));
  eksRecovery.on(DescribeClusterCommand, { name: backup.clusterName }).resolves(describedCluster(backup.clusterName, 'us-east-1', backup.url));
  s3.on(PutObjectCommand).resolves({});
  secrets
    .on(GetSecretValueCommand, { SecretId: DATABASE_SECRET })
    .resolves({ SecretString: databaseSecret(servers) })
    .on(GetSecretValueCommand, { SecretId: REDIS_SECRET })
    .resolves({ SecretString: REDIS_PASSWORD });
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
}

function rollback(input: unknown, options: LocalRunOptions = {}): Promise<LocalRunResult> {
  return runStateMachine('emergency-rollback', input, { onEvent: tickOnRolloutWait(primary, backup), ...options });
}

function deploymentPatches(fake: KubeFake) {
  return fake.requests.filter((r) => r.method === 'PATCH' && r.path === `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/${API}`);
}

interface DeploymentView {
  images: string[];
  revision: string;
  replicas: number;
  available: number;
}

function deploymentOf(fake: KubeFake): DeploymentView {
  const d = fake.deployment(NAMESPACE, API) as {
    metadata: { annotations: Record<string, string> };
    spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
    status: { availableReplicas: number };
  };
  return {
    images: d.spec.template.spec.containers.map((c) => c.image),
    revision: d.metadata.annotations['deployment.kubernetes.io/revision']!,
    replicas: d.spec.replicas,
    available: d.status.availableReplicas,
  };
}

/** The deployment is exactly as seeded: revision 4, the bad release, nothing patched. */
function expectUnchanged(fake: KubeFake = primary): void {
  expect(deploymentPatches(fake)).toEqual([]);
  expect(deploymentOf(fake)).toEqual({ images: [image(4)], revision: '4', replicas: 3, available: 3 });
}

function changeCauseOf(fake: KubeFake): string | undefined {
  return (fake.deployment(NAMESPACE, API) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['kubernetes.io/change-cause'];
}

/** `kubectl rollout history` of the API: revision, image, change-cause, oldest first. */
function historyWithCauses(fake: KubeFake): [string, string, string | undefined][] {
  return fake
    .replicaSets(NAMESPACE, API)
    .map((rs) => {
      const annotations = (rs.metadata as { annotations: Record<string, string> }).annotations;
      const template = (rs.spec as { template: { spec: { containers: { image: string }[] } } }).template;
      return [annotations['deployment.kubernetes.io/revision']!, template.spec.containers[0]!.image, annotations['kubernetes.io/change-cause']] as [string, string, string | undefined];
    })
    .sort((a, b) => Number(a[0]) - Number(b[0]));
}

function progressingOf(fake: KubeFake): Record<string, unknown> | undefined {
  return (fake.deployment(NAMESPACE, API) as { status: { conditions: { type: string }[] } }).status.conditions.find((c) => c.type === 'Progressing');
}

describe('emergency-rollback state machine', () => {
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
    // Revision 3's ReplicaSet is back in service (re-numbered 5, as the API does) and fully rolled out.
    expect(deploymentOf(primary)).toEqual({ images: [image(3)], revision: '5', replicas: 3, available: 3 });
    const history = primary.replicaSets(NAMESPACE, API).map((rs) => {
      const annotations = (rs.metadata as { annotations: Record<string, string> }).annotations;
      const template = (rs.spec as { template: { spec: { containers: { image: string }[] } } }).template;
      return [annotations['deployment.kubernetes.io/revision'], template.spec.containers[0]!.image, annotations['deployment.kubernetes.io/revision-history'] ?? null];
    });
    expect(history).toEqual(
      expect.arrayContaining([
        ['5', image(3), '3'],
        ['4', image(4), null],
      ]),
    );
    expect(deploymentPatches(primary)).toHaveLength(1);
    expect(backup.requests).toEqual([]);
    // The plan was fixed once and handed to the rollback.
    expect(stepData(run, 'PlanRollback')).toMatchObject({
      cluster: 'primary',
      clusterName: primary.clusterName,
      namespace: NAMESPACE,
      deployment: API,
      currentRevision: 4,
      targetRevision: 3,
      currentImages: [image(4)],
      targetImages: [image(3)],
    });
    expect(stepData(run, 'RollBackDeployment')).toEqual({ fromRevision: 4, toRevision: 3, replicaSet: expect.stringMatching(/^frontier-api-/), images: [image(3)], changed: true, plannedRevision: 3 });
    // Waited in the state machine: several looks until the old pods were gone.
    expect(entered(run, 'CheckRollout')).toBeGreaterThan(1);
    expect(stepData(run, 'CheckRollout')).toMatchObject({ done: true, revision: 5, updatedReplicas: 3, availableReplicas: 3, replicas: 3 });

    const report = storedReport();
    expect(report).toMatchObject({ scenario: 'emergency-rollback', status: 'succeeded', dryRun: false, trigger: 'manual', failures: [] });
    expect(stepNames(report)).toEqual(['PlanRollback', 'RollBackDeployment', 'CheckRollout', 'RunHealthChecks']);
    expect(report.steps[0]!.detail).toBe(`${NAMESPACE}/${API} on ${primary.clusterName}: revision 4 (${image(4)}) -> 3 (${image(3)})`);
    expect(report.steps[1]!.actions).toEqual([
      {
        description: `roll back ${NAMESPACE}/${API} on ${primary.clusterName} from revision 4 to 3`,
        service: 'kubernetes',
        operation: 'patch deployments (rollout undo)',
        parameters: { cluster: primary.clusterName, namespace: NAMESPACE, deployment: API, toRevision: 3 },
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
    expect(primary.unauthorizedCount()).toBe(0);
    expect(JSON.stringify(run.events)).not.toContain(servers.postgres.password);
  }, TEST_TIMEOUT);

  it('rolls back to the revision given in toRevision', async () => {
    const run = await rollback({ toRevision: 1 });

    expect(run.status).toBe('SUCCEEDED');
    expect(deploymentOf(primary)).toEqual({ images: [image(1)], revision: '5', replicas: 3, available: 3 });
    expect(stepData(run, 'PlanRollback')).toMatchObject({ toRevision: 1, currentRevision: 4, targetRevision: 1, targetImages: [image(1)] });
    const report = storedReport();
    expect(report.status).toBe('succeeded');
    expect(reportStep(report, 'RollBackDeployment').actions[0]).toMatchObject({
      description: `roll back ${NAMESPACE}/${API} on ${primary.clusterName} from revision 4 to 1`,
      parameters: { toRevision: 1 },
      performed: true,
    });
  }, TEST_TIMEOUT);

  it('fails with NothingToRollBack for a revision the deployment does not keep, and changes nothing', async () => {
    const run = await rollback({ toRevision: 9 });

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'RunFailed' });
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun', 'PlanRollback', 'PublishReport', 'NotifyOnCall']);
    expectUnchanged();
    const report = storedReport();
    expect(report.failures).toEqual([
      { step: 'PlanRollback', error: 'NothingToRollBack', message: "revision 9 is not in the deployment's history (revisions kept: 1, 2, 3, 4)" },
    ]);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('FAILED STEP PlanRollback: NothingToRollBack');
  }, TEST_TIMEOUT);

  it('fails with NothingToRollBack for a deployment with a single revision', async () => {
    primary.addDeployment(NAMESPACE, 'frontier-worker', { image: image(4), replicas: 2 });

    const run = await rollback({ deployment: 'frontier-worker' });

    expect(run.status).toBe('FAILED');
    expect(run.calls.map((c) => c.state)).not.toContain('RollBackDeployment');
    expect(primary.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(storedReport().failures).toEqual([
      { step: 'PlanRollback', error: 'NothingToRollBack', message: 'no revision earlier than the current one (1) is kept: nothing to roll back to' },
    ]);
    expectUnchanged();
  }, TEST_TIMEOUT);

  it('in a dry run records the plan and the rollback it would make, changes nothing, and still runs the gates', async () => {
    const run = await rollback({ dryRun: true });

    expect(run.status).toBe('SUCCEEDED');
    expectUnchanged();
    expect(entered(run, 'CheckRollout')).toBe(0);
    expect(entered(run, 'RunHealthChecks')).toBe(1);
    const report = storedReport();
    expect(report.dryRun).toBe(true);
    expect(report.status).toBe('succeeded');
    // The plan is the same one a real run would follow.
    expect(report.steps[0]).toMatchObject({ name: 'PlanRollback', detail: `${NAMESPACE}/${API} on ${primary.clusterName}: revision 4 (${image(4)}) -> 3 (${image(3)})` });
    expect(report.steps.flatMap((s) => s.actions)).toEqual([
      expect.objectContaining({
        description: `roll back ${NAMESPACE}/${API} on ${primary.clusterName} from revision 4 to 3`,
        parameters: { cluster: primary.clusterName, namespace: NAMESPACE, deployment: API, toRevision: 3 },
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
    primary.setRollout(NAMESPACE, API, 'stall');
    const realCheckRollout = await importHandler('checkRollout');
    let looks = 0;
    // The only handler replaced in these tests, and only around the real one: the 5-minute limit is
    // measured from `since` (when RollBackDeployment finished) to now, and a test cannot wait 5 minutes.
    // The first two looks see the real `since`; from the third on it is ten minutes ago, and the
    // controller has done all it will in that time (new pods created, never available).
    const checkRollout: LambdaHandler = async (event, context) => {
      looks += 1;
      if (looks < 3) return realCheckRollout(event, context);
      for (let i = 0; i < 20; i++) primary.tick();
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
        message: `rollout of ${NAMESPACE}/${API} not finished after 10.0 min (limit 5 min); it stopped at: 3 old replicas pending termination`,
      },
    ]);
    // The old pods keep serving: the rollback is left where it stopped for a person to decide.
    expect(deploymentOf(primary)).toMatchObject({ images: [image(3)], revision: '5', available: 3 });
    expect(storedMarkdown()).toContain('it stopped at: 3 old replicas pending termination');
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('FAILED STEP CheckRollout: RolloutTimedOut');
  }, TEST_TIMEOUT);

  it('retries the rollback after a transient 5xx from the API and still ends at revision 3', async () => {
    primary.failNext({ method: 'PATCH', path: `/deployments/${API}`, status: 503 });

    const run = await rollback({});

    expect(run.status).toBe('SUCCEEDED');
    expect(run.events.filter((e) => e.type === 'StateRetried' && e.state.name === 'RollBackDeployment')).toHaveLength(1);
    expect(run.calls.filter((c) => c.state === 'RollBackDeployment').map((c) => c.error?.split(':')[0] ?? 'ok')).toEqual(['KubernetesTransientError', 'ok']);
    // Both attempts carried the plan made once: revision 3.
    expect(run.calls.filter((c) => c.state === 'RollBackDeployment').map((c) => (c.input as { plan: { targetRevision: number } }).plan.targetRevision)).toEqual([3, 3]);
    expect(deploymentPatches(primary).map((r) => r.status)).toEqual([503, 200]);
    expect(deploymentOf(primary)).toEqual({ images: [image(3)], revision: '5', replicas: 3, available: 3 });
    expect(storedReport().status).toBe('succeeded');
  }, TEST_TIMEOUT);

  it('does not go one revision further when a retry finds its own earlier rollback already applied (plan once)', async () => {
    // The API server applies the rollback but its answer is lost (503): the step fails after the change.
    const front = await startLosingFront(primary, { method: 'PATCH', path: new RegExp(`/deployments/${API}$`) });
    try {
      eksPrimary.reset();
      healthyAws(front.url);

      const run = await rollback({});

      expect(front.lost()).toBe(1);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.filter((c) => c.state === 'RollBackDeployment').map((c) => c.error?.split(':')[0] ?? 'ok')).toEqual(['KubernetesTransientError', 'ok']);
      // The retry saw the deployment already on revision 3's template and patched nothing more.
      expect(deploymentPatches(primary)).toHaveLength(1);
      // Revision 3's ReplicaSet now carries number 5 (revision-history "3"), so that is the number reported.
      expect(stepData(run, 'RollBackDeployment')).toEqual({ fromRevision: 5, toRevision: 5, replicaSet: expect.any(String), images: [image(3)], changed: false, plannedRevision: 3 });
      expect(deploymentOf(primary)).toEqual({ images: [image(3)], revision: '5', replicas: 3, available: 3 });
      // What the retry would have done had it planned again: gone one release further back, to 2 (not to
      // 4, the bad release the rollback removed, which `kubectl rollout undo` would pick).
      const conn = await connectToCluster(
        { name: primary.clusterName, region: 'us-west-2' },
        { resolveEndpoint: () => ({ endpoint: primary.url }), credentials: FAKE_AWS_CREDENTIALS },
      );
      expect(await planRollback(conn, NAMESPACE, API)).toMatchObject({ currentRevision: 5, targetRevision: 2, targetImages: [image(2)] });
      const report = storedReport();
      expect(report.status).toBe('succeeded');
      const step = reportStep(report, 'RollBackDeployment');
      expect(step.detail).toBe(`already running planned revision 3 (now numbered 5): ${image(3)}`);
      expect(step.actions[0]!.description).toContain('no change needed, it already runs that template');
    } finally {
      await front.stop();
    }
  }, TEST_TIMEOUT);

  it('rolls back on the backup cluster when asked, and leaves the primary alone', async () => {
    for (let i = 0; i < 2; i++) backup.addNode(true);
    backup.addDeployment(NAMESPACE, API, { revisions: IMAGES.slice(1), replicas: 3 });

    const run = await rollback({ cluster: 'backup' });

    expect(run.status).toBe('SUCCEEDED');
    expect(deploymentOf(backup)).toEqual({ images: [image(3)], revision: '4', replicas: 3, available: 3 });
    expect(primary.requests).toEqual([]);
    expect(eksPrimary.calls()).toHaveLength(0);
    expect(storedReport().checks[0]!.resource).toBe(servers.backupHealth.url);
  }, TEST_TIMEOUT);

  it("puts the target release's change-cause back on the deployment, like kubectl rollout undo", async () => {
    const run = await rollback({});

    expect(run.status).toBe('SUCCEEDED');
    expect(changeCauseOf(primary)).toBe(cause(3));
    // `kubectl rollout history`: revision 5 is release 3 with its own cause, not release 4's again.
    expect(historyWithCauses(primary)).toEqual([
      ['1', image(1), cause(1)],
      ['2', image(2), cause(2)],
      ['4', image(4), cause(4)],
      ['5', image(3), cause(3)],
    ]);
  }, TEST_TIMEOUT);

  it('a second emergency rollback goes one release further back (2), never to 4 which the first one removed', async () => {
    const first = await rollback({ reason: 'frontier-api 2026.11.4 returns 500' });
    expect(first.status).toBe('SUCCEEDED');
    expect(deploymentOf(primary)).toMatchObject({ images: [image(3)], revision: '5' });

    const second = await rollback({ reason: 'frontier-api 2026.11.3 also fails' });

    expect(second.status).toBe('SUCCEEDED');
    expect(stepData(second, 'PlanRollback')).toMatchObject({
      currentRevision: 5,
      targetRevision: 2,
      targetImages: [image(2)],
      skippedRevisions: [{ revision: 4, removedAt: 5 }],
    });
    expect(deploymentOf(primary)).toEqual({ images: [image(2)], revision: '6', replicas: 3, available: 3 });
    expect(changeCauseOf(primary)).toBe(cause(2));
    const plan = (second.output as { steps: { PlanRollback: { step: { detail: string } } } }).steps.PlanRollback;
    expect(JSON.stringify(plan)).toContain('passed over revision 4 (taken out of service by the rollback at revision 5)');
  }, TEST_TIMEOUT);

  it('refuses a repeated rollback whose only earlier release is the one removed, naming toRevision, and changes nothing', async () => {
    primary.addDeployment(NAMESPACE, 'frontier-worker', { revisions: [image(3), image(4)], replicas: 2 });
    expect((await rollback({ deployment: 'frontier-worker' })).status).toBe('SUCCEEDED');
    const patchesBefore = primary.requests.filter((r) => r.method === 'PATCH').length;
    s3.reset();
    s3.on(PutObjectCommand).resolves({});

    const run = await rollback({ deployment: 'frontier-worker' });

    expect(run.status).toBe('FAILED');
    expect(run.calls.map((c) => c.state)).not.toContain('RollBackDeployment');
    expect(primary.requests.filter((r) => r.method === 'PATCH')).toHaveLength(patchesBefore);
    expect(storedReport().failures).toEqual([
      {
        step: 'PlanRollback',
        error: 'NothingToRollBack',
        message:
          'every revision earlier than the current one (3) is a release an earlier rollback took out of service: 2 (removed by the rollback at revision 3); to go back to one of them anyway, start the rollback again with toRevision',
      },
    ]);
  }, TEST_TIMEOUT);

  it("is not failed by the progress deadline the bad release's rollout left on the deployment", async () => {
    // Release 4's rollout exceeded its deadline (the reason for the rollback); the condition stays on
    // the deployment until the rolled-back ReplicaSet makes progress.
    primary.setRollout(NAMESPACE, API, 'fail');
    primary.tick();
    expect(progressingOf(primary)).toMatchObject({ reason: 'ProgressDeadlineExceeded' });
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the condition's time has whole seconds
    primary.setRollout(NAMESPACE, API, 'progress');

    const run = await rollback({});

    expect(run.status).toBe('SUCCEEDED');
    // The first look saw the old condition (after the controller observed the rollback) and kept waiting.
    const looks = run.calls.filter((c) => c.state === 'CheckRollout').map((c) => (c.output as { data: { message: string } }).data.message);
    expect(looks[0]).toContain('a progress deadline exceeded by an earlier rollout is ignored');
    expect(stepData(run, 'CheckRollout')).toMatchObject({ done: true, revision: 5 });
    expect(deploymentOf(primary)).toEqual({ images: [image(3)], revision: '5', replicas: 3, available: 3 });
    expect(storedReport().failures).toEqual([]);
  }, TEST_TIMEOUT);

  it("ends failed with RolloutFailed when the rollback's own rollout exceeds its progress deadline", async () => {
    primary.setRollout(NAMESPACE, API, 'fail');

    const run = await rollback({});

    expect(run.status).toBe('FAILED');
    const rolledBackTo = (run.calls.find((c) => c.state === 'RollBackDeployment')!.output as { data: { replicaSet: string } }).data.replicaSet;
    expect(storedReport().failures).toEqual([
      { step: 'CheckRollout', error: 'RolloutFailed', message: expect.stringContaining(`ReplicaSet "${rolledBackTo}" has timed out progressing.`) },
    ]);
  }, TEST_TIMEOUT);

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
    expect(primary.requests).toEqual([]);
    expect(backup.requests).toEqual([]);
    expect((run.output as { run?: RunContext } | undefined)?.run).toBeUndefined();
  }, TEST_TIMEOUT);
});
