// One look at the Route 53 changes MoveTraffic submitted, per loop of the state machine's Wait/Choice:
// INSYNC once every Route 53 name server answers with the new records; the answer says when the next
// look is worth making (nextCheckSeconds); gives up past kubernetes.traffic.timeoutMinutes.
import { dnsClients } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, kubernetesConfig } from '../../shared/config.js';
import { checkTrafficChanges, type DnsChange } from '../../shared/dns.js';
import { InvalidConfig } from '../../shared/errors.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CheckDnsChangeEvent {
  run: RunContext;
  changes: DnsChange[];
  /** Region failback: its own limit (the records are the failover's, not kubernetes.traffic). */
  timeoutMinutes?: number;
}

export const handler = recoveryHandler(async (event: CheckDnsChangeEvent) => {
  const timeoutMinutes = event.timeoutMinutes ?? kubernetesConfig(deploymentConfigFromEnvironment()).traffic?.timeoutMinutes;
  if (timeoutMinutes === undefined) throw new InvalidConfig('kubernetes.traffic is not configured: there is no DNS change to wait for');
  return runStep(() => checkTrafficChanges(dnsClients(), event.changes, timeoutMinutes, new Date()));
});
