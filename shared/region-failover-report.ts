// What a region-failover report adds to every report: how the outage was confirmed, the critical path
// (which parallel branch finished last, and every step's duration), the data-loss window (the restore
// point against the outage start, against the RPO), the DNS mode(s) used with any warning, the
// objectives (API Services, Database), and the `failback` record a region failback reads back from the
// report JSON. Pure: built from the run's state as the state machine hands it to PublishReport.
import type { Objective } from './config.js';
import { evaluateObjective, minutesBetween, type ObjectiveResult } from './objectives.js';
import type { RecordedDnsState } from './dns-state.js';
import type { RunState } from './report.js';
import type { StepOutput } from './steps.js';

// What this module reads of the steps' data (Preflight's plan, StartRegionRestore, CheckRegionRestore,
// MoveDns), declared here as it is read: the report is loaded by every function, and must not load
// the modules that restore databases or move records.
interface RestoreSourceView {
  kind: 'point-in-time' | 'snapshot';
  time?: string;
  snapshot?: { id: string };
  ageMinutes?: number;
  restorePoint: string;
  dataLossMinutes: number;
  rpoMinutes: number;
  withinRpo: boolean;
}
interface RegionFailoverPlan {
  database: string;
  regions: { primary: string; recovery: string };
  restoreSource: RestoreSourceView | null;
  objectives: { api: Objective; database: Objective };
  outageAt: string;
}
interface TrafficMoveData {
  waitForChange: boolean;
  recorded: RecordedDnsState[];
  modes: string[];
  warnings: string[];
}
interface StartedRegionRestore {
  instanceId: string;
}
interface RegionRestoreStatus {
  available: boolean;
}

export interface BranchTiming {
  branch: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  status: 'succeeded' | 'failed';
}

export interface StepTiming {
  name: string;
  durationSeconds: number | null;
}

export interface RegionFailoverSection {
  /** How the outage was confirmed (or that an operator skipped the confirmation, or that it cleared). */
  confirmation: string;
  branches: BranchTiming[];
  /** The branch that finished last, and the steps of the run's critical path in order. */
  criticalPath: { branch: string | null; branchDurationSeconds: number | null; steps: StepTiming[] } | null;
  dataLoss: { source: string; restorePoint: string; outageAt: string; minutes: number; rpoMinutes: number; withinRpo: boolean } | null;
  dns: { modes: string[]; warnings: string[]; records: string[] } | null;
}

/** The report JSON's `failback` object: what a region failback needs to put things back exactly. */
export interface FailbackRecord {
  primaryRegion: string;
  recoveryRegion: string;
  dns: RecordedDnsState[];
  database: { name: string; recoveryInstanceId: string | null; restorePoint: string | null };
}

/** Seconds from one UTC ISO time to another, one decimal (a local step takes milliseconds). */
const seconds = (from: string | null, to: string | null) => (from && to ? Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 100) / 10) : null);

function branchTiming(item: NonNullable<RunState['items']>[number]): BranchTiming {
  const outputs = Object.values(item.steps ?? {});
  const starts = outputs.map((o) => o.step.startedAt).filter((t): t is string => Boolean(t)).sort();
  const ends = outputs.map((o) => o.step.finishedAt).filter((t): t is string => Boolean(t)).sort();
  const startedAt = starts[0] ?? null;
  const finishedAt = ends[ends.length - 1] ?? null;
  return { branch: item.item, startedAt, finishedAt, durationSeconds: seconds(startedAt, finishedAt), status: Object.keys(item.failures ?? {}).length > 0 ? 'failed' : 'succeeded' };
}

function timed(name: string, output: StepOutput<unknown>): StepTiming & { startedAt: string } {
  return { name, durationSeconds: seconds(output.step.startedAt, output.step.finishedAt), startedAt: output.step.startedAt ?? '' };
}

function data<T>(state: RunState, step: string): T | undefined {
  return state.steps?.[step]?.data as T | undefined;
}

