// The Kubernetes library's own logic, with no network: the EKS token, the connection, and how each call
// is built and how its answers and failures are read, against the client double
// (test/support/kube-client-double.ts). What a real API server does with these requests is tested on
// real control planes (test/integration/kubernetes.test.ts, test/integration/rollback.test.ts).
import { createHash, createHmac } from 'node:crypto';
import { DescribeClusterCommand, EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import type { V1ReplicaSet } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import {
  InvalidInput,
  KubernetesConflict,
  KubernetesNotFound,
  KubernetesTransientError,
  KubernetesUnauthorized,
  KubernetesUnreachable,
  NothingToRollBack,
  ResourceNotFound,
  RolloutFailed,
  UnexpectedResourceState,
} from '../../shared/errors.js';
import { applyManifests, parseManifests } from '../../shared/kubernetes/manifests.js';
import { assessCluster, rolloutStatus, scaleDeployment } from '../../shared/kubernetes/workloads.js';
import { chooseRollbackTarget, revisionHistory } from '../../shared/kubernetes/rollback.js';
import { connectToCluster } from '../../shared/kubernetes/connection.js';
import { eksToken } from '../../shared/kubernetes/token.js';
import { patchConfigMapKeys, patchSecretKeys } from '../../shared/kubernetes/objects.js';
import { readPodLogs } from '../../shared/kubernetes/logs.js';
import {
  answerDeployment,
  connectToDouble,
  deploymentObject,
  deploymentPath,
  DOUBLE_SERVER,
  eksTokenIssuedAt,
  KubeClientDouble,
  listOf,
  nodeObject,
  podObject,
  replicaSetObject,
  scaleObject,
  type DeploymentShape,
} from '../support/kube-client-double.js';

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
// Against the client double (test/support/kube-client-double.ts): the answers and faults are scripted,
// the product's whole client path runs. What a real API server does is tested in test/integration.

const NS = 'production';
const API = 'frontier-api';
const scalePath = `${deploymentPath(NS, API)}/scale`;
const configMapPath = `/api/v1/namespaces/${NS}/configmaps/frontier-config`;

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

  it('sends requests to the endpoint EKS gave, with the EKS token as bearer', async () => {
    eksMock.on(DescribeClusterCommand).resolves({ cluster: { name: 'frontier-backup', status: 'ACTIVE', endpoint: 'https://ABCDEF.gr7.us-east-1.eks.amazonaws.com', certificateAuthority: { data: 'Y2E=' } } });
    const double = new KubeClientDouble().on('GET', scalePath, { body: scaleObject(NS, API, 1) });

    const conn = await connectToCluster({ name: 'frontier-backup', region: 'us-east-1' }, { eks, credentials: CREDENTIALS, httpApi: double.httpApi });
    await scaleDeployment(conn, NS, API, 1);

    expect(double.requests).toEqual([expect.objectContaining({ method: 'GET', path: scalePath, status: 200 })]);
    expect(decodeToken(double.requests[0]!.token!).searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\//);
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
    // The double refuses a token older than EKS's 15 minutes, measured on the same clock.
    const double = new KubeClientDouble(() => clock).on('GET', scalePath, { body: scaleObject(NS, API, 2) });
    const conn = await connectToDouble(double, { now: () => clock });

    for (let minute = 0; minute <= 40; minute += 4) {
      clock = new Date(Date.UTC(2026, 10, 25, 10, minute));
      await scaleDeployment(conn, NS, API, 2);
    }

    expect(double.unauthorizedCount()).toBe(0);
    expect(double.acceptedTokens().length).toBeGreaterThanOrEqual(4);
    // No token was used 10 minutes or more after it was signed.
    const ages = double.requests.map((r, i) => Date.UTC(2026, 10, 25, 10, i * 4) - eksTokenIssuedAt(r.token)!);
    expect(Math.max(...ages)).toBeLessThan(10 * 60_000);
  });
});

