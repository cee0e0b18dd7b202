// Fixtures for the database-recovery state machine test: two PostgreSQL servers (the damaged instance the
// connection secret points at before the recovery, and the instance RDS "restores"; they are separate
// servers because ALTER DATABASE ... read-only on the damaged one must not touch the one the gates
// query), Redis with AUTH and the API's /health; and small in-memory stand-ins behind the client mocks
// for what has state in AWS: the recovery lock table (DynamoDB conditional writes), the connection
// secret's versions and stages (Secrets Manager) and the DB instances a restore creates (RDS).
import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DBSnapshotNotFoundFault,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBParameterGroupCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
  type DBSnapshot,
  type Tag,
} from '@aws-sdk/client-rds';
import { GetSecretValueCommand, PutSecretValueCommand, ResourceExistsException, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { DeploymentConfig } from '../../shared/config.js';
import { testNamespace } from './cluster-fixtures.js';
import { configWith } from './fixtures.js';
import { startHealthServer, type HealthServer } from '../../local/health-server.js';
import type { LocalCluster } from '../../local/kube-cluster.js';
import { startPostgres, type LocalPostgres } from '../../local/postgres.js';
import { startRedis, type LocalRedis } from '../../local/redis.js';

// aws-sdk-client-mock's stub, whatever client it wraps.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStub = AwsStub<any, any, any>;

export const SOURCE_DB = 'frontier-prod';
export const DATABASE_NAME = 'frontier';
export const DATABASE_USER = 'frontier_admin';
/** Every character a URL must encode: the Kubernetes database-url has to survive it. */
export const DATABASE_PASSWORD = 'p@ss:w/rd?#% &=+x';
export const DATABASE_SECRET = 'frontier/prod/database';
export const ORIGINAL_SECRET_VERSION = 'v-original-0001';
export const REDIS_SECRET = 'frontier/prod/redis-auth';
export const REDIS_PASSWORD = 'redis-auth-token-for-the-gates';
export const LOCK_TABLE = 'frontier-dr-recovery-locks';
export const NAMESPACE = 'production';
export const API = 'frontier-api';
export const KUBE_SECRET = 'frontier-secrets';
export const SOURCE_ENDPOINT = `${SOURCE_DB}.abcdefghij.us-west-2.rds.amazonaws.com`;
export const SOURCE_ARN = `arn:aws:rds:us-west-2:123456789012:db:${SOURCE_DB}`;

// ---------------------------------------------------------------------------------------------------
// Servers

export interface RecoveryServers {
  /** Where the connection secret points before the recovery: made read-only by the run. */
  damaged: LocalPostgres;
  /** What the mocked RDS answers as the restored instance's endpoint; the gates query it after the repoint. */
  restored: LocalPostgres;
  redis: LocalRedis;
  health: HealthServer;
  stop(): Promise<void>;
}

export async function startRecoveryServers(): Promise<RecoveryServers> {
  const credentials = { databaseName: DATABASE_NAME, user: DATABASE_USER, password: DATABASE_PASSWORD };
  const [damaged, restored, redis, health] = await Promise.all([
    startPostgres(credentials),
    startPostgres(credentials),
    startRedis({ password: REDIS_PASSWORD }),
    startHealthServer('ok'),
  ]);
  return {
    damaged,
    restored,
    redis,
    health,
    async stop() {
      await Promise.all([damaged.stop(), restored.stop(), redis.stop(), health.stop()]);
    },
  };
}

/** Undoes a run's ALTER DATABASE (from another database, so the session itself is not read-only). */
export async function makeWritable(server: LocalPostgres): Promise<void> {
  await server.session('postgres', (c) => c.query(`ALTER DATABASE ${c.escapeIdentifier(DATABASE_NAME)} RESET default_transaction_read_only`));
}

/** What RDS does when default_transaction_read_only=1 reaches an instance's parameter group. */
export async function makeReadOnly(server: LocalPostgres): Promise<void> {
  await server.session('postgres', (c) => c.query(`ALTER DATABASE ${c.escapeIdentifier(DATABASE_NAME)} SET default_transaction_read_only = on`));
}

/** True when a new session's write is refused as read-only (SQLSTATE 25006). */
export async function writeIsRefused(server: LocalPostgres): Promise<boolean> {
  return server.session(DATABASE_NAME, async (c) => {
    try {
      await c.query('CREATE TEMP TABLE frontier_test_write (x int)');
      return false;
    } catch (error) {
      if ((error as { code?: string }).code === '25006') return true;
      throw error;
    }
  });
}

export async function runSql(server: LocalPostgres, sql: string): Promise<void> {
  await server.session(DATABASE_NAME, (c) => c.query(sql));
}

// ---------------------------------------------------------------------------------------------------
// Kubernetes

/** The API's image on the primary cluster. */
export const API_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/frontier-api:2026.11.3';

/** The database URL the API reads before the recovery: the damaged server, the password URL-encoded. */
export function damagedUrl(damaged: LocalPostgres): string {
  return `postgresql://${DATABASE_USER}:${encodeURIComponent(DATABASE_PASSWORD)}@${damaged.host}:${damaged.port}/${DATABASE_NAME}`;
}

/**
 * The test's namespace on the primary cluster (deploy/rbac/ installed there): the API at `apiReplicas`,
 * rolled out, and the Secret it reads its database URL from.
 */
export async function seedPrimaryCluster(primary: LocalCluster, damaged: LocalPostgres, apiReplicas = 3, namespace = testNamespace()): Promise<void> {
  await primary.addNamespace(namespace);
  await Promise.all([
    primary.addDeployment(namespace, API, { image: API_IMAGE, replicas: apiReplicas }),
    primary.addSecret(namespace, KUBE_SECRET, { 'database-url': damagedUrl(damaged), 'session-key': 'not-touched-by-the-recovery' }),
  ]);
}

// ---------------------------------------------------------------------------------------------------
// Config

/** The example deployment pointed at this file's cluster, /health and Redis, and at the test's namespace. */
export function recoveryConfig(servers: RecoveryServers, primary: LocalCluster, change?: (raw: DeploymentConfig) => void): DeploymentConfig {
  return configWith((c) => {
    c.databases[0]!.tls = 'disable'; // loopback PostgreSQL has no TLS
    const kubernetes = c.kubernetes!;
    kubernetes.namespace = testNamespace();
    kubernetes.clusters.primary = { ...kubernetes.clusters.primary, name: primary.clusterName, healthUrl: servers.health.url };
    c.health.redis = { host: '127.0.0.1', port: servers.redis.port, tls: false, authSecret: REDIS_SECRET };
    change?.(c);
  });
}

// ---------------------------------------------------------------------------------------------------
// DynamoDB: the recovery lock table, with the conditional writes the lock relies on

type Item = Record<string, AttributeValue>;

interface ExpressionInput {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });

