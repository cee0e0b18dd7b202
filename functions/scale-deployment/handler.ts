// Scales the API deployment on a cluster and records the replica count it had, for failback.
import { clusterFor, connectTo, kubernetesConfig, type ClusterRole } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { InvalidInput } from '../../shared/errors.js';
import { scaleDeployment } from '../../shared/kubernetes/workloads.js';
import type { RunContext } from '../../shared/run.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface ScaleDeploymentEvent {
  run: RunContext;
  cluster: ClusterRole;
  replicas: number;
}

export const handler = recoveryHandler(async (event: ScaleDeploymentEvent) => {
  if (!Number.isInteger(event.replicas) || event.replicas < 0) throw new InvalidInput(`replicas: got ${JSON.stringify(event.replicas)}; expected a whole number >= 0`);
  const config = deploymentConfigFromEnvironment();
  const { namespace, apiDeployment } = kubernetesConfig(config);
  const cluster = clusterFor(config, event.cluster);
  return runStep<{ namespace: string; deployment: string; previousReplicas: number | null; replicas: number; changed?: boolean }>(async () => {
    const action: Action = {
      description: `scale ${namespace}/${apiDeployment} on ${cluster.name} to ${event.replicas} replicas`,
      service: 'kubernetes',
      operation: 'patch deployments/scale',
      parameters: { cluster: cluster.name, namespace, deployment: apiDeployment, replicas: event.replicas },
      performed: false,
    };
    if (event.run.dryRun) return { data: { namespace, deployment: apiDeployment, previousReplicas: null, replicas: event.replicas }, actions: [action] };
    const result = await scaleDeployment(await connectTo(config, event.cluster), namespace, apiDeployment, event.replicas);
    return {
      data: { namespace, deployment: apiDeployment, ...result },
      actions: [{ ...action, performed: result.changed }],
      detail: result.changed ? `scaled from ${result.previousReplicas} to ${result.replicas} (previous count kept for failback)` : `already at ${result.replicas} replicas`,
    };
  });
});
