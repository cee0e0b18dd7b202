// Is this cluster serving? API reachable and at least half the nodes Ready. Read-only; an unreachable
// cluster is an answer, not a failure.
import { clusterFor, assessClusterHealth, type ClusterRole } from '../../shared/cluster-ops.js';
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
  const cluster = clusterFor(config, event.cluster);
  return runStep(async () => {
    const assessment = await assessClusterHealth(config, event.cluster, config.health.timeoutSeconds * 1000);
    return {
      data: { cluster: cluster.name, role: event.cluster, ...assessment },
      checks: [
        {
          name: `${event.cluster}-cluster-health`,
          resource: `${cluster.name} (${cluster.region})`,
          measured: assessment.reachable ? `${assessment.readyNodes} of ${assessment.nodes} nodes Ready` : 'unreachable',
          target: 'API reachable, at least half the nodes Ready',
          passed: assessment.healthy,
          message: assessment.reason,
        },
      ],
      detail: assessment.reason,
    };
  });
});
