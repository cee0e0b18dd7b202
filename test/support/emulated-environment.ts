// The emulated environment the integration tier and the local drill run against: moto for the AWS
// APIs, two embedded PostgreSQL servers standing in for the RDS endpoints, and the example deployment
// seeded into them (with deliberate problems the verification must find). For the Kubernetes scenarios
// (cluster-failover, emergency-rollback, database-recovery), startClusterEnvironment adds two
// Kubernetes API fakes (the primary and backup EKS clusters), a real redis-server and a loopback API
// `/health` server.
//
// Where the emulator and real servers are joined, and the code under test cannot tell (one documented
// setting of the local environment; nothing deployed ever consults any of it):
//  - `mapDatabaseEndpoints` (endpoint-map.ts): moto's instances have endpoints nobody listens on, so
//    inside this process connections to *.rds.amazonaws.com go to an embedded PostgreSQL. The
//    instances a database recovery restores (`<db>-r-<incident>.….rds.amazonaws.com`) go to a SECOND
//    server (`restoredPostgres`, same user, password and database name), every other RDS endpoint
//    (the source instance, scratch restore tests) to the first (`postgres`): the recovery makes the
//    damaged database read-only and must find the restored one writable and distinct, as in AWS;
//  - the AWS front answers EKS DescribeCluster for the configured clusters with the fakes' addresses,
//    and sends Route 53 requests for kubernetes.traffic's hosted zone id to the zone the seed created
//    (moto chooses zone ids itself);
//  - RDS effects moto only records (`emulateRdsEffects`): an instance created with a DBName gets that
//    database on both PostgreSQL servers, and default_transaction_read_only changed in a parameter
//    group (ModifyDBParameterGroup, ResetDBParameterGroup) reaches the databases of the instances
//    using the group, as RDS applies a dynamic parameter to them;
//  - `emulatorConfig`: database TLS off, the clusters' health URLs pointed at the loopback /health
//    server and `health.redis` at the local redis-server;
//  - moto's clock, for the seed only: moto stamps every instance and snapshot "now", so a database
//    seeded a second ago has no restorable past and an incident "a few minutes ago" would predate it.
//    The seed therefore writes the database's history with moto's clock set back (the current
//    instance created a day ago, the unencrypted legacy one two days ago), through a sitecustomize
//    hook loaded only by this environment's moto_server; outside the seed moto keeps its own clock;
//  - `runEmulatedExecution`: the state machines run locally (aws-local-stepfunctions), so each run is
//    also started in moto's Step Functions under the same execution ARN and stopped when it ends: the
//    recovery lock asks DescribeExecution whether the execution holding it still runs.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CopyDBSnapshotCommand,
  CreateDBInstanceCommand,
  CreateDBParameterGroupCommand,
  CreateDBSnapshotCommand,
  CreateDBSubnetGroupCommand,
  DeleteDBInstanceCommand,
  paginateDescribeDBInstances,
  RDSClient,
  type DBInstance,
} from '@aws-sdk/client-rds';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { stringify as toYaml } from 'yaml';
import type { DeploymentConfig, KubernetesConfig, TrafficConfig } from '../../shared/config.js';
import { databaseUrl } from '../../shared/database-recovery.js';
import { normaliseDnsName } from '../../shared/dns.js';
import { startAwsFront, type AwsFront } from './aws-front.js';
import { mapDatabaseEndpoints, type DatabaseRoute } from './endpoint-map.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { FAKE_AWS_CREDENTIALS, startKubeFake, type KubeFake } from './kube-fake.js';
import { loadDefinition, runStateMachine, type LocalRunOptions, type LocalRunResult } from './local-state-machine.js';
import { startMoto, type MotoServer } from './moto.js';
import { startPostgres, type LocalPostgres } from './postgres.js';
import { startRedis, type LocalRedis } from './redis.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface EmulatedEnvironment {
  moto: MotoServer;
  /** What AWS_ENDPOINT_URL points at: moto behind the region-outage and EKS front. */
  front: AwsFront;
  /** Every RDS endpoint but a recovery's restored instances: the source database, scratch restores. */
  postgres: LocalPostgres;
  /** The instances a database recovery restores (`<db>-r-<incident>`): same user, password, database. */
  restoredPostgres: LocalPostgres;
  endpoint: string;
  /** The Kubernetes scenarios' servers, once startClusterEnvironment has started them. */
  clusters?: ClusterEnvironment;
  stop(): Promise<void>;
}

/** `frontier-prod-r-202611251204.aaaaaaaaaa.us-west-2.rds.amazonaws.com`: restoredInstanceId()'s names. */
export const RESTORED_INSTANCE_HOST = /^[a-z][a-z0-9-]*-r-\d{12}\./;

