// The RunHealthChecks step: the health gates against the serving cluster, and the recovery they close
// measured against the plan's objectives.
import { clusterFor, findDatabase, findObjective, kubernetesConfig, type ClusterRole, type DeploymentConfig } from '../config.js';
import { evaluateObjective, minutesBetween } from '../objectives.js';
import type { RunContext } from '../run.js';
import type { StepResult } from '../steps.js';
import { runConfiguredHealthGates, type GateClients } from './gates.js';

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
