// Fixtures for the cluster state machine tests (cluster-failover, emergency-rollback, database-recovery):
// the servers the health gates probe (PostgreSQL, Redis with AUTH, one /health server per cluster), a
// pair of real local clusters per test file (local/kube-cluster.ts: real control planes with deploy/rbac/
// enforced, behind the fault proxy) with a namespace of its own for each test, the deployment config
// pointing at all of them, the EKS DescribeCluster answer for a cluster, the production manifests kept
// in S3, and a front that loses an API answer.
import http from 'node:http';
import https from 'node:https';
import { Buffer } from 'node:buffer';
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
import { AppsV1Api, AuthorizationV1Api, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import type { DeploymentConfig } from '../../shared/config.js';
import { forgetConnections } from '../../shared/cluster-ops.js';
import { configWith } from './fixtures.js';
import { EMULATOR_CREDENTIALS } from '../../local/emulator-clients.js';
import { startHealthServer, type HealthServer } from '../../local/health-server.js';
import { startLocalCluster, type LocalCluster, type RecordedRequest } from '../../local/kube-cluster.js';
import { startAll, stopAll } from '../../local/processes.js';
import { rbacGroups } from '../../local/rbac.js';
import { startPostgres, type LocalPostgres } from '../../local/postgres.js';
import { startRedis, type LocalRedis } from '../../local/redis.js';
import { until } from '../../local/kube-cluster.js';

/** The namespace the example config names; each test runs in a namespace of its own (testNamespace). */
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
 * A release whose pods run but never become Ready (its readiness probe never passes): the clusters
 * start with it in neverReadyImages. Its rollout stalls; with a short progressDeadlineSeconds the
 * deployment controller reports ProgressDeadlineExceeded.
 */
export const NEVER_READY_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/frontier-api:2026.12.0-rc1';

/**
 * The handlers sign EKS tokens with the SDK's default credentials (the environment variables): make
 * them the environment's key, the one the clusters' token webhook accepts (as an EKS access entry
 * maps the functions' role). Call before any handler runs: the SDK resolves (and keeps) its
 * credentials at the first signing.
 */
export function useEnvironmentCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey;
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
  primary: LocalCluster;
  backup: LocalCluster;
  stop(): Promise<void>;
}

/** A control plane takes seconds to start (more on a loaded machine): the beforeAll that starts them. */
export const CLUSTER_START_TIMEOUT_MS = 300_000;

/**
 * The primary and backup clusters of one test file, started once (beforeAll) and shared by its tests,
 * each test in a namespace of its own (testNamespace). `primaryNodes`/`backupNodes` Ready kwok nodes;
 * every cluster knows NEVER_READY_IMAGE as a release whose pods never become Ready.
 */
export async function startClusters(options: { primaryNodes: number; backupNodes: number }): Promise<Clusters> {
  const start = (name: string, clusterName: string, nodes: number) =>
    startLocalCluster({ name, clusterName, keys: [EMULATOR_CREDENTIALS], neverReadyImages: [NEVER_READY_IMAGE], nodes });
  const [primary, backup] = await startAll([
    start('primary', 'frontier-prod-cluster', options.primaryNodes),
    start('backup', 'frontier-backup-cluster', options.backupNodes),
  ] as const);
  return {
    primary,
    backup,
    stop: () => stopAll([primary, backup]),
  };
}

/** One cluster alone (database-recovery only drives the primary). */
export function startPrimaryClusterOnly(nodes: number): Promise<LocalCluster> {
  return startLocalCluster({ name: 'primary', clusterName: 'frontier-prod-cluster', keys: [EMULATOR_CREDENTIALS], neverReadyImages: [NEVER_READY_IMAGE], nodes });
}

// ---- one test's share of the clusters ----

let namespaceCount = 0;
let currentNamespace = NAMESPACE;
const requestMarks = new WeakMap<LocalCluster, { requests: number; tokens: number }>();

/**
 * Starts a test on shared clusters: a new namespace name (`<prefix>-<n>`, which the helpers below and
 * in state-machine-runs.ts default to), requests and accepted tokens counted from now on, and the
 * handlers' cached connections forgotten (each test's execution starts in a cold container, as the
 * fakes per test did: its first step calls eks:DescribeCluster and mints a token).
 * Install the namespace with `cluster.addNamespace` (it brings deploy/rbac/'s Role and RoleBinding).
 */