describe('Kubernetes errors', () => {
  it('after a 401 mints a fresh token and retries once', async () => {
    let clock = new Date('2026-11-25T10:00:00Z');
    const double = new KubeClientDouble(() => clock);
    answerDeployment(double, { namespace: NS, name: API, revisions: ['api:1'], replicas: 2 });
    const conn = await connectToDouble(double, { now: () => clock });
    await scaleDeployment(conn, NS, API, 2);
    // The token in hand is revoked (as if its role mapping was re-created); time moves on a little.
    double.expireTokensIssuedBefore(new Date('2026-11-25T10:01:00Z'));
    clock = new Date('2026-11-25T10:02:00Z');

    const result = await scaleDeployment(conn, NS, API, 3);

    expect(result).toEqual({ previousReplicas: 2, replicas: 3, changed: true });
    expect(double.unauthorizedCount()).toBe(1);
    expect(double.acceptedTokens()).toHaveLength(2);
    const gets = double.sent('GET', scalePath);
    expect(gets.map((r) => r.status)).toEqual([200, 401, 200]);
    expect(gets[2]!.token).not.toBe(gets[1]!.token);
    expect(double.sent('PATCH', scalePath)).toEqual([expect.objectContaining({ token: gets[2]!.token, body: { spec: { replicas: 3 } }, status: 200 })]);
  });

  it('a second 401 is KubernetesUnauthorized, after exactly one retry', async () => {
    const double = new KubeClientDouble().failNext({ path: scalePath, status: 401, times: 2 });
    const conn = await connectToDouble(double);

    const failure = scaleDeployment(conn, NS, API, 0);

    await expect(failure).rejects.toThrow(KubernetesUnauthorized);
    await expect(failure).rejects.toMatchObject({ name: 'KubernetesUnauthorized', message: expect.stringContaining('get deployments/scale production/frontier-api') });
    expect(double.requests.map((r) => r.status)).toEqual([401, 401]);
  });

  it('does not retry a fixed token it cannot replace', async () => {
    const double = new KubeClientDouble().failNext({ path: scalePath, status: 401 });
    const conn = await connectToDouble(double, { resolveEndpoint: () => ({ endpoint: DOUBLE_SERVER, token: 'not-an-eks-token' }) });

    await expect(scaleDeployment(conn, NS, API, 0)).rejects.toThrow(KubernetesUnauthorized);
    expect(double.requests).toEqual([expect.objectContaining({ token: 'not-an-eks-token', status: 401 })]);
  });

  it('403 names the RBAC verb and resource that are missing, with the server\'s message, and is not retried', async () => {
    const double = new KubeClientDouble();
    answerDeployment(double, { namespace: NS, name: API, revisions: ['api:1'], replicas: 3 });
    const denial = 'deployments.apps "frontier-api" is forbidden: User "frontier-dr:lambda" cannot patch resource "deployments/scale" in API group "apps" in the namespace "production"';
    double.failNext({ method: 'PATCH', path: scalePath, status: 403, message: denial });
    const conn = await connectToDouble(double);

    const failure = scaleDeployment(conn, NS, API, 0);

    await expect(failure).rejects.toThrow(KubernetesUnauthorized);
    await expect(failure).rejects.toThrow(/verb "patch" on resource "deployments\/scale" in API group "apps"/);
    await expect(failure).rejects.toThrow(denial);
    expect(double.sent('PATCH', scalePath)).toHaveLength(1);
  });

  it('assessCluster throws a 403 on nodes instead of passing it off as an outage', async () => {
    const double = new KubeClientDouble().on('GET', '/version', { body: { gitVersion: 'v1.34.4' } }).failNext({ path: '/api/v1/nodes', status: 403 });
    const conn = await connectToDouble(double);

    await expect(assessCluster(conn, 2_000)).rejects.toThrow(/verb "list" on resource "nodes"/);
  });

  it('a credential failure while signing the token is a named error, not a hang or a 401 loop', async () => {
    const double = new KubeClientDouble();
    const conn = await connectToDouble(double, {
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });

    const failure = scaleDeployment(conn, NS, API, 0);

    await expect(failure).rejects.toMatchObject({ name: 'RecoveryError', message: expect.stringContaining('signing the EKS token (credentials)') });
    expect(double.requests).toHaveLength(0);
  });

  it('404 is KubernetesNotFound with the API message', async () => {
    const double = new KubeClientDouble().failNext({ path: `${deploymentPath(NS, 'nope')}/scale`, status: 404, message: 'deployments.apps "nope" not found' });
    const conn = await connectToDouble(double);

    const failure = scaleDeployment(conn, NS, 'nope', 1);

    await expect(failure).rejects.toThrow(KubernetesNotFound);
    await expect(failure).rejects.toThrow('get deployments/scale production/nope: not found (deployments.apps "nope" not found)');
  });

  it('409 is KubernetesConflict', async () => {
    const double = new KubeClientDouble()
      .on('GET', configMapPath, { body: { metadata: { name: 'frontier-config' }, data: { emergency_mode: 'false' } } })
      .failNext({ method: 'PATCH', path: configMapPath, status: 409, message: 'Operation cannot be fulfilled on configmaps "frontier-config": the object has been modified' });
    const conn = await connectToDouble(double);

    const failure = patchConfigMapKeys(conn, NS, 'frontier-config', { emergency_mode: 'true' });

    await expect(failure).rejects.toThrow(KubernetesConflict);
    await expect(failure).rejects.toThrow('patch configmaps production/frontier-config: conflict (Operation cannot be fulfilled');
  });

  it.each([500, 503, 429])('%i is KubernetesTransientError (retried by the state machine)', async (status) => {
    const double = new KubeClientDouble().failNext({ path: configMapPath, status, message: 'etcdserver: request timed out' });
    const conn = await connectToDouble(double);

    const failure = patchConfigMapKeys(conn, NS, 'frontier-config', { emergency_mode: 'true' });

    await expect(failure).rejects.toThrow(KubernetesTransientError);
    await expect(failure).rejects.toThrow(`get configmaps production/frontier-config failed temporarily (HTTP ${status}): etcdserver: request timed out`);
  });

  it('a refused connection is KubernetesUnreachable, and assessCluster reports it instead of throwing', async () => {
    const double = new KubeClientDouble();
    const conn = await connectToDouble(double);
    double.refuseConnections();

    await expect(scaleDeployment(conn, NS, API, 0)).rejects.toThrow(KubernetesUnreachable);
    const assessment = await assessCluster(conn, 1_000);
    expect(assessment).toMatchObject({ reachable: false, healthy: false, nodes: 0, readyNodes: 0 });
    expect(assessment.reason).toMatch(/ECONNREFUSED/);
  });

  it('a connection closed without an answer is KubernetesUnreachable', async () => {
    const double = new KubeClientDouble().failNext({ path: scalePath, dropped: true });
    const conn = await connectToDouble(double);

    await expect(scaleDeployment(conn, NS, API, 0)).rejects.toThrow(`get deployments/scale production/frontier-api: the Kubernetes API at ${DOUBLE_SERVER} could not be reached (UND_ERR_SOCKET)`);
  });

  it('an API that accepts the connection but never answers is KubernetesUnreachable after the deadline', async () => {
    const double = new KubeClientDouble().failNext({ path: scalePath, timeout: true }).failNext({ path: '/version', timeout: true });
    const conn = await connectToDouble(double, { requestTimeoutMs: 300 });
    const started = Date.now();

    await expect(scaleDeployment(conn, NS, API, 0)).rejects.toThrow(`the Kubernetes API at ${DOUBLE_SERVER} could not be reached (no answer in time). Likely cause`);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3_000);
    expect(await assessCluster(conn, 300)).toMatchObject({ reachable: false, healthy: false });
  });
});

