// The recovery region's health gates before DNS moves: the recovery cluster's API /health, the restored
// database's SELECT 1, the recovery region's Redis PING. Runs inside the recovery VPC.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { checkRecoveryRegion } from '../../shared/region-failover-health.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface RegionHealthEvent {
  run: RunContext;
  /** The restored instance's endpoint (CheckRegionRestore); null in a dry run. */
  endpoint: { host: string; port: number } | null;
}

export const handler = recoveryHandler(async (event: RegionHealthEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => checkRecoveryRegion(config, event.endpoint ?? null, secretsClient(config.recoveryRegion)));
});
