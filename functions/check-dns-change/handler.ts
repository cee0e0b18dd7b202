// One look at the Route 53 changes a traffic move submitted (cluster failover's MoveTraffic, region
// failback's RestoreDnsTraffic), per loop of the state machine's Wait/Choice: INSYNC once every Route 53
// name server answers with the new records; the answer says when the next look is worth making
// (nextCheckSeconds); gives up past the scenario's limit (dnsChangeLimitMinutes).
import { dnsClients } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { checkTrafficChanges, dnsChangeLimitMinutes, type DnsChange } from '../../shared/dns.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CheckDnsChangeEvent {
  run: RunContext;
  changes: DnsChange[];
}

export const handler = recoveryHandler(async (event: CheckDnsChangeEvent) => {
  const limit = dnsChangeLimitMinutes(deploymentConfigFromEnvironment(), event.run.scenario);
  return runStep(() => checkTrafficChanges(dnsClients(), event.changes, limit, new Date()));
});
