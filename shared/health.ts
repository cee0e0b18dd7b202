// Health gates every scenario passes before it moves traffic or declares a recovery done: the API's
// `GET /health`, a database `SELECT 1` and a Redis `PING`. Each probe has one overall timeout and ends
// in a result rather than an exception, with a message that names the stage that failed (DNS, connect,
// TLS, authentication, the answer itself) so the on-call engineer knows where to look.
// Redis is spoken directly (RESP over node:net/node:tls) and HTTP with node:http(s): a client library
// would cost bundle size for the two commands we send.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { runValidationQuery, type DatabaseTarget } from './database.js';
import { awsCall, InvalidConfig, ValidationFailed } from './errors.js';
import type { Check } from './report.js';
import type { DatabaseCredentials } from './secrets.js';

export type HealthCheckName = 'api-health' | 'database-select-1' | 'redis-ping';

/**
 * Where a probe failed. `request` means the request was sent and no (complete) answer came back;
 * `response` means an answer came and it was the wrong one.
 */
export type HealthStage = 'dns-lookup' | 'connect' | 'tls-handshake' | 'authentication' | 'request' | 'response';

export interface HealthResult {
  name: HealthCheckName;
  /** What was probed: the URL, `host:port/database`, or `redis://host:port` (`rediss://` with TLS). */
  target: string;
  /** What passing means, e.g. `HTTP 2xx within 5000 ms` (the report's Check.target). */
  expected: string;
  passed: boolean;
  /** What was seen, e.g. `HTTP 200 in 35 ms`, `PONG in 2 ms`, `no answer within 5000 ms`. */
  measured: string;
  /** One line an on-call engineer can act on; never contains a secret. */
  message: string;
  elapsedMs: number;
  /** Set on failures only. */
  failure?: { stage: HealthStage; timedOut: boolean };
}

// ---------------------------------------------------------------------------------------------------
// Shared by the probes

/** Longest piece of a foreign answer (HTTP body, Redis reply) quoted in a message. */
const QUOTE_LIMIT = 200;

function quote(text: string, limit = QUOTE_LIMIT): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > limit ? `${oneLine.slice(0, limit)}...` : oneLine;
}

function elapsedSince(started: number): number {
  return Math.round(performance.now() - started);
}

// OpenSSL's verification codes and Node's own (ERR_TLS_CERT_ALTNAME_INVALID) all name the certificate.
const CERTIFICATE_CODE = /CERT|ISSUER|SIGNATURE|LEAF|ALTNAME|HOSTNAME_MISMATCH|INVALID_CA|UNTRUSTED/;

// Duck-typed rather than `instanceof Error`: errors from Node's own modules come from another realm
// under test runners that isolate modules (jest's vm contexts), and `instanceof` would miss them.
function errorFields(error: unknown): { code?: unknown; message?: unknown; errors?: unknown } | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown; message?: unknown; errors?: unknown }) : undefined;
}

/** The first attempt of a multi-address connect (Node's happy eyeballs fails with an AggregateError). */
function firstAttempt(error: unknown): unknown {
  const errors = errorFields(error)?.errors;
  return Array.isArray(errors) && errors.length > 0 ? errors[0] : undefined;
}

function errorCode(error: unknown): string | undefined {
  const code = errorFields(error)?.code;
  if (typeof code === 'string') return code;
  const first = firstAttempt(error);
  return first === undefined ? undefined : errorCode(first);
}

function errorText(error: unknown): string {
  const message = errorFields(error)?.message;
  if (typeof message === 'string' && message !== '') return message;
  const first = firstAttempt(error);
  if (first !== undefined) return errorText(first);
  return typeof message === 'string' ? message : String(error);
}

/** True for failures of certificate verification (as opposed to other TLS protocol errors). */
function isCertificateError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && CERTIFICATE_CODE.test(code);
}

function isTlsError(error: unknown): boolean {
  const code = errorCode(error) ?? '';
  return isCertificateError(error) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /\bSSL\b|\bTLS\b/.test(errorText(error));
}

