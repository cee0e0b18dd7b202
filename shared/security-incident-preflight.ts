// SecurityIncidentPreflight: everything a security-incident run can check without changing anything,
// before it asks for approval and before its first change, so a response is not stopped half-way by a
// missing resource after the keys were revoked. Every problem is listed at once.
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';
import { clusterFor, kubernetesConfig, securityIncidentConfig, wafIpSetRegion, type DeploymentConfig } from './config.js';
import { readWafIpSet } from './containment.js';
import { AwsTransientError, IncidentPreflightFailed, KubernetesTransientError, KubernetesUnreachable, awsCall } from './errors.js';
import type { KubernetesConnection } from './kubernetes/connection.js';
import { containerForImage } from './kubernetes/images.js';
import { requestOptions, send } from './kubernetes/requests.js';
import { readDeployment } from './kubernetes/workloads.js';
import type { Check } from './report.js';
import type { RunContext, SecurityIncidentRequest } from './run.js';
import { incidentRequest } from './security-incident-plan.js';
import type { StepResult } from './steps.js';

export interface IncidentPreflightClients {
  /** Both in the recovery region (the stack's region), where the secrets and the evidence bucket are. */
  secrets: SecretsManagerClient;
  s3: S3Client;
  /** The serving cluster (securityIncident.cluster). */
  connect: () => Promise<KubernetesConnection>;
  /** The WAF client of a region (the IP set's: wafIpSetRegion). */
  waf: (region: string) => WAFV2Client;
}

export interface IncidentPreflightResult {
  passed: true;
  /** securityIncident.cluster: where the containment, the patch and the health gates act. */
  cluster: 'primary' | 'backup';
  /** The API-key secret the containment rotates (revokes the keys), or null: none configured. */
  apiKeySecret: string | null;
  /** The secrets checked: the API-key secret (when configured) and the run's `secrets`. */
  secrets: string[];
  /** The API container the patch goes to (null without a patchedImage). */
  patchContainer: string | null;
}

/**
 * One check; a transient failure (throttling, 5xx, an unreachable cluster) is thrown for the state's
 * Retry, anything else (missing, denied, refused) is a failed check.
 */
async function check(name: string, resource: string, target: string, probe: () => Promise<string>): Promise<Check> {
  try {
    const measured = await probe();
    return { name, resource, measured, target, passed: true, message: `${resource}: ${measured}` };
  } catch (error) {
    if (error instanceof AwsTransientError || error instanceof KubernetesTransientError || error instanceof KubernetesUnreachable || !(error instanceof Error)) throw error;
    return { name, resource, measured: `${error.name}: ${error.message}`, target, passed: false, message: `${resource}: ${error.message}` };
  }
}

const PENDING = 'AWSPENDING';
const CURRENT = 'AWSCURRENT';

/**
 * Whether a secret can be rotated now from this region: it exists (not scheduled for deletion), it is
 * not a replica (a replica's versions are the primary region's to rotate), and no rotation is in
 * progress (a version labelled AWSPENDING that is not AWSCURRENT). Returns what it found; a problem is
 * an Error named SecretNotRotatable, which the check turns into a failed check (it never crosses the
 * state-machine boundary), and the Secrets Manager errors awsCall names.
 */
async function secretRotatable(secrets: SecretsManagerClient, secret: string, region: string): Promise<string> {
  const answer = await awsCall('secretsmanager:DescribeSecret', `${secret} in ${region}`, () => secrets.send(new DescribeSecretCommand({ SecretId: secret })));
  const problem = (message: string) => Object.assign(new Error(message), { name: 'SecretNotRotatable' });
  if (answer.DeletedDate) throw problem(`scheduled for deletion (since ${new Date(answer.DeletedDate).toISOString()}): restore it first (RestoreSecret)`);
  if (answer.PrimaryRegion && answer.PrimaryRegion !== region) throw problem(`a replica of the secret in ${answer.PrimaryRegion}: rotate it there (the stack rotates secrets of ${region})`);
  const pending = Object.entries(answer.VersionIdsToStages ?? {}).filter(([, stages]) => stages.includes(PENDING) && !stages.includes(CURRENT));
  if (pending.length > 0) {
    throw problem(`a rotation is in progress (version ${pending.map(([id]) => id).join(', ')} is AWSPENDING): let it finish or fail (the rotation function's log), or remove the label, then start again`);
  }
  return `exists${answer.RotationEnabled ? ', rotation enabled' : ''}, no rotation in progress`;
}

