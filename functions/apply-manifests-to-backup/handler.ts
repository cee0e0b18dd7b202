// Applies the production manifests (read from the recovery region's bucket) to a cluster with
// server-side apply: safe to repeat, and a dry run lists every object it would apply.
import { s3Client } from '../../shared/clients.js';
import { applyProductionManifests, type ClusterRole } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface ApplyManifestsEvent {
  run: RunContext;
  cluster: ClusterRole;
}

export const handler = recoveryHandler(async (event: ApplyManifestsEvent) => {
  const config = deploymentConfigFromEnvironment();
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'ApplyManifestsToBackup');
  return runStep(() => applyProductionManifests(config, event.cluster, event.run.dryRun, s3Client(config.recoveryRegion)));
});
