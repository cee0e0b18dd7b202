// What the readiness permission and route checks look at, seeded into the emulator: the stack's roles
// with the statements the stack would give them (deploy/deployment-config.cjs, the same source the
// template uses), the Lambda functions named as deployed pointing at them (moto stores a function
// without running it), and the recovery VPC with its subnets, route tables, NAT gateway and VPC
// endpoints; and the two problems the readiness drill plants (a role missing one permission, a subnet
// without a route to Secrets Manager).
//
// moto chooses subnet ids itself, so the config's network.subnetIds cannot name the created subnets:
// the deployment run against this emulator uses `withSeededNetwork` (as withSeededWafIpSet does for
// the WAF IP set).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  ModifyVpcEndpointCommand,
  ReplaceRouteTableAssociationCommand,
} from '@aws-sdk/client-ec2';
import { CreateRoleCommand, GetRoleCommand, IAMClient, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient, ResourceConflictException } from '@aws-sdk/client-lambda';
import type { DeploymentConfig } from '../shared/config.js';
import { SCENARIO_FUNCTIONS } from '../shared/readiness-calls.js';
import { EMULATOR_CREDENTIALS } from './emulator-clients.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The local stage's function names: `frontier-dr-local-<functionKey>` (serverless.yml: `${service}-${stage}-<key>`). */
export const LOCAL_FUNCTION_NAME_PREFIX = 'frontier-dr-local-';
/** moto's account. */
const ACCOUNT_ID = '123456789012';
/** On each seeded subnet and security group: the network.subnetIds / securityGroupIds entry it stands for. */
const CONFIGURED_SUBNET_TAG = 'frontier-dr:configured-subnet';
/** The role a planted problem takes a permission from, and the permission. */
export const PLANTED_ROLE_PROBLEM = { functionKey: 'verifyBuckets', action: 's3:GetReplicationConfiguration' } as const;

/** What seedStackRolesAndNetwork created. */
export interface SeededStack {
  /** `<prefix><functionKey>` is each seeded function's name (checkRolePermissions' functionNamePrefix). */
  functionNamePrefix: string;
  /** Every function seeded, by key, and its role's ARN. */
  roles: Record<string, string>;
  vpcId: string;
  /** network.subnetIds as configured -> the subnet moto created for it (see withSeededNetwork). */
  subnetIds: Record<string, string>;
  /** network.securityGroupIds as configured -> the group moto created for it (EC2's default egress: all). */
  securityGroupIds: Record<string, string>;
  /** The route table every configured subnet uses (0.0.0.0/0 to the NAT gateway). */
  routeTableId: string;
  natGatewayId: string;
}

type Statement = { Effect: string; Action?: string | string[]; Resource?: unknown; Condition?: unknown };

/** Each function's statements as the stack grants them, CloudFormation's Fn::Sub filled in for moto's account. */
function stackStatements(config: DeploymentConfig): Record<string, Statement[]> {
  const derive = createRequire(import.meta.url)(path.join(root, 'deploy/deployment-config.cjs')) as {
    iamStatementsFor: (file: string) => { total: number; statements: (count: number) => Record<string, Statement[]> };
  };
  // The derivation reads a deployment file (it validates it on the way, as packaging does).
  const directory = mkdtempSync(path.join(tmpdir(), 'frontier-dr-readiness-'));
  try {
    const file = path.join(directory, 'deployment.json');
    writeFileSync(file, JSON.stringify(config));
    const derived = derive.iamStatementsFor(file);
    return fill(derived.statements(derived.total), config.recoveryRegion) as Record<string, Statement[]>;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function fill(value: unknown, region: string): unknown {
  if (Array.isArray(value)) return value.map((v) => fill(v, region));
  if (!value || typeof value !== 'object') return value;
  const sub = (value as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  if (typeof sub === 'string') return sub.replaceAll('${AWS::Partition}', 'aws').replaceAll('${AWS::AccountId}', ACCOUNT_ID).replaceAll('${AWS::Region}', region);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, region)]));
}

function clients(endpoint: string, region: string) {
  const common = { region, endpoint, credentials: EMULATOR_CREDENTIALS };
  return { iam: new IAMClient({ ...common, region: 'us-east-1' }), lambda: new LambdaClient(common), ec2: new EC2Client(common) };
}

const roleName = (functionKey: string) => `${LOCAL_FUNCTION_NAME_PREFIX}${functionKey}-role`;
const POLICY_NAME = 'stack-statements';
// Lambda wants a package; moto stores it and never runs it here.
const EMPTY_ZIP = Buffer.from('UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', 'base64');

