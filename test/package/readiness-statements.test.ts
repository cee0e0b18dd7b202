// The readiness function's statements for the role and route checks (deploy/deployment-config.cjs
// `iam.readinessPermissions` / `iam.readinessNetwork`, which the readiness function's role holds):
// scoped to this stack's functions and roles, read-only, and matching the names the stack gives them.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { evaluateIdentityPolicies } from '../../local/iam-simulation.js';
import { EXAMPLE_CONFIG_PATH } from '../support/fixtures.js';
import type { Statement } from '../support/iam.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const deploymentConfig = createRequire(import.meta.url)(path.join(root, 'deploy/deployment-config.cjs')) as (source: {
  resolveVariable: (name: string) => Promise<string>;
}) => Promise<{ iam: Record<string, Statement[]> }>;
const ACCOUNT = '123456789012';
const STACK = 'frontier-dr-prod';

/** As CloudFormation fills them in for stack frontier-dr-prod in ACCOUNT. */
function filled(statements: Statement[]): Statement[] {
  return JSON.parse(
    JSON.stringify(statements).replace(/\{"Fn::Sub":"([^"]*)"\}/g, (_whole, text: string) =>
      JSON.stringify(text.replaceAll('${AWS::Partition}', 'aws').replaceAll('${AWS::AccountId}', ACCOUNT).replaceAll('${AWS::StackName}', STACK)),
    ),
  ) as Statement[];
}

const allowed = async (statements: Statement[], action: string, resource: string) =>
  (await evaluateIdentityPolicies([{ name: 'readiness', document: { Version: '2012-10-17', Statement: statements } }], { principal: `arn:aws:iam::${ACCOUNT}:role/readiness`, action, resource, accountId: ACCOUNT })) === 'allowed';

describe('readiness statements', () => {
  let iam: Record<string, Statement[]>;
  beforeAll(async () => {
    ({ iam } = await deploymentConfig({ resolveVariable: async () => EXAMPLE_CONFIG_PATH }));
  });

  it('let the readiness function read the stack functions and simulate the stack roles, and no others', async () => {
    const permissions = filled(iam.readinessPermissions!);
    expect(permissions.flatMap((s) => [s.Action].flat()).sort()).toEqual(['iam:SimulatePrincipalPolicy', 'lambda:GetFunctionConfiguration']);
    expect(await allowed(permissions, 'lambda:GetFunctionConfiguration', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${STACK}-verifyBuckets`)).toBe(true);
    expect(await allowed(permissions, 'iam:SimulatePrincipalPolicy', `arn:aws:iam::${ACCOUNT}:role/${STACK}-VerifyBucketsRole-AbC123`)).toBe(true);
    // Another stage's or stack's functions and roles, another region, or any change: refused.
    expect(await allowed(permissions, 'lambda:GetFunctionConfiguration', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:frontier-dr-dev-verifyBuckets`)).toBe(false);
    expect(await allowed(permissions, 'lambda:GetFunctionConfiguration', `arn:aws:lambda:us-west-2:${ACCOUNT}:function:${STACK}-verifyBuckets`)).toBe(false);
    expect(await allowed(permissions, 'iam:SimulatePrincipalPolicy', `arn:aws:iam::${ACCOUNT}:role/admin`)).toBe(false);
    expect(await allowed(permissions, 'lambda:UpdateFunctionConfiguration', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${STACK}-verifyBuckets`)).toBe(false);
    expect(await allowed(permissions, 'iam:PutRolePolicy', `arn:aws:iam::${ACCOUNT}:role/${STACK}-VerifyBucketsRole-AbC123`)).toBe(false);
  });

  it('let it describe the VPC (EC2 Describe calls take no resource) and change nothing', () => {
    expect(iam.readinessNetwork).toEqual([{ Effect: 'Allow', Action: ['ec2:DescribeSubnets', 'ec2:DescribeRouteTables', 'ec2:DescribeVpcEndpoints', 'ec2:DescribeSecurityGroups'], Resource: ['*'] }]);
  });

  it('match the names the stack gives: functions <stack>-<key>, roles named by CloudFormation after the stack', async () => {
    const stack = parseYaml((await readFile(path.join(root, 'serverless.yml'), 'utf8')).replace(/!(Ref|Sub|GetAtt) /g, ''), { logLevel: 'silent' }) as {
      provider: Record<string, unknown>;
      functions: Record<string, { name?: string }>;
      resources: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    };
    // The default stack name is <service>-<stage>, and functions are named <service>-<stage>-<key>.
    expect(stack.provider.stackName).toBeUndefined();
    expect(Object.entries(stack.functions).filter(([, f]) => f.name !== undefined)).toEqual([]);
    const namedRoles = Object.entries(stack.resources.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName !== undefined);
    expect(namedRoles).toEqual([]);
  });
});
