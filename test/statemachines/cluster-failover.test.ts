// The real cluster-failover definition, every Task bound to its real handler. AWS (EKS DescribeCluster,
// the manifests bucket, Secrets Manager, the reports bucket, SNS) is answered by client mocks; the
// clusters are two real local control planes (EKS tokens reviewed by a webhook, deploy/rbac/ enforced,
// kwok nodes; local/kube-cluster.ts), started once for the file, each test in a namespace of its own;
// the health gates probe a real PostgreSQL (where the database secret points), a real Redis with AUTH
// and a /health server per cluster.
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ChangeResourceRecordSetsCommand, GetChangeCommand, Route53ServiceException } from '@aws-sdk/client-route-53';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import {
  EndpointTemporarilyUnavailableException,
  GetRoutingControlStateCommand,
  UpdateRoutingControlStatesCommand,
} from '@aws-sdk/client-route53-recovery-cluster';
import { dynamoClient, eksClient, route53Client, routingControlClient, s3Client, secretsClient, snsClient, stepFunctionsClient } from '../../shared/clients.js';
import type { RunContext } from '../../shared/run.js';
import {
  API,
  BACKUP_INGRESS,
  CLUSTER_START_TIMEOUT_MS,
  DATABASE_SECRET,
  MANIFEST_BUCKET,
  MANIFEST_PREFIX,
  NEVER_READY_IMAGE,
  PRIMARY_INGRESS,
  PRODUCTION_IMAGE,
  REDIS_PASSWORD,
  REDIS_SECRET,
  STANDBY_IMAGE,
  TRAFFIC_RECORD,
  TRAFFIC_ZONE,
  clusterConfig,
  databaseSecret,
  describedCluster,
  installHostedZone,
  manifestFiles,
  objectBody,
  requestsOf,
  restoreRbac,
  scaleNamespaceToZero,
  startClusters,
  startGateServers,
  startTest,
  tokensAcceptedOf,
  unauthorizedOf,
  until,
  useEnvironmentCredentials,
  type Clusters,
  type GateServers,
  type HostedZone,
  type ManifestOptions,
} from '../support/cluster-fixtures.js';
import { ALERT_TOPIC_ARN, useConfig } from '../support/fixtures.js';
import { LOCK_TABLE, installExecutions, installLockTable, type Executions, type LockTable } from '../support/database-recovery-fixtures.js';
import { alarmEvent, entered, imagesOf, loadHandlers, replicasOf, reportStep, rolloutCountsOf, stepData, stepNames, storedReports, totalAwsCalls, writes } from '../support/state-machine-runs.js';
import type { LocalCluster } from '../../local/kube-cluster.js';
import { importHandler, runStateMachine, type LambdaHandler, type LocalRunOptions, type LocalRunResult } from '../../local/local-state-machine.js';

useEnvironmentCredentials();

const eksPrimary = mockClient(eksClient('us-west-2'));
const eksRecovery = mockClient(eksClient('us-east-1'));
const s3 = mockClient(s3Client('us-east-1'));
const secrets = mockClient(secretsClient('us-east-1'));
const sns = mockClient(snsClient('us-east-1'));
const route53 = mockClient(route53Client());
const ddb = mockClient(dynamoClient('us-east-1'));
const sfn = mockClient(stepFunctionsClient('us-east-1'));
// Data-plane mode: the ARC cluster's regional endpoints, as the config names them.
const ARC_ENDPOINTS = [
  { region: 'us-west-2', endpoint: 'https://host-aaaaaa.us-west-2.example.com/v1' },
  { region: 'eu-west-1', endpoint: 'https://host-bbbbbb.eu-west-1.example.com/v1' },
];
const arcWest = mockClient(routingControlClient(ARC_ENDPOINTS[0]!.endpoint, ARC_ENDPOINTS[0]!.region));
const arcEurope = mockClient(routingControlClient(ARC_ENDPOINTS[1]!.endpoint, ARC_ENDPOINTS[1]!.region));
const allMocks = [eksPrimary, eksRecovery, s3, secrets, sns, route53, ddb, sfn, arcWest, arcEurope];
const { storedReport, storedMarkdown } = storedReports(s3);

const TEST_TIMEOUT = 60_000;
/**
 * How long each Wait state lasts (in the definition what each look says: 5 s for a rollout, 10 s for
 * the DNS change): the local controllers roll out in a second or less, so a rollout is looked at every
 * 0.1 s, as it would be every 5 s against a real cluster.
 */
const WAIT_MS = 100;
const HANDLERS = ['startRun', 'acquireRecoveryLock', 'releaseRecoveryLock', 'assessPrimaryCluster', 'applyManifestsToBackup', 'scaleDeployment', 'checkRollout', 'runHealthChecks', 'moveTraffic', 'checkDnsChange', 'publishReport', 'notifyOnCall'];

let servers: GateServers;
let clusters: Clusters;
let primary: LocalCluster;
let backup: LocalCluster;
let primaryNodes: string[];
/** This test's namespace, on both clusters (deploy/rbac/'s Role installed in it). */
let namespace: string;
/** What a test changed on the shared clusters, undone after it (last first). */
let undo: (() => Promise<unknown>)[] = [];
let zone: HostedZone;
let lockTable: LockTable;
let executions: Executions;
let runCount = 0;

beforeAll(async () => {
  servers = await startGateServers();
  // Production: four Ready nodes. The backup cluster idles as a pilot light: three nodes up.
  clusters = await startClusters({ primaryNodes: 4, backupNodes: 3 });
  ({ primary, backup } = clusters);
  primaryNodes = (await primary.nodes()).map((node) => node.name);
  process.env.ALERT_TOPIC_ARN = ALERT_TOPIC_ARN; // read when notify-on-call loads
  process.env.RECOVERY_LOCK_TABLE = LOCK_TABLE;
  await loadHandlers(HANDLERS);
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([servers?.stop(), clusters?.stop()]);
}, 60_000);

