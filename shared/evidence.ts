// Evidence of a security incident (plan scenario 4, "collect evidence"): the API pods' recent logs and
// the database's log-file list, written to the evidence bucket the stack creates (versioned, Object Lock
// in governance mode, TLS only) with a SHA-256 per object that S3 checks on receipt, and a manifest
// listing every object and its checksum. The report carries the same list, so whoever reads it later can
// prove an object is the one collected (`aws s3api head-object --checksum-mode ENABLED`).
//
// Safe to run again: the keys derive from the incident and the execution, and the bucket is versioned,
// so a re-run (a redrive, an ASL Retry) adds new versions under the same keys and never replaces or
// deletes what an earlier attempt stored (Object Lock would refuse it anyway); the result lists the
// versions this run wrote. Nothing is read from the logs here and nothing of them is returned or
// logged: they may hold what an attacker sent.
import { createHash } from 'node:crypto';
import { DescribeDBLogFilesCommand, type DescribeDBLogFilesDetails, type RDSClient } from '@aws-sdk/client-rds';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { V1Pod } from '@kubernetes/client-node';
import { kubernetesConfig, securityIncidentConfig, type DeploymentConfig } from './config.js';
import { awsCall, classifyAwsError, EvidenceBucketUnprotected, EvidenceChecksumMismatch, InvalidInput, KubernetesRejected } from './errors.js';
import type { KubernetesConnection } from './kubernetes/connection.js';
import { readPodLogs, type PodLog } from './kubernetes/logs.js';
import { listAll, PAGE_SIZE, requestOptions, send } from './kubernetes/requests.js';
import { labelSelectorString } from './kubernetes/rollback.js';
import { readDeployment } from './kubernetes/workloads.js';
import type { RunContext } from './run.js';
import type { Action, StepResult } from './steps.js';

/**
 * The most of one container's log kept (bytes). The log is held in memory until it is stored, and a
 * container that logs heavily for a day can write gigabytes: past this the object is cut (at a
 * character boundary, the newest lines kept out: the API server returns the window from its start) and
 * flagged `truncated`.
 */
export const POD_LOG_CAP_BYTES = 64 * 1024 * 1024;
/**
 * The most of all containers' logs kept together (bytes): each container gets at most this divided by
 * the number of containers (and never more than POD_LOG_CAP_BYTES), so the function's memory
 * (serverless.yml collectEvidence: 1024 MB) holds every log, its copy being stored and the SDK's
 * buffers, whatever the number of pods.
 */
export const POD_LOGS_TOTAL_BYTES = 256 * 1024 * 1024;
/** Objects stored at once. */
const PUT_CONCURRENCY = 4;

export type EvidenceKind = 'pod-log' | 'database-log-files' | 'manifest';

/** One object stored in the evidence bucket. */
export interface EvidenceObject {
  key: string;
  /** Size of the stored content (bytes). */
  bytes: number;
  /** SHA-256 of the content, base64, as S3 reports it (ChecksumSHA256). */
  sha256: string;
  /** The S3 version this run stored (null only in a dry run: nothing stored). */
  versionId: string | null;
  kind: EvidenceKind;
  /** pod-log only: the log was longer than its cap and was cut. */
  truncated?: boolean;
}

/** One container of an API pod, and whether its log was collected. */
export interface PodEvidence {
  pod: string;
  container: string;
  /** The object holding its log; null when it was not collected (dry run, or no log: `error`). */
  key: string | null;
  truncated: boolean;
  /** Why there is no log (the container has not started, the pod is not scheduled...). */
  error?: string;
}

/** One database whose log-file list was collected. */
export interface DatabaseEvidence {
  database: string;
  /** The RDS DB instance described (the database's name) and its region (the primary region). */
  instance: string;
  region: string;
  /** How many log files RDS listed; null in a dry run. */
  logFiles: number | null;
  key: string;
}

export interface EvidenceData {
  bucket: string;
  /** The folder of this run's evidence: `<evidence.prefix><incidentId>/<executionName>/`. */
  prefix: string;
  /** Every object stored, the manifest last; in a dry run, what would be stored (without checksums for the logs). */
  objects: EvidenceObject[];
  pods: PodEvidence[];
  databases: DatabaseEvidence[];
  /** The log window (ISO times): `evidence.logHours` before the run started, up to the collection. */
  window: { from: string; to: string };
}

