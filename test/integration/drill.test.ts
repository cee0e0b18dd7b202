// The drill as an operator runs it: a separate process, its own emulator, reports on disk.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { Report } from '../../shared/report.js';

const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

function drill(...args: string[]) {
  return spawnSync(tsx, ['cli/drill.ts', ...args], { cwd: process.cwd(), encoding: 'utf8', timeout: 180_000, env: { ...process.env, AWS_ENDPOINT_URL: '' } });
}

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
    // Last, since it leaves the emulated primary's database read-only and the application repointed.
    expect(result.stdout.lastIndexOf('▶ database-recovery')).toBeGreaterThan(result.stdout.lastIndexOf('▶ emergency-rollback'));
    expect((JSON.parse(readFileSync(join(out, 'database-recovery.json'), 'utf8')) as Report).status).toBe('succeeded');
  }, 180_000);

  it('runs one scenario when named', () => {
    const result = drill('restore-test', '--out', out);

    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('▶ backup-verification');
    expect(existsSync(join(out, 'restore-test.json'))).toBe(true);
    expect(existsSync(join(out, 'backup-verification.json'))).toBe(false);
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
    expectTimedSteps(report, ['AssessPrimaryCluster', 'ApplyManifestsToBackup', 'ScaleApiOnBackup', 'CheckRollout', 'RunHealthChecks', 'MoveTraffic', 'CheckDnsChange']);
    expect(result.stdout).toContain("clients resolve api.frontier.com (CNAME) to the primary's ingress frontier-prod-ingress.us-west-2.elb.amazonaws.com.");
    expect(result.stdout).toContain('done    MoveTraffic — api.frontier.com. CNAME moved from frontier-prod-ingress.us-west-2.elb.amazonaws.com. to the backup cluster');
    expect(readFileSync(join(out, 'cluster-failover.md'), 'utf8')).toContain('| ScaleApiOnBackup | succeeded |');
    expect(existsSync(join(out, 'emergency-rollback.json'))).toBe(false);
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
    expect(result.stdout).toMatch(/newer, refused {4}snapshot frontier-prod-\d{8}-\d{4} \(\S+\): taken after the incident, it may contain the damage/);
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
    expect(all.stdout).toContain('▶ backup-verification');
    expect(all.stdout).toContain('▶ restore-test');
    expect(all.stdout).not.toContain('▶ cluster-failover');
    expect(existsSync(join(out, 'restore-test.json'))).toBe(true);
  }, 180_000);

  it('rejects an unknown scenario and a bad config file before starting anything', () => {
    const unknown = drill('region-failover');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown scenario region-failover');

    const badConfig = join(out, 'bad.yml');
    writeFileSync(badConfig, readFileSync('config/example.yml', 'utf8').replace('retentionDays: 30\n    requireEncryption', 'retentionDays: 90\n    requireEncryption'));
    const invalid = drill('--config', badConfig);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toContain('databases[0].retentionDays: got 90 (number); expected at most 35');
  }, 60_000);
});