interface NetworkFailure {
  stage: HealthStage;
  description: string;
  /** Short form for `measured`, e.g. `ECONNREFUSED`. */
  short: string;
}

/**
 * Names a socket-level failure in words, and the stage it belongs to. `stage` is where the probe was
 * when it happened; some errors (DNS, certificates) say more than that.
 */
function describeNetworkError(error: unknown, host: string, port: number, stage: HealthStage): NetworkFailure {
  const found = describeNetworkErrorInWords(error, host, port, stage);
  const code = errorCode(error);
  return { ...found, short: code ?? (error instanceof ConnectionClosed ? 'connection closed' : found.stage) };
}

function describeNetworkErrorInWords(error: unknown, host: string, port: number, stage: HealthStage): Omit<NetworkFailure, 'short'> {
  const code = errorCode(error);
  const detail = errorText(error);
  const endpoint = `${host}:${port}`;
  if (code === 'ENOTFOUND') return { stage: 'dns-lookup', description: `DNS lookup failed for ${host}: no such name (ENOTFOUND)` };
  if (code === 'EAI_AGAIN') {
    return { stage: 'dns-lookup', description: `DNS lookup failed for ${host}: the resolver did not answer (EAI_AGAIN)` };
  }
  if (stage === 'tls-handshake' && (code === 'ECONNRESET' || error instanceof ConnectionClosed)) {
    return {
      stage,
      description: `TLS handshake with ${endpoint} failed: the server closed the connection before the handshake completed (does it speak TLS?)`,
    };
  }
  if (isCertificateError(error)) return { stage: 'tls-handshake', description: `TLS error (certificate) from ${endpoint}: ${detail} (${code})` };
  if (isTlsError(error)) return { stage: 'tls-handshake', description: `TLS error with ${endpoint}: ${detail}${code ? ` (${code})` : ''}` };
  if (code === 'ECONNREFUSED') return { stage: 'connect', description: `connection refused by ${endpoint}: nothing is listening on that port` };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return { stage: 'connect', description: `no route to ${endpoint} (${code}): check the subnets' route tables` };
  }
  if (code === 'ETIMEDOUT') return { stage: 'connect', description: `connecting to ${endpoint} timed out (ETIMEDOUT): check security groups` };
  if (code === 'ECONNRESET' || code === 'EPIPE' || error instanceof ConnectionClosed) {
    return { stage, description: `connection closed by ${endpoint} before it answered${code ? ` (${code})` : ''}` };
  }
  return { stage, description: `${detail}${code ? ` (${code})` : ''}` };
}

/** The peer closed the connection (FIN) while we still expected something. */
class ConnectionClosed extends Error {
  override name = 'ConnectionClosed';
}

class ProbeTimeout extends Error {
  override name = 'ProbeTimeout';
}

// ---------------------------------------------------------------------------------------------------
// API: GET /health

export interface ApiHealthOptions {
  /** Extra certificate authorities (PEM) to trust, e.g. a private CA in front of the API. */
  ca?: string | Buffer | (string | Buffer)[];
  /**
   * Allows `http://` to a host other than loopback. Production health URLs are HTTPS; plain HTTP is
   * accepted on loopback without this (the local environment's health server).
   */
  allowPlainHttp?: boolean;
  headers?: Record<string, string>;
}

/** `status` values (case-insensitive) that mean healthy in the common health-endpoint conventions. */
const HEALTHY_STATUSES = new Set(['ok', 'healthy', 'pass', 'up']);

/** Bytes of body kept; health bodies are small, and a huge one must not fill the Lambda's memory. */
const BODY_LIMIT = 64 * 1024;

const API_STAGE_WORDS: Record<HealthStage, string> = {
  'dns-lookup': 'during the DNS lookup',
  connect: 'while connecting',
  'tls-handshake': 'during the TLS handshake',
  authentication: 'during authentication',
  request: 'waiting for the response',
  response: 'while reading the response body',
};

type ApiOutcome =
  | { kind: 'response'; status: number; statusText: string; contentType: string; location: string | undefined; body: string }
  | { kind: 'error'; error: unknown; stage: HealthStage }
  | { kind: 'timeout'; stage: HealthStage };

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

