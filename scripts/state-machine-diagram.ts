// A Mermaid flowchart of a state machine, from its ASL definition as it is packaged (the approval
// step's states are pasted into the machines that ask before they act; they are drawn as one group,
// named after statemachines/fragments/approval.asl.yaml). What is drawn:
//   Task        a box, with the function it invokes (a callback Task, which waits for an answer, as a
//               double-sided box); `retries` when it has a Retry
//   Choice      a diamond; one edge per rule, labelled with its condition, and the Default edge
//   Wait        a rounded box with how long it waits (Seconds, SecondsPath, Timestamp...)
//   Pass        a box marked Pass
//   Parallel    a subgraph holding one subgraph per branch
//   Map         a subgraph holding its item's states, labelled with what it iterates and its concurrency
//   Succeed, Fail and the end of the machine: circles (Fail with its error)
//   Catch       a dotted edge labelled with the errors it catches
// Used by scripts/diagrams.ts (npm run diagrams) and its unit test, which regenerates every diagram.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type State = { [key: string]: Json };
export interface Scope {
  StartAt: string;
  States: Record<string, State>;
}

const isObject = (value: Json | undefined): value is { [key: string]: Json } => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Mermaid label text: quotes and angle brackets as its entity codes, one line, at most `limit` characters. */
function label(text: string, limit = 90): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const cut = flat.length > limit ? `${flat.slice(0, limit - 3)}...` : flat;
  return cut.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/\|/g, '#124;');
}

const COMPARATORS: Record<string, string> = {
  Equals: '==',
  LessThan: '<',
  GreaterThan: '>',
  LessThanEquals: '<=',
  GreaterThanEquals: '>=',
  Matches: 'matches',
};

/** One Choice rule in words: `$.x == true`, `$.a is present`, `not (...)`, `(...) and (...)`. */
export function describeCondition(rule: State): string {
  if (Array.isArray(rule.And)) return rule.And.map((r) => (isObject(r) ? describeCondition(r) : '?')).join(' and ');
  if (Array.isArray(rule.Or)) return rule.Or.map((r) => (isObject(r) ? `(${describeCondition(r)})` : '?')).join(' or ');
  if (isObject(rule.Not)) return `not (${describeCondition(rule.Not)})`;
  const variable = typeof rule.Variable === 'string' ? rule.Variable : '?';
  for (const [key, value] of Object.entries(rule)) {
    if (key === 'Variable' || key === 'Next') continue;
    const is = /^Is(Present|Null|Boolean|Numeric|String|Timestamp)$/.exec(key);
    if (is) return `${variable} ${value === true ? 'is' : 'is not'} ${is[1]!.toLowerCase()}`;
    const compare = /^(String|Numeric|Boolean|Timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals|Matches)(Path)?$/.exec(key);
    if (compare) return `${variable} ${COMPARATORS[compare[2]!]} ${compare[3] ? String(value) : JSON.stringify(value)}`;
  }
  return variable;
}

function waitLength(state: State): string {
  if (typeof state.Seconds === 'number') return `${state.Seconds} s`;
  if (typeof state.SecondsPath === 'string') return `seconds from ${state.SecondsPath}`;
  if (typeof state.Timestamp === 'string') return `until ${state.Timestamp}`;
  if (typeof state.TimestampPath === 'string') return `until ${state.TimestampPath}`;
  return '';
}

/** The function a Task invokes (`Fn::GetAtt: [fn, Arn]`, directly or as a callback's FunctionName), or its Resource. */
function taskTarget(state: State): { name: string; callback: boolean } {
  const getAtt = (value: Json | undefined) => (isObject(value) && Array.isArray(value['Fn::GetAtt']) && typeof value['Fn::GetAtt'][0] === 'string' ? value['Fn::GetAtt'][0] : null);
  const direct = getAtt(state.Resource);
  if (direct) return { name: direct, callback: false };
  const parameters = isObject(state.Parameters) ? state.Parameters : {};
  const viaParameters = getAtt(parameters.FunctionName);
  const resource = typeof state.Resource === 'string' ? state.Resource : '?';
  return { name: viaParameters ?? resource, callback: resource.endsWith('.waitForTaskToken') };
}

/** A fragment's state names (statemachines/fragments/*.asl.yaml: states to paste, not a machine). */
export interface Fragment {
  file: string;
  states: string[];
}

