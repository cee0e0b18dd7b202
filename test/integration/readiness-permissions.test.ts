// The readiness permission and route checks against the emulator: the stack's roles, functions and
// recovery VPC seeded into moto (local/readiness-seed.ts), IAM SimulatePrincipalPolicy answered by the
// AWS front from the roles' policies as moto holds them. The healthy seed passes; each planted problem
// fails its check, and only it.
import { EC2Client } from '@aws-sdk/client-ec2';
import { DeleteRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { startAwsFront, type AwsFront } from '../../local/aws-front.js';
import { EMULATOR_CREDENTIALS } from '../../local/emulator-clients.js';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { plantMissingRolePermission, plantMissingVpcRoute, seedStackRolesAndNetwork, withSeededNetwork, type SeededStack } from '../../local/readiness-seed.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { routeCheckName, checkVpcRoutes, SECURITY_GROUP_EGRESS_CHECK } from '../../shared/readiness-network.js';
import { checkRolePermissions, ROLE_PERMISSIONS_CHECK } from '../../shared/readiness-permissions.js';
import { SCENARIO_NAMES } from '../../shared/scenarios.js';
import { exampleConfig } from '../support/fixtures.js';

let moto: MotoServer;
let front: AwsFront;
let seeded: SeededStack;
let config: DeploymentConfig;
let deps: { iam: IAMClient; lambda: LambdaClient; ec2: EC2Client };

beforeAll(async () => {
  moto = await startMoto();
  front = await startAwsFront(moto.endpoint);
  const common = { endpoint: front.endpoint, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 };
  deps = { iam: new IAMClient({ ...common, region: 'us-east-1' }), lambda: new LambdaClient({ ...common, region: 'us-east-1' }), ec2: new EC2Client({ ...common, region: 'us-east-1' }) };
  seeded = await seedStackRolesAndNetwork(front.endpoint, exampleConfig());
  config = withSeededNetwork(exampleConfig(), seeded);
}, 120_000);

afterAll(async () => {
  for (const client of Object.values(deps ?? {})) client.destroy();
  await front?.stop();
  await moto?.stop();
}, 60_000);

describe('readiness of the healthy seed', () => {
  it.each(SCENARIO_NAMES.map((s) => [s]))("%s: every function's role may make its steps' calls", async (scenario) => {
    const recording = front.recordRequests();

    const checks = await checkRolePermissions(deps, config, scenario, seeded.functionNamePrefix);

    recording.stop();
    expect(checks.filter((c) => !c.passed)).toEqual([]);
    expect(checks.every((c) => c.name === ROLE_PERMISSIONS_CHECK)).toBe(true);
    // Read-only: only lookups and simulations.
    expect(recording.requests().filter((r) => !r.readOnly)).toEqual([]);
    expect(recording.requests().map((r) => r.action)).toContain('SimulatePrincipalPolicy');
  }, 60_000);

  it.each(SCENARIO_NAMES.map((s) => [s]))('%s: every subnet reaches the APIs its VPC functions call', async (scenario) => {
    const checks = await checkVpcRoutes({ ec2: deps.ec2 }, config, scenario);

    expect(checks.filter((c) => !c.passed)).toEqual([]);
  });

  it("lets HTTPS out of the functions' security groups (EC2's default egress)", async () => {
    const checks = await checkVpcRoutes({ ec2: deps.ec2 }, config, 'restore-test');

    expect(checks.find((c) => c.name === SECURITY_GROUP_EGRESS_CHECK)).toMatchObject({ resource: Object.values(seeded.securityGroupIds).join(', '), passed: true });
  });

  it('reaches Secrets Manager through the NAT gateway, DynamoDB through its gateway endpoint', async () => {
    const checks = await checkVpcRoutes({ ec2: deps.ec2 }, config, 'database-recovery');

    const subnet = config.network.subnetIds[0]!;
    expect(checks.find((c) => c.resource === subnet && c.name === routeCheckName('secretsmanager', 'us-east-1'))!.message).toContain(`NAT gateway ${seeded.natGatewayId}`);
    expect(checks.find((c) => c.resource === subnet && c.name === routeCheckName('dynamodb', 'us-east-1'))!.message).toContain('gateway endpoint');
  });
});

describe('planted problems', () => {
  beforeAll(async () => {
    await plantMissingRolePermission(front.endpoint, exampleConfig());
    await plantMissingVpcRoute(front.endpoint, exampleConfig());
  }, 60_000);

  it("fails verifyBuckets' role on s3:GetReplicationConfiguration for each bucket, implicitly denied, and nothing else", async () => {
    const checks = await checkRolePermissions(deps, config, 'backup-verification', seeded.functionNamePrefix);

    expect(checks.filter((c) => !c.passed).map((c) => [c.name, c.resource])).toEqual(
      config.buckets.map((b) => ['role may call s3:GetReplicationConfiguration', `arn:aws:s3:::${b.name}`]),
    );
    expect(checks.find((c) => !c.passed)!.message).toContain(`frontier-dr-local-verifyBuckets (role ${seeded.roles.verifyBuckets}) may not call s3:GetReplicationConfiguration`);
    expect(checks.find((c) => !c.passed)!.message).toContain('implicitly denied');
    // Other scenarios do not use the function.
    expect((await checkRolePermissions(deps, config, 'restore-test', seeded.functionNamePrefix)).every((c) => c.passed)).toBe(true);
  }, 60_000);

  it('fails the isolated subnet on Secrets Manager only, naming the functions that would time out', async () => {
    const checks = await checkVpcRoutes({ ec2: deps.ec2 }, config, 'database-recovery');

    const isolated = config.network.subnetIds[config.network.subnetIds.length - 1]!;
    const failed = checks.filter((c) => !c.passed);
    expect(failed.map((c) => [c.name, c.resource])).toEqual([[routeCheckName('secretsmanager', 'us-east-1'), isolated]]);
    expect(failed[0]!.message).toContain('setDatabaseReadOnly, prewarmDatabase, runHealthChecks would time out');
    expect(checks.filter((c) => c.resource === config.network.subnetIds[0]).every((c) => c.passed)).toBe(true);
  });

  it('reports an explicit Deny on a role as explicitly denied, and the role passes again once it is gone', async () => {
    const roleName = seeded.roles.publishReport!.split('/').pop()!;
    const deny = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:PutObject', Resource: '*' }] };
    await deps.iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'deny-writes', PolicyDocument: JSON.stringify(deny) }));
    try {
      const checks = await checkRolePermissions(deps, config, 'restore-test', seeded.functionNamePrefix);

      const failed = checks.filter((c) => !c.passed);
      expect(failed.map((c) => c.name)).toEqual(['role may call s3:PutObject']);
      expect(failed[0]!.message).toContain('explicitly denied');
    } finally {
      await deps.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: 'deny-writes' }));
    }
    expect((await checkRolePermissions(deps, config, 'restore-test', seeded.functionNamePrefix)).every((c) => c.passed)).toBe(true);
  }, 60_000);

  it('fails a function that is not deployed and a subnet that does not exist', async () => {
    const permissions = await checkRolePermissions(deps, config, 'backup-verification', 'frontier-dr-other-');
    expect(permissions.map((c) => c.passed)).toEqual(permissions.map(() => false));
    expect(permissions[0]!.message).toContain('function frontier-dr-other-startRun is not deployed');

    const routes = await checkVpcRoutes({ ec2: deps.ec2 }, exampleConfig(), 'restore-test');
    expect(routes.map((c) => [c.name, c.passed])).toEqual([
      ...exampleConfig().network.subnetIds.map(() => ['VPC subnet exists', false]),
      ...exampleConfig().network.securityGroupIds.map(() => ['VPC security group exists', false]),
    ]);
  });
});
