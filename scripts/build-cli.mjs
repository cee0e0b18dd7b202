// Builds the operator CLI (cli/frontier-dr.ts) into dist/cli/, the package's `bin` (`npx frontier-dr`).
// Runs on `npm install` / `npm ci` (the `prepare` script) and as `npm run build:cli`.
//
// Dependencies stay outside the bundle (resolved from node_modules at run time); the project's own
// modules are bundled, ESM, split so that each command loads only what it uses (`validate` alone loads
// the ASL engine). Modules that find the repository from their own file (`import.meta.url` and `..`:
// local/local-state-machine.ts, cli/validate.ts) are given the URL the source entry point has, so
// `..` is still the repository from dist/cli/.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { 'frontier-dr': join(root, 'cli', 'frontier-dr.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  logLevel: 'warning',
  define: { 'import.meta.url': '__frontierDrSourceUrl' },
  banner: { js: "#!/usr/bin/env node\nconst __frontierDrSourceUrl = new URL('../../cli/frontier-dr.ts', import.meta.url).href;" },
});
chmodSync(join(outdir, 'frontier-dr.js'), 0o755);
