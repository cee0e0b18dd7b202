// The decisions of the two steps that connect to a database: read-only mode on the damaged instance
// (applied and proved, no endpoint, refused by a server that answered, no answer; whether it holds:
// sessions not ended, settings that turn it off, which wins, what revoke-writes recorded and how it is
// given back) and the prewarm of
// the restored one (skips, partial and failed prewarms, an unreachable server). The database work is
// injected so each answer can be forced; Secrets Manager is a client mock with its faults.
import { jest } from '@jest/globals';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessDenied, AwsTransientError, InvalidConfig, ResourceNotFound, ValidationFailed } from '../../shared/errors.js';
import {
  grantStatements,
  groupRevokedGrants,
  isFalseSetting,
  makeDamagedDatabaseReadOnly,
  PREWARM_BUDGET_MS,
  prewarmRestoredDatabase,
  readOnlyCheck,
  readWriteOverrides,
  type ReadOnlyOutcome,
  type RevokedGrant,
} from '../../shared/read-only.js';
import { configWith, exampleConfig } from '../support/fixtures.js';

const secrets = new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 });
const secretsMock = mockClient(secrets);
const config = exampleConfig();
const database = config.databases[0]!;
const SOURCE = { host: 'frontier-prod.abcdefghij.us-west-2.rds.amazonaws.com', port: 5432 };
const RESTORED = { host: 'frontier-prod-r-202611251150.abcdefghij.us-west-2.rds.amazonaws.com', port: 5432 };
const CREDENTIALS = { username: 'frontier_admin', password: 'not-a-real-password' };

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });
const secretsFaults = [
  ['throttling', () => new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }), AwsTransientError],
  ['AccessDenied', () => new SecretsManagerServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'denied' }), AwsAccessDenied],
  ['not-found', () => new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: "Secrets Manager can't find the specified secret." }), ResourceNotFound],
] as const;

beforeEach(() => {
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand, { SecretId: database.credentialsSecret }).resolves({ SecretString: JSON.stringify(CREDENTIALS) });
});

