// The example deployment seeded into the emulator, with the problems planted on purpose that backup
// verification must find (see seedExampleDeployment).
import { randomInt, randomUUID } from 'node:crypto';
import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateSubnetCommand, CreateVpcCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  CopyDBSnapshotCommand,
  CreateDBInstanceCommand,
  CreateDBParameterGroupCommand,
  CreateDBSnapshotCommand,
  CreateDBSubnetGroupCommand,
  DeleteDBInstanceCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { CreateIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { wafIpSetRegion, type DeploymentConfig, type ControlPlaneRecordConfig } from '../shared/config.js';
import { databaseUrl } from '../shared/database-recovery.js';
import { normaliseDnsName } from '../shared/dns.js';
import { parse as parseYaml } from 'yaml';
import type { AwsFront } from './aws-front.js';
import type { ClusterEnvironment } from './clusters.js';
import { EMULATOR_CREDENTIALS, emulatorClients } from './emulator-clients.js';
import { awsFrontOf, motoClockOf } from './environment.js';
import { enableRotation } from './secret-rotation.js';
import { productionManifests } from './manifests.js';
import type { LocalPostgres } from './postgres.js';

/** The recovery lock table the seed creates (serverless.yml: `${service}-${stage}-recovery-locks`, stage `local`). */
export const RECOVERY_LOCK_TABLE = 'frontier-dr-local-recovery-locks';
/** The approvals table and the approval links' signing key the seed creates (serverless.yml's ApprovalsTable, ApprovalSigningKey). */
export const APPROVALS_TABLE = 'frontier-dr-local-approvals';
export const APPROVAL_SIGNING_SECRET = 'frontier-dr-local-approval-signing-key';

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
  /**
   * With a regionFailback section: the primary region's key the failback's snapshot copies are encrypted
   * with. moto chooses key ids, so it is not the ARN the config names: the deployment run against this
   * emulator uses this one as regionFailback.kmsKeyArn (emulatorConfig cannot know it before the seed).
   */
  failbackKeyArn: string | null;
  /**
   * Security incident containment: with securityIncident.blockIps.wafIpSet, the id moto gave the IP set the
   * seed created (moto chooses ids: the deployment run against this emulator uses it as wafIpSet.id,
   * see withSeededWafIpSet); null without one.
   */
  wafIpSetId: string | null;
}

async function createBucket(s3: S3Client, name: string, region: string): Promise<void> {
  // us-east-1 is the one region that rejects an explicit location constraint.
  await s3.send(new CreateBucketCommand({ Bucket: name, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }) }));
}


// Security incident evidence
/**
 * The security incident's evidence bucket as the stack creates it (serverless.yml EvidenceBucket):
 * Object Lock enabled at creation (which also turns versioning on), default retention in governance
 * mode for `retentionDays`. Already there (a second seed of the same emulator): left as it is.
 */
export async function createEvidenceBucket(s3: S3Client, evidence: { bucket: string; retentionDays: number }, region: string): Promise<void> {
  try {
    await s3.send(
      new CreateBucketCommand({ Bucket: evidence.bucket, ObjectLockEnabledForBucket: true, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }) }),
    );
  } catch (error) {
    if ((error as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw error;
    return;
  }
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: evidence.bucket,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: evidence.retentionDays } } },
    }),
  );
}

async function createSubnetGroup(ec2: EC2Client, rds: RDSClient, region: string, name: string, cidr: string, description: string): Promise<void> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: `${cidr}.0.0/16` }));
  const subnets = await Promise.all(
    [1, 2].map((n, i) => ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: `${cidr}.${n}.0/24`, AvailabilityZone: `${region}${'ab'[i]}` }))),
  );
  await rds.send(new CreateDBSubnetGroupCommand({ DBSubnetGroupName: name, DBSubnetGroupDescription: description, SubnetIds: subnets.map((s) => s.Subnet?.SubnetId as string) }));
}

