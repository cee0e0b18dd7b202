// The health gates against small servers on loopback that misbehave on purpose: one per failure stage.
// No test measures time; a few make a probe give up (short timeouts against servers that never answer).
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import selfsigned from 'selfsigned';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { InvalidConfig, ResourceNotFound } from '../../shared/errors.js';
import { checkApiHealth } from '../../shared/health/api.js';
import { checkDatabase } from '../../shared/health/database.js';
import { checkRedis } from '../../shared/health/redis.js';
import { fetchRedisPassword } from '../../shared/secrets.js';
import { healthResultsToChecks, runHealthGates } from '../../shared/health/gates.js';
import type { HealthResult } from '../../shared/health/result.js';
import { FAILING_BODY, startHealthServer, type HealthServer } from '../../local/health-server.js';
import { findFreePort } from '../../local/processes.js';

/** Long enough for a loopback server to answer on a loaded machine; short enough for a test to wait out. */
const TIMEOUT_MS = 3_000;
/** For probes meant to give up: the server never answers. */
const GIVE_UP_MS = 300;

// ---------------------------------------------------------------------------------------------------
// Loopback servers

interface TestServer {
  port: number;
  close(): Promise<void>;
}

const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function listen(server: net.Server): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  // TLS servers report accepted sockets on 'secureConnection' too, but 'connection' has the raw ones.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const handle: TestServer = {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}

/** Splits what a client sent into RESP commands (arrays of bulk strings), byte-exact apart from the command name's case. */
function parseCommands(buffer: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = [];
  let offset = 0;
  for (;;) {
    const start = offset;
    const header = readLine(buffer, offset);
    if (!header || !header.line.startsWith('*')) return { commands, rest: buffer.subarray(start) };
    const count = Number(header.line.slice(1));
    offset = header.next;
    const args: string[] = [];
    for (let i = 0; i < count; i++) {
      const lengthLine = readLine(buffer, offset);
      if (!lengthLine) return { commands, rest: buffer.subarray(start) };
      const length = Number(lengthLine.line.slice(1));
      if (buffer.length < lengthLine.next + length + 2) return { commands, rest: buffer.subarray(start) };
      args.push(buffer.subarray(lengthLine.next, lengthLine.next + length).toString('utf8'));
      offset = lengthLine.next + length + 2;
    }
    // Command names are case-insensitive in Redis (clients send `auth`, `AUTH`...): upper case here.
    commands.push(args.map((arg, index) => (index === 0 ? arg.toUpperCase() : arg)));
  }
}

function readLine(buffer: Buffer, offset: number): { line: string; next: number } | undefined {
  const end = buffer.indexOf('\r\n', offset);
  return end < 0 ? undefined : { line: buffer.subarray(offset, end).toString('utf8'), next: end + 2 };
}

/** A fake Redis: `answer` returns the raw reply to each command, or null to stay silent. */
async function respServer(answer: (command: string[]) => string | null, received: Buffer[] = []): Promise<TestServer> {
  const server = net.createServer((socket) => serveResp(socket, answer, received));
  return listen(server);
}

function serveResp(socket: net.Socket, answer: (command: string[]) => string | null, received: Buffer[]): void {
  let buffer: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    buffer = Buffer.concat([buffer, chunk]);
    const { commands, rest } = parseCommands(buffer);
    buffer = rest;
    for (const command of commands) {
      const reply = answer(command);
      if (reply !== null) socket.write(reply);
    }
  });
}

const redisLike = (command: string[]): string => {
  if (command[0] === 'AUTH') return '+OK\r\n';
  if (command[0] === 'PING') return '+PONG\r\n';
  return `-ERR unknown command '${command[0]}'\r\n`;
};

function failed(result: HealthResult) {
  expect(result.passed).toBe(false);
  if (!result.failure) throw new Error(`a failed result must say where it failed: ${JSON.stringify(result)}`);
  return result.failure;
}

// A self-signed certificate for 127.0.0.1, made once per run (a committed key would trip secret scanners,
// and Node cannot create certificates by itself).
let certificate: { key: string; cert: string };

