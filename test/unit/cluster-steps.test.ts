// The Kubernetes steps as shared/ decides them (cluster-ops.ts, repoint.ts): dry runs record the exact
// call and make none, re-runs change nothing twice, the replica count is remembered once, a lost lock or
// a failed call stops the step. Each cluster's API is answered by the client double
// (test/support/kube-client-double.ts), so the assertions are on the requests a step sends; EKS,
// DynamoDB, S3 and Secrets Manager are client mocks with their faults. What the real API server then
// does is tested against real control planes in test/integration and test/statemachines.
import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import {
  applyProductionManifests,
  assessClusterForFailover,
  connectTo,
  planEmergencyRollback,
  rollBackToPlannedRevision,
  scaleApi,
  stopApiWrites,
} from '../../shared/cluster-ops.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { InvalidConfig, InvalidInput, RecoveryLockLost } from '../../shared/errors.js';
import { eksClient } from '../../shared/clients.js';
import { repointApplication, repointToken } from '../../shared/repoint.js';
import { configWith } from '../support/fixtures.js';
import {
  answerDeployment,
  deploymentObject,
  deploymentPath,
  DOUBLE_CREDENTIALS,
  KubeClientDouble,
  listOf,
  nodeObject,
  replicaSetObject,
  scaleObject,
} from '../support/kube-client-double.js';

// Cluster names unique to this file: connections are cached per cluster for the container's life.
const PRIMARY = 'steps-primary';
const BACKUP = 'steps-backup';
const NAMESPACE = 'production';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-database-recovery:alarm-1';
const TABLE = 'recovery-locks';
const primaryEks = mockClient(eksClient('us-west-2'));
const backupEks = mockClient(eksClient('us-east-1'));
const ddb = new DynamoDBClient({ region: 'us-east-1', maxAttempts: 1 });
const ddbMock = mockClient(ddb);
const s3 = new S3Client({ region: 'us-east-1', maxAttempts: 1 });
const s3Mock = mockClient(s3);
const secrets = new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 });
const secretsMock = mockClient(secrets);
const lock = { ddb, table: TABLE };

const primary = new KubeClientDouble();
const backup = new KubeClientDouble();
let deployments = 0;

/** The example deployment, with an API deployment of its own so tests do not share one (revision 2 on the primary, 1 at 0 replicas on the backup). */
function clusterConfig(apiReplicas = 3, change: (c: DeploymentConfig) => void = () => undefined): DeploymentConfig {
  const api = `api-${++deployments}`;
  answerDeployment(primary, { namespace: NAMESPACE, name: api, revisions: ['frontier/api:1.8.0', 'frontier/api:1.8.1'], replicas: apiReplicas });
  answerDeployment(backup, { namespace: NAMESPACE, name: api, revisions: ['frontier/api:1.8.1'], replicas: 0 });
  return configWith((c) => {
    c.kubernetes!.clusters.primary.name = PRIMARY;
    c.kubernetes!.clusters.backup.name = BACKUP;
    c.kubernetes!.apiDeployment = api;
    c.kubernetes!.productionReplicas = 4;
    change(c);
  });
}

const scalePathOf = (config: DeploymentConfig) => `${deploymentPath(NAMESPACE, config.kubernetes!.apiDeployment)}/scale`;
/** The replica counts a cluster was asked to scale the config's API deployment to. */
const scaledTo = (double: KubeClientDouble, config: DeploymentConfig) => double.sent('PATCH', scalePathOf(config)).map((r) => (r.body as { spec: { replicas: number } }).spec.replicas);
/** Every request about the config's API deployment. */
const requestsAbout = (double: KubeClientDouble, config: DeploymentConfig) => double.requests.filter((r) => r.path.includes(`/deployments/${config.kubernetes!.apiDeployment}`));
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
const described = (name: string, region: string) => ({
  cluster: { name, status: 'ACTIVE' as const, endpoint: `https://${name}.gr7.${region}.eks.amazonaws.com`, certificateAuthority: { data: Buffer.from('a CA').toString('base64') } },
});

