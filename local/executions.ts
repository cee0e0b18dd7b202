// Local executions of the real state machine definitions, known to moto's Step Functions as well.
import { randomUUID } from 'node:crypto';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { EMULATOR_CREDENTIALS } from './emulator-clients.js';
import { loadDefinition, runStateMachine, type LocalRunOptions, type LocalRunResult } from './local-state-machine.js';
const registeredMachines = new Map<string, Promise<unknown>>();

/**
 * runStateMachine (the real definition, the real handlers, in this process), with the execution also
 * started in the emulator's Step Functions under the same ARN while it runs and stopped (ABORTED) when
 * it ends, so DescribeExecution answers RUNNING for it as AWS would: the database recovery lock asks
 * whether the execution holding it still runs. The local runner names executions in us-east-1 of
 * moto's default account, so that is where the state machine is registered.
 */
export async function runEmulatedExecution(endpoint: string, scenario: string, input: unknown, options: LocalRunOptions = {}): Promise<LocalRunResult> {
  const sfn = new SFNClient({ region: 'us-east-1', endpoint, credentials: EMULATOR_CREDENTIALS });
  const name = `frontier-dr-${scenario}`;
  const key = `${endpoint} ${name}`;
  let registered = registeredMachines.get(key);
  if (!registered) {
    registered = sfn.send(
      new CreateStateMachineCommand({
        name,
        definition: JSON.stringify(loadDefinition(scenario).definition),
        roleArn: 'arn:aws:iam::123456789012:role/frontier-dr-local',
      }),
    );
    registered.catch(() => registeredMachines.delete(key));
    registeredMachines.set(key, registered);
  }
  const machine = (await registered) as { stateMachineArn?: string };
  const executionName = options.executionName ?? `local-${Date.now()}-${randomUUID().slice(0, 8)}`;
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name: executionName, input: JSON.stringify(input ?? {}) }));
  try {
    const run = await runStateMachine(scenario, input, { ...options, executionName });
    if (run.executionId !== started.executionArn) throw new Error(`local execution ${run.executionId} is not the one moto knows (${started.executionArn})`);
    return run;
  } finally {
    await sfn.send(new StopExecutionCommand({ executionArn: started.executionArn })).catch(() => undefined);
    sfn.destroy();
  }
}
