// recordRunMetrics through a real Powertools Metrics instance: the EMF lines it prints are what
// CloudWatch turns into metrics, so the assertions read those lines.
import { jest } from '@jest/globals';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, recordRunMetrics } from '../../shared/metrics.js';
import { buildReport, type Report } from '../../shared/report.js';
import { failedCheck, objectiveResult, passedCheck, runContext, RUN_STARTED, stepOutput } from './report-fixtures.js';

interface EmittedMetric {
  namespace: string;
  name: string;
  unit: string;
  value: unknown;
  dimensions: Record<string, unknown>;
}

interface EmfLine {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

const FINISHED = new Date(Date.parse(RUN_STARTED) + 40 * 60_000);
const SAVED = { disabled: process.env.POWERTOOLS_METRICS_DISABLED, dev: process.env.POWERTOOLS_DEV };
let printed: string[];

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

beforeEach(() => {
  // test/support/jest-env.ts turns metrics off for every test. Each singleMetric() is a new Metrics
  // that reads the environment when it is created, so metrics must be on while recordRunMetrics runs.
  // POWERTOOLS_DEV makes Powertools print through the global console, where the spy can read it.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_DEV = 'true';
  printed = [];
  jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
    printed.push(String(line));
  });
});

afterEach(() => {
  jest.restoreAllMocks();
  restoreEnv('POWERTOOLS_METRICS_DISABLED', SAVED.disabled);
  restoreEnv('POWERTOOLS_DEV', SAVED.dev);
});

/** Every metric in every EMF line printed, with the dimensions of its line. */
function emitted(): EmittedMetric[] {
  return printed.flatMap((line) => {
    const emf = JSON.parse(line) as EmfLine;
    return emf._aws.CloudWatchMetrics.flatMap((directive) => {
      const dimensionNames = directive.Dimensions.flat();
      const dimensions = Object.fromEntries(dimensionNames.map((name) => [name, emf[name]]));
      return directive.Metrics.map((metric) => ({ namespace: directive.Namespace, name: metric.Name, unit: metric.Unit, value: emf[metric.Name], dimensions }));
    });
  });
}

function metrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'frontier-dr' });
}

function backupVerificationReport(options: { checksFail: boolean; dryRun?: boolean }): Report {
  return buildReport(
    {
      run: runContext({ scenario: 'backup-verification', dryRun: options.dryRun ?? false }),
      items: [
        {
          item: 'frontier-prod',
          steps: {
            VerifyDatabaseBackups: stepOutput(1, 2, {
              checks: [
                passedCheck('newest-snapshot-age', {
                  resource: 'frontier-prod in us-west-2',
                  metric: { name: 'BackupAgeSeconds', unit: 'Seconds', value: 7200 },
                }),
                options.checksFail ? failedCheck('encryption', { resource: 'frontier-prod in us-west-2' }) : passedCheck('encryption'),
              ],
              objectives: [
                objectiveResult('Database', { measuredRtoMinutes: null, measuredRpoMinutes: 4, met: true }),
                objectiveResult('Database', { measuredRtoMinutes: null, measuredRpoMinutes: 210, met: false }),
                objectiveResult('Database', { measuredRtoMinutes: null, measuredRpoMinutes: null, met: null }),
              ],
            }),
          },
        },
      ],
    },
    FINISHED,
  );
}

function restoreTestReport(options: { failed: boolean }): Report {
  return buildReport(
    {
      run: runContext({ scenario: 'restore-test' }),
      items: [
        {
          item: 'frontier-prod',
          steps: {
            ValidateRestore: stepOutput(21, 22, {
              checks: [
                passedCheck('restore-test-query'),
                passedCheck('restore-test-duration', {
                  resource: 'frontier-prod-drtest-0123456789 in us-east-1',
                  metric: { name: 'RestoreTestDuration', unit: 'Seconds', value: 1260 },
                }),
              ],
              objectives: [objectiveResult('Database', { measuredRtoMinutes: 21, measuredRpoMinutes: null, met: true })],
            }),
          },
          ...(options.failed ? { failures: { DeleteScratchInstance: { Error: 'AwsAccessDenied', Cause: 'denied' } } } : {}),
        },
      ],
    },
    FINISHED,
  );
}

const scenario = (name: string) => ({ service: 'frontier-dr', Scenario: name });