beforeAll(async () => {
  // cluster-ops keeps one connection per cluster for the container's life: these first ones, with the
  // doubles as their HTTP library, are the ones every step then uses.
  primaryEks.on(DescribeClusterCommand).resolves(described(PRIMARY, 'us-west-2'));
  backupEks.on(DescribeClusterCommand).resolves(described(BACKUP, 'us-east-1'));
  const config = clusterConfig();
  await connectTo(config, 'primary', { httpApi: primary.httpApi, credentials: DOUBLE_CREDENTIALS });
  await connectTo(config, 'backup', { httpApi: backup.httpApi, credentials: DOUBLE_CREDENTIALS });
  backup.on('GET', '/version', { body: { gitVersion: 'v1.34.4' } }).on('GET', '/api/v1/nodes', { body: listOf('NodeList', [nodeObject('b-1', true), nodeObject('b-2', true)]) });
});

beforeEach(() => {
  for (const mock of [primaryEks, backupEks, ddbMock, s3Mock, secretsMock]) mock.reset();
  primaryEks.on(DescribeClusterCommand).resolves(described(PRIMARY, 'us-west-2'));
  backupEks.on(DescribeClusterCommand).resolves(described(BACKUP, 'us-east-1'));
});

describe('stopApiWrites', () => {
  const run = { executionId: EXECUTION, dryRun: false };

  it('records the scale to 0 in a dry run, and neither scales nor touches the lock', async () => {
    const config = clusterConfig(3);

    const result = await stopApiWrites(config, lock, { ...run, dryRun: true }, 'frontier-prod');

    expect(result.actions).toEqual([
      {
        description: `scale ${NAMESPACE}/${config.kubernetes!.apiDeployment} on ${PRIMARY} to 0 replicas (stop writes)`,
        service: 'kubernetes',
        operation: 'patch deployments/scale',
        parameters: { cluster: PRIMARY, namespace: NAMESPACE, deployment: config.kubernetes!.apiDeployment, replicas: 0 },
        performed: false,
      },
    ]);
    expect(result.data.previousReplicas).toBeNull();
    expect(requestsAbout(primary, config)).toEqual([]);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('scales the API to 0 and remembers its 3 replicas in the lock, only if none are remembered', async () => {
    const config = clusterConfig(3);
    ddbMock.on(UpdateItemCommand).resolves({});

    const result = await stopApiWrites(config, lock, run, 'frontier-prod');

    expect(scaledTo(primary, config)).toEqual([0]);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      Key: { target: { S: 'database/frontier-prod' } },
      UpdateExpression: 'SET previousReplicas = if_not_exists(previousReplicas, :replicas)',
      ExpressionAttributeValues: { ':replicas': { N: '3' }, ':me': { S: EXECUTION }, ':active': { S: 'active' } },
    });
    expect(result.data.previousReplicas).toBe(3);
    expect(result.actions?.map((a) => a.performed)).toEqual([true]);
    expect(result.resources).toEqual([expect.objectContaining({ kind: 'kubernetes:deployment', kept: true, note: '3 replicas before the recovery' })]);
    expect(result.detail).toBe('API scaled to 0; 3 replicas to restore afterwards');
  });

  it('keeps the count of the first attempt when a resumed run finds the API at 0', async () => {
    const config = clusterConfig(0);
    ddbMock.on(UpdateItemCommand).resolves({ Attributes: { previousReplicas: { N: '3' } } });

    const result = await stopApiWrites(config, lock, run, 'frontier-prod');

    expect(result.data.previousReplicas).toBe(3);
    expect(result.actions?.map((a) => a.performed)).toEqual([false]);
    expect(scaledTo(primary, config)).toEqual([]);
    expect(result.detail).toBe('API scaled to 0; 3 replicas to restore afterwards (it was already at 0: count kept from the first attempt)');
  });

  it('remembers kubernetes.productionReplicas, never 0, for an API someone else stopped', async () => {
    const config = clusterConfig(0);
    ddbMock.on(UpdateItemCommand).resolves({});

    const result = await stopApiWrites(config, lock, run, 'frontier-prod');

    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeValues: { ':replicas': { N: '4' }, ':me': { S: EXECUTION }, ':active': { S: 'active' } } });
    expect(result.data.previousReplicas).toBe(4);
    expect(result.resources?.[0]?.note).toBe('at 0 replicas before the recovery; 4 to restore');
    expect(result.detail).toContain('(it was already at 0 with no count remembered: kubernetes.productionReplicas)');
  });

  it('fails with RecoveryLockLost when another execution took the recovery over', async () => {
    const config = clusterConfig(3);
    ddbMock.on(UpdateItemCommand).rejects(conditionFailed());

    await expect(stopApiWrites(config, lock, run, 'frontier-prod')).rejects.toThrow(RecoveryLockLost);
  });

  it('fails before touching the lock when the scale is refused', async () => {
    const config = clusterConfig(3);
    primary.failNext({ method: 'PATCH', path: scalePathOf(config), status: 403 });

    await expect(stopApiWrites(config, lock, run, 'frontier-prod')).rejects.toMatchObject({ name: 'KubernetesUnauthorized', message: expect.stringContaining('forbidden by RBAC (403)') });
    expect(ddbMock.calls()).toHaveLength(0);
    expect(primary.sent('PATCH', scalePathOf(config)).map((r) => r.status)).toEqual([403]);
  });
});

