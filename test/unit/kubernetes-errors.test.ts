// What a failed Kubernetes request reads as (shared/kubernetes/requests.ts), without a server: the
// answer the client layer hands over is built here. Every error answer carries the Status message the
// API server sent (the generated client drops a 401's body; the request middleware keeps it), and a
// TLS failure names its cause instead of undici's "fetch failed". The same against a real API server:
// test/integration/kubernetes-real-server.test.ts.
import { ApiException, ResponseContext } from '@kubernetes/client-node';
import {
  KubernetesConflict,
  KubernetesNotFound,
  KubernetesRejected,
  KubernetesTransientError,
  KubernetesUnauthorized,
  KubernetesUnreachable,
  RecoveryError,
} from '../../shared/errors.js';
import type { KubernetesConnection } from '../../shared/kubernetes/connection.js';
import { requestOptions, send, type RequestTarget } from '../../shared/kubernetes/requests.js';

const SERVER = 'https://frontier-backup.example.eks.amazonaws.com';
const conn = { server: SERVER, requestTimeoutMs: 1_000, token: { current: async () => 'token', refresh: () => false } } as unknown as KubernetesConnection;
const SCALE: RequestTarget = { verb: 'patch', resource: 'deployments/scale', group: 'apps', namespace: 'production', name: 'frontier-api' };

/** An answer body as the fetch library hands it over. */
function body(text: string) {
  return { text: async () => text, binary: async () => Buffer.from(text), stream: () => null };
}

/** A Kubernetes Status answer as the API server sends it. */
function statusAnswer(code: number, reason: string, message: string): ResponseContext {
  const text = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  return new ResponseContext(code, { 'content-type': 'application/json' }, body(text));
}

/** What the request middleware makes of an answer (it throws for an error answer). */
async function throughMiddleware(answer: ResponseContext): Promise<unknown> {
  // requestOptions gives Observable-based middleware (the generated client's own kind).
  const middleware = (requestOptions(conn).middleware ?? []) as unknown as { post(response: ResponseContext): { toPromise(): Promise<ResponseContext> } }[];
  try {
    let response = answer;
    for (const step of middleware) response = await step.post(response).toPromise();
    return response;
  } catch (error) {
    return error;
  }
}

/** The named error a request fails with when the client layer throws `thrown`. */
async function failureOf(thrown: unknown, target: RequestTarget = SCALE): Promise<RecoveryError> {
  const error = await send(conn, target, () => Promise.reject(thrown)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecoveryError);
  return error as RecoveryError;
}

describe('an error answer of the API server', () => {
  it('keeps its body: the middleware turns it into an ApiException carrying the Status the server sent', async () => {
    const error = await throughMiddleware(statusAnswer(401, 'Unauthorized', 'Unauthorized'));

    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<string>).code).toBe(401);
    expect(JSON.parse((error as ApiException<string>).body)).toMatchObject({ kind: 'Status', message: 'Unauthorized' });
  });

  it('leaves a successful answer to the generated client', async () => {
    const ok = new ResponseContext(200, {}, body('{}'));
    expect(await throughMiddleware(ok)).toBe(ok);
  });

  it.each([
    [401, 'Unauthorized', 'Unauthorized', KubernetesUnauthorized, /refused the EKS token even after a fresh one \(401: Unauthorized\)/],
    [
      403,
      'Forbidden',
      'deployments.apps "frontier-api" is forbidden: User "arn:aws:sts::123456789012:assumed-role/x/y" cannot patch resource "deployments/scale" in API group "apps" in the namespace "production"',
      KubernetesUnauthorized,
      /needs verb "patch" on resource "deployments\/scale" in API group "apps".*cannot patch resource "deployments\/scale"/,
    ],
    [404, 'NotFound', 'deployments.apps "frontier-api" not found', KubernetesNotFound, /not found \(deployments\.apps "frontier-api" not found\)/],
    [
      409,
      'Conflict',
      'Operation cannot be fulfilled on deployments.apps "frontier-api": the object has been modified',
      KubernetesConflict,
      /conflict \(Operation cannot be fulfilled on deployments\.apps "frontier-api": the object has been modified\)/,
    ],
    [422, 'Invalid', 'Scale.autoscaling "frontier-api" is invalid: spec.replicas: Invalid value: -1', KubernetesRejected, /rejected \(HTTP 422\): Scale\.autoscaling "frontier-api" is invalid/],
    [503, 'ServiceUnavailable', 'etcdserver: leader changed', KubernetesTransientError, /failed temporarily \(HTTP 503\): etcdserver: leader changed/],
  ] as const)('%i reads with the Status message the server sent', async (code, reason, message, named, expected) => {
    const failure = await failureOf(await throughMiddleware(statusAnswer(code, reason, message)));

    expect(failure).toBeInstanceOf(named);
    expect(failure.message).toMatch(expected);
    expect(failure.message).toMatch(/^patch deployments\/scale production\/frontier-api/);
  });

  it('reads a plain-text body as it came', async () => {
    const text = 'upstream connect error or disconnect/reset before headers';
    const answer = new ResponseContext(502, { 'content-type': 'text/plain' }, body(text));

    expect((await failureOf(await throughMiddleware(answer))).message).toContain(text);
  });
});

/** undici's failed fetch: a TypeError "fetch failed" with the socket's error as its cause. */
function fetchFailed(code: string, message: string): TypeError {
  return Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code }) });
}

describe('a request that never got an answer', () => {
  it.each([
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
    ['CERT_HAS_EXPIRED', 'certificate has expired'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"],
  ])('names the TLS cause %s, not "fetch failed"', async (code, message) => {
    const failure = await failureOf(fetchFailed(code, message));

    expect(failure.constructor).toBe(RecoveryError);
    expect(failure.message).toContain(`the TLS connection to the Kubernetes API at ${SERVER} failed: ${code} (${message})`);
    expect(failure.message).toContain('cluster CA');
    expect(failure.message).not.toMatch(/fetch failed/);
  });

  it('calls a refused connection unreachable (worth a retry), naming the code', async () => {
    const failure = await failureOf(fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443'));

    expect(failure).toBeInstanceOf(KubernetesUnreachable);
    expect(failure.message).toContain('(ECONNREFUSED)');
  });

  it('gives the whole cause chain of anything else', async () => {
    const failure = await failureOf(fetchFailed('ERR_SOMETHING_NEW', 'a failure nobody listed'));

    expect(failure.constructor).toBe(RecoveryError);
    expect(failure.message).toBe('patch deployments/scale production/frontier-api failed: fetch failed: a failure nobody listed (ERR_SOMETHING_NEW)');
  });

  it('reads a cause chain from another realm (no instanceof Error)', async () => {
    const foreign = { name: 'TypeError', message: 'fetch failed', cause: { name: 'Error', code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' } };

    expect((await failureOf(foreign)).message).toContain('failed: DEPTH_ZERO_SELF_SIGNED_CERT (self-signed certificate)');
  });
});