function parseHealthUrl(url: string, options: ApiHealthOptions): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidConfig(`health URL "${url}" is not a valid URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new InvalidConfig(`health URL ${url} must use https:// (got ${parsed.protocol})`);
  }
  if (parsed.protocol === 'http:' && !isLoopback(parsed.hostname) && !options.allowPlainHttp) {
    throw new InvalidConfig(`health URL ${url} uses plain http://: the API must be checked over https://`);
  }
  return parsed;
}

/**
 * `GET url`: passes on a 2xx answer within `timeoutMs` (DNS, connect, TLS, response and body
 * included). A JSON body with a `status` field must say ok/healthy/pass/up; any other body is ignored.
 * Redirects are not followed: a health URL that redirects is misconfigured.
 * Throws only for a URL that cannot be probed at all (InvalidConfig); probe failures are results.
 */
export async function checkApiHealth(url: string, timeoutMs: number, options: ApiHealthOptions = {}): Promise<HealthResult> {
  const parsed = parseHealthUrl(url, options);
  const secure = parsed.protocol === 'https:';
  const port = parsed.port ? Number(parsed.port) : secure ? 443 : 80;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  // Credentials in a URL (https://user:token@...) must not reach the report.
  if (parsed.username || parsed.password) {
    const shown = new URL(parsed.href);
    shown.username = '';
    shown.password = '';
    url = shown.href;
  }
  const base = { name: 'api-health' as const, target: url, expected: `HTTP 2xx within ${timeoutMs} ms` };
  const started = performance.now();

  const outcome = await new Promise<ApiOutcome>((resolve) => {
    let stage: HealthStage = net.isIP(host) ? 'connect' : 'dns-lookup';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: ApiOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
      // Frees the socket whatever happened; after a complete response this is a no-op.
      request.destroy();
    };
    const requestOptions: https.RequestOptions = {
      method: 'GET',
      // A fresh connection per probe: a kept-alive socket would skip the very steps being checked.
      agent: false,
      headers: { accept: 'application/json, text/plain;q=0.9, */*;q=0.5', 'user-agent': 'frontier-dr-health-check', connection: 'close', ...options.headers },
      ...(secure && options.ca !== undefined ? { ca: options.ca } : {}),
    };
    const request = (secure ? https : http).request(parsed, requestOptions);
    timer = setTimeout(() => finish({ kind: 'timeout', stage }), timeoutMs);
    request.on('socket', (socket) => {
      socket.once('lookup', () => (stage = 'connect'));
      socket.once('connect', () => (stage = secure ? 'tls-handshake' : 'request'));
      socket.once('secureConnect', () => (stage = 'request'));
    });
    request.on('error', (error) => finish({ kind: 'error', error, stage }));
    request.on('response', (response) => {
      stage = 'response';
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        finish({
          kind: 'response',
          status: response.statusCode ?? 0,
          statusText: response.statusMessage ?? '',
          contentType: String(response.headers['content-type'] ?? ''),
          location: response.headers.location,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= BODY_LIMIT) done();
      });
      response.on('end', done);
      response.on('error', (error) => finish({ kind: 'error', error, stage }));
    });
    request.end();
  });

  const elapsedMs = elapsedSince(started);
  if (outcome.kind === 'timeout') {
    return {
      ...base,
      passed: false,
      measured: `no answer within ${timeoutMs} ms`,
      message: `GET ${url} timed out after ${timeoutMs} ms ${API_STAGE_WORDS[outcome.stage]}.`,
      elapsedMs,
      failure: { stage: outcome.stage, timedOut: true },
    };
  }
  if (outcome.kind === 'error') {
    const failure = describeNetworkError(outcome.error, host, port, outcome.stage);
    return {
      ...base,
      passed: false,
      measured: `no answer (${failure.short})`,
      message: `GET ${url} failed: ${failure.description}.`,
      elapsedMs,
      failure: { stage: failure.stage, timedOut: false },
    };
  }
  return judgeApiResponse(outcome, url, base, elapsedMs);
}

