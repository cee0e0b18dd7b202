// Cluster failover's last action, once the backup passed the health gates: the DNS record clients use
// (kubernetes.traffic) is moved to the backup cluster in its mode (data-plane: ARC routing controls;
// control-plane: Route 53 UPSERT); skipped when the config names no record. What the record held
// before goes into the report: failing back is setting it again.
import { dnsClients } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, kubernetesConfig } from '../../shared/config.js';
import { moveClientsToBackup } from '../../shared/dns.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  const kubernetes = kubernetesConfig(config);
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'MoveTraffic');
  // The region being failed away from is the primary cluster's: control-plane mode warns when it is us-east-1.
  return runStep(() => moveClientsToBackup(dnsClients(), kubernetes.traffic, event.run, { primaryRegion: kubernetes.clusters.primary.region }, new Date()));
});