export interface EvidenceDependencies {
  /** S3 in the recovery region (the evidence bucket's). */
  s3: S3Client;
  /** RDS in the primary region (where the protected databases are). */
  rds: RDSClient;
  /** The cluster that serves the API now (securityIncident.cluster). */
  connection: () => Promise<KubernetesConnection>;
}

/** `<evidence.prefix><incidentId>/<executionName>/`: one folder per incident, one sub-folder per run of it. */
export function evidencePrefix(config: DeploymentConfig, run: Pick<RunContext, 'executionName' | 'securityIncident'>): string {
  const incident = run.securityIncident;
  if (!incident) throw new InvalidInput('collectEvidence needs a security-incident run (run.securityIncident with its incidentId)');
  return `${securityIncidentConfig(config).evidence.prefix}${incident.incidentId}/${run.executionName}/`;
}

/** The base64 SHA-256 of `content`: the value S3 computes and returns as ChecksumSHA256. */
export function sha256Base64(content: Buffer): string {
  return createHash('sha256').update(content).digest('base64');
}

/**
 * How far back the logs go: `logHours` before the run started, so a collection that runs late (after
 * an approval, a retry) still covers the hours before the incident was declared. Whole seconds, as the
 * API's `sinceSeconds` takes them, rounded up.
 */
export function logWindowSeconds(logHours: number, startedAt: string, now: Date): number {
  const sinceStart = Math.max(0, now.getTime() - Date.parse(startedAt));
  return logHours * 3600 + Math.ceil(sinceStart / 1000);
}

/** The cap of each container's log when `containers` logs are collected together (bytes, >= 1). */
export function perContainerCap(containers: number): number {
  return Math.max(1, Math.min(POD_LOG_CAP_BYTES, Math.floor(POD_LOGS_TOTAL_BYTES / Math.max(1, containers))));
}

/**
 * The CollectEvidence step of security-incident: the last `evidence.logHours` (counted from the run's
 * start) of log of every container of the API deployment's pods (those its `spec.selector` matches)
 * on `securityIncident.cluster`, and RDS's log-file list (all pages) of every database of the run in the
 * primary region, stored in `evidence.bucket` under `<prefix><incidentId>/<executionName>/`:
 * `pod-logs/<pod>/<container>.log` (text, with the API server's timestamps), `database-log-files/<database>.json`
 * and `manifest.json` (every object with its size, SHA-256 and version; the pods and databases).
 * Each PutObject sends `ChecksumAlgorithm: SHA256` with the checksum computed here: S3 refuses the
 * object if the bytes it received differ, and keeps the checksum with the version.
 *
 * Dry run: reads the deployment and lists its pods (read-only), and returns what it would collect and
 * store (the PutObject calls it would make, not performed); reads no log, stores nothing.
 *
 * Kubernetes: GET deployments (the API deployment), LIST pods (its selector, paged), GET pods/log per
 * container; AWS: eks:DescribeCluster (the connection), rds:DescribeDBLogFiles, s3:PutObject. A container
 * whose log cannot be read (not started, gone) is listed with its reason and does not fail the step.
 * Thrown: InvalidInput (not a security-incident run), InvalidConfig (no securityIncident or kubernetes
 * section), KubernetesNotFound (no API deployment), KubernetesUnauthorized / KubernetesUnreachable /
 * KubernetesTransientError (as the Kubernetes client names them), AwsAccessDenied, AwsTransientError,
 * ResourceNotFound (the bucket or a DB instance missing), EvidenceChecksumMismatch (S3 received other
 * bytes than were sent), EvidenceBucketUnprotected (the bucket returned no version id: not versioned).
 */
