// collectEvidence (shared/evidence.ts) as it decides: which pods and containers, the log window and caps,
// the keys, the checksums sent to S3 and reported, the manifest, the dry run, and every failure of S3,
// RDS and Kubernetes. The cluster is the client double (test/support/kube-client-double.ts); S3 and RDS
// are client mocks answering with real SDK exceptions. The objects really stored (moto) and the logs
// really served (kwok) are the integration tier's (test/integration/evidence.test.ts).
import { createHash } from 'node:crypto';
import { DescribeDBLogFilesCommand, DBInstanceNotFoundFault, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { NoSuchBucket, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { handler } from '../../functions/collect-evidence/handler.js';
import { connectTo } from '../../shared/cluster-ops.js';
import { rdsClient, s3Client } from '../../shared/clients.js';
import type { DeploymentConfig } from '../../shared/config.js';
import {
  AwsAccessDenied,
  AwsTransientError,
  EvidenceBucketUnprotected,
  EvidenceChecksumMismatch,
  InvalidConfig,
  InvalidInput,
  KubernetesNotFound,
  KubernetesRejected,
  KubernetesTransientError,
  KubernetesUnauthorized,
  KubernetesUnreachable,
  ResourceNotFound,
} from '../../shared/errors.js';
import { collectEvidence, logWindowSeconds, perContainerCap, POD_LOG_CAP_BYTES, POD_LOGS_TOTAL_BYTES, sha256Base64, type EvidenceDependencies } from '../../shared/evidence.js';
import type { KubernetesConnection } from '../../shared/kubernetes/connection.js';
import type { RunContext } from '../../shared/run.js';
import { configWith, useConfig } from '../support/fixtures.js';
import { connectToDouble, deploymentObject, deploymentPath, DOUBLE_CREDENTIALS, DOUBLE_SERVER, KubeClientDouble, listOf, podObject } from '../support/kube-client-double.js';

const NS = 'production';
const API = 'frontier-api';
const BUCKET = 'frontier-prod-evidence';
const STARTED = '2026-11-25T12:00:00.000Z';
const NOW = new Date('2026-11-25T12:10:00.000Z');
const FOLDER = 'incidents/SEC-2026-041/incident-run-1/';
const podsPath = `/api/v1/namespaces/${NS}/pods`;
const logPath = (pod: string) => `${podsPath}/${pod}/log`;

const s3 = new S3Client({ region: 'us-east-1', maxAttempts: 1 });
const rds = new RDSClient({ region: 'us-west-2', maxAttempts: 1 });
const s3Mock = mockClient(s3);
const rdsMock = mockClient(rds);

function incidentConfig(change: (c: DeploymentConfig) => void = () => undefined): DeploymentConfig {
  return configWith((c) => {
    (c as unknown as { securityIncident: unknown }).securityIncident = { evidence: { bucket: BUCKET, logHours: 24 } };
    change(c);
  });
}

function incidentRun(overrides: Partial<RunContext> = {}): RunContext {
  return {
    scenario: 'security-incident',
    executionId: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-security-incident:incident-run-1',
    executionName: 'incident-run-1',
    startedAt: STARTED,
    incidentAt: STARTED,
    incidentNamedByOperator: false,
    trigger: 'manual',
    dryRun: false,
    reason: null,
    databases: ['frontier-prod'],
    force: false,
    rollback: null,
    productionReplicas: null,
    recovery: null,
    securityIncident: { incidentId: 'SEC-2026-041', blockIps: [], patchedImage: null, secrets: [] },
    ...overrides,
  };
}

/** A cluster with the API deployment (selector app=frontier-api) and the given pods answering logs. */
function cluster(pods = [podObject(NS, 'frontier-api-a', { app: API }), podObject(NS, 'frontier-api-b', { app: API }, ['api', 'envoy'])]): KubeClientDouble {
  return new KubeClientDouble()
    .on('GET', deploymentPath(NS, API), { body: deploymentObject({ namespace: NS, name: API, image: 'frontier/api:1.8.1', labels: { app: API } }) })
    .on('GET', podsPath, { body: listOf('PodList', pods) })
    .on('GET', /\/log$/, (request) => ({ body: `2026-11-25T11:59:00.000000000Z ${request.path.split('/')[6]}/${request.query.container} GET /health 200\n` }));
}

let connections = 0;
function deps(double: KubeClientDouble): EvidenceDependencies & { connected: () => number } {
  let made = 0;
  let conn: Promise<KubernetesConnection> | undefined;
  return {
    s3,
    rds,
    connection: () => {
      made++;
      conn ??= connectToDouble(double, { clusterName: `evidence-${++connections}`, requestTimeoutMs: 200 });
      return conn;
    },
    connected: () => made,
  };
}

/** What S3 was sent, per key: the body as text, the checksum header and algorithm. */
function stored(): Map<string, { body: string; sha256: string | undefined; algorithm: string | undefined; contentType: string | undefined }> {
  return new Map(
    s3Mock.commandCalls(PutObjectCommand).map((call) => {
      const input = call.args[0].input;
      return [input.Key!, { body: Buffer.from(input.Body as Buffer).toString('utf8'), sha256: input.ChecksumSHA256, algorithm: input.ChecksumAlgorithm, contentType: input.ContentType }];
    }),
  );
}

let versions = 0;
beforeEach(() => {
  s3Mock.reset();
  rdsMock.reset();
  // S3 answers with the checksum it computed over what it received, and a new version each time.
  s3Mock.on(PutObjectCommand).callsFake((input: { Body: Buffer }) => ({ VersionId: `v${++versions}`, ChecksumSHA256: sha256Base64(Buffer.from(input.Body)) }));
  rdsMock.on(DescribeDBLogFilesCommand).resolves({
    DescribeDBLogFiles: [
      { LogFileName: 'error/postgresql.log.2026-11-25-11', LastWritten: Date.parse('2026-11-25T11:59:59Z'), Size: 2048 },
      { LogFileName: 'error/postgresql.log.2026-11-25-10', LastWritten: Date.parse('2026-11-25T10:59:59Z'), Size: 1024 },
    ],
  });
});

describe('collectEvidence', () => {
  it('stores every container log of the API pods, the database log-file list and a manifest, each with the SHA-256 S3 verified, under the incident and execution', async () => {
    const double = cluster();
    const result = await collectEvidence(incidentConfig(), incidentRun(), deps(double), () => NOW);

    const keys = result.data.objects.map((o) => o.key);
    expect(keys).toEqual([
      `${FOLDER}database-log-files/frontier-prod.json`,
      `${FOLDER}pod-logs/frontier-api-a/app.log`,
      `${FOLDER}pod-logs/frontier-api-b/api.log`,
      `${FOLDER}pod-logs/frontier-api-b/envoy.log`,
      `${FOLDER}manifest.json`,
    ]);
    expect(result.data).toMatchObject({ bucket: BUCKET, prefix: FOLDER });
    const sent = stored();
    for (const object of result.data.objects) {
      const put = sent.get(object.key)!;
      // The checksum reported is the content's own, and the one S3 was asked to verify.
      const digest = createHash('sha256').update(put.body, 'utf8').digest('base64');
      expect(object.sha256).toBe(digest);
      expect(put.sha256).toBe(digest);
      expect(put.algorithm).toBe('SHA256');
      expect(object.bytes).toBe(Buffer.byteLength(put.body));
      expect(object.versionId).toMatch(/^v\d+$/);
    }
    expect(sent.get(`${FOLDER}pod-logs/frontier-api-b/envoy.log`)!.body).toBe('2026-11-25T11:59:00.000000000Z frontier-api-b/envoy GET /health 200\n');
    expect(sent.get(`${FOLDER}pod-logs/frontier-api-b/envoy.log`)!.contentType).toBe('text/plain; charset=utf-8');
    expect(result.data.objects.find((o) => o.kind === 'pod-log')).toMatchObject({ truncated: false });
    expect(result.data.pods).toEqual([
      { pod: 'frontier-api-a', container: 'app', key: `${FOLDER}pod-logs/frontier-api-a/app.log`, truncated: false },
      { pod: 'frontier-api-b', container: 'api', key: `${FOLDER}pod-logs/frontier-api-b/api.log`, truncated: false },
      { pod: 'frontier-api-b', container: 'envoy', key: `${FOLDER}pod-logs/frontier-api-b/envoy.log`, truncated: false },
    ]);
    expect(result.data.databases).toEqual([{ database: 'frontier-prod', instance: 'frontier-prod', region: 'us-west-2', logFiles: 2, key: `${FOLDER}database-log-files/frontier-prod.json` }]);
    expect(JSON.parse(sent.get(`${FOLDER}database-log-files/frontier-prod.json`)!.body)).toMatchObject({
      database: 'frontier-prod',
      region: 'us-west-2',
      logFiles: [
        { logFileName: 'error/postgresql.log.2026-11-25-11', size: 2048, lastWrittenAt: '2026-11-25T11:59:59.000Z' },
        { logFileName: 'error/postgresql.log.2026-11-25-10', size: 1024, lastWrittenAt: '2026-11-25T10:59:59.000Z' },
      ],
    });
    expect(result.actions?.every((a) => a.performed && a.operation === 'PutObject')).toBe(true);
    expect(result.actions).toHaveLength(5);
  });

  it('writes the manifest last, listing every other object with the same checksum and version the result reports', async () => {
    const result = await collectEvidence(incidentConfig(), incidentRun(), deps(cluster()), () => NOW);

    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(puts.at(-1)).toBe(`${FOLDER}manifest.json`);
    const manifest = JSON.parse(stored().get(`${FOLDER}manifest.json`)!.body) as { objects: unknown[]; incidentId: string; executionName: string; selector: string; window: unknown };
    expect(manifest).toMatchObject({ incidentId: 'SEC-2026-041', executionName: 'incident-run-1', selector: `app=${API}`, window: result.data.window });
    expect(manifest.objects).toEqual(result.data.objects.filter((o) => o.kind !== 'manifest'));
    expect(result.data.objects.find((o) => o.kind === 'manifest')!.sha256).toBe(sha256Base64(Buffer.from(stored().get(`${FOLDER}manifest.json`)!.body)));
  });

  it('asks for the logs since logHours before the run started, with the per-container cap, for the deployment selector only', async () => {
    const double = cluster();
    const result = await collectEvidence(incidentConfig((c) => (c.securityIncident!.evidence.logHours = 2)), incidentRun(), deps(double), () => NOW);

    // 2 h before the start, plus the 10 minutes since: 7,800 s, from 10:00.
    expect(double.sent('GET', podsPath).map((r) => r.query.labelSelector)).toEqual([`app=${API}`, `app=${API}`]);
    expect(double.sent('GET', /\/log$/).map((r) => r.query)).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ sinceSeconds: '7800', timestamps: 'true', limitBytes: String(POD_LOG_CAP_BYTES + 1) })),
    );
    expect(result.data.window).toEqual({ from: '2026-11-25T10:00:00.000Z', to: NOW.toISOString() });
  });

  it('flags a log cut at its cap as truncated, in the result and the manifest', async () => {
    const pods = Array.from({ length: 8 }, (_, i) => podObject(NS, `frontier-api-${i}`, { app: API }));
    const cap = POD_LOGS_TOTAL_BYTES / 8;
    const double = cluster(pods).on('GET', logPath('frontier-api-3'), (request) => ({ body: 'x'.repeat(Number(request.query.limitBytes)) }));

    const result = await collectEvidence(incidentConfig(), incidentRun(), deps(double), () => NOW);

    expect(double.sent('GET', logPath('frontier-api-3'))[0]!.query.limitBytes).toBe(String(cap + 1));
    const cut = result.data.objects.find((o) => o.key.endsWith('frontier-api-3/app.log'))!;
    expect(cut).toMatchObject({ truncated: true, bytes: cap });
    expect(result.data.pods.find((p) => p.pod === 'frontier-api-3')).toMatchObject({ truncated: true });
    expect(result.data.objects.filter((o) => o.truncated).map((o) => o.key)).toEqual([cut.key]);
    const manifest = JSON.parse(stored().get(`${FOLDER}manifest.json`)!.body) as { objects: { key: string; truncated?: boolean }[] };
    expect(manifest.objects.find((o) => o.key === cut.key)!.truncated).toBe(true);
    expect(result.detail).toContain(`1 log(s) cut at ${cap} bytes`);
  }, 30_000);

  it('lists a container without a log with its reason, stores the others, and does not fail', async () => {
    const double = cluster().failNext({ path: logPath('frontier-api-a'), status: 400, message: 'container "app" in pod "frontier-api-a" is waiting to start: ContainerCreating' });

    const result = await collectEvidence(incidentConfig(), incidentRun(), deps(double), () => NOW);

    expect(result.data.pods[0]).toEqual({ pod: 'frontier-api-a', container: 'app', key: null, truncated: false, error: expect.stringContaining('waiting to start') });
    expect(result.data.objects.filter((o) => o.kind === 'pod-log')).toHaveLength(2);
    expect(result.detail).toContain('1 container(s) without a log');
  });

  it('collects the log-file lists of every database of the run, every page', async () => {
    const config = incidentConfig((c) => c.databases.push({ ...structuredClone(c.databases[0]!), name: 'frontier-orders', credentialsSecret: 'frontier/orders/database' }));
    rdsMock
      .on(DescribeDBLogFilesCommand, { DBInstanceIdentifier: 'frontier-prod', Marker: undefined })
      .resolves({ DescribeDBLogFiles: [{ LogFileName: 'a', Size: 1, LastWritten: 0 }], Marker: 'page-2' })
      .on(DescribeDBLogFilesCommand, { DBInstanceIdentifier: 'frontier-prod', Marker: 'page-2' })
      .resolves({ DescribeDBLogFiles: [{ LogFileName: 'b', Size: 2, LastWritten: 0 }] })
      .on(DescribeDBLogFilesCommand, { DBInstanceIdentifier: 'frontier-orders' })
      .resolves({ DescribeDBLogFiles: [] });

    const result = await collectEvidence(config, incidentRun({ databases: ['frontier-prod', 'frontier-orders'] }), deps(cluster()), () => NOW);

    expect(result.data.databases.map((d) => [d.database, d.logFiles])).toEqual([
      ['frontier-prod', 2],
      ['frontier-orders', 0],
    ]);
    const names = JSON.parse(stored().get(`${FOLDER}database-log-files/frontier-prod.json`)!.body).logFiles.map((f: { logFileName: string }) => f.logFileName);
    expect(names).toEqual(['a', 'b']);
  });

  it('in a dry run lists the pods, containers and databases it would collect and the objects it would store, reading no log and storing nothing', async () => {
    const double = cluster();
    const result = await collectEvidence(incidentConfig(), incidentRun({ dryRun: true }), deps(double), () => NOW);

    expect(double.sent('GET', /\/log$/)).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(rdsMock.calls()).toHaveLength(0);
    expect(result.data.objects).toEqual([]);
    expect(result.data.pods.map((p) => [p.pod, p.container, p.key])).toEqual([
      ['frontier-api-a', 'app', null],
      ['frontier-api-b', 'api', null],
      ['frontier-api-b', 'envoy', null],
    ]);
    expect(result.data.databases).toEqual([{ database: 'frontier-prod', instance: 'frontier-prod', region: 'us-west-2', logFiles: null, key: `${FOLDER}database-log-files/frontier-prod.json` }]);
    expect(result.actions!.map((a) => [a.parameters.Key, a.performed])).toEqual([
      [`${FOLDER}pod-logs/frontier-api-a/app.log`, false],
      [`${FOLDER}pod-logs/frontier-api-b/api.log`, false],
      [`${FOLDER}pod-logs/frontier-api-b/envoy.log`, false],
      [`${FOLDER}database-log-files/frontier-prod.json`, false],
      [`${FOLDER}manifest.json`, false],
    ]);
    expect(result.actions![0]!.parameters).toEqual({ Bucket: BUCKET, Key: `${FOLDER}pod-logs/frontier-api-a/app.log`, ChecksumAlgorithm: 'SHA256' });
    expect(result.detail).toContain('would collect the logs of 3 container(s) in 2 pod(s)');
  });

  it('run again, stores new versions under the same keys (nothing replaced: the bucket keeps the earlier ones)', async () => {
    const first = await collectEvidence(incidentConfig(), incidentRun(), deps(cluster()), () => NOW);
    const second = await collectEvidence(incidentConfig(), incidentRun(), deps(cluster()), () => NOW);

    expect(second.data.objects.map((o) => o.key)).toEqual(first.data.objects.map((o) => o.key));
    for (const [i, object] of second.data.objects.entries()) expect(object.versionId).not.toBe(first.data.objects[i]!.versionId);
  });

  it('asks nothing of the cluster when there are no pods: the lists and manifest are still stored', async () => {
    const double = cluster([]);
    const result = await collectEvidence(incidentConfig(), incidentRun(), deps(double), () => NOW);

    expect(double.sent('GET', /\/log$/)).toHaveLength(0);
    expect(result.data.objects.map((o) => o.kind)).toEqual(['database-log-files', 'manifest']);
    expect(result.data.pods).toEqual([]);
  });

  it('refuses a run that is not a security incident, and a config without the section, before any call', async () => {
    const d = deps(cluster());
    await expect(collectEvidence(incidentConfig(), incidentRun({ securityIncident: undefined }), d, () => NOW)).rejects.toThrow(InvalidInput);
    const withoutSection = configWith((raw) => {
      delete raw.securityIncident;
    });
    await expect(collectEvidence(withoutSection, incidentRun(), d, () => NOW)).rejects.toThrow(InvalidConfig);
    expect(d.connected()).toBe(0);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  describe('failures', () => {
    const s3Error = (name: string, status: number, message = name) => new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message });
    const rdsError = (name: string, status: number) => new RDSServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });

    it.each([
      ['a missing bucket', new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'The specified bucket does not exist' }), ResourceNotFound],
      ['a denial', s3Error('AccessDenied', 403), AwsAccessDenied],
      ['throttling', s3Error('SlowDown', 503), AwsTransientError],
      ['a 5xx', s3Error('InternalError', 500), AwsTransientError],
      ['a timeout', Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ETIMEDOUT' }), AwsTransientError],
      ['a body that did not match its checksum', s3Error('BadDigest', 400, 'The SHA256 you specified did not match the calculated checksum.'), EvidenceChecksumMismatch],
      ['a checksum refused as invalid', s3Error('InvalidRequest', 400, 'Value for x-amz-checksum-sha256 header is invalid.'), EvidenceChecksumMismatch],
    ])('S3 PutObject: %s is named (%p)', async (_, error, named) => {
      s3Mock.on(PutObjectCommand).rejects(error);
      await expect(collectEvidence(incidentConfig(), incidentRun(), deps(cluster()), () => NOW)).rejects.toThrow(named);
    });

    it('S3 reporting another checksum than the content has is a mismatch', async () => {
      s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1', ChecksumSHA256: sha256Base64(Buffer.from('other bytes')) });
      await expect(collectEvidence(incidentConfig(), incidentRun(), deps(cluster()), () => NOW)).rejects.toThrow(EvidenceChecksumMismatch);
    });

    it.each([undefined, 'null'])('a bucket that stores without a version (%p: not versioned, no Object Lock) is refused by name', async (versionId) => {
      s3Mock.on(PutObjectCommand).callsFake((input: { Body: Buffer }) => ({ VersionId: versionId, ChecksumSHA256: sha256Base64(Buffer.from(input.Body)) }));
      await expect(collectEvidence(incidentConfig(), incidentRun(), deps(cluster()), () => NOW)).rejects.toThrow(EvidenceBucketUnprotected);
    });

    it.each([
      ['a missing instance', new DBInstanceNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'DBInstance frontier-prod not found.' }), ResourceNotFound],
      ['a denial', rdsError('AccessDenied', 403), AwsAccessDenied],
      ['throttling', rdsError('Throttling', 400), AwsTransientError],
      ['a 5xx', rdsError('InternalFailure', 500), AwsTransientError],
      ['a timeout', Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError', code: 'ETIMEDOUT' }), AwsTransientError],
    ])('RDS DescribeDBLogFiles: %s is named (%p), and nothing is stored', async (_, error, named) => {
      rdsMock.on(DescribeDBLogFilesCommand).rejects(error);
      const double = cluster();
      await expect(collectEvidence(incidentConfig(), incidentRun(), deps(double), () => NOW)).rejects.toThrow(named);
      expect(s3Mock.calls()).toHaveLength(0);
      // Before any log is held in memory.
      expect(double.sent('GET', /\/log$/)).toHaveLength(0);
    });

    it.each([
      ['the API deployment missing', { method: 'GET', path: deploymentPath(NS, API), status: 404 }, KubernetesNotFound],
      ['listing pods forbidden', { method: 'GET', path: podsPath, status: 403 }, KubernetesUnauthorized],
      ['the API server failing (5xx)', { method: 'GET', path: podsPath, status: 503, times: 10 }, KubernetesTransientError],
      ['the API server silent', { method: 'GET', path: deploymentPath(NS, API), timeout: true }, KubernetesUnreachable],
      ['reading a log forbidden', { method: 'GET', path: logPath('frontier-api-a'), status: 403 }, KubernetesUnauthorized],
    ])('Kubernetes: %s is named (%p), and nothing is stored', async (_, fault, named) => {
      const double = cluster().failNext(fault);
      await expect(collectEvidence(incidentConfig(), incidentRun(), deps(double), () => NOW)).rejects.toThrow(named);
      expect(s3Mock.calls()).toHaveLength(0);
    }, 30_000);

    it('refuses a deployment with an empty selector (it would collect every pod of the namespace)', async () => {
      const deployment = deploymentObject({ namespace: NS, name: API, image: 'frontier/api:1.8.1' });
      deployment.spec!.selector = {};
      const double = cluster().on('GET', deploymentPath(NS, API), { body: deployment });
      await expect(collectEvidence(incidentConfig(), incidentRun(), deps(double), () => NOW)).rejects.toThrow(KubernetesRejected);
      expect(double.sent('GET', podsPath)).toHaveLength(0);
    });
  });
});