export function startTest(prefix: string, ...clusters: LocalCluster[]): string {
  currentNamespace = `${prefix}-${++namespaceCount}`;
  forgetConnections();
  for (const cluster of clusters) requestMarks.set(cluster, { requests: cluster.requests.length, tokens: cluster.acceptedTokens().length });
  return currentNamespace;
}

/** The namespace of the running test (NAMESPACE outside a test started with startTest). */
export function testNamespace(): string {
  return currentNamespace;
}

/** The requests that came through a cluster's proxy since the test started: [] proves it was never asked. */
export function requestsOf(cluster: LocalCluster): RecordedRequest[] {
  return cluster.requests.slice(requestMarks.get(cluster)?.requests ?? 0);
}

/** The EKS tokens the cluster's webhook accepted for the first time since the test started. */
export function tokensAcceptedOf(cluster: LocalCluster): string[] {
  return cluster.acceptedTokens().slice(requestMarks.get(cluster)?.tokens ?? 0);
}

/** 401 answers the cluster gave the product since the test started. */
export function unauthorizedOf(cluster: LocalCluster): number {
  return requestsOf(cluster).filter((r) => r.status === 401).length;
}

// ---- the environment's own hand on a cluster (admin, not through the proxy, not recorded) ----

const adminApps = new WeakMap<LocalCluster, AppsV1Api>();

function appsOf(cluster: LocalCluster): AppsV1Api {
  let apps = adminApps.get(cluster);
  if (!apps) {
    apps = cluster.plane.adminKubeConfig().makeApiClient(AppsV1Api);
    adminApps.set(cluster, apps);
  }
  return apps;
}