export async function collectEvidence(config: DeploymentConfig, run: RunContext, deps: EvidenceDependencies, now: () => Date = () => new Date()): Promise<StepResult<EvidenceData>> {
  const prefix = evidencePrefix(config, run);
  const incident = securityIncidentConfig(config);
  const { bucket, logHours } = incident.evidence;
  const { namespace, apiDeployment } = kubernetesConfig(config);
  const region = config.primaryRegion;
  const started = now();
  const sinceSeconds = logWindowSeconds(logHours, run.startedAt, started);
  const window = { from: new Date(started.getTime() - sinceSeconds * 1000).toISOString(), to: started.toISOString() };

  const conn = await deps.connection();
  const selector = await apiSelector(conn, namespace, apiDeployment);
  const pods = await listPods(conn, namespace, selector);
  const containers = pods.flatMap((pod) => (pod.spec?.containers ?? []).map((c) => ({ pod: pod.metadata?.name ?? '', container: c.name })));
  const podKey = (pod: string, container: string) => `${prefix}pod-logs/${pod}/${container}.log`;
  const databaseKey = (database: string) => `${prefix}database-log-files/${database}.json`;
  const manifestKey = `${prefix}manifest.json`;
  const putAction = (key: string, performed: boolean): Action => ({
    description: `store s3://${bucket}/${key} (SHA-256 checked by S3)`,
    service: 's3',
    operation: 'PutObject',
    parameters: { Bucket: bucket, Key: key, ChecksumAlgorithm: 'SHA256' },
    performed,
  });

  if (run.dryRun) {
    const keys = [...containers.map((c) => podKey(c.pod, c.container)), ...run.databases.map(databaseKey), manifestKey];
    return {
      data: {
        bucket,
        prefix,
        objects: [],
        pods: containers.map((c) => ({ ...c, key: null, truncated: false })),
        databases: run.databases.map((database) => ({ database, instance: database, region, logFiles: null, key: databaseKey(database) })),
        window,
      },
      actions: keys.map((key) => putAction(key, false)),
      detail: `would collect the logs of ${containers.length} container(s) in ${pods.length} pod(s) of ${namespace}/${apiDeployment} (selector ${selector}) and the log-file list of ${run.databases.length} database(s) into s3://${bucket}/${prefix}`,
    };
  }

  // The small lists first: a database that cannot be described fails the step before any log is held.
  const databaseLists: { database: DatabaseEvidence; content: Buffer }[] = [];
  for (const database of run.databases) {
    const files = await describeLogFiles(deps.rds, database);
    const content = json({ database, instance: database, region, describedAt: now().toISOString(), logFiles: files.map(logFileRecord) });
    databaseLists.push({ database: { database, instance: database, region, logFiles: files.length, key: databaseKey(database) }, content });
  }

  const logs = containers.length === 0 ? [] : await readPodLogs(conn, namespace, selector, sinceSeconds, perContainerCap(containers.length));
  const collected = logs.filter((log) => log.error === undefined);

  const objects: EvidenceObject[] = [];
  const actions: Action[] = [];
  const store = async (key: string, kind: EvidenceKind, content: () => Buffer, truncated?: boolean) => {
    const stored = await putEvidence(deps.s3, bucket, key, content(), kind === 'manifest' ? 'application/json' : kind === 'pod-log' ? 'text/plain; charset=utf-8' : 'application/json');
    objects.push({ key, ...stored, kind, ...(truncated === undefined ? {} : { truncated }) });
    actions.push(putAction(key, true));
  };
  await inBatches(
    [
      // A log becomes bytes only when its turn comes, and its string is dropped once stored.
      ...collected.map((log) => () => store(podKey(log.pod, log.container), 'pod-log', () => takeLog(log), log.truncated)),
      ...databaseLists.map((entry) => () => store(entry.database.key, 'database-log-files', () => entry.content)),
    ],
    PUT_CONCURRENCY,
  );
  // Stable order for the report and the manifest, whatever order the uploads finished in.
  objects.sort((a, b) => a.key.localeCompare(b.key));
  actions.sort((a, b) => String(a.parameters.Key).localeCompare(String(b.parameters.Key)));

  const podEvidence: PodEvidence[] = logs.map((log) => ({
    pod: log.pod,
    container: log.container,
    key: log.error === undefined ? podKey(log.pod, log.container) : null,
    truncated: log.truncated,
    ...(log.error === undefined ? {} : { error: log.error }),
  }));
  const databases = databaseLists.map((entry) => entry.database);
  const manifest = json({
    incidentId: run.securityIncident?.incidentId,
    executionId: run.executionId,
    executionName: run.executionName,
    collectedAt: now().toISOString(),
    cluster: incident.cluster,
    namespace,
    deployment: apiDeployment,
    selector,
    window,
    bucket,
    objects,
    pods: podEvidence,
    databases,
  });
  await store(manifestKey, 'manifest', () => manifest);

  const truncated = objects.filter((o) => o.truncated).length;
  const missing = podEvidence.filter((p) => p.key === null).length;
  return {
    data: { bucket, prefix, objects, pods: podEvidence, databases, window },
    actions,
    detail:
      `stored ${objects.length} object(s) in s3://${bucket}/${prefix}: the logs of ${collected.length} container(s) in ${pods.length} pod(s), ` +
      `the log-file list of ${databases.length} database(s), and the manifest` +
      (truncated ? `; ${truncated} log(s) cut at ${perContainerCap(containers.length)} bytes` : '') +
      (missing ? `; ${missing} container(s) without a log (see pods[].error)` : ''),
  };
}

