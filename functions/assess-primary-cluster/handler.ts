// Is this cluster serving? API reachable and at least half the nodes Ready. Read-only; an unreachable
// cluster is an answer, not a failure.
import { assessClusterForFailover, type ClusterRole } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface AssessClusterEvent {
  run: RunContext;
  cluster: ClusterRole;
}

export const handler = recoveryHandler(async (event: AssessClusterEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => assessClusterForFailover(config, event.cluster, config.health.timeoutSeconds * 1000));
});
