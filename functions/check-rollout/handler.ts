// One look at a rollout per loop of the state machine's Wait/Choice; gives up past the configured limit.
import { checkRolloutProgress, type ClusterRole } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { RolloutProgress } from '../../shared/kubernetes/progress.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CheckRolloutEvent {
  run: RunContext;
  cluster: ClusterRole;
  namespace: string;
  deployment: string;
  /** When the change that started the rollout was made. */
  since: string;
  /** Emergency rollback only: the rollback step's result (its `replicaSet` is the rollout waited for). */
  rollback?: { replicaSet?: string };
  /** The previous look's `data.progress`, or the clock the state machine started at the scale or rollback. */
  progress?: RolloutProgress;
}

export const handler = recoveryHandler(async (event: CheckRolloutEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => checkRolloutProgress(config, event.cluster, event.namespace, event.deployment, event.since, new Date(), event.rollback, event.progress));
});
