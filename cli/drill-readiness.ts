// The drill's `readiness` entry (`npm run drill -- readiness`; not one of SCENARIOS, and not part of
// the plain drill: its planted problems would stop the other scenarios, so it seeds an environment of
// its own): seeds the example deployment, plants one readiness problem per scenario
// (local/readiness-problems.ts), runs the readiness state machine through its real definition and
// handlers, and prints each scenario ready or not ready with its reasons.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeploymentConfig } from '../shared/config.js';
import type { PublishedReadiness, ReadinessReport } from '../shared/readiness-report.js';
import {
  emulatorConfig,
  readStoredObject,
  runEmulatedExecution,
  startClusterEnvironment,
  startEmulatedEnvironment,
  useConfig,
} from '../local/index.js';
import { plantReadinessProblems, seedReadinessDeployment } from '../local/readiness-problems.js';

export const READINESS_DRILL = 'readiness';
export const READINESS_DRILL_SUMMARY = 'plants one problem per scenario and evaluates readiness: each scenario ready or not, with its reasons';

export interface ReadinessDrillResult {
  completed: boolean;
  /** Scenarios found not ready. */
  notReady: number;
  lines: string[];
}

/**
 * Runs the readiness drill in an environment of its own (started and stopped here). `out`: where the
 * JSON and Markdown reports are written. `log`: progress lines as they happen.
 */
export async function drillReadiness(example: DeploymentConfig, out: string, log: (line: string) => void): Promise<ReadinessDrillResult> {
  const lines: string[] = [];
  log('Starting the emulated environment (moto, PostgreSQL, two Kubernetes control planes, Redis, the API /health)...');
  const environment = await startEmulatedEnvironment();
  try {
    const clusters = await startClusterEnvironment(environment, example, { primary: 'healthy', log });
    let config = emulatorConfig(example, environment);
    const ready = await seedReadinessDeployment(config, environment, clusters);
    config = ready.config;
    const seeded = ready.seeded;
    const planted = await plantReadinessProblems(config, environment.endpoint, clusters);
    log(`Planted problems the evaluation must find:`);
    for (const problem of planted) log(`  ${problem.scenario.padEnd(20)} ${problem.what} (check ${problem.check})`);
    useConfig(config, seeded.alertTopicArn);
    process.env.RECOVERY_LOCK_TABLE = seeded.recoveryLockTable;
    process.env.FUNCTION_NAME_PREFIX ??= 'frontier-dr-local-';
    const started = Date.now();
    const run = await runEmulatedExecution(environment.endpoint, 'readiness', { reason: 'local drill: planted readiness problems' }, { executionName: `drill-readiness-${started}` });
    log(`  execution ${run.status}: ${run.transitions} state transitions, ${(run.wallMilliseconds / 1000).toFixed(1)} s`);
    if (run.status !== 'SUCCEEDED') {
      lines.push(`DID NOT COMPLETE: ${run.error?.name}: ${run.error?.message}`);
      return { completed: false, notReady: 0, lines };
    }
    const output = run.output as PublishedReadiness;
    const json = await readStoredObject(environment.endpoint, config.recoveryRegion, output.location.json);
    const markdown = await readStoredObject(environment.endpoint, config.recoveryRegion, output.location.markdown);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'readiness.json'), json);
    writeFileSync(join(out, 'readiness.md'), markdown);
    const report = JSON.parse(json) as ReadinessReport;
    lines.push(report.summary);
    for (const verdict of [...report.scenarios].sort((a, b) => Number(a.ready) - Number(b.ready))) {
      lines.push(`${verdict.ready ? 'READY    ' : 'NOT READY'} ${verdict.scenario} (${verdict.checks.length} checks)`);
      for (const reason of verdict.reasons) lines.push(`            - ${reason}`);
    }
    const missed = planted.filter((p) => !report.scenarios.some((s) => s.scenario === p.scenario && s.checks.some((c) => c.name === p.check && !c.passed)));
    for (const problem of missed) lines.push(`MISSED planted problem: ${problem.scenario}: ${problem.what}`);
    lines.push(output.alertMessageId ? `alert sent (SNS message ${output.alertMessageId}): ${output.announced.map((a) => `${a.scenario} ${a.change}`).join(', ')}` : 'no alert (nothing changed)');
    lines.push(`report: ${join(out, 'readiness.md')} (stored at ${output.location.markdown})`);
    return { completed: missed.length === 0, notReady: output.notReady.length, lines };
  } finally {
    await environment.stop();
  }
}
