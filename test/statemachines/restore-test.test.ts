// The real restore-test definition with its real handlers; RDS, Secrets Manager, S3 and SNS answered
// by client mocks, and the validation query run against a real PostgreSQL on loopback (the mocked
// scratch instance's endpoint points at it).
import {
  DBInstanceNotFoundFault,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSServiceException,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { rdsClient, s3Client, secretsClient, snsClient } from '../../shared/clients.js';
import { EXECUTION_TAG, SCRATCH_TAG, scratchInstanceId } from '../../shared/names.js';
import { configWith, hoursAgo, snapshot, useConfig } from '../support/fixtures.js';
import { entered, reportStep, stepNames, storedReports, totalAwsCalls } from '../support/state-machine-runs.js';
import { runStateMachine } from '../../local/local-state-machine.js';
import { startPostgres, type LocalPostgres } from '../../local/postgres.js';

const rds = mockClient(rdsClient('us-east-1'));
const s3 = mockClient(s3Client('us-east-1'));
const secrets = mockClient(secretsClient('us-east-1'));
const sns = mockClient(snsClient('us-east-1'));
const allMocks = [rds, s3, secrets, sns];
const { storedReport } = storedReports(s3);

let postgres: LocalPostgres;
const EXECUTION_NAME = 'weekly-restore-test';
const EXECUTION_ID = `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-restore-test:${EXECUTION_NAME}`;
const SCRATCH_ID = scratchInstanceId('frontier-prod', EXECUTION_ID);

beforeAll(async () => {
  postgres = await startPostgres({ databaseName: 'frontier', user: 'frontier_admin', password: 'correct horse battery staple' });
}, 60_000);

afterAll(async () => {
  await postgres?.stop();
});

function scratchInstance(status: string, options: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: SCRATCH_ID,
    DBInstanceStatus: status,
    InstanceCreateTime: new Date(),
    TagList: [
      { Key: SCRATCH_TAG, Value: 'true' },
      { Key: EXECUTION_TAG, Value: EXECUTION_ID },
    ],
    ...(status === 'available' ? { Endpoint: { Address: '127.0.0.1', Port: postgres.port } } : {}),
    ...options,
  };
}

/** RDS as the restore goes: nothing, then `creating` for `pendingLooks` looks, then `available`. */
function restoringRds(options: { pendingLooks?: number; finalStatus?: string } = {}) {
  let restored = false;
  let looks = 0;
  let deleted = false;
  rds.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [
      snapshot('frontier-prod-20261125-0800', hoursAgo(3, new Date()), { region: 'us-east-1' }),
      snapshot('frontier-prod-20261124-0800', hoursAgo(27, new Date()), { region: 'us-east-1' }),
    ],
  });
  rds.on(DescribeDBInstancesCommand).callsFake(() => {
    if (!restored || deleted) throw new DBInstanceNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: `DBInstance ${SCRATCH_ID} not found.` });
    looks += 1;
    const status = looks <= (options.pendingLooks ?? 2) ? 'creating' : (options.finalStatus ?? 'available');
    return { DBInstances: [scratchInstance(status)] };
  });
  rds.on(RestoreDBInstanceFromDBSnapshotCommand).callsFake(() => {
    restored = true;
    return { DBInstance: scratchInstance('creating') };
  });
  rds.on(DeleteDBInstanceCommand).callsFake(() => {
    deleted = true;
    return { DBInstance: scratchInstance('deleting') };
  });
}

function healthySupport() {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: postgres.user, password: postgres.password, engine: 'postgres' }) });
  s3.on(PutObjectCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
}

beforeEach(() => {
  for (const mock of allMocks) mock.reset();
  useConfig(
    configWith((c) => {
      c.databases[0]!.tls = 'disable'; // the loopback server has no TLS
    }),
  );
});