/**
 * Seeds, in `config.recoveryRegion` of the emulator at `endpoint`: for every function a scenario's
 * state machine calls, a role (`frontier-dr-local-<key>-role`) holding the statements the stack gives it
 * and a Lambda function `frontier-dr-local-<key>` with that role; the recovery VPC with one subnet per
 * network.subnetIds entry (and a security group per securityGroupIds entry), all on one route table with 0.0.0.0/0 to a NAT gateway (a public subnet
 * with an internet gateway holds it), an RDS interface endpoint with private DNS and a DynamoDB
 * gateway endpoint on that route table. Every API the VPC functions call is then reachable.
 */
export async function seedStackRolesAndNetwork(endpoint: string, config: DeploymentConfig): Promise<SeededStack> {
  const region = config.recoveryRegion;
  const { iam, lambda, ec2 } = clients(endpoint, region);
  try {
    const statements = stackStatements(config);
    const functionKeys = [...new Set(Object.values(SCENARIO_FUNCTIONS).flat())].sort();
    const roles: Record<string, string> = {};
    for (const key of functionKeys) {
      roles[key] = await ensureRole(iam, key, statements[key] ?? []);
      try {
        await lambda.send(
          new CreateFunctionCommand({
            FunctionName: `${LOCAL_FUNCTION_NAME_PREFIX}${key}`,
            Runtime: 'nodejs22.x',
            Handler: 'handler.handler',
            Role: roles[key],
            Code: { ZipFile: EMPTY_ZIP },
          }),
        );
      } catch (error) {
        if (!(error instanceof ResourceConflictException)) throw error;
      }
    }

    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.90.0.0/16' }));
    const vpcId = vpc.Vpc?.VpcId as string;
    const gateway = await ec2.send(new CreateInternetGatewayCommand({}));
    const gatewayId = gateway.InternetGateway?.InternetGatewayId as string;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: vpcId }));
    const publicSubnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.90.0.0/24', AvailabilityZone: `${region}a` }));
    const publicTable = await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }));
    await ec2.send(new CreateRouteCommand({ RouteTableId: publicTable.RouteTable?.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: gatewayId }));
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: publicTable.RouteTable?.RouteTableId, SubnetId: publicSubnet.Subnet?.SubnetId }));
    const address = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const nat = await ec2.send(new CreateNatGatewayCommand({ SubnetId: publicSubnet.Subnet?.SubnetId, AllocationId: address.AllocationId }));
    const natGatewayId = nat.NatGateway?.NatGatewayId as string;

    const privateTable = await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }));
    const routeTableId = privateTable.RouteTable?.RouteTableId as string;
    await ec2.send(new CreateRouteCommand({ RouteTableId: routeTableId, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: natGatewayId }));
    const subnetIds: Record<string, string> = {};
    for (const [i, configured] of config.network.subnetIds.entries()) {
      const subnet = await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: `10.90.${i + 1}.0/24`,
          AvailabilityZone: `${region}${'abcdef'[i % 6]}`,
          TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: CONFIGURED_SUBNET_TAG, Value: configured }] }],
        }),
      );
      subnetIds[configured] = subnet.Subnet?.SubnetId as string;
      await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetIds[configured] }));
    }
    const securityGroupIds: Record<string, string> = {};
    for (const configured of config.network.securityGroupIds) {
      const group = await ec2.send(
        new CreateSecurityGroupCommand({
          VpcId: vpcId,
          GroupName: `frontier-dr-local-${configured}`,
          Description: `stands for ${configured} (network.securityGroupIds)`,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: CONFIGURED_SUBNET_TAG, Value: configured }] }],
        }),
      );
      securityGroupIds[configured] = group.GroupId as string;
    }
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: vpcId,
        ServiceName: `com.amazonaws.${region}.rds`,
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        SubnetIds: Object.values(subnetIds),
      }),
    );
    await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: `com.amazonaws.${region}.dynamodb`, VpcEndpointType: 'Gateway', RouteTableIds: [routeTableId] }));
    return { functionNamePrefix: LOCAL_FUNCTION_NAME_PREFIX, roles, vpcId, subnetIds, securityGroupIds, routeTableId, natGatewayId };
  } finally {
    iam.destroy();
    lambda.destroy();
    ec2.destroy();
  }
}

