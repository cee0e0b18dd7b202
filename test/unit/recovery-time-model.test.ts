// The recovery-time model (scripts/recovery-time-model.ts) on small state machines whose critical path
// can be worked out by hand, and on the real definitions.
import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { loadDeploymentConfigFile } from '../../shared/config-file.js';
import { MAX_OVERSHOOT_SECONDS } from '../../shared/polling.js';
import { handlerPath } from '../../local/local-state-machine.js';
import {
  defaultDurations,
  LOOKS,
  modelEveryStateMachine,
  modelManualRunbook,
  modelStateMachine,
  optionsFor,
  STARTED_BY,
  stateMachineNames,
  TASK_SECONDS,
} from '../../scripts/recovery-time-model.js';

const task = (fn: string, next?: string) => ({ Type: 'Task', Resource: { 'Fn::GetAtt': [fn, 'Arn'] }, ...(next ? { Next: next } : { End: true }) });
const machine = (states: Record<string, unknown>, startAt = Object.keys(states)[0] as string) => ({ name: 'test', definition: { StartAt: startAt, States: states } });
const LAMBDA = defaultDurations().lambdaInvocation;

describe('modelStateMachine on small graphs', () => {
  it('adds the Tasks of a sequential machine, one Lambda invocation each, and counts every state entered', () => {
    const model = modelStateMachine(machine({ StartRun: task('startRun', 'Assess'), Assess: task('assessDatabase', 'Done'), Done: { Type: 'Succeed' } }));

    expect(model.totalSeconds).toBe(2 * LAMBDA);
    expect(model.transitions).toBe(3);
    expect(model.criticalPath).toEqual(['StartRun', 'Assess']);
  });

  it('gives a Parallel the time of its longest branch, and names that branch', () => {
    const model = modelStateMachine(
      machine({
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Quick', States: { Quick: task('assessDatabase') } },
            { StartAt: 'Prewarm', States: { Prewarm: task('prewarmDatabase', 'After'), After: task('repointApplication') } },
          ],
          Next: 'Done',
        },
        Done: { Type: 'Succeed' },
      }),
    );

    expect(model.totalSeconds).toBe((TASK_SECONDS.prewarmDatabase?.seconds ?? NaN) + LAMBDA);
    expect(model.criticalPath).toEqual(['Both', 'Prewarm', 'After']);
    expect(model.segments[0]?.detail).toContain('the longest is branch 1');
  });

  it('runs a Map\'s items MaxConcurrency at a time', () => {
    const map = {
      Type: 'Map',
      ItemsPath: '$.run.databases',
      MaxConcurrency: 2,
      ItemProcessor: { StartAt: 'Verify', States: { Verify: task('verifyDatabaseBackups') } },
      Next: 'Done',
    };

    const five = modelStateMachine(machine({ Each: map, Done: { Type: 'Succeed' } }), { mapItems: { '$.run.databases': 5 } });
    const fromRun = modelStateMachine(machine({ Each: map, Done: { Type: 'Succeed' } }), { run: { databases: ['a', 'b', 'c', 'd'] } });

    expect(five.totalSeconds).toBe(3 * LAMBDA); // 2 + 2 + 1
    expect(five.transitions).toBe(1 + 5 + 1);
    expect(fromRun.totalSeconds).toBe(2 * LAMBDA);
  });

  it('runs a wait loop on the look function\'s schedule: first wait to the floor, then polls, and measures the overshoot', () => {
    const loop = machine({
      StartRestore: task('startDatabaseRestore', 'CheckRestore'),
      CheckRestore: { ...task('checkDatabaseRestore', 'IsAvailable'), ResultPath: '$.steps.CheckRestore' },
      IsAvailable: { Type: 'Choice', Choices: [{ Variable: '$.steps.CheckRestore.data.available', BooleanEquals: true, Next: 'Done' }], Default: 'WaitForRestore' },
      WaitForRestore: { Type: 'Wait', SecondsPath: '$.steps.CheckRestore.data.nextCheckSeconds', Next: 'CheckRestore' },
      Done: { Type: 'Succeed' },
    });

    const model = modelStateMachine(loop, { durations: { rdsRestore: 200 } });

    // Restore started at 1 s (end of its invocation), done at 201 s. Looks end at 2 s (wait to the 180-s
    // floor: 179 s), 182 s (wait 10), 193 s (wait 10), 204 s: seen done 3 s late.
    expect(model.loops).toEqual([
      expect.objectContaining({ state: 'CheckRestore', waitsFor: 'rds-restore', readyAfterSeconds: 200, seenAfterSeconds: 203, overshootSeconds: 3, looks: 4, waits: '179, 10 ×2' }),
    ]);
    expect(model.totalSeconds).toBe(204);
    // StartRestore, then 4 looks and Choices and 3 Waits, then Done.
    expect(model.transitions).toBe(1 + 4 * 2 + 3 + 1);
    expect(model.criticalPath).toEqual(['StartRestore', 'CheckRestore']);
  });

  it('takes the Choice alternative that makes the run longest without ending in a Fail state', () => {
    const model = modelStateMachine(
      machine({
        Decide: { Type: 'Choice', Choices: [{ Variable: '$.a', BooleanEquals: true, Next: 'Short' }, { Variable: '$.b', BooleanEquals: true, Next: 'Failing' }], Default: 'Long' },
        Short: task('assessDatabase', 'Done'),
        Failing: task('prewarmDatabase', 'Failed'),
        Long: task('assessDatabase', 'Longer'),
        Longer: task('repointApplication', 'Done'),
        Failed: { Type: 'Fail', Error: 'X' },
        Done: { Type: 'Succeed' },
      }),
    );

    expect(model.criticalPath).toEqual(['Long', 'Longer']);
    expect(model.totalSeconds).toBe(2 * LAMBDA);
  });

  it('counts the approvers\' answer in a callback Task only when the policy asks', () => {
    const approval = machine({
      RequestApproval: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: { 'Fn::GetAtt': ['requestApproval', 'Arn'] }, Payload: { 'taskToken.$': '$$.Task.Token' } },
        TimeoutSeconds: 1800,
        End: true,
      },
    });

    expect(modelStateMachine(approval).totalSeconds).toBe(LAMBDA + defaultDurations().approvalAnswer);
    expect(modelStateMachine(approval, { approvalAsked: false }).totalSeconds).toBe(LAMBDA);
  });

  it('refuses a state type it cannot model, naming the state', () => {
    expect(() => modelStateMachine(machine({ Odd: { Type: 'Sleep', End: true } }))).toThrow('state Odd: type Sleep is not modelled');
  });
});