export function loadFragments(root: string): Fragment[] {
  const dir = join(root, 'statemachines', 'fragments');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.asl.yaml'))
    .sort()
    .map((f) => ({ file: `statemachines/fragments/${f}`, states: Object.keys(parseYaml(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>) }));
}

/**
 * The Mermaid `flowchart TD` lines of one definition. Node ids are `s<n>` in the order states are
 * met (stable for a given file), so the output only changes when the definition does.
 */
export function flowchart(definition: Scope, fragments: Fragment[] = []): string[] {
  const lines: string[] = ['flowchart TD'];
  const edges: string[] = [];
  let counter = 0;
  const ids = new Map<Scope, Map<string, string>>();
  const idOf = (scope: Scope, name: string) => {
    let names = ids.get(scope);
    if (!names) ids.set(scope, (names = new Map()));
    let id = names.get(name);
    if (!id) names.set(name, (id = `s${++counter}`));
    return id;
  };
  const classes = { task: [] as string[], choice: [] as string[], wait: [] as string[], succeed: [] as string[], fail: [] as string[] };

  lines.push('  start(("start"))');
  edges.push(`  start --> ${idOf(definition, definition.StartAt)}`);

  const drawScope = (scope: Scope, indent: string, endTarget: string | null) => {
    const grouped = new Set<string>();
    // A pasted fragment at this level: its states drawn inside one group.
    for (const fragment of fragments) {
      if (fragment.states.length === 0 || !fragment.states.every((s) => s in scope.States)) continue;
      lines.push(`${indent}subgraph ${idOf(scope, `#${fragment.file}`)}["${label(`from ${fragment.file}`)}"]`);
      for (const name of fragment.states) {
        drawState(scope, name, scope.States[name]!, `${indent}  `, endTarget);
        grouped.add(name);
      }
      lines.push(`${indent}end`);
    }
    for (const [name, state] of Object.entries(scope.States)) if (!grouped.has(name)) drawState(scope, name, state, indent, endTarget);
  };

  const drawNext = (scope: Scope, id: string, state: State, endTarget: string | null) => {
    if (typeof state.Next === 'string') edges.push(`  ${id} --> ${idOf(scope, state.Next)}`);
    else if (state.End === true && endTarget) edges.push(`  ${id} --> ${endTarget}`);
    if (Array.isArray(state.Catch)) {
      for (const c of state.Catch) {
        if (!isObject(c) || typeof c.Next !== 'string') continue;
        const errors = Array.isArray(c.ErrorEquals) ? c.ErrorEquals.join(', ') : '?';
        edges.push(`  ${id} -.->|"${label(`catch ${errors}`, 70)}"| ${idOf(scope, c.Next)}`);
      }
    }
  };

  const drawState = (scope: Scope, name: string, state: State, indent: string, endTarget: string | null) => {
    const id = idOf(scope, name);
    const retries = Array.isArray(state.Retry) ? ' · retries' : '';
    switch (state.Type) {
      case 'Task': {
        const target = taskTarget(state);
        const text = `${label(name)}<br/><small>${label(`${target.callback ? 'waits for an answer: ' : ''}${target.name}${retries}`)}</small>`;
        lines.push(target.callback ? `${indent}${id}[["${text}"]]` : `${indent}${id}["${text}"]`);
        classes.task.push(id);
        break;
      }
      case 'Choice': {
        lines.push(`${indent}${id}{"${label(name)}"}`);
        classes.choice.push(id);
        for (const rule of Array.isArray(state.Choices) ? state.Choices : []) {
          if (isObject(rule) && typeof rule.Next === 'string') edges.push(`  ${id} -->|"${label(describeCondition(rule), 80)}"| ${idOf(scope, rule.Next)}`);
        }
        if (typeof state.Default === 'string') edges.push(`  ${id} -->|"otherwise"| ${idOf(scope, state.Default)}`);
        break;
      }
      case 'Wait':
        lines.push(`${indent}${id}(["${label(name)}<br/><small>wait ${label(waitLength(state))}</small>"])`);
        classes.wait.push(id);
        break;
      case 'Pass':
        lines.push(`${indent}${id}["${label(name)}<br/><small>Pass</small>"]`);
        break;
      case 'Succeed':
        lines.push(`${indent}${id}(("${label(name)}"))`);
        classes.succeed.push(id);
        break;
      case 'Fail': {
        const error = typeof state.Error === 'string' ? state.Error : typeof state.ErrorPath === 'string' ? state.ErrorPath : '';
        lines.push(`${indent}${id}(("${label(name)}<br/><small>fails ${label(error)}</small>"))`);
        classes.fail.push(id);
        break;
      }
      case 'Parallel': {
        lines.push(`${indent}subgraph ${id}["${label(`${name} (Parallel: the branches run at once)${retries}`)}"]`);
        (Array.isArray(state.Branches) ? state.Branches : []).forEach((branch, i) => {
          if (!isObject(branch)) return;
          const inner = branch as unknown as Scope;
          lines.push(`${indent}  subgraph ${id}b${i + 1}["branch ${i + 1}"]`);
          lines.push(`${indent}    direction TB`);
          drawScope(inner, `${indent}    `, null);
          lines.push(`${indent}  end`);
        });
        lines.push(`${indent}end`);
        break;
      }
      case 'Map': {
        const processor = (isObject(state.ItemProcessor) ? state.ItemProcessor : state.Iterator) as unknown as Scope | undefined;
        const over = typeof state.ItemsPath === 'string' ? state.ItemsPath : '$';
        const concurrency = typeof state.MaxConcurrency === 'number' && state.MaxConcurrency > 0 ? `, ${state.MaxConcurrency} at a time` : '';
        lines.push(`${indent}subgraph ${id}["${label(`${name} (Map: for each of ${over}${concurrency})${retries}`)}"]`);
        lines.push(`${indent}  direction TB`);
        if (processor) drawScope(processor, `${indent}  `, null);
        lines.push(`${indent}end`);
        break;
      }
      default:
        lines.push(`${indent}${id}["${label(`${name} (${String(state.Type)})`)}"]`);
    }
    drawNext(scope, id, state, endTarget);
  };

  drawScope(definition, '  ', 'finish');
  lines.push('  finish(("end"))');
  lines.push(...edges);
  lines.push('  classDef task fill:#e3f2fd,stroke:#1565c0');
  lines.push('  classDef choice fill:#fff8e1,stroke:#f9a825');
  lines.push('  classDef wait fill:#f3e5f5,stroke:#6a1b9a');
  lines.push('  classDef succeed fill:#e8f5e9,stroke:#2e7d32');
  lines.push('  classDef fail fill:#ffebee,stroke:#c62828');
  for (const [name, members] of Object.entries(classes)) if (members.length) lines.push(`  class ${members.join(',')} ${name}`);
  return lines;
}

/** docs/statemachines/<name>.md: what it is generated from, the machine's own comment, the chart, the legend. */
export function diagramDocument(name: string, definition: Scope & { Comment?: Json }, fragments: Fragment[]): string {
  const comment = typeof definition.Comment === 'string' ? definition.Comment.replace(/\s+/g, ' ').trim() : '';
  return [
    `# State machine \`${name}\``,
    '',
    `Generated from [\`statemachines/${name}.asl.yaml\`](../../statemachines/${name}.asl.yaml) by \`npm run diagrams\`; do not edit by hand (\`test/unit/diagrams.test.ts\` fails when this file and the definition differ).`,
    '',
    ...(comment ? [comment, ''] : []),
    '```mermaid',
    ...flowchart(definition, fragments),
    '```',
    '',
    'Boxes are Tasks (the function they invoke below the name; a double-sided box waits for an answer on its task token), diamonds Choices (each edge labelled with its rule), rounded boxes Waits, circles the start, the end, Succeed and Fail states; Map and Parallel states are frames around their states. A dotted edge is a Catch, labelled with the errors it catches.',
    '',
  ].join('\n');
}

/** Every statemachines/*.asl.yaml, as `docs/statemachines/<name>.md` path -> content, plus the index. */
export function allDiagramDocuments(root: string): Map<string, string> {
  const fragments = loadFragments(root);
  const names = readdirSync(join(root, 'statemachines'))
    .filter((f) => f.endsWith('.asl.yaml'))
    .map((f) => f.slice(0, -'.asl.yaml'.length))
    .sort();
  const documents = new Map<string, string>();
  for (const name of names) {
    const definition = parseYaml(readFileSync(join(root, 'statemachines', `${name}.asl.yaml`), 'utf8')) as Scope & { Comment?: Json };
    documents.set(`docs/statemachines/${name}.md`, diagramDocument(name, definition, fragments));
  }
  documents.set(
    'docs/statemachines/README.md',
    ['# State machine diagrams', '', 'Generated by `npm run diagrams` from every `statemachines/*.asl.yaml`:', '', ...names.map((n) => `- [${n}](${n}.md)`), ''].join('\n'),
  );
  return documents;
}
