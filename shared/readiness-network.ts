// Readiness: can the functions that run in the recovery VPC reach the AWS APIs they call? A function
// in a VPC has no public address: each API needs a NAT gateway route, an interface VPC endpoint with
// private DNS, or (S3, DynamoDB) a gateway endpoint on the subnet's route table; without one the call
// hangs until the step times out (the most common cause of failed rotations in the field). Read-only:
// EC2 DescribeSubnets, DescribeRouteTables and DescribeVpcEndpoints.
import {
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  type EC2Client,
  type RouteTable,
  type SecurityGroup,
  type Subnet,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import type { DeploymentConfig } from './config.js';
import { awsCall, RecoveryError } from './errors.js';
import type { ReadinessCheck } from './readiness-check.js';
import { SCENARIO_FUNCTIONS } from './readiness-calls.js';
import type { ScenarioName } from './scenarios.js';

/** An AWS API a function calls: `com.amazonaws.<region>.<service>`. */
export interface ServiceEndpoint {
  service: 'secretsmanager' | 'rds' | 'dynamodb' | 's3';
  /** 'recovery' or 'primary': the region of the deployment config the call goes to. */
  region: 'recovery' | 'primary';
}

/**
 * The functions serverless.yml puts in the VPC (`vpc: ${self:custom.dr.network}`) and the AWS APIs
 * each calls from there (test/unit/readiness-network.test.ts holds the list to serverless.yml). Region
 * failback's health gate also reads the primary region's copies of the secrets: an interface endpoint
 * serves its own region only, so that needs a NAT route.
 * Keyed by function; given the scenario, the APIs it calls in that scenario.
 */
export const VPC_FUNCTIONS: Record<string, (scenario: ScenarioName) => ServiceEndpoint[]> = {
  validateScratchInstance: () => [{ service: 'secretsmanager', region: 'recovery' }],
  runHealthChecks: (scenario) => [{ service: 'secretsmanager', region: 'recovery' }, ...(scenario === 'region-failback' ? [{ service: 'secretsmanager' as const, region: 'primary' as const }] : [])],
  setDatabaseReadOnly: () => [
    { service: 'secretsmanager', region: 'recovery' },
    // Does this execution still own the recovery (the lock table)?
    { service: 'dynamodb', region: 'recovery' },
  ],
  prewarmDatabase: () => [{ service: 'secretsmanager', region: 'recovery' }],
  rotateDatabaseSecret: () => [{ service: 'secretsmanager', region: 'recovery' }],
  runRegionHealthChecks: () => [{ service: 'secretsmanager', region: 'recovery' }],
  freezeRecoveryWrites: () => [
    { service: 'rds', region: 'recovery' },
    { service: 'secretsmanager', region: 'recovery' },
    { service: 'dynamodb', region: 'recovery' },
  ],
  verifyFailbackData: () => [{ service: 'secretsmanager', region: 'recovery' }],
};

/** The check's name for the functions' security groups letting HTTPS out (every AWS API is HTTPS). */
export const SECURITY_GROUP_EGRESS_CHECK = "HTTPS (443) out of the VPC functions' security groups";

/** The check's name for one API from one subnet. */
export function routeCheckName(service: string, region: string): string {
  return `route from the VPC to ${service} (${region})`;
}

const GATEWAY_SERVICES = new Set(['s3', 'dynamodb']);

/**
 * For the VPC functions `scenario` uses: does each subnet of `config.network.subnetIds` (in the
 * recovery region: the EC2 client's) have a route to each AWS API they call?
 *
 * A route is: `0.0.0.0/0` to a NAT gateway (active, not blackhole) in the subnet's route table (its
 * explicit association, else the VPC's main table); or an interface endpoint
 * `com.amazonaws.<region>.<service>` in the subnet's VPC with private DNS enabled (same region only);
 * or, for S3 and DynamoDB, a gateway endpoint on the subnet's route table (same region only).
 *
 * Also: the functions' security groups (`config.network.securityGroupIds`, which Lambda applies
 * together) allow TCP 443 out (all traffic, or a 443 rule to 0.0.0.0/0, ::/0, a CIDR, a prefix list
 * or a security group); EC2 DescribeSecurityGroups.
 *
 * Returns one check per subnet and API (resource: the subnet id, message: what carries the traffic or
 * what is missing and the functions that would time out), one for the security groups, a failed check
 * for a configured subnet or security group EC2 does not know, and nothing for a scenario with no VPC
 * function. Throws AwsTransientError (throttling, 5xx, timeouts) and AwsAccessDenied (the readiness
 * function's own role lacks ec2:Describe*).
 */
export async function checkVpcRoutes(deps: { ec2: EC2Client }, config: DeploymentConfig, scenario: ScenarioName): Promise<ReadinessCheck[]> {
  const functions = SCENARIO_FUNCTIONS[scenario].filter((f) => f in VPC_FUNCTIONS);
  if (functions.length === 0) return [];
  const regionName = { recovery: config.recoveryRegion, primary: config.primaryRegion };
  // Each API once, with the functions that call it.
  const needs = new Map<string, { service: string; region: string; functions: string[] }>();
  for (const name of functions) {
    for (const endpoint of VPC_FUNCTIONS[name]!(scenario)) {
      const region = regionName[endpoint.region];
      const key = `${endpoint.service} ${region}`;
      const need = needs.get(key) ?? { service: endpoint.service, region, functions: [] };
      need.functions.push(name);
      needs.set(key, need);
    }
  }

  const subnetIds = config.network.subnetIds;
  const { subnets, missing } = await describeSubnets(deps.ec2, subnetIds);
  const checks: ReadinessCheck[] = missing.map((id) => ({
    scenario,
    name: 'VPC subnet exists',
    resource: id,
    passed: false,
    message: `subnet ${id} (network.subnetIds) does not exist in ${config.recoveryRegion}: ${functions.join(', ')} cannot be placed in it. Fix network.subnetIds and redeploy.`,
  }));
  checks.push(...(await securityGroupChecks(deps.ec2, config, scenario, functions)));
  const vpcIds = [...new Set(subnets.map((s) => s.VpcId).filter((v): v is string => Boolean(v)))];
  if (vpcIds.length === 0) return checks;
  const routeTables = await paged('ec2:DescribeRouteTables', vpcIds.join(', '), async (token) => {
    const page = await deps.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: vpcIds }], ...(token ? { NextToken: token } : {}) }));
    return { items: page.RouteTables ?? [], next: page.NextToken };
  });
  const endpoints = await paged('ec2:DescribeVpcEndpoints', vpcIds.join(', '), async (token) => {
    const page = await deps.ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: vpcIds }], ...(token ? { NextToken: token } : {}) }));
    return { items: page.VpcEndpoints ?? [], next: page.NextToken };
  });

  for (const subnet of subnets) {
    const table = routeTableOf(subnet, routeTables);
    for (const need of needs.values()) {
      const route = routeTo(need.service, need.region, config.recoveryRegion, subnet, table, endpoints);
      const name = routeCheckName(need.service, need.region);
      const subnetId = subnet.SubnetId ?? '?';
      checks.push(
        route.via
          ? { scenario, name, resource: subnetId, passed: true, message: `${subnetId} reaches ${need.service}.${need.region} through ${route.via}` }
          : {
              scenario,
              name,
              resource: subnetId,
              passed: false,
              message:
                `${subnetId} (VPC ${subnet.VpcId}, route table ${table?.RouteTableId ?? 'none'}) has no route to ${need.service}.${need.region}.amazonaws.com: ` +
                `${need.functions.join(', ')} would time out calling it. ${route.fix}`,
            },
      );
    }
  }
  return checks;
}

