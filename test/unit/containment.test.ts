// The security incident's containment steps (shared/containment.ts) against the Kubernetes client
// double and a mocked WAFv2 client: what the block NetworkPolicy holds, re-runs merging what earlier
// runs blocked, the refusal to apply next to another policy selecting the API pods, the WAF IP set's
// union under its optimistic lock, mixed IPv4/IPv6, dry runs, and every failure as its named error.
import {
  GetIPSetCommand,
  UpdateIPSetCommand,
  WAFInternalErrorException,
  WAFNonexistentItemException,
  WAFOptimisticLockException,
  WAFV2Client,
  WAFV2ServiceException,
  type IPSet,
} from '@aws-sdk/client-wafv2';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import type { DeploymentConfig } from '../../shared/config.js';
import { blockAddresses, selectorMatches, setEmergencyMode, sortCidrs, WAF_LOCK_ATTEMPTS, type BlockAddressesData, type PlaceBlock } from '../../shared/containment.js';
import type { KubernetesConnection } from '../../shared/kubernetes/connection.js';
import type { RunContext } from '../../shared/run.js';
import { configWith } from '../support/fixtures.js';
import { connectToDouble, deploymentObject, deploymentPath, KubeClientDouble, listOf } from '../support/kube-client-double.js';
import { runContext } from './report-fixtures.js';

const NAMESPACE = 'production';
const API = 'frontier-api';
const POLICY = 'frontier-emergency-block';
const POLICIES_PATH = `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/networkpolicies`;
const POLICY_PATH = `${POLICIES_PATH}/${POLICY}`;
const CONFIG_MAP_PATH = `/api/v1/namespaces/${NAMESPACE}/configmaps/frontier-config`;
const IP_SET = { name: 'frontier-blocked-v4', id: '3f2b6c1e-0d4a-4c8e-9b7a-1a2b3c4d5e6f' };
const IP_SET_ARN = `arn:aws:wafv2:us-west-2:123456789012:regional/ipset/${IP_SET.name}/${IP_SET.id}`;

type SecurityIncidentRaw = Record<string, unknown>;

function incidentConfig(change: (section: SecurityIncidentRaw) => void = () => undefined): DeploymentConfig {
  return configWith((raw) => {
    const section: SecurityIncidentRaw = {
      evidence: { bucket: 'frontier-prod-incident-evidence' },
      blockIps: { wafIpSet: { ...IP_SET } },
    };
    change(section);
    (raw as unknown as Record<string, unknown>).securityIncident = section;
  });
}

function incidentRun(blockIps: string[], options: Partial<RunContext> = {}): RunContext {
  return runContext({
    scenario: 'security-incident' as RunContext['scenario'],
    trigger: 'manual',
    securityIncident: { incidentId: 'SEC-2026-041', blockIps, patchedImage: null, secrets: [] },
    ...options,
  });
}

let double: KubeClientDouble;
let connection: Promise<KubernetesConnection>;
const connect = () => connection;

const waf = new WAFV2Client({ region: 'us-west-2', maxAttempts: 1 });
const wafMock = mockClient(waf);
const wafRegions: string[] = [];
const wafFor = (region: string) => {
  wafRegions.push(region);
  return waf;
};

/** The WAF IP set as WAF keeps it: its lock token changes with every update. */
let ipSet: IPSet;
let lockToken: number;

function answerIpSet(): void {
  wafMock.on(GetIPSetCommand).callsFake(() => ({ IPSet: structuredClone(ipSet), LockToken: `token-${lockToken}` }));
  wafMock.on(UpdateIPSetCommand).callsFake((input: { Addresses: string[]; LockToken: string; Description?: string }) => {
    if (input.LockToken !== `token-${lockToken}`) throw new WAFOptimisticLockException({ message: 'stale lock token', $metadata: { httpStatusCode: 400 } });
    ipSet = { ...ipSet, Addresses: [...input.Addresses], ...(input.Description !== undefined ? { Description: input.Description } : {}) };
    lockToken += 1;
    return { NextLockToken: `token-${lockToken}` };
  });
}

