// One look at the DNS change per loop of the state machine's Wait/Choice: INSYNC once every Route 53
// name server answers with the new record; gives up past kubernetes.traffic.timeoutMinutes.
import { route53Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, kubernetesConfig } from '../../shared/config.js';
import { checkTrafficMove } from '../../shared/dns.js';
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
  return runStep(() => checkTrafficMove(route53Client(), kubernetesConfig(config).traffic, { changeId: event.changeId, submittedAt: event.submittedAt }, new Date()));
});
