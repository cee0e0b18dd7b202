// Rotating a secret now and waiting for it (README "Rotating now, and waiting for it"): a state machine
// (the security incident) asks Secrets Manager to rotate one of the stack's rotated secrets with
// RotateSecret, which invokes the secret's rotation function asynchronously (createSecret, setSecret,
// testSecret, finishSecret) and returns at once; the state machine then looks at the secret every few
// seconds until the new version is AWSCURRENT. Neither step ever reads a secret value: both work on
// DescribeSecret's version ids and staging labels only.
//
// A retried or redriven start never starts a second rotation: the new version's id (RotateSecret's
// ClientRequestToken) derives from the execution and the secret, and a start that finds that version
// already there reports it instead of calling RotateSecret again.
import { createHash } from 'node:crypto';
import { DescribeSecretCommand, RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { incidentRotatableSecrets, type DeploymentConfig } from './config.js';
import { awsCall, InvalidInput, RotationInProgress, RotationNotCompleted } from './errors.js';
import { nextCheckSeconds, ROTATION_EARLIEST_SECONDS, ROTATION_POLL_SECONDS, secondsBetween } from './polling.js';
import type { Action, StepResult } from './steps.js';

/** Minutes a started rotation may take before the check fails the run (securityIncident.rotationTimeoutMinutes). */
export const DEFAULT_ROTATION_TIMEOUT_MINUTES = 10;

/** The environment variables naming the stack's rotation functions (serverless.yml; local/environment.ts locally). */
export const DATABASE_ROTATION_FUNCTION_VARIABLE = 'DATABASE_ROTATION_FUNCTION_ARN';
export const API_KEY_ROTATION_FUNCTION_VARIABLE = 'API_KEY_ROTATION_FUNCTION_ARN';

/** The stack's rotation functions (Lambda ARNs; serverless.yml sets them on the start function). */
export interface RotationFunctions {
  /** rotateDatabaseSecret: the databases' credentialsSecret with `rotation`. */
  database: string;
  /** rotateApiKeys: securityIncident.apiKeys.secret. */
  apiKeys: string;
}

/** What startSecretRotation hands the wait loop (and the report): no secret value. */
export interface StartedRotation {
  /** The secret as the config names it. */
  secret: string;
  /** The new version (RotateSecret's ClientRequestToken): AWSPENDING until the rotation completes. */
  versionId: string;
  /** When this start asked for the rotation (ISO); a start that found it asked already: when it found it. */
  startedAt: string;
}

/** One look at a started rotation. */
export interface RotationLook {
  secret: string;
  versionId: string;
  completed: boolean;
  /** The version's staging labels now (empty when Secrets Manager holds no such version). */
  stages: string[];
  waitedSeconds: number;
  /** The Wait state's SecondsPath: seconds until the next look (Step Functions' smallest wait is 1 s). */
  nextCheckSeconds: number;
}

/**
 * The new version's id for `secret` in execution `executionId`: a UUID (RotateSecret's
 * ClientRequestToken takes 32-64 characters) made from sha256 of both, so every retry of the step
 * names the same version and Secrets Manager never starts a second rotation for one request.
 */
export function rotationToken(executionId: string, secret: string): string {
  const hex = createHash('sha256').update(`${executionId}\n${secret}`).digest('hex');
  // Laid out as a version-5-style UUID (name-based), which is what it is.
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The rotation function Secrets Manager must invoke for `secret`, or InvalidInput for a secret the stack does not rotate. */
export function rotationFunctionFor(config: DeploymentConfig, secret: string, functions: RotationFunctions): { kind: 'database' | 'api-keys'; functionArn: string } {
  if (incidentRotatableSecrets(config).includes(secret)) return { kind: 'database', functionArn: functions.database };
  const apiKeys = config.securityIncident?.apiKeys?.secret;
  if (apiKeys !== undefined && secret === apiKeys) return { kind: 'api-keys', functionArn: functions.apiKeys };
  const rotated = [...incidentRotatableSecrets(config), ...(apiKeys ? [apiKeys] : [])];
  throw new InvalidInput(`secret: got ${JSON.stringify(secret)}; expected a secret this stack rotates (${rotated.join(', ') || 'none: no database has rotation and there are no apiKeys'})`);
}

/** The limit of a rotation's wait loop: securityIncident.rotationTimeoutMinutes (10 without that section). */
export function rotationTimeoutMinutes(config: DeploymentConfig): number {
  return config.securityIncident?.rotationTimeoutMinutes ?? DEFAULT_ROTATION_TIMEOUT_MINUTES;
}

/** The rotation function's log group, where a rotation that did not complete says why. */
function logGroupOf(functionArn: string): string {
  const name = /:function:([^:]+)/.exec(functionArn)?.[1] ?? functionArn;
  return `/aws/lambda/${name}`;
}

async function describeVersions(secrets: SecretsManagerClient, secret: string): Promise<{ name: string; versions: Record<string, string[]> }> {
  const answer = await awsCall('secretsmanager:DescribeSecret', secret, () => secrets.send(new DescribeSecretCommand({ SecretId: secret })));
  return { name: answer.Name ?? secret, versions: answer.VersionIdsToStages ?? {} };
}

/**
 * Asks Secrets Manager to rotate `secret` now with the stack's rotation function for it (RotateSecret
 * with ClientRequestToken = rotationToken(executionId, secret) and RotationLambdaARN; no RotationRules,
 * so the secret's schedule is left as the stack set it). Returns at once: the rotation runs
 * asynchronously, checkSecretRotation waits for it.
 *
 * Checks first (DescribeSecret): the token's version already exists (a retried or redriven step, or a
 * rotation that already completed): nothing to do. Another version carrying AWSPENDING that is not
 * AWSCURRENT: a rotation already in progress, RotationInProgress naming it (Secrets Manager retries it
 * on its own; RotateSecret would refuse too). Dry run: DescribeSecret only, the action not performed.
 *
 * Throws InvalidInput (a secret the stack does not rotate), RotationInProgress, and awsCall's errors
 * (AwsAccessDenied, ResourceNotFound, AwsTransientError). AWS APIs: secretsmanager DescribeSecret,
 * RotateSecret (which needs lambda:InvokeFunction on the rotation function too).
 */
export async function startSecretRotation(
  config: DeploymentConfig,
  secret: string,
  executionId: string,
  dryRun: boolean,
  functions: RotationFunctions,
  secrets: SecretsManagerClient,
  now: Date,
): Promise<StepResult<StartedRotation>> {
  if (typeof secret !== 'string' || secret === '') throw new InvalidInput('secret: got nothing; expected the name of a secret this stack rotates');
  const { functionArn } = rotationFunctionFor(config, secret, functions);
  const versionId = rotationToken(executionId, secret);
  const data: StartedRotation = { secret, versionId, startedAt: now.toISOString() };
  const state = await describeVersions(secrets, secret);

  const own = state.versions[versionId];
  if (own && own.length > 0) {
    return { data, detail: `rotation of ${secret} to version ${versionId} already started (labels: ${own.join(', ')}): not started again` };
  }
  const pending = Object.entries(state.versions).find(([id, stages]) => id !== versionId && stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'));
  if (pending) {
    throw new RotationInProgress(
      `secret ${secret} has a rotation in progress: version ${pending[0]} is AWSPENDING. Secrets Manager retries it on its own; ` +
        `see why it has not completed in ${logGroupOf(functionArn)}, then start again once it completed (or remove AWSPENDING from that version if it was abandoned). Nothing was changed`,
    );
  }

  const parameters = { SecretId: secret, ClientRequestToken: versionId, RotationLambdaARN: functionArn };
  const action: Action = {
    description: `rotate ${secret} now with ${functionArn} (new version ${versionId})`,
    service: 'secretsmanager',
    operation: 'RotateSecret',
    parameters,
    performed: false,
  };
  if (dryRun) return { data, actions: [action], detail: `dry run: would rotate ${secret} to version ${versionId}` };
  await awsCall('secretsmanager:RotateSecret', secret, () => secrets.send(new RotateSecretCommand(parameters)));
  return { data, actions: [{ ...action, performed: true }], detail: `asked Secrets Manager to rotate ${secret} to version ${versionId}` };
}

/**
 * One look at a rotation startSecretRotation started: DescribeSecret, nothing else.
 *
 * - the version is AWSCURRENT and no longer AWSPENDING: completed (finishSecret ran to its end; a
 *   version still carrying AWSPENDING beside AWSCURRENT is finishing, looked at again);
 * - still AWSPENDING: not yet; `nextCheckSeconds` from shared/polling.ts (the first wait to
 *   ROTATION_EARLIEST_SECONDS after the start, then every ROTATION_POLL_SECONDS, never past the limit);
 * - the version gone (no labels), or not completed `rotationTimeoutMinutes` after the start:
 *   RotationNotCompleted naming the secret, the version and the rotation function's log group.
 *
 * Dry run: no rotation was started, so it reports completed without a call. Throws
 * RotationNotCompleted and awsCall's errors. AWS API: secretsmanager DescribeSecret.
 */
export async function checkSecretRotation(
  config: DeploymentConfig,
  rotation: StartedRotation,
  dryRun: boolean,
  functions: RotationFunctions,
  secrets: SecretsManagerClient,
  now: Date,
): Promise<StepResult<RotationLook>> {
  const { secret, versionId, startedAt } = rotation;
  const { functionArn } = rotationFunctionFor(config, secret, functions);
  const elapsed = Math.max(0, secondsBetween(startedAt, now));
  const limitSeconds = rotationTimeoutMinutes(config) * 60;
  const look = (completed: boolean, stages: string[]): RotationLook => ({
    secret,
    versionId,
    completed,
    stages,
    waitedSeconds: Math.round(elapsed),
    nextCheckSeconds: nextCheckSeconds({ elapsedSeconds: elapsed, expectedSeconds: ROTATION_EARLIEST_SECONDS, pollSeconds: ROTATION_POLL_SECONDS, timeoutSeconds: limitSeconds }),
  });
  if (dryRun) return { data: look(true, []), detail: `dry run: no rotation of ${secret} was started, nothing to wait for` };

  const state = await describeVersions(secrets, secret);
  const stages = state.versions[versionId] ?? [];
  const where = `the rotation function's log group ${logGroupOf(functionArn)}`;
  if (stages.includes('AWSCURRENT') && !stages.includes('AWSPENDING')) {
    return { data: look(true, stages), detail: `${secret}: version ${versionId} is AWSCURRENT after ${Math.round(elapsed)} s` };
  }
  if (stages.length === 0) {
    throw new RotationNotCompleted(`secret ${secret} no longer has version ${versionId}: its rotation was abandoned or replaced; see ${where}`);
  }
  if (elapsed > limitSeconds) {
    throw new RotationNotCompleted(
      `secret ${secret} version ${versionId} is still ${stages.join(', ')} ${Math.round(elapsed)} s after the rotation started (limit ${limitSeconds / 60} min): ` +
        `the rotation did not complete; see ${where} for the step that failed (Secrets Manager retries it; the current credentials still work)`,
    );
  }
  return { data: look(false, stages), detail: `${secret}: version ${versionId} is ${stages.join(', ')} after ${Math.round(elapsed)} s` };
}
