// The report's timeline as a picture: every timed step as a bar from its start to its end, grouped by
// the Map item or Parallel branch it ran in, against the RTO line (the tightest RTO of the run's
// objectives, counted from the run's start). Two forms from one model: a Mermaid `gantt` block inside
// the Markdown (GitHub renders it) and a standalone SVG stored beside the report (`<key>.svg`).
//
// The SVG is drawn here rather than with a charting library: the one measured (echarts 6 through
// `echarts/core`, bar chart + SVG renderer, `renderToSVGString`) adds about 516 KB to publishReport's
// bundle (401 -> 917 KB) and about 40 ms to its cold start, for a picture of labelled rectangles
// (README, "Charts, summary and checklist", has the figures). Pure: built from the report alone.
import type { Report } from './report.js';

export interface TimelineBar {
  /** Map item or Parallel branch (`database`, `secret frontier-db`), or '' for the run's own steps. */
  group: string;
  /** The step's state name. */
  step: string;
  status: 'succeeded' | 'failed' | 'skipped';
  /** Milliseconds from the run's start. */
  startMs: number;
  endMs: number;
}

export interface Timeline {
  scenario: string;
  /** UTC ISO: the run's start, time zero of every bar. */
  startedAt: string;
  /** Milliseconds from the start to the run's end. */
  runMs: number;
  bars: TimelineBar[];
  /** The tightest RTO among the run's objectives, or null when the run measured none. */
  rto: { minutes: number; component: string } | null;
}

/**
 * The bars of the report's timed steps (a step caught before it ran has no times and is left out: it
 * is in the Failures section), in start order, and the RTO the objectives name.
 */
export function buildTimeline(report: Pick<Report, 'scenario' | 'startedAt' | 'finishedAt' | 'steps' | 'objectives'>): Timeline {
  const zero = Date.parse(report.startedAt);
  const bars: TimelineBar[] = [];
  for (const s of report.steps) {
    if (!s.startedAt || !s.finishedAt) continue;
    const split = s.name.indexOf(': ');
    const startMs = Math.max(0, Date.parse(s.startedAt) - zero);
    bars.push({
      group: split >= 0 ? s.name.slice(0, split) : '',
      step: split >= 0 ? s.name.slice(split + 2) : s.name,
      status: s.status,
      startMs,
      endMs: Math.max(startMs, Date.parse(s.finishedAt) - zero),
    });
  }
  bars.sort((a, b) => a.startMs - b.startMs);
  const tightest = [...report.objectives].sort((a, b) => a.rtoMinutes - b.rtoMinutes)[0];
  const runMs = Math.max(0, Date.parse(report.finishedAt) - zero, ...bars.map((b) => b.endMs));
  return { scenario: report.scenario, startedAt: report.startedAt, runMs, bars, rto: tightest ? { minutes: tightest.rtoMinutes, component: tightest.component } : null };
}

/**
 * Whether the RTO line fits the chart: drawn when it is within 5 times the run's length, else the
 * bars of a run that took seconds would shrink to nothing against a 30-minute line; the chart then
 * says how far away the RTO is instead.
 */
export function rtoOnChart(timeline: Timeline): boolean {
  return timeline.rto !== null && timeline.rto.minutes * 60_000 <= Math.max(timeline.runMs, 1) * 5;
}

/** Where the RTO line is, in words: on the chart, or how far off it. Null when the run measured no objective. */
export function rtoNote(timeline: Timeline): string | null {
  if (!timeline.rto) return null;
  const { minutes, component } = timeline.rto;
  return rtoOnChart(timeline)
    ? `RTO ${minutes} min (${component}) from the run's start`
    : `RTO ${minutes} min (${component}) is off this chart: the run took ${(timeline.runMs / 1000).toFixed(1)} s`;
}

/**
 * Mermaid `gantt` text, relying on these rules of its grammar (test/unit/report-timeline.test.ts
 * holds them): `dateFormat x` (Unix milliseconds), so every task is `name :[crit|done, ]start, end`
 * with two integers; a task or section name has no `:`, `;` or `#` (they end a name or start a
 * comment/entity), and no line break; the RTO is a `milestone` task of length 0 at its moment.
 */
