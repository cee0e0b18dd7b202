// Starts restoring the newest recovery-region snapshot copy to a scratch instance named after the
// execution. Returns at once; the state machine waits for `available`.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { startScratchRestore } from '../../shared/restore-test.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface StartScratchRestoreEvent {
  run: RunContext;
  database: string;
}

export const handler = recoveryHandler(async (event: StartScratchRestoreEvent) => {
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, event.database);
  return runStep(() => startScratchRestore(config, database, event.run.executionId, event.run.dryRun, rdsClient(config.recoveryRegion), new Date()));
});
