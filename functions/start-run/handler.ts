// First state of every state machine: validate the input and plan the run (shared/run.ts, which also
// refuses an unknown scenario). Makes no AWS call, so a bad input fails here (InvalidInput, naming the
// field) before anything changes.
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { approvalRequestFor } from '../../shared/approval-request.js';
import { planReadinessRun, READINESS, type ReadinessRun } from '../../shared/readiness-run.js';
import { planRun, type ExecutionInfo, type RunContext } from '../../shared/run.js';
import { recoveryHandler } from '../common/lambda.js';

interface StartRunEvent {
  scenario: string;
  input?: unknown;
  execution: ExecutionInfo;
}

export interface StartRunResult {
  run: RunContext;
  steps: Record<string, never>;
  failures: Record<string, never>;
  /** Scenarios that ask before they act: what the approvers are told the run will do (PlanApproval's request). */
  approvalRequest?: { actions: string[] };
}

export const handler = recoveryHandler(async (event: StartRunEvent): Promise<StartRunResult | { run: ReadinessRun }> => {
  const config = deploymentConfigFromEnvironment();
  // The readiness evaluation is no scenario (it changes nothing): its own input, the scenarios to evaluate.
  if (event.scenario === READINESS) return { run: planReadinessRun(event.input, event.execution, config) };
  const run = planRun(event.scenario, event.input, event.execution, config);
  return { run, steps: {}, failures: {}, ...approvalRequestFor(run, config) };
});