/** The recovery lock table the seed creates (serverless.yml: `${service}-${stage}-recovery-locks`, stage `local`). */
export const RECOVERY_LOCK_TABLE = 'frontier-dr-local-recovery-locks';

// ---------------------------------------------------------------------------------------------------
// moto's clock, set back while the seed writes the database's history (see the header)

/**
 * Loaded by this environment's moto_server only (PYTHONPATH); without FRONTIER_DR_MOTO_CLOCK, or with 0
 * in that file, moto's clock is its own. moto takes every "now" from moto.core.utils.utcnow, which
 * this replaces before any moto module imports it.
 */
const MOTO_CLOCK_HOOK = `import datetime, os

_clock_file = os.environ.get("FRONTIER_DR_MOTO_CLOCK")
if _clock_file:
    try:
        import moto.core.utils as _moto_utils
    except Exception:
        _moto_utils = None
    if _moto_utils is not None and hasattr(_moto_utils, "utcnow"):
        _moto_utcnow = _moto_utils.utcnow

        def _offset_seconds():
            try:
                with open(_clock_file) as f:
                    return float(f.read().strip() or 0)
            except (OSError, ValueError):
                return 0.0

        def utcnow():
            return _moto_utcnow() + datetime.timedelta(seconds=_offset_seconds())

        _moto_utils.utcnow = utcnow
`;

interface MotoClock {
  /** Runs `work` with moto's clock `days` behind, then puts it back. */
  inThePast<T>(days: number, work: () => Promise<T>): Promise<T>;
  dispose(): void;
}

/** The clock of each running environment's moto, by the endpoint the seed is given. */
const motoClocks = new Map<string, MotoClock>();

/** The front of each running environment, by its endpoint (the seed aliases hosted zones on it). */
const fronts = new Map<string, AwsFront>();

function prepareMotoClock(): { env: Record<string, string>; clock: MotoClock } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'frontier-moto-clock-'));
  const file = path.join(dir, 'offset-seconds');
  writeFileSync(path.join(dir, 'sitecustomize.py'), MOTO_CLOCK_HOOK);
  writeFileSync(file, '0');
  return {
    env: { PYTHONPATH: [dir, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter), FRONTIER_DR_MOTO_CLOCK: file },
    clock: {
      async inThePast(days, work) {
        writeFileSync(file, String(-days * 86_400));
        try {
          return await work();
        } finally {
          writeFileSync(file, '0');
        }
      },
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    },
  };
}

