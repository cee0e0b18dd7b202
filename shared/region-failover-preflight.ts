// The Preflight step of a region failover, the database's part of everything that can be checked
// before the first change, all of it in the recovery region. A failure here ends the run with nothing
// changed and DNS untouched. The manifests and DNS records are PreflightTraffic's
// (region-traffic-preflight.ts), the recovery cluster's reachability AssessRecoveryCluster's: each
// function bundles only the clients it calls.
import { DescribeDBParameterGroupsCommand, DescribeDBSubnetGroupsCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { findDatabase, findObjective, kubernetesConfig, regionFailoverConfig, type DeploymentConfig, type Objective } from './config.js';
import { awsCall } from './errors.js';
import { check } from './preflight-check.js';
import { describeRegionRestoreSource, findRegionRestoreSource, regionRestoreSettings, type RegionRestoreSource } from './region-failover.js';
import type { Check } from './report.js';
import type { RestoreSetting } from './restore-settings.js';
import { describeRestoreSettings } from './restore-settings.js';
import { fetchDatabaseCredentials } from './secrets.js';
import type { StepResult } from './steps.js';

export interface PreflightClients {
  /** Both in the recovery region. */
  rds: RDSClient;
  secrets: SecretsManagerClient;
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

/**
 * The Preflight step: chooses the restore source in the recovery region (region-failover.ts: replicated
 * automated backups, else the newest encrypted snapshot copy, with its age against the RPO) and
 * resolves the restored instance's settings (regionFailover.restore), then checks, read-only: the
 * restore's subnet group and parameter group exist there and the connection secret is readable. Every
 * finding is a Check; `passed` only when all pass. Never changes anything.
 *
 * AWS (recovery region): rds:DescribeDBInstanceAutomatedBackups, DescribeDBSnapshots,
 * DescribeDBSubnetGroups, DescribeDBParameterGroups; secretsmanager:GetSecretValue. A check that fails is a failed check, not an error; throws
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
