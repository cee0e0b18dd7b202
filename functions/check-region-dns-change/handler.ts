// One look at the control-plane DNS changes MoveDns made, per loop of the state machine's Wait/Choice.
import { dnsClients } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { checkTrafficChanges, dnsChangeLimitMinutes, type DnsChange } from '../../shared/dns.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CheckRegionDnsEvent {
  run: RunContext;
  changes: DnsChange[];
}

export const handler = recoveryHandler(async (event: CheckRegionDnsEvent) => {
  const limit = dnsChangeLimitMinutes(deploymentConfigFromEnvironment(), event.run.scenario);
  return runStep(() => checkTrafficChanges(dnsClients(), event.changes, limit, new Date()));
});
