// Moving clients with DNS, per record in one of two modes (README "DNS: data-plane and control-plane
// modes"), and putting them back exactly where they were:
//
//  - data-plane: Route 53 ARC routing controls, set through the ARC cluster's regional endpoints (any
//    one of five answering is enough; the next is tried when one fails). The records are failover
//    records whose health checks follow the routing controls, so nothing in Route 53's control plane
//    (us-east-1) is called. The backup control goes On and the primary Off in one request: there is
//    never a moment with both Off.
//  - control-plane: ChangeResourceRecordSets UPSERT of the records that differ, in batches within
//    Route 53's request limits, then GetChange until INSYNC. Route 53's API is served from us-east-1
//    only: when that is the failing region, the change may not go through (the step warns).
//
// Every move records what each record held before (RecordedDnsState, JSON-safe): a failback sets
// exactly that again and reads it back. Safe to repeat: what already holds the wanted state is left
// alone.
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type Change,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import {
  GetRoutingControlStateCommand,
  UpdateRoutingControlStatesCommand,
  type Route53RecoveryClusterClient,
  type UpdateRoutingControlStateEntry,
} from '@aws-sdk/client-route53-recovery-cluster';
import { kubernetesConfig, regionFailoverConfig, type ControlPlaneRecordConfig, type DataPlaneRecordConfig, type DeploymentConfig, type DnsRecordConfig } from './config.js';
import {
  awsCall,
  AwsTransientError,
  classifyAwsError,
  DnsChangeTimedOut,
  DnsVerificationFailed,
  InvalidConfig,
  InvalidInput,
  RecoveryError,
  RoutingControlConflict,
} from './errors.js';
import { minutesBetween } from './objectives.js';
import { nextCheckSeconds } from './polling.js';
import type { ResourceRecord } from './report.js';
import type { Action, StepResult } from './steps.js';

export type DnsMode = 'control-plane' | 'data-plane';
export type RoutingControlState = 'On' | 'Off';

/** The AWS clients DNS moves use: Route 53 (global, us-east-1), and ARC's data plane per regional endpoint. */
export interface DnsClients {
  route53: Route53Client;
  routingControl: (endpoint: string, region: string) => Route53RecoveryClusterClient;
}

/** A regional endpoint of an ARC cluster. */
export interface ClusterEndpoint {
  region: string;
  endpoint: string;
}

/**
 * What a record held before a move: exactly what a failback must set again. JSON-safe.
 * control-plane: the record set as Route 53 listed it (null: there was none). data-plane: the state of
 * each of the record's routing controls, and the cluster endpoints to set them through.
 */
export type RecordedDnsState =
  | { mode: 'control-plane'; record: string; hostedZoneId: string; recordSet: ResourceRecordSet | null }
  | { mode: 'data-plane'; record: string; routingControls: { arn: string; state: RoutingControlState }[]; clusterEndpoints: ClusterEndpoint[] };

/** A Route 53 change to wait for (GetChange until INSYNC). */
export interface DnsChange {
  changeId: string;
  /** UTC ISO time Route 53 accepted the change. */
  submittedAt: string;
}

/** What MoveTraffic (and a failback's DNS step) tells the next states. */
export interface TrafficMoveData {
  /** True when a control-plane change must be waited for (GetChange until INSYNC). */
  waitForChange: boolean;
  changes: DnsChange[];
  /** One per configured record, in config order: what a failback sets again. */
  recorded: RecordedDnsState[];
  /** Each record's mode, in config order. */
  modes: DnsMode[];
  /** E.g. control-plane mode while the protected region is us-east-1. */
  warnings: string[];
}

export interface DnsRunOptions {
  /** How to wait between attempts of a change Route 53 asks to repeat (tests pass a recorder). */
  sleep?: (milliseconds: number) => Promise<void>;
}

const realSleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

// ---------------------------------------------------------------------------------------------------
// Record sets (control-plane mode)

/** `api.frontier.com.`: Route 53 answers with lower-case names ending in a dot. */
export function normaliseDnsName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** A record value as Route 53 stores it: names of a CNAME end in a dot, addresses stay as they are. */
function normaliseValue(type: string, value: string): string {
  return type === 'CNAME' ? normaliseDnsName(value) : value.trim();
}

/** `api.frontier.com. CNAME`: how the report and the recorded state name a record. */
export function recordLabel(name: string, type: string): string {
  return `${normaliseDnsName(name)} ${type}`;
}

/** The record set that sends clients to the backup, as the config describes it. */
export function backupRecordSet(record: ControlPlaneRecordConfig): ResourceRecordSet {
  const name = normaliseDnsName(record.recordName);
  if (record.backupAlias) {
    return {
      Name: name,
      Type: record.recordType,
      AliasTarget: {
        DNSName: normaliseDnsName(record.backupAlias.dnsName),
        HostedZoneId: record.backupAlias.hostedZoneId,
        EvaluateTargetHealth: record.backupAlias.evaluateTargetHealth,
      },
    };
  }
  return {
    Name: name,
    Type: record.recordType,
    TTL: record.ttlSeconds,
    ResourceRecords: (record.backupValues ?? []).map((value) => ({ Value: normaliseValue(record.recordType, value) })),
  };
}

/** What a record set sends clients to, in words for the report. */
export function describeRecordSet(record: ResourceRecordSet | null): string {
  if (!record) return 'no record';
  if (record.AliasTarget) return `alias to ${record.AliasTarget.DNSName} (zone ${record.AliasTarget.HostedZoneId})`;
  return (record.ResourceRecords ?? []).map((r) => r.Value).join(', ') || 'no values';
}

