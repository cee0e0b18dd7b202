// What a state machine run did, read the same way by every test that runs one (test/statemachines and
// the scenario tests in test/integration): the run's own record (states entered, Task calls, step
// data), the report it stored (in a client-mocked bucket, or in the emulator's), the AWS calls the client
// mocks saw, the local clusters' API deployment as a test looks at it, and the events that start a run.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { Report } from '../../shared/report.js';
import type { LocalCluster } from '../../local/kube-cluster.js';
import { importHandler, type LocalRunResult } from '../../local/local-state-machine.js';
import { API, requestsOf, testNamespace } from './cluster-fixtures.js';
import { KUBE_SECRET } from './database-recovery-fixtures.js';

// ---------------------------------------------------------------------------------------------------
// The run's own record

/**
 * Compiles and loads the handlers a suite's runs call, once, in beforeAll: no test's first Task (or
 * first look at a rollout) then waits for ts-jest. One at a time: jest's ESM loader fails concurrent
 * first imports of shared modules ("not been linked").
 */
export async function loadHandlers(names: readonly string[]): Promise<void> {
  for (const name of names) await importHandler(name);
}

/** The states that ran a Task, each once, in the order they first ran. */
export function statesCalled(run: LocalRunResult): string[] {
  return run.calls.map((c) => c.state).filter((s, i, all) => all.indexOf(s) === i);
}

/** How many times the run entered `state` (a Task, a Wait, a Choice, a Pass...): loops count every turn. */
export function entered(run: LocalRunResult, state: string): number {
  return run.events.filter((e) => e.type === 'StateEntered' && e.state.name === state).length;
}

/** The `data` a step returned in the runStep envelope, as it is in the execution's final output. */
export function stepData<T>(run: LocalRunResult, state: string): T {
  return (run.output as { steps: Record<string, { data: T }> }).steps[state]!.data;
}

// ---------------------------------------------------------------------------------------------------
// The stored report

