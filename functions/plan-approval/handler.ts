// PlanApproval: the scenario's approval policy (config `approvals`) and the request the approvers
// will see (shared/approval.ts). Makes no AWS call.
import { planApproval } from '../../shared/approval.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface PlanApprovalEvent {
  run: RunContext;
  /** {actions: [...]}: what the run will do once approved, in words. */
  request: unknown;
}

export const handler = recoveryHandler(async (event: PlanApprovalEvent) =>
  runStep(async () => planApproval(deploymentConfigFromEnvironment(), event.run, event.request)),
);
