// Read-only mode on the damaged instance (the plan's ALTER SYSTEM is refused on RDS): ALTER DATABASE
// (or the parameter group, set by the previous step), ending the other sessions, then a write that
// must fail. It connects where the connection secret points: the damaged instance, until the recovery
// repoints it. A database that does not answer is recorded, not fatal: nothing can write to it either.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { recoveryConfig } from '../../shared/database-recovery.js';
import { InvalidConfig } from '../../shared/errors.js';
import { enableReadOnlyMode } from '../../shared/read-only.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { fetchDatabaseCredentials } from '../../shared/secrets.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  const recovery = recoveryConfig(database);
  return runStep<{ mode: string; applied: boolean; writeRefused: boolean | null; sizeBytes: number | null; terminatedSessions: number }>(async () => {
    const byParameterGroup = recovery.readOnlyMode === 'parameter-group';
    const action: Action = {
      description: byParameterGroup
        ? `end the other sessions of ${database.databaseName} (the parameter group makes new ones read-only)`
        : `ALTER DATABASE ${database.databaseName} SET default_transaction_read_only = on; end the other sessions`,
      service: 'postgresql',
      operation: byParameterGroup ? 'pg_terminate_backend' : 'ALTER DATABASE',
      parameters: { database: database.databaseName, instance: database.name },
      performed: false,
    };
    if (event.run.dryRun) return { data: { mode: recovery.readOnlyMode, applied: false, writeRefused: null, sizeBytes: null, terminatedSessions: 0 }, actions: [action] };
    const credentials = await fetchDatabaseCredentials(secretsClient(config.recoveryRegion), database.credentialsSecret);
    if (!credentials.host) throw new InvalidConfig(`secret ${database.credentialsSecret} has no host field: cannot tell which instance to make read-only`);
    const target = { host: credentials.host, port: credentials.port ?? database.port, databaseName: database.databaseName, tls: database.tls };
    try {
      const outcome = await enableReadOnlyMode(target, credentials, { alterDatabase: !byParameterGroup, timeoutMs: config.health.timeoutSeconds * 1000 });
      return {
        data: { mode: recovery.readOnlyMode, applied: true, ...outcome },
        actions: [{ ...action, performed: true }],
        checks: [
          {
            name: 'read-only-mode',
            resource: `${database.name} (${config.primaryRegion})`,
            measured: outcome.writeRefused ? 'test write refused (25006)' : 'test write accepted',
            target: 'writes refused',
            passed: outcome.writeRefused,
            message: outcome.writeRefused
              ? 'New sessions are read-only and the open ones were ended.'
              : 'A new session could still write: check that the recovery user may ALTER DATABASE, or use readOnlyMode: parameter-group.',
          },
        ],
        detail: `${outcome.writeRefused ? 'a test write was refused' : 'WARNING: a test write was NOT refused'}; ${outcome.terminatedSessions} other sessions ended`,
      };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        data: { mode: recovery.readOnlyMode, applied: false, writeRefused: null, sizeBytes: null, terminatedSessions: 0 },
        actions: [action],
        detail: `the database did not answer (${reason}): read-only mode not verified; it takes no writes while it is down`,
      };
    }
  });
});
