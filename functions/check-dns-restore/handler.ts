// Region failback: one look at the DNS changes that set the recorded values again, until INSYNC.
import { route53Client } from '../../shared/clients.js';
import { checkTrafficRestore } from '../../shared/region-failback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

/** Route 53 applies a change within minutes; past this the run fails naming the change. */
const DNS_TIMEOUT_MINUTES = 10;

export const handler = recoveryHandler(async (event: { run: RunContext; changes: { changeId: string; submittedAt: string }[] }) =>
  runStep(() => checkTrafficRestore(route53Client(), event.changes, DNS_TIMEOUT_MINUTES, new Date())),
);