function answerApi(options: { labels?: Record<string, string>; policies?: V1NetworkPolicy[] } = {}): void {
  const deployment = deploymentObject({ namespace: NAMESPACE, name: API, image: 'frontier/api:1.8.2', labels: options.labels ?? { app: API, tier: 'web' } });
  double
    .on('GET', deploymentPath(NAMESPACE, API), { body: deployment })
    .on('GET', POLICIES_PATH, { body: listOf('NetworkPolicyList', options.policies ?? []) })
    .on('PATCH', POLICY_PATH, (request) => ({ status: 201, body: request.body }));
}

/** A NetworkPolicy as the API server answers it (wire names: `from`, not the client's `_from`). */
function policy(name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}): V1NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: NAMESPACE, labels }, spec } as V1NetworkPolicy;
}

function ownPolicy(except: string[]): V1NetworkPolicy {
  return policy(
    POLICY,
    { podSelector: { matchLabels: { app: API, tier: 'web' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except } }, { ipBlock: { cidr: '::/0' } }, { namespaceSelector: {} }] }] },
    { 'app.kubernetes.io/managed-by': 'frontier-dr' },
  );
}

const applied = () => double.sent('PATCH', POLICY_PATH);
const place = (data: BlockAddressesData, name: PlaceBlock['place']) => data.places.find((p) => p.place === name)!;

beforeEach(() => {
  double = new KubeClientDouble();
  connection = connectToDouble(double, { clusterName: 'frontier-prod-primary', requestTimeoutMs: 200 });
  wafMock.reset();
  wafRegions.length = 0;
  ipSet = { Name: IP_SET.name, Id: IP_SET.id, ARN: IP_SET_ARN, IPAddressVersion: 'IPV4', Addresses: ['192.0.2.0/24'], Description: 'blocked by the incident response' };
  lockToken = 1;
  answerIpSet();
});

