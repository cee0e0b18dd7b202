// THE mapping between the emulator and real servers (see DESIGN.md, "Test tiers").
//
// moto "creates" and "restores" RDS instances without running a database: it hands back endpoints such
// as `frontier-prod.aaaaaaaaaa.us-east-1.rds.amazonaws.com:5432` that nobody listens on (and that do not
// resolve). The recovery code reads those endpoints from the RDS API and connects to them exactly as it
// does in AWS. To give it a real PostgreSQL to talk to, tests and the local drill call
// mapDatabaseEndpoints() once, in their own process, and every TCP connection to an RDS host name is
// sent to an embedded PostgreSQL instead: one target for every RDS host, or one per host pattern (the
// emulated environment sends the instances a database recovery restores, `<db>-r-<incident>.…`, to a
// second server, so that the damaged database and the restored one are two databases, as in AWS).
//
// This is the only place the emulated environment diverges from AWS for databases. Only the test setup
// and the local drill (which runs the handlers in its own process) install it; shared/ and functions/
// never import it, so it cannot be bundled into a Lambda or consulted in AWS. The code under test keeps
// opening `new pg.Client({ host, port, ... })` with the endpoint it got from the RDS API and cannot tell.
import net from 'node:net';

export interface DatabaseTarget {
  host: string;
  port: number;
}

/** Connections to an RDS host matching `host` go to `target`. */
export interface DatabaseRoute {
  /** Tested against the lower-cased host name (trailing dot removed); a string must match it whole. */
  host: RegExp | string;
  target: DatabaseTarget;
}

/**
 * Where connections go: one target for every RDS host; routes, the first match wins (an RDS host no
 * route matches is left alone); or a function of the lower-cased host (null: left alone).
 */
export type DatabaseMapping = DatabaseTarget | readonly DatabaseRoute[] | ((host: string) => DatabaseTarget | null);

const RDS_HOST_SUFFIX = '.rds.amazonaws.com';

type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;
type Resolve = (host: unknown) => DatabaseTarget | null;

/**
 * Redirects this process's TCP connections to `*.rds.amazonaws.com` (instances, Aurora clusters, proxies)
 * as `mapping` says. Returns a function that undoes it.
 */
export function mapDatabaseEndpoints(mapping: DatabaseMapping): () => void {
  const previous = net.Socket.prototype.connect as Connect;
  const resolveTarget = resolver(mapping);
  let active = true;

  const redirecting: Connect = function (this: net.Socket, ...args) {
    return Reflect.apply(previous, this, active ? redirect(args, resolveTarget) : args) as net.Socket;
  };
  net.Socket.prototype.connect = redirecting;

  return () => {
    active = false;
    // A mapping installed after this one still wraps ours; with `active` false ours just passes through.
    if ((net.Socket.prototype.connect as Connect) === redirecting) net.Socket.prototype.connect = previous;
  };
}

function resolver(mapping: DatabaseMapping): Resolve {
  const choose: (host: string) => DatabaseTarget | null =
    typeof mapping === 'function'
      ? mapping
      : isRouteList(mapping)
        ? (host) => mapping.find((route) => (typeof route.host === 'string' ? route.host.toLowerCase() === host : route.host.test(host)))?.target ?? null
        : () => mapping;
  return (host) => {
    const name = rdsHost(host);
    return name === null ? null : choose(name);
  };
}

function isRouteList(mapping: DatabaseMapping): mapping is readonly DatabaseRoute[] {
  return Array.isArray(mapping);
}

function redirect(args: unknown[], resolveTarget: Resolve): unknown[] {
  const [first, second, ...rest] = args;
  // net.connect() / tls.connect() pass one array they already normalised, marked with a Node-internal
  // symbol; it must stay the same array or Node normalises it again and misreads it.
  if (Array.isArray(first)) {
    const options: unknown = first[0];
    const target = isOptions(options) ? resolveTarget(options.host) : null;
    if (target) first[0] = { ...(options as object), host: target.host, port: target.port };
    return args;
  }
  // socket.connect(options[, listener])
  if (isOptions(first)) {
    const target = resolveTarget(first.host);
    if (!target) return args;
    const rewritten = [...args];
    rewritten[0] = { ...first, host: target.host, port: target.port };
    return rewritten;
  }
  // socket.connect(port, host[, listener]): what the pg client calls
  if (typeof first === 'number' || typeof first === 'string') {
    const target = resolveTarget(second);
    if (target) return [target.port, target.host, ...rest];
  }
  return args;
}

function isOptions(value: unknown): value is { host?: unknown; port?: unknown } {
  return typeof value === 'object' && value !== null;
}

/** The normalised name of an RDS host, or null for any other host. */
function rdsHost(host: unknown): string | null {
  if (typeof host !== 'string') return null;
  const name = host.toLowerCase().replace(/\.$/, '');
  return name.endsWith(RDS_HOST_SUFFIX) ? name : null;
}
