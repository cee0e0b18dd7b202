// Rotating a secret now and waiting for it, as `serverless package` builds it from a deployment that
// rotates a database's credentials and has API keys (securityIncident.apiKeys): the start function may
// describe and rotate exactly those secrets and pass exactly the stack's two rotation functions to
// Secrets Manager; the check function may only describe them; both know the rotation functions' ARNs;
// Secrets Manager's RotationFailed events for those secrets, and no other, reach the alert topic; cfn-lint.
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { stringify as toYaml } from 'yaml';
import { exampleConfig } from '../support/fixtures.js';
import { statementsOf, type Statement } from '../support/iam.js';
import { lintTemplate, packageStack, PACKAGE_STAGE, PACKAGING_TEST_TIMEOUT_MS, removePackages, temporaryDirectory, type CfnTemplate } from '../support/package-stack.js';

const API_KEYS_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:frontier/prod/api-keys-Zx98Yw';
const example = exampleConfig();
let template: CfnTemplate;
let templatePath: string;

beforeAll(async () => {
  const raw = structuredClone(example) as unknown as { databases: Record<string, unknown>[]; securityIncident?: unknown };
  const first = raw.databases[0]!;
  first.rotation = { strategy: 'single-user', scheduleExpression: 'rate(30 days)' };
  // A database that does not rotate: nobody may rotate its secret now either.
  raw.databases.push({ ...structuredClone(first), name: 'frontier-analytics', credentialsSecret: 'frontier/analytics/database', rotation: undefined });
  raw.securityIncident = { apiKeys: { secret: API_KEYS_ARN }, evidence: { bucket: 'frontier-prod-incident-evidence' } };
  const file = path.join(await temporaryDirectory('frontier-dr-rotate-now-'), 'rotate-now.yml');
  await writeFile(file, toYaml(raw));
  const stack = await packageStack({ config: file });
  template = stack.template;
  templatePath = stack.templatePath;
}, PACKAGING_TEST_TIMEOUT_MS);

afterAll(removePackages);

const DATABASE_SECRET = 'frontier/prod/database';
const secretArn = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:us-east-1:\${AWS::AccountId}:secret:${name}-??????` });
const functionArn = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:frontier-dr-${PACKAGE_STAGE}-${name}` });
const list = (value: unknown): unknown[] => (value === undefined ? [] : [value].flat());
const fn = (logicalId: string) => template.Resources[logicalId]!.Properties!;
const roleOf = (logicalId: string) => (fn(logicalId).Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;

/** Action -> the resources a role is allowed it on (only the lock-table read of the ownership check set aside). */
function allowed(role: string): Record<string, unknown[]> {
  const byAction = new Map<string, unknown[]>();
  for (const statement of statementsOf(template, role).filter((s: Statement) => s.Effect === 'Allow')) {
    for (const action of list(statement.Action) as string[]) {
      if (action.startsWith('logs:') || action.startsWith('dynamodb:')) continue;
      byAction.set(action, [...(byAction.get(action) ?? []), ...list(statement.Resource)]);
    }
  }
  return Object.fromEntries(byAction);
}

describe('rotating now in the stack', () => {
  it('lets startSecretRotation describe and rotate exactly the rotated database secret and the API-key secret, and pass exactly the two rotation functions', () => {
    const rotated = [secretArn(DATABASE_SECRET), API_KEYS_ARN];
    expect(allowed(roleOf('StartSecretRotationLambdaFunction'))).toEqual({
      'secretsmanager:DescribeSecret': rotated,
      'secretsmanager:RotateSecret': rotated,
      'lambda:InvokeFunction': [functionArn('rotateDatabaseSecret'), functionArn('rotateApiKeys')],
    });
    // Never a value, and never the secret that does not rotate.
    expect(JSON.stringify(statementsOf(template, roleOf('StartSecretRotationLambdaFunction')))).not.toMatch(/GetSecretValue|frontier\/analytics/);
  });

  it('lets checkSecretRotation only describe those secrets', () => {
    expect(allowed(roleOf('CheckSecretRotationLambdaFunction'))).toEqual({ 'secretsmanager:DescribeSecret': [secretArn(DATABASE_SECRET), API_KEYS_ARN] });
  });

  it("names the stack's rotation functions to both, by the ARN serverless gives them", () => {
    for (const id of ['StartSecretRotationLambdaFunction', 'CheckSecretRotationLambdaFunction']) {
      expect((fn(id).Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        DATABASE_ROTATION_FUNCTION_ARN: functionArn('rotateDatabaseSecret'),
        API_KEY_ROTATION_FUNCTION_ARN: functionArn('rotateApiKeys'),
      });
    }
    // The database one is the rotation function the stack deploys.
    expect(fn('RotateDatabaseSecretLambdaFunction').FunctionName).toBe(`frontier-dr-${PACKAGE_STAGE}-rotateDatabaseSecret`);
  });

  it("sends Secrets Manager's RotationFailed events for exactly those secrets to the alert topic, through no role", () => {
    const rule = fn('RotationFailedAlertRule') as { State: string; EventPattern: Record<string, unknown>; Targets: unknown[]; RoleArn?: unknown };
    expect(rule.State).toBe('ENABLED');
    expect(rule.EventPattern).toEqual({
      source: ['aws.secretsmanager'],
      'detail-type': ['AWS Service Event via CloudTrail'],
      detail: {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: ['RotationFailed'],
        additionalEventData: {
          SecretId: [{ prefix: { 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:us-east-1:\${AWS::AccountId}:secret:${DATABASE_SECRET}-` } }, API_KEYS_ARN],
        },
      },
    });
    expect(rule.Targets).toEqual([{ Id: 'alert-topic', Arn: { Ref: 'AlertTopic' } }]);
    expect(rule.RoleArn).toBeUndefined();
    const policy = fn('AlertTopicPolicy') as { PolicyDocument: { Statement: { Sid: string; Condition: unknown }[] } };
    expect(policy.PolicyDocument.Statement.find((s) => s.Sid === 'RotationFailedRulePublishes')?.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['RotationFailedAlertRule', 'Arn'] } },
    });
  });

  it('passes cfn-lint', async () => {
    const lint = await lintTemplate(templatePath, [example.recoveryRegion]);
    expect({ exitCode: lint.exitCode, output: lint.output.trim() }).toEqual({ exitCode: 0, output: '' });
  }, 120_000);
});
