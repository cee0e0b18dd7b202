// The per-run report every scenario ends with: what ran, what it did (or would have done in a dry
// run), what it found and how the run compares with the plan's objectives. Stored as JSON (for tools)
// and Markdown (for people) in the reports bucket; failures are announced on SNS.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsCall } from './errors.js';
import { recordRunMetrics } from './metrics.js';
import { reportKey } from './report-key.js';
import type { ObjectiveResult } from './objectives.js';
import { renderReportHtml } from './report-html.js';
import { indexEntry, updateReportIndex } from './report-index.js';
import { summaryParagraph } from './report-summary.js';
import { buildTimeline, renderGantt, renderTimelineSvg, rtoNote } from './report-timeline.js';
import { regionFailoverReport, renderRegionFailover, type FailbackRecord, type RegionFailoverSection } from './region-failover-report.js';
import type { RunContext } from './run.js';
import { renderChecklist, validationChecklist } from './validation-checklist.js';
import { renderSecurityIncident, securityIncidentReport, summariseSecurityIncident, type SecurityIncidentSection } from './security-incident-report.js';
import type { StepFailure, StepOutput, StepRecord } from './steps.js';

export interface Check {
  name: string;
  resource: string;
  measured: string;
  target: string;
  passed: boolean;
  /** One line an on-call engineer can act on. */
  message: string;
  /** Numeric form of `measured` for CloudWatch, where one exists (e.g. backup age in seconds). */
  metric?: { name: string; unit: 'Seconds' | 'Count'; value: number };
}

export interface ResourceRecord {
  kind: string;
  id: string;
  region: string;
  /** Still present when the run ended (false once a scratch resource was deleted). */
  kept: boolean;
  note?: string;
}

export interface Report {
  scenario: string;
  executionId: string;
  executionName: string;
  trigger: string;
  dryRun: boolean;
  status: 'succeeded' | 'failed';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  steps: StepRecord[];
  checks: Check[];
  objectives: ObjectiveResult[];
  resources: ResourceRecord[];
  failures: { step: string; error: string; message: string }[];
  summary: string;
  /** region-failover: confirmation, critical path, data-loss window, DNS modes (region-failover-report.ts). */
  regionFailover?: RegionFailoverSection;
  /** region-failover: what a region failback restores (the DNS states recorded, the restored instance). */
  failback?: FailbackRecord;
  /** security-incident: containment per place, evidence checksums, rotations, patch, response time (security-incident-report.ts). */
  securityIncident?: SecurityIncidentSection;
}

/** The state a scenario hands to its report step: the run, and every step's output or failure. */
export interface RunState {
  run: RunContext;
  steps?: Record<string, StepOutput<unknown>>;
  failures?: Record<string, StepFailure>;
  /** Per-item results of a Map state, each with its own steps and failures. */
  items?: RunItem[];
  /** security-incident: one per secret its RotateSecrets Map rotated (after `items`, its containment). */
  rotations?: RunItem[];
}

/** One item of a Map or one branch of a Parallel, with its own steps and failures (named `<item>: <step>`). */
export interface RunItem {
  item: string;
  steps?: Record<string, StepOutput<unknown>>;
  failures?: Record<string, StepFailure>;
}

export function buildReport(state: RunState, finishedAt: Date): Report {
  const steps: StepRecord[] = [];
  const checks: Check[] = [];
  const objectives: ObjectiveResult[] = [];
  const resources: ResourceRecord[] = [];
  const failures: Report['failures'] = [];

  const collect = (
    prefix: string,
    stepOutputs: Record<string, StepOutput<unknown>> | undefined,
    stepFailures: Record<string, StepFailure> | undefined,
  ) => {
    for (const [stepName, output] of Object.entries(stepOutputs ?? {})) {
      steps.push({ ...output.step, name: prefix + stepName });
      checks.push(...(output.checks ?? []));
      objectives.push(...(output.objectives ?? []));
      for (const resource of output.resources ?? []) upsertResource(resources, resource);
    }
    for (const [stepName, failure] of Object.entries(stepFailures ?? {})) {
      const { error, message } = describeFailure(failure);
      failures.push({ step: prefix + stepName, error, message });
      steps.push({
        name: prefix + stepName,
        status: 'failed',
        startedAt: null,
        finishedAt: null,
        actions: [],
        error: `${error}: ${message}`,
      });
    }
  };
  collect('', state.steps, state.failures);
  for (const item of [...(state.items ?? []), ...(state.rotations ?? [])]) collect(`${item.item}: `, item.steps, item.failures);

  steps.sort((a, b) => (a.startedAt ?? '\uffff').localeCompare(b.startedAt ?? '\uffff'));
  const startedAt = state.run.startedAt;
  const status = failures.length > 0 ? 'failed' : 'succeeded';
  const report: Report = {
    scenario: state.run.scenario,
    executionId: state.run.executionId,
    executionName: state.run.executionName,
    trigger: state.run.trigger,
    dryRun: state.run.dryRun,
    status,
    startedAt,
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.max(0, Math.round((finishedAt.getTime() - Date.parse(startedAt)) / 1000)),
    steps,
    checks,
    objectives,
    resources,
    failures,
    summary: '',
  };
  if (state.run.scenario === 'region-failover') {
    const extra = regionFailoverReport(state);
    report.regionFailover = extra.section;
    report.objectives.push(...extra.objectives);
    if (extra.failback) report.failback = extra.failback;
  }
  if (state.run.scenario === 'security-incident') {
    const section = securityIncidentReport(state);
    if (section) report.securityIncident = section;
  }
  report.summary = summarise(report);
  return report;
}