describe('blockAddresses: the NetworkPolicy', () => {
  it('creates a policy selecting the API pods that allows every address but the blocked ones (each IP version its own ipBlock) and every pod of the cluster', async () => {
    answerApi();
    const result = await blockAddresses(incidentConfig(), incidentRun(['203.0.113.7/32', '2001:db8::/32', '198.51.100.0/24']), { waf: wafFor, connect });

    const [request] = applied();
    expect(request?.contentType).toBe('application/apply-patch+yaml');
    expect(request?.query).toMatchObject({ fieldManager: 'frontier-dr', force: 'true' });
    expect(request?.body).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: POLICY, namespace: NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'frontier-dr' }, annotations: { 'frontier-dr/last-incident': 'SEC-2026-041' } },
      spec: {
        podSelector: { matchLabels: { app: API, tier: 'web' } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              { ipBlock: { cidr: '0.0.0.0/0', except: ['198.51.100.0/24', '203.0.113.7/32'] } },
              { ipBlock: { cidr: '::/0', except: ['2001:db8::/32'] } },
              { namespaceSelector: {} },
            ],
          },
        ],
      },
    });
    const network = place(result.data, 'network-policy');
    expect(network).toMatchObject({ outcome: 'blocked', blocked: ['198.51.100.0/24', '203.0.113.7/32', '2001:db8::/32'], added: ['198.51.100.0/24', '203.0.113.7/32', '2001:db8::/32'] });
    expect(network.resource).toBe(`NetworkPolicy ${NAMESPACE}/${POLICY} on frontier-prod-primary (us-east-1)`);
    expect(result.actions?.find((a) => a.service === 'kubernetes')).toMatchObject({ operation: 'apply networkpolicies', performed: true });
  });

  it('says the policy does not block clients behind the load balancer unless client addresses are preserved, and that it needs an enforcing cluster', async () => {
    answerApi();
    const rewritten = place((await blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect })).data, 'network-policy');
    expect(rewritten.effective).toMatch(/^Does NOT block clients behind the load balancer/);
    expect(rewritten.effective).toMatch(/enforces NetworkPolicy/);

    answerApi({ policies: [] });
    const preserved = place(
      (await blockAddresses(incidentConfig((s) => ((s.blockIps as Record<string, unknown>).clientAddressPreserved = true)), incidentRun(['203.0.113.7']), { waf: wafFor, connect })).data,
      'network-policy',
    );
    expect(preserved.effective).toMatch(/through the load balancer too/);
    expect(preserved.effective).toMatch(/VPC CNI's network policy agent/);
    expect(preserved.effective).not.toMatch(/NOT/);
  });

  it('on a re-run adds to the addresses an earlier run blocked, and changes nothing when they are all there', async () => {
    answerApi({ policies: [ownPolicy(['203.0.113.7/32'])] });
    const merged = await blockAddresses(incidentConfig(), incidentRun(['198.51.100.0/24']), { waf: wafFor, connect });
    const body = applied()[0]?.body as { spec: { ingress: { from: { ipBlock?: { cidr: string; except?: string[] } }[] }[] } };
    expect(body.spec.ingress[0]?.from).toEqual([{ ipBlock: { cidr: '0.0.0.0/0', except: ['198.51.100.0/24', '203.0.113.7/32'] } }, { ipBlock: { cidr: '::/0' } }, { namespaceSelector: {} }]);
    expect(place(merged.data, 'network-policy')).toMatchObject({ outcome: 'blocked', added: ['198.51.100.0/24'], blocked: ['198.51.100.0/24', '203.0.113.7/32'] });

    double = new KubeClientDouble();
    connection = connectToDouble(double, { requestTimeoutMs: 200 });
    answerApi({ policies: [ownPolicy(['198.51.100.0/24', '203.0.113.7/32'])] });
    const again = await blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect });
    expect(applied()).toHaveLength(0);
    expect(place(again.data, 'network-policy')).toMatchObject({ outcome: 'already-blocked', added: [], blocked: ['198.51.100.0/24', '203.0.113.7/32'] });
  });

  it('does not apply the block next to another policy that selects the API pods, and names it', async () => {
    answerApi({
      policies: [
        policy('allow-from-ingress', { podSelector: { matchLabels: { app: API } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] }),
        policy('default-deny', { podSelector: {}, policyTypes: ['Ingress'] }),
        // Neither selects the API pods for ingress: no reason to hold back.
        policy('workers-only', { podSelector: { matchLabels: { app: 'worker' } }, policyTypes: ['Ingress'] }),
        policy('egress-only', { podSelector: {}, policyTypes: ['Egress'] }),
      ],
    });
    const result = await blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect });
    expect(applied()).toHaveLength(0);
    const network = place(result.data, 'network-policy');
    expect(network).toMatchObject({ outcome: 'not-applied', otherPolicies: ['allow-from-ingress', 'default-deny'], added: [] });
    expect(network.effective).toMatch(/^Not blocked here: .*widen what they allow.*Rely on the WAF IP set/);
    // The WAF still blocks.
    expect(place(result.data, 'waf-ip-set').outcome).toBe('blocked');
  });

  it('applies the block when the other policies select other pods or only restrict egress', async () => {
    answerApi({ policies: [policy('workers-only', { podSelector: { matchLabels: { app: 'worker' } } }), policy('egress-only', { podSelector: {}, policyTypes: ['Egress'] })] });
    const result = await blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect });
    expect(applied()).toHaveLength(1);
    expect(place(result.data, 'network-policy').outcome).toBe('blocked');
  });

  it('leaves alone a policy of the same name that is not the recovery\'s', async () => {
    answerApi({ policies: [policy(POLICY, { podSelector: {}, policyTypes: ['Ingress'] })] });
    const result = await blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect });
    expect(applied()).toHaveLength(0);
    expect(place(result.data, 'network-policy')).toMatchObject({ outcome: 'not-applied', otherPolicies: [POLICY] });
  });

  it('drops the ipBlock of an IP version whose whole range is blocked (an except may not equal its cidr)', async () => {
    answerApi();
    await blockAddresses(incidentConfig(), incidentRun(['0.0.0.0/0', '2001:db8::1']), { waf: wafFor, connect });
    const body = applied()[0]?.body as { spec: { ingress: { from: unknown[] }[] } };
    expect(body.spec.ingress[0]?.from).toEqual([{ ipBlock: { cidr: '::/0', except: ['2001:db8::1/128'] } }, { namespaceSelector: {} }]);
  });

  it.each([
    ['the API deployment is missing', 'GET', deploymentPath(NAMESPACE, API), 404, 'KubernetesNotFound'],
    ['listing the policies is forbidden', 'GET', POLICIES_PATH, 403, 'KubernetesUnauthorized'],
    ['the apply is refused as invalid', 'PATCH', POLICY_PATH, 422, 'KubernetesRejected'],
    ['the API server is overloaded', 'PATCH', POLICY_PATH, 503, 'KubernetesTransientError'],
    ['the API server is throttling', 'GET', POLICIES_PATH, 429, 'KubernetesTransientError'],
  ])('fails with a named error when %s', async (_case, method, path, status, name) => {
    answerApi();
    double.failNext({ method, path, status });
    await expect(blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect })).rejects.toMatchObject({ name });
    // The WAF set is handled after the policy: a failed policy step has not touched it.
    expect(wafMock.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });

  it.each([
    ['does not answer', { timeout: true }],
    ['refuses connections', { refused: true }],
  ])('fails with KubernetesUnreachable when the API server %s', async (_case, fault) => {
    answerApi();
    double.failNext({ path: deploymentPath(NAMESPACE, API), ...fault });
    await expect(blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect })).rejects.toMatchObject({ name: 'KubernetesUnreachable' });
  });
});

