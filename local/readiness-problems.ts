// What the readiness evaluation needs of the emulated deployment beyond the example seed, and the
// problems the readiness drill plants: at least one per scenario, each a thing that would stop that
// scenario in a real outage and that only a check made before the outage finds in time. Used by the
// readiness drill (cli/drill-readiness.ts) and test/integration/readiness.test.ts.
import { routeCheckName } from '../shared/readiness-network.js';
import { plantMissingRolePermission, plantMissingVpcRoute, seedStackRolesAndNetwork, withSeededNetwork } from './readiness-seed.js';
import type { EmulatedEnvironment } from './environment.js';
import { seedExampleDeployment, withSeededWafIpSet, type SeededDeployment } from './seed.js';
import { CreateSecurityGroupCommand, DeleteSecurityGroupCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { DeleteDBSubnetGroupCommand } from '@aws-sdk/client-rds';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { DeleteIPSetCommand, GetIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { wafIpSetRegion, type DeploymentConfig } from '../shared/config.js';
import type { ScenarioName } from '../shared/scenarios.js';
import type { ClusterEnvironment } from './clusters.js';
import { EMULATOR_CREDENTIALS, emulatorClients } from './emulator-clients.js';

/** One planted problem: which scenario it stops, and the check that must find it. */
export interface PlantedReadinessProblem {
  scenario: ScenarioName;
  /** The ReadinessCheck name that must fail. */
  check: string;
  /** What was done, for the drill's output. */
  what: string;
}

/**
 * The example deployment as the readiness evaluation reads it, healthy: the example seed, the failback
 * key it made, the config's security groups, and the stack's own roles, functions and recovery VPC
 * (the role and route checks read them). `config` is the emulator's; returns it with every seeded id
 * mapped in, and what the seed made. Used by the readiness drill and its integration test.
 */
export async function seedReadinessDeployment(
  config: DeploymentConfig,
  environment: Pick<EmulatedEnvironment, 'endpoint' | 'postgres'>,
  clusters: ClusterEnvironment,
): Promise<{ config: DeploymentConfig; seeded: SeededDeployment }> {
  const seeded = await seedExampleDeployment(config, environment.endpoint, environment.postgres, clusters);
  let ready = config.regionFailback && seeded.failbackKeyArn ? { ...config, regionFailback: { ...config.regionFailback, kmsKeyArn: seeded.failbackKeyArn } } : config;
  ready = await seedSecurityGroups(withSeededWafIpSet(ready, seeded), environment.endpoint);
  ready = withSeededNetwork(ready, await seedStackRolesAndNetwork(environment.endpoint, ready));
  return { config: ready, seeded };
}

/**
 * The security groups the config names, created in the region each is used in (moto chooses their
 * ids), and the config with each configured id replaced by the created one, as the emulator maps other
 * names it cannot choose (withSeededWafIpSet). Restores never run here: only their existence is read.
 */
export async function seedSecurityGroups(config: DeploymentConfig, endpoint: string): Promise<DeploymentConfig> {
  const created = new Map<string, string>();
  const make = async (region: string, id: string): Promise<string> => {
    const key = `${region} ${id}`;
    const known = created.get(key);
    if (known) return known;
    const ec2 = emulatorClients(endpoint, region).ec2;
    const vpc = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs?.[0]?.VpcId;
    const group = await ec2.send(new CreateSecurityGroupCommand({ GroupName: `frontier-dr-${id}`, Description: `stands in for ${id}`, ...(vpc ? { VpcId: vpc } : {}) }));
    created.set(key, group.GroupId as string);
    return group.GroupId as string;
  };
  const mapAll = (region: string, ids: readonly string[]) => Promise.all(ids.map((id) => make(region, id)));
  const databases = [];
  for (const database of config.databases) {
    const restoreTest = { ...database.restoreTest, securityGroupIds: await mapAll(config.recoveryRegion, database.restoreTest.securityGroupIds) };
    const recovery = database.recovery?.securityGroupIds ? { ...database.recovery, securityGroupIds: await mapAll(config.primaryRegion, database.recovery.securityGroupIds) } : database.recovery;
    databases.push({ ...database, restoreTest, ...(recovery ? { recovery } : {}) });
  }
  const failover = config.regionFailover;
  return {
    ...config,
    databases,
    ...(failover ? { regionFailover: { ...failover, restore: { ...failover.restore, securityGroupIds: await mapAll(config.recoveryRegion, failover.restore.securityGroupIds) } } } : {}),
  };
}

/**
 * Plants one problem per scenario the config supports (backup-verification's is the seed's own: the
 * unencrypted legacy snapshot) and returns them:
 *   restore-test        its scratch restore's subnet group deleted in the recovery region
 *   database-recovery   the restored instance's security group deleted in the primary region
 *   emergency-rollback  the primary cluster with only 1 of 3 nodes Ready (kwok stops the others)
 *   cluster-failover    the production manifests deleted from their bucket (the prefix is empty)
 *   region-failover     the Redis AUTH secret deleted (the health gate could not read it)
 *   region-failback     the primary region's replica of the connection secret deleted
 *   security-incident   the WAF IP set the blocked addresses go into deleted
 * `config` is the emulator's (ids mapped as the seed made them).
 */
export async function plantReadinessProblems(config: DeploymentConfig, endpoint: string, clusters?: Pick<ClusterEnvironment, 'setPrimary'>): Promise<PlantedReadinessProblem[]> {
  const primary = emulatorClients(endpoint, config.primaryRegion);
  const recovery = emulatorClients(endpoint, config.recoveryRegion);
  const planted: PlantedReadinessProblem[] = [
    { scenario: 'backup-verification', check: 'encryption', what: 'the seed\'s legacy unencrypted snapshot (example seed)' },
  ];
  const database = config.databases[0];
  if (database?.restoreTest.subnetGroup) {
    await recovery.rds.send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: database.restoreTest.subnetGroup }));
    planted.push({ scenario: 'restore-test', check: 'subnet-group', what: `DB subnet group ${database.restoreTest.subnetGroup} deleted in ${config.recoveryRegion}` });
  }
  // Not its subnet or parameter group: the source instance uses those, and moto cannot describe an
  // instance whose group is gone. The restore's security group is the restore's alone.
  const recoverable = config.databases.find((d) => d.recovery?.securityGroupIds?.length);
  const group = recoverable?.recovery?.securityGroupIds?.[0];
  if (group) {
    await primary.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group }));
    planted.push({ scenario: 'database-recovery', check: 'security-groups', what: `security group ${group} (the restore's) deleted in ${config.primaryRegion}` });
  }
  if (config.kubernetes && clusters) {
    await clusters.setPrimary('nodes-not-ready');
    planted.push({ scenario: 'emergency-rollback', check: 'primary-cluster', what: `primary cluster ${config.kubernetes.clusters.primary.name}: only 1 of 3 nodes Ready` });
    const { bucket, prefix } = config.kubernetes.manifests;
    const listed = await recovery.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    for (const object of listed.Contents ?? []) await recovery.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
    planted.push({ scenario: 'cluster-failover', check: 'manifests', what: `s3://${bucket}/${prefix} emptied (${listed.Contents?.length ?? 0} manifests deleted)` });
  }
  const redisSecret = config.regionFailover?.health.redis?.authSecret;
  if (redisSecret) {
    await recovery.secrets.send(new DeleteSecretCommand({ SecretId: redisSecret, ForceDeleteWithoutRecovery: true }));
    planted.push({ scenario: 'region-failover', check: 'secret-readable', what: `secret ${redisSecret} deleted in ${config.recoveryRegion}` });
  }
  const failbackDatabase = config.regionFailback ? config.databases.find((d) => d.name === config.regionFailover?.database) : undefined;
  if (failbackDatabase) {
    // The failback repoints the primary region's replica of the connection secret: gone, it could not.
    await primary.secrets.send(new DeleteSecretCommand({ SecretId: failbackDatabase.credentialsSecret, ForceDeleteWithoutRecovery: true }));
    planted.push({ scenario: 'region-failback', check: 'secret-readable', what: `secret ${failbackDatabase.credentialsSecret} deleted in ${config.primaryRegion} (the failback repoints it)` });
  }
  const ipSet = config.securityIncident?.blockIps.wafIpSet;
  if (config.securityIncident && ipSet) {
    const waf = new WAFV2Client({ region: wafIpSetRegion(config, ipSet), endpoint, credentials: EMULATOR_CREDENTIALS });
    const found = await waf.send(new GetIPSetCommand({ Name: ipSet.name, Id: ipSet.id, Scope: ipSet.scope }));
    await waf.send(new DeleteIPSetCommand({ Name: ipSet.name, Id: ipSet.id, Scope: ipSet.scope, LockToken: found.LockToken }));
    planted.push({ scenario: 'security-incident', check: 'waf-ip-set', what: `WAF IP set ${ipSet.name} deleted` });
  }
  // The stack's own roles and routes (seeded by seedStackRolesAndNetwork): a role missing one
  // permission (backup verification's bucket check) and a subnet without a route to Secrets Manager
  // (the VPC functions of database recovery).
  const role = await plantMissingRolePermission(endpoint, config);
  planted.push({ scenario: 'backup-verification', check: `role may call ${role.action}`, what: `${role.functionName}'s role without ${role.action}` });
  const route = await plantMissingVpcRoute(endpoint, config);
  planted.push({ scenario: 'database-recovery', check: routeCheckName('secretsmanager', config.recoveryRegion), what: `subnet ${route.subnetId} moved to route table ${route.routeTableId}, which has no route to Secrets Manager` });
  return planted;
}