async function withEnvironmentVariables<T>(variables: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(variables).map((key) => [key, process.env[key]]));
  Object.assign(process.env, variables);
  try {
    return await work();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/**
 * Starts moto (behind the front, test/support/aws-front.ts) and the two PostgreSQL servers, points this
 * process's AWS SDK at the front (AWS_ENDPOINT_URL, dummy credentials) and maps RDS endpoints to
 * PostgreSQL (restored instances to `restoredPostgres`, the others to `postgres`). `stop()` undoes all
 * of it.
 */
export async function startEmulatedEnvironment(): Promise<EmulatedEnvironment> {
  const motoClock = prepareMotoClock();
  const user = 'frontier_admin';
  const password = `drill-${Math.random().toString(36).slice(2)}`;
  const started: { stop(): Promise<void> }[] = [];
  const track = <T extends { stop(): Promise<void> }>(server: T): T => {
    started.push(server);
    return server;
  };
  let moto: MotoServer;
  let postgres: LocalPostgres;
  let restoredPostgres: LocalPostgres;
  try {
    // moto_server inherits this process's environment when it is spawned: the clock hook goes to it
    // (and, harmlessly, to PostgreSQL's initdb started meanwhile), then the variables are put back.
    [moto, postgres, restoredPostgres] = await withEnvironmentVariables(motoClock.env, () =>
      Promise.all([
        startMoto().then(track),
        startPostgres({ databaseName: 'frontier', user, password }).then(track),
        startPostgres({ databaseName: 'frontier', user, password }).then(track),
      ]),
    );
  } catch (error) {
    await Promise.allSettled(started.map((server) => server.stop()));
    motoClock.clock.dispose();
    throw error;
  }
  const front = await startAwsFront(moto.endpoint);
  front.observeRds(emulateRdsEffects(moto.endpoint, postgres, restoredPostgres));
  motoClocks.set(front.endpoint, motoClock.clock);
  fronts.set(front.endpoint, front);
  const saved = {
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
  };
  process.env.AWS_ENDPOINT_URL = front.endpoint;
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  const unmap = mapDatabaseEndpoints(databaseRoutes({ postgres, restoredPostgres }));
  const environment: EmulatedEnvironment = {
    moto,
    front,
    postgres,
    restoredPostgres,
    endpoint: front.endpoint,
    async stop() {
      await environment.clusters?.stop();
      unmap();
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      motoClocks.delete(front.endpoint);
      fronts.delete(front.endpoint);
      await front.stop();
      await Promise.all([moto.stop(), postgres.stop(), restoredPostgres.stop()]);
      motoClock.clock.dispose();
    },
  };
  return environment;
}

/**
 * Where this environment sends RDS endpoints: a recovery's restored instances to `restoredPostgres`,
 * every other one to `postgres`. (Also for processes of its own, e.g. the bench's child processes.)
 */
export function databaseRoutes(servers: Pick<EmulatedEnvironment, 'postgres' | 'restoredPostgres'>): DatabaseRoute[] {
  return [
    { host: RESTORED_INSTANCE_HOST, target: { host: servers.restoredPostgres.host, port: servers.restoredPostgres.port } },
    { host: /./, target: { host: servers.postgres.host, port: servers.postgres.port } },
  ];
}

/** The PostgreSQL server an emulated instance's endpoint is mapped to (as mapDatabaseEndpoints does). */
function serverOf(instance: DBInstance, postgres: LocalPostgres, restoredPostgres: LocalPostgres): LocalPostgres {
  return RESTORED_INSTANCE_HOST.test(instance.Endpoint?.Address ?? '') ? restoredPostgres : postgres;
}

/**
 * What RDS does beyond its records that the recovery relies on: an instance's database exists, and a
 * parameter group's default_transaction_read_only applies to the instances that use the group.
 */
function emulateRdsEffects(motoEndpoint: string, postgres: LocalPostgres, restoredPostgres: LocalPostgres) {
  const readOnlySetting = (parameters: URLSearchParams): 'on' | 'off' | 'reset' | null => {
    if (parameters.get('ResetAllParameters') === 'true') return 'reset';
    for (const [key, name] of parameters) {
      // Parameters.Parameter.<n>.ParameterName, the query protocol's list of Parameter.
      if (!key.endsWith('.ParameterName') || name !== 'default_transaction_read_only') continue;
      if (parameters.get('Action') === 'ResetDBParameterGroup') return 'reset';
      const value = parameters.get(key.replace(/ParameterName$/, 'ParameterValue'));
      return value === '1' || value === 'on' || value === 'true' ? 'on' : 'off';
    }
    return null;
  };
  return async (action: string, parameters: URLSearchParams, region: string): Promise<void> => {
    if (action === 'CreateDBInstance') {
      const name = parameters.get('DBName');
      if (name) await Promise.all([postgres.ensureDatabase(name), restoredPostgres.ensureDatabase(name)]);
      return;
    }
    if (action !== 'ModifyDBParameterGroup' && action !== 'ResetDBParameterGroup') return;
    const setting = readOnlySetting(parameters);
    const group = parameters.get('DBParameterGroupName');
    if (!setting || !group) return;
    const rds = new RDSClient({ region, endpoint: motoEndpoint, credentials });
    for await (const page of paginateDescribeDBInstances({ client: rds }, {})) {
      for (const instance of page.DBInstances ?? []) {
        if (!instance.DBName || !instance.DBParameterGroups?.some((g) => g.DBParameterGroupName === group)) continue;
        const server = serverOf(instance, postgres, restoredPostgres);
        const database = `"${instance.DBName.replaceAll('"', '""')}"`;
        await server.execute(
          setting === 'on' ? `ALTER DATABASE ${database} SET default_transaction_read_only = on` : `ALTER DATABASE ${database} RESET default_transaction_read_only`,
        );
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------------
// Local executions, known to moto's Step Functions

const registeredMachines = new Map<string, Promise<unknown>>();

/**
 * runStateMachine (the real definition, the real handlers, in this process), with the execution also
 * started in the emulator's Step Functions under the same ARN while it runs and stopped (ABORTED) when
 * it ends, so DescribeExecution answers RUNNING for it as AWS would: the database recovery lock asks
 * whether the execution holding it still runs. The local runner names executions in us-east-1 of
 * moto's default account, so that is where the state machine is registered.
 */
export async function runEmulatedExecution(endpoint: string, scenario: string, input: unknown, options: LocalRunOptions = {}): Promise<LocalRunResult> {
  const sfn = new SFNClient({ region: 'us-east-1', endpoint, credentials });
  const name = `frontier-dr-${scenario}`;
  const key = `${endpoint} ${name}`;
  let registered = registeredMachines.get(key);
  if (!registered) {
    registered = sfn.send(
      new CreateStateMachineCommand({
        name,
        definition: JSON.stringify(loadDefinition(scenario).definition),
        roleArn: 'arn:aws:iam::123456789012:role/frontier-dr-local',
      }),
    );
    registered.catch(() => registeredMachines.delete(key));
    registeredMachines.set(key, registered);
  }
  const machine = (await registered) as { stateMachineArn?: string };
  const executionName = options.executionName ?? `local-${Date.now()}-${randomUUID().slice(0, 8)}`;
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name: executionName, input: JSON.stringify(input ?? {}) }));
  try {
    const run = await runStateMachine(scenario, input, { ...options, executionName });
    if (run.executionId !== started.executionArn) throw new Error(`local execution ${run.executionId} is not the one moto knows (${started.executionArn})`);
    return run;
  } finally {
    await sfn.send(new StopExecutionCommand({ executionArn: started.executionArn })).catch(() => undefined);
    sfn.destroy();
  }
}

/** What the seed created, for tests to assert against. */
export interface SeededDeployment {
  primarySnapshots: string[];
  recoveryCopies: string[];
  /** The problems the seed planted on purpose: check name -> resource it concerns. */
  deliberateProblems: { check: string; resource: string }[];
  alertTopicArn: string;
  /** s3:// locations of the production manifests (Kubernetes deployments only). */
  manifests: string[];
  /** DynamoDB table of the database-recovery lock (recovery region): the functions' RECOVERY_LOCK_TABLE. */
  recoveryLockTable: string;
  /** Each database's instance endpoint, where its connection secret points after the seed. */
  databaseEndpoints: Record<string, { host: string; port: number }>;
  /** kubernetes.traffic's record: moto's id of its zone, and the value it has before a failover. */
  traffic: { hostedZoneId: string; record: string; before: string } | null;
}

/**
 * The deployment as the emulated environment runs it, the one documented local setting (never used in
 * AWS): the embedded PostgreSQL has no TLS, so validation queries connect in plain text; once the
 * cluster servers run (`environment.clusters`), both clusters' `healthUrl` is the loopback /health
 * server and `health.redis` is the local redis-server (no TLS). Database endpoints need no rewrite:
 * the endpoint map sends them to PostgreSQL; cluster endpoints come from the AWS front. The database
 * recovery settings stay as configured: moto restores with the parameter group, subnet group,
 * security groups, class, Multi-AZ, tags and deletion protection the recovery asks for (it ignores
 * only values that are false, MultiAZ and PubliclyAccessible, keeping the source's).
 */
export function emulatorConfig(config: DeploymentConfig, environment?: Pick<EmulatedEnvironment, 'clusters'>): DeploymentConfig {
  const local: DeploymentConfig = { ...config, databases: config.databases.map((d) => ({ ...d, tls: 'disable' as const })) };
  const clusters = environment?.clusters;
  if (!clusters) return local;
  if (config.kubernetes) {
    const { primary, backup } = config.kubernetes.clusters;
    local.kubernetes = {
      ...config.kubernetes,
      clusters: { primary: { ...primary, healthUrl: clusters.api.url }, backup: { ...backup, healthUrl: clusters.api.url } },
    };
  }
  if (config.health.redis) {
    local.health = { ...config.health, redis: { ...config.health.redis, host: clusters.redis.host, port: clusters.redis.port, tls: false } };
  }
  return local;
}

async function createBucket(s3: S3Client, name: string, region: string): Promise<void> {
  // us-east-1 is the one region that rejects an explicit location constraint.
  await s3.send(new CreateBucketCommand({ Bucket: name, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }) }));
}

