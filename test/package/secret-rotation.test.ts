// The secret rotation as `serverless package` builds it from a deployment that rotates two databases'
// credentials (one single user, one alternating users with a master secret given as an ARN): the
// permission for Secrets Manager to invoke the function, one rotation schedule per listed secret and no
// other, IAM limited to the listed secrets, the function in the configured VPC, and cfn-lint.
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { stringify as toYaml } from 'yaml';
import { exampleConfig } from '../support/fixtures.js';
import { statementsOf, type Statement } from '../support/iam.js';
import { lintTemplate, packageStack, PACKAGING_TEST_TIMEOUT_MS, removePackages, temporaryDirectory, type CfnTemplate } from '../support/package-stack.js';

const MASTER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:frontier/orders/master-Ab12Cd';
const example = exampleConfig();
let template: CfnTemplate;
let templatePath: string;

beforeAll(async () => {
  const raw = structuredClone(example) as unknown as { databases: Record<string, unknown>[] };
  const first = raw.databases[0]!;
  first.rotation = { strategy: 'single-user', scheduleExpression: 'rate(30 days)' };
  raw.databases.push({
    ...structuredClone(first),
    name: 'frontier-orders',
    credentialsSecret: 'frontier/orders/database',
    rotation: { strategy: 'alternating-users', scheduleExpression: 'cron(0 4 ? * SUN *)', masterSecret: MASTER_ARN },
  });
  // A database that does not rotate: its secret gets no schedule and the function no access to it.
  raw.databases.push({ ...structuredClone(first), name: 'frontier-analytics', credentialsSecret: 'frontier/analytics/database', rotation: undefined });
  const file = path.join(await temporaryDirectory('frontier-dr-rotation-'), 'rotation.yml');
  await writeFile(file, toYaml(raw));
  const stack = await packageStack({ config: file });
  template = stack.template;
  templatePath = stack.templatePath;
}, PACKAGING_TEST_TIMEOUT_MS);

afterAll(removePackages);

const secretArn = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:us-east-1:\${AWS::AccountId}:secret:${name}-??????` });
const list = (value: unknown): unknown[] => (value === undefined ? [] : [value].flat());
const of = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe('secret rotation in the stack', () => {
  it('lets Secrets Manager, for this account only, invoke the rotation function', () => {
    const permissions = of('AWS::Lambda::Permission').filter(([, r]) => r.Properties?.Principal === 'secretsmanager.amazonaws.com');
    expect(permissions.map(([, r]) => r.Properties)).toEqual([
      {
        FunctionName: { 'Fn::GetAtt': ['RotateDatabaseSecretLambdaFunction', 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'secretsmanager.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
      },
    ]);
  });

  it('schedules the rotation of exactly the listed secrets, with the function, after the permission exists, never on deployment', () => {
    const schedules = of('AWS::SecretsManager::RotationSchedule').map(([, r]) => ({ DependsOn: r.DependsOn, ...r.Properties }));
    const rotation = (secretId: string, expression: string) => ({
      DependsOn: ['RotateDatabaseSecretInvokedBySecretsManager'],
      SecretId: secretId,
      RotationLambdaARN: { 'Fn::GetAtt': ['RotateDatabaseSecretLambdaFunction', 'Arn'] },
      RotateImmediatelyOnUpdate: false,
      RotationRules: { ScheduleExpression: expression },
    });
    expect(schedules).toEqual([rotation('frontier/prod/database', 'rate(30 days)'), rotation('frontier/orders/database', 'cron(0 4 ? * SUN *)')]);
  });

  it('limits the rotation role to the listed secrets (and a read of the master secret), plus GetRandomPassword, which has no resource', () => {
    const role = (template.Resources.RotateDatabaseSecretLambdaFunction?.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    const statements: Statement[] = statementsOf(template, role);
    const byAction = new Map<string, unknown[]>();
    for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
      expect(statement.Condition).toBeUndefined();
      for (const action of list(statement.Action) as string[]) byAction.set(action, [...(byAction.get(action) ?? []), ...list(statement.Resource)]);
    }
    const rotated = [secretArn('frontier/prod/database'), secretArn('frontier/orders/database')];
    expect(Object.fromEntries(byAction)).toEqual({
      'secretsmanager:DescribeSecret': rotated,
      'secretsmanager:GetSecretValue': [...rotated, MASTER_ARN],
      'secretsmanager:PutSecretValue': rotated,
      'secretsmanager:UpdateSecretVersionStage': rotated,
      'secretsmanager:GetRandomPassword': ['*'],
    });
    expect(JSON.stringify(statements)).not.toContain('frontier/analytics/database');
  });

  it('runs the function in the configured VPC with the VPC execution policy, its timeout beyond the worst case of its calls', () => {
    const fn = template.Resources.RotateDatabaseSecretLambdaFunction!.Properties!;
    expect(fn.VpcConfig).toEqual({ SubnetIds: example.network.subnetIds, SecurityGroupIds: example.network.securityGroupIds });
    expect(fn.Timeout).toBe(60);
    const role = (fn.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    expect(template.Resources[role]!.Properties!.ManagedPolicyArns).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole' }]);
  });

  it('passes cfn-lint', async () => {
    const lint = await lintTemplate(templatePath, [example.recoveryRegion]);
    expect({ exitCode: lint.exitCode, output: lint.output.trim() }).toEqual({ exitCode: 0, output: '' });
  }, 120_000);
});