describe('assessCluster', () => {
  it('counts Ready nodes: half Ready is healthy, fewer is not (the plan alerts below 0.5)', async () => {
    const double = new KubeClientDouble().on('GET', '/version', { body: { gitVersion: 'v1.34.4', major: '1', minor: '34' } });
    const nodes = (ready: number, total: number) => ({ body: listOf('NodeList', Array.from({ length: total }, (_, i) => nodeObject(`node-${i}`, i < ready))) });
    const conn = await connectToDouble(double);

    double.on('GET', '/api/v1/nodes', nodes(2, 4));
    expect(await assessCluster(conn, 2_000)).toEqual({ reachable: true, version: 'v1.34.4', nodes: 4, readyNodes: 2, healthy: true, reason: '2 of 4 nodes Ready' });
    double.on('GET', '/api/v1/nodes', nodes(1, 4));
    expect(await assessCluster(conn, 2_000)).toEqual({ reachable: true, version: 'v1.34.4', nodes: 4, readyNodes: 1, healthy: false, reason: 'only 1 of 4 nodes Ready (less than half)' });
    double.on('GET', '/api/v1/nodes', nodes(0, 0));
    expect(await assessCluster(conn, 2_000)).toMatchObject({ reachable: true, healthy: false, reason: 'the API answers but no node is registered' });
  });

  it('reads a big node list in pages', async () => {
    const all = Array.from({ length: 1_100 }, (_, i) => nodeObject(`node-${i}`, i % 10 !== 0));
    const pages: Record<string, [number, string | undefined]> = { '': [0, 'page-2'], 'page-2': [500, 'page-3'], 'page-3': [1_000, undefined] };
    const double = new KubeClientDouble().on('GET', '/version', { body: { gitVersion: 'v1.34.4' } }).on('GET', '/api/v1/nodes', (request) => {
      const [from, next] = pages[request.query.continue ?? '']!;
      return { body: listOf('NodeList', all.slice(from, from + Number(request.query.limit)), next) };
    });
    const conn = await connectToDouble(double);

    const assessment = await assessCluster(conn, 5_000);

    expect(assessment).toMatchObject({ nodes: 1_100, readyNodes: 990, healthy: true });
    expect(double.sent('GET', '/api/v1/nodes').map((r) => [r.query.limit, r.query.continue])).toEqual([
      ['500', undefined],
      ['500', 'page-2'],
      ['500', 'page-3'],
    ]);
  });
});