function judgeApiResponse(
  outcome: Extract<ApiOutcome, { kind: 'response' }>,
  url: string,
  base: Pick<HealthResult, 'name' | 'target' | 'expected'>,
  elapsedMs: number,
): HealthResult {
  const statusLine = `HTTP ${outcome.status}`;
  const measured = `${statusLine} in ${elapsedMs} ms`;
  const fail = (message: string): HealthResult => ({ ...base, passed: false, measured, message, elapsedMs, failure: { stage: 'response', timedOut: false } });
  const body = outcome.body.trim();
  const bodyNote = body ? `: ${quote(body)}` : ' with an empty body';

  if (outcome.status < 200 || outcome.status > 299) {
    if (outcome.status >= 300 && outcome.status < 400) {
      return fail(`GET ${url} answered ${statusLine} (redirect to ${outcome.location ?? 'nowhere'}); the health URL must answer directly with 2xx.`);
    }
    return fail(`GET ${url} answered ${statusLine}${outcome.statusText ? ` ${outcome.statusText}` : ''}${bodyNote}`);
  }
  if (body) {
    let json: unknown;
    let isJson = true;
    try {
      json = JSON.parse(body);
    } catch {
      isJson = false;
    }
    if (!isJson && /\bjson\b/i.test(outcome.contentType)) {
      // A truncated or garbled answer from something that promised JSON is not a healthy service.
      return fail(`GET ${url} answered ${statusLine} with Content-Type ${outcome.contentType} but a body that is not valid JSON: ${quote(body)}`);
    }
    if (isJson && json !== null && typeof json === 'object' && !Array.isArray(json)) {
      const status = (json as Record<string, unknown>).status;
      if (typeof status === 'string') {
        if (!HEALTHY_STATUSES.has(status.toLowerCase())) {
          return fail(`GET ${url} answered ${statusLine} but reports status "${quote(status, 50)}"${bodyNote}`);
        }
        return { ...base, passed: true, measured: `${measured}, status "${status}"`, message: `GET ${url} answered ${statusLine} with status "${status}".`, elapsedMs };
      }
    }
  }
  return { ...base, passed: true, measured, message: `GET ${url} answered ${statusLine}.`, elapsedMs };
}

// ---------------------------------------------------------------------------------------------------
// Database: connect + SELECT 1

// SQLSTATE class 28: invalid authorization (28P01 wrong password, 28000 no pg_hba.conf entry / no such role).
const AUTHENTICATION_SQLSTATE = /^28/;

/**
 * Connects and runs `SELECT 1` through {@link runValidationQuery}. `timeoutMs` bounds the connect
 * (including TLS and authentication) and the query separately, as the driver's timeouts do.
 */
export async function checkDatabase(target: DatabaseTarget, credentials: DatabaseCredentials, timeoutMs: number): Promise<HealthResult> {
  const where = `${target.host}:${target.port}/${target.databaseName}`;
  const base = { name: 'database-select-1' as const, target: where, expected: `connect and SELECT 1 within ${timeoutMs} ms each` };
  const started = performance.now();
  try {
    const result = await runValidationQuery(target, credentials, 'SELECT 1', timeoutMs);
    return {
      ...base,
      passed: true,
      measured: `SELECT 1 in ${result.elapsedMs} ms`,
      message: `Connected to ${where} as ${credentials.username} and SELECT 1 answered ${result.firstValue ?? 'null'}.`,
      elapsedMs: elapsedSince(started),
    };
  } catch (error) {
    if (!(error instanceof ValidationFailed)) throw error;
    const elapsedMs = elapsedSince(started);
    const { stage, timedOut, what } = classifyDatabaseFailure(error, target);
    return {
      ...base,
      passed: false,
      measured: timedOut ? `no answer within ${timeoutMs} ms` : `${what} failed after ${elapsedMs} ms`,
      message: `${what} failed${timedOut ? ` (timed out after ${timeoutMs} ms)` : ''}: ${error.message}`,
      elapsedMs,
      failure: { stage, timedOut },
    };
  }
}

