// The bad-input corpus (test/support/bad-inputs.ts) in the emulated environment: moto behind the AWS
// front (recording every request), both real Kubernetes clusters (their fault proxies recording every
// request the product makes), redis-server and the /health server, the example deployment seeded.
// Each bad input must fail at StartRun with InvalidInput or InvalidConfig naming the bad field, having
// made no AWS request and no Kubernetes request at all.
//
// Building a state machine in the local runner validates its definition (~0.5 s each time), so the
// bulk (a seeded sample of every scenario, start shape and kind) goes to the first state's real handler
// (functions/start-run, with the event the ASL builds), and a representative sample (one input of every
// scenario and kind, the start shape chosen with the seed) runs as a whole execution of the real state
// machine. The unit tier (test/unit/bad-input-corpus.test.ts) runs the whole corpus over planRun.
import type { DeploymentConfig } from '../../shared/config.js';
import { SCENARIO_NAMES as SCENARIOS } from '../../shared/scenarios.js';
import {
  emulatorConfig,
  seedExampleDeployment,
  startClusterEnvironment,
  startEmulatedEnvironment,
  type ClusterEnvironment,
  type EmulatedEnvironment,
} from '../../local/index.js';
import type { Context } from 'aws-lambda';
import { importHandler, runStateMachine, type LambdaHandler } from '../../local/local-state-machine.js';
import { badInputCorpus, corpusCounts, namesField, sampleCorpus, seededRandom, START_SHAPES, type BadInput } from '../support/bad-inputs.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';
import { configWith, useConfig } from '../support/fixtures.js';

const SEED = 20261130;
/** Inputs given to the first state's handler per scenario, start shape and kind of bad input. */
const PER_GROUP = 8;
/**
 * The local runner hands each handler its input through JSON.stringify, which recurses and overflows
 * past a few thousand levels (JSON.parse, which Lambda's runtime uses, does not): deeper inputs are
 * left to the unit tier, which gives them to planRun directly.
 */
const RUNNER_MAX_DEPTH = 2000;
const NAMED_ERRORS = ['InvalidInput', 'InvalidConfig'];

let environment: EmulatedEnvironment;
let clusters: ClusterEnvironment;
let config: DeploymentConfig;
let bulk: BadInput[] = [];
let executions: BadInput[] = [];
let startRun: LambdaHandler;
const tried = { handler: [] as BadInput[], execution: [] as BadInput[] };
const milliseconds = { handler: 0, execution: 0 };
let restoreErrorRealm: () => void = () => undefined;

/** One input of every scenario and kind, its start shape chosen with the seed. */
function onePerScenarioAndKind(corpus: readonly BadInput[]): BadInput[] {
  const random = seededRandom(SEED);
  const groups = new Map<string, BadInput[]>();
  for (const bad of corpus) groups.set(`${bad.scenario} ${bad.kind}`, [...(groups.get(`${bad.scenario} ${bad.kind}`) ?? []), bad]);
  return [...groups.values()].map((group) => random.pick(group));
}

function depthOf(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop() as [unknown, number];
    deepest = Math.max(deepest, depth);
    if (item !== null && typeof item === 'object' && depth <= RUNNER_MAX_DEPTH) for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  // A database with rotation: the security incident's `secrets` name only secrets the stack rotates.
  const example = configWith((raw) => {
    raw.databases[0]!.rotation ??= { strategy: 'single-user', scheduleExpression: 'rate(30 days)', validationQuery: 'SELECT 1' } as never;
  });
  environment = await startEmulatedEnvironment();
  clusters = await startClusterEnvironment(environment, example, { primary: 'nodes-not-ready' });
  config = emulatorConfig(example, environment);
  const seeded = await seedExampleDeployment(config, environment.endpoint, environment.postgres, clusters);
  useConfig(config);
  process.env.ALERT_TOPIC_ARN = seeded.alertTopicArn;
  process.env.RECOVERY_LOCK_TABLE = seeded.recoveryLockTable;
  // Times in the corpus are placed relative to now; every run starts after it.
  const corpus = badInputCorpus({ seed: SEED, now: new Date(), config, randomPerKind: 4 });
  bulk = sampleCorpus(corpus, PER_GROUP, SEED);
  executions = onePerScenarioAndKind(corpus.filter((bad) => depthOf(bad.input) <= RUNNER_MAX_DEPTH));
  startRun = await importHandler('startRun');
}, 180_000);

