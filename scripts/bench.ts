// `npm run bench`: figures for every function and scenario. A measurement tool, not a test: it judges
// nothing and exits 0 whenever it could measure (1 only when a whole section could not be measured).
//
//   npm run bench                 15 fresh processes per bundle for the init time
//   npm run bench -- --runs 30    more runs, steadier percentiles
//   npm run bench -- --keep       keep the temp dir with the bundles, events and child scripts
//   npm run bench -- --only large-backup-verification    section 5 alone
//   npm run bench -- --only recovery-time-model          section 6 alone (no emulator; seconds)
//
// 1. Bundle size: every function in serverless.yml, bundled with esbuild using the options of
//    serverless.yml's custom.esbuild (as serverless-esbuild passes them: plugin-only keys removed,
//    `exclude` added to `external`, relative `alias` paths resolved from the repo root).
// 2. Module init: `require()` of the bundle alone, timed inside a fresh `node` per run, beside an empty
//    handler bundled the same way (what any Node process pays anyway).
// 3. Peak memory: one invocation per function in a fresh `node`, against the emulated environment: the
//    first call a scenario run makes of each function is that invocation (its output or error is the
//    task's), so the function does its real work at the point of the run where it is called, e.g.
//    a database-recovery step while its execution holds the recovery lock. A function measured
//    successfully runs in-process (warm) from then on.
// 4. Scenarios: state transitions and wall time of one local run each, every statemachines/*.asl.yaml
//    (with the fresh-node start overhead of the measured invocations shown beside it; region-failover
//    with its region down and its approval answered, region-failback from that failover, as the drill
//    runs them), and what every Wait loop costs in state transitions per minute of polling, with the
//    most it can see its resource ready late.
// 5. Backup verification of 100 databases: the real state machine against the emulator, with RDS held to
//    its own request throttling (token bucket per region, RDS_THROTTLING): wall time, RDS requests,
//    how many were throttled and whether any database went unverified because of it.
// 6. Recovery-time model (scripts/recovery-time-model.ts): each state machine's critical path in AWS
//    under stated durations of the AWS operations, against the plan's manual runbook.
//
// Figures are printed as tables and written to reports/bench.json and docs/benchmarks.md (with the
// machine, the date and the command); `--only recovery-time-model` rewrites the model's part of
// docs/benchmarks.md only.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { build, type BuildOptions } from 'esbuild';
import { parse as parseYaml, type CollectionTag, type ScalarTag } from 'yaml';
import { parseDeploymentConfig, type DeploymentConfig } from '../shared/config.js';
import { loadDeploymentConfigFile } from '../shared/config-file.js';
import { DEFAULT_POLL_SECONDS, MAX_OVERSHOOT_SECONDS, ROLLOUT_POLL_SECONDS } from '../shared/polling.js';
import { API_KEY_ROTATION_FUNCTION_VARIABLE, DATABASE_ROTATION_FUNCTION_VARIABLE } from '../shared/rotate-now.js';
import { isScenarioName, SCENARIO_NAMES, scenario as scenarioNeeds } from '../shared/scenarios.js';
import { localFunctionArn } from '../local/local-state-machine.js';
import {
  APPROVAL_SIGNING_SECRET,
  APPROVALS_TABLE,
  checkPrerequisites,
  databaseRoutes,
  deploymentConfigEnvironment,
  type EmulatedEnvironment,
  emulatorClients,
  emulatorConfig,
  importHandler,
  type LambdaHandler,
  type LocalRunResult,
  onTaskWaiting,
  primaryIngress,
  RECOVERY_LOCK_TABLE,
  type RdsRateLimit,
  type RdsRequestCounts,
  runEmulatedExecution,
  runStateMachine,
  seedDatabasesForVerification,
  seedExampleDeployment,
  sendTaskSuccess,
  startClusterEnvironment,
  startEmulatedEnvironment,
  useConfig,
  withManyDatabases,
  withSeededWafIpSet,
} from '../local/index.js';
import {
  markdownTable,
  minutes,
  modelEveryStateMachine,
  renderAssumptions,
  renderModelIntro,
  renderRecoveryTimeModel,
  stateMachineNames,
  type RecoveryTimeModel,
} from './recovery-time-model.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLE_CONFIG = join(root, 'config', 'example.yml');
const REPORT_PATH = join(root, 'reports', 'bench.json');
const DOCS_PATH = join(root, 'docs', 'benchmarks.md');
const ALERT_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:frontier-prod-dr-alerts';
const LAMBDA_MEMORY_SIZES = [128, 256, 512, 1024] as const;
const HEADROOM = 2;
/** A look (one API call and a Lambda start) as the overshoot figures count it, seconds. */
const LOOK_SECONDS = 2;
const CHILD_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------------
// Command line

const SECTIONS = ['large-backup-verification', 'recovery-time-model'] as const;

function commandLine(): { runs: number; keep: boolean; only?: (typeof SECTIONS)[number] } {
  const usage = `usage: npm run bench -- [--runs N] [--keep] [--only ${SECTIONS.join('|')}]`;
  let parsed;
  try {
    parsed = parseArgs({ options: { runs: { type: 'string' }, keep: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    console.log(usage);
    process.exit(0);
  }
  const runs = parsed.values.runs === undefined ? 15 : Number(parsed.values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`--runs must be a positive integer, got ${parsed.values.runs}\n${usage}`);
    process.exit(2);
  }
  const only = parsed.values.only;
  if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) {
    console.error(`--only must be one of ${SECTIONS.join(', ')}, got ${only}\n${usage}`);
    process.exit(2);
  }
  return { runs, keep: parsed.values.keep ?? false, ...(only ? { only: only as (typeof SECTIONS)[number] } : {}) };
}

// ---------------------------------------------------------------------------------------------------
// serverless.yml

interface FunctionSpec {
  name: string;
  /** As written in serverless.yml, e.g. functions/start-run/handler.handler */
  handler: string;
  entry: string;
  exportName: string;
  configuredMemoryMb: number;
  timeoutSeconds: number;
}

interface ServiceFile {
  functions: FunctionSpec[];
  esbuild: BuildOptions;
  /** custom.esbuild as written, for the report. */
  esbuildAsWritten: Record<string, unknown>;
}

// CloudFormation short forms (!Ref, !Sub, !GetAtt...) so serverless.yml parses without warnings.
const CFN_FUNCTIONS = ['Ref', 'Sub', 'GetAtt', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or', 'FindInMap', 'GetAZs', 'ImportValue', 'Base64', 'Cidr', 'Condition'];
const cfnTags: (ScalarTag | CollectionTag)[] = CFN_FUNCTIONS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  const scalar: ScalarTag = { tag: `!${name}`, resolve: (value: string) => ({ [key]: value }) };
  const sequence: CollectionTag = { tag: `!${name}`, collection: 'seq', resolve: (value) => ({ [key]: value.toJSON() as unknown }) };
  return [scalar, sequence];
});

// serverless-esbuild's own options, which it removes before calling esbuild (its dist/bundle.js).
const PLUGIN_ONLY_OPTIONS = [
  'concurrency', 'zipConcurrency', 'exclude', 'nativeZip', 'packager', 'packagePath', 'watch', 'keepOutputDirectory',
  'packagerOptions', 'installExtraArgs', 'outputFileExtension', 'outputBuildFolder', 'outputWorkFolder', 'nodeExternals',
  'skipBuild', 'skipRebuild', 'skipBuildExcludeFns', 'stripEntryResolveExtensions', 'disposeContext', 'config', 'plugins',
];
const HANDLER_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.tsx', '.jsx'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readServiceFile(): ServiceFile {
  const raw: unknown = parseYaml(readFileSync(join(root, 'serverless.yml'), 'utf8'), { customTags: cfnTags });
  if (!isRecord(raw) || !isRecord(raw.functions)) throw new Error('serverless.yml has no functions: block');
  const provider = isRecord(raw.provider) ? raw.provider : {};
  const defaultMemory = typeof provider.memorySize === 'number' ? provider.memorySize : 1024; // the framework's default
  const defaultTimeout = typeof provider.timeout === 'number' ? provider.timeout : 6;

  const functions: FunctionSpec[] = Object.entries(raw.functions).map(([name, spec]) => {
    if (!isRecord(spec) || typeof spec.handler !== 'string') throw new Error(`serverless.yml: function ${name} has no handler`);
    const dot = spec.handler.lastIndexOf('.');
    const base = spec.handler.slice(0, dot);
    const entry = HANDLER_EXTENSIONS.map((ext) => join(root, `${base}${ext}`)).find((file) => existsSync(file));
    if (!entry) throw new Error(`serverless.yml: handler file for ${name} (${base}.*) not found`);
    return {
      name,
      handler: spec.handler,
      entry,
      exportName: spec.handler.slice(dot + 1),
      configuredMemoryMb: typeof spec.memorySize === 'number' ? spec.memorySize : defaultMemory,
      timeoutSeconds: typeof spec.timeout === 'number' ? spec.timeout : defaultTimeout,
    };
  });

  const custom = isRecord(raw.custom) && isRecord(raw.custom.esbuild) ? raw.custom.esbuild : {};
  const options: Record<string, unknown> = { ...custom };
  for (const key of PLUGIN_ONLY_OPTIONS) delete options[key];
  const asStrings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const exclude = asStrings(custom.exclude ?? ['aws-sdk']);
  options.external = [...asStrings(custom.external), ...(exclude.includes('*') ? [] : exclude)];
  if (isRecord(custom.alias)) {
    options.alias = Object.fromEntries(
      Object.entries(custom.alias).map(([from, to]) => [from, typeof to === 'string' && /^\.\.?\//.test(to) ? resolve(root, to) : to]),
    );
  }
  // serverless-esbuild's defaults where the file says nothing.
  const runtime = typeof provider.runtime === 'string' ? /^nodejs(\d+)\.x$/.exec(provider.runtime) : null;
  options.bundle ??= true;
  options.platform ??= 'node';
  if (runtime) options.target ??= `node${runtime[1]}`;
  return { functions, esbuild: options as BuildOptions, esbuildAsWritten: custom };
}

// ---------------------------------------------------------------------------------------------------
// Statistics and tables

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const fixed = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));

