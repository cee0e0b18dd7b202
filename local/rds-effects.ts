// What RDS does to the database itself that moto only records, shown to the embedded PostgreSQL servers
// standing in for the instances; and which server (and database) each RDS endpoint reaches (see
// environment.ts).
import { DescribeDBInstancesCommand, paginateDescribeDBInstances, RDSClient, type DBInstance } from '@aws-sdk/client-rds';
import { RESTORED_INSTANCE_HOST } from '../shared/names.js';
import { startDatabaseProxy, type DatabaseProxy } from './database-proxy.js';
import type { DatabaseRoute, DatabaseTarget } from './endpoint-map.js';
import { EMULATOR_CREDENTIALS } from './emulator-clients.js';
import type { LocalPostgres } from './postgres.js';

/** Where an emulated instance's data is: a database on one of the environment's servers. */
export interface InstanceData {
  server: LocalPostgres;
  /** The database on `server` holding it. */
  database: string;
  /** The name RDS gave the database (the instance's DBName): what clients ask for. */
  dbName: string;
}

/**
 * Snapshots that carry data, and the instances restored from them, each with a database of its own
 * (snapshot databases are never written to: a restore makes a new database from one as its template).
 */
export interface SnapshotData {
  /** The data a snapshot carries, by `<region>/<snapshot id>`; absent: it carries none (see captureSnapshot). */
  snapshot(region: string, id: string): InstanceData | undefined;
  /** The data of the instance answering at `host` (its endpoint address) when it has a database of its own. */
  instance(host: string): InstanceData | undefined;
  /** Where a connection to `host` goes when the instance has a database of its own (its proxy), else null. */
  route(host: string): DatabaseTarget | null;
  stop(): Promise<void>;
}

/**
 * Where this environment sends RDS endpoints: an instance with a database of its own (restored from a
 * snapshot that carries data, `data`) to its proxy; else a recovery's restored instances to
 * `restoredPostgres`, every other one to `postgres`. (Also for processes of its own, e.g. the bench's
 * child processes: the routes of instances restored later are not in a list taken before.)
 */
export function databaseRoutes(servers: { postgres: LocalPostgres; restoredPostgres: LocalPostgres; snapshotData?: Pick<SnapshotData, 'route'> & { hosts(): string[] } }): DatabaseRoute[] {
  const own = servers.snapshotData;
  return [
    ...(own ? own.hosts().map((host) => ({ host, target: own.route(host) as DatabaseTarget })) : []),
    { host: RESTORED_INSTANCE_HOST, target: { host: servers.restoredPostgres.host, port: servers.restoredPostgres.port } },
    { host: /./, target: { host: servers.postgres.host, port: servers.postgres.port } },
  ];
}

