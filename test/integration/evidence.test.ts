// collectEvidence (shared/evidence.ts) against real servers: a real Kubernetes control plane whose kwok
// nodes serve the containers' logs through the API server (as kubelets do), with deploy/rbac/ installed
// (the product's key holds the collect-evidence group), and moto's S3 (the evidence bucket as the stack
// creates it: versioned, Object Lock with a governance retention; local/seed.ts) and RDS (the database's
// log files). Proves: the objects exist with the content collected, the SHA-256 S3 stored with each
// version is the content's and the reported one, the manifest lists every object, only the API
// deployment's pods are collected and only within the window, a re-run adds versions under the same keys,
// a dry run stores nothing.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateDBInstanceCommand } from '@aws-sdk/client-rds';
import { CoreV1Api } from '@kubernetes/client-node';
import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { emulatorClients, EMULATOR_CREDENTIALS } from '../../local/emulator-clients.js';
import { startLocalCluster, type LocalCluster } from '../../local/kube-cluster.js';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { createEvidenceBucket } from '../../local/seed.js';
import { connectTo, forgetConnections } from '../../shared/cluster-ops.js';
import { forgetClients, rdsClient, s3Client } from '../../shared/clients.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { collectEvidence, type EvidenceObject } from '../../shared/evidence.js';
import type { RunContext } from '../../shared/run.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';
import { configWith } from '../support/fixtures.js';

const API = 'frontier-api';
const NS = 'evidence';
const BUCKET = 'frontier-evidence-it';
const RETENTION_DAYS = 30;
const TEST_TIMEOUT_MS = 120_000;

let cluster: LocalCluster;
let moto: MotoServer;
let config: DeploymentConfig;
let restoreErrorRealm: () => void = () => undefined;
const savedEndpoint = process.env.AWS_ENDPOINT_URL;
const logsDir = mkdtempSync(path.join(os.tmpdir(), 'frontier-dr-evidence-logs-'));
const CONTAINER_LOG = path.join(logsDir, 'container.log');
const started = new Date();
const lines = [
  { at: new Date(started.getTime() - 3 * 3_600_000), text: 'GET /health 200 (before the window)' },
  { at: new Date(started.getTime() - 90 * 60_000), text: 'POST /login 401 from 203.0.113.7' },
  { at: new Date(started.getTime() - 60_000), text: 'GET /api/keys 200 from 203.0.113.7' },
];

/** One line of a container log in the CRI format kwok reads (as a kubelet's runtime writes it). */
const criLine = (at: Date, text: string) => `${at.toISOString().replace('Z', '000000Z')} stdout F ${text}`;

function run(executionName: string, dryRun = false): RunContext {
  return {
    scenario: 'security-incident',
    executionId: `arn:aws:states:us-east-1:123456789012:execution:frontier-dr-it-security-incident:${executionName}`,
    executionName,
    startedAt: started.toISOString(),
    incidentAt: started.toISOString(),
    incidentNamedByOperator: false,
    trigger: 'manual',
    dryRun,
    reason: null,
    databases: ['frontier-prod'],
    force: false,
    rollback: null,
    productionReplicas: null,
    recovery: null,
    securityIncident: { incidentId: 'SEC-2026-041', blockIps: ['203.0.113.7/32'], patchedImage: null, secrets: [] },
  };
}

const deps = () => ({ s3: s3Client(config.recoveryRegion), rds: rdsClient(config.primaryRegion), connection: () => connectTo(config, 'primary') });

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  writeFileSync(CONTAINER_LOG, lines.map((l) => criLine(l.at, l.text)).join('\n') + '\n');
  [cluster, moto] = await Promise.all([
    startLocalCluster({ name: 'evidence-test', clusterName: 'frontier-evidence-test', keys: [EMULATOR_CREDENTIALS], nodes: 2, containerLogsFile: CONTAINER_LOG }),
    startMoto(),
  ]);
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  forgetClients();
  config = configWith((c) => {
    c.kubernetes!.namespace = NS;
    c.kubernetes!.clusters.primary.name = cluster.clusterName;
    (c as unknown as { securityIncident: unknown }).securityIncident = { cluster: 'primary', evidence: { bucket: BUCKET, logHours: 2, retentionDays: RETENTION_DAYS } };
  });
  await cluster.addNamespace(NS);
  await cluster.addDeployment(NS, API, { image: 'frontier/api:1.8.1', replicas: 2 });
  // Another workload in the namespace: its pods are not the API's evidence.
  await cluster.addDeployment(NS, 'frontier-worker', { image: 'frontier/worker:1', replicas: 1 });
  const primary = emulatorClients(moto.endpoint, config.primaryRegion);
  await primary.rds.send(
    new CreateDBInstanceCommand({ DBInstanceIdentifier: 'frontier-prod', Engine: 'postgres', DBInstanceClass: 'db.t3.micro', AllocatedStorage: 20, MasterUsername: 'frontier', MasterUserPassword: 'not-a-real-password' }),
  );
  await createEvidenceBucket(emulatorClients(moto.endpoint, config.recoveryRegion).s3, config.securityIncident!.evidence, config.recoveryRegion);
  // The product's connection, as collectEvidence's Lambda makes it (the EKS token signed with its key).
  forgetConnections();
  await connectTo(config, 'primary', { resolveEndpoint: () => ({ endpoint: cluster.url, caData: cluster.caData }), credentials: EMULATOR_CREDENTIALS });
}, 600_000);

