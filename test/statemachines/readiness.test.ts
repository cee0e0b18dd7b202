// The real readiness definition, every Task bound to its real handler (startRun, evaluateScenarioReadiness,
// publishReadiness); AWS answered by client mocks. Scenarios restricted to the two database ones, whose
// checks are all AWS reads (the Kubernetes checks are the unit tier's and the integration tier's).
import { DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { DescribeDBInstancesCommand, DescribeDBParameterGroupsCommand, DescribeDBSnapshotsCommand, DescribeDBSubnetGroupsCommand } from '@aws-sdk/client-rds';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoClient, ec2Client, iamClient, lambdaClient, rdsClient, s3Client, secretsClient, snsClient } from '../../shared/clients.js';
import type { PublishedReadiness, ReadinessReport } from '../../shared/readiness-report.js';
import { dbInstance, exampleConfig, hoursAgo, minutesAgo, snapshot, useConfig } from '../support/fixtures.js';
import { loadHandlers } from '../support/state-machine-runs.js';
import { runStateMachine } from '../../local/local-state-machine.js';

const LOCK_TABLE = 'frontier-dr-test-recovery-locks';
process.env.RECOVERY_LOCK_TABLE = LOCK_TABLE;
process.env.FUNCTION_NAME_PREFIX = 'frontier-dr-test-';

const primaryRds = mockClient(rdsClient('us-west-2'));
const recoveryRds = mockClient(rdsClient('us-east-1'));
const secrets = mockClient(secretsClient('us-east-1'));
const ec2 = mockClient(ec2Client('us-east-1'));
const s3 = mockClient(s3Client('us-east-1'));
const ddb = mockClient(dynamoClient('us-east-1'));
const sns = mockClient(snsClient('us-east-1'));
const iam = mockClient(iamClient());
const lambda = mockClient(lambdaClient('us-east-1'));
const allMocks = [primaryRds, recoveryRds, secrets, ec2, s3, ddb, sns, iam, lambda];
const now = () => new Date();
const INPUT = { scenarios: ['backup-verification', 'restore-test'], reason: 'state machine test' };