// Route 53 may store an ELB alias with a "dualstack." prefix.
const aliasName = (name: string | undefined) => normaliseDnsName(name ?? '').replace(/^dualstack\./, '');
const valuesOf = (record: ResourceRecordSet) => (record.ResourceRecords ?? []).map((r) => normaliseValue(record.Type ?? '', r.Value ?? '')).sort();

/** True when `current` already sends clients where `wanted` does (TTL aside): the move's diff. */
export function pointsAtSameTarget(current: ResourceRecordSet | null, wanted: ResourceRecordSet): boolean {
  if (!current) return false;
  if (wanted.AliasTarget) {
    return aliasName(current.AliasTarget?.DNSName) === aliasName(wanted.AliasTarget.DNSName) && current.AliasTarget?.HostedZoneId === wanted.AliasTarget.HostedZoneId;
  }
  if (current.AliasTarget) return false;
  return JSON.stringify(valuesOf({ ...current, Type: wanted.Type })) === JSON.stringify(valuesOf(wanted));
}

/**
 * True when two record sets are the same in everything a failback restores: name, type, TTL, values
 * (in any order), alias target and its EvaluateTargetHealth. null is "no record".
 */
export function sameRecordSet(a: ResourceRecordSet | null, b: ResourceRecordSet | null): boolean {
  if (!a || !b) return a === b;
  if (normaliseDnsName(a.Name ?? '') !== normaliseDnsName(b.Name ?? '') || a.Type !== b.Type) return false;
  if (a.AliasTarget || b.AliasTarget) {
    return (
      aliasName(a.AliasTarget?.DNSName) === aliasName(b.AliasTarget?.DNSName) &&
      a.AliasTarget?.HostedZoneId === b.AliasTarget?.HostedZoneId &&
      Boolean(a.AliasTarget?.EvaluateTargetHealth) === Boolean(b.AliasTarget?.EvaluateTargetHealth)
    );
  }
  return a.TTL === b.TTL && JSON.stringify(valuesOf(a)) === JSON.stringify(valuesOf(b));
}

/**
 * The simple record `name`/`type` in the zone, or null. A record with a routing policy (failover,
 * weighted...) is refused: those move by health checks (data-plane mode), which a control-plane
 * change would fight. Calls route53:ListResourceRecordSets.
 */
export async function findRecordSet(route53: Route53Client, hostedZoneId: string, name: string, type: string): Promise<ResourceRecordSet | null> {
  const wantedName = normaliseDnsName(name);
  const answer = await awsCall('route53:ListResourceRecordSets', `${wantedName} ${type} in ${hostedZoneId}`, () =>
    route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: wantedName, StartRecordType: type as ResourceRecordSet['Type'], MaxItems: 1 })),
  );
  // The listing starts at the name and type asked for, or at the next record after them.
  const first = answer.ResourceRecordSets?.[0];
  if (!first || normaliseDnsName(first.Name ?? '') !== wantedName || first.Type !== type) return null;
  if (first.SetIdentifier) {
    throw new InvalidConfig(
      `${wantedName} ${type} in ${hostedZoneId} has routing-policy records (set identifier ${first.SetIdentifier}): control-plane mode moves a simple record only; ` +
        'failover records move with ARC routing controls (mode data-plane)',
    );
  }
  return first;
}

/**
 * Route 53's limits on one ChangeResourceRecordSets request: at most 1,000 ResourceRecord elements and
 * 32,000 characters of values, an UPSERT counting twice (it is a DELETE and a CREATE).
 */
export const CHANGE_BATCH_LIMITS = { records: 1_000, characters: 32_000 } as const;

/** What one change costs against CHANGE_BATCH_LIMITS (an alias counts as one element of its target's name). */
export function changeCost(change: Change): { records: number; characters: number } {
  const set = change.ResourceRecordSet;
  const factor = change.Action === 'UPSERT' ? 2 : 1;
  const values = set?.AliasTarget ? [set.AliasTarget.DNSName ?? ''] : (set?.ResourceRecords ?? []).map((r) => r.Value ?? '');
  return { records: factor * Math.max(values.length, 1), characters: factor * values.reduce((sum, v) => sum + v.length, 0) };
}

/**
 * Splits changes into requests within Route 53's limits, keeping their order. A single change over the
 * limits is refused (InvalidConfig naming the record): no request could carry it.
 */
export function batchChanges(changes: Change[], limits: { records: number; characters: number } = CHANGE_BATCH_LIMITS): Change[][] {
  const batches: Change[][] = [];
  let current: Change[] = [];
  let used = { records: 0, characters: 0 };
  for (const change of changes) {
    const cost = changeCost(change);
    if (cost.records > limits.records || cost.characters > limits.characters) {
      const set = change.ResourceRecordSet;
      throw new InvalidConfig(
        `${recordLabel(set?.Name ?? '', set?.Type ?? '')}: its ${change.Action} counts ${cost.records} record elements and ${cost.characters} characters, ` +
          `over Route 53's limit of ${limits.records} and ${limits.characters} per request`,
      );
    }
    if (current.length > 0 && (used.records + cost.records > limits.records || used.characters + cost.characters > limits.characters)) {
      batches.push(current);
      current = [];
      used = { records: 0, characters: 0 };
    }
    current.push(change);
    used = { records: used.records + cost.records, characters: used.characters + cost.characters };
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

// Route 53 refuses a change while an earlier one to the zone is still being applied
// (PriorRequestNotComplete, HTTP 400, which the SDK does not retry) and throttles at five requests a
// second per account. Both ask to be repeated after a moment: here, a few times within the step (the
// waits fit a function's 30 s), then the ASL Retry of AwsTransientError takes over.
export const CHANGE_RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000] as const;
const REPEATABLE_CHANGE_ERRORS = new Set(['PriorRequestNotComplete', 'Throttling', 'ThrottlingException']);

/**
 * One ChangeResourceRecordSets request, repeated with backoff while Route 53 answers
 * PriorRequestNotComplete or Throttling. Thrown: what classifyAwsError names (AwsTransientError once
 * the repeats are used up).
 */
async function changeRecordSets(route53: Route53Client, hostedZoneId: string, batch: Change[], comment: string, sleep: (ms: number) => Promise<void>) {
  const what =
    batch.length === 1
      ? `${recordLabel(batch[0]!.ResourceRecordSet?.Name ?? '', batch[0]!.ResourceRecordSet?.Type ?? '')} in ${hostedZoneId}`
      : `${batch.length} records (${batch.map((c) => recordLabel(c.ResourceRecordSet?.Name ?? '', c.ResourceRecordSet?.Type ?? '')).join(', ')}) in ${hostedZoneId}`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, ChangeBatch: { Comment: comment, Changes: batch } }));
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      const delay = CHANGE_RETRY_DELAYS_MS[attempt];
      if (typeof name === 'string' && REPEATABLE_CHANGE_ERRORS.has(name) && delay !== undefined) {
        await sleep(delay);
        continue;
      }
      throw classifyAwsError(error, 'route53:ChangeResourceRecordSets', what);
    }
  }
}

