import {
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  InvalidDBInstanceStateFault,
  RDSClient,
  RDSServiceException,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessDenied, AwsTransientError, InvalidConfig, RecoveryError, ResourceNotFound, RestoreTimedOut, UnexpectedResourceState } from '../../shared/errors.js';
import { EXECUTION_TAG, PURPOSE_TAG, SCRATCH_TAG, scratchInstanceId, SNAPSHOT_TAG } from '../../shared/names.js';
import {
  checkScratchInstance,
  deleteScratchInstance,
  startScratchRestore,
  type ScratchRestore,
  scratchRestoreSettings,
} from '../../shared/restore-test.js';
import { describeRestoreSettings } from '../../shared/restore-settings.js';
import { configWith, dbInstance, exampleConfig, hoursAgo, minutesAgo, NOW, snapshot } from '../support/fixtures.js';

const recovery = new RDSClient({ region: 'us-east-1', maxAttempts: 1 });
const recoveryMock = mockClient(recovery);
const config = exampleConfig();
const database = config.databases[0]!;

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-restore-test:weekly-2026-11-22';
const OTHER_EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-restore-test:weekly-2026-11-15';
const SCRATCH_ID = scratchInstanceId('frontier-prod', EXECUTION);
const NEWEST_COPY_ARN = 'arn:aws:rds:us-east-1:123456789012:snapshot:frontier-prod-20261125-0800';

/** Every rule RDS applies to a DB instance identifier; an empty list means valid. */
function scratchInstance(options: Partial<DBInstance> = {}, taggedFor: string = EXECUTION): DBInstance {
  return dbInstance(SCRATCH_ID, {
    DBInstanceArn: `arn:aws:rds:us-east-1:123456789012:db:${SCRATCH_ID}`,
    Endpoint: { Address: `${SCRATCH_ID}.abcdefghij.us-east-1.rds.amazonaws.com`, Port: 5432 },
    TagList: [
      { Key: SCRATCH_TAG, Value: 'true' },
      { Key: EXECUTION_TAG, Value: taggedFor },
      { Key: PURPOSE_TAG, Value: 'restore-test' },
    ],
    ...options,
  });
}

const foreignInstance = (options: Partial<DBInstance> = {}) => scratchInstance({ TagList: [{ Key: 'team', Value: 'analytics' }], ...options });

const notFound = () => new DBInstanceNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: `DBInstance ${SCRATCH_ID} not found.` });
const throttled = () => new RDSServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
const serverError = () =>
  new RDSServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'internal error' });
const denied = () =>
  new RDSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'User is not authorized' });
const timedOut = () => Object.assign(new Error('connect ETIMEDOUT 52.94.1.1:443'), { name: 'TimeoutError', code: 'ETIMEDOUT' });

function copiesInRecoveryRegion() {
  recoveryMock.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [
      snapshot('frontier-prod-20261118-0800', hoursAgo(172), { region: 'us-east-1' }),
      snapshot('frontier-prod-20261125-0800', hoursAgo(4), { region: 'us-east-1' }),
      snapshot('frontier-prod-20261125-1200', hoursAgo(0.2), { region: 'us-east-1', status: 'copying' }),
    ],
  });
}

function sentCommandNames(): string[] {
  return recoveryMock.calls().map((call) => (call.args[0] as object).constructor.name);
}

beforeEach(() => {
  recoveryMock.reset();
});

