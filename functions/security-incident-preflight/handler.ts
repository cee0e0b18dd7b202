// A security incident's checks before its approval and its first change (read-only): the API
// deployment and its container, the emergency-mode ConfigMap, the secrets it rotates, the WAF IP set,
// the evidence bucket.
import { s3Client, secretsClient, wafClient } from '../../shared/clients.js';
import { connectTo } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment, securityIncidentConfig } from '../../shared/config.js';
import type { RunContext } from '../../shared/run.js';
import { preflightSecurityIncident } from '../../shared/security-incident-preflight.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  const region = config.recoveryRegion;
  return runStep(() =>
    preflightSecurityIncident(config, event.run, {
      secrets: secretsClient(region),
      s3: s3Client(region),
      connect: () => connectTo(config, securityIncidentConfig(config).cluster),
      waf: wafClient,
    }),
  );
});
