// The unit fault matrix: throttling, 5xx, timeout, access denied and not found at every AWS and every
// Kubernetes call site in shared/. The call sites are found by reading the source, so a new call site
// without a row in the tables below fails this file.
//   AWS: every 'service:Action' call name given to awsCall / classifyAwsError or a wrapper forwarding
//   to awsCall (and the few built from a template, expanded by TEMPLATED_CALLS): IAM action strings in
//   tables (the readiness requests) are not call sites; each is sent through that service's real client (mocked),
//   and the error each fault produces is classified under that call name.
//   Kubernetes: every `send(conn, ...)` in shared/kubernetes/, by file, verb and resource; each is driven
//   through the public function that makes it, answered by the client double
//   (test/support/kube-client-double.ts), with the fault injected at that call's own request: HTTP
//   answers, no answer before the request's deadline, and a connection dropped without an answer.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  CopyDBSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBLogFilesCommand,
  DescribeDBParameterGroupsCommand,
  DescribeDBSnapshotsCommand,
  DescribeDBSubnetGroupsCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, GetChangeCommand, GetHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetIPSetCommand, UpdateIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import {
  awsCall,
  AwsAccessDenied,
  AwsTransientError,
  EndpointTimeout,
  KubernetesNotFound,
  KubernetesTransientError,
  KubernetesUnauthorized,
  KubernetesUnreachable,
  ResourceNotFound,
  type RecoveryError,
} from '../../shared/errors.js';
import type { KubernetesConnection } from '../../shared/kubernetes/connection.js';
import { readPodLogs } from '../../shared/kubernetes/logs.js';
import { applyManifests } from '../../shared/kubernetes/manifests.js';
import { setDeploymentImage } from '../../shared/kubernetes/images.js';
import { patchConfigMapKeys, patchSecretKeys } from '../../shared/kubernetes/objects.js';
import { planRollback, rollbackDeployment } from '../../shared/kubernetes/rollback.js';
import { assessCluster, readDeployment, rolloutStatus, scaleDeployment } from '../../shared/kubernetes/workloads.js';
import {
  answerDeployment,
  connectToDouble,
  deploymentObject,
  deploymentPath as deploymentUrl,
  DOUBLE_SERVER,
  KubeClientDouble,
  listOf,
  nodeObject,
  podObject,
  replicaSetObject,
  type DoubleFault,
} from '../support/kube-client-double.js';

const SHARED = path.resolve('shared');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : [],
  );
}

// ---------------------------------------------------------------------------------------------------
// AWS

const SERVICES = ['rds', 's3', 'secretsmanager', 'sns', 'dynamodb', 'eks', 'route53', 'states', 'cloudwatch', 'wafv2', 'ec2', 'kms', 'lambda', 'iam'];
/** Call names built from a template (`rds:${action.operation}`), by file: what they expand to. */
const TEMPLATED_CALLS: Record<string, string[]> = {
  // restoreOnce: database recovery's and region failover's restores to a new instance.
  'backups.ts:rds:${operation}': ['rds:RestoreDBInstanceToPointInTime', 'rds:RestoreDBInstanceFromDBSnapshot'],
};

/**
 * The functions that take an AWS call name and classify the SDK error under it: classifyAwsError (its
 * second argument), and awsCall with the wrappers that forward to it, found by their signature (a first
 * parameter `call: string`: optional, paged, secretsManagerCall...).
 */
