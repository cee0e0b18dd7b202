// The bearer token EKS accepts from an IAM identity, built in-process: Lambda has no `aws` CLI and no
// kubeconfig exec plugin. It is what `aws eks get-token` prints: a SigV4-presigned STS
// GetCallerIdentity URL, with the cluster name as a signed header so a token minted for one cluster
// cannot be replayed against another. EKS forwards the URL to STS to learn who is calling, then maps
// that role to Kubernetes groups (access entry or aws-auth), which RBAC then authorises.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, HttpRequest } from '@smithy/types';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';

/** EKS honours a token for 15 minutes after its X-Amz-Date, whatever X-Amz-Expires says. */
export const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;

const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/**
 * Builds an EKS bearer token for `cluster` from `credentials`, signed for the regional STS endpoint of
 * `region` at `now`. Pure apart from the credential lookup: the same inputs give the same token.
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

/** The presigned URL inside a token (for tests, logs of the token's shape, and the Kubernetes fake). */
export function decodeEksToken(token: string): URL | undefined {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return undefined;
  try {
    return new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
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