// A later step's view of a resource (e.g. "deleted") replaces the earlier one ("created").
function upsertResource(resources: ResourceRecord[], resource: ResourceRecord): void {
  const at = resources.findIndex((r) => r.kind === resource.kind && r.id === resource.id && r.region === resource.region);
  if (at >= 0) resources[at] = resource;
  else resources.push(resource);
}

/** Step Functions hands a Catch `{Error, Cause}`; a Lambda's Cause is JSON with errorMessage. */
export function describeFailure(failure: StepFailure): { error: string; message: string } {
  let message = failure.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // Not JSON: a States.* error's Cause is plain text already.
  }
  return { error: failure.Error, message };
}

function summarise(report: Report): string {
  const failedChecks = report.checks.filter((c) => !c.passed);
  const missed = report.objectives.filter((o) => o.met === false);
  const parts = [
    `${report.scenario}${report.dryRun ? ' (dry run)' : ''} ${report.status}`,
    `${report.checks.length - failedChecks.length}/${report.checks.length} checks passed`,
  ];
  if (report.objectives.length > 0) parts.push(`${report.objectives.length - missed.length}/${report.objectives.length} objectives met`);
  if (report.failures.length > 0) parts.push(`failed at ${report.failures.map((f) => f.step).join(', ')}`);
  // A run that stopped before its first change says so: the on-call engineer has nothing to undo.
  if (report.regionFailover?.criticalPath?.branch) parts.push(`critical path: ${report.regionFailover.criticalPath.branch} branch (${report.regionFailover.criticalPath.branchDurationSeconds ?? '?'} s)`);
  if (report.regionFailover?.dataLoss) parts.push(`data-loss window ${report.regionFailover.dataLoss.minutes} min (RPO ${report.regionFailover.dataLoss.rpoMinutes} min)`);
  if (report.regionFailover?.dns) parts.push(`DNS ${report.regionFailover.dns.modes.join('+')} mode${report.regionFailover.dns.warnings.length ? ' (with a warning)' : ''}`);
  if (report.scenario === 'region-failover' && report.status === 'failed' && !report.steps.some((s) => s.name === 'MoveDns' && s.status === 'succeeded')) parts.push('DNS untouched');
  if (report.securityIncident) parts.push(...summariseSecurityIncident(report.securityIncident));
  if ((report.scenario === 'database-recovery' || report.scenario === 'cluster-failover' || report.scenario === 'region-failover' || report.scenario === 'security-incident') && report.failures.length > 0 && !report.dryRun && !report.steps.some((s) => s.actions.some((a) => a.performed))) parts.push('nothing was changed');
  return parts.join('; ');
}

/**
 * The Markdown form: the summary paragraph (findings first), the timeline chart (a Mermaid gantt, and
 * a link to the SVG stored beside the report when `svgName` is given), the run's facts, the scenario's
 * own section, failures, checks, objectives, the recovery validation checklist (recovery scenarios),
 * the timeline table and the resources.
 *
 * @param svgName The SVG's file name (`<key>.svg` without its folder: the link is relative to the Markdown).
 */
