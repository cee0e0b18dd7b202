// The first state of every state machine: validate the execution input against the deployment and
// turn it into the run context later states read. Nothing here calls AWS, so bad input stops the
// execution before any change.
import * as z from 'zod/mini';
import type { DeploymentConfig } from './config.js';
import { InvalidInput, describeIssues } from './errors.js';

export const SCENARIOS = ['backup-verification', 'restore-test'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface RunContext {
  scenario: Scenario;
  executionId: string;
  executionName: string;
  startedAt: string;
  trigger: string;
  dryRun: boolean;
  reason: string | null;
  /** The protected databases this run covers, in config order. */
  databases: string[];
}

export interface ExecutionInfo {
  id: string;
  name: string;
  startTime: string;
}

// Shared by every scenario's manual input: a typo such as "dryrun" must fail, not be ignored.
const manualInput = z.strictObject({
  databases: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  dryRun: z._default(z.boolean(), false),
  reason: z.optional(z.string().check(z.maxLength(500))),
  /** Set by the stack's own schedules that pass a fixed input (e.g. the monthly drill). */
  trigger: z._default(z.enum(['manual', 'schedule']), 'manual'),
});

// EventBridge starts a state machine with the whole event when a rule gives no Input.
const scheduledEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

export function planRun(scenario: Scenario, rawInput: unknown, execution: ExecutionInfo, config: DeploymentConfig): RunContext {
  const base = {
    scenario,
    executionId: execution.id,
    executionName: execution.name,
    startedAt: execution.startTime,
  };
  const configured = config.databases.map((d) => d.name);

  if (scheduledEvent.safeParse(rawInput).success) {
    return { ...base, trigger: 'schedule', dryRun: false, reason: 'scheduled run', databases: configured };
  }

  // An empty input (`{}` or no input at all) is a manual start with every default.
  const input = rawInput === undefined || rawInput === null ? {} : rawInput;
  const parsed = manualInput.safeParse(input);
  if (!parsed.success) {
    throw new InvalidInput(`${scenario} input is invalid; nothing was changed:\n${describeIssues(parsed.error.issues, input)}`);
  }
  const requested = parsed.data.databases ?? configured;
  const unknown = requested.filter((name) => !configured.includes(name));
  if (unknown.length > 0) {
    throw new InvalidInput(
      `${scenario} input is invalid; nothing was changed:\n  - databases: got ${JSON.stringify(unknown)}; expected databases protected by this deployment (${configured.join(', ')})`,
    );
  }
  return {
    ...base,
    trigger: parsed.data.trigger,
    dryRun: parsed.data.dryRun,
    reason: parsed.data.reason ?? null,
    databases: configured.filter((name) => requested.includes(name)),
  };
}