beforeAll(async () => {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'frontier-health-test' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 2 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  certificate = { key: pems.private, cert: pems.cert };
});

// ---------------------------------------------------------------------------------------------------

describe('checkRedis', () => {
  it('passes when AUTH answers +OK and PING answers +PONG, and sends a password with spaces and unicode intact', async () => {
    const received: Buffer[] = [];
    const server = await respServer(redisLike, received);
    const password = 'correct horse — battery ✓';

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false, password }, TIMEOUT_MS);

    expect(result).toMatchObject({ name: 'redis-ping', target: `redis://127.0.0.1:${server.port}`, passed: true });
    expect(result.measured).toMatch(/^PONG in \d+ ms$/);
    expect(result.failure).toBeUndefined();
    expect(parseCommands(Buffer.concat(received)).commands).toEqual([['AUTH', password], ['PING']]);
  });

  it('sends AUTH with the user name when one is given (ACL users, ElastiCache RBAC)', async () => {
    const received: Buffer[] = [];
    const server = await respServer(redisLike, received);

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false, username: 'health', password: 's3cret' }, TIMEOUT_MS);

    expect(result.passed).toBe(true);
    expect(parseCommands(Buffer.concat(received)).commands[0]).toEqual(['AUTH', 'health', 's3cret']);
  });

  it('sends only PING without a password', async () => {
    const received: Buffer[] = [];
    const server = await respServer(redisLike, received);

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false }, TIMEOUT_MS);

    expect(result.passed).toBe(true);
    expect(parseCommands(Buffer.concat(received)).commands).toEqual([['PING']]);
  });

  it('reports AUTH rejected on -WRONGPASS, without the password', async () => {
    const server = await respServer((command) =>
      command[0] === 'AUTH' ? '-WRONGPASS invalid username-password pair or user is disabled.\r\n' : '+PONG\r\n',
    );

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false, password: 'wrong-one' }, TIMEOUT_MS);

    expect(failed(result)).toEqual({ stage: 'authentication', timedOut: false });
    expect(result.message).toBe(`AUTH rejected by redis://127.0.0.1:${server.port}: -WRONGPASS invalid username-password pair or user is disabled.`);
    expect(result.measured).toContain('-WRONGPASS');
  });

  it('never repeats the password, even when the server echoes it', async () => {
    const password = 'hunter2 with spaces';
    const server = await respServer((command) => `-ERR invalid password '${command[1] ?? ''}'\r\n`);

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false, password }, TIMEOUT_MS);

    expect(failed(result).stage).toBe('authentication');
    expect(result.message).toContain("-ERR invalid password '***'");
    expect(JSON.stringify(result)).not.toContain(password);
  });

  it('says authentication is required when PING answers -NOAUTH', async () => {
    const server = await respServer(() => '-NOAUTH Authentication required.\r\n');

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false }, TIMEOUT_MS);

    expect(failed(result).stage).toBe('authentication');
    expect(result.message).toMatch(/requires authentication \(-NOAUTH Authentication required\.\).*health\.redis\.authSecret/);
  });

  it('reports an unexpected reply to PING', async () => {
    const server = await respServer(() => "-ERR unknown command 'PING', with args beginning with: \r\n");

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false }, TIMEOUT_MS);

    expect(failed(result)).toEqual({ stage: 'response', timedOut: false });
    expect(result.message).toBe(
      `unexpected reply to PING from redis://127.0.0.1:${server.port}: -ERR unknown command 'PING', with args beginning with: (expected +PONG)`,
    );
  });

  it('recognises a port that does not speak Redis', async () => {
    const server = await listen(net.createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'))));

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false }, TIMEOUT_MS);

    expect(failed(result).stage).toBe('response');
    expect(result.message).toContain('"HTTP/1.1 400 Bad Request" (not a RESP reply: is this port really Redis?)');
  });

  it('times out waiting for PING from a server that never answers', async () => {
    const server = await respServer(() => null);

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false }, GIVE_UP_MS);

    expect(failed(result)).toEqual({ stage: 'request', timedOut: true });
    expect(result.message).toBe(`redis://127.0.0.1:${server.port} timed out after ${GIVE_UP_MS} ms waiting for the reply to PING.`);
    expect(result.measured).toBe(`no answer within ${GIVE_UP_MS} ms`);
  });

  it('times out waiting for AUTH when a password is sent', async () => {
    const server = await respServer(() => null);

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false, password: 'pw' }, GIVE_UP_MS);

    expect(failed(result)).toEqual({ stage: 'authentication', timedOut: true });
    expect(result.message).toContain('waiting for the reply to AUTH');
  });

  it('reports a server that closes the connection without answering', async () => {
    const server = await listen(net.createServer((socket) => socket.destroy()));

    const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: false }, TIMEOUT_MS);

    expect(failed(result).timedOut).toBe(false);
    expect(result.message).toMatch(new RegExp(`^redis://127\\.0\\.0\\.1:${server.port}: connection closed by 127\\.0\\.0\\.1:${server.port} before it answered`));
  });

  it('reports connection refused', async () => {
    const port = await findFreePort();

    const result = await checkRedis({ host: '127.0.0.1', port, tls: false }, TIMEOUT_MS);

    expect(failed(result)).toEqual({ stage: 'connect', timedOut: false });
    expect(result.message).toBe(`redis://127.0.0.1:${port}: connection refused by 127.0.0.1:${port}: nothing is listening on that port.`);
  });

  describe('with TLS', () => {
    it('reports a TLS handshake the server never answers', async () => {
      const server = await listen(net.createServer(() => undefined));

      const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: true }, GIVE_UP_MS);

      expect(failed(result)).toEqual({ stage: 'tls-handshake', timedOut: true });
      expect(result.target).toBe(`rediss://127.0.0.1:${server.port}`);
      expect(result.message).toContain('during the TLS handshake');
    });

    it('reports a server that hangs up on the handshake (TLS expected, plain TCP found)', async () => {
      const server = await listen(net.createServer((socket) => socket.once('data', () => socket.destroy())));

      const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: true }, TIMEOUT_MS);

      expect(failed(result)).toEqual({ stage: 'tls-handshake', timedOut: false });
      expect(result.message).toContain('TLS handshake with 127.0.0.1');
    });

    it('rejects a certificate nobody vouches for, naming the certificate', async () => {
      const server = await listen(tls.createServer(certificate, (socket) => serveResp(socket, redisLike, [])));

      const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: true }, TIMEOUT_MS);

      expect(failed(result)).toEqual({ stage: 'tls-handshake', timedOut: false });
      expect(result.message).toMatch(/TLS error \(certificate\).*self[- ]signed/i);
    });

    it('passes over TLS with the server certificate trusted', async () => {
      const server = await listen(tls.createServer(certificate, (socket) => serveResp(socket, redisLike, [])));

      const result = await checkRedis({ host: '127.0.0.1', port: server.port, tls: true, password: 'pw' }, TIMEOUT_MS, { ca: certificate.cert });

      expect(result.passed).toBe(true);
    });

    it('sends the host name as SNI', async () => {
      const names: (string | false | null)[] = [];
      const server = await listen(
        tls.createServer(certificate, (socket) => {
          names.push(socket.servername);
          serveResp(socket, redisLike, []);
        }),
      );

      // The certificate also names localhost; 'localhost' may resolve to ::1 first, where nothing listens.
      const result = await checkRedis({ host: 'localhost', port: server.port, tls: true }, TIMEOUT_MS, { ca: certificate.cert });

      expect(result.passed).toBe(true);
      expect(names).toEqual(['localhost']);
    });
  });
});

