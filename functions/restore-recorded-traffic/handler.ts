// Region failback: DNS back to exactly the values the region failover recorded, in each record's mode
// (shared/dns.ts restoreRecordedTraffic), read back and verified.
import { dnsClients } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { restoreRecordedTraffic } from '../../shared/dns.js';
import type { FailoverRecord } from '../../shared/failback-record.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

export const handler = recoveryHandler(async (event: { run: RunContext; record: FailoverRecord }) => {
  const config = deploymentConfigFromEnvironment();
  await ensureOwnsRecovery(config, event.run, 'RestoreDnsTraffic');
  // A control-plane change is looked at once, then as checkDnsChange's nextCheckSeconds says (shared/polling.ts).
  return runStep(() => restoreRecordedTraffic(dnsClients(), event.record.dns, event.run, new Date()));
});
