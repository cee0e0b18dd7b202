// The cluster glue: failover assessment (an unreachable region or cluster is "unhealthy", a denial is
// an error), the manifests read from the recovery region, the rollout timeout, and the health gates
// assembled from config.
import { DescribeClusterCommand, EKSServiceException } from '@aws-sdk/client-eks';
import { GetObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { assessClusterHealth, checkRolloutProgress, connectTo, loadProductionManifests } from '../../shared/cluster-ops.js';
import { AwsAccessDenied, ResourceNotFound } from '../../shared/errors.js';
import { runConfiguredHealthGates } from '../../shared/health/gates.js';
import { checkRecoveredService } from '../../shared/health/recovered-service.js';
import { eksClient } from '../../shared/clients.js';
import { configWith } from '../support/fixtures.js';
import { deploymentObject, deploymentPath, DOUBLE_CREDENTIALS, KubeClientDouble, listOf, nodeObject, replicaSetObject, type DeploymentShape } from '../support/kube-client-double.js';

// Cluster names unique to this file: connections are cached per cluster for the container's life.
const config = configWith((c) => {
  c.kubernetes!.clusters.primary.name = 'unit-primary';
  c.kubernetes!.clusters.backup.name = 'unit-backup';
  c.kubernetes!.rolloutTimeoutMinutes = 5;
  c.health.redis = undefined;
});
const primaryEks = mockClient(eksClient('us-west-2'));
const backupEks = mockClient(eksClient('us-east-1'));
const s3 = new S3Client({ region: 'us-east-1', maxAttempts: 1 });
const s3Mock = mockClient(s3);
const secrets = new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 });
const secretsMock = mockClient(secrets);

// The backup cluster's API, answered by the client double. cluster-ops keeps one connection per cluster
// for the container's life: the first connectTo (here, with the double as its HTTP library) is the one
// every step then uses; EKS DescribeCluster is still asked for the endpoint.
const backup = new KubeClientDouble();
const describedBackup = { cluster: { name: 'unit-backup', endpoint: 'https://unit-backup.gr7.us-east-1.eks.amazonaws.com', certificateAuthority: { data: Buffer.from('a CA').toString('base64') }, status: 'ACTIVE' as const } };
const rolloutPath = deploymentPath('production', 'frontier-api');

beforeAll(async () => {
  backupEks.on(DescribeClusterCommand).resolves(describedBackup);
  await connectTo(config, 'backup', { httpApi: backup.httpApi, credentials: DOUBLE_CREDENTIALS });
});

beforeEach(() => {
  for (const mock of [primaryEks, backupEks, s3Mock, secretsMock]) mock.reset();
  backupEks.on(DescribeClusterCommand).resolves(describedBackup);
});

/** The part of the SDK's stream body the code reads. */
function body(text: string) {
  return { transformToString: async () => text } as never;
}

