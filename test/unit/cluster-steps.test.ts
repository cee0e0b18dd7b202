// The Kubernetes steps as shared/ decides them (cluster-ops.ts, repoint.ts): dry runs record the exact
// call and make none, re-runs change nothing twice, the replica count is remembered once, a lost lock or
// a failed call stops the step. Clusters are Kubernetes fakes on loopback (EKS answered by a client
// mock); DynamoDB, S3 and Secrets Manager are client mocks with their faults.
import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import {
  applyProductionManifests,
  assessClusterForFailover,
  planEmergencyRollback,
  rollBackToPlannedRevision,
  scaleApi,
  stopApiWrites,
} from '../../shared/cluster-ops.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { InvalidConfig, InvalidInput, RecoveryLockLost } from '../../shared/errors.js';
import { eksClient } from '../../shared/clients.js';
import { repointApplication, repointToken } from '../../shared/repoint.js';
import { describedCluster, useFakeClusterCredentials } from '../support/cluster-fixtures.js';
import { configWith } from '../support/fixtures.js';
import { startKubeFake, type KubeFake } from '../../local/kube-fake.js';

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

let primary: KubeFake;
let backup: KubeFake;
let deployments = 0;

/** The example deployment on the two fakes, with an API deployment of its own so tests do not share one. */
function clusterConfig(apiReplicas = 3, change: (c: DeploymentConfig) => void = () => undefined): DeploymentConfig {
  const api = `api-${++deployments}`;
  primary.addDeployment(NAMESPACE, api, { revisions: ['frontier/api:1.8.0', 'frontier/api:1.8.1'], replicas: apiReplicas });
  backup.addDeployment(NAMESPACE, api, { revisions: ['frontier/api:1.8.1'], replicas: 0 });
  return configWith((c) => {
    c.kubernetes!.clusters.primary.name = PRIMARY;
    c.kubernetes!.clusters.backup.name = BACKUP;
    c.kubernetes!.apiDeployment = api;
    c.kubernetes!.productionReplicas = 4;
    change(c);
  });
}

const replicasOf = (fake: KubeFake, config: DeploymentConfig) => (fake.deployment(NAMESPACE, config.kubernetes!.apiDeployment)?.spec as { replicas?: number }).replicas;
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });

beforeAll(async () => {
  useFakeClusterCredentials();
  primary = await startKubeFake({ clusterName: PRIMARY, tickMs: 10 });
  backup = await startKubeFake({ clusterName: BACKUP, tickMs: 10 });
  primary.addNode(true);
  backup.addNode(true);
  backup.addNode(true);
});

afterAll(async () => {
  await primary?.stop();
  await backup?.stop();
});

beforeEach(() => {
  for (const mock of [primaryEks, backupEks, ddbMock, s3Mock, secretsMock]) mock.reset();
  primaryEks.on(DescribeClusterCommand).resolves(describedCluster(PRIMARY, 'us-west-2', primary.url));
  backupEks.on(DescribeClusterCommand).resolves(describedCluster(BACKUP, 'us-east-1', backup.url));
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
    expect(replicasOf(primary, config)).toBe(3);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('scales the API to 0 and remembers its 3 replicas in the lock, only if none are remembered', async () => {
    const config = clusterConfig(3);
    ddbMock.on(UpdateItemCommand).resolves({});

    const result = await stopApiWrites(config, lock, run, 'frontier-prod');

    expect(replicasOf(primary, config)).toBe(0);
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
    primary.failNext({ method: 'PATCH', path: `/deployments/${config.kubernetes!.apiDeployment}/scale`, status: 403, reason: 'Forbidden' });

    await expect(stopApiWrites(config, lock, run, 'frontier-prod')).rejects.toThrow(/403|forbidden/i);
    expect(ddbMock.calls()).toHaveLength(0);
    expect(replicasOf(primary, config)).toBe(3);
  });
});