describe('scaleApi', () => {
  it.each([-1, 1.5, Number.NaN])('refuses %p replicas before any call', async (replicas) => {
    const config = clusterConfig(0);

    await expect(scaleApi(config, 'backup', replicas, false)).rejects.toThrow(InvalidInput);
    expect(backupEks.calls()).toHaveLength(0);
    expect(requestsAbout(backup, config)).toEqual([]);
  });

  it('records the scale in a dry run and leaves the deployment alone', async () => {
    const config = clusterConfig(0);

    const result = await scaleApi(config, 'backup', 3, true);

    expect(result.actions).toEqual([expect.objectContaining({ operation: 'patch deployments/scale', parameters: expect.objectContaining({ cluster: BACKUP, replicas: 3 }), performed: false })]);
    expect(result.data.previousReplicas).toBeNull();
    expect(requestsAbout(backup, config)).toEqual([]);
  });

  it('scales, keeping the previous count for failback', async () => {
    const config = clusterConfig(0);

    const result = await scaleApi(config, 'backup', 3, false);

    expect(scaledTo(backup, config)).toEqual([3]);
    expect(backup.sent('PATCH', scalePathOf(config))[0]!.contentType).toBe('application/merge-patch+json');
    expect(result.data).toMatchObject({ previousReplicas: 0, replicas: 3, changed: true });
    expect(result.actions?.map((a) => a.performed)).toEqual([true]);
    expect(result.detail).toBe('scaled from 0 to 3 (previous count kept for failback)');
  });

  it('changes nothing when the API already runs that many replicas', async () => {
    const config = clusterConfig(0);
    backup.on('GET', scalePathOf(config), { body: scaleObject(NAMESPACE, config.kubernetes!.apiDeployment, 3) });

    const again = await scaleApi(config, 'backup', 3, false);

    expect(again.actions?.map((a) => a.performed)).toEqual([false]);
    expect(again.detail).toBe('already at 3 replicas');
    expect(scaledTo(backup, config)).toEqual([]);
  });
});

