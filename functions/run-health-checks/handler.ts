// The health gates (API /health of the serving cluster, database SELECT 1, Redis PING) and the
// recovery time they close, measured from the incident. Runs inside the recovery VPC.
import { secretsClient } from '../../shared/clients.js';
import { clusterFor, deploymentConfigFromEnvironment, findDatabase, findObjective, kubernetesConfig, type ClusterRole } from '../../shared/config.js';
import { runConfiguredHealthGates } from '../../shared/health/gates.js';
import { evaluateObjective, minutesBetween } from '../../shared/objectives.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface RunHealthChecksEvent {
  run: RunContext;
  cluster: ClusterRole;
  /** database-recovery: the data-loss window of the chosen restore point (the measured RPO). */
  dataLossMinutes?: number;
  /** database-recovery: the incident the lock says this recovery is for (else the run's). */
  incidentAt?: string;
}

export const handler = recoveryHandler(async (event: RunHealthChecksEvent) => {
  const config = deploymentConfigFromEnvironment();
  const serving = clusterFor(config, event.cluster);
  return runStep(async () => {
    const outcome = await runConfiguredHealthGates(config, serving, { secrets: secretsClient(config.recoveryRegion) });
    const recoveredAt = new Date();
    const incidentAt = event.incidentAt ?? event.run.incidentAt;
    // A database recovery is measured against its database's row, the cluster scenarios against the API's.
    const recovered = event.run.recovery ? findDatabase(config, event.run.recovery.database) : null;
    const objective = findObjective(config, recovered ? recovered.component : kubernetesConfig(config).component);
    // A dry run changed nothing, so there is no recovery time to measure.
    const objectives = event.run.dryRun
      ? []
      : [
          evaluateObjective(
            objective,
            // Not recovered: neither objective is met, whatever the restore point would have lost.
            { rtoMinutes: outcome.allPassed ? minutesBetween(incidentAt, recoveredAt) : null, rpoMinutes: outcome.allPassed ? (event.dataLossMinutes ?? null) : null },
            outcome.allPassed
              ? `${recovered ? `${recovered.name} restored and ` : ''}${serving.name} serving and healthy ${minutesBetween(incidentAt, recoveredAt).toFixed(1)} min after the incident (${event.run.trigger})${event.dataLossMinutes !== undefined ? `; ${event.dataLossMinutes} min of writes before the incident lost` : ''}`
              : 'not recovered: the health gates did not pass',
          ),
        ];
    return {
      data: { allPassed: outcome.allPassed, notConfigured: outcome.notConfigured },
      checks: outcome.checks,
      objectives,
      detail: `${outcome.checks.filter((c) => c.passed).length}/${outcome.checks.length} gates passed${outcome.notConfigured.length ? `; not configured: ${outcome.notConfigured.join(', ')}` : ''}`,
    };
  });
});
