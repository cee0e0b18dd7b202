// Rolls the deployment back to the planned revision (kubectl rollout undo --to-revision semantics).
import { rollBackToPlannedRevision, type PlannedRollback } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface RollBackDeploymentEvent {
  run: RunContext;
  plan: PlannedRollback;
}

export const handler = recoveryHandler(async (event: RollBackDeploymentEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => rollBackToPlannedRevision(config, event.plan, event.run.dryRun));
});