describe('assessClusterHealth', () => {
  it('calls a cluster whose region cannot be reached unhealthy instead of failing the step', async () => {
    primaryEks.on(DescribeClusterCommand).rejects(Object.assign(new Error('connect ETIMEDOUT 52.94.1.1:443'), { name: 'TimeoutError', code: 'ETIMEDOUT' }));

    const assessment = await assessClusterHealth(config, 'primary', 1000);

    expect(assessment).toMatchObject({ reachable: false, healthy: false });
    expect(assessment.reason).toContain('cannot reach the cluster');
  });

  it('still fails when we are denied, which is our deployment and not an outage', async () => {
    primaryEks.on(DescribeClusterCommand).rejects(new EKSServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized: eks:DescribeCluster' }));

    await expect(assessClusterHealth(config, 'primary', 1000)).rejects.toThrow(AwsAccessDenied);
  });

  it('counts Ready nodes of a reachable cluster', async () => {
    backup.on('GET', '/version', { body: { gitVersion: 'v1.34.4' } }).on('GET', '/api/v1/nodes', { body: listOf('NodeList', [nodeObject('a', true), nodeObject('b', false)]) });

    const assessment = await assessClusterHealth(config, 'backup', 2000);

    expect(assessment).toMatchObject({ reachable: true, version: 'v1.34.4', nodes: 2, readyNodes: 1, healthy: true });
  });
});

describe('checkRolloutProgress', () => {
  /** The deployment as the API answers it: 3 replicas wanted, `updated` of them on the new template. */
  const rollout = (updated: number, extra: Partial<DeploymentShape> = {}) =>
    backup.on('GET', rolloutPath, {
      body: deploymentObject({ namespace: 'production', name: 'frontier-api', image: 'frontier/api:1.8.1', replicas: 3, revision: 2, status: { replicas: 3 + (3 - updated), updatedReplicas: updated, availableReplicas: 3 }, ...extra }),
    });

  it('gives up past the configured limit, saying where the rollout stopped', async () => {
    rollout(1);
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString();

    const look = checkRolloutProgress(config, 'backup', 'production', 'frontier-api', tenMinutesAgo, new Date());

    await expect(look).rejects.toMatchObject({ name: 'RolloutTimedOut' });
    await expect(look).rejects.toThrow(/not finished after 10\.0 min \(limit 5 min\); it stopped at: 1 of 3 new replicas updated$/);
  });

  it('keeps waiting, without failing, while an unfinished rollout is within the limit', async () => {
    rollout(1);
    const twoMinutesAgo = new Date(Date.now() - 2 * 60_000).toISOString();

    const look = await checkRolloutProgress(config, 'backup', 'production', 'frontier-api', twoMinutesAgo, new Date());

    expect(look.data).toMatchObject({ done: false, waitedMinutes: 2, updatedReplicas: 1 });
    expect(look.detail).toBe('1 of 3 new replicas updated (after 2 min)');
  });

  it('reports a finished rollout within the limit', async () => {
    rollout(3);

    const { data: status, detail } = await checkRolloutProgress(config, 'backup', 'production', 'frontier-api', new Date().toISOString(), new Date());

    expect(status.done).toBe(true);
    expect(detail).toBe(`${status.message} (after 0 min)`);
  });

  it("after a rollback, ignores the deadline the replaced rollout left, with or without the rollback's ReplicaSet; fails on the current ReplicaSet's", async () => {
    const since = new Date().toISOString();
    const badReplicaSet = '/apis/apps/v1/namespaces/production/replicasets/frontier-api-bad';
    const timedOut = [
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "frontier-api-bad" has timed out progressing.', lastUpdateTime: new Date(Date.now() - 60_000).toISOString() },
    ];
    // The deployment is back on frontier/api:1.8.1; the ReplicaSet that timed out has the bad release.
    rollout(1, { conditions: timedOut });
    backup.on('GET', badReplicaSet, { body: replicaSetObject({ namespace: 'production', name: 'frontier-api-bad', deployment: { name: 'frontier-api' }, image: 'frontier/api:1.9.0', revision: 3 }) });

    const look = await checkRolloutProgress(config, 'backup', 'production', 'frontier-api', since, new Date(), { replicaSet: 'frontier-api-good' });

    expect(look.data.done).toBe(false);
    expect(look.detail).toContain('a progress deadline exceeded by an earlier rollout is ignored: it is about ReplicaSet frontier-api-bad, not frontier-api-good');
    // Without the rollback's ReplicaSet, the look reads the one the condition names: not the deployment's template.
    const unknowing = await checkRolloutProgress(config, 'backup', 'production', 'frontier-api', since, new Date());
    expect(unknowing.data.done).toBe(false);
    expect(unknowing.detail).toContain('it is about ReplicaSet frontier-api-bad, whose pod template the deployment no longer has');

    // The deployment on the bad release: the condition is its own rollout's, and fails the look.
    rollout(1, { image: 'frontier/api:1.9.0', conditions: timedOut });
    await expect(checkRolloutProgress(config, 'backup', 'production', 'frontier-api', since, new Date())).rejects.toMatchObject({ name: 'RolloutFailed' });
  });
});

describe('loadProductionManifests', () => {
  it('reads every YAML file under the prefix across pages, in key order', async () => {
    s3Mock
      .on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'k8s/production/20-api.yaml' }, { Key: 'k8s/production/README.md' }], IsTruncated: true, NextContinuationToken: 'page-2' })
      .resolvesOnce({ Contents: [{ Key: 'k8s/production/00-namespace.yml' }], IsTruncated: false });
    s3Mock.on(GetObjectCommand, { Key: 'k8s/production/00-namespace.yml' }).callsFake(() => ({ Body: body('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: production\n') }));
    s3Mock.on(GetObjectCommand, { Key: 'k8s/production/20-api.yaml' }).callsFake(() => ({
      Body: body('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frontier-config\ndata:\n  emergency_mode: "false"\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: frontier-api\nspec:\n  ports: [{port: 80}]\n'),
    }));

    const manifests = await loadProductionManifests(s3, config);

    expect(manifests.sources).toEqual(['s3://frontier-dr-manifests/k8s/production/00-namespace.yml', 's3://frontier-dr-manifests/k8s/production/20-api.yaml']);
    expect(manifests.documents.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['Namespace/production', 'ConfigMap/frontier-config', 'Service/frontier-api']);
    expect(s3Mock).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'frontier-dr-manifests', Prefix: 'k8s/production/' });
  });

  it('fails with ResourceNotFound when there is nothing to apply', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'k8s/production/notes.txt' }] });

    await expect(loadProductionManifests(s3, config)).rejects.toThrow(ResourceNotFound);
  });

  it('names the bucket when it may not read it', async () => {
    s3Mock.on(ListObjectsV2Command).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));

    await expect(loadProductionManifests(s3, config)).rejects.toThrow('s3:ListObjectsV2 on s3://frontier-dr-manifests/k8s/production/ was denied');
  });
});