function classifyDatabaseFailure(error: ValidationFailed, target: DatabaseTarget): { stage: HealthStage; timedOut: boolean; what: string } {
  const cause = error.cause;
  const sqlState = errorCode(cause);
  // runValidationQuery says "cannot connect ..." for everything up to a ready session, "validation query ..." after.
  const duringQuery = error.message.startsWith('validation query');
  // pg: "Connection terminated due to connection timeout", "Query read timeout"; PostgreSQL: 57014 statement_timeout.
  const timedOut = sqlState === '57014' || /timeout/i.test(errorText(cause));
  if (duringQuery) return { stage: timedOut ? 'request' : 'response', timedOut, what: 'Query' };
  if (sqlState !== undefined && AUTHENTICATION_SQLSTATE.test(sqlState)) return { stage: 'authentication', timedOut: false, what: 'Authentication' };
  if (/password authentication failed|SASL|pg_hba\.conf/i.test(errorText(cause))) return { stage: 'authentication', timedOut: false, what: 'Authentication' };
  if (timedOut) return { stage: 'connect', timedOut, what: 'Connect' };
  const network = describeNetworkError(cause, target.host, target.port, 'connect');
  return { stage: network.stage, timedOut: false, what: network.stage === 'tls-handshake' ? 'TLS handshake' : network.stage === 'dns-lookup' ? 'DNS lookup' : 'Connect' };
}

// ---------------------------------------------------------------------------------------------------
// Redis: AUTH + PING over RESP

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

export type RespReply =
  | { kind: 'simple'; text: string }
  | { kind: 'error'; text: string }
  | { kind: 'integer'; text: string }
  | { kind: 'bulk'; text: string | null }
  | { kind: 'array'; text: string }
  | { kind: 'other'; text: string };

/** Encodes a command as a RESP array of bulk strings (lengths in bytes, so any UTF-8 text is safe). */
export function encodeRespCommand(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg, 'utf8')}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''), 'utf8');
}

/** A reply line longer than this is not Redis talking (or not a reply to AUTH/PING). */
const MAX_REPLY_BYTES = 64 * 1024;

class RespProtocolError extends Error {
  override name = 'RespProtocolError';
}

/**
 * Reads one reply from the front of `buffer`; undefined while it is incomplete. Only the shapes
 * AUTH and PING can produce are parsed; anything else is returned as its first line, to be shown.
 */
export function parseRespReply(buffer: Buffer): { reply: RespReply; rest: Buffer } | undefined {
  const lineEnd = buffer.indexOf('\r\n');
  if (lineEnd < 0) {
    if (buffer.length > MAX_REPLY_BYTES) throw new RespProtocolError(`no reply line within ${MAX_REPLY_BYTES} bytes`);
    return undefined;
  }
  const type = String.fromCharCode(buffer[0] ?? 0);
  const line = buffer.subarray(1, lineEnd).toString('utf8');
  const rest = buffer.subarray(lineEnd + 2);
  switch (type) {
    case '+':
      return { reply: { kind: 'simple', text: line }, rest };
    case '-':
      return { reply: { kind: 'error', text: line }, rest };
    case ':':
      return { reply: { kind: 'integer', text: line }, rest };
    case '$': {
      const length = Number.parseInt(line, 10);
      if (length < 0) return { reply: { kind: 'bulk', text: null }, rest };
      if (!Number.isFinite(length) || length > MAX_REPLY_BYTES) throw new RespProtocolError(`bulk reply of ${line} bytes`);
      if (rest.length < length + 2) return undefined;
      return { reply: { kind: 'bulk', text: rest.subarray(0, length).toString('utf8') }, rest: rest.subarray(length + 2) };
    }
    case '*':
      // Neither AUTH nor PING answers with an array: the probe fails on it and closes, so the elements are not read.
      return { reply: { kind: 'array', text: `array of ${line} elements` }, rest: Buffer.alloc(0) };
    default:
      return { reply: { kind: 'other', text: buffer.subarray(0, lineEnd).toString('utf8') }, rest };
  }
}