describe('startScratchRestore', () => {
  const expectedParameters = {
    DBInstanceIdentifier: SCRATCH_ID,
    DBSnapshotIdentifier: NEWEST_COPY_ARN,
    DBInstanceClass: 'db.t4g.medium',
    DBSubnetGroupName: 'frontier-dr-restore-test',
    VpcSecurityGroupIds: ['sg-0a1b2c3d4e5f60718'],
    MultiAZ: false,
    PubliclyAccessible: false,
    DeletionProtection: false,
    AutoMinorVersionUpgrade: false,
    Tags: [
      { Key: SCRATCH_TAG, Value: 'true' },
      { Key: EXECUTION_TAG, Value: EXECUTION },
      { Key: PURPOSE_TAG, Value: 'restore-test' },
      { Key: SNAPSHOT_TAG, Value: 'frontier-prod-20261125-0800' },
      { Key: 'frontier-dr:database', Value: 'frontier-prod' },
    ],
  };

  it('restores the newest available copy in the recovery region to a tagged scratch instance', async () => {
    // Prepare
    copiesInRecoveryRegion();
    recoveryMock.on(DescribeDBInstancesCommand).rejects(notFound());
    recoveryMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({ DBInstance: scratchInstance({ DBInstanceStatus: 'creating' }) });

    // Act
    const result = await startScratchRestore(config, database, EXECUTION, false, recovery, NOW);

    // Assess
    expect(recoveryMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 1);
    expect(recoveryMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0]!.args[0].input).toEqual(expectedParameters);
    expect(recoveryMock).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { DBInstanceIdentifier: 'frontier-prod' });
    expect(result.data).toEqual({
      database: 'frontier-prod',
      instanceId: SCRATCH_ID,
      region: 'us-east-1',
      snapshot: expect.objectContaining({ id: 'frontier-prod-20261125-0800', arn: NEWEST_COPY_ARN, region: 'us-east-1' }),
      restoreStartedAt: NOW.toISOString(),
      started: true,
    });
    expect(result.actions).toEqual([expect.objectContaining({ service: 'rds', operation: 'RestoreDBInstanceFromDBSnapshot', performed: true })]);
    expect(result.resources).toEqual([{ kind: 'rds:db-instance', id: SCRATCH_ID, region: 'us-east-1', kept: true, note: 'scratch restore-test instance' }]);
  });

  it('in a dry run makes no mutating call and records the exact parameters a real run sends', async () => {
    copiesInRecoveryRegion();

    const dry = await startScratchRestore(config, database, EXECUTION, true, recovery, NOW);

    expect(sentCommandNames()).toEqual(['DescribeDBSnapshotsCommand']);
    expect(dry.actions![0]!.performed).toBe(false);
    expect(dry.actions![0]!.operation).toBe('RestoreDBInstanceFromDBSnapshot');
    expect(dry.actions![0]!.parameters).toEqual(expectedParameters);
    expect(dry.actions![0]!.description).toBe(`restore frontier-prod-20261125-0800 to scratch instance ${SCRATCH_ID} in us-east-1`);
    expect(dry.data.started).toBe(false);
    // Nothing exists after a dry run, so the report lists no resource.
    expect(dry.resources).toEqual([]);

    // The same execution for real sends exactly what the dry run recorded.
    recoveryMock.on(DescribeDBInstancesCommand).rejects(notFound());
    recoveryMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
    await startScratchRestore(config, database, EXECUTION, false, recovery, NOW);
    expect(recoveryMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0]!.args[0].input).toEqual(dry.actions![0]!.parameters);
  });

  it.each([
    ['subnetGroup', (c: ReturnType<typeof exampleConfig>) => delete c.databases[0]!.restoreTest.subnetGroup],
    ['securityGroupIds', (c: ReturnType<typeof exampleConfig>) => (c.databases[0]!.restoreTest.securityGroupIds = [])],
  ])('refuses with InvalidConfig naming restoreTest.%s instead of letting RDS use the default VPC or security group, calling nothing', async (field, change) => {
    const bare = configWith((c) => {
      change(c);
    });
    copiesInRecoveryRegion();

    for (const dryRun of [true, false]) {
      const failure = startScratchRestore(bare, bare.databases[0]!, EXECUTION, dryRun, recovery, NOW);
      await expect(failure).rejects.toThrow(InvalidConfig);
      await expect(failure).rejects.toThrow(`restoreTest.${field} of database frontier-prod is not set`);
    }
    expect(recoveryMock.calls()).toHaveLength(0);
  });

  it('says where each scratch setting came from, and that the engine default parameter group is used when none is named', async () => {
    copiesInRecoveryRegion();

    const dry = await startScratchRestore(config, database, EXECUTION, true, recovery, NOW);
    const settings = scratchRestoreSettings(database, dry.data!.snapshot);

    expect(dry.detail).toBe(`settings: ${describeRestoreSettings(settings)}`);
    expect(settings).toContainEqual({ parameter: 'DBSubnetGroupName', value: 'frontier-dr-restore-test', origin: 'config', from: 'from config (restoreTest.subnetGroup)', sent: true });
    expect(settings).toContainEqual(expect.objectContaining({ parameter: 'DBParameterGroupName', sent: false, from: "restoreTest.parameterGroup not set: RDS's default for the engine" }));
    expect(settings).toContainEqual(expect.objectContaining({ parameter: 'StorageEncrypted', value: true, from: 'from snapshot frontier-prod-20261125-0800 (snapshot restores keep it)' }));
  });

  it('sends the parameter and option groups restoreTest names', async () => {
    const named = configWith((c) => {
      c.databases[0]!.restoreTest.parameterGroup = 'frontier-dr-restore-test-pg16';
      c.databases[0]!.restoreTest.optionGroup = 'frontier-dr-restore-test-og16';
    });
    copiesInRecoveryRegion();

    const dry = await startScratchRestore(named, named.databases[0]!, EXECUTION, true, recovery, NOW);

    expect(dry.actions![0]!.parameters).toMatchObject({ DBParameterGroupName: 'frontier-dr-restore-test-pg16', OptionGroupName: 'frontier-dr-restore-test-og16' });
  });

  it('fails with ResourceNotFound and restores nothing when no copy is available', async () => {
    recoveryMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [snapshot('frontier-prod-20261125-1200', hoursAgo(0.2), { region: 'us-east-1', status: 'copying' })],
    });

    const failure = startScratchRestore(config, database, EXECUTION, false, recovery, NOW);

    await expect(failure).rejects.toThrow(ResourceNotFound);
    await expect(failure).rejects.toThrow('no available snapshot copy of frontier-prod in us-east-1');
    expect(recoveryMock).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
  });

  it('reuses the instance an earlier attempt of this execution started, without a second restore', async () => {
    copiesInRecoveryRegion();
    const createdAt = minutesAgo(7);
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'creating', InstanceCreateTime: createdAt })] });

    const result = await startScratchRestore(config, database, EXECUTION, false, recovery, NOW);

    expect(recoveryMock).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    expect(recoveryMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: SCRATCH_ID });
    // The restore time is measured from when the instance really started, not from this retry.
    expect(result.data).toMatchObject({ started: true, restoreStartedAt: createdAt.toISOString() });
    expect(result.actions![0]!.performed).toBe(true);
    expect(result.actions![0]!.description).toContain('already started by an earlier attempt');
    expect(result.resources).toEqual([expect.objectContaining({ id: SCRATCH_ID, kept: true })]);
  });

  it('reports the snapshot the earlier attempt restored, even when a newer copy has appeared since', async () => {
    copiesInRecoveryRegion();
    const earlier = scratchInstance({
      DBInstanceStatus: 'creating',
      TagList: [
        { Key: SCRATCH_TAG, Value: 'true' },
        { Key: EXECUTION_TAG, Value: EXECUTION },
        { Key: SNAPSHOT_TAG, Value: 'frontier-prod-20261118-0800' },
      ],
    });
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [earlier] });

    const result = await startScratchRestore(config, database, EXECUTION, false, recovery, NOW);

    expect(result.data.snapshot.id).toBe('frontier-prod-20261118-0800');
  });

  it.each([
    ['has no scratch tags', foreignInstance()],
    ['is a scratch instance of another execution', scratchInstance({}, OTHER_EXECUTION)],
    ['carries the execution tag but not the scratch tag', scratchInstance({ TagList: [{ Key: EXECUTION_TAG, Value: EXECUTION }] })],
  ])('refuses an existing instance that %s, and restores nothing', async (_label, instance) => {
    copiesInRecoveryRegion();
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance] });

    const failure = startScratchRestore(config, database, EXECUTION, false, recovery, NOW);

    await expect(failure).rejects.toThrow(UnexpectedResourceState);
    await expect(failure).rejects.toThrow(`DB instance ${SCRATCH_ID} in us-east-1 exists but was not created by execution ${EXECUTION}`);
    expect(recoveryMock).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    expect(recoveryMock).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it('adopts the instance when a concurrent attempt of this execution won the race', async () => {
    copiesInRecoveryRegion();
    recoveryMock.on(DescribeDBInstancesCommand).rejectsOnce(notFound()).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'creating' })] });
    recoveryMock
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ $metadata: { httpStatusCode: 400 }, message: 'DB instance already exists' }));

    const result = await startScratchRestore(config, database, EXECUTION, false, recovery, NOW);

    expect(result.data.started).toBe(true);
    expect(result.actions![0]!.performed).toBe(true);
    expect(recoveryMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 1);
    expect(recoveryMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 2);
  });

  it('refuses when someone else created an instance with the name in the meantime', async () => {
    copiesInRecoveryRegion();
    recoveryMock.on(DescribeDBInstancesCommand).rejectsOnce(notFound()).resolves({ DBInstances: [foreignInstance()] });
    recoveryMock
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ $metadata: { httpStatusCode: 400 }, message: 'DB instance already exists' }));

    const failure = startScratchRestore(config, database, EXECUTION, false, recovery, NOW);

    await expect(failure).rejects.toThrow(UnexpectedResourceState);
    await expect(failure).rejects.toThrow('was not created by execution');
  });

  it('does not report success when the name is taken but the instance cannot be found again', async () => {
    copiesInRecoveryRegion();
    recoveryMock.on(DescribeDBInstancesCommand).rejects(notFound());
    recoveryMock
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ $metadata: { httpStatusCode: 400 }, message: 'DB instance already exists' }));

    const failure = startScratchRestore(config, database, EXECUTION, false, recovery, NOW);

    await expect(failure).rejects.toThrow(RecoveryError);
    await expect(failure).rejects.toThrow(`rds:RestoreDBInstanceFromDBSnapshot on ${SCRATCH_ID} in us-east-1`);
  });

  it('turns a not-found answer to DescribeDBSnapshots into ResourceNotFound and restores nothing', async () => {
    recoveryMock.on(DescribeDBSnapshotsCommand).rejects(notFound());

    const failure = startScratchRestore(config, database, EXECUTION, false, recovery, NOW);

    await expect(failure).rejects.toThrow(ResourceNotFound);
    expect(recoveryMock).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
  });

  describe('faults on every call', () => {
    const prepare = {
      DescribeDBSnapshots: () => recoveryMock.on(DescribeDBSnapshotsCommand),
      DescribeDBInstances: () => {
        copiesInRecoveryRegion();
        return recoveryMock.on(DescribeDBInstancesCommand);
      },
      RestoreDBInstanceFromDBSnapshot: () => {
        copiesInRecoveryRegion();
        recoveryMock.on(DescribeDBInstancesCommand).rejects(notFound());
        return recoveryMock.on(RestoreDBInstanceFromDBSnapshotCommand);
      },
    };
    const resources = {
      DescribeDBSnapshots: 'frontier-prod in us-east-1',
      DescribeDBInstances: `${SCRATCH_ID} in us-east-1`,
      RestoreDBInstanceFromDBSnapshot: `${SCRATCH_ID} in us-east-1`,
    };
    const calls = Object.keys(prepare) as (keyof typeof prepare)[];
    const cases = calls.flatMap((call) => [
      [call, 'throttling', throttled, AwsTransientError] as const,
      [call, 'a 5xx', serverError, AwsTransientError] as const,
      [call, 'AccessDenied', denied, AwsAccessDenied] as const,
      [call, 'a timeout', timedOut, AwsTransientError] as const,
    ]);

    it.each(cases)('%s: %s becomes %p naming the call and resource', async (call, _label, fault, expected) => {
      prepare[call]().rejects(fault());

      const failure = startScratchRestore(config, database, EXECUTION, false, recovery, NOW);

      await expect(failure).rejects.toThrow(expected);
      await expect(failure).rejects.toThrow(`rds:${call} on ${resources[call]}`);
      if (call !== 'RestoreDBInstanceFromDBSnapshot') expect(recoveryMock).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    });
  });
});

