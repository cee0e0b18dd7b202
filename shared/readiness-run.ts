// The readiness state machine's first state (StartRun): which scenarios to evaluate. Kept apart from
// the checks (shared/readiness.ts) so StartRun bundles none of their clients. Calls no AWS API.
import * as z from 'zod/mini';
import type { DeploymentConfig } from './config.js';
import type { ReadinessCheck } from './readiness-check.js';
import { describeIssues, InvalidInput } from './errors.js';
import type { ExecutionInfo } from './run.js';
import { SCENARIO_NAMES, whyUnsupported, type ScenarioName } from './scenarios.js';

/** The state machine's name (statemachines/readiness.asl.yaml); not a scenario: it changes nothing. */
export const READINESS = 'readiness';

/** What StartRun hands the readiness state machine: which scenarios to evaluate, and which it cannot. */
export interface ReadinessRun {
  scenario: typeof READINESS;
  executionId: string;
  executionName: string;
  /** UTC ISO. */
  startedAt: string;
  trigger: string;
  /** Accepted for the common input shape; an evaluation changes nothing either way. */
  dryRun: boolean;
  reason: string | null;
  /** Evaluated, in run order (shared/scenarios.ts). */
  scenarios: ScenarioName[];
  /** Scenarios this deployment's config cannot run (whyUnsupported): reported, not evaluated. */
  unsupported: { scenario: ScenarioName; why: string }[];
}

const readinessInput = z.strictObject({
  dryRun: z._default(z.boolean(), false),
  reason: z.optional(z.string().check(z.maxLength(500))),
  trigger: z._default(z.enum(['manual', 'schedule']), 'manual'),
  scenarios: z.optional(z.array(z.string()).check(z.minLength(1), z.maxLength(SCENARIO_NAMES.length))),
});

/**
 * StartRun of the readiness state machine: validates the input (`{scenarios?: [names], reason?,
 * trigger?: manual|schedule, dryRun?}`; an empty input evaluates every scenario the config supports)
 * and returns the run. Calls no AWS API. Throws InvalidInput naming each bad field (an unknown
 * scenario, or one the config cannot run, with why).
 */
export function planReadinessRun(rawInput: unknown, execution: ExecutionInfo, config: DeploymentConfig): ReadinessRun {
  const input = rawInput === undefined || rawInput === null ? {} : rawInput;
  const parsed = readinessInput.safeParse(input);
  if (!parsed.success) throw new InvalidInput(`readiness: the input is not valid:\n${describeIssues(parsed.error.issues, input)}`);
  const startedAt = Date.parse(execution.startTime);
  if (Number.isNaN(startedAt)) throw new InvalidInput(`execution.startTime: got ${JSON.stringify(execution.startTime)}; expected the execution's ISO start time`);
  const problems: string[] = [];
  const named = parsed.data.scenarios;
  named?.forEach((name, i) => {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) problems.push(`  - scenarios[${i}]: got ${JSON.stringify(name)}; expected one of ${SCENARIO_NAMES.join(', ')}`);
    else {
      const why = whyUnsupported(name as ScenarioName, config);
      if (why) problems.push(`  - scenarios[${i}]: got ${JSON.stringify(name)}; this deployment's config ${why}`);
    }
  });
  if (problems.length > 0) throw new InvalidInput(`readiness: the input is not valid:\n${problems.join('\n')}`);
  const wanted = SCENARIO_NAMES.filter((name) => (named ? named.includes(name) : true));
  const unsupported = named ? [] : wanted.flatMap((scenario) => {
    const why = whyUnsupported(scenario, config);
    return why ? [{ scenario, why }] : [];
  });
  return {
    scenario: READINESS,
    executionId: execution.id,
    executionName: execution.name,
    startedAt: new Date(startedAt).toISOString(),
    trigger: parsed.data.trigger,
    dryRun: parsed.data.dryRun,
    reason: parsed.data.reason ?? null,
    scenarios: wanted.filter((scenario) => !unsupported.some((u) => u.scenario === scenario)),
    unsupported,
  };
}

/** One scenario's verdict: ready only when every check passed. */
export interface ScenarioReadiness {
  scenario: ScenarioName;
  ready: boolean;
  /** UTC ISO: when the evaluation started. */
  evaluatedAt: string;
  /** The whole evaluation, in ms. */
  durationMs: number;
  checks: ReadinessCheck[];
}
