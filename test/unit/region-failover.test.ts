// Region failover's decisions, each on its own: which source the database is restored from in the
// recovery region (and the data-loss window it means), when the outage counts as confirmed, the input
// contract and config rules, what a dry run would do, and what the report adds (critical path,
// data-loss window, DNS modes, the failback record). AWS is answered by client mocks.
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeDBInstancesCommand, RDSClient, RestoreDBInstanceFromDBSnapshotCommand, RestoreDBInstanceToPointInTimeCommand } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import type { SnapshotSummary } from '../../shared/backups.js';
import { parseDeploymentConfig } from '../../shared/config.js';
import { AwsTransientError, InvalidConfig, ResourceNotFound } from '../../shared/errors.js';
import { confirmOutage, decideConfirmation } from '../../shared/region-confirmation.js';
import {
  chooseRegionRestoreSource,
  regionRestoreSettings,
  startRegionRestore,
  type RegionRestoreFacts,
  type RegionRestoreSource,
} from '../../shared/region-failover.js';
import { buildReport, renderMarkdown, type RunState } from '../../shared/report.js';
import { planRun } from '../../shared/run.js';
import type { StepOutput } from '../../shared/steps.js';
import { exampleConfig, NOW } from '../support/fixtures.js';

const config = exampleConfig();
const database = config.databases[0]!;
const OUTAGE = '2026-11-25T11:50:00.000Z';

