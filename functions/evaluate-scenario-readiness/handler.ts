// One item of the readiness Map: could this scenario run now? Every check read-only
// (shared/readiness.ts); a check that cannot run is a reason the scenario is not ready.
import { dnsClients, ec2Client, iamClient, kmsClient, lambdaClient, rdsClient, s3Client, secretsClient, wafClient } from '../../shared/clients.js';
import { connectTo } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { InvalidInput } from '../../shared/errors.js';
import { evaluateScenarioReadiness, type ReadinessRun } from '../../shared/readiness.js';
import { isScenarioName } from '../../shared/scenarios.js';
import { recoveryHandler } from '../common/lambda.js';

interface EvaluateEvent {
  run: ReadinessRun;
  scenario: string;
}

export const handler = recoveryHandler(async (event: EvaluateEvent) => {
  const config = deploymentConfigFromEnvironment();
  if (!isScenarioName(event.scenario)) throw new InvalidInput(`scenario: got ${JSON.stringify(event.scenario)}; expected a scenario name`);
  const region = config.recoveryRegion;
  const { route53, routingControl } = dnsClients();
  return evaluateScenarioReadiness(
    config,
    event.scenario,
    {
      rds: rdsClient,
      secrets: secretsClient,
      kms: kmsClient,
      ec2: ec2Client,
      waf: wafClient,
      s3: s3Client(region),
      route53,
      routingControl,
      connect: (role) => connectTo(config, role),
      iam: iamClient(),
      lambda: lambdaClient(region),
      functionNamePrefix: requiredEnvironment('FUNCTION_NAME_PREFIX'),
      clusterTimeoutMs: config.health.timeoutSeconds * 1000,
    },
    new Date(),
  );
});
