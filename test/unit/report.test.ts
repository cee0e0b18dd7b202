import { AccessDenied, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessDenied, AwsTransientError } from '../../shared/errors.js';
import {
  buildReport,
  describeFailure,
  needsAttention,
  notificationText,
  renderMarkdown,
  reportKey,
  storeReport,
  type Report,
  type RunState,
} from '../../shared/report.js';
import { at, failedCheck, objectiveResult, passedCheck, runContext, RUN_STARTED, scratchResource, stepOutput } from './report-fixtures.js';

const FINISHED = new Date(Date.parse(RUN_STARTED) + 40 * 60_000);

const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at startScratchRestore (file:///var/task/index.mjs:1:2)'] });

/** A restore test over two databases: one went through, the other failed to start. */
function twoDatabaseRun(): RunState {
  return {
    run: runContext({ databases: ['frontier-prod', 'frontier-orders'] }),
    steps: { StartRun: stepOutput(0, 0.1) },
    items: [
      {
        item: 'frontier-prod',
        steps: {
          StartRestore: stepOutput(1, 1.5, { resources: [scratchResource(true, 'scratch restore-test instance')] }),
          CheckRestore: stepOutput(20, 20.1),
          ValidateRestore: stepOutput(21, 22, {
            checks: [passedCheck('restore-test-query')],
            objectives: [objectiveResult('Database', { measuredRtoMinutes: 20, met: true })],
          }),
          DeleteScratchInstance: stepOutput(23, 23.2, { resources: [scratchResource(false, 'scratch instance deleted')] }),
        },
      },
      {
        item: 'frontier-orders',
        steps: { DeleteScratchInstance: stepOutput(2, 2.1, { detail: 'scratch instance frontier-orders-drtest-x: never-created' }) },
        failures: {
          StartRestore: {
            Error: 'AwsAccessDenied',
            Cause: lambdaCause('AwsAccessDenied', 'rds:RestoreDBInstanceFromDBSnapshot on frontier-orders-drtest-x in us-east-1 was denied'),
          },
        },
      },
    ],
  };
}

function report(options: Partial<Report> = {}): Report {
  const base = buildReport({ run: runContext(), steps: { StartRun: stepOutput(0, 0.1) } }, FINISHED);
  return { ...base, ...options };
}

describe('buildReport', () => {
  it('collects steps from the top level and from Map items, prefixed with the item', () => {
    // Act
    const result = buildReport(twoDatabaseRun(), FINISHED);

    // Assess
    expect(result.steps.map((s) => s.name)).toEqual([
      'StartRun',
      'frontier-prod: StartRestore',
      'frontier-orders: DeleteScratchInstance',
      'frontier-prod: CheckRestore',
      'frontier-prod: ValidateRestore',
      'frontier-prod: DeleteScratchInstance',
      // Failed steps have no times (a Catch records none) and go last.
      'frontier-orders: StartRestore',
    ]);
    expect(result.steps.find((s) => s.name === 'frontier-prod: CheckRestore')).toMatchObject({ status: 'succeeded', startedAt: at(20) });
    expect(result.checks.map((c) => c.name)).toEqual(['restore-test-query']);
    expect(result.objectives).toEqual([expect.objectContaining({ component: 'Database', measuredRtoMinutes: 20 })]);
  });

  it('records a Lambda failure with the errorMessage parsed out of its JSON Cause', () => {
    const result = buildReport(twoDatabaseRun(), FINISHED);

    expect(result.failures).toEqual([
      {
        step: 'frontier-orders: StartRestore',
        error: 'AwsAccessDenied',
        message: 'rds:RestoreDBInstanceFromDBSnapshot on frontier-orders-drtest-x in us-east-1 was denied',
      },
    ]);
    const failedStep = result.steps.find((s) => s.name === 'frontier-orders: StartRestore');
    expect(failedStep).toEqual({
      name: 'frontier-orders: StartRestore',
      status: 'failed',
      startedAt: null,
      finishedAt: null,
      actions: [],
      error: 'AwsAccessDenied: rds:RestoreDBInstanceFromDBSnapshot on frontier-orders-drtest-x in us-east-1 was denied',
    });
    // The stack trace in the Cause is not carried into the report.
    expect(JSON.stringify(result)).not.toContain('index.mjs');
  });

  it('keeps the plain-text Cause of a States.* error as it is', () => {
    const result = buildReport(
      { run: runContext(), failures: { CheckRestore: { Error: 'States.Timeout', Cause: 'Task timed out after 60.00 seconds' } } },
      FINISHED,
    );

    expect(result.failures).toEqual([{ step: 'CheckRestore', error: 'States.Timeout', message: 'Task timed out after 60.00 seconds' }]);
  });

  it.each([
    ['no Cause at all', { Error: 'States.TaskFailed' }, ''],
    ['JSON without errorMessage', { Error: 'States.Runtime', Cause: '{"detail":"x"}' }, '{"detail":"x"}'],
    ['a JSON literal', { Error: 'States.Runtime', Cause: 'null' }, 'null'],
    ['a non-string errorMessage', { Error: 'Custom', Cause: '{"errorMessage":42}' }, '{"errorMessage":42}'],
  ])('describes a failure with %s without throwing', (_label, failure, message) => {
    expect(describeFailure(failure)).toEqual({ error: failure.Error, message });
  });

  it('is failed when any step failed, and succeeded otherwise, even with failed checks', () => {
    expect(buildReport(twoDatabaseRun(), FINISHED).status).toBe('failed');

    const checksFailedOnly = buildReport(
      { run: runContext(), steps: { Verify: stepOutput(0, 1, { checks: [failedCheck('encryption'), passedCheck('retention')] }) } },
      FINISHED,
    );
    expect(checksFailedOnly.status).toBe('succeeded');
    expect(checksFailedOnly.failures).toEqual([]);

    const failedInItemOnly = buildReport({ run: runContext(), items: [{ item: 'frontier-prod', failures: { Check: { Error: 'RestoreTimedOut' } } }] }, FINISHED);
    expect(failedInItemOnly.status).toBe('failed');
  });

  it('upserts resources, so a later "deleted" replaces the earlier "created"', () => {
    const result = buildReport(twoDatabaseRun(), FINISHED);

    expect(result.resources).toEqual([scratchResource(false, 'scratch instance deleted')]);
  });

  it('keeps resources apart that differ in kind, id or region', () => {
    const one = scratchResource(true, 'a');
    const result = buildReport(
      {
        run: runContext(),
        steps: {
          A: stepOutput(0, 1, { resources: [one, { ...one, region: 'us-west-2' }, { ...one, id: 'other' }, { ...one, kind: 'rds:db-snapshot' }] }),
        },
      },
      FINISHED,
    );

    expect(result.resources).toHaveLength(4);
  });

  it('sorts steps by start time whatever order the state machine recorded them in', () => {
    const result = buildReport(
      {
        run: runContext(),
        failures: { Early: { Error: 'X', Cause: 'y' } },
        steps: { Third: stepOutput(30, 31), First: stepOutput(1, 2), Second: stepOutput(10, 12) },
      },
      FINISHED,
    );

    expect(result.steps.map((s) => s.name)).toEqual(['First', 'Second', 'Third', 'Early']);
  });

  it('measures the run and copies its context', () => {
    const result = buildReport(twoDatabaseRun(), FINISHED);

    expect(result).toMatchObject({
      scenario: 'restore-test',
      executionName: 'weekly-2026-11-25',
      trigger: 'schedule',
      dryRun: false,
      startedAt: RUN_STARTED,
      finishedAt: FINISHED.toISOString(),
      durationSeconds: 2400,
    });
    expect(result.summary).toBe('restore-test failed; 1/1 checks passed; 1/1 objectives met; failed at frontier-orders: StartRestore');
  });
});

describe('renderMarkdown', () => {
  it('escapes pipes and line breaks inside table cells', () => {
    const markdown = renderMarkdown(
      report({
        checks: [failedCheck('query', { resource: 'db|x', measured: 'got a | b', message: 'line one\nline two | more' })],
      }),
    );

    const row = markdown.split('\n').find((line) => line.startsWith('| FAIL'));
    expect(row).toBe('| FAIL | query | db\\|x | got a \\| b | ok | line one line two \\| more |');
    // Every table row has as many unescaped separators as the header.
    const unescapedPipes = (line: string) => line.replace(/\\\|/g, '').split('|').length;
    const header = markdown.split('\n').find((line) => line.startsWith('| Result'))!;
    expect(unescapedPipes(row!)).toBe(unescapedPipes(header));
  });

  it('shows the dry-run banner and marks actions that were not performed', () => {
    const dry = report({
      dryRun: true,
      steps: [
        {
          name: 'StartRestore',
          status: 'succeeded',
          startedAt: at(1),
          finishedAt: at(1),
          actions: [{ description: 'restore x to y', service: 'rds', operation: 'RestoreDBInstanceFromDBSnapshot', parameters: {}, performed: false }],
        },
      ],
    });

    const markdown = renderMarkdown(dry);

    expect(markdown.split('\n')[0]).toBe('# restore-test: SUCCEEDED (DRY RUN: no changes made)');
    expect(markdown).toContain('[not performed] restore x to y (rds:RestoreDBInstanceFromDBSnapshot)');
    expect(renderMarkdown(report()).split('\n')[0]).toBe('# restore-test: SUCCEEDED');
  });

  it('leaves out the failures, checks, objectives and resources sections when there is nothing in them', () => {
    const markdown = renderMarkdown(report());

    expect(markdown).not.toContain('## Failures');
    expect(markdown).not.toContain('## Checks');
    expect(markdown).not.toContain('## Objectives');
    expect(markdown).not.toContain('## Resources');
    expect(markdown).toContain('## Timeline');
    expect(markdown).toContain('| StartRun | succeeded |');
  });

  it('renders every section with its rows when there is content', () => {
    const markdown = renderMarkdown(buildReport(twoDatabaseRun(), FINISHED));

    expect(markdown).toContain('## Failures');
    expect(markdown).toContain('- **frontier-orders: StartRestore**: AwsAccessDenied: rds:RestoreDBInstanceFromDBSnapshot');
    expect(markdown).toContain('| PASS | restore-test-query |');
    expect(markdown).toContain('| Database | 30 | 20.0 | 15 | n/a | yes |');
    expect(markdown).toContain('| rds:db-instance | frontier-prod-drtest-0123456789 | us-east-1 | no | scratch instance deleted |');
    expect(markdown).toContain('| frontier-orders: DeleteScratchInstance | succeeded |');
    expect(markdown).toContain('scratch instance frontier-orders-drtest-x: never-created');
  });

  it.each([
    [true, 'yes'],
    [false, 'NO'],
    [null, 'not measured'],
  ])('shows an objective with met=%p as %s', (met, shown) => {
    const markdown = renderMarkdown(report({ objectives: [objectiveResult('Database', { met })] }));

    expect(markdown).toContain(`| ${shown} |`);
  });
});

describe('reportKey', () => {
  it('files the report under the scenario and the start date, with a sortable time stamp', () => {
    expect(reportKey('reports/', report())).toBe('reports/restore-test/2026/11/25/060000000-weekly-2026-11-25');
  });

  it('replaces characters of the execution name that do not belong in a key', () => {
    const key = reportKey('reports/', report({ executionName: 'drill 2026/11:25#1 (ünï)' }));

    expect(key).toBe('reports/restore-test/2026/11/25/060000000-drill_2026_11_25_1___n__');
    // The name cannot add path segments.
    expect(key.split('/')).toHaveLength(6);
  });
});

describe('notificationText', () => {
  it('keeps the subject to at most 100 printable ASCII characters, whatever the scenario text', () => {
    const long = report({ scenario: `restore-test — ünïcødé 🚨 ${'x'.repeat(200)}`, status: 'failed', dryRun: true, checks: [failedCheck('a')] });

    const { subject } = notificationText(long, 's3://bucket/key.md');

    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.startsWith('[frontier-dr] restore-test ')).toBe(true);
  });

  it('says what failed in the subject', () => {
    const { subject } = notificationText(
      report({ scenario: 'backup-verification', status: 'failed', dryRun: true, checks: [failedCheck('a'), failedCheck('b'), passedCheck('c')] }),
      'x',
    );

    expect(subject).toBe('[frontier-dr] backup-verification failed, 2 check(s) failed (dry run)');
  });

  it('lists failed steps, failed checks and missed objectives, with where the report is', () => {
    const state = twoDatabaseRun();
    state.steps!.Verify = stepOutput(0, 1, {
      checks: [failedCheck('encryption', { resource: 'frontier-prod in us-west-2', message: 'Snapshot is unencrypted.' }), passedCheck('age')],
      objectives: [objectiveResult('Database', { met: false, note: 'restore took 41 min' })],
    });
    const built = buildReport(state, FINISHED);

    const { message } = notificationText(built, 's3://frontier-prod-dr-reports/reports/x.md');

    const lines = message.split('\n');
    expect(lines[0]).toBe(built.summary);
    expect(lines).toContain(
      'FAILED STEP frontier-orders: StartRestore: AwsAccessDenied: rds:RestoreDBInstanceFromDBSnapshot on frontier-orders-drtest-x in us-east-1 was denied',
    );
    expect(lines).toContain('FAILED CHECK encryption on frontier-prod in us-west-2: Snapshot is unencrypted.');
    expect(lines).toContain('MISSED OBJECTIVE Database: restore took 41 min');
    expect(lines.filter((l) => l.startsWith('FAILED CHECK'))).toHaveLength(1);
    expect(lines).toContain('Report: s3://frontier-prod-dr-reports/reports/x.md');
    expect(lines).toContain(`Execution: ${built.executionId}`);
  });
});

