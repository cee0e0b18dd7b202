// The report's timeline chart: the bars and the RTO line from a report, the Mermaid gantt held to the
// grammar rules it relies on, and the SVG parsed by a real XML parser.
import { buildReport, renderMarkdown, type RunState } from '../../shared/report.js';
import { buildTimeline, renderGantt, renderTimelineSvg, rtoOnChart, type Timeline } from '../../shared/report-timeline.js';
import { parseXmlRoot } from '../support/xml-well-formed.js';
import { at, objectiveResult, runContext, RUN_STARTED, stepOutput } from './report-fixtures.js';

const FINISHED = new Date(Date.parse(RUN_STARTED) + 25 * 60_000);

/** A database recovery of 25 minutes: two top-level steps, a Map item with a failed step, RTO 30 min. */
function recoveryRun(): RunState {
  const failed = stepOutput(12, 13);
  failed.step.status = 'failed';
  return {
    run: runContext({ scenario: 'database-recovery' }),
    steps: { StartRun: stepOutput(0, 0.1), StartDatabaseRestore: stepOutput(1, 2, { objectives: [objectiveResult('Database', { rtoMinutes: 30 })] }) },
    items: [{ item: 'frontier-prod', steps: { 'CheckDatabaseRestore': stepOutput(2, 20), 'Repoint: <api> & "db"': failed } }],
  };
}

describe('buildTimeline', () => {
  it('draws every timed step from the run start, in start order, grouped by its Map item, with the tightest RTO', () => {
    const report = buildReport(recoveryRun(), FINISHED);
    report.objectives.push(objectiveResult('API Services', { rtoMinutes: 15 }));

    const timeline = buildTimeline(report);

    expect(timeline.bars.map((b) => [b.group, b.step, b.startMs, b.endMs, b.status])).toEqual([
      ['', 'StartRun', 0, 6_000, 'succeeded'],
      ['', 'StartDatabaseRestore', 60_000, 120_000, 'succeeded'],
      ['frontier-prod', 'CheckDatabaseRestore', 120_000, 1_200_000, 'succeeded'],
      ['frontier-prod', 'Repoint: <api> & "db"', 720_000, 780_000, 'failed'],
    ]);
    expect(timeline.runMs).toBe(25 * 60_000);
    expect(timeline.rto).toEqual({ minutes: 15, component: 'API Services' });
  });

  it('leaves out a step caught before it ran (no times) and has no RTO without objectives', () => {
    const report = buildReport({ run: runContext(), steps: { StartRun: stepOutput(0, 1) }, failures: { StartRestore: { Error: 'AwsAccessDenied', Cause: 'denied' } } }, FINISHED);

    const timeline = buildTimeline(report);

    expect(timeline.bars.map((b) => b.step)).toEqual(['StartRun']);
    expect(timeline.rto).toBeNull();
  });

  it('puts the RTO line on the chart only within 5 times the run length', () => {
    const base: Timeline = { scenario: 's', startedAt: RUN_STARTED, runMs: 6 * 60_000, bars: [], rto: { minutes: 30, component: 'Database' } };
    expect(rtoOnChart(base)).toBe(true);
    expect(rtoOnChart({ ...base, runMs: 5 * 60_000 })).toBe(false);
    expect(rtoOnChart({ ...base, rto: null })).toBe(false);
  });
});

