// Read-only first look of an emergency rollback: the revision to go back to, fixed once so that a
// retried or redriven rollback cannot go one revision further.
import { planEmergencyRollback } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => planEmergencyRollback(config, event.run));
});
