// Fixtures for the cluster state machine tests (cluster-failover, emergency-rollback): the servers the
// health gates probe (PostgreSQL, Redis with AUTH, one /health server per cluster), a fresh pair of
// Kubernetes fakes per test, the deployment config pointing at all of them, the EKS DescribeCluster
// answer for a fake, the production manifests kept in S3, and a front that loses an API answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DescribeClusterCommandOutput } from '@aws-sdk/client-eks';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  NoSuchHostedZone,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { DeploymentConfig } from '../../shared/config.js';
import { configWith } from './fixtures.js';
import { startHealthServer, type HealthServer } from '../../local/health-server.js';
import { FAKE_AWS_CREDENTIALS, startKubeFake, type KubeFake } from '../../local/kube-fake.js';
import type { EventLog, LocalRunOptions } from '../../local/local-state-machine.js';
import { startPostgres, type LocalPostgres } from '../../local/postgres.js';
import { startRedis, type LocalRedis } from '../../local/redis.js';

export const NAMESPACE = 'production';
export const API = 'frontier-api';
export const DATABASE_SECRET = 'frontier/prod/database';
export const REDIS_SECRET = 'frontier/prod/redis-auth';
export const REDIS_PASSWORD = 'redis-auth-token-for-the-gates';
export const MANIFEST_BUCKET = 'frontier-dr-manifests';
export const MANIFEST_PREFIX = 'k8s/production/';

/** The image the production manifests run, and the older one the backup cluster idles with. */
export const PRODUCTION_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/frontier-api:2026.11.3';
export const STANDBY_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/frontier-api:2026.10.1';

/**
 * The handlers sign EKS tokens with the SDK's default credentials (the environment here); the fakes'
 * "STS" only accepts signatures by FAKE_AWS_CREDENTIALS. Call before any handler runs: the SDK resolves
 * (and keeps) its credentials at the first signing.
 */
export function useFakeClusterCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = FAKE_AWS_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = FAKE_AWS_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
}

// ---------------------------------------------------------------------------------------------------
// Servers behind the health gates

export interface GateServers {
  postgres: LocalPostgres;
  redis: LocalRedis;
  /** Each cluster's API /health, so a test can tell which cluster the gate probed. */
  primaryHealth: HealthServer;
  backupHealth: HealthServer;
  stop(): Promise<void>;
}

export async function startGateServers(): Promise<GateServers> {
  const [postgres, redis, primaryHealth, backupHealth] = await Promise.all([
    startPostgres({ databaseName: 'frontier', user: 'frontier_admin', password: 'correct horse battery staple' }),
    startRedis({ password: REDIS_PASSWORD }),
    startHealthServer('ok'),
    startHealthServer('ok'),
  ]);
  return {
    postgres,
    redis,
    primaryHealth,
    backupHealth,
    async stop() {
      await Promise.all([postgres.stop(), redis.stop(), primaryHealth.stop(), backupHealth.stop()]);
    },
  };
}

/** The database's connection secret in RDS's format: the SELECT 1 gate connects where it points. */
export function databaseSecret(servers: GateServers): string {
  const { postgres } = servers;
  return JSON.stringify({ engine: 'postgres', host: postgres.host, port: postgres.port, username: postgres.user, password: postgres.password, dbname: postgres.databaseName });
}

// ---------------------------------------------------------------------------------------------------
// Clusters

export interface Clusters {
  primary: KubeFake;
  backup: KubeFake;
  stop(): Promise<void>;
}

let clusterCount = 0;

/**
 * A new primary and backup fake for one test, with cluster names of their own: the handlers keep one
 * connection per cluster name for the life of the "container" (the test file's module registry), so
 * a name reused by the next test would reach the previous test's fake.
 *
 * The controller timer is effectively off: `tickOnRolloutWait` moves each fake one step per
 * WaitForRollout, which models time passing during the Wait and makes the number of looks deterministic.
 */
export async function startClusters(): Promise<Clusters> {
  const n = ++clusterCount;
  const [primary, backup] = await Promise.all([
    startKubeFake({ clusterName: `frontier-prod-cluster-${n}`, tickMs: 3_600_000 }),
    startKubeFake({ clusterName: `frontier-backup-cluster-${n}`, tickMs: 3_600_000 }),
  ]);
  return {
    primary,
    backup,
    async stop() {
      await Promise.all([primary.stop(), backup.stop()]);
    },
  };
}

/** One controller step on each fake every time the state machine enters a WaitForRollout state. */
export function tickOnRolloutWait(...fakes: KubeFake[]): NonNullable<LocalRunOptions['onEvent']> {
  return (event: EventLog) => {
    if (event.type === 'StateEntered' && event.state.name === 'WaitForRollout') for (const fake of fakes) fake.tick();
  };
}

