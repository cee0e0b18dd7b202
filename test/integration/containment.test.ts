// The security incident's containment against real servers: a real Kubernetes control plane
// (local/kube-cluster.ts, deploy/rbac/ installed, so the block policy's apply and the ConfigMap patch go
// through real RBAC and real validation) and moto's WAFv2, reached by the product's own WAF client
// through AWS_ENDPOINT_URL. The API server stores NetworkPolicies without enforcing them (no CNI here):
// what is checked is the policy as the cluster keeps it, not packets.
import { CreateIPSetCommand, GetIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { EMULATOR_CREDENTIALS } from '../../local/emulator-clients.js';
import { startLocalCluster, type LocalCluster } from '../../local/kube-cluster.js';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { seedExampleDeployment, withSeededWafIpSet } from '../../local/seed.js';
import { forgetClients, wafClient } from '../../shared/clients.js';
import { connectTo, forgetConnections } from '../../shared/cluster-ops.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { blockAddresses, setEmergencyMode, type BlockAddressesData, type PlaceBlock } from '../../shared/containment.js';
import type { RunContext } from '../../shared/run.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';
import { configWith } from '../support/fixtures.js';
import { runContext } from '../unit/report-fixtures.js';

const API = 'frontier-api';
const POLICY = 'frontier-emergency-block';
const IP_SET_NAME = 'frontier-blocked';
const TEST_TIMEOUT_MS = 120_000;

let moto: MotoServer;
let cluster: LocalCluster;
let networking: NetworkingV1Api;
let restoreErrorRealm: () => void = () => undefined;
let namespaces = 0;
const saved = { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL };

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  [moto, cluster] = await Promise.all([
    startMoto(),
    startLocalCluster({ name: 'containment', clusterName: 'frontier-containment', keys: [EMULATOR_CREDENTIALS], nodes: 1 }),
  ]);
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  forgetClients();
  networking = cluster.plane.adminKubeConfig().makeApiClient(NetworkingV1Api);
}, 600_000);