// ---------------------------------------------------------------------------------------------------

describe('checkApiHealth', () => {
  let health: HealthServer;

  beforeAll(async () => {
    health = await startHealthServer();
  });

  afterAll(async () => {
    await health.stop();
  });

  it('passes on 200 {"status":"ok"}', async () => {
    health.behave('ok');

    const result = await checkApiHealth(health.url, TIMEOUT_MS);

    expect(result).toMatchObject({ name: 'api-health', target: health.url, passed: true, expected: `HTTP 2xx within ${TIMEOUT_MS} ms` });
    expect(result.measured).toMatch(/^HTTP 200 in \d+ ms, status "ok"$/);
    expect(result.message).toBe(`GET ${health.url} answered HTTP 200 with status "ok".`);
  });

  it('fails on 503 and quotes the first 200 characters of the body', async () => {
    const body = `${FAILING_BODY} ${'x'.repeat(300)}`;
    health.behave({ mode: 'failing', status: 503, body });

    const result = await checkApiHealth(health.url, TIMEOUT_MS);

    expect(failed(result)).toEqual({ stage: 'response', timedOut: false });
    expect(result.measured).toMatch(/^HTTP 503 in \d+ ms$/);
    expect(result.message).toBe(`GET ${health.url} answered HTTP 503 Service Unavailable: ${body.slice(0, 200)}...`);
  });

  it('fails on 200 with a JSON status that is not healthy', async () => {
    health.behave('degraded');

    const result = await checkApiHealth(health.url, TIMEOUT_MS);

    expect(failed(result).stage).toBe('response');
    expect(result.message).toMatch(/answered HTTP 200 but reports status "degraded"/);
  });

  it('fails on 200 with a body that claims to be JSON and is not', async () => {
    health.behave('invalid-json');

    const result = await checkApiHealth(health.url, TIMEOUT_MS);

    expect(failed(result).stage).toBe('response');
    expect(result.message).toBe(
      `GET ${health.url} answered HTTP 200 with Content-Type application/json but a body that is not valid JSON: {"status": "ok"`,
    );
  });

  it('times out on a slow answer and says what it was waiting for', async () => {
    health.behave({ mode: 'slow', delayMs: 60_000 });

    const result = await checkApiHealth(health.url, GIVE_UP_MS);

    expect(failed(result)).toEqual({ stage: 'request', timedOut: true });
    expect(result.message).toBe(`GET ${health.url} timed out after ${GIVE_UP_MS} ms waiting for the response.`);
  });

  it.each([
    ['a plain-text body', 'text/plain', 'OK'],
    ['an empty body', 'text/plain', ''],
    ['JSON without a status', 'application/json', '{"uptime": 12}'],
    ['"UP" in capitals (Spring Boot)', 'application/json', '{"status": "UP"}'],
  ])('passes on 200 with %s', async (_label, contentType, body) => {
    const server = await listen(http.createServer((_request, response) => response.writeHead(200, { 'content-type': contentType }).end(body)));

    const result = await checkApiHealth(`http://127.0.0.1:${server.port}/health`, TIMEOUT_MS);

    expect(result.passed).toBe(true);
  });

  it('keeps credentials in the URL out of the result', async () => {
    const server = await listen(http.createServer((_request, response) => response.writeHead(503).end()));

    const result = await checkApiHealth(`http://probe:s3cret-token@127.0.0.1:${server.port}/health`, TIMEOUT_MS);

    expect(result.target).toBe(`http://127.0.0.1:${server.port}/health`);
    expect(JSON.stringify(result)).not.toContain('s3cret-token');
  });

  it('does not follow a redirect', async () => {
    const server = await listen(http.createServer((_request, response) => response.writeHead(302, { location: '/login' }).end()));

    const result = await checkApiHealth(`http://127.0.0.1:${server.port}/health`, TIMEOUT_MS);

    expect(failed(result).stage).toBe('response');
    expect(result.message).toContain('answered HTTP 302 (redirect to /login)');
  });

  it('reports connection refused', async () => {
    const port = await findFreePort();
    const url = `http://127.0.0.1:${port}/health`;

    const result = await checkApiHealth(url, TIMEOUT_MS);

    expect(failed(result)).toEqual({ stage: 'connect', timedOut: false });
    expect(result.message).toBe(`GET ${url} failed: connection refused by 127.0.0.1:${port}: nothing is listening on that port.`);
  });

  it('reports a failed DNS lookup', async () => {
    // .invalid never resolves (RFC 6761). Without any resolver the lookup may instead fail with
    // EAI_AGAIN or hang until the timeout: every outcome is still the DNS stage.
    const result = await checkApiHealth('https://api.frontier.invalid/health', 10_000);

    expect(failed(result).stage).toBe('dns-lookup');
    expect(result.message).toMatch(/DNS lookup/);
  }, 20_000);

  it('reports a connection closed before the response', async () => {
    const server = await listen(net.createServer((socket) => socket.once('data', () => socket.destroy())));

    const result = await checkApiHealth(`http://127.0.0.1:${server.port}/health`, TIMEOUT_MS);

    expect(failed(result)).toEqual({ stage: 'request', timedOut: false });
    expect(result.message).toMatch(/connection closed by 127\.0\.0\.1:\d+ before it answered \(ECONNRESET\)/);
  });

  describe('over HTTPS', () => {
    const ok = (_request: http.IncomingMessage, response: http.ServerResponse) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');

    it('reports a certificate nobody vouches for as a TLS certificate error', async () => {
      const server = await listen(https.createServer(certificate, ok));
      const url = `https://127.0.0.1:${server.port}/health`;

      const result = await checkApiHealth(url, TIMEOUT_MS);

      expect(failed(result)).toEqual({ stage: 'tls-handshake', timedOut: false });
      expect(result.message).toMatch(/^GET https:\/\/127\.0\.0\.1:\d+\/health failed: TLS error \(certificate\) from 127\.0\.0\.1:\d+: self[- ]signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)\.$/);
    });

    it('passes with the certificate trusted', async () => {
      const server = await listen(https.createServer(certificate, ok));

      const result = await checkApiHealth(`https://127.0.0.1:${server.port}/health`, TIMEOUT_MS, { ca: certificate.cert });

      expect(result.passed).toBe(true);
    });

    it('times out on a TLS handshake the server never answers', async () => {
      const server = await listen(net.createServer(() => undefined));

      const result = await checkApiHealth(`https://127.0.0.1:${server.port}/health`, GIVE_UP_MS);

      expect(failed(result)).toEqual({ stage: 'tls-handshake', timedOut: true });
      expect(result.message).toContain('during the TLS handshake');
    });
  });

  it('refuses plain HTTP beyond loopback, and URLs it cannot use, as configuration errors', async () => {
    await expect(checkApiHealth('http://api.frontier.example/health', TIMEOUT_MS)).rejects.toThrow(InvalidConfig);
    await expect(checkApiHealth('http://api.frontier.example/health', TIMEOUT_MS)).rejects.toThrow(/must be checked over https:\/\//);
    await expect(checkApiHealth('ftp://api.frontier.example/health', TIMEOUT_MS)).rejects.toThrow(/must use https:\/\//);
    await expect(checkApiHealth('not a url', TIMEOUT_MS)).rejects.toThrow(/is not a valid URL/);
  });
});

// ---------------------------------------------------------------------------------------------------
// A PostgreSQL impostor speaking just enough of the wire protocol to fail at a chosen stage.

function pgMessage(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'ascii');
  header.writeInt32BE(payload.length + 4, 1);
  return Buffer.concat([header, payload]);
}

