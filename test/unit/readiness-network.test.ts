import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand, EC2Client, EC2ServiceException, type RouteTable, type VpcEndpoint } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { parse as parseYaml } from 'yaml';
import { AwsAccessDenied, AwsTransientError } from '../../shared/errors.js';
import { checkVpcRoutes, routeCheckName, SECURITY_GROUP_EGRESS_CHECK, VPC_FUNCTIONS } from '../../shared/readiness-network.js';
import { exampleConfig } from '../support/fixtures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ec2 = new EC2Client({ region: 'us-east-1', maxAttempts: 1 });
const ec2Mock = mockClient(ec2);
const [SUBNET_A, SUBNET_B] = exampleConfig().network.subnetIds as [string, string];
const VPC = 'vpc-0abc';
const SECRETS = routeCheckName('secretsmanager', 'us-east-1');

/** The VPC: both subnets on `rtb-main` (the main table) unless `explicit` associates one elsewhere. */
function network({ routes = [], endpoints = [], explicit }: { routes?: NonNullable<RouteTable['Routes']>; endpoints?: VpcEndpoint[]; explicit?: RouteTable }): void {
  ec2Mock.on(DescribeSubnetsCommand).callsFake((input: { SubnetIds: string[] }) => ({ Subnets: input.SubnetIds.map((id) => ({ SubnetId: id, VpcId: VPC })) }));
  const main: RouteTable = { RouteTableId: 'rtb-main', VpcId: VPC, Associations: [{ Main: true }], Routes: [{ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' }, ...routes] };
  ec2Mock.on(DescribeRouteTablesCommand).resolves({ RouteTables: [main, ...(explicit ? [explicit] : [])] });
  ec2Mock.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: endpoints });
  // EC2's default egress: all traffic anywhere.
  ec2Mock.on(DescribeSecurityGroupsCommand).callsFake((input: { GroupIds: string[] }) => ({
    SecurityGroups: input.GroupIds.map((id) => ({ GroupId: id, VpcId: VPC, IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] })),
  }));
}

/** The checks of routes only (not the security groups'). */
const routesOnly = <T extends { name: string }>(checks: T[]): T[] => checks.filter((c) => c.name !== SECURITY_GROUP_EGRESS_CHECK);

const interfaceEndpoint = (service: string, privateDns = true): VpcEndpoint => ({
  VpcEndpointId: `vpce-${service}`,
  VpcId: VPC,
  ServiceName: `com.amazonaws.us-east-1.${service}`,
  VpcEndpointType: 'Interface',
  PrivateDnsEnabled: privateDns,
  State: 'Available',
  SubnetIds: [SUBNET_A, SUBNET_B],
});

beforeEach(() => ec2Mock.reset());

