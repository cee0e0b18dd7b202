// Every Kubernetes request goes through here: a deadline per request, one retry with a fresh token after
// a 401, failures turned into named errors (shared/errors.ts) that say which request failed and why,
// and lists read in pages.
import { ApiException, Observable, setHeaderOptions, type ConfigurationOptions, type RequestContext, type ResponseContext, type V1ListMeta } from '@kubernetes/client-node';
import {
  KubernetesConflict,
  KubernetesNotFound,
  KubernetesRejected,
  KubernetesTransientError,
  KubernetesUnauthorized,
  KubernetesUnreachable,
  RecoveryError,
} from '../errors.js';
import type { KubernetesConnection } from './connection.js';

/** What a request does, for error messages: `patch deployments/scale production/frontier-api`. */
export interface RequestTarget {
  verb: string;
  resource: string;
  group?: string;
  namespace?: string;
  name?: string;
}

function describeTarget(target: RequestTarget): string {
  const where = target.namespace ? `${target.namespace}/${target.name ?? ''}` : (target.name ?? '');
  return `${target.verb} ${target.resource}${where ? ` ${where}` : ''}`;
}

/**
 * An error answer as the server sent it. The generated client drops the body of some answers (a 401's
 * Status, "Unauthorized", never reaches the caller), so every answer of 400 or more is turned into an
 * ApiException here, with the body read once and kept: the error then carries the server's message.
 */
async function errorAnswer(response: ResponseContext): Promise<ResponseContext> {
  if (response.httpStatusCode < 400) return response;
  let body: string | undefined;
  try {
    body = await response.body.text();
  } catch {
    body = undefined;
  }
  throw new ApiException<string | undefined>(response.httpStatusCode, `HTTP ${response.httpStatusCode}`, body, response.headers);
}

/** Options for one request: its deadline (`signal`, or a fresh `requestTimeoutMs`), and its Content-Type for patches. */
export function requestOptions(conn: KubernetesConnection, extra: { contentType?: string; signal?: AbortSignal } = {}): ConfigurationOptions {
  // A fresh deadline per request (also for the retry after a 401), unless the caller shares one.
  const deadline = {
    pre: (context: RequestContext) => {
      context.setSignal(extra.signal ?? AbortSignal.timeout(conn.requestTimeoutMs));
      return new Observable(Promise.resolve(context));
    },
    post: (response: ResponseContext) => new Observable(errorAnswer(response)),
  };
  const base: ConfigurationOptions = { middleware: [deadline], middlewareMergeStrategy: 'append' };
  return extra.contentType ? setHeaderOptions('Content-Type', extra.contentType, base) : base;
}

/** Sends a request; after a 401 it replaces the token and sends it once more. Failures become named errors. */
export async function send<T>(conn: KubernetesConnection, target: RequestTarget, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (statusCode(error) === 401 && conn.token.refresh()) {
      try {
        return await request();
      } catch (retryError) {
        throw classifyKubernetesError(retryError, target, conn);
      }
    }
    throw classifyKubernetesError(error, target, conn);
  }
}

function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

/** The `message` of the Kubernetes Status object in an error answer, when there is one. */
function statusMessage(error: ApiException<unknown>): string | undefined {
  const body: unknown = error.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim().slice(0, 500) || undefined;
    }
  }
  if (parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') {
    return (parsed as { message: string }).message;
  }
  return undefined;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** The `name`, `code` and `message` of each error in a `cause` chain, outermost first. */
interface CauseLink {
  name?: string;
  code?: string;
  message?: string;
}

/**
 * The `cause` chain of a failed request (undici's "fetch failed" hides the reason one or more levels
 * down). Duck-typed: undici's errors may come from another realm (jest's VM modules), where
 * `instanceof Error` is false.
 */
function causeChain(error: unknown): CauseLink[] {
  const links: CauseLink[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    const { name, code, message, cause } = current as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
    links.push({
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof message === 'string' ? { message } : {}),
    });
    current = cause;
  }
  return links;
}

/** The Node/undici error code that says the API server could not be reached, when there is one. */
function networkCode(links: readonly CauseLink[]): string | undefined {
  for (const link of links) {
    if (link.name === 'TimeoutError' || link.name === 'AbortError') return link.name;
    if (link.code && UNREACHABLE_CODES.has(link.code)) return link.code;
  }
  return undefined;
}

