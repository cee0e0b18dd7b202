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
  /**
   * Region failover's CheckManifests, before its first change: read and parse the manifests and list
   * what would be applied, as a dry run does (no cluster is contacted).
   */
  preflight?: boolean;
}

export const handler = recoveryHandler(async (event: ApplyManifestsEvent) => {
  const config = deploymentConfigFromEnvironment();
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'ApplyManifestsToBackup');
  return runStep(() => applyProductionManifests(config, event.cluster, event.run.dryRun || event.preflight === true, s3Client(config.recoveryRegion)));
});