/** Submits changes to one zone in batches; one DnsChange per request. */
async function submitChanges(route53: Route53Client, hostedZoneId: string, changes: Change[], comment: string, now: Date, sleep: (ms: number) => Promise<void>): Promise<{ changes: DnsChange[]; batches: Change[][] }> {
  const batches = batchChanges(changes);
  const submitted: DnsChange[] = [];
  for (const batch of batches) {
    const answer = await changeRecordSets(route53, hostedZoneId, batch, comment, sleep);
    submitted.push({ changeId: answer.ChangeInfo?.Id ?? '', submittedAt: (answer.ChangeInfo?.SubmittedAt ?? now).toISOString() });
  }
  return { changes: submitted, batches };
}

// ---------------------------------------------------------------------------------------------------
// Routing controls (data-plane mode)

/**
 * An endpoint failure worth trying the next endpoint for: no answer (refused, unreachable, timed out),
 * a 5xx (EndpointTemporarilyUnavailableException, InternalServerException) or throttling (429). An
 * answer about the request itself (validation, access denied, not found, conflict) would be the same
 * from every endpoint.
 */
function isEndpointFailure(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: unknown }).name;
  if (name === 'ThrottlingException' || name === 'EndpointTemporarilyUnavailableException' || name === 'InternalServerException') return true;
  return status === undefined || status >= 500 || status === 429;
}

function describeFailure(error: unknown): string {
  const { name, message } = error as { name?: unknown; message?: unknown };
  return `${typeof name === 'string' ? name : 'Error'}: ${String(message ?? error)}`.slice(0, 300);
}

/** Per list of cluster endpoints, the one that answered last (kept for the life of the container). */
const answeredLast = new Map<string, string>();

/** Forgets which endpoints answered last (tests start each case in the configured order). */
export function forgetAnsweringEndpoints(): void {
  answeredLast.clear();
}

/**
 * Runs `work` against the cluster's endpoints in order (the one that answered last first) until one answers. Thrown: RoutingControlConflict
 * for ConflictException (a safety rule), what classifyAwsError names for other answers, and
 * AwsTransientError naming every endpoint's failure when none answered.
 */
async function onAnyEndpoint<T>(
  clients: DnsClients,
  endpoints: readonly ClusterEndpoint[],
  call: string,
  resource: string,
  work: (client: Route53RecoveryClusterClient) => Promise<T>,
): Promise<{ value: T; endpoint: ClusterEndpoint; skipped: string[] }> {
  const skipped: string[] = [];
  // The endpoint that answered last is asked first: a step makes several calls, and walking past the
  // same silent endpoints (3 s each) every time would not fit the function's timeout.
  const key = endpoints.map((e) => e.endpoint).join(' ');
  const preferred = answeredLast.get(key);
  const ordered = preferred ? [...endpoints.filter((e) => e.endpoint === preferred), ...endpoints.filter((e) => e.endpoint !== preferred)] : endpoints;
  for (const endpoint of ordered) {
    try {
      const value = await work(clients.routingControl(endpoint.endpoint, endpoint.region));
      answeredLast.set(key, endpoint.endpoint);
      return { value, endpoint, skipped };
    } catch (error) {
      if (isEndpointFailure(error)) {
        skipped.push(`${endpoint.region} ${endpoint.endpoint} (${describeFailure(error)})`);
        continue;
      }
      if ((error as { name?: unknown }).name === 'ConflictException') {
        throw new RoutingControlConflict(
          `${call} on ${resource} was refused by ARC (ConflictException: ${(error as Error).message}): a safety rule of the control panel ` +
            '(an assertion such as "at least one On", or a gating rule) forbids these states, or another update of these controls was under way. ' +
            'Check the control panel\'s safety rules; in an emergency, override one with --safety-rules-to-override (README "DNS: data-plane and control-plane modes")',
          { cause: error },
        );
      }
      throw classifyAwsError(error, call, `${resource} (endpoint ${endpoint.region} ${endpoint.endpoint})`);
    }
  }
  throw new AwsTransientError(`${call} on ${resource}: no endpoint of the ARC cluster answered: ${skipped.join('; ')}`);
}

