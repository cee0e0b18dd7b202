// The database's part of what a region failover checks before its first change, in the recovery
// region: the restore source and settings, the restore's network and parameter group, the connection
// secret. Read-only.
import { rdsClient, secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { preflightRegionFailover } from '../../shared/region-failover-preflight.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  const region = config.recoveryRegion;
  const clients = { rds: rdsClient(region), secrets: secretsClient(region) };
  return runStep(() => preflightRegionFailover(config, event.run.incidentAt, clients, new Date()));
});