function table(headers: string[], rows: string[][], rightAligned: number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAligned.includes(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return ['  ' + line(headers), '  ' + line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => '  ' + line(r))].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Child processes

// Timed in the child: only the require() of the bundle.
const INIT_CHILD = `'use strict';
const { writeFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');
const [bundle, exportName, resultFile] = process.argv.slice(2);
const started = performance.now();
const loaded = require(bundle);
const ms = performance.now() - started;
writeFileSync(resultFile, JSON.stringify({ ms, hasHandler: typeof loaded[exportName] === 'function' }));
`;

// One invocation the way the Lambda runtime makes it: require, then handler(event, context) once.
const INVOKE_CHILD = `'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');
const [bundle, exportName, eventFile, resultFile, functionName, memoryMb, timeoutSeconds] = process.argv.slice(2);
const finish = (result) => {
  writeFileSync(resultFile, JSON.stringify({ ...result, maxRssKb: process.resourceUsage().maxRSS }));
  process.exit(0);
};
const describe = (error) => (error instanceof Error ? error.name + ': ' + error.message : String(error));
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
let handler;
try {
  handler = require(bundle)[exportName];
  if (typeof handler !== 'function') throw new TypeError('the bundle exports no function ' + exportName);
} catch (error) {
  finish({ ok: false, error: 'load: ' + describe(error) });
}
const deadline = Date.now() + Number(timeoutSeconds) * 1000;
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + functionName,
  memoryLimitInMB: memoryMb,
  awsRequestId: 'bench-' + process.pid,
  logGroupName: '/aws/lambda/' + functionName,
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
const started = performance.now();
Promise.resolve()
  .then(() => handler(event, context))
  .then(
    (output) => {
      const detail = output && output.step && typeof output.step.detail === 'string' ? output.step.detail.slice(0, 200) : undefined;
      const json = JSON.stringify(output ?? null);
      finish({ ok: true, invokeMs: performance.now() - started, outputBytes: Buffer.byteLength(json), detail, output: JSON.parse(json) });
    },
    (error) =>
      finish({
        ok: false,
        invokeMs: performance.now() - started,
        error: describe(error),
        // What Lambda would report to Step Functions: the error's name is what ASL matches.
        thrown: { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) },
      }),
  );
`;

/**
 * The variables serverless.yml gives functions besides the deployment config's (the approval step's
 * table, key and link; the rotation functions a rotation started now names), with the local values the
 * drill uses: a function reads them at load, so without them its bundle fails to load.
 */
function stackVariables(): Record<string, string> {
  return {
    APPROVALS_TABLE,
    APPROVAL_SIGNING_SECRET,
    APPROVAL_LINK_BASE_URL: process.env.APPROVAL_LINK_BASE_URL ?? 'https://approvals.bench.invalid',
    [DATABASE_ROTATION_FUNCTION_VARIABLE]: localFunctionArn('rotateDatabaseSecret'),
    [API_KEY_ROTATION_FUNCTION_VARIABLE]: localFunctionArn('rotateApiKeys'),
  };
}

/** A clean environment: nothing of this process (NODE_OPTIONS, tsx loaders, AWS_*) leaks in. */
function childEnvironment(variables: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    ...variables,
  };
}

async function runChild<T>(script: string, args: string[], env: NodeJS.ProcessEnv, resultFile: string, nodeArgs: string[] = []): Promise<T> {
  rmSync(resultFile, { force: true });
  const failure = await new Promise<string | null>((done) => {
    execFile(process.execPath, [...nodeArgs, script, ...args], { env, timeout: CHILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return done(null);
      const lastLines = String(stderr).trim().split('\n').slice(-3).join(' | ');
      done(`${error.killed ? `killed after ${CHILD_TIMEOUT_MS / 1000} s` : `exit ${String(error.code)}`}${lastLines ? `: ${lastLines}` : ''}`);
    });
  });
  if (failure !== null && !existsSync(resultFile)) throw new Error(failure);
  return JSON.parse(readFileSync(resultFile, 'utf8')) as T;
}

// ---------------------------------------------------------------------------------------------------
// 1. Bundles

interface Bundle {
  name: string;
  file: string;
  exportName: string;
  bytes: number;
}

async function bundle(name: string, entry: string, exportName: string, options: BuildOptions, outDir: string): Promise<Bundle> {
  const file = join(outDir, name, 'handler.js');
  await build({ ...options, entryPoints: [entry], outfile: file, write: true, logLevel: 'silent', absWorkingDir: root });
  return { name, file, exportName, bytes: statSync(file).size };
}

// ---------------------------------------------------------------------------------------------------
// 2. Module init time

interface InitFigures {
  medianMs: number;
  p90Ms: number;
  minMs: number;
  samplesMs: number[];
  error?: string;
}

