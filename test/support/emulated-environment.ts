// The emulated environment the integration tier and the local drill run against: moto for the AWS
// APIs, an embedded PostgreSQL standing in for every RDS endpoint, and the example deployment seeded
// into them (with deliberate problems the verification must find). For the Kubernetes scenarios
// (cluster-failover, emergency-rollback), startClusterEnvironment adds two Kubernetes API fakes (the
// primary and backup EKS clusters), a real redis-server and a loopback API `/health` server.
//
// Where the emulator and real servers are joined, and the code under test cannot tell:
//  - `mapDatabaseEndpoints`: moto's instances have endpoints nobody listens on, so inside this process
//    connections to *.rds.amazonaws.com go to the embedded PostgreSQL;
//  - the AWS front answers EKS DescribeCluster for the configured clusters with the fakes' addresses;
//  - `emulatorConfig`, the one documented local setting: database TLS off, the clusters' health URLs
//    pointed at the loopback /health server and `health.redis` at the local redis-server.
// Nothing deployed ever consults any of them.
import { randomBytes } from 'node:crypto';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CopyDBSnapshotCommand,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  CreateDBSubnetGroupCommand,
  DeleteDBInstanceCommand,
  RDSClient,
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
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { stringify as toYaml } from 'yaml';
import type { DeploymentConfig, KubernetesConfig } from '../../shared/config.js';
import { startAwsFront, type AwsFront } from './aws-front.js';
import { mapDatabaseEndpoints } from './endpoint-map.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { FAKE_AWS_CREDENTIALS, startKubeFake, type KubeFake } from './kube-fake.js';
import { startMoto, type MotoServer } from './moto.js';
import { startPostgres, type LocalPostgres } from './postgres.js';
import { startRedis, type LocalRedis } from './redis.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface EmulatedEnvironment {
  moto: MotoServer;
  /** What AWS_ENDPOINT_URL points at: moto behind the region-outage and EKS front. */
  front: AwsFront;
  postgres: LocalPostgres;
  endpoint: string;
  /** The Kubernetes scenarios' servers, once startClusterEnvironment has started them. */
  clusters?: ClusterEnvironment;
  stop(): Promise<void>;
}

/**
 * Starts moto (behind the front, test/support/aws-front.ts) and PostgreSQL, points this process's
 * AWS SDK at the front (AWS_ENDPOINT_URL, dummy credentials) and maps RDS endpoints to PostgreSQL.
 * `stop()` undoes all of it.
 */
export async function startEmulatedEnvironment(): Promise<EmulatedEnvironment> {
  const [moto, postgres] = await Promise.all([
    startMoto(),
    startPostgres({ databaseName: 'frontier', user: 'frontier_admin', password: `drill-${Math.random().toString(36).slice(2)}` }),
  ]);
  const front = await startAwsFront(moto.endpoint);
  const saved = {
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
  };
  process.env.AWS_ENDPOINT_URL = front.endpoint;
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  const unmap = mapDatabaseEndpoints({ host: postgres.host, port: postgres.port });
  const environment: EmulatedEnvironment = {
    moto,
    front,
    postgres,
    endpoint: front.endpoint,
    async stop() {
      await environment.clusters?.stop();
      unmap();
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await front.stop();
      await Promise.all([moto.stop(), postgres.stop()]);
    },
  };
  return environment;
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
}

/**
 * The deployment as the emulated environment runs it, the one documented local setting (never used in
 * AWS): the embedded PostgreSQL has no TLS, so validation queries connect in plain text; once the
 * cluster servers run (`environment.clusters`), both clusters' `healthUrl` is the loopback /health
 * server and `health.redis` is the local redis-server (no TLS). Database endpoints need no rewrite:
 * the endpoint map sends them to PostgreSQL; cluster endpoints come from the AWS front.
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
  };
}

/**
 * Seeds the example deployment (config/example.yml) into moto:
 * - primary region: the database, an old unencrypted snapshot left from before encryption was
 *   enabled (deliberate problem: `encryption`), and three current encrypted snapshots;
 * - recovery region: encrypted copies of the snapshots, the scratch subnet group, the credentials
 *   secret (the PostgreSQL user standing in for the restored instance), the reports bucket and the
 *   alert topic;
 * - buckets: the backup bucket replicated to the recovery region; the application-data bucket
 *   versioned but not replicated (deliberate problem: `bucket-replication`);
 * - with a kubernetes section: the production manifests (productionManifests) in the manifests
 *   bucket of the recovery region; with `clusters` (startClusterEnvironment) also the Redis AUTH
 *   secret holding the local redis-server's password.
 */
