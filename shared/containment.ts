// The security incident's containment (README "Containment: blocking addresses and emergency mode"):
// the input's addresses blocked in front of the API (a Kubernetes NetworkPolicy on the serving cluster,
// and the WAF IP set when one is configured), and the API switched to emergency mode (a ConfigMap key).
// Each place says where its block is effective, because a block that looks done but filters nothing
// (a NetworkPolicy behind a load balancer that rewrites client addresses, or on a cluster that does not
// enforce policies) is worse than none: the report must say which one actually holds.
import { PatchStrategy, type V1LabelSelector, type V1NetworkPolicy, type V1NetworkPolicyPeer } from '@kubernetes/client-node';
import { GetIPSetCommand, UpdateIPSetCommand, WAFNonexistentItemException, WAFOptimisticLockException, type IPSet, type WAFV2Client } from '@aws-sdk/client-wafv2';
import ipaddr from 'ipaddr.js';
import { connectTo } from './cluster-ops.js';
import { kubernetesConfig, securityIncidentConfig, wafIpSetRegion, type DeploymentConfig, type SecurityIncidentConfig } from './config.js';
import {
  classifyAwsError,
  EmergencyModeConfigMapMissing,
  InvalidInput,
  KubernetesNotFound,
  WafIpSetBusy,
  WafIpSetFull,
  WafIpSetNotFound,
} from './errors.js';
import type { KubernetesConnection } from './kubernetes/connection.js';
import { applyManifests } from './kubernetes/manifests.js';
import { patchConfigMapKeys } from './kubernetes/objects.js';
import { listAll, PAGE_SIZE, requestOptions, send } from './kubernetes/requests.js';
import { readDeployment } from './kubernetes/workloads.js';
import { toCidr, type RunContext } from './run.js';
import type { Action, StepResult } from './steps.js';

/** The field manager the recovery's server-side applies use (shared/kubernetes/manifests.ts). */
const FIELD_MANAGER = 'frontier-dr';
/** WAF's limit of addresses in one IP set. */
export const WAF_IP_SET_LIMIT = 10_000;
/** UpdateIPSet attempts when the set changes between our read and our write (WAFOptimisticLockException). */
export const WAF_LOCK_ATTEMPTS = 5;
/** Marks the block policy as the recovery's own (a policy of that name without it is somebody else's). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

import type { BlockAddressesData, PlaceBlock } from './containment-result.js';
export type { BlockAddressesData, BlockOutcome, BlockPlace, PlaceBlock } from './containment-result.js';

export interface ContainmentClients {
  /** The WAF client for a region (shared/clients.ts wafClient). */
  waf: (region: string) => WAFV2Client;
  /** The cluster connection (default: cluster-ops connectTo, cached per container). */
  connect?: (config: DeploymentConfig, role: 'primary' | 'backup') => Promise<KubernetesConnection>;
}

function incidentOf(run: RunContext): NonNullable<RunContext['securityIncident']> {
  if (!run.securityIncident) throw new InvalidInput(`run ${run.executionName} is a ${run.scenario} run, not a security incident: it names no addresses to block`);
  return run.securityIncident;
}

const isIpv6 = (cidr: string) => cidr.includes(':');

/** Canonical CIDRs, each once, IPv4 first then IPv6, each family in address order. */
export function sortCidrs(cidrs: Iterable<string>): string[] {
  const unique = [...new Set(cidrs)];
  const key = (cidr: string) => {
    const [address, prefix] = ipaddr.parseCIDR(cidr);
    return { v6: address.kind() === 'ipv6', bytes: address.toByteArray(), prefix };
  };
  return unique.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (x.v6 !== y.v6) return x.v6 ? 1 : -1;
    for (let i = 0; i < x.bytes.length; i++) if (x.bytes[i] !== y.bytes[i]) return (x.bytes[i] ?? 0) - (y.bytes[i] ?? 0);
    return x.prefix - y.prefix;
  });
}

