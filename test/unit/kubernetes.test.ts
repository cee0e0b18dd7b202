import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeClusterCommand, EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import type { V1ReplicaSet } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { InvalidInput, KubernetesConflict, KubernetesNotFound, KubernetesTransientError, KubernetesUnauthorized, KubernetesUnreachable, NothingToRollBack, ResourceNotFound, UnexpectedResourceState } from '../../shared/errors.js';
import { applyManifests, parseManifests } from '../../shared/kubernetes/manifests.js';
import { assessCluster, scaleDeployment } from '../../shared/kubernetes/workloads.js';
import { chooseRollbackTarget, revisionHistory } from '../../shared/kubernetes/rollback.js';
import { connectToCluster, type ConnectOptions, type KubernetesConnection } from '../../shared/kubernetes/connection.js';
import { eksToken } from '../../shared/kubernetes/token.js';
import { patchConfigMapKeys } from '../../shared/kubernetes/objects.js';
import { FAKE_AWS_CREDENTIALS, startKubeFake, type KubeFake } from '../../local/kube-fake.js';

// AWS's documentation example key: the test computes the expected signature itself from the SigV4 spec.
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SIGNING_DATE = new Date('2026-11-25T10:00:00Z');

function decodeToken(token: string): URL {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  const encoded = token.slice('k8s-aws-v1.'.length);
  // base64url without padding: no '+', '/' or '='.
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

/** SigV4 for a presigned GET, written out from the spec (canonical request, string to sign, key chain). */
function expectedSignature(url: URL, cluster: string, secretAccessKey: string): string {
  const encode = (v: string) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...url.searchParams.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .sort()
    .join('&');
  const canonicalRequest = [
    'GET',
    '/',
    query,
    `host:${url.host}\nx-k8s-aws-id:${cluster}\n`,
    'host;x-k8s-aws-id',
    createHash('sha256').update('').digest('hex'),
  ].join('\n');
  const [, date, region, service] = url.searchParams.get('X-Amz-Credential')!.split('/');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    url.searchParams.get('X-Amz-Date'),
    `${date}/${region}/${service}/aws4_request`,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const h = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = h(h(h(h(`AWS4${secretAccessKey}`, date!), region!), service!), 'aws4_request');
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
}

describe('eksToken', () => {
  it('is a presigned STS GetCallerIdentity URL for the cluster, signed as SigV4 says', async () => {
    // Act
    const token = await eksToken('frontier-backup', 'us-east-1', CREDENTIALS, SIGNING_DATE);

    // Assess
    const url = decodeToken(token);
    expect(url.origin).toBe('https://sts.us-east-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261125/us-east-1/sts/aws4_request',
      'X-Amz-Date': '20261125T100000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(url.href).toContain('X-Amz-SignedHeaders=host%3Bx-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, 'frontier-backup', CREDENTIALS.secretAccessKey));
    // The known answer, pinned so a change of signer or encoding cannot slip through.
    expect(url.searchParams.get('X-Amz-Signature')).toBe(KNOWN_SIGNATURE);
  });

  it('signs the session token of temporary credentials (a Lambda role) into the URL', async () => {
    const token = await eksToken('frontier-backup', 'eu-west-1', { ...CREDENTIALS, sessionToken: 'IQoJb3JpZ2luX2VjE+/session=' }, SIGNING_DATE);

    const url = decodeToken(token);
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('IQoJb3JpZ2luX2VjE+/session=');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261125/eu-west-1/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, 'frontier-backup', CREDENTIALS.secretAccessKey));
  });

  it('binds the token to the cluster: another cluster name gives another signature', async () => {
    const a = decodeToken(await eksToken('frontier-backup', 'us-east-1', CREDENTIALS, SIGNING_DATE));
    const b = decodeToken(await eksToken('frontier-primary', 'us-east-1', CREDENTIALS, SIGNING_DATE));

    expect(a.searchParams.get('X-Amz-Signature')).not.toBe(b.searchParams.get('X-Amz-Signature'));
    expect(b.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(b, 'frontier-primary', CREDENTIALS.secretAccessKey));
  });

  it('takes a credential provider (the SDK chain) as well as fixed credentials', async () => {
    const fixed = await eksToken('frontier-backup', 'us-east-1', CREDENTIALS, SIGNING_DATE);
    const provided = await eksToken('frontier-backup', 'us-east-1', async () => CREDENTIALS, SIGNING_DATE);

    expect(provided).toBe(fixed);
  });
});