/** The states of routing controls (route53-recovery-cluster:GetRoutingControlState, any endpoint). */
export async function readRoutingControls(clients: DnsClients, endpoints: readonly ClusterEndpoint[], arns: string[]): Promise<{ states: { arn: string; state: RoutingControlState }[]; skipped: string[] }> {
  const states: { arn: string; state: RoutingControlState }[] = [];
  const skipped: string[] = [];
  for (const arn of arns) {
    const read = await onAnyEndpoint(clients, endpoints, 'route53-recovery-cluster:GetRoutingControlState', arn, (client) =>
      client.send(new GetRoutingControlStateCommand({ RoutingControlArn: arn })),
    );
    skipped.push(...read.skipped);
    const state = read.value?.RoutingControlState;
    if (state !== 'On' && state !== 'Off') throw new RecoveryError(`route53-recovery-cluster:GetRoutingControlState on ${arn} answered state ${String(state)}, neither On nor Off`);
    states.push({ arn, state });
  }
  return { states, skipped };
}

/**
 * Sets routing controls in ONE UpdateRoutingControlStates request (any endpoint): ARC applies the
 * entries together and checks its safety rules against the result, so no moment has both Off.
 */
async function updateRoutingControls(clients: DnsClients, endpoints: readonly ClusterEndpoint[], entries: UpdateRoutingControlStateEntry[], record: string) {
  return onAnyEndpoint(clients, endpoints, 'route53-recovery-cluster:UpdateRoutingControlStates', `the routing controls of ${record}`, (client) =>
    client.send(new UpdateRoutingControlStatesCommand({ UpdateRoutingControlStateEntries: entries })),
  );
}

// ---------------------------------------------------------------------------------------------------
// The steps

/** Why control-plane mode is risky when the protected region is us-east-1. */
export function controlPlaneWarning(primaryRegion: string, records: string[]): string | null {
  if (primaryRegion !== 'us-east-1' || records.length === 0) return null;
  return (
    `control-plane mode for ${records.join(', ')} while the protected region is us-east-1, where Route 53's control plane (ChangeResourceRecordSets, GetChange) runs: ` +
    'in an outage of us-east-1 this change may not go through. Data-plane mode (ARC routing controls) does not depend on it'
  );
}

interface ControlPlanePlan {
  index: number;
  config: ControlPlaneRecordConfig;
  label: string;
  previous: ResourceRecordSet | null;
  wanted: ResourceRecordSet;
  differs: boolean;
}

interface DataPlanePlan {
  index: number;
  config: DataPlaneRecordConfig;
  label: string;
  previous: { arn: string; state: RoutingControlState }[];
  entries: UpdateRoutingControlStateEntry[];
}

/**
 * Moves every record to the backup side (cluster failover: the backup cluster; region failover: the
 * recovery region); only records that differ are changed. Everything is read before anything is
 * changed; data-plane records are moved first (they do not depend on us-east-1), then the control-plane
 * ones, in batches per hosted zone. A dry run reads and reports the exact calls it would make.
 *
 * Calls: route53:ListResourceRecordSets and ChangeResourceRecordSets (UPSERT); route53-recovery-cluster:
 * GetRoutingControlState and UpdateRoutingControlStates (through the first cluster endpoint that answers).
 * Thrown: InvalidConfig (a routing-policy record in control-plane mode, a record over Route 53's request
 * limits), RoutingControlConflict (a safety rule), DnsVerificationFailed (a routing control read back
 * differs), what classifyAwsError names (AwsTransientError when every endpoint failed).
 *
 * @param context.primaryRegion the region being failed away from: control-plane mode warns when it is us-east-1.
 * @param context.backupName what the records move to, in the report's words (default "the backup").
 * @returns data: TrafficMoveData (recorded: one state per record, in config order); resources: one
 *   kept resource per changed record or routing control, its note naming the previous value.
 */
