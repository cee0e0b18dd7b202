// `npm run drill`: the product's main job, run locally. Starts the emulated environment (moto in the
// project's Python environment, an embedded PostgreSQL; for the cluster scenarios also two real
// Kubernetes control planes, a Redis-protocol server and the API's /health), seeds the example deployment with planted
// problems, runs each scenario through its real state machine definition with the real handlers, shows
// progress, prints the findings and each step's timing, writes the reports and ends with a summary.
//
// Planted for the cluster scenarios: the primary cluster has only 1 of 3 nodes Ready (kwok stopped
// running the other two; cluster-failover must bring the API up on the backup, whose deployment idles
// at 0 replicas), and the primary's API was rolled out to a bad release, whose pods never become Ready,
// on top of two good revisions (emergency-rollback, with its default input, rolls the primary back one
// revision). For database-recovery (last: it changes the emulated primary) the primary
// cluster is mended, and the database is damaged a few minutes before the run (its input's
// incidentTime): the recovery starts restoring it to a new instance as it was before the damage, stops
// the API and makes the damaged database read-only while RDS restores, repoints the application and
// brings the API back. For
// region-failover (last: it moves DNS, the API and the database to the recovery region) the whole
// primary region goes dark: the AWS front refuses every request signed for it and the primary cluster
// refuses connections, api.frontier.com is pointed back at the primary's ingress first (as if the
// primary served again before the region failed), and an operator starts the failover by hand with
// skipConfirmation (the alarm's confirmation period would be minutes of waiting). region-failback runs
// right after it, from that run: the primary region comes back (the AWS front answers for it again and
// the primary cluster accepts connections, healthy), the drill writes a few rows into the instance the
// failover restored in the recovery region (as the application did while it served from there), and the
// failback moves the data, the API and DNS back; the drill shows DNS at the value the failover recorded,
// the write freeze and the rows verified in the primary region. Named alone, region-failback runs
// region-failover first, since it starts from one.
//
// The arguments are read with Node's own util.parseArgs: one command, a few options and scenario
// names, nothing a dependency (commander, yargs) would add; --help is generated from the same table.
// `npm run drill -- --help` lists the options, the scenarios and the exit statuses.
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, styleText } from 'node:util';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { DeploymentConfig } from '../shared/config.js';
import { loadDeploymentConfigFile } from '../shared/config-file.js';
import type { Check, Report } from '../shared/report.js';
import type { DatabaseAssessment } from '../shared/database-recovery.js';
import { describeRestorePoint, restorePointTime } from '../shared/restore-point.js';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { inRunOrder, isScenarioName, scenario as scenarioNeeds, SCENARIOS, type ScenarioName, whyUnsupported } from '../shared/scenarios.js';
import { SCENARIO_SUMMARIES } from '../shared/scenario-summaries.js';
import { drillSecretRotation, SECRET_ROTATION_SCENARIO, SECRET_ROTATION_SUMMARY, whySecretRotationUnsupported, type SecretRotationResult } from './drill-secret-rotation.js';
import { drillReadiness, READINESS_DRILL, READINESS_DRILL_SUMMARY } from './drill-readiness.js';
import {
  awsFrontOf,
  checkPrerequisites,
  emulatorClients,
  type ClusterEnvironment,
  type EmulatedEnvironment,
  emulatorConfig,
  type EventLog,
  type LocalRunResult,
  primaryIngress,
  readStoredObject,
  RECOVERY_LOCK_TABLE,
  APPROVALS_TABLE,
  APPROVAL_SIGNING_SECRET,
  onTaskWaiting,
  sendTaskSuccess,
  runEmulatedExecution,
  seedExampleDeployment,
  withSeededWafIpSet,
  startClusterEnvironment,
  startEmulatedEnvironment,
  useConfig,
} from '../local/index.js';

/** Exit statuses, as --help and the README state them. */
const EXIT = {
  /** Every run completed (a verification that finds problems has completed). */
  completed: 0,
  /** A run could not complete (or the drill itself broke). */
  incomplete: 1,
  /** Bad arguments, a bad config file (every bad field named) or a missing prerequisite. */
  usage: 2,
  /** --fail-on-findings, every run completed, and a check failed (a trigger is not a finding). */
  findings: 3,
} as const;

/** How long before the run the drill's database damage happened (the database-recovery incidentTime). */
const INCIDENT_MINUTES_AGO = 3;

/** The execution input of each scenario: what an operator would start it with. */
function inputFor(scenario: ScenarioName, now: Date, failover?: ScenarioResult): Record<string, unknown> {
  switch (scenario) {
    case 'database-recovery': {
      // Whole seconds, as an operator would type it.
      const incident = new Date(Math.floor(now.getTime() / 1000) * 1000 - INCIDENT_MINUTES_AGO * 60_000);
      return { reason: 'local drill', incidentTime: incident.toISOString().replace('.000Z', 'Z') };
    }
    // The operator has seen the region go dark (AWS Health, every probe failing): no need to wait out
    // the alarm's confirmation period; the report says it was skipped.
    case 'region-failover':
      return { reason: 'local drill: the primary region is down', skipConfirmation: true };
    // The failover this drill just completed, by its execution name, as an operator would name it.
    case 'region-failback':
      return { failoverExecution: failover?.executionName, reason: 'local drill: the primary region is back' };
    // An incident as an operator would start it: a ticket, addresses to block, the patched image.
    case 'security-incident':
      return {
        incidentId: `DRILL-${now.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-')}`,
        blockIps: ['203.0.113.7', '198.51.100.0/24', '2001:db8:bad::/48'],
        patchedImage: 'frontier/api:security-patch',
        reason: 'local drill: API keys leaked',
      };
    // emergency-rollback: the default target, the API deployment on the primary cluster.
    default:
      return { reason: 'local drill' };
  }
}

/**
 * Wait states last this long in the cluster scenarios (0 elsewhere): long enough for the clusters'
 * controllers and kwok to move a rollout on between two looks, short enough not to bore.
 */
const CLUSTER_WAIT_MS = 300;