describe('assessClusterForFailover', () => {
  it('passes the health check of a cluster whose nodes are Ready', async () => {
    const config = clusterConfig();

    const result = await assessClusterForFailover(config, 'backup', 2_000);

    expect(result.data).toMatchObject({ cluster: BACKUP, role: 'backup', reachable: true, healthy: true });
    expect(result.checks).toEqual([expect.objectContaining({ name: 'backup-cluster-health', resource: `${BACKUP} (us-east-1)`, measured: '2 of 2 nodes Ready', passed: true })]);
  });

  it('fails the check, without failing the step, for a cluster it cannot reach', async () => {
    const config = clusterConfig();
    primaryEks.on(DescribeClusterCommand).rejects(Object.assign(new Error('connect ETIMEDOUT 52.94.1.1:443'), { name: 'TimeoutError', code: 'ETIMEDOUT' }));
    const unreachable = configWith((c) => {
      Object.assign(c, config);
      c.kubernetes!.clusters.primary.name = 'steps-gone';
    });

    const result = await assessClusterForFailover(unreachable, 'primary', 1_000);

    expect(result.checks?.[0]).toMatchObject({ name: 'primary-cluster-health', measured: 'unreachable', passed: false });
    expect(result.detail).toContain('cannot reach the cluster');
  });
});

describe('applyProductionManifests', () => {
  const body = (text: string) => ({ transformToString: async () => text }) as never;
  beforeEach(() => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'k8s/production/10-config.yaml' }] });
    s3Mock.on(GetObjectCommand).callsFake(() => ({
      Body: body('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: production\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frontier-config\ndata:\n  emergency_mode: "false"\n'),
    }));
  });

  it('lists every object it would apply in a dry run, in the configured namespace unless cluster-scoped', async () => {
    const config = clusterConfig();

    const result = await applyProductionManifests(config, 'backup', true, s3);

    expect(result.actions?.map((a) => [a.description, a.performed])).toEqual([
      [`server-side apply Namespace production on ${BACKUP}`, false],
      [`server-side apply ConfigMap production/frontier-config on ${BACKUP}`, false],
    ]);
    expect(result.actions?.[1]?.parameters).toEqual({ cluster: BACKUP, kind: 'ConfigMap', name: 'frontier-config', namespace: 'production', fieldManager: 'frontier-dr', force: true });
    expect(result.data.applied).toEqual([]);
    expect(backup.sent('PATCH', /\/namespaces\/production($|\/configmaps)/)).toEqual([]);
    expect(result.detail).toBe('would apply 2 objects from 1 files');
  });

  it('applies them and says which were created', async () => {
    const config = clusterConfig();
    // The namespace exists (200), the ConfigMap is new (201).
    backup.on('PATCH', '/api/v1/namespaces/production', { status: 200, body: { metadata: { name: 'production' } } });
    backup.on('PATCH', '/api/v1/namespaces/production/configmaps/frontier-config', { status: 201, body: { metadata: { name: 'frontier-config' } } });

    const result = await applyProductionManifests(config, 'backup', false, s3);

    const applied = backup.sent('PATCH', '/api/v1/namespaces/production/configmaps/frontier-config').at(-1)!;
    expect(applied).toMatchObject({ contentType: 'application/apply-patch+yaml', query: { fieldManager: 'frontier-dr', force: 'true' } });
    expect(applied.body).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'frontier-config', namespace: 'production' }, data: { emergency_mode: 'false' } });
    expect(result.actions?.every((a) => a.performed)).toBe(true);
    expect(result.actions?.map((a) => a.description)).toEqual([
      `server-side apply Namespace production on ${BACKUP} (updated)`,
      `server-side apply ConfigMap production/frontier-config on ${BACKUP} (created)`,
    ]);
    expect(result.data.sources).toEqual(['s3://frontier-dr-manifests/k8s/production/10-config.yaml']);
  });
});

