// The readiness state machine's last step: the verdict per scenario as a report (JSON + Markdown in the
// reports bucket), a metric per scenario, and an alert on the alert topic when a scenario's readiness
// changes. The previous verdict is an item per scenario in the recovery lock table: no new table for
// eight small items, and the table already has point-in-time recovery and encryption; the key
// `readiness#<scenario>` cannot collide with a lock's `<kind>/<name>` targets (shared/names.ts).
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import { awsCall } from './errors.js';
import { publishAlert } from './notify.js';
import type { ReadinessCheck } from './readiness-check.js';
import type { ReadinessRun, ScenarioReadiness } from './readiness-run.js';
import { reportKey } from './report-key.js';
import type { ScenarioName } from './scenarios.js';
import type { StepFailure } from './steps.js';

/** One item of the readiness Map: an evaluation, or (its Catch) the error that stopped it. */
export type ReadinessItem = ScenarioReadiness | { scenario: ScenarioName; failure: StepFailure };

/** What the Map hands PublishReadiness. */
export interface ReadinessState {
  run: ReadinessRun;
  items?: ReadinessItem[];
}

/** How a scenario's readiness moved since the previous evaluation recorded. */
export type ReadinessChange = 'became-not-ready' | 'not-ready-first-seen' | 'ready-again' | 'still-ready' | 'still-not-ready' | 'ready-first-seen';

export interface ScenarioVerdict {
  scenario: ScenarioName;
  ready: boolean;
  /** The failed checks' messages, each `check on resource: message`. */
  reasons: string[];
  checks: ReadinessCheck[];
  change: ReadinessChange;
  /** The previous evaluation's time (UTC ISO), or null: the first. */
  previousEvaluatedAt: string | null;
}

export interface ReadinessReport {
  scenario: 'readiness';
  executionId: string;
  executionName: string;
  trigger: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  summary: string;
  scenarios: ScenarioVerdict[];
  unsupported: { scenario: ScenarioName; why: string }[];
}

export interface ReadinessSinks {
  s3: S3Client;
  bucket: string;
  prefix: string;
  ddb: DynamoDBClient;
  /** The recovery lock table. */
  table: string;
  sns: SNSClient;
  topicArn: string;
  metrics: Metrics;
  logger: Pick<Logger, 'info'>;
}

/** PublishReadiness's output: the verdicts, where the report is, and what was announced. */
export interface PublishedReadiness {
  ready: ScenarioName[];
  notReady: { scenario: ScenarioName; reasons: string[] }[];
  location: { json: string; markdown: string };
  /** The scenarios whose change was announced, or [] (nothing changed). */
  announced: { scenario: ScenarioName; change: ReadinessChange }[];
  alertMessageId: string | null;
}

/** The lock table key of a scenario's last verdict. */
export function readinessStateKey(scenario: string): string {
  return `readiness#${scenario}`;
}

/** A Map item as a verdict: an evaluation that failed is a scenario not ready, with the error as its reason. */
export function itemReadiness(item: ReadinessItem, at: string): ScenarioReadiness {
  if ('failure' in item) {
    const cause = item.failure.Cause ? `: ${describeCause(item.failure.Cause)}` : '';
    return {
      scenario: item.scenario,
      ready: false,
      evaluatedAt: at,
      durationMs: 0,
      checks: [{ scenario: item.scenario, name: 'evaluation', resource: item.scenario, passed: false, message: `the evaluation could not run: ${item.failure.Error}${cause}` }],
    };
  }
  return item;
}

/** A Lambda error's Cause is JSON ({errorType, errorMessage, trace}): its message only, never the trace. */
function describeCause(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage.slice(0, 500);
  } catch {
    // not JSON: a States.* error's plain text
  }
  return cause.slice(0, 500);
}

/** The change from `previous` (null: never evaluated) to `ready`; only the changes people are told about alert. */
export function readinessChange(previous: boolean | null, ready: boolean): ReadinessChange {
  if (previous === null) return ready ? 'ready-first-seen' : 'not-ready-first-seen';
  if (previous === ready) return ready ? 'still-ready' : 'still-not-ready';
  return ready ? 'ready-again' : 'became-not-ready';
}

/** Announced: a scenario turning not ready (also the first time one is seen not ready), and its return to ready, each once. */
export function isAnnounced(change: ReadinessChange): boolean {
  return change === 'became-not-ready' || change === 'not-ready-first-seen' || change === 'ready-again';
}

async function readPrevious(sinks: ReadinessSinks, scenario: ScenarioName): Promise<{ ready: boolean; evaluatedAt: string } | null> {
  const key = readinessStateKey(scenario);
  const answer = await awsCall('dynamodb:GetItem', `${sinks.table} ${key}`, () =>
    sinks.ddb.send(new GetItemCommand({ TableName: sinks.table, Key: { target: { S: key } }, ConsistentRead: true })),
  );
  const item = answer.Item;
  if (!item?.ready || item.ready.BOOL === undefined || !item.evaluatedAt?.S) return null;
  return { ready: item.ready.BOOL, evaluatedAt: item.evaluatedAt.S };
}