export async function moveTraffic(
  clients: DnsClients,
  records: DnsRecordConfig[],
  run: { executionId: string; dryRun: boolean },
  context: { primaryRegion: string; backupName?: string },
  now: Date,
  options: DnsRunOptions = {},
): Promise<StepResult<TrafficMoveData>> {
  const sleep = options.sleep ?? realSleep;
  const backup = context.backupName ?? 'the backup';
  const comment = `frontier-dr traffic move ${run.executionId}`.slice(0, 256);
  // Read everything first: a record that cannot be read stops the step before anything changed.
  const controlPlane: ControlPlanePlan[] = [];
  const dataPlane: DataPlanePlan[] = [];
  const skippedEndpoints: string[] = [];
  for (const [index, config] of records.entries()) {
    if (config.mode === 'control-plane') {
      const wanted = backupRecordSet(config);
      const previous = await findRecordSet(clients.route53, config.hostedZoneId, config.recordName, config.recordType);
      controlPlane.push({ index, config, label: recordLabel(config.recordName, config.recordType), previous, wanted, differs: !pointsAtSameTarget(previous, wanted) });
    } else {
      const { primary, backup } = config.routingControls;
      const read = await readRoutingControls(clients, config.clusterEndpoints, [primary, backup]);
      skippedEndpoints.push(...read.skipped);
      const wanted: Record<string, RoutingControlState> = { [backup]: 'On', [primary]: 'Off' };
      // Backup first: ARC applies the request as one, the order only reads better in the report.
      const entries = [backup, primary]
        .filter((arn) => read.states.find((s) => s.arn === arn)?.state !== wanted[arn])
        .map((arn) => ({ RoutingControlArn: arn, RoutingControlState: wanted[arn] }));
      dataPlane.push({ index, config, label: normaliseDnsName(config.recordName), previous: read.states, entries });
    }
  }

  const recorded: RecordedDnsState[] = new Array(records.length);
  const modes = records.map((r) => r.mode);
  const actions: Action[] = [];
  const resources: ResourceRecord[] = [];
  const lines: string[] = [];
  const changes: DnsChange[] = [];
  const warnings: string[] = [];
  const warning = controlPlaneWarning(context.primaryRegion, controlPlane.map((p) => p.label));
  if (warning) warnings.push(warning);
  const byZone = new Map<string, ControlPlanePlan[]>();
  for (const plan of controlPlane) {
    if (plan.differs) byZone.set(plan.config.hostedZoneId, [...(byZone.get(plan.config.hostedZoneId) ?? []), plan]);
  }
  // A record no request could carry is refused now, before anything is changed.
  for (const plans of byZone.values()) batchChanges(plans.map((p) => ({ Action: 'UPSERT', ResourceRecordSet: p.wanted })));

  for (const plan of dataPlane) {
    recorded[plan.index] = { mode: 'data-plane', record: plan.label, routingControls: plan.previous, clusterEndpoints: plan.config.clusterEndpoints.map(({ region, endpoint }) => ({ region, endpoint })) };
    const before = plan.previous.map((s) => `${s.arn === plan.config.routingControls.primary ? 'primary' : 'backup'} ${s.state}`).join(', ');
    if (plan.entries.length === 0) {
      lines.push(`${plan.label} (data-plane) already routed to ${backup} (${before})`);
      continue;
    }
    const action: Action = {
      description: `turn ${plan.entries.map((e) => `${e.RoutingControlArn === plan.config.routingControls.primary ? 'primary' : 'backup'} ${e.RoutingControlState}`).join(' and ')} for ${plan.label} in one request (ARC routing controls)`,
      service: 'route53-recovery-cluster',
      operation: 'UpdateRoutingControlStates',
      parameters: { UpdateRoutingControlStateEntries: plan.entries },
      performed: false,
    };
    if (run.dryRun) {
      actions.push(action);
      lines.push(`dry run: ${plan.label} (data-plane) now ${before}`);
      continue;
    }
    const update = await updateRoutingControls(clients, plan.config.clusterEndpoints, plan.entries, plan.label);
    skippedEndpoints.push(...update.skipped);
    actions.push({ ...action, performed: true, parameters: { ...action.parameters, endpoint: `${update.endpoint.region} ${update.endpoint.endpoint}` } });
    await verifyRoutingControls(clients, plan.config.clusterEndpoints, plan.entries.map((e) => ({ arn: e.RoutingControlArn!, state: e.RoutingControlState as RoutingControlState })), plan.label);
    for (const entry of plan.entries) {
      const previous = plan.previous.find((s) => s.arn === entry.RoutingControlArn)?.state;
      resources.push({ kind: 'route53-arc:routing-control', id: entry.RoutingControlArn!, region: 'global', kept: true, note: `${plan.label}: before the failover: ${previous}; set it back to fail back` });
    }
    lines.push(`${plan.label} moved to ${backup} with ARC routing controls (data-plane mode; was ${before}) through ${update.endpoint.region}`);
  }

  for (const plan of controlPlane) {
    recorded[plan.index] = { mode: 'control-plane', record: plan.label, hostedZoneId: plan.config.hostedZoneId, recordSet: plan.previous };
    if (!plan.differs) lines.push(`${plan.label} already points at ${backup} (${describeRecordSet(plan.previous)})`);
  }
  for (const [zone, plans] of byZone) {
    const zoneChanges: Change[] = plans.map((p) => ({ Action: 'UPSERT', ResourceRecordSet: p.wanted }));
    const describe = (p: ControlPlanePlan) => `${p.label} in zone ${zone} to ${describeRecordSet(p.wanted)}`;
    if (run.dryRun) {
      for (const batch of batchChanges(zoneChanges)) {
        actions.push({ description: `UPSERT ${batch.length} record(s) in zone ${zone}`, service: 'route53', operation: 'ChangeResourceRecordSets', parameters: { HostedZoneId: zone, ChangeBatch: { Comment: comment, Changes: batch } }, performed: false });
      }
      for (const p of plans) lines.push(`dry run: ${p.label} now resolves to ${describeRecordSet(p.previous)}`);
      continue;
    }
    let submitted: Awaited<ReturnType<typeof submitChanges>>;
    try {
      submitted = await submitChanges(clients.route53, zone, zoneChanges, comment, now, sleep);
    } catch (error) {
      // What was already changed is recorded in the failure itself: a repeated step would find those
      // records moved and could no longer record where they pointed.
      if (error instanceof Error && (changes.length > 0 || resources.length > 0)) {
        error.message += `. Before this failure the step had already moved: ${resources.map((r) => `${r.id} (${r.note})`).join('; ')}`;
      }
      throw error;
    }
    submitted.batches.forEach((batch, i) => {
      const change = submitted.changes[i]!;
      changes.push(change);
      actions.push({
        description: batch.length === 1 ? `point ${describe(plans.find((p) => p.wanted === batch[0]!.ResourceRecordSet)!)}` : `UPSERT ${batch.length} records in zone ${zone}`,
        service: 'route53',
        operation: 'ChangeResourceRecordSets',
        parameters: { HostedZoneId: zone, ChangeBatch: { Comment: comment, Changes: batch } },
        performed: true,
      });
    });
    for (const p of plans) {
      const change = submitted.changes[submitted.batches.findIndex((b) => b.some((c) => c.ResourceRecordSet === p.wanted))]!;
      resources.push({ kind: 'route53:record', id: `${zone}/${p.label}`, region: 'global', kept: true, note: `before the failover: ${describeRecordSet(p.previous)}; set it back to fail back` });
      lines.push(`${p.label} moved from ${describeRecordSet(p.previous)} to ${backup} (${describeRecordSet(p.wanted)}, control-plane mode); Route 53 change ${change.changeId}`);
    }
  }
  if (skippedEndpoints.length > 0) lines.push(`ARC endpoints that failed and were passed over: ${[...new Set(skippedEndpoints)].join('; ')}`);
  for (const w of warnings) lines.push(`warning: ${w}`);
  return {
    data: { waitForChange: changes.length > 0, changes, recorded, modes, warnings },
    actions,
    ...(resources.length > 0 ? { resources } : {}),
    detail: lines.join('\n'),
  };
}

