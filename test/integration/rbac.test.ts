// deploy/rbac/ on a real control plane (local/control-plane.ts), as a real EKS user installs it and as
// each Lambda function then uses it:
//   - `kubectl apply -f deploy/rbac/` (here: the same documents in the same order, through the admin
//     client) succeeds on a fresh cluster without the application's namespace, and a cluster failover's
//     Kubernetes steps then succeed under RBAC, its apply of the production manifests included;
//   - least privilege: every function that talks to a cluster signs with a key the token webhook maps to
//     that function's group alone (as its role's EKS access entry does) and runs its real steps (the
//     shared/ functions its handler calls, against real objects); the API server's audit log then shows
//     every request the product made allowed by that group's own binding, and every (verb, resource)
//     deploy/rbac/ grants a group used by at least one of its function's requests. Removing any verb from
//     deploy/rbac/ fails a step here; granting one no step uses fails the audit comparison.
// The AWS side of the steps (S3 manifests, the DynamoDB lock, Secrets Manager) is mocked: only the
// Kubernetes calls are under test.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeDBLogFilesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AppsV1Api, AuthorizationV1Api, CoreV1Api, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { startControlPlane, KWOK_NODE_ANNOTATION, type AuditEvent, type LocalControlPlane } from '../../local/control-plane.js';
import { productionManifests } from '../../local/manifests.js';
import { until } from '../../local/kube-cluster.js';
import { installRbac, rbacDocuments, rbacGrants, rbacGroups, resourceKey, untilRbacAllows, type Grant } from '../../local/rbac.js';
import {
  applyProductionManifests,
  assessClusterForFailover,
  checkRolloutProgress,
  connectTo,
  forgetConnections,
  planEmergencyRollback,
  rollBackToPlannedRevision,
  scaleApi,
  stopApiWrites,
  type ClusterRole,
} from '../../shared/cluster-ops.js';
import { setApiImage } from '../../shared/api-image.js';
import { planRollback } from '../../shared/kubernetes/rollback.js';
import { assessCluster, readDeployment } from '../../shared/kubernetes/workloads.js';
import { preflightSecurityIncident } from '../../shared/security-incident-preflight.js';
import { RolloutFailed } from '../../shared/errors.js';
import { collectEvidence, sha256Base64 } from '../../shared/evidence.js';
import { planRun, type RunContext } from '../../shared/run.js';
import { repointApplication } from '../../shared/repoint.js';
import { rotateApiKeysStep } from '../../shared/api-key-rotation.js';
import { blockAddresses, setEmergencyMode } from '../../shared/containment.js';
import { configWith } from '../support/fixtures.js';
import { kubernetesFunctions } from '../support/kubernetes-functions.js';

const CLUSTER = 'frontier-rbac';
const BAD_RELEASE = 'frontier/api:1.9.0';
const TEST_TIMEOUT_MS = 300_000;

// One control plane stands in for both clusters (primary and backup): tokens are signed for its name.
const config = configWith((c) => {
  c.kubernetes!.clusters.primary.name = CLUSTER;
  c.kubernetes!.clusters.backup.name = CLUSTER;
});
const { namespace: NS, apiDeployment: API } = config.kubernetes!;
const database = config.databases.find((d) => d.recovery)!;
const secretRef = database.recovery!.kubernetesSecret;

const FUNCTIONS = kubernetesFunctions();
/** Each function's own key (its Lambda role's credentials), mapped by the webhook to its group alone. */
const KEYS = new Map(
  FUNCTIONS.map((fn) => {
    const digest = createHash('sha256').update(fn.directory).digest('hex').toUpperCase();
    return [fn.directory, { accessKeyId: `AKIA${digest.slice(0, 16)}`, secretAccessKey: digest.slice(16, 56) }];
  }),
);

let plane: LocalControlPlane;
let admin: KubeConfig;
// Security incident evidence: every container's log (kwok serves it through the API server), for collect-evidence.
const logsDir = mkdtempSync(path.join(os.tmpdir(), 'frontier-dr-rbac-logs-'));
const CONTAINER_LOG = path.join(logsDir, 'container.log');
writeFileSync(CONTAINER_LOG, `${new Date().toISOString().replace('Z', '000000Z')} stdout F GET /health 200\n`);