/** The subnets EC2 knows and the configured ids it does not. */
async function describeSubnets(ec2: EC2Client, subnetIds: readonly string[]): Promise<{ subnets: Subnet[]; missing: string[] }> {
  const subnets: Subnet[] = [];
  const missing: string[] = [];
  // One at a time: a request naming one unknown subnet fails whole (InvalidSubnetID.NotFound).
  for (const id of subnetIds) {
    try {
      const page = await awsCall('ec2:DescribeSubnets', id, () => ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] })));
      const found = page.Subnets?.find((s) => s.SubnetId === id);
      if (found) subnets.push(found);
      else missing.push(id);
    } catch (error) {
      const cause = error instanceof RecoveryError ? (error.cause as { name?: string } | undefined) : undefined;
      if (cause?.name === 'InvalidSubnetID.NotFound' || cause?.name === 'InvalidSubnetID.Malformed') missing.push(id);
      else throw error;
    }
  }
  return { subnets, missing };
}

/** Whether the functions' security groups, together, let HTTPS out; a failed check per unknown group. */
async function securityGroupChecks(ec2: EC2Client, config: DeploymentConfig, scenario: ScenarioName, functions: readonly string[]): Promise<ReadinessCheck[]> {
  const groupIds = config.network.securityGroupIds;
  const groups: SecurityGroup[] = [];
  const checks: ReadinessCheck[] = [];
  for (const id of groupIds) {
    try {
      const page = await awsCall('ec2:DescribeSecurityGroups', id, () => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] })));
      const found = page.SecurityGroups?.find((g) => g.GroupId === id);
      if (found) {
        groups.push(found);
        continue;
      }
    } catch (error) {
      const cause = error instanceof RecoveryError ? (error.cause as { name?: string } | undefined) : undefined;
      if (cause?.name !== 'InvalidGroup.NotFound' && cause?.name !== 'InvalidGroupId.Malformed') throw error;
    }
    checks.push({
      scenario,
      name: 'VPC security group exists',
      resource: id,
      passed: false,
      message: `security group ${id} (network.securityGroupIds) does not exist in ${config.recoveryRegion}: ${functions.join(', ')} cannot be placed in the VPC with it. Fix network.securityGroupIds and redeploy.`,
    });
  }
  if (groups.length === 0) return checks;
  const found = groups.map((g) => g.GroupId).join(', ');
  const rule = groups.flatMap((g) => (g.IpPermissionsEgress ?? []).map((p) => ({ group: g.GroupId, permission: p }))).find(({ permission: p }) => {
    const port = p.IpProtocol === '-1' || (p.IpProtocol === 'tcp' && (p.FromPort ?? 0) <= 443 && (p.ToPort ?? 65535) >= 443);
    const somewhere = (p.IpRanges?.length ?? 0) + (p.Ipv6Ranges?.length ?? 0) + (p.PrefixListIds?.length ?? 0) + (p.UserIdGroupPairs?.length ?? 0) > 0;
    return port && somewhere;
  });
  checks.push(
    rule
      ? { scenario, name: SECURITY_GROUP_EGRESS_CHECK, resource: found, passed: true, message: `${rule.group} lets HTTPS out (${rule.permission.IpProtocol === '-1' ? 'all traffic' : 'TCP 443'})` }
      : {
          scenario,
          name: SECURITY_GROUP_EGRESS_CHECK,
          resource: found,
          passed: false,
          message: `no outbound rule of ${found} allows TCP 443: ${functions.join(', ')} could not reach any AWS API (every call would time out). Add an egress rule for HTTPS (443) to 0.0.0.0/0 or to the VPC endpoints' security group.`,
        },
  );
  return checks;
}

