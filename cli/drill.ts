// `npm run drill`: the product's main job, run locally. Starts the emulated environment (moto in the
// project's Python environment, an embedded PostgreSQL; for the cluster scenarios also two Kubernetes
// API fakes, redis-server and the API's /health), seeds the example deployment with planted problems,
// runs each scenario through its real state machine definition with the real handlers, shows progress,
// prints the findings and each step's timing, and writes the reports.
//
// Planted for the cluster scenarios: the primary cluster has only 1 of 3 nodes Ready (cluster-failover
// must bring the API up on the backup, whose deployment idles at 0 replicas), and the primary's API runs
// a bad release on top of two good revisions (emergency-rollback, with its default input, rolls the
// primary back one revision). For database-recovery (last: it changes the emulated primary) the primary
// cluster is mended, and the database is damaged a few minutes before the run (its input's
// incidentTime): the recovery stops the API, makes the damaged database read-only, restores it to a new
// instance as it was before the damage, repoints the application and brings the API back.
//
//   npm run drill                                   every scenario, fresh emulator, config/example.yml
//   npm run drill -- restore-test                   one scenario
//   npm run drill -- database-recovery              the database recovery alone
//   npm run drill -- cluster-failover emergency-rollback
//   npm run drill -- --out ./drill-reports          where the reports go
//   npm run drill -- --config my.yml                seed and drill another deployment file
//   npm run drill -- --config my.yml --endpoint http://127.0.0.1:5000
//                                                   an already-running emulator, not seeded
//
// Exit status: 0 when every run completed (even with failed checks), 1 when a run could not complete,
// 2 for bad arguments or a missing prerequisite.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { DeploymentConfig } from '../shared/config.js';
import { loadDeploymentConfigFile } from '../shared/config-file.js';
import type { Report } from '../shared/report.js';
import type { DatabaseAssessment } from '../shared/database-recovery.js';
import { describeRestorePoint, restorePointTime } from '../shared/restore-point.js';
import {
  checkPrerequisites,
  type ClusterEnvironment,
  type EmulatedEnvironment,
  emulatorConfig,
  type EventLog,
  type LocalRunResult,
  primaryIngress,
  readStoredObject,
  RECOVERY_LOCK_TABLE,
  runEmulatedExecution,
  seedExampleDeployment,
  startClusterEnvironment,
  startEmulatedEnvironment,
  useConfig,
} from '../local/index.js';

