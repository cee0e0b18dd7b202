// Cluster failover's last action, once the backup passed the health gates: the DNS record clients use
// (kubernetes.traffic) is set to the backup cluster; skipped when the config names no record. The
// record's previous value goes into the report: failing back is setting it again.
import { route53Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, kubernetesConfig } from '../../shared/config.js';
import { moveClientsToBackup } from '../../shared/dns.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'MoveTraffic');
  return runStep(() => moveClientsToBackup(route53Client(), kubernetesConfig(config).traffic, event.run, new Date()));
});