describe('makeDamagedDatabaseReadOnly', () => {
  const enabled = (outcome: Partial<ReadOnlyOutcome> = {}) =>
    jest.fn(async (): Promise<ReadOnlyOutcome> => ({ terminatedSessions: 2, sessionsNotEnded: [], readWriteOverrides: [], writeRefused: true, sizeBytes: 12_500_000, privileges: null, ...outcome }));
  const notApplied = { mode: 'alter-database', strength: 'default', applied: false, writeRefused: null, sizeBytes: null, terminatedSessions: 0, sessionsNotEnded: [], readWriteOverrides: [], revoked: null, stillWritable: [] };

  it('records the ALTER DATABASE it would run in a dry run, and connects nowhere', async () => {
    const enable = enabled();

    const result = await makeDamagedDatabaseReadOnly(config, database, { mode: 'alter-database', sourceEndpoint: SOURCE, dryRun: true }, { secrets, enable });

    expect(result.data).toEqual(notApplied);
    expect(result.actions).toEqual([
      {
        description: `ALTER DATABASE ${database.databaseName} SET default_transaction_read_only = on; end the other sessions`,
        service: 'postgresql',
        operation: 'ALTER DATABASE',
        parameters: { database: database.databaseName, instance: database.name },
        performed: false,
      },
    ]);
    expect(enable).not.toHaveBeenCalled();
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it('only ends sessions in parameter-group mode (the group already makes new sessions read-only)', async () => {
    const enable = enabled();

    const result = await makeDamagedDatabaseReadOnly(config, database, { mode: 'parameter-group', sourceEndpoint: SOURCE, dryRun: false }, { secrets, enable });

    expect(enable).toHaveBeenCalledWith(
      { ...SOURCE, databaseName: database.databaseName, tls: database.tls },
      CREDENTIALS,
      { alterDatabase: false, timeoutMs: config.health.timeoutSeconds * 1000, strength: 'default', applicationRoles: [] },
    );
    expect(result.actions).toEqual([expect.objectContaining({ operation: 'pg_terminate_backend', performed: true })]);
    expect(result.data).toMatchObject({ mode: 'parameter-group', applied: true });
  });

  it('applies read-only mode on the damaged instance and proves it with a refused write', async () => {
    const enable = enabled();

    const result = await makeDamagedDatabaseReadOnly(config, database, { mode: 'alter-database', sourceEndpoint: SOURCE, dryRun: false }, { secrets, enable });

    expect(enable).toHaveBeenCalledWith(expect.objectContaining({ host: SOURCE.host }), CREDENTIALS, expect.objectContaining({ alterDatabase: true }));
    expect(result.data).toEqual({ ...notApplied, applied: true, writeRefused: true, sizeBytes: 12_500_000, terminatedSessions: 2 });
    expect(result.actions?.map((a) => a.performed)).toEqual([true]);
    expect(result.checks).toEqual([expect.objectContaining({ name: 'read-only-mode', passed: true, measured: 'test write refused (25006)', resource: `${database.name} (${config.primaryRegion})` })]);
    expect(result.checks?.[0]?.message).toContain('default_transaction_read_only is only a default: a session can still turn it off (SET default_transaction_read_only = off, BEGIN READ WRITE)');
    expect(result.detail).toBe(
      'a test write was refused; 2 other sessions ended; database size 12.5 MB; read-only is a default sessions can turn off (SET default_transaction_read_only = off, BEGIN READ WRITE)',
    );
  });

  it('fails the check, with a warning, when the test write was accepted', async () => {
    const result = await makeDamagedDatabaseReadOnly(
      config,
      database,
      { mode: 'alter-database', sourceEndpoint: SOURCE, dryRun: false },
      { secrets, enable: enabled({ writeRefused: false, sizeBytes: null }) },
    );

    expect(result.checks?.[0]).toMatchObject({ passed: false, measured: 'test write accepted' });
    expect(result.checks?.[0]?.message).toContain('may ALTER DATABASE');
    expect(result.detail).toBe('WARNING: a test write was NOT refused; 2 other sessions ended; read-only is a default sessions can turn off (SET default_transaction_read_only = off, BEGIN READ WRITE)');
  });

  it('applies nothing to an instance without an endpoint (it takes no writes) and reads no credentials', async () => {
    const enable = enabled();

    const result = await makeDamagedDatabaseReadOnly(config, database, { mode: 'alter-database', sourceEndpoint: null, dryRun: false }, { secrets, enable });

    expect(result.data.applied).toBe(false);
    expect(result.actions?.map((a) => a.performed)).toEqual([false]);
    expect(result.checks).toBeUndefined();
    expect(result.detail).toContain('has no endpoint (not running)');
    expect(enable).not.toHaveBeenCalled();
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it.each([
    ['a missing privilege', pgError('42501', 'must be owner of database frontier')],
    ['a wrong password', pgError('28P01', 'password authentication failed')],
    ['a refusal wrapped by the write probe', new ValidationFailed('write probe failed', { cause: pgError('42501', 'permission denied') })],
  ])('goes on with a failed check when a server that answered refuses (%s)', async (_label, refusal) => {
    const result = await makeDamagedDatabaseReadOnly(
      config,
      database,
      { mode: 'alter-database', sourceEndpoint: SOURCE, dryRun: false },
      { secrets, enable: jest.fn(async () => Promise.reject(refusal)) },
    );

    const code = (refusal as { code?: string }).code ?? '42501';
    expect(result.data).toMatchObject({ applied: false, writeRefused: null });
    expect(result.actions?.map((a) => a.performed)).toEqual([false]);
    expect(result.checks).toEqual([expect.objectContaining({ name: 'read-only-mode', passed: false, measured: `refused (SQLSTATE ${code})` })]);
    expect(result.checks?.[0]?.message).toContain('stop them by hand');
    expect(result.detail).toContain('WARNING: read-only mode not set, the database refused');
  });

  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 10.0.1.5:5432'), { code: 'ECONNREFUSED' })],
    ['a timeout', new Error('Connection terminated due to connection timeout')],
    ['a server shutting down', pgError('57P01', 'terminating connection due to administrator command')],
  ])('records, without a check, a database that did not answer (%s)', async (_label, failure) => {
    const result = await makeDamagedDatabaseReadOnly(
      config,
      database,
      { mode: 'alter-database', sourceEndpoint: SOURCE, dryRun: false },
      { secrets, enable: jest.fn(async () => Promise.reject(failure)) },
    );

    expect(result.data.applied).toBe(false);
    expect(result.checks).toBeUndefined();
    expect(result.detail).toContain('the database did not answer');
    expect(result.detail).toContain('it takes no writes while it is down');
  });

  it.each(secretsFaults)('fails the step with a named error when Secrets Manager answers %s', async (_label, fault, expected) => {
    secretsMock.on(GetSecretValueCommand).rejects(fault());
    const enable = enabled();

    await expect(makeDamagedDatabaseReadOnly(config, database, { mode: 'alter-database', sourceEndpoint: SOURCE, dryRun: false }, { secrets, enable })).rejects.toThrow(expected);
    expect(enable).not.toHaveBeenCalled();
  });
});

const OUTCOME: ReadOnlyOutcome = { terminatedSessions: 1, sessionsNotEnded: [], readWriteOverrides: [], writeRefused: true, sizeBytes: null, privileges: null };
const REVOKED: RevokedGrant[] = [
  { grantee: 'app', privileges: ['INSERT', 'UPDATE', 'DELETE'], withGrantOption: false, columns: null, relations: ['public.orders', 'sales."Line Items"'] },
  { grantee: 'etl', privileges: ['INSERT'], withGrantOption: true, columns: null, relations: ['public.orders'] },
  { grantee: 'app', privileges: ['UPDATE'], withGrantOption: false, columns: ['Status', 'note'], relations: ['public.audit'] },
  { grantee: 'PUBLIC', privileges: ['TRUNCATE'], withGrantOption: false, columns: null, relations: ['public.audit'] },
];

describe('isFalseSetting', () => {
  it.each(['off', 'OFF', 'of', 'false', 'f', 'fa', 'no', 'n', '0', "'off'", ' off '])('reads %p as false, as PostgreSQL does', (value) => {
    expect(isFalseSetting(value)).toBe(true);
  });

  it.each(['on', 'true', 't', 'yes', 'y', '1', 'o'])('does not read %p as false', (value) => {
    expect(isFalseSetting(value)).toBe(false);
  });
});

describe('readWriteOverrides', () => {
  const setting = (role: string | null, database: string | null, value: string) => ({ role, database, value });

  it('names a role setting that turns read-only off, with the statement that set it', () => {
    expect(readWriteOverrides([setting(null, 'frontier', 'on'), setting('app', null, 'off')])).toEqual([
      { role: 'app', database: null, value: 'off', statement: 'ALTER ROLE "app" SET default_transaction_read_only = off' },
    ]);
  });

  it("lets a role's setting in this database win over its setting everywhere", () => {
    expect(readWriteOverrides([setting('app', 'frontier', 'on'), setting('app', null, 'off')])).toEqual([]);
    expect(readWriteOverrides([setting('app', 'frontier', 'false'), setting('app', null, 'on')])).toEqual([
      { role: 'app', database: 'frontier', value: 'false', statement: 'ALTER ROLE "app" IN DATABASE "frontier" SET default_transaction_read_only = false' },
    ]);
  });

  it("names a database setting that beats the parameter group, and an ALTER ROLE ALL only when the database has none", () => {
    expect(readWriteOverrides([setting(null, 'frontier', 'off')])).toEqual([expect.objectContaining({ statement: 'ALTER DATABASE "frontier" SET default_transaction_read_only = off' })]);
    expect(readWriteOverrides([setting(null, null, 'off')])).toEqual([expect.objectContaining({ statement: 'ALTER ROLE ALL SET default_transaction_read_only = off' })]);
    // What ALTER DATABASE ... = on (alter-database mode) sets beats ALTER ROLE ALL.
    expect(readWriteOverrides([setting(null, 'frontier', 'on'), setting(null, null, 'off')])).toEqual([]);
  });

  it('names nothing when every setting says on', () => {
    expect(readWriteOverrides([setting(null, 'frontier', 'on'), setting('app', null, 'true')])).toEqual([]);
  });
});

describe('groupRevokedGrants and grantStatements', () => {
  it('groups what was held into as few grants as give it back exactly', () => {
    const held = [
      { relation: 'public.orders', column: null, grantee: 'app', privilege: 'DELETE' as const, grantable: false },
      { relation: 'public.orders', column: null, grantee: 'app', privilege: 'INSERT' as const, grantable: false },
      { relation: 'public.orders', column: null, grantee: 'app', privilege: 'UPDATE' as const, grantable: false },
      { relation: 'sales."Line Items"', column: null, grantee: 'app', privilege: 'UPDATE' as const, grantable: false },
      { relation: 'sales."Line Items"', column: null, grantee: 'app', privilege: 'INSERT' as const, grantable: false },
      { relation: 'sales."Line Items"', column: null, grantee: 'app', privilege: 'DELETE' as const, grantable: false },
      { relation: 'public.orders', column: null, grantee: 'etl', privilege: 'INSERT' as const, grantable: true },
      { relation: 'public.audit', column: 'Status', grantee: 'app', privilege: 'UPDATE' as const, grantable: false },
      { relation: 'public.audit', column: 'note', grantee: 'app', privilege: 'UPDATE' as const, grantable: false },
      { relation: 'public.audit', column: null, grantee: 'PUBLIC', privilege: 'TRUNCATE' as const, grantable: false },
    ];

    expect(groupRevokedGrants(held)).toEqual(REVOKED);
  });

  it('writes the GRANT statements that undo the revoke: quoted names, columns, grant options, PUBLIC', () => {
    expect(grantStatements(REVOKED)).toEqual([
      'GRANT INSERT, UPDATE, DELETE ON TABLE public.orders, sales."Line Items" TO "app"',
      'GRANT INSERT ON TABLE public.orders TO "etl" WITH GRANT OPTION',
      'GRANT UPDATE ("Status", "note") ON TABLE public.audit TO "app"',
      'GRANT TRUNCATE ON TABLE public.audit TO PUBLIC',
    ]);
  });
});

describe('readOnlyCheck', () => {
  it('passes in default mode but says the default can be turned off', () => {
    const check = readOnlyCheck('default', OUTCOME, []);

    expect(check).toMatchObject({ passed: true, measured: 'test write refused (25006)' });
    expect(check.message).toContain('default_transaction_read_only is only a default: a session can still turn it off');
  });

  it('fails, naming each, for sessions not ended and settings that turn read-only off', () => {
    const check = readOnlyCheck(
      'default',
      {
        ...OUTCOME,
        sessionsNotEnded: [{ pid: 4242, role: 'rdsadmin', reason: 'may not be ended by the recovery user' }],
        readWriteOverrides: [{ role: 'app', database: null, value: 'off', statement: 'ALTER ROLE "app" SET default_transaction_read_only = off' }],
      },
      [],
    );

    expect(check.passed).toBe(false);
    expect(check.measured).toBe('test write refused (25006); 1 session(s) from before the switch not ended; 1 setting(s) turning read-only off');
    expect(check.message).toContain('pid 4242 (rdsadmin): may not be ended by the recovery user');
    expect(check.message).toContain('ALTER ROLE "app" SET default_transaction_read_only = off');
  });

  it('passes with revoke-writes despite a role setting (privileges do not depend on it), and names the setting', () => {
    const check = readOnlyCheck(
      'revoke-writes',
      { ...OUTCOME, readWriteOverrides: [{ role: 'app', database: null, value: 'off', statement: 'ALTER ROLE "app" SET default_transaction_read_only = off' }], privileges: { revoked: REVOKED, stillWritable: [] } },
      ['app', 'etl'],
    );

    expect(check.passed).toBe(true);
    expect(check.message).toContain('app, etl may no longer write (4 grant(s) revoked, given back on failback by restoreWritePrivileges): no session can turn that off');
    expect(check.message).toContain('they no longer matter');
    expect(check.message).not.toContain('only a default');
  });

  it('fails with revoke-writes when an application role may still write or owns a relation', () => {
    const check = readOnlyCheck('revoke-writes', { ...OUTCOME, privileges: { revoked: [], stillWritable: [{ role: 'app', relation: 'public.orders', reason: 'owns it' }] } }, ['app']);

    expect(check).toMatchObject({ passed: false, measured: 'test write refused (25006); 1 application role grant(s) left' });
    expect(check.message).toContain('app on public.orders (owns it)');
  });
});

describe('makeDamagedDatabaseReadOnly with readOnlyStrength revoke-writes', () => {
  const strong = configWith((c) => {
    c.databases[0]!.recovery!.readOnlyStrength = 'revoke-writes';
    c.databases[0]!.recovery!.applicationRoles = ['app', 'etl'];
  }).databases[0]!;
  const request = { mode: 'alter-database' as const, sourceEndpoint: SOURCE, dryRun: false };

  it('records the REVOKE it would make in a dry run', async () => {
    const result = await makeDamagedDatabaseReadOnly(config, strong, { ...request, dryRun: true }, { secrets, enable: jest.fn(async () => OUTCOME) });

    expect(result.actions?.[1]).toMatchObject({ operation: 'REVOKE', performed: false, parameters: { roles: ['app', 'etl'] } });
    expect(result.data).toMatchObject({ strength: 'revoke-writes', revoked: null });
  });

  it('passes the roles on and records exactly what was revoked, with the GRANT statements that undo it', async () => {
    const enable = jest.fn(async () => ({ ...OUTCOME, privileges: { revoked: REVOKED, stillWritable: [] } }));

    const result = await makeDamagedDatabaseReadOnly(config, strong, request, { secrets, enable });

    expect(enable).toHaveBeenCalledWith(expect.anything(), CREDENTIALS, expect.objectContaining({ strength: 'revoke-writes', applicationRoles: ['app', 'etl'] }));
    expect(result.data).toMatchObject({ strength: 'revoke-writes', revoked: REVOKED, stillWritable: [] });
    expect(result.actions?.[1]).toMatchObject({ operation: 'REVOKE', performed: true, parameters: { revoked: REVOKED, undo: grantStatements(REVOKED) } });
    expect(result.resources).toEqual([expect.objectContaining({ kind: 'postgresql:write-privileges', id: `${database.name}/${database.databaseName}`, kept: true })]);
    expect(result.checks?.[0]).toMatchObject({ passed: true });
    expect(result.detail).toContain('revoked 4 write grant(s) from app, etl');
    expect(result.detail).not.toContain('a default sessions can turn off');
  });

  it('keeps the record of a committed revoke when something fails after it', async () => {
    const failure = Object.assign(pgError('42501', 'permission denied for schema pg_temp'), { privileges: { revoked: REVOKED, stillWritable: [] } });

    const result = await makeDamagedDatabaseReadOnly(config, strong, request, { secrets, enable: jest.fn(async () => Promise.reject(failure)) });

    expect(result.data).toMatchObject({ applied: false, revoked: REVOKED });
    expect(result.actions?.[1]).toMatchObject({ operation: 'REVOKE', parameters: { undo: grantStatements(REVOKED) } });
    expect(result.resources).toHaveLength(1);
    expect(result.checks?.[0]).toMatchObject({ passed: false });
  });
});

describe('prewarmRestoredDatabase', () => {
  const withTables = configWith((c) => {
    c.databases[0]!.recovery!.prewarmTables = ['public.accounts', 'public.orders'];
  }).databases[0]!;
  const request = { endpoint: RESTORED, dryRun: false, connectTimeoutMs: 5_000 };
  /** 2.5 s between the start and the end of the prewarm. */
  const clock = () => {
    const times = [1_000, 3_500];
    return () => times.shift() ?? 3_500;
  };

  it('is skipped when recovery.prewarmTables is empty', async () => {
    const prewarm = jest.fn(async () => []);

    const result = await prewarmRestoredDatabase(database, request, { secrets, prewarm });

    expect(result).toMatchObject({ status: 'skipped', data: { tables: [], elapsedMs: 0 }, detail: 'no tables to prewarm (recovery.prewarmTables)' });
    expect(prewarm).not.toHaveBeenCalled();
  });

  it.each([
    ['a dry run', { ...request, dryRun: true }, 'dry run: nothing to prewarm'],
    ['no endpoint yet', { ...request, endpoint: null }, 'the restored instance has no endpoint yet: nothing to prewarm'],
  ])('is skipped in %s, connecting nowhere', async (_label, skipped, detail) => {
    const prewarm = jest.fn(async () => []);

    const result = await prewarmRestoredDatabase(withTables, skipped, { secrets, prewarm });

    expect(result).toMatchObject({ status: 'skipped', detail });
    expect(prewarm).not.toHaveBeenCalled();
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it('prewarms every table within the budget and passes the check, timed', async () => {
    const prewarm = jest.fn(async (_target: unknown, _credentials: unknown, tables: string[]) => tables.map((table, i) => ({ table, blocks: 100 * (i + 1), error: null })));

    const result = await prewarmRestoredDatabase(withTables, request, { secrets, prewarm, clock: clock() });

    expect(prewarm).toHaveBeenCalledWith({ ...RESTORED, databaseName: withTables.databaseName, tls: withTables.tls }, CREDENTIALS, ['public.accounts', 'public.orders'], {
      connectTimeoutMs: 5_000,
      budgetMs: PREWARM_BUDGET_MS,
    });
    expect(result.status).toBeUndefined();
    expect(result.data.elapsedMs).toBe(2_500);
    expect(result.checks).toEqual([
      expect.objectContaining({ name: 'prewarm', resource: `${RESTORED.host}/${withTables.databaseName}`, measured: '2 of 2 tables in 2.5 s', passed: true, target: 'every table of recovery.prewarmTables loaded within 8 min' }),
    ]);
    expect(result.detail).toBe('prewarmed public.accounts (100 blocks), public.orders (200 blocks) in 2.5 s');
  });

  it('fails the check, naming the table and why, when one table is not prewarmed', async () => {
    const prewarm = jest.fn(async () => [
      { table: 'public.accounts', blocks: 100, error: null },
      { table: 'public.orders', blocks: null, error: 'stopped: the 480 s prewarm budget ran out' },
    ]);

    const result = await prewarmRestoredDatabase(withTables, request, { secrets, prewarm, clock: clock() });

    expect(result.checks?.[0]).toMatchObject({ passed: false, measured: '1 of 2 tables in 2.5 s' });
    expect(result.checks?.[0]?.message).toContain('Not prewarmed: public.orders (stopped: the 480 s prewarm budget ran out)');
    expect(result.detail).toContain('WARNING: 1 table(s) not prewarmed');
  });

  it('turns a server it cannot reach into a failed check for every table, not a failed step', async () => {
    const prewarm = jest.fn(async () => Promise.reject(Object.assign(new Error('connect ETIMEDOUT 10.0.1.9:5432'), { code: 'ETIMEDOUT' })));

    const result = await prewarmRestoredDatabase(withTables, request, { secrets, prewarm, clock: clock() });

    expect(result.data.tables).toEqual([
      { table: 'public.accounts', blocks: null, error: 'could not connect: connect ETIMEDOUT 10.0.1.9:5432' },
      { table: 'public.orders', blocks: null, error: 'could not connect: connect ETIMEDOUT 10.0.1.9:5432' },
    ]);
    expect(result.checks?.[0]).toMatchObject({ passed: false, measured: '0 of 2 tables in 2.5 s' });
    expect(result.detail).toContain('prewarmed nothing');
  });

  it('refuses a database without a recovery section', async () => {
    const bare = { ...database, recovery: undefined };

    await expect(prewarmRestoredDatabase(bare, request, { secrets })).rejects.toThrow(InvalidConfig);
  });

  it.each(secretsFaults)('fails the step with a named error when Secrets Manager answers %s', async (_label, fault, expected) => {
    secretsMock.on(GetSecretValueCommand).rejects(fault());
    const prewarm = jest.fn(async () => []);

    await expect(prewarmRestoredDatabase(withTables, request, { secrets, prewarm })).rejects.toThrow(expected);
    expect(prewarm).not.toHaveBeenCalled();
  });
});
