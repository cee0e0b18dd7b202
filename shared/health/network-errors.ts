// A socket-level failure (DNS, connect, TLS, reset) in words an on-call engineer can act on, and the
// probe stage it belongs to. Shared by the API, database and Redis probes.
import type { HealthStage } from './result.js';

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

/** The `code` of a Node/driver error (or of the first attempt of a multi-address connect). */
export function errorCode(error: unknown): string | undefined {
  const code = errorFields(error)?.code;
  if (typeof code === 'string') return code;
  const first = firstAttempt(error);
  return first === undefined ? undefined : errorCode(first);
}

/** The message of an error, looking into the first attempt of a multi-address connect. */
export function errorText(error: unknown): string {
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

export interface NetworkFailure {
  stage: HealthStage;
  description: string;
  /** Short form for `measured`, e.g. `ECONNREFUSED`. */
  short: string;
}

/**
 * Names a socket-level failure in words, and the stage it belongs to. `stage` is where the probe was
 * when it happened; some errors (DNS, certificates) say more than that.
 */
export function describeNetworkError(error: unknown, host: string, port: number, stage: HealthStage): NetworkFailure {
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
export class ConnectionClosed extends Error {
  override name = 'ConnectionClosed';
}
