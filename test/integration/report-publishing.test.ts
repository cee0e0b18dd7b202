// publishReport (shared/report.ts) against moto's S3: the report's three objects (JSON, Markdown with
// its gantt chart, the timeline SVG) and the bucket's index.html, read back and parsed; several runs
// reporting at the same moment all end up in the index (moto answers If-Match / If-None-Match as S3).
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { emulatorClients } from '../../local/emulator-clients.js';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { forgetClients, s3Client } from '../../shared/clients.js';
import { readEntries } from '../../shared/report-index.js';
import { publishReport, type ReportSinks, type RunState } from '../../shared/report.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';
import { parseXmlRoot } from '../support/xml-well-formed.js';
import { objectiveResult, passedCheck, runContext, stepOutput, RUN_STARTED } from '../unit/report-fixtures.js';

const REGION = 'us-east-1';
const BUCKET = 'frontier-reports-it';
let moto: MotoServer;
let restoreErrorRealm: () => void = () => undefined;
const savedEndpoint = process.env.AWS_ENDPOINT_URL;

const metrics = { singleMetric: () => ({ addDimension: () => undefined, addMetric: () => undefined }) } as unknown as Metrics;
const sinks = (): ReportSinks => ({ s3: s3Client(REGION), bucket: BUCKET, prefix: 'reports/', metrics, logger: { info: () => undefined } });

function recoveryRun(executionName: string, startedAt = RUN_STARTED): RunState {
  return {
    run: runContext({ scenario: 'database-recovery', executionName, startedAt, executionId: `arn:aws:states:${REGION}:123456789012:execution:frontier-dr-it-database-recovery:${executionName}` }),
    steps: {
      StartRun: stepOutput(0, 0.1),
      StartDatabaseRestore: stepOutput(1, 2, { objectives: [objectiveResult('Database', { rtoMinutes: 30 })] }),
      RunHealthChecks: stepOutput(20, 21, { checks: [passedCheck('api-health'), passedCheck('database-select-1')] }),
    },
  };
}

async function read(uri: string): Promise<string> {
  const key = uri.replace(`s3://${BUCKET}/`, '');
  const got = await emulatorClients(moto.endpoint, REGION).s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await got.Body?.transformToString('utf-8')) ?? '';
}

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  moto = await startMoto();
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  forgetClients();
  await emulatorClients(moto.endpoint, REGION).s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 120_000);

afterAll(async () => {
  forgetClients();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
  await moto?.stop();
  restoreErrorRealm();
}, 60_000);

describe('publishReport against S3 (moto)', () => {
  it('stores the JSON, the Markdown with its chart, summary and checklist, the SVG and the HTML rendering beside it, and creates the index linking them', async () => {
    const published = await publishReport(recoveryRun('first'), sinks(), new Date(Date.parse(RUN_STARTED) + 25 * 60_000));

    const base = `s3://${BUCKET}/reports/database-recovery/2026/11/25/060000000-first`;
    expect(published.location).toEqual({ json: `${base}.json`, markdown: `${base}.md`, svg: `${base}.svg`, html: `${base}.html`, index: `s3://${BUCKET}/reports/index.html` });
    const markdown = await read(published.location.markdown);
    expect(markdown).toContain('```mermaid\ngantt\n');
    expect(markdown).toContain('[060000000-first.svg](060000000-first.svg)');
    expect(markdown.split('\n')[2]).toMatch(/^\*\*Succeeded, nothing to act on\.\*\*/);
    expect(markdown).toContain('- [x] All services are healthy and responding');
    const svg = await read(published.location.svg);
    expect(parseXmlRoot(svg)).toBe('svg');
    expect(svg).toContain('RunHealthChecks');
    const html = await read(published.location.html);
    expect(parseXmlRoot(html, { html: true })).toBe('html');
    expect(html).toContain('<img class="timeline" src="060000000-first.svg"');
    expect(html).toContain('Succeeded, nothing to act on.');
    expect(html).toContain('<h2>Recovery validation checklist</h2>');
    expect(html).not.toMatch(/<script/i);
    const index = await read(published.location.index);
    expect(parseXmlRoot(index)).toBe('html');
    expect(index).toContain('href="database-recovery/2026/11/25/060000000-first.html"');
    expect(index).toContain('href="database-recovery/2026/11/25/060000000-first.md"');
    expect(index).toContain('href="database-recovery/2026/11/25/060000000-first.json"');
  });

  it('keeps every run in the index when several report at the same moment (conditional writes)', async () => {
    const names = ['a', 'b', 'c', 'd'];

    const published = await Promise.all(names.map((name, i) => publishReport(recoveryRun(`concurrent-${name}`, new Date(Date.parse(RUN_STARTED) + (i + 1) * 60_000).toISOString()), sinks(), new Date(Date.parse(RUN_STARTED) + 30 * 60_000))));

    expect(published).toHaveLength(4);
    const entries = readEntries(await read(`s3://${BUCKET}/reports/index.html`));
    expect(entries.map((e) => e.executionName)).toEqual(['concurrent-d', 'concurrent-c', 'concurrent-b', 'concurrent-a', 'first']);
    const listed = await emulatorClients(moto.endpoint, REGION).s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'reports/' }));
    expect((listed.Contents ?? []).filter((o) => o.Key?.endsWith('.svg'))).toHaveLength(5);
    expect((listed.Contents ?? []).filter((o) => o.Key?.endsWith('.html') && !o.Key.endsWith('index.html'))).toHaveLength(5);
  });
});
