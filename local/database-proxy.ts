// A loopback TCP proxy standing for one emulated RDS instance whose data lives in a database of its own
// on a shared embedded PostgreSQL server (see rds-effects.ts: an instance restored from a snapshot that
// carries data). The code under test connects to the instance with the database name RDS gave it
// (`frontier`); the proxy rewrites that one name in the PostgreSQL StartupMessage to the instance's own
// database and then passes every byte through untouched, so the client and the server talk the
// protocol (authentication included) as if directly.
//
// Only plain-text sessions: the embedded servers have no TLS (emulatorConfig sets `tls: disable`), so a
// client's SSLRequest or GSSENCRequest is answered "N" (not supported) here, as the server itself would.
import net from 'node:net';
import type { DatabaseTarget } from './endpoint-map.js';

export interface DatabaseProxy {
  /** Where the endpoint map sends the instance's connections. */
  target: DatabaseTarget;
  stop(): Promise<void>;
}

const PROTOCOL_3 = 196_608;
const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;
/** A StartupMessage larger than this is not one (PostgreSQL's own limit is 10,000 bytes). */
const MAX_STARTUP_BYTES = 10_000;

/**
 * The StartupMessage with its `database` parameter `from` replaced by `to` (any other database name is
 * left alone: `postgres` stays the server's maintenance database). Null when `message` is not a
 * protocol-3 StartupMessage (a CancelRequest, say), which then goes through as it is.
 */
export function renameStartupDatabase(message: Buffer, from: string, to: string): Buffer | null {
  if (message.length < 8 || message.readInt32BE(4) !== PROTOCOL_3) return null;
  const fields = message.subarray(8).toString('utf8').split('\0');
  // key, value, key, value, ..., '', '' (the terminating zero byte and the split's tail)
  let changed = false;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'database' && fields[i + 1] === from) {
      fields[i + 1] = to;
      changed = true;
    }
  }
  if (!changed) return message;
  const body = Buffer.from(fields.join('\0'), 'utf8');
  const header = Buffer.alloc(8);
  header.writeInt32BE(8 + body.length, 0);
  header.writeInt32BE(PROTOCOL_3, 4);
  return Buffer.concat([header, body]);
}

/**
 * Starts a proxy on 127.0.0.1 (a free port) to `server`, renaming database `from` to `to` in each
 * session's StartupMessage.
 */
export async function startDatabaseProxy(server: DatabaseTarget, from: string, to: string): Promise<DatabaseProxy> {
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 8) return;
      const length = pending.readInt32BE(0);
      if (length < 8 || length > MAX_STARTUP_BYTES) {
        client.destroy();
        return;
      }
      if (pending.length < length) return;
      const code = pending.readInt32BE(4);
      if (length === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
        client.write('N');
        pending = pending.subarray(8);
        if (pending.length > 0) onData(Buffer.alloc(0));
        return;
      }
      client.off('data', onData);
      const first = pending.subarray(0, length);
      const rest = pending.subarray(length);
      const upstream = net.connect(server.port, server.host);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.write(renameStartupDatabase(first, from, to) ?? first);
      if (rest.length > 0) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (listener.address() as net.AddressInfo).port;
  return {
    target: { host: '127.0.0.1', port },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        listener.close(() => resolve());
      }),
  };
}
