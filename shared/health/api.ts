// The API's `GET /health`, with node:http(s) (one fresh connection per probe, no redirects followed).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { InvalidConfig } from '../errors.js';
import { describeNetworkError } from './network-errors.js';
import { elapsedSince, quote, type HealthResult, type HealthStage } from './result.js';

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
 * `timeoutMs` in milliseconds. Resolves to a HealthResult (`name: 'api-health'`, target the URL
 * without credentials).
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