export function renderGantt(timeline: Timeline): string[] {
  const zero = Date.parse(timeline.startedAt);
  const name = (text: string) => text.replace(/[:;#]/g, ' ').replace(/\s+/g, ' ').trim() || 'step';
  const lines = ['```mermaid', 'gantt', `    title ${name(`${timeline.scenario} timeline`)}`, '    dateFormat x', '    axisFormat %H:%M:%S'];
  const groups = [...new Set(timeline.bars.map((b) => b.group))];
  for (const group of groups) {
    lines.push(`    section ${name(group || 'run')}`);
    for (const b of timeline.bars.filter((x) => x.group === group)) {
      const tag = b.status === 'failed' ? 'crit, ' : b.status === 'succeeded' ? 'done, ' : '';
      lines.push(`    ${name(b.step)} :${tag}${zero + b.startMs}, ${zero + b.endMs}`);
    }
  }
  if (timeline.rto && rtoOnChart(timeline)) {
    const at = zero + timeline.rto.minutes * 60_000;
    lines.push('    section objective', `    ${name(`RTO ${timeline.rto.minutes} min`)} :milestone, ${at}, ${at}`);
  }
  lines.push('```');
  return lines;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** A tick spacing of 1, 2 or 5 times a power of ten (ms) giving at most about 8 ticks. */
function tickStep(spanMs: number): number {
  const raw = Math.max(spanMs, 1) / 8;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power;
}

function tickLabel(ms: number, step: number): string {
  if (step < 1000) return `${(ms / 1000).toFixed(step < 100 ? 2 : 1)} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${(ms / 60_000).toFixed(ms % 60_000 === 0 ? 0 : 1)} min`;
}

const COLOURS = { succeeded: '#2e7d32', failed: '#c62828', skipped: '#9e9e9e' } as const;

/**
 * A standalone SVG (no script, no external resource): one row per bar labelled `group: step`, a time
 * axis in seconds or minutes from the run's start, the RTO as a dashed vertical line when it fits
 * (else a note under the title), a legend. Sizes in px.
 */
export function renderTimelineSvg(timeline: Timeline): string {
  const labelWidth = 300;
  const plotWidth = 560;
  const rowHeight = 20;
  const top = 56;
  const rows = Math.max(timeline.bars.length, 1);
  const height = top + rows * rowHeight + 50;
  const width = labelWidth + plotWidth + 30;
  const showRto = rtoOnChart(timeline) && timeline.rto !== null;
  const spanMs = Math.max(timeline.runMs, showRto && timeline.rto ? timeline.rto.minutes * 60_000 : 0, 1);
  const x = (ms: number) => labelWidth + (ms / spanMs) * plotWidth;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(`${timeline.scenario} timeline, started ${timeline.startedAt}`)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(`${timeline.scenario}: steps from the run's start (${timeline.startedAt})`)}</text>`,
  ];
  const note = rtoNote(timeline);
  if (note) out.push(`<text x="10" y="38" fill="#555555">${escapeXml(note)}</text>`);
  const step = tickStep(spanMs);
  const axisY = top + rows * rowHeight;
  for (let t = 0; t <= spanMs + 1e-9; t += step) {
    out.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 4}" x2="${x(t).toFixed(1)}" y2="${axisY}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${x(t).toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="#555555">${escapeXml(tickLabel(t, step))}</text>`);
  }
  timeline.bars.forEach((b, i) => {
    const y = top + i * rowHeight;
    const label = b.group ? `${b.group}: ${b.step}` : b.step;
    const barWidth = Math.max(2, x(b.endMs) - x(b.startMs));
    out.push(`<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escapeXml(label.length > 45 ? `${label.slice(0, 44)}…` : label)}</text>`);
    out.push(
      `<rect x="${x(b.startMs).toFixed(1)}" y="${y + 3}" width="${barWidth.toFixed(1)}" height="${rowHeight - 6}" fill="${COLOURS[b.status]}"><title>${escapeXml(`${label}: ${b.status}, ${((b.endMs - b.startMs) / 1000).toFixed(1)} s from ${(b.startMs / 1000).toFixed(1)} s`)}</title></rect>`,
    );
  });
  if (timeline.bars.length === 0) out.push(`<text x="${labelWidth}" y="${top + 14}" fill="#555555">no timed step</text>`);
  if (showRto && timeline.rto) {
    const rx = x(timeline.rto.minutes * 60_000).toFixed(1);
    out.push(`<line x1="${rx}" y1="${top - 8}" x2="${rx}" y2="${axisY}" stroke="#e65100" stroke-width="2" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${rx}" y="${top - 12}" text-anchor="end" fill="#e65100">${escapeXml(`RTO ${timeline.rto.minutes} min`)}</text>`);
  }
  const legendY = axisY + 36;
  let lx = labelWidth;
  for (const [status, colour] of Object.entries(COLOURS)) {
    out.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${colour}"/>`, `<text x="${lx + 16}" y="${legendY}">${status}</text>`);
    lx += 100;
  }
  out.push('</svg>', '');
  return out.join('\n');
}
