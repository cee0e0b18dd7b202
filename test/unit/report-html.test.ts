// The HTML rendering of a report: the Markdown through marked, the gantt replaced by the SVG beside
// it, well-formed enough for an XML parser (HTML's void elements aside), and no script.
import { buildReport, renderMarkdown, type RunState } from '../../shared/report.js';
import { renderReportHtml } from '../../shared/report-html.js';
import { parseXmlRoot } from '../support/xml-well-formed.js';
import { failedCheck, objectiveResult, passedCheck, runContext, RUN_STARTED, stepOutput } from './report-fixtures.js';

const FINISHED = new Date(Date.parse(RUN_STARTED) + 25 * 60_000);
const SVG = '060000000-drill.svg';

/** A database recovery with a failed health gate and a step name carrying markup, as a resource name might. */
function recoveryRun(): RunState {
  return {
    run: runContext({ scenario: 'database-recovery' }),
    steps: {
      StartRun: stepOutput(0, 0.1),
      StartDatabaseRestore: stepOutput(1, 2, { objectives: [objectiveResult('Database', { rtoMinutes: 30 })] }),
      '<script>alert(1)</script> & "db"': stepOutput(2, 20, { checks: [passedCheck('database-select-1'), failedCheck('api-health', { message: 'GET /health answered 503 <b>down</b>' })] }),
    },
  };
}

describe('renderReportHtml', () => {
  const report = buildReport(recoveryRun(), FINISHED);
  const html = renderReportHtml(renderMarkdown(report, SVG), 'database-recovery: failed', SVG);

  it('is a well-formed page (HTML void elements aside) with a stylesheet that prints, and no script', () => {
    expect(parseXmlRoot(html, { html: true })).toBe('html');
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(html).toContain('@media print');
    expect(html).not.toMatch(/<script/i);
  });

  it('holds the summary, the chart as the SVG beside it (not the gantt source), the checks and the checklist', () => {
    expect(html).toContain(`<h1>database-recovery: ${report.status.toUpperCase()}</h1>`);
    expect(html).toContain(report.summary.split(' ')[0]!);
    expect(html).toContain('<h2>Timeline chart</h2>');
    expect(html).toContain(`<img class="timeline" src="${SVG}"`);
    expect(html).not.toContain('gantt');
    expect(html).toContain('<h2>Checks</h2>');
    expect(html).toContain('<h2>Recovery validation checklist</h2>');
    expect(html).toMatch(/<input [^>]*type="checkbox"/);
  });

  it('shows markup from names and messages as text, escaped once', () => {
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;db&quot;');
    expect(html).toContain('&lt;b&gt;down&lt;/b&gt;');
    expect(html).not.toContain('&amp;amp;');
    expect(html).not.toContain('&amp;lt;');
  });

  it('keeps the gantt source as a code block when no SVG was stored', () => {
    const page = renderReportHtml(renderMarkdown(report), 'database-recovery: failed');

    expect(page).toContain('<pre><code>gantt');
    expect(parseXmlRoot(page, { html: true })).toBe('html');
  });
});
