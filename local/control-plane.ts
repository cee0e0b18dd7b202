// A real Kubernetes control plane on loopback, standing in for one EKS cluster: etcd, kube-apiserver
// (HTTPS with its own self-signed CA, RBAC enforced, EKS tokens reviewed by a webhook served here),
// kube-controller-manager (the controllers a Deployment needs, and node-lifecycle: without it the
// not-ready taint never leaves a new node and every pod stays Pending), kube-scheduler, and kwok, which
// plays the kubelets: it drives the nodes annotated `kwok.x-k8s.io/node: fake` and their pods through
// the stages copied from the kwok module source. The binaries are built once and cached outside the
// repository by scripts/setup-control-plane.sh (see the README, "Local control plane").
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { startEksTokenWebhook, type AwsKey, type EksIdentity, type EksTokenWebhook } from './eks-token-review.js';
import { cleanUpWhenThisProcessDies, findFreePort, launchServer, logTail, startOnFreePort, type Stoppable } from './processes.js';
import { projectRoot } from './python-environment.js';

export const CONTROL_PLANE_SETUP_COMMAND = 'bash scripts/setup-control-plane.sh';

/** The annotation kwok's node selector looks for (kwok's own convention). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

export interface ControlPlaneOptions {
  /** For messages and the temporary directory: `primary`, `backup`. */
  name: string;
  /**
   * EKS authentication: tokens signed for `clusterName` with one of `keys` map to `groups` (default:
   * every group deploy/rbac/ binds); a key given in `identities` maps to that identity's groups only.
   * The API server keeps a review for `cacheTtlSeconds` (default 5; 0: asks the webhook at every
   * request, so a token refused from now on is refused at once).
   */
  eks?: { clusterName: string; keys: readonly AwsKey[]; groups?: readonly string[]; identities?: readonly EksIdentity[]; cacheTtlSeconds?: number };
  /**
   * The API server's audit log (--audit-policy-file, --audit-log-path), read back with auditEvents().
   * `true`: metadata of every request except the environment's own (the admin token) and the API
   * server's loopback; or give a policy (YAML of an audit.k8s.io/v1 Policy).
   */
  audit?: boolean | { policy: string };
  /**
   * Images whose pods start but never become Ready (a release whose readiness probe never passes):
   * kwok's pod-ready stage skips them and a stage of ours runs them unready.
   */
  neverReadyImages?: readonly string[];
  /** Extra kwok Stage documents (YAML). */
  extraStages?: string[];
  /**
   * A container log file in the CRI format (`<RFC 3339 time> stdout F <line>` per line) that kwok serves
   * as the log of every container: the nodes advertise kwok's server as their kubelet, so
   * `GET pods/<name>/log` goes through the API server to kwok, which honours sinceSeconds, limitBytes
   * and timestamps as a kubelet does.
   */
  containerLogsFile?: string;
  /** Where startup lines go (default: stderr). */
  log?: (line: string) => void;
}

export interface LocalControlPlane {
  name: string;
  /** https://127.0.0.1:<port> */
  url: string;
  /** The API server's CA, base64 PEM as EKS DescribeCluster returns it. */
  caData: string;
  /** A system:masters token for the environment itself (seeding, inspecting), never for the code under test. */
  adminToken: string;
  adminKubeConfig(): KubeConfig;
  webhook?: EksTokenWebhook;
  /** Milliseconds from the first process spawned to kwok answering. */
  startupMs: number;
  /** The audit events written so far, oldest first (empty unless started with `audit`). */
  auditEvents(): Promise<AuditEvent[]>;
  stop(): Promise<void>;
}

/** One line of the API server's audit log (audit.k8s.io/v1 Event), the fields read here. */
export interface AuditEvent {
  auditID: string;
  stage: string;
  /** get, list, watch, create, update, patch, delete; for a non-resource URL the HTTP method, lower case. */
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string };
  responseStatus?: { code?: number; message?: string; reason?: string };
  /** `authorization.k8s.io/decision` (allow, forbid) and `authorization.k8s.io/reason` (the binding that allowed it). */
  annotations?: Record<string, string>;
  requestReceivedTimestamp?: string;
}