/**
 * BlockAddresses: blocks `run.securityIncident.blockIps` at the NetworkPolicy and (when configured) the
 * WAF IP set, adding to what earlier runs blocked there. Data: { addresses, places: [network-policy,
 * waf-ip-set] } (PlaceBlock: outcome, resource, blocked, added, notBlockable, effective). Nothing to do
 * (no request made) when the input names no address. Dry run: reads both places, changes nothing, and
 * records the exact apply / UpdateIPSet it would make. Calls (Kubernetes, on securityIncident.cluster)
 * GET apps/v1 deployments/<api>, LIST networking.k8s.io/v1 networkpolicies, PATCH (server-side apply)
 * networkpolicies/<blockIps.networkPolicy>; (AWS, in wafIpSetRegion) wafv2:GetIPSet, wafv2:UpdateIPSet.
 * Throws the named Kubernetes errors (KubernetesNotFound for a missing API deployment...), WafIpSetNotFound,
 * WafIpSetBusy (the set kept changing, retryable), WafIpSetFull (more than 10,000 addresses), and the
 * named AWS errors of awsCall (AwsTransientError for an unreachable WAF endpoint or a 5xx, AwsAccessDenied).
 * The NetworkPolicy is handled before the WAF set: when the WAF step fails, the policy is in place and a
 * re-run only checks it again.
 */
export async function blockAddresses(config: DeploymentConfig, run: RunContext, clients: ContainmentClients): Promise<StepResult<BlockAddressesData>> {
  const incident = incidentOf(run);
  const addresses = sortCidrs(incident.blockIps.map((value) => toCidr(value) ?? invalidAddress(value)));
  const section = securityIncidentConfig(config);
  if (addresses.length === 0) {
    const places: PlaceBlock[] = [
      { place: 'network-policy', outcome: 'nothing-to-block', resource: policyResource(config), blocked: [], added: [], notBlockable: [], effective: 'Nothing blocked: the incident names no address (blockIps is empty).' },
      {
        place: 'waf-ip-set',
        outcome: section.blockIps.wafIpSet ? 'nothing-to-block' : 'not-configured',
        resource: section.blockIps.wafIpSet ? ipSetResource(config, section.blockIps.wafIpSet) : 'no WAF IP set configured',
        blocked: [],
        added: [],
        notBlockable: [],
        effective: 'Nothing blocked: the incident names no address (blockIps is empty).',
      },
    ];
    return { data: { addresses, places }, status: 'skipped', detail: 'no address to block (blockIps is empty): nothing changed' };
  }
  const actions: Action[] = [];
  const connect = clients.connect ?? connectTo;
  const conn = await connect(config, section.cluster);
  const policy = await blockWithNetworkPolicy(config, conn, run, addresses, actions);
  const waf = await blockWithWafIpSet(config, clients.waf, run, addresses, actions);
  const places = [policy, waf];
  return { data: { addresses, places }, actions, detail: places.map((p) => `${p.place}: ${p.outcome}${p.added.length ? ` (${p.added.length} added)` : ''}`).join('; ') };
}

function invalidAddress(value: string): never {
  throw new InvalidInput(`blockIps: "${value}" is not an IPv4 or IPv6 address or CIDR`);
}

// ---------------------------------------------------------------------------------------------------
// NetworkPolicy

function policyResource(config: DeploymentConfig, conn?: KubernetesConnection): string {
  const { namespace } = kubernetesConfig(config);
  const section = securityIncidentConfig(config);
  const cluster = conn ? `${conn.cluster} (${conn.region})` : `the ${section.cluster} cluster`;
  return `NetworkPolicy ${namespace}/${section.blockIps.networkPolicy} on ${cluster}`;
}

/** Does `selector` select pods labelled `labels`? (Kubernetes label selector semantics; an empty selector selects every pod.) */
export function selectorMatches(selector: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const requirement of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(labels, requirement.key);
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case 'In':
        if (!present || !values.includes(labels[requirement.key] as string)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(labels[requirement.key] as string)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        // An operator we do not know: assume it may select the pods (the cautious answer here).
        return true;
    }
  }
  return true;
}

/** Does the policy restrict ingress? (policyTypes absent: Ingress, plus Egress when it has egress rules.) */
function restrictsIngress(policy: V1NetworkPolicy): boolean {
  const types = policy.spec?.policyTypes;
  return types === undefined || types.length === 0 ? true : types.includes('Ingress');
}

