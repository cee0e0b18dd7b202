// Shapes the report and metrics tests build runs from: a run context and step outputs as the
// handlers return them (see shared/steps.ts runStep).
import type { ObjectiveResult } from '../../shared/objectives.js';
import type { Check, ResourceRecord } from '../../shared/report.js';
import type { RunContext } from '../../shared/run.js';
import type { ScenarioName } from '../../shared/scenarios.js';
import type { Action, StepOutput } from '../../shared/steps.js';

export const RUN_STARTED = '2026-11-25T06:00:00.000Z';

export function runContext(options: Partial<RunContext> & { scenario?: ScenarioName } = {}): RunContext {
  return {
    scenario: 'restore-test',
    executionId: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-restore-test:weekly-2026-11-25',
    executionName: 'weekly-2026-11-25',
    startedAt: RUN_STARTED,
    incidentAt: RUN_STARTED,
    incidentNamedByOperator: false,
    trigger: 'schedule',
    dryRun: false,
    reason: 'scheduled run',
    databases: ['frontier-prod'],
    force: false,
    rollback: null,
    productionReplicas: 3,
    recovery: null,
    ...options,
  };
}

/** ISO time `minutes` after the run started. */
export function at(minutes: number): string {
  return new Date(Date.parse(RUN_STARTED) + minutes * 60_000).toISOString();
}

export function stepOutput(
  startedMinute: number,
  finishedMinute: number,
  extra: Partial<Pick<StepOutput<unknown>, 'checks' | 'objectives' | 'resources'>> & { actions?: Action[]; detail?: string } = {},
): StepOutput<unknown> {
  const { actions = [], detail, ...rest } = extra;
  return {
    step: {
      status: 'succeeded',
      startedAt: at(startedMinute),
      finishedAt: at(finishedMinute),
      actions,
      ...(detail ? { detail } : {}),
    },
    data: {},
    ...rest,
  };
}

export function passedCheck(name: string, options: Partial<Check> = {}): Check {
  return {
    name,
    resource: 'frontier-prod in us-east-1',
    measured: 'ok',
    target: 'ok',
    passed: true,
    message: `${name} passed.`,
    ...options,
  };
}

export function failedCheck(name: string, options: Partial<Check> = {}): Check {
  return passedCheck(name, { passed: false, measured: 'bad', message: `${name} failed.`, ...options });
}

export function objectiveResult(component: string, options: Partial<ObjectiveResult> = {}): ObjectiveResult {
  return {
    component,
    rtoMinutes: 30,
    rpoMinutes: 15,
    measuredRtoMinutes: 22.5,
    measuredRpoMinutes: null,
    met: true,
    note: `${component} measured by the restore test`,
    ...options,
  };
}

export function scratchResource(kept: boolean, note: string): ResourceRecord {
  return { kind: 'rds:db-instance', id: 'frontier-prod-drtest-0123456789', region: 'us-east-1', kept, note };
}
