// The restore test's proof: connect to the scratch instance, run the validation query, and measure
// the restore against the database objectives. Separate from restore-test.ts so that only the one
// function that opens database connections bundles the PostgreSQL driver.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DatabaseConfig, DeploymentConfig } from './config.js';
import { findObjective } from './config.js';
import { runValidationQuery, type QueryResult } from './database.js';
import { InvalidInput } from './errors.js';
import { evaluateObjective, minutesBetween } from './objectives.js';
import type { ScratchRestore, ScratchStatus } from './restore-test.js';
import { fetchDatabaseCredentials } from './secrets.js';
import type { StepResult } from './steps.js';

export interface ValidationDependencies {
  /** Secrets Manager in the recovery region, for the database credentials. */
  secrets: SecretsManagerClient;
  /** Runs the query (database.ts runValidationQuery); replaced in tests. */
  query?: typeof runValidationQuery;
}

/**
 * ValidateScratchInstance: the restore test's proof. Reads the database credentials (never passed
 * through Step Functions), connects to the scratch instance at `status.endpoint`, runs
 * database.restoreTest.validationQuery, and measures the restore against the database objective:
 * RTO = `restore.restoreStartedAt` to the answer, RPO = the copy's age when the restore started (minutes).
 *
 * Result: `data` the query's answer (rows, first value, elapsedMs); `checks` restore-test-query and
 * restore-test-duration (with the RestoreTestDuration metric, seconds); `objectives` the database's.
 *
 * AWS: secretsmanager:GetSecretValue (AWSCURRENT). Throws InvalidInput (the instance has no endpoint:
 * nothing is read or connected), ValidationFailed (cannot connect, the query fails or returns no row),
 * InvalidConfig (a secret without username/password), ResourceNotFound, AwsAccessDenied,
 * AwsTransientError (throttling, 5xx, timeouts of Secrets Manager).
 *
 * @param status The last CheckScratchInstance answer; its endpoint is set once the instance is available.
 * @param now The clock that stops the RTO measurement.
 */
export async function validateScratchInstance(
  config: DeploymentConfig,
  database: DatabaseConfig,
  restore: ScratchRestore,
  status: Pick<ScratchStatus, 'endpoint'>,
  deps: ValidationDependencies,
  now: () => Date,
): Promise<StepResult<QueryResult>> {
  const endpoint = status.endpoint;
  if (!endpoint) throw new InvalidInput(`status.endpoint: scratch instance ${restore.instanceId} has no endpoint yet; expected an available instance`);
  // The scratch instance is restored from a snapshot, so it has the source's users and passwords.
  const credentials = await fetchDatabaseCredentials(deps.secrets, database.credentialsSecret);
  const query = await (deps.query ?? runValidationQuery)(
    { host: endpoint.host, port: endpoint.port, databaseName: database.databaseName, tls: database.tls },
    credentials,
    database.restoreTest.validationQuery,
  );
  const finished = now();
  const restoreMinutes = minutesBetween(restore.restoreStartedAt, finished);
  const snapshotAgeMinutes = minutesBetween(restore.snapshot.createdAt, restore.restoreStartedAt);
  const objective = findObjective(config, database.component);
  const resource = `${restore.instanceId} (${restore.region})`;
  return {
    data: query,
    detail: `validation query answered in ${query.elapsedMs} ms`,
    checks: [
      {
        name: 'restore-test-query',
        resource,
        measured: `${query.rows} row(s), first value ${query.firstValue ?? 'null'}, ${query.elapsedMs} ms`,
        target: `"${database.restoreTest.validationQuery}" returns a row`,
        passed: true,
        message: `Snapshot ${restore.snapshot.id} restored and answered the validation query.`,
      },
      {
        name: 'restore-test-duration',
        resource,
        measured: `${restoreMinutes.toFixed(1)} min`,
        target: `<= ${objective.rtoMinutes} min (RTO)`,
        passed: restoreMinutes <= objective.rtoMinutes,
        metric: { name: 'RestoreTestDuration', unit: 'Seconds', value: Math.round(restoreMinutes * 60) },
        message:
          restoreMinutes <= objective.rtoMinutes
            ? `Restore to a queryable instance took ${restoreMinutes.toFixed(1)} min.`
            : `Restore took ${restoreMinutes.toFixed(1)} min, over the ${objective.rtoMinutes}-minute RTO before any other recovery step: consider a larger instance class, fewer/larger snapshots, or a warm standby.`,
      },
    ],
    objectives: [
      evaluateObjective(
        objective,
        { rtoMinutes: restoreMinutes, rpoMinutes: snapshotAgeMinutes },
        `${database.name}: restore of the newest ${restore.region} copy (RTO = restore to first query; RPO = copy age when the restore started)`,
      ),
    ],
  };
}