function callNameTakers(texts: string[]): Set<string> {
  const takers = new Set(['classifyAwsError']);
  for (const text of texts) for (const match of text.matchAll(/function\s+(\w+)\s*(?:<[^>]*>)?\(\s*call: string/g)) takers.add(match[1]!);
  return takers;
}

/**
 * Every AWS call name in shared/: the literals, and the templates expanded. Only a name given as the
 * call-name argument of a call-name taker is a call site: an IAM action string in a table (the requests
 * readiness simulates, shared/readiness-calls.ts, or a condition key such as `kms:ViaService`) is not.
 */
function awsCallSites(): { names: Set<string>; unknownTemplates: string[] } {
  const names = new Set<string>();
  const unknownTemplates: string[] = [];
  const service = SERVICES.join('|');
  const files = sourceFiles(SHARED).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  const takers = [...callNameTakers(files.map(({ text }) => text))];
  for (const { file, text } of files) {
    for (const taker of text.matchAll(new RegExp(`\\b(${takers.join('|')})\\(`, 'g'))) {
      let rest = text.slice(taker.index + taker[0].length);
      if (taker[1] === 'classifyAwsError') rest = rest.slice(rest.indexOf(',') + 1);
      // The call-name argument: up to its comma (a ternary between two names has none).
      const argument = rest.slice(0, rest.indexOf(','));
      for (const match of argument.matchAll(new RegExp(`'((?:${service}):[A-Z][A-Za-z0-9]+)'`, 'g'))) names.add(match[1]!);
      for (const match of argument.matchAll(new RegExp('`((?:' + service + '):\\$\\{[^}]+\\})`', 'g'))) {
        const key = `${path.basename(file)}:${match[1]}`;
        if (TEMPLATED_CALLS[key]) for (const name of TEMPLATED_CALLS[key]) names.add(name);
        else unknownTemplates.push(key);
      }
    }
  }
  return { names, unknownTemplates };
}

type AnyClient = { send(command: unknown): Promise<unknown> };
interface AwsRow {
  client: () => AnyClient;
  command: () => unknown;
  /** The service's own answers for throttling and for a missing resource. */
  throttled: string;
  notFound: string;
  /** The HTTP status the service answers a missing resource with (JSON-protocol services: 400). */
  notFoundStatus?: number;
}

const rds = () => new RDSClient({ region: 'us-east-1' });
const s3 = () => new S3Client({ region: 'us-east-1' });
const ddb = () => new DynamoDBClient({ region: 'us-east-1' });
const sm = () => new SecretsManagerClient({ region: 'us-east-1' });
const r53 = () => new Route53Client({ region: 'us-east-1' });
const cw = () => new CloudWatchClient({ region: 'us-east-1' });
const waf = () => new WAFV2Client({ region: 'us-east-1' });
const key = { target: { S: 'db:frontier' } };

const AWS_MATRIX: Record<string, AwsRow> = {
  'rds:DescribeDBSnapshots': { client: rds, command: () => new DescribeDBSnapshotsCommand({}), throttled: 'Throttling', notFound: 'DBInstanceNotFoundFault' },
  'rds:DescribeDBInstances': { client: rds, command: () => new DescribeDBInstancesCommand({}), throttled: 'Throttling', notFound: 'DBInstanceNotFoundFault' },
  'rds:DescribeDBInstanceAutomatedBackups': { client: rds, command: () => new DescribeDBInstanceAutomatedBackupsCommand({}), throttled: 'Throttling', notFound: 'DBInstanceAutomatedBackupNotFoundFault' },
  'rds:ModifyDBParameterGroup': { client: rds, command: () => new ModifyDBParameterGroupCommand({ DBParameterGroupName: 'pg', Parameters: [] }), throttled: 'Throttling', notFound: 'DBParameterGroupNotFoundFault' },
  'rds:RestoreDBInstanceToPointInTime': { client: rds, command: () => new RestoreDBInstanceToPointInTimeCommand({ TargetDBInstanceIdentifier: 'x' }), throttled: 'Throttling', notFound: 'DBInstanceNotFoundFault' },
  'rds:RestoreDBInstanceFromDBSnapshot': { client: rds, command: () => new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: 'x', DBSnapshotIdentifier: 's' }), throttled: 'Throttling', notFound: 'DBSnapshotNotFoundFault' },
  'rds:DescribeDBSubnetGroups': { client: rds, command: () => new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: 'g' }), throttled: 'Throttling', notFound: 'DBSubnetGroupNotFoundFault' },
  'rds:DescribeDBParameterGroups': { client: rds, command: () => new DescribeDBParameterGroupsCommand({ DBParameterGroupName: 'pg' }), throttled: 'Throttling', notFound: 'DBParameterGroupNotFound' },
  'cloudwatch:DescribeAlarms': { client: cw, command: () => new DescribeAlarmsCommand({ AlarmNames: ['a'] }), throttled: 'Throttling', notFound: 'ResourceNotFound' },
  'cloudwatch:PutMetricData': { client: cw, command: () => new PutMetricDataCommand({ Namespace: 'n', MetricData: [] }), throttled: 'Throttling', notFound: 'ResourceNotFound' },
  'rds:CreateDBSnapshot': { client: rds, command: () => new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'x', DBSnapshotIdentifier: 's' }), throttled: 'Throttling', notFound: 'DBInstanceNotFoundFault' },
  'rds:CopyDBSnapshot': { client: rds, command: () => new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: 's', TargetDBSnapshotIdentifier: 't' }), throttled: 'Throttling', notFound: 'DBSnapshotNotFoundFault' },
  'rds:DeleteDBInstance': { client: rds, command: () => new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'x' }), throttled: 'Throttling', notFound: 'DBInstanceNotFoundFault' },
  'rds:DescribeDBLogFiles': { client: rds, command: () => new DescribeDBLogFilesCommand({ DBInstanceIdentifier: 'x' }), throttled: 'Throttling', notFound: 'DBInstanceNotFoundFault' },
  's3:HeadBucket': { client: s3, command: () => new HeadBucketCommand({ Bucket: 'b' }), throttled: 'SlowDown', notFound: 'NoSuchBucket' },
  'secretsmanager:RotateSecret': { client: sm, command: () => new RotateSecretCommand({ SecretId: 's' }), throttled: 'ThrottlingException', notFound: 'ResourceNotFoundException', notFoundStatus: 400 },
  'wafv2:GetIPSet': { client: waf, command: () => new GetIPSetCommand({ Name: 'n', Scope: 'REGIONAL', Id: 'i' }), throttled: 'ThrottlingException', notFound: 'WAFNonexistentItemException', notFoundStatus: 400 },
  'wafv2:UpdateIPSet': { client: waf, command: () => new UpdateIPSetCommand({ Name: 'n', Scope: 'REGIONAL', Id: 'i', Addresses: [], LockToken: 't' }), throttled: 'ThrottlingException', notFound: 'WAFNonexistentItemException', notFoundStatus: 400 },
  's3:GetBucketVersioning': { client: s3, command: () => new GetBucketVersioningCommand({ Bucket: 'b' }), throttled: 'SlowDown', notFound: 'NoSuchBucket' },
  's3:GetBucketLocation': { client: s3, command: () => new GetBucketLocationCommand({ Bucket: 'b' }), throttled: 'SlowDown', notFound: 'NoSuchBucket' },
  's3:GetBucketLifecycleConfiguration': { client: s3, command: () => new GetBucketLifecycleConfigurationCommand({ Bucket: 'b' }), throttled: 'SlowDown', notFound: 'NoSuchBucket' },
  's3:GetBucketReplication': { client: s3, command: () => new GetBucketReplicationCommand({ Bucket: 'b' }), throttled: 'SlowDown', notFound: 'NoSuchBucket' },
  's3:ListObjectsV2': { client: s3, command: () => new ListObjectsV2Command({ Bucket: 'b' }), throttled: 'SlowDown', notFound: 'NoSuchBucket' },
  's3:GetObject': { client: s3, command: () => new GetObjectCommand({ Bucket: 'b', Key: 'k' }), throttled: 'SlowDown', notFound: 'NoSuchKey' },
  's3:PutObject': { client: s3, command: () => new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: '{}' }), throttled: 'SlowDown', notFound: 'NoSuchBucket' },
  'secretsmanager:GetSecretValue': { client: sm, command: () => new GetSecretValueCommand({ SecretId: 's' }), throttled: 'ThrottlingException', notFound: 'ResourceNotFoundException', notFoundStatus: 400 },
  'secretsmanager:PutSecretValue': { client: sm, command: () => new PutSecretValueCommand({ SecretId: 's', SecretString: 'v' }), throttled: 'ThrottlingException', notFound: 'ResourceNotFoundException', notFoundStatus: 400 },
  'secretsmanager:DescribeSecret': { client: sm, command: () => new DescribeSecretCommand({ SecretId: 's' }), throttled: 'ThrottlingException', notFound: 'ResourceNotFoundException', notFoundStatus: 400 },
  'secretsmanager:UpdateSecretVersionStage': { client: sm, command: () => new UpdateSecretVersionStageCommand({ SecretId: 's', VersionStage: 'AWSCURRENT' }), throttled: 'ThrottlingException', notFound: 'ResourceNotFoundException', notFoundStatus: 400 },
  'secretsmanager:GetRandomPassword': { client: sm, command: () => new GetRandomPasswordCommand({}), throttled: 'ThrottlingException', notFound: 'ResourceNotFoundException', notFoundStatus: 400 },
  'sns:Publish': { client: () => new SNSClient({ region: 'us-east-1' }), command: () => new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:1:t', Message: 'm' }), throttled: 'ThrottledException', notFound: 'NotFoundException' },
  'dynamodb:GetItem': { client: ddb, command: () => new GetItemCommand({ TableName: 't', Key: key }), throttled: 'ThrottlingException', notFound: 'ResourceNotFoundException', notFoundStatus: 400 },
  'dynamodb:PutItem': { client: ddb, command: () => new PutItemCommand({ TableName: 't', Item: key }), throttled: 'ProvisionedThroughputExceededException', notFound: 'ResourceNotFoundException', notFoundStatus: 400 },
  'dynamodb:UpdateItem': { client: ddb, command: () => new UpdateItemCommand({ TableName: 't', Key: key }), throttled: 'ThrottlingException', notFound: 'ResourceNotFoundException', notFoundStatus: 400 },
  'dynamodb:DeleteItem': { client: ddb, command: () => new DeleteItemCommand({ TableName: 't', Key: key }), throttled: 'ThrottlingException', notFound: 'ResourceNotFoundException', notFoundStatus: 400 },
  'eks:DescribeCluster': { client: () => new EKSClient({ region: 'us-east-1' }), command: () => new DescribeClusterCommand({ name: 'c' }), throttled: 'ThrottlingException', notFound: 'ResourceNotFoundException' },
  'route53:ListResourceRecordSets': { client: r53, command: () => new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' }), throttled: 'Throttling', notFound: 'NoSuchHostedZone' },
  'route53:ChangeResourceRecordSets': { client: r53, command: () => new ChangeResourceRecordSetsCommand({ HostedZoneId: 'Z1', ChangeBatch: { Changes: [] } }), throttled: 'Throttling', notFound: 'NoSuchHostedZone' },
  'route53:GetChange': { client: r53, command: () => new GetChangeCommand({ Id: 'C1' }), throttled: 'Throttling', notFound: 'NoSuchChange' },
  'states:DescribeExecution': { client: () => new SFNClient({ region: 'us-east-1' }), command: () => new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:1:execution:m:e' }), throttled: 'ThrottlingException', notFound: 'ExecutionDoesNotExist', notFoundStatus: 400 },
  'states:SendTaskSuccess': { client: () => new SFNClient({ region: 'us-east-1' }), command: () => new SendTaskSuccessCommand({ taskToken: 't', output: '{}' }), throttled: 'ThrottlingException', notFound: 'TaskDoesNotExist', notFoundStatus: 400 },
  'states:SendTaskFailure': { client: () => new SFNClient({ region: 'us-east-1' }), command: () => new SendTaskFailureCommand({ taskToken: 't' }), throttled: 'ThrottlingException', notFound: 'TaskDoesNotExist', notFoundStatus: 400 },
  // Readiness
  'route53:GetHostedZone': { client: r53, command: () => new GetHostedZoneCommand({ Id: 'Z1' }), throttled: 'Throttling', notFound: 'NoSuchHostedZone' },
  'ec2:DescribeSecurityGroups': { client: () => new EC2Client({ region: 'us-east-1' }), command: () => new DescribeSecurityGroupsCommand({ GroupIds: ['sg-1'] }), throttled: 'RequestLimitExceeded', notFound: 'InvalidGroup.NotFound', notFoundStatus: 400 },
  'kms:DescribeKey': { client: () => new KMSClient({ region: 'us-east-1' }), command: () => new DescribeKeyCommand({ KeyId: 'k' }), throttled: 'ThrottlingException', notFound: 'NotFoundException', notFoundStatus: 400 },
  'ec2:DescribeSubnets': { client: () => new EC2Client({ region: 'us-east-1' }), command: () => new DescribeSubnetsCommand({ SubnetIds: ['subnet-1'] }), throttled: 'RequestLimitExceeded', notFound: 'InvalidSubnetID.NotFound', notFoundStatus: 400 },
  'ec2:DescribeRouteTables': { client: () => new EC2Client({ region: 'us-east-1' }), command: () => new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }] }), throttled: 'RequestLimitExceeded', notFound: 'InvalidVpcID.NotFound', notFoundStatus: 400 },
  'ec2:DescribeVpcEndpoints': { client: () => new EC2Client({ region: 'us-east-1' }), command: () => new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }] }), throttled: 'RequestLimitExceeded', notFound: 'InvalidVpcID.NotFound', notFoundStatus: 400 },
  'lambda:GetFunctionConfiguration': { client: () => new LambdaClient({ region: 'us-east-1' }), command: () => new GetFunctionConfigurationCommand({ FunctionName: 'f' }), throttled: 'TooManyRequestsException', notFound: 'ResourceNotFoundException' },
  'iam:SimulatePrincipalPolicy': { client: () => new IAMClient({ region: 'us-east-1' }), command: () => new SimulatePrincipalPolicyCommand({ PolicySourceArn: 'arn:aws:iam::1:role/r', ActionNames: ['s3:GetObject'] }), throttled: 'Throttling', notFound: 'NoSuchEntity' },
  // Alertmanager
  'states:StartExecution': { client: () => new SFNClient({ region: 'us-east-1' }), command: () => new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:m' }), throttled: 'ThrottlingException', notFound: 'StateMachineDoesNotExist', notFoundStatus: 400 },
};