function attributeName(token: string, input: ExpressionInput): string {
  return token.startsWith('#') ? (input.ExpressionAttributeNames?.[token] ?? fail(`no name for ${token}`)) : token;
}

function attributeValue(token: string, input: ExpressionInput): AttributeValue {
  return input.ExpressionAttributeValues?.[token] ?? fail(`no value for ${token}`);
}

function fail(message: string): never {
  throw new Error(`in-memory DynamoDB: ${message}`);
}

/** One comparison: attribute_(not_)exists(a), a = :v. */
function comparisonHolds(item: Item | undefined, part: string, input: ExpressionInput): boolean {
  const trimmed = part.trim().replace(/^\((.*)\)$/, '$1').trim();
  let match = /^attribute_not_exists\((\S+)\)$/.exec(trimmed);
  if (match) return item?.[attributeName(match[1]!, input)] === undefined;
  match = /^attribute_exists\((\S+)\)$/.exec(trimmed);
  if (match) return item?.[attributeName(match[1]!, input)] !== undefined;
  match = /^(\S+)\s*=\s*(:\S+)$/.exec(trimmed);
  if (match) {
    const actual = item?.[attributeName(match[1]!, input)];
    return actual !== undefined && JSON.stringify(actual) === JSON.stringify(attributeValue(match[2]!, input));
  }
  return fail(`unsupported condition "${trimmed}"`);
}

