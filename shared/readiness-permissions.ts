// replaced by the permissions part
// Whether each function a scenario calls may make the calls its steps make (IAM policy simulation
// against the deployed roles). Until then: no finding.
import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { DeploymentConfig } from './config.js';
import type { ReadinessCheck } from './readiness-check.js';
import type { ScenarioName } from './scenarios.js';

export async function checkRolePermissions(
  _deps: { iam: IAMClient; lambda: LambdaClient },
  _config: DeploymentConfig,
  _scenario: ScenarioName,
  _functionNamePrefix: string,
): Promise<ReadinessCheck[]> {
  return [];
}
