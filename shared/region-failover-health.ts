// The RunHealthChecks step of a region failover: the recovery environment as clients will reach it once
// DNS moves, checked before DNS moves: the recovery cluster's API /health, the RESTORED database's
// SELECT 1 (its own endpoint, so the gate cannot pass on the failed primary's), and the recovery
// region's Redis (regionFailover.health.redis) PING. Runs inside the recovery VPC.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clusterFor, findDatabase, regionFailoverConfig, type DeploymentConfig } from './config.js';
import { checkApiHealth } from './health/api.js';
import { checkDatabase } from './health/database.js';
import { healthResultsToChecks, runHealthGates } from './health/gates.js';
import { checkRedis } from './health/redis.js';
import type { HealthResult } from './health/result.js';
import { fetchDatabaseCredentials, fetchRedisPassword } from './secrets.js';
import type { StepResult } from './steps.js';

/**
 * Runs the three gates in parallel, each within health.timeoutSeconds. `endpoint` is the restored
 * instance's (CheckRegionRestore); null in a dry run, when the database gate is skipped and the
 * report says so. Network: HTTP GET, PostgreSQL SELECT 1, Redis PING; AWS (recovery region):
 * secretsmanager:GetSecretValue. A failed gate is a failed check (allPassed false), not an error.
 * Throws InvalidConfig (unknown database) and the Secrets Manager errors awsCall names.
 */
export async function checkRecoveryRegion(
  config: DeploymentConfig,
  endpoint: { host: string; port: number } | null,
  secrets: SecretsManagerClient,
): Promise<StepResult<{ allPassed: boolean; notConfigured: string[] }>> {
  const failover = regionFailoverConfig(config);
  const database = findDatabase(config, failover.database);
  const timeoutMs = config.health.timeoutSeconds * 1000;
  const serving = clusterFor(config, 'backup');
  const gates: Array<() => Promise<HealthResult>> = [() => checkApiHealth(serving.healthUrl, timeoutMs)];
  const notConfigured: string[] = [];
  if (endpoint) {
    gates.push(async () => {
      const credentials = await fetchDatabaseCredentials(secrets, database.credentialsSecret);
      return checkDatabase({ host: endpoint.host, port: endpoint.port, databaseName: database.databaseName, tls: database.tls }, credentials, timeoutMs);
    });
  } else {
    notConfigured.push('database SELECT 1 (no restored instance: dry run)');
  }
  const redis = failover.health.redis;
  if (redis) {
    gates.push(async () => {
      const password = redis.authSecret ? await fetchRedisPassword(secrets, redis.authSecret) : undefined;
      return checkRedis({ host: redis.host, port: redis.port, tls: redis.tls, ...(password ? { password } : {}) }, timeoutMs);
    });
  } else {
    notConfigured.push('Redis PING (regionFailover.health.redis)');
  }
  const outcome = await runHealthGates(gates);
  const checks = healthResultsToChecks(outcome.results);
  return {
    data: { allPassed: outcome.allPassed, notConfigured },
    checks,
    detail: `${outcome.allPassed ? 'the recovery region is healthy' : 'the recovery region is NOT healthy: DNS stays where it is'} (${checks.map((c) => `${c.name} ${c.passed ? 'passed' : 'FAILED'}`).join(', ')})${notConfigured.length ? `; not checked: ${notConfigured.join(', ')}` : ''}`,
  };
}