/** The condition forms the lock uses: comparisons joined with AND, a parenthesised group of them joined with OR. */
function conditionHolds(item: Item | undefined, input: ExpressionInput): boolean {
  const expression = input.ConditionExpression;
  if (!expression) return true;
  return expression.split(/\s+AND\s+(?![^()]*\))/i).every((part) => {
    const group = /^\s*\((.*)\)\s*$/.exec(part);
    if (group && /\s+OR\s+/i.test(group[1]!)) return group[1]!.split(/\s+OR\s+/i).some((alternative) => comparisonHolds(item, alternative, input));
    return comparisonHolds(item, part, input);
  });
}

/** SET a = :v, b = if_not_exists(b, :w) [REMOVE c, d] */
function applyUpdate(item: Item, expression: string, input: ExpressionInput): Item {
  const match = /^\s*SET\s+(.+?)(?:\s+REMOVE\s+(.+))?$/i.exec(expression) ?? fail(`unsupported update "${expression}"`);
  const next = { ...item };
  for (const assignment of match[1]!.split(/,(?![^()]*\))/)) {
    const [left, right] = assignment.split('=').map((s) => s.trim()) as [string, string];
    const name = attributeName(left, input);
    const ifNotExists = /^if_not_exists\((\S+),\s*(:\S+)\)$/.exec(right);
    if (ifNotExists) {
      const existing = next[attributeName(ifNotExists[1]!, input)];
      next[name] = existing ?? attributeValue(ifNotExists[2]!, input);
    } else if (right.startsWith(':')) {
      next[name] = attributeValue(right, input);
    } else {
      fail(`unsupported assignment "${assignment}"`);
    }
  }
  for (const removed of match[2]?.split(',') ?? []) delete next[attributeName(removed.trim(), input)];
  return next;
}

export interface LockTable {
  items: Map<string, Item>;
  /** The lock item of a target, as plain values. */
  lock(target: string): Record<string, string | number> | undefined;
}

/**
 * One table keyed by `target`. Each command runs synchronously inside the mock, so two executions
 * interleaved on the event loop contend exactly as two Lambdas would on a conditional write.
 */
export function installLockTable(ddb: AnyStub, table = LOCK_TABLE): LockTable {
  const items = new Map<string, Item>();
  const keyOf = (input: { TableName?: string; Key?: Item; Item?: Item }) => {
    if (input.TableName !== table) fail(`unknown table ${input.TableName}`);
    const key = (input.Key ?? input.Item)?.target?.S;
    return key ?? fail('no target key');
  };
  ddb.on(GetItemCommand).callsFake((input: { TableName: string; Key: Item }) => {
    const item = items.get(keyOf(input));
    return item ? { Item: structuredClone(item) } : {};
  });
  ddb.on(PutItemCommand).callsFake((input: { TableName: string; Item: Item } & ExpressionInput) => {
    const key = keyOf(input);
    if (!conditionHolds(items.get(key), input)) throw conditionFailed();
    items.set(key, structuredClone(input.Item));
    return {};
  });
  ddb.on(UpdateItemCommand).callsFake((input: { TableName: string; Key: Item; UpdateExpression: string; ReturnValues?: string } & ExpressionInput) => {
    const key = keyOf(input);
    const current = items.get(key);
    if (!conditionHolds(current, input)) throw conditionFailed();
    const updated = applyUpdate(current ?? structuredClone(input.Key), input.UpdateExpression, input);
    items.set(key, updated);
    if (input.ReturnValues === 'ALL_NEW') return { Attributes: structuredClone(updated) };
    if (input.ReturnValues === 'ALL_OLD') return current ? { Attributes: structuredClone(current) } : {};
    return {};
  });
  ddb.on(DeleteItemCommand).callsFake((input: { TableName: string; Key: Item } & ExpressionInput) => {
    const key = keyOf(input);
    if (!conditionHolds(items.get(key), input)) throw conditionFailed();
    items.delete(key);
    return {};
  });
  return {
    items,
    lock(target) {
      const item = items.get(target);
      if (!item) return undefined;
      return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.N !== undefined ? Number(v.N) : (v.S ?? '')]));
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Step Functions: DescribeExecution for the lock's "is the holder still running?"

export interface Executions {
  running: Set<string>;
  finished: Set<string>;
}

