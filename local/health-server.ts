// The API's `/health` endpoint on loopback, standing in for the service behind the clusters' health
// URLs. Tests switch what it answers: healthy, failing, slow, or alive but reporting itself degraded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type HealthBehaviour =
  /** 200 {"status":"ok"} */
  | { mode: 'ok' }
  /** An error status (503 by default) with a plain-text body. */
  | { mode: 'failing'; status?: number; body?: string }
  /** 200 {"status":"ok"}, but only after `delayMs`. */
  | { mode: 'slow'; delayMs: number }
  /** 200 {"status":"degraded"}: up, but saying it is not well. */
  | { mode: 'degraded' }
  /** 200 with Content-Type application/json and a body that is not JSON. */
  | { mode: 'invalid-json' };

export type HealthBehaviourName = 'ok' | 'failing' | 'degraded' | 'invalid-json';

export interface HealthServer {
  /** `http://127.0.0.1:<port>/health` */
  url: string;
  port: number;
  /** Changes what `/health` answers from the next request on. */
  behave(behaviour: HealthBehaviour | HealthBehaviourName): void;
  /** Requests `/health` has received so far. */
  requests(): number;
  /** Closes the server, cutting off requests still waiting for a slow answer. */
  stop(): Promise<void>;
}

export const FAILING_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';

function json(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export async function startHealthServer(initial: HealthBehaviour | HealthBehaviourName = 'ok'): Promise<HealthServer> {
  let behaviour: HealthBehaviour = typeof initial === 'string' ? { mode: initial } : initial;
  let requests = 0;
  const pending = new Set<NodeJS.Timeout>();

  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || new URL(request.url ?? '/', 'http://localhost').pathname !== '/health') {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found');
      return;
    }
    requests += 1;
    const current = behaviour;
    switch (current.mode) {
      case 'ok':
        return json(response, 200, { status: 'ok' });
      case 'degraded':
        return json(response, 200, { status: 'degraded', checks: { database: 'fail' } });
      case 'invalid-json':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"status": "ok"');
        return;
      case 'failing':
        response.writeHead(current.status ?? 503, { 'content-type': 'text/plain' });
        response.end(current.body ?? FAILING_BODY);
        return;
      case 'slow': {
        const timer = setTimeout(() => {
          pending.delete(timer);
          if (!response.destroyed) json(response, 200, { status: 'ok' });
        }, current.delayMs);
        pending.add(timer);
        return;
      }
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Never the reason a test run stays alive.
  server.unref();
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/health`,
    port,
    behave(next) {
      behaviour = typeof next === 'string' ? { mode: next } : next;
    },
    requests: () => requests,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        for (const timer of pending) clearTimeout(timer);
        pending.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
