// The Redis gate: connect (TLS with SNI when asked), AUTH when a password is given, then PING, through
// ioredis. The client is set up to fail fast and speak only those commands: RESP2 (no HELLO), no
// CLIENT SETINFO, no INFO ready check, no reconnect, no offline queue. One overall deadline bounds the
// whole conversation; the client's own connect/command timeouts are only a backstop behind it.
import { Redis, type RedisOptions } from 'ioredis';
import net from 'node:net';
import { ConnectionClosed, describeNetworkError, errorCode } from './network-errors.js';
import { elapsedSince, quote, type HealthResult, type HealthStage } from './result.js';

export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  /** An ACL user (ElastiCache RBAC); without it AUTH authenticates the default user. */
  username?: string;
  password?: string;
}

export interface RedisCheckOptions {
  /** Extra certificate authorities (PEM) to trust for TLS. */
  ca?: string | Buffer | (string | Buffer)[];
}

type RedisStep = 'connect' | 'tls-handshake' | 'AUTH' | 'PING';

const REDIS_STEP_WORDS: Record<RedisStep, string> = {
  connect: 'while connecting',
  'tls-handshake': 'during the TLS handshake',
  AUTH: 'waiting for the reply to AUTH',
  PING: 'waiting for the reply to PING',
};

const REDIS_STEP_STAGE: Record<RedisStep, HealthStage> = {
  connect: 'connect',
  'tls-handshake': 'tls-handshake',
  AUTH: 'authentication',
  PING: 'request',
};

/** What ioredis rejects pending commands with once the connection is gone (its CONNECTION_CLOSED_ERROR_MSG). */
const CONNECTION_CLOSED = 'Connection is closed.';

/** Bytes of a non-RESP answer kept to quote its first line. */
const QUOTE_BYTES = 1024;

/** The overall deadline passed. */
class ProbeTimeout extends Error {
  override name = 'ProbeTimeout';
}

// Errors are recognised by shape: ioredis's ReplyError comes from redis-errors,
// possibly another copy of the class than the one imported here (bundles, test runners' module realms).
function fields(error: unknown): { name?: unknown; message?: unknown } {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
}

/** A `-ERR ...` answer from the server (ioredis: ReplyError, message = the text after the '-'). */
function replyErrorText(error: unknown): string | undefined {
  const { name, message } = fields(error);
  return name === 'ReplyError' && typeof message === 'string' ? message : undefined;
}

/** The client could not parse the answer (ioredis: "Unknown RESP type ..."; older parsers: ParserError). */
function isNotResp(error: unknown): boolean {
  const { name, message } = fields(error);
  return name === 'ParserError' || /^(Unknown RESP type|Protocol error)/.test(String(message));
}

/** The first line of what the server sent, to be shown when it is not RESP. */
function firstLine(bytes: Buffer): string {
  const lineEnd = bytes.indexOf('\r\n');
  return bytes.subarray(0, lineEnd < 0 ? undefined : lineEnd).toString('utf8');
}

/** A reply as the message shows it: `-ERR ...` for errors, the value itself otherwise. */
function showReply(reply: unknown): string {
  const error = replyErrorText(reply);
  if (error !== undefined) return `-${quote(error)}`;
  if (reply === null) return 'a null bulk string';
  if (typeof reply === 'number') return `:${reply}`;
  if (Array.isArray(reply)) return `an array of ${reply.length} elements`;
  if (typeof reply === 'string') return `"${quote(reply)}"`;
  return `"${quote(String(reply))}"`;
}

function clientOptions(target: RedisTarget, timeoutMs: number, options: RedisCheckOptions): RedisOptions {
  return {
    host: target.host,
    port: target.port,
    // Connect when asked, and only the commands sent here: AUTH is sent explicitly so its answer is ours to judge.
    lazyConnect: true,
    protocol: 2,
    disableClientInfo: true,
    enableReadyCheck: false,
    // Fail fast: no reconnect, no queue of commands waiting for one, no resend.
    retryStrategy: () => null,
    reconnectOnError: null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    // The probe's own deadline decides; these only stop a client that outlived it.
    connectTimeout: timeoutMs + 1_000,
    commandTimeout: timeoutMs + 1_000,
    ...(target.tls
      ? {
          tls: {
            // SNI carries a host name only (RFC 6066); Node warns when given an IP address.
            ...(net.isIP(target.host) ? {} : { servername: target.host }),
            ...(options.ca !== undefined ? { ca: options.ca } : {}),
          },
        }
      : {}),
  };
}

/**
 * Connects to `target` (`host`, `port`; TLS with SNI when `tls`, trusting `options.ca` as well as the
 * system CAs), sends `AUTH [username] password` when a password is given, then `PING`, and expects
 * `PONG`, all within `timeoutMs` (milliseconds, one deadline for the whole conversation). The connection
 * is always closed. Resolves to a HealthResult (`name: 'redis-ping'`, `target: redis://host:port` or
 * `rediss://...`) whatever happens: refused, TLS and certificate failures, AUTH rejected (-WRONGPASS),
 * -NOAUTH, a port that does not speak RESP, timeouts, all end up in `passed: false` with the stage that
 * failed. Never throws. The password never appears in a message, even if the server echoes it back.
 */
