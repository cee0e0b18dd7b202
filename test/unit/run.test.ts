import { InvalidConfig, InvalidInput } from '../../shared/errors.js';
import { planRun, startedByAlarm, type ExecutionInfo } from '../../shared/run.js';
import { SCENARIO_NAMES, SCENARIOS, type ScenarioName } from '../../shared/scenarios.js';
import { configWith, exampleConfig } from '../support/fixtures.js';
import { scheduledEvent } from '../support/state-machine-runs.js';

const execution: ExecutionInfo = {
  id: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-restore-test:manual-1',
  name: 'manual-1',
  startTime: '2026-11-25T12:00:00.000Z',
};
const config = exampleConfig();
// Three protected databases, so a subset differs from "all".
const threeDatabases = configWith((c) => {
  const first = c.databases[0]!;
  // Each with its own credentials secret: a secret has one rotation.
  c.databases.push({ ...structuredClone(first), name: 'frontier-orders', snapshotPrefix: 'frontier-orders-', credentialsSecret: 'frontier/orders/database' });
  c.databases.push({ ...structuredClone(first), name: 'frontier-billing', snapshotPrefix: 'frontier-billing-', credentialsSecret: 'frontier/billing/database' });
});

/** The message planRun throws for this input, or a failure when it accepts the input. */
function rejection(input: unknown, deployment = config): InvalidInput {
  try {
    planRun('restore-test', input, execution, deployment);
  } catch (error) {
    if (error instanceof InvalidInput) return error;
    throw error;
  }
  throw new Error(`planRun accepted ${JSON.stringify(input)}`);
}