/** The options, once: for parseArgs and for --help. */
const OPTIONS = {
  out: { type: 'string', value: '<dir>', help: 'where the JSON and Markdown reports go (default reports/drill-<time>)' },
  config: { type: 'string', value: '<file>', help: 'the deployment file to seed and drill (default config/example.yml)' },
  endpoint: { type: 'string', value: '<url>', help: "an emulator already holding --config's deployment: nothing is started or seeded" },
  'fail-on-findings': { type: 'boolean', value: '', help: `exit ${EXIT.findings} when any check failed, even if every run completed (for CI)` },
  help: { type: 'boolean', value: '', short: 'h', help: 'show this help' },
} as const;

const usage = `usage: npm run drill -- [scenario ...] [--out <dir>] [--config <file>] [--endpoint <url>] [--fail-on-findings]`;

function helpText(): string {
  const width = Math.max(...Object.entries(OPTIONS).map(([name, o]) => `--${name} ${o.value}`.length), ...SCENARIOS.map((s) => s.name.length), SECRET_ROTATION_SCENARIO.length) + 2;
  const optionLines = Object.entries(OPTIONS).map(([name, o]) => {
    const flag = `${'short' in o ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`;
    return `  ${flag.padEnd(width + 4)}${o.help}`;
  });
  const scenarioLines = [
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(width + 4)}${SCENARIO_SUMMARIES[s.name]}`),
    // Not a state machine: the rotation the security incident starts, on its own (cli/drill-secret-rotation.ts).
    `  ${SECRET_ROTATION_SCENARIO.padEnd(width + 4)}${SECRET_ROTATION_SUMMARY}`,
    // Readiness: by name only, alone (its planted problems would stop the other scenarios).
    `  ${READINESS_DRILL.padEnd(width + 4)}${READINESS_DRILL_SUMMARY} (by name only, alone)`,
  ];
  return [
    usage,
    '',
    'Runs each scenario (all when none is named) through its real state machine against a local emulated',
    'environment seeded with the example deployment and its planted problems, writes the reports and ends',
    'with a summary.',
    '',
    'Scenarios (run in this order):',
    ...scenarioLines,
    '',
    'Options:',
    ...optionLines,
    '',
    'Exit status:',
    `  ${EXIT.completed}  every run completed (a verification that finds problems has completed)`,
    `  ${EXIT.incomplete}  a run could not complete`,
    `  ${EXIT.usage}  bad arguments, a bad config file (every bad field named) or a missing prerequisite`,
    `  ${EXIT.findings}  with --fail-on-findings: a check failed (the check that triggered a recovery does not count)`,
    '',
    'Colours follow NO_COLOR and FORCE_COLOR.',
  ].join('\n');
}

/**
 * Exits once everything written to stdout and stderr has been handed over: process.exit() otherwise
 * drops what is still queued for a pipe (the summary, the last lines), which a CI log then lacks.
 */
function exitWith(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

function fail(message: string, code: number = EXIT.usage): never {
  console.error(message);
  exitWith(code);
  // Nothing after a failure may run while the streams drain.
  throw new DrillStopped();
}

/** Thrown after exitWith() so no caller goes on while the process is exiting. */
class DrillStopped extends Error {
  override name = 'DrillStopped';
}

function parseCommandLine(args?: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      ...(args ? { args } : {}),
      allowPositionals: true,
      options: Object.fromEntries(Object.entries(OPTIONS).map(([name, o]) => [name, { type: o.type, ...('short' in o ? { short: o.short } : {}) }])),
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}\n(npm run drill -- --help for more)`);
  }
  const values = parsed.values as { out?: string; config?: string; endpoint?: string; 'fail-on-findings'?: boolean; help?: boolean };
  if (values.help) {
    console.log(helpText());
    exitWith(EXIT.completed);
    throw new DrillStopped();
  }
  const unknown = parsed.positionals.filter((p) => !isScenarioName(p) && p !== SECRET_ROTATION_SCENARIO && p !== READINESS_DRILL);
  if (unknown.length > 0) fail(`unknown scenario ${unknown.join(', ')}; expected ${[...SCENARIOS.map((s) => s.name), SECRET_ROTATION_SCENARIO, READINESS_DRILL].join(', ')}\n${usage}`);
  // Readiness plants problems the other scenarios would trip on: it runs alone, in its own environment.
  if (parsed.positionals.includes(READINESS_DRILL) && parsed.positionals.length > 1) fail(`${READINESS_DRILL} runs alone: its planted problems would stop the other scenarios\n${usage}`);
  const machines = parsed.positionals.filter((p) => p !== SECRET_ROTATION_SCENARIO && p !== READINESS_DRILL);
  if (values.endpoint && !values.config) fail(`--endpoint needs --config: the deployment the endpoint already holds\n${usage}`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
  return {
    // Always in run order, whatever order they were named in, each once: database-recovery last.
    scenarios: parsed.positionals.length ? inRunOrder(machines) : SCENARIOS.map((s) => s.name),
    /** The secret-rotation scenario (after the state machines): when named, or when none is. */
    rotation: parsed.positionals.length === 0 || parsed.positionals.includes(SECRET_ROTATION_SCENARIO),
    /** The readiness drill (alone, by name). */
    readiness: parsed.positionals.includes(READINESS_DRILL),
    /** Named on the command line: a scenario the deployment cannot run is then an error, not skipped. */
    named: parsed.positionals.length > 0,
    out: resolve(values.out ?? join('reports', `drill-${stamp}`)),
    configFile: resolve(values.config ?? 'config/example.yml'),
    endpoint: values.endpoint,
    failOnFindings: values['fail-on-findings'] === true,
  };
}

// Node's styleText leaves the text plain when stdout is not a terminal, or NO_COLOR is set, unless
// FORCE_COLOR says otherwise (validateStream, on by default).
const bold = (text: string) => styleText('bold', text);
const red = (text: string) => styleText('red', text);
const green = (text: string) => styleText('green', text);
const yellow = (text: string) => styleText('yellow', text);

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
  for (const objective of report.objectives) console.log(`  objective ${describeObjective(objective)}`);
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