describe('scaleDeployment', () => {
  it('sets the count through the scale subresource with a merge patch, only when it differs', async () => {
    const double = new KubeClientDouble();
    answerDeployment(double, { namespace: NS, name: API, revisions: ['api:1'], replicas: 3 });
    const conn = await connectToDouble(double);

    expect(await scaleDeployment(conn, NS, API, 0)).toEqual({ previousReplicas: 3, replicas: 0, changed: true });
    expect(await scaleDeployment(conn, NS, API, 3)).toEqual({ previousReplicas: 3, replicas: 3, changed: false });

    expect(double.sent('PATCH', /./)).toEqual([expect.objectContaining({ path: scalePath, contentType: 'application/merge-patch+json', body: { spec: { replicas: 0 } } })]);
  });

  it('refuses a count that is not a whole number >= 0 before any request', async () => {
    const double = new KubeClientDouble();
    const conn = await connectToDouble(double);

    await expect(scaleDeployment(conn, NS, API, -1)).rejects.toThrow(InvalidInput);
    await expect(scaleDeployment(conn, NS, API, 1.5)).rejects.toThrow(InvalidInput);
    expect(double.requests).toHaveLength(0);
  });
});

describe('patchConfigMapKeys and patchSecretKeys', () => {
  it('merge-patches only the given keys of a ConfigMap and reports what each was', async () => {
    const double = new KubeClientDouble()
      .on('GET', configMapPath, { body: { metadata: { name: 'frontier-config' }, data: { emergency_mode: 'false', log_level: 'info' } } })
      .on('PATCH', configMapPath, { body: { metadata: { name: 'frontier-config' } } });
    const conn = await connectToDouble(double);

    const result = await patchConfigMapKeys(conn, NS, 'frontier-config', { emergency_mode: 'true', read_only_since: '2026-11-25T10:00:00Z' });

    expect(result.keys).toEqual([
      { key: 'emergency_mode', existed: true, previous: 'false', changed: true },
      { key: 'read_only_since', existed: false, changed: true },
    ]);
    expect(double.sent('PATCH', configMapPath)).toEqual([
      expect.objectContaining({ contentType: 'application/merge-patch+json', body: { data: { emergency_mode: 'true', read_only_since: '2026-11-25T10:00:00Z' } } }),
    ]);
  });

  it('sends no patch when the values are already set (safe to run twice)', async () => {
    const double = new KubeClientDouble().on('GET', configMapPath, { body: { metadata: { name: 'frontier-config' }, data: { emergency_mode: 'true' } } });
    const conn = await connectToDouble(double);

    const result = await patchConfigMapKeys(conn, NS, 'frontier-config', { emergency_mode: 'true' });

    expect(result.keys).toEqual([{ key: 'emergency_mode', existed: true, previous: 'true', changed: false }]);
    expect(double.sent('PATCH', /./)).toHaveLength(0);
  });

  it('sends a Secret\'s values base64-encoded and reports only a hash prefix of the old ones', async () => {
    const secretPath = `/api/v1/namespaces/${NS}/secrets/database-url`;
    const old = 'postgres://frontier:old-password@old-host:5432/frontier';
    const double = new KubeClientDouble()
      .on('GET', secretPath, { body: { metadata: { name: 'database-url' }, data: { url: Buffer.from(old).toString('base64'), other: Buffer.from('kept').toString('base64') } } })
      .on('PATCH', secretPath, { body: { metadata: { name: 'database-url' } } });
    const conn = await connectToDouble(double);

    const result = await patchSecretKeys(conn, NS, 'database-url', { url: 'postgres://frontier:ü-密-🔑@new-host:5432/frontier', api_key: 'ключ-🔑' });

    expect(result.keys).toEqual([
      { key: 'url', existed: true, previousSha256Prefix: createHash('sha256').update(old).digest('hex').slice(0, 12), changed: true },
      { key: 'api_key', existed: false, changed: true },
    ]);
    expect(JSON.stringify(result)).not.toMatch(/old-password|ключ/);
    const [patch] = double.sent('PATCH', secretPath);
    expect(patch).toMatchObject({ contentType: 'application/merge-patch+json' });
    const sent = (patch!.body as { data: Record<string, string> }).data;
    expect(Object.keys(sent)).toEqual(['url', 'api_key']);
    expect(Buffer.from(sent.url!, 'base64').toString('utf8')).toBe('postgres://frontier:ü-密-🔑@new-host:5432/frontier');
  });
});

