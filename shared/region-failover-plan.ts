// What a region failover will do, in words, from the config alone: the outage notice lists it for on
// call, and the approvers see the same lines before the first change (the approval request). Pure and
// free of AWS clients: StartRun, which every state machine runs first, bundles it.
import { kubernetesConfig, regionFailoverConfig, type DeploymentConfig } from './config.js';

/**
 * The changes a region failover makes, one line each, in run order (no secret values: names only).
 * Throws InvalidConfig when the config has no regionFailover or kubernetes section.
 */
export function regionFailoverPlan(config: DeploymentConfig): string[] {
  const failover = regionFailoverConfig(config);
  const kubernetes = kubernetesConfig(config);
  const records = failover.dns.map((r) => `${r.recordName} (${r.mode})`).join(', ');
  return [
    'check the recovery region (restore source, restore settings, manifests, DNS records, the recovery cluster)',
    `in parallel: restore ${failover.database} in ${config.recoveryRegion}, and bring up ${kubernetes.apiDeployment} on ${kubernetes.clusters.backup.name} (${kubernetes.productionReplicas} replicas)`,
    'point the API at the restored database, pass the health gates (API /health, SELECT 1, Redis PING)',
    `only then move ${records} to ${config.recoveryRegion}`,
  ];
}
