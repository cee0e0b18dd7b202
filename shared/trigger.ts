// How a run was started, as StartRun records it in run.trigger ("alarm <name>", "alertmanager <alertname>",
// "manual", "schedule").
// Apart from run.ts so that what only reads the trigger (the recovery lock, in every mutating step)
// does not bundle the input contract and the scenario list.
import type { RunContext } from './run.js';

/**
 * True when an alarm started the run (a CloudWatch alarm, or a Prometheus alert through the
 * Alertmanager webhook; not an operator, a schedule or a drill): a quiet period after a completed
 * recovery holds it back, and a repeated one resumes the incident held.
 */
export function startedByAlarm(run: Pick<RunContext, 'trigger'>): boolean {
  return run.trigger.startsWith('alarm ') || run.trigger.startsWith('alertmanager ');
}
