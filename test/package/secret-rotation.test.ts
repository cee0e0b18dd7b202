// The secret rotation as `serverless package` builds it from a deployment that rotates two databases'
// credentials (one single user, one alternating users with a master secret given as an ARN) and its API
// keys (securityIncident.apiKeys with a schedule): the permission for Secrets Manager to invoke each
// rotation function, one rotation schedule per listed secret and no other, IAM limited to the listed
// secrets, the database function in the configured VPC, and cfn-lint.
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { stringify as toYaml } from 'yaml';
import { exampleConfig } from '../support/fixtures.js';
import { statementsOf, type Statement } from '../support/iam.js';
import { lintTemplate, packageStack, PACKAGING_TEST_TIMEOUT_MS, removePackages, temporaryDirectory, type CfnTemplate } from '../support/package-stack.js';

const MASTER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:frontier/orders/master-Ab12Cd';
const API_KEYS_SECRET = 'frontier/prod/api-keys';
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
  // The API keys, rotated every 7 days by their own function.
  (raw as Record<string, unknown>).securityIncident = {
    apiKeys: { secret: API_KEYS_SECRET, scheduleExpression: 'rate(7 days)' },
    evidence: { bucket: 'frontier-dr-evidence-test' },
  };
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
    const permission = (fn: string) => ({ FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] }, Action: 'lambda:InvokeFunction', Principal: 'secretsmanager.amazonaws.com', SourceAccount: { Ref: 'AWS::AccountId' } });
    expect(Object.fromEntries(permissions.map(([id, r]) => [id, r.Properties]))).toEqual({
      RotateDatabaseSecretInvokedBySecretsManager: permission('RotateDatabaseSecretLambdaFunction'),
      RotateApiKeysInvokedBySecretsManager: permission('RotateApiKeysLambdaFunction'),
    });
  });

  it('schedules the rotation of exactly the listed secrets, with the function, after the permission exists, never on deployment', () => {
    const schedules = of('AWS::SecretsManager::RotationSchedule').map(([, r]) => ({ DependsOn: r.DependsOn, ...r.Properties }));
    const rotation = (secretId: string, expression: string, fn = 'RotateDatabaseSecret') => ({
      DependsOn: [`${fn}InvokedBySecretsManager`],
      SecretId: secretId,
      RotationLambdaARN: { 'Fn::GetAtt': [fn === 'RotateDatabaseSecret' ? 'RotateDatabaseSecretLambdaFunction' : `${fn}LambdaFunction`, 'Arn'] },
      RotateImmediatelyOnUpdate: false,
      RotationRules: { ScheduleExpression: expression },
    });
    expect(schedules).toEqual([
      rotation('frontier/prod/database', 'rate(30 days)'),
      rotation('frontier/orders/database', 'cron(0 4 ? * SUN *)'),
      rotation(API_KEYS_SECRET, 'rate(7 days)', 'RotateApiKeys'),
    ]);
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

  it('limits the API-key rotation role to the API-key secret, GetRandomPassword, the two clusters\' DescribeCluster, and its own logs', () => {
    const fn = template.Resources.RotateApiKeysLambdaFunction!.Properties!;
    const role = (fn.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    expect(role).toBe('RotateApiKeysRole');
    const byAction = new Map<string, unknown[]>();
    for (const statement of statementsOf(template, role).filter((s) => s.Effect === 'Allow')) {
      expect(statement.Condition).toBeUndefined();
      for (const action of list(statement.Action) as string[]) if (!action.startsWith('logs:')) byAction.set(action, [...(byAction.get(action) ?? []), ...list(statement.Resource)]);
    }
    const clusters = [example.kubernetes!.clusters.primary, example.kubernetes!.clusters.backup].map((c) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:eks:${c.region}:\${AWS::AccountId}:cluster/${c.name}` }));
    const keys = [secretArn(API_KEYS_SECRET)];
    expect(Object.fromEntries(byAction)).toEqual({
      'secretsmanager:DescribeSecret': keys,
      'secretsmanager:GetSecretValue': keys,
      'secretsmanager:PutSecretValue': keys,
      'secretsmanager:UpdateSecretVersionStage': keys,
      'secretsmanager:GetRandomPassword': ['*'],
      'eks:DescribeCluster': clusters,
    });
    // Outside the VPC (it calls AWS APIs and the clusters' endpoints, as the other Kubernetes functions).
    expect(fn.VpcConfig).toBeUndefined();
    expect(fn.Timeout).toBe(60);
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
