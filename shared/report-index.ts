// The HTML index of recent reports in the reports bucket (`<prefix>index.html`): one row per run,
// newest first, linking its HTML rendering, Markdown, JSON and timeline SVG. The index carries its own entries as a
// JSON block, so each PublishReport reads it, adds its run and writes it back with a conditional
// write (If-Match the ETag it read, If-None-Match * when there was none): two runs reporting at once
// cannot lose each other's row, the one that loses the race reads again and retries.
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AwsTransientError, awsCall } from './errors.js';
import type { Report } from './report.js';

/** Rows kept in the index (older runs stay in the bucket, reachable by their key). */
export const INDEX_ENTRIES = 200;
/** Conditional writes tried before giving up with AwsTransientError (the state's Retry then runs it again). */
export const INDEX_ATTEMPTS = 5;
/** The id of the JSON block holding the entries inside the page. */
const DATA_ID = 'frontier-dr-reports';

export interface IndexEntry {
  /** The report's key without extension (`<prefix><scenario>/yyyy/mm/dd/<time>-<execution>`). */
  key: string;
  scenario: string;
  executionName: string;
  status: 'succeeded' | 'failed';
  dryRun: boolean;
  trigger: string;
  /** UTC ISO. */
  startedAt: string;
  durationSeconds: number;
  summary: string;
  /** False when the run stored no SVG (kept for entries of older reports). */
  svg: boolean;
  /** False (or absent) when the run stored no HTML rendering (entries of older reports). */
  html?: boolean;
}

export function indexEntry(report: Report, key: string): IndexEntry {
  return {
    key,
    scenario: report.scenario,
    executionName: report.executionName,
    status: report.status,
    dryRun: report.dryRun,
    trigger: report.trigger,
    startedAt: report.startedAt,
    durationSeconds: report.durationSeconds,
    summary: report.summary,
    svg: true,
    html: true,
  };
}

/** `reports` and `reports/` both mean the folder; '' is the bucket's root. */
export function indexKey(prefix: string): string {
  return `${prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix}index.html`;
}

/** `entries` with `entry` in (replacing a row of the same key: a retried report step), newest first, at most INDEX_ENTRIES. */
export function mergeEntries(entries: IndexEntry[], entry: IndexEntry): IndexEntry[] {
  return [entry, ...entries.filter((e) => e.key !== entry.key)].sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.key.localeCompare(b.key)).slice(0, INDEX_ENTRIES);
}

function isEntry(value: unknown): value is IndexEntry {
  if (!value || typeof value !== 'object') return false;
  const e = value as Record<string, unknown>;
  return typeof e.key === 'string' && typeof e.scenario === 'string' && typeof e.startedAt === 'string' && (e.status === 'succeeded' || e.status === 'failed');
}

/**
 * The entries of an index page this module wrote. A page without the block, or with one that does not
 * parse (edited by hand), gives []: the index restarts from this run rather than failing the report.
 */
