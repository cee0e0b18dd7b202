// A local environment whose start fails part-way stops everything it already started: nothing is left
// running to keep the test run (or the drill) from exiting.
import { readdirSync, readFileSync } from 'node:fs';
import { exampleConfig } from '../support/fixtures.js';
import { startClusterEnvironment, startEmulatedEnvironment } from '../../local/index.js';

/** Every live process descended from `root`, by pid, from /proc (Linux). */
function descendantsOf(root: number): { pid: number; command: string }[] {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      parents.set(Number(entry), Number(ppid));
      commands.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
    } catch {
      // Gone while we looked.
    }
  }
  const found: { pid: number; command: string }[] = [];
  const visit = (parent: number) => {
    for (const [pid, ppid] of parents) {
      if (ppid !== parent) continue;
      found.push({ pid, command: commands.get(pid) ?? '' });
      visit(pid);
    }
  };
  visit(root);
  return found;
}

/** Listening servers of this process (the clusters' fault proxies and token webhooks, the /health server, the AWS front). */
function listeningServers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'TCPServerWrap').length;
}

async function settle(check: () => boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

describe('a local environment start that fails part-way', () => {
  const saved = process.env.FRONTIER_DR_VALKEY_SERVER;
  afterEach(() => {
    if (saved === undefined) delete process.env.FRONTIER_DR_VALKEY_SERVER;
    else process.env.FRONTIER_DR_VALKEY_SERVER = saved;
  });

  it('names the missing Redis-protocol server and leaves no process or server of its own running', async () => {
    const before = new Set(descendantsOf(process.pid).map((p) => p.pid));
    const serversBefore = listeningServers();
    const environment = await startEmulatedEnvironment();
    process.env.FRONTIER_DR_VALKEY_SERVER = '/nonexistent/valkey-server';

    await expect(startClusterEnvironment(environment, exampleConfig())).rejects.toThrow(/valkey-server was not found at \/nonexistent\/valkey-server/);
    await environment.stop();

    const leftOver = () => descendantsOf(process.pid).filter((p) => !before.has(p.pid));
    const settled = await settle(() => leftOver().length === 0);
    expect(settled ? [] : leftOver()).toEqual([]);
    expect(environment.clusters).toBeUndefined();
    // At most as many as before: a server an earlier test file in this worker was still closing may be
    // gone by now (the count is the whole process's), but none of this start's may remain.
    expect(await settle(() => listeningServers() <= serversBefore)).toBe(true);
  }, 120_000);
});
