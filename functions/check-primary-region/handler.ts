// Region failback: does the primary region answer again (RDS, EKS)? Read-only; a clear named failure
// otherwise, before anything changes.
import { eksClient, rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { checkPrimaryRegionBack } from '../../shared/failback-primary-check.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async () => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => checkPrimaryRegionBack(config, { rds: rdsClient(config.primaryRegion), eks: eksClient(config.primaryRegion) }));
});