/** What the drill planted for a cluster scenario and which cluster it acts on, before it runs. */
async function describeClusterSetup(scenario: ScenarioName, input: Record<string, unknown>, config: DeploymentConfig, clusters: ClusterEnvironment | undefined): Promise<void> {
  const kubernetes = config.kubernetes;
  if (!kubernetes || !clusters) return;
  const { primary, backup } = kubernetes.clusters;
  const target = `${kubernetes.namespace}/${kubernetes.apiDeployment}`;
  if (scenario === 'cluster-failover') {
    console.log(`  planted: primary ${primary.name} (${primary.region}) ${await describeCondition(clusters)}`);
    console.log(`  backup ${backup.name} (${backup.region}): ${target} at ${clusters.revisions.backup.at(-1)}, scaled to 0; manifests in s3://${kubernetes.manifests.bucket}/${kubernetes.manifests.prefix}`);
    if (kubernetes.traffic?.mode === 'control-plane') {
      console.log(`  clients resolve ${kubernetes.traffic.recordName} (${kubernetes.traffic.recordType}) to the primary's ingress ${primaryIngress(config.primaryRegion)}`);
    } else if (kubernetes.traffic) {
      console.log(`  clients reach ${kubernetes.traffic.recordName} through ARC routing controls (data-plane mode), the primary's On`);
    }
  } else if (scenario === 'emergency-rollback') {
    const history = clusters.revisions.primary.map((image, i) => `${i + 1} ${image}`).join(', ');
    const status = (await clusters.primary.deployment(kubernetes.namespace, kubernetes.apiDeployment))?.status;
    console.log(`  rolls back ${target} on the PRIMARY cluster ${primary.name} (input ${JSON.stringify(input)}: cluster defaults to primary)`);
    console.log(`  planted: revisions ${history}; the current one (${clusters.revisions.primary.length}) is the bad release, its pods never Ready`);
    console.log(`  its rollout stalled: ${status?.updatedReplicas ?? 0} of ${status?.replicas ?? 0} pods on the bad release, ${status?.availableReplicas ?? 0} available`);
  } else if (scenario === 'database-recovery') {
    // Scenario 2 is a database failure: the cluster is healthy (mended if cluster-failover's outage is planted).
    if (clusters.primaryCondition() !== 'healthy') await clusters.setPrimary('healthy');
    // ...and its API serves: the planted bad release goes, unless emergency-rollback already took it back.
    const running = (await clusters.primary.deployment(kubernetes.namespace, kubernetes.apiDeployment))?.spec?.template.spec?.containers[0]?.image;
    const previous = clusters.revisions.primary.at(-2);
    if (running === clusters.badRelease && previous) {
      await clusters.primary.rollOut(kubernetes.namespace, kubernetes.apiDeployment, previous, `deploy ${previous}`);
      console.log(`  ${target} rolled out to ${previous} first (the bad release ${running} is emergency-rollback's problem, not this scenario's)`);
    }
    const database = config.databases.find((d) => d.recovery) ?? config.databases[0];
    const replicas = (await clusters.primary.deployment(kubernetes.namespace, kubernetes.apiDeployment))?.spec?.replicas;
    console.log(`  planted: ${database?.name} (${config.primaryRegion}) damaged at ${String(input.incidentTime)}, ${INCIDENT_MINUTES_AGO} min ago (input ${JSON.stringify(input)})`);
    console.log(`  primary ${primary.name} (${primary.region}) is healthy; ${target} runs ${replicas ?? '?'} replicas and reads ${database?.recovery?.kubernetesSecret.name}/${database?.recovery?.kubernetesSecret.key}`);
  } else if (scenario === 'region-failback') {
    // The primary region is back: its cluster accepts connections again, healthy, serving a good release.
    await clusters.setPrimary('healthy');
    const running = (await clusters.primary.deployment(kubernetes.namespace, kubernetes.apiDeployment))?.spec?.template.spec?.containers[0]?.image;
    const previous = clusters.revisions.primary.at(-2);
    if (running === clusters.badRelease && previous) {
      await clusters.primary.rollOut(kubernetes.namespace, kubernetes.apiDeployment, previous, `deploy ${previous}`);
      console.log(`  ${target} on ${primary.name} rolled out to ${previous} first (the bad release ${running} is emergency-rollback's problem, not this scenario's)`);
    }
    console.log(`  planted: region ${config.primaryRegion} is BACK: the AWS front answers for it again and ${primary.name} accepts connections, all nodes Ready`);
  } else if (scenario === 'security-incident' && config.securityIncident) {
    // An attack on a serving production: the cluster the incident acts on is healthy and runs a good
    // release (the planted outage and bad release are other scenarios' problems).
    const incident = config.securityIncident;
    const role = incident.cluster;
    const cluster = clusters[role];
    if (role === 'primary' && clusters.primaryCondition() !== 'healthy') await clusters.setPrimary('healthy');
    const running = (await cluster.deployment(kubernetes.namespace, kubernetes.apiDeployment))?.spec?.template.spec?.containers[0]?.image;
    const previous = clusters.revisions[role].at(-2);
    if (running === clusters.badRelease && previous) {
      await cluster.rollOut(kubernetes.namespace, kubernetes.apiDeployment, previous, `deploy ${previous}`);
      console.log(`  ${target} rolled out to ${previous} first (the bad release ${running} is emergency-rollback's problem, not this scenario's)`);
    }
    const name = kubernetes.clusters[role].name;
    console.log(`  planted: API keys leaked; attacker requests in the API's logs (from ${clusters.containerLog.filter((l) => / from (?!10\.)/.test(l.text)).length} outside lines); ${target} on ${name} (${role}) serving`);
    if (incident.apiKeys) console.log(`  the keys: secret ${incident.apiKeys.secret} (rotation on) and its copy ${kubernetes.namespace}/${incident.apiKeys.kubernetesSecret} on ${name}`);
    console.log(`  input ${JSON.stringify(input)}`);
  } else if (scenario === 'region-failover' && config.regionFailover) {
    // Clients were on the primary until the region failed (cluster-failover, earlier, moved them).
    for (const record of config.regionFailover.dns) {
      if (record.mode === 'data-plane' || record.recordType !== 'CNAME') continue;
      const endpoint = process.env.AWS_ENDPOINT_URL ?? '';
      await emulatorClients(endpoint, 'us-east-1').route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: record.hostedZoneId,
          ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: record.recordName, Type: 'CNAME', TTL: record.ttlSeconds, ResourceRecords: [{ Value: primaryIngress(config.primaryRegion) }] } }] },
        }),
      );
      console.log(`  clients resolve ${record.recordName} to the primary's ingress ${primaryIngress(config.primaryRegion)} (set back before the outage)`);
    }
    await clusters.setPrimary('refusing-connections');
    console.log(`  planted: region ${config.primaryRegion} is DOWN: every AWS request signed for it is refused, and ${primary.name} refuses connections`);
    console.log(`  the failover restores ${config.regionFailover.database} in ${config.recoveryRegion} and brings up ${target} on ${backup.name} (input ${JSON.stringify(input)})`);
  }
}