export function installExecutions(sfn: AnyStub): Executions {
  const executions: Executions = { running: new Set(), finished: new Set() };
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    if (executions.running.has(input.executionArn)) return { executionArn: input.executionArn, status: 'RUNNING' };
    if (executions.finished.has(input.executionArn)) return { executionArn: input.executionArn, status: 'FAILED' };
    throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${input.executionArn}'`, $metadata: { httpStatusCode: 400 } });
  });
  return executions;
}

// ---------------------------------------------------------------------------------------------------
// Secrets Manager: versions and staging labels, as PutSecretValue moves them

interface SecretVersion {
  id: string;
  value: string;
  stages: Set<string>;
}

export interface SecretStore {
  versions(secretId: string): { id: string; value: string; stages: string[] }[];
  current(secretId: string): string;
  /** The next call of this command (GetSecretValue, PutSecretValue) fails with `error` instead. */
  failNext(command: 'GetSecretValue' | 'PutSecretValue', error: Error): void;
}

/** Faults queued per command name, each thrown once before the fake answers normally again. */
function faultQueue() {
  const queued = new Map<string, Error[]>();
  return {
    add(command: string, error: Error) {
      queued.set(command, [...(queued.get(command) ?? []), error]);
    },
    throwIfQueued(command: string) {
      const error = queued.get(command)?.shift();
      if (error) throw error;
    },
  };
}

export function installSecrets(secrets: AnyStub, initial: Record<string, { value: string; versionId: string }>): SecretStore {
  const store = new Map<string, SecretVersion[]>(
    Object.entries(initial).map(([id, { value, versionId }]) => [id, [{ id: versionId, value, stages: new Set(['AWSCURRENT']) }]]),
  );
  const faults = faultQueue();
  const versionsOf = (secretId: string) => {
    const versions = store.get(secretId);
    if (!versions) throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: { httpStatusCode: 400 } });
    return versions;
  };
  secrets.on(GetSecretValueCommand).callsFake((input: { SecretId: string; VersionStage?: string; VersionId?: string }) => {
    faults.throwIfQueued('GetSecretValue');
    const stage = input.VersionStage ?? (input.VersionId ? undefined : 'AWSCURRENT');
    const version = versionsOf(input.SecretId).find((v) => (input.VersionId ? v.id === input.VersionId : v.stages.has(stage!)));
    if (!version) throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label", $metadata: { httpStatusCode: 400 } });
    return { Name: input.SecretId, VersionId: version.id, SecretString: version.value, VersionStages: [...version.stages] };
  });
  secrets.on(PutSecretValueCommand).callsFake((input: { SecretId: string; ClientRequestToken?: string; SecretString?: string; VersionStages?: string[] }) => {
    faults.throwIfQueued('PutSecretValue');
    const versions = versionsOf(input.SecretId);
    const id = input.ClientRequestToken ?? `v-${versions.length + 1}`;
    const existing = versions.find((v) => v.id === id);
    if (existing) {
      // Idempotent on the token; the same token with another value is refused, as in AWS.
      if (existing.value !== input.SecretString) throw new ResourceExistsException({ message: 'A resource with the ID you requested already exists.', $metadata: { httpStatusCode: 400 } });
      return { Name: input.SecretId, VersionId: id, VersionStages: [...existing.stages] };
    }
    const stages = input.VersionStages ?? ['AWSCURRENT'];
    const version: SecretVersion = { id, value: input.SecretString ?? '', stages: new Set(stages) };
    if (stages.includes('AWSCURRENT')) {
      for (const v of versions) v.stages.delete('AWSPREVIOUS');
      const current = versions.find((v) => v.stages.has('AWSCURRENT'));
      if (current) {
        current.stages.delete('AWSCURRENT');
        current.stages.add('AWSPREVIOUS');
      }
    }
    versions.push(version);
    return { Name: input.SecretId, VersionId: id, VersionStages: stages };
  });
  return {
    versions: (secretId) => versionsOf(secretId).map((v) => ({ id: v.id, value: v.value, stages: [...v.stages].sort() })),
    current: (secretId) => versionsOf(secretId).find((v) => v.stages.has('AWSCURRENT'))!.value,
    failNext: (command, error) => faults.add(command, error),
  };
}

// ---------------------------------------------------------------------------------------------------
// RDS: the damaged source instance, its backups, and the instances restores create