const KNOWN_SIGNATURE = '2321ac186e2b6a2359001ea5137f167b2b430655229954b2ccce7fef7b065996';

// ---------------------------------------------------------------------------------------------------

let fake: KubeFake | undefined;

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function startFake(options: Parameters<typeof startKubeFake>[0] = {}): Promise<KubeFake> {
  fake = await startKubeFake({ tickMs: 10_000, ...options });
  return fake;
}

function connect(server: KubeFake, options: ConnectOptions = {}): Promise<KubernetesConnection> {
  return connectToCluster(
    { name: server.clusterName, region: 'us-east-1' },
    { resolveEndpoint: () => ({ endpoint: server.url }), credentials: FAKE_AWS_CREDENTIALS, ...options },
  );
}

describe('connectToCluster', () => {
  const eks = new EKSClient({ region: 'us-east-1', maxAttempts: 1 });
  const eksMock = mockClient(eks);
  beforeEach(() => eksMock.reset());

  it('takes the endpoint and CA from EKS DescribeCluster', async () => {
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
    eksMock.on(DescribeClusterCommand, { name: 'frontier-backup' }).resolves({
      cluster: { name: 'frontier-backup', status: 'ACTIVE', endpoint: 'https://ABCDEF.gr7.us-east-1.eks.amazonaws.com', certificateAuthority: { data: ca } },
    });

    const conn = await connectToCluster({ name: 'frontier-backup', region: 'us-east-1' }, { eks, credentials: CREDENTIALS });

    expect(conn.server).toBe('https://ABCDEF.gr7.us-east-1.eks.amazonaws.com');
    expect(conn.kubeConfig.getCurrentCluster()).toEqual(
      expect.objectContaining({ server: 'https://ABCDEF.gr7.us-east-1.eks.amazonaws.com', caData: ca, skipTLSVerify: false }),
    );
    expect(decodeToken(await conn.token.current()).searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/us-east-1\/sts\/aws4_request$/);
  });

  it('refuses a cluster that is not ACTIVE', async () => {
    eksMock.on(DescribeClusterCommand).resolves({ cluster: { name: 'frontier-backup', status: 'CREATING' } });

    await expect(connectToCluster({ name: 'frontier-backup', region: 'us-east-1' }, { eks, credentials: CREDENTIALS })).rejects.toThrow(UnexpectedResourceState);
  });

  it('names a missing cluster', async () => {
    eksMock.on(DescribeClusterCommand).rejects(new ResourceNotFoundException({ message: 'No cluster found for name: nope.', $metadata: { httpStatusCode: 404 } }));

    const failure = connectToCluster({ name: 'nope', region: 'us-east-1' }, { eks, credentials: CREDENTIALS });

    await expect(failure).rejects.toThrow(ResourceNotFound);
    await expect(failure).rejects.toThrow(/eks:DescribeCluster on nope \(us-east-1\)/);
  });

  it('mints a new token before the old one is 10 minutes old, so EKS never sees an expired one', async () => {
    let clock = new Date('2026-11-25T10:00:00Z');
    const server = await startFake({ now: () => clock });
    server.addDeployment('production', 'frontier-api', { image: 'api:1', replicas: 2 });
    const conn = await connect(server, { now: () => clock });

    for (let minute = 0; minute <= 40; minute += 4) {
      clock = new Date(Date.UTC(2026, 10, 25, 10, minute));
      await scaleDeployment(conn, 'production', 'frontier-api', 2);
    }

    expect(server.unauthorizedCount()).toBe(0);
    expect(server.acceptedTokens().length).toBeGreaterThanOrEqual(4);
  });
});