function copy(id: string, createdAt: string, encrypted = true, region = 'us-east-1'): SnapshotSummary {
  return { id, arn: `arn:aws:rds:${region}:123456789012:snapshot:${id}`, type: 'manual', createdAt, encrypted, region, sourceInstance: 'frontier-prod', engineVersion: '16.4', kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abcd' };
}

function facts(change: Partial<RegionRestoreFacts> = {}): RegionRestoreFacts {
  return {
    database: 'frontier-prod',
    recoveryRegion: 'us-east-1',
    outageAt: OUTAGE,
    now: NOW.toISOString(),
    rpoMinutes: 15,
    replicationConfigured: false,
    replicatedBackups: [],
    snapshots: [copy('frontier-prod-20261125-0400', '2026-11-25T04:00:00.000Z'), copy('frontier-prod-20261125-0800', '2026-11-25T08:00:00.000Z')],
    requireEncryption: true,
    ...change,
  };
}

describe('chooseRegionRestoreSource', () => {
  it('takes the newest encrypted snapshot copy when backups are not replicated, named with its age against the RPO', () => {
    const source = chooseRegionRestoreSource(facts({ snapshots: [...facts().snapshots, copy('frontier-prod-20261125-1100', '2026-11-25T11:00:00.000Z', false)] }));
    expect(source).toMatchObject({ kind: 'snapshot', snapshot: { id: 'frontier-prod-20261125-0800' }, ageMinutes: 240, dataLossMinutes: 230, rpoMinutes: 15, withinRpo: false, restorePoint: '2026-11-25T08:00:00.000Z' });
    expect(source.rejected).toEqual([
      'point in time: automated-backup replication to us-east-1 is not configured (databases[].requireAutomatedBackupReplication)',
      'snapshot frontier-prod-20261125-1100 (2026-11-25T11:00:00.000Z): unencrypted',
    ]);
  });

  it('restores to the latest replicated point in time where replication is configured, never past the outage', () => {
    const replicated = { arn: 'arn:aws:rds:us-east-1:123456789012:auto-backup:ab-1', status: 'replicating', sourceRegion: 'us-west-2', earliest: '2026-11-20T00:00:00.000Z', encrypted: true, kmsKeyId: null, engineVersion: '16.4' };
    const before = chooseRegionRestoreSource(facts({ replicationConfigured: true, replicatedBackups: [{ ...replicated, latest: '2026-11-25T11:45:00.000Z' }] }));
    expect(before).toMatchObject({ kind: 'point-in-time', automatedBackupsArn: replicated.arn, time: '2026-11-25T11:45:00.000Z', dataLossMinutes: 5, withinRpo: true });
    const after = chooseRegionRestoreSource(facts({ replicationConfigured: true, replicatedBackups: [{ ...replicated, latest: '2026-11-25T11:58:00.000Z' }] }));
    expect(after).toMatchObject({ kind: 'point-in-time', time: OUTAGE, dataLossMinutes: 0 });
  });

  it('falls back to the snapshot copies, saying why, when replication is configured but nothing was replicated', () => {
    const source = chooseRegionRestoreSource(facts({ replicationConfigured: true }));
    expect(source.kind).toBe('snapshot');
    expect(source.rejected[0]).toBe('point in time: no replicated automated backups of frontier-prod in us-east-1');
  });

  it('refuses with every reason when the recovery region holds nothing to restore', () => {
    expect(() => chooseRegionRestoreSource(facts({ snapshots: [copy('frontier-prod-x', '2026-11-25T08:00:00.000Z', false)] }))).toThrow(
      new ResourceNotFound(
        'nothing to restore frontier-prod from in us-east-1: point in time: automated-backup replication to us-east-1 is not configured (databases[].requireAutomatedBackupReplication); snapshot frontier-prod-x (2026-11-25T08:00:00.000Z): unencrypted',
      ),
    );
  });
});

describe('decideConfirmation', () => {
  const alarm = (state: string, changedAt: string) => ({ name: 'RegionFailure', state, changedAt });

  it('waits exactly until the confirmation period ends, then confirms', () => {
    const fired = '2026-11-25T11:58:30.000Z';
    expect(decideConfirmation(alarm('ALARM', fired), fired, 3, NOW)).toMatchObject({ outcome: 'waiting', confirmed: false, cleared: false, waitSeconds: 90, confirmAt: '2026-11-25T12:01:30.000Z' });
    expect(decideConfirmation(alarm('ALARM', fired), fired, 3, new Date('2026-11-25T12:01:30.000Z'))).toMatchObject({ outcome: 'confirmed', confirmed: true, waitSeconds: 0 });
  });

  it('ends with no change when the alarm went back to OK', () => {
    expect(decideConfirmation(alarm('OK', '2026-11-25T11:59:00.000Z'), '2026-11-25T11:58:00.000Z', 3, NOW)).toMatchObject({ outcome: 'cleared', cleared: true, confirmed: false });
  });

  it('counts a manual start from the alarm\'s own change: an alarm in ALARM long enough is confirmed at once', () => {
    expect(decideConfirmation(alarm('ALARM', '2026-11-25T11:50:00.000Z'), null, 3, NOW)).toMatchObject({ outcome: 'confirmed', inAlarmSince: '2026-11-25T11:50:00.000Z' });
  });

  it('starts the period again when the alarm flapped back into ALARM after the event that started the run', () => {
    const decision = decideConfirmation(alarm('ALARM', '2026-11-25T11:59:00.000Z'), '2026-11-25T11:50:00.000Z', 3, NOW);
    expect(decision).toMatchObject({ outcome: 'waiting', inAlarmSince: '2026-11-25T11:59:00.000Z', waitSeconds: 120 });
  });
});

describe('confirmOutage', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  beforeEach(() => cloudwatch.reset());

  it('reads the alarm in the recovery region and decides', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'RegionFailure', StateValue: 'ALARM', StateUpdatedTimestamp: new Date('2026-11-25T11:50:00.000Z') }] });
    const result = await confirmOutage(config, '2026-11-25T11:50:00.000Z', new CloudWatchClient({ region: 'us-east-1' }), NOW);
    expect(result.data).toMatchObject({ confirmed: true, alarmName: 'RegionFailure', confirmationMinutes: 3 });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input.AlarmNames).toEqual(['RegionFailure']);
  });

  it('fails with a named error for a missing alarm, and a transient one for throttling', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    await expect(confirmOutage(config, OUTAGE, new CloudWatchClient({ region: 'us-east-1' }), NOW)).rejects.toBeInstanceOf(ResourceNotFound);
    cloudwatch.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    await expect(confirmOutage(config, OUTAGE, new CloudWatchClient({ region: 'us-east-1' }), NOW)).rejects.toBeInstanceOf(AwsTransientError);
  });
});

describe('startRegionRestore', () => {
  const rds = mockClient(RDSClient);
  beforeEach(() => rds.reset());
  const source = chooseRegionRestoreSource(facts());
  const settings = regionRestoreSettings(config.regionFailover!.restore, database, source);

  it('records the restore call in a dry run and makes no call at all', async () => {
    const result = await startRegionRestore(config, database, source, settings, { incidentId: '202611251150', executionId: 'arn:x', dryRun: true }, new RDSClient({ region: 'us-east-1' }), NOW);
    expect(rds.calls()).toHaveLength(0);
    expect(result.actions).toEqual([
      expect.objectContaining({
        operation: 'RestoreDBInstanceFromDBSnapshot',
        performed: false,
        parameters: expect.objectContaining({ DBInstanceIdentifier: 'frontier-prod-r-202611251150', DBSnapshotIdentifier: source.kind === 'snapshot' ? source.snapshot.arn : '', region: 'us-east-1', DBSubnetGroupName: 'frontier-dr-db', PubliclyAccessible: false, DeletionProtection: true }),
      }),
    ]);
  });

  it('restores from the copy in the recovery region, and adopts its own instance on a re-run', async () => {
    rds.on(DescribeDBInstancesCommand).rejectsOnce(Object.assign(new Error('not found'), { name: 'DBInstanceNotFoundFault', $metadata: { httpStatusCode: 404 } }));
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
    const first = await startRegionRestore(config, database, source, settings, { incidentId: '202611251150', executionId: 'arn:x', dryRun: false }, new RDSClient({ region: 'us-east-1' }), NOW);
    expect(first.data).toMatchObject({ instanceId: 'frontier-prod-r-202611251150', region: 'us-east-1', resumed: false, nextCheckSeconds: 120 });
    expect(rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)).toHaveLength(0);
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'frontier-prod-r-202611251150', TagList: [{ Key: 'frontier-dr:incident', Value: '202611251150' }, { Key: 'frontier-dr:restored-from', Value: 'frontier-prod@us-west-2' }] }],
    });
    const again = await startRegionRestore(config, database, source, settings, { incidentId: '202611251150', executionId: 'arn:x', dryRun: false }, new RDSClient({ region: 'us-east-1' }), NOW);
    expect(again.data.resumed).toBe(true);
    expect(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)).toHaveLength(1);
  });
});