/**
 * The SecurityIncidentPreflight step, read-only: on securityIncident.cluster, the API deployment (and,
 * with a patchedImage, its container for the patch: named like the deployment, else the only one) and
 * the emergency-mode ConfigMap exist; in the stack's region, the API-key secret and every secret the
 * run rotates exist, are not replicas and have no rotation in progress; the evidence bucket exists;
 * with addresses to block and a WAF IP set configured, the set exists (BlockAddresses applies the
 * NetworkPolicy before it updates the set: a wrong set found only then would leave the block half done).
 *
 * Kubernetes: GET apps/v1 deployments/<api>, GET v1 configmaps/<name>; AWS: eks:DescribeCluster,
 * secretsmanager:DescribeSecret, s3:HeadBucket (s3:ListBucket), wafv2:GetIPSet. Every finding is a Check; any failed
 * one throws IncidentPreflightFailed listing every problem. Also throws InvalidInput (not a
 * security-incident run), InvalidConfig, and, for the state's Retry, AwsTransientError,
 * KubernetesTransientError and KubernetesUnreachable.
 */
export async function preflightSecurityIncident(config: DeploymentConfig, run: RunContext, clients: IncidentPreflightClients): Promise<StepResult<IncidentPreflightResult>> {
  const request = incidentRequest(run);
  const incident = securityIncidentConfig(config);
  const { checks, secrets, patchContainer } = await incidentPreflightChecks(config, request, clients);
  const failed = checks.filter((c) => !c.passed);
  if (failed.length > 0) {
    throw new IncidentPreflightFailed(
      `${failed.length} problem(s) before the first change of incident ${request.incidentId}; nothing was changed:\n${failed.map((c) => `  - ${c.name}: ${c.message}`).join('\n')}`,
    );
  }
  return {
    data: { passed: true, cluster: incident.cluster, apiKeySecret: incident.apiKeys?.secret ?? null, secrets, patchContainer },
    checks,
    detail: `ready: ${checks.map((c) => c.message).join('; ')}`,
  };
}

/**
 * The preflight's checks without the verdict, for the run's preflight above and for the readiness
 * evaluation (shared/readiness.ts), which asks the same questions with a drill-shaped request. Every
 * finding is a Check; throws only what `check` lets through (transient AWS and Kubernetes errors).
 */
export async function incidentPreflightChecks(
  config: DeploymentConfig,
  request: Pick<SecurityIncidentRequest, 'blockIps' | 'patchedImage' | 'secrets'>,
  clients: IncidentPreflightClients,
): Promise<{ checks: Check[]; secrets: string[]; patchContainer: string | null }> {
  const incident = securityIncidentConfig(config);
  const { namespace, apiDeployment } = kubernetesConfig(config);
  const cluster = clusterFor(config, incident.cluster).name;
  const region = config.recoveryRegion;
  const secrets = [...(incident.apiKeys ? [incident.apiKeys.secret] : []), ...request.secrets.filter((s) => s !== incident.apiKeys?.secret)];
  let patchContainer: string | null = null;

  const checks = await Promise.all([
    check('api-deployment', `deployment ${namespace}/${apiDeployment} on ${cluster}`, request.patchedImage ? 'exists, with a container for the patched image' : 'exists', async () => {
      const deployment = await readDeployment(await clients.connect(), namespace, apiDeployment);
      if (!request.patchedImage) return 'exists';
      const container = containerForImage(deployment);
      patchContainer = container.name;
      return `exists; the patch goes to container ${container.name} (now ${container.image ?? 'no image'})`;
    }),
    check('emergency-mode-configmap', `ConfigMap ${namespace}/${incident.emergencyMode.configMap} on ${cluster}`, 'exists (emergency mode patches it, never creates it)', async () => {
      const conn = await clients.connect();
      const name = incident.emergencyMode.configMap;
      const found = await send(conn, { verb: 'get', resource: 'configmaps', namespace, name }, () => conn.core.readNamespacedConfigMap({ name, namespace }, requestOptions(conn)));
      const value = found.data?.[incident.emergencyMode.key];
      return `exists (${incident.emergencyMode.key} ${value === undefined ? 'not set' : `is ${JSON.stringify(value)}`})`;
    }),
    ...secrets.map((secret) => check('rotatable-secret', `secret ${secret} in ${region}`, 'exists, not a replica, no rotation in progress', () => secretRotatable(clients.secrets, secret, region))),
    ...(request.blockIps.length > 0 && incident.blockIps.wafIpSet
      ? [
          check('waf-ip-set', `WAF IP set ${incident.blockIps.wafIpSet.name}`, 'exists (the block adds the addresses to it)', async () => {
            const ipSet = incident.blockIps.wafIpSet!;
            const found = await readWafIpSet(config, clients.waf(wafIpSetRegion(config, ipSet)), ipSet);
            return `${found.resource} exists (${found.set.IPAddressVersion ?? 'unknown version'}, ${found.set.Addresses?.length ?? 0} addresses)`;
          }),
        ]
      : []),
    check('evidence-bucket', `s3://${incident.evidence.bucket}`, 'exists and is reachable', async () => {
      await awsCall('s3:HeadBucket', `s3://${incident.evidence.bucket}`, () => clients.s3.send(new HeadBucketCommand({ Bucket: incident.evidence.bucket })));
      return 'exists';
    }),
  ]);
  return { checks, secrets, patchContainer: patchContainer as string | null };
}
