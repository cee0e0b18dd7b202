// replaced by the permissions part
// Whether the VPC functions a scenario uses have routes to the AWS APIs they call. Until then: no finding.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { DeploymentConfig } from './config.js';
import type { ReadinessCheck } from './readiness-check.js';
import type { ScenarioName } from './scenarios.js';

export async function checkVpcRoutes(_deps: { ec2: EC2Client }, _config: DeploymentConfig, _scenario: ScenarioName): Promise<ReadinessCheck[]> {
  return [];
}
