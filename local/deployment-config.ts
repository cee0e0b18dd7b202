// How the local environment hands a deployment config to the handlers running in this process: the
// way the deployed functions get it (shared/config.ts), a JSON file named by DR_CONFIG_FILE and pinned
// by DR_CONFIG_SHA256; here the file is in a temp directory instead of the function's package.
import os from 'node:os';
import path from 'node:path';
import { CONFIG_FILE_VARIABLE, CONFIG_SHA256_VARIABLE, resetDeploymentConfigCache, type DeploymentConfig } from '../shared/config.js';
import { packageDeploymentConfig, writePackagedDeploymentConfig } from '../shared/config-file.js';

const LOCAL_CONFIG_DIRECTORY = path.join(os.tmpdir(), 'frontier-dr-deployment-config');

/**
 * Writes `config` as the functions' deployment config and returns the environment variables that name
 * it (for child processes); the packaging-time size guard applies here too.
 */
export function deploymentConfigEnvironment(config: DeploymentConfig): Record<string, string> {
  const packaged = packageDeploymentConfig(config, 'the local deployment config');
  const file = writePackagedDeploymentConfig(packaged, LOCAL_CONFIG_DIRECTORY);
  return { [CONFIG_FILE_VARIABLE]: file, [CONFIG_SHA256_VARIABLE]: packaged.sha256 };
}

/**
 * Makes the handlers in this process see `config` and, when given, the alert topic
 * (ALERT_TOPIC_ARN), and forgets any config a handler already read.
 */
export function useConfig(config: DeploymentConfig, alertTopicArn?: string): void {
  Object.assign(process.env, deploymentConfigEnvironment(config));
  if (alertTopicArn !== undefined) process.env.ALERT_TOPIC_ARN = alertTopicArn;
  resetDeploymentConfigCache();
}