/** The addresses an earlier run blocked: the `except` entries of the block policy's ipBlocks. */
function blockedByPolicy(policy: V1NetworkPolicy | undefined): string[] {
  if (!policy) return [];
  const found: string[] = [];
  for (const rule of policy.spec?.ingress ?? []) {
    for (const peer of rule._from ?? []) {
      for (const except of peer.ipBlock?.except ?? []) {
        const cidr = toCidr(except);
        if (cidr) found.push(cidr);
      }
    }
  }
  return found;
}

/**
 * The block policy: ingress to the API pods allowed from every address except the blocked ones (one
 * ipBlock per IP version; a blocked /0 drops that version's ipBlock altogether) and from every pod of
 * the cluster (namespaceSelector {}: in-cluster callers are not what is being blocked).
 */
export function blockPolicyManifest(namespace: string, name: string, podSelector: V1LabelSelector, blocked: string[], incidentId: string) {
  const v4 = blocked.filter((c) => !isIpv6(c));
  const v6 = blocked.filter(isIpv6);
  const ipBlock = (all: string, except: string[]): V1NetworkPolicyPeer[] =>
    except.some((c) => c.endsWith('/0')) ? [] : [{ ipBlock: { cidr: all, ...(except.length ? { except } : {}) } }];
  const selector: V1LabelSelector = {
    ...(podSelector.matchLabels ? { matchLabels: { ...podSelector.matchLabels } } : {}),
    ...(podSelector.matchExpressions ? { matchExpressions: podSelector.matchExpressions.map((e) => ({ ...e })) } : {}),
  };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name,
      namespace,
      labels: { [MANAGED_BY_LABEL]: FIELD_MANAGER },
      annotations: { 'frontier-dr/last-incident': incidentId },
    },
    spec: {
      podSelector: selector,
      policyTypes: ['Ingress'],
      ingress: [{ from: [...ipBlock('0.0.0.0/0', v4), ...ipBlock('::/0', v6), { namespaceSelector: {} }] }],
    },
  };
}

function policyEffective(config: DeploymentConfig, conn: KubernetesConnection): string {
  const preserved = securityIncidentConfig(config).blockIps.clientAddressPreserved;
  const enforcement =
    `only where cluster ${conn.cluster} enforces NetworkPolicy (on EKS: the VPC CNI's network policy agent, enableNetworkPolicy; ` +
    'a cluster without an enforcing agent stores the policy and filters nothing)';
  return preserved
    ? `Blocks these addresses at the API pods, for traffic through the load balancer too (clientAddressPreserved: the pods see client addresses), ${enforcement}; it takes effect within seconds of the apply.`
    : `Does NOT block clients behind the load balancer: the API pods see the load balancer's addresses, not the clients' (clientAddressPreserved is false). ` +
        `It blocks these addresses only when they reach the pods directly (from the VPC or peered networks), ${enforcement}. Rely on the WAF IP set for internet clients.`;
}

