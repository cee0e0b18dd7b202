// STUB, to be replaced by `restoreRecordedTraffic` of shared/dns.ts (the DNS module with both modes,
// built alongside): the one function region failback needs from it, with the signature and the
// RecordedDnsState shape that module exports. When it lands, import both from './dns.js' in
// functions/restore-recorded-traffic/handler.ts and shared/region-failback.ts, and delete this file.
//
// What this stub does: control-plane records only (UPSERT of exactly the recorded record set, or a
// DELETE when the failover found no record, then a read-back that must match); a data-plane record
// (ARC routing controls) is refused before any change, naming the record.
import { ChangeResourceRecordSetsCommand, type ResourceRecordSet, type Route53Client } from '@aws-sdk/client-route-53';
import { describeRecordSet, findRecordSet, pointsAtSameTarget } from './dns.js';
import { awsCall, InvalidConfig, TrafficNotRestored } from './errors.js';
import type { Action, StepResult } from './steps.js';

/** What a record held before a move: exactly what a failback must set again. JSON-safe. */
export type RecordedDnsState =
  | { mode: 'control-plane'; record: string; hostedZoneId: string; recordSet: ResourceRecordSet | null }
  | { mode: 'data-plane'; record: string; routingControls: { arn: string; state: 'On' | 'Off' }[] };

export interface DnsChange {
  changeId: string;
  /** UTC ISO. */
  submittedAt: string;
}

export interface TrafficMoveData {
  /** A control-plane change to wait for (GetChange until INSYNC). */
  waitForChange: boolean;
  changes: DnsChange[];
  recorded: RecordedDnsState[];
  modes: ('control-plane' | 'data-plane')[];
  warnings: string[];
}

export interface DnsClients {
  route53: Route53Client;
}

/** The same record set as recorded and as found, TTL included (a failback restores exactly what was there). */
function sameRecordSet(found: ResourceRecordSet | null, recorded: ResourceRecordSet | null): boolean {
  if (!recorded || !found) return recorded === found;
  return pointsAtSameTarget(found, recorded) && (recorded.AliasTarget ? true : found.TTL === recorded.TTL);
}

/**
 * Failback: sets exactly the recorded states again (only the records that differ), then reads every
 * record back and verifies it. A dry run records the changes and makes none.
 *
 * AWS: route53:ListResourceRecordSets, route53:ChangeResourceRecordSets. Thrown: InvalidConfig (a
 * data-plane record: not in this stub), TrafficNotRestored (a record read back differs), what awsCall
 * names.
 */
export async function restoreRecordedTraffic(
  clients: DnsClients,
  recorded: RecordedDnsState[],
  run: { executionId: string; dryRun: boolean },
  now: Date,
): Promise<StepResult<TrafficMoveData>> {
  for (const state of recorded) {
    if (state.mode !== 'control-plane') throw new InvalidConfig(`record ${state.record} was moved in data-plane mode (ARC routing controls): restoring it is not implemented yet; set the routing controls by hand (${state.routingControls.map((c) => `${c.arn} ${c.state}`).join(', ')})`);
  }
  const controlPlane = recorded.filter((s): s is Extract<RecordedDnsState, { mode: 'control-plane' }> => s.mode === 'control-plane');
  const actions: Action[] = [];
  const changes: DnsChange[] = [];
  const current: RecordedDnsState[] = [];
  for (const state of controlPlane) {
    const type = state.recordSet?.Type ?? 'CNAME';
    const found = await findRecordSet(clients.route53, state.hostedZoneId, state.record, type);
    current.push({ ...state, recordSet: found });
    if (sameRecordSet(found, state.recordSet)) continue;
    const change = state.recordSet
      ? { Action: 'UPSERT' as const, ResourceRecordSet: state.recordSet }
      : { Action: 'DELETE' as const, ResourceRecordSet: found as ResourceRecordSet };
    const action: Action = {
      description: `${state.record}: ${describeRecordSet(found)} -> ${describeRecordSet(state.recordSet)} (the value the failover recorded)`,
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      parameters: { HostedZoneId: state.hostedZoneId, Changes: [change] },
      performed: false,
    };
    if (!run.dryRun) {
      const answer = await awsCall('route53:ChangeResourceRecordSets', `${state.record} in ${state.hostedZoneId}`, () =>
        clients.route53.send(
          new ChangeResourceRecordSetsCommand({ HostedZoneId: state.hostedZoneId, ChangeBatch: { Comment: `frontier-dr failback ${run.executionId}`, Changes: [change] } }),
        ),
      );
      changes.push({ changeId: answer.ChangeInfo?.Id ?? '', submittedAt: (answer.ChangeInfo?.SubmittedAt ?? now).toISOString() });
      action.performed = true;
    }
    actions.push(action);
  }
  if (!run.dryRun) {
    const differing: string[] = [];
    for (const state of controlPlane) {
      const found = await findRecordSet(clients.route53, state.hostedZoneId, state.record, state.recordSet?.Type ?? 'CNAME');
      if (!sameRecordSet(found, state.recordSet)) differing.push(`${state.record}: holds ${describeRecordSet(found)}, recorded ${describeRecordSet(state.recordSet)}`);
    }
    if (differing.length) throw new TrafficNotRestored(`after the failback's change, Route 53 does not hold what the failover recorded: ${differing.join('; ')}`);
  }
  return {
    data: { waitForChange: changes.length > 0, changes, recorded: current, modes: controlPlane.map(() => 'control-plane' as const), warnings: [] },
    actions,
    detail: run.dryRun
      ? `dry run: ${actions.length} of ${recorded.length} record(s) would be set back`
      : `${actions.length} of ${recorded.length} record(s) set back to the recorded values, ${recorded.length - actions.length} already held them; every record read back and verified`,
  };
}
