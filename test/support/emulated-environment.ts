// The emulated environment the integration tier and the local drill run against: moto for the AWS
// APIs, an embedded PostgreSQL standing in for every RDS endpoint, and the example deployment seeded
// into them (with deliberate problems the verification must find).
//
// The one place where the emulator and real servers are joined is `mapDatabaseEndpoints`: moto's
// "restored" instances have endpoints nobody listens on, so inside this process connections to
// *.rds.amazonaws.com go to the embedded PostgreSQL. The code under test does not know it exists, and
// nothing deployed ever consults it.
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
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import type { DeploymentConfig } from '../../shared/config.js';
import { startAwsFront, type AwsFront } from './aws-front.js';
import { mapDatabaseEndpoints } from './endpoint-map.js';
import { startMoto, type MotoServer } from './moto.js';
import { startPostgres, type LocalPostgres } from './postgres.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface EmulatedEnvironment {
  moto: MotoServer;
  /** What AWS_ENDPOINT_URL points at: moto behind the region-outage and EKS front. */
  front: AwsFront;
  postgres: LocalPostgres;
  endpoint: string;
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
  return {
    moto,
    front,
    postgres,
    endpoint: front.endpoint,
    async stop() {
      unmap();
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await front.stop();
      await Promise.all([moto.stop(), postgres.stop()]);
    },
  };
}

/** What the seed created, for tests to assert against. */
export interface SeededDeployment {
  primarySnapshots: string[];
  recoveryCopies: string[];
  /** The problems the seed planted on purpose: check name -> resource it concerns. */
  deliberateProblems: { check: string; resource: string }[];
  alertTopicArn: string;
}

/**
 * The example deployment as the emulated environment runs it: the embedded PostgreSQL has no TLS, so
 * validation queries connect in plain text here (and only here).
 */
export function emulatorConfig(config: DeploymentConfig): DeploymentConfig {
  return { ...config, databases: config.databases.map((d) => ({ ...d, tls: 'disable' as const })) };
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
 *   versioned but not replicated (deliberate problem: `bucket-replication`).
 */
export async function seedExampleDeployment(
  config: DeploymentConfig,
  endpoint: string,
  postgres: Pick<LocalPostgres, 'user' | 'password'>,
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

    await primary.rds.send(new CreateDBInstanceCommand({ ...instance, StorageEncrypted: true }));
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
        SecretString: JSON.stringify({ username: postgres.user, password: postgres.password, engine: 'postgres', dbname: database.databaseName }),
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
  return { primarySnapshots, recoveryCopies, deliberateProblems, alertTopicArn: topic.TopicArn as string };
}

/** Reads a stored report back from the emulated reports bucket (`s3://bucket/key`). */
export async function readStoredObject(endpoint: string, region: string, location: string): Promise<string> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) throw new Error(`not an s3:// location: ${location}`);
  const answer = await clients(endpoint, region).s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
  return (await answer.Body?.transformToString()) ?? '';
}
