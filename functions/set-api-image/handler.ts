// The security incident's patch: the API deployment on the serving cluster to the patched image
// (`kubectl set image` with a change-cause naming the incident). CheckRollout then waits for it.
import { setApiImage } from '../../shared/api-image.js';
import { connectTo } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment, securityIncidentConfig } from '../../shared/config.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'SetApiImage');
  return runStep(() => setApiImage(config, event.run, () => connectTo(config, securityIncidentConfig(config).cluster)));
});