/** The user the admin token authenticates as (the environment's own seeding and its components). */
export const LOCAL_ADMIN_USER = 'frontier-dr-local-admin';

const DEFAULT_AUDIT_POLICY = stringifyYaml({
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [
    // The environment itself (seeding, controller-manager, scheduler, kwok) and the server's loopback.
    { level: 'None', users: [LOCAL_ADMIN_USER, 'system:apiserver'] },
    { level: 'Metadata' },
  ],
});

let binariesDir: Promise<string> | undefined;

/**
 * The directory holding bin/ and stages/ of the pinned control plane, building it first when it is not
 * cached (about 10 minutes the first time; the build prints its progress on stderr). Several callers
 * share one build; the script itself also takes a lock against other processes.
 */
export function controlPlaneBinaries(): Promise<string> {
  binariesDir ??= new Promise<string>((resolve, reject) => {
    const output = logTail();
    const setup = spawn('bash', [path.join(projectRoot, 'scripts/setup-control-plane.sh')], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    setup.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    setup.stderr.on('data', (chunk: Buffer) => {
      output.append(chunk.toString('utf8'));
      process.stderr.write(chunk);
    });
    setup.once('error', (error) => reject(new Error(`${CONTROL_PLANE_SETUP_COMMAND}: ${error.message}`)));
    setup.once('close', (code) => {
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && existsSync(path.join(dir, 'bin/kube-apiserver'))) resolve(dir);
      else reject(new Error(`Could not build the local Kubernetes control plane (${CONTROL_PLANE_SETUP_COMMAND}: exit ${code}):\n${output.text().trim()}`));
    });
  });
  binariesDir.catch(() => (binariesDir = undefined));
  return binariesDir;
}

const STARTUP_TIMEOUT_MS = 120_000;

