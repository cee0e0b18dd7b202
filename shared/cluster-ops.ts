// Cluster steps shared by the Kubernetes scenarios: which cluster, its connection, and the production
// manifests kept in the recovery region (so a failover never reads them from the failing region).
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { clusterFor, kubernetesConfig, type ClusterRole, type DeploymentConfig } from './config.js';
import { awsCall, AwsTransientError, KubernetesTransientError, KubernetesUnreachable, RecoveryError, ResourceNotFound } from './errors.js';
import { assessCluster, rolloutStatus, type ClusterAssessment, type RolloutStatus } from './kubernetes/workloads.js';
import { connectToCluster, type ConnectOptions, type KubernetesConnection } from './kubernetes/connection.js';
import { parseManifests, type KubernetesManifest } from './kubernetes/manifests.js';
import { minutesBetween } from './objectives.js';

export { clusterFor, kubernetesConfig, type ClusterRole } from './config.js';

// One connection per cluster per container: its token refreshes itself before it expires.
const connections = new Map<string, Promise<KubernetesConnection>>();

export function connectTo(config: DeploymentConfig, role: ClusterRole, options?: ConnectOptions): Promise<KubernetesConnection> {
  const cluster = clusterFor(config, role);
  const key = `${cluster.region}/${cluster.name}`;
  let connection = connections.get(key);
  if (!connection) {
    connection = connectToCluster(cluster, options);
    // A failed connect (e.g. the cluster is down) must not be cached for the next invocation.
    connection.catch(() => connections.delete(key));
    connections.set(key, connection);
  }
  return connection;
}

export interface ManifestSet {
  /** s3:// keys read, in the order applied. */
  sources: string[];
  documents: KubernetesManifest[];
}

/** Reads every *.yaml / *.yml under the configured prefix, in key order (name them 00-namespace.yaml ...). */
export async function loadProductionManifests(s3: S3Client, config: DeploymentConfig): Promise<ManifestSet> {
  const { bucket, prefix } = kubernetesConfig(config).manifests;
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall('s3:ListObjectsV2', `s3://${bucket}/${prefix}`, () =>
      s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
    );
    for (const object of page.Contents ?? []) if (object.Key && /\.ya?ml$/i.test(object.Key)) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (keys.length === 0) throw new ResourceNotFound(`no manifests (*.yaml) under s3://${bucket}/${prefix}: nothing to apply to the backup cluster`);
  keys.sort();
  const documents: KubernetesManifest[] = [];
  for (const key of keys) {
    const object = await awsCall('s3:GetObject', `s3://${bucket}/${key}`, () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
    const text = (await object.Body?.transformToString('utf-8')) ?? '';
    documents.push(...parseManifests(text, `s3://${bucket}/${key}`));
  }
  return { sources: keys.map((key) => `s3://${bucket}/${key}`), documents };
}

/**
 * Looks at a cluster for the failover decision. Not being able to reach it at all (its region's EKS
 * API or its own API server down) is the answer "unhealthy", not a failed step: that is exactly the
 * outage being recovered from. Being denied is still thrown, since that is our deployment's fault.
 */
export async function assessClusterHealth(config: DeploymentConfig, role: ClusterRole, timeoutMs: number): Promise<ClusterAssessment> {
  let connection: KubernetesConnection;
  try {
    connection = await connectTo(config, role);
  } catch (error) {
    if (error instanceof AwsTransientError || error instanceof KubernetesUnreachable || error instanceof KubernetesTransientError) {
      return { reachable: false, nodes: 0, readyNodes: 0, healthy: false, reason: `cannot reach the cluster: ${error.message}` };
    }
    throw error;
  }
  return assessCluster(connection, timeoutMs);
}

export class RolloutTimedOut extends RecoveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RolloutTimedOut';
  }
}

/** One look at a rollout the state machine is waiting for; past the configured limit it gives up. */
export async function checkRolloutProgress(
  config: DeploymentConfig,
  role: ClusterRole,
  namespace: string,
  deployment: string,
  since: string,
  now: Date,
): Promise<RolloutStatus & { waitedMinutes: number }> {
  const status = await rolloutStatus(await connectTo(config, role), namespace, deployment);
  const waited = minutesBetween(since, now);
  const limit = kubernetesConfig(config).rolloutTimeoutMinutes;
  if (!status.done && waited > limit) {
    throw new RolloutTimedOut(`rollout of ${namespace}/${deployment} not finished after ${waited.toFixed(1)} min (limit ${limit} min); it stopped at: ${status.message}`);
  }
  return { ...status, waitedMinutes: Math.round(waited * 10) / 10 };
}