async function blockWithNetworkPolicy(config: DeploymentConfig, conn: KubernetesConnection, run: RunContext, addresses: string[], actions: Action[]): Promise<PlaceBlock> {
  const { namespace, apiDeployment } = kubernetesConfig(config);
  const name = securityIncidentConfig(config).blockIps.networkPolicy;
  const resource = policyResource(config, conn);
  const deployment = await readDeployment(conn, namespace, apiDeployment);
  const podSelector = deployment.spec?.selector ?? {};
  const podLabels = deployment.spec?.template?.metadata?.labels ?? {};
  const policies = await listAll((token) =>
    send(conn, { verb: 'list', resource: 'networkpolicies', group: 'networking.k8s.io', namespace }, () =>
      conn.networking.listNamespacedNetworkPolicy({ namespace, limit: PAGE_SIZE, _continue: token }, requestOptions(conn)),
    ),
  );
  const own = policies.find((p) => p.metadata?.name === name);
  if (own && own.metadata?.labels?.[MANAGED_BY_LABEL] !== FIELD_MANAGER) {
    const reason = `a NetworkPolicy named ${name} exists and is not the recovery's (no label ${MANAGED_BY_LABEL}=${FIELD_MANAGER}): it is left as it is`;
    return { place: 'network-policy', outcome: 'not-applied', resource, blocked: [], added: [], notBlockable: [], reason, otherPolicies: [name], effective: `Not blocked here: ${reason}.` };
  }
  // Policies only ever add allowed sources: next to another policy selecting the pods, ours would allow
  // everything it does not block (wider than that policy) and still not block what that policy allows.
  const others = policies
    .filter((p) => p.metadata?.name !== name && restrictsIngress(p) && selectorMatches(p.spec?.podSelector, podLabels))
    .map((p) => p.metadata?.name ?? '')
    .sort();
  if (others.length > 0) {
    const reason =
      `NetworkPolicy ${others.join(', ')} already select${others.length === 1 ? 's' : ''} the API pods (${namespace}/${apiDeployment}); network policies only add allowed sources, ` +
      'so a block policy would widen what they allow and still not block what they allow';
    return {
      place: 'network-policy',
      outcome: 'not-applied',
      resource,
      blocked: sortCidrs(blockedByPolicy(own)),
      added: [],
      notBlockable: [],
      reason,
      otherPolicies: others,
      effective: `Not blocked here: ${reason}. Rely on the WAF IP set, or add these addresses as ipBlock except entries to those policies by hand.`,
    };
  }
  const before = sortCidrs(blockedByPolicy(own));
  const added = addresses.filter((a) => !before.includes(a));
  const blocked = sortCidrs([...before, ...added]);
  const effective = policyEffective(config, conn);
  if (own && added.length === 0) {
    return { place: 'network-policy', outcome: 'already-blocked', resource, blocked, added: [], notBlockable: [], effective };
  }
  const manifest = blockPolicyManifest(namespace, name, podSelector, blocked, incidentOf(run).incidentId);
  const action: Action = {
    description: `${own ? 'Add' : 'Create'} the block NetworkPolicy ${namespace}/${name} (${added.length} address(es) added, ${blocked.length} blocked) on ${conn.cluster}`,
    service: 'kubernetes',
    operation: 'apply networkpolicies',
    parameters: { cluster: conn.cluster, namespace, name, fieldManager: FIELD_MANAGER, force: true, manifest },
    performed: false,
  };
  actions.push(action);
  if (run.dryRun) return { place: 'network-policy', outcome: 'would-block', resource, blocked: before, added, notBlockable: [], effective };
  await applyManifests(conn, [manifest], FIELD_MANAGER, namespace);
  action.performed = true;
  return { place: 'network-policy', outcome: 'blocked', resource, blocked, added, notBlockable: [], effective };
}

// ---------------------------------------------------------------------------------------------------
// WAF IP set

type WafIpSetConfig = NonNullable<SecurityIncidentConfig['blockIps']['wafIpSet']>;

function ipSetResource(config: DeploymentConfig, ipSet: WafIpSetConfig): string {
  return `WAF IP set ${ipSet.name} (${ipSet.id}, ${ipSet.scope}, ${wafIpSetRegion(config, ipSet)})`;
}

const WAF_EFFECTIVE =
  'Blocks these addresses for requests through the web ACL whose Block rule references this IP set, within about a minute of the update (WAF propagation). ' +
  'The preflight cannot see that rule: check that the web ACL in front of the API has a rule with an IPSetReferenceStatement to this set and action Block.';

/**
 * The configured WAF IP set and its lock token (wafv2:GetIPSet). Throws WafIpSetNotFound (no such set),
 * and the named AWS errors of classifyAwsError. Also the security incident's preflight check.
 */
export async function readWafIpSet(config: DeploymentConfig, waf: WAFV2Client, ipSet: WafIpSetConfig): Promise<{ set: IPSet; lockToken: string; resource: string }> {
  const resource = ipSetResource(config, ipSet);
  return { ...(await readIpSet(waf, ipSet, resource)), resource };
}

async function readIpSet(waf: WAFV2Client, ipSet: WafIpSetConfig, resource: string): Promise<{ set: IPSet; lockToken: string }> {
  try {
    const answer = await waf.send(new GetIPSetCommand({ Name: ipSet.name, Scope: ipSet.scope, Id: ipSet.id }));
    if (!answer.IPSet || !answer.LockToken) throw new WafIpSetNotFound(`wafv2:GetIPSet on ${resource} answered without the IP set or its lock token`);
    return { set: answer.IPSet, lockToken: answer.LockToken };
  } catch (error) {
    if (error instanceof WAFNonexistentItemException) {
      throw new WafIpSetNotFound(`wafv2:GetIPSet on ${resource}: no such IP set (check securityIncident.blockIps.wafIpSet: name, id, scope and region)`, { cause: error });
    }
    throw classifyAwsError(error, 'wafv2:GetIPSet', resource);
  }
}