describe('scaleApi', () => {
  it.each([-1, 1.5, Number.NaN])('refuses %p replicas before any call', async (replicas) => {
    const config = clusterConfig(0);

    await expect(scaleApi(config, 'backup', replicas, false)).rejects.toThrow(InvalidInput);
    expect(backupEks.calls()).toHaveLength(0);
  });

  it('records the scale in a dry run and leaves the deployment alone', async () => {
    const config = clusterConfig(0);

    const result = await scaleApi(config, 'backup', 3, true);

    expect(result.actions).toEqual([expect.objectContaining({ operation: 'patch deployments/scale', parameters: expect.objectContaining({ cluster: BACKUP, replicas: 3 }), performed: false })]);
    expect(result.data.previousReplicas).toBeNull();
    expect(replicasOf(backup, config)).toBe(0);
  });

  it('scales, keeping the previous count for failback', async () => {
    const config = clusterConfig(0);

    const result = await scaleApi(config, 'backup', 3, false);

    expect(replicasOf(backup, config)).toBe(3);
    expect(result.data).toMatchObject({ previousReplicas: 0, replicas: 3, changed: true });
    expect(result.actions?.map((a) => a.performed)).toEqual([true]);
    expect(result.detail).toBe('scaled from 0 to 3 (previous count kept for failback)');
  });

  it('changes nothing when the API already runs that many replicas', async () => {
    const config = clusterConfig(0);
    await scaleApi(config, 'backup', 3, false);

    const again = await scaleApi(config, 'backup', 3, false);

    expect(again.actions?.map((a) => a.performed)).toEqual([false]);
    expect(again.detail).toBe('already at 3 replicas');
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
    expect(backup.configMapData(NAMESPACE, 'frontier-config')).toBeUndefined();
    expect(result.detail).toBe('would apply 2 objects from 1 files');
  });

  it('applies them and says which were created', async () => {
    const config = clusterConfig();

    const result = await applyProductionManifests(config, 'backup', false, s3);

    expect(backup.configMapData(NAMESPACE, 'frontier-config')).toEqual({ emergency_mode: 'false' });
    expect(result.actions?.every((a) => a.performed)).toBe(true);
    expect(result.actions?.map((a) => a.description)).toContain(`server-side apply ConfigMap production/frontier-config on ${BACKUP} (created)`);
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

    const rolled = await rollBackToPlannedRevision(config, plan, false);
    expect(rolled.actions?.map((a) => a.performed)).toEqual([true]);
    expect(rolled.detail).toMatch(/^rolled back to planned revision 1( \(now numbered \d+\))?: now running frontier\/api:1\.8\.0$/);

    const again = await rollBackToPlannedRevision(config, plan, false);
    expect(again.actions?.map((a) => a.performed)).toEqual([false]);
    expect(again.actions?.[0]?.description).toContain('no change needed');
    expect(again.detail).toContain('already running planned revision 1');
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
  const repointed = () => {
    const config = clusterConfig();
    const { name, key } = config.databases[0]!.recovery!.kubernetesSecret;
    primary.addSecret(NAMESPACE, name, { [key]: OLD_URL, other: 'kept' });
    return { config, database: config.databases[0]!, name, key };
  };

  it.each([
    ['a dry run', { instanceId: INSTANCE, endpoint: ENDPOINT, dryRun: true }, ENDPOINT.host],
    ['an instance with no endpoint yet', { instanceId: INSTANCE, endpoint: null, dryRun: false }, `${INSTANCE}.<endpoint once available>`],
  ])('records both changes and makes neither in %s', async (_label, request, shownHost) => {
    const { config, database, name, key } = repointed();

    const result = await repointApplication(config, database, request, secrets);

    expect(result.data).toEqual({ secret: null, kubernetesSecretChanged: false });
    expect(result.actions?.map((a) => [a.operation, a.performed])).toEqual([
      ['PutSecretValue', false],
      ['patch secrets', false],
    ]);
    expect(result.actions?.[0]?.parameters).toEqual({ SecretId: SECRET_ID, changes: { host: shownHost, port: 5432 } });
    expect(secretsMock.calls()).toHaveLength(0);
    expect(primary.secretData(NAMESPACE, name)).toEqual({ [key]: OLD_URL, other: 'kept' });
  });

  it('writes a new secret version (old one kept for failback) and the database URL the API reads', async () => {
    const { config, database, name, key } = repointed();
    secretsMock
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolvesOnce({ VersionId: 'v-old', SecretString: JSON.stringify(OLD) })
      .resolves({ VersionId: 'v-new', SecretString: JSON.stringify(NEW) });
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'v-new' });

    const result = await repointApplication(config, database, { instanceId: INSTANCE, endpoint: ENDPOINT, dryRun: false }, secrets);

    expect(secretsMock).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: SECRET_ID, ClientRequestToken: repointToken(SECRET_ID, INSTANCE), SecretString: JSON.stringify(NEW) });
    expect(primary.secretData(NAMESPACE, name)).toEqual({ [key]: `postgresql://frontier_admin:p%40ss%3Aw%2Frd@${ENDPOINT.host}:5432/frontier?${QUERY}`, other: 'kept' });
    expect(result.detail).toContain('updated (host and port only; the rest of the URL kept)');
    expect(result.actions?.map((a) => a.performed)).toEqual([true, true]);
    expect(result.resources).toEqual([expect.objectContaining({ kind: 'secretsmanager:secret-version', id: `${SECRET_ID}@v-old`, kept: true })]);
    expect(result.detail).toContain(`now points at ${ENDPOINT.host} (previous host ${OLD.host}, previous version v-old kept)`);
    expect(JSON.stringify(result)).not.toContain('p@ss');
  });

  it('derives the secret version token from the secret and the restored instance, so a retry reuses the version', async () => {
    expect(repointToken(SECRET_ID, INSTANCE)).toBe(repointToken(SECRET_ID, INSTANCE));
    expect(repointToken(SECRET_ID, INSTANCE)).not.toBe(repointToken(SECRET_ID, `${INSTANCE}-2`));
    expect(repointToken(SECRET_ID, INSTANCE)).toHaveLength(48);
  });

  it('says the connection secret already moved when the Kubernetes patch then fails', async () => {
    const { config, database, name } = repointed();
    secretsMock
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolvesOnce({ VersionId: 'v-old', SecretString: JSON.stringify(OLD) })
      .resolves({ VersionId: 'v-new', SecretString: JSON.stringify(NEW) });
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'v-new' });
    primary.failNext({ method: 'PATCH', path: `/secrets/${name}`, status: 403, reason: 'Forbidden', times: 1 });

    const failure = repointApplication(config, database, { instanceId: INSTANCE, endpoint: ENDPOINT, dryRun: false }, secrets);

    await expect(failure).rejects.toThrow(`connection secret ${SECRET_ID} already points at ${ENDPOINT.host} (previous version v-old kept as AWSPREVIOUS); then `);
  });

  it('changes nothing when the database URL cannot be edited safely (a host in its query): checked before the connection secret moves', async () => {
    const { config, database, name, key } = repointed();
    const unsafe = `${OLD_URL}&host=${OLD.host}`;
    primary.addSecret(NAMESPACE, name, { [key]: unsafe });
    secretsMock.on(GetSecretValueCommand).resolves({ VersionId: 'v-old', SecretString: JSON.stringify(OLD) });

    const failure = repointApplication(config, database, { instanceId: INSTANCE, endpoint: ENDPOINT, dryRun: false }, secrets);

    await expect(failure).rejects.toThrow(InvalidConfig);
    await expect(failure).rejects.toThrow(`the database URL in ${NAMESPACE}/${name} key ${key}`);
    expect(secretsMock).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(primary.secretData(NAMESPACE, name)).toEqual({ [key]: unsafe });
  });

  it('builds the URL from the connection secret only when the key does not exist yet, and says so', async () => {
    const config = clusterConfig();
    const { name, key } = config.databases[0]!.recovery!.kubernetesSecret;
    primary.addSecret(NAMESPACE, name, { other: 'kept' });
    secretsMock
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolvesOnce({ VersionId: 'v-old', SecretString: JSON.stringify(OLD) })
      .resolves({ VersionId: 'v-new', SecretString: JSON.stringify(NEW) });
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'v-new' });

    const result = await repointApplication(config, config.databases[0]!, { instanceId: INSTANCE, endpoint: ENDPOINT, dryRun: false }, secrets);

    expect(primary.secretData(NAMESPACE, name)).toEqual({ [key]: `postgresql://frontier_admin:p%40ss%3Aw%2Frd@${ENDPOINT.host}:5432/${config.databases[0]!.databaseName}`, other: 'kept' });
    expect(result.detail).toContain('did not exist: built from the connection secret');
  });
});