describe('blockAddresses: the WAF IP set', () => {
  it('writes the union with the lock token and description it read, only of the set\'s IP version, in the set\'s region', async () => {
    answerApi();
    const result = await blockAddresses(incidentConfig(), incidentRun(['203.0.113.7', '2001:db8::/32', '192.0.2.0/24']), { waf: wafFor, connect });
    const calls = wafMock.commandCalls(UpdateIPSetCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      Name: IP_SET.name,
      Scope: 'REGIONAL',
      Id: IP_SET.id,
      Addresses: ['192.0.2.0/24', '203.0.113.7/32'],
      LockToken: 'token-1',
      Description: 'blocked by the incident response',
    });
    expect(wafRegions).toEqual(['us-west-2']);
    const edge = place(result.data, 'waf-ip-set');
    expect(edge).toMatchObject({ outcome: 'blocked', added: ['203.0.113.7/32'], blocked: ['192.0.2.0/24', '203.0.113.7/32'], notBlockable: ['2001:db8::/32'] });
    expect(edge.effective).toMatch(/web ACL whose Block rule references this IP set, within about a minute/);
    expect(edge.effective).toMatch(/preflight cannot see that rule/);
    expect(edge.effective).toMatch(/IPv4 addresses only: 2001:db8::\/32 cannot be blocked there/);
  });

  it('changes nothing when the set already holds every address (compared in canonical form)', async () => {
    answerApi();
    ipSet = { ...ipSet, IPAddressVersion: 'IPV6', Addresses: ['2001:DB8:0::/32'] };
    const result = await blockAddresses(incidentConfig(), incidentRun(['2001:db8::/32']), { waf: wafFor, connect });
    expect(wafMock.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
    expect(place(result.data, 'waf-ip-set')).toMatchObject({ outcome: 'already-blocked', added: [], blocked: ['2001:db8::/32'] });
  });

  it('reads again and merges again when the set changed between its read and its update (optimistic lock)', async () => {
    answerApi();
    let reads = 0;
    wafMock.on(GetIPSetCommand).callsFake(() => {
      reads += 1;
      const answer = { IPSet: structuredClone(ipSet), LockToken: `token-${lockToken}` };
      // Someone else adds an address right after our first read.
      if (reads === 1) {
        ipSet = { ...ipSet, Addresses: [...(ipSet.Addresses ?? []), '198.51.100.9/32'] };
        lockToken += 1;
      }
      return answer;
    });
    const result = await blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect });
    expect(reads).toBe(2);
    expect(ipSet.Addresses).toEqual(['192.0.2.0/24', '198.51.100.9/32', '203.0.113.7/32']);
    expect(place(result.data, 'waf-ip-set')).toMatchObject({ outcome: 'blocked', blocked: ['192.0.2.0/24', '198.51.100.9/32', '203.0.113.7/32'] });
  });

  it('gives up with WafIpSetBusy (retryable by the state machine) when the set keeps changing', async () => {
    answerApi();
    wafMock.on(UpdateIPSetCommand).rejects(new WAFOptimisticLockException({ message: 'stale', $metadata: { httpStatusCode: 400 } }));
    await expect(blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect })).rejects.toMatchObject({ name: 'WafIpSetBusy' });
    expect(wafMock.commandCalls(UpdateIPSetCommand)).toHaveLength(WAF_LOCK_ATTEMPTS);
  });

  it('refuses to go past WAF\'s 10,000 addresses per set, and changes nothing', async () => {
    answerApi();
    ipSet = { ...ipSet, Addresses: Array.from({ length: 9_999 }, (_, i) => `10.${Math.floor(i / 256)}.${i % 256}.0/32`) };
    await expect(blockAddresses(incidentConfig(), incidentRun(['203.0.113.7', '203.0.113.8']), { waf: wafFor, connect })).rejects.toMatchObject({ name: 'WafIpSetFull' });
    expect(wafMock.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });

  const wafError = (name: string, status: number) =>
    new WAFV2ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: `${name} happened` });

  it.each([
    ['the IP set does not exist', () => new WAFNonexistentItemException({ message: 'no such set', $metadata: { httpStatusCode: 400 } }), 'WafIpSetNotFound'],
    ['WAF has an internal error', () => new WAFInternalErrorException({ message: 'internal', $metadata: { httpStatusCode: 500 } }), 'AwsTransientError'],
    ['WAF throttles', () => wafError('ThrottlingException', 400), 'AwsTransientError'],
    ['the role may not read the set', () => wafError('AccessDeniedException', 400), 'AwsAccessDenied'],
    ['the WAF endpoint is unreachable', () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'AwsTransientError'],
  ])('fails with a named error when %s (GetIPSet)', async (_case, error, name) => {
    answerApi();
    wafMock.on(GetIPSetCommand).rejects(error());
    await expect(blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect })).rejects.toMatchObject({ name });
    expect(wafMock.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });

  it.each([
    ['the set was deleted meanwhile', () => new WAFNonexistentItemException({ message: 'gone', $metadata: { httpStatusCode: 400 } }), 'WafIpSetNotFound'],
    ['the role may not update the set', () => wafError('AccessDeniedException', 400), 'AwsAccessDenied'],
    ['WAF is unavailable', () => wafError('WAFUnavailableEntityException', 503), 'AwsTransientError'],
  ])('fails with a named error when %s (UpdateIPSet)', async (_case, error, name) => {
    answerApi();
    wafMock.on(UpdateIPSetCommand).rejects(error());
    await expect(blockAddresses(incidentConfig(), incidentRun(['203.0.113.7']), { waf: wafFor, connect })).rejects.toMatchObject({ name });
  });

  it('uses us-east-1 for a CLOUDFRONT set', async () => {
    answerApi();
    await blockAddresses(incidentConfig((s) => ((s.blockIps as Record<string, unknown>).wafIpSet = { ...IP_SET, scope: 'CLOUDFRONT' })), incidentRun(['203.0.113.7']), { waf: wafFor, connect });
    expect(wafRegions).toEqual(['us-east-1']);
    expect(wafMock.commandCalls(GetIPSetCommand)[0]?.args[0].input).toMatchObject({ Scope: 'CLOUDFRONT' });
  });

  it('reports "not configured" and calls no WAF API without a wafIpSet', async () => {
    answerApi();
    const result = await blockAddresses(incidentConfig((s) => (s.blockIps = {})), incidentRun(['203.0.113.7']), { waf: wafFor, connect });
    expect(wafMock.calls()).toHaveLength(0);
    expect(place(result.data, 'waf-ip-set')).toMatchObject({ outcome: 'not-configured' });
    expect(place(result.data, 'waf-ip-set').effective).toMatch(/Not blocked at the edge/);
  });
});

