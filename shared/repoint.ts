// The RepointApplication step: the application moves to the restored instance. Its own module because it
// needs both the Secrets Manager side (database-recovery.ts) and the Kubernetes client (cluster-ops.ts):
// kept out of both so neither bundle carries the other's dependencies.
import { createHash } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { connectTo } from './cluster-ops.js';
import { clusterFor, findDatabase, kubernetesConfig, regionFailoverConfig, type ClusterRole, type DatabaseConfig, type DeploymentConfig } from './config.js';
import { databaseUrl, recoveryConfig, repointConnectionSecret, repointDatabaseUrl, type SecretRepoint } from './database-recovery.js';
import { patchSecretKeys, readSecretKey } from './kubernetes/objects.js';
import { recoveryRequest, type RunContext } from './run.js';
import { fetchDatabaseCredentials } from './secrets.js';
import type { Action, StepResult } from './steps.js';

export interface RepointRequest {
  /** The restored instance (its id is part of the secret version's token, repointToken). */
  instanceId: string;
  /** Its endpoint once available; null before (then nothing is changed). */
  endpoint: { host: string; port: number } | null;
  dryRun: boolean;
}

/** Where the API reads its database URL: a cluster and the Kubernetes Secret key on it. */
export interface RepointCluster {
  role: ClusterRole;
  kubernetesSecret: { name: string; key: string };
}

/**
 * Where a run's RepointApplication acts, one option set for every scenario that repoints:
 * - database-recovery: the database it restored; the connection secret in the recovery region (the
 *   copy the recovery functions read); the primary cluster and recovery.kubernetesSecret;
 * - region-failover: regionFailover.database; the recovery region's secret; the backup (recovery)
 *   cluster and regionFailover.kubernetesSecret;
 * - region-failback: the database LoadFailoverRecord named (run.recovery); the PRIMARY region's
 *   secret, where the API reads it once back; the primary cluster and recovery.kubernetesSecret.
 * Thrown: InvalidConfig (no regionFailover section), InvalidInput (no run.recovery).
 */
export function repointTargetFor(config: DeploymentConfig, run: Pick<RunContext, 'scenario' | 'recovery'>): { database: DatabaseConfig; secretRegion: string; cluster: RepointCluster } {
  if (run.scenario === 'region-failover') {
    const failover = regionFailoverConfig(config);
    return { database: findDatabase(config, failover.database), secretRegion: config.recoveryRegion, cluster: { role: 'backup', kubernetesSecret: failover.kubernetesSecret } };
  }
  const database = findDatabase(config, recoveryRequest(run as RunContext).database);
  const cluster: RepointCluster = { role: 'primary', kubernetesSecret: recoveryConfig(database).kubernetesSecret };
  return { database, secretRegion: run.scenario === 'region-failback' ? config.primaryRegion : config.recoveryRegion, cluster };
}

/**
 * The ClientRequestToken (the new version's id) of a repoint of `secretId` to `endpoint`, the restored
 * instance `instanceId`, built on the secret's version `baseVersionId` (AWSCURRENT when the step read
 * it): 48 hex digits of sha256 over those four, none of them secret (no value, no hash of one).
 *
 * Secrets Manager keeps a token for good and refuses it with another value (ResourceExistsException).
 * A token of the secret and the instance alone collided: two recoveries restoring to the same instance
 * id (`<database>-r-<minute>`: database-recovery then region-failover in one minute) write different
 * hosts, and a recovery after a rotation writes another password. With the base version in it, one
 * token always means one value (versions never change): a retry gets the first attempt's version, and
 * anything that changed the secret in between gives a new token.
 */
export function repointToken(secretId: string, instanceId: string, baseVersionId: string, endpoint: { host: string; port: number }): string {
  return createHash('sha256').update(JSON.stringify(['repoint', secretId, instanceId, baseVersionId, endpoint.host, endpoint.port])).digest('hex').slice(0, 48);
}

/**
 * Points the application at the restored instance by editing, never rebuilding: a new version of the
 * connection secret with only its host and port changed (every other key kept; the current version
 * stays as AWSPREVIOUS, named in the report for failback), then the database URL the API reads
 * (recovery.kubernetesSecret) with only its host and port changed: scheme, user, password, database
 * and query (sslmode=verify-full, sslrootcert, application_name...) stay as the operator wrote them.
 * The URL is read and checked first, so a URL that cannot be edited safely fails the step before
 * anything changed. Only a key that does not exist yet is built from the connection secret. The URL,
 * which carries the password, never leaves the function. A dry run, or an instance with no endpoint
 * yet, records both calls and makes none.
 *
 * AWS: secretsmanager:GetSecretValue (AWSCURRENT, AWSPREVIOUS), PutSecretValue; Kubernetes: read and
 * merge-patch the Secret on the `target` cluster (the primary by default). Thrown: the errors awsCall names, InvalidConfig for
 * a secret that is not a JSON object or a URL that cannot be edited (repointDatabaseUrl), Kubernetes
 * errors; when the Kubernetes patch fails after the connection secret moved, the error's message
 * starts by saying so (and which version was kept).
 */
