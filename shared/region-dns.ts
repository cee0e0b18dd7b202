// The traffic move of a region failover, with the signatures shared/dns.ts gives `moveTraffic` and
// `checkTrafficChanges` (both DNS modes, the previous state recorded for failback). Until those land
// in shared/dns.ts this module moves control-plane records through dns.ts's existing record helpers
// and refuses data-plane records with a clear error (before any change).
// TODO(merge): replace this module's two functions with shared/dns.ts moveTraffic / checkTrafficChanges
// (same signatures) and delete it; the handlers move-dns and check-region-dns-change import from here.
import { GetChangeCommand, type Route53Client } from '@aws-sdk/client-route-53';
import type { ControlPlaneRecordConfig, DnsRecordConfig, TrafficConfig } from './config.js';
import { describeRecordSet, moveTrafficToBackup } from './dns.js';
import { awsCall, DnsChangeTimedOut, InvalidConfig } from './errors.js';
import { minutesBetween } from './objectives.js';
import type { ResourceRecord } from './report.js';
import type { Action, StepResult } from './steps.js';

import type { RecordedDnsState } from './dns-state.js';

export type { RecordedDnsState };

export interface DnsChange {
  changeId: string;
  /** UTC ISO. */
  submittedAt: string;
}

export interface TrafficMoveData {
  /** A control-plane change to wait for (GetChange until INSYNC). */
  waitForChange: boolean;
  changes: DnsChange[];
  /** One per configured record, in config order. */
  recorded: RecordedDnsState[];
  modes: ('control-plane' | 'data-plane')[];
  warnings: string[];
}

export interface DnsClients {
  route53: Route53Client;
}

/** Route 53's control plane (ChangeResourceRecordSets, GetChange) is served from us-east-1. */
const ROUTE53_CONTROL_PLANE_REGION = 'us-east-1';

function asTrafficConfig(record: ControlPlaneRecordConfig): TrafficConfig {
  const { mode: _mode, ...traffic } = record;
  return traffic;
}

/**
 * Moves every record to the backup side, in config order; only records that differ are changed, and
 * each one's previous state is recorded for failback. Data-plane records are refused before any record
 * is changed (InvalidConfig: routing controls need shared/dns.ts's data-plane mode). A dry run records
 * the calls and makes none. AWS: route53:ListResourceRecordSets, ChangeResourceRecordSets (UPSERT).
 */
export async function moveTraffic(
  clients: DnsClients,
  records: DnsRecordConfig[],
  run: { executionId: string; dryRun: boolean },
  context: { primaryRegion: string },
  now: Date,
): Promise<StepResult<TrafficMoveData>> {
  const dataPlane = records.filter((r) => r.mode === 'data-plane');
  if (dataPlane.length > 0) {
    throw new InvalidConfig(`regionFailover.dns: data-plane records (${dataPlane.map((r) => r.recordName).join(', ')}) need Route 53 ARC routing controls, which this build does not move yet; nothing was changed`);
  }
  const warnings: string[] = [];
  if (context.primaryRegion === ROUTE53_CONTROL_PLANE_REGION) {
    warnings.push(`control-plane mode depends on Route 53's control plane in ${ROUTE53_CONTROL_PLANE_REGION}, the failing primary region: prefer data-plane mode (routing controls) for these records`);
  }
  const actions: Action[] = [];
  const changes: DnsChange[] = [];
  const recorded: RecordedDnsState[] = [];
  const resources: ResourceRecord[] = [];
  const moved: string[] = [];
  for (const record of records as ControlPlaneRecordConfig[]) {
    const traffic = asTrafficConfig(record);
    const move = await moveTrafficToBackup(clients.route53, traffic, run.executionId, run.dryRun, now);
    actions.push({ ...move.action, description: move.action.description.replace('the backup cluster', 'the recovery region') });
    recorded.push({ mode: 'control-plane', record: move.record, hostedZoneId: traffic.hostedZoneId, recordSet: move.previous });
    const before = describeRecordSet(move.previous);
    if (move.changeId && move.submittedAt) {
      changes.push({ changeId: move.changeId, submittedAt: move.submittedAt });
      resources.push({ kind: 'route53:record', id: `${traffic.hostedZoneId}/${move.record}`, region: 'global', kept: true, note: `before the failover: ${before}; the failback sets it again` });
      moved.push(`${move.record} moved from ${before}`);
    } else {
      moved.push(run.dryRun ? `dry run: ${move.record} now resolves to ${before}` : `${move.record} already points at the recovery region (${before})`);
    }
  }
  return {
    data: { waitForChange: changes.length > 0, changes, recorded, modes: records.map(() => 'control-plane' as const), warnings },
    actions,
    resources,
    detail: `control-plane mode: ${moved.join('; ')}${warnings.length ? `. WARNING: ${warnings.join('; ')}` : ''}`,
  };
}

/** The first look at a Route 53 change, and every later one: INSYNC usually comes within a minute. */
export const DNS_POLL_SECONDS = 10;

/**
 * One look at every pending control-plane change (route53:GetChange). `insync` once all are INSYNC;
 * DnsChangeTimedOut past `timeoutMinutes` from the oldest submission.
 */
export async function checkTrafficChanges(
  clients: DnsClients,
  changes: DnsChange[],
  timeoutMinutes: number,
  now: Date,
): Promise<StepResult<{ insync: boolean; nextCheckSeconds: number; pending: string[]; waitedMinutes: number }>> {
  const looks = await Promise.all(
    changes.map(async (change) => {
      const answer = await awsCall('route53:GetChange', change.changeId, () => clients.route53.send(new GetChangeCommand({ Id: change.changeId })));
      return { ...change, status: answer.ChangeInfo?.Status ?? 'UNKNOWN' };
    }),
  );
  const pending = looks.filter((l) => l.status !== 'INSYNC');
  const oldest = changes.map((c) => c.submittedAt).sort()[0] ?? now.toISOString();
  const waited = minutesBetween(oldest, now);
  if (pending.length > 0 && waited > timeoutMinutes) {
    throw new DnsChangeTimedOut(`Route 53 changes ${pending.map((p) => `${p.changeId} (${p.status})`).join(', ')} not INSYNC after ${waited.toFixed(1)} min (limit ${timeoutMinutes} min)`);
  }
  return {
    data: { insync: pending.length === 0, nextCheckSeconds: DNS_POLL_SECONDS, pending: pending.map((p) => p.changeId), waitedMinutes: Math.round(waited * 10) / 10 },
    detail: pending.length === 0 ? `all ${looks.length} Route 53 changes INSYNC` : `${pending.length} of ${looks.length} Route 53 changes still PENDING after ${waited.toFixed(1)} min`,
  };
}