/** The report's step named `name`; a missing step fails the test naming the steps there are. */
export function reportStep(report: Report, name: string): Report['steps'][number] {
  const found = report.steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name} in the report (${report.steps.map((s) => s.name).join(', ')})`);
  return found;
}

/** The names of the report's steps, in order. */
export function stepNames(report: Report): string[] {
  return report.steps.map((s) => s.name);
}

/**
 * The reports PublishReport stored in a client-mocked reports bucket. `storedReport(run)` is that
 * execution's JSON report (the last one it stored); `storedReport()` is the only JSON report stored since
 * the mock was reset, and fails when there are several (pass the run then). Both fail when there is none.
 */
export function storedReports(s3: AwsClientStub<S3Client>): { storedReport(run?: LocalRunResult): Report; storedMarkdown(run?: LocalRunResult): string } {
  const stored = (extension: 'json' | 'md', run: LocalRunResult | undefined): string => {
    const name = run?.executionId.split(':').pop();
    const suffix = name ? `-${name}.${extension}` : `.${extension}`;
    const puts = s3.commandCalls(PutObjectCommand).filter((c) => String(c.args[0].input.Key).endsWith(suffix));
    const kind = extension === 'json' ? 'JSON' : 'Markdown';
    if (puts.length === 0) throw new Error(`no ${kind} report was stored${name ? ` for ${name}` : ''}`);
    if (!run && puts.length > 1) throw new Error(`${puts.length} ${kind} reports were stored: name the run whose report the test reads`);
    return String(puts[puts.length - 1]!.args[0].input.Body);
  };
  return {
    storedReport: (run) => JSON.parse(stored('json', run)) as Report,
    storedMarkdown: (run) => stored('md', run),
  };
}

/** The JSON report a run published to the emulator's reports bucket, read back from there. */
export async function publishedReport(run: LocalRunResult, environment: { endpoint: string }, region: string): Promise<Report> {
  const publish = run.calls.find((c) => c.state === 'PublishReport');
  const location = (publish?.output as { location?: { json: string } } | undefined)?.location?.json;
  if (!location) throw new Error(`no report was published: ${JSON.stringify(run.error)}`);
  // Imported here, not at the top: the client-mocked tier never loads the emulator's seeding code.
  const { readStoredObject } = await import('../../local/seed.js');
  return JSON.parse(await readStoredObject(environment.endpoint, region, location)) as Report;
}

// ---------------------------------------------------------------------------------------------------
// AWS, as the client mocks saw it

/** Every call the given client mocks received since their last reset: 0 proves a run touched no AWS API. */
export function totalAwsCalls(mocks: readonly { calls(): readonly unknown[] }[]): number {
  return mocks.reduce((sum, mock) => sum + mock.calls().length, 0);
}

// ---------------------------------------------------------------------------------------------------
// Kubernetes, as the local clusters hold it (read by the environment, not through the product's proxy)
// in the test's namespace (cluster-fixtures.ts startTest; `production` outside one)

/**
 * The requests to a cluster that change something (server-side apply, scale, patch) since the test
 * started: [] proves it was only read.
 */
export function writes(cluster: LocalCluster) {
  return requestsOf(cluster).filter((r) => r.method !== 'GET');
}

async function apiDeployment(cluster: LocalCluster, deployment: string, namespace: string) {
  const found = await cluster.deployment(namespace, deployment);
  if (!found) throw new Error(`no deployment ${namespace}/${deployment} on the ${cluster.name} cluster`);
  return found;
}

/** The replica count the API deployment (or `deployment`) asks for. */
export async function replicasOf(cluster: LocalCluster, deployment = API, namespace = testNamespace()): Promise<number> {
  return (await apiDeployment(cluster, deployment, namespace)).spec?.replicas ?? 1;
}

/** The container images of the API deployment's pod template. */
export async function imagesOf(cluster: LocalCluster, deployment = API, namespace = testNamespace()): Promise<string[]> {
  return ((await apiDeployment(cluster, deployment, namespace)).spec?.template.spec?.containers ?? []).map((c) => c.image ?? '');
}

/** The API deployment's replica counts as `kubectl get deployment` shows them (0 where the API leaves a count out). */
export async function rolloutCountsOf(cluster: LocalCluster, deployment = API, namespace = testNamespace()) {
  const found = await apiDeployment(cluster, deployment, namespace);
  const status = found.status ?? {};
  return {
    desired: found.spec?.replicas ?? 1,
    replicas: status.replicas ?? 0,
    updated: status.updatedReplicas ?? 0,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0,
  };
}

/** The database URL the API reads (the `database-url` key of its Kubernetes secret), if there is one. */
export async function databaseUrlOf(cluster: LocalCluster, namespace = testNamespace()): Promise<string | undefined> {
  return (await cluster.secretData(namespace, KUBE_SECRET))?.['database-url'];
}

// ---------------------------------------------------------------------------------------------------
// Events that start a run

/**
 * The raw event an EventBridge schedule delivers when its rule gives no input, at `at` (UTC), from the
 * rule `rule`; `extra` adds or replaces top-level keys (e.g. a hand-added `dryRun`).
 */
export function scheduledEvent(at: Date, rule: string, extra: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: at.toISOString().replace(/\.\d+Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:events:us-east-1:123456789012:rule/${rule}`],
    detail: {},
    ...extra,
  };
}

/**
 * A CloudWatch alarm state change as EventBridge delivers it (the rule passes the whole event).
 * `alarmRegion` is where the alarm lives: the recovery region for one alarmed there, the primary region
 * for one forwarded from it (the default).
 */
export function alarmEvent(
  alarmName: string,
  at: Date,
  options: { state?: 'ALARM' | 'OK'; alarmRegion?: string; description?: string } = {},
) {
  const state = options.state ?? 'ALARM';
  // CloudWatch writes its timestamps with a +0000 offset, not Z.
  const timestamp = at.toISOString().replace('Z', '+0000');
  return {
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: at.toISOString().replace(/\.\d+Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:${options.alarmRegion ?? 'us-west-2'}:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value: state, reason: 'Threshold Crossed: 1 datapoint was less than the threshold.', timestamp },
      previousState: { value: state === 'ALARM' ? 'OK' : 'ALARM', reason: 'previous', timestamp },
      configuration: { description: options.description ?? `${alarmName} alarm` },
    },
  };
}
