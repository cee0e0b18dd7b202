// The operator CLI as an operator runs it: the built program (dist/cli/frontier-dr.js, what `npx
// frontier-dr` runs) in its own process, talking to the emulated environment through AWS_ENDPOINT_URL.
// This process hosts the environment (local/serve-stack.ts): moto behind the AWS front, which serves
// the stack's state machines (frontier-dr-test-<scenario>) through the Step Functions API and runs
// them with the real definitions and handlers here. The seeded example deployment has no clusters:
// backup verification needs none, and a region failover reaches its approval before any.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsFrontOf } from '../../local/index.js';
import { serveStack, type ServedStack } from '../../local/serve-stack.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'dist', 'cli', 'frontier-dr.js');
const STAGE = 'test';
const TIMEOUT = 180_000;

let served: ServedStack;
let restoreErrorRealm: () => void;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in its own process; `onLine` sees each stdout line as it comes. */
function cli(args: string[], onLine?: (line: string) => void): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AWS_ENDPOINT_URL: served.endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
        NO_COLOR: '1',
      },
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine?.(line);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function executionArnIn(output: string): string {
  const arn = /started [a-z-]+(?: \(dry run\))?: (arn:aws:states:\S+)/.exec(output)?.[1];
  if (!arn) throw new Error(`no execution ARN in:\n${output}`);
  return arn;
}

/** Starts `watch` and resolves once it shows the approval prompt; `finished` is the whole watch. */
function watchUntilApproval(arn: string): Promise<{ finished: Promise<Ran> }> {
  return new Promise((resolve, reject) => {
    let prompted = false;
    const finished = cli(['watch', arn, '--interval', '0.2'], (line) => {
      if (!prompted && line.includes('APPROVAL RequestApproval is waiting')) {
        prompted = true;
        resolve({ finished });
      }
    });
    finished.then((ran) => {
      if (!prompted) reject(new Error(`watch ended without an approval prompt:\n${ran.stdout}\n${ran.stderr}`));
    }, reject);
  });
}

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  // What `npx frontier-dr` runs after npm install: build it as prepare does.
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { cwd: ROOT });
  served = await serveStack({ stage: STAGE });
}, 300_000);

afterAll(async () => {
  await served?.stop();
  restoreErrorRealm?.();
}, 120_000);

