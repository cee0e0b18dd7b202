// The security incident's own steps and plan: the approval
// request's lines, the lock it takes, the preflight before the approval (every problem at once, a
// transient failure retried, nothing changed), and `kubectl set image` of the API (which container,
// the patch it sends, already on the image, dry run, Kubernetes faults). Client mocks and the
// Kubernetes client double; no network.
import { HeadBucketCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, ResourceNotFoundException, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { V1Deployment } from '@kubernetes/client-node';
import { setApiImage } from '../../shared/api-image.js';
import { approvalRequestFor } from '../../shared/approval-request.js';
import { GetIPSetCommand, WAFNonexistentItemException } from '@aws-sdk/client-wafv2';
import { s3Client, secretsClient, wafClient } from '../../shared/clients.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { AwsTransientError, IncidentPreflightFailed, InvalidInput, KubernetesNotFound, KubernetesTransientError, KubernetesUnauthorized, PatchContainerNotFound } from '../../shared/errors.js';
import { containerForImage, setDeploymentImage } from '../../shared/kubernetes/images.js';
import { lockClaimFor } from '../../shared/recovery-lock.js';
import { planRun, type RunContext } from '../../shared/run.js';
import { preflightSecurityIncident } from '../../shared/security-incident-preflight.js';
import { renderSecurityIncident, securityIncidentReport } from '../../shared/security-incident-report.js';
import { configWith } from '../support/fixtures.js';
import { connectToDouble, deploymentObject, deploymentPath, KubeClientDouble } from '../support/kube-client-double.js';

const NS = 'production';
const API = 'frontier-api';
const API_KEYS = 'frontier/prod/api-keys';
const DATABASE_SECRET = 'frontier/prod/database';
const PATCH = 'registry.example.com/frontier/api:2026.11.30-sec1';
const CONFIG_MAP_PATH = `/api/v1/namespaces/${NS}/configmaps/frontier-config`;

const config: DeploymentConfig = configWith((c) => {
  c.databases[0]!.rotation = { strategy: 'single-user', scheduleExpression: 'rate(30 days)', validationQuery: 'SELECT 1' } as never;
});
const execution = { id: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-security-incident:sec-1', name: 'sec-1', startTime: new Date().toISOString() };

function incidentRun(input: Record<string, unknown> = {}): RunContext {
  return planRun('security-incident', { incidentId: 'SEC-2026-041', blockIps: ['203.0.113.7', '198.51.100.0/24'], patchedImage: PATCH, ...input }, execution, config);
}

function apiDeployment(containers: { name: string; image: string }[]): V1Deployment {
  const deployment = deploymentObject({ namespace: NS, name: API, image: 'unused' });
  deployment.spec!.template.spec!.containers = containers;
  return deployment;
}

describe('the approval request of a security incident', () => {
  it('names every change in run order, with the incident, the places and the secrets, and no value', () => {
    const { approvalRequest } = approvalRequestFor(incidentRun(), config);

    expect(approvalRequest?.actions).toEqual([
      'incident SEC-2026-041: contain at once, in parallel:',
      `- revoke the API keys: rotate secret ${API_KEYS} now (a new key set; the old keys are then neither current nor in Secret production/frontier-api-keys on frontier-prod-cluster)`,
      '- block 2 address(es) (203.0.113.7/32, 198.51.100.0/24) in NetworkPolicy production/frontier-emergency-block on frontier-prod-cluster (which cannot see clients behind the load balancer: clientAddressPreserved is false) and WAF IP set frontier-prod-blocked (REGIONAL, us-west-2)',
      '- set emergency_mode=true in ConfigMap production/frontier-config on frontier-prod-cluster (emergency mode)',
      '- collect evidence: API pod logs of the last 24 h and the database log-file list into s3://frontier-prod-dr-evidence/incidents/SEC-2026-041/',
      `then rotate now and wait for: ${DATABASE_SECRET}`,
      `then roll production/frontier-api on frontier-prod-cluster to ${PATCH} and wait for the rollout`,
      'then the health gates (API /health, database SELECT 1, Redis PING)',
    ]);
  });

  it('says what it leaves out, and keeps a long address list within an approval line', () => {
    const many = Array.from({ length: 400 }, (_, i) => `2001:db8:${i.toString(16)}::/48`);
    const { approvalRequest } = approvalRequestFor(incidentRun({ blockIps: many, patchedImage: undefined, secrets: [] }), config);
    const actions = approvalRequest!.actions;

    expect(actions.find((a) => a.startsWith('- block'))).toMatch(/^- block 400 address\(es\) \(2001:db8::\/48, 2001:db8:1::\/48, .* and 395 more\)/);
    expect(actions).toContain('then rotate no other secret (none listed)');
    expect(actions.some((a) => a.includes('roll production/frontier-api'))).toBe(false);
    expect(actions.every((a) => a.length <= 300)).toBe(true);
  });
});

describe('the lock of a security incident', () => {
  it('is one per deployment, with no quiet period (started by hand only)', () => {
    expect(lockClaimFor(config, incidentRun())).toEqual({ target: 'security-incident/frontier-prod', label: 'the security incident response of frontier-prod', quietPeriodMinutes: 0 });
  });
});

describe('containerForImage and setDeploymentImage (kubectl set image)', () => {
  it('chooses the container named like the deployment, else the only one', () => {
    expect(containerForImage(apiDeployment([{ name: 'envoy', image: 'envoy:1' }, { name: API, image: 'api:1' }]))).toEqual({ name: API, image: 'api:1' });
    expect(containerForImage(apiDeployment([{ name: 'server', image: 'api:1' }]))).toEqual({ name: 'server', image: 'api:1' });
  });

  it('refuses to guess among several containers, naming them', () => {
    expect(() => containerForImage(apiDeployment([{ name: 'envoy', image: 'envoy:1' }, { name: 'server', image: 'api:1' }]))).toThrow(PatchContainerNotFound);
    expect(() => containerForImage(apiDeployment([{ name: 'envoy', image: 'envoy:1' }, { name: 'server', image: 'api:1' }]))).toThrow(/containers envoy, server, none named frontier-api/);
    expect(() => containerForImage(apiDeployment([]))).toThrow(/no container/);
  });

  it('patches only that container image and the change-cause, as a strategic merge', async () => {
    const double = new KubeClientDouble().on('GET', deploymentPath(NS, API), { body: apiDeployment([{ name: 'envoy', image: 'envoy:1' }, { name: API, image: 'api:1' }]) }).on('PATCH', deploymentPath(NS, API), { body: {} });

    const change = await setDeploymentImage(await connectToDouble(double), NS, API, PATCH, 'security incident SEC-1');

    expect(change).toEqual({ container: API, previousImage: 'api:1', image: PATCH, changed: true });
    const [patch] = double.sent('PATCH', deploymentPath(NS, API));
    expect(patch?.contentType).toBe('application/strategic-merge-patch+json');
    expect(patch?.body).toEqual({ metadata: { annotations: { 'kubernetes.io/change-cause': 'security incident SEC-1' } }, spec: { template: { spec: { containers: [{ name: API, image: PATCH }] } } } });
  });

  it('sends nothing when the container already runs the image (a re-run)', async () => {
    const double = new KubeClientDouble().on('GET', deploymentPath(NS, API), { body: apiDeployment([{ name: API, image: PATCH }]) });

    expect(await setDeploymentImage(await connectToDouble(double), NS, API, PATCH, 'cause')).toMatchObject({ changed: false });
    expect(double.sent('PATCH', deploymentPath(NS, API))).toEqual([]);
  });
});

describe('setApiImage (the SetApiImage step)', () => {
  const serving = (containers = [{ name: API, image: 'api:1' }]) =>
    new KubeClientDouble().on('GET', deploymentPath(NS, API), { body: apiDeployment(containers) }).on('PATCH', deploymentPath(NS, API), { body: {} });

  it('rolls the API to the patch with a change-cause naming the incident, and returns what CheckRollout needs', async () => {
    const double = serving();
    const result = await setApiImage(config, incidentRun(), () => connectToDouble(double));

    expect(result.data).toEqual({ cluster: 'primary', namespace: NS, deployment: API, container: API, previousImage: 'api:1', image: PATCH, changed: true, rolloutStarted: true });
    expect(result.actions).toEqual([expect.objectContaining({ operation: 'patch deployments', performed: true, parameters: expect.objectContaining({ changeCause: `security incident SEC-2026-041: patched image ${PATCH} (frontier-dr sec-1)` }) })]);
  });

  it('only reads in a dry run, and reports the patch it would send', async () => {
    const double = serving();
    const result = await setApiImage(config, incidentRun({ dryRun: true }), () => connectToDouble(double));

    expect(double.sent('PATCH', deploymentPath(NS, API))).toEqual([]);
    expect(result.data).toMatchObject({ changed: false, rolloutStarted: false });
    expect(result.actions).toEqual([expect.objectContaining({ performed: false, parameters: expect.objectContaining({ image: PATCH, container: API }) })]);
  });

  it('refuses a run without a patch', async () => {
    await expect(setApiImage(config, incidentRun({ patchedImage: undefined }), () => connectToDouble(serving()))).rejects.toThrow(InvalidInput);
  });

  it.each([
    [403, KubernetesUnauthorized],
    [404, KubernetesNotFound],
    [503, KubernetesTransientError],
  ])('turns a %i on the patch into %p, having changed nothing else', async (status, named) => {
    const double = serving().failNext({ method: 'PATCH', path: deploymentPath(NS, API), status });
    await expect(setApiImage(config, incidentRun(), () => connectToDouble(double))).rejects.toThrow(named);
  });
});

describe('preflightSecurityIncident (before the approval and the first change)', () => {
  const secrets = mockClient(secretsClient('us-east-1'));
  const s3 = mockClient(s3Client('us-east-1'));
  // The example's IP set is REGIONAL in us-west-2, where the API's load balancer is.
  const waf = mockClient(wafClient('us-west-2'));
  let double: KubeClientDouble;

  const healthySecret = (name: string) => ({ ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`, Name: name, RotationEnabled: true, VersionIdsToStages: { 'v-1': ['AWSCURRENT'], 'v-0': ['AWSPREVIOUS'] } });
  const clients = () => ({ secrets: secretsClient('us-east-1'), s3: s3Client('us-east-1'), connect: () => connectToDouble(double), waf: wafClient });

  beforeEach(() => {
    secrets.reset();
    s3.reset();
    waf.reset();
    waf.on(GetIPSetCommand).resolves({ IPSet: { Name: 'frontier-prod-blocked', Id: '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b', ARN: 'arn', IPAddressVersion: 'IPV4', Addresses: [] }, LockToken: 'lock-1' });
    double = new KubeClientDouble()
      .on('GET', deploymentPath(NS, API), { body: apiDeployment([{ name: API, image: 'api:1' }]) })
      .on('GET', CONFIG_MAP_PATH, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'frontier-config', namespace: NS }, data: { emergency_mode: 'false' } } });
    secrets.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => healthySecret(input.SecretId));
    s3.on(HeadBucketCommand).resolves({});
  });

  it('passes with every check, reading only', async () => {
    const result = await preflightSecurityIncident(config, incidentRun(), clients());

    expect(result.data).toEqual({ passed: true, cluster: 'primary', apiKeySecret: API_KEYS, secrets: [API_KEYS, DATABASE_SECRET], patchContainer: API });
    expect(result.checks?.map((c) => [c.name, c.passed])).toEqual([
      ['api-deployment', true],
      ['emergency-mode-configmap', true],
      ['rotatable-secret', true],
      ['rotatable-secret', true],
      ['waf-ip-set', true],
      ['evidence-bucket', true],
    ]);
    expect(double.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('lists every problem at once in one named error', async () => {
    double.failNext({ method: 'GET', path: CONFIG_MAP_PATH, status: 404 });
    double.on('GET', deploymentPath(NS, API), { body: apiDeployment([{ name: 'envoy', image: 'envoy:1' }, { name: 'server', image: 'api:1' }]) });
    secrets.on(DescribeSecretCommand, { SecretId: API_KEYS }).resolves({ ...healthySecret(API_KEYS), VersionIdsToStages: { 'v-1': ['AWSCURRENT'], 'v-2': ['AWSPENDING'] } });
    secrets.on(DescribeSecretCommand, { SecretId: DATABASE_SECRET }).resolves({ ...healthySecret(DATABASE_SECRET), PrimaryRegion: 'us-west-2' });
    s3.on(HeadBucketCommand).rejects(new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'Not Found' }));

    const failure = await preflightSecurityIncident(config, incidentRun(), clients()).catch((error: unknown) => error as Error);

    expect(failure).toBeInstanceOf(IncidentPreflightFailed);
    const message = (failure as Error).message;
    expect(message).toMatch(/^5 problem\(s\) before the first change of incident SEC-2026-041; nothing was changed:/);
    expect(message).toContain('api-deployment: deployment production/frontier-api on frontier-prod-cluster: deployment production/frontier-api has containers envoy, server');
    expect(message).toContain('emergency-mode-configmap: ConfigMap production/frontier-config on frontier-prod-cluster');
    expect(message).toContain(`${API_KEYS} in us-east-1: a rotation is in progress (version v-2 is AWSPENDING)`);
    expect(message).toContain(`${DATABASE_SECRET} in us-east-1: a replica of the secret in us-west-2`);
    expect(message).toContain('evidence-bucket: s3://frontier-prod-dr-evidence');
  });

  it('names a WAF IP set that does not exist, before the network policy is applied and the set found missing half-way', async () => {
    waf.on(GetIPSetCommand).rejects(new WAFNonexistentItemException({ message: 'not found', $metadata: { httpStatusCode: 400 } }));

    await expect(preflightSecurityIncident(config, incidentRun(), clients())).rejects.toThrow(/1 problem\(s\)[\s\S]*waf-ip-set: [\s\S]*no such IP set/);
  });

  it('does not look for the WAF IP set when there is nothing to block', async () => {
    waf.on(GetIPSetCommand).rejects(new WAFNonexistentItemException({ message: 'not found', $metadata: { httpStatusCode: 400 } }));

    const result = await preflightSecurityIncident(config, incidentRun({ blockIps: [] }), clients());

    expect(result.checks?.map((c) => c.name)).not.toContain('waf-ip-set');
    expect(waf.calls()).toHaveLength(0);
  });

  it('names a missing or deleted secret', async () => {
    secrets.on(DescribeSecretCommand, { SecretId: API_KEYS }).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: { httpStatusCode: 400 } }));
    secrets.on(DescribeSecretCommand, { SecretId: DATABASE_SECRET }).resolves({ ...healthySecret(DATABASE_SECRET), DeletedDate: new Date('2026-11-29T00:00:00Z') });

    await expect(preflightSecurityIncident(config, incidentRun(), clients())).rejects.toThrow(/2 problem\(s\)[\s\S]*frontier\/prod\/api-keys in us-east-1:[\s\S]*scheduled for deletion/);
  });

  it('throws a throttled or failing read for the state to retry, instead of calling it a problem', async () => {
    secrets.on(DescribeSecretCommand).rejects(new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }));
    await expect(preflightSecurityIncident(config, incidentRun(), clients())).rejects.toThrow(AwsTransientError);
  });

  it('throws an API server that answers 503 for the state to retry', async () => {
    double.failNext({ method: 'GET', path: deploymentPath(NS, API), status: 503, times: 5 });
    await expect(preflightSecurityIncident(config, incidentRun(), clients())).rejects.toThrow(KubernetesTransientError);
  });

  it('calls a denied read a problem (the deployment must grant it), not a reason to retry', async () => {
    double.failNext({ method: 'GET', path: CONFIG_MAP_PATH, status: 403 });
    await expect(preflightSecurityIncident(config, incidentRun(), clients())).rejects.toThrow(/1 problem\(s\)[\s\S]*forbidden by RBAC/);
  });

  it('checks no container when there is no patch, and no API-key secret when none is configured', async () => {
    const withoutKeys = configWith((c) => {
      delete c.securityIncident!.apiKeys;
    });
    double.on('GET', deploymentPath(NS, API), { body: apiDeployment([{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }]) });
    // No secrets named: none rotated after the containment either.
    const run = planRun('security-incident', { incidentId: 'SEC-2026-042', secrets: [] }, execution, withoutKeys);

    const result = await preflightSecurityIncident(withoutKeys, run, clients());

    expect(result.data).toMatchObject({ apiKeySecret: null, secrets: [], patchContainer: null });
    expect(secrets.calls()).toHaveLength(0);
  });
});

describe('securityIncidentReport (the report section)', () => {
  const step = (data: unknown, finishedAt = '2026-11-30T12:02:00.000Z') => ({ step: { status: 'succeeded' as const, startedAt: '2026-11-30T12:01:00.000Z', finishedAt, actions: [] }, data });

  it('reads the places BlockAddresses reports, measures the response to the last containment job, and marks a failed rotation', () => {
    const run = { ...incidentRun(), startedAt: '2026-11-30T12:00:00.000Z' };
    const section = securityIncidentReport({
      run,
      items: [
        { item: 'api-keys', steps: { RevokeApiKeys: step({ secret: API_KEYS, versionId: 'k-2' }), CheckApiKeyRotation: step({ completed: true }, '2026-11-30T12:04:30.000Z') } },
        {
          item: 'block-addresses',
          steps: {
            BlockAddresses: step({
              addresses: ['203.0.113.7/32'],
              places: [
                { place: 'network-policy', outcome: 'not-applied', resource: 'NetworkPolicy', blocked: [], added: [], notBlockable: [], effective: 'nowhere', reason: 'policy frontier-ingress already selects the API pods' },
                { place: 'waf-ip-set', outcome: 'blocked', resource: 'WAF IP set', blocked: ['203.0.113.7/32'], added: ['203.0.113.7/32'], notBlockable: [], effective: 'the web ACL' },
              ],
            }),
          },
        },
        { item: 'emergency-mode', steps: { SetEmergencyMode: step({ configMap: 'frontier-config', key: 'emergency_mode', previousValue: null, changed: true }) } },
        { item: 'evidence', steps: { CollectEvidence: step({ bucket: 'b', prefix: 'p/', objects: [{ key: 'p/logs', bytes: 67108864, sha256: 'x', versionId: 'v', kind: 'pod-log', truncated: true }] }) } },
      ],
      rotations: [{ item: `secret ${DATABASE_SECRET}`, steps: { StartSecretRotation: step({ versionId: 'd-2' }) }, failures: { CheckSecretRotation: { Error: 'RotationNotCompleted', Cause: '...' } } }],
    })!;

    expect(section.containment).toEqual([
      { place: 'network-policy', outcome: 'not-applied: policy frontier-ingress already selects the API pods', addresses: [], effective: 'nowhere' },
      { place: 'waf-ip-set', outcome: 'blocked', addresses: ['203.0.113.7/32'], effective: 'the web ACL' },
    ]);
    expect(section.responseTime).toEqual({ from: '2026-11-30T12:00:00.000Z', containedAt: '2026-11-30T12:04:30.000Z', seconds: 270 });
    expect(section.apiKeys).toEqual({ secret: API_KEYS, versionId: 'k-2', status: 'completed' });
    expect(section.rotations).toEqual([{ secret: DATABASE_SECRET, versionId: 'd-2', status: 'failed' }]);
    expect(section.evidence?.objects[0]).toMatchObject({ truncated: true });
    expect(section.patch).toEqual({ image: PATCH, previousImage: null, container: null, changed: false, rolledOut: null });
    const markdown = renderSecurityIncident(section).join('\n');
    expect(markdown).toContain('- Response time: 4.5 min (270 s)');
    expect(markdown).toContain('| p/logs (truncated) | pod-log | 67108864 | x | v |');
  });
});
