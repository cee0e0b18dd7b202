// Helpers shared by the local servers the tests start (moto, embedded PostgreSQL, later Redis...).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/**
 * Asks the kernel for a free loopback port. The port is released before the caller binds it, so another
 * process could take it in between; callers retry when their server reports "Address already in use".
 */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the port the kernel chose'))));
    });
  });
}

/**
 * Thrown by a server's launch when its port was taken between {@link findFreePort} and the bind: the
 * one failure {@link startOnFreePort} tries again.
 */
export class PortTakenError extends Error {
  override name = 'PortTakenError';
}

/**
 * Starts a server on a free loopback port: `launch(port)` with a port from {@link findFreePort}, tried
 * again with another port (up to `attempts` times) only when it throws {@link PortTakenError}; every
 * other failure is thrown at once.
 */
export async function startOnFreePort<T>(what: string, launch: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await launch(await findFreePort());
    } catch (error) {
      lastError = error as Error;
      if (!(error instanceof PortTakenError)) throw error;
    }
  }
  throw lastError ?? new Error(`${what} did not start`);
}

/** Anything the local environment starts and must stop. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Starts servers side by side and waits for every start to settle, so that none is still starting
 * when this returns or throws. When any start fails, stops every server that did start, then throws
 * the first failure: a start that fails part-way leaves nothing running.
 */
export async function startAll<T extends readonly Promise<Stoppable>[]>(starts: T): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starts);
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) {
    await stopAll(settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
    throw failure.reason;
  }
  return settled.map((result) => (result as PromiseFulfilledResult<Stoppable>).value) as { [K in keyof T]: Awaited<T[K]> };
}

/** Stops every server, each despite the others' failures; resolves once all have been asked and settled. */
export async function stopAll(servers: readonly Stoppable[]): Promise<void> {
  await Promise.allSettled(servers.map((server) => server.stop()));
}

export interface ServerProcessOptions {
  /** What the server is, for messages: `moto_server`, `valkey-server`. */
  what: string;
  command: string;
  args: readonly string[];
  port: number;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Resolves true once the server accepts requests. */
  answers: () => Promise<boolean>;
  /** Output of a server that could not bind its port (then another port is tried). */
  portTaken: RegExp;
  startupTimeoutMs: number;
  /** How often `answers` is asked while the server starts. */
  pollMs: number;
  /** The message when the binary does not exist (ENOENT), e.g. with the command that installs it. */
  missing?: string;
}

/**
 * Spawns a server process on `port` and resolves once `answers()` says it accepts requests; returns
 * its `stop()`. Its output is drained (a server blocks once its pipes fill) and kept for error
 * messages. If this process dies first, the reaper stops the server. Throws PortTakenError when the
 * port was taken (startOnFreePort then tries another), an Error naming `what` when it exits or does
 * not answer within `startupTimeoutMs` (stopping it then), or `missing` when the binary is absent.
 */
export async function launchServer(options: ServerProcessOptions): Promise<{ stop(): Promise<void> }> {
  const { what, port } = options;
  const reaper = cleanUpWhenThisProcessDies({ signal: 'SIGTERM' });
  const child = spawn(options.command, [...options.args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) reaper.watch(child.pid);

  const tail = logTail();
  child.stdout.on('data', (chunk: Buffer) => tail.append(chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => tail.append(chunk.toString('utf8')));
  // A test file that forgets stop() should not hang jest; the reaper still stops the server when we exit.
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  (child.stderr as unknown as { unref(): void }).unref();

  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (error) => (spawnError = error));

  const deadline = Date.now() + options.startupTimeoutMs;
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) {
      reaper.release();
      if (spawnError?.code === 'ENOENT' && options.missing) throw new Error(options.missing);
      const output = tail.text();
      const detail = `${what} on port ${port} exited before answering (${spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`}). Last output:\n${output}`;
      throw options.portTaken.test(output) ? new PortTakenError(detail) : new Error(detail);
    }
    if (await options.answers()) break;
    if (Date.now() > deadline) {
      reaper.release();
      await stopChild(child, 'SIGTERM');
      throw new Error(`${what} on port ${port} did not answer within ${options.startupTimeoutMs / 1000} s. Last output:\n${tail.text()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }

  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        reaper.release();
        await stopChild(child, 'SIGTERM');
      })();
      return stopping;
    },
  };
}

/** Undoes {@link cleanUpWhenThisProcessDies} once the owner has shut the server down itself. */
export interface Reaper {
  /** Tells the reaper which process to stop (a server's pid is often known only after it started). */
  watch(pid: number): void;
  release(): void;
}

// The reaper is a tiny shell that blocks reading a pipe from this Node process. A pipe reaches end of
// file whenever its writer goes away, however it goes: normal exit, an uncaught error, jest killing a
// worker, SIGKILL, the OOM killer. `process.on('exit')` covers only the first of those, and inside a jest
// test file `process` is a copy whose 'exit' listeners never fire, hence a separate process.
// It runs in its own process group so that a Ctrl-C aimed at the test run does not take it down before
// it has removed the data it was asked to.
const REAPER_SCRIPT = `
# A zombie still answers kill -0; it has exited all the same (its parent, us, is gone and init reaps late).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  case "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null)" in Z*) return 1 ;; esac
}
pid=
while read -r command argument; do
  case "$command" in
    watch) pid=$argument ;;
    release) exit 0 ;;
  esac
done
if [ -n "$pid" ]; then
  kill -s "$1" "$pid" 2>/dev/null
  tries=0
  while alive "$pid" && [ "$tries" -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
  ! alive "$pid" || kill -s KILL "$pid" 2>/dev/null
fi
[ -z "$2" ] || rm -rf -- "$2"
`;

/**
 * Makes sure a server this process started does not outlive it: when this process ends without calling
 * `release()`, the watched pid gets `signal` (then SIGKILL after 10 s) and `removePath` is deleted.
 */
export function cleanUpWhenThisProcessDies(options: { signal: NodeJS.Signals; removePath?: string }): Reaper {
  // dash (Debian's sh) knows signals as TERM, INT..., not SIGTERM.
  const signalName = options.signal.replace(/^SIG/, '');
  const reaper = spawn('sh', ['-c', REAPER_SCRIPT, 'frontier-test-reaper', signalName, options.removePath ?? ''], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  const commands = reaper.stdin;
  // Neither the reaper nor its pipe may keep this process alive: they exist for the moment it ends.
  reaper.unref();
  (commands as unknown as net.Socket).unref();
  // A reaper that already exited (e.g. no `sh`) must not crash the test run with EPIPE.
  commands.on('error', () => undefined);
  reaper.on('error', () => undefined);
  let released = false;
  return {
    watch(pid) {
      if (!released) commands.write(`watch ${pid}\n`);
    },
    release() {
      if (released) return;
      released = true;
      commands.end('release\n');
    },
  };
}

/** Resolves once the child has exited; sends SIGKILL if it ignores `signal` for `graceMs`. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs = 5_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const escalate = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(escalate);
      resolve();
    });
    child.kill(signal);
  });
}

/** Keeps the last `limit` characters of a stream of log text, for error messages. */
export function logTail(limit = 4_000): { append(text: string): void; text(): string } {
  let buffer = '';
  return {
    append(text) {
      buffer = (buffer + text).slice(-limit);
    },
    text() {
      return buffer;
    },
  };
}

/** Settles with the promise's value, or with 'timeout' if it takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
