// The local environment's start helpers: a start that fails part-way stops what did start, including
// servers that finish starting after the first failure.
import { PortTakenError, startAll, startOnFreePort } from '../../local/processes.js';

function server(name: string, stopped: string[]) {
  return { name, stop: async () => void stopped.push(name) };
}

const after = <T>(ms: number, value: () => T): Promise<T> => new Promise((resolve, reject) => setTimeout(() => {
  try {
    resolve(value());
  } catch (error) {
    reject(error);
  }
}, ms));

describe('startAll', () => {
  it('returns every server, in order, when all start', async () => {
    const stopped: string[] = [];

    const [a, b] = await startAll([after(5, () => server('a', stopped)), Promise.resolve(server('b', stopped))] as const);

    expect([a.name, b.name]).toEqual(['a', 'b']);
    expect(stopped).toEqual([]);
  });

  it('stops the servers that started, also one that finished starting after the failure, and throws the failure', async () => {
    const stopped: string[] = [];
    const failure = new Error('valkey-server was not found');

    const start = startAll([
      Promise.resolve(server('moto', stopped)),
      after(1, () => {
        throw failure;
      }),
      after(30, () => server('slow postgres', stopped)),
    ] as const);

    await expect(start).rejects.toBe(failure);
    expect(stopped.sort()).toEqual(['moto', 'slow postgres']);
  });
});

describe('startOnFreePort', () => {
  it('tries another port only when the port was taken', async () => {
    const ports: number[] = [];

    const started = await startOnFreePort('test server', async (port) => {
      ports.push(port);
      if (ports.length < 3) throw new PortTakenError(`port ${port} taken`);
      return port;
    });

    expect(ports).toHaveLength(3);
    expect(started).toBe(ports[2]);
  });

  it('throws any other failure at once', async () => {
    let attempts = 0;

    await expect(
      startOnFreePort('test server', async () => {
        attempts += 1;
        throw new Error('binary not found');
      }),
    ).rejects.toThrow('binary not found');
    expect(attempts).toBe(1);
  });

  it('gives up after the given number of taken ports, with the last failure', async () => {
    await expect(startOnFreePort('test server', async (port) => Promise.reject(new PortTakenError(`port ${port} taken`)), 2)).rejects.toThrow(PortTakenError);
  });
});
