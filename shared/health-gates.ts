// The gates a recovery passes before it reports success, assembled from the deployment config:
// the serving cluster's API /health, the database's SELECT 1, Redis PING. Each probe has the same
// timeout; credentials are read here and never leave the function.
import type { RDSClient } from '@aws-sdk/client-rds';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describeInstance } from './backups.js';
import type { ClusterConfig, DeploymentConfig } from './config.js';
import { findDatabase } from './config.js';
import { checkApiHealth, checkDatabase, checkRedis, fetchRedisPassword, healthResultsToChecks, runHealthGates, type HealthResult } from './health.js';
import type { Check } from './report.js';
import { fetchDatabaseCredentials } from './secrets.js';

export interface GateClients {
  /** RDS in the region the database serves from. */
  rds: RDSClient;
  /** Secrets Manager in the recovery region (credentials are replicated there). */
  secrets: SecretsManagerClient;
}

export interface GateOutcome {
  allPassed: boolean;
  checks: Check[];
  /** Gates the config does not define, so a person must check them by hand. */
  notConfigured: string[];
}

export async function runConfiguredHealthGates(
  config: DeploymentConfig,
  serving: ClusterConfig,
  databaseRegion: string,
  clients: GateClients,
): Promise<GateOutcome> {
  const timeoutMs = config.health.timeoutSeconds * 1000;
  const gates: Array<() => Promise<HealthResult>> = [() => checkApiHealth(serving.healthUrl, timeoutMs)];
  const notConfigured: string[] = [];

  const databaseName = config.health.database;
  if (databaseName) {
    const database = findDatabase(config, databaseName);
    gates.push(async () => {
      const instance = await describeInstance(clients.rds, databaseRegion, database.name);
      const credentials = await fetchDatabaseCredentials(clients.secrets, database.credentialsSecret);
      return checkDatabase(
        {
          host: instance.Endpoint?.Address ?? `${database.name} has no endpoint`,
          port: instance.Endpoint?.Port ?? database.port,
          databaseName: database.databaseName,
          tls: database.tls,
        },
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