export function renderMarkdown(report: Report, svgName?: string): string {
  const lines: string[] = [];
  const cell = (value: unknown) => String(value ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  lines.push(`# ${report.scenario}: ${report.status.toUpperCase()}${report.dryRun ? ' (DRY RUN: no changes made)' : ''}`);
  lines.push('', summaryParagraph(report), '');
  const timeline = buildTimeline(report);
  if (timeline.bars.length > 0) {
    lines.push('## Timeline chart', '', ...renderGantt(timeline));
    const rto = rtoNote(timeline);
    if (rto) lines.push('', `${rto}.`);
    if (svgName) lines.push('', `The same chart as an image: [${svgName}](${encodeURI(svgName)})`);
    lines.push('');
  }
  lines.push(`- Execution: \`${report.executionId}\``);
  lines.push(`- Trigger: ${report.trigger}`);
  lines.push(`- Started: ${report.startedAt}; finished: ${report.finishedAt} (${report.durationSeconds} s)`);
  lines.push(`- Summary: ${report.summary}`);
  if (report.regionFailover) lines.push(...renderRegionFailover(report.regionFailover, report.failback ?? null));
  if (report.securityIncident) lines.push(...renderSecurityIncident(report.securityIncident));
  if (report.failures.length > 0) {
    lines.push('', '## Failures', '');
    for (const f of report.failures) lines.push(`- **${f.step}**: ${f.error}: ${f.message}`);
  }
  if (report.checks.length > 0) {
    lines.push('', '## Checks', '', '| Result | Check | Resource | Measured | Target | Message |', '|---|---|---|---|---|---|');
    for (const c of report.checks) {
      lines.push(`| ${c.passed ? 'PASS' : 'FAIL'} | ${cell(c.name)} | ${cell(c.resource)} | ${cell(c.measured)} | ${cell(c.target)} | ${cell(c.message)} |`);
    }
  }
  if (report.objectives.length > 0) {
    lines.push('', '## Objectives', '', '| Component | RTO (min) | Measured RTO | RPO (min) | Measured RPO | Met | Note |', '|---|---|---|---|---|---|---|');
    for (const o of report.objectives) {
      const met = o.met === null ? 'not measured' : o.met ? 'yes' : 'NO';
      lines.push(
        `| ${cell(o.component)} | ${o.rtoMinutes} | ${cell(formatMinutes(o.measuredRtoMinutes))} | ${o.rpoMinutes} | ${cell(formatMinutes(o.measuredRpoMinutes))} | ${met} | ${cell(o.note)} |`,
      );
    }
  }
  const checklist = validationChecklist(report);
  if (checklist) lines.push(...renderChecklist(checklist, report.dryRun));
  lines.push('', '## Timeline', '', '| Step | Status | Started | Finished | What happened | Actions |', '|---|---|---|---|---|---|');
  for (const s of report.steps) {
    const actions = s.actions
      .map((a) => `${a.performed ? '' : '[not performed] '}${a.description} (${a.service}:${a.operation})`)
      .join('; ');
    lines.push(`| ${cell(s.name)} | ${s.status} | ${s.startedAt ?? ''} | ${s.finishedAt ?? ''} | ${cell(s.error ?? s.detail)} | ${cell(actions)} |`);
  }
  if (report.resources.length > 0) {
    lines.push('', '## Resources', '', '| Kind | Id | Region | Still present | Note |', '|---|---|---|---|---|');
    for (const r of report.resources) lines.push(`| ${cell(r.kind)} | ${cell(r.id)} | ${r.region} | ${r.kept ? 'yes' : 'no'} | ${cell(r.note)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

function formatMinutes(minutes: number | null): string {
  return minutes === null ? 'n/a' : minutes.toFixed(1);
}

export { reportKey } from './report-key.js';

export async function storeReport(
  s3: S3Client,
  bucket: string,
  prefix: string,
  report: Report,
): Promise<{ json: string; markdown: string; svg: string; html: string }> {
  const base = reportKey(prefix, report);
  const json = `${base}.json`;
  const markdown = `${base}.md`;
  const svg = `${base}.svg`;
  const html = `${base}.html`;
  const svgName = svg.slice(svg.lastIndexOf('/') + 1);
  const markdownText = renderMarkdown(report, svgName);
  // Same key on a re-run of the same execution: a retried report step overwrites, never duplicates.
  await awsCall('s3:PutObject', `s3://${bucket}/${json}`, () =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: json, Body: JSON.stringify(report, null, 2), ContentType: 'application/json' })),
  );
  await awsCall('s3:PutObject', `s3://${bucket}/${markdown}`, () =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: markdown, Body: markdownText, ContentType: 'text/markdown; charset=utf-8' })),
  );
  await awsCall('s3:PutObject', `s3://${bucket}/${svg}`, () =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: svg, Body: renderTimelineSvg(buildTimeline(report)), ContentType: 'image/svg+xml' })),
  );
  await awsCall('s3:PutObject', `s3://${bucket}/${html}`, () =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: html,
        Body: renderReportHtml(markdownText, `${report.scenario}: ${report.status}${report.dryRun ? ' (dry run)' : ''}`, svgName),
        ContentType: 'text/html; charset=utf-8',
      }),
    ),
  );
  return { json: `s3://${bucket}/${json}`, markdown: `s3://${bucket}/${markdown}`, svg: `s3://${bucket}/${svg}`, html: `s3://${bucket}/${html}` };
}

