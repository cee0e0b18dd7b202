// Read-only mode on the damaged instance (the plan's ALTER SYSTEM is refused on RDS): ALTER DATABASE
// (or the parameter group, when the previous step could set it), ending the other sessions, then a
// write that must fail. It connects to the damaged instance's own endpoint (from the assessment),
// never to where the connection secret points: after a repoint that is the restored instance, which
// must stay writable. A database that does not answer is recorded, not fatal: nothing can write to it
// either; one that answers and refuses is a failed check.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import type { ReadOnlyMode } from '../../shared/database-recovery.js';
import { enableReadOnlyMode, refusalSqlState } from '../../shared/read-only.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { fetchDatabaseCredentials } from '../../shared/secrets.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface SetReadOnlyEvent {
  run: RunContext;
  /** The damaged instance's endpoint, from AssessDatabase; null when it has none (e.g. it is stopped). */
  sourceEndpoint: { host: string; port: number } | null;
  /** How SetReadOnlyParameter said writes are stopped: it falls back to alter-database when the group cannot be used. */
  mode: ReadOnlyMode;
}

export const handler = recoveryHandler(async (event: SetReadOnlyEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  const mode = event.mode;
  return runStep<{ mode: string; applied: boolean; writeRefused: boolean | null; sizeBytes: number | null; terminatedSessions: number }>(async () => {
    const byParameterGroup = mode === 'parameter-group';
    const notApplied = { mode, applied: false, writeRefused: null, sizeBytes: null, terminatedSessions: 0 };
    const action: Action = {
      description: byParameterGroup
        ? `end the other sessions of ${database.databaseName} (the parameter group makes new ones read-only)`
        : `ALTER DATABASE ${database.databaseName} SET default_transaction_read_only = on; end the other sessions`,
      service: 'postgresql',
      operation: byParameterGroup ? 'pg_terminate_backend' : 'ALTER DATABASE',
      parameters: { database: database.databaseName, instance: database.name },
      performed: false,
    };
    if (event.run.dryRun) return { data: notApplied, actions: [action] };
    if (!event.sourceEndpoint) {
      return {
        data: notApplied,
        actions: [action],
        detail: `${database.name} has no endpoint (not running): it takes no writes; read-only mode not applied`,
      };
    }
    const credentials = await fetchDatabaseCredentials(secretsClient(config.recoveryRegion), database.credentialsSecret);
    const target = { ...event.sourceEndpoint, databaseName: database.databaseName, tls: database.tls };
    try {
      const outcome = await enableReadOnlyMode(target, credentials, { alterDatabase: !byParameterGroup, timeoutMs: config.health.timeoutSeconds * 1000 });
      return {
        data: { mode, applied: true, ...outcome },
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
        detail: `${outcome.writeRefused ? 'a test write was refused' : 'WARNING: a test write was NOT refused'}; ${outcome.terminatedSessions} other sessions ended${outcome.sizeBytes === null ? '' : `; database size ${(outcome.sizeBytes / 1e6).toFixed(1)} MB`}`,
      };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const refusal = refusalSqlState(error);
      if (refusal) {
        // It is up and refused us: writers other than the API may still reach it. The recovery goes on
        // (the API is stopped and the restore does not depend on it), and on-call is told.
        return {
          data: notApplied,
          actions: [action],
          checks: [
            {
              name: 'read-only-mode',
              resource: `${database.name} (${config.primaryRegion})`,
              measured: `refused (SQLSTATE ${refusal})`,
              target: 'writes refused',
              passed: false,
              message: `${database.name} answered but could not be made read-only: ${reason}. Writers other than the API may still change it: check the recovery user's rights and stop them by hand.`,
            },
          ],
          detail: `WARNING: read-only mode not set, the database refused (${reason})`,
        };
      }
      return {
        data: notApplied,
        actions: [action],
        detail: `the database did not answer (${reason}): read-only mode not verified; it takes no writes while it is down`,
      };
    }
  });
});