beforeAll(async () => {
  plane = await startControlPlane({
    name: 'rbac',
    eks: { clusterName: CLUSTER, keys: [], identities: FUNCTIONS.map((fn) => ({ key: KEYS.get(fn.directory)!, groups: [fn.group], role: `frontier-dr-${fn.directory}` })) },
    neverReadyImages: [BAD_RELEASE],
    audit: true,
    containerLogsFile: CONTAINER_LOG,
  });
  admin = plane.adminKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  for (const name of ['node-a', 'node-b', 'node-c']) await core.createNode({ body: { metadata: { name, annotations: { [KWOK_NODE_ANNOTATION]: 'fake' } } } });
}, 600_000);

afterAll(async () => {
  await plane?.stop();
  rmSync(logsDir, { recursive: true, force: true });
}, 60_000);

/**
 * Runs `step` as function `directory` runs in Lambda: a fresh container (no cached connection) whose
 * connections to both clusters sign with that function's key.
 */
async function as<T>(directory: string, step: () => Promise<T>): Promise<T> {
  forgetConnections();
  for (const role of ['primary', 'backup'] as ClusterRole[]) {
    await connectTo(config, role, { resolveEndpoint: () => ({ endpoint: plane.url, caData: plane.caData }), credentials: KEYS.get(directory)! });
  }
  try {
    return await step();
  } finally {
    forgetConnections();
  }
}


/** The manifests bucket of the recovery region, holding the example deployment's production manifests. */
function manifestsBucket(): S3Client {
  const s3 = new S3Client({ region: config.recoveryRegion });
  const files = productionManifests(config.kubernetes!);
  const prefix = config.kubernetes!.manifests.prefix;
  const mock = mockClient(s3);
  mock.on(ListObjectsV2Command).resolves({ Contents: Object.keys(files).map((file) => ({ Key: `${prefix}${file}` })) });
  for (const [file, text] of Object.entries(files)) {
    mock.on(GetObjectCommand, { Key: `${prefix}${file}` }).resolves({ Body: { transformToString: async () => text } as never });
  }
  return s3;
}

describe('deploy/rbac/ on a fresh cluster', () => {
  it('installs without the application\'s namespace (kubectl apply -f deploy/rbac/, in its order)', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).not.toContain(NS);

    const documents = await installRbac(admin);
    await untilRbacAllows(admin, documents);

    expect(documents[0]).toMatchObject({ kind: 'Namespace', metadata: { name: NS } });
    expect((await core.readNamespace({ name: NS })).status?.phase).toBe('Active');
    // One group per function that talks to a cluster, and no other.
    expect(rbacGroups()).toEqual(FUNCTIONS.map((fn) => fn.group).sort());
  }, TEST_TIMEOUT_MS);

  it('is all that allows the product\'s requests: the default bindings that also let every caller GET /version are removed', async () => {
    // EKS keeps them (system:public-info-viewer, system:discovery); without them here, a request the
    // manifest does not allow is refused, /version included.
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    for (const name of ['system:public-info-viewer', 'system:discovery']) await rbac.deleteClusterRoleBinding({ name });
    const authorization = admin.makeApiClient(AuthorizationV1Api);
    await until('GET /version refused to a caller without a frontier-dr group', async () => {
      const review = await authorization.createSubjectAccessReview({ body: { spec: { user: 'probe', groups: ['system:authenticated'], nonResourceAttributes: { path: '/version', verb: 'get' } } } });
      return review.status?.allowed ? undefined : true;
    });
  }, TEST_TIMEOUT_MS);
});

