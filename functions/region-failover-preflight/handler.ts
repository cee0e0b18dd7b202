// Everything a region failover can check before its first change, in the recovery region: the restore
// source and settings, the restore's network and parameter group, the connection secret, the
// manifests, the DNS records. Read-only.
import { rdsClient, route53Client, s3Client, secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { preflightRegionFailover } from '../../shared/region-failover-preflight.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  const region = config.recoveryRegion;
  const clients = { rds: rdsClient(region), s3: s3Client(region), secrets: secretsClient(region), route53: route53Client() };
  return runStep(() => preflightRegionFailover(config, event.run.incidentAt, clients, new Date()));
});
