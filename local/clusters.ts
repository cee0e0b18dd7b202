// The Kubernetes scenarios' servers: two Kubernetes API fakes (the primary and backup EKS clusters), a
// Redis-protocol server with a password, and the API's loopback /health server.
import { randomBytes } from 'node:crypto';
import type { DeploymentConfig } from '../shared/config.js';
import { EMULATOR_CREDENTIALS } from './emulator-clients.js';
import type { EmulatedEnvironment } from './environment.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { FAKE_AWS_CREDENTIALS, startKubeFake, type KubeFake } from './kube-fake.js';
import { PRODUCTION_IMAGE } from './manifests.js';
import { startAll, stopAll } from './processes.js';
import { startRedis, type LocalRedis } from './redis.js';

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
  const fakeOptions = (clusterName: string) => ({ clusterName, credentials: [EMULATOR_CREDENTIALS, FAKE_AWS_CREDENTIALS], tickMs: options.tickMs ?? 50 });
  let clusterEnvironment: ClusterEnvironment;
  const [primary, backup, redis, api] = await startAll([
    startKubeFake(fakeOptions(configured.primary.name)),
    startKubeFake(fakeOptions(configured.backup.name)),
    startRedis({ password: `drill-${randomBytes(12).toString('base64url')}` }),
    startHealthServer('ok'),
  ] as const);
  const started = [primary, backup, redis, api];
  try {
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
        stopping ??= stopAll(started);
        return stopping;
      },
    };
  } catch (error) {
    await stopAll(started);
    throw error;
  }
  environment.clusters = clusterEnvironment;
  return clusterEnvironment;
}
