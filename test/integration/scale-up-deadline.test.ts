// The progress deadline of a scale-up, on a real control plane (kube-apiserver, controller-manager,
// scheduler, kwok). A deployment whose new template was applied at 0 replicas (the failover's pilot
// light) finished that rollout at once (Progressing: NewReplicaSetAvailable); the deployment controller
// then never times the scale-up that follows, however long its pods stay unready, and never reports
// ProgressDeadlineExceeded. The product's rollout wait (scaleApi, then checkRolloutProgress look after
// look, carrying the progress record as the state machine does) applies spec.progressDeadlineSeconds
// itself: it fails at the deadline, not at kubernetes.rolloutTimeoutMinutes; a scale-up that keeps
// making progress succeeds however long it takes in all; a rollout the controller does time is still
// judged by the controller's own condition.
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { EMULATOR_CREDENTIALS } from '../../local/emulator-clients.js';
import { startLocalCluster, type LocalCluster } from '../../local/kube-cluster.js';
import { checkRolloutProgress, connectTo, forgetConnections, scaleApi } from '../../shared/cluster-ops.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { RolloutFailed } from '../../shared/errors.js';
import { startProgress, type RolloutProgress } from '../../shared/kubernetes/progress.js';
import { patchDeployment, progressingCondition, until } from '../support/cluster-fixtures.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';
import { configWith } from '../support/fixtures.js';

const CLUSTER = 'frontier-scale-up';
const API = 'frontier-api';
const GOOD_RELEASE = 'frontier/api:1.8.2';
/** A release whose pods run but never become Ready (a failing readiness probe, as kwok plays it). */
const BAD_RELEASE = 'frontier/api:1.9.0';
const ROLLOUT_TIMEOUT_MINUTES = 5;
/** How often the test looks (the state machine's 5 s poll, shortened: the local controllers act in a second or less). */
const LOOK_EVERY_MS = 250;
const TEST_TIMEOUT_MS = 120_000;

let cluster: LocalCluster;
let restoreErrorRealm: () => void = () => undefined;
let namespaces = 0;

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  cluster = await startLocalCluster({ name: 'backup', clusterName: CLUSTER, keys: [EMULATOR_CREDENTIALS], neverReadyImages: [BAD_RELEASE], nodes: 3 });
  // The product's connection to the backup cluster: its EKS token, the proxy's CA (as DescribeCluster would give).
  await connectTo(configFor('production'), 'backup', { resolveEndpoint: () => ({ endpoint: cluster.url, caData: cluster.caData }), credentials: EMULATOR_CREDENTIALS });
}, 600_000);

afterAll(async () => {
  forgetConnections();
  await cluster?.stop();
  restoreErrorRealm();
}, 60_000);

/** The deployment config with the API in `namespace` on this cluster (as the backup). */
function configFor(namespace: string): DeploymentConfig {
  return configWith((c) => {
    c.kubernetes!.clusters.backup.name = CLUSTER;
    c.kubernetes!.namespace = namespace;
    c.kubernetes!.rolloutTimeoutMinutes = ROLLOUT_TIMEOUT_MINUTES;
  });
}

/** A fresh namespace with deploy/rbac/ installed, for one test. */
async function namespace(): Promise<string> {
  const name = `scale-up-${++namespaces}`;
  await cluster.addNamespace(name);
  return name;
}

/** Waits until the controller has finished the deployment's current rollout (NewReplicaSetAvailable). */
function untilRolloutFinished(ns: string) {
  return until(`${ns}/${API} to finish its rollout`, async () => {
    const condition = await progressingCondition(cluster, ns, API);
    return condition?.reason === 'NewReplicaSetAvailable' ? condition : undefined;
  });
}

interface Wait {
  /** The look's answer: done, or the error it failed with. */
  outcome: 'done' | Error;
  /** Seconds from `startedAt` to the look that ended the wait. */
  seconds: number;
  looks: number;
  progress: RolloutProgress;
}

/**
 * The state machine's rollout wait: StartRolloutClock at `startedAt`, then CheckRollout every
 * LOOK_EVERY_MS, each look handed the record the one before returned, until one is done or fails.
 */
