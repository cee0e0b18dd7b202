// The AWS API emulator (moto server) for the integration tier and the local drill. One server answers
// every service and every region (the region comes from each request's signature).
import { launchServer, startOnFreePort } from './processes.js';
import path from 'node:path';
import { ensurePythonEnvironment, motoServerBin, projectRoot } from './python-environment.js';

const MOTO_HOOKS = path.join(projectRoot, 'local/moto-hooks');

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
  const server = await launchServer({
    what: 'moto_server',
    command: motoServerBin,
    args: ['-H', '127.0.0.1', '-p', String(port)],
    port,
    cwd: projectRoot,
    // Unbuffered, so the output tail in an error message is what moto last said. The hooks make moto
    // behave as AWS does where the tests depend on it (moto-hooks/sitecustomize.py).
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: [MOTO_HOOKS, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) },
    answers: () => answers(`${endpoint}/moto-api/data.json`),
    portTaken: /Address already in use/i,
    startupTimeoutMs: STARTUP_TIMEOUT_MS,
    pollMs: 100,
  });
  return {
    endpoint,
    port,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`moto reset answered HTTP ${response.status}`);
    },
    stop: () => server.stop(),
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