describe('the log window and caps', () => {
  it('counts logHours back from the run start, in whole seconds rounded up', () => {
    expect(logWindowSeconds(24, STARTED, new Date(STARTED))).toBe(86_400);
    expect(logWindowSeconds(1, STARTED, new Date(Date.parse(STARTED) + 1_500))).toBe(3_602);
    // A clock behind the start never shortens the window.
    expect(logWindowSeconds(1, STARTED, new Date(Date.parse(STARTED) - 60_000))).toBe(3_600);
  });

  it('gives each container the smaller of its own cap and an equal share of the total', () => {
    expect(perContainerCap(1)).toBe(POD_LOG_CAP_BYTES);
    expect(perContainerCap(4)).toBe(POD_LOG_CAP_BYTES);
    expect(perContainerCap(8)).toBe(POD_LOGS_TOTAL_BYTES / 8);
    expect(perContainerCap(0)).toBe(POD_LOG_CAP_BYTES);
    expect(perContainerCap(1000) * 1000).toBeLessThanOrEqual(POD_LOGS_TOTAL_BYTES);
  });

  it('reports S3\'s own form of the checksum (base64 of the 32-byte digest)', () => {
    // echo -n abc | openssl dgst -sha256 -binary | base64
    expect(sha256Base64(Buffer.from('abc'))).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
  });
});