describe('each function with its own group alone', () => {
  const since = new Date().toISOString();

  it('cluster failover: assess the primary, apply the production manifests to the backup, scale the API, wait for the rollout', async () => {
    const assessed = await as('assess-primary-cluster', () => assessClusterForFailover(config, 'primary', 5_000));
    expect(assessed.data).toMatchObject({ reachable: true, nodes: 3, readyNodes: 3, healthy: true });

    const s3 = manifestsBucket();
    const applied = await as('apply-manifests-to-backup', () => applyProductionManifests(config, 'backup', false, s3));
    expect(applied.data.applied).toEqual([
      { kind: 'Namespace', name: NS, created: false },
      { kind: 'ConfigMap', namespace: NS, name: 'frontier-config', created: true },
      { kind: 'Service', namespace: NS, name: API, created: true },
      { kind: 'Deployment', namespace: NS, name: API, created: true },
    ]);
    // A retried step: the same apply, nothing created.
    const again = await as('apply-manifests-to-backup', () => applyProductionManifests(config, 'backup', false, s3));
    expect(again.data.applied.map((a) => a.created)).toEqual([false, false, false, false]);

    const scaled = await as('scale-deployment', () => scaleApi(config, 'backup', config.kubernetes!.productionReplicas, false));
    expect(scaled.data).toMatchObject({ previousReplicas: 1, replicas: config.kubernetes!.productionReplicas, changed: true });

    const rolledOut = await until('the API rolled out on the backup', async () => {
      const look = await as('check-rollout', () => checkRolloutProgress(config, 'backup', NS, API, since, new Date()));
      return look.data.done ? look : undefined;
    });
    expect(rolledOut.data).toMatchObject({ replicas: 3, availableReplicas: 3 });
  }, TEST_TIMEOUT_MS);

  it('emergency rollback: a release past its progress deadline is seen failed, planned back, rolled back and waited for', async () => {
    // A bad release, rolled out by a person: its pods never become Ready.
    const apps = admin.makeApiClient(AppsV1Api);
    await apps.patchNamespacedDeployment(
      {
        namespace: NS,
        name: API,
        body: [
          { op: 'add', path: '/spec/progressDeadlineSeconds', value: 2 },
          { op: 'replace', path: '/spec/template/spec/containers/0/image', value: BAD_RELEASE },
          { op: 'add', path: '/metadata/annotations', value: { 'kubernetes.io/change-cause': 'release 1.9.0' } },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    // The look that meets the deadline condition reads the ReplicaSet it names: this rollout's own.
    const failed = await until('the bad release past its deadline', async () =>
      as('check-rollout', () => checkRolloutProgress(config, 'backup', NS, API, since, new Date())).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    expect(failed).toBeInstanceOf(RolloutFailed);

    const rollback = { cluster: 'backup' as const, namespace: NS, deployment: API, toRevision: null };
    const plan = await as('plan-rollback', () => planEmergencyRollback(config, { rollback }));
    expect(plan.data).toMatchObject({ currentRevision: 2, targetRevision: 1, targetImages: ['frontier/api:1.8.2'] });

    const rolledBack = await as('roll-back-deployment', () =>
      rollBackToPlannedRevision(config, { cluster: 'backup', namespace: NS, deployment: API, targetRevision: plan.data.targetRevision, currentRevision: plan.data.currentRevision }, false),
    );
    expect(rolledBack.data).toMatchObject({ changed: true, images: ['frontier/api:1.8.2'] });

    const replicaSet = (rolledBack.data as { replicaSet: string }).replicaSet;
    await until('the rollback rolled out', async () => {
      const look = await as('check-rollout', () => checkRolloutProgress(config, 'backup', NS, API, new Date().toISOString(), new Date(), { replicaSet }));
      return look.data.done ? look : undefined;
    });
  }, TEST_TIMEOUT_MS);

  it('database recovery: stop the API\'s writes, repoint the application\'s database URL, restore the replicas, wait for their rollout', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: secretRef.name }, stringData: { [secretRef.key]: 'postgresql://app:secret@frontier-prod.old.rds.amazonaws.com:5432/frontier?sslmode=verify-full' } },
    });

    const ddb = new DynamoDBClient({ region: config.recoveryRegion });
    mockClient(ddb).on(UpdateItemCommand).resolves({ Attributes: {} });
    const stopped = await as('stop-api-writes', () => stopApiWrites(config, { ddb, table: 'locks' }, { executionId: 'arn:exec:1', dryRun: false }, database.name));
    expect(stopped.data).toMatchObject({ previousReplicas: 3 });

    const secrets = new SecretsManagerClient({ region: config.recoveryRegion });
    const secretsMock = mockClient(secrets);
    secretsMock.on(GetSecretValueCommand).resolves({ VersionId: 'v1', SecretString: JSON.stringify({ username: 'app', password: 'secret', host: 'frontier-prod.old.rds.amazonaws.com', port: 5432 }) });
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'v2' });
    const endpoint = { host: 'frontier-prod-r-1.new.rds.amazonaws.com', port: 5432 };
    const repointed = await as('repoint-application', () => repointApplication(config, database, { instanceId: 'frontier-prod-r-1', endpoint, dryRun: false }, secrets));
    expect(repointed.data.kubernetesSecretChanged).toBe(true);
    const url = Buffer.from((await core.readNamespacedSecret({ namespace: NS, name: secretRef.name })).data?.[secretRef.key] ?? '', 'base64').toString('utf8');
    expect(url).toBe('postgresql://app:secret@frontier-prod-r-1.new.rds.amazonaws.com:5432/frontier?sslmode=verify-full');

    const scaledAt = new Date().toISOString();
    const restored = await as('scale-deployment', () => scaleApi(config, 'primary', 3, false));
    expect(restored.data).toMatchObject({ previousReplicas: 0, replicas: 3, changed: true });

    // The same looks as on the backup: database-recovery's CheckRollout, on the primary.
    const rolledOut = await until('the API back up on the primary', async () => {
      const look = await as('check-rollout', () => checkRolloutProgress(config, 'primary', NS, API, scaledAt, new Date()));
      return look.data.done ? look : undefined;
    });
    expect(rolledOut.data).toMatchObject({ replicas: 3, availableReplicas: 3 });
  }, TEST_TIMEOUT_MS);

  // API-key rotation
  it('API-key rotation: the Kubernetes copy of the keys made to hold the pending set, and read back', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const copy = 'frontier-api-keys';
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: copy }, stringData: { 'partner-acme': 'old-acme-key', retired: 'old-retired-key' } } });
    const apiKeysConfig = configWith((c) => {
      c.kubernetes!.clusters.primary.name = CLUSTER;
      c.kubernetes!.clusters.backup.name = CLUSTER;
      c.securityIncident = { apiKeys: { secret: 'frontier/prod/api-keys', kubernetesSecret: copy }, evidence: { bucket: 'frontier-dr-evidence' } } as never;
    });
    const pending = { 'partner-acme': 'NewAcmeKey000000000000000000000000000000000000001' };
    const secrets = new SecretsManagerClient({ region: config.recoveryRegion });
    const secretsMock = mockClient(secrets);
    secretsMock.on(DescribeSecretCommand).resolves({ Name: 'frontier/prod/api-keys', ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:frontier/prod/api-keys-AbCdEf', RotationEnabled: true, VersionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } });
    secretsMock.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING' }).resolves({ VersionId: 'v2', SecretString: JSON.stringify(pending) });
    const step = (Step: 'setSecret' | 'testSecret') =>
      as('rotate-api-keys', () => rotateApiKeysStep(apiKeysConfig, { SecretId: 'frontier/prod/api-keys', ClientRequestToken: 'v2', Step }, { secrets, connect: (role) => connectTo(apiKeysConfig, role) }));
    const set = await step('setSecret');
    // One control plane stands in for both clusters: the second finds the copy already equal.
    expect(set.copies!.map((c) => [c.role, c.outcome, c.removed])).toEqual([
      ['primary', 'updated', ['retired']],
      ['backup', 'already-equal', undefined],
    ]);
    expect((await step('testSecret')).outcome).toBe('done');
    const data = (await core.readNamespacedSecret({ namespace: NS, name: copy })).data ?? {};
    expect(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))).toEqual(pending);
  }, TEST_TIMEOUT_MS);

  // Security incident containment
  it('security incident containment: the block NetworkPolicy applied at the API pods (created, then re-applied), emergency mode on', async () => {
    // No WAF IP set: only the Kubernetes side is under test here.
    const incidentConfig = configWith((c) => {
      c.kubernetes!.clusters.primary.name = CLUSTER;
      c.kubernetes!.clusters.backup.name = CLUSTER;
      (c as unknown as Record<string, unknown>).securityIncident = { evidence: { bucket: 'frontier-prod-incident-evidence' } };
    });
    const run = (blockIps: string[]) => ({
      scenario: 'security-incident' as RunContext['scenario'],
      executionId: 'arn:exec:incident',
      executionName: 'incident',
      startedAt: since,
      incidentAt: since,
      incidentNamedByOperator: true,
      trigger: 'manual',
      dryRun: false,
      reason: null,
      databases: [],
      force: false,
      rollback: null,
      productionReplicas: null,
      recovery: null,
      securityIncident: { incidentId: 'SEC-1', blockIps, patchedImage: null, secrets: [] },
    });
    const noWaf = { waf: () => { throw new Error('no WAF IP set is configured: no WAF client wanted'); } };
    const created = await as('block-addresses', () => blockAddresses(incidentConfig, run(['203.0.113.7/32']), noWaf));
    expect(created.data.places[0]).toMatchObject({ outcome: 'blocked' });
    const merged = await as('block-addresses', () => blockAddresses(incidentConfig, run(['198.51.100.0/24']), noWaf));
    expect(merged.data.places[0]).toMatchObject({ outcome: 'blocked', blocked: ['198.51.100.0/24', '203.0.113.7/32'] });

    const emergency = await as('set-emergency-mode', () => setEmergencyMode(incidentConfig, run([])));
    expect(emergency.data).toMatchObject({ configMap: 'frontier-config', changed: true });
  }, TEST_TIMEOUT_MS);

  // Security incident evidence
  it('security incident evidence: read the API deployment\'s selector, list its pods, read every container\'s log', async () => {
    const evidenceConfig = configWith((c) => {
      c.kubernetes!.clusters.primary.name = CLUSTER;
      c.kubernetes!.clusters.backup.name = CLUSTER;
      (c as unknown as { securityIncident: unknown }).securityIncident = { cluster: 'primary', evidence: { bucket: 'frontier-evidence' } };
    });
    const s3 = new S3Client({ region: config.recoveryRegion });
    mockClient(s3).on(PutObjectCommand).callsFake((input: { Body: Buffer }) => ({ VersionId: 'v1', ChecksumSHA256: sha256Base64(Buffer.from(input.Body)) }));
    const rds = new RDSClient({ region: config.primaryRegion });
    mockClient(rds).on(DescribeDBLogFilesCommand).resolves({ DescribeDBLogFiles: [] });
    const now = new Date().toISOString();
    const run: RunContext = {
      scenario: 'security-incident', executionId: 'arn:exec:incident', executionName: 'incident', startedAt: now, incidentAt: now, incidentNamedByOperator: false,
      trigger: 'manual', dryRun: false, reason: null, databases: [database.name], force: false, rollback: null, productionReplicas: null, recovery: null,
      securityIncident: { incidentId: 'SEC-1', blockIps: [], patchedImage: null, secrets: [] },
    };

    const collected = await as('collect-evidence', () => collectEvidence(evidenceConfig, run, { s3, rds, connection: () => connectTo(evidenceConfig, 'primary') }));

    expect(collected.data.pods.length).toBeGreaterThan(0);
    expect(collected.data.pods.filter((p) => p.key === null)).toEqual([]);
  }, TEST_TIMEOUT_MS);

  // The security incident's own Kubernetes steps.
  it('security incident: the preflight reads the API deployment and the emergency-mode ConfigMap, the patch sets the API image', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const configMap = config.securityIncident!.emergencyMode.configMap;
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: configMap }, data: { emergency_mode: 'false' } } }).catch((error: { code?: number }) => {
      if (error.code !== 409) throw error;
    });
    const run = planRun('security-incident', { incidentId: 'SEC-RBAC-1', patchedImage: 'frontier/api:security-patch' }, { id: 'arn:exec:sec', name: 'sec', startTime: new Date().toISOString() }, config);
    const secrets = new SecretsManagerClient({ region: config.recoveryRegion });
    mockClient(secrets).on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v1: ['AWSCURRENT'] } });
    const s3 = new S3Client({ region: config.recoveryRegion });
    mockClient(s3).on(HeadBucketCommand).resolves({});

    const checked = await as('security-incident-preflight', () => preflightSecurityIncident(config, run, { secrets, s3, connect: () => connectTo(config, 'primary'), waf: () => { throw new Error('no address to block: no WAF client wanted'); } }));
    expect(checked.data).toMatchObject({ passed: true, patchContainer: API });

    const patched = await as('set-api-image', () => setApiImage(config, run, () => connectTo(config, 'primary')));
    expect(patched.data).toMatchObject({ container: API, image: 'frontier/api:security-patch', changed: true });
    const deployment = await admin.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: NS, name: API });
    expect(deployment.spec?.template.spec?.containers.map((c) => c.image)).toEqual(['frontier/api:security-patch']);
    expect(deployment.metadata?.annotations?.['kubernetes.io/change-cause']).toContain('security incident SEC-RBAC-1');
  }, TEST_TIMEOUT_MS);

  // Readiness: the evaluation's Kubernetes looks, all reads (shared/readiness.ts).
  it('readiness: the cluster and its Ready nodes, the API deployment, the rollback\'s previous revision and the emergency-mode ConfigMap, read only', async () => {
    const run = planRun('security-incident', { incidentId: 'DRILL-readiness' }, { id: 'arn:exec:readiness', name: 'readiness', startTime: new Date().toISOString() }, config);
    const secrets = new SecretsManagerClient({ region: config.recoveryRegion });
    mockClient(secrets).on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v1: ['AWSCURRENT'] } });
    const s3 = new S3Client({ region: config.recoveryRegion });
    mockClient(s3).on(HeadBucketCommand).resolves({});
    await as('evaluate-scenario-readiness', async () => {
      const assessment = await assessCluster(await connectTo(config, 'backup'));
      expect(assessment).toMatchObject({ reachable: true, healthy: true });
      expect((await readDeployment(await connectTo(config, 'primary'), NS, API)).metadata?.name).toBe(API);
      const plan = await planRollback(await connectTo(config, 'primary'), NS, API);
      expect(plan.targetRevision).toBeGreaterThan(0);
      const checked = await preflightSecurityIncident(config, run, { secrets, s3, connect: () => connectTo(config, 'primary'), waf: () => { throw new Error('no address to block: no WAF client wanted'); } });
      expect(checked.data).toMatchObject({ passed: true });
    });
  }, TEST_TIMEOUT_MS);

  it('made only requests deploy/rbac/ allows to the function\'s own group, and used every (verb, resource) it grants', async () => {
    const grants = rbacGrants(rbacDocuments());
    // Every request the product made (the environment's own, with the admin token, is not audited).
    const product = await until('the audit log', async () => {
      const events = (await plane.auditEvents()).filter((e) => e.stage === 'ResponseComplete' && e.user.username.startsWith('arn:aws:sts::'));
      return events.length > 0 ? events : undefined;
    });
    const report: Record<string, { requests: number; used: string[]; unused: string[] }> = {};
    const problems: string[] = [];
    for (const fn of FUNCTIONS) {
      const events = product.filter((e) => e.user.groups?.includes(fn.group));
      for (const event of events) {
        const what = `${fn.directory}: ${event.verb} ${event.requestURI} (${event.responseStatus?.code})`;
        if ([...(event.user.groups ?? [])].sort().join(',') !== [fn.group, 'system:authenticated'].sort().join(',')) problems.push(`${what} by ${event.user.groups?.join(',')}`);
        if (event.annotations?.['authorization.k8s.io/decision'] !== 'allow') problems.push(`${what} was not allowed: ${event.annotations?.['authorization.k8s.io/reason'] ?? ''}`);
        const reason = event.annotations?.['authorization.k8s.io/reason'] ?? '';
        if (!reason.includes(`to Group "${fn.group}"`) || !/RoleBinding "frontier-dr:/.test(reason)) problems.push(`${what} allowed by something other than its own binding: ${reason}`);
        if ((event.responseStatus?.code ?? 0) >= 400) problems.push(`${what} failed`);
      }
      const own = grants.filter((g) => g.group === fn.group);
      const unused = own.filter((grant) => !events.some((event) => uses(event, grant)));
      report[fn.directory] = { requests: events.length, used: own.filter((g) => !unused.includes(g)).map(describeGrant), unused: unused.map(describeGrant) };
      expect(events.length).toBeGreaterThan(0);
    }
    // No request of a caller outside the functions' groups.
    for (const event of product) if (!FUNCTIONS.some((fn) => event.user.groups?.includes(fn.group))) problems.push(`a request by ${event.user.username}: ${event.verb} ${event.requestURI}`);
    process.stderr.write(`[rbac] per function: ${JSON.stringify(report, null, 1)}\n`);

    expect(problems).toEqual([]);
    expect(Object.fromEntries(Object.entries(report).map(([fn, r]) => [fn, r.unused]))).toEqual(Object.fromEntries(FUNCTIONS.map((fn) => [fn.directory, []])));
  }, TEST_TIMEOUT_MS);
});

function describeGrant(grant: Grant): string {
  return `${grant.verb} ${grant.resource}${grant.namespace ? ` in ${grant.namespace}` : ''}${grant.resourceNames ? ` [${grant.resourceNames.join(',')}]` : ''}`;
}

/**
 * Whether an audited request used `grant`: same verb and resource (a server-side apply that created its
 * object, answered 201, also used `create`), in the grant's namespace and among its resourceNames.
 */
function uses(event: AuditEvent, grant: Grant): boolean {
  if (grant.nonResource) return !event.objectRef && event.verb === grant.verb && event.requestURI.split('?')[0] === grant.resource;
  const ref = event.objectRef;
  if (!ref?.resource) return false;
  const resource = resourceKey(ref.apiGroup ?? '', ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource);
  if (resource !== grant.resource) return false;
  const verbs = event.verb === 'patch' && event.responseStatus?.code === 201 ? ['patch', 'create'] : [event.verb];
  if (!verbs.includes(grant.verb)) return false;
  if (grant.namespace && ref.namespace !== grant.namespace) return false;
  if (grant.resourceNames && !grant.resourceNames.includes(ref.name ?? '')) return false;
  return true;
}
