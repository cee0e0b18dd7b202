// EKS authentication for the local control planes: a token webhook (kube-apiserver
// --authentication-token-webhook-config-file) that reviews the product's in-process `k8s-aws-v1.`
// tokens as EKS does before it maps an IAM identity to Kubernetes groups. EKS forwards the presigned
// URL to STS; here "STS" is a SigV4 check against the keys the local environment hands out. An accepted
// caller gets Kubernetes groups as an EKS access entry gives them: by default every group deploy/rbac/
// binds (one per Lambda function: the local environment signs every function's token with one key),
// or, for a key given as an identity, only that identity's groups (one function's role alone).
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rbacGroups } from './rbac.js';

const TOKEN_PREFIX = 'k8s-aws-v1.';
/** EKS honours a token for 15 minutes after its X-Amz-Date, whatever X-Amz-Expires says. */
const EKS_TOKEN_TTL_MS = 15 * 60_000;
/** The account the local "STS" reports for every key it knows. */
const ACCOUNT = '123456789012';

export interface AwsKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** One IAM identity and the Kubernetes groups its access entry maps it to. */
export interface EksIdentity {
  /** The key its tokens are signed with. */
  key: AwsKey;
  /** Its Kubernetes groups, and no others (e.g. [`frontier-dr:check-rollout`]). */
  groups: readonly string[];
  /** The IAM role name in its ARN (default: frontier-dr). */
  role?: string;
}

export interface EksTokenReviewOptions {
  /** The EKS cluster name a token must be signed for (its `x-k8s-aws-id` header). */
  clusterName: string;
  /** Keys whose signatures "STS" accepts, each mapped to `groups`. */
  keys: readonly AwsKey[];
  /** The Kubernetes groups `keys` map to (default: every group deploy/rbac/ binds, rbacGroups()). */
  groups?: readonly string[];
  /** Further keys, each mapped to its own groups only (as one function's role and its access entry). */
  identities?: readonly EksIdentity[];
  now?: () => Date;
  /** Tokens whose X-Amz-Date is earlier are refused as expired (a test's way to age them at once). */
  issuedNotBefore?: Date;
}

let boundGroups: string[] | undefined;
/** Every group deploy/rbac/ binds, read once. */
export function defaultEksGroups(): string[] {
  boundGroups ??= rbacGroups();
  return [...boundGroups];
}

export type TokenReview = { authenticated: true; username: string; uid: string; groups: string[] } | { authenticated: false; reason: string };

/** Reviews one bearer token as EKS would for `clusterName`. Pure apart from the clock (and deploy/rbac/, read once for the default groups). */
export function reviewEksToken(token: string, options: EksTokenReviewOptions): TokenReview {
  const refuse = (reason: string): TokenReview => ({ authenticated: false, reason });
  if (!token.startsWith(TOKEN_PREFIX)) return refuse('not an EKS token (no k8s-aws-v1. prefix)');
  let url: URL;
  try {
    url = new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return refuse('the token is not a presigned URL');
  }
  const q = url.searchParams;
  if (url.protocol !== 'https:' || !/^sts(\.[a-z0-9-]+)?\.amazonaws\.com$/.test(url.host) || url.pathname !== '/') return refuse(`not an STS URL: ${url.host}${url.pathname}`);
  if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') return refuse('not an STS GetCallerIdentity request');
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return refuse('not signed with SigV4');
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-k8s-aws-id')) return refuse('the x-k8s-aws-id cluster header is not signed');
  if (!q.get('X-Amz-Expires')) return refuse('no X-Amz-Expires');
  const [accessKeyId = '', , region = '', service] = (q.get('X-Amz-Credential') ?? '').split('/');
  if (service !== 'sts') return refuse('not signed for sts');
  if (url.host !== 'sts.amazonaws.com' && url.host !== `sts.${region}.amazonaws.com`) return refuse('the signing region does not match the STS host');
  const identity = options.identities?.find((candidate) => candidate.key.accessKeyId === accessKeyId);
  const secret = identity?.key.secretAccessKey ?? options.keys.find((key) => key.accessKeyId === accessKeyId)?.secretAccessKey;
  if (secret === undefined) return refuse(`InvalidClientTokenId: unknown access key ${accessKeyId}`);
  const expected = presignedSignature(url, { host: url.host, 'x-k8s-aws-id': options.clusterName }, secret);
  if (q.get('X-Amz-Signature') !== expected) return refuse(`SignatureDoesNotMatch (is the token signed for cluster ${options.clusterName}?)`);
  const issued = amzDate(q.get('X-Amz-Date') ?? '');
  if (!issued) return refuse('bad X-Amz-Date');
  const age = (options.now?.() ?? new Date()).getTime() - issued.getTime();
  if (age > EKS_TOKEN_TTL_MS) return refuse('X-Amz-Date parameter is expired (15 minute expiration)');
  if (age < -5 * 60_000) return refuse('X-Amz-Date is in the future');
  if (options.issuedNotBefore && issued < options.issuedNotBefore) return refuse('X-Amz-Date parameter is expired (15 minute expiration)');
  const arn = `arn:aws:sts::${ACCOUNT}:assumed-role/${identity?.role ?? 'frontier-dr'}/${accessKeyId}`;
  const groups = identity ? [...identity.groups] : [...(options.groups ?? defaultEksGroups())];
  return { authenticated: true, username: arn, uid: `aws-iam-authenticator:${ACCOUNT}:${accessKeyId}`, groups };
}

