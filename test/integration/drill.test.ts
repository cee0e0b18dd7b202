// The drill as an operator runs it: a separate process, its own emulator, reports on disk.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { Report } from '../../shared/report.js';
import { parseXmlRoot } from '../support/xml-well-formed.js';

const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

/** Colours as the caller sets them, never inherited from the test runner. */
function drillWith(colour: Record<string, string>, ...args: string[]) {
  const { FORCE_COLOR: _force, NO_COLOR: _no, ...inherited } = process.env;
  return spawnSync(tsx, ['cli/drill.ts', ...args], { cwd: process.cwd(), encoding: 'utf8', timeout: 180_000, env: { ...inherited, AWS_ENDPOINT_URL: '', ...colour } });
}

function drill(...args: string[]) {
  return drillWith({}, ...args);
}

/** The minutes since the seed's newest recovery-region copy: the last run of the 4-hourly copy job. */
function minutesSinceLastCopy(at: number): number {
  const every = 4 * 3_600_000;
  return (at - Math.floor(at / every) * every) / 60_000;
}

const ESCAPE = /\x1b\[/;

describe('npm run drill', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'drill-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it('runs every scenario, finds the planted problems and writes both reports', () => {
    const result = drill('--out', out);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('▶ backup-verification');
    expect(result.stdout).toContain('done    frontier-prod › VerifyDatabaseBackups');
    expect(result.stdout).toMatch(/FAIL encryption\s+frontier-prod \(us-west-2\)/);
    expect(result.stdout).toMatch(/FAIL bucket-replication\s+s3:\/\/frontier-app-backups/);
    expect(result.stdout).toMatch(/PASS recovery-region-copy/);
    const verification = JSON.parse(readFileSync(join(out, 'backup-verification.json'), 'utf8')) as Report;
    expect(verification.checks.filter((c) => !c.passed).map((c) => c.name).sort()).toEqual(['bucket-replication', 'encryption']);
    const restore = JSON.parse(readFileSync(join(out, 'restore-test.json'), 'utf8')) as Report;
    expect(restore.status).toBe('succeeded');
    expect(readFileSync(join(out, 'restore-test.md'), 'utf8')).toContain('| PASS | restore-test-query |');
    for (const scenario of ['cluster-failover', 'emergency-rollback']) {
      expect(result.stdout).toContain(`▶ ${scenario}`);
      expect((JSON.parse(readFileSync(join(out, `${scenario}.json`), 'utf8')) as Report).status).toBe('succeeded');
    }
    // Next to last, since it leaves the emulated primary's database read-only and the application repointed.
    expect(result.stdout.lastIndexOf('▶ database-recovery')).toBeGreaterThan(result.stdout.lastIndexOf('▶ emergency-rollback'));
    expect((JSON.parse(readFileSync(join(out, 'database-recovery.json'), 'utf8')) as Report).status).toBe('succeeded');
    // Last, with the primary region dark: it moves DNS, the API and the database to the recovery region.
    expect(result.stdout.lastIndexOf('▶ region-failover')).toBeGreaterThan(result.stdout.lastIndexOf('▶ database-recovery'));
    expect(result.stdout).toContain('requests signed for us-west-2 during the failover: 0 (refused: 0)');
    const failover = JSON.parse(readFileSync(join(out, 'region-failover.json'), 'utf8')) as Report;
    expect(failover.status).toBe('succeeded');
    expect(failover.failback?.dns[0]).toMatchObject({ mode: 'control-plane', recordSet: expect.objectContaining({ ResourceRecords: [{ Value: 'frontier-prod-ingress.us-west-2.elb.amazonaws.com.' }] }) });
    // Right after it, the failback from that run: the rows written in the recovery region moved, DNS back to the primary's value.
    expect(result.stdout.lastIndexOf('▶ region-failback')).toBeGreaterThan(result.stdout.lastIndexOf('▶ region-failover'));
    const failback = JSON.parse(readFileSync(join(out, 'region-failback.json'), 'utf8')) as Report;
    expect(failback.status).toBe('succeeded');
    expect(failback.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'failback-data', passed: true, resource: expect.stringContaining('(us-west-2)') })]));
    expect(result.stdout).toMatch(/DNS\s+api\.frontier\.com\. CNAME back to frontier-prod-ingress\.us-west-2\.elb\.amazonaws\.com\. \(recorded before the failover: frontier-prod-ingress\.us-west-2\.elb\.amazonaws\.com\.\)/);
    expect(result.stdout).toMatch(/write freeze\s+\d+ s of refused writes/);
    expect(result.stdout).toMatch(/rows written during the failover, now in \S+ \(us-west-2\): 2 of 2/);
    // Last, after the failback: the security incident, approved by the drill, contained, evidence kept, secrets rotated, patch rolled out.
    expect(result.stdout.lastIndexOf('▶ security-incident')).toBeGreaterThan(result.stdout.lastIndexOf('▶ region-failback'));
    expect(result.stdout).toContain('approved by the drill, as an approver would from the console');
    const incident = JSON.parse(readFileSync(join(out, 'security-incident.json'), 'utf8')) as Report;
    expect(incident.status).toBe('succeeded');
    expect(incident.securityIncident?.rotations.map((r) => r.status)).toEqual(['completed']);
    expect(incident.securityIncident?.apiKeys?.status).toBe('completed');
    expect(incident.securityIncident?.patch?.rolledOut).toBe(true);
    expect(incident.securityIncident?.evidence?.objects.some((o) => o.kind === 'pod-log')).toBe(true);
    // The closing summary: every scenario, the plan's RPO gap stated, every run completed.
    const summary = result.stdout.slice(result.stdout.lastIndexOf('\nSummary\n'));
    for (const scenario of ['backup-verification', 'restore-test', 'cluster-failover', 'emergency-rollback', 'database-recovery', 'region-failover', 'region-failback', 'security-incident']) {
      expect(summary).toMatch(new RegExp(`\\n${scenario}: completed, `));
    }
    // What on-call wants of the incident: containment per place and where effective, evidence, rotations, the patch, the response time.
    expect(summary).toMatch(/response time: contained \d+ s after the start/);
    expect(summary).toMatch(/containment network-policy: blocked .*\n {4}effective: Does NOT block clients behind the load balancer/);
    expect(summary).toMatch(/containment waf-ip-set: blocked \(198\.51\.100\.0\/24, 203\.0\.113\.7\/32\)/);
    expect(summary).toMatch(/evidence: \d+ object\(s\), \d+ bytes \(.*pod-log.*\) in s3:\/\/frontier-prod-dr-evidence\//);
    expect(summary).toMatch(/rotations: 1 of 1 completed: frontier\/prod\/database completed/);
    expect(summary).toMatch(/API keys revoked: frontier\/prod\/api-keys completed/);
    expect(summary).toMatch(/patch: frontier-api \S+ -> frontier\/api:security-patch, rolled out/);
    // The region failover's critical path, DNS mode and data-loss window.
    expect(summary).toMatch(/critical path\s+the (database|cluster) branch finished last/);
    expect(summary).toMatch(/DNS mode\s+control-plane for api\.frontier\.com\. CNAME/);
    expect(summary).toMatch(/data-loss window\s+[\d.]+ min of writes, .* \(outage\), over the 15-min RPO; from snapshot copy frontier-prod-/);
    expect(summary).toContain('backup-verification: completed, 2 finding(s)');
    expect(summary).toContain('RPO gap frontier-prod: snapshots are copied to us-east-1 every 4 h against a 15-min Database RPO');
    expect(summary).not.toContain('skipped region-failback');
    expect(summary).toContain('Every run completed; 2 check(s) failed (exit 0; --fail-on-findings would exit 3)');
  }, 180_000);

  it('runs region-failover first when region-failback is named alone, and fails back from it', () => {
    const result = drill('region-failback', '--out', out);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('region-failback starts from a completed region failover: running region-failover first');
    expect(result.stdout.indexOf('▶ region-failover')).toBeGreaterThan(-1);
    expect(result.stdout.indexOf('▶ region-failback')).toBeGreaterThan(result.stdout.indexOf('▶ region-failover'));
    const failover = JSON.parse(readFileSync(join(out, 'region-failover.json'), 'utf8')) as Report;
    const failback = JSON.parse(readFileSync(join(out, 'region-failback.json'), 'utf8')) as Report;
    expect(failback.status).toBe('succeeded');
    expect(result.stdout).toContain(`"failoverExecution":"${failover.executionName}"`);
    expect(result.stdout).toContain('CNAME back to frontier-prod-ingress.us-west-2.elb.amazonaws.com.');
  }, 180_000);

  it('runs one scenario when named', () => {
    const result = drill('restore-test', '--out', out);

    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('▶ backup-verification');
    expect(existsSync(join(out, 'restore-test.json'))).toBe(true);
    expect(existsSync(join(out, 'backup-verification.json'))).toBe(false);
    // The Markdown report shows the timeline chart (a Mermaid gantt) and links its SVG, written beside it.
    const markdown = readFileSync(join(out, 'restore-test.md'), 'utf8');
    expect(markdown).toMatch(/## Timeline chart\n\n```mermaid\ngantt\n(.*\n)*? {4}StartScratchRestore :done, \d{13}, \d{13}\n/);
    const svgName = /The same chart as an image: \[([^\]]+\.svg)\]/.exec(markdown)?.[1];
    expect(svgName).toBeDefined();
    expect(parseXmlRoot(readFileSync(join(out, svgName!), 'utf8'))).toBe('svg');
    // And its HTML rendering beside it, showing that SVG.
    const html = readFileSync(join(out, 'restore-test.html'), 'utf8');
    expect(parseXmlRoot(html, { html: true })).toBe('html');
    expect(html).toContain(`<img class="timeline" src="${svgName}"`);
  }, 180_000);

  it('rotates the example database secret when secret-rotation is named: the old password refused, the new one works, neither printed', () => {
    const result = drill('secret-rotation', '--out', out);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('▶ secret-rotation');
    expect(result.stdout).not.toContain('▶ backup-verification');
    expect(result.stdout).toMatch(/done {4}StartSecretRotation — asked Secrets Manager to rotate frontier\/prod\/database to version [0-9a-f-]{36}/);
    expect(result.stdout).toContain('rotation function ran createSecret, setSecret, testSecret, finishSecret');
    expect(result.stdout).toMatch(/\nsecret-rotation: completed\n {2}version [0-9a-f-]{36} is AWSCURRENT \(frontier_admin\)\n {2}old password: refused \(28P01\)\n {2}new password: logs in\n/);
    // The drill seeds the secret with the embedded PostgreSQL's generated password (drill-...): never printed.
    expect(result.stdout).not.toMatch(/drill-[a-z0-9]{8,}/);
  }, 180_000);

  /** Every step that ran has both timestamps, in order. */
  function expectTimedSteps(report: Report, names: string[]): void {
    expect(report.steps.map((s) => s.name)).toEqual(names);
    for (const step of report.steps) {
      expect(step).toMatchObject({ status: 'succeeded', startedAt: expect.any(String), finishedAt: expect.any(String) });
      expect(Date.parse(step.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(step.startedAt!));
    }
  }

  it('fails the API over to the backup cluster when named, reporting each step with its timing', () => {
    const result = drill('cluster-failover', '--out', out);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('▶ backup-verification');
    expect(result.stdout).toContain('planted: primary frontier-prod-cluster (us-west-2) has only 1 of 3 nodes Ready');
    expect(result.stdout).toContain('done    ScaleApiOnBackup — scaled from 0 to 3');
    expect(result.stdout).toMatch(/FAIL primary-cluster-health\s+frontier-prod-cluster \(us-west-2\)\s+1 of 3 nodes Ready/);
    expect(result.stdout).toMatch(/objective API Services: RTO [\d.]+ of 15 min met/);
    expect(result.stdout).toMatch(/\+\d+\.\d\ds\s+\d+ ms\s+succeeded RunHealthChecks — 3\/3 gates passed/);
    const report = JSON.parse(readFileSync(join(out, 'cluster-failover.json'), 'utf8')) as Report;
    expect(report.status).toBe('succeeded');
    expectTimedSteps(report, ['AcquireRecoveryLock', 'AssessPrimaryCluster', 'AssessBackupCluster', 'ApplyManifestsToBackup', 'ScaleApiOnBackup', 'CheckRollout', 'RunHealthChecks', 'MoveTraffic', 'CheckDnsChange', 'ReleaseRecoveryLock']);
    expect(result.stdout).toContain("clients resolve api.frontier.com (CNAME) to the primary's ingress frontier-prod-ingress.us-west-2.elb.amazonaws.com.");
    expect(result.stdout).toContain('done    MoveTraffic — api.frontier.com. CNAME moved from frontier-prod-ingress.us-west-2.elb.amazonaws.com. to the backup cluster');
    expect(readFileSync(join(out, 'cluster-failover.md'), 'utf8')).toContain('| ScaleApiOnBackup | succeeded |');
    expect(existsSync(join(out, 'emergency-rollback.json'))).toBe(false);
    // In the summary, the unhealthy primary is why the failover ran, not a failure of the run.
    const summary = result.stdout.slice(result.stdout.lastIndexOf('\nSummary\n'));
    expect(summary).toContain('cluster-failover: completed, no findings');
    expect(summary).toMatch(/\n {2}TRIGGER primary-cluster-health on frontier-prod-cluster \(us-west-2\): 1 of 3 nodes Ready .* why the cluster-failover ran, not a failure of it\n/);
    expect(summary).not.toMatch(/FAIL +primary-cluster-health/);
    // The notification on-call received, as the run published it to the alert topic.
    expect(summary).toMatch(/on-call notification \(SNS frontier-prod-dr-alerts, message [0-9a-f-]{36}\):\n {4}Subject: \[frontier-dr\] cluster-failover succeeded/);
    expect(summary).toContain('Every run completed\n');
  }, 180_000);

  it('rolls the primary API back one revision when named, reporting each step with its timing', () => {
    const result = drill('emergency-rollback', '--out', out);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('rolls back production/frontier-api on the PRIMARY cluster frontier-prod-cluster');
    expect(result.stdout).toContain('done    PlanRollback — production/frontier-api on frontier-prod-cluster: revision 3 (frontier/api:1.9.0) -> 2 (frontier/api:1.8.2)');
    expect(result.stdout).toMatch(/objective API Services: RTO [\d.]+ of 15 min met/);
    const report = JSON.parse(readFileSync(join(out, 'emergency-rollback.json'), 'utf8')) as Report;
    expect(report.status).toBe('succeeded');
    expectTimedSteps(report, ['PlanRollback', 'RollBackDeployment', 'CheckRollout', 'RunHealthChecks']);
    expect(report.steps.find((s) => s.name === 'RollBackDeployment')?.detail).toMatch(/now running frontier\/api:1\.8\.2$/);
    expect(existsSync(join(out, 'cluster-failover.json'))).toBe(false);
  }, 180_000);

  it('recovers the damaged database when named: restore point, why newer candidates were refused, data lost, objectives', () => {
    const result = drill('database-recovery', '--out', out);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('▶ backup-verification');
    const incident = /planted: frontier-prod \(us-west-2\) damaged at (\S+), 3 min ago/.exec(result.stdout)?.[1];
    expect(incident).toBeDefined();
    const restorePoint = new Date(Date.parse(incident!) - 5 * 60_000).toISOString();
    expect(result.stdout).toContain(`restore point     point in time ${restorePoint}`);
    expect(result.stdout).toContain('why               point in time 5 min before the incident');
    // The seed's snapshots run every 4 hours: one newer than the restore point only just after a run.
    expect(result.stdout).toMatch(
      /newer, refused {4}snapshot frontier-prod-\d{8}-\d{4} \(\S+\): (taken after the incident, it may contain the damage|newer than the chosen point)|newer candidates {2}none: no later restore point was available/,
    );
    expect(result.stdout).toContain(`data-loss window  5 min of writes, ${restorePoint} .. ${new Date(incident!).toISOString()} (incident); Database RPO 15 min`);
    expect(result.stdout).toMatch(/objective Database: RTO [\d.]+ of 30 min RPO 5 of 15 min met/);
    expect(result.stdout).toMatch(/PASS database-select-1\s+frontier-prod-r-\d{12}\.aaaaaaaaaa\.us-west-2\.rds\.amazonaws\.com/);
    const report = JSON.parse(readFileSync(join(out, 'database-recovery.json'), 'utf8')) as Report;
    expect(report.status).toBe('succeeded');
    expect(report.objectives).toEqual([expect.objectContaining({ component: 'Database', measuredRpoMinutes: 5, met: true })]);
    expect(existsSync(join(out, 'restore-test.json'))).toBe(false);
  }, 180_000);

  it('drills a deployment shaped unlike the example (regions, names, parameter-group read-only mode) from --config', () => {
    const raw = parseYaml(readFileSync('config/example.yml', 'utf8')) as Record<string, any>;
    const text = JSON.stringify(raw)
      .replaceAll('us-west-2', 'eu-west-1')
      .replaceAll('us-east-1', 'eu-central-1')
      .replaceAll('frontier-prod-', 'orders-')
      .replaceAll('"frontier-prod"', '"orders"');
    const other = JSON.parse(text) as Record<string, any>;
    other.databases[0].databaseName = 'orders_main';
    other.databases[0].recovery.readOnlyMode = 'parameter-group';
    other.databases[0].recovery.readOnlyParameterGroup = 'orders-own-pg16';
    other.databases[0].recovery.kubernetesSecret = { name: 'orders-db', key: 'DATABASE_URL' };
    other.kubernetes.productionReplicas = 4;
    // Route 53 health-check metrics exist only in us-east-1: a recovery region elsewhere probes.
    other.regionFailover.detection.mode = 'probe';
    const file = join(out, 'orders.yml');
    writeFileSync(file, toYaml(other));

    const result = drill('database-recovery', 'restore-test', '--config', file, '--out', out);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const restore = JSON.parse(readFileSync(join(out, 'restore-test.json'), 'utf8')) as Report;
    expect(restore.checks).toContainEqual(expect.objectContaining({ name: 'restore-test-query', passed: true, resource: expect.stringMatching(/^orders-drtest-\w+ \(eu-central-1\)$/) }));
    const recovery = JSON.parse(readFileSync(join(out, 'database-recovery.json'), 'utf8')) as Report;
    expect(recovery.status).toBe('succeeded');
    // Read-only through the instance's own group, which reached the damaged database (writes refused).
    expect(recovery.steps.find((s) => s.name === 'SetReadOnlyParameter')?.actions).toEqual([
      expect.objectContaining({ operation: 'ModifyDBParameterGroup', parameters: expect.objectContaining({ DBParameterGroupName: 'orders-own-pg16' }), performed: true }),
    ]);
    expect(recovery.checks).toContainEqual(expect.objectContaining({ name: 'read-only-mode', resource: 'orders (eu-west-1)', passed: true }));
    expect(recovery.checks).toContainEqual(expect.objectContaining({ name: 'database-select-1', passed: true, resource: expect.stringMatching(/^orders-r-\d{12}\.\w+\.eu-west-1\.rds\.amazonaws\.com:5432\/orders_main$/) }));
    expect(result.stdout).toContain('reads orders-db/DATABASE_URL');
    expect(result.stdout).toContain('runs 4 replicas');
  }, 180_000);

  it('drills what a deployment without clusters has, says what it skipped, and refuses a named scenario it cannot run', () => {
    const raw = parseYaml(readFileSync('config/example.yml', 'utf8')) as Record<string, any>;
    delete raw.kubernetes;
    delete raw.securityIncident;
    delete raw.databases[0].recovery;
    delete raw.health.redis;
    const file = join(out, 'databases-only.yml');
    writeFileSync(file, toYaml(raw));

    const named = drill('cluster-failover', '--config', file, '--out', out);
    expect(named.status).toBe(2);
    expect(named.stderr).toContain(`cannot drill:\n  cluster-failover: ${file} has no kubernetes section`);

    const all = drill('--config', file, '--out', out);
    expect(all.stderr).toBe('');
    expect(all.status).toBe(0);
    expect(all.stdout).toContain(`Skipped:\n  cluster-failover: ${file} has no kubernetes section`);
    expect(all.stdout).toContain(`database-recovery: ${file} has no kubernetes section`);
    expect(all.stdout).toContain(`region-failback: ${file} has no kubernetes section`);
    expect(all.stdout).not.toContain('▶ region-failback');
    expect(all.stdout).toContain('▶ backup-verification');
    expect(all.stdout).toContain('▶ restore-test');
    expect(all.stdout).not.toContain('▶ cluster-failover');
    expect(existsSync(join(out, 'restore-test.json'))).toBe(true);
  }, 180_000);

  it('rejects an unknown scenario and a bad config file before starting anything', () => {
    const unknown = drill('regional-failover');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown scenario regional-failover');

    // Several bad fields, one of the wrong type: all of them at once, the rules across fields too.
    const badConfig = join(out, 'bad.yml');
    writeFileSync(
      badConfig,
      readFileSync('config/example.yml', 'utf8')
        .replace('retentionDays: 30\n    requireEncryption', 'retentionDays: thirty\n    requireEncryption')
        .replace('region: us-west-2\n    retentionDays: 90', 'region: mars\n    retentionDays: 90')
        .replace('recoveryRegion: us-east-1', 'recoveryRegion: us-west-2')
        .replace('database: frontier-prod\n', 'database: frontier-staging\n'),
    );
    const invalid = drill('--config', badConfig);
    expect(invalid.status).toBe(2);
    expect(invalid.stdout).toBe('');
    expect(invalid.stderr.trim().split('\n')).toEqual([
      `${badConfig} is not a valid deployment config:`,
      '  - databases[0].retentionDays: got "thirty" (string); expected number',
      '  - buckets[1].region: got "mars" (string); expected an AWS region name such as us-east-1',
      '  - recoveryRegion: got "us-west-2" (string); must differ from primaryRegion: the recovery stack cannot live in the region it protects',
      '  - health.database: got "frontier-staging" (string); must name one of databases (frontier-prod)',
    ]);
  }, 60_000);

  it('lists every option and every scenario, one line each, with the exit statuses', () => {
    const result = drill('--help');

    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    for (const option of ['--out <dir>', '--config <file>', '--endpoint <url>', '--fail-on-findings', '-h, --help']) expect(result.stdout).toMatch(new RegExp(`\\n  ${option} +\\S`));
    for (const scenario of ['backup-verification', 'restore-test', 'cluster-failover', 'emergency-rollback', 'database-recovery', 'region-failover', 'region-failback', 'security-incident']) expect(result.stdout).toMatch(new RegExp(`\\n  ${scenario} +\\S`));
    expect(result.stdout).toMatch(/\n  secret-rotation +\S/);
    for (const code of [0, 1, 2, 3]) expect(result.stdout).toMatch(new RegExp(`\\n  ${code}  \\S`));
  });

  it('drills backup verification alone without Redis or the Kubernetes clusters; the summary states the RPO gap; --fail-on-findings exits 3; NO_COLOR is plain', () => {
    const result = drillWith({ NO_COLOR: '1' }, 'backup-verification', '--fail-on-findings', '--out', out);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(3);
    expect(result.stdout).toContain('Starting the emulated environment (moto, PostgreSQL)...');
    expect(result.stdout).not.toMatch(/Kubernetes|Redis|valkey/);
    expect(result.stdout).not.toMatch(ESCAPE);
    const summary = result.stdout.slice(result.stdout.lastIndexOf('\nSummary\n'));
    // Findings first, then what passed.
    expect(summary.indexOf('  FAIL    encryption on frontier-prod (us-west-2)')).toBeGreaterThan(0);
    expect(summary.indexOf('  FAIL    bucket-replication')).toBeLessThan(summary.indexOf('  PASS    '));
    expect(summary.indexOf('  FAIL    encryption')).toBeLessThan(summary.indexOf('  PASS    '));
    // The 4-hourly copies against a 15-minute RPO: the exposure is the time since the last copy.
    const report = JSON.parse(readFileSync(join(out, 'backup-verification.json'), 'utf8')) as Report;
    const regionFailover = report.objectives.find((o) => o.note.includes('region failover to us-east-1'));
    expect(regionFailover?.measuredRpoMinutes).toBeGreaterThanOrEqual(minutesSinceLastCopy(Date.parse(report.startedAt)) - 1);
    expect(regionFailover?.measuredRpoMinutes).toBeLessThanOrEqual(minutesSinceLastCopy(Date.parse(report.finishedAt)) + 1);
    expect(summary).toContain(
      'RPO gap frontier-prod: snapshots are copied to us-east-1 every 4 h against a 15-min Database RPO: a region failover now would lose ',
    );
    expect(summary).toMatch(/on-call notification \(SNS frontier-prod-dr-alerts, message [0-9a-f-]{36}\):\n {4}Subject: \[frontier-dr\] backup-verification succeeded, 2 check\(s\) failed\n/);
    expect(summary).toContain('    FAILED CHECK encryption on frontier-prod (us-west-2): Unencrypted backups');
    expect(result.stdout).toContain('2 check(s) failed (exit 3: --fail-on-findings)');
  }, 180_000);

  it('colours its output when FORCE_COLOR=1, even into a pipe', () => {
    const result = drillWith({ FORCE_COLOR: '1' }, 'backup-verification', '--out', out);

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(ESCAPE);
    expect(result.stdout).toContain('\x1b[31mFAIL\x1b[39m');
  }, 180_000);
});