describe('rolloutStatus', () => {
  it('keeps working through a 30-minute wait in which the token in hand is revoked', async () => {
    let clock = new Date('2026-11-25T10:00:00Z');
    let minute = 0;
    const double = new KubeClientDouble(() => clock);
    // One more replica available every 3 minutes: 10 replicas take 30, twice the 15-minute token lifetime.
    double.on('GET', deploymentPath(NS, API), () => {
      const available = Math.min(10, Math.floor(minute / 3));
      return { body: deploymentObject({ namespace: NS, name: API, image: 'api:1', replicas: 10, revision: 2, status: { replicas: 10, updatedReplicas: 10, readyReplicas: available, availableReplicas: available } }) };
    });
    const conn = await connectToDouble(double, { now: () => clock });

    let status = await rolloutStatus(conn, NS, API);
    for (minute = 1; !status.done && minute <= 59; minute++) {
      clock = new Date(Date.UTC(2026, 10, 25, 10, minute));
      if (minute === 14) double.expireTokensIssuedBefore(clock);
      status = await rolloutStatus(conn, NS, API);
    }

    expect(status.done).toBe(true);
    expect(clock.getUTCMinutes()).toBe(30);
    // One refusal: the revoked token; the 15-minute EKS limit itself is never reached thanks to refresh.
    expect(double.unauthorizedCount()).toBe(1);
    expect(double.acceptedTokens().length).toBeGreaterThanOrEqual(3);
  });

  it('follows kubectl rollout status: generation seen, every replica updated and available, no old one left', async () => {
    const double = new KubeClientDouble();
    const conn = await connectToDouble(double);
    const look = async (shape: Partial<DeploymentShape>) => {
      double.on('GET', deploymentPath(NS, API), { body: deploymentObject({ namespace: NS, name: API, image: 'api:2', replicas: 3, revision: 2, ...shape }) });
      return rolloutStatus(conn, NS, API);
    };

    expect(await look({ generation: 4, observedGeneration: 3 })).toMatchObject({ done: false, message: 'waiting for the controller to observe generation 4 (seen 3)' });
    expect(await look({ status: { replicas: 4, updatedReplicas: 1, availableReplicas: 3 } })).toMatchObject({ done: false, message: '1 of 3 new replicas updated' });
    expect(await look({ status: { replicas: 6, updatedReplicas: 3, availableReplicas: 3 } })).toMatchObject({ done: false, message: '3 old replicas pending termination' });
    expect(await look({ status: { replicas: 3, updatedReplicas: 3, availableReplicas: 2 } })).toMatchObject({ done: false, message: '2 of 3 updated replicas available' });
    expect(await look({})).toMatchObject({ done: true, revision: 2, message: 'deployment production/frontier-api successfully rolled out (3 of 3 available)' });
    // A deadline condition is judged once the ReplicaSet it names is read and found to be the current one
    // (owned by the deployment, with its pod template): this rollout's own deadline.
    const rs2 = `/apis/apps/v1/namespaces/${NS}/replicasets/${API}-rs2`;
    double.on('GET', rs2, { body: replicaSetObject({ namespace: NS, name: `${API}-rs2`, deployment: { name: API }, image: 'api:2', revision: 2 }) });
    const failed = look({ status: { updatedReplicas: 1 }, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "frontier-api-rs2" has timed out progressing.' }] });
    await expect(failed).rejects.toThrow(RolloutFailed);
    await expect(failed).rejects.toThrow('deployment production/frontier-api exceeded its progress deadline: ReplicaSet "frontier-api-rs2" has timed out progressing.');
    expect(double.sent('GET', rs2).map((r) => r.status)).toEqual([200]);
  });
});

describe('readPodLogs', () => {
  const podsPath = `/api/v1/namespaces/${NS}/pods`;
  const logPath = (pod: string) => `${podsPath}/${pod}/log`;

  it('asks for the window with timestamps and one byte over the cap, for every container of every matching pod, in order', async () => {
    const double = new KubeClientDouble()
      .on('GET', podsPath, { body: listOf('PodList', [podObject(NS, 'frontier-api-b', { app: API }, ['api', 'envoy']), podObject(NS, 'frontier-api-a', { app: API })]) })
      .on('GET', /\/log$/, (request) => ({ body: `2026-11-25T10:00:00.000000000Z ${request.path.split('/')[6]}/${request.query.container} started\n` }));
    const conn = await connectToDouble(double);

    const logs = await readPodLogs(conn, NS, `app=${API}`, 3_600, 10_000);

    expect(logs).toEqual([
      { pod: 'frontier-api-a', container: 'app', log: '2026-11-25T10:00:00.000000000Z frontier-api-a/app started\n', truncated: false },
      { pod: 'frontier-api-b', container: 'api', log: '2026-11-25T10:00:00.000000000Z frontier-api-b/api started\n', truncated: false },
      { pod: 'frontier-api-b', container: 'envoy', log: '2026-11-25T10:00:00.000000000Z frontier-api-b/envoy started\n', truncated: false },
    ]);
    expect(double.sent('GET', podsPath)[0]!.query).toMatchObject({ labelSelector: `app=${API}`, limit: '500' });
    expect(double.sent('GET', logPath('frontier-api-b')).map((r) => r.query)).toEqual([
      expect.objectContaining({ container: 'api', sinceSeconds: '3600', timestamps: 'true', limitBytes: '10001' }),
      expect.objectContaining({ container: 'envoy', sinceSeconds: '3600', timestamps: 'true', limitBytes: '10001' }),
    ]);
  });

  it('caps each log without cutting a character; a container that has not started does not cost the others', async () => {
    const text = Array.from({ length: 100 }, (_, i) => `línea ${i} ✓`).join('\n');
    const double = new KubeClientDouble()
      .on('GET', podsPath, { body: listOf('PodList', [podObject(NS, 'a-running', { app: API }), podObject(NS, 'b-pending', { app: API }), podObject(NS, 'c-exact', { app: API })]) })
      // The API server honours limitBytes; the product asks for one byte more than it keeps.
      .on('GET', logPath('a-running'), (request) => ({ body: cut(text, Number(request.query.limitBytes)) }))
      .on('GET', logPath('c-exact'), { body: 'x'.repeat(1_000) })
      .failNext({ path: logPath('b-pending'), status: 400, message: 'container "app" in pod "b-pending" is waiting to start: ContainerCreating' });
    const conn = await connectToDouble(double);

    const logs = await readPodLogs(conn, NS, `app=${API}`, 86_400, 1_000);

    expect(logs[0]).toMatchObject({ pod: 'a-running', truncated: true });
    expect(Buffer.byteLength(logs[0]!.log)).toBeLessThanOrEqual(1_000);
    expect(Buffer.byteLength(logs[0]!.log)).toBeGreaterThan(990);
    expect(logs[0]!.log).not.toContain('\uFFFD');
    expect(text.startsWith(logs[0]!.log)).toBe(true);
    expect(logs[1]).toMatchObject({ pod: 'b-pending', log: '', truncated: false, error: expect.stringContaining('waiting to start') });
    expect(logs[2]).toEqual({ pod: 'c-exact', container: 'app', log: 'x'.repeat(1_000), truncated: false });
  });

  it('does not ask for the log of a pod no node has taken yet (the API server answers that with an empty body and no Content-Type)', async () => {
    const double = new KubeClientDouble()
      .on('GET', podsPath, { body: listOf('PodList', [podObject(NS, 'a-running', { app: API }), podObject(NS, 'b-pending', { app: API }, ['app'], null)]) })
      .on('GET', logPath('a-running'), { body: 'started\n' });
    const conn = await connectToDouble(double);

    const logs = await readPodLogs(conn, NS, `app=${API}`, 60, 1_000);

    expect(logs).toEqual([
      { pod: 'a-running', container: 'app', log: 'started\n', truncated: false },
      { pod: 'b-pending', container: 'app', log: '', truncated: false, error: `pod ${NS}/b-pending is not scheduled to a node yet: no log` },
    ]);
    expect(double.sent('GET', /\/log$/).map((r) => r.path)).toEqual([logPath('a-running')]);
  });

  it('refuses a window or cap that is not a whole number >= 1 before any request', async () => {
    const double = new KubeClientDouble();
    const conn = await connectToDouble(double);

    await expect(readPodLogs(conn, NS, `app=${API}`, 0, 1_000)).rejects.toThrow(InvalidInput);
    await expect(readPodLogs(conn, NS, `app=${API}`, 60, 0.5)).rejects.toThrow(InvalidInput);
    expect(double.requests).toHaveLength(0);
  });
});

/** The first `bytes` bytes of `text` as the server sends them (a cut may split a character). */
function cut(text: string, bytes: number): string {
  return Buffer.from(text, 'utf8').subarray(0, bytes).toString('utf8');
}

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
    const double = new KubeClientDouble();
    const conn = await connectToDouble(double);
    const documents = parseManifests(`apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: production}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: b, namespace: production}
`);

    await expect(applyManifests(conn, documents)).rejects.toThrow(/manifest 2: kind CronJob is not one the recovery applies/);
    expect(double.requests).toHaveLength(0);
  });

  it('server-side applies each object (namespaces first, the default namespace filled in) and tells created from updated by the answer', async () => {
    const double = new KubeClientDouble()
      .on('PATCH', '/api/v1/namespaces/staging', { status: 201, body: { metadata: { name: 'staging' } } })
      .on('PATCH', /\/configmaps\/frontier-config$/, { status: 200, body: { metadata: { name: 'frontier-config' } } })
      .on('PATCH', /\/deployments\/frontier-api$/, { status: 201, body: { metadata: { name: 'frontier-api' } } });
    const conn = await connectToDouble(double);
    const documents = parseManifests(`apiVersion: apps/v1
kind: Deployment
metadata: {name: frontier-api, namespace: staging}
spec: {replicas: 2}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: frontier-config}
data: {emergency_mode: "false"}
---
apiVersion: v1
kind: Namespace
metadata: {name: staging}
`);

    const applied = await applyManifests(conn, documents, 'frontier-dr', 'staging');

    expect(applied).toEqual([
      { kind: 'Namespace', name: 'staging', created: true },
      { kind: 'ConfigMap', namespace: 'staging', name: 'frontier-config', created: false },
      { kind: 'Deployment', namespace: 'staging', name: 'frontier-api', created: true },
    ]);
    expect(double.requests.map((r) => [r.path, r.contentType, r.query.fieldManager, r.query.force])).toEqual([
      ['/api/v1/namespaces/staging', 'application/apply-patch+yaml', 'frontier-dr', 'true'],
      ['/api/v1/namespaces/staging/configmaps/frontier-config', 'application/apply-patch+yaml', 'frontier-dr', 'true'],
      ['/apis/apps/v1/namespaces/staging/deployments/frontier-api', 'application/apply-patch+yaml', 'frontier-dr', 'true'],
    ]);
    // The whole manifest is sent, with the namespace it goes to.
    expect(double.requests[1]!.body).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'frontier-config', namespace: 'staging' }, data: { emergency_mode: 'false' } });
  });

  it('stops at the first object the server refuses: what follows is not sent', async () => {
    const double = new KubeClientDouble()
      .on('PATCH', /./, { body: {} })
      .failNext({ path: '/api/v1/namespaces/nowhere/configmaps/a', status: 404, message: 'namespaces "nowhere" not found' });
    const conn = await connectToDouble(double);

    const failure = applyManifests(conn, parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: nowhere}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: nowhere}\n'));

    await expect(failure).rejects.toThrow(KubernetesNotFound);
    await expect(failure).rejects.toThrow(/namespaces "nowhere" not found/);
    expect(double.requests.map((r) => r.path)).toEqual(['/api/v1/namespaces/nowhere/configmaps/a']);
  });
});
