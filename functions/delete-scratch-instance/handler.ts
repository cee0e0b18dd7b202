// Always runs at the end of a restore test, also after a failure: deletes this execution's scratch
// instance and refuses any instance it did not create.
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
  return runStep(async () => {
    const result = await deleteScratchInstance(event.database, config.recoveryRegion, event.run.executionId, event.run.dryRun, rdsClient(config.recoveryRegion));
    const deleted = result.outcome === 'deleted' || result.outcome === 'already-deleting';
    return {
      data: result,
      actions: result.action ? [result.action] : [],
      resources: deleted
        ? [{ kind: 'rds:db-instance', id: result.instanceId, region: config.recoveryRegion, kept: false, note: `scratch instance ${result.outcome}` }]
        : [],
      detail: `scratch instance ${result.instanceId}: ${result.outcome}`,
    };
  });
});