/** Reads routing controls back and throws DnsVerificationFailed when any differs from `expected`. */
async function verifyRoutingControls(clients: DnsClients, endpoints: readonly ClusterEndpoint[], expected: { arn: string; state: RoutingControlState }[], record: string): Promise<void> {
  const { states } = await readRoutingControls(clients, endpoints, expected.map((e) => e.arn));
  const wrong = expected.filter((e) => states.find((s) => s.arn === e.arn)?.state !== e.state);
  if (wrong.length > 0) {
    throw new DnsVerificationFailed(
      `${record}: routing control(s) read back differ from what was set: ${wrong.map((e) => `${e.arn} is ${states.find((s) => s.arn === e.arn)?.state}, expected ${e.state}`).join('; ')}`,
    );
  }
}

/** Checks a recorded state from a report (input of a failback) before anything is changed. */
function validateRecorded(recorded: unknown): RecordedDnsState[] {
  if (!Array.isArray(recorded) || recorded.length === 0) throw new InvalidInput(`recorded: got ${JSON.stringify(recorded)?.slice(0, 80)}; expected a non-empty list of recorded DNS states (a failover report's failback.dns)`);
  return recorded.map((item, i) => {
    const at = `recorded[${i}]`;
    const bad = (field: string, value: unknown, expected: string) => new InvalidInput(`${at}.${field}: got ${JSON.stringify(value)?.slice(0, 80) ?? 'nothing'}; expected ${expected}`);
    const state = item as Record<string, unknown>;
    if (typeof item !== 'object' || item === null) throw new InvalidInput(`${at}: got ${JSON.stringify(item)}; expected a recorded DNS state`);
    if (typeof state.record !== 'string' || state.record.length === 0) throw bad('record', state.record, 'the record it names');
    if (state.mode === 'control-plane') {
      if (typeof state.hostedZoneId !== 'string' || !/^[A-Z0-9]{1,32}$/.test(state.hostedZoneId)) throw bad('hostedZoneId', state.hostedZoneId, 'a Route 53 hosted zone id');
      const [name, type] = state.record.split(' ');
      if (!name || !type || !['CNAME', 'A', 'AAAA'].includes(type)) throw bad('record', state.record, 'a record name and type such as "api.frontier.com. CNAME"');
      const set = state.recordSet as ResourceRecordSet | null | undefined;
      if (set !== null && (typeof set !== 'object' || set === undefined || normaliseDnsName(String(set.Name ?? '')) !== normaliseDnsName(name) || set.Type !== type || (!set.AliasTarget && !Array.isArray(set.ResourceRecords)))) {
        throw bad('recordSet', set, `null (no record) or the record set ${state.record} as Route 53 listed it`);
      }
      return state as RecordedDnsState;
    }
    if (state.mode === 'data-plane') {
      const controls = state.routingControls as unknown;
      if (!Array.isArray(controls) || controls.length === 0 || !controls.every((c) => typeof c?.arn === 'string' && (c.state === 'On' || c.state === 'Off'))) {
        throw bad('routingControls', controls, 'a list of {arn, state: On|Off}');
      }
      const endpoints = state.clusterEndpoints as unknown;
      if (!Array.isArray(endpoints) || endpoints.length === 0 || !endpoints.every((e) => typeof e?.region === 'string' && typeof e?.endpoint === 'string')) {
        throw bad('clusterEndpoints', endpoints, 'the ARC cluster endpoints the failover used, a list of {region, endpoint}');
      }
      return state as RecordedDnsState;
    }
    throw bad('mode', state.mode, '"control-plane" or "data-plane"');
  });
}

/**
 * Failback: sets exactly the recorded states again (what a failover's moveTraffic recorded), then reads
 * them back. control-plane: UPSERT of the recorded record set where the current one differs in anything
 * (TTL included), DELETE of a record that did not exist before; data-plane: one
 * UpdateRoutingControlStates per record with the controls that differ. The recorded input is checked
 * whole before anything changes (InvalidInput naming the field).
 *
 * Calls: as moveTraffic, plus ChangeResourceRecordSets DELETE. Thrown: InvalidInput, DnsVerificationFailed
 * (what Route 53 / ARC hold afterwards differs from the recorded state), RoutingControlConflict, what
 * classifyAwsError names.
 * @returns data: TrafficMoveData whose `recorded` is what the records held before the failback.
 */
