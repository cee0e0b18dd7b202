// THE mapping between the emulator and real servers (see DESIGN.md, "Test tiers").
//
// moto "creates" and "restores" RDS instances without running a database: it hands back endpoints such
// as `frontier-prod.aaaaaaaaaa.us-east-1.rds.amazonaws.com:5432` that nobody listens on (and that do not
// resolve). The recovery code reads those endpoints from the RDS API and connects to them exactly as it
// does in AWS. To give it a real PostgreSQL to talk to, tests and the local drill call
// mapDatabaseEndpoints() once, in their own process, and every TCP connection to an RDS host name is
// sent to the embedded PostgreSQL instead.
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

const RDS_HOST_SUFFIX = '.rds.amazonaws.com';

type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;

/**
 * Redirects this process's TCP connections to `*.rds.amazonaws.com` (instances, Aurora clusters, proxies)
 * to `target`. Returns a function that undoes it.
 */
export function mapDatabaseEndpoints(target: DatabaseTarget): () => void {
  const previous = net.Socket.prototype.connect as Connect;
  let active = true;

  const redirecting: Connect = function (this: net.Socket, ...args) {
    return Reflect.apply(previous, this, active ? redirect(args, target) : args) as net.Socket;
  };
  net.Socket.prototype.connect = redirecting;

  return () => {
    active = false;
    // A mapping installed after this one still wraps ours; with `active` false ours just passes through.
    if ((net.Socket.prototype.connect as Connect) === redirecting) net.Socket.prototype.connect = previous;
  };
}

function redirect(args: unknown[], target: DatabaseTarget): unknown[] {
  const [first, second, ...rest] = args;
  // net.connect() / tls.connect() pass one array they already normalised, marked with a Node-internal
  // symbol; it must stay the same array or Node normalises it again and misreads it.
  if (Array.isArray(first)) {
    const options: unknown = first[0];
    if (isOptions(options) && isRdsHost(options.host)) first[0] = { ...options, host: target.host, port: target.port };
    return args;
  }
  // socket.connect(options[, listener])
  if (isOptions(first)) {
    if (!isRdsHost(first.host)) return args;
    const rewritten = [...args];
    rewritten[0] = { ...first, host: target.host, port: target.port };
    return rewritten;
  }
  // socket.connect(port, host[, listener]): what the pg client calls
  if ((typeof first === 'number' || typeof first === 'string') && isRdsHost(second)) {
    return [target.port, target.host, ...rest];
  }
  return args;
}

function isOptions(value: unknown): value is { host?: unknown; port?: unknown } {
  return typeof value === 'object' && value !== null;
}

function isRdsHost(host: unknown): boolean {
  if (typeof host !== 'string') return false;
  const name = host.toLowerCase().replace(/\.$/, '');
  return name.endsWith(RDS_HOST_SUFFIX);
}