describe('region-failover input and config', () => {
  const execution = { id: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-region-failover:m1', name: 'm1', startTime: NOW.toISOString() };

  it('lets only a manual start skip the confirmation', () => {
    expect(planRun('region-failover', { skipConfirmation: true, reason: 'us-west-2 is down (AWS health dashboard)' }, execution, config).regionFailover).toEqual({ skipConfirmation: true });
    expect(planRun('region-failover', {}, execution, config).regionFailover).toEqual({ skipConfirmation: false });
    const alarm = {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      detail: { alarmName: 'RegionFailure', state: { value: 'ALARM', timestamp: '2026-11-25T11:58:00.000+0000' }, previousState: { value: 'OK', timestamp: '2026-11-25T10:00:00.000+0000' } },
    };
    expect(planRun('region-failover', alarm, execution, config)).toMatchObject({ trigger: 'alarm RegionFailure', incidentAt: '2026-11-25T11:58:00.000Z', regionFailover: { skipConfirmation: false } });
    expect(() => planRun('region-failover', { ...alarm, skipConfirmation: true }, execution, config)).toThrow(/skipConfirmation/);
    expect(() => planRun('region-failover', { ...alarm, detail: { ...alarm.detail, skipConfirmation: true } }, execution, config)).toThrow(/detail\.skipConfirmation/);
  });

  function problems(change: (raw: Record<string, any>) => void): string {
    const raw = structuredClone(config) as unknown as Record<string, any>;
    change(raw);
    try {
      parseDeploymentConfig(raw, 'config/broken.yml');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidConfig);
      return (error as Error).message;
    }
    throw new Error('accepted');
  }

  it('allows route53-health-check detection only with us-east-1 as the recovery region, naming field and value', () => {
    const message = problems((raw) => {
      raw.primaryRegion = 'us-east-1';
      raw.recoveryRegion = 'us-west-2';
      raw.kubernetes.clusters.backup.region = 'us-west-2';
    });
    expect(message).toContain('regionFailover.detection.mode');
    expect(message).toContain('"route53-health-check"');
    expect(message).toContain('must be probe with recoveryRegion us-west-2');
  });

  it('refuses a database that is not protected, and a recovery cluster outside the recovery region', () => {
    expect(problems((raw) => void (raw.regionFailover.database = 'frontier-orders'))).toMatch(/regionFailover\.database.*"frontier-orders".*must name one of databases \(frontier-prod\)/s);
    expect(problems((raw) => void (raw.kubernetes.clusters.backup.region = 'us-west-2'))).toMatch(/kubernetes\.clusters\.backup\.region.*"us-west-2".*must be recoveryRegion \(us-east-1\)/s);
  });
});

