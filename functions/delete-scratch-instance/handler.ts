// Always runs at the end of a restore test, also after a failure: deletes this execution's scratch
// instance and refuses any instance it did not create (shared/restore-test.ts).
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { deleteScratchInstance } from '../../shared/restore-test.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface DeleteScratchInstanceEvent {
  run: RunContext;
  database: string;
}

export const handler = recoveryHandler(async (event: DeleteScratchInstanceEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => deleteScratchInstance(event.database, config.recoveryRegion, event.run.executionId, event.run.dryRun, rdsClient(config.recoveryRegion)));
});