function pgError(code: string, message: string): Buffer {
  const fields = ['SFATAL', 'VFATAL', `C${code}`, `M${message}`].map((field) => `${field}\0`).join('');
  return pgMessage('E', Buffer.from(`${fields}\0`, 'utf8'));
}

const pgAuthenticationOk = () => pgMessage('R', Buffer.from([0, 0, 0, 0]));
const pgReadyForQuery = () => pgMessage('Z', Buffer.from('I'));

/** `onStartup` answers the startup message; `onQuery` answers a simple query (null: stay silent). */
async function fakePostgres(onStartup: () => Buffer | null, onQuery: () => Buffer | null = () => null): Promise<TestServer> {
  const server = net.createServer((socket) => {
    let started = false;
    socket.on('data', (chunk: Buffer) => {
      if (!started) {
        started = true;
        const answer = onStartup();
        if (answer) socket.write(answer);
        return;
      }
      if (chunk.toString('latin1', 0, 1) === 'Q') {
        const answer = onQuery();
        if (answer) socket.write(answer);
      }
    });
  });
  return listen(server);
}

describe('checkDatabase', () => {
  const credentials = { username: 'frontier_app', password: 'not-the-password' };
  const target = (port: number) => ({ host: '127.0.0.1', port, databaseName: 'frontier', tls: 'disable' as const });

  it('passes when SELECT 1 answers', async () => {
    const row = Buffer.concat([
      pgMessage('T', Buffer.concat([Buffer.from([0, 1]), Buffer.from('?column?\0'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 23, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0])])),
      pgMessage('D', Buffer.from([0, 1, 0, 0, 0, 1, 0x31])),
      pgMessage('C', Buffer.from('SELECT 1\0')),
      pgReadyForQuery(),
    ]);
    const server = await fakePostgres(() => Buffer.concat([pgAuthenticationOk(), pgReadyForQuery()]), () => row);

    const result = await checkDatabase(target(server.port), credentials, TIMEOUT_MS);

    expect(result).toMatchObject({ name: 'database-select-1', target: `127.0.0.1:${server.port}/frontier`, passed: true });
    expect(result.measured).toMatch(/^SELECT 1 in \d+ ms$/);
    expect(result.message).toBe(`Connected to 127.0.0.1:${server.port}/frontier as frontier_app and SELECT 1 answered 1.`);
  });

  it('tells a rejected password from a connection problem', async () => {
    const server = await fakePostgres(() => pgError('28P01', 'password authentication failed for user "frontier_app"'));

    const result = await checkDatabase(target(server.port), credentials, TIMEOUT_MS);

    expect(failed(result)).toEqual({ stage: 'authentication', timedOut: false });
    expect(result.message).toBe(
      `Authentication failed: cannot connect to 127.0.0.1:${server.port}/frontier as frontier_app: password authentication failed for user "frontier_app"`,
    );
    expect(result.message).not.toContain(credentials.password);
  });

  it('reports a failing query', async () => {
    const server = await fakePostgres(
      () => Buffer.concat([pgAuthenticationOk(), pgReadyForQuery()]),
      () => Buffer.concat([pgError('XX000', 'could not read block 0 in file "base/16384/1259"'), pgReadyForQuery()]),
    );

    const result = await checkDatabase(target(server.port), credentials, TIMEOUT_MS);

    expect(failed(result)).toEqual({ stage: 'response', timedOut: false });
    expect(result.message).toMatch(/^Query failed: validation query on 127\.0\.0\.1:\d+\/frontier failed: could not read block 0/);
  });

  it('times out a query that never answers', async () => {
    const server = await fakePostgres(() => Buffer.concat([pgAuthenticationOk(), pgReadyForQuery()]));

    const result = await checkDatabase(target(server.port), credentials, GIVE_UP_MS);

    expect(failed(result)).toEqual({ stage: 'request', timedOut: true });
    expect(result.message).toMatch(new RegExp(`^Query failed \\(timed out after ${GIVE_UP_MS} ms\\)`));
  });

  it('times out a connection that is never accepted as a session', async () => {
    const server = await fakePostgres(() => null);

    const result = await checkDatabase(target(server.port), credentials, GIVE_UP_MS);

    expect(failed(result)).toEqual({ stage: 'connect', timedOut: true });
    expect(result.message).toMatch(new RegExp(`^Connect failed \\(timed out after ${GIVE_UP_MS} ms\\): cannot connect to`));
  });

  it('reports connection refused', async () => {
    const port = await findFreePort();

    const result = await checkDatabase(target(port), credentials, TIMEOUT_MS);

    expect(failed(result)).toEqual({ stage: 'connect', timedOut: false });
    expect(result.message).toMatch(new RegExp(`^Connect failed: cannot connect to 127\\.0\\.0\\.1:${port}/frontier as frontier_app: .*ECONNREFUSED`));
  });
});