function showReply(reply: RespReply): string {
  switch (reply.kind) {
    case 'simple':
      return `+${quote(reply.text)}`;
    case 'error':
      return `-${quote(reply.text)}`;
    case 'integer':
      return `:${reply.text}`;
    case 'bulk':
      return reply.text === null ? 'a null bulk string' : `"${quote(reply.text)}"`;
    case 'array':
      return `an ${reply.text}`;
    case 'other':
      return `"${quote(reply.text)}" (not a RESP reply: is this port really Redis?)`;
  }
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

/** One connection, one command at a time: enough for AUTH then PING, with every failure funnelled into one place. */
class RespSession {
  step: RedisStep = 'connect';
  private buffer: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;
  private ready = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly socket: net.Socket,
    secure: boolean,
  ) {
    if (secure) {
      socket.once('connect', () => {
        if (this.step === 'connect') this.step = 'tls-handshake';
      });
    }
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      this.ready = true;
      this.notify();
    });
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.notify();
    });
    socket.on('error', (error) => this.abort(error));
    socket.on('close', () => this.abort(new ConnectionClosed('the server closed the connection')));
  }

  /** Ends the conversation: the pending wait rejects with `error` (the first one recorded wins). */
  abort(error: Error): void {
    this.failure ??= error;
    this.socket.destroy();
    this.notify();
  }

  close(): void {
    this.socket.destroy();
  }

  async connected(): Promise<void> {
    await this.until(() => (this.ready ? true : undefined));
  }

  async command(args: readonly string[]): Promise<RespReply> {
    if (this.failure) throw this.failure;
    this.socket.write(encodeRespCommand(args));
    return this.until(() => {
      const parsed = parseRespReply(this.buffer);
      if (!parsed) return undefined;
      this.buffer = parsed.rest;
      return parsed.reply;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async until<T>(poll: () => T | undefined): Promise<T> {
    for (;;) {
      // What already arrived counts even if the server hung up right after sending it.
      const value = poll();
      if (value !== undefined) return value;
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

function openRedisSocket(target: RedisTarget, options: RedisCheckOptions): net.Socket {
  if (!target.tls) return net.connect({ host: target.host, port: target.port });
  return tls.connect({
    host: target.host,
    port: target.port,
    // SNI carries a host name only (RFC 6066); Node warns when given an IP address.
    ...(net.isIP(target.host) ? {} : { servername: target.host }),
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
  });
}

/**
 * Connects (TLS with SNI when `tls`), sends `AUTH` when a password is given, then `PING`, and expects
 * `+PONG`, all within `timeoutMs`. The socket is always closed. The password never appears in a
 * message, even if the server echoes it back.
 */
export async function checkRedis(target: RedisTarget, timeoutMs: number, options: RedisCheckOptions = {}): Promise<HealthResult> {
  const where = `${target.tls ? 'rediss' : 'redis'}://${target.host}:${target.port}`;
  const base = { name: 'redis-ping' as const, target: where, expected: `${target.password !== undefined ? 'AUTH OK, ' : ''}PING answers PONG within ${timeoutMs} ms` };
  const redact = (text: string) => (target.password ? text.split(target.password).join('***') : text);
  const started = performance.now();
  // Listeners are attached before the event loop turns, so no socket event is missed.
  const active = new RespSession(openRedisSocket(target, options), target.tls);
  const timer = setTimeout(() => active.abort(new ProbeTimeout()), timeoutMs);

  const fail = (stage: HealthStage, measured: string, message: string, timedOut = false): HealthResult => ({
    ...base,
    passed: false,
    measured: redact(measured),
    message: redact(message),
    elapsedMs: elapsedSince(started),
    failure: { stage, timedOut },
  });

  try {
    await active.connected();
    if (target.password !== undefined) {
      active.step = 'AUTH';
      const args = target.username !== undefined ? ['AUTH', target.username, target.password] : ['AUTH', target.password];
      const reply = await active.command(args);
      if (reply.kind === 'error') {
        return fail('authentication', `AUTH answered ${showReply(reply)}`, `AUTH rejected by ${where}: ${showReply(reply)}`);
      }
      if (reply.kind !== 'simple' || reply.text !== 'OK') {
        return fail('authentication', `AUTH answered ${showReply(reply)}`, `unexpected reply to AUTH from ${where}: ${showReply(reply)} (expected +OK)`);
      }
    }
    active.step = 'PING';
    const reply = await active.command(['PING']);
    if (reply.kind === 'simple' && reply.text === 'PONG') {
      const elapsedMs = elapsedSince(started);
      return { ...base, passed: true, measured: `PONG in ${elapsedMs} ms`, message: `${where} answered PING with PONG.`, elapsedMs };
    }
    if (reply.kind === 'error' && /^NOAUTH\b/.test(reply.text)) {
      return fail(
        'authentication',
        `PING answered ${showReply(reply)}`,
        `${where} requires authentication (${showReply(reply)}): configure health.redis.authSecret`,
      );
    }
    return fail('response', `PING answered ${showReply(reply)}`, `unexpected reply to PING from ${where}: ${showReply(reply)} (expected +PONG)`);
  } catch (error) {
    const step = active.step;
    if (error instanceof ProbeTimeout) {
      return fail(REDIS_STEP_STAGE[step], `no answer within ${timeoutMs} ms`, `${where} timed out after ${timeoutMs} ms ${REDIS_STEP_WORDS[step]}.`, true);
    }
    if (error instanceof RespProtocolError) {
      return fail('response', 'not a Redis reply', `unexpected reply to ${step} from ${where}: ${error.message}`);
    }
    const network = describeNetworkError(error, target.host, target.port, REDIS_STEP_STAGE[step]);
    const during = step === 'AUTH' || step === 'PING' ? ` (after sending ${step})` : '';
    return fail(network.stage, `no answer (${network.short})`, `${where}: ${network.description}${during}.`);
  } finally {
    clearTimeout(timer);
    active.close();
  }
}

/**
 * Reads the Redis AUTH token (AWSCURRENT, named explicitly so a rotation's label move is seen at once).
 * The secret is the token itself, or JSON with a `password` or `authToken` field.
 */
export async function fetchRedisPassword(secrets: SecretsManagerClient, secretId: string): Promise<string> {
  const answer = await awsCall('secretsmanager:GetSecretValue', secretId, () =>
    secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' })),
  );
  const text = answer.SecretString;
  if (text === undefined) throw new InvalidConfig(`secret ${secretId} has no SecretString (a binary secret cannot hold the Redis AUTH token)`);
  if (text === '') throw new InvalidConfig(`secret ${secretId} is empty: expected the Redis AUTH token`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the token itself.
    return text;
  }
  // A token that happens to parse as a JSON number or string literal is still a plain token.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return text;
  const fields = parsed as Record<string, unknown>;
  for (const key of ['password', 'authToken'] as const) {
    const value = fields[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  const keys = Object.keys(fields);
  throw new InvalidConfig(
    `secret ${secretId} is JSON without a non-empty string field "password" or "authToken" (fields present: ${keys.length ? keys.join(', ') : 'none'})`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Gates and the report

export interface HealthGateOutcome {
  /** In the order the checks were given. */
  results: HealthResult[];
  /** Every check passed (true for an empty list: deciding which checks a scenario needs is the caller's job). */
  allPassed: boolean;
}

/**
 * Runs the checks in parallel and waits for all of them. A check that throws (bad config, an AWS call
 * for a secret) is not a probe result: once every check has settled, the first such error is rethrown
 * with its name, for the state machine's Retry/Catch.
 */
export async function runHealthGates(checks: ReadonlyArray<() => Promise<HealthResult>>): Promise<HealthGateOutcome> {
  const settled = await Promise.allSettled(checks.map(async (check) => check()));
  const results: HealthResult[] = [];
  for (const outcome of settled) {
    if (outcome.status === 'rejected') throw outcome.reason;
    results.push(outcome.value);
  }
  return { results, allPassed: results.every((result) => result.passed) };
}

/** The report's view of health results: the probed endpoint is the resource, the expectation the target. */
export function healthResultsToChecks(results: readonly HealthResult[]): Check[] {
  return results.map((result) => ({
    name: result.name,
    resource: result.target,
    measured: result.measured,
    target: result.expected,
    passed: result.passed,
    message: result.message,
  }));
}
