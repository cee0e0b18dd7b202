// The gates a recovery passes before it reports success, assembled from the deployment config:
// the serving cluster's API /health, the database's SELECT 1, Redis PING. Each probe has the same
// timeout; credentials are read here and never leave the function.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ClusterConfig, ClusterRole, DeploymentConfig } from './config.js';
import { clusterFor, findDatabase, findObjective, kubernetesConfig } from './config.js';
import { InvalidConfig } from './errors.js';
import { checkApiHealth, checkDatabase, checkRedis, fetchRedisPassword, healthResultsToChecks, runHealthGates, type HealthResult } from './health.js';
import { evaluateObjective, minutesBetween } from './objectives.js';
import type { Check } from './report.js';
import type { RunContext } from './run.js';
import { fetchDatabaseCredentials } from './secrets.js';
import type { StepResult } from './steps.js';

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

export interface RecoveryHealthRequest {
  run: Pick<RunContext, 'dryRun' | 'incidentAt' | 'trigger' | 'recovery'>;
  /** The cluster that serves now (primary after a rollback or database recovery, backup after a failover). */
  cluster: ClusterRole;
  /** database-recovery: the data-loss window of the chosen restore point (the measured RPO), minutes. */
  dataLossMinutes?: number;
  /** database-recovery: the incident the lock says this recovery is for (UTC ISO); else the run's. */
  incidentAt?: string;
}

/**
 * The RunHealthChecks step (cluster-failover, emergency-rollback and database-recovery): the health
 * gates against the serving cluster, and the recovery they close measured from the incident against
 * the objectives row of what was recovered (the database's component in a database recovery, the
 * API's otherwise). Not recovered (a gate failed): the objective is missed, whatever the restore
 * point would have lost. A dry run changed nothing, so it measures nothing.
 *
 * Network: HTTP GET of the API's /health, PostgreSQL SELECT 1, Redis PING; AWS:
 * secretsmanager:GetSecretValue. Thrown: InvalidConfig (no objectives row, a secret without host),
 * the Secrets Manager errors awsCall names; a failed gate is a failed check, not an error.
 *
 * @param now The recovery time is measured at this instant (called once the gates have answered).
 */
export async function checkRecoveredService(
  config: DeploymentConfig,
  request: RecoveryHealthRequest,
  clients: GateClients,
  now: () => Date,
  gates: typeof runConfiguredHealthGates = runConfiguredHealthGates,
): Promise<StepResult<{ allPassed: boolean; notConfigured: string[] }>> {
  const serving = clusterFor(config, request.cluster);
  const outcome = await gates(config, serving, clients);
  const recoveredAt = now();
  const { run } = request;
  const incidentAt = request.incidentAt ?? run.incidentAt;
  const recovered = run.recovery ? findDatabase(config, run.recovery.database) : null;
  const objective = findObjective(config, recovered ? recovered.component : kubernetesConfig(config).component);
  const minutes = minutesBetween(incidentAt, recoveredAt);
  const lost = request.dataLossMinutes;
  const objectives = run.dryRun
    ? []
    : [
        evaluateObjective(
          objective,
          { rtoMinutes: outcome.allPassed ? minutes : null, rpoMinutes: outcome.allPassed ? (lost ?? null) : null },
          outcome.allPassed
            ? `${recovered ? `${recovered.name} restored and ` : ''}${serving.name} serving and healthy ${minutes.toFixed(1)} min after the incident (${run.trigger})${lost !== undefined ? `; ${lost} min of writes before the incident lost` : ''}`
            : 'not recovered: the health gates did not pass',
        ),
      ];
  return {
    data: { allPassed: outcome.allPassed, notConfigured: outcome.notConfigured },
    checks: outcome.checks,
    objectives,
    detail: `${outcome.checks.filter((c) => c.passed).length}/${outcome.checks.length} gates passed${outcome.notConfigured.length ? `; not configured: ${outcome.notConfigured.join(', ')}` : ''}`,
  };
}
