// `frontier-dr validate --config <file>`: everything that can be known about a deployment before
// packaging it, read-only and offline: the deployment file (every bad field named), the state machine
// definitions (each statemachines/*.asl.yaml parses as ASL and its Tasks name functions serverless.yml
// declares), and the static checks of the recovery paths (shared/recovery-path-check.ts: no step of a
// region failover reaches the primary region; control-plane DNS flagged).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateMachine } from 'aws-local-stepfunctions';
import { parse as parseYaml } from 'yaml';
import type { DeploymentConfig } from '../shared/config.js';
import { loadDeploymentConfigFile } from '../shared/config-file.js';
import { checkRecoveryPaths } from '../shared/recovery-path-check.js';
import { loadDefinition } from '../local/local-state-machine.js';
import { usageError } from './operator.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ValidationFinding {
  severity: 'error' | 'warning';
  /** The config field, or the definition file. */
  where: string;
  message: string;
}

/** `  - databases[0].retentionDays: got 400 (number); expected at most 35` -> where + message. */
function configFindings(message: string, file: string): ValidationFinding[] {
  const fields = message
    .split('\n')
    .filter((line) => line.startsWith('  - '))
    .map((line) => {
      const text = line.slice(4);
      const colon = text.indexOf(': ');
      return colon > 0 ? { severity: 'error' as const, where: text.slice(0, colon), message: text.slice(colon + 2) } : { severity: 'error' as const, where: file, message: text };
    });
  return fields.length > 0 ? fields : [{ severity: 'error', where: file, message: message.replace(/\s+/g, ' ') }];
}

/** The function names serverless.yml declares (its CloudFormation short forms read as plain values). */
export function declaredFunctions(serviceFile = join(root, 'serverless.yml')): Set<string> {
  const service = parseYaml(readFileSync(serviceFile, 'utf8'), { logLevel: 'error' }) as { functions?: Record<string, unknown> } | null;
  return new Set(Object.keys(service?.functions ?? {}));
}

/**
 * Every state machine definition under statemachines/: parses as ASL (the local engine's validator,
 * ARNs and paths checked) and each Task's function is declared in serverless.yml.
 */
export function definitionFindings(directory = join(root, 'statemachines'), functions = declaredFunctions()): ValidationFinding[] {
  const findings: ValidationFinding[] = [];
  for (const file of readdirSync(directory).filter((f) => f.endsWith('.asl.yaml')).sort()) {
    const name = file.replace(/\.asl\.yaml$/, '');
    const where = `statemachines/${file}`;
    try {
      const loaded = loadDefinition(directory === join(root, 'statemachines') ? name : { name, definition: parseYaml(readFileSync(join(directory, file), 'utf8')) as Record<string, unknown> });
      new StateMachine(loaded.definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
      for (const [state, fn] of Object.entries(loaded.taskFunctions)) {
        if (!functions.has(fn)) findings.push({ severity: 'error', where, message: `state ${state} calls function ${fn}, which serverless.yml does not declare` });
      }
    } catch (error) {
      findings.push({ severity: 'error', where, message: `not a valid state machine: ${(error as Error).message.replace(/\s+/g, ' ')}` });
    }
  }
  return findings;
}

/**
 * Validates a deployment: the file (a missing or unreadable one is a usage error), then, when it is
 * valid, the definitions and the recovery paths. Errors first, then warnings.
 */
export function validateDeployment(file: string): { config: DeploymentConfig | null; findings: ValidationFinding[] } {
  if (!existsSync(file)) throw usageError(`--config: ${file} does not exist`);
  let config: DeploymentConfig | null = null;
  const findings: ValidationFinding[] = [];
  try {
    config = loadDeploymentConfigFile(file);
  } catch (error) {
    findings.push(...configFindings((error as Error).message, file));
  }
  findings.push(...definitionFindings());
  if (config) findings.push(...checkRecoveryPaths(config).map((f) => ({ severity: f.severity, where: f.field, message: f.message })));
  return { config, findings: [...findings.filter((f) => f.severity === 'error'), ...findings.filter((f) => f.severity === 'warning')] };
}
