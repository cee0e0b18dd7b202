// How the local environment hands a deployment config to the handlers running in this process: the
// same environment variables the deployed functions get from the stack.
import { resetDeploymentConfigCache, type DeploymentConfig } from '../shared/config.js';

/**
 * Makes the handlers in this process see `config` (DR_CONFIG) and, when given, the alert topic
 * (ALERT_TOPIC_ARN), and forgets any config a handler already read.
 */
export function useConfig(config: DeploymentConfig, alertTopicArn?: string): void {
  process.env.DR_CONFIG = JSON.stringify(config);
  if (alertTopicArn !== undefined) process.env.ALERT_TOPIC_ARN = alertTopicArn;
  resetDeploymentConfigCache();
}