describe('recordRunMetrics', () => {
  it('emits the run, backup and RPO metrics of a backup verification, each with its dimensions', () => {
    // Act
    recordRunMetrics(metrics(), backupVerificationReport({ checksFail: true }));

    // Assess
    expect(emitted()).toEqual([
      { namespace: 'FrontierDR', name: 'RunSucceeded', unit: 'Count', value: 1, dimensions: scenario('backup-verification') },
      { namespace: 'FrontierDR', name: 'RunDuration', unit: 'Seconds', value: 2400, dimensions: scenario('backup-verification') },
      { namespace: 'FrontierDR', name: 'BackupVerificationSuccess', unit: 'Count', value: 0, dimensions: scenario('backup-verification') },
      { namespace: 'FrontierDR', name: 'BackupChecksFailed', unit: 'Count', value: 1, dimensions: scenario('backup-verification') },
      // One RpoAdherence per measured objective (met, then missed); the unmeasured one emits nothing.
      {
        namespace: 'FrontierDR',
        name: 'RpoAdherence',
        unit: 'Count',
        value: 1,
        dimensions: { ...scenario('backup-verification'), Component: 'Database' },
      },
      {
        namespace: 'FrontierDR',
        name: 'RpoAdherence',
        unit: 'Count',
        value: 0,
        dimensions: { ...scenario('backup-verification'), Component: 'Database' },
      },
      {
        namespace: 'FrontierDR',
        name: 'BackupAgeSeconds',
        unit: 'Seconds',
        value: 7200,
        dimensions: { service: 'frontier-dr', Resource: 'frontier-prod in us-west-2' },
      },
    ]);
  });

  it('counts a verification with every check passed as a backup success', () => {
    recordRunMetrics(metrics(), backupVerificationReport({ checksFail: false }));

    const byName = new Map(emitted().map((m) => [m.name, m.value]));
    expect(byName.get('BackupVerificationSuccess')).toBe(1);
    expect(byName.get('BackupChecksFailed')).toBe(0);
    expect(byName.has('DrTestSuccess')).toBe(false);
  });

  it('emits the DR test success and the restore duration of a restore test', () => {
    recordRunMetrics(metrics(), restoreTestReport({ failed: false }));

    expect(emitted()).toEqual([
      { namespace: 'FrontierDR', name: 'RunSucceeded', unit: 'Count', value: 1, dimensions: scenario('restore-test') },
      { namespace: 'FrontierDR', name: 'RunDuration', unit: 'Seconds', value: 2400, dimensions: scenario('restore-test') },
      { namespace: 'FrontierDR', name: 'DrTestSuccess', unit: 'Count', value: 1, dimensions: scenario('restore-test') },
      {
        namespace: 'FrontierDR',
        name: 'RestoreTestDuration',
        unit: 'Seconds',
        value: 1260,
        dimensions: { service: 'frontier-dr', Resource: 'frontier-prod-drtest-0123456789 in us-east-1' },
      },
    ]);
  });

  it('counts a restore test with a failed step as a failed run and a failed DR test', () => {
    recordRunMetrics(metrics(), restoreTestReport({ failed: true }));

    const byName = new Map(emitted().map((m) => [m.name, m.value]));
    expect(byName.get('RunSucceeded')).toBe(0);
    expect(byName.get('DrTestSuccess')).toBe(0);
    expect(byName.has('BackupVerificationSuccess')).toBe(false);
  });

  it.each(['cluster-failover', 'database-recovery', 'region-failover', 'emergency-rollback', 'region-failback'] as const)('emits TimeToRecover for a completed %s', (name) => {
    recordRunMetrics(metrics(), buildReport({ run: runContext({ scenario: name }), steps: { Work: stepOutput(1, 2, {}) } }, FINISHED));

    expect(emitted()).toContainEqual({ namespace: 'FrontierDR', name: 'TimeToRecover', unit: 'Seconds', value: 2400, dimensions: scenario(name) });
  });

  it('emits no TimeToRecover for a recovery that failed, nor for a scenario that recovers nothing', () => {
    recordRunMetrics(metrics(), buildReport({ run: runContext({ scenario: 'database-recovery' }), failures: { StartDatabaseRestore: { Error: 'AwsAccessDenied', Cause: 'denied' } } }, FINISHED));
    recordRunMetrics(metrics(), restoreTestReport({ failed: false }));

    expect(emitted().filter((m) => m.name === 'TimeToRecover')).toEqual([]);
    expect(emitted().filter((m) => m.name === 'RunDuration')).toHaveLength(2);
  });

  it("emits the security incident's response time from its report", () => {
    const report: Report = { ...buildReport({ run: runContext({ scenario: 'security-incident' }) }, FINISHED) };
    report.securityIncident = { responseTime: { from: RUN_STARTED, containedAt: RUN_STARTED, seconds: 95 } } as NonNullable<Report['securityIncident']>;

    recordRunMetrics(metrics(), report);

    expect(emitted()).toContainEqual({ namespace: 'FrontierDR', name: 'IncidentResponseTime', unit: 'Seconds', value: 95, dimensions: scenario('security-incident') });
    expect(emitted().map((m) => m.name)).not.toContain('TimeToRecover');
  });

  it('emits nothing for a dry run', () => {
    recordRunMetrics(metrics(), backupVerificationReport({ checksFail: true, dryRun: true }));

    expect(printed).toEqual([]);
  });

  it('really prints EMF in this setup (guards the dry-run test above against a silent spy)', () => {
    recordRunMetrics(metrics(), backupVerificationReport({ checksFail: false, dryRun: false }));

    expect(printed.length).toBeGreaterThan(0);
  });
});
