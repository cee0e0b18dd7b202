// The paragraph at the top of every Markdown report: what needs a person's attention first (failed
// steps, failed checks, missed objectives), then what the run did, then when and how long. The
// report's one-line `summary` (notifications, logs) stays as it is; this is the reader's version.
// Pure: built from the report alone.
import type { Report } from './report.js';
import { isScenarioName, scenario } from './scenarios.js';

/** At most this many items of one kind are named; the rest are counted ("and 3 more"). */
const NAMED_PER_KIND = 3;

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function nameSome(items: string[]): string {
  const named = items.slice(0, NAMED_PER_KIND);
  const rest = items.length - named.length;
  return rest > 0 ? `${named.join('; ')}; and ${rest} more` : named.join('; ');
}

/** `12 s`, `4 min 5 s`, `1 h 3 min`: a run's length as people say it. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const minutes = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ''}`;
}

/** Keeps a message to one line, without Markdown table or emphasis characters breaking the paragraph. */
function oneLine(text: string, limit = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > limit ? `${flat.slice(0, limit)}...` : flat;
}

/**
 * The report's summary paragraph, findings first:
 *   1. the headline: status, and the count of failed steps, failed checks and missed objectives;
 *   2. each failed step (error name and message), failed check (resource and message) and missed
 *      objective (measured against the target), at most three of each named;
 *   3. what was done: the changes made (or, in a dry run, that would have been made) and the resources
 *      the run created and left in place;
 *   4. the run: scenario, trigger, start (UTC ISO) and length.
 * A failed check that is the scenario's reason to act (cluster-failover's unhealthy primary) is named
 * as the reason, not as a finding against the run.
 *
 * @returns One Markdown paragraph (no line breaks).
 */
export function summaryParagraph(report: Report): string {
  const triggerCheck = isScenarioName(report.scenario) ? scenario(report.scenario).triggerCheck : undefined;
  const failedChecks = report.checks.filter((c) => !c.passed && c.name !== triggerCheck);
  const reasons = report.checks.filter((c) => !c.passed && c.name === triggerCheck);
  const missed = report.objectives.filter((o) => o.met === false);

  const findings: string[] = [];
  if (report.failures.length) findings.push(plural(report.failures.length, 'step') + ' failed');
  if (failedChecks.length) findings.push(plural(failedChecks.length, 'check') + ' failed');
  if (missed.length) findings.push(plural(missed.length, 'objective') + ' missed');
  const status = report.status === 'failed' ? 'FAILED' : 'Succeeded';
  const headline = findings.length ? `**${status}: ${findings.join(', ')}.**` : `**${status}${report.dryRun ? ' (dry run)' : ''}, nothing to act on.**`;

  const sentences = [headline];
  if (report.failures.length) {
    sentences.push(`Failed: ${nameSome(report.failures.map((f) => `${f.step} (${f.error}: ${oneLine(f.message)})`))}.`);
  }
  if (failedChecks.length) {
    sentences.push(`Failed checks: ${nameSome(failedChecks.map((c) => `${c.name} on ${c.resource} (${oneLine(c.message)})`))}.`);
  }
  if (missed.length) {
    sentences.push(
      `Missed objectives: ${nameSome(
        missed.map((o) => {
          const measured = [
            o.measuredRtoMinutes !== null ? `RTO ${o.measuredRtoMinutes} min against ${o.rtoMinutes}` : null,
            o.measuredRpoMinutes !== null ? `RPO ${o.measuredRpoMinutes} min against ${o.rpoMinutes}` : null,
          ].filter(Boolean);
          return `${o.component} (${measured.join(', ') || oneLine(o.note)})`;
        }),
      )}.`,
    );
  }
  if (reasons.length) sentences.push(`Reason to act: ${nameSome(reasons.map((c) => `${c.name} on ${c.resource} (${oneLine(c.message)})`))}.`);

  const actions = report.steps.flatMap((s) => s.actions.map((a) => ({ step: s.name, ...a })));
  const performed = actions.filter((a) => a.performed);
  const notPerformed = actions.filter((a) => !a.performed);
  if (performed.length) sentences.push(`Done: ${plural(performed.length, 'change')}: ${nameSome(performed.map((a) => `${a.step}: ${oneLine(a.description, 120)}`))}.`);
  if (notPerformed.length) {
    sentences.push(`${report.dryRun ? 'Would have done' : 'Not done'}: ${plural(notPerformed.length, 'change')}: ${nameSome(notPerformed.map((a) => `${a.step}: ${oneLine(a.description, 120)}`))}.`);
  }
  if (!actions.length) sentences.push('No change was made or planned.');
  const kept = report.resources.filter((r) => r.kept);
  if (kept.length) sentences.push(`Left in place: ${nameSome(kept.map((r) => `${r.kind} ${r.id} (${r.region})`))}.`);

  const passed = report.checks.length - failedChecks.length - reasons.length;
  if (report.checks.length) sentences.push(`${passed} of ${plural(report.checks.length, 'check')} passed.`);
  sentences.push(`${report.scenario}${report.dryRun ? ' dry run' : ''} started at ${report.startedAt} (trigger: ${report.trigger}), ran ${formatDuration(report.durationSeconds)}.`);
  return sentences.join(' ');
}
