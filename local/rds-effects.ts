// What RDS does to the database itself that moto only records, shown to the embedded PostgreSQL servers
// standing in for the instances; and which server each RDS endpoint reaches (see environment.ts).
import { paginateDescribeDBInstances, RDSClient, type DBInstance } from '@aws-sdk/client-rds';
import { RESTORED_INSTANCE_HOST } from '../shared/names.js';
import type { DatabaseRoute } from './endpoint-map.js';
import { EMULATOR_CREDENTIALS } from './emulator-clients.js';
import type { LocalPostgres } from './postgres.js';

/**
 * Where this environment sends RDS endpoints: a recovery's restored instances to `restoredPostgres`,
 * every other one to `postgres`. (Also for processes of its own, e.g. the bench's child processes.)
 */
export function databaseRoutes(servers: { postgres: LocalPostgres; restoredPostgres: LocalPostgres }): DatabaseRoute[] {
  return [
    { host: RESTORED_INSTANCE_HOST, target: { host: servers.restoredPostgres.host, port: servers.restoredPostgres.port } },
    { host: /./, target: { host: servers.postgres.host, port: servers.postgres.port } },
  ];
}

/** The PostgreSQL server an emulated instance's endpoint is mapped to (as mapDatabaseEndpoints does). */
function serverOf(instance: DBInstance, postgres: LocalPostgres, restoredPostgres: LocalPostgres): LocalPostgres {
  return RESTORED_INSTANCE_HOST.test(instance.Endpoint?.Address ?? '') ? restoredPostgres : postgres;
}

/**
 * What RDS does beyond its records that the recovery relies on: an instance's database exists, and a
 * parameter group's default_transaction_read_only applies to the instances that use the group.
 */
export function emulateRdsEffects(motoEndpoint: string, postgres: LocalPostgres, restoredPostgres: LocalPostgres) {
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
  return async (action: string, parameters: URLSearchParams, region: string): Promise<void> => {
    if (action === 'CreateDBInstance') {
      const name = parameters.get('DBName');
      if (name) await Promise.all([postgres.ensureDatabase(name), restoredPostgres.ensureDatabase(name)]);
      return;
    }
    if (action !== 'ModifyDBParameterGroup' && action !== 'ResetDBParameterGroup') return;
    const setting = readOnlySetting(parameters);
    const group = parameters.get('DBParameterGroupName');
    if (!setting || !group) return;
    const rds = new RDSClient({ region, endpoint: motoEndpoint, credentials: EMULATOR_CREDENTIALS });
    for await (const page of paginateDescribeDBInstances({ client: rds }, {})) {
      for (const instance of page.DBInstances ?? []) {
        if (!instance.DBName || !instance.DBParameterGroups?.some((g) => g.DBParameterGroupName === group)) continue;
        const server = serverOf(instance, postgres, restoredPostgres);
        const database = `"${instance.DBName.replaceAll('"', '""')}"`;
        await server.execute(
          setting === 'on' ? `ALTER DATABASE ${database} SET default_transaction_read_only = on` : `ALTER DATABASE ${database} RESET default_transaction_read_only`,
        );
      }
    }
  };
}