describe('the real state machines', () => {
  const config = loadDeploymentConfigFile('config/example.yml');

  it('database-recovery: restore, prewarm, repoint, replicas back, health gates, in that order', () => {
    const model = modelStateMachine('database-recovery', optionsFor('database-recovery', config));
    const order = ['StartDatabaseRestore', 'StopApiWrites', 'CheckDatabaseRestore', 'PrewarmDatabase', 'RepointApplication', 'RestoreApiReplicas', 'CheckRollout', 'RunHealthChecks', 'ReleaseRecoveryLock', 'PublishReport'];

    expect(model.criticalPath.filter((state) => order.includes(state))).toEqual(order);
    expect(model.criticalPath).not.toContain('NoRestoreToWaitFor');
    const restore = model.loops.find((l) => l.state === 'CheckDatabaseRestore');
    expect(restore?.readyAfterSeconds).toBe(defaultDurations().rdsRestore);
    expect(restore?.overshootSeconds).toBeLessThanOrEqual(MAX_OVERSHOOT_SECONDS);
    // The restore starts before writes stop: the stop is not on top of the 20 minutes.
    expect(model.totalSeconds).toBeLessThan(defaultDurations().rdsRestore + 5 * 60);
  });

  it('region-failover: confirmation, approval, the restore as the longest branch, then the restart and DNS', () => {
    const model = modelStateMachine('region-failover', optionsFor('region-failover', config));
    const parallel = model.segments.find((s) => s.kind === 'parallel');

    expect(model.criticalPath).toEqual(expect.arrayContaining(['ConfirmOutage', 'RequestApproval', 'RecoverInParallel', 'CheckRegionRestore', 'CheckRestartRollout', 'MoveDns', 'CheckDnsChange']));
    expect(parallel?.inner?.map((s) => s.state)).toContain('CheckRegionRestore');
    expect(model.criticalPath).not.toContain('ScaleApiOnBackup'); // the shorter branch
    expect(model.loops.find((l) => l.state === 'ConfirmOutage')?.readyAfterSeconds).toBe((config.regionFailover?.detection.confirmationMinutes ?? NaN) * 60);
  });

  it('models every statemachines/*.asl.yaml, every loop with a known schedule, every overshoot within the bound', () => {
    const all = modelEveryStateMachine(config);

    expect(all.scenarios.map((s) => s.name)).toEqual(stateMachineNames());
    for (const scenario of all.scenarios) {
      expect({ name: scenario.name, error: scenario.error }).toEqual({ name: scenario.name, error: undefined });
      expect(scenario.model?.notes.filter((n) => n.includes('no schedule'))).toEqual([]);
      for (const loop of scenario.model?.loops ?? []) expect(loop.overshootSeconds).toBeLessThanOrEqual(MAX_OVERSHOOT_SECONDS);
    }
  });

  it('names only functions that exist', () => {
    for (const fn of [...Object.keys(LOOKS), ...Object.keys(STARTED_BY), ...Object.keys(TASK_SECONDS)]) expect({ fn, exists: existsSync(handlerPath(fn)) }).toEqual({ fn, exists: true });
  });
});

describe('modelManualRunbook', () => {
  it('adds the steps one after another, an AWS CLI waiter seeing the restore at its next 30-s look', () => {
    const base = modelManualRunbook('database-recovery');
    const later = modelManualRunbook('database-recovery', { rdsRestore: defaultDurations().rdsRestore + 1 });

    expect(base?.totalSeconds).toBe(base?.steps.reduce((sum, step) => sum + step.seconds, 0));
    expect((later?.totalSeconds ?? NaN) - (base?.totalSeconds ?? NaN)).toBe(30);
  });

  it('has no runbook for a state machine the plan gives no shell steps for', () => {
    expect(modelManualRunbook('backup-verification')).toBeNull();
  });
});