describe('needsAttention', () => {
  it.each([
    ['a failed run', { status: 'failed' as const }, true],
    ['a failed check', { checks: [passedCheck('a'), failedCheck('b')] }, true],
    ['a missed objective alone', { objectives: [objectiveResult('Database', { met: false })] }, false],
    ['a clean run', { checks: [passedCheck('a')], objectives: [objectiveResult('Database')] }, false],
  ])('is %p for %s', (_label, options, expected) => {
    expect(needsAttention(report(options))).toBe(expected);
  });

  const changed = { name: 'ScaleApiOnBackup', status: 'succeeded' as const, startedAt: null, finishedAt: null, actions: [{ description: 'scale', service: 'kubernetes', operation: 'patch', parameters: {}, performed: true }] };
  it.each([
    ['a recovery that changed something', { scenario: 'cluster-failover' as const, steps: [changed] }, true],
    ['a dry-run recovery (nothing performed)', { scenario: 'cluster-failover' as const, dryRun: true, steps: [{ ...changed, actions: [{ ...changed.actions[0]!, performed: false }] }] }, false],
    ['a restore test that cleaned up after itself', { scenario: 'restore-test' as const, steps: [changed] }, false],
  ])('is %p for %s', (_label, options, expected) => {
    expect(needsAttention(report(options))).toBe(expected);
  });
});

