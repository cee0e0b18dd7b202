// The bad-input corpus over planRun, the first state's decision (test/support/bad-inputs.ts makes the
// inputs): thousands of bad inputs of every kind, for every scenario and start shape, must each fail
// with a named error (InvalidInput, or InvalidConfig for a deployment without the section a scenario
// needs) whose message names the bad field by its path: never accepted, never an untyped error.
// test/integration/bad-input-corpus.test.ts runs a sample through the real state machines.
import { InvalidConfig, InvalidInput } from '../../shared/errors.js';
import { planRun, type ExecutionInfo } from '../../shared/run.js';
import { SCENARIO_NAMES as SCENARIOS } from '../../shared/scenarios.js';
import { badInputCorpus, BAD_KINDS, corpusCounts, namesField, START_SHAPES, validInputsOfCorpus, type BadInput } from '../support/bad-inputs.js';
import { configWith } from '../support/fixtures.js';

const SEED = 20261125;
const START = '2026-11-25T12:00:00.417Z';
// A database with rotation: the security incident's `secrets` name only secrets the stack rotates.
const config = configWith((raw) => {
  raw.databases[0]!.rotation ??= { strategy: 'single-user', scheduleExpression: 'rate(30 days)', validationQuery: 'SELECT 1' } as never;
});
const execution = (scenario: string): ExecutionInfo => ({
  id: `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-${scenario}:corpus`,
  name: 'corpus',
  startTime: START,
});
const corpus = badInputCorpus({ seed: SEED, now: new Date(START), config, randomPerKind: 40 });

/** What is wrong with how planRun treated `bad`, or null when it refused it as it must. */
function problemWith(bad: BadInput, deployment = config): string | null {
  let error: unknown;
  try {
    planRun(bad.scenario, bad.input, execution(bad.scenario), deployment);
    return `ACCEPTED ${bad.scenario} ${bad.shape} ${bad.kind}: ${bad.label}`;
  } catch (caught) {
    error = caught;
  }
  const named = error instanceof InvalidInput || error instanceof InvalidConfig;
  const { name, message } = error instanceof Error ? error : { name: typeof error, message: String(error) };
  if (!named) return `UNTYPED ${name} for ${bad.scenario} ${bad.shape} ${bad.kind}: ${bad.label}: ${message.slice(0, 300)}`;
  if (!bad.fields.some((field) => namesField(message, field))) {
    return `UNNAMED ${bad.scenario} ${bad.shape} ${bad.kind}: ${bad.label}: expected ${JSON.stringify(bad.fields)} in ${JSON.stringify(message.slice(0, 400))}`;
  }
  return null;
}

afterAll(() => {
  const counts = corpusCounts(corpus);
  console.log(
    [
      `bad-input corpus over planRun (seed ${SEED}): ${counts.total} inputs tried, every one refused with a named error naming its field`,
      ...SCENARIOS.map((scenario) => `  ${scenario}: ${counts.byScenario[scenario] ?? 0}`),
      `  by start shape: ${START_SHAPES.map((shape) => `${shape} ${counts.byShape[shape] ?? 0}`).join(', ')}`,
      `  by kind: ${BAD_KINDS.map((kind) => `${kind} ${counts.byKind[kind] ?? 0}`).join(', ')}`,
    ].join('\n'),
  );
});

describe('the bad-input corpus', () => {
  it('is made from inputs that are valid, so each bad one is bad for the one thing changed', () => {
    for (const { scenario, shape, input } of validInputsOfCorpus({ now: new Date(START), config })) {
      expect(() => planRun(scenario, input, execution(scenario), config)).not.toThrow();
      void shape;
    }
  });

  it('has thousands of inputs, of every kind, for every scenario and start shape', () => {
    const counts = corpusCounts(corpus);
    expect(counts.total).toBeGreaterThan(3000);
    for (const scenario of SCENARIOS) for (const shape of START_SHAPES) expect(corpus.some((i) => i.scenario === scenario && i.shape === shape)).toBe(true);
    for (const kind of BAD_KINDS) expect(counts.byKind[kind]).toBeGreaterThan(0);
  });

  it('is the same for the same seed, and another seed makes other random inputs', () => {
    const labels = (seed: number) => badInputCorpus({ seed, now: new Date(START), config, randomPerKind: 5 }).map((i) => `${i.label} ${JSON.stringify(i.fields)}`);
    expect(labels(SEED)).toEqual(labels(SEED));
    expect(labels(SEED + 1)).not.toEqual(labels(SEED));
  });
});