beforeEach(async () => {
  for (const mock of allMocks) mock.reset();
  servers.primaryHealth.behave('ok');
  servers.backupHealth.behave('ok');
  namespace = startTest('failover', primary, backup);
  await Promise.all([primary.addNamespace(namespace), backup.addNamespace(namespace)]);
  await Promise.all([
    // Production: the API at 3 replicas.
    primary.addDeployment(namespace, API, { image: PRODUCTION_IMAGE, replicas: 3 }),
    // The pilot light: the API deployed at 0 replicas on an old image.
    backup.addDeployment(namespace, API, { image: STANDBY_IMAGE, replicas: 0 }),
  ]);
  useConfig(clusterConfig(servers, clusters));
  healthyAws();
  lockTable = installLockTable(ddb);
  executions = installExecutions(sfn);
}, TEST_TIMEOUT);

afterEach(async () => {
  const steps = undo.reverse();
  undo = [];
  for (const step of steps) await step();
  await Promise.all([scaleNamespaceToZero(primary, namespace), scaleNamespaceToZero(backup, namespace)]);
}, TEST_TIMEOUT);

/** The production manifests in the bucket (the standard ones unless a test gives others). */
function manifestsInBucket(options: ManifestOptions = {}): void {
  const files = manifestFiles(options);
  s3.on(ListObjectsV2Command).resolves({ Contents: Object.keys(files).map((Key) => ({ Key })), IsTruncated: false });
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const text = files[input.Key];
    // The report index does not exist yet (PublishReport reads it before adding the run).
    if (text === undefined && input.Key.endsWith('index.html')) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
    if (text === undefined) throw new Error(`unexpected GetObject ${input.Key}`);
    return { Body: objectBody(text) };
  });
}

function healthyAws(): void {
  eksPrimary.on(DescribeClusterCommand, { name: primary.clusterName }).resolves(describedCluster(primary.clusterName, 'us-west-2', primary.url, primary.caData));
  eksRecovery.on(DescribeClusterCommand, { name: backup.clusterName }).resolves(describedCluster(backup.clusterName, 'us-east-1', backup.url, backup.caData));
  manifestsInBucket();
  s3.on(PutObjectCommand).resolves({});
  secrets
    .on(GetSecretValueCommand, { SecretId: DATABASE_SECRET })
    .resolves({ SecretString: databaseSecret(servers) })
    .on(GetSecretValueCommand, { SecretId: REDIS_SECRET })
    .resolves({ SecretString: JSON.stringify({ password: REDIS_PASSWORD }) });
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
  // api.frontier.com (kubernetes.traffic) points at the primary's ingress.
  zone = installHostedZone(route53);
}

function executionArn(name: string): string {
  return `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-cluster-failover:${name}`;
}

/** One execution; DescribeExecution says RUNNING while it runs, FAILED after. */
async function failover(input: unknown, options: LocalRunOptions & { name?: string } = {}): Promise<LocalRunResult> {
  const name = options.name ?? `manual-${++runCount}`;
  executions.running.add(executionArn(name));
  try {
    return await runStateMachine('cluster-failover', input, { waitMilliseconds: WAIT_MS, ...options, executionName: name });
  } finally {
    executions.running.delete(executionArn(name));
    executions.finished.add(executionArn(name));
  }
}

const LOCK_STATES = ['AcquireRecoveryLock'];
/** The Task states of a run, without the lock's own. */
function tasks(run: LocalRunResult): string[] {
  return run.calls.map((c) => c.state).filter((state) => !LOCK_STATES.includes(state) && state !== 'ReleaseRecoveryLock' && state !== 'ReleaseUnchangedLock' && state !== 'AssessBackupCluster');
}

/** The pilot light on the backup cluster is exactly as the test left it. */
async function expectBackupUntouched(): Promise<void> {
  expect(writes(backup)).toEqual([]);
  expect(await imagesOf(backup)).toEqual([STANDBY_IMAGE]);
  expect(await replicasOf(backup)).toBe(0);
  expect(await backup.object('configmaps', namespace, 'frontier-config')).toBeUndefined();
}

/** Primary refuses connections: what an unreachable API server looks like from the recovery region. */
async function primaryDown(): Promise<void> {
  await primary.refuseConnections();
  undo.push(() => primary.acceptConnections());
}

/** `count` of the primary's nodes stop running (NotReady), for this test only. */
async function primaryNodesLost(count: number): Promise<void> {
  const lost = primaryNodes.slice(0, count);
  undo.push(() => Promise.all(lost.map((name) => primary.setNodeReady(name, true))));
  await Promise.all(lost.map((name) => primary.setNodeReady(name, false)));
}