export async function restoreRecordedTraffic(
  clients: DnsClients,
  recordedInput: RecordedDnsState[],
  run: { executionId: string; dryRun: boolean },
  now: Date,
  options: DnsRunOptions = {},
): Promise<StepResult<TrafficMoveData>> {
  const sleep = options.sleep ?? realSleep;
  const recordedStates = validateRecorded(recordedInput);
  const comment = `frontier-dr failback ${run.executionId}`.slice(0, 256);
  // Read everything first.
  const current: (ResourceRecordSet | null | { arn: string; state: RoutingControlState }[])[] = [];
  for (const state of recordedStates) {
    if (state.mode === 'control-plane') {
      const [name, type] = state.record.split(' ') as [string, string];
      current.push(await findRecordSet(clients.route53, state.hostedZoneId, name, type));
    } else {
      current.push((await readRoutingControls(clients, state.clusterEndpoints, state.routingControls.map((c) => c.arn))).states);
    }
  }
  const before: RecordedDnsState[] = recordedStates.map((state, i) =>
    state.mode === 'control-plane'
      ? { ...state, recordSet: current[i] as ResourceRecordSet | null }
      : { ...state, routingControls: current[i] as { arn: string; state: RoutingControlState }[] },
  );
  const actions: Action[] = [];
  const resources: ResourceRecord[] = [];
  const lines: string[] = [];
  const changes: DnsChange[] = [];
  const byZone = new Map<string, { state: RecordedDnsState & { mode: 'control-plane' }; change: Change; now: ResourceRecordSet | null }[]>();

  const dataPlane: { state: RecordedDnsState & { mode: 'data-plane' }; held: { arn: string; state: RoutingControlState }[]; entries: { RoutingControlArn: string; RoutingControlState: RoutingControlState }[] }[] = [];
  for (const [i, state] of recordedStates.entries()) {
    if (state.mode === 'data-plane') {
      const held = current[i] as { arn: string; state: RoutingControlState }[];
      const entries = state.routingControls
        .filter((c) => held.find((n) => n.arn === c.arn)?.state !== c.state)
        // On first in the list: ARC applies the request as one, the order only reads better.
        .sort((a, b) => (a.state === b.state ? 0 : a.state === 'On' ? -1 : 1))
        .map((c) => ({ RoutingControlArn: c.arn, RoutingControlState: c.state }));
      if (entries.length === 0) lines.push(`${state.record} (data-plane) already as recorded`);
      else dataPlane.push({ state, held, entries });
      continue;
    }
    const held = current[i] as ResourceRecordSet | null;
    if (sameRecordSet(held, state.recordSet)) {
      lines.push(`${state.record} already as recorded (${describeRecordSet(held)})`);
      continue;
    }
    // A record that did not exist before the failover is deleted: DELETE must name it exactly as it is.
    const change: Change = state.recordSet ? { Action: 'UPSERT', ResourceRecordSet: state.recordSet } : { Action: 'DELETE', ResourceRecordSet: held! };
    byZone.set(state.hostedZoneId, [...(byZone.get(state.hostedZoneId) ?? []), { state, change, now: held }]);
  }
  // A record no request could carry is refused now, before anything is changed.
  for (const items of byZone.values()) batchChanges(items.map((item) => item.change));

  for (const { state, held, entries } of dataPlane) {
    const action: Action = {
      description: `set ${entries.map((e) => `${e.RoutingControlArn} ${e.RoutingControlState}`).join(' and ')} for ${state.record} in one request (ARC routing controls)`,
      service: 'route53-recovery-cluster',
      operation: 'UpdateRoutingControlStates',
      parameters: { UpdateRoutingControlStateEntries: entries },
      performed: false,
    };
    if (run.dryRun) {
      actions.push(action);
      continue;
    }
    const update = await updateRoutingControls(clients, state.clusterEndpoints, entries, state.record);
    actions.push({ ...action, performed: true, parameters: { ...action.parameters, endpoint: `${update.endpoint.region} ${update.endpoint.endpoint}` } });
    for (const entry of entries) {
      resources.push({ kind: 'route53-arc:routing-control', id: entry.RoutingControlArn, region: 'global', kept: true, note: `${state.record}: set back to ${entry.RoutingControlState} (was ${held.find((n) => n.arn === entry.RoutingControlArn)?.state})` });
    }
    lines.push(`${state.record} routing controls set back as recorded (data-plane mode) through ${update.endpoint.region}`);
  }
  for (const [zone, items] of byZone) {
    const zoneChanges = items.map((item) => item.change);
    if (run.dryRun) {
      for (const batch of batchChanges(zoneChanges)) {
        actions.push({ description: `restore ${batch.length} record(s) in zone ${zone}`, service: 'route53', operation: 'ChangeResourceRecordSets', parameters: { HostedZoneId: zone, ChangeBatch: { Comment: comment, Changes: batch } }, performed: false });
      }
      continue;
    }
    const submitted = await submitChanges(clients.route53, zone, zoneChanges, comment, now, sleep);
    changes.push(...submitted.changes);
    submitted.batches.forEach((batch) =>
      actions.push({ description: `restore ${batch.length} record(s) in zone ${zone} as recorded`, service: 'route53', operation: 'ChangeResourceRecordSets', parameters: { HostedZoneId: zone, ChangeBatch: { Comment: comment, Changes: batch } }, performed: true }),
    );
    for (const item of items) {
      resources.push({ kind: 'route53:record', id: `${zone}/${item.state.record}`, region: 'global', kept: item.state.recordSet !== null, note: `set back to ${describeRecordSet(item.state.recordSet)} (was ${describeRecordSet(item.now)})` });
      lines.push(`${item.state.record} ${item.state.recordSet ? `set back to ${describeRecordSet(item.state.recordSet)}` : 'deleted (it did not exist before the failover)'} (control-plane mode)`);
    }
  }

  if (!run.dryRun) {
    // Read back: Route 53's API answers with a change at once (INSYNC is about its name servers), and
    // ARC's cluster is consistent across its endpoints.
    const wrong: string[] = [];
    for (const state of recordedStates) {
      if (state.mode === 'control-plane') {
        const [name, type] = state.record.split(' ') as [string, string];
        const found = await findRecordSet(clients.route53, state.hostedZoneId, name, type);
        if (!sameRecordSet(found, state.recordSet)) wrong.push(`${state.record} in ${state.hostedZoneId} is ${describeRecordSet(found)}${found?.TTL !== undefined ? ` (TTL ${found.TTL})` : ''}, recorded ${describeRecordSet(state.recordSet)}${state.recordSet?.TTL !== undefined ? ` (TTL ${state.recordSet.TTL})` : ''}`);
      } else {
        const { states } = await readRoutingControls(clients, state.clusterEndpoints, state.routingControls.map((c) => c.arn));
        for (const c of state.routingControls) {
          const found = states.find((s) => s.arn === c.arn)?.state;
          if (found !== c.state) wrong.push(`${state.record}: routing control ${c.arn} is ${found}, recorded ${c.state}`);
        }
      }
    }
    if (wrong.length > 0) throw new DnsVerificationFailed(`DNS read back after the failback differs from the recorded state: ${wrong.join('; ')}`);
    lines.push('verified: every record and routing control reads back as recorded');
  }
  return {
    data: { waitForChange: changes.length > 0, changes, recorded: before, modes: recordedStates.map((s) => s.mode), warnings: [] },
    actions,
    ...(resources.length > 0 ? { resources } : {}),
    detail: lines.join('\n') || 'nothing to restore',
  };
}


