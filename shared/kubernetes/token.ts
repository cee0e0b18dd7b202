// The bearer token EKS accepts from an IAM identity, built in-process: Lambda has no `aws` CLI and no
// kubeconfig exec plugin. It is what `aws eks get-token` prints: a SigV4-presigned STS
// GetCallerIdentity URL, with the cluster name as a signed header so a token minted for one cluster
// cannot be replayed against another. EKS forwards the URL to STS to learn who is calling, then maps
// that role to Kubernetes groups (access entry or aws-auth), which RBAC then authorises.
// EKS honours a token for 15 minutes after its X-Amz-Date, whatever X-Amz-Expires says: a connection
// replaces its token well before that (RefreshingToken), since long rollouts outlive one token.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, HttpRequest } from '@smithy/types';

const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';

const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/**
 * Builds an EKS bearer token for `cluster` (the EKS cluster name) from `credentials`, signed for the
 * regional STS endpoint of `region` at `now`: `k8s-aws-v1.` + base64url (no padding) of a SigV4-presigned
 * `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15` (expires in 60 s,
 * signed headers `host;x-k8s-aws-id`). No AWS call is made; a credential provider is asked for keys.
 * Pure apart from the credential lookup: the same inputs give the same token. Whatever the provider
 * throws is passed on (connectToCluster names it).
 */
export async function eksToken(
  cluster: string,
  region: string,
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
  now: Date = new Date(),
): Promise<string> {
  const hostname = `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({ service: 'sts', region, credentials, sha256: Sha256 });
  const request: HttpRequest = {
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    // `host` must be signed too: the signer only signs the headers it is given.
    headers: { host: hostname, [CLUSTER_ID_HEADER]: cluster },
  };
  // 60 s is what aws-iam-authenticator and `aws eks get-token` use; EKS itself keeps the token for 15 min.
  const signed = await signer.presign(request, { expiresIn: 60, signingDate: now });
  const url = `https://${hostname}/?${queryString(signed.query ?? {})}`;
  return EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

// RFC 3986 encoding, as SigV4 canonicalises it (encodeURIComponent leaves !'()* alone).
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function queryString(query: Record<string, string | (string | null)[] | null>): string {
  return Object.keys(query)
    .sort()
    .flatMap((key) => {
      const value = query[key];
      const values = Array.isArray(value) ? value : [value];
      return values.filter((v): v is string => typeof v === 'string').map((v) => `${encode(key)}=${encode(v)}`);
    })
    .join('&');
}

/** A bearer token that can be replaced when the API server stops accepting it. */
export interface BearerToken {
  current(): Promise<string>;
  /** Forgets the token so the next request mints a new one; false when it cannot be replaced. */
  refresh(): boolean;
}

/** Mints EKS tokens on demand and replaces them once they are older than `refreshAfterMs`. */
export class RefreshingToken implements BearerToken {
  private value: { token: string; issuedAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly mint: (now: Date) => Promise<string>,
    private readonly now: () => Date,
    private readonly refreshAfterMs: number,
  ) {}

  async current(): Promise<string> {
    const now = this.now();
    if (this.value && now.getTime() - this.value.issuedAt < this.refreshAfterMs) return this.value.token;
    // Concurrent requests share one mint.
    this.pending ??= this.mint(now)
      .then((token) => {
        this.value = { token, issuedAt: now.getTime() };
        return token;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  refresh(): boolean {
    this.value = undefined;
    return true;
  }
}

export class FixedToken implements BearerToken {
  constructor(private readonly token: string) {}
  async current(): Promise<string> {
    return this.token;
  }
  refresh(): boolean {
    return false;
  }
}
