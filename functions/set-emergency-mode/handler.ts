// SetEmergencyMode (security-incident, containment): emergency_mode=true in the ConfigMap the API
// reads, on the cluster serving it; the previous value is kept in the data for the way back.
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { setEmergencyMode } from '../../shared/containment.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface SetEmergencyModeEvent {
  run: RunContext;
}

export const handler = recoveryHandler(async (event: SetEmergencyModeEvent) => {
  const config = deploymentConfigFromEnvironment();
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'SetEmergencyMode');
  return runStep(() => setEmergencyMode(config, event.run));
});