describe('restore-test state machine', () => {
  it('restores the newest copy, waits in the state machine, validates, deletes the scratch instance and reports the RTO', async () => {
    restoringRds({ pendingLooks: 2 });
    healthySupport();

    const run = await runStateMachine('restore-test', {}, { executionName: EXECUTION_NAME });

    expect(run.status).toBe('SUCCEEDED');
    // Each database's result joins the execution state without the copy of the run it was given.
    expect((run.output as { items: Record<string, unknown>[] }).items.map((item) => Object.keys(item).sort())).toEqual([['failures', 'item', 'steps']]);
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceIdentifier: SCRATCH_ID,
      DBSnapshotIdentifier: 'arn:aws:rds:us-east-1:123456789012:snapshot:frontier-prod-20261125-0800',
      DBInstanceClass: 'db.t4g.medium',
      DBSubnetGroupName: 'frontier-dr-restore-test',
      PubliclyAccessible: false,
      MultiAZ: false,
      Tags: expect.arrayContaining([{ Key: SCRATCH_TAG, Value: 'true' }, { Key: EXECUTION_TAG, Value: EXECUTION_ID }]),
    });
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, { DBInstanceIdentifier: SCRATCH_ID, SkipFinalSnapshot: true });
    // The waiting happened in the state machine: three looks, the first at once, two waits before
    // `available`; each look asked to wait until 3 min after the restore started (no RDS restore is
    // available sooner: the run here takes well under a second).
    expect(entered(run, 'CheckScratchInstance')).toBe(3);
    expect(entered(run, 'WaitForScratchInstance')).toBe(2);
    const waits = run.calls.filter((c) => c.state === 'CheckScratchInstance').map((c) => (c.output as { data: { nextCheckSeconds: number } }).data.nextCheckSeconds);
    expect(waits).toHaveLength(3);
    for (const seconds of waits) {
      expect(seconds).toBeLessThanOrEqual(180);
      expect(seconds).toBeGreaterThan(170);
    }
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'frontier/prod/database', VersionStage: 'AWSCURRENT' });

    const report = storedReport();
    expect(report.status).toBe('succeeded');
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['restore-test-query', true],
      ['restore-test-duration', true],
    ]);
    expect(report.checks[0]!.measured).toMatch(/^1 row\(s\), first value 1, \d+ ms$/);
    expect(report.objectives).toEqual([
      expect.objectContaining({ component: 'Database', rtoMinutes: 30, rpoMinutes: 15, met: false, measuredRpoMinutes: expect.any(Number) }),
    ]);
    expect(report.objectives[0]!.measuredRtoMinutes).toBeLessThan(1);
    expect(report.resources).toEqual([expect.objectContaining({ id: SCRATCH_ID, kept: false })]);
    expect(stepNames(report)).toEqual([
      'frontier-prod: StartScratchRestore',
      'frontier-prod: CheckScratchInstance',
      'frontier-prod: ValidateScratchInstance',
      'frontier-prod: DeleteScratchInstance',
    ]);
    // Secrets never enter the execution state.
    expect(JSON.stringify(run.events)).not.toContain(postgres.password);
  });

  it('in a dry run records the restore and the delete it would make, and makes neither', async () => {
    restoringRds();
    healthySupport();

    const run = await runStateMachine('restore-test', { dryRun: true }, { executionName: EXECUTION_NAME });

    expect(run.status).toBe('SUCCEEDED');
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
    expect(run.calls.map((c) => c.state)).not.toContain('CheckScratchInstance');
    const report = storedReport();
    expect(report.dryRun).toBe(true);
    const actions = report.steps.flatMap((s) => s.actions);
    expect(actions.map((a) => [a.operation, a.performed])).toEqual([
      ['RestoreDBInstanceFromDBSnapshot', false],
      ['DeleteDBInstance', false],
    ]);
    expect(actions[0]!.parameters).toMatchObject({ DBInstanceIdentifier: SCRATCH_ID, DBInstanceClass: 'db.t4g.medium' });
  });

  it('deletes the scratch instance and ends failed when the restore itself fails', async () => {
    restoringRds({ pendingLooks: 1, finalStatus: 'incompatible-restore' });
    healthySupport();

    const run = await runStateMachine('restore-test', {}, { executionName: EXECUTION_NAME });

    expect(run.status).toBe('FAILED');
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, { DBInstanceIdentifier: SCRATCH_ID });
    const report = storedReport();
    expect(report.failures).toEqual([
      { step: 'frontier-prod: CheckScratchInstance', error: 'UnexpectedResourceState', message: expect.stringContaining("is 'incompatible-restore'") },
    ]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('deletes the scratch instance when the validation query fails, and says why', async () => {
    restoringRds({ pendingLooks: 0 });
    healthySupport();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: postgres.user, password: 'not the password' }) });

    const run = await runStateMachine('restore-test', {}, { executionName: EXECUTION_NAME });

    expect(run.status).toBe('FAILED');
    expect(rds).toHaveReceivedCommandTimes(DeleteDBInstanceCommand, 1);
    const failure = storedReport().failures[0]!;
    expect(failure).toMatchObject({ step: 'frontier-prod: ValidateScratchInstance', error: 'ValidationFailed' });
    expect(failure.message).toContain(`cannot connect to 127.0.0.1:${postgres.port}/frontier as frontier_admin`);
    expect(failure.message).toContain('password authentication failed');
  });

  it('gives up past the timeout, on a redrive that finds its own earlier instance, and cleans up', async () => {
    restoringRds({ pendingLooks: 100 });
    healthySupport();
    // A redriven execution: the instance it started three hours ago still exists and is still creating.
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance('creating', { InstanceCreateTime: hoursAgo(3, new Date()) })] });

    const run = await runStateMachine('restore-test', {}, { executionName: EXECUTION_NAME });

    expect(run.status).toBe('FAILED');
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, { DBInstanceIdentifier: SCRATCH_ID });
    expect(storedReport().failures).toEqual([
      { step: 'frontier-prod: CheckScratchInstance', error: 'RestoreTimedOut', message: expect.stringContaining('limit 120 min') },
    ]);
  });

  it('adopts the instance a first attempt created when its answer was lost, instead of restoring twice', async () => {
    restoringRds({ pendingLooks: 0 });
    healthySupport();
    // RDS accepts the restore (creating the tagged instance), but the answer is a 5xx.
    let accepted = false;
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).callsFake(() => {
      accepted = true;
      throw new RDSServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'internal error' });
    });
    rds.on(DescribeDBInstancesCommand).callsFake(() => {
      if (!accepted) throw new DBInstanceNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: 'not found' });
      return { DBInstances: [scratchInstance('available')] };
    });

    const run = await runStateMachine('restore-test', {}, { executionName: EXECUTION_NAME });

    expect(run.status).toBe('SUCCEEDED');
    expect(rds).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 1);
    expect(run.events.filter((e) => e.type === 'StateRetried' && e.state.name === 'StartScratchRestore')).toHaveLength(1);
    const start = reportStep(storedReport(), 'frontier-prod: StartScratchRestore');
    expect(start?.actions[0]?.description).toContain('already started by an earlier attempt');
  });

  it('never touches an instance with the scratch name that this execution did not create', async () => {
    restoringRds();
    healthySupport();
    const foreign = scratchInstance('available', { TagList: [{ Key: 'team', Value: 'payments' }] });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [foreign] });

    const run = await runStateMachine('restore-test', {}, { executionName: EXECUTION_NAME });

    expect(run.status).toBe('FAILED');
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
    const report = storedReport();
    expect(report.failures.map((f) => [f.step, f.error])).toEqual([
      ['frontier-prod: StartScratchRestore', 'UnexpectedResourceState'],
      ['frontier-prod: DeleteScratchInstance', 'UnexpectedResourceState'],
    ]);
    expect(report.failures[1]!.message).toContain('the restore test will not touch it');
  });

  it('retries a delete that RDS refuses while the instance is still busy', async () => {
    restoringRds({ pendingLooks: 0 });
    healthySupport();
    let attempts = 0;
    rds.on(DeleteDBInstanceCommand).callsFake(() => {
      attempts += 1;
      if (attempts < 3) throw new RDSServiceException({ name: 'InvalidDBInstanceStateFault', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Instance is backing-up' });
      return {};
    });

    const run = await runStateMachine('restore-test', {}, { executionName: EXECUTION_NAME });

    expect(run.status).toBe('SUCCEEDED');
    expect(attempts).toBe(3);
    expect(run.events.filter((e) => e.type === 'StateRetried' && e.state.name === 'DeleteScratchInstance')).toHaveLength(2);
  });

  it('reports a missing snapshot copy without creating anything', async () => {
    restoringRds();
    healthySupport();
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });

    const run = await runStateMachine('restore-test', {}, { executionName: EXECUTION_NAME });

    expect(run.status).toBe('FAILED');
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
    const report = storedReport();
    expect(report.failures).toEqual([
      { step: 'frontier-prod: StartScratchRestore', error: 'ResourceNotFound', message: expect.stringContaining('no available snapshot copy of frontier-prod in us-east-1') },
    ]);
    expect(reportStep(report, 'frontier-prod: DeleteScratchInstance').detail).toContain('never-created');
  });

  it('rejects bad input in the first state with no AWS call', async () => {
    restoringRds();
    healthySupport();

    const run = await runStateMachine('restore-test', { databases: ['frontier-prod'], dryRun: 1 }, { executionName: EXECUTION_NAME });

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'InvalidInput', message: expect.stringContaining('dryRun: got 1 (number); expected boolean') });
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun']);
    expect(totalAwsCalls(allMocks)).toBe(0);
  });
});
