// The AWS API emulator (moto server) for the integration tier and the local drill. One server answers
// every service and every region (the region comes from each request's signature).
import { spawn } from 'node:child_process';
import { cleanUpWhenThisProcessDies, logTail, stopChild, PortTakenError, startOnFreePort } from './processes.js';
import { ensurePythonEnvironment, motoServerBin, projectRoot } from './python-environment.js';

export interface MotoServer {
  /** Base URL to give AWS SDK clients as `endpoint`, e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  port: number;
  /** Forgets every resource in every region, so the next test starts from an empty account. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;

export async function startMoto(): Promise<MotoServer> {
  await ensurePythonEnvironment();
  return startOnFreePort('moto_server', launch);
}


async function launch(port: number): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  const reaper = cleanUpWhenThisProcessDies({ signal: 'SIGTERM' });
  const child = spawn(motoServerBin, ['-H', '127.0.0.1', '-p', String(port)], {
    cwd: projectRoot,
    // Unbuffered, so the stderr tail in an error message is what moto last said.
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) reaper.watch(child.pid);

  // moto logs every request; the pipes must keep being drained or moto blocks once they fill up.
  const tail = logTail();
  child.stdout.on('data', (chunk: Buffer) => tail.append(chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => tail.append(chunk.toString('utf8')));
  // A test file that forgets stop() should not hang jest; the reaper still stops moto when we exit.
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  (child.stderr as unknown as { unref(): void }).unref();

  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) {
      reaper.release();
      const output = tail.text();
      const detail = `moto_server on port ${port} exited before answering (${spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`}). Last output:\n${output}`;
      throw /Address already in use/i.test(output) ? new PortTakenError(detail) : new Error(detail);
    }
    if (await answers(`${endpoint}/moto-api/data.json`)) break;
    if (Date.now() > deadline) {
      reaper.release();
      await stopChild(child, 'SIGTERM');
      throw new Error(`moto_server on port ${port} did not answer within ${STARTUP_TIMEOUT_MS / 1000} s. Last output:\n${tail.text()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`moto reset answered HTTP ${response.status}`);
    },
    stop() {
      stopping ??= (async () => {
        reaper.release();
        await stopChild(child, 'SIGTERM');
      })();
      return stopping;
    },
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
