// Reads a deployment YAML file (packaging, the CLI and tests), and writes the validated config the way
// the functions read it: a JSON file in their code package, pinned by its sha256 (shared/config.ts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDeploymentConfig, sha256Hex, type DeploymentConfig } from './config.js';
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

/**
 * Upper bound on the packaged config. The channel itself (a file in each function's code package)
 * allows far more: Lambda takes 250 MB unzipped per function, of which the largest bundle uses about
 * 3 MB. What bounds it in practice is that every cold start hashes, parses and validates the whole
 * file. Measured here (Node 22, 2 cores): the example with 100 databases is 96 KB of JSON and takes
 * ~10 ms (~70 ms in a fresh process, zod warming up); with 1000 databases, 940 KB and ~50 ms. Past
 * 1 MiB, split the deployment rather than slow every function's cold start further.
 */
export const MAX_PACKAGED_CONFIG_BYTES = 1024 * 1024;

export interface PackagedDeploymentConfig {
  /** The validated config (defaults filled in) as JSON: exactly the bytes the functions hash and read. */
  text: string;
  /** sha256 of `text` (hex): the version a function is deployed with (DR_CONFIG_SHA256). */
  sha256: string;
  bytes: number;
}

/** The validated config as the functions receive it; a config past MAX_PACKAGED_CONFIG_BYTES stops packaging. */
export function packageDeploymentConfig(config: DeploymentConfig, source: string): PackagedDeploymentConfig {
  const text = JSON.stringify(config);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PACKAGED_CONFIG_BYTES) {
    throw new InvalidConfig(
      `${source} is too large to package: the validated config is ${bytes} bytes of JSON (${config.databases.length} databases); ` +
        `the limit is ${MAX_PACKAGED_CONFIG_BYTES} bytes, because every function reads and validates all of it at each cold start: split the deployment`,
    );
  }
  return { text, sha256: sha256Hex(text), bytes };
}

/**
 * Writes the packaged config to `<directory>/<sha256>.json` and returns that path. Named by content,
 * so two deployments packaged from one checkout never overwrite each other's file.
 */
export function writePackagedDeploymentConfig(packaged: PackagedDeploymentConfig, directory: string): string {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${packaged.sha256}.json`);
  writeFileSync(file, packaged.text);
  return file;
}