// ---------------------------------------------------------------------------------------------------

describe('fetchRedisPassword', () => {
  const secrets = new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 });
  const secretsMock = mockClient(secrets);
  const SECRET_ID = 'frontier/redis/auth';
  const TOKEN = 'tok en-✓-{not json';

  beforeEach(() => {
    secretsMock.reset();
  });

  const storing = (SecretString: string | undefined) => secretsMock.on(GetSecretValueCommand).resolves({ Name: SECRET_ID, ...(SecretString !== undefined ? { SecretString } : {}) });

  it('reads the AWSCURRENT version of a plain-string secret', async () => {
    storing(TOKEN);

    await expect(fetchRedisPassword(secrets, SECRET_ID)).resolves.toBe(TOKEN);
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' });
  });

  it('keeps a token that happens to parse as a JSON number as it is', async () => {
    storing('0012345678901234');

    await expect(fetchRedisPassword(secrets, SECRET_ID)).resolves.toBe('0012345678901234');
  });

  it.each([
    ['password', { password: TOKEN, host: 'redis.internal' }],
    ['authToken', { authToken: TOKEN }],
  ])('reads the %s field of a JSON secret', async (_field, value) => {
    storing(JSON.stringify(value));

    await expect(fetchRedisPassword(secrets, SECRET_ID)).resolves.toBe(TOKEN);
  });

  it('names the fields it needs, and never the value, when JSON lacks them', async () => {
    storing(JSON.stringify({ username: 'default', pasword: TOKEN }));

    const error = await fetchRedisPassword(secrets, SECRET_ID).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(error).toBeInstanceOf(InvalidConfig);
    expect((error as Error).message).toBe(
      `secret ${SECRET_ID} is JSON without a non-empty string field "password" or "authToken" (fields present: username, pasword)`,
    );
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('rejects an empty or binary secret clearly', async () => {
    storing('');
    await expect(fetchRedisPassword(secrets, SECRET_ID)).rejects.toThrow(`secret ${SECRET_ID} is empty`);

    storing(undefined);
    await expect(fetchRedisPassword(secrets, SECRET_ID)).rejects.toThrow(`secret ${SECRET_ID} has no SecretString`);
  });

  it('turns a missing secret into a named error', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ $metadata: {}, message: "Secrets Manager can't find the specified secret." }));

    await expect(fetchRedisPassword(secrets, SECRET_ID)).rejects.toThrow(ResourceNotFound);
  });
});

