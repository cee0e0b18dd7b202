// Read-only through the damaged instance's own parameter group (readOnlyMode: parameter-group); skipped
// in alter-database mode. Kept apart from the step that connects to the database so that neither
// bundle carries both RDS and the driver. Its answer (`mode`) tells SetDatabaseReadOnly how writes are
// stopped: shared/database-recovery.ts says when it falls back to ALTER DATABASE.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { stopWritesWithParameterGroup } from '../../shared/database-recovery.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface SetReadOnlyParameterEvent {
  run: RunContext;
  /** The damaged instance's own parameter group, from AssessDatabase. */
  sourceParameterGroup: string | null;
}

export const handler = recoveryHandler(async (event: SetReadOnlyParameterEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'SetReadOnlyParameter');
  return runStep(() => stopWritesWithParameterGroup(database, event.sourceParameterGroup, event.run.dryRun, rdsClient(config.primaryRegion), config.primaryRegion));
});
