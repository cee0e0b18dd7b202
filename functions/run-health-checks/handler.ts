// The health gates (API /health of the serving cluster, database SELECT 1, Redis PING) and the
// recovery time they close, measured from the incident. Runs inside the recovery VPC.
import { secretsClient } from '../../shared/clients.js';
import { clusterFor, deploymentConfigFromEnvironment, findObjective, kubernetesConfig, type ClusterRole } from '../../shared/config.js';
import { runConfiguredHealthGates } from '../../shared/health-gates.js';
import { evaluateObjective, minutesBetween } from '../../shared/objectives.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface RunHealthChecksEvent {
  run: RunContext;
  cluster: ClusterRole;
}

export const handler = recoveryHandler(async (event: RunHealthChecksEvent) => {
  const config = deploymentConfigFromEnvironment();
  const serving = clusterFor(config, event.cluster);
  return runStep(async () => {
    const outcome = await runConfiguredHealthGates(config, serving, { secrets: secretsClient(config.recoveryRegion) });
    const recoveredAt = new Date();
    const objective = findObjective(config, kubernetesConfig(config).component);
    // A dry run changed nothing, so there is no recovery time to measure.
    const objectives = event.run.dryRun
      ? []
      : [
          evaluateObjective(
            objective,
            { rtoMinutes: outcome.allPassed ? minutesBetween(event.run.incidentAt, recoveredAt) : null },
            outcome.allPassed
              ? `${serving.name} serving and healthy ${minutesBetween(event.run.incidentAt, recoveredAt).toFixed(1)} min after the incident (${event.run.trigger})`
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
