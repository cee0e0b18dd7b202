// Readiness: could each scenario run now? Asked every 30 minutes (and on demand) by the readiness state
// machine, before an outage rather than during one. Every check is read-only and asks what the
// scenario's own preflight asks, through the same functions (region-failover-preflight.ts,
// region-traffic-preflight.ts, security-incident-preflight.ts, backups.ts, database-recovery.ts, the
// Kubernetes library): a readiness verdict and a run's preflight cannot disagree. A check that cannot
// run (denied, throttled, a cluster that does not answer) is a reason the scenario is not ready, never
// a failed evaluation.
import { DescribeDBParameterGroupsCommand, DescribeDBSubnetGroupsCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { GetHostedZoneCommand, type Route53Client } from '@aws-sdk/client-route-53';
import type { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import type { S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';
import { listUsableSnapshots, verifyDatabaseBackups } from './backups.js';
import { loadProductionManifests } from './cluster-ops.js';
import { clusterFor, findObjective, incidentRotatableSecrets, kubernetesConfig, type ClusterRole, type DatabaseConfig, type DeploymentConfig, type DnsRecordConfig } from './config.js';
import { assessDatabase } from './database-recovery.js';
import { findRecordSet, normaliseDnsName, readRoutingControls } from './dns.js';
import { awsCall, KubernetesTransientError, KubernetesUnreachable, RecoveryError, ResourceNotFound, AwsTransientError } from './errors.js';
import type { ScenarioReadiness } from './readiness-run.js';
export { READINESS, planReadinessRun, type ReadinessRun, type ScenarioReadiness } from './readiness-run.js';
import type { KubernetesConnection } from './kubernetes/connection.js';
import { planRollback } from './kubernetes/rollback.js';
import { assessCluster, readDeployment } from './kubernetes/workloads.js';
import type { ReadinessCheck } from './readiness-check.js';
import { checkVpcRoutes } from './readiness-network.js';
import { checkRolePermissions } from './readiness-permissions.js';
import { preflightRegionFailover } from './region-failover-preflight.js';
import { preflightRegionTraffic } from './region-traffic-preflight.js';
import type { Check } from './report.js';
import { describeRestorePoint } from './restore-point.js';
import { whyUnsupported, type ScenarioName } from './scenarios.js';
import { fetchDatabaseCredentials } from './secrets.js';
import { incidentPreflightChecks } from './security-incident-preflight.js';

/** What the checks read through; every client is used read-only. */
export interface ReadinessDeps {
  rds: (region: string) => RDSClient;
  secrets: (region: string) => SecretsManagerClient;
  kms: (region: string) => KMSClient;
  ec2: (region: string) => EC2Client;
  waf: (region: string) => WAFV2Client;
  /** The recovery region's S3 (manifests, evidence bucket). */
  s3: S3Client;
  route53: Route53Client;
  routingControl: (endpoint: string, region: string) => Route53RecoveryClusterClient;
  connect: (role: ClusterRole) => Promise<KubernetesConnection>;
  iam: IAMClient;
  lambda: LambdaClient;
  /** `<service>-<stage>-`: a deployed function is `<prefix><functionKey>`. */
  functionNamePrefix: string;
  /** How long a cluster may take to answer /version and the node list (ms). */
  clusterTimeoutMs: number;
}

type Probe = () => Promise<string>;

/** A check's outcome: passed with what was found, or failed with why (whatever was thrown, named). */
async function probe(scenario: ScenarioName, name: string, resource: string, work: Probe): Promise<ReadinessCheck> {
  try {
    return { scenario, name, resource, passed: true, message: await work() };
  } catch (error) {
    return { scenario, name, resource, passed: false, message: cannotBecause(error) };
  }
}

/** A thrown error as a not-ready reason: its name says whether it is missing, denied or unreachable. */
function cannotBecause(error: unknown): string {
  if (!(error instanceof Error)) return `could not be checked: ${String(error)}`;
  // A throttled or unreachable service is not proof the resource is missing: say it could not be checked.
  const unchecked = error instanceof AwsTransientError || error instanceof KubernetesTransientError || error instanceof KubernetesUnreachable;
  return `${unchecked ? 'could not be checked: ' : ''}${error.name}: ${error.message}`;
}

/** A group of checks that may itself throw before it finds anything: then one failed check says why. */
async function group(scenario: ScenarioName, name: string, resource: string, work: () => Promise<ReadinessCheck[]>): Promise<ReadinessCheck[]> {
  try {
    return await work();
  } catch (error) {
    return [{ scenario, name, resource, passed: false, message: cannotBecause(error) }];
  }
}

/** A preflight's Checks as readiness checks (the preflight's own words). */
function fromChecks(scenario: ScenarioName, checks: readonly Check[]): ReadinessCheck[] {
  return checks.map((c) => ({ scenario, name: c.name, resource: c.resource, passed: c.passed, message: c.passed ? c.measured : c.message }));
}

// ---------------------------------------------------------------------------------------------------
// Single checks, each one AWS or Kubernetes read.

function subnetGroupCheck(scenario: ScenarioName, deps: ReadinessDeps, region: string, name: string | undefined, what: string): Promise<ReadinessCheck> {
  return probe(scenario, 'subnet-group', `DB subnet group ${name ?? '(none configured)'} in ${region}`, async () => {
    if (!name) throw new ResourceNotFound(`${what} names no subnet group: the restore would refuse to start`);
    const answer = await awsCall('rds:DescribeDBSubnetGroups', `${name} in ${region}`, () => deps.rds(region).send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name })));
    return `exists (${answer.DBSubnetGroups?.[0]?.Subnets?.length ?? 0} subnets, VPC ${answer.DBSubnetGroups?.[0]?.VpcId ?? 'unknown'})`;
  });
}

