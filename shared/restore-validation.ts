// The restore test's proof: connect to the scratch instance, run the validation query, and measure
// the restore against the database objectives. Separate from restore-test.ts so that only the one
// function that opens database connections bundles the PostgreSQL driver.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DatabaseConfig, DeploymentConfig } from './config.js';
import { findObjective } from './config.js';
import { runValidationQuery, type QueryResult } from './database.js';
import { evaluateObjective, minutesBetween, type ObjectiveResult } from './objectives.js';
import type { Check } from './report.js';
import type { ScratchRestore } from './restore-test.js';
import { fetchDatabaseCredentials } from './secrets.js';

export interface ValidationOutcome {
  query: QueryResult;
  checks: Check[];
  objectives: ObjectiveResult[];
}

export async function validateScratchInstance(
  config: DeploymentConfig,
  database: DatabaseConfig,
  restore: ScratchRestore,
  endpoint: { host: string; port: number },
  secrets: SecretsManagerClient,
  now: () => Date,
): Promise<ValidationOutcome> {
  // The scratch instance is restored from a snapshot, so it has the source's users and passwords.
  const credentials = await fetchDatabaseCredentials(secrets, database.credentialsSecret);
  const query = await runValidationQuery(
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
    query,
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
