// Every wait in every state machine is bounded (DESIGN principle 12: a loop sees its resource ready at
// most 15 s late). A Wait state either sleeps a fixed Seconds <= 15, or sleeps what the look before it
// said: SecondsPath `$.steps.<Look>.data.nextCheckSeconds`, where <Look> is a Task of the same machine
// that every path to the Wait goes through, the Wait goes back to it (Look -> Choice -> Wait -> Look),
// and its function computes the value with shared/polling.ts's nextCheckSeconds (whose own tests hold
// the bounds: never past the earliest moment the resource can be ready, then polls of at most 15 s,
// never past the loop's limit). A fixed moment (Timestamp, TimestampPath) is refused. Fast: the files
// and esbuild's resolution of each look's imports, no `serverless package`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { projectRoot } from '../support/package-stack.js';

const POLLING_MODULE = 'shared/polling.ts';
const MAX_FIXED_WAIT_SECONDS = 15;
const SECONDS_PATH = /^\$\.steps\.([A-Za-z0-9]+)\.data\.nextCheckSeconds$/;

type Catcher = { Next: string };
type AslState = {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  Catch?: Catcher[];
  Resource?: unknown;
  Seconds?: unknown;
  SecondsPath?: unknown;
  Timestamp?: unknown;
  TimestampPath?: unknown;
  ItemProcessor?: AslMachine;
  Iterator?: AslMachine;
  Branches?: AslMachine[];
};
type AslMachine = { StartAt: string; States: Record<string, AslState> };

/** The states a state can go to next (Next, Default, Choices, Catch). */
function successors(state: AslState): string[] {
  return [state.Next, state.Default, ...(state.Choices ?? []).map((c) => c.Next), ...(state.Catch ?? []).map((c) => c.Next)].filter((s): s is string => typeof s === 'string');
}

/** The states reachable from the machine's StartAt without passing through `avoid`. */
function reachable(machine: AslMachine, avoid?: string): Set<string> {
  const seen = new Set<string>();
  const pending = [machine.StartAt];
  while (pending.length) {
    const name = pending.pop()!;
    if (seen.has(name) || name === avoid) continue;
    seen.add(name);
    const state = machine.States[name];
    if (state) pending.push(...successors(state));
  }
  return seen;
}

/** Every States map of a definition: the top level and each Map's or Parallel's own, with a prefix naming where. */
function* machinesOf(machine: AslMachine, prefix = ''): Generator<[string, AslMachine]> {
  yield [prefix, machine];
  for (const [name, state] of Object.entries(machine.States)) {
    for (const inner of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) {
      if (inner) yield* machinesOf(inner, `${prefix}${name} > `);
    }
  }
}