function parameterGroupCheck(scenario: ScenarioName, deps: ReadinessDeps, region: string, name: string, check = 'parameter-group'): Promise<ReadinessCheck> {
  return probe(scenario, check, `DB parameter group ${name} in ${region}`, async () => {
    const answer = await awsCall('rds:DescribeDBParameterGroups', `${name} in ${region}`, () => deps.rds(region).send(new DescribeDBParameterGroupsCommand({ DBParameterGroupName: name })));
    return `exists (family ${answer.DBParameterGroups?.[0]?.DBParameterGroupFamily ?? 'unknown'})`;
  });
}

/** ec2:DescribeSecurityGroups of the ids a restore is given: every one must exist in `region`. */
function securityGroupsCheck(scenario: ScenarioName, deps: ReadinessDeps, region: string, ids: readonly string[]): Promise<ReadinessCheck> {
  return probe(scenario, 'security-groups', `security groups ${ids.join(', ')} in ${region}`, async () => {
    const answer = await awsCall('ec2:DescribeSecurityGroups', `${ids.join(', ')} in ${region}`, () => deps.ec2(region).send(new DescribeSecurityGroupsCommand({ GroupIds: [...ids] })));
    const found = new Set((answer.SecurityGroups ?? []).map((g) => g.GroupId));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new ResourceNotFound(`${missing.join(', ')} not found in ${region}`);
    return `all ${ids.length} exist`;
  });
}

/** kms:DescribeKey: the key exists and is enabled (a disabled or pending-deletion key fails the restore). */
function kmsKeyCheck(scenario: ScenarioName, deps: ReadinessDeps, keyId: string, region: string, what: string): Promise<ReadinessCheck> {
  return probe(scenario, 'kms-key', `KMS key ${keyId} in ${region}`, async () => {
    const answer = await awsCall('kms:DescribeKey', `${keyId} in ${region}`, () => deps.kms(region).send(new DescribeKeyCommand({ KeyId: keyId })));
    const key = answer.KeyMetadata;
    if (!key?.Enabled || key.KeyState !== 'Enabled') throw new RecoveryError(`${what}: the key is ${key?.KeyState ?? 'in an unknown state'}; it must be Enabled`);
    return `enabled (${what})`;
  });
}