describe('storeReport', () => {
  const s3 = new S3Client({ region: 'us-east-1', maxAttempts: 1 });
  const s3Mock = mockClient(s3);
  const BASE = 'reports/restore-test/2026/11/25/060000000-weekly-2026-11-25';

  beforeEach(() => {
    s3Mock.reset();
  });

  it('stores the JSON, the Markdown, the timeline SVG and the HTML rendering with their content types and returns where they are', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const built = buildReport(twoDatabaseRun(), FINISHED);

    const location = await storeReport(s3, 'frontier-prod-dr-reports', 'reports/', built);

    expect(location).toEqual({
      json: `s3://frontier-prod-dr-reports/${BASE}.json`,
      markdown: `s3://frontier-prod-dr-reports/${BASE}.md`,
      svg: `s3://frontier-prod-dr-reports/${BASE}.svg`,
      html: `s3://frontier-prod-dr-reports/${BASE}.html`,
    });
    const puts = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts).toHaveLength(4);
    expect(puts[0]).toMatchObject({ Bucket: 'frontier-prod-dr-reports', Key: `${BASE}.json`, ContentType: 'application/json' });
    expect(JSON.parse(puts[0]!.Body as string)).toEqual(built);
    expect(puts[1]).toMatchObject({ Bucket: 'frontier-prod-dr-reports', Key: `${BASE}.md`, ContentType: 'text/markdown; charset=utf-8' });
    expect(puts[1]!.Body).toBe(renderMarkdown(built, '060000000-weekly-2026-11-25.svg'));
    expect(puts[1]!.Body).toContain('[060000000-weekly-2026-11-25.svg](060000000-weekly-2026-11-25.svg)');
    expect(puts[2]).toMatchObject({ Bucket: 'frontier-prod-dr-reports', Key: `${BASE}.svg`, ContentType: 'image/svg+xml' });
    expect(puts[2]!.Body).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(puts[3]).toMatchObject({ Bucket: 'frontier-prod-dr-reports', Key: `${BASE}.html`, ContentType: 'text/html; charset=utf-8' });
    expect(puts[3]!.Body).toContain('<img class="timeline" src="060000000-weekly-2026-11-25.svg"');
  });

  it('writes the same keys when the report step is retried', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const built = buildReport(twoDatabaseRun(), FINISHED);

    await storeReport(s3, 'frontier-prod-dr-reports', 'reports/', built);
    await storeReport(s3, 'frontier-prod-dr-reports', 'reports/', built);

    const keys = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key);
    expect(new Set(keys)).toEqual(new Set([`${BASE}.json`, `${BASE}.md`, `${BASE}.svg`, `${BASE}.html`]));
  });

  it('turns AccessDenied into AwsAccessDenied naming the object, and stops', async () => {
    s3Mock.on(PutObjectCommand).rejects(new AccessDenied({ $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));

    const failure = storeReport(s3, 'frontier-prod-dr-reports', 'reports/', report());

    await expect(failure).rejects.toThrow(AwsAccessDenied);
    await expect(failure).rejects.toThrow(`s3:PutObject on s3://frontier-prod-dr-reports/${BASE}.json was denied`);
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
  });

  it('turns SlowDown on the Markdown object into AwsTransientError naming it', async () => {
    s3Mock
      .on(PutObjectCommand, { ContentType: 'application/json' })
      .resolves({})
      .on(PutObjectCommand, { ContentType: 'text/markdown; charset=utf-8' })
      .rejects(new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' }));

    const failure = storeReport(s3, 'frontier-prod-dr-reports', 'reports/', report());

    await expect(failure).rejects.toThrow(AwsTransientError);
    await expect(failure).rejects.toThrow(`s3:PutObject on s3://frontier-prod-dr-reports/${BASE}.md`);
  });
});
