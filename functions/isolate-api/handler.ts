// Stops writes from the application: scales the API on the primary cluster to 0 and remembers, in the
// recovery lock, how many replicas it had (only the first time: a resumed run finds 0 and must not
// remember that). An API already at 0 with nothing remembered (another database's recovery, or a
// person, stopped it) gets kubernetes.productionReplicas back afterwards, never 0.
import { dynamoClient } from '../../shared/clients.js';
import { connectTo } from '../../shared/cluster-ops.js';
import { clusterFor, deploymentConfigFromEnvironment, kubernetesConfig } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { scaleDeployment } from '../../shared/kubernetes/workloads.js';
import { databaseLockTarget, rememberReplicas } from '../../shared/recovery-lock.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

const table = requiredEnvironment('RECOVERY_LOCK_TABLE');

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const { namespace, apiDeployment, productionReplicas } = kubernetesConfig(config);
  const cluster = clusterFor(config, 'primary');
  return runStep<{ previousReplicas: number | null; namespace: string; deployment: string }>(async () => {
    const action: Action = {
      description: `scale ${namespace}/${apiDeployment} on ${cluster.name} to 0 replicas (stop writes)`,
      service: 'kubernetes',
      operation: 'patch deployments/scale',
      parameters: { cluster: cluster.name, namespace, deployment: apiDeployment, replicas: 0 },
      performed: false,
    };
    if (event.run.dryRun) return { data: { previousReplicas: null, namespace, deployment: apiDeployment }, actions: [action] };
    const scaled = await scaleDeployment(await connectTo(config, 'primary'), namespace, apiDeployment, 0);
    const toRemember = scaled.previousReplicas > 0 ? scaled.previousReplicas : productionReplicas;
    const remembered = await rememberReplicas(dynamoClient(config.recoveryRegion), table, databaseLockTarget(request.database), event.run.executionId, toRemember);
    const why = scaled.changed
      ? ''
      : remembered.fromEarlierAttempt
        ? ' (it was already at 0: count kept from the first attempt)'
        : ' (it was already at 0 with no count remembered: kubernetes.productionReplicas)';
    return {
      data: { previousReplicas: remembered.replicas, namespace, deployment: apiDeployment },
      resources: [
        {
          kind: 'kubernetes:deployment',
          id: `${cluster.name}/${namespace}/${apiDeployment}`,
          region: cluster.region,
          kept: true,
          note: scaled.changed || remembered.fromEarlierAttempt ? `${remembered.replicas} replicas before the recovery` : `at 0 replicas before the recovery; ${remembered.replicas} to restore`,
        },
      ],
      actions: [{ ...action, performed: scaled.changed }],
      detail: `API scaled to 0; ${remembered.replicas} replicas to restore afterwards${why}`,
    };
  });
});
