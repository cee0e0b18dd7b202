// deploy/iam-policies.cjs on its own: compaction and packing change how permissions are written,
// never what they allow, and packing honours the sizes it is given.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { grants, iamPolicySize, type Statement } from '../support/iam.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const iam = createRequire(import.meta.url)(path.join(root, 'deploy/iam-policies.cjs')) as {
  MANAGED_POLICY_LIMIT: number;
  MANAGED_PACKING_TARGET: number;
  compactStatements: (statements: Statement[]) => Statement[];
  packStatements: (statements: Statement[], firstCapacity: number, context: { region: string }) => Statement[][];
  policySize: (document: unknown, context: { region: string }) => number;
};
const REGION = 'us-east-1';
const db = (region: string, name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:rds:${region}:\${AWS::AccountId}:db:${name}` });
const names = Array.from({ length: 120 }, (_, i) => `frontier-prod-${String(i).padStart(3, '0')}`);
const tagCondition = { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['frontier-dr:scratch'] }, Null: { 'aws:TagKeys': 'false' } };
const statements: Statement[] = [
  { Effect: 'Allow', Action: ['rds:DescribeDBSnapshots'], Resource: [...names.map((n) => db(REGION, n)), db(REGION, 'snapshot:*')] },
  { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: names.map((n) => db(REGION, `${n}-drtest-*`)) },
  { Effect: 'Allow', Action: ['rds:RestoreDBInstanceFromDBSnapshot'], Resource: [...names.map((n) => db(REGION, `${n}-drtest-*`)), db(REGION, 'snapshot:*'), db(REGION, 'snapshot:*')] },
  { Effect: 'Allow', Action: ['rds:AddTagsToResource'], Resource: names.map((n) => db(REGION, `${n}-drtest-*`)), Condition: tagCondition as Statement['Condition'] },
  { Effect: 'Allow', Action: 'kms:DescribeKey', Resource: 'arn:aws:kms:us-east-1:123456789012:key/1' },
];

describe('compactStatements', () => {
  it('allows exactly the same (action, resource, condition) combinations, each resource once per condition', () => {
    const compact = iam.compactStatements(statements);
    expect(grants(compact)).toEqual(grants(statements));
    const unconditioned = compact.filter((s) => s.Condition === undefined).flatMap((s) => [s.Resource].flat().map((r) => JSON.stringify(r)));
    expect(unconditioned.length).toBe(new Set(unconditioned).size);
    // The condition keeps its own statement.
    expect(compact.filter((s) => s.Condition !== undefined)).toEqual([{ Effect: 'Allow', Action: ['rds:AddTagsToResource'], Resource: names.map((n) => db(REGION, `${n}-drtest-*`)), Condition: tagCondition }]);
    expect(iam.policySize({ Version: '2012-10-17', Statement: compact }, { region: REGION })).toBeLessThan(iam.policySize({ Version: '2012-10-17', Statement: statements }, { region: REGION }));
  });

  it('leaves statements with a Sid or a Principal as they are', () => {
    const odd: Statement[] = [{ Sid: 'Keep', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::a/*'] }, { Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::a/*'] }];
    expect(iam.compactStatements(odd)).toEqual([odd[0], { Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::a/*'] }]);
  });
});

describe('packStatements', () => {
  it('fills the first document up to its capacity and every other up to 95 % of 6,144 characters (a margin for the count), splitting statements by resources', () => {
    const compact = iam.compactStatements(statements);
    const bins = iam.packStatements(compact, 3_000, { region: REGION });
    expect(bins.length).toBeGreaterThan(2);
    const sizes = bins.map((b) => iamPolicySize({ Version: '2012-10-17', Statement: b }, REGION));
    expect(sizes[0]).toBeLessThanOrEqual(3_000);
    expect(iam.MANAGED_PACKING_TARGET).toBe(Math.floor(iam.MANAGED_POLICY_LIMIT * 0.95));
    for (const size of sizes.slice(1)) expect(size).toBeLessThanOrEqual(iam.MANAGED_PACKING_TARGET);
    // Full but for less than one more resource.
    for (const size of sizes.slice(1, -1)) expect(size).toBeGreaterThan(iam.MANAGED_PACKING_TARGET - 100);
    expect(grants(bins.flat())).toEqual(grants(statements));
  });

  it('counts what CloudFormation fills in: partition, account and region', () => {
    const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: [db(REGION, 'x')] }] };
    const resolved = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds:DescribeDBInstances"],"Resource":["arn:aws:rds:us-east-1:123456789012:db:x"]}]}';
    expect(iam.policySize(document, { region: REGION })).toBe(resolved.length);
    expect(iam.policySize(document, { region: 'us-gov-west-1' })).toBe(resolved.length + 'aws-us-gov'.length - 'aws'.length);
  });

  it('counts a stack function by the ARN its name gives, and anything it cannot name as 256 characters', () => {
    const resources = { StartRunLambdaFunction: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'frontier-dr-ci-startRun' } } };
    const context = { region: REGION, resources } as unknown as { region: string };
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:frontier-dr-ci-startRun';
    expect(iam.policySize([{ 'Fn::GetAtt': ['StartRunLambdaFunction', 'Arn'] }], context)).toBe(JSON.stringify([arn]).length);
    expect(iam.policySize([{ 'Fn::Sub': ['${f}:*', { f: { 'Fn::GetAtt': ['StartRunLambdaFunction', 'Arn'] } }] }], context)).toBe(JSON.stringify([`${arn}:*`]).length);
    expect(iam.policySize([{ 'Fn::GetAtt': ['Elsewhere', 'Arn'] }], context)).toBe(JSON.stringify(['x'.repeat(256)]).length);
  });
});

describe('layOutRoles', () => {
  const layout = iam as unknown as {
    layOutRoles: (resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>, context: { region: string }) => Record<string, string[]>;
    roleProblems: (resources: Record<string, unknown>, roleId: string, context: { region: string }) => string[];
  };
  const policy = (name: string, statementList: Statement[]) => ({ PolicyName: name, PolicyDocument: { Version: '2012-10-17', Statement: statementList } });
  const logs: Statement = { Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: ['arn:aws:logs:us-east-1:123456789012:log-group:x:*'] };

  it('leaves a role that fits as it is, and splits the large policies of one that does not until it fits', () => {
    const small = policy('small', [logs]);
    const big = (name: string) => policy(name, iam.compactStatements(statements));
    const resources = {
      FitsRole: { Type: 'AWS::IAM::Role', Properties: { Policies: [small, policy('kms', statements.slice(-1))] } },
      LargeRole: { Type: 'AWS::IAM::Role', Properties: { Policies: [small, big('one'), big('two')] } },
    };
    const before = structuredClone(resources);
    const added = layout.layOutRoles(resources, { region: REGION });
    expect(resources.FitsRole).toEqual(before.FitsRole);
    expect(Object.keys(added)).toEqual(['LargeRole']);
    expect(layout.roleProblems(resources, 'LargeRole', { region: REGION })).toEqual([]);
    // Nothing lost or added: the role and its managed policies together grant what it declared.
    const all = [
      ...(resources.LargeRole.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]),
      ...(added.LargeRole ?? []).map((id) => (resources as Record<string, { Properties?: Record<string, unknown> }>)[id]?.Properties as { PolicyDocument: { Statement: Statement[] } }),
    ].flatMap((p) => p.PolicyDocument.Statement);
    expect(grants(all)).toEqual(grants([logs, ...statements]));
  });
});
