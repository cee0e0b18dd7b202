// Moving clients between clusters with DNS: one simple Route 53 record set to the backup cluster's
// address, in control-plane mode (ChangeResourceRecordSets, then GetChange until INSYNC). The record's
// previous value is returned so the report can name it for failback. Safe to repeat: a record that
// already points at the backup is left alone.
//
// Route 53's control plane lives in us-east-1. Data-plane failover (health-check-driven failover
// records, Route 53 ARC routing controls) does not depend on it; it is not implemented here.
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { TrafficConfig } from './config.js';
import { awsCall, DnsChangeTimedOut, InvalidConfig } from './errors.js';
import { minutesBetween } from './objectives.js';
import type { Action, StepResult } from './steps.js';

/** `api.frontier.com.`: Route 53 answers with lower-case names ending in a dot. */
export function normaliseDnsName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** A record value as Route 53 stores it: names of a CNAME end in a dot, addresses stay as they are. */
function normaliseValue(type: string, value: string): string {
  return type === 'CNAME' ? normaliseDnsName(value) : value.trim();
}

/** The record set that sends clients to the backup cluster, as the config describes it. */
export function backupRecordSet(traffic: TrafficConfig): ResourceRecordSet {
  const name = normaliseDnsName(traffic.recordName);
  if (traffic.backupAlias) {
    return {
      Name: name,
      Type: traffic.recordType,
      AliasTarget: {
        DNSName: normaliseDnsName(traffic.backupAlias.dnsName),
        HostedZoneId: traffic.backupAlias.hostedZoneId,
        EvaluateTargetHealth: traffic.backupAlias.evaluateTargetHealth,
      },
    };
  }
  return {
    Name: name,
    Type: traffic.recordType,
    TTL: traffic.ttlSeconds,
    ResourceRecords: (traffic.backupValues ?? []).map((value) => ({ Value: normaliseValue(traffic.recordType, value) })),
  };
}

/** What a record set sends clients to, in words for the report. */
export function describeRecordSet(record: ResourceRecordSet | null): string {
  if (!record) return 'no record';
  if (record.AliasTarget) return `alias to ${record.AliasTarget.DNSName} (zone ${record.AliasTarget.HostedZoneId})`;
  return (record.ResourceRecords ?? []).map((r) => r.Value).join(', ') || 'no values';
}

/** True when `current` already sends clients where `wanted` does (TTL aside). */
export function pointsAtSameTarget(current: ResourceRecordSet | null, wanted: ResourceRecordSet): boolean {
  if (!current) return false;
  if (wanted.AliasTarget) {
    // Route 53 may store an ELB alias with a "dualstack." prefix.
    const stored = normaliseDnsName(current.AliasTarget?.DNSName ?? '').replace(/^dualstack\./, '');
    return stored === normaliseDnsName(wanted.AliasTarget.DNSName ?? '').replace(/^dualstack\./, '') && current.AliasTarget?.HostedZoneId === wanted.AliasTarget.HostedZoneId;
  }
  if (current.AliasTarget) return false;
  const type = wanted.Type ?? '';
  const values = (records: ResourceRecordSet) => (records.ResourceRecords ?? []).map((r) => normaliseValue(type, r.Value ?? '')).sort();
  return JSON.stringify(values(current)) === JSON.stringify(values(wanted));
}

/**
 * The simple record `name`/`type` in the zone, or null. A record with a routing policy (failover,
 * weighted...) is refused: those move by health checks, which this control-plane change would fight.
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
      `${wantedName} ${type} in ${hostedZoneId} has routing-policy records (set identifier ${first.SetIdentifier}): kubernetes.traffic moves a simple record only`,
    );
  }
  return first;
}

export interface TrafficMove {
  record: string;
  /** The record before the move (null: it did not exist): what failing back restores. */
  previous: ResourceRecordSet | null;
  /** Route 53's change id to wait for, or null when nothing was changed. */
  changeId: string | null;
  submittedAt: string | null;
  changed: boolean;
  action: Action;
}

/** Points the record at the backup cluster (UPSERT), unless it already does. */
export async function moveTrafficToBackup(route53: Route53Client, traffic: TrafficConfig, executionId: string, dryRun: boolean, now: Date): Promise<TrafficMove> {
  const wanted = backupRecordSet(traffic);
  const record = `${wanted.Name} ${wanted.Type}`;
  const changeBatch = {
    // Route 53 keeps the comment with the change: it names the execution that made it.
    Comment: `frontier-dr cluster failover ${executionId}`.slice(0, 256),
    Changes: [{ Action: 'UPSERT' as const, ResourceRecordSet: wanted }],
  };
  const action: Action = {
    description: `point ${record} in zone ${traffic.hostedZoneId} at the backup cluster (${describeRecordSet(wanted)})`,
    service: 'route53',
    operation: 'ChangeResourceRecordSets',
    parameters: { HostedZoneId: traffic.hostedZoneId, ChangeBatch: changeBatch },
    performed: false,
  };
  const previous = await findRecordSet(route53, traffic.hostedZoneId, traffic.recordName, traffic.recordType);
  const unchanged = { record, previous, changeId: null, submittedAt: null, changed: false, action };
  if (dryRun || pointsAtSameTarget(previous, wanted)) return unchanged;
  const answer = await awsCall('route53:ChangeResourceRecordSets', `${record} in ${traffic.hostedZoneId}`, () =>
    route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: traffic.hostedZoneId, ChangeBatch: changeBatch })),
  );
  return {
    record,
    previous,
    changeId: answer.ChangeInfo?.Id ?? null,
    submittedAt: (answer.ChangeInfo?.SubmittedAt ?? now).toISOString(),
    changed: true,
    action: { ...action, performed: true },
  };
}