describe('checkScratchInstance', () => {
  function restoreStarted(minutesBefore: number): ScratchRestore {
    return {
      database: 'frontier-prod',
      instanceId: SCRATCH_ID,
      region: 'us-east-1',
      snapshot: {
        id: 'frontier-prod-20261125-0800',
        arn: NEWEST_COPY_ARN,
        type: 'manual',
        createdAt: hoursAgo(4).toISOString(),
        encrypted: true,
        region: 'us-east-1',
        sourceInstance: 'frontier-prod',
      },
      restoreStartedAt: minutesAgo(minutesBefore).toISOString(),
      started: true,
    };
  }

  it('reports an available instance with its endpoint and the minutes waited', async () => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'available' })] });

    const { data: status, detail } = await checkScratchInstance(restoreStarted(20), database, EXECUTION, recovery, NOW);

    expect(status).toEqual({
      instanceId: SCRATCH_ID,
      status: 'available',
      available: true,
      endpoint: { host: `${SCRATCH_ID}.abcdefghij.us-east-1.rds.amazonaws.com`, port: 5432 },
      waitedMinutes: 20,
      nextCheckSeconds: 10,
    });
    expect(detail).toBe(`${SCRATCH_ID} is available after 20 min`);
    expect(recoveryMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: SCRATCH_ID });
  });

  it('says when to look again: at 3 min after the restore started (none is available sooner), then every 10 s, never past restoreTest.timeoutMinutes', async () => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'creating' })] });
    const next = async (minutesBefore: number) => (await checkScratchInstance(restoreStarted(minutesBefore), database, EXECUTION, recovery, NOW)).data.nextCheckSeconds;

    // The first look comes at once: the first wait is the whole 3 minutes.
    expect(await next(0)).toBe(180);
    expect(await next(1)).toBe(120);
    expect(await next(3)).toBe(10);
    expect(await next(60)).toBe(10);
    // 7 s before the 120-min limit.
    expect(await next(120 - 7 / 60)).toBe(7);
  });

  it('uses the configured port when the endpoint carries none', async () => {
    const onOtherPort = configWith((c) => {
      c.databases[0]!.port = 6543;
    });
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ Endpoint: { Address: 'scratch.example' } })] });

    const { data: status } = await checkScratchInstance(restoreStarted(20), onOtherPort.databases[0]!, EXECUTION, recovery, NOW);

    expect(status.endpoint).toEqual({ host: 'scratch.example', port: 6543 });
  });

  it.each([
    ['creating', {}],
    ['backing-up', {}],
    ['modifying', {}],
    ['available but without an endpoint yet', { DBInstanceStatus: 'available', Endpoint: undefined }],
  ])('reports %s as not yet available, rounding the minutes waited', async (status, options) => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: status, ...options })] });

    const { data: result } = await checkScratchInstance(restoreStarted(12.34), database, EXECUTION, recovery, NOW);

    expect(result).toMatchObject({ available: false, endpoint: null, waitedMinutes: 12.3 });
  });

  it.each([
    'failed',
    'incompatible-restore',
    'incompatible-parameters',
    'incompatible-network',
    'incompatible-option-group',
    'inaccessible-encryption-credentials',
    'inaccessible-encryption-credentials-recoverable',
    'storage-full',
    'deleting',
    'deleted',
  ])("fails at once with UnexpectedResourceState when the instance is '%s'", async (status) => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: status })] });

    const failure = checkScratchInstance(restoreStarted(5), database, EXECUTION, recovery, NOW);

    await expect(failure).rejects.toThrow(UnexpectedResourceState);
    await expect(failure).rejects.toThrow(`scratch instance ${SCRATCH_ID} is '${status}'`);
  });

  it('times out with RestoreTimedOut once the configured limit has passed', async () => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'creating' })] });

    const failure = checkScratchInstance(restoreStarted(121), database, EXECUTION, recovery, NOW);

    await expect(failure).rejects.toThrow(RestoreTimedOut);
    await expect(failure).rejects.toMatchObject({ name: 'RestoreTimedOut' });
    await expect(failure).rejects.toThrow("still 'creating' after 121.0 min (limit 120 min)");
  });

  it('keeps waiting at exactly the limit, and reports a late success as available', async () => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'creating' })] });
    await expect(checkScratchInstance(restoreStarted(120), database, EXECUTION, recovery, NOW)).resolves.toMatchObject({ data: { available: false } });

    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'available' })] });
    await expect(checkScratchInstance(restoreStarted(150), database, EXECUTION, recovery, NOW)).resolves.toMatchObject({
      data: { available: true, waitedMinutes: 150 },
    });
  });

  it.each([
    ['has no scratch tags', foreignInstance({ DBInstanceStatus: 'available' })],
    ['belongs to another execution', scratchInstance({ DBInstanceStatus: 'available' }, OTHER_EXECUTION)],
  ])('refuses an instance that %s, even when it is available', async (_label, instance) => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance] });

    await expect(checkScratchInstance(restoreStarted(20), database, EXECUTION, recovery, NOW)).rejects.toThrow(UnexpectedResourceState);
  });

  it('reports a vanished instance as ResourceNotFound', async () => {
    recoveryMock.on(DescribeDBInstancesCommand).rejects(notFound());

    await expect(checkScratchInstance(restoreStarted(20), database, EXECUTION, recovery, NOW)).rejects.toThrow(ResourceNotFound);
  });

  it.each([
    ['throttling', throttled, AwsTransientError],
    ['a 5xx', serverError, AwsTransientError],
    ['AccessDenied', denied, AwsAccessDenied],
    ['a timeout', timedOut, AwsTransientError],
  ])('turns %s on DescribeDBInstances into a named error', async (_label, fault, expected) => {
    recoveryMock.on(DescribeDBInstancesCommand).rejects(fault());

    const failure = checkScratchInstance(restoreStarted(20), database, EXECUTION, recovery, NOW);

    await expect(failure).rejects.toThrow(expected);
    await expect(failure).rejects.toThrow(`rds:DescribeDBInstances on ${SCRATCH_ID} in us-east-1`);
  });
});

