// The probe-mode detector (regionFailover.detection.mode probe): every minute, from the recovery region,
// GET the primary API's /health and publish the answer as a metric the RegionFailure alarm watches.
import { cloudWatchClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { probePrimaryApi } from '../../shared/region-probe.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async () => {
  const config = deploymentConfigFromEnvironment();
  return probePrimaryApi(config, cloudWatchClient(config.recoveryRegion), new Date());
});