export interface DnsChangeStatus {
  changeId: string;
  status: string;
  insync: boolean;
  waitedMinutes: number;
}

/** One look at a change: INSYNC once every Route 53 name server answers with the new record. */
export async function checkDnsChange(route53: Route53Client, changeId: string, submittedAt: string, timeoutMinutes: number, now: Date): Promise<DnsChangeStatus> {
  const answer = await awsCall('route53:GetChange', changeId, () => route53.send(new GetChangeCommand({ Id: changeId })));
  const status = answer.ChangeInfo?.Status ?? 'UNKNOWN';
  const waited = minutesBetween(submittedAt, now);
  const insync = status === 'INSYNC';
  if (!insync && waited > timeoutMinutes) {
    throw new DnsChangeTimedOut(`Route 53 change ${changeId} is still ${status} after ${waited.toFixed(1)} min (limit ${timeoutMinutes} min): clients may still resolve the old address`);
  }
  return { changeId, status, insync, waitedMinutes: Math.round(waited * 10) / 10 };
}

/** What MoveTraffic tells the next states. */
export interface TrafficStepData {
  /** True when the state machine must wait for Route 53 to apply the change. */
  waitForChange: boolean;
  changeId: string | null;
  /** UTC ISO time Route 53 accepted the change. */
  submittedAt: string | null;
  record: string | null;
}

/**
 * The MoveTraffic step of a cluster failover: the record clients use (kubernetes.traffic) to the backup
 * cluster, through moveTrafficToBackup (route53:ListResourceRecordSets, ChangeResourceRecordSets
 * UPSERT). Skipped when the config names no record (moving clients is then a person's job); a record
 * already pointing at the backup is left alone. The previous value goes into the report as a kept
 * resource: failing back is setting it again. Thrown: what awsCall names for Route 53.
 *
 * @param traffic kubernetes.traffic, or undefined when the config has none.
 */
export async function moveClientsToBackup(
  route53: Route53Client,
  traffic: TrafficConfig | undefined,
  run: { executionId: string; dryRun: boolean },
  now: Date,
): Promise<StepResult<TrafficStepData>> {
  if (!traffic) {
    return {
      data: { waitForChange: false, changeId: null, submittedAt: null, record: null },
      status: 'skipped',
      detail: 'traffic not moved: the deployment config names no DNS record (kubernetes.traffic); move clients to the backup cluster by hand',
    };
  }
  const move = await moveTrafficToBackup(route53, traffic, run.executionId, run.dryRun, now);
  const data = { waitForChange: move.changeId !== null, changeId: move.changeId, submittedAt: move.submittedAt, record: move.record };
  const before = describeRecordSet(move.previous);
  if (!move.changed) {
    return {
      data,
      actions: [move.action],
      detail: run.dryRun ? `dry run: ${move.record} now resolves to ${before}` : `${move.record} already points at the backup cluster (${before})`,
    };
  }
  return {
    data,
    actions: [move.action],
    resources: [{ kind: 'route53:record', id: `${traffic.hostedZoneId}/${move.record}`, region: 'global', kept: true, note: `before the failover: ${before}; set it back to fail back` }],
    detail: `${move.record} moved from ${before} to the backup cluster; Route 53 change ${move.changeId}`,
  };
}

/**
 * The CheckDnsChange step: one look at the change MoveTraffic made (route53:GetChange). Thrown:
 * InvalidConfig when the config names no record (there is nothing to wait for), DnsChangeTimedOut
 * past kubernetes.traffic.timeoutMinutes, what awsCall names for Route 53.
 *
 * @param submittedAt UTC ISO time Route 53 accepted the change.
 */
export async function checkTrafficMove(
  route53: Route53Client,
  traffic: TrafficConfig | undefined,
  change: { changeId: string; submittedAt: string },
  now: Date,
): Promise<StepResult<DnsChangeStatus>> {
  if (!traffic) throw new InvalidConfig('kubernetes.traffic is not configured: there is no DNS change to wait for');
  const status = await checkDnsChange(route53, change.changeId, change.submittedAt, traffic.timeoutMinutes, now);
  return { data: status, detail: `Route 53 change ${status.changeId} is ${status.status} (after ${status.waitedMinutes} min)` };
}
