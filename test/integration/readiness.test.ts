// The readiness state machine against the emulated environment: moto behind the AWS front, two real
// Kubernetes control planes (RBAC from deploy/rbac/ enforced), the seeded example deployment. On the
// healthy seed every check passes (backup-verification aside: the seed's own planted legacy snapshot);
// then one problem per scenario is planted (local/readiness-problems.ts) and each is found by its own
// check, the scenario reported not ready, announced once, and nothing changed by the evaluation.
import { routeCheckName } from '../../shared/readiness-network.js';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { DeploymentConfig } from '../../shared/config.js';
import type { PublishedReadiness, ReadinessReport } from '../../shared/readiness-report.js';
import { SCENARIO_NAMES } from '../../shared/scenarios.js';
import {
  awsFrontOf,
  emulatorClients,
  emulatorConfig,
  readStoredObject,
  runEmulatedExecution,
  startClusterEnvironment,
  startEmulatedEnvironment,
  type ClusterEnvironment,
  type EmulatedEnvironment,
} from '../../local/index.js';
import { plantReadinessProblems, seedReadinessDeployment, type PlantedReadinessProblem } from '../../local/readiness-problems.js';
import { exampleConfig, useConfig } from '../support/fixtures.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';
import { importHandler } from '../../local/local-state-machine.js';

let environment: EmulatedEnvironment;
let clusters: ClusterEnvironment;
let config: DeploymentConfig;
let restoreErrorRealm: () => void = () => undefined;

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  const example = exampleConfig();
  environment = await startEmulatedEnvironment();
  clusters = await startClusterEnvironment(environment, example, { primary: 'healthy' });
  config = emulatorConfig(example, environment);
  const ready = await seedReadinessDeployment(config, environment, clusters);
  config = ready.config;
  const seeded = ready.seeded;
  useConfig(config);
  process.env.ALERT_TOPIC_ARN = seeded.alertTopicArn;
  process.env.RECOVERY_LOCK_TABLE = seeded.recoveryLockTable;
  process.env.FUNCTION_NAME_PREFIX = 'frontier-dr-local-';
  for (const name of ['startRun', 'evaluateScenarioReadiness', 'publishReadiness']) await importHandler(name);
}, 300_000);

afterAll(async () => {
  await environment?.stop();
  restoreErrorRealm();
}, 60_000);

async function evaluate(): Promise<{ output: PublishedReadiness; report: ReadinessReport; mutating: string[] }> {
  const front = awsFrontOf(environment.endpoint);
  if (!front) throw new Error(`no AWS front at ${environment.endpoint}`);
  const recording = front.recordRequests();
  let run;
  try {
    run = await runEmulatedExecution(environment.endpoint, 'readiness', { reason: 'integration test' });
  } finally {
    recording.stop();
  }
  expect(run.status).toBe('SUCCEEDED');
  const output = run.output as PublishedReadiness;
  const report = JSON.parse(await readStoredObject(environment.endpoint, config.recoveryRegion, output.location.json)) as ReadinessReport;
  // What the evaluation wrote: only its report, its verdicts and its alert (the local runner's own
  // StartExecution/StopExecution bookkeeping aside).
  const mutating = recording
    .requests()
    .filter((r) => !r.readOnly && !/StartExecution|StopExecution|CreateStateMachine/.test(r.action))
    .map((r) => `${r.service} ${r.action.replace(/\/reports\/readiness\/.*/, '/reports/readiness/...')}`);
  return { output, report, mutating };
}