/** EKS DescribeCluster's answer for a cluster served by `endpoint` (a fake, or a front before it): plain http, so no CA. */
export function describedCluster(name: string, region: string, endpoint: string): DescribeClusterCommandOutput {
  return {
    $metadata: {},
    cluster: {
      name,
      arn: `arn:aws:eks:${region}:123456789012:cluster/${name}`,
      endpoint,
      status: 'ACTIVE',
      version: '1.31',
      certificateAuthority: { data: '' },
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Config

/** The example deployment pointed at this test's clusters and gate servers. */
export function clusterConfig(servers: GateServers, clusters: Clusters, change?: (raw: DeploymentConfig) => void): DeploymentConfig {
  return configWith((c) => {
    c.databases[0]!.tls = 'disable'; // the loopback PostgreSQL has no TLS
    const kubernetes = c.kubernetes!;
    kubernetes.clusters.primary = { ...kubernetes.clusters.primary, name: clusters.primary.clusterName, healthUrl: servers.primaryHealth.url };
    kubernetes.clusters.backup = { ...kubernetes.clusters.backup, name: clusters.backup.clusterName, healthUrl: servers.backupHealth.url };
    c.health.redis = { host: '127.0.0.1', port: servers.redis.port, tls: false, authSecret: REDIS_SECRET };
    change?.(c);
  });
}

// ---------------------------------------------------------------------------------------------------
// Production manifests (the plan's k8s/ folder), as kept in the recovery region's bucket

export const MANIFEST_FILES: Record<string, string> = {
  [`${MANIFEST_PREFIX}00-namespace.yaml`]: `apiVersion: v1
kind: Namespace
metadata:
  name: production
`,
  [`${MANIFEST_PREFIX}10-config.yaml`]: `apiVersion: v1
kind: ConfigMap
metadata:
  name: frontier-config
data:
  emergency_mode: "false"
  log_level: info
`,
  [`${MANIFEST_PREFIX}20-api.yaml`]: `apiVersion: v1
kind: Service
metadata:
  name: frontier-api
spec:
  selector:
    app: frontier-api
  ports:
    - port: 80
      targetPort: 8080
---
# Replicas are left to the scale step (and the HPA), as in production.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontier-api
  labels:
    app: frontier-api
spec:
  selector:
    matchLabels:
      app: frontier-api
  template:
    metadata:
      labels:
        app: frontier-api
    spec:
      containers:
        - name: frontier-api
          image: ${PRODUCTION_IMAGE}
          ports:
            - containerPort: 8080
              protocol: TCP
          envFrom:
            - configMapRef:
                name: frontier-config
`,
  // Not a manifest: listed in the bucket, never applied.
  [`${MANIFEST_PREFIX}README.md`]: '# Production manifests\n',
};

/** A GetObject body: the code under test only reads it with transformToString. */
export function objectBody(text: string): GetObjectCommandOutput['Body'] {
  return { transformToString: async () => text } as unknown as GetObjectCommandOutput['Body'];
}

// ---------------------------------------------------------------------------------------------------
// A front that loses one answer

export interface LosingFront {
  url: string;
  /** Requests whose answer was replaced by a 503 after the fake had handled them. */
  lost(): number;
  stop(): Promise<void>;
}

/**
 * A loopback front for a fake that passes every request on, but for the first request matching
 * `method` and `path` it lets the fake act and then answers 503 instead of the fake's answer: the API
 * server committed the change and the caller never learnt it (an ambiguous write, e.g. an etcd timeout).
 * Unlike the fake's own failNext (refused before acting), this is the case where a retried step finds
 * its own earlier change already made.
 */
export async function startLosingFront(target: KubeFake, match: { method: string; path: RegExp }): Promise<LosingFront> {
  let lost = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const upstream = http.request(
        { host: '127.0.0.1', port: target.port, method: request.method, path: request.url, headers: { ...request.headers, host: `127.0.0.1:${target.port}` } },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            const path = new URL(request.url ?? '/', 'http://front').pathname;
            if (lost === 0 && request.method === match.method && match.path.test(path) && (answer.statusCode ?? 0) < 300) {
              lost += 1;
              const status = {
                kind: 'Status',
                apiVersion: 'v1',
                metadata: {},
                status: 'Failure',
                message: 'the server is currently unable to handle the request',
                reason: 'ServiceUnavailable',
                code: 503,
              };
              response.writeHead(503, { 'content-type': 'application/json' });
              response.end(JSON.stringify(status));
              return;
            }
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            response.end(Buffer.concat(body));
          });
        },
      );
      upstream.on('error', () => response.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    lost: () => lost,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Route 53: the hosted zone of kubernetes.traffic, as the client mock answers for it

/** The example's traffic record (config/example.yml) and where it points before a failover. */
export const TRAFFIC_ZONE = 'Z0FRONTIEREXAMPLE01';
export const TRAFFIC_RECORD = 'api.frontier.com.';
export const PRIMARY_INGRESS = 'frontier-prod-ingress.us-west-2.elb.amazonaws.com.';
export const BACKUP_INGRESS = 'frontier-backup-ingress.us-east-1.elb.amazonaws.com.';

export interface HostedZone {
  records: ResourceRecordSet[];
  record(name: string, type: string): ResourceRecordSet | undefined;
  /** The next call of this command fails with `error` instead. */
  failNext(command: 'ListResourceRecordSets' | 'ChangeResourceRecordSets' | 'GetChange', error: Error): void;
}

/**
 * One hosted zone behind a Route 53 client mock: records listed in Route 53's order from a start name
 * and type, UPSERT, and changes that stay PENDING for `pendingLooks` GetChange calls, then INSYNC.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function installHostedZone(route53: AwsStub<any, any, any>, options: { records?: ResourceRecordSet[]; pendingLooks?: number } = {}): HostedZone {
  const records: ResourceRecordSet[] = options.records ?? [
    { Name: 'frontier.com.', Type: 'NS', TTL: 172800, ResourceRecords: [{ Value: 'ns-1.awsdns-01.org.' }] },
    { Name: TRAFFIC_RECORD, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: PRIMARY_INGRESS }] },
    { Name: 'www.frontier.com.', Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'frontier.com.' }] },
  ];
  const faults = new Map<string, Error[]>();
  const throwIfQueued = (command: string) => {
    const error = faults.get(command)?.shift();
    if (error) throw error;
  };
  const changes = new Map<string, number>();
  const zoneCheck = (id: string) => {
    if (id !== TRAFFIC_ZONE) throw new NoSuchHostedZone({ message: `No hosted zone found with ID: ${id}`, $metadata: { httpStatusCode: 404 } });
  };
  // Route 53 orders records by name, labels compared right to left, then by type.
  const key = (r: ResourceRecordSet) => `${(r.Name ?? '').split('.').reverse().join('.')} ${r.Type}`;
  route53.on(ListResourceRecordSetsCommand).callsFake((input: { HostedZoneId: string; StartRecordName?: string; StartRecordType?: string; MaxItems?: number }) => {
    throwIfQueued('ListResourceRecordSets');
    zoneCheck(input.HostedZoneId);
    const start = key({ Name: input.StartRecordName ?? '', Type: (input.StartRecordType ?? '') as ResourceRecordSet['Type'] });
    const sorted = [...records].sort((a, b) => key(a).localeCompare(key(b)));
    const from = sorted.filter((r) => key(r) >= start);
    return { ResourceRecordSets: structuredClone(from.slice(0, input.MaxItems ?? 100)), IsTruncated: from.length > (input.MaxItems ?? 100) };
  });
  route53.on(ChangeResourceRecordSetsCommand).callsFake((input: { HostedZoneId: string; ChangeBatch: { Changes: { Action: string; ResourceRecordSet: ResourceRecordSet }[] } }) => {
    throwIfQueued('ChangeResourceRecordSets');
    zoneCheck(input.HostedZoneId);
    for (const change of input.ChangeBatch.Changes) {
      const at = records.findIndex((r) => r.Name === change.ResourceRecordSet.Name && r.Type === change.ResourceRecordSet.Type);
      if (change.Action !== 'UPSERT') throw new Error(`in-memory Route 53: unsupported action ${change.Action}`);
      if (at >= 0) records[at] = structuredClone(change.ResourceRecordSet);
      else records.push(structuredClone(change.ResourceRecordSet));
    }
    const id = `/change/C${String(changes.size + 1).padStart(12, '0')}`;
    changes.set(id, 0);
    return { ChangeInfo: { Id: id, Status: 'PENDING', SubmittedAt: new Date() } };
  });
  route53.on(GetChangeCommand).callsFake((input: { Id: string }) => {
    throwIfQueued('GetChange');
    const looks = (changes.get(input.Id) ?? 0) + 1;
    changes.set(input.Id, looks);
    return { ChangeInfo: { Id: input.Id, Status: looks <= (options.pendingLooks ?? 1) ? 'PENDING' : 'INSYNC', SubmittedAt: new Date() } };
  });
  return {
    records,
    record: (name, type) => records.find((r) => r.Name === name && r.Type === type),
    failNext: (command, error) => faults.set(command, [...(faults.get(command) ?? []), error]),
  };
}
