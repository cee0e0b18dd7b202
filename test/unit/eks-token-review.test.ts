// The local control planes' EKS token webhook (local/eks-token-review.ts) reviews the tokens the product
// mints (shared/kubernetes/token.ts) as EKS and STS do.
import { reviewEksToken } from '../../local/eks-token-review.js';
import { rbacGroups } from '../../local/rbac.js';
import { eksToken } from '../../shared/kubernetes/token.js';

const KEY = { accessKeyId: 'AKIALOCALTESTKEY0001', secretAccessKey: 'local-test-secret-key-000000000000000000' };
const ISSUED = new Date('2026-11-30T08:00:00Z');
const options = { clusterName: 'frontier-primary', keys: [KEY], now: () => new Date(ISSUED.getTime() + 60_000) };

function urlOf(token: string): URL {
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
}

function tokenOf(url: URL): string {
  return `k8s-aws-v1.${Buffer.from(url.toString(), 'utf8').toString('base64url')}`;
}

describe('reviewEksToken', () => {
  it('accepts a token the product minted for this cluster and maps the caller to every group deploy/rbac/ binds', async () => {
    const token = await eksToken('frontier-primary', 'us-west-2', KEY, ISSUED);
    expect(reviewEksToken(token, options)).toEqual({
      authenticated: true,
      username: `arn:aws:sts::123456789012:assumed-role/frontier-dr/${KEY.accessKeyId}`,
      uid: expect.any(String),
      groups: rbacGroups(),
    });
    expect(rbacGroups()).toContain('frontier-dr:check-rollout');
  });

  it('maps an identity\'s key to its own groups only, as one function\'s role and its access entry', async () => {
    const checkRollout = { accessKeyId: 'AKIACHECKROLLOUT0001', secretAccessKey: 'check-rollout-secret-000000000000000000' };
    const withIdentities = { ...options, identities: [{ key: checkRollout, groups: ['frontier-dr:check-rollout'], role: 'frontier-dr-check-rollout' }] };

    expect(reviewEksToken(await eksToken('frontier-primary', 'us-west-2', checkRollout, ISSUED), withIdentities)).toEqual({
      authenticated: true,
      username: `arn:aws:sts::123456789012:assumed-role/frontier-dr-check-rollout/${checkRollout.accessKeyId}`,
      uid: expect.any(String),
      groups: ['frontier-dr:check-rollout'],
    });
    // The environment's own key keeps every group; an identity's secret is still checked.
    expect(reviewEksToken(await eksToken('frontier-primary', 'us-west-2', KEY, ISSUED), withIdentities)).toMatchObject({ groups: rbacGroups() });
    expect(reviewEksToken(await eksToken('frontier-primary', 'us-west-2', { ...checkRollout, secretAccessKey: 'wrong' }, ISSUED), withIdentities)).toEqual({
      authenticated: false,
      reason: expect.stringMatching(/SignatureDoesNotMatch/),
    });
  });

  it('gives the keys the groups it is told to, instead of the default', async () => {
    const token = await eksToken('frontier-primary', 'us-west-2', KEY, ISSUED);
    expect(reviewEksToken(token, { ...options, groups: ['some-group'] })).toMatchObject({ authenticated: true, groups: ['some-group'] });
  });

  it.each([
    ['a token minted for another cluster', () => eksToken('frontier-backup', 'us-west-2', KEY, ISSUED), /SignatureDoesNotMatch/],
    ['a key STS does not know', () => eksToken('frontier-primary', 'us-west-2', { ...KEY, accessKeyId: 'AKIAOTHER' }, ISSUED), /unknown access key/],
    ['a wrong secret', () => eksToken('frontier-primary', 'us-west-2', { ...KEY, secretAccessKey: 'wrong' }, ISSUED), /SignatureDoesNotMatch/],
    ['a token older than 15 minutes', () => eksToken('frontier-primary', 'us-west-2', KEY, new Date(ISSUED.getTime() - 15 * 60_000)), /expired/],
    ['a plain bearer token', async () => 'some-service-account-token', /not an EKS token/],
    ['a URL that is not STS', async () => tokenOf(new URL('https://example.com/?Action=GetCallerIdentity')), /not an STS URL/],
    [
      'a URL whose cluster header is not signed',
      async () => {
        const url = urlOf(await eksToken('frontier-primary', 'us-west-2', KEY, ISSUED));
        url.searchParams.set('X-Amz-SignedHeaders', 'host');
        return tokenOf(url);
      },
      /x-k8s-aws-id/,
    ],
    [
      'another STS action',
      async () => {
        const url = urlOf(await eksToken('frontier-primary', 'us-west-2', KEY, ISSUED));
        url.searchParams.set('Action', 'AssumeRole');
        return tokenOf(url);
      },
      /GetCallerIdentity/,
    ],
  ])('refuses %s, saying why', async (_what, mint, reason) => {
    const review = reviewEksToken(await mint(), options);
    expect(review).toEqual({ authenticated: false, reason: expect.stringMatching(reason) });
  });
});