/** The region-failover sections of the report, the objectives it measured, and the failback record. */
export function regionFailoverReport(state: RunState): { section: RegionFailoverSection; objectives: ObjectiveResult[]; failback: FailbackRecord | null } {
  const plan = data<RegionFailoverPlan>(state, 'Preflight');
  const confirm = data<{ outcome: string; inAlarmSince: string | null; alarmName: string; confirmationMinutes: number }>(state, 'ConfirmOutage');
  const confirmation = state.run.regionFailover?.skipConfirmation
    ? 'skipped: a manual start with skipConfirmation (the operator confirmed the outage); the alarm was not waited for'
    : !confirm
      ? 'not reached'
      : confirm.outcome === 'confirmed'
        ? `confirmed: ${confirm.alarmName} in ALARM since ${confirm.inAlarmSince} for at least ${confirm.confirmationMinutes} min`
        : confirm.outcome === 'cleared'
          ? `not confirmed: ${confirm.alarmName} left ALARM within ${confirm.confirmationMinutes} min; nothing was changed`
          : `not confirmed yet: ${confirm.alarmName} in ALARM since ${confirm.inAlarmSince}`;

  const items = state.items ?? [];
  const branches = items.map(branchTiming);
  const last = [...branches].filter((b) => b.finishedAt).sort((a, b) => (b.finishedAt as string).localeCompare(a.finishedAt as string))[0] ?? null;
  const pathSteps = [
    ...Object.entries(state.steps ?? {}).map(([name, output]) => timed(name, output)),
    ...(last ? Object.entries(items.find((i) => i.item === last.branch)?.steps ?? {}).map(([name, output]) => timed(`${last.branch}: ${name}`, output)) : []),
  ]
    .filter((s) => s.startedAt)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
    .map(({ name, durationSeconds }) => ({ name, durationSeconds }));
  const criticalPath = pathSteps.length ? { branch: last?.branch ?? null, branchDurationSeconds: last?.durationSeconds ?? null, steps: pathSteps } : null;

  const source = plan?.restoreSource ?? null;
  const dataLoss = source
    ? {
        source: source.kind === 'snapshot' ? `snapshot copy ${source.snapshot?.id} (${source.ageMinutes} min old when chosen)` : `point in time ${source.time} (replicated automated backups)`,
        restorePoint: source.restorePoint,
        outageAt: plan?.outageAt ?? state.run.incidentAt,
        minutes: source.dataLossMinutes,
        rpoMinutes: source.rpoMinutes,
        withinRpo: source.withinRpo,
      }
    : null;

  const move = data<TrafficMoveData>(state, 'MoveDns');
  const dns = move ? { modes: [...new Set(move.modes)], warnings: move.warnings, records: move.recorded.map((r) => `${r.record} (${r.mode})`) } : null;

  const databaseItem = items.find((i) => i.item === 'database');
  const started = databaseItem?.steps?.StartRegionRestore?.data as StartedRegionRestore | undefined;
  const restored = databaseItem?.steps?.CheckRegionRestore as StepOutput<RegionRestoreStatus> | undefined;

  const objectives: ObjectiveResult[] = [];
  if (plan && !state.run.dryRun) {
    const outageAt = plan.outageAt;
    const failed = Object.keys(state.failures ?? {}).length > 0 || branches.some((b) => b.status === 'failed');
    const dnsCheck = state.steps?.CheckDnsChange as StepOutput<{ insync: boolean }> | undefined;
    const apiAt = failed ? null : dnsCheck?.data.insync ? dnsCheck.step.finishedAt : move && !move.waitForChange ? (state.steps?.MoveDns?.step.finishedAt ?? null) : null;
    objectives.push(measure(plan.objectives.api, apiAt, outageAt, null, 'API serving from the recovery region (DNS moved and in sync)'));
    const dbAt = restored?.data.available ? restored.step.finishedAt : null;
    objectives.push(measure(plan.objectives.database, dbAt, outageAt, source?.dataLossMinutes ?? null, `${plan.database} restored in ${plan.regions.recovery}${source ? ` from ${dataLoss?.source}` : ''}`));
  }

  const failback: FailbackRecord | null = plan
    ? {
        primaryRegion: plan.regions.primary,
        recoveryRegion: plan.regions.recovery,
        dns: move?.recorded ?? [],
        database: { name: plan.database, recoveryInstanceId: state.run.dryRun ? null : (started?.instanceId ?? null), restorePoint: source?.restorePoint ?? null },
      }
    : null;
  return { section: { confirmation, branches, criticalPath, dataLoss, dns }, objectives, failback };
}

function measure(objective: Objective, recoveredAt: string | null, outageAt: string, lossMinutes: number | null, what: string): ObjectiveResult {
  if (!recoveredAt) return evaluateObjective(objective, {}, `not recovered: ${what} was not reached`);
  const minutes = minutesBetween(outageAt, recoveredAt);
  return evaluateObjective(
    objective,
    { rtoMinutes: minutes, rpoMinutes: lossMinutes },
    `${what} ${minutes.toFixed(1)} min after the outage began${lossMinutes !== null ? `; ${lossMinutes} min of writes before the outage lost` : ''}`,
  );
}

/** The Markdown lines of the section, for the report's Markdown form. */
export function renderRegionFailover(section: RegionFailoverSection, failback: FailbackRecord | null): string[] {
  const lines = ['', '## Region failover', '', `- Outage confirmation: ${section.confirmation}`];
  if (section.criticalPath) {
    const branch = section.criticalPath.branch ? `${section.criticalPath.branch} branch finished last (${section.criticalPath.branchDurationSeconds ?? '?'} s)` : 'no parallel branch ran';
    lines.push(`- Critical path: ${branch}; ${section.criticalPath.steps.map((s) => `${s.name} ${s.durationSeconds ?? '?'} s`).join(' → ')}`);
  }
  for (const b of section.branches) lines.push(`- Branch ${b.branch}: ${b.status}, ${b.durationSeconds ?? '?'} s (${b.startedAt ?? '?'} .. ${b.finishedAt ?? '?'})`);
  if (section.dataLoss) {
    const d = section.dataLoss;
    lines.push(`- Data-loss window: ${d.minutes} min (restore point ${d.restorePoint} from ${d.source}; outage began ${d.outageAt}); RPO ${d.rpoMinutes} min ${d.withinRpo ? 'met' : 'MISSED'}`);
  }
  if (section.dns) {
    lines.push(`- DNS: ${section.dns.modes.join(', ') || 'no record'} mode for ${section.dns.records.join(', ')}`);
    for (const w of section.dns.warnings) lines.push(`- WARNING: ${w}`);
  }
  if (failback) lines.push(`- Failback record: ${failback.dns.length} DNS record(s) and ${failback.database.recoveryInstanceId ?? 'no instance'} (in the JSON form's \`failback\`)`);
  return lines;
}