describe('checkVpcRoutes', () => {
  it('passes every subnet through a NAT gateway, for every API the scenario VPC functions call', async () => {
    network({ routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }] });

    const checks = routesOnly(await checkVpcRoutes({ ec2 }, exampleConfig(), 'database-recovery'));

    // setDatabaseReadOnly also asks the lock table (DynamoDB); prewarm and health read secrets.
    expect(checks.map((c) => [c.name, c.resource, c.passed])).toEqual([
      [SECRETS, SUBNET_A, true],
      [routeCheckName('dynamodb', 'us-east-1'), SUBNET_A, true],
      [SECRETS, SUBNET_B, true],
      [routeCheckName('dynamodb', 'us-east-1'), SUBNET_B, true],
    ]);
    expect(checks[0]!.message).toBe(`${SUBNET_A} reaches secretsmanager.us-east-1 through NAT gateway nat-1 (0.0.0.0/0 in rtb-main)`);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeRouteTablesCommand, { Filters: [{ Name: 'vpc-id', Values: [VPC] }] });
  });

  it('passes through an interface endpoint with private DNS, and a gateway endpoint on the subnet route table', async () => {
    network({
      endpoints: [interfaceEndpoint('secretsmanager'), { VpcEndpointId: 'vpce-ddb', VpcId: VPC, ServiceName: 'com.amazonaws.us-east-1.dynamodb', VpcEndpointType: 'Gateway', State: 'Available', RouteTableIds: ['rtb-main'] }],
    });

    const checks = routesOnly(await checkVpcRoutes({ ec2 }, exampleConfig(), 'database-recovery'));

    expect(checks.every((c) => c.passed)).toBe(true);
    expect(checks.find((c) => c.name === SECRETS)!.message).toContain('interface endpoint vpce-secretsmanager (private DNS)');
    expect(checks.find((c) => c.name.includes('dynamodb'))!.message).toContain('gateway endpoint vpce-ddb on route table rtb-main');
  });

  it('fails a subnet with no route, naming the subnet, its route table, the API and the functions that would time out', async () => {
    const isolated: RouteTable = { RouteTableId: 'rtb-isolated', VpcId: VPC, Associations: [{ SubnetId: SUBNET_B }], Routes: [{ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local' }] };
    network({ routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }], explicit: isolated });

    const checks = routesOnly(await checkVpcRoutes({ ec2 }, exampleConfig(), 'restore-test'));

    expect(checks).toEqual([
      { scenario: 'restore-test', name: SECRETS, resource: SUBNET_A, passed: true, message: expect.any(String) },
      {
        scenario: 'restore-test',
        name: SECRETS,
        resource: SUBNET_B,
        passed: false,
        message:
          `${SUBNET_B} (VPC ${VPC}, route table rtb-isolated) has no route to secretsmanager.us-east-1.amazonaws.com: validateScratchInstance would time out calling it. ` +
          'Add an interface VPC endpoint com.amazonaws.us-east-1.secretsmanager with private DNS, or a 0.0.0.0/0 route to a NAT gateway.',
      },
    ]);
  });

  it.each([
    ['an interface endpoint with private DNS off', { endpoints: [interfaceEndpoint('secretsmanager', false)] }, 'private DNS off'],
    ['a blackhole NAT route', { routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-gone', State: 'blackhole' as const }] }, 'is a blackhole'],
    ['an internet gateway route', { routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' as const }] }, 'no public address'],
    ['an endpoint in another VPC', { endpoints: [{ ...interfaceEndpoint('secretsmanager'), VpcId: 'vpc-other' }] }, 'Add an interface VPC endpoint'],
  ])('fails with %s, saying why', async (_label, setup, why) => {
    network(setup);

    const checks = routesOnly(await checkVpcRoutes({ ec2 }, exampleConfig(), 'restore-test'));

    expect(checks.map((c) => c.passed)).toEqual([false, false]);
    expect(checks[0]!.message).toContain(why);
  });

  it('needs a NAT route for region failback health gates reading the primary region (an endpoint serves its own region only)', async () => {
    network({ endpoints: [interfaceEndpoint('secretsmanager'), interfaceEndpoint('rds'), { VpcEndpointId: 'vpce-ddb', VpcId: VPC, ServiceName: 'com.amazonaws.us-east-1.dynamodb', VpcEndpointType: 'Gateway', RouteTableIds: ['rtb-main'] }] });

    const checks = routesOnly(await checkVpcRoutes({ ec2 }, exampleConfig(), 'region-failback'));

    const primary = checks.filter((c) => c.name === routeCheckName('secretsmanager', 'us-west-2'));
    expect(primary.map((c) => c.passed)).toEqual([false, false]);
    expect(primary[0]!.message).toContain('A VPC endpoint in us-east-1 cannot reach us-west-2: add a 0.0.0.0/0 route to a NAT gateway.');
    expect(checks.filter((c) => c.name !== routeCheckName('secretsmanager', 'us-west-2')).every((c) => c.passed)).toBe(true);
  });

  it('fails a configured subnet EC2 does not know, and checks the others', async () => {
    network({ routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }] });
    ec2Mock
      .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET_A] })
      .rejects(new EC2ServiceException({ name: 'InvalidSubnetID.NotFound', $fault: 'client', message: `The subnet ID '${SUBNET_A}' does not exist`, $metadata: { httpStatusCode: 400 } }));

    const checks = routesOnly(await checkVpcRoutes({ ec2 }, exampleConfig(), 'restore-test'));

    expect(checks.map((c) => [c.name, c.resource, c.passed])).toEqual([
      ['VPC subnet exists', SUBNET_A, false],
      [SECRETS, SUBNET_B, true],
    ]);
    expect(checks[0]!.message).toContain(`subnet ${SUBNET_A} (network.subnetIds) does not exist in us-east-1`);
  });

  it('checks nothing for a scenario without VPC functions, and makes no call', async () => {
    expect(await checkVpcRoutes({ ec2 }, exampleConfig(), 'backup-verification')).toEqual([]);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('reads every page of route tables and endpoints', async () => {
    network({});
    ec2Mock
      .on(DescribeVpcEndpointsCommand)
      .resolvesOnce({ VpcEndpoints: [], NextToken: 't1' })
      .resolves({ VpcEndpoints: [interfaceEndpoint('secretsmanager')] });

    const checks = routesOnly(await checkVpcRoutes({ ec2 }, exampleConfig(), 'restore-test'));

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeVpcEndpointsCommand, { NextToken: 't1' });
    expect(checks.every((c) => c.passed)).toBe(true);
  });

  it.each([
    ['throttling', new EC2ServiceException({ name: 'RequestLimitExceeded', $fault: 'client', message: 'Request limit exceeded.', $metadata: { httpStatusCode: 503 } }), AwsTransientError],
    ['a 5xx', new EC2ServiceException({ name: 'InternalError', $fault: 'server', message: 'internal', $metadata: { httpStatusCode: 500 } }), AwsTransientError],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError', code: 'ETIMEDOUT' }), AwsTransientError],
    ['UnauthorizedOperation (the readiness role lacks ec2:Describe*)', new EC2ServiceException({ name: 'UnauthorizedOperation', $fault: 'client', message: 'not authorized', $metadata: { httpStatusCode: 403 } }), AwsAccessDenied],
  ])('throws a named error on %s', async (_label, fault, type) => {
    network({});
    ec2Mock.on(DescribeRouteTablesCommand).rejects(fault);

    const error = (await checkVpcRoutes({ ec2 }, exampleConfig(), 'restore-test').catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(type);
    expect(error.message).toContain('ec2:DescribeRouteTables');
  });
});

