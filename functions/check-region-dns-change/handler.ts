// One look at the control-plane DNS changes MoveDns made, per loop of the state machine's Wait/Choice.
import { dnsClients } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, regionFailoverConfig } from '../../shared/config.js';
import { checkTrafficChanges, type DnsChange } from '../../shared/dns.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CheckRegionDnsEvent {
  run: RunContext;
  changes: DnsChange[];
}

export const handler = recoveryHandler(async (event: CheckRegionDnsEvent) => {
  const config = deploymentConfigFromEnvironment();
  const timeoutMinutes = Math.max(...regionFailoverConfig(config).dns.map((r) => r.timeoutMinutes));
  return runStep(() => checkTrafficChanges(dnsClients(), event.changes, timeoutMinutes, new Date()));
});