// The rules of Mermaid's gantt grammar the chart relies on (https://mermaid.js.org/syntax/gantt.html):
// `dateFormat x` reads Unix milliseconds; a task line is `<name> :<tags,> <start>, <end>` where the
// name ends at the first `:` and `;`/`#` would end the statement or open an entity; tags are among
// done, active, crit, milestone; a section line is `section <name>`.
const TASK = /^ {4}([^:;#\n]+?) :((?:crit|done|active|milestone), )?(\d{13}), (\d{13})$/;
const SECTION = /^ {4}section [^:;#\n]+$/;

function holdToGanttRules(lines: string[]): { tasks: { name: string; tag: string | undefined; start: number; end: number }[]; sections: string[] } {
  expect(lines[0]).toBe('```mermaid');
  expect(lines[1]).toBe('gantt');
  expect(lines).toContain('    dateFormat x');
  expect(lines[lines.length - 1]).toBe('```');
  const tasks: { name: string; tag: string | undefined; start: number; end: number }[] = [];
  const sections: string[] = [];
  for (const line of lines.slice(2, -1)) {
    if (/^ {4}(title|dateFormat|axisFormat) /.test(line)) continue;
    if (line.startsWith('    section ')) {
      expect(line).toMatch(SECTION);
      sections.push(line.slice(12));
      continue;
    }
    const match = TASK.exec(line);
    if (!match) throw new Error(`not a gantt task line: ${JSON.stringify(line)}`);
    const task = { name: match[1]!, tag: match[2]?.slice(0, -2), start: Number(match[3]), end: Number(match[4]) };
    expect(task.end).toBeGreaterThanOrEqual(task.start);
    tasks.push(task);
  }
  return { tasks, sections };
}

describe('renderGantt', () => {
  it('keeps to the gantt grammar: ms dates, no colon, semicolon or hash in a name, failed steps crit, one section per group', () => {
    const report = buildReport(recoveryRun(), FINISHED);

    const { tasks, sections } = holdToGanttRules(renderGantt(buildTimeline(report)));

    expect(sections).toEqual(['run', 'frontier-prod', 'objective']);
    expect(tasks.map((t) => [t.name, t.tag])).toEqual([
      ['StartRun', 'done'],
      ['StartDatabaseRestore', 'done'],
      ['CheckDatabaseRestore', 'done'],
      ['Repoint <api> & "db"', 'crit'],
      ['RTO 30 min', 'milestone'],
    ]);
    expect(tasks[0]!.start).toBe(Date.parse(RUN_STARTED));
    expect(tasks[4]!.start).toBe(Date.parse(RUN_STARTED) + 30 * 60_000);
  });

  it('leaves the RTO milestone out when it would shrink a short run to nothing', () => {
    const report = buildReport({ run: runContext({ scenario: 'cluster-failover' }), steps: { StartRun: stepOutput(0, 0.05, { objectives: [objectiveResult('API Services', { rtoMinutes: 30 })] }) } }, new Date(at(0.1)));

    const { tasks } = holdToGanttRules(renderGantt(buildTimeline(report)));

    expect(tasks.map((t) => t.name)).toEqual(['StartRun']);
  });

  it('is in the Markdown report under "Timeline chart", linking the SVG beside it', () => {
    const markdown = renderMarkdown(buildReport(recoveryRun(), FINISHED), '120000000-run.svg');

    expect(markdown).toContain('## Timeline chart\n\n```mermaid\ngantt\n');
    expect(markdown).toContain('[120000000-run.svg](120000000-run.svg)');
    expect(markdown).toContain("RTO 30 min (Database) from the run's start.");
  });
});

describe('renderTimelineSvg', () => {
  // Bars are the chart's paths filled with a status colour (the legend's icons are marked `legend`).
  const bars = (svg: string) => (svg.match(/<path [^>]*fill="#(2e7d32|c62828|9e9e9e)"[^>]*>/g) ?? []).filter((p) => p.includes('ecmeta_ssr_type="chart"'));

  it('is well-formed SVG with one bar per step in its status colour, the RTO line, and escaped names', () => {
    const svg = renderTimelineSvg(buildTimeline(buildReport(recoveryRun(), FINISHED)));

    expect(parseXmlRoot(svg)).toBe('svg');
    expect(bars(svg).map((p) => /fill="(#[0-9a-f]+)"/.exec(p)![1])).toEqual(['#2e7d32', '#2e7d32', '#2e7d32', '#c62828']);
    expect(svg).toContain('>frontier-prod: Repoint: &lt;api&gt; &amp; &quot;db&quot;</text>');
    expect(svg).toMatch(/<path [^>]*stroke="#e65100"[^>]*stroke-dasharray/);
    expect(svg).toContain('>RTO 30 min</text>');
    expect(svg).toContain('>succeeded</text>');
    expect(svg).not.toMatch(/<script|href=/);
  });

  it('says where the RTO is when it is off the chart, and draws an empty run', () => {
    const timeline: Timeline = { scenario: 'cluster-failover', startedAt: RUN_STARTED, runMs: 3_000, bars: [], rto: { minutes: 30, component: 'API Services' } };

    const svg = renderTimelineSvg(timeline);

    expect(parseXmlRoot(svg)).toBe('svg');
    expect(svg).toContain('RTO 30 min (API Services) is off this chart: the run took 3.0 s');
    expect(svg).toContain('no timed step');
    expect(bars(svg)).toEqual([]);
    expect(svg).not.toContain('stroke="#e65100"');
  });

  it('fails the parse of broken XML (the check above is a real one)', () => {
    expect(() => parseXmlRoot('<svg><rect></svg>')).toThrow(/not well-formed XML/);
    expect(() => parseXmlRoot('<svg><text>a & b</text></svg>')).toThrow(/not well-formed XML/);
  });
});
