// The request the approvers of a scenario see (PlanApproval's `request`), made by StartRun from the
// config alone so that it exists before anything runs: the lines of what the run will change.
import type { DeploymentConfig } from './config.js';
import { regionFailoverPlan } from './region-failover-plan.js';
import { incidentRequest, securityIncidentPlan } from './security-incident-plan.js';
import type { RunContext } from './run.js';

/**
 * `{approvalRequest: {actions}}` for a scenario whose state machine asks before it acts (region-failover,
 * security-incident: from its input too), `{}` for the others. Pure. Throws InvalidConfig when the
 * scenario's config section is missing.
 */
export function approvalRequestFor(run: Pick<RunContext, 'scenario' | 'securityIncident'>, config: DeploymentConfig): { approvalRequest?: { actions: string[] } } {
  if (run.scenario === 'region-failover') return { approvalRequest: { actions: regionFailoverPlan(config) } };
  if (run.scenario === 'security-incident') return { approvalRequest: { actions: securityIncidentPlan(config, incidentRequest(run)) } };
  return {};
}
