// Rolls the deployment back to the planned revision (kubectl rollout undo --to-revision semantics).
import { clusterFor, connectTo, type ClusterRole } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { rollbackDeployment } from '../../shared/kubernetes/rollback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface RollBackDeploymentEvent {
  run: RunContext;
  plan: { cluster: ClusterRole; namespace: string; deployment: string; targetRevision: number; currentRevision: number | null };
}

export const handler = recoveryHandler(async (event: RollBackDeploymentEvent) => {
  const config = deploymentConfigFromEnvironment();
  const { plan } = event;
  const cluster = clusterFor(config, plan.cluster);
  return runStep(async () => {
    const action: Action = {
      description: `roll back ${plan.namespace}/${plan.deployment} on ${cluster.name} from revision ${plan.currentRevision ?? '?'} to ${plan.targetRevision}`,
      service: 'kubernetes',
      operation: 'patch deployments (rollout undo)',
      parameters: { cluster: cluster.name, namespace: plan.namespace, deployment: plan.deployment, toRevision: plan.targetRevision },
      performed: false,
    };
    if (event.run.dryRun) return { data: { changed: false, plannedRevision: plan.targetRevision }, actions: [action] };
    const result = await rollbackDeployment(await connectTo(config, plan.cluster), plan.namespace, plan.deployment, plan.targetRevision);
    // The controller re-numbers the rolled-back ReplicaSet as the newest revision, so the number it
    // has now differs from the planned one; the report gives both.
    const renumbered = result.toRevision !== plan.targetRevision ? ` (now numbered ${result.toRevision})` : '';
    if (!result.changed) {
      return {
        data: { ...result, plannedRevision: plan.targetRevision },
        actions: [{ ...action, description: `${action.description}: no change needed, it already runs that template (an earlier attempt of this step, or it was never rolled forward)` }],
        detail: `already running planned revision ${plan.targetRevision}${renumbered}: ${result.images.join(', ')}`,
      };
    }
    return {
      data: { ...result, plannedRevision: plan.targetRevision },
      actions: [{ ...action, performed: true }],
      detail: `rolled back to planned revision ${plan.targetRevision}${renumbered}: now running ${result.images.join(', ')}`,
    };
  });
});