describe('planEmergencyRollback and rollBackToPlannedRevision', () => {
  it('refuses a run that is not an emergency rollback', async () => {
    await expect(planEmergencyRollback(clusterConfig(), { rollback: null })).rejects.toThrow('run.rollback is missing');
  });

  it('plans the revision before the current one, then rolls back to it once', async () => {
    const config = clusterConfig(2);
    const deployment = config.kubernetes!.apiDeployment;

    const planned = await planEmergencyRollback(config, { rollback: { cluster: 'primary', namespace: NAMESPACE, deployment, toRevision: null } });
    expect(planned.data).toMatchObject({ clusterName: PRIMARY, currentRevision: 2, targetRevision: 1, targetImages: ['frontier/api:1.8.0'] });
    expect(planned.detail).toContain('revision 2 (frontier/api:1.8.1) -> 1 (frontier/api:1.8.0)');

    const plan = { cluster: 'primary' as const, namespace: NAMESPACE, deployment, targetRevision: 1, currentRevision: 2 };
    const rehearsal = await rollBackToPlannedRevision(config, plan, true);
    expect(rehearsal.actions).toEqual([
      expect.objectContaining({ operation: 'patch deployments (rollout undo)', parameters: { cluster: PRIMARY, namespace: NAMESPACE, deployment, toRevision: 1 }, performed: false }),
    ]);
    expect(rehearsal.data).toEqual({ changed: false, plannedRevision: 1 });
    expect(primary.sent('PATCH', deploymentPath(NAMESPACE, deployment))).toEqual([]);

    const rolled = await rollBackToPlannedRevision(config, plan, false);
    expect(rolled.actions?.map((a) => a.performed)).toEqual([true]);
    expect(rolled.detail).toBe('rolled back to planned revision 1: now running frontier/api:1.8.0');
    const [patch] = primary.sent('PATCH', deploymentPath(NAMESPACE, deployment));
    expect(patch).toMatchObject({ contentType: 'application/json-patch+json' });
    expect((patch!.body as { op: string; path: string; value: unknown }[])[0]).toEqual({
      op: 'replace',
      path: '/spec/template',
      value: { metadata: { labels: { app: deployment } }, spec: { containers: [{ name: 'app', image: 'frontier/api:1.8.0' }] } },
    });

    // What the controller then shows: revision 1's ReplicaSet re-numbered 3, its template on the deployment.
    primary.on('GET', deploymentPath(NAMESPACE, deployment), { body: deploymentObject({ namespace: NAMESPACE, name: deployment, image: 'frontier/api:1.8.0', replicas: 2, revision: 3 }) });
    primary.on('GET', `/apis/apps/v1/namespaces/${NAMESPACE}/replicasets`, {
      body: listOf('ReplicaSetList', [
        replicaSetObject({ namespace: NAMESPACE, name: `${deployment}-rs1`, deployment: { name: deployment }, image: 'frontier/api:1.8.0', revision: 3, history: [1] }),
        replicaSetObject({ namespace: NAMESPACE, name: `${deployment}-rs2`, deployment: { name: deployment }, image: 'frontier/api:1.8.1', revision: 2 }),
      ]),
    });
    const again = await rollBackToPlannedRevision(config, plan, false);
    expect(again.actions?.map((a) => a.performed)).toEqual([false]);
    expect(again.actions?.[0]?.description).toContain('no change needed');
    expect(again.detail).toBe('already running planned revision 1 (now numbered 3): frontier/api:1.8.0');
    expect(primary.sent('PATCH', deploymentPath(NAMESPACE, deployment))).toHaveLength(1);
  });
});