describe('blockAddresses: dry run and nothing to do', () => {
  it('in a dry run reads both places, records the exact apply and UpdateIPSet, and changes nothing', async () => {
    answerApi({ policies: [ownPolicy(['203.0.113.7/32'])] });
    const result = await blockAddresses(incidentConfig(), incidentRun(['203.0.113.7', '198.51.100.0/24'], { dryRun: true }), { waf: wafFor, connect });
    expect(applied()).toHaveLength(0);
    expect(wafMock.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
    expect(wafMock.commandCalls(GetIPSetCommand)).toHaveLength(1);
    expect(place(result.data, 'network-policy')).toMatchObject({ outcome: 'would-block', added: ['198.51.100.0/24'], blocked: ['203.0.113.7/32'] });
    expect(place(result.data, 'waf-ip-set')).toMatchObject({ outcome: 'would-block', added: ['198.51.100.0/24', '203.0.113.7/32'] });
    const [apply, update] = result.actions!;
    expect(apply).toMatchObject({ performed: false, operation: 'apply networkpolicies' });
    expect((apply?.parameters.manifest as { spec: { ingress: { from: unknown[] }[] } }).spec.ingress[0]?.from[0]).toEqual({ ipBlock: { cidr: '0.0.0.0/0', except: ['198.51.100.0/24', '203.0.113.7/32'] } });
    expect(update).toMatchObject({ performed: false, service: 'wafv2', operation: 'UpdateIPSet', parameters: { region: 'us-west-2', Addresses: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.7/32'], LockToken: 'token-1' } });
  });

  it('makes no request at all when the incident names no address', async () => {
    const result = await blockAddresses(incidentConfig(), incidentRun([]), { waf: wafFor, connect });
    expect(double.requests).toHaveLength(0);
    expect(wafMock.calls()).toHaveLength(0);
    expect(result.status).toBe('skipped');
    expect(result.data.places.map((p) => p.outcome)).toEqual(['nothing-to-block', 'nothing-to-block']);
  });

  it('refuses a run that is not a security incident', async () => {
    await expect(blockAddresses(incidentConfig(), runContext(), { waf: wafFor, connect })).rejects.toMatchObject({ name: 'InvalidInput' });
  });
});

describe('selectorMatches', () => {
  const labels = { app: API, tier: 'web' };
  it.each([
    [undefined, true],
    [{}, true],
    [{ matchLabels: { app: API } }, true],
    [{ matchLabels: { app: 'worker' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, false],
    [{ matchExpressions: [{ key: 'canary', operator: 'NotIn', values: ['yes'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    [{ matchLabels: { app: API }, matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, false],
  ])('%j selects the API pods: %s', (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });

  it('sorts CIDRs IPv4 first, by address, each once', () => {
    expect(sortCidrs(['2001:db8::/32', '203.0.113.7/32', '10.0.0.0/8', '203.0.113.7/32', '::1/128'])).toEqual(['10.0.0.0/8', '203.0.113.7/32', '::1/128', '2001:db8::/32']);
  });
});

describe('setEmergencyMode', () => {
  const configMap = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'frontier-config', namespace: NAMESPACE }, data });

  it('sets emergency_mode=true with a merge patch of that key alone, and keeps the previous value', async () => {
    double.on('GET', CONFIG_MAP_PATH, { body: configMap({ LOG_LEVEL: 'info', emergency_mode: 'false' }) }).on('PATCH', CONFIG_MAP_PATH, { body: configMap({}) });
    const result = await setEmergencyMode(incidentConfig(), incidentRun([]), connect);
    const [patch] = double.sent('PATCH', CONFIG_MAP_PATH);
    expect(patch?.contentType).toBe('application/merge-patch+json');
    expect(patch?.body).toEqual({ data: { emergency_mode: 'true' } });
    expect(result.data).toEqual({ cluster: 'frontier-prod-primary', namespace: NAMESPACE, configMap: 'frontier-config', key: 'emergency_mode', previousValue: 'false', changed: true });
    expect(result.actions).toEqual([expect.objectContaining({ performed: true, operation: 'patch configmaps' })]);
  });

  it('reports a key that was not there as previousValue null', async () => {
    double.on('GET', CONFIG_MAP_PATH, { body: configMap({ LOG_LEVEL: 'info' }) }).on('PATCH', CONFIG_MAP_PATH, { body: configMap({}) });
    const result = await setEmergencyMode(incidentConfig(), incidentRun([]), connect);
    expect(result.data).toMatchObject({ previousValue: null, changed: true });
  });

  it('does nothing when emergency mode is already on', async () => {
    double.on('GET', CONFIG_MAP_PATH, { body: configMap({ emergency_mode: 'true' }) });
    const result = await setEmergencyMode(incidentConfig(), incidentRun([]), connect);
    expect(double.sent('PATCH', CONFIG_MAP_PATH)).toHaveLength(0);
    expect(result.data).toMatchObject({ previousValue: 'true', changed: false });
    expect(result.actions).toEqual([]);
  });

  it('uses the configured ConfigMap and key', async () => {
    const path = `/api/v1/namespaces/${NAMESPACE}/configmaps/api-flags`;
    double.on('GET', path, { body: configMap({}) }).on('PATCH', path, { body: configMap({}) });
    await setEmergencyMode(incidentConfig((s) => (s.emergencyMode = { configMap: 'api-flags', key: 'READ_ONLY' })), incidentRun([]), connect);
    expect(double.sent('PATCH', path)[0]?.body).toEqual({ data: { READ_ONLY: 'true' } });
  });

  it('in a dry run reads the ConfigMap only and says what it would change', async () => {
    double.on('GET', CONFIG_MAP_PATH, { body: configMap({ emergency_mode: 'false' }) });
    const result = await setEmergencyMode(incidentConfig(), incidentRun([], { dryRun: true }), connect);
    expect(double.requests.map((r) => r.method)).toEqual(['GET']);
    expect(result.data).toMatchObject({ previousValue: 'false', changed: true });
    expect(result.actions).toEqual([expect.objectContaining({ performed: false, parameters: expect.objectContaining({ patch: { data: { emergency_mode: 'true' } } }) })]);
  });

  it.each([false, true])('fails with EmergencyModeConfigMapMissing, creating nothing, when the ConfigMap does not exist (dry run: %s)', async (dryRun) => {
    double.failNext({ method: 'GET', path: CONFIG_MAP_PATH, status: 404 });
    await expect(setEmergencyMode(incidentConfig(), incidentRun([], { dryRun }), connect)).rejects.toMatchObject({ name: 'EmergencyModeConfigMapMissing', message: expect.stringMatching(/does not create one/) });
    expect(double.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
  });

  it.each([
    ['the patch is forbidden', 'PATCH', 403, 'KubernetesUnauthorized'],
    ['the API server fails', 'PATCH', 500, 'KubernetesTransientError'],
    ['the read is forbidden', 'GET', 403, 'KubernetesUnauthorized'],
  ])('fails with a named error when %s', async (_case, method, status, name) => {
    double.on('GET', CONFIG_MAP_PATH, { body: configMap({}) }).on('PATCH', CONFIG_MAP_PATH, { body: configMap({}) });
    double.failNext({ method, path: CONFIG_MAP_PATH, status });
    await expect(setEmergencyMode(incidentConfig(), incidentRun([]), connect)).rejects.toMatchObject({ name });
  });

  it('fails with KubernetesUnreachable when the API server does not answer', async () => {
    double.failNext({ path: CONFIG_MAP_PATH, timeout: true });
    await expect(setEmergencyMode(incidentConfig(), incidentRun([]), connect)).rejects.toMatchObject({ name: 'KubernetesUnreachable' });
  });
});