describe('planRun', () => {
  it('plans a manual run with every default from an empty input', () => {
    // Act
    const run = planRun('restore-test', {}, execution, threeDatabases);

    // Assess
    expect(run).toEqual({
      scenario: 'restore-test',
      executionId: execution.id,
      executionName: 'manual-1',
      startedAt: '2026-11-25T12:00:00.000Z',
      incidentAt: '2026-11-25T12:00:00.000Z',
      incidentNamedByOperator: false,
      trigger: 'manual',
      dryRun: false,
      reason: null,
      databases: ['frontier-prod', 'frontier-orders', 'frontier-billing'],
      force: false,
      rollback: null,
      productionReplicas: 3,
      recovery: null,
    });
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
  ])('treats a %s input as an empty one', (_label, input) => {
    expect(planRun('backup-verification', input, execution, config)).toMatchObject({
      scenario: 'backup-verification',
      trigger: 'manual',
      dryRun: false,
      reason: null,
      databases: ['frontier-prod'],
    });
  });

  it('carries dryRun and the reason', () => {
    const run = planRun('restore-test', { dryRun: true, reason: 'rehearsal before the audit' }, execution, config);

    expect(run).toMatchObject({ dryRun: true, reason: 'rehearsal before the audit', trigger: 'manual' });
  });

  it('runs only the requested databases, each once', () => {
    const run = planRun('restore-test', { databases: ['frontier-orders', 'frontier-orders'] }, execution, threeDatabases);

    expect(run.databases).toEqual(['frontier-orders']);
  });

  it('lists a requested subset in config order', () => {
    const run = planRun('restore-test', { databases: ['frontier-billing', 'frontier-prod'] }, execution, threeDatabases);

    expect(run.databases).toEqual(['frontier-prod', 'frontier-billing']);
  });

  it('refuses a database the deployment does not protect, naming it and the known ones', () => {
    const error = rejection({ databases: ['frontier-prod', 'frontier-staging'] }, threeDatabases);

    expect(error.message).toBe(
      'restore-test input is invalid; nothing was changed:\n' +
        '  - databases: got ["frontier-staging"]; expected databases protected by this deployment (frontier-prod, frontier-orders, frontier-billing)',
    );
  });

  it('refuses an unknown field such as a mistyped dryRun, instead of ignoring it', () => {
    const error = rejection({ dryrun: true });

    expect(error.name).toBe('InvalidInput');
    expect(error.message).toContain('  - dryrun: got true (boolean); unknown field');
  });

  it.each([
    ['dryRun as a string', { dryRun: 'yes' }, 'dryRun: got "yes" (string); expected boolean'],
    ['databases as a string', { databases: 'frontier-prod' }, 'databases: got "frontier-prod" (string); expected array'],
    ['an empty databases list', { databases: [] }, 'databases: got [] (array); expected a count of at least 1'],
    ['an empty database name', { databases: [''] }, 'databases[0]: got "" (string); expected a length of at least 1'],
    ['a database name that is a number', { databases: [7] }, 'databases[0]: got 7 (number); expected string'],
    ['an unknown trigger', { trigger: 'alarm' }, 'trigger: got "alarm" (string); expected one of "manual", "schedule"'],
    ['a reason of 501 characters', { reason: 'r'.repeat(501) }, 'reason: got "rrrrr'],
    ['a string input', 'restore everything', '(root): got "restore everything" (string); expected object'],
    ['an array input', ['frontier-prod'], '(root): got ["frontier-prod"] (array); expected object'],
  ])('refuses %s with a message that names the field and the value', (_label, input, expected) => {
    const error = rejection(input);

    expect(error.message.startsWith('restore-test input is invalid; nothing was changed:\n')).toBe(true);
    expect(error.message).toContain(expected);
  });

  it('shortens a long value in the message', () => {
    const error = rejection({ reason: 'r'.repeat(501) });

    expect(error.message).toContain('expected a length of at most 500');
    expect(error.message.length).toBeLessThan(300);
  });

  it('reports every bad field at once', () => {
    const error = rejection({ dryRun: 1, trigger: 'alarm' });

    expect(error.message).toContain('  - dryRun: got 1 (number); expected boolean');
    expect(error.message).toContain('  - trigger: got "alarm"');
  });

  it('plans a scheduled run over every database from a raw EventBridge scheduled event', () => {
    const event = scheduledEvent(new Date('2026-11-22T06:00:00Z'), 'frontier-dr-restore-test-weekly');

    const run = planRun('restore-test', event, execution, threeDatabases);

    expect(run).toMatchObject({
      trigger: 'schedule',
      dryRun: false,
      reason: 'scheduled run',
      databases: ['frontier-prod', 'frontier-orders', 'frontier-billing'],
    });
  });

  it('does not mistake another EventBridge event for a schedule', () => {
    const alarm = {
      version: '0',
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      detail: { alarmName: 'frontier-prod-cpu', state: { value: 'ALARM', timestamp: '2026-11-25T11:59:00Z' } },
    };

    expect(rejection(alarm).message).toContain('  - source: got "aws.cloudwatch" (string); expected "aws.events" (Scheduled Event)');
  });

  it('accepts the fixed input a stack schedule passes', () => {
    const run = planRun('backup-verification', { trigger: 'schedule', reason: 'monthly drill' }, execution, threeDatabases);

    expect(run).toMatchObject({
      scenario: 'backup-verification',
      trigger: 'schedule',
      reason: 'monthly drill',
      dryRun: false,
      databases: ['frontier-prod', 'frontier-orders', 'frontier-billing'],
    });
  });
});

