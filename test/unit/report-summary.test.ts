// The summary paragraph at the top of the Markdown report (findings first) and the plan's recovery
// validation checklist ticked from the run's checks.
import { buildReport, renderMarkdown, type Report, type RunState } from '../../shared/report.js';
import { summaryParagraph, formatDuration } from '../../shared/report-summary.js';
import { CHECKLIST_RULES, renderChecklist, validationChecklist } from '../../shared/validation-checklist.js';
import type { Action } from '../../shared/steps.js';
import { failedCheck, objectiveResult, passedCheck, runContext, RUN_STARTED, scratchResource, stepOutput } from './report-fixtures.js';

const FINISHED = new Date(Date.parse(RUN_STARTED) + 42 * 60_000);
const action = (description: string, performed = true): Action => ({ description, service: 'rds', operation: 'RestoreDBInstanceToPointInTime', parameters: {}, performed });

function recovery(overrides: Partial<RunState> = {}): Report {
  return buildReport(
    {
      run: runContext({ scenario: 'database-recovery', trigger: 'alarm' }),
      steps: {
        StartRun: stepOutput(0, 0.1),
        StartDatabaseRestore: stepOutput(1, 2, { actions: [action('restore frontier-prod to 05:57')], resources: [scratchResource(true, 'restored instance')] }),
        RunHealthChecks: stepOutput(40, 41, {
          checks: [passedCheck('api-health'), failedCheck('database-select-1', { resource: 'db:5432/frontier', message: 'connect ECONNREFUSED' })],
          objectives: [objectiveResult('Database', { rtoMinutes: 30, measuredRtoMinutes: 41, met: false })],
        }),
      },
      failures: { RepointApplication: { Error: 'KubernetesUnreachable', Cause: JSON.stringify({ errorMessage: 'no answer from the API server' }) } },
      ...overrides,
    },
    FINISHED,
  );
}

describe('summaryParagraph', () => {
  it('puts findings first: failed steps, then failed checks, then missed objectives, then what was done, then the run', () => {
    const text = summaryParagraph(recovery());

    const order = ['**FAILED: 1 step failed, 1 check failed, 1 objective missed.**', 'Failed: RepointApplication (KubernetesUnreachable: no answer from the API server)', 'Failed checks: database-select-1 on db:5432/frontier (connect ECONNREFUSED)', 'Missed objectives: Database (RTO 41 min against 30)', 'Done: 1 change: StartDatabaseRestore: restore frontier-prod to 05:57', 'Left in place: rds:db-instance', '1 of 2 checks passed', 'database-recovery started at 2026-11-25T06:00:00.000Z (trigger: alarm), ran 42 min'];
    let from = 0;
    for (const part of order) {
      const at = text.indexOf(part, from);
      expect([part, at]).toEqual([part, expect.any(Number)]);
      expect(at).toBeGreaterThanOrEqual(from);
      from = at + part.length;
    }
    expect(text).not.toContain('\n');
  });

  it('says there is nothing to act on for a clean run, and what a dry run would have done', () => {
    const clean = buildReport(
      { run: runContext({ dryRun: true }), steps: { StartRestore: stepOutput(0, 1, { actions: [action('restore a scratch instance', false)], checks: [passedCheck('restore-test-query')] }) } },
      FINISHED,
    );

    const text = summaryParagraph(clean);

    expect(text.startsWith('**Succeeded (dry run), nothing to act on.**')).toBe(true);
    expect(text).toContain('Would have done: 1 change: StartRestore: restore a scratch instance.');
  });

  it('names at most three of a kind and counts the rest', () => {
    const checks = ['a', 'b', 'c', 'd', 'e'].map((n) => failedCheck(n));
    const text = summaryParagraph(buildReport({ run: runContext(), steps: { Verify: stepOutput(0, 1, { checks }) } }, FINISHED));

    expect(text).toContain('5 checks failed');
    expect(text).toMatch(/Failed checks: a on .*; b on .*; c on .*; and 2 more\./);
  });

  it("names a failed check that is the scenario's reason to act as the reason, not as a finding", () => {
    const report = buildReport(
      { run: runContext({ scenario: 'cluster-failover' }), steps: { AssessPrimaryCluster: stepOutput(0, 1, { checks: [failedCheck('primary-cluster-health', { message: '1 of 3 nodes Ready' })] }) } },
      FINISHED,
    );

    const text = summaryParagraph(report);

    expect(text.startsWith('**Succeeded')).toBe(true);
    expect(text).toContain('Reason to act: primary-cluster-health');
  });

  it('is the first paragraph of the Markdown, under the title', () => {
    const report = recovery();
    expect(renderMarkdown(report).split('\n').slice(0, 3)).toEqual(['# database-recovery: FAILED', '', summaryParagraph(report)]);
  });

  it.each([
    [12.4, '12 s'],
    [245, '4 min 5 s'],
    [3600, '1 h'],
    [3780, '1 h 3 min'],
  ])('formats %s s as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('validationChecklist', () => {
  it("has the plan's ten items in its order", () => {
    expect(CHECKLIST_RULES.map((r) => r.item)).toEqual([
      'All services are healthy and responding',
      'Database integrity verified',
      'Application functionality tested',
      'Performance metrics within normal ranges',
      'Security controls functioning',
      'Monitoring and alerting operational',
      'Backup systems running',
      'Customer communication sent (if applicable)',
      'Post-incident review scheduled',
      'Documentation updated',
    ]);
  });

  it('ticks an item whose checks all passed, fails one with a failed check, leaves uncovered and manual items open', () => {
    const items = validationChecklist(recovery())!;

    expect(items.map((i) => i.state)).toEqual(['done', 'failed', 'to do', 'to do', 'to do', 'to do', 'not checked', 'to do', 'to do', 'to do']);
    expect(items[0]!.evidence).toContain('api-health on frontier-prod in us-east-1: passed');
    expect(items[1]!.evidence).toContain('database-select-1 on db:5432/frontier: FAILED (connect ECONNREFUSED)');
  });

  it('ticks backup systems from the backup checks, and fails services when Redis did not answer', () => {
    const items = validationChecklist({ scenario: 'region-failover', checks: [passedCheck('api-health'), failedCheck('redis-ping'), passedCheck('newest-snapshot-age'), passedCheck('recovery-region-copy')] })!;

    expect(items[0]!.state).toBe('failed');
    expect(items[6]!.state).toBe('done');
  });

  it.each(['backup-verification', 'restore-test'])('is not part of a %s report (not a recovery)', (scenario) => {
    expect(validationChecklist({ scenario, checks: [passedCheck('api-health')] })).toBeNull();
    expect(renderMarkdown(buildReport({ run: runContext({ scenario: scenario as 'restore-test' }), steps: {} }, FINISHED))).not.toContain('Recovery validation checklist');
  });

  it('renders as a GitHub task list: [x] only for done, the state in words otherwise, and says a dry run recovered nothing', () => {
    const lines = renderChecklist(validationChecklist(recovery())!, true);

    expect(lines).toContain('## Recovery validation checklist');
    expect(lines.some((l) => l.startsWith('A dry run recovered nothing'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('- [x] '))).toEqual([expect.stringMatching(/^- \[x\] All services are healthy and responding: /)]);
    expect(lines).toContainEqual(expect.stringMatching(/^- \[ \] \*\*Database integrity verified: FAILED\*\*: /));
    expect(lines).toContainEqual(expect.stringMatching(/^- \[ \] Backup systems running \(not checked by this run\): start backup-verification/));
    expect(lines).toContainEqual('- [ ] Post-incident review scheduled (to do by hand): schedule the post-incident review within 24 hours');
  });
});