function healthyAws(): void {
  primaryRds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => ({ DBInstances: [dbInstance(input.DBInstanceIdentifier, { LatestRestorableTime: minutesAgo(3, now()) })] }));
  primaryRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-latest', hoursAgo(1, now()), { region: 'us-west-2' })] });
  recoveryRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-latest', hoursAgo(1.5, now()), { region: 'us-east-1' })] });
  recoveryRds.on(DescribeDBSubnetGroupsCommand).resolves({ DBSubnetGroups: [{ DBSubnetGroupName: 'frontier-dr-restore-test', Subnets: [{}, {}] }] });
  recoveryRds.on(DescribeDBParameterGroupsCommand).resolves({ DBParameterGroups: [{ DBParameterGroupFamily: 'postgres16' }] });
  // EC2's default egress (all traffic anywhere), so the VPC functions' groups let HTTPS out.
  ec2.on(DescribeSecurityGroupsCommand).callsFake((input: { GroupIds: string[] }) => ({
    SecurityGroups: input.GroupIds.map((GroupId) => ({ GroupId, VpcId: 'vpc-0recovery', IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] })),
  }));
  // The recovery VPC: its subnets on the main route table, with a NAT route out.
  ec2.on(DescribeSubnetsCommand).callsFake((input: { SubnetIds: string[] }) => ({ Subnets: input.SubnetIds.map((SubnetId) => ({ SubnetId, VpcId: 'vpc-0recovery' })) }));
  ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [{ RouteTableId: 'rtb-main', VpcId: 'vpc-0recovery', Associations: [{ Main: true }], Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-0recovery', State: 'active' }] }] });
  ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
  // The stack deployed: each function with its role, every request its steps make allowed.
  lambda.on(GetFunctionConfigurationCommand).callsFake((input: { FunctionName: string }) => ({
    FunctionName: input.FunctionName,
    FunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${input.FunctionName}`,
    Role: `arn:aws:iam::123456789012:role/${input.FunctionName}-role`,
  }));
  iam.on(SimulatePrincipalPolicyCommand).callsFake((input: { ActionNames: string[]; ResourceArns?: string[] }) => ({
    EvaluationResults: input.ActionNames.map((action) => ({ EvalActionName: action, EvalResourceName: input.ResourceArns?.[0] ?? '*', EvalDecision: 'allowed' })),
    IsTruncated: false,
  }));
  secrets.on(DescribeSecretCommand).resolves({ Name: 'frontier/prod/database' });
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'frontier', password: 'p-0001' }), VersionId: 'v1' });
  s3.on(PutObjectCommand).resolves({});
  ddb.on(GetItemCommand).resolves({});
  ddb.on(PutItemCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
}

function storedReport(): ReadinessReport {
  const put = s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key?.endsWith('.json'));
  if (!put) throw new Error('no readiness report stored');
  return JSON.parse(String(put.args[0].input.Body)) as ReadinessReport;
}

beforeAll(() => loadHandlers(['startRun', 'evaluateScenarioReadiness', 'publishReadiness']), 120_000);

beforeEach(() => {
  for (const mock of allMocks) mock.reset();
  useConfig(exampleConfig());
  healthyAws();
});

describe('readiness state machine', () => {
  it('finds every scenario ready, stores the report, records the verdicts and alerts nobody', async () => {
    const run = await runStateMachine('readiness', INPUT);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.map((c) => c.state)).toEqual(['StartRun', 'EvaluateScenarioReadiness', 'EvaluateScenarioReadiness', 'PublishReadiness']);
    const output = run.output as PublishedReadiness;
    expect(output).toMatchObject({ ready: ['backup-verification', 'restore-test'], notReady: [], announced: [], alertMessageId: null });
    expect(storedReport()).toMatchObject({ scenario: 'readiness', trigger: 'manual', executionId: run.executionId, summary: 'all 2 scenario(s) ready' });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: 'frontier-prod-dr-reports', Key: expect.stringMatching(/^reports\/readiness\/\d{4}\/\d{2}\/\d{2}\/.+\.md$/) });
    expect(ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input.Item?.target?.S).sort()).toEqual(['readiness#backup-verification', 'readiness#restore-test']);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    // Read-only: nothing but the report, the verdicts (and an alert when due) is written.
    for (const mock of [primaryRds, recoveryRds, secrets, ec2]) {
      for (const call of mock.calls()) expect((call.args[0] as { constructor: { name: string } }).constructor.name).toMatch(/^(Describe|Get)/);
    }
  });

  it('reports one scenario not ready with its reason and alerts once on the topic', async () => {
    recoveryRds.on(DescribeDBSubnetGroupsCommand).rejects(Object.assign(new Error('DBSubnetGroup frontier-dr-restore-test not found'), { name: 'DBSubnetGroupNotFoundFault', $fault: 'client', $metadata: { httpStatusCode: 404 } }));

    const run = await runStateMachine('readiness', INPUT);

    expect(run.status).toBe('SUCCEEDED');
    const output = run.output as PublishedReadiness;
    expect(output.ready).toEqual(['backup-verification']);
    expect(output.notReady).toEqual([{ scenario: 'restore-test', reasons: [expect.stringMatching(/^subnet-group on DB subnet group frontier-dr-restore-test in us-east-1: ResourceNotFound/)] }]);
    expect(output.announced).toEqual([{ scenario: 'restore-test', change: 'not-ready-first-seen' }]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { Subject: '[frontier-dr] readiness: restore-test NOT READY', Message: expect.stringContaining('subnet-group on DB subnet group frontier-dr-restore-test') });
  });

  it('makes a scenario whose evaluation throws not ready with the error, and still evaluates and reports the others', async () => {
    const run = await runStateMachine('readiness', INPUT, {
      handlerOverrides: {
        evaluateScenarioReadiness: async (event) => {
          const { scenario } = event as { scenario: string };
          if (scenario === 'restore-test') throw Object.assign(new Error('Task timed out after 60.00 seconds'), { name: 'Sandbox.Timedout' });
          const real = await import('../../functions/evaluate-scenario-readiness/handler.js');
          return real.handler(event as never, {} as never);
        },
      },
    });

    expect(run.status).toBe('SUCCEEDED');
    const output = run.output as PublishedReadiness;
    expect(output.ready).toEqual(['backup-verification']);
    expect(output.notReady).toEqual([{ scenario: 'restore-test', reasons: [expect.stringMatching(/^evaluation on restore-test: the evaluation could not run: Sandbox.Timedout/)] }]);
    expect(run.events.some((e) => e.type === 'StateCaught')).toBe(true);
    expect(storedReport().scenarios.map((s) => [s.scenario, s.ready])).toEqual([
      ['backup-verification', true],
      ['restore-test', false],
    ]);
  });

  it('fails at StartRun, before any AWS call, on a bad input naming the field', async () => {
    const run = await runStateMachine('readiness', { scenarios: ['restore-tset'] });

    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'InvalidInput', message: expect.stringContaining('scenarios[0]: got "restore-tset"') });
    for (const mock of allMocks) expect(mock.calls()).toHaveLength(0);
  });
});