/**
 * secretsmanager:DescribeSecret, then GetSecretValue: the recovery may read it from here. The value
 * is read and dropped at once: only its version id goes into the finding.
 */
function secretReadableCheck(scenario: ScenarioName, deps: ReadinessDeps, secretId: string, region: string, database = false): Promise<ReadinessCheck> {
  return probe(scenario, 'secret-readable', `secret ${secretId} in ${region}`, async () => {
    const secrets = deps.secrets(region);
    const described = await awsCall('secretsmanager:DescribeSecret', `${secretId} in ${region}`, () => secrets.send(new DescribeSecretCommand({ SecretId: secretId })));
    if (described.DeletedDate) throw new RecoveryError(`scheduled for deletion since ${new Date(described.DeletedDate).toISOString()}: restore it (RestoreSecret)`);
    if (database) {
      // The shape the restore and the health gates read (username and password), checked as they check it.
      const credentials = await fetchDatabaseCredentials(secrets, secretId);
      return `readable (user ${credentials.username})`;
    }
    const value = await awsCall('secretsmanager:GetSecretValue', `${secretId} in ${region}`, () => secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' })));
    return `readable (AWSCURRENT version ${value.VersionId ?? 'unknown'})`;
  });
}

/** Does the cluster answer, with at least half its nodes Ready (the scale-up needs them)? */
function clusterCheck(scenario: ScenarioName, config: DeploymentConfig, deps: ReadinessDeps, role: ClusterRole): Promise<ReadinessCheck> {
  const cluster = clusterFor(config, role);
  return probe(scenario, `${role}-cluster`, `${role} cluster ${cluster.name} (${cluster.region})`, async () => {
    const assessment = await assessCluster(await deps.connect(role), deps.clusterTimeoutMs);
    if (!assessment.reachable || !assessment.healthy) throw new RecoveryError(assessment.reason);
    return `answers (${assessment.version ?? 'version unknown'}), ${assessment.reason}`;
  });
}

function apiDeploymentCheck(scenario: ScenarioName, config: DeploymentConfig, deps: ReadinessDeps, role: ClusterRole): Promise<ReadinessCheck> {
  const { namespace, apiDeployment } = kubernetesConfig(config);
  const cluster = clusterFor(config, role);
  return probe(scenario, 'api-deployment', `deployment ${namespace}/${apiDeployment} on ${cluster.name}`, async () => {
    const deployment = await readDeployment(await deps.connect(role), namespace, apiDeployment);
    return `exists (${deployment.spec?.replicas ?? 0} replicas)`;
  });
}

function manifestsCheck(scenario: ScenarioName, config: DeploymentConfig, deps: ReadinessDeps): Promise<ReadinessCheck> {
  const { bucket, prefix } = kubernetesConfig(config).manifests;
  return probe(scenario, 'manifests', `s3://${bucket}/${prefix}`, async () => {
    const set = await loadProductionManifests(deps.s3, config);
    return `${set.sources.length} file(s), ${set.documents.length} object(s)`;
  });
}

/** A DNS record a recovery moves: its hosted zone and record exist (control-plane), or its routing controls answer (data-plane). */
function dnsRecordChecks(scenario: ScenarioName, deps: ReadinessDeps, record: DnsRecordConfig): Promise<ReadinessCheck>[] {
  if (record.mode === 'data-plane') {
    const arns = [record.routingControls.primary, record.routingControls.backup];
    return [
      probe(scenario, 'routing-controls', `${normaliseDnsName(record.recordName)} (data-plane): ${arns.join(', ')}`, async () => {
        const read = await readRoutingControls(deps, record.clusterEndpoints, arns);
        return `${read.states.map((s) => `${s.arn.split('/').pop()} ${s.state}`).join(', ')}${read.skipped.length ? ` (endpoints not answering: ${read.skipped.join('; ')})` : ''}`;
      }),
    ];
  }
  return [
    probe(scenario, 'hosted-zone', `hosted zone ${record.hostedZoneId}`, async () => {
      const zone = await awsCall('route53:GetHostedZone', record.hostedZoneId, () => deps.route53.send(new GetHostedZoneCommand({ Id: record.hostedZoneId })));
      return `exists (${zone.HostedZone?.Name ?? 'unnamed'})`;
    }),
    probe(scenario, 'dns-record', `${normaliseDnsName(record.recordName)} ${record.recordType} in ${record.hostedZoneId}`, async () => {
      const found = await findRecordSet(deps.route53, record.hostedZoneId, record.recordName, record.recordType);
      if (!found) throw new ResourceNotFound(`${normaliseDnsName(record.recordName)} ${record.recordType} does not exist in ${record.hostedZoneId}: nothing to move`);
      return 'exists';
    }),
  ];
}

/** The newest usable snapshot copy in the recovery region, its age against the database's RPO (plus the copy schedule's slack). */
function recoveryCopyCheck(scenario: ScenarioName, config: DeploymentConfig, deps: ReadinessDeps, database: DatabaseConfig, now: Date): Promise<ReadinessCheck> {
  const region = config.recoveryRegion;
  return probe(scenario, 'restore-source', `${database.name} snapshot copies in ${region}`, async () => {
    const [newest] = await listUsableSnapshots(deps.rds(region), region, database);
    if (!newest) throw new ResourceNotFound(`no usable snapshot copy of ${database.name} in ${region}: nothing to restore from`);
    const ageMinutes = Math.round((now.getTime() - Date.parse(newest.createdAt)) / 60_000);
    // The copies come every snapshotIntervalHours: that, plus the tolerance, is the freshest they can be.
    const limit = database.snapshotIntervalHours * 60 + database.toleranceMinutes;
    const rpo = findObjective(config, database.component).rpoMinutes;
    if (ageMinutes > limit) throw new RecoveryError(`newest copy ${newest.id} is ${ageMinutes} min old; the copy schedule allows ${limit} min (RPO ${rpo} min)`);
    return `${newest.id}, ${ageMinutes} min old (at most ${limit} min by the copy schedule; RPO ${rpo} min)`;
  });
}

// ---------------------------------------------------------------------------------------------------
// Per scenario.

async function backupVerificationChecks(config: DeploymentConfig, deps: ReadinessDeps, now: Date): Promise<ReadinessCheck[]> {
  const scenario = 'backup-verification';
  // Its own checks: the database exists, the newest snapshot and the recovery-region copies against the RPO.
  const perDatabase = await Promise.all(
    config.databases.map((database) =>
      group(scenario, 'database-backups', `${database.name} (${config.primaryRegion}, ${config.recoveryRegion})`, async () => {
        const verified = await verifyDatabaseBackups(config, database, { primary: deps.rds(config.primaryRegion), recovery: deps.rds(config.recoveryRegion) }, now);
        return fromChecks(scenario, verified.checks ?? []);
      }),
    ),
  );
  return perDatabase.flat();
}

async function restoreTestChecks(config: DeploymentConfig, deps: ReadinessDeps, now: Date): Promise<ReadinessCheck[]> {
  const scenario = 'restore-test';
  const region = config.recoveryRegion;
  const checks = await Promise.all(
    config.databases.flatMap((database) => {
      const test = database.restoreTest;
      return [
        recoveryCopyCheck(scenario, config, deps, database, now),
        subnetGroupCheck(scenario, deps, region, test.subnetGroup, `databases[${database.name}].restoreTest`),
        ...(test.securityGroupIds.length ? [securityGroupsCheck(scenario, deps, region, test.securityGroupIds)] : []),
        ...(test.parameterGroup ? [parameterGroupCheck(scenario, deps, region, test.parameterGroup)] : []),
        ...(test.kmsKeyArn ? [kmsKeyCheck(scenario, deps, test.kmsKeyArn, region, 'the snapshot copies are encrypted with it')] : []),
        secretReadableCheck(scenario, deps, database.credentialsSecret, region, true),
      ];
    }),
  );
  return checks;
}

async function clusterFailoverChecks(config: DeploymentConfig, deps: ReadinessDeps): Promise<ReadinessCheck[]> {
  const scenario = 'cluster-failover';
  const traffic = kubernetesConfig(config).traffic;
  return Promise.all([
    clusterCheck(scenario, config, deps, 'backup'),
    apiDeploymentCheck(scenario, config, deps, 'backup'),
    manifestsCheck(scenario, config, deps),
    ...(traffic ? dnsRecordChecks(scenario, deps, traffic) : []),
  ]);
}

async function emergencyRollbackChecks(config: DeploymentConfig, deps: ReadinessDeps): Promise<ReadinessCheck[]> {
  const scenario = 'emergency-rollback';
  const { namespace, apiDeployment } = kubernetesConfig(config);
  const cluster = clusterFor(config, 'primary');
  return Promise.all([
    clusterCheck(scenario, config, deps, 'primary'),
    // The rollback's own first look (PlanRollback): a revision to go back to.
    probe(scenario, 'previous-revision', `deployment ${namespace}/${apiDeployment} on ${cluster.name}`, async () => {
      const plan = await planRollback(await deps.connect('primary'), namespace, apiDeployment);
      return `revision ${plan.currentRevision ?? '?'} (${plan.currentImages.join(', ')}) can go back to ${plan.targetRevision} (${plan.targetImages.join(', ')})`;
    }),
  ]);
}

async function databaseRecoveryChecks(config: DeploymentConfig, deps: ReadinessDeps, now: Date): Promise<ReadinessCheck[]> {
  const scenario = 'database-recovery';
  const primary = config.primaryRegion;
  const checks: Promise<ReadinessCheck>[] = [];
  for (const database of config.databases) {
    const recovery = database.recovery;
    if (!recovery) continue;
    // The recovery's own preflight (AssessDatabase), as if the incident were now: a restore point exists.
    checks.push(
      probe(scenario, 'restore-point', `${database.name} in ${primary}`, async () => {
        const assessed = await assessDatabase(config, database, { incidentAt: now.toISOString(), snapshot: null, restoreTime: null }, deps.rds(primary), now);
        return describeRestorePoint(assessed.data.restorePoint);
      }),
    );
    if (recovery.subnetGroup) checks.push(subnetGroupCheck(scenario, deps, primary, recovery.subnetGroup, `databases[${database.name}].recovery`));
    if (recovery.securityGroupIds) checks.push(securityGroupsCheck(scenario, deps, primary, recovery.securityGroupIds));
    if (recovery.parameterGroup) checks.push(parameterGroupCheck(scenario, deps, primary, recovery.parameterGroup));
    if (recovery.readOnlyMode === 'parameter-group' && recovery.readOnlyParameterGroup) {
      checks.push(parameterGroupCheck(scenario, deps, primary, recovery.readOnlyParameterGroup, 'read-only-parameter-group'));
    }
    checks.push(secretReadableCheck(scenario, deps, database.credentialsSecret, config.recoveryRegion, true));
  }
  // The API is stopped and brought back on the serving (primary) cluster.
  checks.push(clusterCheck(scenario, config, deps, 'primary'), apiDeploymentCheck(scenario, config, deps, 'primary'));
  return Promise.all(checks);
}

async function regionFailoverChecks(config: DeploymentConfig, deps: ReadinessDeps, now: Date): Promise<ReadinessCheck[]> {
  const scenario = 'region-failover';
  const failover = config.regionFailover;
  if (!failover) return [];
  const region = config.recoveryRegion;
  let sourceKey: string | null = null;
  // The run's own Preflight (restore source against the RPO, subnet group, parameter group, connection
  // secret) and PreflightTraffic (the control-plane records), as if the region failed now.
  const preflight = group(scenario, 'region-failover-preflight', `${failover.database} in ${region}`, async () => {
    const result = await preflightRegionFailover(config, now.toISOString(), { rds: deps.rds(region), secrets: deps.secrets(region) }, now);
    const source = result.data.restoreSource;
    sourceKey = !source ? null : source.kind === 'point-in-time' ? source.kmsKeyId : (source.snapshot.kmsKeyId ?? null);
    return fromChecks(scenario, result.checks ?? []);
  });
  const traffic = group(scenario, 'region-traffic-preflight', 'regionFailover.dns', async () => fromChecks(scenario, (await preflightRegionTraffic(config, { route53: deps.route53 })).checks ?? []));
  const [preflightChecks, trafficChecks, more] = await Promise.all([
    preflight,
    traffic,
    Promise.all([
      securityGroupsCheck(scenario, deps, region, failover.restore.securityGroupIds),
      clusterCheck(scenario, config, deps, 'backup'),
      apiDeploymentCheck(scenario, config, deps, 'backup'),
      manifestsCheck(scenario, config, deps),
      ...failover.dns.flatMap((record) => (record.mode === 'data-plane' ? dnsRecordChecks(scenario, deps, record) : [])),
      ...[...new Set(failover.dns.flatMap((r) => (r.mode === 'data-plane' ? [] : [r.hostedZoneId])))].map((zoneId) =>
        probe(scenario, 'hosted-zone', `hosted zone ${zoneId}`, async () => {
          const zone = await awsCall('route53:GetHostedZone', zoneId, () => deps.route53.send(new GetHostedZoneCommand({ Id: zoneId })));
          return `exists (${zone.HostedZone?.Name ?? 'unnamed'})`;
        }),
      ),
      ...(failover.health.redis?.authSecret ? [secretReadableCheck(scenario, deps, failover.health.redis.authSecret, region)] : []),
    ]),
  ]);
  // The restore needs its key: the configured one, else the one the chosen source is encrypted with.
  const key = failover.restore.kmsKeyArn ?? (sourceKey as string | null);
  const keyCheck = key ? [await kmsKeyCheck(scenario, deps, key, region, 'the restore source is encrypted with it')] : [];
  return [...preflightChecks, ...trafficChecks, ...more, ...keyCheck];
}

async function regionFailbackChecks(config: DeploymentConfig, deps: ReadinessDeps): Promise<ReadinessCheck[]> {
  const scenario = 'region-failback';
  const failback = config.regionFailback;
  const failover = config.regionFailover;
  if (!failback || !failover) return [];
  const database = config.databases.find((d) => d.name === failover.database);
  return Promise.all([
    // The snapshot copies back to the primary region are encrypted with this key, a key of that region.
    kmsKeyCheck(scenario, deps, failback.kmsKeyArn, config.primaryRegion, 'the failback copies snapshots to the primary region with it'),
    ...(database
      ? [
          secretReadableCheck(scenario, deps, database.credentialsSecret, config.recoveryRegion, true),
          // The failback repoints the primary region's replica of the connection secret.
          secretReadableCheck(scenario, deps, database.credentialsSecret, config.primaryRegion, true),
        ]
      : []),
  ]);
}

/** An address from TEST-NET-1 (RFC 5737): makes the preflight look at the WAF IP set without naming a real client. */
const READINESS_BLOCK_ADDRESS = '192.0.2.1/32';

async function securityIncidentChecks(config: DeploymentConfig, deps: ReadinessDeps): Promise<ReadinessCheck[]> {
  const scenario = 'security-incident';
  const incident = config.securityIncident;
  if (!incident) return [];
  // The incident's own preflight with the request a drill makes: every rotated secret, the WAF set when one is configured.
  const request = { blockIps: incident.blockIps.wafIpSet ? [READINESS_BLOCK_ADDRESS] : [], patchedImage: null, secrets: incidentRotatableSecrets(config) };
  const preflight = group(scenario, 'security-incident-preflight', `cluster ${clusterFor(config, incident.cluster).name}`, async () => {
    const result = await incidentPreflightChecks(config, request, { secrets: deps.secrets(config.recoveryRegion), s3: deps.s3, connect: () => deps.connect(incident.cluster), waf: deps.waf });
    return fromChecks(scenario, result.checks);
  });
  const secrets = [...new Set([...(incident.apiKeys ? [incident.apiKeys.secret] : []), ...request.secrets])];
  const [found, readable] = await Promise.all([preflight, Promise.all(secrets.map((s) => secretReadableCheck(scenario, deps, s, config.recoveryRegion)))]);
  return [...found, ...readable];
}

/**
 * evaluateScenarioReadiness (one item of the readiness Map): every read-only check of what `scenario`
 * needs, then the stack's own roles and routes (checkRolePermissions, checkVpcRoutes). Never throws
 * for a check: a check that cannot run is a failed check naming the error. `now`: the clock of the
 * freshness checks.
 *
 * AWS (each read-only, in the region the scenario reads it from): rds:DescribeDBInstances,
 * DescribeDBSnapshots, DescribeDBInstanceAutomatedBackups, DescribeDBSubnetGroups,
 * DescribeDBParameterGroups; ec2:DescribeSecurityGroups; kms:DescribeKey; secretsmanager:DescribeSecret,
 * GetSecretValue (the value is never kept); s3:ListBucket, s3:GetObject (manifests), s3:HeadBucket
 * (evidence); route53:GetHostedZone, ListResourceRecordSets; route53-recovery-cluster:GetRoutingControlState;
 * wafv2:GetIPSet; eks:DescribeCluster; Kubernetes GET /version, LIST nodes, GET deployments,
 * LIST replicasets, GET configmaps. Plus what the permission and network checks call.
 */
export async function evaluateScenarioReadiness(config: DeploymentConfig, scenario: ScenarioName, deps: ReadinessDeps, now: Date): Promise<ScenarioReadiness> {
  const started = Date.now();
  const own = (): Promise<ReadinessCheck[]> => {
    switch (scenario) {
      case 'backup-verification':
        return backupVerificationChecks(config, deps, now);
      case 'restore-test':
        return restoreTestChecks(config, deps, now);
      case 'cluster-failover':
        return clusterFailoverChecks(config, deps);
      case 'emergency-rollback':
        return emergencyRollbackChecks(config, deps);
      case 'database-recovery':
        return databaseRecoveryChecks(config, deps, now);
      case 'region-failover':
        return regionFailoverChecks(config, deps, now);
      case 'region-failback':
        return regionFailbackChecks(config, deps);
      case 'security-incident':
        return securityIncidentChecks(config, deps);
    }
  };
  const why = whyUnsupported(scenario, config);
  const checks = why
    ? [{ scenario, name: 'configured', resource: 'deployment config', passed: false, message: `this deployment's config ${why}` }]
    : (
        await Promise.all([
          group(scenario, 'scenario-checks', scenario, own),
          group(scenario, 'role-permissions', `${deps.functionNamePrefix}*`, () => checkRolePermissions({ iam: deps.iam, lambda: deps.lambda }, config, scenario, deps.functionNamePrefix)),
          group(scenario, 'vpc-routes', config.network.subnetIds.join(', '), () => checkVpcRoutes({ ec2: deps.ec2(config.recoveryRegion) }, config, scenario)),
        ])
      ).flat();
  return { scenario, ready: checks.every((c) => c.passed), evaluatedAt: now.toISOString(), durationMs: Date.now() - started, checks };
}