describe('planRun refuses every bad input with a named error naming its field', () => {
  it.each(SCENARIOS.flatMap((scenario) => START_SHAPES.map((shape) => [scenario, shape] as const)))('%s, %s start', (scenario, shape) => {
    const inputs = corpus.filter((i) => i.scenario === scenario && i.shape === shape);
    const problems = inputs.map((bad) => problemWith(bad)).filter((problem) => problem !== null);

    expect(inputs.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('refuses with InvalidConfig, naming the kubernetes section, when the deployment has none', () => {
    const noKubernetes = configWith((raw) => {
      delete raw.kubernetes;
      // The security incident acts on the kubernetes section's API: without one, its section goes too.
      delete raw.securityIncident;
    });
    const kubernetesScenarios = corpus.filter((i) => ['cluster-failover', 'emergency-rollback', 'database-recovery'].includes(i.scenario));
    const problems: string[] = [];
    for (const bad of kubernetesScenarios) {
      try {
        planRun(bad.scenario, bad.input, execution(bad.scenario), noKubernetes);
        problems.push(`ACCEPTED ${bad.label}`);
      } catch (error) {
        if (!(error instanceof InvalidConfig) || !error.message.includes("deployment config's kubernetes section")) problems.push(`${String(error)} for ${bad.label}`);
      }
    }

    expect(problems).toEqual([]);
  });
});

describe('what the corpus found, kept as plain cases', () => {
  const refusal = (scenario: Parameters<typeof planRun>[0], input: unknown): Error => {
    try {
      planRun(scenario, input, execution(scenario), config);
    } catch (error) {
      return error as Error;
    }
    throw new Error(`planRun(${scenario}) accepted ${JSON.stringify(input).slice(0, 200)}`);
  };
  const deep = (depth: number) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  };
  const minutesBefore = (minutes: number) => new Date(Date.parse(START) - minutes * 60_000).toISOString();
  const alarm = (detail: Record<string, unknown>) => ({
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    detail: { alarmName: 'DatabaseDown', state: { value: 'ALARM', timestamp: minutesBefore(2) }, ...detail },
  });

  it('refuses a value nested thousands deep by its path, instead of overflowing the stack (was RangeError)', () => {
    const error = refusal('restore-test', { reason: deep(10_000) });

    expect(error).toBeInstanceOf(InvalidInput);
    expect(error.message).toContain('  - reason.a.a.a');
    expect(error.message).toContain('expected at most 31');
  });

  it("refuses a run option inside a schedule's detail, where it was ignored (a dry run ran for real)", () => {
    expect(refusal('restore-test', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: { dryRun: true } }).message).toContain(
      '  - detail.dryRun: got true (boolean); unknown field',
    );
  });

  it("refuses a run option inside an alarm's detail, which stays open to fields AWS adds", () => {
    expect(refusal('database-recovery', alarm({ dryRun: true })).message).toContain("  - detail.dryRun: got true (boolean); expected no run option inside an alarm's detail");
    expect(refusal('database-recovery', alarm({ Dry_Run: true })).message).toContain('  - detail.Dry_Run: got true');
    expect(() => planRun('database-recovery', alarm({ configuration: { description: 'x' }, alarmContextualData: {} }), execution('database-recovery'), config)).not.toThrow();
  });

  it('holds the envelope fields AWS writes to their form', () => {
    const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event' };
    expect(refusal('restore-test', { ...scheduled, region: '$(rm -rf /)' }).message).toContain('  - region: got "$(rm -rf /)" (string); expected an AWS region name');
    expect(refusal('restore-test', { ...scheduled, id: '../../etc/passwd' }).message).toContain('  - id: got "../../etc/passwd"');
    expect(refusal('restore-test', { ...scheduled, version: '0; rm -rf /' }).message).toContain('  - version: got ');
    expect(refusal('restore-test', { ...scheduled, resources: ['arn:aws:events:us-east-1:123456789012:rule/x\r\nInjected: 1'] }).message).toContain('  - resources[0]: got ');
  });

  it('names a megabyte-long field name in a bounded message', () => {
    const error = refusal('cluster-failover', { ['k'.repeat(1 << 20)]: true });

    expect(error.message).toContain(`  - ${'k'.repeat(197)}...: got a field name of 1048576 characters; expected at most 256`);
    expect(error.message.length).toBeLessThan(1000);
  });

  it('lists at most 20 bad fields, then how many more', () => {
    const error = refusal('cluster-failover', Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`extra${i}`, i])));

    expect(error.message.split('\n')).toHaveLength(22);
    expect(error.message).toContain('  - ... and 480 more');
  });
});