export interface RdsWorldOptions {
  /** Backup retention of the source (0: point-in-time recovery off). */
  retentionDays?: number;
  /** Snapshots of this account (DescribeDBSnapshots by instance, or by identifier). */
  snapshots?: DBSnapshot[];
  /** Snapshots other accounts share with this one (DescribeDBSnapshots with SnapshotType shared). */
  sharedSnapshots?: DBSnapshot[];
  /** Extra fields of the source instance as DescribeDBInstances shows it. */
  source?: Partial<DBInstance>;
  /** Looks at a restored instance that answer `creating` before it is `finalStatus`. */
  pendingLooks?: number;
  finalStatus?: string;
  /** Where the restored instance answers once available. */
  restoredEndpoint: { Address: string; Port: number };
  /** Where the damaged source instance answers (the read-only step connects here). */
  sourceEndpoint?: { Address: string; Port: number };
  /** The source instance's parameter group. */
  sourceParameterGroup?: string;
  /** default_transaction_read_only=1 reached a parameter group: its effect on the damaged server. */
  onParameterGroupReadOnly?: (group: string) => Promise<void>;
  /** A restore created an instance with a read-only parameter group: its effect on the restored server. */
  onRestoredWithReadOnlyGroup?: () => Promise<void>;
}

/** What both restore commands carry that the fake keeps on the instance. */
interface RestoreInput {
  DBInstanceClass?: string;
  Tags?: Tag[];
  MultiAZ?: boolean;
  DBParameterGroupName?: string;
}

export interface RdsWorld {
  instances: Map<string, DBInstance & { looks: number }>;
  /** Adds an instance as if an earlier run (or someone else) had created it. */
  addInstance(instance: DBInstance): void;
  /** The next call of this command fails with `error` instead. */
  failNext(command: 'DescribeDBInstances' | 'RestoreDBInstanceToPointInTime' | 'RestoreDBInstanceFromDBSnapshot' | 'ModifyDBParameterGroup', error: Error): void;
  /** Waits for the emulated side effects on the PostgreSQL servers. */
  settled(): Promise<void>;
}

