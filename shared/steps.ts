// Every action state returns the same envelope, so the report step can build a timeline from any
// scenario without knowing it: what the step did, when, and its own data for the next states.
import type { ObjectiveResult } from './objectives.js';
import type { Check, ResourceRecord } from './report.js';

/** A call a step made, or in a dry run would have made, with the exact parameters. */
export interface Action {
  description: string;
  service: string;
  operation: string;
  parameters: Record<string, unknown>;
  performed: boolean;
}

export interface StepRecord {
  name: string;
  status: 'succeeded' | 'failed' | 'skipped';
  startedAt: string | null;
  finishedAt: string | null;
  actions: Action[];
  detail?: string;
  error?: string;
}

export interface StepOutput<T> {
  /** The report names the step after the state that ran it (the key under `steps`). */
  step: Omit<StepRecord, 'name'>;
  checks?: Check[];
  objectives?: ObjectiveResult[];
  resources?: ResourceRecord[];
  data: T;
}

/** What a Step Functions Catch stores at its ResultPath. */
export interface StepFailure {
  Error: string;
  Cause?: string;
}

export interface StepResult<T> {
  data: T;
  actions?: Action[];
  checks?: Check[];
  objectives?: ObjectiveResult[];
  resources?: ResourceRecord[];
  detail?: string;
  status?: 'succeeded' | 'skipped';
}

/**
 * Times one step and wraps its result in the envelope. Errors are not caught here: they must reach
 * Step Functions with their name so Retry/Catch can act on them.
 */
export async function runStep<T>(work: () => Promise<StepResult<T>>, clock: () => Date = () => new Date()): Promise<StepOutput<T>> {
  const startedAt = clock().toISOString();
  const result = await work();
  const output: StepOutput<T> = {
    step: {
      status: result.status ?? 'succeeded',
      startedAt,
      finishedAt: clock().toISOString(),
      actions: result.actions ?? [],
      ...(result.detail ? { detail: result.detail } : {}),
    },
    data: result.data,
  };
  if (result.checks) output.checks = result.checks;
  if (result.objectives) output.objectives = result.objectives;
  if (result.resources) output.resources = result.resources;
  return output;
}