function serviceError(name: string, status: number, message = `${name} (injected)`): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, attempts: 5 } });
}

type Fault = 'throttling' | '5xx' | 'timeout' | 'access denied' | 'not found';
const FAULTS: Fault[] = ['throttling', '5xx', 'timeout', 'access denied', 'not found'];

function awsFault(fault: Fault, row: AwsRow): unknown {
  switch (fault) {
    case 'throttling':
      return serviceError(row.throttled, 400);
    case '5xx':
      return serviceError('InternalFailure', 503);
    case 'timeout':
      return new EndpointTimeout('https://service.us-east-1.amazonaws.com', 'a request has exceeded the configured 5000 ms requestTimeout.', Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
    case 'access denied':
      return serviceError('AccessDeniedException', 403);
    case 'not found':
      return serviceError(row.notFound, row.notFoundStatus ?? 404);
  }
}

const AWS_EXPECTED: Record<Fault, new (...args: never[]) => RecoveryError> = {
  throttling: AwsTransientError,
  '5xx': AwsTransientError,
  timeout: AwsTransientError,
  'access denied': AwsAccessDenied,
  'not found': ResourceNotFound,
};

describe('AWS fault matrix', () => {
  it('has a row for every AWS call site in shared/ (found by reading the source)', () => {
    const { names, unknownTemplates } = awsCallSites();

    expect(unknownTemplates).toEqual([]);
    expect(names.size).toBeGreaterThan(20);
    expect([...names].filter((name) => !(name in AWS_MATRIX)).sort()).toEqual([]);
    // And no row for a call that is gone.
    expect(Object.keys(AWS_MATRIX).filter((name) => !names.has(name)).sort()).toEqual([]);
  });

  const cases = Object.entries(AWS_MATRIX).flatMap(([call, row]) => FAULTS.map((fault) => [call, fault, row] as const));
  it.each(cases)('%s: %s', async (call, fault, row) => {
    const client = row.client();
    const mock = mockClient(client as never);
    mock.onAnyCommand().rejects(awsFault(fault, row) as Error);
    try {
      const failure = await awsCall(call, 'the resource', () => client.send(row.command())).then(
        () => undefined,
        (error: unknown) => error as Error,
      );

      expect(failure).toBeInstanceOf(AWS_EXPECTED[fault]);
      expect(failure!.message).toContain(`${call} on the resource`);
      if (fault === 'timeout') expect(failure!.message).toContain('could not reach https://service.us-east-1.amazonaws.com');
    } finally {
      mock.restore();
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Kubernetes

const NS = 'production';
const API = 'frontier-api';

/** Every `send(conn, ...)` in shared/kubernetes/, as `file verb resource`. */
function kubernetesCallSites(): string[] {
  const sites: string[] = [];
  const dir = path.join(SHARED, 'kubernetes');
  for (const file of sourceFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    const base = path.basename(file);
    if (base === 'requests.ts') continue;
    for (const match of text.matchAll(/\bsend\(conn,\s*(\{[^}]*\}|\w+)/g)) {
      const literal = match[1]!;
      const before = text.slice(0, match.index);
      let verb = /verb: '(\w+)'/.exec(literal)?.[1];
      let resource = /resource: '([^']+)'/.exec(literal)?.[1];
      if (!literal.startsWith('{') || literal.includes('...')) {
        // `send(conn, target, ...)` or `{ verb, ...target }`: the nearest `const target = {...}` before it.
        const targets = [...before.matchAll(/const target(?::\s*\w+)?\s*=\s*\{([^}]*)\}/g)];
        const target = targets[targets.length - 1]?.[1] ?? '';
        verb ??= /verb: '(\w+)'/.exec(target)?.[1];
        resource ??= /resource: '([^']+)'/.exec(target)?.[1] ?? (/resource: ([\w.]+)/.exec(target) ? 'any' : undefined);
      }
      sites.push(`${base} ${verb ?? '?'} ${resource ?? '?'}`);
    }
  }
  return sites.sort();
}

interface KubeRow {
  /** Makes the call (and whatever precedes it). */
  run: (conn: KubernetesConnection) => Promise<unknown>;
  /** The request to fail: method and path pattern. */
  method: string;
  path: RegExp;
  /** assessCluster answers "unreachable" instead of throwing for transient faults and timeouts. */
  answersUnhealthy?: boolean;
  /** readPodLogs keeps going past a pod whose log is gone (404): recorded on that pod, not thrown. */
  notFoundRecorded?: boolean;
  /** rolloutStatus takes a deadline condition naming a ReplicaSet that is gone (404) for an earlier rollout's: a look, not thrown. */
  notFoundStale?: boolean;
}

const deploymentPath = new RegExp(`/apis/apps/v1/namespaces/${NS}/deployments/${API}$`);
/** A deployment whose Progressing condition is a deadline exceeded by ReplicaSet STALLED_RS, which a later rollout replaced. */
const STALLED = 'frontier-worker';
const STALLED_RS = `${STALLED}-rs1`;
const KUBE_MATRIX: Record<string, KubeRow> = {
  'workloads.ts get deployments': { run: (conn) => readDeployment(conn, NS, API), method: 'GET', path: deploymentPath },
  'workloads.ts get /version': { run: (conn) => assessCluster(conn, 2_000), method: 'GET', path: /^\/version/, answersUnhealthy: true },
  'workloads.ts list nodes': { run: (conn) => assessCluster(conn, 2_000), method: 'GET', path: /^\/api\/v1\/nodes/, answersUnhealthy: true },
  'workloads.ts get deployments/scale': { run: (conn) => scaleDeployment(conn, NS, API, 1), method: 'GET', path: /\/deployments\/frontier-api\/scale$/ },
  'workloads.ts get replicasets': { run: (conn) => rolloutStatus(conn, NS, STALLED), method: 'GET', path: new RegExp(`/replicasets/${STALLED_RS}$`), notFoundStale: true },
  'workloads.ts patch deployments/scale': { run: (conn) => scaleDeployment(conn, NS, API, 1), method: 'PATCH', path: /\/deployments\/frontier-api\/scale$/ },
  'rollback.ts list replicasets': { run: (conn) => planRollback(conn, NS, API), method: 'GET', path: /\/replicasets/ },
  'images.ts patch deployments': { run: (conn) => setDeploymentImage(conn, NS, API, 'frontier/api:security-patch', 'incident SEC-1'), method: 'PATCH', path: deploymentPath },
  'rollback.ts patch deployments': { run: (conn) => rollbackDeployment(conn, NS, API), method: 'PATCH', path: deploymentPath },
  'objects.ts get configmaps': { run: (conn) => patchConfigMapKeys(conn, NS, 'frontier-config', { DATABASE_HOST: 'new' }), method: 'GET', path: /\/configmaps\/frontier-config$/ },
  'objects.ts patch configmaps': { run: (conn) => patchConfigMapKeys(conn, NS, 'frontier-config', { DATABASE_HOST: 'new' }), method: 'PATCH', path: /\/configmaps\/frontier-config$/ },
  'objects.ts get secrets': { run: (conn) => patchSecretKeys(conn, NS, 'frontier-db', { DATABASE_HOST: 'new' }), method: 'GET', path: /\/secrets\/frontier-db$/ },
  'objects.ts patch secrets': { run: (conn) => patchSecretKeys(conn, NS, 'frontier-db', { DATABASE_HOST: 'new' }), method: 'PATCH', path: /\/secrets\/frontier-db$/ },
  'logs.ts list pods': { run: (conn) => readPodLogs(conn, NS, 'app=frontier-api', 60, 1_000), method: 'GET', path: /\/pods$/ },
  'logs.ts get pods/log': { run: (conn) => readPodLogs(conn, NS, 'app=frontier-api', 60, 1_000), method: 'GET', path: /\/pods\/[^/]+\/log$/, notFoundRecorded: true },
  'manifests.ts patch any': {
    run: (conn) => applyManifests(conn, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra', namespace: NS }, data: { a: 'b' } }]),
    method: 'PATCH',
    path: /\/configmaps\/extra$/,
  },
};

const KUBE_STATUS: Record<'throttling' | '5xx' | 'access denied' | 'not found', number> = { throttling: 429, '5xx': 503, 'access denied': 403, 'not found': 404 };
/** Every fault a Kubernetes call meets: the four HTTP answers, no answer in time, and a connection dropped without an answer. */
type KubeFault = keyof typeof KUBE_STATUS | 'timeout' | 'dropped';
const KUBE_FAULTS: KubeFault[] = ['throttling', '5xx', 'access denied', 'not found', 'timeout', 'dropped'];
const KUBE_EXPECTED: Record<KubeFault, new (...args: never[]) => RecoveryError> = {
  throttling: KubernetesTransientError,
  '5xx': KubernetesTransientError,
  timeout: KubernetesUnreachable,
  dropped: KubernetesUnreachable,
  'access denied': KubernetesUnauthorized,
  'not found': KubernetesNotFound,
};

/** A cluster where every call of the matrix succeeds, answered by the client double. */
function seededDouble(): KubeClientDouble {
  const double = new KubeClientDouble();
  answerDeployment(double, { namespace: NS, name: API, revisions: ['api:1', 'api:2'], replicas: 2 });
  const configMap = `/api/v1/namespaces/${NS}/configmaps/frontier-config`;
  const secret = `/api/v1/namespaces/${NS}/secrets/frontier-db`;
  double
    .on('GET', deploymentUrl(NS, STALLED), {
      body: deploymentObject({
        namespace: NS,
        name: STALLED,
        image: 'worker:2',
        replicas: 2,
        revision: 2,
        status: { replicas: 3, updatedReplicas: 1, availableReplicas: 2 },
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${STALLED_RS}" has timed out progressing.` }],
      }),
    })
    .on('GET', `/apis/apps/v1/namespaces/${NS}/replicasets/${STALLED_RS}`, { body: replicaSetObject({ namespace: NS, name: STALLED_RS, deployment: { name: STALLED }, image: 'worker:1', revision: 1 }) });
  return double
    .on('GET', '/version', { body: { gitVersion: 'v1.34.4', major: '1', minor: '34' } })
    .on('GET', '/api/v1/nodes', { body: listOf('NodeList', [nodeObject('node-1', true)]) })
    .on('GET', configMap, { body: { metadata: { name: 'frontier-config' }, data: { DATABASE_HOST: 'old' } } })
    .on('PATCH', configMap, { body: { metadata: { name: 'frontier-config' }, data: { DATABASE_HOST: 'new' } } })
    .on('GET', secret, { body: { metadata: { name: 'frontier-db' }, data: { DATABASE_HOST: Buffer.from('old').toString('base64') } } })
    .on('PATCH', secret, { body: { metadata: { name: 'frontier-db' } } })
    .on('GET', `/api/v1/namespaces/${NS}/pods`, { body: listOf('PodList', [podObject(NS, 'frontier-api-0', { app: API })]) })
    .on('GET', /\/pods\/[^/]+\/log$/, { body: '2026-11-25T10:00:00.000000000Z started\n' })
    .on('PATCH', `/api/v1/namespaces/${NS}/configmaps/extra`, { status: 201, body: { metadata: { name: 'extra' } } });
}

function doubleFault(fault: KubeFault, row: KubeRow): DoubleFault {
  const where = { method: row.method, path: row.path };
  if (fault === 'timeout') return { ...where, timeout: true };
  if (fault === 'dropped') return { ...where, dropped: true };
  return { ...where, status: KUBE_STATUS[fault] };
}

describe('Kubernetes fault matrix', () => {
  it('has a row for every Kubernetes call site in shared/kubernetes/ (found by reading the source)', () => {
    const sites = kubernetesCallSites();

    expect(sites.length).toBeGreaterThanOrEqual(14);
    expect(sites.filter((site) => site.includes('?'))).toEqual([]);
    expect(sites.filter((site) => !(site in KUBE_MATRIX))).toEqual([]);
    expect(Object.keys(KUBE_MATRIX).filter((site) => !sites.includes(site))).toEqual([]);
  });

  it('runs every row without a fault (the seeded answers let each call be reached)', async () => {
    for (const [site, row] of Object.entries(KUBE_MATRIX)) {
      const double = seededDouble();
      const conn = await connectToDouble(double, { requestTimeoutMs: 200 });

      await expect(row.run(conn)).resolves.toBeDefined();
      expect({ site, met: double.sent(row.method, row.path).map((r) => r.status) }).toEqual({ site, met: [expect.any(Number)] });
    }
  });

  const cases = Object.entries(KUBE_MATRIX).flatMap(([site, row]) => KUBE_FAULTS.map((fault) => [site, fault, row] as const));
  it.each(cases)('%s: %s', async (site, fault, row) => {
    const double = seededDouble().failNext(doubleFault(fault, row));
    const conn = await connectToDouble(double, { requestTimeoutMs: 200 });
    const started = Date.now();

    // assessCluster bounds its two requests with its own deadline.
    const outcome = await (row.answersUnhealthy ? assessCluster(conn, 200) : row.run(conn)).then(
      (value) => ({ value }),
      (error: unknown) => ({ error: error as Error }),
    );

    // The fault was really met at this call site.
    const met = fault === 'timeout' || fault === 'dropped' ? fault : KUBE_STATUS[fault];
    expect(double.sent(row.method, row.path).some((r) => r.status === met)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    if (row.answersUnhealthy && fault !== 'access denied' && fault !== 'not found') {
      expect(outcome).toMatchObject({ value: { healthy: false } });
      if (fault === 'timeout') expect((outcome as { value: { reason: string } }).value.reason).toContain('could not be reached (no answer in time)');
      return;
    }
    if (row.notFoundStale && fault === 'not found') {
      expect(outcome).toMatchObject({ value: { done: false, message: expect.stringContaining(`it is about ReplicaSet ${STALLED_RS}, which no longer exists`) } });
      return;
    }
    if (row.notFoundRecorded && fault === 'not found') {
      expect(outcome).toMatchObject({ value: [{ log: '', error: expect.stringContaining('not found') }] });
      return;
    }
    expect('error' in outcome && outcome.error).toBeInstanceOf(KUBE_EXPECTED[fault]);
    const { message } = (outcome as { error: Error }).error;
    const [, verb] = site.split(' ');
    if (verb !== 'any') expect(message).toMatch(new RegExp(`^${verb} `));
    if (fault === 'timeout') expect(message).toContain(`the Kubernetes API at ${DOUBLE_SERVER} could not be reached (no answer in time)`);
    if (fault === 'dropped') expect(message).toContain('could not be reached (UND_ERR_SOCKET)');
  });
});
