// The real security-incident definition. The orchestration's own functions run for real (StartRun, the
// recovery lock, PlanApproval, PublishReport, NotifyOnCall; AWS answered by client mocks and the lock
// table's in-memory stand-in); the steps that act on the world (the preflight, the rotations, the
// containment, the evidence, the patch, the rollout, the gates) are stand-ins with the shapes those
// functions return, recording what they were asked and what they changed. Their own behaviour is tested
// where they live; here the point is the order, the gates before the first change, what a failure stops
// and what it leaves, and the lock.
import { jest } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoClient, s3Client, snsClient, stepFunctionsClient } from '../../shared/clients.js';
import { securityIncidentLockTarget } from '../../shared/names.js';
import type { RunContext } from '../../shared/run.js';
import type { Action } from '../../shared/steps.js';
import { runStateMachine, type LambdaHandler, type LocalRunOptions, type LocalRunResult } from '../../local/local-state-machine.js';
import { onTaskWaiting, sendTaskFailure, sendTaskSuccess, type WaitingTask } from '../../local/task-tokens.js';
import { installExecutions, installLockTable, LOCK_TABLE, type Executions, type LockTable } from '../support/database-recovery-fixtures.js';
import { ALERT_TOPIC_ARN, configWith, useConfig } from '../support/fixtures.js';
import { entered, loadHandlers, statesCalled, storedReports } from '../support/state-machine-runs.js';

process.env.RECOVERY_LOCK_TABLE = LOCK_TABLE;
process.env.ALERT_TOPIC_ARN = ALERT_TOPIC_ARN;

const s3 = mockClient(s3Client('us-east-1'));
const sns = mockClient(snsClient('us-east-1'));
const ddb = mockClient(dynamoClient('us-east-1'));
const sfn = mockClient(stepFunctionsClient('us-east-1'));
const allMocks = [s3, sns, ddb, sfn];
const { storedReport, storedMarkdown } = storedReports(s3);

const TEST_TIMEOUT = 60_000;
const API_KEYS = 'frontier/prod/api-keys';
const DATABASE_SECRET = 'frontier/prod/database';
const LOCK = securityIncidentLockTarget('frontier-prod');
const PATCH = 'registry.example.com/frontier/api:2026.11.30-sec1';
const INPUT = { incidentId: 'SEC-2026-041', blockIps: ['203.0.113.7', '2001:db8::/32'], patchedImage: PATCH, secrets: [DATABASE_SECRET] };

