// Looks at the damaged database (status, size, recent snapshots, restorable window) and chooses the
// restore point, saying why newer candidates were refused and what data the choice loses. Read-only.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { assessDatabase } from '../../shared/database-recovery.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface AssessEvent {
  run: RunContext;
  /** The incident this recovery is for, from the lock (a resumed run keeps the first run's). */
  incidentAt: string;
}

export const handler = recoveryHandler(async (event: AssessEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  const facts = { incidentAt: event.incidentAt, snapshot: request.snapshot, restoreTime: request.restoreTime };
  return runStep(() => assessDatabase(config, database, facts, rdsClient(config.primaryRegion), new Date()));
});