describe('repointApplication', () => {
  const SECRET_ID = 'frontier/prod/database';
  const INSTANCE = 'frontier-prod-r-202611251150';
  const ENDPOINT = { host: `${INSTANCE}.abcdefghij.us-west-2.rds.amazonaws.com`, port: 5432 };
  const OLD = { username: 'frontier_admin', password: 'p@ss:w/rd', host: 'frontier-prod.abcdefghij.us-west-2.rds.amazonaws.com', port: 5432 };
  const NEW = { ...OLD, host: ENDPOINT.host };
  // Issue 8: a repoint rebuilt this URL and lost every query parameter, TLS verification included.
  const QUERY = 'sslmode=verify-full&sslrootcert=/etc/ssl/certs/rds-global-bundle.pem&application_name=frontier-api&connect_timeout=5';
  const OLD_URL = `postgresql://frontier_admin:p%40ss%3Aw%2Frd@${OLD.host}:5432/frontier?${QUERY}`;
  let mark = 0;
  beforeEach(() => {
    mark = primary.requests.length;
  });
  const secretPath = (name: string) => `/api/v1/namespaces/${NAMESPACE}/secrets/${name}`;
  /** The primary cluster holds the Secret with these (plain) values. */
  const answerSecret = (name: string, data: Record<string, string>) => {
    const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    primary.on('GET', secretPath(name), { body: { metadata: { name, namespace: NAMESPACE }, data: encoded } });
    primary.on('PATCH', secretPath(name), { body: { metadata: { name, namespace: NAMESPACE } } });
  };
  /** The values this test's merge patches of the Secret set, decoded. */
  const patchedSecret = (name: string) =>
    primary.requests
      .slice(mark)
      .filter((r) => r.method === 'PATCH' && r.path === secretPath(name))
      .map((r) => {
        expect(r.contentType).toBe('application/merge-patch+json');
        return Object.fromEntries(Object.entries((r.body as { data: Record<string, string> }).data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      });
  const repointed = () => {
    const config = clusterConfig();
    const { name, key } = config.databases[0]!.recovery!.kubernetesSecret;
    answerSecret(name, { [key]: OLD_URL, other: 'kept' });
    return { config, database: config.databases[0]!, name, key };
  };

  it.each([
    ['a dry run', { instanceId: INSTANCE, endpoint: ENDPOINT, dryRun: true }, ENDPOINT.host],
    ['an instance with no endpoint yet', { instanceId: INSTANCE, endpoint: null, dryRun: false }, `${INSTANCE}.<endpoint once available>`],
  ])('records both changes and makes neither in %s', async (_label, request, shownHost) => {
    const { config, database, name } = repointed();

    const result = await repointApplication(config, database, request, secrets);

    expect(result.data).toEqual({ secret: null, kubernetesSecretChanged: false });
    expect(result.actions?.map((a) => [a.operation, a.performed])).toEqual([
      ['PutSecretValue', false],
      ['patch secrets', false],
    ]);
    expect(result.actions?.[0]?.parameters).toEqual({ SecretId: SECRET_ID, changes: { host: shownHost, port: 5432 } });
    expect(secretsMock.calls()).toHaveLength(0);
    expect(primary.requests.slice(mark).filter((r) => r.path === secretPath(name))).toEqual([]);
  });

  it('writes a new secret version (old one kept for failback) and the database URL the API reads', async () => {
    const { config, database, name, key } = repointed();
    secretsMock
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolvesOnce({ VersionId: 'v-old', SecretString: JSON.stringify(OLD) })
      .resolves({ VersionId: 'v-new', SecretString: JSON.stringify(NEW) });
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'v-new' });

    const result = await repointApplication(config, database, { instanceId: INSTANCE, endpoint: ENDPOINT, dryRun: false }, secrets);

    expect(secretsMock).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: SECRET_ID, ClientRequestToken: repointToken(SECRET_ID, INSTANCE, 'v-old', ENDPOINT), SecretString: JSON.stringify(NEW) });
    // Only the key is patched (a merge patch: `other` stays as it is).
    expect(patchedSecret(name)).toEqual([{ [key]: `postgresql://frontier_admin:p%40ss%3Aw%2Frd@${ENDPOINT.host}:5432/frontier?${QUERY}` }]);
    expect(result.detail).toContain('updated (host and port only; the rest of the URL kept)');
    expect(result.actions?.map((a) => a.performed)).toEqual([true, true]);
    expect(result.resources).toEqual([expect.objectContaining({ kind: 'secretsmanager:secret-version', id: `${SECRET_ID}@v-old`, kept: true })]);
    expect(result.detail).toContain(`now points at ${ENDPOINT.host} (previous host ${OLD.host}, previous version v-old kept)`);
    expect(JSON.stringify(result)).not.toContain('p@ss');
  });

  it('derives the secret version token from the secret, the restored instance, the version it builds on and the endpoint', async () => {
    const token = repointToken(SECRET_ID, INSTANCE, 'v-old', ENDPOINT);
    // A retry (same base version, same endpoint) gets the same token, hence the first attempt's version.
    expect(repointToken(SECRET_ID, INSTANCE, 'v-old', { ...ENDPOINT })).toBe(token);
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    // Anything that changes the value changes the token: Secrets Manager refuses a token reused with another value.
    expect(repointToken(SECRET_ID, `${INSTANCE}-2`, 'v-old', ENDPOINT)).not.toBe(token);
    expect(repointToken(SECRET_ID, INSTANCE, 'v-rotated', ENDPOINT)).not.toBe(token);
    expect(repointToken(SECRET_ID, INSTANCE, 'v-old', { ...ENDPOINT, host: ENDPOINT.host.replace(/us-west-2|us-east-1/, 'eu-west-1') })).not.toBe(token);
    expect(repointToken(SECRET_ID, INSTANCE, 'v-old', { ...ENDPOINT, port: 6432 })).not.toBe(token);
    expect(repointToken(`${SECRET_ID}-other`, INSTANCE, 'v-old', ENDPOINT)).not.toBe(token);
  });

  it('says the connection secret already moved when the Kubernetes patch then fails', async () => {
    const { config, database, name } = repointed();
    secretsMock
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolvesOnce({ VersionId: 'v-old', SecretString: JSON.stringify(OLD) })
      .resolves({ VersionId: 'v-new', SecretString: JSON.stringify(NEW) });
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'v-new' });
    primary.failNext({ method: 'PATCH', path: secretPath(name), status: 403 });

    const failure = repointApplication(config, database, { instanceId: INSTANCE, endpoint: ENDPOINT, dryRun: false }, secrets);

    await expect(failure).rejects.toThrow(`connection secret ${SECRET_ID} already points at ${ENDPOINT.host} (previous version v-old kept as AWSPREVIOUS); then `);
  });

  it('changes nothing when the database URL cannot be edited safely (a host in its query): checked before the connection secret moves', async () => {
    const { config, database, name, key } = repointed();
    const unsafe = `${OLD_URL}&host=${OLD.host}`;
    answerSecret(name, { [key]: unsafe });
    secretsMock.on(GetSecretValueCommand).resolves({ VersionId: 'v-old', SecretString: JSON.stringify(OLD) });

    const failure = repointApplication(config, database, { instanceId: INSTANCE, endpoint: ENDPOINT, dryRun: false }, secrets);

    await expect(failure).rejects.toThrow(InvalidConfig);
    await expect(failure).rejects.toThrow(`the database URL in ${NAMESPACE}/${name} key ${key}`);
    expect(secretsMock).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(patchedSecret(name)).toEqual([]);
  });

  it('builds the URL from the connection secret only when the key does not exist yet, and says so', async () => {
    const config = clusterConfig();
    const { name, key } = config.databases[0]!.recovery!.kubernetesSecret;
    answerSecret(name, { other: 'kept' });
    secretsMock
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolvesOnce({ VersionId: 'v-old', SecretString: JSON.stringify(OLD) })
      .resolves({ VersionId: 'v-new', SecretString: JSON.stringify(NEW) });
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'v-new' });

    const result = await repointApplication(config, config.databases[0]!, { instanceId: INSTANCE, endpoint: ENDPOINT, dryRun: false }, secrets);

    expect(patchedSecret(name)).toEqual([{ [key]: `postgresql://frontier_admin:p%40ss%3Aw%2Frd@${ENDPOINT.host}:5432/${config.databases[0]!.databaseName}` }]);
    expect(result.detail).toContain('did not exist: built from the connection secret');
  });
});