describe('checkVpcRoutes: security groups', () => {
  const [GROUP] = exampleConfig().network.securityGroupIds as [string];

  it('passes when a group lets HTTPS out', async () => {
    network({ routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }] });

    const checks = await checkVpcRoutes({ ec2 }, exampleConfig(), 'restore-test');

    expect(checks.find((c) => c.name === SECURITY_GROUP_EGRESS_CHECK)).toEqual({ scenario: 'restore-test', name: SECURITY_GROUP_EGRESS_CHECK, resource: GROUP, passed: true, message: `${GROUP} lets HTTPS out (all traffic)` });
  });

  it.each([
    ['no egress rule', []],
    ['egress on port 5432 only', [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '10.0.0.0/16' }] }]],
  ])('fails with %s, naming the groups and the functions', async (_label, egress) => {
    network({ routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }] });
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: GROUP, VpcId: VPC, IpPermissionsEgress: egress }] });

    const checks = await checkVpcRoutes({ ec2 }, exampleConfig(), 'restore-test');

    expect(checks.find((c) => c.name === SECURITY_GROUP_EGRESS_CHECK)).toEqual({
      scenario: 'restore-test',
      name: SECURITY_GROUP_EGRESS_CHECK,
      resource: GROUP,
      passed: false,
      message: `no outbound rule of ${GROUP} allows TCP 443: validateScratchInstance could not reach any AWS API (every call would time out). Add an egress rule for HTTPS (443) to 0.0.0.0/0 or to the VPC endpoints' security group.`,
    });
  });

  it('fails a configured security group EC2 does not know', async () => {
    network({ routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }] });
    ec2Mock.on(DescribeSecurityGroupsCommand).rejects(new EC2ServiceException({ name: 'InvalidGroup.NotFound', $fault: 'client', message: `The security group '${GROUP}' does not exist`, $metadata: { httpStatusCode: 400 } }));

    const checks = await checkVpcRoutes({ ec2 }, exampleConfig(), 'restore-test');

    expect(checks.filter((c) => !c.passed).map((c) => [c.name, c.resource])).toEqual([['VPC security group exists', GROUP]]);
  });
});

describe('VPC_FUNCTIONS', () => {
  it('lists exactly the functions serverless.yml puts in the VPC', () => {
    const stack = readFileSync(path.join(root, 'serverless.yml'), 'utf8');
    // The YAML holds CloudFormation tags (!Ref); only the function entries matter here.
    const functionsBlock = stack.slice(stack.indexOf('\nfunctions:\n'), stack.indexOf('\nstepFunctions:\n'));
    const functions = parseYaml(functionsBlock.replace(/!(Ref|Sub|GetAtt) /g, ''), { logLevel: 'silent' }).functions as Record<string, { vpc?: unknown }>;
    const inVpc = Object.entries(functions)
      .filter(([, f]) => f.vpc !== undefined)
      .map(([name]) => name)
      .sort();
    expect(Object.keys(VPC_FUNCTIONS).sort()).toEqual(inVpc);
  });
});
