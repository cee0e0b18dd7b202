// `npm test`: every test tier in order (see DESIGN.md "Test tiers"), after making sure the emulated
// environment can start. Extra arguments go to each jest run, e.g. `npm test -- -t "dry run"`.
// Under CI=true nothing is skipped: a missing prerequisite fails the run and a tier with no tests fails.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ci = process.env.CI === 'true';

// prerequisites.ts is loaded through Node's own TypeScript type stripping (on by default since 22.18),
// and jest runs on this same Node; the node@22 devDependency provides it to `npm test`.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`Node ${process.versions.node} is too old: run \`npm test\` (the project's node@22 comes first on its PATH).`);
  process.exit(1);
}
const { checkPrerequisites } = await import('../local/prerequisites.ts');

// Tiers that start a server from the project's Python environment (valkey-server, moto) or run cfn-lint.
const needsPython = new Set(['statemachines', 'integration', 'package']);
// No tier comes near this; a run that does is stuck (e.g. a server left running keeps jest alive), and
// ends here with a message instead of at CI's limit with none.
const TIER_TIME_LIMIT_MS = 25 * 60_000;
let tiers = ['unit', 'statemachines', 'integration', 'package'];

const { missing } = checkPrerequisites();
if (missing.length > 0) {
  const lines = missing.map(({ what, install }) => `  - ${what}: ${install}`).join('\n');
  if (ci) {
    console.error(`Missing prerequisites (CI=true, nothing may be skipped):\n${lines}`);
    process.exit(1);
  }
  console.warn(`Skipping the ${[...needsPython].join(' and ')} tiers; missing:\n${lines}`);
  tiers = tiers.filter((tier) => !needsPython.has(tier));
} else {
  const setup = spawnSync('bash', [path.join(root, 'scripts/setup-python.sh')], { cwd: root, stdio: 'inherit' });
  if (setup.status !== 0) process.exit(setup.status ?? 1);
  // The integration tier starts real Kubernetes control planes: build them here, once, with the build's
  // progress on screen (about 10 minutes the first time), rather than inside a test's time limit.
  if (tiers.includes('integration')) {
    const started = Date.now();
    const build = spawnSync('bash', [path.join(root, 'scripts/setup-control-plane.sh')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (build.status !== 0) process.exit(build.status ?? 1);
    const seconds = (Date.now() - started) / 1000;
    if (seconds > 5) console.log(`Control-plane binaries ready in ${(seconds / 60).toFixed(1)} min.`);
  }
}

const env = { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, '--experimental-vm-modules'].filter(Boolean).join(' ') };
const jest = path.join(root, 'node_modules/.bin/jest');
for (const tier of tiers) {
  console.log(`\n== ${tier} tests ==`);
  // The caller's arguments go first: --selectProjects takes every word after it as a project name.
  const args = [jest, ...process.argv.slice(2), '--selectProjects', tier, ...(ci ? [] : ['--passWithNoTests'])];
  const run = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit', timeout: TIER_TIME_LIMIT_MS, killSignal: 'SIGKILL' });
  if (run.error?.code === 'ETIMEDOUT') {
    console.error(`The ${tier} tier ran past ${TIER_TIME_LIMIT_MS / 60_000} min and was stopped: something it started did not stop.`);
    process.exit(1);
  }
  if (run.status !== 0) process.exit(run.status ?? 1);
}