function clients(endpoint: string, region: string) {
  const common = { region, endpoint, credentials };
  return {
    rds: new RDSClient(common),
    s3: new S3Client({ ...common, forcePathStyle: true }),
    secrets: new SecretsManagerClient(common),
    sns: new SNSClient(common),
    ec2: new EC2Client(common),
    kms: new KMSClient(common),
    dynamodb: new DynamoDBClient(common),
    route53: new Route53Client(common),
  };
}

async function createSubnetGroup(ec2: EC2Client, rds: RDSClient, region: string, name: string, cidr: string, description: string): Promise<void> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: `${cidr}.0.0/16` }));
  const subnets = await Promise.all(
    [1, 2].map((n, i) => ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: `${cidr}.${n}.0/24`, AvailabilityZone: `${region}${'ab'[i]}` }))),
  );
  await rds.send(new CreateDBSubnetGroupCommand({ DBSubnetGroupName: name, DBSubnetGroupDescription: description, SubnetIds: subnets.map((s) => s.Subnet?.SubnetId as string) }));
}

/**
 * Seeds the example deployment (config/example.yml) into moto:
 * - primary region: the database with a history (moto's clock set back, see the header): an unencrypted
 *   instance two days ago whose manual snapshot is still around (deliberate problem: `encryption`),
 *   the current encrypted instance created a day ago (so its point-in-time window reaches back a day)
 *   with its parameter group (`recovery.parameterGroup`, family postgres16), and three encrypted
 *   snapshots taken 8 h ago, 4 h ago and now (`<prefix><yyyymmdd-hhmm>`); the subnet group a
 *   database recovery restores into (`recovery.subnetGroup`: the restore happens in the primary region);
 * - recovery region: encrypted copies of the snapshots, the scratch subnet group, the connection secret
 *   (RDS's format: the source instance's host and port, the PostgreSQL user), the recovery lock table,
 *   the reports bucket and the alert topic;
 * - buckets: the backup bucket replicated to the recovery region; the application-data bucket
 *   versioned but not replicated (deliberate problem: `bucket-replication`);
 * - with a kubernetes section: the production manifests (productionManifests) in the manifests
 *   bucket of the recovery region; with `clusters` (startClusterEnvironment) also the Redis AUTH
 *   secret holding the local redis-server's password, and on the primary cluster the Secret the API
 *   reads its database URL from (`recovery.kubernetesSecret`), pointing at the source instance.
 */