afterAll(async () => {
  forgetConnections();
  forgetClients();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
  await Promise.all([cluster?.stop(), moto?.stop()]);
  rmSync(logsDir, { recursive: true, force: true });
  restoreErrorRealm();
}, 60_000);

const s3 = () => emulatorClients(moto.endpoint, config.recoveryRegion).s3;

/** The stored version's bytes and the SHA-256 S3 keeps with it. */
async function read(object: EvidenceObject): Promise<{ body: Buffer; checksum: string | undefined }> {
  const answer = await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: object.key, VersionId: object.versionId!, ChecksumMode: 'ENABLED' }));
  return { body: Buffer.from(await answer.Body!.transformToByteArray()), checksum: answer.ChecksumSHA256 };
}

describe('collectEvidence on a real cluster and moto', () => {
  let first: Awaited<ReturnType<typeof collectEvidence>>;

  it('stores the API pods\' logs of the window, the database log-file list and the manifest, each version holding the SHA-256 reported', async () => {
    first = await collectEvidence(config, run('incident-run-1'), deps());

    const apiPods = (await cluster.plane.adminKubeConfig().makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS, labelSelector: `app=${API}` })).items
      .map((p) => p.metadata!.name!)
      .sort();
    const folder = 'incidents/SEC-2026-041/incident-run-1/';
    expect(first.data.prefix).toBe(folder);
    expect(first.data.objects.map((o) => o.key)).toEqual([
      `${folder}database-log-files/frontier-prod.json`,
      ...apiPods.map((pod) => `${folder}pod-logs/${pod}/${API}.log`),
      `${folder}manifest.json`,
    ]);
    // Only the API deployment's pods: the worker's are not collected.
    expect(first.data.pods.map((p) => p.pod)).toEqual(apiPods);
    expect(first.data.pods.every((p) => p.key !== null && !p.truncated && p.error === undefined)).toBe(true);

    for (const object of first.data.objects) {
      const { body, checksum } = await read(object);
      const digest = createHash('sha256').update(body).digest('base64');
      expect({ key: object.key, sha256: object.sha256, stored: checksum, bytes: object.bytes }).toEqual({ key: object.key, sha256: digest, stored: digest, bytes: body.length });
      expect(object.versionId).toEqual(expect.any(String));
    }

    const log = (await read(first.data.objects.find((o) => o.kind === 'pod-log')!)).body.toString('utf8');
    // The window is logHours (2) before the run started: the line from 3 h before is not in it.
    expect(log.split('\n').filter(Boolean)).toEqual([`${lines[1]!.at.toISOString().replace('Z', '000000Z')} ${lines[1]!.text}`, `${lines[2]!.at.toISOString().replace('Z', '000000Z')} ${lines[2]!.text}`]);

    const databaseList = JSON.parse((await read(first.data.objects.find((o) => o.kind === 'database-log-files')!)).body.toString('utf8'));
    expect(databaseList).toMatchObject({ database: 'frontier-prod', region: config.primaryRegion, logFiles: [{ logFileName: expect.stringMatching(/^error\/postgresql\.log\./) }] });
    expect(first.data.databases).toEqual([expect.objectContaining({ database: 'frontier-prod', logFiles: 1 })]);

    const manifest = JSON.parse((await read(first.data.objects.find((o) => o.kind === 'manifest')!)).body.toString('utf8'));
    expect(manifest.objects).toEqual(first.data.objects.filter((o) => o.kind !== 'manifest'));
    expect(manifest).toMatchObject({ incidentId: 'SEC-2026-041', executionName: 'incident-run-1', selector: `app=${API}`, bucket: BUCKET });
  }, TEST_TIMEOUT_MS);

  it('keeps every object under the bucket\'s default governance retention', async () => {
    for (const object of first.data.objects) {
      // HeadObject: moto's GetObjectRetention answer is not XML the SDK reads.
      const head = await s3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: object.key, VersionId: object.versionId! }));
      expect(head.ObjectLockMode).toBe('GOVERNANCE');
      const days = (head.ObjectLockRetainUntilDate!.getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(RETENTION_DAYS - 1);
      expect(days).toBeLessThanOrEqual(RETENTION_DAYS + 1);
    }
  }, TEST_TIMEOUT_MS);

  it('run again (a retry, a redrive), stores new versions under the same keys and keeps the first ones', async () => {
    const again = await collectEvidence(config, run('incident-run-1'), deps());

    expect(again.data.objects.map((o) => o.key)).toEqual(first.data.objects.map((o) => o.key));
    const versions = await s3().send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: first.data.prefix }));
    for (const [i, object] of again.data.objects.entries()) {
      const held = (versions.Versions ?? []).filter((v) => v.Key === object.key).map((v) => v.VersionId);
      expect(held.sort()).toEqual([first.data.objects[i]!.versionId, object.versionId].sort());
    }
  }, TEST_TIMEOUT_MS);

  it('in a dry run names the pods and databases and stores nothing', async () => {
    const dry = await collectEvidence(config, run('incident-dry-run', true), deps());

    expect(dry.data.pods.map((p) => p.pod)).toEqual(first.data.pods.map((p) => p.pod));
    expect(dry.actions!.every((a) => !a.performed)).toBe(true);
    const listed = await s3().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'incidents/SEC-2026-041/incident-dry-run/' }));
    expect(listed.KeyCount ?? 0).toBe(0);
  }, TEST_TIMEOUT_MS);
});
