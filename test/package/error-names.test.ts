// Error names are the contract between the functions and the state machines: ASL `Retry`/`Catch`
// match `error.name` as a string, so a typo or a renamed class silently turns a retry into a failure
// (or a Catch into an unhandled one). This reads every statemachines/*.asl.yaml and holds each name in
// an `ErrorEquals` to two rules:
//   1. it is AWS's own (`States.*`, `Lambda.*`) or the `name` of an error class shared/errors.ts exports;
//   2. some function the state can call can throw it: the class is constructed (`new X(`) in a module
//      that the state's handler (serverless.yml `functions.<name>.handler`) imports, directly or not.
// Fast: no `serverless package`, just the files.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../support/package-stack.js';

/** The one module every error that crosses the state-machine boundary is exported from. */
const ERROR_MODULE = 'shared/errors.ts';
const AWS_ERROR_NAME = /^(States|Lambda)\./;

type AslState = {
  Type: string;
  Resource?: unknown;
  Parameters?: Record<string, unknown>;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[] }[];
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
  Branches?: { States: Record<string, AslState> }[];
};
type AslDefinition = { States: Record<string, AslState> };

/** Error class export name -> the `name` its instances carry (what ErrorEquals matches). */
async function errorClassNames(modules: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const file of modules) {
    const exports = (await import(path.join(projectRoot, file))) as Record<string, unknown>;
    for (const [exportName, value] of Object.entries(exports)) {
      if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
      const instance = new (value as new (message: string) => Error)('probe');
      names.set(exportName, instance.name);
    }
  }
  return names;
}

const fileCache = new Map<string, string>();
function source(file: string): string {
  let text = fileCache.get(file);
  if (text === undefined) {
    text = readFileSync(path.join(projectRoot, file), 'utf8');
    fileCache.set(file, text);
  }
  return text;
}

/** The project's own modules `entry` loads, itself included (relative imports and re-exports, followed). */
function moduleGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of source(file).matchAll(/\b(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      pending.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), `${match[1]}.ts`)));
    }
  }
  return seen;
}

/** The error `name`s constructed anywhere in `files` (`new SomeError(`), by class export name. */
function constructedErrorNames(files: Iterable<string>, classes: Map<string, string>): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    for (const match of source(file).matchAll(/\bnew\s+([A-Z]\w*)\s*\(/g)) {
      const name = classes.get(match[1]!);
      if (name) names.add(name);
    }
  }
  return names;
}

function handlerFiles(): Map<string, string> {
  const stack = parse(source('serverless.yml'), { logLevel: 'silent' }) as { functions: Record<string, { handler: string }> };
  return new Map(Object.entries(stack.functions).map(([fn, { handler }]) => [fn, `${handler.replace(/\.[^./]+$/, '')}.ts`]));
}

const CALLBACK_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/**
 * The functions whose errors can end a state: its own (Task), or every Task inside it (Map, Parallel).
 * A callback Task (`lambda:invoke.waitForTaskToken`) also ends with what answers its token: every
 * function that calls SendTaskFailure.
 */
