// The state machine diagrams in docs/statemachines/ are generated from statemachines/*.asl.yaml
// (npm run diagrams): they must match what the generator makes of the definitions as they are now.
// Also: what the generator draws for each kind of state.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allDiagramDocuments, describeCondition, flowchart, type Scope } from '../../scripts/state-machine-diagram.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('docs/statemachines', () => {
  const documents = allDiagramDocuments(root);

  it('has one diagram per statemachines/*.asl.yaml, whatever files there are', () => {
    const machines = readdirSync(join(root, 'statemachines')).filter((f) => f.endsWith('.asl.yaml'));
    expect(machines.length).toBeGreaterThan(0);
    for (const file of machines) expect(documents.has(`docs/statemachines/${file.replace('.asl.yaml', '.md')}`)).toBe(true);
  });

  it.each([...allDiagramDocuments(root).keys()])('%s is as npm run diagrams generates it', (path) => {
    const committed = existsSync(join(root, path)) ? readFileSync(join(root, path), 'utf8') : null;
    if (committed !== documents.get(path)) throw new Error(`${path} differs from its state machine definition: run \`npm run diagrams\` and commit the result`);
  });

  it('has no page left for a state machine that no longer exists', () => {
    const stale = readdirSync(join(root, 'docs', 'statemachines')).filter((f) => !documents.has(`docs/statemachines/${f}`));
    if (stale.length) throw new Error(`docs/statemachines/${stale.join(', ')}: no such state machine: run \`npm run diagrams\``);
  });

  it('draws the approval step pasted into a machine as one group named after its fragment', () => {
    expect(documents.get('docs/statemachines/region-failover.md')).toContain('["from statemachines/fragments/approval.asl.yaml"]');
  });
});

describe('flowchart', () => {
  const definition = {
    StartAt: 'Start',
    States: {
      Start: { Type: 'Task', Resource: { 'Fn::GetAtt': ['startRun', 'Arn'] }, Retry: [{ ErrorEquals: ['AwsTransientError'] }], Catch: [{ ErrorEquals: ['AwsAccessDenied', 'States.Timeout'], Next: 'Failed' }], Next: 'Both' },
      Both: {
        Type: 'Parallel',
        Branches: [
          { StartAt: 'A', States: { A: { Type: 'Wait', SecondsPath: '$.wait', Next: 'B' }, B: { Type: 'Pass', End: true } } },
          { StartAt: 'Each', States: { Each: { Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 2, ItemProcessor: { StartAt: 'C', States: { C: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Parameters: { FunctionName: { 'Fn::GetAtt': ['requestApproval', 'Arn'] } }, End: true } } }, End: true } } },
        ],
        Next: 'Decide',
      },
      Decide: {
        Type: 'Choice',
        Choices: [
          { And: [{ Variable: '$.a', IsPresent: true }, { Variable: '$.a', StringEquals: 'x "y"' }], Next: 'Done' },
          { Not: { Variable: '$.n', NumericGreaterThanEquals: 3 }, Next: 'Failed' },
        ],
        Default: 'Done',
      },
      Done: { Type: 'Succeed' },
      Failed: { Type: 'Fail', Error: 'RunFailed' },
    },
  };

  it('draws every kind of state with its shape, Map and Parallel as frames, Catch as a dotted labelled edge', () => {
    const text = flowchart(definition as unknown as Scope).join('\n');

    expect(text).toMatch(/^flowchart TD\n {2}start\(\("start"\)\)/);
    expect(text).toContain('s1["Start<br/><small>startRun · retries</small>"]');
    expect(text).toMatch(/subgraph s\d+\["Both \(Parallel: the branches run at once\)"\]\n {4}subgraph s\d+b1\["branch 1"\]/);
    expect(text).toMatch(/\(\["A<br\/><small>wait seconds from \$\.wait<\/small>"\]\)/);
    expect(text).toContain('["B<br/><small>Pass</small>"]');
    expect(text).toMatch(/subgraph s\d+\["Each \(Map: for each of \$\.items, 2 at a time\)"\]/);
    expect(text).toMatch(/\[\["C<br\/><small>waits for an answer: requestApproval<\/small>"\]\]/);
    expect(text).toMatch(/s1 -\.->\|"catch AwsAccessDenied, States\.Timeout"\| s\d+/);
    expect(text).toMatch(/-->\|"\$\.a is present and \$\.a == #quot;x \\#quot;y\\#quot;#quot;"\|/);
    // `<` and `>` as Mermaid's entity codes: a bare one in a label would be read as HTML.
    expect(text).toMatch(/-->\|"not \(\$\.n #gt;= 3\)"\|/);
    expect(text).toMatch(/-->\|"otherwise"\|/);
    expect(text).toMatch(/\(\("Failed<br\/><small>fails RunFailed<\/small>"\)\)/);
  });

  it.each([
    [{ Variable: '$.x', BooleanEquals: true }, '$.x == true'],
    [{ Variable: '$.x', IsNull: false }, '$.x is not null'],
    [{ Variable: '$.t', TimestampLessThanPath: '$.u' }, '$.t < $.u'],
    [{ Or: [{ Variable: '$.a', StringMatches: 'x*' }, { Variable: '$.b', NumericLessThan: 1 }] }, '($.a matches "x*") or ($.b < 1)'],
  ])('describes the rule %j as %s', (rule, text) => {
    expect(describeCondition(rule as never)).toBe(text);
  });
});
