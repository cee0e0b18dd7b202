// Region failback: DNS back to exactly the values the region failover recorded, read back and verified.
import { route53Client } from '../../shared/clients.js';
import { restoreRecordedTraffic } from '../../shared/dns-restore.js';
import { DNS_FIRST_WAIT_SECONDS, type FailoverRecord } from '../../shared/region-failback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

export const handler = recoveryHandler(async (event: { run: RunContext; record: FailoverRecord }) => {
  const config = deploymentConfigFromEnvironment();
  await ensureOwnsRecovery(config, event.run, 'RestoreDnsTraffic');
  return runStep(async () => {
    const restored = await restoreRecordedTraffic({ route53: route53Client() }, event.record.dns, event.run, new Date());
    return { ...restored, data: { ...restored.data, firstWaitSeconds: restored.data.waitForChange ? DNS_FIRST_WAIT_SECONDS : 0 } };
  });
});