async function measureInit(bundles: Bundle[], runs: number, env: NodeJS.ProcessEnv, work: string): Promise<Map<string, InitFigures>> {
  const script = join(work, 'init-child.cjs');
  writeFileSync(script, INIT_CHILD);
  const samples = new Map<string, number[]>(bundles.map((b) => [b.name, []]));
  const errors = new Map<string, string>();
  // Round-robin, one process at a time: drift in the machine's load spreads over every bundle alike.
  for (let run = 0; run < runs; run++) {
    for (const b of bundles) {
      if (errors.has(b.name)) continue;
      try {
        const result = await runChild<{ ms: number; hasHandler: boolean }>(script, [b.file, b.exportName, join(work, 'init-result.json')], env, join(work, 'init-result.json'));
        if (!result.hasHandler) errors.set(b.name, `no function export ${b.exportName}`);
        samples.get(b.name)?.push(result.ms);
      } catch (error) {
        errors.set(b.name, (error as Error).message);
      }
    }
  }
  return new Map(
    bundles.map((b) => {
      const values = samples.get(b.name) ?? [];
      const error = errors.get(b.name);
      const figures: InitFigures = {
        medianMs: round(median(values), 2),
        p90Ms: round(percentile(values, 90), 2),
        minMs: round(Math.min(...values), 2),
        samplesMs: values.map((v) => round(v, 2)),
        ...(error ? { error } : {}),
      };
      return [b.name, figures];
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// 3 + 4. Scenarios and memory against the emulated environment

interface ScenarioFigures {
  scenario: string;
  status: LocalRunResult['status'] | 'NOT RUN';
  error?: string;
  transitions: number;
  taskInvocations: number;
  wallMilliseconds: number;
  /** Task invocations made in a fresh node to measure them (the others ran in-process). */
  measuredInvocations: number;
  /** What those fresh nodes added to the wall time besides the invocation itself: spawn, require, result file. */
  freshNodeOverheadMilliseconds: number;
}

interface MemoryFigures {
  capturedFrom?: string;
  ok: boolean;
  error?: string;
  maxRssKb?: number;
  peakMb?: number;
  invokeMs?: number;
  outputBytes?: number;
  /** The step's own `step.detail`, to see what the invocation did. */
  detail?: string;
  recommendedMemoryMb?: number | null;
}

async function alertTopicArn(config: DeploymentConfig): Promise<string> {
  const identity = await new STSClient({ region: config.recoveryRegion }).send(new GetCallerIdentityCommand({}));
  return `arn:aws:sns:${config.recoveryRegion}:${identity.Account}:${config.notifications.topicName}`;
}

/**
 * Every state machine (statemachines/*.asl.yaml): the scenarios in the run order of shared/scenarios.ts
 * (as the drill runs them: region-failback right after the region-failover it starts from), then any
 * other machine by name.
 */
function benchedMachines(): string[] {
  const files = stateMachineNames();
  return [...SCENARIO_NAMES.filter((name) => files.includes(name)), ...files.filter((name) => !isScenarioName(name))];
}

/** Each machine's input, as an operator would start it (the drill's, cli/drill.ts). */
function benchInput(machine: string, failoverExecution: string | undefined): Record<string, unknown> {
  switch (machine) {
    // The operator has seen the region go dark: the alarm's confirmation period would be minutes of waiting.
    case 'region-failover':
      return { reason: 'bench: the primary region is down', skipConfirmation: true };
    case 'region-failback':
      return { reason: 'bench: the primary region is back', failoverExecution };
    case 'security-incident':
      return { incidentId: `BENCH-${Date.now()}`, blockIps: ['203.0.113.7', '198.51.100.0/24'], patchedImage: 'frontier/api:security-patch', reason: 'bench: API keys leaked' };
    default:
      return { reason: 'bench' };
  }
}

/** The Task calls that failed in a run, for its error line: which step, and why. */
function failedSteps(run: LocalRunResult): string {
  const failed = run.calls.filter((call) => call.error);
  return failed.length === 0 ? '' : `; failed: ${failed.map((call) => `${call.state} (${(call.error ?? '').slice(0, 160)})`).join('; ')}`;
}

/** Clients resolved the failover's control-plane records to the primary until its region failed (as the drill sets them). */
async function pointRecordsAtPrimary(config: DeploymentConfig, endpoint: string): Promise<void> {
  for (const record of config.regionFailover?.dns ?? []) {
    if (record.mode === 'data-plane' || record.recordType !== 'CNAME') continue;
    await emulatorClients(endpoint, 'us-east-1').route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: record.hostedZoneId,
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: record.recordName, Type: 'CNAME', TTL: record.ttlSeconds, ResourceRecords: [{ Value: primaryIngress(config.primaryRegion) }] } }] },
      }),
    );
  }
}

function recommendMemory(peakMb: number): number | null {
  return LAMBDA_MEMORY_SIZES.find((size) => size >= HEADROOM * peakMb) ?? null;
}

/**
 * A module each child process loads first (`--require`): it sends the child's connections to RDS
 * endpoints where this process's endpoint map sends them (routes in BENCH_DATABASE_ROUTES), so the
 * functions that open a database connection are measured doing it.
 */
async function buildEndpointMapPreload(work: string): Promise<string> {
  const file = join(work, 'map-database-endpoints.cjs');
  const contents = [
    "import { mapDatabaseEndpoints } from './local/endpoint-map.ts';",
    "const routes = JSON.parse(process.env.BENCH_DATABASE_ROUTES ?? '[]');",
    'mapDatabaseEndpoints(routes.map((r) => ({ host: new RegExp(r.host), target: r.target })));',
  ].join('\n');
  await build({ stdin: { contents, resolveDir: root, loader: 'ts' }, bundle: true, platform: 'node', format: 'cjs', outfile: file, logLevel: 'silent' });
  return file;
}

/** Created with some rows in the server restored instances answer on, for PrewarmDatabase to load. */
const PREWARM_TABLE = 'public.orders';

/**
 * The example deployment with every optional step of database-recovery doing its work (read-only
 * mode through the instance's own parameter group, a table to prewarm), so that those functions are
 * measured working, not skipping.
 */
function withEveryRecoveryStep(example: DeploymentConfig): DeploymentConfig {
  const raw = structuredClone(example);
  for (const database of raw.databases) {
    if (!database.recovery) continue;
    database.recovery.readOnlyMode = 'parameter-group';
    database.recovery.readOnlyParameterGroup = `${database.name}-own-pg16`;
    database.recovery.prewarmTables = [PREWARM_TABLE];
  }
  return parseDeploymentConfig(raw, 'the bench deployment');
}

/** What the invoke child writes. */
interface ChildResult {
  ok: boolean;
  error?: string;
  thrown?: { name: string; message: string };
  maxRssKb: number;
  invokeMs?: number;
  outputBytes?: number;
  detail?: string;
  output?: unknown;
}

interface ChildInvocation {
  figures: MemoryFigures;
  /** From spawning the child to reading its result. */
  elapsedMs: number;
  /** elapsedMs less the invocation itself: what a fresh node adds. */
  overheadMs: number;
  output?: unknown;
  /** The handler's error (its name is what ASL matches). */
  thrown?: { name: string; message: string };
}

interface EmulatedResults {
  scenarios: ScenarioFigures[];
  memory: Map<string, MemoryFigures>;
  baselineMemory?: MemoryFigures;
}

