// Region failback: one look at the Route 53 changes that set the recorded values again, until INSYNC
// (shared/dns.ts checkTrafficChanges, which says when the next look is worth making).
import { dnsClients } from '../../shared/clients.js';
import { checkTrafficChanges, type DnsChange } from '../../shared/dns.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

/** Route 53 applies a change within minutes; past this the run fails naming the change. */
const DNS_TIMEOUT_MINUTES = 10;

export const handler = recoveryHandler(async (event: { run: RunContext; changes: DnsChange[] }) =>
  runStep(() => checkTrafficChanges(dnsClients(), event.changes, DNS_TIMEOUT_MINUTES, new Date())),
);
