// Region failover's last change, once the recovery region passed its health gates: every record of
// regionFailover.dns to the recovery region, each in its mode; what each held before is recorded for
// the failback.
import { dnsClients } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, regionFailoverConfig } from '../../shared/config.js';
import { moveTraffic } from '../../shared/dns.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'MoveDns');
  return runStep(() => moveTraffic(dnsClients(), regionFailoverConfig(config).dns, event.run, { primaryRegion: config.primaryRegion, backupName: `the recovery region ${config.recoveryRegion}` }, new Date()));
});