async function measureAgainstEmulator(
  functions: FunctionSpec[],
  bundles: Map<string, Bundle>,
  empty: Bundle,
  work: string,
  onStart: (environment: EmulatedEnvironment) => void,
): Promise<EmulatedResults> {
  // The handlers' logs and EMF lines would only add noise; the same settings as the drill.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const environment = await startEmulatedEnvironment();
  onStart(environment);
  // The same emulated deployment as the drill: two real Kubernetes control planes (the primary with too
  // few Ready nodes), Redis and the API /health beside moto and PostgreSQL.
  const example = withEveryRecoveryStep(loadDeploymentConfigFile(EXAMPLE_CONFIG));
  const clusters = await startClusterEnvironment(environment, example, { primary: 'nodes-not-ready', log: (line) => console.log(line) });
  let config = emulatorConfig(example, environment);
  for (const database of config.databases) {
    await environment.restoredPostgres.ensureDatabase(database.databaseName);
    await environment.restoredPostgres.execute(
      `CREATE TABLE IF NOT EXISTS ${PREWARM_TABLE} (id int PRIMARY KEY, note text); INSERT INTO ${PREWARM_TABLE} SELECT g, md5(g::text) FROM generate_series(1, 10000) g ON CONFLICT DO NOTHING`,
      database.databaseName,
    );
  }
  const seeded = await seedExampleDeployment(config, environment.endpoint, environment.postgres, environment.clusters);
  // moto chooses key and IP set ids: the failback encrypts with the key the seed made, the containment blocks in its IP set.
  if (config.regionFailback && seeded.failbackKeyArn) config = { ...config, regionFailback: { ...config.regionFailback, kmsKeyArn: seeded.failbackKeyArn } };
  config = withSeededWafIpSet(config, seeded);
  useConfig(config);
  process.env.ALERT_TOPIC_ARN = await alertTopicArn(config);
  process.env.RECOVERY_LOCK_TABLE = seeded.recoveryLockTable;
  // The approval step's table and key the seed creates (the runs that ask are approved below, on the token).
  process.env.APPROVALS_TABLE = APPROVALS_TABLE;
  process.env.APPROVAL_SIGNING_SECRET = APPROVAL_SIGNING_SECRET;
  process.env.APPROVAL_LINK_BASE_URL ??= 'https://approvals.bench.invalid';

  // Handlers are imported (and transpiled) before the runs, so wall time is the executions' own.
  const called = new Set(functions.map((f) => f.name));
  await Promise.all([...called].map((name) => importHandler(name).catch(() => undefined)));

  const env = childEnvironment({
    AWS_REGION: config.recoveryRegion,
    AWS_ENDPOINT_URL: environment.endpoint,
    ...deploymentConfigEnvironment(config),
    ALERT_TOPIC_ARN: seeded.alertTopicArn,
    RECOVERY_LOCK_TABLE: seeded.recoveryLockTable,
    ...stackVariables(),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    BENCH_DATABASE_ROUTES: JSON.stringify(databaseRoutes(environment).map((r) => ({ host: typeof r.host === 'string' ? `^${r.host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$` : r.host.source, target: r.target }))),
  });
  const preload = ['--require', await buildEndpointMapPreload(work)];
  const script = join(work, 'invoke-child.cjs');
  writeFileSync(script, INVOKE_CHILD);
  mkdirSync(join(work, 'events'), { recursive: true });
  let invocations = 0;
  const invoke = async (b: Bundle, spec: Pick<FunctionSpec, 'name' | 'configuredMemoryMb' | 'timeoutSeconds'>, event: unknown): Promise<ChildInvocation> => {
    // A file pair per invocation: invocations of different functions can run at once (Parallel, Map).
    invocations += 1;
    const eventFile = join(work, 'events', `${spec.name}-${invocations}.json`);
    const resultFile = join(work, 'events', `${spec.name}-${invocations}.result.json`);
    writeFileSync(eventFile, JSON.stringify(event ?? null));
    const started = performance.now();
    try {
      const result = await runChild<ChildResult>(
        script,
        [b.file, b.exportName, eventFile, resultFile, spec.name, String(spec.configuredMemoryMb), String(spec.timeoutSeconds)],
        env,
        resultFile,
        preload,
      );
      const elapsedMs = performance.now() - started;
      const figures: MemoryFigures = {
        ok: result.ok,
        ...(result.error ? { error: result.error } : {}),
        maxRssKb: result.maxRssKb,
        peakMb: round(result.maxRssKb / 1024, 1),
        ...(result.invokeMs !== undefined ? { invokeMs: round(result.invokeMs, 1) } : {}),
        ...(result.outputBytes !== undefined ? { outputBytes: result.outputBytes } : {}),
        ...(result.detail ? { detail: result.detail } : {}),
        recommendedMemoryMb: recommendMemory(result.maxRssKb / 1024),
      };
      return { figures, elapsedMs, overheadMs: Math.max(0, elapsedMs - (result.invokeMs ?? 0)), output: result.output, ...(result.thrown ? { thrown: result.thrown } : {}) };
    } catch (error) {
      const elapsedMs = performance.now() - started;
      return { figures: { ok: false, error: (error as Error).message }, elapsedMs, overheadMs: elapsedMs };
    }
  };

  // Each function's first call in the runs is made in a fresh node and measured there, with the
  // event the state machine gives it at that point: the recovery steps run while their execution
  // holds the lock, the scratch instance exists when restore-test's steps look for it, and so on.
  // Its output (or error) is the task's. Until one such invocation succeeds, the function's next call
  // is measured again; after it, the function runs in-process. A child that could not run the
  // handler at all (no bundle export, killed at the timeout) leaves the call to the in-process one.
  const memory = new Map<string, MemoryFigures>();
  const measuring = new Set<string>();
  const specs = new Map(functions.map((f) => [f.name, f]));
  const scenarios: ScenarioFigures[] = [];
  const front = environment.front;
  // A run that asks (approvals.<scenario>: approval) is approved on its task token at once, as the drill does.
  const stopAnswering = onTaskWaiting((task) => sendTaskSuccess(task.token, JSON.stringify({ approved: true, by: 'frontier-dr bench', via: 'console', at: new Date().toISOString() })));
  let failoverExecution: string | undefined;
  try {
    for (const scenario of benchedMachines()) {
      if (scenario === 'region-failback' && !failoverExecution) {
        scenarios.push({ scenario, status: 'NOT RUN', error: 'it starts from a completed region-failover, and none completed', transitions: 0, taskInvocations: 0, wallMilliseconds: 0, measuredInvocations: 0, freshNodeOverheadMilliseconds: 0 });
        continue;
      }
      const callsSoFar = new Map<string, number>();
      const measured: { functionName: string; nth: number; figures: MemoryFigures }[] = [];
      let overheadMs = 0;
      const measuringHandler = (name: string, b: Bundle): LambdaHandler => async (event, context) => {
        // The n-th call of a function is the n-th TaskCall of it in the run (the runner records the call
        // just before it calls the handler), which names the state after the run.
        const nth = callsSoFar.get(name) ?? 0;
        callsSoFar.set(name, nth + 1);
        const inProcess = async () => (await importHandler(name))(event, context);
        if (memory.get(name)?.ok || measuring.has(name)) return inProcess();
        measuring.add(name);
        let invocation: ChildInvocation;
        try {
          invocation = await invoke(b, specs.get(name) as FunctionSpec, event);
        } finally {
          measuring.delete(name);
        }
        overheadMs += invocation.overheadMs;
        const figures: MemoryFigures = { capturedFrom: scenario, ...invocation.figures };
        measured.push({ functionName: name, nth, figures });
        // The first success stands (later calls run in-process); until then, the latest failure.
        if (!memory.get(name)?.ok) memory.set(name, figures);
        if (invocation.figures.ok) return invocation.output;
        if (invocation.thrown) throw Object.assign(new Error(invocation.thrown.message), { name: invocation.thrown.name });
        return inProcess();
      };
      const handlerOverrides = Object.fromEntries([...bundles.entries()].filter(([name]) => specs.has(name)).map(([name, b]) => [name, measuringHandler(name, b)]));
      // Rollout waits last 300 ms here, as in the drill (long enough for the controllers and kwok to move
      // a rollout on): with 0 ms the loop would spin and the transition count would measure this machine,
      // not the design.
      const clusterScenario = isScenarioName(scenario) ? scenarioNeeds(scenario).needsClusters : true;
      const executionName = `bench-${scenario}-${Date.now()}`;
      // As the drill plants them: the primary region down for the failover (every request signed for it
      // refused, its cluster refusing connections, clients still on its records), back for what follows.
      const regionDown = scenario === 'region-failover';
      if (regionDown) {
        await pointRecordsAtPrimary(config, environment.endpoint);
        await clusters.setPrimary('refusing-connections');
        front.failRegion(config.primaryRegion);
      } else if (scenario === 'region-failback' || scenario === 'security-incident') {
        await clusters.setPrimary('healthy');
      }
      let run: LocalRunResult;
      try {
        run = await runEmulatedExecution(environment.endpoint, scenario, benchInput(scenario, failoverExecution), { executionName, handlerOverrides, ...(clusterScenario ? { waitMilliseconds: 300 } : {}) });
      } finally {
        if (regionDown) front.restoreRegion(config.primaryRegion);
      }
      if (regionDown && run.status === 'SUCCEEDED') failoverExecution = executionName;
      scenarios.push({
        scenario,
        status: run.status,
        ...(run.error ? { error: `${run.error.name}: ${run.error.message}${failedSteps(run)}` } : {}),
        transitions: run.transitions,
        taskInvocations: run.calls.length,
        wallMilliseconds: run.wallMilliseconds,
        measuredInvocations: measured.length,
        freshNodeOverheadMilliseconds: Math.round(overheadMs),
      });
      for (const { functionName, nth, figures } of measured) {
        figures.capturedFrom = `${scenario} › ${run.calls.filter((call) => call.functionName === functionName)[nth]?.state ?? '?'}`;
      }
    }
  } finally {
    stopAnswering();
  }
  for (const spec of functions) {
    if (memory.has(spec.name)) continue;
    memory.set(spec.name, { ok: false, error: bundles.has(spec.name) ? 'no scenario run called it' : 'no bundle' });
  }
  const baselineMemory = (await invoke(empty, { name: 'emptyHandler', configuredMemoryMb: 128, timeoutSeconds: 3 }, {})).figures;
  return { scenarios, memory, baselineMemory };
}

// ---------------------------------------------------------------------------------------------------
// 4. Wait loops

interface WaitLoop {
  stateMachine: string;
  state: string;
  /** Seconds (a fixed wait), or the look whose nextCheckSeconds the Wait reads (SecondsPath). */
  wait: string;
  /** Seconds between looks once the first wait is over. */
  pollSeconds: number | null;
  cycle: string[];
  cycleStates: number;
  transitionsPerMinutePolling: number | null;
  /** The most the loop sees its resource ready late: a poll and a look. */
  overshootSeconds: number | null;
  target: string;
}

type States = Record<string, Record<string, unknown>>;

function successors(state: Record<string, unknown>): string[] {
  const next: string[] = [];
  if (typeof state.Next === 'string') next.push(state.Next);
  if (typeof state.Default === 'string') next.push(state.Default);
  if (Array.isArray(state.Choices)) for (const rule of state.Choices) if (isRecord(rule) && typeof rule.Next === 'string') next.push(rule.Next);
  return next;
}

/** Shortest path from `start` back to itself along Next/Choice edges, or null when it is not in a loop. */
function shortestCycle(states: States, start: string): string[] | null {
  const previous = new Map<string, string>();
  const queue: string[] = [];
  for (const next of successors(states[start] ?? {})) {
    if (next === start) return [start];
    if (!previous.has(next)) {
      previous.set(next, start);
      queue.push(next);
    }
  }
  while (queue.length > 0) {
    const current = queue.shift() as string;
    for (const next of successors(states[current] ?? {})) {
      if (next === start) {
        const path = [current];
        for (let at = current; previous.get(at) !== start; ) {
          at = previous.get(at) as string;
          path.unshift(at);
        }
        return [start, ...path];
      }
      if (!previous.has(next) && states[next]) {
        previous.set(next, current);
        queue.push(next);
      }
    }
  }
  return null;
}