/** `yyyymmdd-hhmm` in UTC, the plan's snapshot naming. */
function snapshotStamp(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 16).replace(':', '')}`;
}

export async function seedExampleDeployment(
  config: DeploymentConfig,
  endpoint: string,
  postgres: Pick<LocalPostgres, 'user' | 'password'>,
  clusters?: Pick<ClusterEnvironment, 'redis'> & Partial<Pick<ClusterEnvironment, 'primary'>>,
): Promise<SeededDeployment> {
  const primary = clients(endpoint, config.primaryRegion);
  const recovery = clients(endpoint, config.recoveryRegion);
  const primarySnapshots: string[] = [];
  const recoveryCopies: string[] = [];
  const deliberateProblems: SeededDeployment['deliberateProblems'] = [];
  const databaseEndpoints: SeededDeployment['databaseEndpoints'] = {};
  // An endpoint not started by startEmulatedEnvironment has moto's own clock: the history is "now".
  const clock = motoClocks.get(endpoint);
  const inThePast = <T>(days: number, work: () => Promise<T>): Promise<T> => (clock ? clock.inThePast(days, work) : work());

  const recoveryKey = await recovery.kms.send(new CreateKeyCommand({ Description: 'frontier-dr snapshot copies' }));
  const recoveryKeyArn = recoveryKey.KeyMetadata?.Arn;

  const parameterGroups = new Set<string>();
  for (const [index, database] of config.databases.entries()) {
    // The source's own group: readOnlyParameterGroup in parameter-group mode, else the one its
    // restores get (recovery.parameterGroup), as a deployment that restores like it runs would have.
    const restoredGroup = database.recovery?.parameterGroup;
    const parameterGroup = database.recovery?.readOnlyMode === 'parameter-group' ? database.recovery.readOnlyParameterGroup : restoredGroup;
    for (const group of [parameterGroup, restoredGroup]) {
      if (!group || parameterGroups.has(group)) continue;
      parameterGroups.add(group);
      await primary.rds.send(new CreateDBParameterGroupCommand({ DBParameterGroupName: group, DBParameterGroupFamily: 'postgres16', Description: `${database.name} parameters` }));
    }
    const recoverySubnetGroup = database.recovery?.subnetGroup;
    if (recoverySubnetGroup) {
      await createSubnetGroup(primary.ec2, primary.rds, config.primaryRegion, recoverySubnetGroup, `10.${30 + index}`, `${database.name} and its restores`);
    }
    const instance = {
      DBInstanceIdentifier: database.name,
      Engine: 'postgres',
      EngineVersion: '16.4',
      DBInstanceClass: 'db.r6g.large',
      AllocatedStorage: 100,
      MasterUsername: postgres.user,
      MasterUserPassword: postgres.password,
      DBName: database.databaseName,
      BackupRetentionPeriod: database.retentionDays,
      MultiAZ: true,
      ...(parameterGroup ? { DBParameterGroupName: parameterGroup } : {}),
      ...(recoverySubnetGroup ? { DBSubnetGroupName: recoverySubnetGroup } : {}),
    };
    // Before encryption was turned on: an instance whose last manual snapshot is still around.
    const legacy = `${database.snapshotPrefix}legacy-unencrypted`;
    await inThePast(2, async () => {
      await primary.rds.send(new CreateDBInstanceCommand({ ...instance, StorageEncrypted: false }));
      await primary.rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: database.name, DBSnapshotIdentifier: legacy }));
      await primary.rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: database.name, SkipFinalSnapshot: true }));
    });
    primarySnapshots.push(legacy);
    deliberateProblems.push({ check: 'encryption', resource: `${database.name} (${config.primaryRegion})` });

    // Running since yesterday: its restorable window (and its first automated snapshot) starts then.
    const current = await inThePast(1, () => primary.rds.send(new CreateDBInstanceCommand({ ...instance, StorageEncrypted: true })));
    // The plan's 4-hourly snapshots, each copied to the recovery region when it is taken: 8 h and 4 h
    // ago and just now, named after the time they were taken as the plan's script names them.
    for (const hoursAgo of [8, 4, 0]) {
      const takenAt = new Date(Date.now() - hoursAgo * 3_600_000);
      const id = `${database.snapshotPrefix}${snapshotStamp(takenAt)}`;
      const copy = await inThePast(hoursAgo / 24, async () => {
        const created = await primary.rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: database.name, DBSnapshotIdentifier: id }));
        return recovery.rds.send(
          new CopyDBSnapshotCommand({
            SourceDBSnapshotIdentifier: created.DBSnapshot?.DBSnapshotArn,
            TargetDBSnapshotIdentifier: id,
            ...(recoveryKeyArn ? { KmsKeyId: recoveryKeyArn } : {}),
          }),
        );
      });
      primarySnapshots.push(id);
      recoveryCopies.push(copy.DBSnapshot?.DBSnapshotIdentifier ?? id);
    }

    const sourceEndpoint = { host: current.DBInstance?.Endpoint?.Address as string, port: current.DBInstance?.Endpoint?.Port ?? database.port };
    databaseEndpoints[database.name] = sourceEndpoint;
    await recovery.secrets.send(
      new CreateSecretCommand({
        Name: database.credentialsSecret,
        // RDS's secret format: where the application connects (the primary's endpoint) and as whom.
        SecretString: JSON.stringify({
          username: postgres.user,
          password: postgres.password,
          engine: 'postgres',
          host: sourceEndpoint.host,
          port: sourceEndpoint.port,
          dbname: database.databaseName,
        }),
      }),
    );
    // The API's own copy of where the database is, which a database recovery repoints too.
    const kubernetesSecret = database.recovery?.kubernetesSecret;
    if (kubernetesSecret && config.kubernetes && clusters?.primary) {
      clusters.primary.addSecret(config.kubernetes.namespace, kubernetesSecret.name, {
        [kubernetesSecret.key]: databaseUrl({ username: postgres.user, password: postgres.password }, sourceEndpoint, database.databaseName),
      });
    }
    const subnetGroup = database.restoreTest.subnetGroup;
    if (subnetGroup) await createSubnetGroup(recovery.ec2, recovery.rds, config.recoveryRegion, subnetGroup, `10.${20 + index}`, 'scratch restore tests');
  }

  // One item per database while its recovery runs (serverless.yml's RecoveryLockTable).
  await recovery.dynamodb.send(
    new CreateTableCommand({
      TableName: RECOVERY_LOCK_TABLE,
      AttributeDefinitions: [{ AttributeName: 'target', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );

  for (const bucket of config.buckets) {
    const s3 = clients(endpoint, bucket.region).s3;
    await createBucket(s3, bucket.name, bucket.region);
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket.name, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket.name,
        LifecycleConfiguration: {
          Rules: [{ ID: 'retention', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: bucket.retentionDays } }],
        },
      }),
    );
    if (!bucket.replicationRegion) continue;
    if (bucket.purpose === 'application data') {
      deliberateProblems.push({ check: 'bucket-replication', resource: `s3://${bucket.name} (${bucket.purpose})` });
      continue;
    }
    const replica = `${bucket.name}-replica`;
    const destination = clients(endpoint, bucket.replicationRegion).s3;
    await createBucket(destination, replica, bucket.replicationRegion);
    await destination.send(new PutBucketVersioningCommand({ Bucket: replica, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(
      new PutBucketReplicationCommand({
        Bucket: bucket.name,
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::123456789012:role/frontier-s3-replication',
          Rules: [{ ID: 'to-recovery-region', Status: 'Enabled', Priority: 1, Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: `arn:aws:s3:::${replica}` } }],
        },
      }),
    );
  }

  await createBucket(recovery.s3, config.reports.bucket, config.recoveryRegion);
  const topic = await recovery.sns.send(new CreateTopicCommand({ Name: config.notifications.topicName }));

  const manifests: string[] = [];
  if (config.kubernetes) {
    const { bucket, prefix } = config.kubernetes.manifests;
    await createBucket(recovery.s3, bucket, config.recoveryRegion);
    for (const [file, text] of Object.entries(productionManifests(config.kubernetes))) {
      await recovery.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${file}`, Body: text, ContentType: 'application/yaml' }));
      manifests.push(`s3://${bucket}/${prefix}${file}`);
    }
  }
  const traffic = config.kubernetes?.traffic ? await seedTrafficRecord(config.kubernetes.traffic, config.primaryRegion, clients(endpoint, 'us-east-1').route53, fronts.get(endpoint)) : null;
  // The Redis AUTH token the health gate reads, matching the local redis-server's requirepass.
  const redisSecret = config.health.redis?.authSecret;
  if (redisSecret && clusters) {
    await recovery.secrets.send(new CreateSecretCommand({ Name: redisSecret, SecretString: JSON.stringify({ password: clusters.redis.password }) }));
  }
  return {
    primarySnapshots,
    recoveryCopies,
    deliberateProblems,
    alertTopicArn: topic.TopicArn as string,
    manifests,
    recoveryLockTable: RECOVERY_LOCK_TABLE,
    databaseEndpoints,
    traffic,
  };
}