describe('planRun for database-recovery', () => {
  const recovery = (input: unknown) => planRun('database-recovery', input, { ...execution, id: execution.id.replace('restore-test', 'database-recovery') }, config);
  const refusal = (input: unknown): string => {
    try {
      recovery(input);
    } catch (error) {
      if (error instanceof InvalidInput) return error.message;
      throw error;
    }
    throw new Error(`planRun accepted ${JSON.stringify(input)}`);
  };

  it('defaults to the first recoverable database and an incident at the start of the run', () => {
    expect(recovery({})).toMatchObject({
      databases: ['frontier-prod'],
      incidentAt: '2026-11-25T12:00:00.000Z',
      incidentNamedByOperator: false,
      recovery: { database: 'frontier-prod', snapshot: null, restoreTime: null, sourceInstance: 'frontier-prod' },
    });
  });

  it('normalises times written with an offset to UTC', () => {
    const run = recovery({ incidentTime: '2026-11-25T12:34:00+01:00', restoreTime: '2026-11-25T06:30:00-05:00' });

    expect(run.incidentAt).toBe('2026-11-25T11:34:00.000Z');
    expect(run.recovery?.restoreTime).toBe('2026-11-25T11:30:00.000Z');
  });

  it('refuses a time without an offset (whose clock would it be?)', () => {
    expect(refusal({ incidentTime: '2026-11-25T11:04:00' })).toContain('  - incidentTime: got "2026-11-25T11:04:00" (string); expected an ISO 8601 time with a zone on a real calendar day, such as 2026-11-25T12:04:00Z');
  });

  it.each([
    ['incidentTime', { incidentTime: '2027-11-25T11:00:00Z' }],
    ['restoreTime', { restoreTime: '2026-11-25T13:00:00Z' }],
  ])('refuses a %s in the future, naming it', (field, input) => {
    expect(refusal(input)).toBe(
      `database-recovery input is invalid; nothing was changed:\n  - ${field}: got ${JSON.stringify(Object.values(input)[0])}; expected a time before the run started (2026-11-25T12:00:00.000Z), not in the future`,
    );
  });

  it('allows a minute of clock skew', () => {
    expect(recovery({ incidentTime: '2026-11-25T12:00:45Z' }).incidentAt).toBe('2026-11-25T12:00:45.000Z');
  });

  it('refuses a restoreTime at or after the incidentTime given with it', () => {
    expect(refusal({ incidentTime: '2026-11-25T11:00:00Z', restoreTime: '2026-11-25T11:00:00Z' })).toContain(
      '  - restoreTime: got "2026-11-25T11:00:00Z"; expected a time before incidentTime (2026-11-25T11:00:00.000Z): a point at or after the incident may hold the damage',
    );
    expect(recovery({ incidentTime: '2026-11-25T11:00:00Z', restoreTime: '2026-11-25T10:55:00Z' }).recovery?.restoreTime).toBe('2026-11-25T10:55:00.000Z');
  });
});

// ---------------------------------------------------------------------------------------------------
// Every start shape goes through one strict contract: options honoured or refused, never dropped.

const START = '2026-11-25T12:00:00.000Z';
const scheduled = (extra: Record<string, unknown> = {}) => scheduledEvent(new Date(START), 'frontier-dr-schedule', extra);
const alarmEvent = (alarmName: string, state: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  version: '0',
  id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
  'detail-type': 'CloudWatch Alarm State Change',
  source: 'aws.cloudwatch',
  account: '123456789012',
  time: '2026-11-25T11:58:00Z',
  region: 'us-east-1',
  resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`],
  detail: { alarmName, state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: '2026-11-25T11:58:00.000+0000', ...state }, previousState: { value: 'OK', timestamp: '2026-11-25T10:00:00Z' } },
  ...extra,
});

function refusalOf(scenario: ScenarioName, input: unknown, deployment = config): string {
  try {
    planRun(scenario, input, { ...execution, startTime: START }, deployment);
  } catch (error) {
    if (error instanceof InvalidInput) return error.message;
    throw error;
  }
  throw new Error(`planRun(${scenario}) accepted ${JSON.stringify(input)}`);
}

const databaseAlarm = config.databases[0]!.recovery!.alarmName!;
const clusterAlarm = config.alarms.clusterUnreachable;

describe('planRun: a dry run is honoured in every start shape', () => {
  it.each(['backup-verification', 'restore-test'] as const)('%s: a scheduled event with dryRun is a dry run', (scenario) => {
    const run = planRun(scenario, scheduled({ dryRun: true }), { ...execution, startTime: START }, config);

    expect(run).toMatchObject({ trigger: 'schedule', dryRun: true });
  });

  it.each([
    ['database-recovery', databaseAlarm],
    ['cluster-failover', clusterAlarm],
  ] as const)('%s: an alarm event with dryRun is a dry run', (scenario, alarmName) => {
    const run = planRun(scenario, alarmEvent(alarmName, {}, { dryRun: true }), { ...execution, startTime: START }, config);

    expect(run).toMatchObject({ trigger: `alarm ${alarmName}`, dryRun: true, incidentAt: '2026-11-25T11:58:00.000Z' });
  });

  it.each(['cluster-failover', 'emergency-rollback', 'database-recovery'] as const)(
    '%s refuses the shape of a scheduled event (with dryRun) by its field, instead of dropping the rest',
    (scenario) => {
      expect(refusalOf(scenario, { source: 'aws.events', 'detail-type': 'Scheduled Event', dryRun: true })).toContain(
        `  - detail-type: got "Scheduled Event"; expected a manual input: ${scenario} is never started by a schedule's raw event`,
      );
    },
  );

  it('refuses an unknown key beside an event, naming it', () => {
    expect(refusalOf('restore-test', scheduled({ dryrun: true }))).toContain('  - dryrun: got true (boolean); unknown field (a typo?)');
    expect(refusalOf('database-recovery', alarmEvent(databaseAlarm, {}, { snapshot: 'frontier-prod-20261125-0800' }))).toContain('  - snapshot: got "frontier-prod-20261125-0800" (string); unknown field');
  });

  it('refuses an event from a source that starts nothing', () => {
    expect(refusalOf('emergency-rollback', { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: {} })).toContain(
      '  - source: got "aws.cloudwatch" (string); expected a manual input: no EventBridge event starts emergency-rollback',
    );
    expect(refusalOf('database-recovery', { source: 'aws.rds', 'detail-type': 'RDS DB Instance Event' })).toContain(
      '  - source: got "aws.rds" (string); expected "aws.cloudwatch" (CloudWatch Alarm State Change)',
    );
  });
});

