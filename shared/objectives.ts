// Compares what a run measured with the plan's objectives table (config `objectives`).
import type { Objective } from './config.js';

export interface ObjectiveResult {
  component: string;
  rtoMinutes: number;
  rpoMinutes: number;
  /** Null when this run did not measure it (a verification measures RPO exposure, not RTO). */
  measuredRtoMinutes: number | null;
  measuredRpoMinutes: number | null;
  /** Null when nothing was measured. */
  met: boolean | null;
  note: string;
}

export function evaluateObjective(
  objective: Objective,
  measured: { rtoMinutes?: number | null; rpoMinutes?: number | null },
  note: string,
): ObjectiveResult {
  const rto = measured.rtoMinutes ?? null;
  const rpo = measured.rpoMinutes ?? null;
  const verdicts: boolean[] = [];
  if (rto !== null) verdicts.push(rto <= objective.rtoMinutes);
  if (rpo !== null) verdicts.push(rpo <= objective.rpoMinutes);
  return {
    component: objective.component,
    rtoMinutes: objective.rtoMinutes,
    rpoMinutes: objective.rpoMinutes,
    measuredRtoMinutes: rto === null ? null : round1(rto),
    measuredRpoMinutes: rpo === null ? null : round1(rpo),
    met: verdicts.length === 0 ? null : verdicts.every(Boolean),
    note,
  };
}

export function minutesBetween(from: Date | string, to: Date | string): number {
  return (new Date(to).getTime() - new Date(from).getTime()) / 60_000;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