function failedChecks(report: ReadinessReport, scenario: string): string[] {
  return report.scenarios.find((s) => s.scenario === scenario)?.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.message}`) ?? [];
}

describe('readiness against the emulated deployment', () => {
  let planted: PlantedReadinessProblem[];

  it('finds every scenario ready on the healthy seed (backup-verification: the seed\'s own planted snapshot only)', async () => {
    const { output, report, mutating } = await evaluate();

    expect(report.scenarios.map((s) => s.scenario)).toEqual([...SCENARIO_NAMES]);
    for (const scenario of SCENARIO_NAMES.filter((s) => s !== 'backup-verification')) {
      expect({ scenario, failed: failedChecks(report, scenario) }).toEqual({ scenario, failed: [] });
    }
    expect(failedChecks(report, 'backup-verification').every((c) => /encrypt/i.test(c))).toBe(true);
    expect(output.ready).toEqual(SCENARIO_NAMES.filter((s) => s !== 'backup-verification'));
    // Only the report (JSON, Markdown), one verdict per scenario, and the alert for the one not ready.
    expect(mutating.filter((m) => m.startsWith('s3'))).toHaveLength(2);
    expect(mutating.filter((m) => /PutItem/.test(m))).toHaveLength(SCENARIO_NAMES.length);
    expect(mutating.filter((m) => !m.startsWith('s3') && !/PutItem|Publish/.test(m))).toEqual([]);
    expect(output.announced).toEqual([{ scenario: 'backup-verification', change: 'not-ready-first-seen' }]);
  }, 180_000);

  it('finds each planted problem by its own check, every scenario not ready, and announces only the changes', async () => {
    planted = await plantReadinessProblems(config, environment.endpoint, clusters);
    expect(new Set(planted.map((p) => p.scenario))).toEqual(new Set(SCENARIO_NAMES));

    const { output, report, mutating } = await evaluate();

    for (const problem of planted) {
      const verdict = report.scenarios.find((s) => s.scenario === problem.scenario);
      expect({ problem: problem.what, ready: verdict?.ready }).toEqual({ problem: problem.what, ready: false });
      expect(verdict?.checks.filter((c) => !c.passed).map((c) => c.name)).toContain(problem.check);
    }
    expect(output.ready).toEqual([]);
    // Not ready since the last evaluation: all but backup-verification, which was already.
    expect(output.announced.map((a) => a.change)).toEqual(SCENARIO_NAMES.filter((s) => s !== 'backup-verification').map(() => 'became-not-ready'));
    expect(output.alertMessageId).toEqual(expect.any(String));
    // The subnet planted without a route to Secrets Manager fails every scenario with a function in
    // that VPC (restore-test's validateScratchInstance among them; region-failback's health gate also
    // reads the primary region's Secrets Manager): compared apart from the rest.
    const routeCheck = routeCheckName('secretsmanager', config.recoveryRegion);
    const apartFromRoute = (scenario: string) => failedChecks(report, scenario).filter((line) => !line.startsWith('route from the VPC to '));
    expect(failedChecks(report, 'restore-test').filter((line) => line.startsWith(`${routeCheck}:`))).toEqual([expect.stringContaining('validateScratchInstance would time out')]);
    expect(apartFromRoute('restore-test')).toEqual([expect.stringMatching(/^subnet-group: ResourceNotFound: rds:DescribeDBSubnetGroups on frontier-dr-restore-test in us-east-1/)]);
    expect(apartFromRoute('emergency-rollback')).toEqual([expect.stringMatching(/^primary-cluster: RecoveryError: only 1 of 3 nodes Ready/)]);
    expect(apartFromRoute('region-failback')).toEqual([expect.stringMatching(/^secret-readable: ResourceNotFound: secretsmanager:DescribeSecret on frontier\/prod\/database in us-west-2/)]);
    expect(mutating.filter((m) => !m.startsWith('s3') && !/PutItem|Publish/.test(m))).toEqual([]);

    // The evaluation changed nothing: the planted damage is as planted (the manifests still gone).
    const { bucket, prefix } = config.kubernetes!.manifests;
    const left = await emulatorClients(environment.endpoint, config.recoveryRegion).s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect(left.Contents ?? []).toEqual([]);
    // One per scenario, and the stack's own: a role missing a permission and a subnet without a route.
    expect(planted).toHaveLength(SCENARIO_NAMES.length + 2);
  }, 180_000);

  it('announces no scenario again while it stays not ready', async () => {
    const { output } = await evaluate();
    // (kwok may bring the primary's stopped nodes back meanwhile: emergency-rollback ready again is
    // then a true change, announced once.)
    expect(output.announced.filter((a) => a.change !== 'ready-again')).toEqual([]);
    expect(output.notReady.map((n) => n.scenario)).toEqual(expect.arrayContaining(['restore-test', 'cluster-failover', 'database-recovery', 'region-failover', 'region-failback', 'security-incident']));
  }, 180_000);
});