export async function repointApplication(
  config: DeploymentConfig,
  database: DatabaseConfig,
  request: RepointRequest,
  secrets: SecretsManagerClient,
  /**
   * Where the API reads its database URL: by default the primary cluster and recovery.kubernetesSecret
   * (database recovery); a region failover names the backup cluster and regionFailover.kubernetesSecret.
   */
  target: RepointCluster = { role: 'primary', kubernetesSecret: recoveryConfig(database).kubernetesSecret },
): Promise<StepResult<{ secret: SecretRepoint | null; kubernetesSecretChanged: boolean }>> {
  const { namespace } = kubernetesConfig(config);
  const secretRef = target.kubernetesSecret;
  const cluster = clusterFor(config, target.role);
  const shown = request.endpoint ?? { host: `${request.instanceId}.<endpoint once available>`, port: database.port };
  const putSecret: Action = {
    description: `new version of secret ${database.credentialsSecret} with host ${shown.host}:${shown.port} (the current one kept as AWSPREVIOUS)`,
    service: 'secretsmanager',
    operation: 'PutSecretValue',
    parameters: { SecretId: database.credentialsSecret, changes: { host: shown.host, port: shown.port } },
    performed: false,
  };
  const patchKubernetes: Action = {
    description: `change only the host and port of the database URL in ${namespace}/${secretRef.name} key ${secretRef.key} on ${cluster.name}`,
    service: 'kubernetes',
    operation: 'patch secrets',
    parameters: { cluster: cluster.name, namespace, secret: secretRef.name, key: secretRef.key },
    performed: false,
  };
  if (request.dryRun || !request.endpoint) return { data: { secret: null, kubernetesSecretChanged: false }, actions: [putSecret, patchKubernetes] };
  const endpoint = request.endpoint;
  const conn = await connectTo(config, target.role);
  const where = `${namespace}/${secretRef.name} key ${secretRef.key} on ${cluster.name}`;
  const currentUrl = await readSecretKey(conn, namespace, secretRef.name, secretRef.key);
  // Checked before the connection secret moves: a URL that cannot be edited changes nothing.
  const editedUrl = currentUrl === undefined ? null : repointDatabaseUrl(currentUrl, endpoint, `the database URL in ${where}`);
  const secret = await repointConnectionSecret(secrets, database.credentialsSecret, endpoint, (base) => repointToken(database.credentialsSecret, request.instanceId, base, endpoint));
  let patched;
  try {
    const url = editedUrl ?? databaseUrl(await fetchDatabaseCredentials(secrets, database.credentialsSecret), endpoint, database.databaseName);
    patched = await patchSecretKeys(conn, namespace, secretRef.name, { [secretRef.key]: url });
  } catch (error) {
    // The secret has moved already: say so, so that the report (and a person failing back) knows.
    if (error instanceof Error && secret.changed) {
      error.message = `connection secret ${database.credentialsSecret} already points at ${endpoint.host} (previous version ${secret.previousVersionId ?? 'unknown'} kept as AWSPREVIOUS); then ${error.message}`;
    }
    throw error;
  }
  const kubernetesSecretChanged = patched.keys.some((k) => k.changed);
  return {
    data: { secret, kubernetesSecretChanged },
    resources: secret.previousVersionId
      ? [
          {
            kind: 'secretsmanager:secret-version',
            id: `${database.credentialsSecret}@${secret.previousVersionId}`,
            region: config.recoveryRegion,
            kept: true,
            note: `previous connection (host ${secret.previousHost ?? 'unknown'}), now AWSPREVIOUS: move AWSCURRENT back to fail back`,
          },
        ]
      : [],
    actions: [
      { ...putSecret, performed: secret.changed },
      { ...patchKubernetes, performed: kubernetesSecretChanged },
    ],
    detail: `connection secret ${secret.changed ? `now points at ${endpoint.host} (previous host ${secret.previousHost ?? 'unknown'}, previous version ${secret.previousVersionId ?? 'unknown'} kept)` : 'already pointed at the restored instance'}; ${secretRef.name}/${secretRef.key} ${
      !kubernetesSecretChanged ? 'already up to date' : editedUrl === null ? 'did not exist: built from the connection secret' : 'updated (host and port only; the rest of the URL kept)'
    }`,
  };
}