function functionOf(state: AslState): string | undefined {
  return (state.Resource as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
}

/** Whether a function's value for the Wait comes from nextCheckSeconds (shared/polling.ts). */
type LookChecker = (fn: string) => Promise<string | null>;

/** One line per Wait state that breaks the rules (empty when every wait is bounded). */
async function unboundedWaits(definition: AslMachine, lookProblem: LookChecker): Promise<string[]> {
  const problems: string[] = [];
  for (const [prefix, machine] of machinesOf(definition)) {
    for (const [name, state] of Object.entries(machine.States)) {
      if (state.Type !== 'Wait') continue;
      const where = `${prefix}${name}`;
      if (state.Timestamp !== undefined || state.TimestampPath !== undefined) {
        problems.push(`${where}: waits until a fixed moment (Timestamp/TimestampPath), not as its resource can change`);
        continue;
      }
      if (state.Seconds !== undefined) {
        if (typeof state.Seconds !== 'number' || state.Seconds > MAX_FIXED_WAIT_SECONDS) problems.push(`${where}: Seconds ${JSON.stringify(state.Seconds)}, more than ${MAX_FIXED_WAIT_SECONDS}`);
        continue;
      }
      const match = typeof state.SecondsPath === 'string' ? SECONDS_PATH.exec(state.SecondsPath) : null;
      if (!match) {
        problems.push(`${where}: SecondsPath ${JSON.stringify(state.SecondsPath)} is not a look's $.steps.<Task>.data.nextCheckSeconds`);
        continue;
      }
      const lookName = match[1]!;
      const look = machine.States[lookName];
      const fn = look?.Type === 'Task' ? functionOf(look) : undefined;
      if (!look || !fn) {
        problems.push(`${where}: SecondsPath names ${lookName}, which is not a Task calling a function in the same machine`);
        continue;
      }
      if (state.Next !== lookName) problems.push(`${where}: goes to ${state.Next ?? '(nothing)'}, not back to ${lookName}, the look whose value it waits`);
      if (!reachable(machine).has(name)) problems.push(`${where}: never reached`);
      else if (reachable(machine, lookName).has(name)) problems.push(`${where}: reachable without ${lookName}, so its SecondsPath may not exist yet`);
      const problem = await lookProblem(fn);
      if (problem) problems.push(`${where}: ${lookName} (${fn}) ${problem}`);
    }
  }
  return problems;
}

function handlerFiles(): Map<string, string> {
  const stack = parse(readFileSync(path.join(projectRoot, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as { functions: Record<string, { handler: string }> };
  return new Map(Object.entries(stack.functions).map(([fn, { handler }]) => [fn, `${handler.replace(/\.[^./]+$/, '')}.ts`]));
}

/** The project sources `entry` reaches through its imports, as esbuild resolves them for the bundle. */
async function sourcesReachedFrom(entry: string): Promise<string[]> {
  const result = await build({ entryPoints: [path.join(projectRoot, entry)], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent', absWorkingDir: projectRoot });
  return Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/'));
}

/** The real rule for a look: its handler reaches shared/polling.ts, and a module it reaches calls nextCheckSeconds(...). */
function realLookChecker(): LookChecker {
  const handlers = handlerFiles();
  const cache = new Map<string, Promise<string | null>>();
  return (fn) => {
    let answer = cache.get(fn);
    if (!answer) {
      answer = (async () => {
        const handler = handlers.get(fn);
        if (!handler) return 'is not a function serverless.yml defines';
        const reached = await sourcesReachedFrom(handler);
        if (!reached.includes(POLLING_MODULE)) return `does not reach ${POLLING_MODULE}: its nextCheckSeconds is not the bounded one`;
        const callers = reached.filter((file) => file !== POLLING_MODULE && /\bnextCheckSeconds\(/.test(readFileSync(path.join(projectRoot, file), 'utf8')));
        return callers.length ? null : 'never calls nextCheckSeconds()';
      })();
      cache.set(fn, answer);
    }
    return answer;
  };
}

const stateMachineFiles = readdirSync(path.join(projectRoot, 'statemachines'))
  .filter((f) => f.endsWith('.asl.yaml'))
  .sort();

const definitionOf = (file: string) => parse(readFileSync(path.join(projectRoot, 'statemachines', file), 'utf8')) as AslMachine;

describe('waits in the state machines', () => {
  const checker = realLookChecker();

  it('finds the state machines and their wait loops', async () => {
    expect(stateMachineFiles.length).toBeGreaterThanOrEqual(5);
    const waits = stateMachineFiles.flatMap((file) => [...machinesOf(definitionOf(file))].flatMap(([prefix, machine]) => Object.entries(machine.States).filter(([, s]) => s.Type === 'Wait').map(([name]) => `${file}: ${prefix}${name}`)));
    expect(waits).toEqual(
      expect.arrayContaining([
        'restore-test.asl.yaml: RestoreTestEachDatabase > WaitForScratchInstance',
        'database-recovery.asl.yaml: WaitForRestoredDatabase',
        'database-recovery.asl.yaml: WaitForRollout',
        'cluster-failover.asl.yaml: WaitForRollout',
        'cluster-failover.asl.yaml: WaitForDnsChange',
        'emergency-rollback.asl.yaml: WaitForRollout',
      ]),
    );
  });

  it.each(stateMachineFiles)('%s: every Wait sleeps at most 15 s, or what the look before it computed with nextCheckSeconds', async (file) => {
    expect(await unboundedWaits(definitionOf(file), checker)).toEqual([]);
  }, 60_000);

  it('refuses what would break the bound: a long fixed wait, a moment, a value no look computed, a wait reached before its look', async () => {
    const task = (fn: string, next: string): AslState => ({ Type: 'Task', Resource: { 'Fn::GetAtt': [fn, 'Arn'] }, Next: next });
    const definition: AslMachine = {
      StartAt: 'Start',
      States: {
        Start: task('startScratchRestore', 'Fixed'),
        Fixed: { Type: 'Wait', Seconds: 90, Next: 'Moment' },
        Moment: { Type: 'Wait', TimestampPath: '$.until', Next: 'Look' },
        Look: task('checkScratchInstance', 'IsReady'),
        IsReady: { Type: 'Choice', Choices: [{ Next: 'Done' }, { Next: 'Early' }, { Next: 'Notify' }, { Next: 'Elsewhere' }], Default: 'WaitForLook' },
        // The one wait that keeps every rule.
        WaitForLook: { Type: 'Wait', SecondsPath: '$.steps.Look.data.nextCheckSeconds', Next: 'Look' },
        Early: { Type: 'Wait', SecondsPath: '$.steps.Late.data.nextCheckSeconds', Next: 'Late' },
        Late: task('checkScratchInstance', 'IsLateReady'),
        IsLateReady: { Type: 'Choice', Choices: [{ Next: 'Done' }], Default: 'Early' },
        Notify: task('notifyOnCall', 'IsNotified'),
        IsNotified: { Type: 'Choice', Choices: [{ Next: 'Done' }], Default: 'Unchecked' },
        Unchecked: { Type: 'Wait', SecondsPath: '$.steps.Notify.data.nextCheckSeconds', Next: 'Notify' },
        Elsewhere: { Type: 'Wait', SecondsPath: '$.steps.Look.data.waitSeconds', Next: 'Look' },
        Orphan: { Type: 'Wait', SecondsPath: '$.steps.Look.data.nextCheckSeconds', Next: 'Look' },
        Astray: { Type: 'Wait', SecondsPath: '$.steps.Look.data.nextCheckSeconds', Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    };
    definition.States.IsLateReady!.Choices!.push({ Next: 'Astray' });

    const problems = await unboundedWaits(definition, checker);

    expect(problems).toEqual([
      'Fixed: Seconds 90, more than 15',
      'Moment: waits until a fixed moment (Timestamp/TimestampPath), not as its resource can change',
      'Early: reachable without Late, so its SecondsPath may not exist yet',
      'Unchecked: Notify (notifyOnCall) does not reach shared/polling.ts: its nextCheckSeconds is not the bounded one',
      'Elsewhere: SecondsPath "$.steps.Look.data.waitSeconds" is not a look\'s $.steps.<Task>.data.nextCheckSeconds',
      'Orphan: never reached',
      'Astray: goes to Done, not back to Look, the look whose value it waits',
    ]);
  }, 60_000);
});
