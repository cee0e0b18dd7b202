// The Preflight step of a region failover: everything that can be checked before the first change,
// all of it in the recovery region (and Route 53, which is global). A failure here ends the run with
// nothing changed and DNS untouched. The recovery cluster's reachability is its own state
// (AssessRecoveryCluster), since it needs the Kubernetes client this function's bundle does without.
import { DescribeDBParameterGroupsCommand, DescribeDBSubnetGroupsCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { findDatabase, findObjective, kubernetesConfig, regionFailoverConfig, type DeploymentConfig, type Objective } from './config.js';
import { findRecordSet, normaliseDnsName } from './dns.js';
import { awsCall, AwsTransientError, RecoveryError } from './errors.js';
import { describeRegionRestoreSource, findRegionRestoreSource, regionRestoreSettings, type RegionRestoreSource } from './region-failover.js';
import type { Check } from './report.js';
import type { RestoreSetting } from './restore-settings.js';
import { describeRestoreSettings } from './restore-settings.js';
import { fetchDatabaseCredentials } from './secrets.js';
import type { StepResult } from './steps.js';

export interface PreflightClients {
  /** All in the recovery region. */
  rds: RDSClient;
  s3: S3Client;
  secrets: SecretsManagerClient;
  /** Route 53 (global). */
  route53: Route53Client;
}

export interface RegionFailoverPlan {
  passed: boolean;
  database: string;
  regions: { primary: string; recovery: string };
  /** null when no restore source was found (then `passed` is false). */
  restoreSource: RegionRestoreSource | null;
  restoreSettings: RestoreSetting[];
  /** The objectives rows the report measures the failover against. */
  objectives: { api: Objective; database: Objective };
  /** UTC ISO: the outage start the data-loss window and the recovery times are measured from. */
  outageAt: string;
}

/** A check's outcome, or its failure turned into a failed check (a named error's message). */
async function check(name: string, resource: string, target: string, probe: () => Promise<string>): Promise<Check> {
  try {
    const measured = await probe();
    return { name, resource, measured, target, passed: true, message: `${resource}: ${measured}` };
  } catch (error) {
    // A throttled or timed-out read says nothing about readiness: the state's Retry tries again.
    if (error instanceof AwsTransientError || !(error instanceof Error)) throw error;
    return { name, resource, measured: `${error.name}: ${error.message}`, target, passed: false, message: `${resource}: ${error.message}` };
  }
}

/**
 * The Preflight step: chooses the restore source in the recovery region (region-failover.ts: replicated
 * automated backups, else the newest encrypted snapshot copy, with its age against the RPO) and
 * resolves the restored instance's settings (regionFailover.restore), then checks, read-only: the
 * restore's subnet group and parameter group exist there, the connection secret is readable, the
 * production manifests are in their bucket, and each control-plane DNS record exists (data-plane
 * records: their routing controls are read when moved). Every finding is a Check; `passed` only when
 * all pass. Never changes anything.
 *
 * AWS (recovery region): rds:DescribeDBInstanceAutomatedBackups, DescribeDBSnapshots,
 * DescribeDBSubnetGroups, DescribeDBParameterGroups; secretsmanager:GetSecretValue; s3:ListObjectsV2;
 * route53:ListResourceRecordSets (global). A check that fails is a failed check, not an error; throws
 * InvalidConfig (no regionFailover section, unknown database or objectives row) and AwsTransientError
 * (retried by the state).
 *
 * @param outageAt UTC ISO: the outage start (the alarm's state change, or the run's start).
 */
export async function preflightRegionFailover(config: DeploymentConfig, outageAt: string, clients: PreflightClients, now: Date): Promise<StepResult<RegionFailoverPlan>> {
  const failover = regionFailoverConfig(config);
  const database = findDatabase(config, failover.database);
  const kubernetes = kubernetesConfig(config);
  const region = config.recoveryRegion;
  const objectives = { api: findObjective(config, kubernetes.component), database: findObjective(config, database.component) };
  let restoreSource: RegionRestoreSource | null = null;
  const checks: Check[] = [];
  checks.push(
    await check('restore-source', `${database.name} in ${region}`, 'a restorable point in the recovery region', async () => {
      restoreSource = await findRegionRestoreSource(config, database, outageAt, clients.rds, now);
      return describeRegionRestoreSource(restoreSource);
    }),
  );
  const { subnetGroup, parameterGroup } = failover.restore;
  const more = await Promise.all([
    check('restore-subnet-group', `DB subnet group ${subnetGroup} in ${region}`, 'exists', async () => {
      const answer = await awsCall('rds:DescribeDBSubnetGroups', `${subnetGroup} in ${region}`, () => clients.rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: subnetGroup })));
      return `exists (${answer.DBSubnetGroups?.[0]?.Subnets?.length ?? 0} subnets)`;
    }),
    check('restore-parameter-group', `DB parameter group ${parameterGroup} in ${region}`, 'exists', async () => {
      const answer = await awsCall('rds:DescribeDBParameterGroups', `${parameterGroup} in ${region}`, () =>
        clients.rds.send(new DescribeDBParameterGroupsCommand({ DBParameterGroupName: parameterGroup })),
      );
      return `exists (family ${answer.DBParameterGroups?.[0]?.DBParameterGroupFamily ?? 'unknown'})`;
    }),
    check('connection-secret', `secret ${database.credentialsSecret} in ${region}`, 'readable, with username and password', async () => {
      const credentials = await fetchDatabaseCredentials(clients.secrets, database.credentialsSecret);
      return `readable (user ${credentials.username})`;
    }),
    check('manifests', `s3://${kubernetes.manifests.bucket}/${kubernetes.manifests.prefix}`, 'at least one manifest', async () => {
      const answer = await awsCall('s3:ListObjectsV2', `${kubernetes.manifests.bucket}/${kubernetes.manifests.prefix}`, () =>
        clients.s3.send(new ListObjectsV2Command({ Bucket: kubernetes.manifests.bucket, Prefix: kubernetes.manifests.prefix, MaxKeys: 100 })),
      );
      const count = (answer.Contents ?? []).filter((o) => /\.ya?ml$/.test(o.Key ?? '')).length;
      if (count === 0) throw new RecoveryError(`no .yaml manifests under s3://${kubernetes.manifests.bucket}/${kubernetes.manifests.prefix}`);
      return `${count} manifest files`;
    }),
    ...failover.dns.map((record) =>
      record.mode === 'data-plane'
        ? check('dns-record', `${normaliseDnsName(record.recordName)} (data-plane)`, 'routing controls configured', async () => `routing controls ${record.routingControls.primary} / ${record.routingControls.backup} through ${record.clusterEndpoints.length} cluster endpoints`)
        : check('dns-record', `${normaliseDnsName(record.recordName)} ${record.recordType} in ${record.hostedZoneId}`, 'exists as a simple record', async () => {
            const found = await findRecordSet(clients.route53, record.hostedZoneId, record.recordName, record.recordType);
            if (!found) throw new RecoveryError(`${normaliseDnsName(record.recordName)} ${record.recordType} does not exist in ${record.hostedZoneId}: nothing to move`);
            return 'exists';
          }),
    ),
  ]);
  checks.push(...more);
  const source = restoreSource as RegionRestoreSource | null;
  const restoreSettings = source ? regionRestoreSettings(failover.restore, database, source) : [];
  const passed = checks.every((c) => c.passed);
  const failed = checks.filter((c) => !c.passed);
  return {
    data: { passed, database: database.name, regions: { primary: config.primaryRegion, recovery: region }, restoreSource: source, restoreSettings, objectives, outageAt },
    checks,
    detail: passed
      ? `ready to fail over to ${region}: restore from ${source ? describeRegionRestoreSource(source) : 'nothing'}; settings: ${describeRestoreSettings(restoreSettings)}`
      : `not ready, nothing changed: ${failed.map((c) => c.message).join('; ')}`,
  };
}