/** Where the seed points kubernetes.traffic's record before any failover: the primary's ingress. */
export function primaryIngress(primaryRegion: string): string {
  return `frontier-prod-ingress.${primaryRegion}.elb.amazonaws.com.`;
}

/**
 * The hosted zone of kubernetes.traffic's record (the record's parent domain), with the record
 * pointing at the primary's ingress. moto chooses the zone's id; the front sends requests for the
 * configured id to it.
 */
async function seedTrafficRecord(traffic: TrafficConfig, primaryRegion: string, route53: Route53Client, front: AwsFront | undefined): Promise<SeededDeployment['traffic']> {
  const recordName = normaliseDnsName(traffic.recordName);
  const domain = recordName.split('.').slice(1).join('.');
  const zone = await route53.send(new CreateHostedZoneCommand({ Name: domain, CallerReference: `frontier-dr-seed-${randomUUID()}` }));
  const zoneId = (zone.HostedZone?.Id ?? '').replace(/^\/hostedzone\//, '');
  front?.aliasHostedZone(traffic.hostedZoneId, zoneId);
  const value = traffic.recordType === 'CNAME' ? primaryIngress(primaryRegion) : traffic.recordType === 'A' ? '192.0.2.10' : '2001:db8::10';
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: recordName, Type: traffic.recordType, TTL: traffic.ttlSeconds, ResourceRecords: [{ Value: value }] } }] },
    }),
  );
  return { hostedZoneId: zoneId, record: recordName, before: value };
}

