// Looks at the damaged database (status, size, recent snapshots, restorable window) and chooses the
// restore point, saying why newer candidates were refused and what data the choice loses. Read-only.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { assessDatabase } from '../../shared/database-recovery.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface AssessEvent {
  /** After AcquireRecoveryLock: its incidentAt is the lock's (a resumed run keeps the first run's). */
  run: RunContext;
}

export const handler = recoveryHandler(async (event: AssessEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  // What serves now: after a completed recovery, its restored instance, never the replaced original.
  const database = { ...findDatabase(config, request.database), name: request.sourceInstance };
  const facts = { incidentAt: event.run.incidentAt, snapshot: request.snapshot, restoreTime: request.restoreTime };
  return runStep(() => assessDatabase(config, database, facts, rdsClient(config.primaryRegion), new Date()));
});
