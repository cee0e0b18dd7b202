// The gates a recovery passes before it reports success, assembled from the deployment config: the
// serving cluster's API /health, the database's SELECT 1, Redis PING. Each probe has the same timeout;
// credentials are read here and never leave the function. The probes run in parallel.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ClusterConfig, DeploymentConfig } from '../config.js';
import { findDatabase } from '../config.js';
import { InvalidConfig } from '../errors.js';
import type { Check } from '../report.js';
import { fetchDatabaseCredentials, fetchRedisPassword } from '../secrets.js';
import { checkApiHealth } from './api.js';
import { checkDatabase } from './database.js';
import { checkRedis } from './redis.js';
import type { HealthResult } from './result.js';

export interface HealthGateOutcome {
  /** In the order the checks were given. */
  results: HealthResult[];
  /** Every check passed (true for an empty list: deciding which checks a scenario needs is the caller's job). */
  allPassed: boolean;
}

/**
 * Runs the checks in parallel and waits for all of them. A check that throws (bad config, an AWS call
 * for a secret) is not a probe result: once every check has settled, the first such error is rethrown
 * with its name, for the state machine's Retry/Catch.
 */
export async function runHealthGates(checks: ReadonlyArray<() => Promise<HealthResult>>): Promise<HealthGateOutcome> {
  const settled = await Promise.allSettled(checks.map(async (check) => check()));
  const results: HealthResult[] = [];
  for (const outcome of settled) {
    if (outcome.status === 'rejected') throw outcome.reason;
    results.push(outcome.value);
  }
  return { results, allPassed: results.every((result) => result.passed) };
}

/** The report's view of health results: the probed endpoint is the resource, the expectation the target. */
export function healthResultsToChecks(results: readonly HealthResult[]): Check[] {
  return results.map((result) => ({
    name: result.name,
    resource: result.target,
    measured: result.measured,
    target: result.expected,
    passed: result.passed,
    message: result.message,
  }));
}

export interface GateClients {
  /** Secrets Manager in the recovery region (credentials are replicated there). */
  secrets: SecretsManagerClient;
}

export interface GateOutcome {
  allPassed: boolean;
  checks: Check[];
  /** Gates the config does not define, so a person must check them by hand. */
  notConfigured: string[];
}

/**
 * The configured gates for a recovery that now serves from `serving`: its API `healthUrl`, the database
 * named by `config.health.database` (host and port from its connection secret, so a repointed secret is
 * followed), and `config.health.redis` (AUTH token from its secret), each within
 * `config.health.timeoutSeconds`. Reads secrets with Secrets Manager GetSecretValue (clients.secrets).
 * Result: { allPassed, checks (the report's Check[]), notConfigured (gates a person must check) }.
 * Throws InvalidConfig (unknown database, secret without host), and the named AWS errors of the secret reads.
 */
export async function runConfiguredHealthGates(config: DeploymentConfig, serving: ClusterConfig, clients: GateClients): Promise<GateOutcome> {
  const timeoutMs = config.health.timeoutSeconds * 1000;
  const gates: Array<() => Promise<HealthResult>> = [() => checkApiHealth(serving.healthUrl, timeoutMs)];
  const notConfigured: string[] = [];

  const databaseName = config.health.database;
  if (databaseName) {
    const database = findDatabase(config, databaseName);
    // The database the application uses is the one its connection secret names (host and port in
    // RDS's secret format): after a recovery repoints the secret, the gate follows it.
    gates.push(async () => {
      const credentials = await fetchDatabaseCredentials(clients.secrets, database.credentialsSecret);
      if (!credentials.host) {
        throw new InvalidConfig(`secret ${database.credentialsSecret} has no host field: the SELECT 1 gate cannot tell where the application connects`);
      }
      return checkDatabase(
        { host: credentials.host, port: credentials.port ?? database.port, databaseName: database.databaseName, tls: database.tls },
        credentials,
        timeoutMs,
      );
    });
  } else {
    notConfigured.push('database SELECT 1 (health.database)');
  }

  const redis = config.health.redis;
  if (redis) {
    gates.push(async () => {
      const password = redis.authSecret ? await fetchRedisPassword(clients.secrets, redis.authSecret) : undefined;
      return checkRedis({ host: redis.host, port: redis.port, tls: redis.tls, ...(password ? { password } : {}) }, timeoutMs);
    });
  } else {
    notConfigured.push('Redis PING (health.redis)');
  }

  const outcome = await runHealthGates(gates);
  return { allPassed: outcome.allPassed, checks: healthResultsToChecks(outcome.results), notConfigured };
}
