// The HTML rendering of a report (`<key>.html`, stored beside the Markdown): the Markdown turned into
// HTML by `marked`, with the Mermaid gantt replaced by the timeline SVG stored beside it (an <img>, so
// the page and the picture are one file each and nothing is inlined twice), and a small stylesheet that
// prints well. No script: raw HTML in the Markdown (a step name like `<api>` from a resource) is shown
// as text, never passed through.
import { Marked, type Tokens } from 'marked';

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const STYLE = [
  'body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.4}',
  'table{border-collapse:collapse;margin:0.5em 0;font-size:0.9em}',
  'td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}',
  'th{background:#f3f3f3}',
  'code{font-size:0.9em}',
  'img.timeline{max-width:100%;border:1px solid #eee}',
  'ul.contains-task-list,ul:has(input){list-style:none;padding-left:1em}',
  '@media print{body{max-width:none;margin:0;font-size:10pt}a{color:inherit}table,img,tr{page-break-inside:avoid}}',
].join('\n');

/**
 * The page for one report.
 *
 * @param markdown The report's Markdown (renderMarkdown).
 * @param title The page title (scenario and status).
 * @param svgName The timeline SVG's file name beside the page, or undefined when none was stored: then
 *   the gantt block is left as its source text.
 * @returns A complete HTML document (UTF-8), with no script and no external resource but the SVG.
 */
export function renderReportHtml(markdown: string, title: string, svgName?: string): string {
  const marked = new Marked({ gfm: true, async: false });
  marked.use({
    renderer: {
      // Raw HTML in the Markdown is text here: the report carries names from AWS and Kubernetes.
      html: ({ text }: Tokens.HTML | Tokens.Tag) => escapeHtml(text),
      code: ({ text, lang }: Tokens.Code) =>
        lang === 'mermaid' && svgName
          ? `<p><img class="timeline" src="${escapeHtml(encodeURI(svgName))}" alt="Timeline chart: steps as bars from the run's start, against the RTO"/></p>\n`
          : `<pre><code>${escapeHtml(text)}</code></pre>\n`,
    },
  });
  const body = marked.parse(markdown) as string;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8"/>',
    `<title>${escapeHtml(title)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