export function readEntries(html: string): IndexEntry[] {
  const match = new RegExp(`<script type="application/json" id="${DATA_ID}">([\\s\\S]*?)</script>`).exec(html);
  if (!match?.[1]) return [];
  try {
    const parsed: unknown = JSON.parse(match[1]);
    return Array.isArray(parsed) ? parsed.filter(isEntry) : [];
  } catch {
    return [];
  }
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
// Inside <script>: no `<`, `>` or `&` at all, so neither `</script>` in a summary nor an XML parser can break it.
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

/**
 * The page: a table (time, scenario, status, trigger, length, summary, links) and the entries as
 * JSON. Links are relative to the index, so the page works wherever the folder is served from. Written
 * as well-formed XHTML-compatible HTML (every element closed, attributes quoted).
 *
 * @param folder The index's folder (`reports/`), stripped from the entries' keys to make the links.
 */
export function renderIndexHtml(entries: IndexEntry[], folder: string): string {
  const href = (key: string, ext: string) => escapeHtml(`${key.startsWith(folder) ? key.slice(folder.length) : key}.${ext}`);
  const rows = entries.map((e) => {
    const status = `${e.status}${e.dryRun ? ' (dry run)' : ''}`;
    const links = [...(e.html ? [`<a href="${href(e.key, 'html')}">report</a>`] : []), `<a href="${href(e.key, 'md')}">Markdown</a>`, `<a href="${href(e.key, 'json')}">JSON</a>`, ...(e.svg ? [`<a href="${href(e.key, 'svg')}">timeline</a>`] : [])].join(' · ');
    return `<tr class="${e.status}"><td>${escapeHtml(e.startedAt)}</td><td>${escapeHtml(e.scenario)}</td><td>${escapeHtml(status)}</td><td>${escapeHtml(e.trigger)}</td><td>${e.durationSeconds} s</td><td>${escapeHtml(e.summary)}</td><td>${links}</td></tr>`;
  });
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8"/>',
    '<title>frontier-dr: recent reports</title>',
    '<style>body{font-family:Helvetica,Arial,sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}tr.failed td:nth-child(3){color:#c62828;font-weight:bold}</style>',
    '</head>',
    '<body>',
    '<h1>frontier-dr: recent reports</h1>',
    `<p>The ${INDEX_ENTRIES} most recent runs, newest first (times UTC). Every report is kept in the bucket under its scenario and date.</p>`,
    '<table>',
    '<thead><tr><th>Started</th><th>Scenario</th><th>Status</th><th>Trigger</th><th>Length</th><th>Summary</th><th>Report</th></tr></thead>',
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table>',
    `<script type="application/json" id="${DATA_ID}">${scriptJson(entries)}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** True for S3's answer to a failed If-Match / If-None-Match (412), or a conditional write that raced another (409). */
function lostTheRace(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'PreconditionFailed' || e?.name === 'ConditionalRequestConflict' || e?.$metadata?.httpStatusCode === 412 || e?.$metadata?.httpStatusCode === 409;
}

/**
 * Adds one run to `<prefix>index.html`: GetObject (the entries and the ETag; NoSuchKey = no index
 * yet), then PutObject conditional on that ETag (If-Match) or on there being none (If-None-Match *).
 * A write that lost a race (412/409) reads again, up to INDEX_ATTEMPTS times.
 *
 * AWS: s3:GetObject and s3:PutObject on the index key (a missing key reads as NoSuchKey only with
 * s3:ListBucket on that prefix; without it S3 answers AccessDenied). Throws AwsTransientError,
 * AwsAccessDenied, ResourceNotFound (no such bucket) as awsCall classifies them, and AwsTransientError
 * after INDEX_ATTEMPTS lost races too (contention passes: PublishReport's Retry runs the step again).
 *
 * @returns `s3://bucket/key` of the index and how many attempts the write took.
 */
export async function updateReportIndex(s3: S3Client, bucket: string, prefix: string, entry: IndexEntry): Promise<{ location: string; attempts: number }> {
  const key = indexKey(prefix);
  const folder = key.slice(0, -'index.html'.length);
  const where = `s3://${bucket}/${key}`;
  for (let attempt = 1; attempt <= INDEX_ATTEMPTS; attempt++) {
    const current = await awsCall('s3:GetObject', where, async () => {
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        // An answer without a body or an ETag (S3 always sends both) reads as no index: the write is
        // then conditional on there being none, so it cannot replace an index it did not read.
        if (!got?.Body || !got.ETag) return null;
        return { html: await got.Body.transformToString('utf-8'), etag: got.ETag };
      } catch (error) {
        if (error instanceof NoSuchKey) return null;
        throw error;
      }
    });
    const entries = mergeEntries(current ? readEntries(current.html) : [], entry);
    const written = await awsCall('s3:PutObject', where, async () => {
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: renderIndexHtml(entries, folder),
            ContentType: 'text/html; charset=utf-8',
            ...(current ? { IfMatch: current.etag } : { IfNoneMatch: '*' }),
          }),
        );
        return true;
      } catch (error) {
        if (lostTheRace(error)) return false;
        throw error;
      }
    });
    if (written) return { location: where, attempts: attempt };
  }
  throw new AwsTransientError(`${where}: another run changed the index ${INDEX_ATTEMPTS} times while this one was adding its row; the report itself is stored.`);
}
