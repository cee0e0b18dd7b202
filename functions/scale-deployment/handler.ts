// Scales the API deployment on a cluster and records the replica count it had, for failback. Shared by
// two states: ScaleApiOnBackup (cluster-failover) and RestoreApiReplicas (database-recovery).
import { scaleApi, type ClusterRole } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface ScaleDeploymentEvent {
  run: RunContext;
  cluster: ClusterRole;
  replicas: number;
}

export const handler = recoveryHandler(async (event: ScaleDeploymentEvent) => {
  const config = deploymentConfigFromEnvironment();
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, event.cluster === 'backup' ? 'ScaleApiOnBackup' : 'RestoreApiReplicas');
  return runStep(() => scaleApi(config, event.cluster, event.replicas, event.run.dryRun));
});