type Approval = 'automatic' | 'approval';
function configure(policy: Approval = 'approval', onTimeout: 'decline' | 'approve' = 'decline', change: (c: ReturnType<typeof configWith>) => void = () => undefined): void {
  useConfig(
    configWith((c) => {
      c.approvals = { 'security-incident': { policy, timeoutMinutes: 15, onTimeout } };
      c.databases[0]!.rotation = { strategy: 'single-user', scheduleExpression: 'rate(30 days)', validationQuery: 'SELECT 1' } as never;
      change(c);
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// The world the stand-ins act on

interface World {
  /** Every change made, in order: `<function> <what>`. */
  changes: string[];
  /** The runs each stand-in was given (dry run or not). */
  asked: Record<string, RunContext[]>;
  /** Looks at each rotation so far. */
  looks: Map<string, number>;
  rolloutLooks: number;
}
let world: World;

function envelope<T>(data: T, detail: string, actions: Action[] = []) {
  const now = new Date().toISOString();
  return { step: { status: 'succeeded', startedAt: now, finishedAt: now, actions, detail }, data };
}

function action(description: string, service: string, operation: string, performed: boolean): Action {
  return { description, service, operation, parameters: {}, performed };
}

function failure(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** A stand-in that records its run, and its change unless the run is a dry run. */
function actor<T>(fn: string, change: (event: Record<string, unknown>) => string, data: (event: Record<string, unknown>) => T): LambdaHandler {
  return async (raw) => {
    const event = raw as Record<string, unknown> & { run: RunContext };
    (world.asked[fn] ??= []).push(event.run);
    const what = change(event);
    if (!event.run.dryRun) world.changes.push(`${fn} ${what}`);
    return envelope(data(event), event.run.dryRun ? `dry run: would ${what}` : what, [action(what, fn, fn, !event.run.dryRun)]);
  };
}

const secretOf = (event: Record<string, unknown>) => String(event.secret);

function standIns(): Record<string, LambdaHandler> {
  return {
    securityIncidentPreflight: async (raw) => {
      const { run } = raw as { run: RunContext };
      (world.asked.securityIncidentPreflight ??= []).push(run);
      return envelope({ passed: true, cluster: 'primary', apiKeySecret: API_KEYS, secrets: [API_KEYS, ...run.securityIncident!.secrets], patchContainer: 'frontier-api' }, 'ready');
    },
    startSecretRotation: actor(
      'startSecretRotation',
      (e) => `rotate ${secretOf(e)}`,
      (e) => ({ secret: secretOf(e), versionId: `v-${secretOf(e).replace(/\W/g, '-')}`, startedAt: new Date().toISOString() }),
    ),
    checkSecretRotation: async (raw) => {
      const event = raw as { secret: string; rotation: { versionId: string } };
      const looks = (world.looks.get(event.secret) ?? 0) + 1;
      world.looks.set(event.secret, looks);
      return envelope({ completed: looks >= 2, nextCheckSeconds: 5, secret: event.secret, versionId: event.rotation.versionId }, looks >= 2 ? 'AWSCURRENT' : 'still AWSPENDING');
    },
    blockAddresses: actor(
      'blockAddresses',
      (e) => `block ${(e.run as RunContext).securityIncident!.blockIps.join(' ')}`,
      (e) => ({
        addresses: (e.run as RunContext).securityIncident!.blockIps,
        places: [
          { place: 'network-policy', outcome: 'blocked', blocked: (e.run as RunContext).securityIncident!.blockIps, effective: 'not for clients behind the load balancer (client addresses are rewritten)' },
          { place: 'waf-ip-set', outcome: 'blocked', blocked: (e.run as RunContext).securityIncident!.blockIps, effective: 'requests through the web ACL that references the set, within about a minute' },
        ],
      }),
    ),
    setEmergencyMode: actor('setEmergencyMode', () => 'emergency_mode=true', () => ({ configMap: 'frontier-config', key: 'emergency_mode', previousValue: 'false', changed: true })),
    collectEvidence: actor(
      'collectEvidence',
      () => 'evidence written',
      () => ({
        bucket: 'frontier-prod-dr-evidence',
        prefix: 'incidents/SEC-2026-041/run/',
        objects: [{ key: 'incidents/SEC-2026-041/run/manifest.json', bytes: 420, sha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=', versionId: 'ev-1', kind: 'manifest' }],
        pods: ['frontier-api-7d9f-abcde'],
        databases: ['frontier-prod'],
      }),
    ),
    setApiImage: actor(
      'setApiImage',
      () => `set image ${PATCH}`,
      (e) => ({ cluster: 'primary', namespace: 'production', deployment: 'frontier-api', container: 'frontier-api', previousImage: 'frontier/api:2026.11.1', image: PATCH, changed: !(e.run as RunContext).dryRun, rolloutStarted: !(e.run as RunContext).dryRun }),
    ),
    checkRollout: async () => {
      world.rolloutLooks += 1;
      const done = world.rolloutLooks >= 2;
      return envelope({ done, nextCheckSeconds: 5, progress: { startedAt: new Date().toISOString(), change: 'patch', lastProgressAt: null, readyReplicas: done ? 3 : 1, availableReplicas: done ? 3 : 1 } }, done ? 'rolled out' : 'rolling');
    },
    runHealthChecks: async (raw) => {
      (world.asked.runHealthChecks ??= []).push((raw as { run: RunContext }).run);
      return envelope({ allPassed: true, notConfigured: [] }, 'healthy');
    },
    requestApproval: async () => envelope({}, 'asked'),
  };
}

let lockTable: LockTable;
let executions: Executions;
let runCount = 0;

beforeAll(async () => {
  await loadHandlers(['startRun', 'acquireRecoveryLock', 'releaseRecoveryLock', 'planApproval', 'publishReport', 'notifyOnCall']);
}, TEST_TIMEOUT);

beforeEach(() => {
  for (const mock of allMocks) mock.reset();
  world = { changes: [], asked: {}, looks: new Map(), rolloutLooks: 0 };
  configure();
  lockTable = installLockTable(ddb);
  executions = installExecutions(sfn);
  s3.on(PutObjectCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

async function respond(input: unknown, options: LocalRunOptions & { overrides?: Record<string, LambdaHandler>; answer?: (task: WaitingTask) => void } = {}): Promise<LocalRunResult> {
  const { overrides, answer, ...rest } = options;
  const stop = answer ? onTaskWaiting((task) => setTimeout(() => answer(task), 10)) : () => undefined;
  try {
    return await runStateMachine('security-incident', input, { waitMilliseconds: 5, executionName: `incident-${++runCount}`, handlerOverrides: { ...standIns(), ...overrides }, ...rest });
  } finally {
    stop();
  }
}

const approve = (task: WaitingTask) => sendTaskSuccess(task.token, JSON.stringify({ approved: true, by: 'Dana', via: 'console', at: new Date().toISOString() }));
const decline = (task: WaitingTask) => sendTaskFailure(task.token, 'ApprovalDeclined', 'declined by Dana: a false positive');

function statesEntered(run: LocalRunResult): string[] {
  return run.events.filter((e) => e.type === 'StateEntered').map((e) => (e as { state: { name: string } }).state.name);
}

function expectNothingChanged(): void {
  expect(world.changes).toEqual([]);
  expect(world.asked.startSecretRotation ?? []).toEqual([]);
}

describe('security-incident state machine', () => {
  it('checks first, asks with what it will do, contains in parallel, rotates, patches, passes the gates and records a completed response', async () => {
    let asked: { approval: { request: { actions: string[] } } } | undefined;
    const requestApproval: LambdaHandler = async (event) => {
      asked = event as typeof asked;
      return envelope({}, 'asked');
    };

    const run = await respond(INPUT, { overrides: { requestApproval }, answer: approve });

    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const order = statesEntered(run);
    // Everything checkable is checked before the approvers are asked, and they are asked before the first change.
    expect(order.indexOf('SecurityIncidentPreflight')).toBeLessThan(order.indexOf('RequestApproval'));
    expect(order.indexOf('RequestApproval')).toBeLessThan(order.indexOf('Contain'));
    const request = asked!.approval.request.actions.join('\n');
    expect(request).toContain('incident SEC-2026-041');
    expect(request).toContain(`rotate secret ${API_KEYS} now`);
    expect(request).toContain('block 2 address(es) (203.0.113.7/32, 2001:db8::/32) in NetworkPolicy production/frontier-emergency-block');
    expect(request).toContain('WAF IP set frontier-prod-blocked (REGIONAL, us-west-2)');
    expect(request).toContain('emergency_mode=true in ConfigMap production/frontier-config');
    expect(request).toContain(`rotate now and wait for: ${DATABASE_SECRET}`);
    expect(request).toContain(`to ${PATCH}`);
    // The containment: all four, the API keys' rotation waited for; then the listed secret, then the patch.
    expect(world.changes.slice(0, 4).sort()).toEqual(
      [`startSecretRotation rotate ${API_KEYS}`, 'blockAddresses block 203.0.113.7/32 2001:db8::/32', 'setEmergencyMode emergency_mode=true', 'collectEvidence evidence written'].sort(),
    );
    expect(world.changes.slice(4)).toEqual([`startSecretRotation rotate ${DATABASE_SECRET}`, `setApiImage set image ${PATCH}`]);
    expect(world.looks).toEqual(new Map([[API_KEYS, 2], [DATABASE_SECRET, 2]]));
    expect(entered(run, 'WaitForApiKeyRotation')).toBe(1);
    expect(entered(run, 'WaitForRotation')).toBe(1);
    expect(order.lastIndexOf('CheckApiKeyRotation')).toBeLessThan(order.indexOf('RotateSecrets'));
    expect(order.lastIndexOf('CheckRollout')).toBeLessThan(order.indexOf('RunHealthChecks'));
    expect(lockTable.lock(LOCK)).toMatchObject({ status: 'completed' });
    const report = storedReport(run);
    expect(report.status).toBe('succeeded');
    expect(report.failures).toEqual([]);
    expect(report.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['api-keys: RevokeApiKeys', 'api-keys: CheckApiKeyRotation', 'block-addresses: BlockAddresses', 'emergency-mode: SetEmergencyMode', 'evidence: CollectEvidence', `secret ${DATABASE_SECRET}: StartSecretRotation`, 'SetApiImage']),
    );
    // The incident's own section: where each block is effective, the versions, the checksums, the patch, the response time.
    const incident = report.securityIncident!;
    expect(incident).toMatchObject({
      incidentId: 'SEC-2026-041',
      blockedAddresses: ['203.0.113.7/32', '2001:db8::/32'],
      emergencyMode: { configMap: 'frontier-config', key: 'emergency_mode', previousValue: 'false', changed: true },
      apiKeys: { secret: API_KEYS, versionId: 'v-frontier-prod-api-keys', status: 'completed' },
      rotations: [{ secret: DATABASE_SECRET, versionId: 'v-frontier-prod-database', status: 'completed' }],
      evidence: { bucket: 'frontier-prod-dr-evidence', objects: [{ key: 'incidents/SEC-2026-041/run/manifest.json', sha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=', versionId: 'ev-1', kind: 'manifest', bytes: 420 }] },
      patch: { image: PATCH, previousImage: 'frontier/api:2026.11.1', container: 'frontier-api', changed: true, rolledOut: true },
    });
    expect(incident.containment.map((p) => [p.place, p.effective])).toEqual([
      ['network-policy', 'not for clients behind the load balancer (client addresses are rewritten)'],
      ['waf-ip-set', 'requests through the web ACL that references the set, within about a minute'],
    ]);
    // Contained when the last of the four jobs finished (the API keys' rotation, waited for), before the rotations and the patch.
    const keysDone = report.steps.find((s) => s.name === 'api-keys: CheckApiKeyRotation')!.finishedAt!;
    expect(incident.responseTime).toEqual({ from: report.startedAt, containedAt: expect.any(String), seconds: expect.any(Number) });
    expect(incident.responseTime!.containedAt >= keysDone).toBe(true);
    expect(incident.responseTime!.containedAt <= report.steps.find((s) => s.name === 'SetApiImage')!.startedAt!).toBe(true);
    expect(report.summary).toContain('incident SEC-2026-041; contained');
    const markdown = storedMarkdown(run);
    expect(markdown).toContain('## Security incident');
    expect(markdown).toContain('| waf-ip-set | blocked | 203.0.113.7/32, 2001:db8::/32 | requests through the web ACL');
    expect(markdown).toContain('n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=');
    expect(markdown).toContain(`| ${DATABASE_SECRET} | completed | v-frontier-prod-database |`);
  }, TEST_TIMEOUT);

  it('goes straight on under an automatic policy', async () => {
    configure('automatic');
    const run = await respond(INPUT);

    expect(run.status).toBe('SUCCEEDED');
    expect(statesCalled(run)).not.toContain('RequestApproval');
    expect(world.changes).toHaveLength(6);
  }, TEST_TIMEOUT);

  it('changes nothing when the approvers decline, and gives the lock back', async () => {
    const run = await respond(INPUT, { answer: decline });

    expect(run.status).toBe('FAILED');
    expectNothingChanged();
    expect(statesEntered(run)).not.toContain('Contain');
    expect(lockTable.items.size).toBe(0);
    expect(storedReport(run).failures.map((f) => [f.step, f.error])).toEqual([['RequestApproval', 'ApprovalDeclined']]);
  }, TEST_TIMEOUT);

  it('changes nothing when an answer comes without {"approved": true}', async () => {
    const run = await respond(INPUT, { answer: (task) => sendTaskSuccess(task.token, JSON.stringify({ approved: 'yes' })) });

    expect(run.status).toBe('FAILED');
    expectNothingChanged();
    expect(statesEntered(run)).toContain('NotApproved');
    expect(lockTable.items.size).toBe(0);
  }, TEST_TIMEOUT);

  it('declines on its own when nobody answers in time (onTimeout decline)', async () => {
    const run = await respond(INPUT, { timeoutMillisecondsPerSecond: 0.01 });

    expect(run.status).toBe('FAILED');
    expect(statesEntered(run)).toContain('DeclinedOnTimeout');
    expectNothingChanged();
    expect(lockTable.items.size).toBe(0);
  }, TEST_TIMEOUT);

  it('goes ahead when nobody answers in time and the policy says approve', async () => {
    configure('approval', 'approve');
    const run = await respond(INPUT, { timeoutMillisecondsPerSecond: 0.01 });

    expect(run.status).toBe('SUCCEEDED');
    expect(statesEntered(run)).toContain('ApprovedOnTimeout');
    expect(world.changes).toHaveLength(6);
  }, TEST_TIMEOUT);

  it('changes nothing when the approvers cannot be asked (requestApproval keeps failing), and gives the lock back', async () => {
    let attempts = 0;
    const requestApproval: LambdaHandler = async () => {
      attempts += 1;
      throw failure('AwsTransientError', 'sns:Publish: Rate exceeded');
    };
    const run = await respond(INPUT, { overrides: { requestApproval } });

    expect(run.status).toBe('FAILED');
    expect(attempts).toBe(5);
    expectNothingChanged();
    expect(lockTable.items.size).toBe(0);
  }, TEST_TIMEOUT);

  it('asks nobody and changes nothing when the preflight finds problems, and gives the lock back', async () => {
    const securityIncidentPreflight: LambdaHandler = async () => {
      throw failure('IncidentPreflightFailed', '2 problem(s) before the first change of incident SEC-2026-041; nothing was changed:\n  - evidence-bucket: ...\n  - rotatable-secret: ...');
    };
    const requestApproval = jest.fn(async () => envelope({}, 'asked'));
    const run = await respond(INPUT, { overrides: { securityIncidentPreflight, requestApproval } });

    expect(run.status).toBe('FAILED');
    expect(requestApproval).not.toHaveBeenCalled();
    expectNothingChanged();
    expect(lockTable.items.size).toBe(0);
    expect(storedReport(run).failures.map((f) => [f.step, f.error])).toEqual([['SecurityIncidentPreflight', 'IncidentPreflightFailed']]);
  }, TEST_TIMEOUT);

  it.each([
    ['api-keys', 'RevokeApiKeys', 'startSecretRotation'],
    ['block-addresses', 'BlockAddresses', 'blockAddresses'],
    ['emergency-mode', 'SetEmergencyMode', 'setEmergencyMode'],
    ['evidence', 'CollectEvidence', 'collectEvidence'],
  ])('when %s fails alone, the other containment still happens, nothing after it does, and the lock is kept for a re-run', async (item, state, fn) => {
    configure('automatic');
    const broken: LambdaHandler = async () => {
      throw failure('KubernetesForbidden', `${fn}: forbidden`);
    };
    const run = await respond(INPUT, { overrides: { [fn]: broken } });

    expect(run.status).toBe('FAILED');
    // The three other jobs made their changes; nothing of what comes after containment ran.
    expect(world.changes).toHaveLength(3);
    expect(world.changes.some((c) => c.startsWith(`${fn} `))).toBe(false);
    expect(statesEntered(run)).not.toContain('RotateSecrets');
    expect(statesEntered(run)).not.toContain('SetApiImage');
    expect(lockTable.lock(LOCK)).toMatchObject({ status: 'active' });
    const report = storedReport(run);
    expect(report.failures.map((f) => [f.step, f.error])).toEqual(expect.arrayContaining([['Contain', 'ContainmentIncomplete'], [`${item}: ${state}`, 'KubernetesForbidden']]));
    expect(report.failures).toHaveLength(2);
    // Not contained: no response time is claimed.
    expect(report.securityIncident?.responseTime).toBeNull();
    expect(report.summary).not.toContain('contained');
  }, TEST_TIMEOUT);

  it('stops before the patch when a rotation never completes, saying which', async () => {
    configure('automatic');
    const checkSecretRotation: LambdaHandler = async (raw) => {
      const event = raw as { secret: string; rotation: { versionId: string } };
      const looks = (world.looks.get(event.secret) ?? 0) + 1;
      world.looks.set(event.secret, looks);
      if (event.secret === API_KEYS) return envelope({ completed: true, nextCheckSeconds: 5 }, 'AWSCURRENT');
      if (looks >= 3) throw failure('RotationNotCompleted', `${event.secret}: version ${event.rotation.versionId} still AWSPENDING after 10 min; see /aws/lambda/frontier-dr-prod-rotateDatabaseSecret`);
      return envelope({ completed: false, nextCheckSeconds: 5 }, 'still AWSPENDING');
    };
    const run = await respond(INPUT, { overrides: { checkSecretRotation } });

    expect(run.status).toBe('FAILED');
    expect(world.looks.get(DATABASE_SECRET)).toBe(3);
    expect(world.changes.some((c) => c.startsWith('setApiImage'))).toBe(false);
    expect(lockTable.lock(LOCK)).toMatchObject({ status: 'active' });
    expect(storedReport(run).failures.map((f) => [f.step, f.error])).toEqual(
      expect.arrayContaining([['RotateSecrets', 'RotationsIncomplete'], [`secret ${DATABASE_SECRET}: CheckSecretRotation`, 'RotationNotCompleted']]),
    );
  }, TEST_TIMEOUT);

  it('reports a failed rollout and runs no health gate after it', async () => {
    configure('automatic');
    const checkRollout: LambdaHandler = async () => {
      throw failure('RolloutFailed', 'production/frontier-api: ProgressDeadlineExceeded (ImagePullBackOff)');
    };
    const run = await respond(INPUT, { overrides: { checkRollout } });

    expect(run.status).toBe('FAILED');
    expect(world.changes).toContain(`setApiImage set image ${PATCH}`);
    expect(world.asked.runHealthChecks).toBeUndefined();
    expect(lockTable.lock(LOCK)).toMatchObject({ status: 'active' });
    expect(storedReport(run).failures.map((f) => [f.step, f.error])).toEqual([['CheckRollout', 'RolloutFailed']]);
  }, TEST_TIMEOUT);

  it('asks nobody and changes nothing in a dry run, and every step reports what it would do', async () => {
    const requestApproval = jest.fn(async () => envelope({}, 'asked'));
    const run = await respond({ ...INPUT, dryRun: true }, { overrides: { requestApproval } });

    expect(run.error).toBeUndefined();
    expect(requestApproval).not.toHaveBeenCalled();
    expect(world.changes).toEqual([]);
    expect(lockTable.items.size).toBe(0);
    for (const fn of ['startSecretRotation', 'blockAddresses', 'setEmergencyMode', 'collectEvidence', 'setApiImage']) {
      expect(world.asked[fn]?.every((run) => run.dryRun)).toBe(true);
    }
    // No rotation or rollout to wait for.
    expect(statesCalled(run)).not.toContain('CheckSecretRotation');
    expect(statesCalled(run)).not.toContain('CheckApiKeyRotation');
    expect(statesCalled(run)).not.toContain('CheckRollout');
    const report = storedReport(run);
    expect(report.dryRun).toBe(true);
    expect(report.steps.flatMap((s) => s.actions).filter((a) => a.performed)).toEqual([]);
    expect(report.securityIncident).toMatchObject({ responseTime: null, apiKeys: { status: 'dry run' }, rotations: [{ status: 'dry run' }], patch: { changed: false, rolledOut: null } });
  }, TEST_TIMEOUT);

  it('changes nothing while another execution is responding to an incident', async () => {
    const holder = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-security-incident:incident-other';
    executions.running.add(holder);
    lockTable.items.set(LOCK, { target: { S: LOCK }, owner: { S: holder }, status: { S: 'active' }, incidentId: { S: 'x' }, incidentAt: { S: new Date().toISOString() }, acquiredAt: { S: new Date().toISOString() } });

    const run = await respond(INPUT, { answer: approve });

    expect(statesCalled(run)).toEqual(['StartRun', 'AcquireRecoveryLock', 'PublishReport']);
    expectNothingChanged();
    expect(lockTable.lock(LOCK)).toMatchObject({ owner: holder, status: 'active' });
  }, TEST_TIMEOUT);

  it('skips what the input and config leave out: no API keys, no addresses, no patch, no secrets', async () => {
    configure('automatic', 'decline', (c) => {
      delete c.securityIncident!.apiKeys;
    });
    const securityIncidentPreflight: LambdaHandler = async () => envelope({ passed: true, cluster: 'primary', apiKeySecret: null, secrets: [], patchContainer: null }, 'ready');

    const run = await respond({ incidentId: 'SEC-2026-042', secrets: [] }, { overrides: { securityIncidentPreflight } });

    expect(run.error).toBeUndefined();
    expect(world.changes.sort()).toEqual(['collectEvidence evidence written', 'setEmergencyMode emergency_mode=true']);
    expect(statesEntered(run)).toEqual(expect.arrayContaining(['NoApiKeys', 'NoAddressesToBlock']));
    expect(statesEntered(run)).not.toContain('SetApiImage');
    expect(statesEntered(run)).not.toContain('CountFailedRotations');
    const report = storedReport(run);
    expect(report.steps.find((s) => s.name === 'api-keys: RevokeApiKeys')?.status).toBe('skipped');
    expect(report.steps.find((s) => s.name === 'block-addresses: BlockAddresses')?.status).toBe('skipped');
  }, TEST_TIMEOUT);
});