export interface EksTokenWebhook {
  /** The URL kube-apiserver posts TokenReviews to. */
  url: string;
  /** Reviews answered so far, newest last (username or the reason for refusing). */
  reviews(): { authenticated: boolean; detail: string }[];
  /** Distinct tokens accepted so far, in the order first seen. */
  acceptedTokens(): string[];
  /**
   * From now on, refuses tokens whose X-Amz-Date is earlier than `date`, as EKS refuses an expired one.
   * Returns when (ms since the epoch) such a token was last accepted, 0 if never: the API server keeps
   * an accepted review for a while (see startLocalCluster), so the refusal shows only once that lapses.
   */
  expireTokensIssuedBefore(date: Date): number;
  stop(): Promise<void>;
}

/** Serves TokenReview (authentication.k8s.io/v1) on a free loopback port. */
export async function startEksTokenWebhook(options: EksTokenReviewOptions): Promise<EksTokenWebhook> {
  const seen: { authenticated: boolean; detail: string }[] = [];
  /** Accepted tokens, first seen first, with when each was last accepted. */
  const accepted = new Map<string, number>();
  const groups = options.groups ?? rbacGroups();
  let issuedNotBefore = options.issuedNotBefore;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let review: { apiVersion?: string; spec?: { token?: string } };
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        response.writeHead(400).end('not a TokenReview');
        return;
      }
      const token = review.spec?.token ?? '';
      const answer = reviewEksToken(token, { ...options, groups, ...(issuedNotBefore ? { issuedNotBefore } : {}) });
      if (answer.authenticated) accepted.set(token, Date.now());
      seen.push(answer.authenticated ? { authenticated: true, detail: answer.username } : { authenticated: false, detail: answer.reason });
      const status = answer.authenticated
        ? { authenticated: true, user: { username: answer.username, uid: answer.uid, groups: answer.groups } }
        : { authenticated: false, error: answer.reason };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ apiVersion: review.apiVersion ?? 'authentication.k8s.io/v1', kind: 'TokenReview', status }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token-review`,
    reviews: () => seen.map((entry) => ({ ...entry })),
    acceptedTokens: () => [...accepted.keys()],
    expireTokensIssuedBefore(date) {
      issuedNotBefore = date;
      let last = 0;
      for (const [token, at] of accepted) if ((tokenIssuedAt(token)?.getTime() ?? 0) < date.getTime()) last = Math.max(last, at);
      return last;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The signature a presigned GET of `url` with `headers` signed by `secretAccessKey` must carry (as STS checks it). */
export function presignedSignature(url: URL, headers: Record<string, string>, secretAccessKey: string): string {
  const params = [...url.searchParams.entries()].filter(([key]) => key !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const signed = (url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';');
  const canonicalHeaders = signed.map((name) => `${name}:${(headers[name] ?? '').trim()}\n`).join('');
  const emptyPayload = createHash('sha256').update('').digest('hex');
  const canonicalRequest = ['GET', url.pathname || '/', canonicalQuery, canonicalHeaders, signed.join(';'), emptyPayload].join('\n');
  const [, date = '', region = '', service = ''] = (url.searchParams.get('X-Amz-Credential') ?? '').split('/');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', url.searchParams.get('X-Amz-Date') ?? '', scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/** The X-Amz-Date of an EKS token's presigned URL. */
export function tokenIssuedAt(token: string): Date | undefined {
  try {
    return amzDate(new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8')).searchParams.get('X-Amz-Date') ?? '');
  } catch {
    return undefined;
  }
}

function amzDate(value: string): Date | undefined {
  const m = value.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}