/**
 * Starts one control plane; resolves once the API server is ready and every component answers its
 * health check. A start that fails part-way stops what it started, removes its files and throws.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<LocalControlPlane> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = await controlPlaneBinaries();
  const bin = (name: string) => path.join(dir, 'bin', name);
  const work = mkdtempSync(path.join(os.tmpdir(), `frontier-dr-kube-${options.name}-`));
  // Should this process die before stop(), the directory (etcd data, keys) goes with it.
  const workReaper = cleanUpWhenThisProcessDies({ signal: 'SIGTERM', removePath: work });
  const started: Stoppable[] = [];
  const t0 = Date.now();
  try {
    let webhook: EksTokenWebhook | undefined;
    if (options.eks) {
      webhook = await startEksTokenWebhook({
        clusterName: options.eks.clusterName,
        keys: options.eks.keys,
        ...(options.eks.groups ? { groups: options.eks.groups } : {}),
        ...(options.eks.identities ? { identities: options.eks.identities } : {}),
      });
      started.push(webhook);
    }

    const etcdPort = await startOnFreePort(`etcd (${options.name})`, async (port) => {
      const peer = await findFreePort();
      const server = await launchServer({
        what: `etcd (${options.name})`,
        command: bin('etcd'),
        args: [
          '--name=local', `--data-dir=${path.join(work, 'etcd')}`,
          `--listen-client-urls=http://127.0.0.1:${port}`, `--advertise-client-urls=http://127.0.0.1:${port}`,
          `--listen-peer-urls=http://127.0.0.1:${peer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-cluster=local=http://127.0.0.1:${peer}`,
          // Throwaway data: no fsync (a 2-core machine under load otherwise waits on the disk).
          '--unsafe-no-fsync', '--log-level=warn',
        ],
        port,
        cwd: work,
        answers: async () => (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.json() as Promise<{ health?: string }>).catch(() => ({}) as { health?: string })).health === 'true',
        portTaken: /address already in use/i,
        startupTimeoutMs: STARTUP_TIMEOUT_MS,
        pollMs: 100,
        missing: `etcd is missing: ${CONTROL_PLANE_SETUP_COMMAND}`,
      });
      started.push(server);
      return port;
    });

    const adminToken = randomBytes(24).toString('hex');
    writeFileSync(path.join(work, 'tokens.csv'), `${adminToken},${LOCAL_ADMIN_USER},${LOCAL_ADMIN_USER},"system:masters"\n`, { mode: 0o600 });
    const serviceAccountKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path.join(work, 'sa.key'), serviceAccountKey.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(path.join(work, 'sa.pub'), serviceAccountKey.publicKey.export({ type: 'spki', format: 'pem' }));
    if (webhook) writeFileSync(path.join(work, 'webhook.kubeconfig'), kubeconfigYaml(webhook.url, {}));
    const pki = path.join(work, 'pki');
    const auditLog = options.audit ? path.join(work, 'audit.log') : undefined;
    if (options.audit) writeFileSync(path.join(work, 'audit-policy.yaml'), options.audit === true ? DEFAULT_AUDIT_POLICY : options.audit.policy);

    let ca = '';
    const apiPort = await startOnFreePort(`kube-apiserver (${options.name})`, async (port) => {
      const server = await launchServer({
        what: `kube-apiserver (${options.name})`,
        command: bin('kube-apiserver'),
        args: [
          `--etcd-servers=http://127.0.0.1:${etcdPort}`,
          '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${port}`,
          // No certificate given: the server makes a CA and a serving certificate for 127.0.0.1 here.
          `--cert-dir=${pki}`,
          `--token-auth-file=${path.join(work, 'tokens.csv')}`,
          ...(webhook ? [`--authentication-token-webhook-config-file=${path.join(work, 'webhook.kubeconfig')}`, '--authentication-token-webhook-version=v1', `--authentication-token-webhook-cache-ttl=${options.eks?.cacheTtlSeconds ?? 5}s`] : []),
          '--authorization-mode=RBAC',
          // Blocking: an event is in the file by the time its request has been answered.
          ...(auditLog ? [`--audit-policy-file=${path.join(work, 'audit-policy.yaml')}`, `--audit-log-path=${auditLog}`, '--audit-log-mode=blocking', '--audit-log-format=json'] : []),
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          `--service-account-key-file=${path.join(work, 'sa.pub')}`,
          `--service-account-signing-key-file=${path.join(work, 'sa.key')}`,
          '--service-cluster-ip-range=10.96.0.0/16',
          // One client per cluster: flow control's queues only cost CPU on a shared 2-core machine.
          '--enable-priority-and-fairness=false', '--profiling=false',
        ],
        port,
        cwd: work,
        answers: async () => {
          ca ||= caOf(path.join(pki, 'apiserver.crt'));
          return ca !== '' && (await httpsStatus(`https://127.0.0.1:${port}/readyz`, { ca, token: adminToken })) === 200;
        },
        portTaken: /address already in use/i,
        startupTimeoutMs: STARTUP_TIMEOUT_MS,
        pollMs: 200,
        missing: `kube-apiserver is missing: ${CONTROL_PLANE_SETUP_COMMAND}`,
      });
      started.push(server);
      return port;
    });
    const url = `https://127.0.0.1:${apiPort}`;
    writeFileSync(path.join(work, 'ca.crt'), ca);
    const adminKubeconfigPath = path.join(work, 'admin.kubeconfig');
    writeFileSync(adminKubeconfigPath, kubeconfigYaml(url, { caFile: path.join(work, 'ca.crt'), token: adminToken }), { mode: 0o600 });

    // Components with a health endpoint on their own (self-signed) port, started side by side.
    const component = (what: string, command: string, args: (port: number) => string[], healthPath = '/healthz') =>
      startOnFreePort(`${what} (${options.name})`, async (port) => {
        const server = await launchServer({
          what: `${what} (${options.name})`,
          command: bin(command),
          args: args(port),
          port,
          cwd: work,
          answers: async () => (await httpsStatus(`https://127.0.0.1:${port}${healthPath}`, { insecure: true })) === 200,
          portTaken: /address already in use/i,
          startupTimeoutMs: STARTUP_TIMEOUT_MS,
          pollMs: 200,
          missing: `${command} is missing: ${CONTROL_PLANE_SETUP_COMMAND}`,
        });
        started.push(server);
        return server;
      });

    const stagesFile = path.join(work, 'kwok-stages.yaml');
    const stages = ['node-initialize', 'node-heartbeat', 'pod-ready', 'pod-complete', 'pod-delete'].map((stage) => {
      const text = readFileSync(path.join(dir, 'stages', `${stage}.yaml`), 'utf8');
      if (stage === 'node-initialize') return keepNodeAddresses(text);
      return stage === 'pod-ready' && options.neverReadyImages?.length ? excludeImages(text, options.neverReadyImages) : text;
    });
    stages.push(podReadyAgainStage(options.neverReadyImages ?? []));
    if (options.neverReadyImages?.length) stages.push(podRunningUnreadyStage(options.neverReadyImages));
    const logs = options.containerLogsFile
      ? [stringifyYaml({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'ClusterLogs', metadata: { name: 'every-container' }, spec: { logs: [{ logsFile: options.containerLogsFile }] } })]
      : [];
    writeFileSync(stagesFile, [...(options.extraStages ?? []), ...stages, ...logs].join('\n---\n'));

    await Promise.all([
      component('kube-controller-manager', 'kube-controller-manager', (port) => [
        `--kubeconfig=${adminKubeconfigPath}`,
        '--bind-address=127.0.0.1', `--secure-port=${port}`,
        '--controllers=deployment-controller,replicaset-controller,namespace-controller,garbage-collector-controller,serviceaccount-controller,node-lifecycle-controller',
        '--leader-elect=false',
        // Notice a node's readiness within seconds (a drill's assessment reads it right after start).
        '--node-monitor-period=1s',
      ]),
      component('kube-scheduler', 'kube-scheduler', (port) => [`--kubeconfig=${adminKubeconfigPath}`, '--bind-address=127.0.0.1', `--secure-port=${port}`, '--leader-elect=false']),
    ]);
    await startOnFreePort(`kwok (${options.name})`, async (port) => {
      const server = await launchServer({
        what: `kwok (${options.name})`,
        command: bin('kwok'),
        args: [
          `--kubeconfig=${adminKubeconfigPath}`,
          `--config=${stagesFile}`,
          '--manage-all-nodes=false',
          `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
          `--server-address=127.0.0.1:${port}`,
          // The nodes' kubelet address (InternalIP and daemon endpoint): kwok's own server, which serves the logs.
          ...(options.containerLogsFile ? ['--node-ip=127.0.0.1', `--node-port=${port}`] : []),
        ],
        port,
        cwd: work,
        answers: async () => (await httpStatus(`http://127.0.0.1:${port}/healthz`)) === 200,
        portTaken: /address already in use/i,
        startupTimeoutMs: STARTUP_TIMEOUT_MS,
        pollMs: 200,
        missing: `kwok is missing: ${CONTROL_PLANE_SETUP_COMMAND}`,
      });
      started.push(server);
      return server;
    });

    const startupMs = Date.now() - t0;
    log(`[control-plane] ${options.name}: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok ready in ${(startupMs / 1000).toFixed(1)} s at ${url}`);
    let stopping: Promise<void> | undefined;
    return {
      name: options.name,
      url,
      caData: Buffer.from(ca, 'utf8').toString('base64'),
      adminToken,
      adminKubeConfig: () => {
        const config = new KubeConfig();
        config.loadFromOptions({
          clusters: [{ name: options.name, server: url, caData: Buffer.from(ca, 'utf8').toString('base64'), skipTLSVerify: false }],
          users: [{ name: 'admin', token: adminToken }],
          contexts: [{ name: options.name, cluster: options.name, user: 'admin' }],
          currentContext: options.name,
        });
        return config;
      },
      ...(webhook ? { webhook } : {}),
      startupMs,
      auditEvents: async () => {
        if (!auditLog || !existsSync(auditLog)) return [];
        const text = await readFile(auditLog, 'utf8');
        // A line being written as this reads is left for the next call.
        return text.split('\n').flatMap((line) => {
          try {
            return line ? [JSON.parse(line) as AuditEvent] : [];
          } catch {
            return [];
          }
        });
      },
      stop() {
        stopping ??= (async () => {
          await stopInReverse(started);
          rmSync(work, { recursive: true, force: true });
          workReaper.release();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await stopInReverse(started);
    rmSync(work, { recursive: true, force: true });
    workReaper.release();
    throw error;
  }
}

/**
 * Stops what was started, last first: the API server shuts down gracefully only while etcd still answers
 * (stopped together, both wait out their 5 s grace), and the components before it only while it does.
 */
