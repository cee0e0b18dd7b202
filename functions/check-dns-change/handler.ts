// One look at the DNS change per loop of the state machine's Wait/Choice: INSYNC once every Route 53
// name server answers with the new record; gives up past kubernetes.traffic.timeoutMinutes.
import { route53Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, kubernetesConfig } from '../../shared/config.js';
import { checkDnsChange } from '../../shared/dns.js';
import { InvalidConfig } from '../../shared/errors.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CheckDnsChangeEvent {
  run: RunContext;
  changeId: string;
  submittedAt: string;
}

export const handler = recoveryHandler(async (event: CheckDnsChangeEvent) => {
  const config = deploymentConfigFromEnvironment();
  const traffic = kubernetesConfig(config).traffic;
  if (!traffic) throw new InvalidConfig('kubernetes.traffic is not configured: there is no DNS change to wait for');
  return runStep(async () => {
    const status = await checkDnsChange(route53Client(), event.changeId, event.submittedAt, traffic.timeoutMinutes, new Date());
    return { data: status, detail: `Route 53 change ${status.changeId} is ${status.status} (after ${status.waitedMinutes} min)` };
  });
});
