// What every health probe returns: a result, never an exception for a probe failure, with a message that
// names the stage that failed (DNS, connect, TLS, authentication, the answer itself) so the on-call
// engineer knows where to look.

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

/** Longest piece of a foreign answer (HTTP body, Redis reply) quoted in a message. */
const QUOTE_LIMIT = 200;

/** `text` on one line, cut to `limit` characters with `...`: for quoting what a server answered. */
export function quote(text: string, limit = QUOTE_LIMIT): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > limit ? `${oneLine.slice(0, limit)}...` : oneLine;
}

/** Whole milliseconds since `started` (a `performance.now()` reading). */
export function elapsedSince(started: number): number {
  return Math.round(performance.now() - started);
}