afterAll(async () => {
  if (saved.AWS_ENDPOINT_URL === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = saved.AWS_ENDPOINT_URL;
  forgetClients();
  forgetConnections();
  await cluster?.stop();
  await moto?.stop();
  restoreErrorRealm();
}, 60_000);

/** A namespace with deploy/rbac/ and the API deployment, a WAF IP set in moto, and a config naming both. */
async function deployment(options: { labels?: Record<string, string>; ipVersion?: 'IPV4' | 'IPV6'; addresses?: string[] } = {}): Promise<{ config: DeploymentConfig; namespace: string; ipSetId: string }> {
  const namespace = `containment-${++namespaces}`;
  await cluster.addNamespace(namespace);
  await cluster.addDeployment(namespace, API, { image: 'frontier/api:1.8.2', replicas: 1, labels: options.labels ?? { app: API, tier: 'web' } });
  const waf = new WAFV2Client({ region: 'us-west-2', endpoint: moto.endpoint, credentials: EMULATOR_CREDENTIALS });
  const created = await waf.send(
    new CreateIPSetCommand({ Name: `${IP_SET_NAME}-${namespaces}`, Scope: 'REGIONAL', IPAddressVersion: options.ipVersion ?? 'IPV4', Addresses: options.addresses ?? [], Description: 'blocked' }),
  );
  const ipSetId = created.Summary!.Id!;
  const config = configWith((raw) => {
    raw.kubernetes!.namespace = namespace;
    raw.kubernetes!.clusters.primary.name = cluster.clusterName;
    (raw as unknown as Record<string, unknown>).securityIncident = {
      evidence: { bucket: 'frontier-prod-incident-evidence' },
      blockIps: { wafIpSet: { name: `${IP_SET_NAME}-${namespaces}`, id: ipSetId, scope: 'REGIONAL', region: 'us-west-2' } },
    };
  });
  forgetConnections();
  // The product's connection, its endpoint from the local cluster instead of EKS, signed with the emulator's keys.
  await connectTo(config, 'primary', { resolveEndpoint: () => ({ endpoint: cluster.url, caData: cluster.caData }), credentials: EMULATOR_CREDENTIALS });
  return { config, namespace, ipSetId };
}

function incidentRun(blockIps: string[], dryRun = false): RunContext {
  return runContext({
    scenario: 'security-incident' as RunContext['scenario'],
    trigger: 'manual',
    dryRun,
    securityIncident: { incidentId: 'SEC-2026-041', blockIps, patchedImage: null, secrets: [] },
  });
}

async function ipSetAddresses(config: DeploymentConfig): Promise<string[]> {
  const ipSet = config.securityIncident!.blockIps.wafIpSet!;
  const answer = await wafClient('us-west-2').send(new GetIPSetCommand({ Name: ipSet.name, Scope: ipSet.scope, Id: ipSet.id }));
  return [...(answer.IPSet?.Addresses ?? [])].sort();
}

const place = (data: BlockAddressesData, name: PlaceBlock['place']) => data.places.find((p) => p.place === name)!;

describe('blockAddresses on a real cluster and moto WAFv2', () => {
  it('creates the block policy the API server accepts, selecting the API pods, and puts the IPv4 addresses into the WAF set', async () => {
    const { config, namespace } = await deployment({ addresses: ['192.0.2.0/24'] });
    const result = await blockAddresses(config, incidentRun(['203.0.113.7', '2001:db8::/32']), { waf: wafClient });

    const stored = await networking.readNamespacedNetworkPolicy({ name: POLICY, namespace });
    expect(stored.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'frontier-dr' });
    expect(stored.metadata?.managedFields?.map((f) => f.manager)).toEqual(['frontier-dr']);
    expect(stored.spec?.podSelector).toEqual({ matchLabels: { app: API, tier: 'web' } });
    expect(stored.spec?.policyTypes).toEqual(['Ingress']);
    expect(stored.spec?.ingress?.[0]?._from).toEqual([
      { ipBlock: { cidr: '0.0.0.0/0', except: ['203.0.113.7/32'] } },
      { ipBlock: { cidr: '::/0', except: ['2001:db8::/32'] } },
      { namespaceSelector: {} },
    ]);
    // The policy selects the running API pods (as kubectl would match them).
    const pods = await cluster.plane.adminKubeConfig().makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: 'app=frontier-api,tier=web' });
    expect(pods.items.length).toBeGreaterThan(0);

    expect(await ipSetAddresses(config)).toEqual(['192.0.2.0/24', '203.0.113.7/32']);
    expect(place(result.data, 'network-policy')).toMatchObject({ outcome: 'blocked', blocked: ['203.0.113.7/32', '2001:db8::/32'] });
    expect(place(result.data, 'waf-ip-set')).toMatchObject({ outcome: 'blocked', added: ['203.0.113.7/32'], notBlockable: ['2001:db8::/32'] });
  }, TEST_TIMEOUT_MS);

  it('on a re-run merges the addresses already blocked in both places, and a third run with nothing new changes nothing', async () => {
    const { config, namespace } = await deployment();
    await blockAddresses(config, incidentRun(['203.0.113.7']), { waf: wafClient });
    const first = await networking.readNamespacedNetworkPolicy({ name: POLICY, namespace });

    const second = await blockAddresses(config, incidentRun(['198.51.100.0/24']), { waf: wafClient });
    const merged = await networking.readNamespacedNetworkPolicy({ name: POLICY, namespace });
    expect(merged.spec?.ingress?.[0]?._from?.[0]).toEqual({ ipBlock: { cidr: '0.0.0.0/0', except: ['198.51.100.0/24', '203.0.113.7/32'] } });
    expect(await ipSetAddresses(config)).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
    expect(place(second.data, 'network-policy').added).toEqual(['198.51.100.0/24']);

    const patchesBefore = cluster.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/networkpolicies/${POLICY}`)).length;
    const third = await blockAddresses(config, incidentRun(['203.0.113.7', '198.51.100.0/24']), { waf: wafClient });
    expect(third.data.places.map((p) => p.outcome)).toEqual(['already-blocked', 'already-blocked']);
    expect(cluster.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/networkpolicies/${POLICY}`))).toHaveLength(patchesBefore);
    const after = await networking.readNamespacedNetworkPolicy({ name: POLICY, namespace });
    expect(after.metadata?.resourceVersion).not.toBe(first.metadata?.resourceVersion);
    expect(after.metadata?.resourceVersion).toBe(merged.metadata?.resourceVersion);
  }, TEST_TIMEOUT_MS);

  it('does not apply the block next to another policy selecting the API pods; the WAF set still blocks', async () => {
    const { config, namespace } = await deployment();
    await networking.createNamespacedNetworkPolicy({
      namespace,
      body: { metadata: { name: 'allow-from-lb' }, spec: { podSelector: { matchLabels: { app: API } }, ingress: [{ _from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] } },
    });
    const result = await blockAddresses(config, incidentRun(['203.0.113.7']), { waf: wafClient });
    await expect(networking.readNamespacedNetworkPolicy({ name: POLICY, namespace })).rejects.toMatchObject({ code: 404 });
    expect(place(result.data, 'network-policy')).toMatchObject({ outcome: 'not-applied', otherPolicies: ['allow-from-lb'] });
    expect(await ipSetAddresses(config)).toEqual(['203.0.113.7/32']);
  }, TEST_TIMEOUT_MS);

  it('in a dry run changes neither place', async () => {
    const { config, namespace } = await deployment();
    const result = await blockAddresses(config, incidentRun(['203.0.113.7'], true), { waf: wafClient });
    await expect(networking.readNamespacedNetworkPolicy({ name: POLICY, namespace })).rejects.toMatchObject({ code: 404 });
    expect(await ipSetAddresses(config)).toEqual([]);
    expect(result.data.places.map((p) => p.outcome)).toEqual(['would-block', 'would-block']);
  }, TEST_TIMEOUT_MS);

  it('fails with WafIpSetNotFound for an IP set moto does not have, after the policy is in place', async () => {
    const { config, namespace } = await deployment();
    const incident = config.securityIncident!;
    const wrong: DeploymentConfig = {
      ...config,
      securityIncident: { ...incident, blockIps: { ...incident.blockIps, wafIpSet: { ...incident.blockIps.wafIpSet!, id: '00000000-0000-4000-8000-000000000000' } } },
    };
    await expect(blockAddresses(wrong, incidentRun(['203.0.113.7']), { waf: wafClient })).rejects.toMatchObject({ name: 'WafIpSetNotFound' });
    expect((await networking.readNamespacedNetworkPolicy({ name: POLICY, namespace })).metadata?.name).toBe(POLICY);
  }, TEST_TIMEOUT_MS);
});