describe('frontier-dr, the built CLI as a process', () => {
  it.each(['', 'drill', 'start', 'watch', 'approve', 'report', 'validate'])('answers --help for %s with exit 0', async (command) => {
    const ran = await cli([...(command ? [command] : []), '--help']);
    expect(ran.code).toBe(0);
    // The drill's own help, exactly as npm run drill -- --help prints it.
    expect(ran.stdout).toContain(command === 'drill' ? 'usage: npm run drill --' : `Usage: frontier-dr${command ? ` ${command}` : ''}`);
  }, TIMEOUT);

  it('validates the example config (warnings for control-plane DNS, exit 0)', async () => {
    const ran = await cli(['validate', '--config', 'config/example.yml']);
    expect(ran.stdout).toContain('config/example.yml: valid (0 error(s), 2 warning(s))');
    expect(ran.stdout).toMatch(/^warning regionFailover\.dns\[0\]\.mode: control-plane DNS for api\.frontier\.com/m);
    expect(ran.code).toBe(0);
  }, TIMEOUT);

  it('fails a config whose region failover reaches the primary region, in one line naming the field (exit 1)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'frontier-dr-cli-')), 'primary-redis.yml');
    // The recovery region's health gate pointed at the primary region's Redis (usw2 = us-west-2).
    writeFileSync(file, readFileSync('config/example.yml', 'utf8').replace('frontier-cache-dr.def456.ng.0001.use1', 'frontier-cache.abc123.ng.0001.usw2'));
    const ran = await cli(['validate', '--config', file]);
    const errors = ran.stdout.split('\n').filter((line) => line.startsWith('error'));
    expect(errors).toEqual([
      expect.stringMatching(/^error {3}regionFailover\.health\.redis\.host: "frontier-cache\.abc123\.ng\.0001\.usw2\.cache\.amazonaws\.com" is a host in the primary region \(us-west-2\): region-failover's RunHealthChecks would need the failing region/),
    ]);
    expect(ran.code).toBe(1);
  }, TIMEOUT);

  it('refuses a bad input with exit 2, naming the field, before any AWS request', async () => {
    const recording = awsFrontOf(served.endpoint)!.recordRequests();
    try {
      const ran = await cli(['start', 'backup-verification', '--stage', STAGE, '--input', '{"dryRun": "yes"}']);
      expect(ran.code).toBe(2);
      expect(ran.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^frontier-dr start: backup-verification input is invalid; nothing was changed: dryRun: got "yes" \(string\); expected boolean$/)]);
      const unknown = await cli(['start', 'region-failovr', '--stage', STAGE]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/^frontier-dr start: scenario: got "region-failovr"; expected one of backup-verification/);
      const noStage = await cli(['start', 'backup-verification']);
      expect(noStage.code).toBe(2);
      expect(noStage.stderr).toContain("required option '--stage <stage>' not specified");
      expect(recording.requests()).toEqual([]);
    } finally {
      recording.stop();
    }
  }, TIMEOUT);

  it('starts a dry run, watches it to the end and prints its report', async () => {
    const started = await cli(['start', 'backup-verification', '--stage', STAGE, '--dry-run', '--input', '{"reason": "cli test"}']);
    expect(started.code).toBe(0);
    const arn = executionArnIn(started.stdout);
    expect(arn).toMatch(/^arn:aws:states:us-east-1:123456789012:execution:frontier-dr-backup-verification:\d{8}-\d{6}-[0-9a-f]{6}$/);
    expect(started.stdout).toContain(`console: https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${arn}`);

    const watched = await cli(['watch', arn, '--interval', '0.2']);
    expect(watched.stdout).toMatch(/^backup-verification \S+: (RUNNING|SUCCEEDED), started /);
    expect(watched.stdout).toMatch(/^\[ *\d+s\] done {5}VerifyDatabaseBackups/m);
    expect(watched.stdout).toMatch(/^\[ *\d+s\] ended SUCCEEDED after \d+s$/m);
    expect(watched.stdout).toMatch(/^report: s3:\/\/frontier-prod-dr-reports\/reports\/backup-verification\/.+\.md/m);
    expect(watched.code).toBe(0);

    const markdown = await cli(['report', arn]);
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toContain('backup-verification');
    const json = await cli(['report', arn, '--format', 'json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { scenario: string; dryRun: boolean; executionId: string; reason?: string };
    expect(report).toMatchObject({ scenario: 'backup-verification', dryRun: true, executionId: arn });
  }, TIMEOUT);

  it('declines a region failover waiting for approval: the run changes nothing and ends failed (ApprovalDeclined)', async () => {
    const started = await cli(['start', 'region-failover', '--stage', STAGE, '--input', '{"skipConfirmation": true, "reason": "cli test: decline"}']);
    expect(started.code).toBe(0);
    const arn = executionArnIn(started.stdout);
    const { finished } = await watchUntilApproval(arn);

    const declined = await cli(['approve', arn, '--decline', '--by', 'Test Operator', '--reason', 'not now']);
    expect(declined.stdout).toMatch(/^RequestApproval: declined by Test Operator through the CLI at \S+: not now; nothing was changed$/m);
    expect(declined.code).toBe(0);

    const watched = await finished;
    expect(watched.stdout).toMatch(/FAILED {3}RequestApproval: ApprovalDeclined: declined by Test Operator through the CLI/);
    expect(watched.stdout).toMatch(/^\[ *\S+\] ended FAILED after .+ of the 15-min RTO \(API Services\)/m);
    expect(watched.code).toBe(1);
    const report = JSON.parse((await cli(['report', arn, '--format', 'json'])).stdout) as { failures: { step: string; error: string; message: string }[]; steps: { name: string; actions: { performed: boolean; service: string }[] }[] };
    expect(report.failures).toEqual(expect.arrayContaining([expect.objectContaining({ step: 'RequestApproval', error: 'ApprovalDeclined', message: expect.stringContaining('declined by Test Operator through the CLI') })]));
    // Nothing but the notices on the alert topic (the outage, the approval request) was done.
    expect(report.steps.flatMap((s) => s.actions).filter((a) => a.performed && a.service !== 'sns')).toEqual([]);

    // Answered once: a second answer finds nothing waiting.
    const again = await cli(['approve', arn, '--by', 'Test Operator']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^frontier-dr approve: no approval is waiting in .+ \(execution FAILED\)/)]);
  }, TIMEOUT);

  it('approves a region failover waiting for approval: the run goes on past the approval', async () => {
    const started = await cli(['start', 'region-failover', '--stage', STAGE, '--input', '{"skipConfirmation": true, "reason": "cli test: approve"}']);
    const arn = executionArnIn(started.stdout);
    const { finished } = await watchUntilApproval(arn);

    const approved = await cli(['approve', arn, '--by', 'Test Operator']);
    expect(approved.stdout).toMatch(/^RequestApproval: approved by Test Operator through the CLI at /m);
    expect(approved.code).toBe(0);

    const watched = await finished;
    expect(watched.stdout).toMatch(/answered RequestApproval: approved by Test Operator \(cli\)/);
    // The first state after an approval: the run went on (this environment has no clusters to fail over to).
    expect(watched.stdout).toMatch(/started {2}Preflight/);
    const report = JSON.parse((await cli(['report', arn, '--format', 'json'])).stdout) as { failures: { step: string }[] };
    expect(report.failures.map((f) => f.step)).not.toContain('RequestApproval');
  }, TIMEOUT);
});
