// The security incident's evidence as `serverless package` builds it from a deployment with a
// securityIncident section (acting on the backup cluster, two databases): the evidence bucket (versioned,
// Object Lock with the configured governance retention, public access blocked, encrypted, TLS only,
// kept when the stack goes), collectEvidence's role limited to what it calls, no other role able to
// write there, and cfn-lint. Without the section the bucket is left out (test/package/stack.test.ts).
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { stringify as toYaml } from 'yaml';
import { exampleConfig } from '../support/fixtures.js';
import { statementsOf, type Statement } from '../support/iam.js';
import { lintTemplate, packageStack, PACKAGING_TEST_TIMEOUT_MS, removePackages, temporaryDirectory, type CfnTemplate } from '../support/package-stack.js';

const BUCKET = 'frontier-prod-evidence-ci';
const PREFIX = 'incidents/';
const RETENTION_DAYS = 400;
const example = exampleConfig();
let template: CfnTemplate;
let templatePath: string;

beforeAll(async () => {
  const raw = structuredClone(example) as unknown as { databases: Record<string, unknown>[]; securityIncident?: unknown };
  raw.databases.push({ ...structuredClone(raw.databases[0]!), name: 'frontier-orders', credentialsSecret: 'frontier/orders/database' });
  raw.securityIncident = { cluster: 'backup', evidence: { bucket: BUCKET, prefix: PREFIX, logHours: 24, retentionDays: RETENTION_DAYS } };
  const file = path.join(await temporaryDirectory('frontier-dr-evidence-'), 'evidence.yml');
  await writeFile(file, toYaml(raw));
  const stack = await packageStack({ config: file });
  template = stack.template;
  templatePath = stack.templatePath;
}, PACKAGING_TEST_TIMEOUT_MS);

afterAll(removePackages);

const list = (value: unknown): unknown[] => (value === undefined ? [] : [value].flat());
const sub = (value: unknown) => (value as { 'Fn::Sub'?: unknown })['Fn::Sub'] ?? value;
const roleOf = (fn: string) => (template.Resources[fn]!.Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;

describe('the evidence bucket', () => {
  it('is created from the config, only under its condition, and kept when the stack is deleted', () => {
    const bucket = template.Resources.EvidenceBucket as unknown as { Condition: string; DeletionPolicy: string; UpdateReplacePolicy: string; Properties: Record<string, unknown> };
    expect(bucket).toMatchObject({ Type: 'AWS::S3::Bucket', Condition: 'EvidenceBucketConfigured', DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(bucket.Properties.BucketName).toEqual({ Ref: 'EvidenceBucketName' });
    const stack = template as unknown as { Parameters: Record<string, { Default: unknown }>; Conditions: Record<string, unknown> };
    expect(stack.Parameters.EvidenceBucketName!.Default).toBe(BUCKET);
    expect(stack.Conditions.EvidenceBucketConfigured).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'EvidenceBucketName' }, 'none'] }] });
  });

  it('is versioned, with Object Lock in governance mode for evidence.retentionDays on every new object', () => {
    const properties = template.Resources.EvidenceBucket!.Properties!;
    expect(properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(properties.ObjectLockEnabled).toBe(true);
    expect(properties.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: RETENTION_DAYS } } });
  });

  it('blocks public access, is encrypted, owned by the bucket owner, and refuses any request without TLS', () => {
    const properties = template.Resources.EvidenceBucket!.Properties!;
    expect(properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(properties.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    const policy = template.Resources.EvidenceBucketTlsOnly as unknown as { Condition: string; Properties: { Bucket: unknown; PolicyDocument: { Statement: Statement[] } } };
    expect(policy.Condition).toBe('EvidenceBucketConfigured');
    expect(policy.Properties.Bucket).toEqual({ Ref: 'EvidenceBucket' });
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [{ 'Fn::GetAtt': ['EvidenceBucket', 'Arn'] }, { 'Fn::Sub': '${EvidenceBucket.Arn}/*' }],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });
});

describe('collectEvidence', () => {
  it('may find the incident cluster, list the configured databases\' log files in the primary region and store under the evidence prefix: nothing else', () => {
    const byAction = new Map<string, unknown[]>();
    for (const statement of statementsOf(template, roleOf('CollectEvidenceLambdaFunction')).filter((s) => s.Effect === 'Allow')) {
      expect(statement.Condition).toBeUndefined();
      for (const action of list(statement.Action) as string[]) {
        if (action.startsWith('logs:')) continue;
        byAction.set(action, [...(byAction.get(action) ?? []), ...list(statement.Resource).map(sub)]);
      }
    }
    const backup = example.kubernetes!.clusters.backup;
    expect(Object.fromEntries(byAction)).toEqual({
      'eks:DescribeCluster': [`arn:\${AWS::Partition}:eks:${backup.region}:\${AWS::AccountId}:cluster/${backup.name}`],
      'rds:DescribeDBLogFiles': ['frontier-prod', 'frontier-orders'].map((db) => `arn:\${AWS::Partition}:rds:${example.primaryRegion}:\${AWS::AccountId}:db:${db}`),
      's3:PutObject': [`arn:\${AWS::Partition}:s3:::${BUCKET}/${PREFIX}*`],
    });
  });

  it('is the only function that may write to the evidence bucket, and none may delete from it or change its retention', () => {
    const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    const reaching = (id: string) => statementsOf(template, roleOf(id)).filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource ?? '').includes(BUCKET));
    // Any action on the bucket other than the security incident preflight's check that it exists (HeadBucket: s3:ListBucket).
    const writers = functions.filter(([id]) => reaching(id).some((s) => (list(s.Action) as string[]).some((action) => action !== 's3:ListBucket')));
    expect(writers.map(([id]) => id)).toEqual(['CollectEvidenceLambdaFunction']);
    // The readiness evaluation checks the bucket exists too (HeadBucket, s3:ListBucket only: no writer above).
    expect(functions.filter(([id]) => reaching(id).length > 0).map(([id]) => id).sort()).toEqual(['CollectEvidenceLambdaFunction', 'EvaluateScenarioReadinessLambdaFunction', 'SecurityIncidentPreflightLambdaFunction']);
    const everything = functions.flatMap(([id]) => statementsOf(template, roleOf(id))).flatMap((s) => list(s.Action) as string[]);
    for (const never of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:BypassGovernanceRetention', 's3:PutBucketObjectLockConfiguration']) expect(everything).not.toContain(never);
  });

  it('has the memory for the logs it holds and the time to store them, and maps to its Kubernetes group', () => {
    const fn = template.Resources.CollectEvidenceLambdaFunction!.Properties!;
    expect(fn.MemorySize).toBe(1024);
    expect(fn.Timeout).toBe(300);
    expect(fn.VpcConfig).toBeUndefined();
    expect(template.Outputs?.KubernetesAccessCollectEvidence).toEqual({ Description: 'frontier-dr:collect-evidence', Value: { 'Fn::GetAtt': ['CollectEvidenceRole', 'Arn'] } });
  });

  it('passes cfn-lint', async () => {
    const lint = await lintTemplate(templatePath, [example.recoveryRegion]);
    expect({ exitCode: lint.exitCode, output: lint.output.trim() }).toEqual({ exitCode: 0, output: '' });
  }, 120_000);
});
