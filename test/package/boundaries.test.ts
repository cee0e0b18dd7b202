// The import boundaries of the tree (README "Layout"): what each part may reach, read from esbuild's own
// resolution of every entry point (the same resolver that bundles the functions), not from text search.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { projectRoot } from '../support/package-stack.js';

/**
 * Every project source file `entry` reaches through static and dynamic imports (node_modules left
 * out), each with the project files it imports itself.
 */
async function importGraphFrom(entry: string): Promise<Map<string, string[]>> {
  const result = await build({
    entryPoints: [path.join(projectRoot, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
    absWorkingDir: projectRoot,
  });
  const graph = new Map<string, string[]>();
  for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
    if (input.includes('node_modules/')) continue;
    graph.set(input, imports.map((i) => i.path).filter((p) => !p.includes('node_modules/')));
  }
  return graph;
}

async function sourcesReachedFrom(entry: string): Promise<string[]> {
  return [...(await importGraphFrom(entry)).keys()];
}

const handlers = readdirSync(path.join(projectRoot, 'functions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'common')
  .map((entry) => `functions/${entry.name}/handler.ts`);

describe('import boundaries', () => {
  it('finds the handlers it checks', () => {
    expect(handlers.length).toBeGreaterThan(20);
  });

  it('no deployed function reaches the local environment, the tests, the CLI or the scripts', async () => {
    const crossings: string[] = [];
    for (const handler of handlers) {
      for (const source of await sourcesReachedFrom(handler)) {
        if (/^(local|test|cli|scripts)\//.test(source)) crossings.push(`${handler} -> ${source}`);
      }
    }
    expect(crossings).toEqual([]);
  }, 60_000);

  it('a handler never reaches another handler, and shared/ never reaches functions/', async () => {
    const crossings: string[] = [];
    for (const handler of handlers) {
      const own = path.dirname(handler);
      for (const [source, imports] of await importGraphFrom(handler)) {
        if (source.startsWith('functions/') && !source.startsWith(`${own}/`) && !source.startsWith('functions/common/')) crossings.push(`${handler} -> ${source}`);
        if (source.startsWith('shared/')) crossings.push(...imports.filter((i) => i.startsWith('functions/')).map((i) => `${source} -> ${i}`));
      }
    }
    expect(crossings).toEqual([]);
  }, 60_000);

  it.each(['cli/drill.ts', 'scripts/bench.ts', 'local/index.ts'])('%s does not reach test/', async (entry) => {
    const reached = await sourcesReachedFrom(entry);

    expect(reached.filter((source) => source.startsWith('test/'))).toEqual([]);
    expect(reached.length).toBeGreaterThan(1);
  }, 60_000);
});