describe('planRun: alarm events are read strictly', () => {
  it.each([
    ['garbage', 'detail.state.timestamp: got "garbage" (string); expected an ISO 8601 time'],
    ['2026-02-31T10:00:00Z', 'detail.state.timestamp: got "2026-02-31T10:00:00Z" (string); expected an ISO 8601 time with a zone on a real calendar day'],
    ['2099-11-25T11:58:00Z', 'detail.state.timestamp: got "2099-11-25T11:58:00Z"; expected a time before the run started'],
    ['2026-11-25T09:00:00Z', 'detail.state.timestamp: got "2026-11-25T09:00:00Z"; expected an alarm at most 60 min before the run started'],
  ])('refuses a state timestamp of %s, naming it', (timestamp, expected) => {
    expect(refusalOf('database-recovery', alarmEvent(databaseAlarm, { timestamp }))).toContain(expected);
  });

  it('refuses an alarm that is not the one the scenario is configured for', () => {
    expect(refusalOf('cluster-failover', alarmEvent('frontier-prod-cpu-high'))).toContain(
      `  - detail.alarmName: got "frontier-prod-cpu-high"; expected an alarm this deployment starts cluster-failover on (${clusterAlarm})`,
    );
    expect(refusalOf('database-recovery', alarmEvent(clusterAlarm))).toContain(`  - detail.alarmName: got "${clusterAlarm}"; expected an alarm this deployment starts database-recovery on (${databaseAlarm})`);
  });

  it.each([
    [{ alarmName: 42 }, '  - detail.alarmName: got 42 (number); expected string'],
    [{ state: 'ALARM' }, '  - detail.state: got "ALARM" (string); expected object'],
    [{ state: { value: 'ALARM' } }, '  - detail.state.timestamp: got nothing; expected string'],
    [{ state: { value: 'FIRING', timestamp: '2026-11-25T11:58:00Z' } }, '  - detail.state.value: got "FIRING" (string); expected one of "ALARM", "OK", "INSUFFICIENT_DATA"'],
  ])('names a wrong-typed alarm field %j by its path, and only it', (detail, expected) => {
    const event = alarmEvent(databaseAlarm);
    const message = refusalOf('database-recovery', { ...event, detail: { ...event.detail, ...detail } });

    expect(message).toContain(expected);
    expect(message).not.toContain('unknown field');
  });

  it('refuses an alarm back to OK (a replayed event changes nothing)', () => {
    expect(refusalOf('database-recovery', alarmEvent(databaseAlarm, { value: 'OK' }))).toContain('  - detail.state.value: got "OK"; expected "ALARM"');
  });

  it('keeps fields AWS adds to the detail (configuration, new keys) without complaint', () => {
    const event = alarmEvent(databaseAlarm);
    const run = planRun('database-recovery', { ...event, detail: { ...event.detail, configuration: { metrics: [] }, newAwsField: 1 } }, { ...execution, startTime: START }, config);

    expect(run.recovery).toEqual({ database: config.databases[0]!.name, snapshot: null, restoreTime: null, sourceInstance: config.databases[0]!.name });
  });

  it('takes the incident time from an alarm but never as named by an operator: a repeated alarm cannot supersede the held incident', () => {
    const run = planRun('database-recovery', alarmEvent(databaseAlarm), { ...execution, startTime: START }, config);

    expect(run.incidentNamedByOperator).toBe(false);
    expect(startedByAlarm(run)).toBe(true);
    const manual = planRun('database-recovery', { incidentTime: '2026-11-25T11:50:00Z' }, { ...execution, startTime: START }, config);
    expect(manual.incidentNamedByOperator).toBe(true);
    expect(startedByAlarm(manual)).toBe(false);
  });
});