/**
 * True when a person should be told: the run failed, a check failed, or a recovery changed something
 * (the people handling the incident need to know what was done). A missed objective alone does not
 * page: some are structural (4-hourly snapshot copies can never meet a 15-minute RPO in the recovery
 * region) and would page every run; they are in the report and the RpoAdherence metric instead.
 */
export function needsAttention(report: Report): boolean {
  const changedSomething = report.steps.some((s) => s.actions.some((a) => a.performed));
  const isRecovery = report.scenario !== 'backup-verification' && report.scenario !== 'restore-test';
  return report.status === 'failed' || report.checks.some((c) => !c.passed) || (isRecovery && changedSomething);
}

export function notificationText(report: Report, location: string): { subject: string; message: string } {
  const failedChecks = report.checks.filter((c) => !c.passed);
  const missed = report.objectives.filter((o) => o.met === false);
  const lines = [report.summary, ''];
  for (const f of report.failures) lines.push(`FAILED STEP ${f.step}: ${f.error}: ${f.message}`);
  for (const c of failedChecks) lines.push(`FAILED CHECK ${c.name} on ${c.resource}: ${c.message}`);
  for (const o of missed) lines.push(`MISSED OBJECTIVE ${o.component}: ${o.note}`);
  lines.push('', `Report: ${location}`, `Execution: ${report.executionId}`);
  // SNS subjects are limited to 100 printable ASCII characters.
  const subject = `[frontier-dr] ${report.scenario} ${report.status}${failedChecks.length ? `, ${failedChecks.length} check(s) failed` : ''}${report.dryRun ? ' (dry run)' : ''}`
    .replace(/[^\x20-\x7e]/g, '')
    .slice(0, 100);
  return { subject, message: lines.join('\n') };
}

/** Where a report goes: the reports bucket (recovery region), the metrics emitter and the log. */
export interface ReportSinks {
  s3: S3Client;
  bucket: string;
  /** Key prefix; `reports` and `reports/` both mean the folder. */
  prefix: string;
  metrics: Metrics;
  logger: Pick<Logger, 'info'>;
}

/** The PublishReport state's output: the NeedsAttention choice and the NotifyOnCall state read it. */
export interface PublishedReport {
  status: 'succeeded' | 'failed';
  summary: string;
  /** `s3://bucket/key` of each form. */
  location: { json: string; markdown: string; svg: string; html: string; index: string };
  needsAttention: boolean;
  /** The alert text, for the next state to send when `needsAttention`. */
  notification: { subject: string; message: string };
}

/**
 * PublishReport: builds the run's report from its state (buildReport), stores it as JSON, Markdown, its
 * timeline SVG and an HTML rendering (storeReport: same keys on a retry, so a retried step overwrites), adds it to the
 * bucket's `<prefix>index.html` (updateReportIndex: a conditional write), then emits the run's metrics
 * (recordRunMetrics: EMF lines, none for a dry run) and logs one `run finished` line. Metrics come
 * after the store, so a store that fails and is retried never counts the run twice.
 *
 * AWS: s3:PutObject (four report objects: JSON, Markdown, SVG, HTML; then the index), s3:GetObject (the index). Throws AwsTransientError (throttling, 5xx, timeouts), AwsAccessDenied,
 * ResourceNotFound (no such bucket), as storeReport; nothing is emitted or logged then.
 *
 * @param finishedAt When the run finished (the report's end time; its duration is in seconds).
 */
export async function publishReport(state: RunState, sinks: ReportSinks, finishedAt: Date): Promise<PublishedReport> {
  const report = buildReport(state, finishedAt);
  const stored = await storeReport(sinks.s3, sinks.bucket, sinks.prefix, report);
  const index = await updateReportIndex(sinks.s3, sinks.bucket, sinks.prefix, indexEntry(report, reportKey(sinks.prefix, report)));
  const location = { ...stored, index: index.location };
  recordRunMetrics(sinks.metrics, report);
  sinks.logger.info('run finished', { scenario: report.scenario, status: report.status, summary: report.summary, report: location.json });
  return {
    status: report.status,
    summary: report.summary,
    location,
    needsAttention: needsAttention(report),
    notification: notificationText(report, location.markdown),
  };
}