/** The label selector of the API deployment's pods (its spec.selector). */
async function apiSelector(conn: KubernetesConnection, namespace: string, name: string): Promise<string> {
  const deployment = await readDeployment(conn, namespace, name);
  const selector = labelSelectorString(deployment.spec?.selector);
  // An empty selector would match every pod of the namespace: not the API's evidence.
  if (selector === '') throw new KubernetesRejected(`deployment ${namespace}/${name} has an empty spec.selector: cannot tell its pods from the others`);
  return selector;
}

async function listPods(conn: KubernetesConnection, namespace: string, labelSelector: string): Promise<V1Pod[]> {
  const pods = await listAll((token) =>
    send(conn, { verb: 'list', resource: 'pods', namespace }, () =>
      conn.core.listNamespacedPod({ namespace, labelSelector, limit: PAGE_SIZE, _continue: token }, requestOptions(conn)),
    ),
  );
  return pods.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** Every log file RDS lists for the instance (all pages). */
async function describeLogFiles(rds: RDSClient, instance: string): Promise<DescribeDBLogFilesDetails[]> {
  const files: DescribeDBLogFilesDetails[] = [];
  let marker: string | undefined;
  do {
    const page = await awsCall('rds:DescribeDBLogFiles', instance, () => rds.send(new DescribeDBLogFilesCommand({ DBInstanceIdentifier: instance, Marker: marker })));
    files.push(...(page.DescribeDBLogFiles ?? []));
    marker = page.Marker || undefined;
  } while (marker);
  return files;
}

/** A log file as the evidence records it: RDS's fields, LastWritten (ms since 1970) also as an ISO time. */
function logFileRecord(file: DescribeDBLogFilesDetails) {
  return {
    logFileName: file.LogFileName ?? null,
    size: file.Size ?? null,
    lastWritten: file.LastWritten ?? null,
    lastWrittenAt: file.LastWritten === undefined ? null : new Date(file.LastWritten).toISOString(),
  };
}

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

/** The log's bytes; the string is released from the result so only the copy being stored stays in memory. */
function takeLog(log: PodLog): Buffer {
  const bytes = Buffer.from(log.log, 'utf8');
  log.log = '';
  return bytes;
}

async function inBatches(work: (() => Promise<void>)[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < work.length) await work[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
}

/**
 * Stores one object with its SHA-256 (S3 verifies it on receipt and keeps it with the version). Object
 * Lock applies the bucket's default retention to the new version. Returns what the report lists.
 */
async function putEvidence(s3: S3Client, bucket: string, key: string, content: Buffer, contentType: string): Promise<Omit<EvidenceObject, 'key' | 'kind' | 'truncated'>> {
  const sha256 = sha256Base64(content);
  const where = `s3://${bucket}/${key}`;
  let answer;
  try {
    answer = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: content, ContentType: contentType, ChecksumAlgorithm: 'SHA256', ChecksumSHA256: sha256 }));
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    const message = String((error as { message?: unknown } | null)?.message ?? '');
    // S3 names a body that does not match the checksum sent with it BadDigest (or InvalidRequest naming the checksum).
    if (name === 'BadDigest' || (name === 'InvalidRequest' && /checksum|digest/i.test(message))) {
      throw new EvidenceChecksumMismatch(`s3:PutObject on ${where}: S3 received other bytes than the SHA-256 sent with them (${name}); nothing was stored under a new version. ${message}`, {
        cause: error,
      });
    }
    throw classifyAwsError(error, 's3:PutObject', where);
  }
  if (answer.ChecksumSHA256 !== undefined && answer.ChecksumSHA256 !== sha256) {
    throw new EvidenceChecksumMismatch(`s3:PutObject on ${where}: S3 reports SHA-256 ${answer.ChecksumSHA256}, the content sent has ${sha256}`);
  }
  if (!answer.VersionId || answer.VersionId === 'null') {
    throw new EvidenceBucketUnprotected(
      `s3:PutObject on ${where}: stored without a version id, so bucket ${bucket} is not versioned and has no Object Lock: evidence there can be overwritten or deleted. ` +
        'Use the bucket the stack creates (securityIncident.evidence.bucket: versioned, Object Lock in governance mode)',
    );
  }
  return { bytes: content.length, sha256, versionId: answer.VersionId };
}
