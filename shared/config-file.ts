// Reads a deployment YAML file (packaging, the CLI and tests). The functions never do: they get the
// validated config as JSON in DR_CONFIG.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseDeploymentConfig, type DeploymentConfig } from './config.js';
import { InvalidConfig } from './errors.js';

export function loadDeploymentConfigFile(path: string): DeploymentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidConfig(`cannot read deployment config ${path}: ${(error as Error).message}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new InvalidConfig(`${path} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  return parseDeploymentConfig(raw, path);
}