/**
 * Records this evaluation's verdict unless a later evaluation already recorded one (two evaluations
 * overlapping: a manual one during the scheduled one): a conditional write on the evaluation time, so
 * an older verdict never overwrites a newer one. Returns false when it was not written.
 */
async function recordVerdict(sinks: ReadinessSinks, run: ReadinessRun, verdict: ScenarioVerdict): Promise<boolean> {
  const key = readinessStateKey(verdict.scenario);
  try {
    await awsCall('dynamodb:PutItem', `${sinks.table} ${key}`, () =>
      sinks.ddb.send(
        new PutItemCommand({
          TableName: sinks.table,
          Item: {
            target: { S: key },
            ready: { BOOL: verdict.ready },
            evaluatedAt: { S: run.startedAt },
            executionId: { S: run.executionId },
            failedChecks: { N: String(verdict.reasons.length) },
            // The first reasons only: an item stays small, the report has them all.
            reasons: { S: verdict.reasons.slice(0, 5).join('\n').slice(0, 2000) },
          },
          ConditionExpression: 'attribute_not_exists(#target) OR #evaluatedAt <= :evaluatedAt',
          ExpressionAttributeNames: { '#target': 'target', '#evaluatedAt': 'evaluatedAt' },
          ExpressionAttributeValues: { ':evaluatedAt': { S: run.startedAt } },
        }),
      ),
    );
    return true;
  } catch (error) {
    // awsCall names the failure; the condition's own answer is its cause.
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof ConditionalCheckFailedException || (cause as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

function reasonsOf(checks: readonly ReadinessCheck[]): string[] {
  return checks.filter((c) => !c.passed).map((c) => `${c.name} on ${c.resource}: ${c.message}`);
}

function summarise(verdicts: readonly ScenarioVerdict[], unsupported: ReadinessReport['unsupported']): string {
  const notReady = verdicts.filter((v) => !v.ready);
  const parts = [
    notReady.length === 0
      ? `all ${verdicts.length} scenario(s) ready`
      : `${notReady.length} of ${verdicts.length} scenario(s) NOT READY (${notReady.map((v) => `${v.scenario}: ${v.reasons.length} reason(s)`).join(', ')})`,
  ];
  if (unsupported.length > 0) parts.push(`not configured: ${unsupported.map((u) => u.scenario).join(', ')}`);
  return parts.join('; ');
}

/** The report for people: not-ready scenarios first, each with its reasons, then every check. */
export function renderReadinessMarkdown(report: ReadinessReport): string {
  const cell = (value: unknown) => String(value ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# readiness: ${report.scenarios.every((s) => s.ready) ? 'ALL READY' : 'NOT READY'}`,
    '',
    `- Execution: \`${report.executionId}\``,
    `- Trigger: ${report.trigger}`,
    `- Evaluated: ${report.startedAt} (${report.durationSeconds} s)`,
    `- Summary: ${report.summary}`,
    '',
    '## Scenarios',
    '',
    '| Scenario | Ready | Change | Reasons |',
    '|---|---|---|---|',
  ];
  const ordered = [...report.scenarios].sort((a, b) => Number(a.ready) - Number(b.ready));
  for (const v of ordered) lines.push(`| ${v.scenario} | ${v.ready ? 'yes' : '**NO**'} | ${v.change} | ${cell(v.reasons.join('; ') || '-')} |`);
  for (const u of report.unsupported) lines.push(`| ${u.scenario} | not configured | - | ${cell(u.why)} |`);
  lines.push('', '## Checks', '', '| Result | Scenario | Check | Resource | Found |', '|---|---|---|---|---|');
  for (const v of ordered) {
    for (const c of v.checks) lines.push(`| ${c.passed ? 'PASS' : 'FAIL'} | ${v.scenario} | ${cell(c.name)} | ${cell(c.resource)} | ${cell(c.message)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

/** The alert for the announced changes: one message, not-ready first; SNS subjects are at most 100 ASCII characters. */
export function readinessAlert(report: ReadinessReport, announced: readonly ScenarioVerdict[], location: string): { subject: string; message: string } {
  const down = announced.filter((v) => !v.ready);
  const back = announced.filter((v) => v.ready);
  const subject = (
    down.length > 0
      ? `[frontier-dr] readiness: ${down.map((v) => v.scenario).join(', ')} NOT READY`
      : `[frontier-dr] readiness: ${back.map((v) => v.scenario).join(', ')} ready again`
  )
    .replace(/[^\x20-\x7e]/g, '')
    .slice(0, 100);
  const lines: string[] = [report.summary, ''];
  for (const v of down) {
    lines.push(`NOT READY ${v.scenario}${v.change === 'not-ready-first-seen' ? ' (first evaluation)' : v.previousEvaluatedAt ? ` (ready at ${v.previousEvaluatedAt})` : ''}:`);
    for (const reason of v.reasons) lines.push(`  - ${reason}`);
  }
  for (const v of back) lines.push(`READY AGAIN ${v.scenario}${v.previousEvaluatedAt ? ` (not ready at ${v.previousEvaluatedAt})` : ''}`);
  lines.push('', `Report: ${location}`, `Execution: ${report.executionId}`);
  return { subject, message: lines.join('\n') };
}

/**
 * PublishReadiness: reads each scenario's previous verdict (dynamodb:GetItem `readiness#<scenario>`
 * in the recovery lock table), stores the report (s3:PutObject JSON and Markdown under
 * `<prefix>readiness/<yyyy>/<mm>/<dd>/...`), emits `ScenarioReady` (1/0) and `ReadinessChecksFailed`
 * per scenario (namespace FrontierDR, dimension Scenario, EMF), publishes one alert (sns:Publish) when
 * a scenario turned not ready, was first seen not ready, or is ready again, then records each verdict
 * (dynamodb:PutItem, conditional on being the newest).
 *
 * The alert goes before the verdicts are recorded: a step retried after a failed write alerts again
 * (at least once) rather than never. A retry after the writes finds nothing changed and stays quiet.
 * Throws AwsTransientError, AwsAccessDenied, ResourceNotFound (awsCall) for the state's Retry.
 */
export async function publishReadiness(state: ReadinessState, sinks: ReadinessSinks, finishedAt: Date): Promise<PublishedReadiness> {
  const { run } = state;
  const evaluations = (state.items ?? []).map((item) => itemReadiness(item, run.startedAt));
  const previous = await Promise.all(evaluations.map((e) => readPrevious(sinks, e.scenario)));
  const verdicts: ScenarioVerdict[] = evaluations.map((e, i) => ({
    scenario: e.scenario,
    ready: e.ready,
    reasons: reasonsOf(e.checks),
    checks: e.checks,
    change: readinessChange(previous[i]?.ready ?? null, e.ready),
    previousEvaluatedAt: previous[i]?.evaluatedAt ?? null,
  }));
  const report: ReadinessReport = {
    scenario: 'readiness',
    executionId: run.executionId,
    executionName: run.executionName,
    trigger: run.trigger,
    startedAt: run.startedAt,
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.max(0, Math.round((finishedAt.getTime() - Date.parse(run.startedAt)) / 1000)),
    summary: summarise(verdicts, run.unsupported),
    scenarios: verdicts,
    unsupported: run.unsupported,
  };
  const base = reportKey(sinks.prefix, report);
  const location = { json: `s3://${sinks.bucket}/${base}.json`, markdown: `s3://${sinks.bucket}/${base}.md` };
  await awsCall('s3:PutObject', location.json, () =>
    sinks.s3.send(new PutObjectCommand({ Bucket: sinks.bucket, Key: `${base}.json`, Body: JSON.stringify(report, null, 2), ContentType: 'application/json' })),
  );
  await awsCall('s3:PutObject', location.markdown, () =>
    sinks.s3.send(new PutObjectCommand({ Bucket: sinks.bucket, Key: `${base}.md`, Body: renderReadinessMarkdown(report), ContentType: 'text/markdown; charset=utf-8' })),
  );
  for (const v of verdicts) {
    const ready = sinks.metrics.singleMetric();
    ready.addDimension('Scenario', v.scenario);
    ready.addMetric('ScenarioReady', MetricUnit.Count, v.ready ? 1 : 0);
    const failed = sinks.metrics.singleMetric();
    failed.addDimension('Scenario', v.scenario);
    failed.addMetric('ReadinessChecksFailed', MetricUnit.Count, v.reasons.length);
  }
  const announced = verdicts.filter((v) => isAnnounced(v.change));
  let alertMessageId: string | null = null;
  if (announced.length > 0) {
    const alert = readinessAlert(report, announced, location.markdown);
    alertMessageId = await publishAlert(sinks.sns, sinks.topicArn, alert.subject, alert.message);
  }
  for (const v of verdicts) await recordVerdict(sinks, run, v);
  sinks.logger.info('readiness evaluated', { summary: report.summary, report: location.json, announced: announced.map((v) => `${v.scenario} ${v.change}`) });
  return {
    ready: verdicts.filter((v) => v.ready).map((v) => v.scenario),
    notReady: verdicts.filter((v) => !v.ready).map((v) => ({ scenario: v.scenario, reasons: v.reasons })),
    location,
    announced: announced.map((v) => ({ scenario: v.scenario, change: v.change })),
    alertMessageId,
  };
}
