// Read-only first look of an emergency rollback: the revision to go back to, fixed once so that a
// retried or redriven rollback cannot go one revision further.
import { clusterFor, connectTo } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { InvalidInput } from '../../shared/errors.js';
import { planRollback } from '../../shared/kubernetes/rollback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface PlanRollbackEvent {
  run: RunContext;
}

export const handler = recoveryHandler(async (event: PlanRollbackEvent) => {
  const target = event.run.rollback;
  if (!target) throw new InvalidInput('run.rollback is missing: this step belongs to emergency-rollback');
  const config = deploymentConfigFromEnvironment();
  const cluster = clusterFor(config, target.cluster);
  return runStep(async () => {
    const plan = await planRollback(await connectTo(config, target.cluster), target.namespace, target.deployment, target.toRevision ?? undefined);
    return {
      data: { ...target, clusterName: cluster.name, ...plan },
      detail: `${target.namespace}/${target.deployment} on ${cluster.name}: revision ${plan.currentRevision ?? '?'} (${plan.currentImages.join(', ')}) -> ${plan.targetRevision} (${plan.targetImages.join(', ')})`,
    };
  });
});