/** The restore point the recovery chose, why newer candidates were not used, and the data it lost. */
function printRestorePoint(run: LocalRunResult, config: DeploymentConfig): void {
  const assessed = run.calls.find((c) => c.state === 'AssessDatabase')?.output as { data?: DatabaseAssessment } | undefined;
  const assessment = assessed?.data;
  if (!assessment) return;
  const point = assessment.restorePoint;
  // The run as the recovery saw it after the lock: a resumed recovery keeps the incident of the run
  // that started it, not this start's own (StartRun's) incident time.
  type PlannedRun = { incidentAt?: string; recovery?: { database?: string } };
  const locked = (run.calls.find((c) => c.state === 'AcquireRecoveryLock')?.output as { data?: { run?: PlannedRun } } | undefined)?.data?.run;
  const planned = locked ?? (run.calls[0]?.output as { run?: PlannedRun } | undefined)?.run;
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

async function describeCondition(clusters: ClusterEnvironment): Promise<string> {
  switch (clusters.primaryCondition()) {
    case 'nodes-not-ready': {
      const nodes = await clusters.primary.nodes();
      return `has only ${nodes.filter((n) => n.ready).length} of ${nodes.length} nodes Ready (kwok stopped running the others)`;
    }
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

/** What the drill keeps of each run for its summary. */
interface ScenarioResult {
  scenario: ScenarioName;
  /** The execution's name: what a region failback names its failover by. */
  executionName: string;
  run: LocalRunResult;
  report: Report | null;
  /** What the summary repeats of the run beyond its checks (region-failback: what moved back). */
  notes: string[];
}

/**
 * The drill's approver: a run that asks (approvals.<scenario>: approval) waits on a task token after
 * requestApproval stored the request and notified the topic; the drill approves on the token, as an
 * approver would from the console, so the approval step runs for real. Returns the function that
 * stops answering.
 */
function approvalAnswerer(): () => void {
  return onTaskWaiting((task) => {
    console.log(`  approval asked (${task.state}; what it asked is in the report's PlanApproval step)`);
    console.log('  approved by the drill, as an approver would from the console');
    sendTaskSuccess(task.token, JSON.stringify({ approved: true, by: 'frontier-dr drill', via: 'console', at: new Date().toISOString() }));
  });
}

async function runScenario(
  scenario: ScenarioName,
  config: DeploymentConfig,
  endpoint: string,
  out: string,
  clusters: ClusterEnvironment | undefined,
  failover?: ScenarioResult,
): Promise<ScenarioResult> {
  const started = Date.now();
  const cluster = scenarioNeeds(scenario).needsClusters;
  const input = inputFor(scenario, new Date(started), failover);
  const executionName = `drill-${scenario}-${started}`;
  console.log(`\n${bold(`▶ ${scenario}`)}`);
  await describeClusterSetup(scenario, input, config, clusters);
  const written = scenario === 'region-failback' && failover?.report ? await writeDuringFailover(config, endpoint, failover.report) : null;
  if (scenario === 'region-failback') console.log(`  the failback starts from ${failover?.executionName} (input ${JSON.stringify(input)})`);
  // region-failover: the primary region refuses everything while the failover runs.
  const front = scenario === 'region-failover' ? awsFrontOf(endpoint) : undefined;
  const refusedBefore = front?.refused().length ?? 0;
  const recording = front?.recordRequests();
  front?.failRegion(config.primaryRegion);
  let run: LocalRunResult;
  const stopAnswering = approvalAnswerer();
  try {
    run = await runEmulatedExecution(endpoint, scenario, input, {
      executionName,
      onEvent: progressPrinter(started, cluster),
      ...(cluster ? { waitMilliseconds: CLUSTER_WAIT_MS } : {}),
    });
  } finally {
    stopAnswering();
    front?.restoreRegion(config.primaryRegion);
    recording?.stop();
  }
  if (scenario === 'region-failover') {
    if (front && recording) {
      const primaryRequests = recording.requests().filter((r) => r.region === config.primaryRegion).length;
      const refused = front.refused().length - refusedBefore;
      const line = `  requests signed for ${config.primaryRegion} during the failover: ${primaryRequests} (refused: ${refused}) of ${recording.requests().length} AWS requests`;
      console.log(primaryRequests === 0 ? green(line) : red(line));
    } else {
      console.log(yellow(`  ${config.primaryRegion} was not refused: the emulator at ${endpoint} was not started by this drill`));
    }
  }
  const published = run.calls.find((c) => c.state === 'PublishReport')?.output as { location?: { json: string; markdown: string; svg?: string; html?: string } } | undefined;
  console.log(`  execution ${run.status === 'SUCCEEDED' ? green('SUCCEEDED') : red('FAILED')}: ${run.transitions} state transitions, ${(run.wallMilliseconds / 1000).toFixed(1)} s`);
  if (!published?.location) {
    console.log(`  ${red('no report was written')}: ${run.error?.name}: ${run.error?.message}`);
    return { scenario, executionName, run, report: null, notes: [] };
  }
  const json = await readStoredObject(endpoint, config.recoveryRegion, published.location.json);
  const markdown = await readStoredObject(endpoint, config.recoveryRegion, published.location.markdown);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${scenario}.json`), json);
  writeFileSync(join(out, `${scenario}.md`), markdown);
  // The timeline image, under the name the Markdown links to (its key's last part).
  if (published.location.svg) writeFileSync(join(out, published.location.svg.slice(published.location.svg.lastIndexOf('/') + 1)), await readStoredObject(endpoint, config.recoveryRegion, published.location.svg));
  // The HTML rendering, beside the Markdown; it shows the timeline image by the same name.
  if (published.location.html) writeFileSync(join(out, `${scenario}.html`), await readStoredObject(endpoint, config.recoveryRegion, published.location.html));
  const report = JSON.parse(json) as Report;
  if (scenario === 'database-recovery') printRestorePoint(run, config);
  printFindings(report);
  for (const line of regionFailoverLines(report)) console.log(`  ${line}`);
  for (const line of securityIncidentLines(report)) console.log(`  ${line}`);
  const notes = scenario === 'region-failback' && failover?.report ? await failbackLines(config, endpoint, run, report, failover.report, written) : [];
  for (const line of notes) console.log(`  ${line}`);
  printTimeline(report);
  console.log(`  report: ${join(out, `${scenario}.md`)} (stored at ${published.location.markdown})`);
  return { scenario, executionName, run, report, notes };
}

/** An instance's endpoint in a region, or null when it does not exist. */
async function instanceEndpoint(endpoint: string, region: string, id: string): Promise<{ host: string; port: number } | null> {
  const answer = await emulatorClients(endpoint, region)
    .rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))
    .catch(() => null);
  const found = answer?.DBInstances?.[0]?.Endpoint;
  return found?.Address ? { host: found.Address, port: found.Port ?? 5432 } : null;
}

/** The table the drill writes its rows to while the application serves from the recovery region. */
const FAILOVER_WRITES = 'drill_failover_writes';

/** One statement as the application's user (the recovery region's connection secret) on `at`. */
async function query<T extends pg.QueryResultRow>(config: DeploymentConfig, endpoint: string, at: { host: string; port: number }, text: string, values: unknown[] = []): Promise<T[]> {
  const database = config.databases.find((d) => d.name === config.regionFailover?.database) ?? config.databases[0];
  if (!database) throw new Error('the deployment has no database');
  const secret = await emulatorClients(endpoint, config.recoveryRegion).secrets.send(new GetSecretValueCommand({ SecretId: database.credentialsSecret }));
  const { username, password } = JSON.parse(secret.SecretString ?? '{}') as { username?: string; password?: string };
  const client = new pg.Client({ host: at.host, port: at.port, user: username, password, database: database.databaseName, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Rows the application wrote while it served from the recovery region: written into the instance the
 * failover restored there, between the two runs. Returns their notes, or null when there is no such
 * instance (then the failback's data check is all the drill shows).
 */
async function writeDuringFailover(config: DeploymentConfig, endpoint: string, failover: Report): Promise<string[] | null> {
  const id = failover.failback?.database.recoveryInstanceId;
  const at = id ? await instanceEndpoint(endpoint, config.recoveryRegion, id) : null;
  if (!id || !at) {
    console.log(yellow(`  no instance restored by the failover in ${config.recoveryRegion}: no rows written before the failback`));
    return null;
  }
  const notes = ['order placed during the failover', 'order updated during the failover'];
  await query(config, endpoint, at, `CREATE TABLE IF NOT EXISTS ${FAILOVER_WRITES} (id serial PRIMARY KEY, note text NOT NULL, written_at timestamptz NOT NULL DEFAULT now())`);
  for (const note of notes) await query(config, endpoint, at, `INSERT INTO ${FAILOVER_WRITES} (note) VALUES ($1)`, [note]);
  console.log(`  written in ${id} (${config.recoveryRegion}) while the application served from there: ${notes.length} rows in ${FAILOVER_WRITES}`);
  return notes;
}

/** What a region failback moved back: DNS to the recorded values, the write freeze, the data verified in the primary region. */
async function failbackLines(config: DeploymentConfig, endpoint: string, run: LocalRunResult, report: Report, failover: Report, written: string[] | null): Promise<string[]> {
  const lines: string[] = [];
  const route53 = emulatorClients(endpoint, 'us-east-1').route53;
  for (const recorded of failover.failback?.dns ?? []) {
    if (recorded.mode !== 'control-plane') {
      lines.push(`${bold('DNS')}               ${recorded.record} (${recorded.mode}): see the report`);
      continue;
    }
    const set = recorded.recordSet as { Name?: string; Type?: string; ResourceRecords?: { Value?: string }[] };
    const answer = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: recorded.hostedZoneId, StartRecordName: set.Name, StartRecordType: set.Type as never, MaxItems: 1 }));
    const now = (answer.ResourceRecordSets?.[0]?.ResourceRecords ?? []).map((r) => r.Value).join(', ');
    const wanted = (set.ResourceRecords ?? []).map((r) => r.Value).join(', ');
    const line = `${bold('DNS')}               ${recorded.record} back to ${now || 'nothing'} (recorded before the failover: ${wanted})`;
    lines.push(now === wanted ? green(line) : red(line));
  }
  const freeze = report.checks.find((c) => c.name === 'write-freeze');
  lines.push(`${bold('write freeze')}      ${freeze ? freeze.measured : 'not measured'}`);
  const data = report.checks.find((c) => c.name === 'failback-data');
  lines.push(`${bold('data verified')}     ${data ? `${data.passed ? green('PASS') : red('FAIL')} ${data.measured} on ${data.resource}` : 'no data check in the report'}`);
  const primaryId = (run.calls.find((c) => c.state === 'StartPrimaryRestore')?.output as { data?: { instanceId?: string } } | undefined)?.data?.instanceId;
  const at = primaryId ? await instanceEndpoint(endpoint, config.primaryRegion, primaryId) : null;
  if (written && primaryId && at) {
    const rows = await query<{ note: string }>(config, endpoint, at, `SELECT note FROM ${FAILOVER_WRITES} ORDER BY id`).catch(() => []);
    const found = written.filter((note) => rows.some((r) => r.note === note));
    const line = `rows written during the failover, now in ${primaryId} (${config.primaryRegion}): ${found.length} of ${written.length}${found.length ? ` (${found.map((n) => `"${n}"`).join(', ')})` : ''}`;
    lines.push(found.length === written.length ? green(line) : red(line));
  }
  return lines;
}

/** A failed check that is why the run acted (cluster-failover's unhealthy primary), not a finding. */
function isTrigger(scenario: ScenarioName, check: Check): boolean {
  return !check.passed && check.name === scenarioNeeds(scenario).triggerCheck;
}

/** The failed checks of a run, the trigger left out: what --fail-on-findings counts. */
function findingsOf(result: ScenarioResult): Check[] {
  return (result.report?.checks ?? []).filter((c) => !c.passed && !isTrigger(result.scenario, c));
}

function describeObjective(objective: Report['objectives'][number]): string {
  const met = objective.met === null ? 'not measured' : objective.met ? green('met') : red('MISSED');
  const rto = objective.measuredRtoMinutes === null ? '' : ` RTO ${objective.measuredRtoMinutes} of ${objective.rtoMinutes} min`;
  const rpo = objective.measuredRpoMinutes === null ? '' : ` RPO ${objective.measuredRpoMinutes} of ${objective.rpoMinutes} min`;
  return `${objective.component}:${rto}${rpo} ${met} — ${objective.note}`;
}

/**
 * The plan's structural RPO gap: snapshots reach the recovery region every snapshotIntervalHours, so a
 * region failover can lose up to that much, whatever the RPO. Stated for each database where the
 * interval is longer than the RPO, with the exposure this run measured.
 */
function rpoGaps(report: Report, config: DeploymentConfig): string[] {
  const lines: string[] = [];
  for (const database of config.databases) {
    const objective = config.objectives.find((o) => o.component === database.component);
    if (!database.requireCrossRegionCopy || !objective || database.snapshotIntervalHours * 60 <= objective.rpoMinutes) continue;
    const measured = report.objectives.find((o) => o.note.startsWith(`${database.name}: data a region failover to ${config.recoveryRegion}`))?.measuredRpoMinutes;
    const now = measured === null || measured === undefined ? '' : `a region failover now would lose ${formatMinutes(measured)} of writes; `;
    lines.push(
      `${database.name}: snapshots are copied to ${config.recoveryRegion} every ${database.snapshotIntervalHours} h against a ${objective.rpoMinutes}-min ${objective.component} RPO: ${now}up to ${database.snapshotIntervalHours} h just before the next copy. The plan cannot meet this RPO in a region failover without continuous replication (automated-backup replication or a cross-region replica).`,
    );
  }
  return lines;
}

/**
 * What the summary shows of a security incident, as on-call reads it: the response time, the block per
 * place and where it is effective, emergency mode, the keys revoked, the evidence stored, every
 * rotation and the patch rollout.
 */
function securityIncidentLines(report: Report): string[] {
  const section = report.securityIncident;
  if (!section) return [];
  const lines: string[] = [];
  lines.push(
    section.responseTime
      ? `response time: contained ${section.responseTime.seconds} s after the start (${section.responseTime.from} -> ${section.responseTime.containedAt})`
      : yellow('response time: not measured (the containment did not complete)'),
  );
  for (const place of section.containment) {
    const effective = place.effective.length > 160 ? `${place.effective.slice(0, 157)}...` : place.effective;
    lines.push(`containment ${place.place}: ${place.outcome} (${place.addresses.join(', ') || 'no address'})`, `  effective: ${effective}`);
  }
  if (section.containment.length === 0 && section.blockedAddresses.length > 0) lines.push(yellow(`containment: ${section.blockedAddresses.join(', ')} not reported blocked`));
  if (section.emergencyMode) lines.push(`emergency mode: ${section.emergencyMode.key}=true in ConfigMap ${section.emergencyMode.configMap} (${section.emergencyMode.changed ? `was ${section.emergencyMode.previousValue ?? 'unset'}` : 'already set'})`);
  const rotation = (r: NonNullable<typeof section.apiKeys>) => `${r.secret} ${r.status === 'completed' ? green('completed') : red(r.status)}${r.versionId ? ` (version ${r.versionId})` : ''}`;
  if (section.apiKeys) lines.push(`API keys revoked: ${rotation(section.apiKeys)}`);
  const completed = section.rotations.filter((r) => r.status === 'completed').length;
  lines.push(`rotations: ${completed} of ${section.rotations.length} completed${section.rotations.length ? `: ${section.rotations.map(rotation).join(', ')}` : ''}`);
  if (section.evidence) {
    const kinds = new Map<string, number>();
    for (const o of section.evidence.objects) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
    const bytes = section.evidence.objects.reduce((sum, o) => sum + o.bytes, 0);
    lines.push(`evidence: ${section.evidence.objects.length} object(s), ${bytes} bytes (${[...kinds].map(([kind, n]) => `${n} ${kind}`).join(', ')}) in s3://${section.evidence.bucket}/${section.evidence.prefix}, each with its SHA-256 in the report`);
  } else lines.push(yellow('evidence: none collected'));
  if (section.patch) {
    const rolled = section.patch.rolledOut === true ? green('rolled out') : section.patch.rolledOut === false ? red('NOT rolled out') : 'rollout not checked';
    lines.push(`patch: ${section.patch.container ?? 'container'} ${section.patch.previousImage ?? '?'} -> ${section.patch.image}, ${rolled}`);
  } else lines.push('patch: none given');
  return lines;
}

/** What the summary shows of a region failover: the critical path, the DNS mode, the data-loss window. */
function regionFailoverLines(report: Report): string[] {
  const section = report.regionFailover;
  if (!section) return [];
  const lines = [`confirmation      ${section.confirmation}`];
  const path = section.criticalPath;
  if (path) {
    const branches = section.branches.map((b) => `${b.branch} ${b.durationSeconds ?? '?'} s${b.status === 'failed' ? ' (FAILED)' : ''}`).join(', ');
    lines.push(`${bold('critical path')}     ${path.branch ? `the ${path.branch} branch finished last (${branches})` : 'no parallel branch ran'}`);
    lines.push(`                  ${path.steps.map((s) => `${s.name} ${s.durationSeconds ?? '?'} s`).join(' → ')}`);
  }
  if (section.dns) {
    lines.push(`${bold('DNS mode')}          ${section.dns.modes.join(', ') || 'none'} for ${section.dns.records.join(', ')}`);
    for (const warning of section.dns.warnings) lines.push(`${yellow('WARNING')}           ${warning}`);
  } else {
    lines.push(`${bold('DNS mode')}          DNS was not moved`);
  }
  if (section.dataLoss) {
    const d = section.dataLoss;
    const verdict = d.withinRpo ? green(`within the ${d.rpoMinutes}-min RPO`) : red(`over the ${d.rpoMinutes}-min RPO`);
    lines.push(`${bold('data-loss window')}  ${d.minutes} min of writes, ${d.restorePoint} .. ${d.outageAt} (outage), ${verdict}; from ${d.source}`);
  }
  return lines;
}

function formatMinutes(minutes: number): string {
  return minutes >= 120 ? `${(minutes / 60).toFixed(1)} h` : `${minutes} min`;
}

/**
 * The notification on-call received: the subject and message the NotifyOnCall step published to the
 * alert topic (its input; its output is SNS's message id), as the run itself sent it.
 */
function notificationOf(run: LocalRunResult): { subject: string; message: string; messageId: string | null; error?: string } | null {
  const call = run.calls.find((c) => c.state === 'NotifyOnCall');
  if (!call) return null;
  const { subject, message } = call.input as { subject: string; message: string };
  const messageId = (call.output as { messageId?: string | null } | undefined)?.messageId ?? null;
  return { subject, message, messageId, ...(call.error ? { error: call.error } : {}) };
}

function printSummary(results: ScenarioResult[], config: DeploymentConfig, skipped: readonly string[]): void {
  console.log(`\n${bold('Summary')}`);
  for (const result of results) {
    const { scenario, run, report } = result;
    const findings = findingsOf(result);
    const status = run.status === 'SUCCEEDED' ? green('completed') : red('DID NOT COMPLETE');
    const counted = report ? `${findings.length === 0 ? green('no findings') : red(`${findings.length} finding(s)`)}` : red('no report');
    console.log(`\n${bold(scenario)}: ${status}, ${counted}${report ? ` — ${report.summary}` : run.error ? ` — ${run.error.name}: ${run.error.message}` : ''}`);
    if (!report) continue;
    for (const failure of report.failures) console.log(`  ${red('FAILED STEP')} ${failure.step}: ${failure.error}: ${failure.message}`);
    // Findings first, then the trigger, then what passed.
    for (const check of findings) console.log(`  ${red('FAIL')}    ${check.name} on ${check.resource}: ${check.measured} (target ${check.target})\n          → ${check.message}`);
    for (const check of report.checks.filter((c) => isTrigger(scenario, c))) {
      console.log(`  ${yellow('TRIGGER')} ${check.name} on ${check.resource}: ${check.measured} (target ${check.target}) — why the ${scenario} ran, not a failure of it`);
    }
    for (const check of report.checks.filter((c) => c.passed)) console.log(`  ${green('PASS')}    ${check.name} on ${check.resource}: ${check.measured}`);
    for (const objective of report.objectives) console.log(`  objective ${describeObjective(objective)}`);
    if (scenario === 'backup-verification') for (const gap of rpoGaps(report, config)) console.log(`  ${red('RPO gap')} ${gap}`);
    if (report.regionFailover) for (const line of regionFailoverLines(report)) console.log(`  ${line}`);
    for (const line of securityIncidentLines(report)) console.log(`  ${line}`);
    for (const line of result.notes) console.log(`  ${line}`);
    const notification = notificationOf(run);
    if (!notification) {
      console.log('  on-call notification: none (nothing needed attention)');
    } else if (notification.error) {
      console.log(`  on-call notification: ${red('NOT SENT')} (${notification.error}): ${notification.subject}`);
    } else {
      console.log(`  on-call notification (SNS ${config.notifications.topicName}, message ${notification.messageId ?? '?'}):`);
      console.log(`    Subject: ${notification.subject}`);
      for (const line of notification.message.replace(/\n{3,}/g, '\n\n').split('\n')) console.log(`    ${line}`.trimEnd());
    }
  }
  for (const line of skipped) console.log(`\n${bold('skipped')} ${line}`);
}

async function main(args?: string[]): Promise<void> {
  const options = parseCommandLine(args);
  // The handlers' JSON logs and EMF metric lines would bury the progress; the report has it all.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  let config: DeploymentConfig;
  try {
    config = loadDeploymentConfigFile(options.configFile);
  } catch (error) {
    // InvalidConfig names every bad field at once; a stack trace would only hide them.
    fail((error as Error).message);
  }

  if (options.readiness) {
    if (options.endpoint) fail(`${READINESS_DRILL} plants problems in an environment of its own: --endpoint is not used with it\n${usage}`);
    console.log(`\n${bold(`▶ ${READINESS_DRILL}`)}`);
    const result = await drillReadiness(config, options.out, (line) => console.log(line));
    console.log(`\n${bold(READINESS_DRILL)}: ${result.completed ? green('completed') : red('DID NOT COMPLETE')}`);
    for (const line of result.lines) console.log(`  ${line.startsWith('NOT READY') || line.startsWith('MISSED') ? red(line) : line}`);
    if (!result.completed) return exitWith(EXIT.incomplete);
    return exitWith(result.notReady > 0 && options.failOnFindings ? EXIT.findings : EXIT.completed);
  }
  // A failback starts from a completed region failover: named without one, the drill runs one first.
  if (options.scenarios.includes('region-failback') && !options.scenarios.includes('region-failover') && !whyUnsupported('region-failback', config)) {
    console.log('region-failback starts from a completed region failover: running region-failover first');
    options.scenarios = inRunOrder([...options.scenarios, 'region-failover']);
  }
  // A deployment without clusters (or without a database recovery section) drills what it has.
  const unsupported = options.scenarios.map((scenario) => [scenario, whyUnsupported(scenario, config)] as const).filter(([, why]) => why !== null);
  const skipped: string[] = unsupported.map(([scenario, why]) => `${scenario}: ${options.configFile} ${why}`);
  const rotationUnsupported = options.rotation ? whySecretRotationUnsupported(config) : null;
  if (rotationUnsupported) {
    unsupported.push([SECRET_ROTATION_SCENARIO as ScenarioName, rotationUnsupported]);
    skipped.push(`${SECRET_ROTATION_SCENARIO}: ${options.configFile} ${rotationUnsupported}`);
    options.rotation = false;
  }
  if (unsupported.length > 0) {
    if (options.named) fail(`cannot drill:\n  ${skipped.join('\n  ')}`);
    console.log(`Skipped:\n  ${skipped.join('\n  ')}`);
    options.scenarios = options.scenarios.filter((scenario) => !unsupported.some(([name]) => name === scenario));
  }

  let environment: EmulatedEnvironment | undefined;
  let endpoint = options.endpoint;
  if (!endpoint) {
    // Only the servers the chosen scenarios need, and only their prerequisites.
    const withClusters = options.scenarios.some((s) => scenarioNeeds(s).needsClusters);
    const { missing } = checkPrerequisites({ redis: withClusters });
    if (missing.length > 0) fail(`missing prerequisites:\n${missing.map((m) => `  - ${m.what}: ${m.install}`).join('\n')}`);
    console.log(`Starting the emulated environment (moto, PostgreSQL${withClusters ? ', two Kubernetes control planes, Redis, the API /health' : ''})...`);
    environment = await startEmulatedEnvironment();
    endpoint = environment.endpoint;
    try {
      console.log(`Started moto (${environment.moto.endpoint}, behind ${environment.endpoint}), PostgreSQL (127.0.0.1:${environment.postgres.port}, restored instances 127.0.0.1:${environment.restoredPostgres.port})`);
      if (withClusters) {
        const clusters = await startClusterEnvironment(environment, config, { primary: 'nodes-not-ready', log: (line) => console.log(line) });
        const describe = (cluster: ClusterEnvironment['primary']) => `${cluster.name} ${cluster.url} (API server ${cluster.plane.url})`;
        console.log(
          `Started two Kubernetes control planes in ${(clusters.startupMs / 1000).toFixed(1)} s: ${describe(clusters.primary)}, ${describe(clusters.backup)}; ` +
            `Redis (valkey-server, ${clusters.redis.host}:${clusters.redis.port}), the API /health (${clusters.api.url})`,
        );
      }
      config = emulatorConfig(config, environment);
      const seeded = await seedExampleDeployment(config, endpoint, environment.postgres, environment.clusters);
      // moto chooses key ids: the failback encrypts its copies with the primary-region key the seed made.
      if (config.regionFailback && seeded.failbackKeyArn) config = { ...config, regionFailback: { ...config.regionFailback, kmsKeyArn: seeded.failbackKeyArn } };
      // Security incident containment: moto chooses IP set ids too; the containment blocks in the set the seed made.
      config = withSeededWafIpSet(config, seeded);
      console.log(`Seeded ${config.deployment}: ${seeded.primarySnapshots.length} snapshots in ${config.primaryRegion}, ${seeded.recoveryCopies.length} copies in ${config.recoveryRegion} (newest ${seeded.recoveryCopies.at(-1) ?? 'none'})`);
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

  const results: ScenarioResult[] = [];
  let rotation: SecretRotationResult | undefined;
  try {
    useConfig(config);
    process.env.ALERT_TOPIC_ARN = await alertTopicArn(config);
    // The table seedExampleDeployment creates; with --endpoint, the same name unless already set.
    process.env.RECOVERY_LOCK_TABLE = options.endpoint ? (process.env.RECOVERY_LOCK_TABLE ?? RECOVERY_LOCK_TABLE) : RECOVERY_LOCK_TABLE;
    // The approval step's table and key the seed creates. Links are not served locally: the drill answers
    // each approval on its task token, as an approver would from the console (approvalAnswerer below).
    process.env.APPROVALS_TABLE = options.endpoint ? (process.env.APPROVALS_TABLE ?? APPROVALS_TABLE) : APPROVALS_TABLE;
    process.env.APPROVAL_SIGNING_SECRET = options.endpoint ? (process.env.APPROVAL_SIGNING_SECRET ?? APPROVAL_SIGNING_SECRET) : APPROVAL_SIGNING_SECRET;
    process.env.APPROVAL_LINK_BASE_URL ??= 'https://approvals.drill.invalid';
    for (const scenario of options.scenarios) {
      if (scenario === 'region-failback') {
        const failover = results.find((r) => r.scenario === 'region-failover');
        const why = !failover ? 'region-failover did not run' : failover.run.status !== 'SUCCEEDED' || !failover.report ? `region-failover (${failover.executionName}) did not complete` : null;
        if (why) {
          const line = `region-failback: ${why}; a failback starts from a completed region failover`;
          console.log(`\n${bold('skipped')} ${line}`);
          skipped.push(line);
          continue;
        }
        results.push(await runScenario(scenario, config, endpoint, options.out, environment?.clusters, failover));
        continue;
      }
      results.push(await runScenario(scenario, config, endpoint, options.out, environment?.clusters));
    }
    if (options.rotation) {
      console.log(`\n${bold(`▶ ${SECRET_ROTATION_SCENARIO}`)}`);
      rotation = await drillSecretRotation(config, endpoint, (line) => console.log(line));
      for (const line of rotation.lines) console.log(`  ${line}`);
      if (rotation.error) console.log(`  ${red('DID NOT COMPLETE')}: ${rotation.error}`);
    }
  } finally {
    await environment?.stop();
  }
  printSummary(results, config, skipped);
  if (rotation) {
    console.log(`\n${bold(SECRET_ROTATION_SCENARIO)}: ${rotation.completed ? green('completed') : red('DID NOT COMPLETE')}${rotation.error ? ` — ${rotation.error}` : ''}`);
    for (const line of rotation.lines) console.log(`  ${line}`);
  }
  if (results.length > 0) console.log(`\nReports written to ${options.out}`);
  const incomplete = results.filter((r) => r.run.status !== 'SUCCEEDED').length + (rotation && !rotation.completed ? 1 : 0);
  const findings = results.reduce((sum, r) => sum + findingsOf(r).length, 0);
  if (incomplete > 0) {
    console.log(red(`${incomplete} run(s) did not complete (exit ${EXIT.incomplete})`));
    return exitWith(EXIT.incomplete);
  }
  if (findings > 0 && options.failOnFindings) {
    console.log(red(`${findings} check(s) failed (exit ${EXIT.findings}: --fail-on-findings)`));
    return exitWith(EXIT.findings);
  }
  console.log(`Every run completed${findings > 0 ? `; ${findings} check(s) failed (exit ${EXIT.completed}; --fail-on-findings would exit ${EXIT.findings})` : ''}`);
}

/** The drill with these arguments (default: the process's own), exiting with its status; `frontier-dr drill` delegates here. */
export function runDrill(args?: string[]): Promise<void> {
  return main(args).catch((error: unknown) => {
    if (error instanceof DrillStopped) return;
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    exitWith(EXIT.incomplete);
  });
}

// Run as a script (npm run drill), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) void runDrill();
