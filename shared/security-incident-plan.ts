// What a security-incident run will do, in words, from the config and the run's input alone: the
// approvers see these lines before the first change (the approval request). Pure and free of AWS
// clients: StartRun, which every state machine runs first, bundles it. Names only, never a secret value.
import { clusterFor, kubernetesConfig, securityIncidentConfig, wafIpSetRegion, type DeploymentConfig } from './config.js';
import { InvalidInput } from './errors.js';
import type { RunContext, SecurityIncidentRequest } from './run.js';

/** How many blocked addresses a line names before "and N more" (an approval line holds 300 characters). */
const ADDRESSES_SHOWN = 5;

/** `a, b, c and 7 more`. */
export function listAddresses(cidrs: readonly string[]): string {
  const shown = cidrs.slice(0, ADDRESSES_SHOWN).join(', ');
  return cidrs.length > ADDRESSES_SHOWN ? `${shown} and ${cidrs.length - ADDRESSES_SHOWN} more` : shown;
}

/** The security-incident part of a run; a step of that scenario cannot run without it. */
export function incidentRequest(run: Pick<RunContext, 'scenario' | 'securityIncident'>): SecurityIncidentRequest {
  if (!run.securityIncident) throw new InvalidInput(`run.securityIncident is missing: this step belongs to security-incident, not ${run.scenario}`);
  return run.securityIncident;
}

/**
 * The changes a security-incident run makes, one line each, in run order (at most 8 lines of at most
 * 300 characters). Throws InvalidConfig when the config has no securityIncident or kubernetes section.
 */
export function securityIncidentPlan(config: DeploymentConfig, request: SecurityIncidentRequest): string[] {
  const incident = securityIncidentConfig(config);
  const { namespace, apiDeployment } = kubernetesConfig(config);
  const cluster = clusterFor(config, incident.cluster).name;
  const lines: string[] = [`incident ${request.incidentId}: contain at once, in parallel:`];
  lines.push(
    incident.apiKeys
      ? `- revoke the API keys: rotate secret ${incident.apiKeys.secret} now (a new key set; the old keys are then neither current nor in Secret ${namespace}/${incident.apiKeys.kubernetesSecret} on ${cluster})`
      : '- API keys: none configured (securityIncident.apiKeys), nothing to revoke',
  );
  if (request.blockIps.length === 0) {
    lines.push('- block addresses: none given');
  } else {
    const waf = incident.blockIps.wafIpSet;
    const places = [
      `NetworkPolicy ${namespace}/${incident.blockIps.networkPolicy} on ${cluster}${incident.blockIps.clientAddressPreserved ? '' : ' (which cannot see clients behind the load balancer: clientAddressPreserved is false)'}`,
      ...(waf ? [`WAF IP set ${waf.name} (${waf.scope}, ${wafIpSetRegion(config, waf)})`] : []),
    ];
    lines.push(`- block ${request.blockIps.length} address(es) (${listAddresses(request.blockIps)}) in ${places.join(' and ')}`);
  }
  lines.push(`- set ${incident.emergencyMode.key}=true in ConfigMap ${namespace}/${incident.emergencyMode.configMap} on ${cluster} (emergency mode)`);
  lines.push(`- collect evidence: API pod logs of the last ${incident.evidence.logHours} h and the database log-file list into s3://${incident.evidence.bucket}/${incident.evidence.prefix}${request.incidentId}/`);
  lines.push(request.secrets.length ? `then rotate now and wait for: ${request.secrets.join(', ')}` : 'then rotate no other secret (none listed)');
  if (request.patchedImage) lines.push(`then roll ${namespace}/${apiDeployment} on ${cluster} to ${request.patchedImage} and wait for the rollout`);
  lines.push('then the health gates (API /health, database SELECT 1, Redis PING)');
  return lines.map((line) => (line.length > 300 ? `${line.slice(0, 297)}...` : line));
}
