// The Kubernetes scenarios' servers: two real Kubernetes control planes (the primary and backup EKS
// clusters, local/kube-cluster.ts: etcd, kube-apiserver with RBAC and EKS token authentication,
// kube-controller-manager, kube-scheduler, kwok; deploy/rbac/ installed; each behind its fault proxy),
// a Redis-protocol server with a password, and the API's loopback /health server.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentConfig } from '../shared/config.js';
import { EMULATOR_CREDENTIALS } from './emulator-clients.js';
import type { EmulatedEnvironment } from './environment.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { startLocalCluster, type LocalCluster } from './kube-cluster.js';
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
  /** Where the startup lines go (default: stderr). */
  log?: (line: string) => void;
}

export interface ClusterEnvironment {
  primary: LocalCluster;
  backup: LocalCluster;
  /** redis-server with a password (kept in the Redis auth secret by seedExampleDeployment). */
  redis: LocalRedis;
  /** The API's /health, standing in for both clusters' health URLs. */
  api: HealthServer;
  /** The API deployment's image history seeded on each cluster, oldest first (the last is current). */
  revisions: { primary: string[]; backup: string[] };
  /** The release whose pods never become Ready (the primary's current revision). */
  badRelease: string;
  /**
   * What every container's log holds (kwok serves this file, in the CRI format, as each container's log
   * through the API server, as a kubelet does): the API's access log of an attack, with its times.
   * Application lines only: no key, password or token (the security incident's evidence stores them).
   */
  containerLog: { at: Date; text: string }[];
  /** Milliseconds from the start to both clusters seeded and the primary's condition set. */
  startupMs: number;
  /** Breaks (or mends) the primary cluster. */
  setPrimary(condition: PrimaryClusterCondition): Promise<void>;
  primaryCondition(): PrimaryClusterCondition;
  stop(): Promise<void>;
}

/**
 * The API's log as every container's (ClusterEnvironment.containerLog), times relative to `now`: a line
 * from before a security incident's 24-hour evidence window, then an attacker's requests with a leaked
 * key (the key's name only, as the API logs it) within it.
 */
export function apiContainerLog(now: Date): { at: Date; text: string }[] {
  const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
  return [
    { at: ago(26 * 60), text: 'GET /health 200 2ms' },
    { at: ago(6 * 60), text: 'GET /v1/accounts 200 from 10.0.4.21 key=web 14ms' },
    { at: ago(95), text: 'POST /v1/login 401 from 203.0.113.7 key=(none) 3ms' },
    { at: ago(40), text: 'GET /v1/accounts/export 200 from 203.0.113.7 key=partner 820ms' },
    { at: ago(12), text: 'GET /v1/accounts/export 200 from 198.51.100.23 key=partner 790ms' },
    { at: ago(1), text: 'GET /health 200 2ms' },
  ];
}

/** One line of a container log in the CRI format kwok reads (`<RFC 3339 time> stdout F <line>`). */
const criLine = (line: { at: Date; text: string }) => `${line.at.toISOString().replace('Z', '000000Z')} stdout F ${line.text}`;

/** A release whose pods run but never become Ready (its readiness probe never passes). */
export const BAD_RELEASE = 'frontier/api:1.9.0';
/** The primary runs the bad release on top of two good ones: what an emergency rollback undoes. */
const PRIMARY_REVISIONS = ['frontier/api:1.8.1', PRODUCTION_IMAGE, BAD_RELEASE];
/** The backup keeps the API deployed at production's releases, scaled to zero until a failover. */
const BACKUP_REVISIONS = ['frontier/api:1.8.0', 'frontier/api:1.8.1', PRODUCTION_IMAGE];
/** What each release's deploy recorded (`kubectl annotate ... kubernetes.io/change-cause=`). */
const changeCauses = (images: readonly string[]) => images.map((image) => `deploy ${image}`);

/**
 * Starts the servers the Kubernetes scenarios need and registers the two clusters with the AWS front
 * under the config's cluster names and regions, so the handlers' EKS DescribeCluster + in-process token
 * reach them exactly as they reach EKS (endpoint: the cluster's fault proxy, certificateAuthority its CA;
 * the token webhook accepts tokens signed with the environment's keys and maps them to the groups
 * deploy/rbac/ binds). Both clusters run deploy/rbac/ in the config's namespace, for the Secrets its
 * databases name (as its header tells the operator to change it). Each is made by real
 * work, not written into place:
 * - primary: 3 nodes, the API deployment at the production replica count with three revisions rolled
 *   out one after the other, the newest a bad release (BAD_RELEASE) whose pods never become Ready: its
 *   rollout stalls with the previous release still serving. Under 'nodes-not-ready' kwok stops running
 *   2 of the 3 nodes (NotReady); under 'refusing-connections' its proxy stops listening;
 * - backup: 3 Ready nodes, the API deployment with three revisions, scaled to 0;
 * - redis-server with a random password, and the loopback /health server answering ok.
 * Prints how long it took. `environment.stop()` stops them too. Follow with emulatorConfig(config,
 * environment) and seedExampleDeployment(..., environment.clusters).
 */