describe('deleteScratchInstance', () => {
  const expectedParameters = { DBInstanceIdentifier: SCRATCH_ID, SkipFinalSnapshot: true, DeleteAutomatedBackups: true };

  it('deletes this execution’s scratch instance without a final snapshot', async () => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'available' })] });
    recoveryMock.on(DeleteDBInstanceCommand).resolves({ DBInstance: scratchInstance({ DBInstanceStatus: 'deleting' }) });

    const result = await deleteScratchInstance('frontier-prod', 'us-east-1', EXECUTION, false, recovery);

    expect(recoveryMock).toHaveReceivedCommandTimes(DeleteDBInstanceCommand, 1);
    expect(recoveryMock.commandCalls(DeleteDBInstanceCommand)[0]!.args[0].input).toEqual(expectedParameters);
    const action = expect.objectContaining({ service: 'rds', operation: 'DeleteDBInstance', parameters: expectedParameters, performed: true });
    expect(result).toEqual({
      data: { instanceId: SCRATCH_ID, outcome: 'deleted', action },
      actions: [action],
      resources: [{ kind: 'rds:db-instance', id: SCRATCH_ID, region: 'us-east-1', kept: false, note: 'scratch instance deleted' }],
      detail: `scratch instance ${SCRATCH_ID}: deleted`,
    });
  });

  it('in a dry run makes no call at all and records the exact delete it would send', async () => {
    const result = await deleteScratchInstance('frontier-prod', 'us-east-1', EXECUTION, true, recovery);

    expect(recoveryMock.calls()).toHaveLength(0);
    expect(result.data.outcome).toBe('dry-run');
    expect(result.actions).toEqual([
      {
        description: `delete scratch instance ${SCRATCH_ID} in us-east-1`,
        service: 'rds',
        operation: 'DeleteDBInstance',
        parameters: expectedParameters,
        performed: false,
      },
    ]);
    // Nothing was deleted, and the dry run created nothing to delete: no resource for the report.
    expect(result.resources).toEqual([]);
  });

  it.each([
    ['DescribeDBInstances answers DBInstanceNotFound', () => recoveryMock.on(DescribeDBInstancesCommand).rejects(notFound())],
    ['DescribeDBInstances answers an empty list', () => recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] })],
  ])('reports never-created and deletes nothing when %s', async (_label, prepare) => {
    prepare();

    const result = await deleteScratchInstance('frontier-prod', 'us-east-1', EXECUTION, false, recovery);

    expect(result).toEqual({
      data: { instanceId: SCRATCH_ID, outcome: 'never-created', action: null },
      actions: [],
      resources: [],
      detail: `scratch instance ${SCRATCH_ID}: never-created`,
    });
    expect(recoveryMock).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it('leaves an instance that is already being deleted alone', async () => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'deleting' })] });

    const result = await deleteScratchInstance('frontier-prod', 'us-east-1', EXECUTION, false, recovery);

    expect(result).toEqual({
      data: { instanceId: SCRATCH_ID, outcome: 'already-deleting', action: null },
      actions: [],
      resources: [{ kind: 'rds:db-instance', id: SCRATCH_ID, region: 'us-east-1', kept: false, note: 'scratch instance already-deleting' }],
      detail: `scratch instance ${SCRATCH_ID}: already-deleting`,
    });
    expect(recoveryMock).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it.each([
    ['has no scratch tags', foreignInstance()],
    ['belongs to another execution', scratchInstance({}, OTHER_EXECUTION)],
    ['is marked scratch=false', scratchInstance({ TagList: [{ Key: SCRATCH_TAG, Value: 'false' }, { Key: EXECUTION_TAG, Value: EXECUTION }] })],
  ])('refuses an instance that %s and sends no DeleteDBInstance', async (_label, instance) => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance] });
    recoveryMock.on(DeleteDBInstanceCommand).resolves({});

    const failure = deleteScratchInstance('frontier-prod', 'us-east-1', EXECUTION, false, recovery);

    await expect(failure).rejects.toThrow(UnexpectedResourceState);
    await expect(failure).rejects.toThrow('the restore test will not touch it');
    expect(recoveryMock).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it('turns InvalidDBInstanceStateFault (still creating) into AwsTransientError so the state machine retries', async () => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'creating' })] });
    recoveryMock
      .on(DeleteDBInstanceCommand)
      .rejects(new InvalidDBInstanceStateFault({ $metadata: { httpStatusCode: 400 }, message: 'Instance is not in available state' }));

    const failure = deleteScratchInstance('frontier-prod', 'us-east-1', EXECUTION, false, recovery);

    await expect(failure).rejects.toThrow(AwsTransientError);
    await expect(failure).rejects.toThrow(`scratch instance ${SCRATCH_ID} cannot be deleted while 'creating'`);
    await expect(failure).rejects.toHaveProperty('cause.name', 'InvalidDBInstanceStateFault');
  });

  it('reports never-created when the instance disappears between the look and the delete', async () => {
    recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'available' })] });
    recoveryMock.on(DeleteDBInstanceCommand).rejects(notFound());

    const result = await deleteScratchInstance('frontier-prod', 'us-east-1', EXECUTION, false, recovery);

    expect(result.data).toEqual({ instanceId: SCRATCH_ID, outcome: 'never-created', action: null });
    expect(result.resources).toEqual([]);
  });

  it.each(
    (['DeleteDBInstance', 'DescribeDBInstances'] as const).flatMap((call) => [
      [call, denied, AwsAccessDenied] as const,
      [call, throttled, AwsTransientError] as const,
      [call, serverError, AwsTransientError] as const,
      [call, timedOut, AwsTransientError] as const,
    ]),
  )('names rds:%s when it fails (%p)', async (call, fault, expected) => {
    if (call === 'DeleteDBInstance') {
      recoveryMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [scratchInstance({ DBInstanceStatus: 'available' })] });
      recoveryMock.on(DeleteDBInstanceCommand).rejects(fault());
    } else {
      recoveryMock.on(DescribeDBInstancesCommand).rejects(fault());
    }

    const failure = deleteScratchInstance('frontier-prod', 'us-east-1', EXECUTION, false, recovery);

    await expect(failure).rejects.toThrow(expected);
    await expect(failure).rejects.toThrow(`rds:${call} on ${SCRATCH_ID} in us-east-1`);
  });
});
