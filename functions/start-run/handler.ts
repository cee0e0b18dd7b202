// First state of every state machine: validate the input and plan the run. Makes no AWS call, so a
// bad input fails here (InvalidInput, naming the field) before anything changes.
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { InvalidInput } from '../../shared/errors.js';
import { planRun, SCENARIOS, type ExecutionInfo, type RunContext, type Scenario } from '../../shared/run.js';
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

export const handler = recoveryHandler(async (event: StartRunEvent): Promise<StartRunResult> => {
  if (!SCENARIOS.includes(event.scenario as Scenario)) {
    throw new InvalidInput(`unknown scenario ${JSON.stringify(event.scenario)}; expected one of ${SCENARIOS.join(', ')}`);
  }
  const run = planRun(event.scenario as Scenario, event.input, event.execution, deploymentConfigFromEnvironment());
  return { run, steps: {}, failures: {} };
});
