// A bad deployment file stops packaging, before anything is built, with the field's path and the value
// found: the operator fixes the file instead of deploying a stack that fails at its first cold start.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { withManyDatabases } from '../../local/large-deployment.js';
import { EXAMPLE_CONFIG_PATH, exampleConfig } from '../support/fixtures.js';
import { PACKAGING_TEST_TIMEOUT_MS, packageExpectingFailure, removePackages, temporaryDirectory, type PackagingRun } from '../support/package-stack.js';

interface BadConfig {
  /** Which field is broken, as the test names it. */
  title: string;
  /** Edits a copy of config/example.yml (comments and layout kept). */
  change: (document: ReturnType<typeof parseDocument>) => void;
  /** What the error must say: the field's path and the value found. */
  expected: RegExp[];
}

const BAD_CONFIGS: BadConfig[] = [
  {
    title: 'an unknown primary region',
    change: (d) => d.set('primaryRegion', 'us-weast'),
    expected: [/primaryRegion: got "us-weast"/, /AWS region name/],
  },
  {
    title: 'a retention longer than RDS keeps automated backups',
    change: (d) => d.setIn(['databases', 0, 'retentionDays'], 400),
    expected: [/databases\[0\]\.retentionDays: got 400\b/, /at most 35/],
  },
  {
    title: 'a recovery region equal to the primary region',
    change: (d) => d.set('recoveryRegion', d.get('primaryRegion')),
    expected: [/recoveryRegion: got "us-west-2"/, /must differ from primaryRegion/],
  },
  {
    title: 'a misspelt field',
    change: (d) => d.set('databses', []),
    expected: [/databses/, /unknown field/],
  },
  {
    title: 'a config too large for the functions to read at each cold start',
    change: (d) => d.set('databases', withManyDatabases(exampleConfig(), 1500).databases),
    expected: [/is too large to package: the validated config is \d+ bytes of JSON \(1500 databases\); the limit is 1048576 bytes/],
  },
  {
    title: 'several bad fields, one of the wrong type',
    change: (d) => {
      d.setIn(['databases', 0, 'retentionDays'], 'thirty');
      d.setIn(['buckets', 1, 'region'], 'mars');
      d.set('recoveryRegion', d.get('primaryRegion'));
    },
    expected: [/databases\[0\]\.retentionDays: got "thirty"/, /buckets\[1\]\.region: got "mars"/, /recoveryRegion: got "us-west-2"/],
  },
];

const runs = new Map<string, PackagingRun>();

beforeAll(async () => {
  const directory = await temporaryDirectory('frontier-dr-bad-config-');
  const example = await readFile(EXAMPLE_CONFIG_PATH, 'utf8');
  // Each run fails while the framework resolves variables, before serverless-esbuild builds anything.
  await Promise.all(
    BAD_CONFIGS.map(async ({ title, change }, i) => {
      const document = parseDocument(example);
      change(document);
      // Absolute: the resolver reads `path.resolve(<repo root>, file)`.
      const file = path.join(directory, `bad-${i}.yml`);
      await writeFile(file, document.toString());
      runs.set(title, await packageExpectingFailure(file));
    }),
  );
}, PACKAGING_TEST_TIMEOUT_MS);

afterAll(removePackages);

describe('packaging with a bad deployment config', () => {
  it.each(BAD_CONFIGS.map((c) => [c.title, c] as const))('fails on %s, naming the field and value', (title, { expected }) => {
    const run = runs.get(title);
    if (!run) throw new Error(`no packaging run for ${title}`);
    expect({ exitCode: run.exitCode, timedOut: run.timedOut }).toEqual({ exitCode: expect.any(Number), timedOut: false });
    // Every problem at once, as the drill reports them: exit status 2, no stack trace.
    expect(run.exitCode).toBe(2);
    expect(run.output).not.toMatch(/^\s+at /m);
    expect(run.output).toMatch(/is not a valid deployment config|is too large to package/);
    for (const pattern of expected) expect(run.output).toMatch(pattern);
    // Stopped at the config, before the state machines or bundles were built.
    expect(run.output).not.toMatch(/definition is valid|Service packaged/);
  });
});