async function paged<T>(call: string, resource: string, fetch: (token: string | undefined) => Promise<{ items: T[]; next?: string | undefined }>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall(call, resource, () => fetch(token));
    items.push(...page.items);
    token = page.next;
  } while (token);
  return items;
}

/** The route table a subnet uses: its explicit association, else its VPC's main table. */
function routeTableOf(subnet: Subnet, tables: readonly RouteTable[]): RouteTable | undefined {
  const explicit = tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnet.SubnetId));
  return explicit ?? tables.find((t) => t.VpcId === subnet.VpcId && t.Associations?.some((a) => a.Main));
}

function routeTo(
  service: string,
  region: string,
  recoveryRegion: string,
  subnet: Subnet,
  table: RouteTable | undefined,
  endpoints: readonly VpcEndpoint[],
): { via?: string; fix: string } {
  const serviceName = `com.amazonaws.${region}.${service}`;
  const usable = (e: VpcEndpoint) => e.VpcId === subnet.VpcId && e.ServiceName === serviceName && !['deleted', 'deleting', 'failed', 'rejected', 'expired'].includes(String(e.State ?? '').toLowerCase());
  // A VPC endpoint serves its own region's API only.
  if (region === recoveryRegion) {
    if (GATEWAY_SERVICES.has(service)) {
      const gateway = endpoints.find((e) => usable(e) && e.VpcEndpointType === 'Gateway' && table?.RouteTableId && e.RouteTableIds?.includes(table.RouteTableId));
      if (gateway) return { via: `gateway endpoint ${gateway.VpcEndpointId} on route table ${table?.RouteTableId}`, fix: '' };
    }
    const interfaceEndpoint = endpoints.find((e) => usable(e) && e.VpcEndpointType === 'Interface' && e.PrivateDnsEnabled);
    if (interfaceEndpoint) return { via: `interface endpoint ${interfaceEndpoint.VpcEndpointId} (private DNS)`, fix: '' };
  }
  const nat = table?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.NatGatewayId && r.State !== 'blackhole');
  if (nat) return { via: `NAT gateway ${nat.NatGatewayId} (0.0.0.0/0 in ${table?.RouteTableId})`, fix: '' };
  const blackhole = table?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.State === 'blackhole');
  const internetGateway = table?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.GatewayId?.startsWith('igw-'));
  const why = blackhole
    ? `Its 0.0.0.0/0 route is a blackhole (its target ${blackhole.NatGatewayId ?? blackhole.GatewayId ?? ''} is gone). `
    : internetGateway
      ? `Its 0.0.0.0/0 route goes to internet gateway ${internetGateway.GatewayId}, which a Lambda function cannot use (it has no public address). `
      : '';
  const endpointFix =
    region === recoveryRegion
      ? `Add an interface VPC endpoint ${serviceName} with private DNS${GATEWAY_SERVICES.has(service) ? ` or a gateway endpoint on ${table?.RouteTableId ?? 'its route table'}` : ''}, or a 0.0.0.0/0 route to a NAT gateway.`
      : `A VPC endpoint in ${recoveryRegion} cannot reach ${region}: add a 0.0.0.0/0 route to a NAT gateway.`;
  const interfaceWithoutDns = endpoints.find((e) => usable(e) && e.VpcEndpointType === 'Interface' && !e.PrivateDnsEnabled);
  const dnsNote = interfaceWithoutDns && region === recoveryRegion ? `Interface endpoint ${interfaceWithoutDns.VpcEndpointId} has private DNS off: the SDK's default hostname does not reach it; turn private DNS on. ` : '';
  return { fix: `${why}${dnsNote}${endpointFix}` };
}
