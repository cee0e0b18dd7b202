// Read-only mode on the damaged instance (the plan's ALTER SYSTEM is refused on RDS): ALTER DATABASE
// plus ending the other sessions, or the instance's parameter group, then a write that must fail.
// A database that does not answer is recorded, not fatal: nothing can write to it either.
import { rdsClient, secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { describeInstance } from '../../shared/backups.js';
import { recoveryConfig, setReadOnlyParameter } from '../../shared/database-recovery.js';
import { InvalidInput } from '../../shared/errors.js';
import { enableReadOnlyMode } from '../../shared/read-only.js';
import type { RunContext } from '../../shared/run.js';
import { fetchDatabaseCredentials } from '../../shared/secrets.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const request = event.run.recovery;
  if (!request) throw new InvalidInput('run.recovery is missing: this step belongs to database-recovery');
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  const recovery = recoveryConfig(database);
  return runStep<{ mode: string; applied: boolean; writeRefused: boolean | null; sizeBytes: number | null; terminatedSessions: number }>(async () => {
    const byParameterGroup = recovery.readOnlyMode === 'parameter-group';
    const action: Action = byParameterGroup
      ? {
          description: `set default_transaction_read_only=1 in parameter group ${recovery.parameterGroup ?? '(none configured)'}`,
          service: 'rds',
          operation: 'ModifyDBParameterGroup',
          parameters: { DBParameterGroupName: recovery.parameterGroup, Parameters: [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1', ApplyMethod: 'immediate' }] },
          performed: false,
        }
      : {
          description: `ALTER DATABASE ${database.databaseName} SET default_transaction_read_only = on; end the other sessions`,
          service: 'postgresql',
          operation: 'ALTER DATABASE',
          parameters: { database: database.databaseName, instance: database.name },
          performed: false,
        };
    if (event.run.dryRun) return { data: { mode: recovery.readOnlyMode, applied: false, writeRefused: null, sizeBytes: null, terminatedSessions: 0 }, actions: [action] };
    if (byParameterGroup) {
      if (!recovery.parameterGroup) throw new InvalidInput(`databases.${database.name}.recovery.readOnlyMode is parameter-group but no parameterGroup is configured`);
      await setReadOnlyParameter(rdsClient(config.primaryRegion), config.primaryRegion, recovery.parameterGroup);
    }
    const instance = await describeInstance(rdsClient(config.primaryRegion), config.primaryRegion, database.name);
    const credentials = await fetchDatabaseCredentials(secretsClient(config.recoveryRegion), database.credentialsSecret);
    const target = { host: instance.Endpoint?.Address ?? '', port: instance.Endpoint?.Port ?? database.port, databaseName: database.databaseName, tls: database.tls };
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
        data: { mode: recovery.readOnlyMode, applied: byParameterGroup, writeRefused: null, sizeBytes: null, terminatedSessions: 0 },
        actions: [{ ...action, performed: byParameterGroup }],
        detail: `the database did not answer (${reason}): read-only mode not verified; it takes no writes while it is down`,
      };
    }
  });
});