describe('setEmergencyMode on a real cluster', () => {
  it('sets the key, keeps the others and the previous value, and does nothing the second time', async () => {
    const { config, namespace } = await deployment();
    await cluster.addConfigMap(namespace, 'frontier-config', { LOG_LEVEL: 'info', emergency_mode: 'false' });
    const first = await setEmergencyMode(config, incidentRun([]));
    expect(first.data).toMatchObject({ configMap: 'frontier-config', key: 'emergency_mode', previousValue: 'false', changed: true });
    expect(await cluster.configMapData(namespace, 'frontier-config')).toEqual({ LOG_LEVEL: 'info', emergency_mode: 'true' });

    const second = await setEmergencyMode(config, incidentRun([]));
    expect(second.data).toMatchObject({ previousValue: 'true', changed: false });
  }, TEST_TIMEOUT_MS);

  it('fails with EmergencyModeConfigMapMissing and creates nothing when the ConfigMap does not exist', async () => {
    const { config, namespace } = await deployment();
    await expect(setEmergencyMode(config, incidentRun([]))).rejects.toMatchObject({ name: 'EmergencyModeConfigMapMissing' });
    expect(await cluster.configMapData(namespace, 'frontier-config')).toBeUndefined();
  }, TEST_TIMEOUT_MS);
});

describe('the local seed', () => {
  it('creates the configured WAF IP set (its moto id handed to the deployment) and the emergency-mode ConfigMap on the serving cluster', async () => {
    await moto.reset();
    const namespace = `containment-${++namespaces}`;
    await cluster.addNamespace(namespace);
    await cluster.addDeployment(namespace, API, { image: 'frontier/api:1.8.2', replicas: 1 });
    const configured = configWith((raw) => {
      raw.kubernetes!.namespace = namespace;
      raw.kubernetes!.clusters.primary.name = cluster.clusterName;
      (raw as unknown as Record<string, unknown>).securityIncident = {
        evidence: { bucket: 'frontier-prod-incident-evidence' },
        blockIps: { wafIpSet: { name: 'frontier-seeded', id: '11111111-2222-4333-8444-555555555555' } },
      };
    });
    const seeded = await seedExampleDeployment(configured, moto.endpoint, { user: 'frontier', password: 'seed-password' }, { redis: { password: 'unused' } as never, primary: cluster });
    expect(seeded.wafIpSetId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await cluster.configMapData(namespace, 'frontier-config')).toMatchObject({ LOG_LEVEL: 'info', emergency_mode: 'false' });

    const config = withSeededWafIpSet(configured, seeded);
    expect(config.securityIncident!.blockIps.wafIpSet).toEqual({ name: 'frontier-seeded', id: seeded.wafIpSetId, scope: 'REGIONAL' });
    forgetConnections();
    await connectTo(config, 'primary', { resolveEndpoint: () => ({ endpoint: cluster.url, caData: cluster.caData }), credentials: EMULATOR_CREDENTIALS });
    // The example's primary region: a REGIONAL set without a region of its own lives there.
    await blockAddresses(config, incidentRun(['203.0.113.7']), { waf: wafClient });
    const answer = await wafClient(config.primaryRegion).send(new GetIPSetCommand({ Name: 'frontier-seeded', Scope: 'REGIONAL', Id: seeded.wafIpSetId! }));
    expect(answer.IPSet?.Addresses).toEqual(['203.0.113.7/32']);
    expect((await setEmergencyMode(config, incidentRun([]))).data).toMatchObject({ previousValue: 'false', changed: true });
  }, TEST_TIMEOUT_MS);
});
