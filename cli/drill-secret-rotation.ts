// The drill's `secret-rotation` scenario (not a state machine): rotates the configured database secret
// now, as the security incident does, and proves the result. startSecretRotation asks Secrets Manager to
// rotate it (RotateSecret naming the stack's rotation function; locally the AWS front then runs
// rotateDatabaseSecret's four steps, as Secrets Manager would), checkSecretRotation is looked at until the
// new version is AWSCURRENT, then the drill logs in with the old password (it must be refused) and with
// the new one (it must work). The drill reads the two values to try them, and prints neither.
import pg from 'pg';
import type { Context } from 'aws-lambda';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { DatabaseConfig, DeploymentConfig } from '../shared/config.js';
import type { RotationLook, StartedRotation } from '../shared/rotate-now.js';
import type { RunContext } from '../shared/run.js';
import type { StepOutput } from '../shared/steps.js';
import { awsFrontOf, emulatorClients } from '../local/index.js';
import { enableRotation } from '../local/secret-rotation.js';

export const SECRET_ROTATION_SCENARIO = 'secret-rotation';
export const SECRET_ROTATION_SUMMARY = 'rotates the configured database secret now and waits for it: the old password refused, the new one works';

/** How long the drill looks before it calls the rotation stuck (checkSecretRotation's own limit applies too). */
const MAX_LOOKS = 600;
/** Between two looks the drill sleeps this long, not the look's nextCheckSeconds (which it prints). */
const LOOK_PAUSE_MS = 100;

export interface SecretRotationResult {
  completed: boolean;
  lines: string[];
  error?: string;
}

/** Why the deployment cannot drill a rotation, or null. */
export function whySecretRotationUnsupported(config: DeploymentConfig): string | null {
  return config.databases.some((d) => d.rotation) ? null : 'has no database with rotation (databases[].rotation)';
}

interface Credentials {
  username: string;
  password: string;
  host?: string;
  port?: number | string;
  dbname?: string;
}

async function currentCredentials(config: DeploymentConfig, endpoint: string, secret: string): Promise<Credentials> {
  const answer = await emulatorClients(endpoint, config.recoveryRegion).secrets.send(new GetSecretValueCommand({ SecretId: secret, VersionStage: 'AWSCURRENT' }));
  return JSON.parse(answer.SecretString ?? '{}') as Credentials;
}

/** 'ok' when the credentials log in to the database the secret names, else the SQLSTATE (28P01: wrong password). */
async function login(database: DatabaseConfig, credentials: Credentials): Promise<string> {
  const client = new pg.Client({
    host: credentials.host,
    port: Number(credentials.port ?? database.port),
    user: credentials.username,
    password: credentials.password,
    database: credentials.dbname ?? database.databaseName,
    connectionTimeoutMillis: 5_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const lambdaContext = (name: string): Context => ({ functionName: name, awsRequestId: `drill-${Date.now()}`, getRemainingTimeInMillis: () => 30_000 }) as unknown as Context;

/**
 * Runs the scenario against the emulated environment at `endpoint` (the handlers in this process see
 * `config` already). Prints its progress; returns whether it completed and the lines for the summary.
 */
export async function drillSecretRotation(config: DeploymentConfig, endpoint: string, log: (line: string) => void): Promise<SecretRotationResult> {
  const database = config.databases.find((d) => d.rotation) as DatabaseConfig;
  const secret = database.credentialsSecret;
  const started = Date.now();
  const executionName = `drill-secret-rotation-${started}`;
  const run = {
    scenario: SECRET_ROTATION_SCENARIO,
    executionId: `arn:aws:states:${config.recoveryRegion}:123456789012:execution:drill:${executionName}`,
    executionName,
    startedAt: new Date(started).toISOString(),
    dryRun: false,
  } as unknown as RunContext;
  const at = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`;
  try {
    const secrets = emulatorClients(endpoint, config.recoveryRegion).secrets;
    // What the stack's RotationSchedule does in AWS (deploy/secret-rotation.cjs): rotation configured.
    await enableRotation(secrets, secret);
    const before = await currentCredentials(config, endpoint, secret);
    log(`  ${secret} (${database.name}, ${database.rotation?.strategy}): ${before.username} logs in with the current password: ${await login(database, before)}`);

    const { handler: start } = (await import('../functions/start-secret-rotation/handler.js')) as { handler: (event: unknown, context: Context) => Promise<unknown> };
    const { handler: check } = (await import('../functions/check-secret-rotation/handler.js')) as { handler: (event: unknown, context: Context) => Promise<unknown> };
    const begun = (await start({ run, secret }, lambdaContext('startSecretRotation'))) as StepOutput<StartedRotation>;
    log(`  ${at()} done    StartSecretRotation — ${begun.step.detail ?? ''}`);

    let look: StepOutput<RotationLook> | undefined;
    let looks = 0;
    while (looks < MAX_LOOKS) {
      look = (await check({ run, secret, rotation: begun.data }, lambdaContext('checkSecretRotation'))) as StepOutput<RotationLook>;
      looks += 1;
      if (look.data.completed) break;
      await new Promise((resolve) => setTimeout(resolve, LOOK_PAUSE_MS));
    }
    const front = awsFrontOf(endpoint);
    const steps = front?.rotations().find((r) => r.versionId === begun.data.versionId);
    if (steps) log(`  ${at()} rotation function ran ${steps.steps.join(', ') || 'no step'}${steps.failed ? `; ${steps.failed.step} failed: ${steps.failed.error}` : ''}`);
    if (!look?.data.completed) {
      return { completed: false, lines: [`version ${begun.data.versionId} not AWSCURRENT after ${looks} looks`], error: `the rotation of ${secret} did not complete` };
    }
    log(`  ${at()} done    CheckSecretRotation — ${look.step.detail ?? ''} (${looks} look(s); in AWS the loop would wait ${look.data.nextCheckSeconds} s between looks)`);

    const after = await currentCredentials(config, endpoint, secret);
    const oldLogin = await login(database, before);
    const newLogin = await login(database, after);
    const proved = after.password !== before.password && newLogin === 'ok' && (database.rotation?.strategy === 'alternating-users' || oldLogin !== 'ok');
    const lines = [
      `version ${begun.data.versionId} is AWSCURRENT (${after.username})`,
      `old password: ${oldLogin === 'ok' ? 'still logs in' : `refused (${oldLogin})`}${database.rotation?.strategy === 'alternating-users' ? ' (alternating users: the previous user keeps working until the next rotation)' : ''}`,
      `new password: ${newLogin === 'ok' ? 'logs in' : `refused (${newLogin})`}`,
    ];
    return proved ? { completed: true, lines } : { completed: false, lines, error: 'the rotated credentials do not behave as a completed rotation should' };
  } catch (error) {
    const named = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { completed: false, lines: [], error: named };
  }
}
