// Region failback's check that the primary region answers again (RDS, EKS) before anything changes.
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import { DescribeClusterCommand, type DescribeClusterCommandOutput, type EKSClient } from '@aws-sdk/client-eks';
import { clusterFor, type DeploymentConfig } from './config.js';
import { awsCall, PrimaryRegionUnavailable } from './errors.js';
import type { StepResult } from './steps.js';

// ---------------------------------------------------------------------------------------------------
// Is the primary region back?

export interface PrimaryRegionClients {
  rds: RDSClient;
  eks: EKSClient;
}

/**
 * The CheckPrimaryRegionBack step: the primary region answers RDS (DescribeDBInstances) and EKS
 * (DescribeCluster of the primary cluster, which must be ACTIVE). Read-only; every call is made, so
 * the error names every one that failed.
 *
 * AWS: rds:DescribeDBInstances, eks:DescribeCluster in the primary region. Thrown:
 * PrimaryRegionUnavailable (naming each failed call and why), AwsAccessDenied.
 */
export async function checkPrimaryRegionBack(config: DeploymentConfig, clients: PrimaryRegionClients): Promise<StepResult<{ rdsInstances: number; clusterStatus: string }>> {
  const region = config.primaryRegion;
  const cluster = clusterFor(config, 'primary');
  const [rds, eks] = await Promise.allSettled([
    awsCall('rds:DescribeDBInstances', `instances in ${region}`, () => clients.rds.send(new DescribeDBInstancesCommand({ MaxRecords: 20 }))),
    awsCall('eks:DescribeCluster', `${cluster.name} in ${region}`, () => clients.eks.send(new DescribeClusterCommand({ name: cluster.name }))),
  ]);
  const problems: string[] = [];
  for (const outcome of [rds, eks]) {
    if (outcome.status === 'rejected') {
      const error = outcome.reason as Error;
      // A missing permission is the deployment's fault, not the region's: say that instead.
      if (error.name === 'AwsAccessDenied') throw error;
      problems.push(error.message);
    }
  }
  const status = eks.status === 'fulfilled' ? ((eks.value as DescribeClusterCommandOutput).cluster?.status ?? 'unknown') : 'unreachable';
  if (eks.status === 'fulfilled' && status !== 'ACTIVE') problems.push(`EKS cluster ${cluster.name} in ${region} is ${status}, not ACTIVE`);
  if (problems.length) {
    throw new PrimaryRegionUnavailable(`the primary region ${region} is not back: ${problems.join('; ')}. Nothing was changed; start the failback again once it answers`);
  }
  const instances = rds.status === 'fulfilled' ? (rds.value.DBInstances?.length ?? 0) : 0;
  return { data: { rdsInstances: instances, clusterStatus: status }, detail: `${region} answers: RDS (${instances} instance(s) listed), EKS cluster ${cluster.name} ${status}` };
}