// database-recovery last: it leaves the primary's database read-only and the application repointed.
const SCENARIOS = ['backup-verification', 'restore-test', 'cluster-failover', 'emergency-rollback', 'database-recovery'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** Scenarios that need the clusters, Redis and /health servers (and the config's kubernetes section). */
const CLUSTER_SCENARIOS: readonly Scenario[] = ['cluster-failover', 'emergency-rollback', 'database-recovery'];

/** How long before the run the drill's database damage happened (the database-recovery incidentTime). */
const INCIDENT_MINUTES_AGO = 3;

/** The execution input of each scenario: what an operator would start it with. */
function inputFor(scenario: Scenario, now: Date): Record<string, unknown> {
  switch (scenario) {
    case 'database-recovery': {
      // Whole seconds, as an operator would type it.
      const incident = new Date(Math.floor(now.getTime() / 1000) * 1000 - INCIDENT_MINUTES_AGO * 60_000);
      return { reason: 'local drill', incidentTime: incident.toISOString().replace('.000Z', 'Z') };
    }
    // emergency-rollback: the default target, the API deployment on the primary cluster.
    default:
      return { reason: 'local drill' };
  }
}

/**
 * Wait states last this long in the cluster scenarios (0 elsewhere): long enough for the Kubernetes
 * fakes' controllers (one step per 100 ms) to move between two looks, short enough not to bore.
 */
const CLUSTER_WAIT_MS = 300;
const CLUSTER_TICK_MS = 100;

const usage = `usage: npm run drill -- [${SCENARIOS.join('|')} ...] [--out <dir>] [--config <file>] [--endpoint <url>]`;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

function parseCommandLine() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        config: { type: 'string' },
        endpoint: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  if (parsed.values.help) {
    console.log(usage);
    process.exit(0);
  }
  const unknown = parsed.positionals.filter((p) => !SCENARIOS.includes(p as Scenario));
  if (unknown.length > 0) fail(`unknown scenario ${unknown.join(', ')}; expected ${SCENARIOS.join(', ')}\n${usage}`);
  if (parsed.values.endpoint && !parsed.values.config) fail(`--endpoint needs --config: the deployment the endpoint already holds\n${usage}`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
  return {
    // Always in SCENARIOS order, whatever order they were named in, each once: database-recovery
    // must come last.
    scenarios: parsed.positionals.length ? SCENARIOS.filter((s) => parsed.positionals.includes(s)) : [...SCENARIOS],
    /** Named on the command line: a scenario the deployment cannot run is then an error, not skipped. */
    named: parsed.positionals.length > 0,
    out: resolve(parsed.values.out ?? join('reports', `drill-${stamp}`)),
    configFile: resolve(parsed.values.config ?? 'config/example.yml'),
    endpoint: parsed.values.endpoint,
  };
}

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const red = (text: string) => (process.stdout.isTTY ? `\x1b[31m${text}\x1b[0m` : text);
const green = (text: string) => (process.stdout.isTTY ? `\x1b[32m${text}\x1b[0m` : text);

/** What a step said about itself (e.g. "1 of 3 new replicas updated"), from a state's output. */
function stepDetail(stateName: string, output: unknown): string {
  const steps = (output as { steps?: Record<string, { step?: { detail?: unknown } }> } | null)?.steps;
  const detail = steps?.[stateName]?.step?.detail;
  if (typeof detail !== 'string' || detail === '') return '';
  return ` — ${detail.length > 110 ? `${detail.slice(0, 107)}...` : detail}`;
}

/** One line per state that finished, failed, retried or caught an error, with time since start. */
function progressPrinter(started: number, withDetail: boolean): (event: EventLog) => void {
  return (event) => {
    if (!('state' in event)) return;
    const input = event.state.input as { item?: unknown } | null;
    const where = input && typeof input === 'object' && typeof input.item === 'string' ? `${input.item} › ` : '';
    const at = `[${((event.timestamp - started) / 1000).toFixed(1).padStart(6)}s]`;
    const name = `${where}${event.state.name}`;
    switch (event.type) {
      case 'StateExited':
        if (event.state.type === 'Task' || event.state.type === 'Map') {
          console.log(`  ${at} ${green('done')}    ${name}${withDetail ? stepDetail(event.state.name, event.state.output) : ''}`);
        }
        break;
      case 'StateFailed':
        console.log(`  ${at} ${red('FAILED')}  ${name}: ${event.Error}`);
        break;
      case 'StateRetried':
        console.log(`  ${at} retry   ${name} (attempt ${event.retry.attempt})`);
        break;
      case 'StateCaught':
        console.log(`  ${at} caught  ${name}: handled by ${event.catch.catcher.Next}`);
        break;
      default:
        break;
    }
  };
}

function printFindings(report: Report): void {
  console.log(`\n  ${bold(report.summary)}`);
  for (const failure of report.failures) console.log(`  ${red('FAILED STEP')} ${failure.step}: ${failure.error}: ${failure.message}`);
  for (const check of report.checks) {
    const mark = check.passed ? green('PASS') : red('FAIL');
    console.log(`  ${mark} ${check.name.padEnd(30)} ${check.resource.padEnd(42)} ${check.measured} (target ${check.target})`);
    if (!check.passed) console.log(`       → ${check.message}`);
  }
  for (const objective of report.objectives) {
    const met = objective.met === null ? 'not measured' : objective.met ? green('met') : red('MISSED');
    const rto = objective.measuredRtoMinutes === null ? '' : ` RTO ${objective.measuredRtoMinutes} of ${objective.rtoMinutes} min`;
    const rpo = objective.measuredRpoMinutes === null ? '' : ` RPO ${objective.measuredRpoMinutes} of ${objective.rpoMinutes} min`;
    console.log(`  objective ${objective.component}:${rto}${rpo} ${met} — ${objective.note}`);
  }
}

/** Each step of the report with when it started (after the run's start) and how long it took. */
function printTimeline(report: Report): void {
  const origin = Date.parse(report.startedAt);
  console.log('  steps:');
  for (const step of report.steps) {
    const started = step.startedAt ? Date.parse(step.startedAt) : NaN;
    const finished = step.finishedAt ? Date.parse(step.finishedAt) : NaN;
    const at = Number.isNaN(started) ? ''.padStart(8) : `+${((started - origin) / 1000).toFixed(2)}s`.padStart(8);
    const took = Number.isNaN(started) || Number.isNaN(finished) ? ''.padStart(7) : `${finished - started} ms`.padStart(7);
    const label = step.status.padEnd(9);
    const status = step.status === 'succeeded' ? green(label) : step.status === 'failed' ? red(label) : label;
    const what = step.detail ?? step.error ?? '';
    console.log(`    ${at} ${took}  ${status} ${step.name}${what ? ` — ${what}` : ''}`);
  }
}

/** Why this deployment cannot run `scenario`, or null when it can. */
function whyUnsupported(scenario: Scenario, config: DeploymentConfig): string | null {
  if (CLUSTER_SCENARIOS.includes(scenario) && !config.kubernetes) return 'has no kubernetes section (clusters, namespace, API deployment)';
  if (scenario === 'database-recovery' && !config.databases.some((d) => d.recovery)) return 'has no database with a recovery section';
  return null;
}

/** What the drill planted for a cluster scenario and which cluster it acts on, before it runs. */
async function describeClusterSetup(scenario: Scenario, input: Record<string, unknown>, config: DeploymentConfig, clusters: ClusterEnvironment | undefined): Promise<void> {
  const kubernetes = config.kubernetes;
  if (!kubernetes || !clusters) return;
  const { primary, backup } = kubernetes.clusters;
  const target = `${kubernetes.namespace}/${kubernetes.apiDeployment}`;
  if (scenario === 'cluster-failover') {
    console.log(`  planted: primary ${primary.name} (${primary.region}) ${describeCondition(clusters.primaryCondition())}`);
    console.log(`  backup ${backup.name} (${backup.region}): ${target} at ${clusters.revisions.backup.at(-1)}, scaled to 0; manifests in s3://${kubernetes.manifests.bucket}/${kubernetes.manifests.prefix}`);
    if (kubernetes.traffic) {
      console.log(`  clients resolve ${kubernetes.traffic.recordName} (${kubernetes.traffic.recordType}) to the primary's ingress ${primaryIngress(config.primaryRegion)}`);
    }
  } else if (scenario === 'emergency-rollback') {
    const history = clusters.revisions.primary.map((image, i) => `${i + 1} ${image}`).join(', ');
    console.log(`  rolls back ${target} on the PRIMARY cluster ${primary.name} (input ${JSON.stringify(input)}: cluster defaults to primary)`);
    console.log(`  planted: revisions ${history}; the current one (${clusters.revisions.primary.length}) is the bad release`);
  } else if (scenario === 'database-recovery') {
    // Scenario 2 is a database failure: the cluster is healthy (mended if cluster-failover's outage is planted).
    if (clusters.primaryCondition() !== 'healthy') await clusters.setPrimary('healthy');
    const database = config.databases.find((d) => d.recovery) ?? config.databases[0];
    const replicas = (clusters.primary.deployment(kubernetes.namespace, kubernetes.apiDeployment) as { spec?: { replicas?: number } } | undefined)?.spec?.replicas;
    console.log(`  planted: ${database?.name} (${config.primaryRegion}) damaged at ${String(input.incidentTime)}, ${INCIDENT_MINUTES_AGO} min ago (input ${JSON.stringify(input)})`);
    console.log(`  primary ${primary.name} (${primary.region}) is healthy; ${target} runs ${replicas ?? '?'} replicas and reads ${database?.recovery?.kubernetesSecret.name}/${database?.recovery?.kubernetesSecret.key}`);
  }
}

/** The restore point the recovery chose, why newer candidates were not used, and the data it lost. */
function printRestorePoint(run: LocalRunResult, config: DeploymentConfig): void {
  const assessed = run.calls.find((c) => c.state === 'AssessDatabase')?.output as { data?: DatabaseAssessment } | undefined;
  const assessment = assessed?.data;
  if (!assessment) return;
  const point = assessment.restorePoint;
  const planned = (run.calls[0]?.output as { run?: { incidentAt?: string; recovery?: { database?: string } } } | undefined)?.run;
  const incidentAt = planned?.incidentAt ?? null;
  const component = config.databases.find((d) => d.name === planned?.recovery?.database)?.component;
  const objective = config.objectives.find((o) => o.component === component);
  const pointTime = restorePointTime(point);
  console.log(`\n  ${bold('restore point')}     ${describeRestorePoint(point)}`);
  console.log(`  why               ${point.reason}`);
  if (assessment.window) console.log(`  restorable window ${assessment.window.earliest} .. ${assessment.window.latest}`);
  // The choice's own refusals, then the snapshots newer than the chosen point: all taken after the
  // incident, so they may hold the damage (the choice never considers them once point-in-time works).
  const newerSnapshots = assessment.recentSnapshots.filter((s) => s.createdAt > pointTime);
  const refused = [
    ...point.rejected,
    ...newerSnapshots
      .filter((s) => !point.rejected.some((r) => r.startsWith(`snapshot ${s.id} `)))
      .map((s) => `snapshot ${s.id} (${s.createdAt}): ${incidentAt && s.createdAt >= incidentAt ? 'taken after the incident, it may contain the damage' : 'newer than the chosen point'}`),
  ];
  if (refused.length === 0) console.log('  newer candidates  none: no later restore point was available');
  else refused.forEach((line, i) => console.log(`  ${i === 0 ? 'newer, refused   ' : '                 '} ${line}`));
  console.log(
    `  ${bold('data-loss window')}  ${point.dataLossMinutes} min of writes, ${pointTime} .. ${incidentAt ?? 'the incident'} (incident)${objective ? `; ${objective.component} RPO ${objective.rpoMinutes} min` : ''}`,
  );
}

function describeCondition(condition: ReturnType<ClusterEnvironment['primaryCondition']>): string {
  switch (condition) {
    case 'nodes-not-ready':
      return 'has only 1 of 3 nodes Ready';
    case 'refusing-connections':
      return 'refuses connections';
    case 'healthy':
      return 'is healthy (nothing to fail over)';
  }
}

async function alertTopicArn(config: DeploymentConfig): Promise<string> {
  const identity = await new STSClient({ region: config.recoveryRegion }).send(new GetCallerIdentityCommand({}));
  return `arn:aws:sns:${config.recoveryRegion}:${identity.Account}:${config.notifications.topicName}`;
}

async function runScenario(scenario: Scenario, config: DeploymentConfig, endpoint: string, out: string, clusters: ClusterEnvironment | undefined): Promise<LocalRunResult> {
  const started = Date.now();
  const cluster = CLUSTER_SCENARIOS.includes(scenario);
  const input = inputFor(scenario, new Date(started));
  console.log(`\n${bold(`▶ ${scenario}`)}`);
  await describeClusterSetup(scenario, input, config, clusters);
  const run = await runEmulatedExecution(endpoint, scenario, input, {
    executionName: `drill-${scenario}-${started}`,
    onEvent: progressPrinter(started, cluster),
    ...(cluster ? { waitMilliseconds: CLUSTER_WAIT_MS } : {}),
  });
  const published = run.calls.find((c) => c.state === 'PublishReport')?.output as { location?: { json: string; markdown: string } } | undefined;
  console.log(`  execution ${run.status === 'SUCCEEDED' ? green('SUCCEEDED') : red('FAILED')}: ${run.transitions} state transitions, ${(run.wallMilliseconds / 1000).toFixed(1)} s`);
  if (!published?.location) {
    console.log(`  ${red('no report was written')}: ${run.error?.name}: ${run.error?.message}`);
    return run;
  }
  const json = await readStoredObject(endpoint, config.recoveryRegion, published.location.json);
  const markdown = await readStoredObject(endpoint, config.recoveryRegion, published.location.markdown);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${scenario}.json`), json);
  writeFileSync(join(out, `${scenario}.md`), markdown);
  const report = JSON.parse(json) as Report;
  if (scenario === 'database-recovery') printRestorePoint(run, config);
  printFindings(report);
  printTimeline(report);
  console.log(`  report: ${join(out, `${scenario}.md`)} (stored at ${published.location.markdown})`);
  return run;
}

async function main(): Promise<void> {
  const options = parseCommandLine();
  // The handlers' JSON logs and EMF metric lines would bury the progress; the report has it all.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  let config: DeploymentConfig;
  try {
    config = loadDeploymentConfigFile(options.configFile);
  } catch (error) {
    fail((error as Error).message);
  }

  // A deployment without clusters (or without a database recovery section) drills what it has.
  const unsupported = options.scenarios.map((scenario) => [scenario, whyUnsupported(scenario, config)] as const).filter(([, why]) => why !== null);
  if (unsupported.length > 0) {
    const lines = unsupported.map(([scenario, why]) => `${scenario}: ${options.configFile} ${why}`).join('\n  ');
    if (options.named) fail(`cannot drill:\n  ${lines}`);
    console.log(`Skipped:\n  ${lines}`);
    options.scenarios = options.scenarios.filter((scenario) => !unsupported.some(([skipped]) => skipped === scenario));
  }

  let environment: EmulatedEnvironment | undefined;
  let endpoint = options.endpoint;
  if (!endpoint) {
    const { missing } = checkPrerequisites();
    if (missing.length > 0) fail(`missing prerequisites:\n${missing.map((m) => `  - ${m.what}: ${m.install}`).join('\n')}`);
    const withClusters = options.scenarios.some((s) => CLUSTER_SCENARIOS.includes(s));
    console.log(`Starting the emulated environment (moto, PostgreSQL${withClusters ? ', two Kubernetes API fakes, Redis, the API /health' : ''})...`);
    environment = await startEmulatedEnvironment();
    endpoint = environment.endpoint;
    try {
      if (withClusters) await startClusterEnvironment(environment, config, { primary: 'nodes-not-ready', tickMs: CLUSTER_TICK_MS });
      config = emulatorConfig(config, environment);
      const seeded = await seedExampleDeployment(config, endpoint, environment.postgres, environment.clusters);
      console.log(`Seeded ${config.deployment}: ${seeded.primarySnapshots.length} snapshots in ${config.primaryRegion}, ${seeded.recoveryCopies.length} copies in ${config.recoveryRegion}`);
      if (seeded.manifests.length > 0) console.log(`Production manifests: ${seeded.manifests.join(', ')}`);
      console.log(`Planted problems the drill must find: ${seeded.deliberateProblems.map((p) => `${p.check} on ${p.resource}`).join('; ')}`);
    } catch (error) {
      await environment.stop();
      throw error;
    }
  } else {
    process.env.AWS_ENDPOINT_URL = endpoint;
    console.log(`Using the deployment already at ${endpoint} (not seeded)`);
  }

  let incomplete = 0;
  try {
    useConfig(config);
    process.env.ALERT_TOPIC_ARN = await alertTopicArn(config);
    // The table seedExampleDeployment creates; with --endpoint, the same name unless already set.
    process.env.RECOVERY_LOCK_TABLE = options.endpoint ? (process.env.RECOVERY_LOCK_TABLE ?? RECOVERY_LOCK_TABLE) : RECOVERY_LOCK_TABLE;
    for (const scenario of options.scenarios) {
      const run = await runScenario(scenario, config, endpoint, options.out, environment?.clusters);
      if (run.status !== 'SUCCEEDED') incomplete += 1;
    }
  } finally {
    await environment?.stop();
  }
  console.log(`\nReports written to ${options.out}`);
  if (incomplete > 0) {
    console.log(red(`${incomplete} run(s) did not complete`));
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