afterAll(async () => {
  const handler = corpusCounts(tried.handler);
  const execution = corpusCounts(tried.execution);
  console.log(
    [
      `bad-input corpus in the emulated environment (seed ${SEED}): ${handler.total + execution.total} inputs tried, ` +
        `${handler.total} through the StartRun handler in ${(milliseconds.handler / 1000).toFixed(1)} s, ` +
        `${execution.total} as whole state machine executions in ${(milliseconds.execution / 1000).toFixed(1)} s`,
      ...SCENARIOS.map((scenario) => `  ${scenario}: ${(handler.byScenario[scenario] ?? 0) + (execution.byScenario[scenario] ?? 0)} (${handler.byScenario[scenario] ?? 0} handler, ${execution.byScenario[scenario] ?? 0} executions)`),
      `  by start shape: ${START_SHAPES.map((shape) => `${shape} ${(handler.byShape[shape] ?? 0) + (execution.byShape[shape] ?? 0)}`).join(', ')}`,
      `  by kind: ${Object.keys(handler.byKind).map((kind) => `${kind} ${(handler.byKind[kind] ?? 0) + (execution.byKind[kind] ?? 0)}`).join(', ')}`,
    ].join('\n'),
  );
  await environment?.stop();
  restoreErrorRealm();
}, 60_000);

const lambdaContext = {
  functionName: 'startRun',
  awsRequestId: 'bad-input-corpus',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

interface Outcome {
  /** The error StartRun failed with (name and message), or none when it passed. */
  error: { name: string; message: string } | null;
  /** Problems only a whole execution can show (a state after StartRun entered). */
  problems: string[];
}

/** The first state's real handler, given the event its ASL Parameters build. */
async function throughHandler(bad: BadInput): Promise<Outcome> {
  const event = {
    scenario: bad.scenario,
    input: bad.input,
    execution: { id: `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-${bad.scenario}:corpus`, name: 'corpus', startTime: new Date().toISOString() },
  };
  try {
    await startRun(event, lambdaContext);
    return { error: null, problems: [] };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: typeof error, message: String(error) };
    return { error: { name, message }, problems: [] };
  }
}

/** A whole execution of the real state machine, with every Task bound to its real handler. */
async function throughStateMachine(bad: BadInput): Promise<Outcome> {
  const run = await runStateMachine(bad.scenario, bad.input);
  const entered = run.events.flatMap((event) => (event.type === 'StateEntered' ? [(event as { state: { name: string } }).state.name] : []));
  const problems: string[] = [];
  if (run.status !== 'FAILED') problems.push(`execution ${run.status}`);
  if (entered.join() !== 'StartRun' || run.calls.map((c) => c.state).join() !== 'StartRun') {
    problems.push(`states entered ${JSON.stringify(entered)}, tasks ${JSON.stringify(run.calls.map((c) => c.state))}`);
  }
  return { error: run.error ? { name: run.error.name, message: run.error.message } : null, problems };
}

