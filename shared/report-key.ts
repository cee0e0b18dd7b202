// Where a report is stored: apart from report.ts so that what only names a report's key (the readiness
// report) does not bundle the report's renderers (echarts and marked register at import).

/** S3 keys sort by time within a scenario: `<prefix><scenario>/<yyyy>/<mm>/<dd>/<start>-<execution>`. */
export function reportKey(prefix: string, report: { scenario: string; startedAt: string; executionName: string }): string {
  const [date = '', time = ''] = report.startedAt.split('T');
  const [yyyy, mm, dd] = date.split('-');
  const stamp = time.replace(/[:.]/g, '').replace('Z', '');
  const name = report.executionName.replace(/[^A-Za-z0-9._-]/g, '_');
  // `reports` and `reports/` both mean the folder.
  const folder = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
  return `${folder}${report.scenario}/${yyyy}/${mm}/${dd}/${stamp}-${name}`;
}
