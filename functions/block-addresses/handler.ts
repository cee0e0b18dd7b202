// BlockAddresses (security-incident, containment): the input's addresses blocked by the NetworkPolicy
// in front of the API pods and, when configured, the WAF IP set; the data says where each block holds.
import { wafClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { blockAddresses } from '../../shared/containment.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface BlockAddressesEvent {
  run: RunContext;
}

export const handler = recoveryHandler(async (event: BlockAddressesEvent) => {
  const config = deploymentConfigFromEnvironment();
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'BlockAddresses');
  return runStep(() => blockAddresses(config, event.run, { waf: wafClient }));
});