function waitLoops(): WaitLoop[] {
  const loops: WaitLoop[] = [];
  for (const machine of stateMachineNames()) {
    const definition: unknown = parseYaml(readFileSync(join(root, 'statemachines', `${machine}.asl.yaml`), 'utf8'));
    const visit = (scope: unknown, prefix: string) => {
      if (!isRecord(scope) || !isRecord(scope.States)) return;
      const states = scope.States as States;
      for (const [name, state] of Object.entries(states)) {
        if (!isRecord(state)) continue;
        if (state.Type === 'Wait') {
          const cycle = shortestCycle(states, name);
          if (cycle) {
            // A SecondsPath wait polls as its look's function says (shared/polling.ts): 5 s for a rollout, else 10 s.
            const look = typeof state.SecondsPath === 'string' ? /^\$\.steps\.([A-Za-z0-9]+)\./.exec(state.SecondsPath)?.[1] : undefined;
            const lookFunction = look ? ((states[look]?.Resource as { 'Fn::GetAtt'?: [string] } | undefined)?.['Fn::GetAtt']?.[0] ?? null) : null;
            const pollSeconds = typeof state.Seconds === 'number' ? state.Seconds : lookFunction ? (lookFunction === 'checkRollout' ? ROLLOUT_POLL_SECONDS : DEFAULT_POLL_SECONDS) : null;
            loops.push({
              stateMachine: machine,
              state: `${prefix}${name}`,
              wait: typeof state.Seconds === 'number' ? `${state.Seconds} s` : look ? `${look}.nextCheckSeconds` : String(state.SecondsPath ?? state.Timestamp ?? state.TimestampPath),
              pollSeconds,
              cycle,
              cycleStates: cycle.length,
              transitionsPerMinutePolling: pollSeconds ? round(cycle.length / (pollSeconds / 60), 2) : null,
              overshootSeconds: pollSeconds ? pollSeconds + LOOK_SECONDS : null,
              target: `<= ${MAX_OVERSHOOT_SECONDS} s late`,
            });
          }
        }
        visit(state.ItemProcessor ?? state.Iterator, `${prefix}${name} › `);
        if (Array.isArray(state.Branches)) state.Branches.forEach((branch, i) => visit(branch, `${prefix}${name}[${i}] › `));
      }
    };
    visit(definition, '');
  }
  return loops;
}

// ---------------------------------------------------------------------------------------------------


// ---------------------------------------------------------------------------------------------------
// 5. Backup verification of many databases, under RDS's request throttling

const LARGE_DATABASES = 100;
/**
 * RDS API request throttling, per account and region: "up to 300 requests in a burst and a sustained
 * 12 requests per second" (Amazon RDS User Guide, "Request throttling for the Amazon RDS API").
 */
const RDS_THROTTLING: RdsRateLimit = { burst: 300, perSecond: 12 };
const STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024;

interface LargeVerificationFigures {
  label: string;
  databases: number;
  seedMilliseconds: number;
  status: string;
  error?: string;
  wallMilliseconds: number;
  transitions: number;
  verifyInvocations: number;
  rdsRequests: RdsRequestCounts;
  rdsLimit: RdsRateLimit;
  /** Invocations that failed with AwsTransientError (throttling past the SDK's retries) and were retried by ASL. */
  transientFailures: number;
  /** Databases the Map recorded as not verified (its Catch), with their error. */
  notVerified: { database: string; error: string }[];
  /** Databases whose verification failed because of throttling, after every retry. */
  throttlingFailures: number;
  outputBytes: number;
}

async function measureLargeBackupVerification(onStart: (environment: EmulatedEnvironment) => void): Promise<LargeVerificationFigures[]> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const environment = await startEmulatedEnvironment();
  onStart(environment);
  const config = emulatorConfig(withManyDatabases(loadDeploymentConfigFile(EXAMPLE_CONFIG), LARGE_DATABASES), environment);
  const seedStarted = Date.now();
  // The example's own database with its history and planted problems, buckets, reports bucket and
  // topic; then the 99 others, each an instance, a snapshot and its recovery-region copy.
  const seeded = await seedExampleDeployment({ ...config, databases: config.databases.slice(0, 1) }, environment.endpoint, environment.postgres);
  await seedDatabasesForVerification(config, config.databases.slice(1), environment.endpoint);
  const seedMilliseconds = Date.now() - seedStarted;
  useConfig(config, seeded.alertTopicArn);
  await Promise.all(['startRun', 'verifyDatabaseBackups', 'verifyBuckets', 'publishReport', 'notifyOnCall'].map((name) => importHandler(name)));

  environment.front.limitRds(RDS_THROTTLING);
  // Twice in a row under one token bucket: the first run starts with a full bucket, the second with
  // what the first left (as when verification overlaps another RDS client of the account), so it
  // shows what throttling costs. ASL retries wait as defined (5 s, then x2), not 0 as in the tests.
  const runs: LargeVerificationFigures[] = [];
  let before: RdsRequestCounts = { total: 0, throttled: 0, byAction: {} };
  for (const label of ['full bucket', 'right after'] as const) {
    const run = await runStateMachine('backup-verification', { reason: `bench: ${LARGE_DATABASES} databases` }, { executionName: `bench-large-${Date.now()}`, realRetryIntervals: true });
    const after = environment.front.rdsRequests();
    const rdsRequests: RdsRequestCounts = {
      total: after.total - before.total,
      throttled: after.throttled - before.throttled,
      byAction: Object.fromEntries(Object.entries(after.byAction).map(([action, count]) => [action, count - (before.byAction[action] ?? 0)])),
    };
    before = after;
    const items = ((run.output as { items?: unknown[] } | undefined)?.items ?? []) as { database?: string; failures?: Record<string, { Error?: string; Cause?: string }> }[];
    const notVerified = items.flatMap((item) => {
      const failure = item.failures?.VerifyDatabaseBackups;
      return failure ? [{ database: String(item.database), error: `${failure.Error ?? ''}: ${(failure.Cause ?? '').slice(0, 200)}` }] : [];
    });
    const verifyCalls = run.calls.filter((c) => c.functionName === 'verifyDatabaseBackups');
    runs.push({
      label,
      databases: config.databases.length,
      seedMilliseconds,
      status: run.status,
      ...(run.error ? { error: `${run.error.name}: ${run.error.message}` } : {}),
      wallMilliseconds: run.wallMilliseconds,
      transitions: run.transitions,
      verifyInvocations: verifyCalls.length,
      rdsRequests,
      rdsLimit: RDS_THROTTLING,
      transientFailures: verifyCalls.filter((c) => c.error?.startsWith('AwsTransientError')).length,
      notVerified,
      throttlingFailures: notVerified.filter((n) => /AwsTransientError|Throttl|Rate exceeded/i.test(n.error)).length,
      outputBytes: Buffer.byteLength(JSON.stringify(run.output ?? null)),
    });
  }
  environment.front.limitRds(null);
  return runs;
}

function printLargeVerification(runs: LargeVerificationFigures[] | undefined, error: string | undefined): void {
  console.log(`\nBackup verification of ${LARGE_DATABASES} databases (real state machine, handlers in-process against the emulator; RDS limited to ${RDS_THROTTLING.burst} burst + ${RDS_THROTTLING.perSecond}/s per region; ASL retry intervals as defined; two runs in a row)`);
  if (!runs || runs.length === 0) {
    console.log(`  not measured: ${error?.split('\n')[0]}`);
    return;
  }
  const column = (f: LargeVerificationFigures) => [
    f.error ? `${f.status} (${f.error})` : f.status,
    `${f.wallMilliseconds} ms`,
    String(f.transitions),
    String(f.verifyInvocations),
    String(f.rdsRequests.total),
    Object.entries(f.rdsRequests.byAction).sort(([a], [b]) => a.localeCompare(b)).map(([action, count]) => `${action.replace('Describe', 'D.')} ${count}`).join(', '),
    String(f.rdsRequests.throttled),
    String(f.transientFailures),
    f.notVerified.length === 0 ? '0' : `${f.notVerified.length}: ${f.notVerified.slice(0, 2).map((n) => `${n.database} ${n.error}`).join('; ')}`,
    f.throttlingFailures === 0 ? 'yes' : `NO (${f.throttlingFailures})`,
    `${fixed(f.outputBytes / 1024)} KiB (limit ${STATE_PAYLOAD_LIMIT_BYTES / 1024})`,
  ];
  const labels = ['status', 'wall time', 'state transitions', 'verifyDatabaseBackups invocations', 'RDS API requests', 'by region and action', 'RDS requests throttled (SDK retried)', 'invocations failed AwsTransientError (ASL retried)', 'databases not verified', 'no throttling failure', 'execution output (Step Functions state)'];
  const columns = runs.map(column);
  console.log(`  seed (moto): ${runs[0]?.seedMilliseconds} ms`);
  console.log(table(['', ...runs.map((r) => r.label)], labels.map((label, i) => [label, ...columns.map((c) => c[i] as string)])));
}

