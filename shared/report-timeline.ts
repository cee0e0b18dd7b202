// The report's timeline as a picture: every timed step as a bar from its start to its end, grouped by
// the Map item or Parallel branch it ran in, against the RTO line (the tightest RTO of the run's
// objectives, counted from the run's start). Two forms from one model: a Mermaid `gantt` block inside
// the Markdown (GitHub renders it) and a standalone SVG stored beside the report (`<key>.svg`).
//
// The SVG is drawn by echarts (only the bar chart, its components and the SVG renderer, through
// `echarts/core`, to keep publishReport's bundle small: README, "Charts, summary and checklist", has
// the figures). Pure: built from the report alone.
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
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

const COLOURS = { succeeded: '#2e7d32', failed: '#c62828', skipped: '#9e9e9e' } as const;
const RTO_COLOUR = '#e65100';

echarts.use([BarChart, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, SVGRenderer]);

/**
 * A standalone SVG drawn by echarts (server-side, no DOM: `renderToSVGString`; no script, no external
 * resource): one row per bar labelled `group: step`, each bar a stack of a transparent offset (its
 * start) and its length, coloured by status and labelled with its length; a time axis in seconds or
 * minutes from the run's start; the RTO as a dashed markLine when it fits (else the note under the
 * title says where it is); a legend. Sizes in px.
 */
export function renderTimelineSvg(timeline: Timeline): string {
  const rows = Math.max(timeline.bars.length, 1);
  const width = 900;
  const height = 110 + rows * 22;
  const showRto = rtoOnChart(timeline) && timeline.rto !== null;
  const rtoMs = showRto && timeline.rto ? timeline.rto.minutes * 60_000 : 0;
  // Minutes on the axis once the chart spans more than two minutes, else seconds.
  const unitMs = Math.max(timeline.runMs, rtoMs) > 120_000 ? 60_000 : 1000;
  const unit = unitMs === 60_000 ? 'min' : 's';
  const value = (ms: number) => Number((ms / unitMs).toFixed(3));
  const length = (b: TimelineBar) => { const ms = b.endMs - b.startMs; return ms >= 120_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`; };
  const label = (b: TimelineBar) => (b.group ? `${b.group}: ${b.step}` : b.step);
  const note = [rtoNote(timeline), timeline.bars.length === 0 ? 'no timed step' : null].filter(Boolean).join('; ');
  const statuses = Object.keys(COLOURS) as TimelineBar['status'][];
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily: 'Helvetica, Arial, sans-serif' },
      title: { text: `${timeline.scenario}: steps from the run's start (${timeline.startedAt})`, subtext: note, left: 10, top: 6, textStyle: { fontSize: 15 }, subtextStyle: { color: '#555555' } },
      legend: { data: statuses, bottom: 6, left: 300 },
      grid: { left: 300, right: 40, top: 64, bottom: 64 },
      xAxis: {
        type: 'value',
        min: 0,
        max: (extent: { max: number }) => Math.max(extent.max, value(rtoMs), value(Math.max(timeline.runMs, 1))),
        axisLabel: { formatter: (v: number) => `${v} ${unit}` },
        splitLine: { lineStyle: { color: '#e0e0e0' } },
      },
      yAxis: {
        type: 'category',
        inverse: true,
        data: timeline.bars.map(label),
        axisLabel: { width: 285, overflow: 'truncate', color: '#222222' },
        axisTick: { show: false },
      },
      series: [
        // The bar's start: a transparent segment the status segment stacks on.
        {
          name: 'start',
          type: 'bar',
          stack: 'step',
          silent: true,
          itemStyle: { color: 'transparent' },
          data: timeline.bars.map((b) => value(b.startMs)),
          ...(showRto && timeline.rto
            ? {
                markLine: {
                  silent: true,
                  symbol: 'none',
                  lineStyle: { color: RTO_COLOUR, type: 'dashed', width: 2 },
                  label: { formatter: `RTO ${timeline.rto.minutes} min`, position: 'end', color: RTO_COLOUR },
                  data: [{ xAxis: value(rtoMs) }],
                },
              }
            : {}),
        },
        ...statuses.map((status) => ({
          name: status,
          type: 'bar' as const,
          stack: 'step',
          barMinHeight: 2,
          barCategoryGap: '30%',
          itemStyle: { color: COLOURS[status] },
          label: { show: true, position: 'right' as const, fontSize: 10, color: '#555555', formatter: (p: { dataIndex: number }) => length(timeline.bars[p.dataIndex]!) },
          data: timeline.bars.map((b) => (b.status === status ? value(b.endMs - b.startMs) : '-')),
        })),
      ],
    });
    return `${chart.renderToSVGString()}\n`;
  } finally {
    chart.dispose();
  }
}