export async function startClusterEnvironment(
  environment: EmulatedEnvironment,
  config: DeploymentConfig,
  options: ClusterEnvironmentOptions = {},
): Promise<ClusterEnvironment> {
  if (!config.kubernetes) throw new Error('startClusterEnvironment: the deployment config has no kubernetes section');
  if (environment.clusters) throw new Error('startClusterEnvironment: already started for this environment');
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { namespace, apiDeployment, clusters: configured, productionReplicas } = config.kubernetes;
  const started = Date.now();
  // deploy/rbac/ installed as the operator would for this deployment: its Secret names changed to the config's.
  const secretNames = config.databases.flatMap((database) => (database.recovery?.kubernetesSecret ? [database.recovery.kubernetesSecret.name] : []));
  // Every container's log, served by kwok through the API server (the security incident collects it).
  const logsDir = mkdtempSync(join(tmpdir(), 'frontier-dr-container-logs-'));
  const containerLogsFile = join(logsDir, 'container.log');
  const containerLog = apiContainerLog(new Date(started));
  writeFileSync(containerLogsFile, `${containerLog.map(criLine).join('\n')}\n`);
  const clusterOptions = (name: 'primary' | 'backup') => ({ name, clusterName: configured[name].name, keys: [EMULATOR_CREDENTIALS], neverReadyImages: [BAD_RELEASE], nodes: 3, log, secretNames, containerLogsFile });
  let clusterEnvironment: ClusterEnvironment;
  const [primary, backup, redis, api] = await startAll([
    startLocalCluster(clusterOptions('primary')),
    startLocalCluster(clusterOptions('backup')),
    startRedis({ password: `drill-${randomBytes(12).toString('base64url')}` }),
    startHealthServer('ok'),
  ] as const);
  const removeLogs = { stop: async () => rmSync(logsDir, { recursive: true, force: true }) };
  const servers = [primary, backup, redis, api, removeLogs];
  try {
    const planesReady = Date.now();
    await Promise.all([
      (async () => {
        await primary.addNamespace(namespace);
        await primary.addDeployment(namespace, apiDeployment, { revisions: PRIMARY_REVISIONS, changeCauses: changeCauses(PRIMARY_REVISIONS), replicas: productionReplicas });
      })(),
      (async () => {
        await backup.addNamespace(namespace);
        await backup.addDeployment(namespace, apiDeployment, { revisions: BACKUP_REVISIONS, changeCauses: changeCauses(BACKUP_REVISIONS), replicas: 0 });
      })(),
    ]);
    const primaryNodes = (await primary.nodes()).map((node) => node.name);

    for (const [role, cluster] of [['primary', primary], ['backup', backup]] as const) {
      environment.front.serveCluster({ name: configured[role].name, region: configured[role].region, endpoint: cluster.url, caData: cluster.caData });
    }

    let condition: PrimaryClusterCondition = 'healthy';
    const setPrimary = async (next: PrimaryClusterCondition) => {
      await Promise.all(primaryNodes.map((node, i) => primary.setNodeReady(node, next !== 'nodes-not-ready' || i === 0)));
      if (next === 'refusing-connections') await primary.refuseConnections();
      else await primary.acceptConnections();
      condition = next;
    };
    await setPrimary(options.primary ?? 'nodes-not-ready');
    const startupMs = Date.now() - started;
    log(
      `[clusters] primary and backup ready in ${(startupMs / 1000).toFixed(1)} s (control planes ${((planesReady - started) / 1000).toFixed(1)} s, ` +
        `deploy/rbac/ and the API deployment's revisions rolled out ${((Date.now() - planesReady) / 1000).toFixed(1)} s); primary ${condition}`,
    );

    let stopping: Promise<void> | undefined;
    clusterEnvironment = {
      primary,
      backup,
      redis,
      api,
      revisions: { primary: [...PRIMARY_REVISIONS], backup: [...BACKUP_REVISIONS] },
      badRelease: BAD_RELEASE,
      containerLog,
      startupMs,
      setPrimary,
      primaryCondition: () => condition,
      stop() {
        stopping ??= stopAll(servers);
        return stopping;
      },
    };
  } catch (error) {
    await stopAll(servers);
    throw error;
  }
  environment.clusters = clusterEnvironment;
  return clusterEnvironment;
}