describe('cluster-failover state machine', () => {
  it('fails over when the primary API is unreachable: applies, scales, waits for the rollout, passes the gates', async () => {
    await primaryDown();
    const primaryProbesBefore = servers.primaryHealth.requests();

    const run = await failover({ reason: 'kubectl times out against frontier-prod-cluster' });

    expect(run.status).toBe('SUCCEEDED');
    expect(tasks(run).filter((s, i, all) => all.indexOf(s) === i)).toEqual([
      'StartRun',
      'AssessPrimaryCluster',
      'ApplyManifestsToBackup',
      'ScaleApiOnBackup',
      'CheckRollout',
      'RunHealthChecks',
      'MoveTraffic',
      'CheckDnsChange',
      'PublishReport',
      'NotifyOnCall',
    ]);

    // Only after the gates passed: api.frontier.com now points at the backup's ingress, and the run
    // waited in the state machine until Route 53 said INSYNC (PENDING at the first look).
    expect(zone.record(TRAFFIC_RECORD, 'CNAME')).toEqual({ Name: TRAFFIC_RECORD, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: BACKUP_INGRESS }] });
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      {
        HostedZoneId: TRAFFIC_ZONE,
        ChangeBatch: {
          Comment: `frontier-dr traffic move ${run.executionId}`,
          Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: TRAFFIC_RECORD, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: BACKUP_INGRESS }] } }],
        },
      },
    ]);
    expect(entered(run, 'CheckDnsChange')).toBe(2);
    expect(entered(run, 'WaitForDnsChange')).toBe(1);
    // The look said how long to wait: Route 53 can be INSYNC within seconds, so 10 s polls from the start; nothing once INSYNC.
    expect(run.calls.filter((c) => c.state === 'CheckDnsChange').map((c) => (c.output as { data: { nextCheckSeconds: number } }).data.nextCheckSeconds)).toEqual([10, 0]);
    const moveAt = run.events.findIndex((e) => e.type === 'StateEntered' && e.state.name === 'MoveTraffic');
    const gatesDoneAt = run.events.findIndex((e) => e.type === 'StateExited' && e.state.name === 'RunHealthChecks');
    expect(moveAt).toBeGreaterThan(gatesDoneAt);

    // The backup cluster now runs production: every manifest applied, the API at 3 replicas, rolled out.
    // (The namespace was there before, with the pilot light: its apply shows in the requests below.)
    expect(await backup.configMapData(namespace, 'frontier-config')).toEqual({ emergency_mode: 'false', log_level: 'info' });
    expect(await backup.object('services', namespace, API)).toMatchObject({ spec: { selector: { app: API } } });
    expect(await imagesOf(backup)).toEqual([PRODUCTION_IMAGE]);
    expect(await rolloutCountsOf(backup)).toEqual({ desired: 3, replicas: 3, updated: 3, ready: 3, available: 3 });
    const applies = requestsOf(backup).filter((r) => r.method === 'PATCH' && r.contentType === 'application/apply-patch+yaml');
    expect(applies.map((r) => r.path)).toEqual([
      `/api/v1/namespaces/${namespace}`,
      `/api/v1/namespaces/${namespace}/configmaps/frontier-config`,
      `/api/v1/namespaces/${namespace}/services/${API}`,
      `/apis/apps/v1/namespaces/${namespace}/deployments/${API}`,
    ]);
    expect(applies.every((r) => r.query.fieldManager === 'frontier-dr' && r.query.force === 'true')).toBe(true);
    // The README in the folder is listed but never read or applied.
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key).filter((key) => key?.startsWith(MANIFEST_PREFIX))).toEqual([
      `${MANIFEST_PREFIX}00-namespace.yaml`,
      `${MANIFEST_PREFIX}10-config.yaml`,
      `${MANIFEST_PREFIX}20-api.yaml`,
    ]);
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: MANIFEST_BUCKET, Prefix: MANIFEST_PREFIX });
    // The failing cluster is only ever looked at, never changed.
    expect(writes(primary)).toEqual([]);
    // Every request carried an EKS token the cluster's webhook verified for that cluster: one token,
    // minted in-process, for the whole run (the function's connection keeps it).
    expect(unauthorizedOf(backup)).toBe(0);
    expect(tokensAcceptedOf(backup)).toHaveLength(1);

    // The previous replica count is kept for failback.
    expect(stepData(run, 'ScaleApiOnBackup')).toEqual({ namespace, deployment: API, previousReplicas: 0, replicas: 3, changed: true });
    // The waiting happened in the state machine: a look at once, then a Wait before each further look,
    // looks until the rollout was done; each look asked for the next one 5 s later in AWS (the
    // manifests' pods have no readiness delay).
    expect(entered(run, 'WaitForRollout')).toBe(entered(run, 'CheckRollout') - 1);
    const looks = run.calls.filter((c) => c.state === 'CheckRollout').map((c) => (c.output as { data: { done: boolean; nextCheckSeconds: number } }).data);
    expect(looks.map((l) => l.done)).toEqual([...looks.slice(0, -1).map(() => false), true]);
    expect(new Set(looks.map((l) => l.nextCheckSeconds))).toEqual(new Set([5]));
    expect(stepData(run, 'CheckRollout')).toMatchObject({ done: true, replicas: 3, availableReplicas: 3 });

    const report = storedReport();
    expect(report).toMatchObject({ scenario: 'cluster-failover', status: 'succeeded', dryRun: false, trigger: 'manual', failures: [] });
    expect(stepNames(report)).toEqual(['AcquireRecoveryLock', 'AssessPrimaryCluster', 'AssessBackupCluster', 'ApplyManifestsToBackup', 'ScaleApiOnBackup', 'CheckRollout', 'RunHealthChecks', 'MoveTraffic', 'CheckDnsChange', 'ReleaseRecoveryLock']);
    expect(reportStep(report, 'MoveTraffic').detail).toMatch(new RegExp(`^${TRAFFIC_RECORD} CNAME moved from ${PRIMARY_INGRESS} to the backup cluster \\(${BACKUP_INGRESS}, control-plane mode\\); Route 53 change /change/C\\d+$`));
    expect(reportStep(report, 'CheckDnsChange').detail).toMatch(/ is INSYNC \(after [\d.]+ min\)$/);
    // The old value is kept in the report: failing back is setting it again.
    expect(report.resources).toContainEqual({
      kind: 'route53:record',
      id: `${TRAFFIC_ZONE}/${TRAFFIC_RECORD} CNAME`,
      region: 'global',
      kept: true,
      note: `before the failover: ${PRIMARY_INGRESS}; set it back to fail back`,
    });
    const scale = reportStep(report, 'ScaleApiOnBackup');
    expect(scale.detail).toBe('scaled from 0 to 3 (previous count kept for failback)');
    expect(scale.actions).toEqual([
      expect.objectContaining({ operation: 'patch deployments/scale', performed: true, parameters: { cluster: backup.clusterName, namespace, deployment: API, replicas: 3 } }),
    ]);
    const apply = reportStep(report, 'ApplyManifestsToBackup');
    expect(apply.actions.map((a) => [a.description, a.performed])).toEqual([
      [`server-side apply Namespace ${namespace} on ${backup.clusterName} (updated)`, true],
      [`server-side apply ConfigMap ${namespace}/frontier-config on ${backup.clusterName} (created)`, true],
      [`server-side apply Service ${namespace}/${API} on ${backup.clusterName} (created)`, true],
      [`server-side apply Deployment ${namespace}/${API} on ${backup.clusterName} (updated)`, true],
    ]);
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['primary-cluster-health', false],
      ['backup-cluster-health', true],
      ['api-health', true],
      ['database-select-1', true],
      ['redis-ping', true],
    ]);
    expect(report.checks[0]).toMatchObject({ measured: 'unreachable', message: expect.stringContaining('could not be reached (ECONNREFUSED)') });
    // The gate probed the backup cluster's /health, not the primary's.
    expect(report.checks[2]!.resource).toBe(servers.backupHealth.url);
    expect(servers.primaryHealth.requests()).toBe(primaryProbesBefore);
    expect(report.objectives).toEqual([
      expect.objectContaining({ component: 'API Services', rtoMinutes: 15, met: true, measuredRtoMinutes: expect.any(Number) }),
    ]);
    expect(report.objectives[0]!.measuredRtoMinutes).toBeLessThan(1);
    expect(report.objectives[0]!.note).toContain(`${backup.clusterName} serving and healthy`);
    // The unreachable primary is a failed check: the on-call engineer hears about the failover.
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe('[frontier-dr] cluster-failover succeeded, 1 check(s) failed');
    // No secret reaches the execution history or the report.
    expect(JSON.stringify(run.events)).not.toContain(servers.postgres.password);
    expect(JSON.stringify(run.events)).not.toContain(REDIS_PASSWORD);
    expect(storedMarkdown()).not.toContain(REDIS_PASSWORD);
  }, TEST_TIMEOUT);

  it('ends with no change when the primary cluster is healthy', async () => {
    const run = await failover({});

    expect(run.status).toBe('SUCCEEDED');
    expect(tasks(run)).toEqual(['StartRun', 'AssessPrimaryCluster', 'PublishReport']);
    expect(entered(run, 'PrimaryHealthyNoChange')).toBe(1);
    await expectBackupUntouched();
    expect(requestsOf(backup)).toEqual([]);
    expect(eksRecovery.calls()).toHaveLength(0);
    expect(s3).not.toHaveReceivedCommand(ListObjectsV2Command);
    expect(writes(primary)).toEqual([]);

    const report = storedReport();
    expect(report.status).toBe('succeeded');
    expect(report.checks).toEqual([
      expect.objectContaining({ name: 'primary-cluster-health', passed: true, measured: '4 of 4 nodes Ready' }),
    ]);
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ['AcquireRecoveryLock', 'succeeded'],
      ['AssessPrimaryCluster', 'succeeded'],
      ['ReleaseUnchangedLock', 'succeeded'],
      ['NoFailoverNeeded', 'skipped'],
    ]);
    // The lock taken for this run is given back: a healthy primary leaves no failover behind.
    expect(lockTable.items.size).toBe(0);
    expect(report.steps[3]!.detail).toContain('The primary cluster is healthy: no failover, nothing was changed');
    expect(report.objectives).toEqual([]);
    expect(storedMarkdown()).toContain('nothing was changed');
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  }, TEST_TIMEOUT);

  it('fails over a healthy primary when the input forces it', async () => {
    const run = await failover({ force: true, reason: 'planned move off the primary cluster' });

    expect(run.status).toBe('SUCCEEDED');
    expect(entered(run, 'PrimaryHealthyNoChange')).toBe(0);
    expect(await imagesOf(backup)).toEqual([PRODUCTION_IMAGE]);
    expect(await replicasOf(backup)).toBe(3);
    // The primary keeps running: a forced failover brings the backup up, it does not take production down.
    expect(writes(primary)).toEqual([]);
    expect(await replicasOf(primary)).toBe(3);
    const report = storedReport();
    expect(report.status).toBe('succeeded');
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['primary-cluster-health', true],
      ['backup-cluster-health', true],
      ['api-health', true],
      ['database-select-1', true],
      ['redis-ping', true],
    ]);
    expect((run.output as { run: RunContext }).run).toMatchObject({ force: true, reason: 'planned move off the primary cluster' });
    // A recovery that changed something is announced even when everything passed.
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe('[frontier-dr] cluster-failover succeeded');
  }, TEST_TIMEOUT);

  it('fails over when fewer than half the primary nodes are Ready', async () => {
    await primaryNodesLost(3);

    const run = await failover({});

    expect(run.status).toBe('SUCCEEDED');
    expect(stepData(run, 'AssessPrimaryCluster')).toMatchObject({ reachable: true, nodes: 4, readyNodes: 1, healthy: false });
    expect(await imagesOf(backup)).toEqual([PRODUCTION_IMAGE]);
    expect(await replicasOf(backup)).toBe(3);
    const report = storedReport();
    expect(report.status).toBe('succeeded');
    expect(report.checks[0]).toMatchObject({
      name: 'primary-cluster-health',
      passed: false,
      measured: '1 of 4 nodes Ready',
      message: 'only 1 of 4 nodes Ready (less than half)',
    });
  }, TEST_TIMEOUT);

  it("treats exactly half the nodes Ready as healthy, like the plan's ClusterUnreachable alert (< 0.5)", async () => {
    await primaryNodesLost(2);

    const run = await failover({});

    expect(run.status).toBe('SUCCEEDED');
    expect(stepData(run, 'AssessPrimaryCluster')).toMatchObject({ nodes: 4, readyNodes: 2, healthy: true });
    expect(entered(run, 'PrimaryHealthyNoChange')).toBe(1);
    await expectBackupUntouched();
  }, TEST_TIMEOUT);

  it("fails over when the primary region's EKS API cannot be reached at all", async () => {
    const outage = Object.assign(new Error('getaddrinfo ENOTFOUND eks.us-west-2.amazonaws.com'), { code: 'ENOTFOUND' });
    eksPrimary.on(DescribeClusterCommand).rejects(outage);

    const run = await failover({});

    expect(run.status).toBe('SUCCEEDED');
    expect(stepData(run, 'AssessPrimaryCluster')).toMatchObject({ reachable: false, healthy: false, reason: expect.stringContaining('eks:DescribeCluster') });
    expect(requestsOf(primary)).toEqual([]);
    expect(await imagesOf(backup)).toEqual([PRODUCTION_IMAGE]);
    expect(await replicasOf(backup)).toBe(3);
    // Only the assessment asked the failing region anything; the recovery itself ran from us-east-1.
    expect(eksPrimary.calls()).toHaveLength(1);
  }, TEST_TIMEOUT);

  it('does not fail over when the primary cluster denies access: a broken role is not an outage', async () => {
    // Real RBAC: deploy/rbac/'s ClusterRole loses `list nodes` (reinstalled as on disk after the test).
    undo.push(() => restoreRbac(primary, { verb: 'list', resource: 'nodes' }));
    await primary.forbid({ verb: 'list', resource: 'nodes' });

    const run = await failover({});

    expect(run.status).toBe('FAILED');
    expect(tasks(run)).toEqual(['StartRun', 'AssessPrimaryCluster', 'PublishReport', 'NotifyOnCall']);
    await expectBackupUntouched();
    expect(requestsOf(backup).filter((r) => r.method !== 'GET')).toEqual([]);
    // The API server's own refusal reached the product: the request after /version was the node list, 403.
    expect(requestsOf(primary).map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/version', 200],
      ['GET', '/api/v1/nodes', 403],
    ]);
    const report = storedReport();
    expect(report.failures).toEqual([
      { step: 'AssessPrimaryCluster', error: 'KubernetesUnauthorized', message: expect.stringContaining('forbidden by RBAC (403)') },
    ]);
  }, TEST_TIMEOUT);

  it('retries an apply the API server refused as a conflict or a 5xx, and the repeated apply is harmless', async () => {
    await primaryDown();
    // The fault proxy answers these two in the API server's place (a forced apply is never refused as a
    // conflict on demand, nor does a healthy server answer 503): the first apply stops at the ConfigMap,
    // the second at the Deployment, the third goes through.
    backup.failNext({ method: 'PATCH', path: `/namespaces/${namespace}/configmaps/frontier-config`, status: 503 });
    backup.failNext({ method: 'PATCH', path: new RegExp(`/namespaces/${namespace}/deployments/${API}$`), status: 409 });

    const run = await failover({});

    expect(run.status).toBe('SUCCEEDED');
    const retried = run.events.filter((e) => e.type === 'StateRetried' && e.state.name === 'ApplyManifestsToBackup');
    expect(retried).toHaveLength(2);
    expect(run.calls.filter((c) => c.state === 'ApplyManifestsToBackup').map((c) => c.error?.split(':')[0] ?? 'ok')).toEqual([
      'KubernetesTransientError',
      'KubernetesConflict',
      'ok',
    ]);
    expect(await backup.configMapData(namespace, 'frontier-config')).toEqual({ emergency_mode: 'false', log_level: 'info' });
    expect(await imagesOf(backup)).toEqual([PRODUCTION_IMAGE]);
    expect(await backup.replicaSets(namespace, API)).toHaveLength(2); // the standby's and production's: one new revision, not three
    expect(storedReport().status).toBe('succeeded');
  }, TEST_TIMEOUT);

  it('completes by the report when the alert cannot be sent', async () => {
    await primaryDown();
    sns.on(PublishCommand).rejects(Object.assign(new Error('not authorized to publish'), { name: 'AuthorizationError', $metadata: { httpStatusCode: 403 } }));

    const run = await failover({});

    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.filter((c) => c.state === 'NotifyOnCall').map((c) => c.error?.split(':')[0])).toEqual(['AwsAccessDenied']);
    expect((run.output as { notificationFailure?: { Error: string } }).notificationFailure).toMatchObject({ Error: 'AwsAccessDenied' });
    expect(storedReport().status).toBe('succeeded');
  }, TEST_TIMEOUT);

  it('starts from the ClusterUnreachable alarm event and measures the RTO from the alarm', async () => {
    await primaryDown();
    const alarmAt = new Date(Date.now() - 7 * 60_000);
    const event = alarmEvent('ClusterUnreachable', alarmAt, { alarmRegion: 'us-east-1' });

    const run = await failover(event);

    expect(run.status).toBe('SUCCEEDED');
    const context = (run.output as { run: RunContext }).run;
    expect(context).toMatchObject({ trigger: 'alarm ClusterUnreachable', reason: 'alarm ClusterUnreachable in ALARM', force: false, dryRun: false });
    expect(context.incidentAt).toBe(new Date(event.detail.state.timestamp).toISOString());
    expect(await imagesOf(backup)).toEqual([PRODUCTION_IMAGE]);
    const report = storedReport();
    expect(report.trigger).toBe('alarm ClusterUnreachable');
    expect(report.objectives).toHaveLength(1);
    // Recovery time counts from the alarm, not from the execution's start.
    expect(report.objectives[0]!.measuredRtoMinutes).toBeGreaterThanOrEqual(7);
    expect(report.objectives[0]!.measuredRtoMinutes).toBeLessThan(8);
    expect(report.objectives[0]).toMatchObject({ met: true, note: expect.stringContaining('(alarm ClusterUnreachable)') });
  }, TEST_TIMEOUT);

  it('rejects an alarm event that is not in ALARM, with no AWS call', async () => {
    const run = await failover(alarmEvent('ClusterUnreachable', new Date(), { state: 'OK', alarmRegion: 'us-east-1' }));

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'InvalidInput', message: expect.stringContaining('detail.state.value: got "OK"; expected "ALARM"') });
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun']);
    expect(totalAwsCalls(allMocks)).toBe(0);
    expect(requestsOf(primary)).toEqual([]);
    expect(requestsOf(backup)).toEqual([]);
  }, TEST_TIMEOUT);

  it('in a dry run records the applies and the scale it would make, makes none, and still runs the gates', async () => {
    await primaryDown();
    const probesBefore = servers.backupHealth.requests();

    const run = await failover({ dryRun: true });

    expect(run.status).toBe('SUCCEEDED');
    await expectBackupUntouched();
    // Only the preflight's reads: a dry run needs the manifests and a reachable backup, and writes nothing.
    expect(requestsOf(backup).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(entered(run, 'CheckRollout')).toBe(0);
    expect(entered(run, 'RunHealthChecks')).toBe(1);
    expect(servers.backupHealth.requests() - probesBefore).toBe(1);

    const report = storedReport();
    expect(report.dryRun).toBe(true);
    expect(report.status).toBe('succeeded');
    const actions = report.steps.flatMap((s) => s.actions);
    expect(actions.map((a) => [a.operation, a.performed])).toEqual([
      ['apply', false],
      ['apply', false],
      ['apply', false],
      ['apply', false],
      ['patch deployments/scale', false],
      ['ChangeResourceRecordSets', false],
    ]);
    // The record was read (to show what the move would replace), never changed.
    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(route53).not.toHaveReceivedCommand(GetChangeCommand);
    expect(zone.record(TRAFFIC_RECORD, 'CNAME')?.ResourceRecords).toEqual([{ Value: PRIMARY_INGRESS }]);
    expect(reportStep(report, 'MoveTraffic').detail).toBe(`dry run: ${TRAFFIC_RECORD} CNAME now resolves to ${PRIMARY_INGRESS}`);
    expect(actions.map((a) => a.parameters.kind ?? null)).toEqual(['Namespace', 'ConfigMap', 'Service', 'Deployment', null, null]);
    expect(actions[4]!.parameters).toEqual({ cluster: backup.clusterName, namespace, deployment: API, replicas: 3 });
    expect(reportStep(report, 'ApplyManifestsToBackup').detail).toBe('would apply 4 objects from 3 files');
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['primary-cluster-health', false],
      ['backup-cluster-health', true],
      ['api-health', true],
      ['database-select-1', true],
      ['redis-ping', true],
    ]);
    // Nothing recovered, so no recovery time.
    expect(report.objectives).toEqual([]);
    expect(storedMarkdown()).toContain('DRY RUN: no changes made');
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toContain('(dry run)');
  }, TEST_TIMEOUT);

  it('ends failed when the rollout on the backup cluster exceeds its progress deadline', async () => {
    await primaryDown();
    // The release in the bucket never becomes Ready, and its deployment gives up after 2 s. The backup
    // is the pilot light (0 replicas): the apply's rollout of 0 pods finishes at once and Kubernetes
    // never times the scale-up that follows; CheckRollout applies the deadline itself.
    manifestsInBucket({ image: NEVER_READY_IMAGE, progressDeadlineSeconds: 2 });

    const run = await failover({});

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'RunFailed' });
    expect(entered(run, 'CheckRollout')).toBeGreaterThan(1);
    expect(entered(run, 'RunHealthChecks')).toBe(0);
    const report = storedReport();
    expect(report.status).toBe('failed');
    expect(report.failures).toEqual([
      { step: 'CheckRollout', error: 'RolloutFailed', message: expect.stringContaining(`deployment ${namespace}/${API} exceeded its progress deadline`) },
    ]);
    expect(report.objectives).toEqual([]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('FAILED STEP CheckRollout: RolloutFailed');
  }, TEST_TIMEOUT);

  it('gives up on a rollout that stalls past kubernetes.rolloutTimeoutMinutes and says where it stopped', async () => {
    await primaryDown();
    // No node of the backup cluster takes new pods (all cordoned): the API's pods stay Pending.
    undo.push(() => backup.blockScheduling(false));
    await backup.blockScheduling(true);
    const realCheckRollout = await importHandler('checkRollout');
    let looks = 0;
    // The only handler replaced in these tests, and only around the real one: a stalled rollout needs
    // `rolloutTimeoutMinutes` (5) of wall-clock time to time out, and the check measures it from `since`
    // (ApplyManifestsToBackup's start) to now. The first two looks see the real, recent `since`; from
    // the third on, the test makes it ten minutes ago and waits until the controller has done all it
    // will (the 3 pods created, none scheduled), as ten minutes would have.
    const checkRollout: LambdaHandler = async (event, context) => {
      looks += 1;
      if (looks < 3) return realCheckRollout(event, context);
      await until('the stalled rollout to settle', async () => {
        const deployment = await backup.deployment(namespace, API);
        const status = deployment?.status;
        return (status?.observedGeneration ?? 0) >= (deployment?.metadata?.generation ?? 1) && status?.replicas === 3 && status.updatedReplicas === 3 ? true : undefined;
      });
      return realCheckRollout({ ...(event as object), since: new Date(Date.now() - 10 * 60_000).toISOString() }, context);
    };

    const run = await failover({}, { handlerOverrides: { checkRollout } });

    expect(run.status).toBe('FAILED');
    expect(entered(run, 'CheckRollout')).toBe(3);
    expect(entered(run, 'RunHealthChecks')).toBe(0);
    const report = storedReport();
    expect(report.failures).toEqual([
      {
        step: 'CheckRollout',
        error: 'RolloutTimedOut',
        message: expect.stringMatching(
          new RegExp(`^rollout of ${namespace}/${API} not finished after 10\\.0 min \\(limit 5 min\\); it stopped at: 0 of 3 updated replicas available$`),
        ),
      },
    ]);
    // The change was made and is left in place for a person to look at: never destroy to recover.
    expect(await imagesOf(backup)).toEqual([PRODUCTION_IMAGE]);
    expect(await rolloutCountsOf(backup)).toMatchObject({ desired: 3, updated: 3, available: 0 });
    expect(storedMarkdown()).toContain('it stopped at: 0 of 3 updated replicas available');
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  }, TEST_TIMEOUT);

  it('ends failed and names the failed gate when the backup cluster does not serve healthily', async () => {
    await primaryDown();
    servers.backupHealth.behave({ mode: 'failing', status: 503 });

    const run = await failover({});

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'RunFailed' });
    expect(await replicasOf(backup)).toBe(3);
    const report = storedReport();
    expect(report.status).toBe('failed');
    expect(report.failures).toEqual([{ step: 'HealthGates', error: 'HealthGatesFailed', message: expect.stringContaining('The backup cluster is not serving healthily') }]);
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['primary-cluster-health', false],
      ['backup-cluster-health', true],
      ['api-health', false],
      ['database-select-1', true],
      ['redis-ping', true],
    ]);
    expect(report.checks[2]!.measured).toContain('503');
    expect(report.objectives).toEqual([expect.objectContaining({ component: 'API Services', met: null, note: 'not recovered: the health gates did not pass' })]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const alert = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(alert.Subject).toBe('[frontier-dr] cluster-failover failed, 2 check(s) failed');
    expect(alert.Message).toContain(`FAILED CHECK api-health on ${servers.backupHealth.url}`);
    expect(alert.Message).toContain('FAILED STEP HealthGates: HealthGatesFailed');
    // Clients stay where they were: traffic never moves to a backup that failed its gates.
    expect(route53.calls()).toEqual([]);
    expect(zone.record(TRAFFIC_RECORD, 'CNAME')?.ResourceRecords).toEqual([{ Value: PRIMARY_INGRESS }]);
  }, TEST_TIMEOUT);

  describe('moving traffic (kubernetes.traffic)', () => {
    it('changes nothing and waits for nothing when the record already points at the backup', async () => {
      await primaryDown();
      zone.record(TRAFFIC_RECORD, 'CNAME')!.ResourceRecords = [{ Value: BACKUP_INGRESS.toUpperCase().replace(/\.$/, '') }];

      const run = await failover({});

      expect(run.status).toBe('SUCCEEDED');
      expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
      expect(entered(run, 'CheckDnsChange')).toBe(0);
      expect(reportStep(storedReport(), 'MoveTraffic')).toMatchObject({ status: 'succeeded', detail: expect.stringContaining('already points at the backup cluster (') });
    }, TEST_TIMEOUT);

    it('skips the move, saying so, when the deployment config names no record', async () => {
      await primaryDown();
      useConfig(clusterConfig(servers, clusters, (c) => delete c.kubernetes!.traffic));

      const run = await failover({});

      expect(run.status).toBe('SUCCEEDED');
      expect(route53.calls()).toEqual([]);
      expect(reportStep(storedReport(), 'MoveTraffic')).toMatchObject({ status: 'skipped', detail: expect.stringContaining('move clients to the backup cluster by hand') });
    }, TEST_TIMEOUT);

    it('ends failed naming MoveTraffic when Route 53 denies the change, with the backup serving and the record as it was', async () => {
      await primaryDown();
      zone.failNext('ChangeResourceRecordSets', new Route53ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized to perform: route53:ChangeResourceRecordSets' }));

      const run = await failover({});

      expect(run.status).toBe('FAILED');
      expect(run.calls.filter((c) => c.state === 'MoveTraffic')).toHaveLength(1);
      const report = storedReport();
      expect(report.failures).toEqual([{ step: 'MoveTraffic', error: 'AwsAccessDenied', message: expect.stringContaining(`route53:ChangeResourceRecordSets on ${TRAFFIC_RECORD} CNAME in ${TRAFFIC_ZONE} was denied`) }]);
      expect(await replicasOf(backup)).toBe(3);
      expect(zone.record(TRAFFIC_RECORD, 'CNAME')?.ResourceRecords).toEqual([{ Value: PRIMARY_INGRESS }]);
    }, TEST_TIMEOUT);

    it('repeats a change Route 53 refuses with PriorRequestNotComplete, within the step, and moves the record once', async () => {
      await primaryDown();
      const busy = () => new Route53ServiceException({ name: 'PriorRequestNotComplete', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'The request was rejected because Route 53 was still processing a prior request.' });
      // The SDK does not retry this 400: the step repeats the request itself after 0.5 s, then 1 s.
      zone.failNext('ChangeResourceRecordSets', busy());
      zone.failNext('ChangeResourceRecordSets', busy());

      const run = await failover({});

      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.filter((c) => c.state === 'MoveTraffic').map((c) => c.error?.split(':')[0] ?? 'ok')).toEqual(['ok']);
      expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 3);
      expect(zone.record(TRAFFIC_RECORD, 'CNAME')?.ResourceRecords).toEqual([{ Value: BACKUP_INGRESS }]);
    }, 60_000);

    it('gives up when the change is not INSYNC within kubernetes.traffic.timeoutMinutes, saying clients may still resolve the old address', async () => {
      await primaryDown();
      zone = installHostedZone(route53, { pendingLooks: 1000 });
      const realCheck = await importHandler('checkDnsChange');
      let looks = 0;
      // As for the stalled rollout: from the third look on, the change was submitted 11 minutes ago
      // (the limit is 10), as eleven minutes of waiting would have made it.
      const checkDnsChange: LambdaHandler = async (event, context) => {
        looks += 1;
        if (looks < 3) return realCheck(event, context);
        const { changes } = event as { changes: { changeId: string }[] };
        return realCheck({ ...(event as object), changes: changes.map((c) => ({ ...c, submittedAt: new Date(Date.now() - 11 * 60_000).toISOString() })) }, context);
      };

      const run = await failover({}, { handlerOverrides: { checkDnsChange } });

      expect(run.status).toBe('FAILED');
      expect(entered(run, 'CheckDnsChange')).toBe(3);
      expect(entered(run, 'WaitForDnsChange')).toBe(2);
      expect(storedReport().failures).toEqual([{ step: 'CheckDnsChange', error: 'DnsChangeTimedOut', message: expect.stringContaining('clients may still resolve the old address') }]);
    }, 60_000);
  });

  describe('moving traffic in data-plane mode (ARC routing controls)', () => {
    const PANEL = 'arn:aws:route53-recovery-control::123456789012:controlpanel/0123456789abcdef';
    const PRIMARY_CONTROL = `${PANEL}/routingcontrol/aaaa1111`;
    const BACKUP_CONTROL = `${PANEL}/routingcontrol/bbbb2222`;

    it('turns the backup On and the primary Off in one request through the endpoint that answers, waits for nothing, and reports the old states', async () => {
      await primaryDown();
      useConfig(
        clusterConfig(servers, clusters, (c) => {
          c.kubernetes!.traffic = { mode: 'data-plane', recordName: 'api.frontier.com', routingControls: { primary: PRIMARY_CONTROL, backup: BACKUP_CONTROL }, clusterEndpoints: ARC_ENDPOINTS, timeoutMinutes: 10 };
        }),
      );
      const states: Record<string, string> = { [PRIMARY_CONTROL]: 'On', [BACKUP_CONTROL]: 'Off' };
      // The first endpoint's region is dark: 503 EndpointTemporarilyUnavailableException.
      arcWest.onAnyCommand().rejects(new EndpointTemporarilyUnavailableException({ message: "The cluster endpoint isn't available. Try another cluster endpoint.", $metadata: { httpStatusCode: 503 } }));
      arcEurope.on(GetRoutingControlStateCommand).callsFake((input: { RoutingControlArn: string }) => ({ RoutingControlArn: input.RoutingControlArn, RoutingControlState: states[input.RoutingControlArn] }));
      arcEurope.on(UpdateRoutingControlStatesCommand).callsFake((input: { UpdateRoutingControlStateEntries: { RoutingControlArn: string; RoutingControlState: string }[] }) => {
        for (const e of input.UpdateRoutingControlStateEntries) states[e.RoutingControlArn] = e.RoutingControlState;
        return {};
      });

      const run = await failover({});

      expect(run.status).toBe('SUCCEEDED');
      expect(states).toEqual({ [PRIMARY_CONTROL]: 'Off', [BACKUP_CONTROL]: 'On' });
      expect(arcEurope.commandCalls(UpdateRoutingControlStatesCommand).map((c) => c.args[0].input)).toEqual([
        { UpdateRoutingControlStateEntries: [{ RoutingControlArn: BACKUP_CONTROL, RoutingControlState: 'On' }, { RoutingControlArn: PRIMARY_CONTROL, RoutingControlState: 'Off' }] },
      ]);
      // Nothing in Route 53's control plane, and nothing to wait for.
      expect(route53.calls()).toEqual([]);
      expect(entered(run, 'CheckDnsChange')).toBe(0);
      const report = storedReport();
      expect(stepData(run, 'MoveTraffic')).toMatchObject({ modes: ['data-plane'], recorded: [{ mode: 'data-plane', routingControls: [{ arn: PRIMARY_CONTROL, state: 'On' }, { arn: BACKUP_CONTROL, state: 'Off' }] }] });
      expect(reportStep(report, 'MoveTraffic').detail).toContain('api.frontier.com. moved to the backup cluster with ARC routing controls (data-plane mode; was primary On, backup Off) through eu-west-1');
      expect(report.resources).toContainEqual({ kind: 'route53-arc:routing-control', id: PRIMARY_CONTROL, region: 'global', kept: true, note: 'api.frontier.com.: before the failover: On; set it back to fail back' });
    }, TEST_TIMEOUT);
  });

  it('fails at ApplyManifestsToBackup when the manifests are missing from the bucket, and scales nothing', async () => {
    await primaryDown();
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 0, IsTruncated: false });

    const run = await failover({});

    expect(run.status).toBe('FAILED');
    expect(tasks(run)).toEqual(['StartRun', 'AssessPrimaryCluster', 'ApplyManifestsToBackup', 'PublishReport', 'NotifyOnCall']);
    await expectBackupUntouched();
    expect(requestsOf(backup).filter((r) => r.method !== 'GET')).toEqual([]);
    const report = storedReport();
    expect(report.failures).toEqual([
      {
        step: 'ApplyManifestsToBackup',
        error: 'ResourceNotFound',
        message: `no manifests (*.yaml) under s3://${MANIFEST_BUCKET}/${MANIFEST_PREFIX}: nothing to apply to the backup cluster`,
      },
    ]);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('FAILED STEP ApplyManifestsToBackup: ResourceNotFound');
  }, TEST_TIMEOUT);

  it.each([
    [{ force: 'yes' }, 'force: got "yes" (string); expected boolean'],
    [{ force: true, dryrun: true }, 'dryrun: got true (boolean); unknown field (a typo?)'],
  ])('rejects bad input %j in StartRun with no AWS call', async (input, message) => {
    const run = await failover(input);

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'InvalidInput', message: expect.stringContaining(message) });
    expect(run.error!.message).toContain('cluster-failover input is invalid; nothing was changed');
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun']);
    expect(totalAwsCalls(allMocks)).toBe(0);
    expect(requestsOf(primary)).toEqual([]);
    expect(requestsOf(backup)).toEqual([]);
  }, TEST_TIMEOUT);
});


