// The readiness evaluation (shared/readiness.ts, readiness-run.ts): every check passing on a healthy
// deployment and failing on its own problem, and the faults of each call turned into a reason the
// scenario is not ready (never a thrown error). AWS answered by client mocks, Kubernetes by the client
// double: no network.
import { createRequire } from 'node:module';
import path from 'node:path';
import { DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  DescribeDBSnapshotsCommand,
  DescribeDBSubnetGroupsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetRoutingControlStateCommand, Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import type { DeploymentConfig } from '../../shared/config.js';
import { approvalRequestFor } from '../../shared/approval-request.js';
import { planApproval } from '../../shared/approval.js';
import { evaluateScenarioReadiness, planReadinessRun, type ReadinessDeps } from '../../shared/readiness.js';
import { routeCheckName } from '../../shared/readiness-network.js';
import { ROLE_PERMISSIONS_CHECK } from '../../shared/readiness-permissions.js';
import { planRun } from '../../shared/run.js';
import { SCENARIO_NAMES, type ScenarioName } from '../../shared/scenarios.js';
import { answerDeployment, connectToDouble, KubeClientDouble, listOf, nodeObject } from '../support/kube-client-double.js';
import { objectBody } from '../support/cluster-fixtures.js';
import { configWith, dbInstance, exampleConfig, hoursAgo, minutesAgo, snapshot } from '../support/fixtures.js';

const PRIMARY = 'us-west-2';
const RECOVERY = 'us-east-1';
const now = new Date();
const execution = { id: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-readiness:r1', name: 'r1', startTime: now.toISOString() };

function serviceError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} (injected)`), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

const clients = {
  rds: { [PRIMARY]: new RDSClient({ region: PRIMARY }), [RECOVERY]: new RDSClient({ region: RECOVERY }) } as Record<string, RDSClient>,
  secrets: { [PRIMARY]: new SecretsManagerClient({ region: PRIMARY }), [RECOVERY]: new SecretsManagerClient({ region: RECOVERY }) } as Record<string, SecretsManagerClient>,
  kms: { [PRIMARY]: new KMSClient({ region: PRIMARY }), [RECOVERY]: new KMSClient({ region: RECOVERY }) } as Record<string, KMSClient>,
  ec2: { [PRIMARY]: new EC2Client({ region: PRIMARY }), [RECOVERY]: new EC2Client({ region: RECOVERY }) } as Record<string, EC2Client>,
  waf: new WAFV2Client({ region: PRIMARY }),
  s3: new S3Client({ region: RECOVERY }),
  route53: new Route53Client({ region: RECOVERY }),
  arc: new Route53RecoveryClusterClient({ region: RECOVERY }),
  iam: new IAMClient({ region: RECOVERY }),
  lambda: new LambdaClient({ region: RECOVERY }),
};
const mocks = {
  primaryRds: mockClient(clients.rds[PRIMARY]!),
  recoveryRds: mockClient(clients.rds[RECOVERY]!),
  primarySecrets: mockClient(clients.secrets[PRIMARY]!),
  recoverySecrets: mockClient(clients.secrets[RECOVERY]!),
  primaryKms: mockClient(clients.kms[PRIMARY]!),
  recoveryKms: mockClient(clients.kms[RECOVERY]!),
  primaryEc2: mockClient(clients.ec2[PRIMARY]!),
  recoveryEc2: mockClient(clients.ec2[RECOVERY]!),
  waf: mockClient(clients.waf),
  s3: mockClient(clients.s3),
  route53: mockClient(clients.route53),
  arc: mockClient(clients.arc),
  iam: mockClient(clients.iam),
  lambda: mockClient(clients.lambda),
};

let clusters: { primary: KubeClientDouble; backup: KubeClientDouble };
const NS = 'production';
const API = 'frontier-api';

function answerCluster(double: KubeClientDouble, readyNodes: number, totalNodes: number, revisions: string[]): void {
  double.on('GET', '/version', { body: { gitVersion: 'v1.31.0' } });
  double.on('GET', '/api/v1/nodes', { body: listOf('NodeList', Array.from({ length: totalNodes }, (_, i) => nodeObject(`node-${i}`, i < readyNodes))) });
  answerDeployment(double, { namespace: NS, name: API, revisions, replicas: 3 });
  double.on('GET', `/api/v1/namespaces/${NS}/configmaps/frontier-config`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'frontier-config', namespace: NS }, data: { emergency_mode: 'false' } } });
}

const CREDENTIALS = JSON.stringify({ username: 'frontier', password: 'not-a-real-password-0001' });

const ACCOUNT = '123456789012';
const FUNCTION_PREFIX = 'frontier-dr-prod-';
const VPC = 'vpc-0recovery';
const LOCAL_ROUTE = { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' as const };
const NAT_ROUTE = { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-0recovery', State: 'active' as const };
const roleOf = (functionKey: string) => `arn:aws:iam::${ACCOUNT}:role/frontier-dr-prod-${functionKey}Role`;

/** IAM answers every simulated request with `decide(action, role)`. */
function simulation(decide: (action: string, role: string) => 'allowed' | 'implicitDeny' | 'explicitDeny'): void {
  mocks.iam.on(SimulatePrincipalPolicyCommand).callsFake((input: { PolicySourceArn: string; ActionNames: string[]; ResourceArns?: string[] }) => ({
    EvaluationResults: input.ActionNames.map((action) => ({ EvalActionName: action, EvalResourceName: input.ResourceArns?.[0] ?? '*', EvalDecision: decide(action, input.PolicySourceArn) })),
    IsTruncated: false,
  }));
}
const allowEverything = () => simulation(() => 'allowed');

function healthy(): void {
  for (const mock of Object.values(mocks)) mock.reset();
  for (const rds of [mocks.primaryRds, mocks.recoveryRds]) {
    rds.on(DescribeDBSubnetGroupsCommand).callsFake((input: { DBSubnetGroupName: string }) => ({ DBSubnetGroups: [{ DBSubnetGroupName: input.DBSubnetGroupName, VpcId: 'vpc-1', Subnets: [{}, {}] }] }));
    rds.on(DescribeDBParameterGroupsCommand).callsFake((input: { DBParameterGroupName: string }) => ({ DBParameterGroups: [{ DBParameterGroupName: input.DBParameterGroupName, DBParameterGroupFamily: 'postgres16' }] }));
    rds.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({ DBInstanceAutomatedBackups: [] });
  }
  mocks.primaryRds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => ({
    DBInstances: [dbInstance(input.DBInstanceIdentifier, { LatestRestorableTime: minutesAgo(3, now), InstanceCreateTime: hoursAgo(48, now), DBParameterGroups: [{ DBParameterGroupName: 'frontier-prod-pg16' }] })],
  }));
  mocks.primaryRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-latest', hoursAgo(1, now), { region: PRIMARY })] });
  mocks.recoveryRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-latest', hoursAgo(1.5, now), { region: RECOVERY })] });
  for (const secrets of [mocks.primarySecrets, mocks.recoverySecrets]) {
    secrets.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => ({ ARN: `arn:aws:secretsmanager:${RECOVERY}:123456789012:secret:${input.SecretId}-abcdef`, Name: input.SecretId, VersionIdsToStages: { v1: ['AWSCURRENT'] } }));
    secrets.on(GetSecretValueCommand).resolves({ SecretString: CREDENTIALS, VersionId: 'v1' });
  }
  for (const kms of [mocks.primaryKms, mocks.recoveryKms]) kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Enabled: true, KeyState: 'Enabled' } });
  for (const ec2 of [mocks.primaryEc2, mocks.recoveryEc2]) {
    // EC2's default egress (all traffic anywhere): the VPC functions' groups let HTTPS out.
    ec2.on(DescribeSecurityGroupsCommand).callsFake((input: { GroupIds: string[] }) => ({
      SecurityGroups: input.GroupIds.map((GroupId) => ({ GroupId, VpcId: VPC, IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] })),
    }));
  }
  // The recovery VPC: every configured subnet in it, its main route table with a NAT route out.
  mocks.recoveryEc2.on(DescribeSubnetsCommand).callsFake((input: { SubnetIds: string[] }) => ({ Subnets: input.SubnetIds.map((SubnetId) => ({ SubnetId, VpcId: VPC })) }));
  mocks.recoveryEc2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [{ RouteTableId: 'rtb-main', VpcId: VPC, Associations: [{ Main: true }], Routes: [LOCAL_ROUTE, NAT_ROUTE] }] });
  mocks.recoveryEc2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
  // The stack deployed: each function with its own role, every simulated request allowed.
  mocks.lambda.on(GetFunctionConfigurationCommand).callsFake((input: { FunctionName: string }) => ({
    FunctionName: input.FunctionName,
    FunctionArn: `arn:aws:lambda:${RECOVERY}:${ACCOUNT}:function:${input.FunctionName}`,
    Role: roleOf(input.FunctionName.slice(FUNCTION_PREFIX.length)),
  }));
  allowEverything();
  mocks.waf.on(GetIPSetCommand).resolves({ IPSet: { Name: 'frontier-prod-blocked', Id: 'id', ARN: 'arn', IPAddressVersion: 'IPV4', Addresses: [] }, LockToken: 't' });
  mocks.s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'k8s/production/20-api.yaml' }] });
  mocks.s3.on(GetObjectCommand).resolves({ Body: objectBody('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frontier-config\n  namespace: production\ndata:\n  emergency_mode: "false"\n') });
  mocks.s3.on(HeadBucketCommand).resolves({});
  mocks.route53.on(GetHostedZoneCommand).resolves({ HostedZone: { Id: 'Z0FRONTIEREXAMPLE01', Name: 'frontier.com.', CallerReference: 'c' } });
  mocks.route53.on(ListResourceRecordSetsCommand).resolves({
    ResourceRecordSets: [{ Name: 'api.frontier.com.', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'primary-ingress.us-west-2.elb.amazonaws.com' }] }],
  });
  mocks.arc.on(GetRoutingControlStateCommand).callsFake((input: { RoutingControlArn: string }) => ({ RoutingControlArn: input.RoutingControlArn, RoutingControlState: input.RoutingControlArn.endsWith('primary1') ? 'On' : 'Off' }));
  clusters = { primary: new KubeClientDouble(), backup: new KubeClientDouble() };
  answerCluster(clusters.primary, 3, 3, ['frontier/api:1', 'frontier/api:2']);
  answerCluster(clusters.backup, 3, 3, ['frontier/api:1', 'frontier/api:2']);
}

function deps(): ReadinessDeps {
  return {
    rds: (region) => clients.rds[region]!,
    secrets: (region) => clients.secrets[region]!,
    kms: (region) => clients.kms[region]!,
    ec2: (region) => clients.ec2[region]!,
    waf: () => clients.waf,
    s3: clients.s3,
    route53: clients.route53,
    routingControl: () => clients.arc,
    connect: (role) => connectToDouble(clusters[role], { clusterName: `${role}-cluster` }),
    iam: clients.iam,
    lambda: clients.lambda,
    functionNamePrefix: FUNCTION_PREFIX,
    clusterTimeoutMs: 2_000,
  };
}

function evaluate(scenario: ScenarioName, config: DeploymentConfig = exampleConfig()) {
  return evaluateScenarioReadiness(config, scenario, deps(), now);
}

/** `name on resource: message` of the failed checks. */
function reasons(result: Awaited<ReturnType<typeof evaluate>>): string[] {
  return result.checks.filter((c) => !c.passed).map((c) => `${c.name} on ${c.resource}: ${c.message}`);
}

beforeEach(healthy);

describe('planReadinessRun (StartRun of the readiness state machine)', () => {
  it('evaluates every scenario the config supports when given no input, and lists the others with why', () => {
    const run = planReadinessRun({}, execution, exampleConfig());
    expect(run).toMatchObject({ scenario: 'readiness', trigger: 'manual', dryRun: false, reason: null, scenarios: [...SCENARIO_NAMES], unsupported: [] });

    const small = configWith((c) => {
      delete c.regionFailover;
      delete c.regionFailback;
    });
    const partial = planReadinessRun(undefined, execution, small);
    expect(partial.scenarios).not.toContain('region-failover');
    expect(partial.unsupported.map((u) => u.scenario)).toEqual(['region-failover', 'region-failback']);
    expect(partial.unsupported[0]!.why).toContain('regionFailover');
  });

  it('takes the scenarios named, in run order, and the schedule\'s input (dryRun accepted, meaningless)', () => {
    const run = planReadinessRun({ scenarios: ['region-failover', 'backup-verification'], trigger: 'schedule', dryRun: true, reason: 'scheduled readiness evaluation' }, execution, exampleConfig());
    expect(run).toMatchObject({ scenarios: ['backup-verification', 'region-failover'], trigger: 'schedule', dryRun: true, reason: 'scheduled readiness evaluation' });
  });

  it('refuses an unknown scenario, one the config cannot run, and an unknown field, naming each', () => {
    expect(() => planReadinessRun({ scenarios: ['region-failover', 'moon-landing'] }, execution, exampleConfig())).toThrow(/scenarios\[1\]: got "moon-landing"; expected one of backup-verification/);
    const small = configWith((c) => {
      delete c.securityIncident;
    });
    expect(() => planReadinessRun({ scenarios: ['security-incident'] }, execution, small)).toThrow(/scenarios\[0\]: got "security-incident"; this deployment's config has no securityIncident section/);
    expect(() => planReadinessRun({ scenario: ['restore-test'] }, execution, exampleConfig())).toThrow(expect.objectContaining({ name: 'InvalidInput', message: expect.stringContaining('scenario') }));
  });
});

describe('the scheduled drills (the plan\'s drill calendar)', () => {
  // The inputs deploy/deployment-config.cjs gives the two drill rules.
  const inputs = async () => {
    type Drill = { input: string; state: string };
    const load = createRequire(import.meta.url)(path.resolve('deploy/deployment-config.cjs')) as (o: { resolveVariable: () => Promise<string> }) => Promise<{ readiness: { regionFailoverDrill: Drill; securityIncidentDrill: Drill } }>;
    return (await load({ resolveVariable: async () => 'config/example.yml' })).readiness;
  };

  it('start region-failover and security-incident as dry runs StartRun accepts, never held for approval', async () => {
    const drills = await inputs();
    const config = exampleConfig();
    for (const [scenario, drill] of [['region-failover', drills.regionFailoverDrill], ['security-incident', drills.securityIncidentDrill]] as const) {
      expect(drill.state).toBe('ENABLED');
      const run = planRun(scenario, JSON.parse(drill.input), execution, config);
      expect(run).toMatchObject({ trigger: 'schedule', dryRun: true });
      // The example asks for approval of both scenarios; a dry run never waits for it.
      expect(config.approvals[scenario]?.policy).toBe('approval');
      const plan = planApproval(config, run, approvalRequestFor(run, config).approvalRequest);
      expect(plan.data.required).toBe(false);
    }
  });
});

describe('evaluateScenarioReadiness on a healthy deployment', () => {
  it.each(SCENARIO_NAMES)('%s is ready, every check passed', async (scenario) => {
    const result = await evaluate(scenario);
    expect(reasons(result)).toEqual([]);
    expect(result).toMatchObject({ scenario, ready: true, evaluatedAt: now.toISOString() });
    expect(result.checks.length).toBeGreaterThan(0);
    for (const check of result.checks) expect(check.scenario).toBe(scenario);
    // The roles' and routes' checks ran too: a function deployed with a role allowed all its steps' requests.
    expect(result.checks.filter((c) => c.name === ROLE_PERMISSIONS_CHECK).length).toBeGreaterThan(0);
  });

  it('checks each VPC function\'s route out on the scenarios that use one (database recovery: the NAT route)', async () => {
    const result = await evaluate('database-recovery');
    const routes = result.checks.filter((c) => c.name.startsWith('route from the VPC to '));
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.every((c) => c.passed)).toBe(true);
    expect(result.checks.map((c) => c.name)).toContain(routeCheckName('secretsmanager', RECOVERY));
  });

  it('reads secrets without ever putting a value into a finding', async () => {
    const all = await Promise.all(SCENARIO_NAMES.map((s) => evaluate(s)));
    const text = JSON.stringify(all);
    expect(text).not.toContain('not-a-real-password-0001');
    expect(text).toContain('readable');
  });

  it('asks the scenario\'s own preflight questions (region failover: restore source, subnet group, parameter group, records)', async () => {
    const names = (await evaluate('region-failover')).checks.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['restore-source', 'restore-subnet-group', 'restore-parameter-group', 'connection-secret', 'dns-record', 'hosted-zone', 'security-groups', 'backup-cluster', 'api-deployment', 'manifests']));
  });
});

describe('evaluateScenarioReadiness: each check fails on its own problem', () => {
  const notFound = (name: string) => serviceError(name, 404);

  it('database-recovery: a role that may not make its step\'s call (startDatabaseRestore: rds:RestoreDBInstanceToPointInTime)', async () => {
    simulation((action, role) => (role === roleOf('startDatabaseRestore') && action === 'rds:RestoreDBInstanceToPointInTime' ? 'implicitDeny' : 'allowed'));
    const result = await evaluate('database-recovery');
    expect(result.ready).toBe(false);
    const failed = reasons(result);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r) => r.startsWith('role may call rds:RestoreDBInstanceToPointInTime on '))).toBe(true);
    expect(failed[0]).toContain(`${FUNCTION_PREFIX}startDatabaseRestore`);
    // The other scenarios' roles are untouched.
    expect((await evaluate('backup-verification')).ready).toBe(true);
  });

  it('database-recovery: a subnet whose route table has no route out (no NAT, no endpoint)', async () => {
    const isolated = { RouteTableId: 'rtb-isolated', VpcId: VPC, Associations: [{ SubnetId: exampleConfig().network.subnetIds[1]! }], Routes: [LOCAL_ROUTE] };
    mocks.recoveryEc2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [{ RouteTableId: 'rtb-main', VpcId: VPC, Associations: [{ Main: true }], Routes: [LOCAL_ROUTE, NAT_ROUTE] }, isolated] });
    const result = await evaluate('database-recovery');
    expect(result.ready).toBe(false);
    const failed = result.checks.filter((c) => !c.passed);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((c) => c.name.startsWith('route from the VPC to ') && c.resource === exampleConfig().network.subnetIds[1])).toBe(true);
  });

  it('restore-test: the scratch restore\'s subnet group missing in the recovery region', async () => {
    mocks.recoveryRds.on(DescribeDBSubnetGroupsCommand).rejects(notFound('DBSubnetGroupNotFoundFault'));
    const result = await evaluate('restore-test');
    expect(result.ready).toBe(false);
    expect(reasons(result)).toEqual([expect.stringMatching(/^subnet-group on DB subnet group frontier-dr-restore-test in us-east-1: ResourceNotFound: rds:DescribeDBSubnetGroups/)]);
  });

  it('restore-test: no subnet group configured at all', async () => {
    const config = configWith((c) => {
      delete c.databases[0]!.restoreTest.subnetGroup;
    });
    expect(reasons(await evaluate('restore-test', config))).toEqual([expect.stringContaining('names no subnet group')]);
  });

  it('restore-test: the newest copy older than the copy schedule allows, and none at all', async () => {
    mocks.recoveryRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-old', hoursAgo(9, now), { region: RECOVERY })] });
    expect(reasons(await evaluate('restore-test'))).toEqual([expect.stringMatching(/restore-source on frontier-prod snapshot copies in us-east-1: .*frontier-prod-old is 540 min old; the copy schedule allows 300 min \(RPO 15 min\)/)]);
    mocks.recoveryRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    expect(reasons(await evaluate('restore-test'))).toEqual([expect.stringContaining('no usable snapshot copy of frontier-prod in us-east-1')]);
  });

  it('restore-test: a security group that does not exist; a KMS key pending deletion', async () => {
    // The scratch restore's group only (the VPC functions' group is another, still there).
    mocks.recoveryEc2.on(DescribeSecurityGroupsCommand, { GroupIds: ['sg-0a1b2c3d4e5f60718'] }).rejects(serviceError('InvalidGroup.NotFound', 400));
    const config = configWith((c) => {
      c.databases[0]!.restoreTest.kmsKeyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    });
    mocks.recoveryKms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Enabled: false, KeyState: 'PendingDeletion' } });
    const found = reasons(await evaluate('restore-test', config));
    expect(found).toEqual([
      expect.stringMatching(/^security-groups on security groups sg-0a1b2c3d4e5f60718 in us-east-1: ResourceNotFound/),
      expect.stringMatching(/^kms-key on KMS key arn:aws:kms:us-east-1:.*the key is PendingDeletion; it must be Enabled/),
    ]);
  });

  it('database-recovery: its parameter group missing in the primary region; the secret unreadable', async () => {
    mocks.primaryRds.on(DescribeDBParameterGroupsCommand).rejects(notFound('DBParameterGroupNotFound'));
    mocks.recoverySecrets.on(GetSecretValueCommand).rejects(serviceError('AccessDeniedException', 400));
    const found = reasons(await evaluate('database-recovery'));
    expect(found).toEqual([
      expect.stringMatching(/^parameter-group on DB parameter group frontier-prod-pg16 in us-west-2: ResourceNotFound/),
      expect.stringMatching(/^secret-readable on secret frontier\/prod\/database in us-east-1: AwsAccessDenied: secretsmanager:GetSecretValue .* was denied/),
    ]);
  });

  it('database-recovery: no restore point (the instance is gone)', async () => {
    mocks.primaryRds.on(DescribeDBInstancesCommand).rejects(notFound('DBInstanceNotFoundFault'));
    expect(reasons(await evaluate('database-recovery'))).toEqual([expect.stringMatching(/^restore-point on frontier-prod in us-west-2: ResourceNotFound/)]);
  });

  it('cluster-failover: the backup cluster\'s nodes not Ready; the manifests prefix empty; the DNS record missing', async () => {
    clusters.backup = new KubeClientDouble();
    answerCluster(clusters.backup, 0, 3, ['frontier/api:1']);
    mocks.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    mocks.route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [] });
    expect(reasons(await evaluate('cluster-failover'))).toEqual([
      'backup-cluster on backup cluster frontier-backup-cluster (us-east-1): RecoveryError: only 0 of 3 nodes Ready (less than half)',
      expect.stringMatching(/^manifests on s3:\/\/frontier-dr-manifests\/k8s\/production\/: ResourceNotFound: no manifests/),
      'dns-record on api.frontier.com. CNAME in Z0FRONTIEREXAMPLE01: ResourceNotFound: api.frontier.com. CNAME does not exist in Z0FRONTIEREXAMPLE01: nothing to move',
    ]);
  });

  it('cluster-failover: a cluster that does not answer is a reason, not an error', async () => {
    clusters.backup.refuseConnections();
    const result = await evaluate('cluster-failover');
    expect(result.ready).toBe(false);
    expect(reasons(result)).toEqual([
      expect.stringMatching(/^backup-cluster on .*: RecoveryError: .*ECONNREFUSED/),
      expect.stringMatching(/^api-deployment on deployment production\/frontier-api on frontier-backup-cluster: could not be checked: KubernetesUnreachable/),
    ]);
  });

  it('cluster-failover (data-plane traffic): a routing control that no endpoint answers for', async () => {
    const config = configWith((c) => {
      c.kubernetes!.traffic = {
        mode: 'data-plane',
        recordName: 'api.frontier.com',
        routingControls: {
          primary: 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc123/routingcontrol/primary1',
          backup: 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc123/routingcontrol/backup1',
        },
        clusterEndpoints: [{ region: 'us-east-1', endpoint: 'https://host-a.us-east-1.example.com/v1' }],
        timeoutMinutes: 10,
      };
    });
    const ok = await evaluate('cluster-failover', config);
    expect(ok.checks.find((c) => c.name === 'routing-controls')).toMatchObject({ passed: true, message: 'primary1 On, backup1 Off' });
    mocks.arc.on(GetRoutingControlStateCommand).rejects(Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error', code: 'ECONNREFUSED' }));
    expect(reasons(await evaluate('cluster-failover', config))).toEqual([expect.stringMatching(/^routing-controls on .*could not be checked: AwsTransientError: .*no endpoint of the ARC cluster answered/)]);
  });

  it('emergency-rollback: no previous revision to go back to', async () => {
    clusters.primary = new KubeClientDouble();
    answerCluster(clusters.primary, 3, 3, ['frontier/api:1']);
    expect(reasons(await evaluate('emergency-rollback'))).toEqual([expect.stringMatching(/^previous-revision on deployment production\/frontier-api on frontier-prod-cluster: NothingToRollBack/)]);
  });

  it('security-incident: the WAF IP set missing; the emergency-mode ConfigMap missing; an unreadable secret', async () => {
    mocks.waf.on(GetIPSetCommand).rejects(serviceError('WAFNonexistentItemException', 400));
    clusters.primary.on('GET', `/api/v1/namespaces/${NS}/configmaps/frontier-config`, { status: 404, body: { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'configmaps "frontier-config" not found' } });
    mocks.recoverySecrets.on(GetSecretValueCommand, { SecretId: 'frontier/prod/api-keys' }).rejects(serviceError('AccessDeniedException', 400));
    const found = reasons(await evaluate('security-incident'));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^emergency-mode-configmap on ConfigMap production\/frontier-config/),
        expect.stringMatching(/^waf-ip-set on WAF IP set frontier-prod-blocked/),
        expect.stringMatching(/^secret-readable on secret frontier\/prod\/api-keys in us-east-1: AwsAccessDenied/),
      ]),
    );
    expect(found).toHaveLength(3);
  });

  it('region-failover: the hosted zone gone, the source\'s key disabled, the restore security group missing', async () => {
    mocks.route53.on(GetHostedZoneCommand).rejects(serviceError('NoSuchHostedZone', 404));
    mocks.recoveryKms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Enabled: false, KeyState: 'Disabled' } });
    mocks.recoveryRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ ...snapshot('frontier-prod-latest', hoursAgo(1.5, now), { region: RECOVERY }), KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/copies' }] });
    mocks.recoveryEc2.on(DescribeSecurityGroupsCommand, { GroupIds: ['sg-0c1d2e3f4a5b60718'] }).resolves({ SecurityGroups: [] });
    const found = reasons(await evaluate('region-failover'));
    expect(found).toEqual([
      expect.stringMatching(/^security-groups on security groups sg-0c1d2e3f4a5b60718 in us-east-1: ResourceNotFound: sg-0c1d2e3f4a5b60718 not found in us-east-1/),
      expect.stringMatching(/^hosted-zone on hosted zone Z0FRONTIEREXAMPLE01: ResourceNotFound/),
      expect.stringMatching(/^kms-key on KMS key arn:aws:kms:us-east-1:123456789012:key\/copies in us-east-1: .*Disabled/),
    ]);
  });

  it('region-failback: the failback key missing in the primary region; the primary region\'s secret replica missing', async () => {
    mocks.primaryKms.on(DescribeKeyCommand).rejects(serviceError('NotFoundException', 400));
    mocks.primarySecrets.on(DescribeSecretCommand).rejects(serviceError('ResourceNotFoundException', 400));
    expect(reasons(await evaluate('region-failback'))).toEqual([
      expect.stringMatching(/^kms-key on KMS key arn:aws:kms:us-west-2:.* in us-west-2: ResourceNotFound: kms:DescribeKey/),
      expect.stringMatching(/^secret-readable on secret frontier\/prod\/database in us-west-2: ResourceNotFound/),
    ]);
  });

  it('backup-verification: its own checks, a stale copy among them', async () => {
    mocks.recoveryRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('frontier-prod-old', hoursAgo(30, now), { region: RECOVERY })] });
    const result = await evaluate('backup-verification');
    expect(result.ready).toBe(false);
    expect(result.checks.filter((c) => !c.passed).map((c) => c.resource).join(' ')).toContain('us-east-1');
  });

  it('a scenario the config does not support is not ready, saying why', async () => {
    const config = configWith((c) => {
      delete c.securityIncident;
    });
    expect(reasons(await evaluate('security-incident', config))).toEqual(["configured on deployment config: this deployment's config has no securityIncident section (evidence bucket, API keys, where to block addresses)"]);
  });
});

describe('evaluateScenarioReadiness: faults of each call are reasons, never thrown', () => {
  const faults = {
    throttling: () => serviceError('Throttling', 400),
    '5xx': () => serviceError('InternalFailure', 503),
    'access denied': () => serviceError('AccessDenied', 403),
  } as const;

  it.each(Object.keys(faults) as (keyof typeof faults)[])('%s on every RDS read of restore-test and region-failover', async (fault) => {
    mocks.recoveryRds.onAnyCommand().rejects(faults[fault]());
    for (const scenario of ['restore-test', 'region-failover'] as const) {
      const result = await evaluate(scenario);
      expect(result.ready).toBe(false);
      // Denied: each check says so (the preflight's own checks in its words). Throttled or 5xx: the
      // preflight stops at its first transient error, so its whole group is one reason.
      const expected = fault === 'access denied' ? /AwsAccessDenied|was denied/ : /could not be checked: AwsTransientError/;
      const rdsChecks = result.checks.filter((c) => /subnet-group|parameter-group|restore-source|preflight/.test(c.name));
      expect(rdsChecks.length).toBeGreaterThan(0);
      for (const check of rdsChecks) expect(check).toMatchObject({ passed: false, message: expect.stringMatching(expected) });
    }
  });

  it.each(Object.keys(faults) as (keyof typeof faults)[])('%s on KMS, EC2, Route 53, Secrets Manager, S3 and WAF', async (fault) => {
    type Rejecting = { onAnyCommand(): { rejects(error: Error): unknown } };
    for (const mock of [mocks.recoveryKms, mocks.primaryKms, mocks.recoveryEc2, mocks.route53, mocks.recoverySecrets, mocks.s3, mocks.waf]) (mock as unknown as Rejecting).onAnyCommand().rejects(faults[fault]());
    const results = await Promise.all((['region-failover', 'region-failback', 'security-incident', 'cluster-failover'] as const).map((s) => evaluate(s)));
    for (const result of results) expect(result.ready).toBe(false);
    const failed = results.flatMap((r) => r.checks.filter((c) => !c.passed));
    const expected = fault === 'access denied' ? /AwsAccessDenied|was denied/ : /could not be checked: AwsTransientError/;
    for (const check of failed) expect(check.message).toMatch(expected);
    // Denied: every single check names itself; transient: the preflights stop as a group.
    expect(failed.map((c) => c.name)).toEqual(
      expect.arrayContaining(
        fault === 'access denied'
          ? ['kms-key', 'security-groups', 'hosted-zone', 'dns-record', 'secret-readable', 'manifests', 'evidence-bucket', 'waf-ip-set']
          : ['kms-key', 'security-groups', 'hosted-zone', 'dns-record', 'secret-readable', 'manifests', 'region-failover-preflight', 'security-incident-preflight'],
      ),
    );
  });

  it('a timeout of the cluster is a reason, within the evaluation\'s own deadline', async () => {
    clusters.backup.failNext({ path: '/version', timeout: true });
    const started = Date.now();
    const result = await evaluate('cluster-failover');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.checks.find((c) => c.name === 'backup-cluster')).toMatchObject({ passed: false });
  });
});