describe('planRun: manual times and names', () => {
  it.each([
    [{ incidentTime: '2026-10-01T00:00:00Z' }, 'incidentTime: got "2026-10-01T00:00:00Z"; expected a time within the last 35 days'],
    [{ restoreTime: '1999-01-01T00:00:00Z' }, 'restoreTime: got "1999-01-01T00:00:00Z"; expected a time within the last 35 days'],
    [{ incidentTime: 'yesterday' }, 'incidentTime: got "yesterday" (string); expected an ISO 8601 time'],
    [{ restoreTime: '2026-11-31T10:00:00Z' }, 'restoreTime: got "2026-11-31T10:00:00Z" (string); expected an ISO 8601 time with a zone on a real calendar day'],
  ])('refuses an implausible time %j, naming it', (input, expected) => {
    expect(refusalOf('database-recovery', input)).toContain(expected);
  });

  it.each([
    ['frontier-prod-19990101-0000', true],
    ['pre-migration-20261128', true],
    ['rds:frontier-prod-2026-11-25-06-10', true],
    ['arn:aws:rds:us-west-2:210987654321:snapshot:shared-frontier-prod-20261125', true],
    ['arn:aws:rds:us-west-2:123456789012:snapshot:rds:frontier-prod-2026-11-25-06-10', true],
    ['frontier prod', false],
    ['1frontier', false],
    ['frontier--prod', false],
    ['frontier-prod-', false],
    ["frontier'; DROP TABLE users; --", false],
    ['arn:aws:rds:us-west-2:123:snapshot:x', false],
    ['f'.repeat(256), false],
  ])('checks the snapshot name %s against RDS rules in the first state (valid: %s)', (snapshot, valid) => {
    if (valid) expect(planRun('database-recovery', { snapshot }, { ...execution, startTime: START }, config).recovery?.snapshot).toBe(snapshot);
    else expect(refusalOf('database-recovery', { snapshot })).toContain('  - snapshot: got ');
  });
});

describe('planRun: the scenario list is shared/scenarios.ts', () => {
  it.each(['restore-tests', '', 'Backup-Verification'])('refuses the unknown scenario %j with InvalidInput naming it and the known ones', (name) => {
    const attempt = () => planRun(name, {}, execution, config);

    expect(attempt).toThrow(InvalidInput);
    expect(attempt).toThrow(`scenario: got ${JSON.stringify(name)}`);
    expect(attempt).toThrow(SCENARIO_NAMES.join(', '));
  });

  it.each(SCENARIOS.map((s) => [s.name, s.needsKubernetesSection] as const))('%s needs the kubernetes section: %s', (name, needed) => {
    const withoutKubernetes = configWith((c) => {
      delete c.kubernetes;
      // The security incident acts on the kubernetes section's API: without one, its section goes too.
      delete c.securityIncident;
    });

    const attempt = () => planRun(name, {}, { ...execution, startTime: START }, withoutKubernetes);

    if (needed) {
      expect(attempt).toThrow(InvalidConfig);
      expect(attempt).toThrow(`${name} needs the deployment config's kubernetes section`);
    } else {
      expect(attempt()).toMatchObject({ scenario: name });
    }
  });

  it('starts from a raw scheduled event exactly the scenarios scenarios.ts says a schedule starts', () => {
    const startedBySchedule = SCENARIOS.filter((s) => s.startedByScheduleEvent).map((s) => s.name);

    expect(startedBySchedule).toEqual(['backup-verification', 'restore-test']);
    for (const name of startedBySchedule) expect(planRun(name, scheduled(), { ...execution, startTime: START }, config)).toMatchObject({ trigger: 'schedule' });
  });
});