export async function checkRedis(target: RedisTarget, timeoutMs: number, options: RedisCheckOptions = {}): Promise<HealthResult> {
  const where = `${target.tls ? 'rediss' : 'redis'}://${target.host}:${target.port}`;
  const base = { name: 'redis-ping' as const, target: where, expected: `${target.password !== undefined ? 'AUTH OK, ' : ''}PING answers PONG within ${timeoutMs} ms` };
  const redact = (text: string) => (target.password ? text.split(target.password).join('***') : text);
  const started = performance.now();

  const fail = (stage: HealthStage, measured: string, message: string, timedOut = false): HealthResult => ({
    ...base,
    passed: false,
    measured: redact(measured),
    message: redact(message),
    elapsedMs: elapsedSince(started),
    failure: { stage, timedOut },
  });

  const client = new Redis(clientOptions(target, timeoutMs, options));
  // The socket's own error (ECONNREFUSED, a certificate...) says more than the "Connection is closed." the
  // pending command is rejected with afterwards: the first one recorded wins.
  let socketError: unknown;
  client.on('error', (error: unknown) => {
    socketError ??= error;
  });
  let step: RedisStep = 'connect';
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout()), timeoutMs);
  });
  const within = <T>(work: Promise<T>): Promise<T> => {
    // A rejection after the deadline won (the disconnect below) must not go unhandled.
    work.catch(() => undefined);
    return Promise.race([work, deadline]);
  };

  // What the server sent in answer to the command in flight: quoted when it is not RESP at all.
  let received = Buffer.alloc(0);
  const expectReply = () => {
    received = Buffer.alloc(0);
  };

  try {
    await within(client.connect());
    client.stream.on('data', (chunk: Buffer) => {
      if (received.length < QUOTE_BYTES) received = Buffer.concat([received, chunk]);
    });
    if (target.password !== undefined) {
      step = 'AUTH';
      expectReply();
      let reply: unknown;
      try {
        reply = target.username !== undefined ? await within(client.auth(target.username, target.password)) : await within(client.auth(target.password));
      } catch (error) {
        if (replyErrorText(error) === undefined) throw error;
        return fail('authentication', `AUTH answered ${showReply(error)}`, `AUTH rejected by ${where}: ${showReply(error)}`);
      }
      if (reply !== 'OK') {
        return fail('authentication', `AUTH answered ${showReply(reply)}`, `unexpected reply to AUTH from ${where}: ${showReply(reply)} (expected +OK)`);
      }
    }
    step = 'PING';
    expectReply();
    let reply: unknown;
    try {
      reply = await within(client.ping());
    } catch (error) {
      const text = replyErrorText(error);
      if (text === undefined) throw error;
      if (/^NOAUTH\b/.test(text)) {
        return fail('authentication', `PING answered ${showReply(error)}`, `${where} requires authentication (${showReply(error)}): configure health.redis.authSecret`);
      }
      reply = error;
    }
    if (reply === 'PONG') {
      const elapsedMs = elapsedSince(started);
      return { ...base, passed: true, measured: `PONG in ${elapsedMs} ms`, message: `${where} answered PING with PONG.`, elapsedMs };
    }
    return fail('response', `PING answered ${showReply(reply)}`, `unexpected reply to PING from ${where}: ${showReply(reply)} (expected +PONG)`);
  } catch (error) {
    if (error instanceof ProbeTimeout) {
      const at = step === 'connect' && target.tls && tcpConnected(client) ? 'tls-handshake' : step;
      return fail(REDIS_STEP_STAGE[at], `no answer within ${timeoutMs} ms`, `${where} timed out after ${timeoutMs} ms ${REDIS_STEP_WORDS[at]}.`, true);
    }
    if (isNotResp(error)) {
      const shown = `"${quote(firstLine(received))}" (not a RESP reply: is this port really Redis?)`;
      return fail('response', 'not a Redis reply', `unexpected reply to ${step} from ${where}: ${shown}`);
    }
    const cause = socketCause(error, socketError);
    // A TLS connection closed or reset before the handshake finished was connected: the handshake failed.
    const at = step === 'connect' && target.tls && (cause instanceof ConnectionClosed || errorCode(cause) === 'ECONNRESET' || errorCode(cause) === 'EPIPE') ? 'tls-handshake' : step;
    const network = describeNetworkError(cause, target.host, target.port, REDIS_STEP_STAGE[at]);
    const during = step === 'AUTH' || step === 'PING' ? ` (after sending ${step})` : '';
    return fail(network.stage, `no answer (${network.short})`, `${where}: ${network.description}${during}.`);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** TCP is up but the client is not connected yet: for a TLS target, the handshake is what is missing. */
function tcpConnected(client: Redis): boolean {
  const stream = client.stream as net.Socket | undefined;
  return stream !== undefined && !stream.destroyed && !stream.connecting;
}

/** The error worth describing: the socket's own, else the rejection, with ioredis's "closed" as ConnectionClosed. */
function socketCause(rejection: unknown, socketError: unknown): unknown {
  const chosen = socketError ?? rejection;
  const { message } = fields(chosen);
  if (errorCode(chosen) === undefined && (message === CONNECTION_CLOSED || /Stream isn't writeable/.test(String(message)))) {
    return new ConnectionClosed('the server closed the connection');
  }
  return chosen;
}