// Node's X509 verification codes (tls.TLSSocket.authorizationError) and its TLS/SSL error codes.
const TLS_CODE = /CERT|CRL|SSL|TLS|^UNABLE_TO_|^INVALID_CA$|^INVALID_PURPOSE$|^PATH_LENGTH_EXCEEDED$|^HOSTNAME_MISMATCH$/;

/**
 * The TLS failure behind a failed request: Node's certificate verification codes
 * (SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED,
 * ERR_TLS_CERT_ALTNAME_INVALID...) and OpenSSL's handshake errors (ERR_SSL_...).
 */
function tlsFailure(links: readonly CauseLink[]): CauseLink | undefined {
  return links.find((link) => link.code !== undefined && TLS_CODE.test(link.code));
}

/** `fetch failed: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)`: every level that says something. */
function describeChain(links: readonly CauseLink[]): string {
  const parts: string[] = [];
  for (const link of links) {
    const text = [link.message, link.code && !link.message?.includes(link.code) ? `(${link.code})` : undefined].filter(Boolean).join(' ');
    if (text && !parts.includes(text)) parts.push(text);
  }
  return parts.join(': ') || 'unknown error';
}

/** Turns what a Kubernetes request threw into a named error that says which request failed and why. */
function classifyKubernetesError(error: unknown, target: RequestTarget, conn: Pick<KubernetesConnection, 'server'>): RecoveryError {
  if (error instanceof RecoveryError) return error;
  const what = describeTarget(target);
  if (error instanceof ApiException) {
    const code = (error as ApiException<unknown>).code;
    const detail = statusMessage(error as ApiException<unknown>) ?? `HTTP ${code}`;
    if (code === 401) {
      return new KubernetesUnauthorized(
        `${what}: the API server refused the EKS token even after a fresh one (401: ${detail}); check the function role's EKS access entry (or aws-auth mapping) on this cluster`,
        { cause: error },
      );
    }
    if (code === 403) {
      const group = target.group ? ` in API group "${target.group}"` : '';
      return new KubernetesUnauthorized(
        `${what}: forbidden by RBAC (403): this function's group (frontier-dr:<function>, deploy/rbac/frontier-dr-rbac.yaml) needs verb "${target.verb}" on resource "${target.resource}"${group}, and its role must map to that group. ${detail}`,
        { cause: error },
      );
    }
    if (code === 404) return new KubernetesNotFound(`${what}: not found (${detail})`, { cause: error });
    if (code === 409) return new KubernetesConflict(`${what}: conflict (${detail})`, { cause: error });
    if (code === 429 || code >= 500) return new KubernetesTransientError(`${what} failed temporarily (HTTP ${code}): ${detail}`, { cause: error });
    if (code === 400 || code === 415 || code === 422) return new KubernetesRejected(`${what} was rejected (HTTP ${code}): ${detail}`, { cause: error });
    return new RecoveryError(`${what} failed (HTTP ${code}): ${detail}`, { cause: error });
  }
  const links = causeChain(error);
  const network = networkCode(links);
  if (network) {
    const why = network === 'TimeoutError' || network === 'AbortError' ? 'no answer in time' : network;
    return new KubernetesUnreachable(
      `${what}: the Kubernetes API at ${conn.server} could not be reached (${why}). Likely cause, when the cluster is up: ` +
        `a private endpoint the function's VPC has no route to, or a cluster security group that does not allow HTTPS (443) from the function's security group`,
      { cause: error },
    );
  }
  const tls = tlsFailure(links);
  if (tls) {
    return new RecoveryError(
      `${what}: the TLS connection to the Kubernetes API at ${conn.server} failed: ${tls.code}${tls.message && !tls.message.includes(tls.code!) ? ` (${tls.message})` : ''}. ` +
        `The API server's certificate is not trusted with the cluster CA the function was given (EKS DescribeCluster certificateAuthority.data): ` +
        `an endpoint that is not this cluster's, or a proxy in between`,
      { cause: error },
    );
  }
  return new RecoveryError(`${what} failed: ${describeChain(links)}`, { cause: error });
}

/** Items per page of a list request. */
export const PAGE_SIZE = 500;

/** Follows `continue` tokens so a big cluster's lists are read in pages, not in one huge answer. */
export async function listAll<T>(page: (continueToken: string | undefined) => Promise<{ items: T[]; metadata?: V1ListMeta }>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const answer = await page(token);
    items.push(...answer.items);
    token = answer.metadata?._continue || undefined;
  } while (token);
  return items;
}
