// First state of every state machine: validate the input and plan the run (shared/run.ts, which also
// refuses an unknown scenario). Makes no AWS call, so a bad input fails here (InvalidInput, naming the
// field) before anything changes.
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
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
}

export const handler = recoveryHandler(async (event: StartRunEvent): Promise<StartRunResult> => ({
  run: planRun(event.scenario, event.input, event.execution, deploymentConfigFromEnvironment()),
  steps: {},
  failures: {},
}));