// ---------------------------------------------------------------------------------------------------

const result = (name: HealthResult['name'], passed: boolean): HealthResult => ({
  name,
  target: `${name}-target`,
  expected: `${name} expectation`,
  passed,
  measured: passed ? 'fine' : 'not fine',
  message: `${name} ${passed ? 'passed' : 'failed'}`,
  elapsedMs: 1,
  ...(passed ? {} : { failure: { stage: 'response' as const, timedOut: false } }),
});

describe('runHealthGates', () => {
  it('runs every check at once and reports all results in the order given', async () => {
    // Each check waits for the others to have started: run one after another, this would never settle.
    let started = 0;
    const allStarted = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (started === 3) {
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });
    const check = (name: HealthResult['name'], passed: boolean) => async () => {
      started += 1;
      await allStarted;
      return result(name, passed);
    };

    const outcome = await runHealthGates([check('api-health', true), check('database-select-1', false), check('redis-ping', true)]);

    expect(outcome.allPassed).toBe(false);
    expect(outcome.results.map((r) => [r.name, r.passed])).toEqual([
      ['api-health', true],
      ['database-select-1', false],
      ['redis-ping', true],
    ]);
  });

  it('passes when every check passes', async () => {
    const outcome = await runHealthGates([async () => result('api-health', true), async () => result('redis-ping', true)]);

    expect(outcome.allPassed).toBe(true);
  });

  it('rethrows a check that could not run, after the others have finished', async () => {
    let otherFinished = false;
    const other = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      otherFinished = true;
      return result('api-health', true);
    };

    await expect(
      runHealthGates([
        async () => {
          throw new InvalidConfig('health URL "x" is not a valid URL');
        },
        other,
      ]),
    ).rejects.toThrow(InvalidConfig);
    expect(otherFinished).toBe(true);
  });
});

describe('healthResultsToChecks', () => {
  it('makes the probed endpoint the resource and the expectation the target', () => {
    expect(healthResultsToChecks([result('redis-ping', false)])).toEqual([
      {
        name: 'redis-ping',
        resource: 'redis-ping-target',
        measured: 'not fine',
        target: 'redis-ping expectation',
        passed: false,
        message: 'redis-ping failed',
      },
    ]);
  });
});
