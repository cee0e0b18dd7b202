// publishReport: the report step's one call. S3 is a client mock with its faults; the metrics emitter
// and the logger are recording fakes (the EMF lines themselves are metrics.test.ts's subject).
import { jest } from '@jest/globals';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { AccessDenied, GetObjectCommand, NoSuchBucket, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessDenied, AwsTransientError, ResourceNotFound } from '../../shared/errors.js';
import { buildReport, publishReport, renderMarkdown, type ReportSinks, type RunState } from '../../shared/report.js';
import { failedCheck, passedCheck, runContext, RUN_STARTED, stepOutput } from './report-fixtures.js';

const FINISHED = new Date(Date.parse(RUN_STARTED) + 40 * 60_000);
const BUCKET = 'frontier-prod-dr-reports';
const BASE = 'reports/restore-test/2026/11/25/060000000-weekly-2026-11-25';

const s3 = new S3Client({ region: 'us-east-1', maxAttempts: 1 });
const s3Mock = mockClient(s3);

interface Recorded {
  metrics: { dimensions: [string, string][]; name: string; value: number }[];
  logs: { message: string; fields: unknown }[];
}

function sinks(): { sinks: ReportSinks; recorded: Recorded } {
  const recorded: Recorded = { metrics: [], logs: [] };
  const metrics = {
    singleMetric: () => {
      const dimensions: [string, string][] = [];
      return {
        addDimension: (name: string, value: string) => dimensions.push([name, value]),
        addMetric: (name: string, _unit: string, value: number) => recorded.metrics.push({ dimensions, name, value }),
      };
    },
  } as unknown as Metrics;
  const logger = { info: jest.fn((message: string, fields: unknown) => recorded.logs.push({ message, fields })) } as unknown as ReportSinks['logger'];
  return { sinks: { s3, bucket: BUCKET, prefix: 'reports/', metrics, logger }, recorded };
}

const passing = (): RunState => ({
  run: runContext(),
  steps: { StartRun: stepOutput(0, 0.1), Validate: stepOutput(21, 22, { checks: [passedCheck('restore-test-query')] }) },
});
const withFailedCheck = (): RunState => ({
  run: runContext(),
  steps: { StartRun: stepOutput(0, 0.1), Validate: stepOutput(21, 22, { checks: [failedCheck('restore-test-duration')] }) },
});

beforeEach(() => {
  s3Mock.reset();
  // No index yet: the first report of the bucket creates it.
  s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }));
});

describe('publishReport', () => {
  it('stores the report as JSON, Markdown, timeline SVG and HTML, adds it to the index, emits the metrics, logs once and answers the next states', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const { sinks: to, recorded } = sinks();

    const published = await publishReport(passing(), to, FINISHED);

    const report = buildReport(passing(), FINISHED);
    const puts = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual([`${BASE}.json`, `${BASE}.md`, `${BASE}.svg`, `${BASE}.html`, 'reports/index.html']);
    expect(JSON.parse(puts[0]!.Body as string)).toEqual(report);
    expect(puts[1]!.Body).toBe(renderMarkdown(report, '060000000-weekly-2026-11-25.svg'));
    expect(puts[2]!.ContentType).toBe('image/svg+xml');
    expect(puts[3]!.ContentType).toBe('text/html; charset=utf-8');
    expect(puts[4]).toMatchObject({ IfNoneMatch: '*', ContentType: 'text/html; charset=utf-8' });
    expect(puts[4]!.Body).toContain('href="restore-test/2026/11/25/060000000-weekly-2026-11-25.html"');
    expect(puts[4]!.Body).toContain('href="restore-test/2026/11/25/060000000-weekly-2026-11-25.md"');
    expect(published).toEqual({
      status: 'succeeded',
      summary: report.summary,
      location: { json: `s3://${BUCKET}/${BASE}.json`, markdown: `s3://${BUCKET}/${BASE}.md`, svg: `s3://${BUCKET}/${BASE}.svg`, html: `s3://${BUCKET}/${BASE}.html`, index: `s3://${BUCKET}/reports/index.html` },
      needsAttention: false,
      notification: { subject: '[frontier-dr] restore-test succeeded', message: expect.stringContaining(`Report: s3://${BUCKET}/${BASE}.md`) },
    });
    expect(recorded.metrics.map((m) => [m.name, m.value])).toEqual(expect.arrayContaining([['RunSucceeded', 1], ['DrTestSuccess', 1]]));
    expect(recorded.logs).toEqual([
      { message: 'run finished', fields: { scenario: 'restore-test', status: 'succeeded', summary: report.summary, report: `s3://${BUCKET}/${BASE}.json` } },
    ]);
  });

  it('asks for attention, with the failed check in the alert, when a check failed', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const { sinks: to, recorded } = sinks();

    const published = await publishReport(withFailedCheck(), to, FINISHED);

    expect(published.needsAttention).toBe(true);
    expect(published.notification.subject).toBe('[frontier-dr] restore-test succeeded, 1 check(s) failed');
    expect(published.notification.message).toContain('FAILED CHECK restore-test-duration');
    expect(recorded.metrics.find((m) => m.name === 'DrTestSuccess')?.value).toBe(0);
  });

  it('emits no metric for a dry run, but still stores and logs the report', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const { sinks: to, recorded } = sinks();

    const published = await publishReport({ ...passing(), run: runContext({ dryRun: true }) }, to, FINISHED);

    expect(published.summary).toContain('(dry run)');
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 5);
    expect(recorded.metrics).toEqual([]);
    expect(recorded.logs).toHaveLength(1);
  });

  const timeout = () => Object.assign(new Error('connect ETIMEDOUT 52.216.1.1:443'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
  it.each([
    ['throttling', () => new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' }), AwsTransientError],
    ['a 5xx', () => new S3ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'We encountered an internal error.' }), AwsTransientError],
    ['a timeout', timeout, AwsTransientError],
    ['AccessDenied', () => new AccessDenied({ $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }), AwsAccessDenied],
    ['NoSuchBucket', () => new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'The specified bucket does not exist' }), ResourceNotFound],
  ] as const)('fails with a named error on %s from s3:PutObject, emitting and logging nothing (a retry counts the run once)', async (_label, fault, expected) => {
    s3Mock.on(PutObjectCommand).rejects(fault());
    const { sinks: to, recorded } = sinks();

    const failure = publishReport(withFailedCheck(), to, FINISHED);

    await expect(failure).rejects.toThrow(expected);
    await expect(failure).rejects.toThrow(`s3:PutObject on s3://${BUCKET}/${BASE}.json`);
    expect(recorded.metrics).toEqual([]);
    expect(recorded.logs).toEqual([]);
  });

  it.each([
    ['throttling', () => new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' }), AwsTransientError],
    ['a timeout', timeout, AwsTransientError],
    ['AccessDenied (no s3:GetObject on the index)', () => new AccessDenied({ $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }), AwsAccessDenied],
  ] as const)('fails with a named error on %s reading the index, after the report is stored, emitting nothing', async (_label, fault, expected) => {
    s3Mock.on(PutObjectCommand).resolves({});
    s3Mock.on(GetObjectCommand).rejects(fault());
    const { sinks: to, recorded } = sinks();

    const failure = publishReport(passing(), to, FINISHED);

    await expect(failure).rejects.toThrow(expected);
    await expect(failure).rejects.toThrow(`s3:GetObject on s3://${BUCKET}/reports/index.html`);
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toContain(`${BASE}.json`);
    expect(recorded.metrics).toEqual([]);
  });
});