async function blockWithWafIpSet(config: DeploymentConfig, wafFor: (region: string) => WAFV2Client, run: RunContext, addresses: string[], actions: Action[]): Promise<PlaceBlock> {
  const ipSet = securityIncidentConfig(config).blockIps.wafIpSet;
  if (!ipSet) {
    return {
      place: 'waf-ip-set',
      outcome: 'not-configured',
      resource: 'no WAF IP set configured',
      blocked: [],
      added: [],
      notBlockable: [],
      effective: 'Not blocked at the edge: the config names no WAF IP set (securityIncident.blockIps.wafIpSet).',
    };
  }
  const region = wafIpSetRegion(config, ipSet);
  const resource = ipSetResource(config, ipSet);
  const waf = wafFor(region);
  for (let attempt = 1; ; attempt++) {
    const { set, lockToken } = await readIpSet(waf, ipSet, resource);
    const v6 = set.IPAddressVersion === 'IPV6';
    const eligible = addresses.filter((a) => isIpv6(a) === v6);
    const notBlockable = addresses.filter((a) => isIpv6(a) !== v6);
    const effective = notBlockable.length
      ? `${WAF_EFFECTIVE} The set holds ${v6 ? 'IPv6' : 'IPv4'} addresses only: ${notBlockable.join(', ')} cannot be blocked there (WAF needs a second IP set and rule for ${v6 ? 'IPv4' : 'IPv6'}).`
      : WAF_EFFECTIVE;
    // WAF keeps addresses as written; compare canonical forms, and write back the others untouched.
    const present = new Set((set.Addresses ?? []).map((a) => toCidr(a) ?? a));
    const added = eligible.filter((a) => !present.has(a));
    const blockedNow = sortCidrs([...present].filter((a) => toCidr(a) !== null));
    if (eligible.length === 0) return { place: 'waf-ip-set', outcome: 'nothing-to-block', resource, blocked: blockedNow, added: [], notBlockable, effective };
    if (added.length === 0) return { place: 'waf-ip-set', outcome: 'already-blocked', resource, blocked: blockedNow, added: [], notBlockable, effective };
    const union = [...(set.Addresses ?? []), ...added];
    if (union.length > WAF_IP_SET_LIMIT) {
      throw new WafIpSetFull(
        `${resource} holds ${set.Addresses?.length ?? 0} addresses; adding ${added.length} would exceed WAF's ${WAF_IP_SET_LIMIT} per set: nothing was added. Remove stale entries, or block wider networks`,
      );
    }
    const parameters = { Name: ipSet.name, Scope: ipSet.scope, Id: ipSet.id, Addresses: union, LockToken: lockToken, ...(set.Description !== undefined ? { Description: set.Description } : {}) };
    const action: Action = {
      description: `Add ${added.length} address(es) to ${resource}`,
      service: 'wafv2',
      operation: 'UpdateIPSet',
      // The exact call, with the region it goes to (the lock token is the one just read).
      parameters: { region, ...parameters },
      performed: false,
    };
    if (run.dryRun) {
      actions.push(action);
      return { place: 'waf-ip-set', outcome: 'would-block', resource, blocked: blockedNow, added, notBlockable, effective };
    }
    try {
      // UpdateIPSet replaces the whole set (and the description: sent back as read).
      await waf.send(new UpdateIPSetCommand(parameters));
    } catch (error) {
      if (error instanceof WAFOptimisticLockException) {
        // Changed since our read: read again, merge again.
        if (attempt < WAF_LOCK_ATTEMPTS) continue;
        throw new WafIpSetBusy(`wafv2:UpdateIPSet on ${resource}: the set changed under us ${WAF_LOCK_ATTEMPTS} times (WAFOptimisticLockException); nothing was added`, { cause: error });
      }
      if (error instanceof WAFNonexistentItemException) throw new WafIpSetNotFound(`wafv2:UpdateIPSet on ${resource}: the IP set no longer exists`, { cause: error });
      throw classifyAwsError(error, 'wafv2:UpdateIPSet', resource);
    }
    action.performed = true;
    actions.push(action);
    return { place: 'waf-ip-set', outcome: 'blocked', resource, blocked: sortCidrs([...blockedNow, ...added]), added, notBlockable, effective };
  }
}

