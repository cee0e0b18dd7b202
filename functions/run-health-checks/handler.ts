// The health gates (API /health of the serving cluster, database SELECT 1, Redis PING) and the
// recovery time they close, measured from the incident. Runs inside the recovery VPC. Shared by the
// RunHealthChecks state of cluster-failover, emergency-rollback and database-recovery.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { checkRecoveredService, type RecoveryHealthRequest } from '../../shared/health/recovered-service.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: RecoveryHealthRequest & { secretRegion?: 'recovery' | 'primary' }) => {
  const config = deploymentConfigFromEnvironment();
  // Region failback gates the primary region's application: its connection secret is the primary region's.
  const secrets = secretsClient(event.secretRegion === 'primary' ? config.primaryRegion : config.recoveryRegion);
  return runStep(() => checkRecoveredService(config, event, { secrets }, () => new Date()));
});