// ---------------------------------------------------------------------------------------------------
// 6. Recovery-time model

function recoveryTimeModel(): RecoveryTimeModel {
  return modelEveryStateMachine(loadDeploymentConfigFile(EXAMPLE_CONFIG));
}

function printRecoveryTimeModel(model: RecoveryTimeModel): void {
  console.log('\nRecovery-time model (in AWS, under the durations of scripts/recovery-time-model.ts ASSUMPTIONS; critical path against the plan\'s manual runbook)');
  console.log(
    table(
      ['state machine', 'RTO', 'critical path', 'transitions', 'largest overshoot s', 'manual runbook', 'manual / model'],
      model.scenarios.map((s) => [
        s.name,
        s.rtoMinutes === null ? '-' : `${s.rtoMinutes} min`,
        s.model ? minutes(s.model.totalSeconds) : `not modelled: ${s.error ?? ''}`,
        s.model ? String(s.model.transitions) : '-',
        s.model ? String(Math.max(0, ...s.model.loops.map((l) => l.overshootSeconds))) : '-',
        s.manual ? minutes(s.manual.totalSeconds) : 'none in the plan',
        s.model && s.manual ? `${(s.manual.totalSeconds / s.model.totalSeconds).toFixed(1)}x` : '-',
      ]),
      [1, 2, 3, 4, 5, 6],
    ),
  );
  for (const s of model.scenarios) {
    if (!s.model) continue;
    const long = s.model.segments.filter((segment) => segment.seconds >= 60).map((segment) => `${segment.state} ${minutes(segment.seconds)}`);
    console.log(`  ${s.name}: ${long.join(', ') || 'no step of a minute or more'}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// docs/benchmarks.md

const MODEL_START = '<!-- recovery-time-model: start -->';
const MODEL_END = '<!-- recovery-time-model: end -->';

interface Provenance {
  date: Date;
  machine: { cpu: string; cores: number; arch: string; node: string; platform: string; loadAverage1m: number };
  command: string;
  seconds: number;
}

function provenanceLine(p: Provenance): string {
  return `Written by \`${p.command}\` on ${p.date.toISOString().slice(0, 16).replace('T', ' ')} UTC in ${p.seconds} s: ${p.machine.cpu}, ${p.machine.cores} cores (${p.machine.arch}), load average ${p.machine.loadAverage1m} at the start, Node ${p.machine.node.replace(/^v/, '')}, ${p.machine.platform}.`;
}

function renderModelSection(model: RecoveryTimeModel, p: Provenance): string {
  return [
    MODEL_START,
    '## Recovery-time model',
    '',
    provenanceLine(p) + ' The model depends on the definitions and the assumptions, not on the machine.',
    '',
    renderModelIntro(),
    '',
    '### Assumptions',
    '',
    renderAssumptions(model.durations),
    '',
    '### Critical paths against the manual runbook',
    '',
    renderRecoveryTimeModel(model),
    MODEL_END,
  ].join('\n');
}

/** Rewrites the model's section of docs/benchmarks.md, keeping the rest (a file without one gets it at the end). */
function writeModelSection(model: RecoveryTimeModel, p: Provenance): void {
  const section = renderModelSection(model, p);
  const existing = existsSync(DOCS_PATH) ? readFileSync(DOCS_PATH, 'utf8') : '# Benchmarks\n\nRun `npm run bench` for the measured figures.\n';
  const start = existing.indexOf(MODEL_START);
  const end = existing.indexOf(MODEL_END);
  const next = start >= 0 && end > start ? `${existing.slice(0, start)}${section}${existing.slice(end + MODEL_END.length)}` : `${existing.trimEnd()}\n\n${section}\n`;
  mkdirSync(dirname(DOCS_PATH), { recursive: true });
  writeFileSync(DOCS_PATH, next);
}

interface MeasuredFigures {
  functions: FunctionSpec[];
  bundles: Map<string, Bundle>;
  bundleErrors: Map<string, string>;
  init: Map<string, InitFigures>;
  empty: Bundle;
  runs: number;
  emulated?: EmulatedResults;
  emulatorError?: string;
  loops: WaitLoop[];
  /** Undefined while the bench has not got there (docs/benchmarks.md is written after each section). */
  large?: { figures?: LargeVerificationFigures[]; error?: string };
}

function renderBenchmarks(m: MeasuredFigures, model: RecoveryTimeModel, p: Provenance, stillRunning?: string): string {
  const emptyInit = m.init.get(m.empty.name);
  const functionRows = m.functions.map((f) => {
    const b = m.bundles.get(f.name);
    const i = m.init.get(f.name);
    const memory = m.emulated?.memory.get(f.name);
    return [
      `\`${f.name}\``,
      b ? fixed(b.bytes / 1000) : 'build failed',
      fixed(i?.medianMs),
      fixed(i?.p90Ms),
      i && emptyInit ? fixed(i.medianMs - emptyInit.medianMs) : '-',
      fixed(memory?.peakMb),
      memory?.recommendedMemoryMb === undefined ? '-' : memory.recommendedMemoryMb === null ? '> 1024' : String(memory.recommendedMemoryMb),
      String(f.configuredMemoryMb),
      memory ? (memory.ok ? (memory.capturedFrom ?? '') : `NOT OK: ${memory.error ?? ''}`.slice(0, 160)) : (i?.error ?? m.bundleErrors.get(f.name) ?? ''),
    ];
  });
  const base = m.emulated?.baselineMemory;
  functionRows.push(['(empty handler)', fixed(m.empty.bytes / 1000, 2), fixed(emptyInit?.medianMs, 2), fixed(emptyInit?.p90Ms, 2), '-', fixed(base?.peakMb), '-', '-', '']);
  const lines = [
    '# Benchmarks',
    '',
    '<!-- Written by scripts/bench.ts: edit the script, not this file. -->',
    '',
    provenanceLine(p),
    ...(stillRunning ? [`**Incomplete: written while the bench was at ${stillRunning}; it did not get further.**`, ''] : []),
    'Timings on a shared machine are noisy (init times move by 10-20 % from run to run, p90 and wall times more); bundle',
    'sizes, state transitions and the recovery-time model do not depend on the load. What each figure means: the header',
    'of `scripts/bench.ts` and README, "Benchmarks". `reports/bench.json` holds every figure of the run.',
    '',
    '## Functions: bundle, module init, peak memory',
    '',
    `Every function in \`serverless.yml\`, bundled with its \`custom.esbuild\` options. Init: \`require()\` of the bundle in a fresh \`node\`, ${m.runs} processes each, round-robin, beside an empty handler. Peak memory: one invocation in a fresh \`node\` (maxRSS), the function's first call in the scenario runs below, made at that point of the run against the emulator; recommended = the smallest Lambda size of ${LAMBDA_MEMORY_SIZES.join('/')} MB that is at least ${HEADROOM}x the peak. KB = 1000 bytes.`,
    '',
    markdownTable(['function', 'bundle KB', 'init median ms', 'init p90 ms', 'median - empty ms', 'peak MB', 'recommended MB', 'configured MB', 'measured in (scenario › state)'], functionRows, [1, 2, 3, 4, 5, 6, 7]),
    '',
    '## Scenarios: one local run each',
    '',
    'Every `statemachines/*.asl.yaml` against the emulated deployment (two real Kubernetes control planes, moto, PostgreSQL, Redis): Wait states last 0 ms (300 ms in the cluster scenarios, so the controllers and kwok move a rollout on), handlers already imported, each function\'s first call in a fresh `node` (its start is the last column). region-failover runs with its primary region down and its approval answered, region-failback from it.',
    '',
    m.emulated
      ? markdownTable(
          ['state machine', 'status', 'state transitions', 'task invocations', 'of which in a fresh node', 'wall ms', 'of which fresh-node starts ms'],
          m.emulated.scenarios.map((s) => [`\`${s.scenario}\``, s.error ? `${s.status} (${s.error.slice(0, 200)})` : s.status, String(s.transitions), String(s.taskInvocations), String(s.measuredInvocations), String(s.wallMilliseconds), String(s.freshNodeOverheadMilliseconds)]),
          [2, 3, 4, 5, 6],
        )
      : `Not measured: ${m.emulatorError?.split('\n')[0] ?? ''}`,
    '',
    '### What waiting costs',
    '',
    `Each Wait state in a loop: transitions per minute of polling = the cycle's states / (poll / 60); seen ready late by at most a poll and a ${LOOK_SECONDS}-s look; $0.025 per 1,000 transitions (README, "Waits and what they cost").`,
    '',
    markdownTable(
      ['state machine', 'wait state', 'wait', 'poll s', 'cycle', 'transitions/min polling', 'late at most s'],
      m.loops.map((l) => [`\`${l.stateMachine}\``, l.state, l.wait, l.pollSeconds === null ? 'n/a' : String(l.pollSeconds), l.cycle.join(' → '), fixed(l.transitionsPerMinutePolling, 2), l.overshootSeconds === null ? 'n/a' : String(l.overshootSeconds)]),
      [3, 5, 6],
    ),
    '',
    `## Backup verification of ${LARGE_DATABASES} databases under RDS throttling`,
    '',
    `The real state machine, handlers in-process against the emulator, RDS held to ${RDS_THROTTLING.burst} requests of burst and ${RDS_THROTTLING.perSecond}/s per region (RDS User Guide, "Request throttling for the Amazon RDS API"), ASL retry intervals as defined, two runs in a row on one token bucket. Alone: \`npm run bench -- --only large-backup-verification\`.`,
    '',
    !m.large
      ? 'Not measured: the bench did not get this far.'
      : m.large.figures && m.large.figures.length > 0
      ? markdownTable(
          ['run', 'status', 'wall ms', 'state transitions', 'RDS requests', 'throttled (SDK retried)', 'failed AwsTransientError (ASL retried)', 'databases not verified', 'execution output KiB'],
          m.large.figures.map((f) => [f.label, f.error ? `${f.status} (${f.error.slice(0, 120)})` : f.status, String(f.wallMilliseconds), String(f.transitions), String(f.rdsRequests.total), String(f.rdsRequests.throttled), String(f.transientFailures), String(f.notVerified.length), fixed(f.outputBytes / 1024)]),
          [2, 3, 4, 5, 6, 7, 8],
        ) + `\n\nSeed (moto): ${m.large.figures[0]?.seedMilliseconds ?? '-'} ms; Step Functions' state limit is ${STATE_PAYLOAD_LIMIT_BYTES / 1024} KiB.`
      : `Not measured: ${m.large.error?.split('\n')[0] ?? ''}`,
    '',
    renderModelSection(model, p),
    '',
  ];
  return lines.join('\n');
}

/** Where the bench is, for the message when it stops without finishing. */
let benchSection = 'the start';
let benchFinished = false;
// Node exits quietly (status 0) when the event loop empties while main still awaits a promise that
// can no longer settle: say where, and fail.
process.once('beforeExit', () => {
  if (benchFinished) return;
  console.error(`\nThe bench stopped in ${benchSection}: it was waiting for something that can no longer happen; figures so far are in ${relative(process.cwd(), DOCS_PATH)}`);
  process.exitCode = 1;
});

async function main(): Promise<void> {
  const started = Date.now();
  const options = commandLine();
  const date = new Date();
  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model.trim() || 'unknown CPU',
    cores: cpus.length,
    arch: process.arch,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    /** Other work on the machine widens the spread of the timings (p90 especially). */
    loadAverage1m: round(os.loadavg()[0] ?? 0, 2),
  };
  console.log(`frontier-dr bench — ${machine.cpu} (${machine.cores} cores, ${machine.arch}), node ${machine.node}, load ${machine.loadAverage1m}, ${date.toISOString()}`);

  const work = mkdtempSync(join(os.tmpdir(), 'frontier-bench-'));
  let environment: EmulatedEnvironment | undefined;
  let stopping: Promise<void> = Promise.resolve();
  // Idempotent: an interrupt and main's `finally` wait for the same stop.
  const stopEnvironment = (): Promise<void> => {
    const running = environment;
    environment = undefined;
    if (running) stopping = running.stop();
    return stopping;
  };
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the emulated environment`);
    void stopEnvironment()
      .catch(() => undefined)
      .finally(() => {
        if (!options.keep) rmSync(work, { recursive: true, force: true });
        process.exit(130);
      });
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  let incomplete = false;
  const largeBackupVerification = async (): Promise<{ figures?: LargeVerificationFigures[]; error?: string }> => {
    const { missing } = checkPrerequisites();
    if (missing.length > 0) return { error: `missing prerequisites: ${missing.map((m) => `${m.what} (${m.install})`).join('; ')}` };
    try {
      return {
        figures: await measureLargeBackupVerification((env) => {
          environment = env;
        }),
      };
    } catch (error) {
      return { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    } finally {
      await stopEnvironment();
    }
  };
  try {
    if (options.only === 'recovery-time-model') {
      const model = recoveryTimeModel();
      printRecoveryTimeModel(model);
      const seconds = round((Date.now() - started) / 1000, 1);
      writeModelSection(model, { date, machine, command: 'npm run bench -- --only recovery-time-model', seconds });
      const path = join(root, 'reports', 'bench-recovery-time-model.json');
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${JSON.stringify({ date: date.toISOString(), machine, ...model }, null, 2)}\n`);
      console.log(`\nWritten to ${relative(process.cwd(), path)} and the model's section of ${relative(process.cwd(), DOCS_PATH)} in ${seconds} s`);
      if (model.scenarios.some((s) => !s.model)) process.exitCode = 1;
      return;
    }
    if (options.only === 'large-backup-verification') {
      const large = await largeBackupVerification();
      printLargeVerification(large.figures, large.error);
      const path = join(root, 'reports', 'bench-large-backup-verification.json');
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${JSON.stringify({ date: date.toISOString(), machine, ...large }, null, 2)}\n`);
      console.log(`\nWritten to ${relative(process.cwd(), path)} in ${round((Date.now() - started) / 1000, 1)} s`);
      if (!large.figures || large.figures.some((f) => f.throttlingFailures > 0 || f.status !== 'SUCCEEDED')) process.exitCode = 1;
      return;
    }
    // 1. Bundles
    const service = readServiceFile();
    const shownOptions = Object.entries(service.esbuild)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value instanceof Object && key === 'alias' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relative(root, String(v))])) : value)}`)
      .join(' ');
    console.log(`esbuild ${shownOptions}`);
    const bundleDir = join(work, 'bundles');
    const results = await Promise.allSettled(service.functions.map((f) => bundle(f.name, f.entry, f.exportName, service.esbuild, bundleDir)));
    const bundles = new Map<string, Bundle>();
    const bundleErrors = new Map<string, string>();
    results.forEach((result, i) => {
      const name = service.functions[i]?.name as string;
      if (result.status === 'fulfilled') bundles.set(name, result.value);
      else bundleErrors.set(name, String((result.reason as Error).message ?? result.reason).split('\n')[0] ?? 'build failed');
    });
    if (bundleErrors.size > 0) incomplete = true;
    const emptyEntry = join(work, 'empty-handler.js');
    writeFileSync(emptyEntry, 'exports.handler = async () => ({});\n');
    const empty = await bundle('(empty handler)', emptyEntry, 'handler', service.esbuild, bundleDir);

    // 2. Init
    const exampleConfig = loadDeploymentConfigFile(EXAMPLE_CONFIG);
    const initEnv = childEnvironment({ AWS_REGION: exampleConfig.recoveryRegion, ...deploymentConfigEnvironment(exampleConfig), ALERT_TOPIC_ARN, RECOVERY_LOCK_TABLE, ...stackVariables() });
    const init = await measureInit([...bundles.values(), empty], options.runs, initEnv, work);
    const emptyInit = init.get(empty.name);

    console.log(`\nBundles and module init (require() of the bundle in a fresh node, ${options.runs} processes each; KB = 1000 bytes)`);
    const kb = (bytes: number) => fixed(bytes / 1000, bytes < 1000 ? 2 : 1);
    const kib = (bytes: number) => fixed(bytes / 1024, bytes < 1024 ? 2 : 1);
    const initRows = service.functions.map((f) => {
      const b = bundles.get(f.name);
      const figures = init.get(f.name);
      const overEmpty = figures && emptyInit ? figures.medianMs - emptyInit.medianMs : NaN;
      return [
        f.name,
        b ? kb(b.bytes) : 'build failed',
        b ? kib(b.bytes) : '-',
        fixed(figures?.medianMs),
        fixed(figures?.p90Ms),
        fixed(overEmpty),
        figures?.error ?? bundleErrors.get(f.name) ?? '',
      ];
    });
    initRows.push([empty.name, kb(empty.bytes), kib(empty.bytes), fixed(emptyInit?.medianMs, 2), fixed(emptyInit?.p90Ms, 2), '-', emptyInit?.error ?? '']);
    console.log(table(['function', 'KB', 'KiB', 'init median ms', 'init p90 ms', 'median - empty ms', 'note'], initRows, [1, 2, 3, 4, 5]));

    // Cheap and without the emulator: the loops and the model go into every write of docs/benchmarks.md,
    // which is rewritten after each long section, so a bench stopped later keeps what it measured.
    const loops = waitLoops();
    const model = recoveryTimeModel();
    const command = `npm run bench${options.runs === 15 ? '' : ` -- --runs ${options.runs}`}`;
    const writeDocs = (figures: Omit<MeasuredFigures, 'functions' | 'bundles' | 'bundleErrors' | 'init' | 'empty' | 'runs' | 'loops'>, stillRunning?: string) => {
      const docs = renderBenchmarks(
        { functions: service.functions, bundles, bundleErrors, init, empty, runs: options.runs, loops, ...figures },
        model,
        { date, machine, command, seconds: round((Date.now() - started) / 1000, 1) },
        stillRunning,
      );
      mkdirSync(dirname(DOCS_PATH), { recursive: true });
      writeFileSync(DOCS_PATH, docs);
    };
    writeDocs({ emulatorError: 'not measured yet' }, 'sections 3-4 (the scenarios against the emulator)');

    // 3 + 4. Emulator
    benchSection = 'sections 3-4 (the scenarios against the emulator)';
    let emulated: EmulatedResults | undefined;
    let emulatorError: string | undefined;
    const { missing } = checkPrerequisites();
    if (missing.length > 0) {
      emulatorError = `missing prerequisites: ${missing.map((m) => `${m.what} (${m.install})`).join('; ')}`;
    } else {
      try {
        emulated = await measureAgainstEmulator(service.functions, bundles, empty, work, (env) => {
          environment = env;
        });
      } catch (error) {
        emulatorError = error instanceof Error ? (error.stack ?? error.message) : String(error);
      } finally {
        await stopEnvironment();
      }
    }
    if (emulatorError) incomplete = true;

    console.log(`\nPeak memory of one invocation (fresh node, bundle, the function's first call in a scenario run, made at that point of the run against the emulator; MB = maxRSS KiB / 1024)`);
    console.log('  deployment: config/example.yml with database-recovery doing every optional step (parameter-group read-only mode, a table to prewarm)');
    console.log(`  recommended = smallest Lambda size of ${LAMBDA_MEMORY_SIZES.join('/')} MB that is >= ${HEADROOM}x the peak RSS (${HEADROOM}x headroom)`);
    if (!emulated) {
      console.log(`  not measured: ${emulatorError}`);
    } else {
      const rows = service.functions.map((f) => {
        const m = emulated.memory.get(f.name);
        return [
          f.name,
          fixed(m?.peakMb),
          m?.ok ? 'yes' : 'NO',
          fixed(m?.invokeMs, 0),
          m?.outputBytes === undefined ? '-' : fixed(m.outputBytes / 1000),
          m?.recommendedMemoryMb === undefined ? '-' : m.recommendedMemoryMb === null ? '> 1024' : String(m.recommendedMemoryMb),
          String(f.configuredMemoryMb),
          m?.ok ? (m.capturedFrom ?? '') : `${m?.capturedFrom ? `${m.capturedFrom}: ` : ''}${m?.error ?? ''}`,
        ];
      });
      const base = emulated.baselineMemory;
      if (base) rows.push([empty.name, fixed(base.peakMb), base.ok ? 'yes' : 'NO', fixed(base.invokeMs, 0), '-', '-', '-', base.error ?? 'event {}']);
      console.log(table(['function', 'peak MB', 'ok', 'invoke ms', 'output KB', 'recommended MB', 'configured MB', 'event from / error'], rows, [1, 3, 4, 5, 6]));
    }

    console.log(`\nScenarios (one local run each, Wait states 0 ms (rollout waits 300 ms), handlers already imported; each function's first call runs in a fresh node for the memory figures above)`);
    if (!emulated) console.log(`  not measured: ${emulatorError?.split('\n')[0]}`);
    else {
      console.log(
        table(
          ['scenario', 'status', 'state transitions', 'task invocations', 'of which in a fresh node', 'wall ms', 'of which fresh-node starts ms'],
          emulated.scenarios.map((s) => [
            s.scenario,
            s.error ? `${s.status} (${s.error})` : s.status,
            String(s.transitions),
            String(s.taskInvocations),
            String(s.measuredInvocations),
            String(s.wallMilliseconds),
            String(s.freshNodeOverheadMilliseconds),
          ]),
          [2, 3, 4, 5, 6],
        ),
      );
    }

    writeDocs({ ...(emulated ? { emulated } : {}), ...(emulatorError ? { emulatorError } : {}) }, 'section 5 (backup verification of 100 databases)');
    console.log(
      `\nWaiting-loop cost (Wait states in a Next/Choice cycle; transitions per minute polling = cycle states / (poll / 60); ` +
        `seen ready late by at most a poll and a ${LOOK_SECONDS}-s look; $0.025 per 1,000 transitions)`,
    );
    if (loops.length === 0) console.log('  no Wait state sits in a loop');
    else {
      console.log(
        table(
          ['state machine', 'wait state', 'wait', 'poll s', 'cycle', 'cycle states', 'transitions/min polling', 'late at most s', 'target'],
          loops.map((l) => [
            l.stateMachine,
            l.state,
            l.wait,
            l.pollSeconds === null ? 'n/a' : String(l.pollSeconds),
            l.cycle.join(' → '),
            String(l.cycleStates),
            fixed(l.transitionsPerMinutePolling, 2),
            l.overshootSeconds === null ? 'n/a' : String(l.overshootSeconds),
            l.target,
          ]),
          [3, 5, 6, 7],
        ),
      );
    }

    // 5. Many databases under RDS throttling (its own emulated environment)
    benchSection = 'section 5 (backup verification of 100 databases)';
    const large = await largeBackupVerification();
    printLargeVerification(large.figures, large.error);
    if (!large.figures || large.figures.some((f) => f.throttlingFailures > 0)) incomplete = true;

    // 6. The recovery-time model (computed above)
    printRecoveryTimeModel(model);
    if (model.scenarios.some((s) => !s.model)) incomplete = true;

    const totalSeconds = round((Date.now() - started) / 1000, 1);
    const report = {
      date: date.toISOString(),
      machine,
      runs: options.runs,
      esbuild: { asWritten: service.esbuildAsWritten, passed: service.esbuild },
      units: { KB: 1000, KiB: 1024, peakMb: 'process.resourceUsage().maxRSS / 1024', initMs: 'require() of the bundle in a fresh node' },
      memoryRule: `smallest of ${LAMBDA_MEMORY_SIZES.join('/')} MB >= ${HEADROOM}x peak RSS`,
      functions: service.functions.map((f) => {
        const b = bundles.get(f.name);
        return {
          name: f.name,
          handler: f.handler,
          entry: relative(root, f.entry),
          bundle: b ? { bytes: b.bytes, KB: round(b.bytes / 1000, 1), KiB: round(b.bytes / 1024, 1) } : { error: bundleErrors.get(f.name) },
          init: init.get(f.name) ?? null,
          memory: emulated?.memory.get(f.name) ?? null,
          configuredMemoryMb: f.configuredMemoryMb,
        };
      }),
      emptyHandler: { bundle: { bytes: empty.bytes, KB: round(empty.bytes / 1000, 2) }, init: emptyInit ?? null, memory: emulated?.baselineMemory ?? null },
      scenarios: emulated?.scenarios ?? null,
      waitLoops: loops,
      largeBackupVerification: large,
      recoveryTimeModel: model,
      ...(emulatorError ? { emulatorError } : {}),
      totalSeconds,
    };
    mkdirSync(dirname(REPORT_PATH), { recursive: true });
    writeFileSync(REPORT_PATH, `${JSON.stringify(report, null, 2)}\n`);
    writeDocs({ ...(emulated ? { emulated } : {}), ...(emulatorError ? { emulatorError } : {}), large });
    console.log(`\nWritten to ${relative(process.cwd(), REPORT_PATH)} and ${relative(process.cwd(), DOCS_PATH)} in ${totalSeconds} s${options.keep ? `; bundles, events and child scripts kept in ${work}` : ''}`);
  } finally {
    await stopEnvironment();
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
    if (!options.keep) rmSync(work, { recursive: true, force: true });
  }
  if (incomplete) {
    console.log('Some figures could not be measured (see above).');
    process.exit(1);
  }
}

main().then(
  () => {
    benchFinished = true;
  },
  (error: unknown) => {
    benchFinished = true;
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