// ---------------------------------------------------------------------------------------------------
// Emergency mode

/** The data of the SetEmergencyMode step. */
export interface EmergencyModeData {
  cluster: string;
  namespace: string;
  configMap: string;
  key: string;
  /** The key's value before the step, or null when the ConfigMap did not have it. */
  previousValue: string | null;
  /** Whether the step changed the value (in a dry run: would change it). */
  changed: boolean;
}

/** The value emergency mode is switched on with. */
export const EMERGENCY_MODE_ON = 'true';

/**
 * SetEmergencyMode: `emergencyMode.key` = "true" in the ConfigMap `emergencyMode.configMap`
 * (kubernetes.namespace) on securityIncident.cluster; the other keys stay. Already "true": nothing to
 * do. Data: { cluster, namespace, configMap, key, previousValue (or null), changed }. Dry run: reads the
 * ConfigMap only. Calls GET v1 configmaps/<name>, then (only when the value differs, not in a dry run)
 * PATCH (merge patch). Throws EmergencyModeConfigMapMissing when the ConfigMap does not exist (the plan
 * patches an existing one: it is never created here), and the other named Kubernetes errors.
 */
export async function setEmergencyMode(
  config: DeploymentConfig,
  run: RunContext,
  connect: (config: DeploymentConfig, role: 'primary' | 'backup') => Promise<KubernetesConnection> = connectTo,
): Promise<StepResult<EmergencyModeData>> {
  const section = securityIncidentConfig(config);
  const { namespace } = kubernetesConfig(config);
  const { configMap, key } = section.emergencyMode;
  const conn = await connect(config, section.cluster);
  const missing = (error: unknown): never => {
    if (error instanceof KubernetesNotFound) {
      throw new EmergencyModeConfigMapMissing(
        `ConfigMap ${namespace}/${configMap} does not exist on ${conn.cluster} (${conn.region}): emergency mode patches the ConfigMap the API reads, it does not create one. ` +
          'Check securityIncident.emergencyMode.configMap, or apply the API\'s manifests',
        { cause: error },
      );
    }
    throw error;
  };
  const action: Action = {
    description: `Set ${key}=${EMERGENCY_MODE_ON} in ConfigMap ${namespace}/${configMap} on ${conn.cluster}`,
    service: 'kubernetes',
    operation: 'patch configmaps',
    parameters: { cluster: conn.cluster, namespace, name: configMap, patch: { data: { [key]: EMERGENCY_MODE_ON } }, contentType: PatchStrategy.MergePatch },
    performed: false,
  };
  let previousValue: string | null;
  let changed: boolean;
  if (run.dryRun) {
    const current = await send(conn, { verb: 'get', resource: 'configmaps', namespace, name: configMap }, () =>
      conn.core.readNamespacedConfigMap({ name: configMap, namespace }, requestOptions(conn)),
    ).catch(missing);
    previousValue = current.data?.[key] ?? null;
    changed = previousValue !== EMERGENCY_MODE_ON;
  } else {
    const result = await patchConfigMapKeys(conn, namespace, configMap, { [key]: EMERGENCY_MODE_ON }).catch(missing);
    const change = result.keys[0]!;
    previousValue = change.previous ?? null;
    changed = change.changed;
    action.performed = changed;
  }
  const data: EmergencyModeData = { cluster: conn.cluster, namespace, configMap, key, previousValue, changed };
  const detail = changed
    ? `${key} ${run.dryRun ? 'would be' : 'set to'} ${EMERGENCY_MODE_ON} (was ${previousValue === null ? 'not set' : JSON.stringify(previousValue)}); ` +
      'pods reading the ConfigMap as a mounted volume see it within the kubelet sync period (about a minute), pods reading it as environment variables only after a restart'
    : `${key} was already ${EMERGENCY_MODE_ON}: nothing to do`;
  return { data, actions: changed ? [action] : [], detail };
}