/** The PostgreSQL server an emulated instance's endpoint is mapped to when it has no database of its own. */
function serverOf(instance: DBInstance, postgres: LocalPostgres, restoredPostgres: LocalPostgres): LocalPostgres {
  return RESTORED_INSTANCE_HOST.test((instance.Endpoint?.Address ?? '').toLowerCase()) ? restoredPostgres : postgres;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** `arn:aws:rds:<region>:<account>:snapshot:<id>` or a plain id (in `region`). */
function snapshotKey(idOrArn: string, region: string): string {
  const arn = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:snapshot:(.+)$/.exec(idOrArn);
  return arn ? `${arn[1]}/${arn[2]}` : `${region}/${idOrArn}`;
}

/** CREATE DATABASE ... TEMPLATE refuses while anyone is connected to the template: wait them out briefly. */
async function copyDatabase(server: LocalPostgres, template: string, copy: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await server.execute(`CREATE DATABASE ${quote(copy)} TEMPLATE ${quote(template)}`);
      return;
    } catch (error) {
      // 55006 object_in_use: "source database ... is being accessed by other users"
      if ((error as { code?: string }).code !== '55006' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** True when `database` holds a relation of its own (a table, view, sequence...) outside the system schemas. */
async function holdsData(server: LocalPostgres, database: string): Promise<boolean> {
  return server.session(database, async (client) => {
    const found = await client.query(
      `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%' LIMIT 1`,
    );
    return (found.rowCount ?? 0) > 0;
  });
}

/**
 * What RDS does beyond its records that the recoveries rely on:
 * - an instance's database exists (CreateDBInstance with a DBName: on both servers);
 * - a parameter group's default_transaction_read_only applies to the instances that use the group;
 * - data travels with snapshots: CreateDBSnapshot of an instance whose database holds tables copies
 *   that database (CREATE DATABASE ... TEMPLATE, on the server holding it) as the snapshot's data;
 *   CopyDBSnapshot (also across regions) carries the same data; RestoreDBInstanceFromDBSnapshot of a
 *   snapshot that carries data gives the new instance a copy of it as a database of its own, reached
 *   through a proxy renaming the database in each session's StartupMessage (database-proxy.ts).
 *   A snapshot of a database without tables (the seed's, taken before anything was written) carries
 *   nothing, and an instance restored from it answers on the shared servers as before; so does a
 *   point-in-time restore (RestoreDBInstanceToPointInTime), whose past contents do not exist here.
 */
export function emulateRdsEffects(motoEndpoint: string, postgres: LocalPostgres, restoredPostgres: LocalPostgres) {
  const snapshots = new Map<string, InstanceData>();
  const instances = new Map<string, InstanceData & { proxy: DatabaseProxy }>();
  let copies = 0;
  const client = (region: string) => new RDSClient({ region, endpoint: motoEndpoint, credentials: EMULATOR_CREDENTIALS });
  const describe = async (region: string, id: string): Promise<DBInstance | undefined> => {
    const rds = client(region);
    try {
      return (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
    } finally {
      rds.destroy();
    }
  };
  const hostOf = (instance: DBInstance | undefined) => (instance?.Endpoint?.Address ?? '').toLowerCase().replace(/\.$/, '');
  /** Where an instance's data is now: its own database, else its server's database of its DBName. */
  const dataOf = (instance: DBInstance): InstanceData | null => {
    const own = instances.get(hostOf(instance));
    if (own) return own;
    if (!instance.DBName) return null;
    return { server: serverOf(instance, postgres, restoredPostgres), database: instance.DBName, dbName: instance.DBName };
  };

  const readOnlySetting = (parameters: URLSearchParams): 'on' | 'off' | 'reset' | null => {
    if (parameters.get('ResetAllParameters') === 'true') return 'reset';
    for (const [key, name] of parameters) {
      // Parameters.Parameter.<n>.ParameterName, the query protocol's list of Parameter.
      if (!key.endsWith('.ParameterName') || name !== 'default_transaction_read_only') continue;
      if (parameters.get('Action') === 'ResetDBParameterGroup') return 'reset';
      const value = parameters.get(key.replace(/ParameterName$/, 'ParameterValue'));
      return value === '1' || value === 'on' || value === 'true' ? 'on' : 'off';
    }
    return null;
  };

  const captureSnapshot = async (parameters: URLSearchParams, region: string) => {
    const instanceId = parameters.get('DBInstanceIdentifier');
    const snapshotId = parameters.get('DBSnapshotIdentifier');
    if (!instanceId || !snapshotId) return;
    const instance = await describe(region, instanceId);
    const data = instance ? dataOf(instance) : null;
    if (!data || !(await holdsData(data.server, data.database))) return;
    const database = `rds_snapshot_${++copies}`;
    await copyDatabase(data.server, data.database, database);
    snapshots.set(`${region}/${snapshotId}`, { server: data.server, database, dbName: data.dbName });
  };

  const restoreFromSnapshot = async (parameters: URLSearchParams, region: string) => {
    const snapshot = parameters.get('DBSnapshotIdentifier');
    const instanceId = parameters.get('DBInstanceIdentifier');
    const data = snapshot ? snapshots.get(snapshotKey(snapshot, region)) : undefined;
    if (!data || !instanceId) return;
    const host = hostOf(await describe(region, instanceId));
    if (!host) return;
    const database = `rds_instance_${++copies}`;
    await copyDatabase(data.server, data.database, database);
    const proxy = await startDatabaseProxy({ host: data.server.host, port: data.server.port }, data.dbName, database);
    await instances.get(host)?.proxy.stop();
    instances.set(host, { server: data.server, database, dbName: data.dbName, proxy });
  };

  const applyReadOnly = async (parameters: URLSearchParams, region: string) => {
    const setting = readOnlySetting(parameters);
    const group = parameters.get('DBParameterGroupName');
    if (!setting || !group) return;
    const rds = client(region);
    try {
      for await (const page of paginateDescribeDBInstances({ client: rds }, {})) {
        for (const instance of page.DBInstances ?? []) {
          if (!instance.DBParameterGroups?.some((g) => g.DBParameterGroupName === group)) continue;
          const data = dataOf(instance);
          if (!data) continue;
          const database = quote(data.database);
          await data.server.execute(
            setting === 'on' ? `ALTER DATABASE ${database} SET default_transaction_read_only = on` : `ALTER DATABASE ${database} RESET default_transaction_read_only`,
          );
        }
      }
    } finally {
      rds.destroy();
    }
  };

  const observe = async (action: string, parameters: URLSearchParams, region: string): Promise<void> => {
    switch (action) {
      case 'CreateDBInstance': {
        const name = parameters.get('DBName');
        if (name) await Promise.all([postgres.ensureDatabase(name), restoredPostgres.ensureDatabase(name)]);
        return;
      }
      case 'CreateDBSnapshot':
        return captureSnapshot(parameters, region);
      case 'CopyDBSnapshot': {
        const source = parameters.get('SourceDBSnapshotIdentifier');
        const target = parameters.get('TargetDBSnapshotIdentifier');
        const data = source ? snapshots.get(snapshotKey(source, region)) : undefined;
        if (data && target) snapshots.set(`${region}/${target}`, data);
        return;
      }
      case 'RestoreDBInstanceFromDBSnapshot':
        return restoreFromSnapshot(parameters, region);
      case 'ModifyDBParameterGroup':
      case 'ResetDBParameterGroup':
        return applyReadOnly(parameters, region);
      default:
        return;
    }
  };

  const snapshotData: SnapshotData & { hosts(): string[] } = {
    snapshot: (region, id) => snapshots.get(`${region}/${id}`),
    instance: (host) => instances.get(host.toLowerCase()),
    route: (host) => instances.get(host.toLowerCase())?.proxy.target ?? null,
    hosts: () => [...instances.keys()],
    async stop() {
      await Promise.all([...instances.values()].map((i) => i.proxy.stop()));
      instances.clear();
    },
  };
  return { observe, snapshotData };
}