describe('the region-failover report', () => {
  const step = (startedAt: string, finishedAt: string, data: unknown = {}): StepOutput<unknown> => ({ step: { status: 'succeeded', startedAt, finishedAt, actions: [] }, data });
  const at = (minute: number, second = 0) => new Date(Date.parse(OUTAGE) + minute * 60_000 + second * 1000).toISOString();
  const source: RegionRestoreSource = chooseRegionRestoreSource(facts());
  const plan = {
    passed: true,
    database: 'frontier-prod',
    regions: { primary: 'us-west-2', recovery: 'us-east-1' },
    restoreSource: source,
    restoreSettings: [],
    objectives: { api: config.objectives[0]!, database: config.objectives[1]! },
    outageAt: OUTAGE,
  };
  const recorded = [{ mode: 'control-plane' as const, record: 'api.frontier.com. CNAME', hostedZoneId: 'Z0FRONTIEREXAMPLE01', recordSet: { Name: 'api.frontier.com.', Type: 'CNAME' as const, TTL: 60, ResourceRecords: [{ Value: 'frontier-prod-ingress.us-west-2.elb.amazonaws.com.' }] } }];
  const state = (dryRun = false): RunState => ({
    run: {
      scenario: 'region-failover',
      executionId: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-region-failover:a1',
      executionName: 'a1',
      startedAt: at(1),
      incidentAt: OUTAGE,
      incidentNamedByOperator: false,
      trigger: 'alarm RegionFailure',
      dryRun,
      reason: null,
      databases: ['frontier-prod'],
      force: false,
      rollback: null,
      productionReplicas: 3,
      recovery: null,
      regionFailover: { skipConfirmation: false },
    },
    steps: {
      ConfirmOutage: step(at(1), at(4), { outcome: 'confirmed', inAlarmSince: OUTAGE, alarmName: 'RegionFailure', confirmationMinutes: 3 }),
      Preflight: step(at(4), at(4, 20), plan),
      RepointApplication: step(at(16), at(16, 5)),
      RunHealthChecks: step(at(17), at(17, 3), { allPassed: true }),
      MoveDns: step(at(17, 5), at(17, 8), { waitForChange: true, changes: [{ changeId: 'C1', submittedAt: at(17, 8) }], recorded, modes: ['control-plane'], warnings: [] }),
      CheckDnsChange: step(at(18), at(18, 1), { insync: true }),
    },
    items: [
      { item: 'database', steps: { StartRegionRestore: step(at(5), at(5, 2), { instanceId: 'frontier-prod-r-202611251150' }), CheckRegionRestore: step(at(15, 40), at(15, 41), { available: true }) } },
      { item: 'cluster', steps: { ApplyManifestsToBackup: step(at(5), at(5, 4)), ScaleApiOnBackup: step(at(5, 4), at(5, 5)), CheckRollout: step(at(7), at(7, 1)) } },
    ],
  });

  it('names the branch that finished last as the critical path, with every step on it timed', () => {
    const report = buildReport(state(), new Date(at(19)));
    expect(report.regionFailover?.criticalPath).toMatchObject({ branch: 'database', branchDurationSeconds: 641 });
    expect(report.regionFailover?.criticalPath?.steps.map((s) => s.name)).toEqual([
      'ConfirmOutage',
      'Preflight',
      'database: StartRegionRestore',
      'database: CheckRegionRestore',
      'RepointApplication',
      'RunHealthChecks',
      'MoveDns',
      'CheckDnsChange',
    ]);
    expect(report.regionFailover?.branches.map((b) => [b.branch, b.durationSeconds])).toEqual([
      ['database', 641],
      ['cluster', 121],
    ]);
  });

  it('measures the data-loss window from the outage start against the RPO, the objectives, DNS modes and the failback record', () => {
    const report = buildReport(state(), new Date(at(19)));
    expect(report.regionFailover?.dataLoss).toEqual({ source: 'snapshot copy frontier-prod-20261125-0800 (240 min old when chosen)', restorePoint: '2026-11-25T08:00:00.000Z', outageAt: OUTAGE, minutes: 230, rpoMinutes: 15, withinRpo: false });
    expect(report.objectives.map((o) => [o.component, o.measuredRtoMinutes, o.measuredRpoMinutes, o.met])).toEqual([
      ['API Services', 18, null, false],
      ['Database', 15.7, 230, false],
    ]);
    expect(report.regionFailover?.dns).toEqual({ modes: ['control-plane'], warnings: [], records: ['api.frontier.com. CNAME (control-plane)'] });
    expect(report.failback).toEqual({ primaryRegion: 'us-west-2', recoveryRegion: 'us-east-1', dns: recorded, database: { name: 'frontier-prod', recoveryInstanceId: 'frontier-prod-r-202611251150', restorePoint: '2026-11-25T08:00:00.000Z' } });
    expect(report.summary).toContain('critical path: database branch (641 s)');
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('- Data-loss window: 230 min (restore point 2026-11-25T08:00:00.000Z');
    expect(markdown).toContain('- Critical path: database branch finished last (641 s)');
  });

  it('measures nothing in a dry run and names no instance to fail back from', () => {
    const report = buildReport(state(true), new Date(at(19)));
    expect(report.objectives).toEqual([]);
    expect(report.failback?.database.recoveryInstanceId).toBeNull();
  });

  it('says when an operator skipped the confirmation', () => {
    const skipped = state();
    skipped.run.regionFailover = { skipConfirmation: true };
    delete skipped.steps!.ConfirmOutage;
    expect(buildReport(skipped, new Date(at(19))).regionFailover?.confirmation).toMatch(/^skipped: a manual start with skipConfirmation/);
  });
});
