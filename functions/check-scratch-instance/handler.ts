// One look at the scratch instance per loop of the state machine's Wait/Choice: never sleeps.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { checkScratchInstance, type ScratchRestore } from '../../shared/restore-test.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CheckScratchInstanceEvent {
  run: RunContext;
  database: string;
  restore: ScratchRestore;
}

export const handler = recoveryHandler(async (event: CheckScratchInstanceEvent) => {
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, event.database);
  return runStep(() => checkScratchInstance(event.restore, database, event.run.executionId, rdsClient(config.recoveryRegion), new Date()));
});
