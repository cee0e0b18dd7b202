// Whole state machines against the emulated environment: moto (both regions), the embedded
// PostgreSQL behind the restored instance's endpoint, reports read back from the emulated bucket.
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { exampleConfig, useConfig } from '../support/fixtures.js';
import { publishedReport, reportStep } from '../support/state-machine-runs.js';
import { emulatorConfig, seedExampleDeployment, startEmulatedEnvironment, type EmulatedEnvironment, type SeededDeployment } from '../../local/index.js';
import { runStateMachine } from '../../local/local-state-machine.js';

let environment: EmulatedEnvironment;
let seeded: SeededDeployment;
const config = emulatorConfig(exampleConfig());

beforeAll(async () => {
  environment = await startEmulatedEnvironment();
  seeded = await seedExampleDeployment(config, environment.endpoint, environment.postgres);
  useConfig(config);
  process.env.ALERT_TOPIC_ARN = seeded.alertTopicArn;
}, 120_000);

afterAll(async () => {
  await environment?.stop();
}, 60_000);

describe('backup-verification against the emulator', () => {
  it('reports the primary region as unreadable when it is down, instead of passing or hanging', async () => {
    environment.front.failRegion(config.primaryRegion);
    try {
      const run = await runStateMachine('backup-verification', {});

      expect(run.status).toBe('FAILED');
      const report = await publishedReport(run, environment, config.recoveryRegion);
      expect(report.failures.map((f) => f.step).sort()).toEqual(['VerifyBuckets', 'frontier-prod: VerifyDatabaseBackups']);
      // Under jest, Node's socket errors come from another realm and the SDK flattens them to text,
      // so only the message is asserted here (test/unit/errors.test.ts covers the classification).
      for (const failure of report.failures) expect(failure.message).toContain('socket hang up');
      expect(environment.front.refused().some((r) => r.endsWith(config.primaryRegion))).toBe(true);
    } finally {
      environment.front.restoreRegion(config.primaryRegion);
    }
  }, 60_000);

  it('passes the healthy checks and fails exactly the planted problems', async () => {
    const run = await runStateMachine('backup-verification', { reason: 'integration test' });

    expect(run.status).toBe('SUCCEEDED');
    const report = await publishedReport(run, environment, config.recoveryRegion);
    expect(report.status).toBe('succeeded');
    const failed = report.checks.filter((c) => !c.passed).map((c) => ({ check: c.name, resource: c.resource }));
    expect(failed).toEqual(expect.arrayContaining(seeded.deliberateProblems));
    expect(failed).toHaveLength(seeded.deliberateProblems.length);
    const passed = report.checks.filter((c) => c.passed).map((c) => c.name);
    expect(passed).toEqual(expect.arrayContaining(['newest-snapshot-age', 'backup-retention', 'point-in-time-recovery', 'recovery-region-copy', 'bucket-versioning', 'bucket-replication', 'bucket-retention']));
    const encryption = report.checks.find((c) => c.name === 'encryption');
    expect(encryption?.measured).toContain('frontier-prod-legacy-unencrypted');
    expect(run.calls.map((c) => c.state)).toContain('NotifyOnCall');
    expect(run.calls.find((c) => c.state === 'NotifyOnCall')?.error).toBeUndefined();
  });
});

describe('restore-test against the emulator', () => {
  it('restores the newest recovery-region copy, queries it, deletes it and reports the RTO', async () => {
    const run = await runStateMachine('restore-test', {});

    expect(run.status).toBe('SUCCEEDED');
    const report = await publishedReport(run, environment, config.recoveryRegion);
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['restore-test-query', true],
      ['restore-test-duration', true],
    ]);
    const start = reportStep(report, 'frontier-prod: StartScratchRestore');
    expect(start?.actions[0]?.parameters).toMatchObject({ DBSnapshotIdentifier: expect.stringMatching(new RegExp(`:snapshot:${seeded.recoveryCopies.at(-1)}$`)) });
    // The scratch instance is gone; the source instance was never touched.
    const rds = new RDSClient({ region: config.recoveryRegion });
    const left = await rds.send(new DescribeDBInstancesCommand({}));
    expect((left.DBInstances ?? []).filter((i) => i.DBInstanceStatus !== 'deleting').map((i) => i.DBInstanceIdentifier)).toEqual([]);
    const primary = await new RDSClient({ region: config.primaryRegion }).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'frontier-prod' }));
    expect(primary.DBInstances?.[0]?.DBInstanceStatus).toBe('available');
    expect(report.objectives[0]).toMatchObject({ component: 'Database', met: expect.any(Boolean) });
    expect(report.objectives[0]?.measuredRtoMinutes).toBeLessThan(config.objectives.find((o) => o.component === 'Database')!.rtoMinutes);
  });

  it('needs nothing from the primary region: it passes while that region is down', async () => {
    environment.front.failRegion(config.primaryRegion);
    const refusedBefore = environment.front.refused().length;
    try {
      const run = await runStateMachine('restore-test', {});

      expect(run.status).toBe('SUCCEEDED');
      expect((await publishedReport(run, environment, config.recoveryRegion)).checks.every((c) => c.passed)).toBe(true);
      // Not one request was even attempted towards the failing region.
      expect(environment.front.refused().slice(refusedBefore)).toEqual([]);
    } finally {
      environment.front.restoreRegion(config.primaryRegion);
    }
  });

  it('fails cleanly in a dry run of a database it does not protect, touching nothing', async () => {
    const run = await runStateMachine('restore-test', { databases: ['frontier-staging'], dryRun: true });

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'InvalidInput', message: expect.stringContaining('databases: got ["frontier-staging"]') });
    // Refused by the first state: no step that could touch anything ran, and nothing was reported.
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun']);
  });
});
