import { InvalidInput } from '../../shared/errors.js';
import { planRun, type ExecutionInfo } from '../../shared/run.js';
import { configWith, exampleConfig } from '../support/fixtures.js';

const execution: ExecutionInfo = {
  id: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-restore-test:manual-1',
  name: 'manual-1',
  startTime: '2026-11-25T12:00:00.000Z',
};
const config = exampleConfig();
// Three protected databases, so a subset differs from "all".
const threeDatabases = configWith((c) => {
  const first = c.databases[0]!;
  c.databases.push({ ...structuredClone(first), name: 'frontier-orders', snapshotPrefix: 'frontier-orders-' });
  c.databases.push({ ...structuredClone(first), name: 'frontier-billing', snapshotPrefix: 'frontier-billing-' });
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
      incidentGiven: false,
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
    const event = {
      version: '0',
      id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-11-22T06:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/frontier-dr-restore-test-weekly'],
      detail: {},
    };

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
      detail: { alarmName: 'frontier-prod-cpu', state: { value: 'ALARM' } },
    };

    const error = rejection(alarm);

    for (const field of ['version', 'detail-type', 'source', 'detail']) expect(error.message).toContain(`  - ${field}: got `);
    expect(error.message).toContain('  - source: got "aws.cloudwatch" (string); unknown field');
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
      incidentGiven: false,
      recovery: { database: 'frontier-prod', snapshot: null, restoreTime: null },
    });
  });

  it('normalises times written with an offset to UTC', () => {
    const run = recovery({ incidentTime: '2026-11-25T12:34:00+01:00', restoreTime: '2026-11-25T06:30:00-05:00' });

    expect(run.incidentAt).toBe('2026-11-25T11:34:00.000Z');
    expect(run.recovery?.restoreTime).toBe('2026-11-25T11:30:00.000Z');
  });

  it('refuses a time without an offset (whose clock would it be?)', () => {
    expect(refusal({ incidentTime: '2026-11-25T11:04:00' })).toContain('  - incidentTime: got "2026-11-25T11:04:00" (string); expected an ISO 8601 time such as 2026-11-25T12:04:00Z');
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
