// Stops writes from the application: scales the API on the primary cluster to 0 and remembers, in the
// recovery lock, how many replicas it had (only the first time: a resumed run finds 0 and must not
// remember that).
import { dynamoClient } from '../../shared/clients.js';
import { connectTo } from '../../shared/cluster-ops.js';
import { clusterFor, deploymentConfigFromEnvironment, kubernetesConfig } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { scaleDeployment } from '../../shared/kubernetes.js';
import { databaseLockTarget, rememberReplicas } from '../../shared/recovery-lock.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

const table = requiredEnvironment('RECOVERY_LOCK_TABLE');

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const { namespace, apiDeployment } = kubernetesConfig(config);
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
    const remembered = await rememberReplicas(dynamoClient(config.recoveryRegion), table, databaseLockTarget(request.database), event.run.executionId, scaled.previousReplicas);
    return {
      data: { previousReplicas: remembered, namespace, deployment: apiDeployment },
      resources: [
        { kind: 'kubernetes:deployment', id: `${cluster.name}/${namespace}/${apiDeployment}`, region: cluster.region, kept: true, note: `${remembered} replicas before the recovery` },
      ],
      actions: [{ ...action, performed: scaled.changed }],
      detail: `API scaled to 0; ${remembered} replicas to restore afterwards${scaled.changed ? '' : ' (it was already at 0: count kept from the first attempt)'}`,
    };
  });
});