describe('the collectEvidence handler', () => {
  it('collects on the incident cluster, lists the log files in the primary region and stores in the recovery region (the evidence bucket\'s)', async () => {
    const config = incidentConfig((c) => {
      c.kubernetes!.clusters.backup.name = 'evidence-handler-backup';
      c.securityIncident!.cluster = 'backup';
    });
    useConfig(config);
    const backup = cluster();
    // The connection the function's container then reuses (connectTo caches one per cluster).
    await connectTo(config, 'backup', { resolveEndpoint: () => ({ endpoint: DOUBLE_SERVER }), credentials: DOUBLE_CREDENTIALS, httpApi: backup.httpApi });
    const recoveryS3 = mockClient(s3Client(config.recoveryRegion));
    recoveryS3.on(PutObjectCommand).callsFake((input: { Body: Buffer }) => ({ VersionId: 'v1', ChecksumSHA256: sha256Base64(Buffer.from(input.Body)) }));
    const primaryRds = mockClient(rdsClient(config.primaryRegion));
    primaryRds.on(DescribeDBLogFilesCommand).resolves({ DescribeDBLogFiles: [] });

    const output = (await handler({ run: incidentRun() }, {} as Context)) as { step: { status: string }; data: { objects: unknown[] } };

    expect(output.step.status).toBe('succeeded');
    expect(output.data.objects).toHaveLength(5);
    expect(recoveryS3.commandCalls(PutObjectCommand)).toHaveLength(5);
    expect(primaryRds.commandCalls(DescribeDBLogFilesCommand).map((c) => c.args[0].input.DBInstanceIdentifier)).toEqual(['frontier-prod']);
    expect(backup.sent('GET', /\/log$/)).toHaveLength(3);
    recoveryS3.restore();
    primaryRds.restore();
  });
});
