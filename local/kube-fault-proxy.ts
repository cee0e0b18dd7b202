// A small HTTPS proxy in front of a real kube-apiserver, for the faults the real server cannot be made
// to produce on demand: an error status on the next matching request (a 503 from an overloaded API
// server, a 409, ...), a connection dropped mid-request, and a server that refuses connections. It has
// its own CA (what the product is given as the cluster's CA, as EKS DescribeCluster would) and trusts
// the API server's; everything else goes through untouched, the bearer token included, so
// authentication, RBAC, validation and the controllers are the real server's. Every request that comes
// through is recorded (method, path, query, Content-Type, the status answered).
import { Buffer } from 'node:buffer';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { generate } from 'selfsigned';

export interface RecordedRequest {
  method: string;
  /** The URL path, without the query. */
  path: string;
  query: Record<string, string>;
  contentType?: string;
  /** The status answered; 0 when the proxy dropped the connection. */
  status: number;
}

export interface Fault {
  /** Only requests with this method (any when absent). */
  method?: string;
  /** A substring of, or a pattern for, the request path. */
  path: string | RegExp;
  /** Answer with this status and a Kubernetes Status body. */
  status?: number;
  /** Destroy the connection instead of answering (the request never reaches the API server). */
  drop?: boolean;
  /**
   * Let the request reach the API server and act, then answer `status` (default 503) instead of its
   * answer: a change the server made whose answer the caller never got (an ambiguous write).
   */
  lose?: boolean;
  /** How many matching requests get the fault (default 1). */
  times?: number;
  reason?: string;
  message?: string;
}

export interface KubeFaultProxy {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Base64 PEM of the proxy's own CA, as EKS DescribeCluster returns a cluster CA. */
  caData: string;
  requests: RecordedRequest[];
  failNext(fault: Fault): void;
  /** Stops listening and cuts open connections: new requests fail with ECONNREFUSED. */
  refuseConnections(): Promise<void>;
  acceptConnections(): Promise<void>;
  stop(): Promise<void>;
}

export interface KubeFaultProxyOptions {
  /** The API server: https://127.0.0.1:<port>. */
  target: string;
  /** The API server's CA (PEM). */
  targetCa: string;
  /** For the certificates' names. */
  name?: string;
}

/** The `reason` the API server puts in a Status body for each HTTP code (also used by the unit tier's client double). */
export const KUBERNETES_STATUS_REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Hop-by-hop headers (RFC 9110 7.6.1): not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** A CA, and a serving certificate for 127.0.0.1 signed by it. */
async function proxyCertificates(name: string): Promise<{ ca: string; cert: string; key: string }> {
  const ca = await generate([{ name: 'commonName', value: `frontier-dr local ${name} cluster CA` }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { ca: ca.cert, cert: leaf.cert, key: leaf.private };
}

export async function startKubeFaultProxy(options: KubeFaultProxyOptions): Promise<KubeFaultProxy> {
  const target = new URL(options.target);
  const certificates = await proxyCertificates(options.name ?? 'kubernetes');
  const upstreamAgent = new https.Agent({ keepAlive: true, ca: options.targetCa });
  const requests: RecordedRequest[] = [];
  const faults: (Fault & { remaining: number })[] = [];
  const sockets = new Set<Socket>();

  const takeFault = (method: string, path: string): Fault | undefined => {
    const index = faults.findIndex(
      (fault) => (!fault.method || fault.method.toUpperCase() === method) && (typeof fault.path === 'string' ? path.includes(fault.path) : fault.path.test(path)),
    );
    if (index < 0) return undefined;
    const fault = faults[index]!;
    if (--fault.remaining <= 0) faults.splice(index, 1);
    return fault;
  };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'https://proxy');
    const method = (request.method ?? 'GET').toUpperCase();
    const entry: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(request.headers['content-type'] ? { contentType: request.headers['content-type'].split(';')[0]!.trim() } : {}),
      status: 0,
    };
    requests.push(entry);

    const fault = takeFault(method, url.pathname);
    if (fault?.drop) {
      request.socket.destroy();
      return;
    }
    const answerFault = (fault: Fault) => {
      const code = fault.status ?? 503;
      const reason = fault.reason ?? KUBERNETES_STATUS_REASONS[code] ?? 'Unknown';
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: fault.message ?? `injected fault: ${reason}`, reason, code });
      entry.status = code;
      response.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    };
    if (fault && !fault.lose) {
      request.resume();
      answerFault(fault);
      return;
    }

    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
    const upstream = https.request(
      { protocol: 'https:', hostname: target.hostname, port: target.port, method, path: request.url, headers: { ...headers, host: target.host }, agent: upstreamAgent },
      (answer) => {
        if (fault?.lose) {
          // The server has acted; its answer is read and thrown away.
          answer.resume();
          answer.once('end', () => answerFault(fault));
          return;
        }
        entry.status = answer.statusCode ?? 502;
        const answerHeaders = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
        response.writeHead(entry.status, answerHeaders);
        answer.pipe(response);
      },
    );
    upstream.on('error', (error) => {
      // The API server behind the proxy could not be reached: what a load balancer answers then.
      if (response.headersSent) {
        response.destroy();
        return;
      }
      entry.status = 502;
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`the API server behind the fault proxy could not be reached: ${error.message}`);
    });
    request.pipe(upstream);
  };

  const server = https.createServer({ cert: certificates.cert, key: certificates.key }, handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client that gives up mid-handshake is no reason to log or crash.
  server.on('tlsClientError', () => undefined);

  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      // Keep-alive connections would otherwise go on being served.
      for (const socket of sockets) socket.destroy();
    });
  await listen();

  let stopping: Promise<void> | undefined;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    caData: Buffer.from(certificates.ca, 'utf8').toString('base64'),
    requests,
    failNext(fault) {
      if (fault.status === undefined && !fault.drop && !fault.lose) throw new Error('failNext: give a status, drop: true or lose: true');
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    refuseConnections: close,
    async acceptConnections() {
      if (!server.listening) await listen();
    },
    stop() {
      stopping ??= close().then(() => upstreamAgent.destroy());
      return stopping;
    },
  };
}