function functionsOf(state: AslState): string[] {
  if (state.Type === 'Task' && state.Resource === CALLBACK_RESOURCE) {
    const getAtt = (state.Parameters?.FunctionName as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    if (!getAtt) throw new Error(`a callback Task whose FunctionName is not Fn::GetAtt [function, Arn]: ${JSON.stringify(state.Parameters?.FunctionName)}`);
    const answering = [...handlerFiles()].filter(([, handler]) => [...moduleGraph(handler)].some((file) => source(file).includes('new SendTaskFailureCommand('))).map(([fn]) => fn);
    return [getAtt[0], ...answering];
  }
  if (state.Type === 'Task') {
    const getAtt = (state.Resource as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    if (!getAtt) throw new Error(`a Task whose Resource is not Fn::GetAtt [function, Arn]: ${JSON.stringify(state.Resource)}`);
    return [getAtt[0]];
  }
  const inner = [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].filter((x) => x !== undefined);
  return inner.flatMap((machine) => Object.values(machine.States).flatMap(functionsOf));
}

function* statesOf(machine: { States: Record<string, AslState> }, prefix = ''): Generator<[string, AslState]> {
  for (const [name, state] of Object.entries(machine.States)) {
    yield [`${prefix}${name}`, state];
    for (const inner of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) {
      if (inner) yield* statesOf(inner, `${prefix}${name} > `);
    }
  }
}

interface Checker {
  /** Every `name` an exported error class carries. */
  knownNames: Set<string>;
  /** The error names the function `fn` can throw. */
  throwable(fn: string): Set<string>;
}

/** One line per broken rule in a definition (empty when it keeps them all). */
function problemsIn(definition: AslDefinition, checker: Checker): string[] {
  const problems: string[] = [];
  for (const [stateName, state] of statesOf(definition)) {
    const lists = [...(state.Retry ?? []).map((r) => ['Retry', r] as const), ...(state.Catch ?? []).map((c) => ['Catch', c] as const)];
    if (lists.length === 0) continue;
    const functions = functionsOf(state);
    const throwable = new Set(functions.flatMap((fn) => [...checker.throwable(fn)]));
    for (const [kind, rule] of lists) {
      for (const name of rule.ErrorEquals) {
        if (AWS_ERROR_NAME.test(name)) continue;
        if (!checker.knownNames.has(name)) problems.push(`${stateName} ${kind}: ${name} is not the name of an error class exported from ${ERROR_MODULE}`);
        else if (!throwable.has(name)) problems.push(`${stateName} ${kind}: ${name} is never thrown by ${functions.join(', ')}`);
      }
    }
  }
  return problems;
}

const stateMachineFiles = readdirSync(path.join(projectRoot, 'statemachines'))
  .filter((f) => f.endsWith('.asl.yaml'))
  .sort();
/** States pasted into machines (statemachines/fragments/): a map of states, held to the same rules. */
const fragmentFiles = readdirSync(path.join(projectRoot, 'statemachines', 'fragments'))
  .filter((f) => f.endsWith('.asl.yaml'))
  .sort();

describe('error names in the state machines', () => {
  let checker: Checker;

  beforeAll(async () => {
    const classes = await errorClassNames([ERROR_MODULE]);
    const handlers = handlerFiles();
    const throwable = new Map<string, Set<string>>();
    checker = {
      knownNames: new Set(classes.values()),
      throwable(fn) {
        let names = throwable.get(fn);
        if (!names) {
          const handler = handlers.get(fn);
          if (!handler) throw new Error(`state machine calls ${fn}, which serverless.yml does not define`);
          names = constructedErrorNames(moduleGraph(handler), classes);
          throwable.set(fn, names);
        }
        return names;
      },
    };
  });

  it('finds the state machines, the error classes and what handlers throw', () => {
    expect(stateMachineFiles.length).toBeGreaterThanOrEqual(5);
    expect([...checker.knownNames]).toEqual(expect.arrayContaining(['AwsTransientError', 'RecoveryLockLost', 'DatabaseRestoreTimedOut']));
    expect(checker.throwable('startDatabaseRestore').has('AwsTransientError')).toBe(true);
    expect(checker.throwable('checkDatabaseRestore').has('DatabaseRestoreTimedOut')).toBe(true);
    expect(checker.throwable('startRun').has('DatabaseRestoreTimedOut')).toBe(false);
  });

  it('gives every exported error class a name of its own (a subclass that forgets to set it inherits its parent’s)', async () => {
    const classes = await errorClassNames([ERROR_MODULE]);
    const byName = new Map<string, string[]>();
    for (const [exportName, name] of classes) byName.set(name, [...(byName.get(name) ?? []), exportName]);

    expect([...byName].filter(([, exports]) => exports.length > 1)).toEqual([]);
    expect([...classes].filter(([exportName, name]) => exportName !== name)).toEqual([]);
  });

  it.each(stateMachineFiles)('%s: every ErrorEquals name is an exported error some function the state calls throws', (file) => {
    const definition = parse(source(`statemachines/${file}`)) as AslDefinition;

    expect(problemsIn(definition, checker)).toEqual([]);
  });

  it.each(fragmentFiles)('fragments/%s: every ErrorEquals name is an exported error some function the state calls (or answers it) throws', (file) => {
    const states = parse(source(`statemachines/fragments/${file}`)) as Record<string, AslState>;

    expect(problemsIn({ States: states }, checker)).toEqual([]);
  });

  it('reports a misspelt name and a name the state’s function never throws', () => {
    const definition: AslDefinition = {
      States: {
        Restore: {
          Type: 'Task',
          Resource: { 'Fn::GetAtt': ['startDatabaseRestore', 'Arn'] },
          Retry: [{ ErrorEquals: ['Lambda.ServiceException', 'AwsTransientError', 'AwsTransientErorr'] }],
          Catch: [{ ErrorEquals: ['RolloutTimedOut'] }, { ErrorEquals: ['States.ALL'] }],
        },
        Each: {
          Type: 'Map',
          ItemProcessor: { States: { Check: { Type: 'Task', Resource: { 'Fn::GetAtt': ['checkDatabaseRestore', 'Arn'] } } } },
          Catch: [{ ErrorEquals: ['DatabaseRestoreTimedOut', 'RecoveryLockLost'] }],
        },
      },
    };

    expect(problemsIn(definition, checker)).toEqual([
      `Restore Retry: AwsTransientErorr is not the name of an error class exported from ${ERROR_MODULE}`,
      'Restore Catch: RolloutTimedOut is never thrown by startDatabaseRestore',
      'Each Catch: RecoveryLockLost is never thrown by checkDatabaseRestore',
    ]);
  });
});