async function waitForRollout(config: DeploymentConfig, startedAt: Date, change: string, limitMs = 60_000): Promise<Wait> {
  let progress = startProgress(startedAt.toISOString(), change);
  const { namespace: ns } = config.kubernetes!;
  for (let looks = 1; ; looks++) {
    const now = new Date();
    const seconds = (now.getTime() - startedAt.getTime()) / 1000;
    try {
      const look = await checkRolloutProgress(config, 'backup', ns, API, startedAt.toISOString(), now, undefined, progress);
      progress = look.data.progress;
      if (look.data.done) return { outcome: 'done', seconds, looks, progress };
    } catch (error) {
      return { outcome: error as Error, seconds, looks, progress };
    }
    if (seconds * 1000 > limitMs) throw new Error(`the rollout wait neither finished nor failed in ${limitMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, LOOK_EVERY_MS));
  }
}

/** Marks a node schedulable or not (kubectl cordon / uncordon). */
async function setSchedulable(node: string, schedulable: boolean): Promise<void> {
  const core = cluster.plane.adminKubeConfig().makeApiClient(CoreV1Api);
  await core.patchNode({ name: node, body: { spec: { unschedulable: schedulable ? null : true } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

describe('the rollout wait after a scale-up', () => {
  it('fails at the progress deadline when a release applied at 0 replicas never becomes Ready, which Kubernetes itself never reports', async () => {
    const ns = await namespace();
    const config = configFor(ns);
    // The pilot light, then the bad release applied at 0 replicas with a 3 s deadline: that rollout
    // of no pods finishes at once.
    await cluster.addDeployment(ns, API, { revisions: [GOOD_RELEASE, BAD_RELEASE], replicas: 0, progressDeadlineSeconds: 3 });
    await untilRolloutFinished(ns);

    const scaled = await scaleApi(config, 'backup', 3, false);
    const scaledAt = new Date();
    const wait = await waitForRollout(config, scaledAt, 'the scale-up (ScaleApiOnBackup)');

    expect(scaled.data).toMatchObject({ previousReplicas: 0, replicas: 3, changed: true });
    expect(wait.outcome).toBeInstanceOf(RolloutFailed);
    const failure = wait.outcome as RolloutFailed;
    expect(failure.name).toBe('RolloutFailed');
    expect(failure.message).toMatch(
      new RegExp(
        `^deployment ${ns}/${API} exceeded its progress deadline: 0 of 3 replicas ready \\(0 available\\), no new ready replica since the scale-up \\(ScaleApiOnBackup\\) at ${scaledAt.toISOString().replace(/\./g, '\\.')}, [\\d.]+ s without progress against spec\\.progressDeadlineSeconds 3\\. ` +
          'Kubernetes does not flag this itself: its Progressing condition still reads NewReplicaSetAvailable',
      ),
    );
    // By the deadline (3 s, and within a couple of looks of it), not by rolloutTimeoutMinutes.
    expect(wait.seconds).toBeGreaterThan(3);
    expect(wait.seconds).toBeLessThan(3 + 5);
    expect(wait.looks).toBeGreaterThan(2);
    // The real controller still calls it a success: every pod created, none Ready, no deadline.
    const deployment = (await cluster.deployment(ns, API))!;
    expect(deployment.spec?.replicas).toBe(3);
    expect(deployment.status).toMatchObject({ replicas: 3, updatedReplicas: 3 });
    expect(deployment.status?.availableReplicas ?? 0).toBe(0);
    expect(deployment.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  }, TEST_TIMEOUT_MS);

  it('succeeds for a slow scale-up that keeps making progress, each new ready replica restarting the clock', async () => {
    const ns = await namespace();
    const config = configFor(ns);
    // One replica per node (required anti-affinity), so each node let back in brings exactly one.
    await cluster.addDeployment(ns, API, { image: GOOD_RELEASE, replicas: 0, progressDeadlineSeconds: 5 });
    await patchDeployment(cluster, ns, API, {
      spec: { template: { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: API } }, topologyKey: 'kubernetes.io/hostname' }] } } } } },
    });
    await untilRolloutFinished(ns);
    const nodes = (await cluster.nodes()).map((node) => node.name);
    expect(nodes).toHaveLength(3);
    await cluster.blockScheduling(true);
    try {
      await scaleApi(config, 'backup', 3, false);
      const scaledAt = new Date();
      const waiting = waitForRollout(config, scaledAt, 'the scale-up (ScaleApiOnBackup)');
      // A node back every ~2 s after the last replica became ready: 3 replicas over more than the 5 s
      // deadline, never 5 s without a new one.
      const readyAt: number[] = [];
      for (const [index, node] of nodes.entries()) {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        await setSchedulable(node, true);
        await until(`replica ${index + 1} to become ready`, async () => ((await cluster.deployment(ns, API))?.status?.readyReplicas ?? 0) > index || undefined);
        readyAt.push((Date.now() - scaledAt.getTime()) / 1000);
      }
      const wait = await waiting;

      expect(wait.outcome).toBe('done');
      expect(wait.seconds).toBeGreaterThan(5);
      expect(readyAt.at(-1)).toBeGreaterThan(5);
      expect(wait.progress).toMatchObject({ readyReplicas: 3, availableReplicas: 3, lastProgressAt: expect.any(String) });
      // Kubernetes did not time it either way: the condition is the finished rollout's throughout.
      expect((await progressingCondition(cluster, ns, API))?.reason).toBe('NewReplicaSetAvailable');
    } finally {
      await cluster.blockScheduling(false);
    }
  }, TEST_TIMEOUT_MS);

  it('still goes by the controller\'s own condition for a rolling update it times', async () => {
    const ns = await namespace();
    const config = configFor(ns);
    // A warm standby at 3 replicas; the bad release applied as a rolling update with a 3 s deadline.
    await cluster.addDeployment(ns, API, { image: GOOD_RELEASE, replicas: 3, progressDeadlineSeconds: 3 });
    await patchDeployment(cluster, ns, API, { spec: { template: { spec: { containers: [{ name: API, image: BAD_RELEASE }] } } } });
    const appliedAt = new Date();

    const wait = await waitForRollout(config, appliedAt, 'the apply');

    expect(wait.outcome).toBeInstanceOf(RolloutFailed);
    expect((wait.outcome as Error).message).toMatch(new RegExp(`^deployment ${ns}/${API} exceeded its progress deadline: ReplicaSet "${API}-[a-z0-9]+" has timed out progressing\\.$`));
    expect((await progressingCondition(cluster, ns, API))?.reason).toBe('ProgressDeadlineExceeded');
  }, TEST_TIMEOUT_MS);
});