async function stopInReverse(started: readonly Stoppable[]): Promise<void> {
  for (const server of [...started].reverse()) await server.stop().catch(() => undefined);
}

/** kwok's pod-ready stage, not matching pods whose first container runs one of `images`. */
function excludeImages(stageYaml: string, images: readonly string[]): string {
  const stage = parseYaml(stageYaml) as { spec: { selector: { matchExpressions: unknown[] } } };
  stage.spec.selector.matchExpressions.push({ key: IMAGE_KEY, operator: 'NotIn', values: [...images] });
  return stringifyYaml(stage);
}

const IMAGE_KEY = '.spec.containers.[0].image';

/**
 * kwok's node-initialize stage, keeping the addresses a node already has. kwok's own template writes an
 * `addresses:` list of only the missing ones whenever one is missing; kwok gives no Hostname (its
 * NodeName is empty here), so a node initialized again (kwok runs it again after setNodeReady(false))
 * had its InternalIP replaced by an empty list: the API server then cannot reach its "kubelet" (pod
 * logs: "no preferred addresses found"). Here the list is written only when something is added, with
 * the existing addresses first.
 */
function keepNodeAddresses(stageYaml: string): string {
  const stage = parseYaml(stageYaml) as { spec: { next: { statusTemplate: string } } };
  const template = stage.spec.next.statusTemplate;
  const start = template.indexOf('{{ if or (not $hasInternalIP) (not $hasHostname) }}');
  const end = template.indexOf('{{ with NodePort }}');
  if (start < 0 || end < start) throw new Error("kwok's node-initialize stage no longer has the addresses block local/control-plane.ts rewrites: check keepNodeAddresses");
  const addresses = [
    '{{ $addIP := and (not $hasInternalIP) NodeIP }}',
    '{{ $addHostname := and (not $hasHostname) NodeName }}',
    '{{ if or $addIP $addHostname }}',
    'addresses:',
    '{{ range .status.addresses }}',
    '- address: {{ .address | Quote }}',
    '  type: {{ .type | Quote }}',
    '{{ end }}',
    '{{ if $addIP }}',
    '- address: {{ NodeIP | Quote }}',
    '  type: InternalIP',
    '{{ end }}',
    '{{ if $addHostname }}',
    '- address: {{ NodeName | Quote }}',
    '  type: Hostname',
    '{{ end }}',
    '{{ end }}',
    '',
  ].join('\n');
  stage.spec.next.statusTemplate = template.slice(0, start) + addresses + template.slice(end);
  return stringifyYaml(stage);
}