/** A merge patch of a deployment by the environment (what `kubectl patch --type merge` does). */
export async function patchDeployment(cluster: LocalCluster, namespace: string, name: string, patch: object): Promise<V1Deployment> {
  return appsOf(cluster).patchNamespacedDeployment({ namespace, name, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

/**
 * Scales every deployment of a test's namespace to 0 (not waiting): the pods go, so the clusters'
 * controllers and kwok do not carry every earlier test's pods along. The namespace itself stays, with
 * its RBAC (restoreRbac reinstalls deploy/rbac/ into every namespace addNamespace set up).
 */
export async function scaleNamespaceToZero(cluster: LocalCluster, namespace: string): Promise<void> {
  const apps = appsOf(cluster);
  const deployments = await apps.listNamespacedDeployment({ namespace });
  await Promise.all(
    deployments.items.map((d) =>
      apps.patchNamespacedDeploymentScale({ namespace, name: d.metadata!.name!, body: { spec: { replicas: 0 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    ),
  );
}

/**
 * Undoes a test's `forbid` of `rule` (cluster-wide): deploy/rbac/ installed again as it is on disk, then
 * waits until the authorizer allows the rule to deploy/rbac/'s groups again (its informers see role
 * changes a moment later), so the next test does not meet the old denial.
 */
export async function restoreRbac(cluster: LocalCluster, rule: { verb: string; resource: string; group?: string }): Promise<void> {
  await cluster.restoreRbac();
  const authorization = cluster.plane.adminKubeConfig().makeApiClient(AuthorizationV1Api);
  await until(`RBAC to allow ${rule.verb} ${rule.resource} again`, async () => {
    const review = await authorization.createSubjectAccessReview({
      body: { spec: { user: 'frontier-dr-restore-check', groups: rbacGroups(), resourceAttributes: { verb: rule.verb, resource: rule.resource, group: rule.group ?? '' } } },
    });
    return review.status?.allowed ? true : undefined;
  });
}

export { until };

/** The deployment's Progressing condition once the controller has seen its latest spec. */
export async function progressingCondition(cluster: LocalCluster, namespace: string, name: string) {
  const deployment = await cluster.deployment(namespace, name);
  if (!deployment) throw new Error(`no deployment ${namespace}/${name} on ${cluster.name}`);
  if ((deployment.status?.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0)) return undefined;
  return deployment.status?.conditions?.find((c) => c.type === 'Progressing');
}

/** Waits until the deployment controller reports the deployment past its progress deadline. */
export function untilProgressDeadlineExceeded(cluster: LocalCluster, namespace: string, name: string, timeoutMs = 60_000) {
  return until(
    `${namespace}/${name} to pass its progress deadline`,
    async () => {
      const condition = await progressingCondition(cluster, namespace, name);
      return condition?.reason === 'ProgressDeadlineExceeded' ? condition : undefined;
    },
    timeoutMs,
  );
}

/**
 * EKS DescribeCluster's answer for a cluster served at `endpoint`: a local cluster's proxy (https, its
 * CA in `caData`, as EKS returns it), or a plain-http front before it (no CA).
 */
export function describedCluster(name: string, region: string, endpoint: string, caData = ''): DescribeClusterCommandOutput {
  return {
    $metadata: {},
    cluster: {
      name,
      arn: `arn:aws:eks:${region}:123456789012:cluster/${name}`,
      endpoint,
      status: 'ACTIVE',
      version: '1.34',
      certificateAuthority: { data: caData },
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Config

/** The example deployment pointed at this file's clusters and gate servers, and at this test's namespace. */
export function clusterConfig(servers: GateServers, clusters: Clusters, change?: (raw: DeploymentConfig) => void): DeploymentConfig {
  return configWith((c) => {
    c.databases[0]!.tls = 'disable'; // the loopback PostgreSQL has no TLS
    const kubernetes = c.kubernetes!;
    kubernetes.namespace = testNamespace();
    kubernetes.clusters.primary = { ...kubernetes.clusters.primary, name: clusters.primary.clusterName, healthUrl: servers.primaryHealth.url };
    kubernetes.clusters.backup = { ...kubernetes.clusters.backup, name: clusters.backup.clusterName, healthUrl: servers.backupHealth.url };
    c.health.redis = { host: '127.0.0.1', port: servers.redis.port, tls: false, authSecret: REDIS_SECRET };
    change?.(c);
  });
}

// ---------------------------------------------------------------------------------------------------
// Production manifests (the plan's k8s/ folder), as kept in the recovery region's bucket

export interface ManifestOptions {
  /** The namespace the Namespace document creates (default: the test's). */
  namespace?: string;
  /** The API's image (default PRODUCTION_IMAGE). */
  image?: string;
  /** spec.progressDeadlineSeconds of the API deployment (default: none, the API's 600). */
  progressDeadlineSeconds?: number;
}

/** The production manifests, file by file: the namespace, the API's config, its Service and Deployment. */
export function manifestFiles(options: ManifestOptions = {}): Record<string, string> {
  const namespace = options.namespace ?? testNamespace();
  const deadline = options.progressDeadlineSeconds === undefined ? '' : `  progressDeadlineSeconds: ${options.progressDeadlineSeconds}\n`;
  return {
    [`${MANIFEST_PREFIX}00-namespace.yaml`]: `apiVersion: v1
kind: Namespace
metadata:
  name: ${namespace}
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
${deadline}  selector:
    matchLabels:
      app: frontier-api
  template:
    metadata:
      labels:
        app: frontier-api
    spec:
      containers:
        - name: frontier-api
          image: ${options.image ?? PRODUCTION_IMAGE}
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
}

/** A GetObject body: the code under test only reads it with transformToString. */
export function objectBody(text: string): GetObjectCommandOutput['Body'] {
  return { transformToString: async () => text } as unknown as GetObjectCommandOutput['Body'];
}

// ---------------------------------------------------------------------------------------------------
// A front that loses one answer

export interface LosingFront {
  url: string;
  /** Requests whose answer was replaced by a 503 after the API server had handled them. */
  lost(): number;
  stop(): Promise<void>;
}

/**
 * A plain-http loopback front for a local cluster (its proxy, trusted through its CA) that passes every
 * request on, but for the first request matching `method` and `path` it lets the API server act and
 * then answers 503 instead of its answer: the API server committed the change and the caller never
 * learnt it (an ambiguous write, e.g. an etcd timeout), a fault the real server cannot be made to
 * produce. Unlike the proxy's failNext (refused before reaching the server), this is the case where a
 * retried step finds its own earlier change already made.
 */
export async function startLosingFront(target: LocalCluster, match: { method: string; path: RegExp }): Promise<LosingFront> {
  let lost = 0;
  const upstreamUrl = new URL(target.url);
  const agent = new https.Agent({ keepAlive: true, ca: Buffer.from(target.caData, 'base64').toString('utf8') });
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers = { ...request.headers, host: upstreamUrl.host };
      delete headers.connection;
      const upstream = https.request(
        { hostname: upstreamUrl.hostname, port: upstreamUrl.port, method: request.method, path: request.url, headers, agent },
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
            const answerHeaders = { ...answer.headers };
            delete answerHeaders['transfer-encoding'];
            delete answerHeaders.connection;
            response.writeHead(answer.statusCode ?? 502, answerHeaders);
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
        agent.destroy();
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