describe('cluster-failover: one failover per cluster (the recovery lock)', () => {
  it('a second start while a failover runs ends at once, naming the owner, and changes nothing', async () => {
    await primaryDown();
    executions.running.add(executionArn('alarm-1'));
    lockTable.items.set(`cluster/${primary.clusterName}`, {
      target: { S: `cluster/${primary.clusterName}` },
      owner: { S: executionArn('alarm-1') },
      status: { S: 'active' },
      incidentId: { S: '202611251200' },
      incidentAt: { S: new Date(Date.now() - 60_000).toISOString() },
      acquiredAt: { S: new Date().toISOString() },
    });

    const run = await failover({}, { name: 'alarm-2' });

    expect(run.status).toBe('SUCCEEDED');
    expect(tasks(run)).toEqual(['StartRun', 'PublishReport']);
    expect(storedReport().steps[0]).toMatchObject({ name: 'AcquireRecoveryLock', status: 'skipped', detail: expect.stringContaining(`execution ${executionArn('alarm-1')} already owns the recovery`) });
    await expectBackupUntouched();
  }, TEST_TIMEOUT);

  it('records a completed failover; an alarm within the quiet period then starts nothing', async () => {
    await primaryDown();
    const first = await failover({}, { name: 'manual-1' });
    expect(first.status).toBe('SUCCEEDED');
    expect(lockTable.lock(`cluster/${primary.clusterName}`)).toMatchObject({ status: 'completed', servingInstance: backup.clusterName });
    const writesBefore = writes(backup).length;
    s3.resetHistory();

    const alarm = await failover(alarmEvent('ClusterUnreachable', new Date(Date.now() - 30_000)), { name: 'alarm-2' });

    expect(alarm.status).toBe('SUCCEEDED');
    expect(tasks(alarm)).toEqual(['StartRun', 'PublishReport']);
    expect(storedReport().steps[0]!.detail).toContain(`${backup.clusterName} serves now`);
    expect(writes(backup)).toHaveLength(writesBefore);
  }, TEST_TIMEOUT);

  it('a redriven step of a superseded failover changes nothing (RecoveryLockLost before the scale)', async () => {
    await primaryDown();
    const done = await failover({}, { name: 'manual-1' });
    const oldRun = (done.calls.find((c) => c.state === 'AcquireRecoveryLock')!.output as { data: { run: RunContext } }).data.run;
    const other = executionArn('manual-2');
    const item = lockTable.items.get(`cluster/${primary.clusterName}`)!;
    lockTable.items.set(`cluster/${primary.clusterName}`, { ...item, owner: { S: other }, status: { S: 'active' } });
    const writesBefore = writes(backup).length;

    const scale = await importHandler('scaleDeployment');
    await expect(scale({ run: oldRun, cluster: 'backup', replicas: 0 }, {} as never)).rejects.toMatchObject({
      name: 'RecoveryLockLost',
      message: expect.stringContaining(`execution ${other} owns the recovery`),
    });
    expect(writes(backup)).toHaveLength(writesBefore);
    expect(await replicasOf(backup)).toBe(3);
  }, TEST_TIMEOUT);
});