describe('Kubernetes errors', () => {
  it('after a 401 mints a fresh token and retries once', async () => {
    let clock = new Date('2026-11-25T10:00:00Z');
    const server = await startFake({ now: () => clock });
    server.addDeployment('production', 'frontier-api', { image: 'api:1', replicas: 2 });
    const conn = await connect(server, { now: () => clock });
    await scaleDeployment(conn, 'production', 'frontier-api', 2);
    // The token in hand is revoked (as if its role mapping was re-created); time moves on a little.
    server.expireTokensIssuedBefore(new Date('2026-11-25T10:01:00Z'));
    clock = new Date('2026-11-25T10:02:00Z');

    const result = await scaleDeployment(conn, 'production', 'frontier-api', 3);

    expect(result).toEqual({ previousReplicas: 2, replicas: 3, changed: true });
    expect(server.unauthorizedCount()).toBe(1);
    expect(server.acceptedTokens()).toHaveLength(2);
  });

  it('a second 401 is KubernetesUnauthorized, after exactly one retry', async () => {
    const server = await startFake();
    server.addDeployment('production', 'frontier-api', { image: 'api:1' });
    const conn = await connect(server);
    server.failNext({ path: '/deployments/frontier-api/scale', status: 401, times: 2, reason: 'Unauthorized', message: 'Unauthorized' });

    const failure = scaleDeployment(conn, 'production', 'frontier-api', 0);

    await expect(failure).rejects.toThrow(KubernetesUnauthorized);
    await expect(failure).rejects.toMatchObject({ name: 'KubernetesUnauthorized', message: expect.stringContaining('get deployments/scale production/frontier-api') });
    expect(server.requests.filter((r) => r.path.endsWith('/scale'))).toHaveLength(2);
  });

  it('does not retry a fixed token it cannot replace', async () => {
    const server = await startFake();
    const conn = await connectToCluster({ name: server.clusterName, region: 'us-east-1' }, { resolveEndpoint: () => ({ endpoint: server.url, token: 'not-an-eks-token' }) });

    await expect(scaleDeployment(conn, 'production', 'frontier-api', 0)).rejects.toThrow(KubernetesUnauthorized);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects a token signed for another cluster (x-k8s-aws-id)', async () => {
    const server = await startFake({ clusterName: 'frontier-backup' });
    const conn = await connectToCluster({ name: 'frontier-primary', region: 'us-east-1' }, { resolveEndpoint: () => ({ endpoint: server.url }), credentials: FAKE_AWS_CREDENTIALS });

    await expect(scaleDeployment(conn, 'production', 'frontier-api', 0)).rejects.toThrow(KubernetesUnauthorized);
  });

  it('403 names the RBAC verb and resource that are missing', async () => {
    const server = await startFake();
    server.addDeployment('production', 'frontier-api', { image: 'api:1' });
    server.forbid({ verb: 'patch', resource: 'deployments/scale' });
    const conn = await connect(server);

    const failure = scaleDeployment(conn, 'production', 'frontier-api', 0);

    await expect(failure).rejects.toThrow(KubernetesUnauthorized);
    await expect(failure).rejects.toThrow(/verb "patch" on resource "deployments\/scale" in API group "apps"/);
    await expect(failure).rejects.toThrow(/cannot patch resource "deployments\/scale" in API group "apps" in the namespace "production"/);
    // Nothing changed.
    expect((server.deployment('production', 'frontier-api')!.spec as { replicas: number }).replicas).toBe(3);
  });

  it('assessCluster throws a 403 on nodes instead of passing it off as an outage', async () => {
    const server = await startFake();
    server.addNode(true);
    server.forbid({ verb: 'list', resource: 'nodes' });
    const conn = await connect(server);

    await expect(assessCluster(conn, 2_000)).rejects.toThrow(/verb "list" on resource "nodes"/);
  });

  it('a credential failure while signing the token is a named error, not a hang or a 401 loop', async () => {
    const server = await startFake();
    const conn = await connect(server, {
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });

    const failure = scaleDeployment(conn, 'production', 'frontier-api', 0);

    await expect(failure).rejects.toMatchObject({ name: 'RecoveryError', message: expect.stringContaining('signing the EKS token (credentials)') });
    expect(server.requests).toHaveLength(0);
  });

  it('404 is KubernetesNotFound with the API message', async () => {
    const server = await startFake();
    server.addNamespace('production');
    const conn = await connect(server);

    const failure = scaleDeployment(conn, 'production', 'nope', 1);

    await expect(failure).rejects.toThrow(KubernetesNotFound);
    await expect(failure).rejects.toThrow(/deployments\.apps "nope" not found/);
  });

  it('409 is KubernetesConflict', async () => {
    const server = await startFake();
    server.addConfigMap('production', 'frontier-config', { emergency_mode: 'false' });
    server.failNext({ method: 'PATCH', path: '/configmaps/frontier-config', status: 409, message: 'Operation cannot be fulfilled on configmaps "frontier-config": the object has been modified' });
    const conn = await connect(server);

    await expect(patchConfigMapKeys(conn, 'production', 'frontier-config', { emergency_mode: 'true' })).rejects.toThrow(KubernetesConflict);
  });

  it.each([500, 503, 429])('%i is KubernetesTransientError (retried by the state machine)', async (status) => {
    const server = await startFake();
    server.addConfigMap('production', 'frontier-config', {});
    server.failNext({ path: '/configmaps/frontier-config', status, message: 'etcdserver: request timed out' });
    const conn = await connect(server);

    const failure = patchConfigMapKeys(conn, 'production', 'frontier-config', { emergency_mode: 'true' });

    await expect(failure).rejects.toThrow(KubernetesTransientError);
    await expect(failure).rejects.toThrow(/etcdserver: request timed out/);
  });

  it('a refused connection is KubernetesUnreachable, and assessCluster reports it instead of throwing', async () => {
    const server = await startFake();
    const conn = await connect(server);
    await server.refuseConnections();

    await expect(scaleDeployment(conn, 'production', 'frontier-api', 0)).rejects.toThrow(KubernetesUnreachable);
    const assessment = await assessCluster(conn, 1_000);
    expect(assessment).toMatchObject({ reachable: false, healthy: false, nodes: 0, readyNodes: 0 });
    expect(assessment.reason).toMatch(/ECONNREFUSED/);
  });

  it('an API that accepts the connection but never answers is KubernetesUnreachable after the deadline', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const conn = await connectToCluster(
        { name: 'frontier-backup', region: 'us-east-1' },
        { resolveEndpoint: () => ({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` }), credentials: FAKE_AWS_CREDENTIALS, requestTimeoutMs: 300 },
      );
      const started = Date.now();

      await expect(scaleDeployment(conn, 'production', 'frontier-api', 0)).rejects.toThrow(
        `the Kubernetes API at http://127.0.0.1:${(silent.address() as AddressInfo).port} could not be reached (no answer in time). Likely cause`,
      );
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await assessCluster(conn, 300)).toMatchObject({ reachable: false, healthy: false });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

function replicaSet(name: string, revision: string | undefined, image: string, history?: string): V1ReplicaSet {
  return {
    metadata: {
      name,
      annotations: {
        ...(revision !== undefined ? { 'deployment.kubernetes.io/revision': revision } : {}),
        ...(history ? { 'deployment.kubernetes.io/revision-history': history } : {}),
      },
    },
    spec: { selector: {}, template: { metadata: { labels: { app: 'api', 'pod-template-hash': name } }, spec: { containers: [{ name: 'api', image }] } } },
  };
}

describe('chooseRollbackTarget', () => {
  const history = revisionHistory([
    replicaSet('api-d', '4', 'api:4'),
    replicaSet('api-a', '1', 'api:1'),
    replicaSet('api-c', '3', 'api:3'),
    replicaSet('api-b', '2', 'api:2'),
  ]);

  it('goes to the revision just below the current one, not to the current one', () => {
    expect(chooseRollbackTarget(4, history)).toMatchObject({ revision: 3, replicaSet: 'api-c' });
  });

  it('skips gaps in the history (pruned ReplicaSets)', () => {
    const pruned = revisionHistory([replicaSet('api-g', '7', 'api:7'), replicaSet('api-b', '2', 'api:2'), replicaSet('api-e', '5', 'api:5')]);

    expect(chooseRollbackTarget(7, pruned).revision).toBe(5);
  });

  it('uses the highest revision as current when the deployment has no revision annotation', () => {
    expect(chooseRollbackTarget(undefined, history).revision).toBe(3);
  });

  it('goes to a given revision', () => {
    expect(chooseRollbackTarget(4, history, 1)).toMatchObject({ revision: 1, replicaSet: 'api-a' });
  });

  it('finds a given revision that a previous rollback re-numbered (revision-history)', () => {
    const afterRollback = revisionHistory([replicaSet('api-a', '1', 'api:1'), replicaSet('api-c', '5', 'api:3', '3'), replicaSet('api-d', '4', 'api:4')]);

    expect(chooseRollbackTarget(5, afterRollback, 3)).toMatchObject({ revision: 5, replicaSet: 'api-c' });
    // Without a revision, not 4 (kubectl's choice): 4 is the release the rollback at 5 took out of service.
    expect(chooseRollbackTarget(5, afterRollback).revision).toBe(1);
  });

  it('throws NothingToRollBack for a revision that is not kept', () => {
    expect(() => chooseRollbackTarget(4, history, 9)).toThrow(NothingToRollBack);
    expect(() => chooseRollbackTarget(4, history, 9)).toThrow('revision 9 is not in the deployment\'s history (revisions kept: 1, 2, 3, 4)');
  });

  it('throws NothingToRollBack when only the current revision exists', () => {
    const single = revisionHistory([replicaSet('api-a', '1', 'api:1')]);

    expect(() => chooseRollbackTarget(1, single)).toThrow(NothingToRollBack);
    expect(() => chooseRollbackTarget(1, single)).toThrow(/no revision earlier than the current one \(1\)/);
  });

  it('ignores ReplicaSets without a revision annotation', () => {
    const mixed = revisionHistory([replicaSet('orphan', undefined, 'x:1'), replicaSet('api-b', '2', 'api:2'), replicaSet('api-a', '1', 'api:1')]);

    expect(mixed.map((h) => h.revision)).toEqual([1, 2]);
    expect(chooseRollbackTarget(2, mixed).replicaSet).toBe('api-a');
  });
});

describe('parseManifests', () => {
  it('reads every document of a multi-document file and skips empty ones', () => {
    const text = `# production manifests
---
apiVersion: v1
kind: Namespace
metadata:
  name: production
---
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontier-api
  namespace: production
spec:
  replicas: 3
...
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: { name: frontier-config, namespace: production }
    data: { emergency_mode: "false" }
`;

    const manifests = parseManifests(text);

    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['Namespace/production', 'Deployment/frontier-api', 'ConfigMap/frontier-config']);
    expect(manifests[1]).toMatchObject({ spec: { replicas: 3 } });
    expect(manifests[2]).toMatchObject({ data: { emergency_mode: 'false' } });
  });

  it('names the broken document', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [unclosed\n';

    expect(() => parseManifests(text, 's3://bucket/prod.yaml')).toThrow(InvalidInput);
    expect(() => parseManifests(text, 's3://bucket/prod.yaml')).toThrow(/s3:\/\/bucket\/prod\.yaml: document 2/);
  });

  it('refuses a document without metadata.name', () => {
    expect(() => parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n')).toThrow(/document 1 \(ConfigMap\) lacks metadata.name/);
  });
});

describe('applyManifests', () => {
  it('checks every document before sending anything', async () => {
    const server = await startFake();
    const conn = await connect(server);
    const documents = parseManifests(`apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: production}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: b, namespace: production}
`);

    await expect(applyManifests(conn, documents)).rejects.toThrow(/manifest 2: kind CronJob is not one the recovery applies/);
    expect(server.requests).toHaveLength(0);
  });
});
