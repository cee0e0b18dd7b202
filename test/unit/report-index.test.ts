// The HTML index of recent reports: its rows, its well-formedness (a real XML parser), and the
// read-modify-conditional-write that keeps two runs reporting at once from losing each other's row.
import { AccessDenied, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessDenied, AwsTransientError } from '../../shared/errors.js';
import { INDEX_ATTEMPTS, INDEX_ENTRIES, indexKey, mergeEntries, readEntries, renderIndexHtml, updateReportIndex, type IndexEntry } from '../../shared/report-index.js';
import { parseXmlRoot } from '../support/xml-well-formed.js';

const BUCKET = 'frontier-prod-dr-reports';
const s3 = new S3Client({ region: 'us-east-1', maxAttempts: 1 });
const s3Mock = mockClient(s3);

function entry(startedAt: string, overrides: Partial<IndexEntry> = {}): IndexEntry {
  const stamp = startedAt.replace(/[-:.TZ]/g, '');
  return {
    key: `reports/restore-test/2026/11/25/${stamp}-run`,
    scenario: 'restore-test',
    executionName: `run-${stamp}`,
    status: 'succeeded',
    dryRun: false,
    trigger: 'schedule',
    startedAt,
    durationSeconds: 42,
    summary: 'restore-test succeeded; 1/1 checks passed',
    svg: true,
    html: true,
    ...overrides,
  };
}

// The part of GetObject's streaming Body the index reads.
const body = (text: string) => ({ transformToString: async () => text });
const preconditionFailed = () => new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'At least one of the pre-conditions you specified did not hold' });

beforeEach(() => s3Mock.reset());

describe('the index page', () => {
  it('is well-formed, lists runs newest first with relative links, and escapes what it shows', () => {
    const entries = mergeEntries([entry('2026-11-25T06:00:00.000Z')], entry('2026-11-26T06:00:00.000Z', { status: 'failed', summary: 'failed at <Repoint> & "more" </script>', dryRun: true }));

    const html = renderIndexHtml(entries, 'reports/');

    expect(parseXmlRoot(html)).toBe('html');
    expect(html.indexOf('2026-11-26T06:00:00.000Z')).toBeLessThan(html.indexOf('2026-11-25T06:00:00.000Z'));
    expect(html).toContain('<a href="restore-test/2026/11/25/20261126060000000-run.html">report</a>');
    expect(html).toContain('<a href="restore-test/2026/11/25/20261126060000000-run.md">Markdown</a>');
    expect(html).toContain('<a href="restore-test/2026/11/25/20261126060000000-run.json">JSON</a>');
    expect(html).toContain('<a href="restore-test/2026/11/25/20261126060000000-run.svg">timeline</a>');
    expect(html).toContain('failed at &lt;Repoint&gt; &amp; &quot;more&quot; &lt;/script&gt;');
    expect(html).toContain('<td>failed (dry run)</td>');
    expect(readEntries(html)).toEqual(entries);
  });

  it('keeps one row per report key (a retried report step) and at most INDEX_ENTRIES rows', () => {
    const many = Array.from({ length: INDEX_ENTRIES + 5 }, (_, i) => entry(new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString()));
    const merged = many.reduce<IndexEntry[]>((list, e) => mergeEntries(list, e), []);
    const again = mergeEntries(merged, { ...merged[0]!, status: 'failed' });

    expect(merged).toHaveLength(INDEX_ENTRIES);
    expect(merged[0]!.startedAt).toBe(many[many.length - 1]!.startedAt);
    expect(again).toHaveLength(INDEX_ENTRIES);
    expect(again[0]!.status).toBe('failed');
  });

  it('reads no entries from a page without its data block or with one that does not parse', () => {
    expect(readEntries('<html><body>edited by hand</body></html>')).toEqual([]);
    expect(readEntries('<script type="application/json" id="frontier-dr-reports">[{</script>')).toEqual([]);
  });

  it.each([
    ['reports/', 'reports/index.html'],
    ['reports', 'reports/index.html'],
    ['', 'index.html'],
  ])('lives at the prefix %j as %s', (prefix, key) => {
    expect(indexKey(prefix)).toBe(key);
  });
});

describe('updateReportIndex', () => {
  it('creates the index when there is none, only if nobody else created it meanwhile (If-None-Match *)', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }));
    s3Mock.on(PutObjectCommand).resolves({});

    const result = await updateReportIndex(s3, BUCKET, 'reports/', entry('2026-11-25T06:00:00.000Z'));

    expect(result).toEqual({ location: `s3://${BUCKET}/reports/index.html`, attempts: 1 });
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ Bucket: BUCKET, Key: 'reports/index.html', IfNoneMatch: '*' });
  });

  it("keeps both rows when another run wrote the index between this run's read and write", async () => {
    const mine = entry('2026-11-25T06:00:00.000Z');
    const theirs = entry('2026-11-25T06:00:01.000Z', { scenario: 'backup-verification', key: 'reports/backup-verification/2026/11/25/x' });
    const older = entry('2026-11-24T06:00:00.000Z', { key: 'reports/restore-test/2026/11/24/y' });
    // First read: the index as it was; the other run then writes (the ETag changes), so this run's
    // conditional write fails; the second read sees the other run's row.
    s3Mock
      .on(GetObjectCommand)
      .resolvesOnce({ Body: body(renderIndexHtml([older], 'reports/')), ETag: '"v1"' } as never)
      .resolvesOnce({ Body: body(renderIndexHtml([theirs, older], 'reports/')), ETag: '"v2"' } as never);
    s3Mock.on(PutObjectCommand, { IfMatch: '"v1"' }).rejects(preconditionFailed()).on(PutObjectCommand, { IfMatch: '"v2"' }).resolves({});

    const result = await updateReportIndex(s3, BUCKET, 'reports/', mine);

    expect(result.attempts).toBe(2);
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.IfMatch)).toEqual(['"v1"', '"v2"']);
    expect(readEntries(puts[1]!.Body as string).map((e) => e.key)).toEqual([theirs.key, mine.key, older.key]);
  });

  it(`gives up after ${INDEX_ATTEMPTS} lost races with AwsTransientError (the state's Retry runs it again)`, async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(''), ETag: '"v1"' } as never);
    s3Mock.on(PutObjectCommand).rejects(preconditionFailed());

    await expect(updateReportIndex(s3, BUCKET, 'reports/', entry('2026-11-25T06:00:00.000Z'))).rejects.toThrow(AwsTransientError);
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, INDEX_ATTEMPTS);
  });

  const timeout = () => Object.assign(new Error('connect ETIMEDOUT 52.216.1.1:443'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
  it.each([
    ['throttling', () => new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' }), AwsTransientError],
    ['a 5xx', () => new S3ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'internal error' }), AwsTransientError],
    ['a timeout', timeout, AwsTransientError],
    ['AccessDenied', () => new AccessDenied({ $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }), AwsAccessDenied],
  ] as const)('fails with a named error on %s from the conditional s3:PutObject, without retrying it as a lost race', async (_label, fault, expected) => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(''), ETag: '"v1"' } as never);
    s3Mock.on(PutObjectCommand).rejects(fault());

    const failure = updateReportIndex(s3, BUCKET, 'reports/', entry('2026-11-25T06:00:00.000Z'));

    await expect(failure).rejects.toThrow(expected);
    await expect(failure).rejects.toThrow(`s3:PutObject on s3://${BUCKET}/reports/index.html`);
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
  });
});
