// What the DNS move needs, checked before a region failover's first change: the records in Route 53.
// Read-only.
import { route53Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { preflightRegionTraffic } from '../../shared/region-traffic-preflight.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async () => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => preflightRegionTraffic(config, { route53: route53Client() }));
});