async function ensureRole(iam: IAMClient, functionKey: string, statements: Statement[]): Promise<string> {
  const name = roleName(functionKey);
  let arn: string;
  try {
    arn = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role?.Arn as string;
  } catch (error) {
    if (!(error instanceof NoSuchEntityException)) throw error;
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    arn = (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(trust) }))).Role?.Arn as string;
  }
  if (statements.length) await putStatements(iam, functionKey, statements);
  return arn;
}

async function putStatements(iam: IAMClient, functionKey: string, statements: Statement[]): Promise<void> {
  await iam.send(new PutRolePolicyCommand({ RoleName: roleName(functionKey), PolicyName: POLICY_NAME, PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
}

/**
 * Planted problem: verifyBuckets' role without s3:GetReplicationConfiguration (the rest of its
 * statements as the stack gives them), as after a hand edit of the role. Backup verification's
 * readiness then fails on that action for each configured bucket.
 */
export async function plantMissingRolePermission(endpoint: string, config: DeploymentConfig): Promise<{ functionName: string; action: string }> {
  const { iam, lambda, ec2 } = clients(endpoint, config.recoveryRegion);
  try {
    const { functionKey, action } = PLANTED_ROLE_PROBLEM;
    const without = (stackStatements(config)[functionKey] ?? [])
      .map((s) => ({ ...s, Action: [s.Action ?? []].flat().filter((a) => a !== action) }))
      .filter((s) => s.Action.length > 0);
    await putStatements(iam, functionKey, without);
    return { functionName: `${LOCAL_FUNCTION_NAME_PREFIX}${functionKey}`, action };
  } finally {
    iam.destroy();
    lambda.destroy();
    ec2.destroy();
  }
}

/**
 * Planted problem: the last subnet of network.subnetIds (the configured id, or the seeded one when
 * `config` went through withSeededNetwork) moved to a route table of its own with no 0.0.0.0/0 route;
 * the DynamoDB gateway endpoint is kept on it and the RDS interface endpoint serves the whole VPC, so
 * Secrets Manager, and only it, is out of reach from that subnet. Returns the subnet's emulator id.
 */
export async function plantMissingVpcRoute(endpoint: string, config: DeploymentConfig): Promise<{ subnetId: string; routeTableId: string }> {
  const { iam, lambda, ec2 } = clients(endpoint, config.recoveryRegion);
  try {
    const last = config.network.subnetIds[config.network.subnetIds.length - 1] as string;
    const tagged = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: `tag:${CONFIGURED_SUBNET_TAG}`, Values: [last] }] }));
    const subnet = tagged.Subnets?.[0] ?? (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [last] }))).Subnets?.[0];
    if (!subnet?.SubnetId || !subnet.VpcId) throw new Error(`no seeded subnet stands for ${last}: run seedStackRolesAndNetwork first`);
    const subnetId = subnet.SubnetId;
    const isolated = await ec2.send(new CreateRouteTableCommand({ VpcId: subnet.VpcId }));
    const routeTableId = isolated.RouteTable?.RouteTableId as string;
    const tables = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }));
    const association = tables.RouteTables?.flatMap((t) => t.Associations ?? []).find((a) => a.SubnetId === subnetId);
    if (association?.RouteTableAssociationId) {
      await ec2.send(new ReplaceRouteTableAssociationCommand({ AssociationId: association.RouteTableAssociationId, RouteTableId: routeTableId }));
    } else {
      await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetId }));
    }
    const endpoints = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [subnet.VpcId] }] }));
    for (const gatewayEndpoint of (endpoints.VpcEndpoints ?? []).filter((e) => e.VpcEndpointType?.toLowerCase() === 'gateway')) {
      await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: gatewayEndpoint.VpcEndpointId, AddRouteTableIds: [routeTableId] }));
    }
    return { subnetId, routeTableId };
  } finally {
    iam.destroy();
    lambda.destroy();
    ec2.destroy();
  }
}

/** `config` with network.subnetIds and securityGroupIds naming what the seed created (SeededStack). */
export function withSeededNetwork(config: DeploymentConfig, seeded: Pick<SeededStack, 'subnetIds' | 'securityGroupIds'>): DeploymentConfig {
  return {
    ...config,
    network: {
      subnetIds: config.network.subnetIds.map((id) => seeded.subnetIds[id] ?? id),
      securityGroupIds: config.network.securityGroupIds.map((id) => seeded.securityGroupIds[id] ?? id),
    },
  };
}