/**
 * Running pods that are not Ready (the node-lifecycle controller marks every pod of a node that went
 * NotReady so) become Ready again once kwok runs their node again: what the kubelet reports when it is
 * back. Pods of `neverReadyImages` stay unready.
 */
function podReadyAgainStage(neverReadyImages: readonly string[]): string {
  return stringifyYaml({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Stage',
    metadata: { name: 'pod-ready-again' },
    spec: {
      resourceRef: { apiGroup: 'v1', kind: 'Pod' },
      selector: {
        matchExpressions: [
          { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
          { key: '.status.phase', operator: 'In', values: ['Running'] },
          { key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: 'NotIn', values: ['True'] },
          ...(neverReadyImages.length ? [{ key: IMAGE_KEY, operator: 'NotIn', values: [...neverReadyImages] }] : []),
        ],
      },
      next: {
        statusTemplate: [
          '{{ $now := Now }}',
          'conditions:',
          '- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}',
          '- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Ready}',
          '- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: ContainersReady}',
          'containerStatuses:',
          '{{ range .spec.containers }}',
          '- {image: {{ .image | Quote }}, name: {{ .name | Quote }}, ready: true, started: true, restartCount: 0, state: {running: {startedAt: {{ $now | Quote }}}}}',
          '{{ end }}',
          '',
        ].join('\n'),
      },
    },
  });
}

/** Pods of `images`: scheduled and running, their containers never ready (as with a failing readiness probe). */
function podRunningUnreadyStage(images: readonly string[]): string {
  return stringifyYaml({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Stage',
    metadata: { name: 'pod-running-unready' },
    spec: {
      resourceRef: { apiGroup: 'v1', kind: 'Pod' },
      selector: {
        matchExpressions: [
          { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
          { key: '.status.phase', operator: 'In', values: ['Pending'] },
          { key: IMAGE_KEY, operator: 'In', values: [...images] },
        ],
      },
      next: {
        statusTemplate: [
          '{{ $now := Now }}',
          'conditions:',
          '- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}',
          '- {lastTransitionTime: {{ $now | Quote }}, status: "False", type: Ready, reason: ContainersNotReady}',
          '- {lastTransitionTime: {{ $now | Quote }}, status: "False", type: ContainersReady, reason: ContainersNotReady}',
          'containerStatuses:',
          '{{ range .spec.containers }}',
          '- {image: {{ .image | Quote }}, name: {{ .name | Quote }}, ready: false, started: true, restartCount: 0, state: {running: {startedAt: {{ $now | Quote }}}}}',
          '{{ end }}',
          'phase: Running',
          'startTime: {{ $now | Quote }}',
          '',
        ].join('\n'),
      },
    },
  });
}

/** The CA the API server made for itself: the last certificate of the bundle it writes (serving cert, then CA). */
function caOf(bundleFile: string): string {
  if (!existsSync(bundleFile)) return '';
  const blocks = readFileSync(bundleFile, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.length >= 2 ? `${blocks[blocks.length - 1]}\n` : '';
}

function kubeconfigYaml(server: string, options: { caFile?: string; token?: string }): string {
  const cluster = [`    server: ${server}`, ...(options.caFile ? [`    certificate-authority: ${options.caFile}`] : [])];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    '  cluster:',
    ...cluster,
    'users:',
    '- name: local',
    `  user: ${options.token ? `{token: ${options.token}}` : '{}'}`,
    'contexts:',
    '- name: local',
    '  context: {cluster: local, user: local}',
    'current-context: local',
    '',
  ].join('\n');
}

function httpsStatus(url: string, options: { ca?: string; token?: string; insecure?: boolean }): Promise<number> {
  return new Promise((resolve) => {
    const request = https.get(
      url,
      { ca: options.ca, rejectUnauthorized: !options.insecure, headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, timeout: 2_000 },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}

async function httpStatus(url: string): Promise<number> {
  return fetch(url, { signal: AbortSignal.timeout(2_000) })
    .then((response) => response.status)
    .catch(() => 0);
}