/** `yyyymmdd-hhmm` in UTC, the plan's snapshot naming. */
export function snapshotStamp(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 16).replace(':', '')}`;
}

/**
 * Seeds the example deployment (config/example.yml) into moto:
 * - primary region: the database with a history (moto's clock set back, see the header): an unencrypted
 *   instance two days ago whose manual snapshot is still around (deliberate problem: `encryption`),
 *   the current encrypted instance created a day ago (so its point-in-time window reaches back a day)
 *   with its parameter group (`recovery.parameterGroup`, family postgres16), and three encrypted
 *   snapshots on the snapshotIntervalHours schedule, the newest at its last run (`<prefix><yyyymmdd-hhmm>`: the
 *   recovery region is up to 4 h behind, as in production); the subnet group a
 *   database recovery restores into (`recovery.subnetGroup`: the restore happens in the primary region);
 * - recovery region: encrypted copies of the snapshots, the scratch subnet group, the connection secret
 *   (RDS's format: the source instance's host and port, the PostgreSQL user; with `rotation`, rotation
 *   turned on as the stack's RotationSchedule does, local/secret-rotation.ts), the recovery lock table,
 *   the reports bucket and the alert topic; with a securityIncident section, the evidence bucket
 *   (versioned, Object Lock with its default governance retention, as the stack creates it), the API
 *   keys' secret (rotation on) with its Kubernetes copy on the serving cluster, the WAF IP set and the
 *   emergency-mode ConfigMap (seedContainment);
 * - buckets: the backup bucket replicated to the recovery region; the application-data bucket
 *   versioned but not replicated (deliberate problem: `bucket-replication`);
 * - with a kubernetes section: the production manifests (productionManifests) in the manifests
 *   bucket of the recovery region; with `clusters` (startClusterEnvironment) also the Redis AUTH
 *   secret holding the local redis-server's password, and on the primary cluster the Secret the API
 *   reads its database URL from (`recovery.kubernetesSecret`), pointing at the source instance;
 * - with a regionFailback section: secrets replicated to both regions, as the example deployment has
 *   them (the connection secrets and the Redis AUTH secret also in the primary region, where a failback
 *   repoints the application and its gates read the token), and the primary region's KMS key the
 *   failback's snapshot copies are encrypted with (failbackKeyArn: moto chooses its id).
 */

export async function seedExampleDeployment(
  config: DeploymentConfig,
  endpoint: string,
  postgres: Pick<LocalPostgres, 'user' | 'password'>,
  clusters?: Pick<ClusterEnvironment, 'redis'> & Partial<Pick<ClusterEnvironment, 'primary' | 'backup'>>,
): Promise<SeededDeployment> {
  const primary = emulatorClients(endpoint, config.primaryRegion);
  const recovery = emulatorClients(endpoint, config.recoveryRegion);
  const primarySnapshots: string[] = [];
  const recoveryCopies: string[] = [];
  const deliberateProblems: SeededDeployment['deliberateProblems'] = [];
  const databaseEndpoints: SeededDeployment['databaseEndpoints'] = {};
  // An endpoint not started by startEmulatedEnvironment has moto's own clock: the history is "now".
  const clock = motoClockOf(endpoint);
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
    // The plan's snapshots (every snapshotIntervalHours, 4 in the example), each copied to the recovery
    // region when it is taken: on the schedule's boundaries (00:00, 04:00, ... UTC), the newest at its
    // last run, named after the time they were taken as the plan's script names them. So the recovery
    // region is as far behind as in production: up to 4 hours, against the database's RPO of minutes.
    const every = database.snapshotIntervalHours * 3_600_000;
    const lastRun = Math.floor(Date.now() / every) * every;
    for (const takenAt of [2, 1, 0].map((runsAgo) => new Date(lastRun - runsAgo * every))) {
      const id = `${database.snapshotPrefix}${snapshotStamp(takenAt)}`;
      const copy = await inThePast((Date.now() - takenAt.getTime()) / 86_400_000, async () => {
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
    // Rotation configured as the stack's RotationSchedule does in AWS (nothing rotated): Secrets
    // Manager, and the rotation function, rotate only a secret whose rotation is on.
    if (database.rotation) await enableRotation(recovery.secrets, database.credentialsSecret);
    // The API's own copy of where the database is, which a database recovery repoints too.
    const kubernetesSecret = database.recovery?.kubernetesSecret;
    if (kubernetesSecret && config.kubernetes && clusters?.primary) {
      await clusters.primary.addSecret(config.kubernetes.namespace, kubernetesSecret.name, {
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
  // The approval step's table and link-signing key (serverless.yml's ApprovalsTable, ApprovalSigningKey).
  await recovery.dynamodb.send(
    new CreateTableCommand({
      TableName: APPROVALS_TABLE,
      AttributeDefinitions: [{ AttributeName: 'approvalId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'approvalId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await recovery.secrets.send(new CreateSecretCommand({ Name: APPROVAL_SIGNING_SECRET, SecretString: randomUUID() + randomUUID() }));

  for (const bucket of config.buckets) {
    const s3 = emulatorClients(endpoint, bucket.region).s3;
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
    const destination = emulatorClients(endpoint, bucket.replicationRegion).s3;
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
  // Security incident evidence
  if (config.securityIncident) await createEvidenceBucket(recovery.s3, config.securityIncident.evidence, config.recoveryRegion);
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
  const traffic = config.kubernetes?.traffic?.mode === 'control-plane' ? await seedTrafficRecord(config.kubernetes.traffic, config.primaryRegion, emulatorClients(endpoint, 'us-east-1').route53, awsFrontOf(endpoint)) : null;
  // The Redis AUTH token the health gate reads, matching the local redis-server's requirepass.
  const redisSecret = config.health.redis?.authSecret;
  if (redisSecret && clusters) {
    await recovery.secrets.send(new CreateSecretCommand({ Name: redisSecret, SecretString: JSON.stringify({ password: clusters.redis.password }) }));
  }
  if (config.regionFailover) await seedRegionFailover(config, endpoint, postgres, databaseEndpoints, clusters);
  const failbackKeyArn = config.regionFailback ? await seedRegionFailback(config, endpoint, postgres, databaseEndpoints, clusters) : null;
  // Security incident containment
  const wafIpSetId = config.securityIncident ? await seedContainment(config, endpoint, clusters) : null;
  return {
    primarySnapshots,
    recoveryCopies,
    deliberateProblems,
    alertTopicArn: topic.TopicArn as string,
    manifests,
    recoveryLockTable: RECOVERY_LOCK_TABLE,
    databaseEndpoints,
    traffic,
    failbackKeyArn,
    wafIpSetId,
  };
}

/**
 * What a region failback needs in the primary region once it is back: the replicas of the secrets the
 * recovery region holds (each database's connection secret, pointing at the source instance as before
 * the failover, and the Redis AUTH secret), and the KMS key its snapshot copies are encrypted with.
 * Returns that key's ARN.
 */
async function seedRegionFailback(
  config: DeploymentConfig,
  endpoint: string,
  postgres: Pick<LocalPostgres, 'user' | 'password'>,
  databaseEndpoints: SeededDeployment['databaseEndpoints'],
  clusters: (Pick<ClusterEnvironment, 'redis'> & Partial<Pick<ClusterEnvironment, 'primary' | 'backup'>>) | undefined,
): Promise<string> {
  const primary = emulatorClients(endpoint, config.primaryRegion);
  for (const database of config.databases) {
    const source = databaseEndpoints[database.name];
    if (!source) continue;
    await primary.secrets.send(
      new CreateSecretCommand({
        Name: database.credentialsSecret,
        SecretString: JSON.stringify({ username: postgres.user, password: postgres.password, engine: 'postgres', host: source.host, port: source.port, dbname: database.databaseName }),
      }),
    );
  }
  const redisSecret = config.health.redis?.authSecret;
  if (redisSecret && clusters) {
    await primary.secrets.send(new CreateSecretCommand({ Name: redisSecret, SecretString: JSON.stringify({ password: clusters.redis.password }) }));
  }
  const key = await primary.kms.send(new CreateKeyCommand({ Description: 'frontier-dr failback copies' }));
  return key.KeyMetadata?.Arn as string;
}

/**
 * What a region failover finds in the recovery region, as the operator (and the stack) set it up: the
 * restored instance's subnet group and parameter group, the region-failure alarm (OK; the stack
 * creates it in AWS), and on the recovery cluster the Secret the API reads its database URL from,
 * still pointing at the primary's instance (a copy of production's).
 */
async function seedRegionFailover(
  config: DeploymentConfig,
  endpoint: string,
  postgres: Pick<LocalPostgres, 'user' | 'password'>,
  databaseEndpoints: SeededDeployment['databaseEndpoints'],
  clusters: (Pick<ClusterEnvironment, 'redis'> & Partial<Pick<ClusterEnvironment, 'primary' | 'backup'>>) | undefined,
): Promise<void> {
  const failover = config.regionFailover;
  if (!failover) return;
  const recovery = emulatorClients(endpoint, config.recoveryRegion);
  const database = config.databases.find((d) => d.name === failover.database);
  await createSubnetGroup(recovery.ec2, recovery.rds, config.recoveryRegion, failover.restore.subnetGroup, '10.40', `${failover.database} restored in the recovery region`);
  await recovery.rds.send(new CreateDBParameterGroupCommand({ DBParameterGroupName: failover.restore.parameterGroup, DBParameterGroupFamily: 'postgres16', Description: 'restored in the recovery region' }));
  await recovery.cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: failover.detection.alarmName,
      Namespace: 'AWS/Route53',
      MetricName: 'HealthCheckStatus',
      Statistic: 'Minimum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    }),
  );
  const sourceEndpoint = database ? databaseEndpoints[database.name] : undefined;
  if (database && sourceEndpoint && config.kubernetes && clusters?.backup) {
    await clusters.backup.addSecret(config.kubernetes.namespace, failover.kubernetesSecret.name, {
      [failover.kubernetesSecret.key]: databaseUrl({ username: postgres.user, password: postgres.password }, sourceEndpoint, database.databaseName),
    });
  }
}

// Security incident containment
/**
 * What the security incident's containment acts on, as the deployment has it before an incident: the
 * WAF IP set the blocked addresses go into (empty, IPv4, in its region and scope), and on the serving
 * cluster the ConfigMap emergency mode is set in (with the production manifests' keys and the key off),
 * unless it is there already. Returns moto's id of the IP set (null without one).
 */
async function seedContainment(
  config: DeploymentConfig,
  endpoint: string,
  clusters: Partial<Pick<ClusterEnvironment, 'primary' | 'backup'>> | undefined,
): Promise<string | null> {
  const incident = config.securityIncident;
  if (!incident) return null;
  const cluster = clusters?.[incident.cluster];
  if (cluster && config.kubernetes) {
    const { configMap, key } = incident.emergencyMode;
    if (!(await cluster.configMapData(config.kubernetes.namespace, configMap))) {
      const manifest = parseYaml(productionManifests(config.kubernetes)['10-frontier-config.yaml'] ?? '') as { data?: Record<string, string> } | null;
      await cluster.addConfigMap(config.kubernetes.namespace, configMap, { ...(manifest?.data ?? {}), [key]: 'false' });
    }
  }
  if (incident.apiKeys) await seedApiKeys(config, incident.apiKeys, endpoint, cluster);
  const ipSet = incident.blockIps.wafIpSet;
  if (!ipSet) return null;
  const waf = new WAFV2Client({ region: wafIpSetRegion(config, ipSet), endpoint, credentials: EMULATOR_CREDENTIALS });
  const created = await waf.send(
    new CreateIPSetCommand({ Name: ipSet.name, Scope: ipSet.scope, IPAddressVersion: 'IPV4', Addresses: [], Description: 'addresses blocked by the security incident response' }),
  );
  return created.Summary?.Id as string;
}

/** The names of the API keys the seed creates: one per kind of client, as the plan's key set has them. */
export const SEEDED_API_KEY_NAMES = ['web', 'mobile', 'partner'] as const;

/** `length` random letters and digits: a key as the rotation function makes them (GetRandomPassword). */
function randomKey(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/**
 * The API keys clients call the API with, as the deployment has them before an incident: their source
 * secret in the recovery region (JSON {"<key name>": "<key>"}) with rotation turned on, as the stack's
 * RotationSchedule for the API-key rotation function does in AWS (local/secret-rotation.ts), and on
 * the serving cluster the Kubernetes copy the API reads (one data entry per key name). Either already
 * there (a second seed of the same emulator): left as it is.
 */
async function seedApiKeys(
  config: DeploymentConfig,
  apiKeys: NonNullable<NonNullable<DeploymentConfig['securityIncident']>['apiKeys']>,
  endpoint: string,
  cluster: ClusterEnvironment['primary'] | undefined,
): Promise<void> {
  const secrets = emulatorClients(endpoint, config.recoveryRegion).secrets;
  const keys: Record<string, string> = Object.fromEntries(SEEDED_API_KEY_NAMES.map((name) => [name, randomKey(apiKeys.keyLength)]));
  let current = keys;
  try {
    await secrets.send(new CreateSecretCommand({ Name: apiKeys.secret, SecretString: JSON.stringify(keys), Description: 'API keys (frontier-dr seed)' }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceExistsException') throw error;
    const found = await secrets.send(new GetSecretValueCommand({ SecretId: apiKeys.secret }));
    current = JSON.parse(found.SecretString ?? '{}') as Record<string, string>;
  }
  await enableRotation(secrets, apiKeys.secret);
  if (cluster && config.kubernetes && !(await cluster.secretData(config.kubernetes.namespace, apiKeys.kubernetesSecret))) {
    await cluster.addSecret(config.kubernetes.namespace, apiKeys.kubernetesSecret, current);
  }
}

/** `config` with the WAF IP set id the seed's emulator gave it (SeededDeployment.wafIpSetId). */
export function withSeededWafIpSet(config: DeploymentConfig, seeded: Pick<SeededDeployment, 'wafIpSetId'>): DeploymentConfig {
  const ipSet = config.securityIncident?.blockIps.wafIpSet;
  if (!config.securityIncident || !ipSet || !seeded.wafIpSetId) return config;
  return { ...config, securityIncident: { ...config.securityIncident, blockIps: { ...config.securityIncident.blockIps, wafIpSet: { ...ipSet, id: seeded.wafIpSetId } } } };
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
async function seedTrafficRecord(traffic: ControlPlaneRecordConfig, primaryRegion: string, route53: Route53Client, front: AwsFront | undefined): Promise<SeededDeployment['traffic']> {
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

/** Reads a stored report back from the emulated reports bucket (`s3://bucket/key`). */
export async function readStoredObject(endpoint: string, region: string, location: string): Promise<string> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) throw new Error(`not an s3:// location: ${location}`);
  const answer = await emulatorClients(endpoint, region).s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
  return (await answer.Body?.transformToString()) ?? '';
}