/** The production release the manifests deploy (the backup cluster's newest revision runs it too). */
export const PRODUCTION_IMAGE = 'frontier/api:1.8.2';

/**
 * The production manifests as kept in the recovery region's bucket (kubectl's k8s/ folder): file name
 * -> YAML. The Deployment leaves `replicas` out on purpose, as manifests under an autoscaler do: an apply
 * must not scale the API, the failover's scale step does.
 */
export function productionManifests(kubernetes: KubernetesConfig): Record<string, string> {
  const { namespace, apiDeployment: name } = kubernetes;
  const labels = { app: name };
  return {
    '00-namespace.yaml': toYaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'frontier' } } }),
    '10-frontier-config.yaml': toYaml({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'frontier-config', namespace },
      data: { LOG_LEVEL: 'info', DATABASE_NAME: 'frontier', REDIS_TLS: 'true', FEATURE_FLAGS: 'search,exports' },
    }),
    '20-frontier-api.yaml': [
      toYaml({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace, labels },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name,
                  image: PRODUCTION_IMAGE,
                  ports: [{ containerPort: 8080, protocol: 'TCP' }],
                  envFrom: [{ configMapRef: { name: 'frontier-config' } }],
                  readinessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 5 },
                },
              ],
            },
          },
        },
      }),
      toYaml({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace, labels },
        spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      }),
    ].join('---\n'),
  };
}

// ---------------------------------------------------------------------------------------------------
// The Kubernetes scenarios' servers

/** What is wrong with the primary cluster: the drill's planted outage, or none. */
export type PrimaryClusterCondition =
  /** The API answers, but only 1 of 3 nodes is Ready (the plan's alert: less than half). */
  | 'nodes-not-ready'
  /** The API server refuses connections. */
  | 'refusing-connections'
  | 'healthy';

export interface ClusterEnvironmentOptions {
  /** Default 'nodes-not-ready'. */
  primary?: PrimaryClusterCondition;
  /** The fakes' deployment controller step (default 50 ms). */
  tickMs?: number;
}

export interface ClusterEnvironment {
  primary: KubeFake;
  backup: KubeFake;
  /** redis-server with a password (kept in the Redis auth secret by seedExampleDeployment). */
  redis: LocalRedis;
  /** The API's /health, standing in for both clusters' health URLs. */
  api: HealthServer;
  /** The API deployment's image history seeded on each cluster, oldest first (the last is current). */
  revisions: { primary: string[]; backup: string[] };
  /** Breaks (or mends) the primary cluster. */
  setPrimary(condition: PrimaryClusterCondition): Promise<void>;
  primaryCondition(): PrimaryClusterCondition;
  stop(): Promise<void>;
}