export async function seedExampleDeployment(
  config: DeploymentConfig,
  endpoint: string,
  postgres: Pick<LocalPostgres, 'user' | 'password'>,
  clusters?: Pick<ClusterEnvironment, 'redis'>,
): Promise<SeededDeployment> {
  const primary = clients(endpoint, config.primaryRegion);
  const recovery = clients(endpoint, config.recoveryRegion);
  const primarySnapshots: string[] = [];
  const recoveryCopies: string[] = [];
  const deliberateProblems: SeededDeployment['deliberateProblems'] = [];

  const recoveryKey = await recovery.kms.send(new CreateKeyCommand({ Description: 'frontier-dr snapshot copies' }));
  const recoveryKeyArn = recoveryKey.KeyMetadata?.Arn;

  for (const database of config.databases) {
    const instance = {
      DBInstanceIdentifier: database.name,
      Engine: 'postgres',
      DBInstanceClass: 'db.r6g.large',
      AllocatedStorage: 100,
      MasterUsername: postgres.user,
      MasterUserPassword: postgres.password,
      DBName: database.databaseName,
      BackupRetentionPeriod: database.retentionDays,
      MultiAZ: true,
    };
    // Before encryption was turned on: an instance whose last manual snapshot is still around.
    await primary.rds.send(new CreateDBInstanceCommand({ ...instance, StorageEncrypted: false }));
    const legacy = `${database.snapshotPrefix}legacy-unencrypted`;
    await primary.rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: database.name, DBSnapshotIdentifier: legacy }));
    primarySnapshots.push(legacy);
    await primary.rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: database.name, SkipFinalSnapshot: true }));
    deliberateProblems.push({ check: 'encryption', resource: `${database.name} (${config.primaryRegion})` });

    const current = await primary.rds.send(new CreateDBInstanceCommand({ ...instance, StorageEncrypted: true }));
    for (const stamp of ['20261125-0000', '20261125-0400', '20261125-0800']) {
      const id = `${database.snapshotPrefix}${stamp}`;
      const created = await primary.rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: database.name, DBSnapshotIdentifier: id }));
      primarySnapshots.push(id);
      const copy = await recovery.rds.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: created.DBSnapshot?.DBSnapshotArn,
          TargetDBSnapshotIdentifier: id,
          ...(recoveryKeyArn ? { KmsKeyId: recoveryKeyArn } : {}),
        }),
      );
      recoveryCopies.push(copy.DBSnapshot?.DBSnapshotIdentifier ?? id);
    }

    await recovery.secrets.send(
      new CreateSecretCommand({
        Name: database.credentialsSecret,
        // RDS's secret format: where the application connects (the primary's endpoint) and as whom.
        SecretString: JSON.stringify({
          username: postgres.user,
          password: postgres.password,
          engine: 'postgres',
          host: current.DBInstance?.Endpoint?.Address,
          port: current.DBInstance?.Endpoint?.Port ?? database.port,
          dbname: database.databaseName,
        }),
      }),
    );
    const subnetGroup = database.restoreTest.subnetGroup;
    if (subnetGroup) {
      const vpc = await recovery.ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
      const subnets = await Promise.all(
        ['10.20.1.0/24', '10.20.2.0/24'].map((cidr, i) =>
          recovery.ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: cidr, AvailabilityZone: `${config.recoveryRegion}${'ab'[i]}` })),
        ),
      );
      await recovery.rds.send(
        new CreateDBSubnetGroupCommand({
          DBSubnetGroupName: subnetGroup,
          DBSubnetGroupDescription: 'scratch restore tests',
          SubnetIds: subnets.map((s) => s.Subnet?.SubnetId as string),
        }),
      );
    }
  }

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
  // The Redis AUTH token the health gate reads, matching the local redis-server's requirepass.
  const redisSecret = config.health.redis?.authSecret;
  if (redisSecret && clusters) {
    await recovery.secrets.send(new CreateSecretCommand({ Name: redisSecret, SecretString: JSON.stringify({ password: clusters.redis.password }) }));
  }
  return { primarySnapshots, recoveryCopies, deliberateProblems, alertTopicArn: topic.TopicArn as string, manifests };
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