/** Runs one bad input one way; what went wrong with it, or nothing. */
async function problemsWith(bad: BadInput, way: 'handler' | 'execution'): Promise<string[]> {
  const what = `${bad.scenario} ${bad.shape} ${bad.kind}: ${bad.label}`;
  const recording = environment.front.recordRequests();
  const kubernetesBefore = [clusters.primary.requests.length, clusters.backup.requests.length];
  const healthBefore = clusters.api.requests();
  const started = Date.now();
  let outcome: Outcome;
  try {
    outcome = await (way === 'handler' ? throughHandler(bad) : throughStateMachine(bad));
  } finally {
    milliseconds[way] += Date.now() - started;
    recording.stop();
    tried[way].push(bad);
  }
  const problems = outcome.problems.map((problem) => `${what}: ${problem}`);
  const error = outcome.error;
  if (!error) problems.push(`${what}: ACCEPTED`);
  else if (!NAMED_ERRORS.includes(error.name)) problems.push(`${what}: failed with ${error.name} (${error.message.slice(0, 200)}), not a named input error`);
  else if (!bad.fields.some((field) => namesField(error.message, field))) problems.push(`${what}: the message does not name ${JSON.stringify(bad.fields)}: ${JSON.stringify(error.message.slice(0, 300))}`);
  const aws = recording.requests();
  const mutating = aws.filter((r) => !r.readOnly);
  if (mutating.length > 0) problems.push(`${what}: MUTATING AWS requests ${JSON.stringify(mutating)}`);
  else if (aws.length > 0) problems.push(`${what}: AWS requests (StartRun makes none) ${JSON.stringify(aws)}`);
  const kubernetes = [...clusters.primary.requests.slice(kubernetesBefore[0]), ...clusters.backup.requests.slice(kubernetesBefore[1])];
  if (kubernetes.length > 0) problems.push(`${what}: Kubernetes requests ${JSON.stringify(kubernetes.map((r) => `${r.method} ${r.path}`))}`);
  if (clusters.api.requests() !== healthBefore) problems.push(`${what}: /health was probed`);
  return problems;
}

describe('every bad input fails at StartRun with a named error naming its field, and touches nothing', () => {
  it('the samples cover every scenario, start shape and kind', () => {
    for (const scenario of SCENARIOS) for (const shape of START_SHAPES) expect(bulk.some((bad) => bad.scenario === scenario && bad.shape === shape)).toBe(true);
    expect(new Set(executions.map((bad) => bad.kind)).size).toBe(new Set(bulk.map((bad) => bad.kind)).size);
  });

  it('the recording sees requests, and tells reads from changes (so the checks below can fail)', async () => {
    const recording = environment.front.recordRequests();
    try {
      const run = await runStateMachine('backup-verification', { dryRun: true, reason: 'the recording works' });
      expect(run.calls[0]?.state).toBe('StartRun');
      const requests = recording.requests();
      expect(requests.some((r) => r.service === 'rds' && r.action.startsWith('Describe') && r.readOnly)).toBe(true);
      // Publishing the report writes to S3 even in a dry run.
      expect(requests.some((r) => r.service === 's3' && !r.readOnly)).toBe(true);
    } finally {
      recording.stop();
    }
  }, 120_000);

  it('the clusters\' fault proxies see the product\'s Kubernetes requests (so the checks below can fail)', async () => {
    const before = clusters.primary.requests.length;
    const run = await runStateMachine('emergency-rollback', { dryRun: true, reason: 'the recording works' }, { waitMilliseconds: 100 });
    expect(run.status).toBe('SUCCEEDED');
    const seen = clusters.primary.requests.slice(before);
    expect(seen.some((r) => r.method === 'GET' && r.path.endsWith(`/deployments/${config.kubernetes!.apiDeployment}`))).toBe(true);
    // A dry run only reads.
    expect(seen.filter((r) => r.method !== 'GET')).toEqual([]);
  }, 120_000);

  it.each(SCENARIOS)('%s: the StartRun handler refuses its sample', async (scenario) => {
    const inputs = bulk.filter((bad) => bad.scenario === scenario);
    const problems: string[] = [];
    for (const bad of inputs) problems.push(...(await problemsWith(bad, 'handler')));

    expect(inputs.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  }, 120_000);

  it.each(SCENARIOS)('%s: the state machine fails at StartRun for one input of every kind', async (scenario) => {
    const inputs = executions.filter((bad) => bad.scenario === scenario);
    const problems: string[] = [];
    for (const bad of inputs) problems.push(...(await problemsWith(bad, 'execution')));

    expect(inputs.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  }, 120_000);
});