describe('runConfiguredHealthGates', () => {
  it('lists the gates the config leaves out, so the report can say they were not checked', async () => {
    const apiOnly = configWith((c) => {
      c.health.database = undefined;
      c.health.redis = undefined;
      c.kubernetes!.clusters.backup.healthUrl = 'http://127.0.0.1:9/health';
    });

    const outcome = await runConfiguredHealthGates(apiOnly, apiOnly.kubernetes!.clusters.backup, { secrets });

    expect(outcome.checks.map((c) => c.name)).toEqual(['api-health']);
    expect(outcome.allPassed).toBe(false);
    expect(outcome.notConfigured).toEqual(['database SELECT 1 (health.database)', 'Redis PING (health.redis)']);
  });

  it('refuses a connection secret without a host: it cannot tell where the application connects', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'app', password: 'secret-value-123' }) });
    const withDatabase = configWith((c) => {
      c.health.redis = undefined;
      c.kubernetes!.clusters.backup.healthUrl = 'http://127.0.0.1:9/health';
    });

    const gates = runConfiguredHealthGates(withDatabase, withDatabase.kubernetes!.clusters.backup, { secrets });

    await expect(gates).rejects.toThrow('secret frontier/prod/database has no host field');
    await expect(gates).rejects.not.toThrow('secret-value-123');
  });
});

describe('checkRecoveredService', () => {
  const INCIDENT = '2026-11-25T11:40:00.000Z';
  const RECOVERED = new Date('2026-11-25T12:00:00.000Z');
  const gateCheck = (passed: boolean) => ({ name: 'api-health', resource: 'https://api', measured: passed ? '200' : '503', target: '200', passed, message: '' });
  const gates = (allPassed: boolean, notConfigured: string[] = []) => async () => ({ allPassed, checks: [gateCheck(allPassed)], notConfigured });
  const clusterRun = { dryRun: false, incidentAt: INCIDENT, trigger: 'alarm frontier-prod-cluster-unreachable', recovery: null };

  it('measures a cluster recovery against the API objective, from the incident to when the gates passed', async () => {
    const result = await checkRecoveredService(config, { run: clusterRun, cluster: 'backup' }, { secrets }, () => RECOVERED, gates(true));

    expect(result.data).toEqual({ allPassed: true, notConfigured: [] });
    expect(result.objectives).toEqual([
      expect.objectContaining({ component: 'API Services', measuredRtoMinutes: 20, measuredRpoMinutes: null, met: false, note: expect.stringContaining('unit-backup serving and healthy 20.0 min after the incident (alarm frontier-prod-cluster-unreachable)') }),
    ]);
    expect(result.detail).toBe('1/1 gates passed');
  });

  it('measures a database recovery against its database row, with the lock\'s incident and the data lost', async () => {
    const run = { ...clusterRun, incidentAt: '2026-11-25T11:59:00.000Z', recovery: { database: 'frontier-prod', snapshot: null, restoreTime: null, sourceInstance: 'frontier-prod' } };

    const result = await checkRecoveredService(config, { run, cluster: 'primary', incidentAt: INCIDENT, dataLossMinutes: 4 }, { secrets }, () => RECOVERED, gates(true));

    expect(result.objectives).toEqual([
      expect.objectContaining({ component: 'Database', measuredRtoMinutes: 20, measuredRpoMinutes: 4, met: true, note: expect.stringContaining('frontier-prod restored and unit-primary serving') }),
    ]);
    expect(result.objectives?.[0]?.note).toContain('; 4 min of writes before the incident lost');
  });

  it('misses the objective, measuring nothing, when a gate failed', async () => {
    const result = await checkRecoveredService(config, { run: clusterRun, cluster: 'backup', dataLossMinutes: 4 }, { secrets }, () => RECOVERED, gates(false, ['Redis PING (health.redis)']));

    expect(result.data.allPassed).toBe(false);
    expect(result.objectives).toEqual([expect.objectContaining({ measuredRtoMinutes: null, measuredRpoMinutes: null, met: null, note: 'not recovered: the health gates did not pass' })]);
    expect(result.detail).toBe('0/1 gates passed; not configured: Redis PING (health.redis)');
  });

  it('measures no recovery time in a dry run, which changed nothing', async () => {
    const result = await checkRecoveredService(config, { run: { ...clusterRun, dryRun: true }, cluster: 'backup' }, { secrets }, () => RECOVERED, gates(true));

    expect(result.objectives).toEqual([]);
    expect(result.checks).toHaveLength(1);
  });

  it('probes the serving cluster the state names', async () => {
    const probed: string[] = [];
    const recording = async (_config: unknown, serving: { name: string }) => {
      probed.push(serving.name);
      return { allPassed: true, checks: [], notConfigured: [] };
    };

    await checkRecoveredService(config, { run: clusterRun, cluster: 'primary' }, { secrets }, () => RECOVERED, recording as never);

    expect(probed).toEqual(['unit-primary']);
  });
});