export interface DnsChangeStatus {
  insync: boolean;
  /** Seconds until the next look is worth making (0 when every change is INSYNC). */
  nextCheckSeconds: number;
  changes: { changeId: string; status: string }[];
  /** Minutes since the earliest change still pending (or the earliest change, when all are INSYNC). */
  waitedMinutes: number;
}

/**
 * How long a scenario's DNS changes may stay PENDING before its wait loop gives up (minutes): cluster
 * failover's kubernetes.traffic.timeoutMinutes; a region failover's, and the failback that moves the
 * same records back, the longest timeoutMinutes of regionFailover.dns. Throws InvalidConfig when the
 * scenario's records are not configured (there is no change to wait for).
 */
export function dnsChangeLimitMinutes(config: DeploymentConfig, scenario: string): number {
  if (scenario === 'region-failover' || scenario === 'region-failback') return Math.max(...regionFailoverConfig(config).dns.map((r) => r.timeoutMinutes));
  const traffic = kubernetesConfig(config).traffic;
  if (!traffic) throw new InvalidConfig('kubernetes.traffic is not configured: there is no DNS change to wait for');
  return traffic.timeoutMinutes;
}

/**
 * One look at pending control-plane changes (route53:GetChange each): INSYNC once every Route 53 name
 * server answers with the new records. Thrown: InvalidInput (malformed changes), DnsChangeTimedOut when
 * a change is still PENDING more than `timeoutMinutes` after its submission, what awsCall names.
 */
export async function checkTrafficChanges(clients: Pick<DnsClients, 'route53'>, changes: DnsChange[], timeoutMinutes: number, now: Date): Promise<StepResult<DnsChangeStatus>> {
  if (!Array.isArray(changes) || changes.length === 0) throw new InvalidInput(`changes: got ${JSON.stringify(changes)}; expected the Route 53 changes MoveTraffic submitted ({changeId, submittedAt})`);
  changes.forEach((c, i) => {
    if (typeof c?.changeId !== 'string' || c.changeId.length === 0) throw new InvalidInput(`changes[${i}].changeId: got ${JSON.stringify(c?.changeId)}; expected a Route 53 change id`);
    if (typeof c.submittedAt !== 'string' || Number.isNaN(Date.parse(c.submittedAt))) throw new InvalidInput(`changes[${i}].submittedAt: got ${JSON.stringify(c.submittedAt)}; expected a UTC ISO time`);
  });
  const looks: { changeId: string; status: string; submittedAt: string }[] = [];
  for (const change of changes) {
    const answer = await awsCall('route53:GetChange', change.changeId, () => clients.route53.send(new GetChangeCommand({ Id: change.changeId })));
    looks.push({ changeId: change.changeId, status: answer.ChangeInfo?.Status ?? 'UNKNOWN', submittedAt: change.submittedAt });
  }
  const pending = looks.filter((l) => l.status !== 'INSYNC');
  const earliest = (list: typeof looks) => list.reduce((first, l) => (Date.parse(l.submittedAt) < Date.parse(first) ? l.submittedAt : first), list[0]!.submittedAt);
  const waited = minutesBetween(earliest(pending.length > 0 ? pending : looks), now);
  const waitedMinutes = Math.round(waited * 10) / 10;
  const insync = pending.length === 0;
  if (!insync && waited > timeoutMinutes) {
    throw new DnsChangeTimedOut(
      `Route 53 change ${pending.map((p) => p.changeId).join(', ')} is still ${pending[0]!.status} after ${waited.toFixed(1)} min (limit ${timeoutMinutes} min): clients may still resolve the old address`,
    );
  }
  const waitedSeconds = waited * 60;
  // A change can be INSYNC within seconds of its submission: no first wait to size, polls from the start.
  const nextLook = insync ? 0 : nextCheckSeconds({ elapsedSeconds: waitedSeconds, expectedSeconds: 0, timeoutSeconds: timeoutMinutes * 60 });
  const statuses = looks.map(({ changeId, status }) => ({ changeId, status }));
  const detail =
    looks.length === 1
      ? `Route 53 change ${looks[0]!.changeId} is ${looks[0]!.status} (after ${waitedMinutes} min)`
      : `Route 53 changes: ${looks.map((l) => `${l.changeId} ${l.status}`).join(', ')} (after ${waitedMinutes} min)`;
  return { data: { insync, nextCheckSeconds: nextLook, changes: statuses, waitedMinutes }, detail: insync ? detail : `${detail}; next look in ${nextLook} s` };
}

/**
 * The MoveTraffic step of a cluster failover: kubernetes.traffic to the backup cluster through
 * moveTraffic, in the record's mode. Skipped when the config names no record (moving clients is then a
 * person's job).
 */
export async function moveClientsToBackup(
  clients: DnsClients,
  traffic: DnsRecordConfig | undefined,
  run: { executionId: string; dryRun: boolean },
  context: { primaryRegion: string },
  now: Date,
  options: DnsRunOptions = {},
): Promise<StepResult<TrafficMoveData>> {
  if (!traffic) {
    return {
      data: { waitForChange: false, changes: [], recorded: [], modes: [], warnings: [] },
      status: 'skipped',
      detail: 'traffic not moved: the deployment config names no DNS record (kubernetes.traffic); move clients to the backup cluster by hand',
    };
  }
  return moveTraffic(clients, [traffic], run, { ...context, backupName: 'the backup cluster' }, now, options);
}