export function installRds(rds: AnyStub, options: RdsWorldOptions): RdsWorld {
  const instances = new Map<string, DBInstance & { looks: number }>();
  const faults = faultQueue();
  const readOnlyGroups = new Set<string>();
  const pendingEffects: Promise<void>[] = [];
  const retention = options.retentionDays ?? 30;
  const notFound = (id: string) => new DBInstanceNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: `DBInstance ${id} not found.` });
  const source = (): DBInstance => ({
    DBInstanceIdentifier: SOURCE_DB,
    DBInstanceArn: SOURCE_ARN,
    DBInstanceStatus: 'available',
    DBInstanceClass: 'db.r6g.large',
    AllocatedStorage: 100,
    StorageEncrypted: true,
    BackupRetentionPeriod: retention,
    LatestRestorableTime: retention > 0 ? new Date(Date.now() - 4 * 60_000) : undefined,
    InstanceCreateTime: new Date(Date.now() - 400 * 86_400_000),
    Endpoint: options.sourceEndpoint ?? { Address: SOURCE_ENDPOINT, Port: 5432 },
    DBParameterGroups: [{ DBParameterGroupName: options.sourceParameterGroup ?? 'frontier-prod-source-pg16', ParameterApplyStatus: 'in-sync' }],
    ...options.source,
  });
  const restoredView = (instance: DBInstance & { looks: number }): DBInstance => {
    instance.looks += 1;
    const status = instance.looks <= (options.pendingLooks ?? 2) ? 'creating' : (options.finalStatus ?? 'available');
    const { looks: _looks, ...rest } = instance;
    return { ...rest, DBInstanceStatus: status, ...(status === 'available' ? { Endpoint: options.restoredEndpoint } : {}) };
  };
  rds.on(DescribeDBInstancesCommand).callsFake(async (input: { DBInstanceIdentifier?: string }) => {
    faults.throwIfQueued('DescribeDBInstances');
    const id = input.DBInstanceIdentifier ?? fail('DescribeDBInstances without an identifier');
    if (id === SOURCE_DB) return { DBInstances: [source()] };
    const instance = instances.get(id);
    if (!instance) throw notFound(id);
    await Promise.all(pendingEffects);
    return { DBInstances: [restoredView(instance)] };
  });
  rds.on(DescribeDBInstanceAutomatedBackupsCommand).callsFake(() => ({
    DBInstanceAutomatedBackups:
      retention > 0
        ? [
            {
              DBInstanceArn: SOURCE_ARN,
              DBInstanceIdentifier: SOURCE_DB,
              Status: 'active',
              RestoreWindow: { EarliestTime: new Date(Date.now() - retention * 86_400_000), LatestTime: new Date(Date.now() - 4 * 60_000) },
            },
          ]
        : [],
  }));
  // As RDS answers the three shapes the recovery sends: by instance (automatic choice), by identifier
  // (a named snapshot of this account) and among the shared ones (a named snapshot of another account).
  rds.on(DescribeDBSnapshotsCommand).callsFake((input: { DBInstanceIdentifier?: string; DBSnapshotIdentifier?: string; SnapshotType?: string }) => {
    if (input.SnapshotType === 'shared') return { DBSnapshots: options.sharedSnapshots ?? [] };
    const own = options.snapshots ?? [];
    if (input.DBSnapshotIdentifier) {
      const found = own.filter((s) => s.DBSnapshotIdentifier === input.DBSnapshotIdentifier);
      if (!found.length) throw new DBSnapshotNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: `DBSnapshot ${input.DBSnapshotIdentifier} not found.` });
      return { DBSnapshots: found };
    }
    return { DBSnapshots: own.filter((s) => !input.DBInstanceIdentifier || s.DBInstanceIdentifier === input.DBInstanceIdentifier) };
  });
  const restore = (command: string, id: string, input: RestoreInput) => {
    faults.throwIfQueued(command);
    if (instances.has(id)) {
      throw new DBInstanceAlreadyExistsFault({ $metadata: { httpStatusCode: 400 }, message: `DB instance already exists` });
    }
    const created = {
      DBInstanceIdentifier: id,
      DBInstanceClass: input.DBInstanceClass,
      MultiAZ: input.MultiAZ,
      TagList: input.Tags ?? [],
      ...(input.DBParameterGroupName ? { DBParameterGroups: [{ DBParameterGroupName: input.DBParameterGroupName, ParameterApplyStatus: 'in-sync' }] } : {}),
      looks: 0,
    };
    instances.set(id, created);
    // A new instance starts with its parameter group's settings, read-only ones included.
    if (input.DBParameterGroupName && readOnlyGroups.has(input.DBParameterGroupName)) pendingEffects.push(options.onRestoredWithReadOnlyGroup?.() ?? Promise.resolve());
    return { DBInstance: { ...created, DBInstanceStatus: 'creating' } };
  };
  rds.on(RestoreDBInstanceToPointInTimeCommand).callsFake((input: RestoreInput & { TargetDBInstanceIdentifier: string }) =>
    restore('RestoreDBInstanceToPointInTime', input.TargetDBInstanceIdentifier, input),
  );
  rds.on(RestoreDBInstanceFromDBSnapshotCommand).callsFake((input: RestoreInput & { DBInstanceIdentifier: string }) => restore('RestoreDBInstanceFromDBSnapshot', input.DBInstanceIdentifier, input));
  rds.on(ModifyDBParameterGroupCommand).callsFake(async (input: { DBParameterGroupName: string; Parameters?: { ParameterName?: string; ParameterValue?: string }[] }) => {
    faults.throwIfQueued('ModifyDBParameterGroup');
    if (input.Parameters?.some((p) => p.ParameterName === 'default_transaction_read_only' && p.ParameterValue === '1')) {
      readOnlyGroups.add(input.DBParameterGroupName);
      await options.onParameterGroupReadOnly?.(input.DBParameterGroupName);
    }
    return { DBParameterGroupName: input.DBParameterGroupName };
  });
  return {
    instances,
    addInstance(instance) {
      instances.set(instance.DBInstanceIdentifier!, { ...instance, looks: 0 });
    },
    failNext: (command, error) => faults.add(command, error),
    settled: () => Promise.all(pendingEffects).then(() => undefined),
  };
}
