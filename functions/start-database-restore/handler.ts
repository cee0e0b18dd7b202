// Starts the restore to a new instance named after the incident, the recovery's first change, right
// after AssessDatabase chose the restore point (the API is stopped and the damaged database made
// read-only while RDS restores); returns at once (the state machine waits). Re-running the same
// incident adopts the instance instead of restoring twice.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { startDatabaseRestore } from '../../shared/database-recovery.js';
import type { RestorePoint } from '../../shared/restore-point.js';
import { type RestoreSetting } from '../../shared/restore-settings.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface StartRestoreEvent {
  run: RunContext;
  incidentId: string;
  restorePoint: RestorePoint;
  /** Resolved by AssessDatabase: config, else the source instance (each says which). */
  restoreSettings: RestoreSetting[];
}

export const handler = recoveryHandler(async (event: StartRestoreEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'StartDatabaseRestore');
  return runStep(() =>
    startDatabaseRestore(
      config,
      database,
      event.restorePoint,
      event.restoreSettings ?? [],
      event.incidentId,
      event.run.executionId,
      event.run.dryRun,
      rdsClient(config.primaryRegion),
      new Date(),
      request.sourceInstance,
    ),
  );
});