/** The primary runs a bad release on top of two good ones: what an emergency rollback undoes. */
const PRIMARY_REVISIONS = ['frontier/api:1.8.1', PRODUCTION_IMAGE, 'frontier/api:1.9.0'];
/** The backup keeps the API deployed at production's releases, scaled to zero until a failover. */
const BACKUP_REVISIONS = ['frontier/api:1.8.0', 'frontier/api:1.8.1', PRODUCTION_IMAGE];

/**
 * Starts the servers the Kubernetes scenarios need and registers the two fakes with the AWS front under
 * the config's cluster names and regions, so the handlers' EKS DescribeCluster + in-process token reach
 * them exactly as they reach EKS (the fakes accept tokens signed with the environment's test keys):
 * - primary: 3 nodes (1 Ready under 'nodes-not-ready'), the API deployment at 3 replicas with three
 *   revisions, the newest a bad release;
 * - backup: 3 Ready nodes, the namespace, the API deployment with three revisions scaled to 0;
 * - redis-server with a random password, and the loopback /health server answering ok.
 * `environment.stop()` stops them too. Follow with emulatorConfig(config, environment) and
 * seedExampleDeployment(..., environment.clusters).
 */
export async function startClusterEnvironment(
  environment: EmulatedEnvironment,
  config: DeploymentConfig,
  options: ClusterEnvironmentOptions = {},
): Promise<ClusterEnvironment> {
  if (!config.kubernetes) throw new Error('startClusterEnvironment: the deployment config has no kubernetes section');
  if (environment.clusters) throw new Error('startClusterEnvironment: already started for this environment');
  const { namespace, apiDeployment, clusters: configured } = config.kubernetes;
  const started: { stop(): Promise<void> }[] = [];
  const track = <T extends { stop(): Promise<void> }>(server: T): T => {
    started.push(server);
    return server;
  };
  const fakeOptions = (clusterName: string) => ({ clusterName, credentials: [credentials, FAKE_AWS_CREDENTIALS], tickMs: options.tickMs ?? 50 });
  let clusterEnvironment: ClusterEnvironment;
  try {
    const [primary, backup, redis, api] = await Promise.all([
      startKubeFake(fakeOptions(configured.primary.name)).then(track),
      startKubeFake(fakeOptions(configured.backup.name)).then(track),
      startRedis({ password: `drill-${randomBytes(12).toString('base64url')}` }).then(track),
      startHealthServer('ok').then(track),
    ]);

    const primaryNodes = [0, 1, 2].map(() => primary.addNode(true));
    primary.addNamespace(namespace);
    primary.addDeployment(namespace, apiDeployment, { revisions: PRIMARY_REVISIONS, replicas: config.kubernetes.productionReplicas });
    for (let i = 0; i < 3; i++) backup.addNode(true);
    backup.addNamespace(namespace);
    backup.addDeployment(namespace, apiDeployment, { revisions: BACKUP_REVISIONS, replicas: 0 });

    for (const [role, fake] of [['primary', primary], ['backup', backup]] as const) {
      environment.front.serveCluster({ name: configured[role].name, region: configured[role].region, endpoint: fake.url });
    }

    let condition: PrimaryClusterCondition = 'healthy';
    const setPrimary = async (next: PrimaryClusterCondition) => {
      primaryNodes.forEach((node, i) => primary.setNodeReady(node, next !== 'nodes-not-ready' || i === 0));
      if (next === 'refusing-connections') await primary.refuseConnections();
      else await primary.acceptConnections();
      condition = next;
    };
    await setPrimary(options.primary ?? 'nodes-not-ready');

    let stopping: Promise<void> | undefined;
    clusterEnvironment = {
      primary,
      backup,
      redis,
      api,
      revisions: { primary: [...PRIMARY_REVISIONS], backup: [...BACKUP_REVISIONS] },
      setPrimary,
      primaryCondition: () => condition,
      stop() {
        stopping ??= Promise.all(started.map((server) => server.stop())).then(() => undefined);
        return stopping;
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((server) => server.stop()));
    throw error;
  }
  environment.clusters = clusterEnvironment;
  return clusterEnvironment;
}

/** Reads a stored report back from the emulated reports bucket (`s3://bucket/key`). */
export async function readStoredObject(endpoint: string, region: string, location: string): Promise<string> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) throw new Error(`not an s3:// location: ${location}`);
  const answer = await clients(endpoint, region).s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
  return (await answer.Body?.transformToString()) ?? '';
}
