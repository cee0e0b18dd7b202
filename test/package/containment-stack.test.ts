// The security incident's containment functions as `serverless package` builds them from a deployment
// with a securityIncident section and a WAF IP set: each with its own role, IAM limited to finding the
// serving cluster and (blockAddresses only) reading and updating that one IP set, and cfn-lint.
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { stringify as toYaml } from 'yaml';
import { exampleConfig } from '../support/fixtures.js';
import { statementsOf, type Statement } from '../support/iam.js';
import { lintTemplate, packageStack, PACKAGING_TEST_TIMEOUT_MS, removePackages, temporaryDirectory, type CfnTemplate } from '../support/package-stack.js';

const IP_SET = { name: 'frontier-blocked', id: '3f2b6c1e-0d4a-4c8e-9b7a-1a2b3c4d5e6f' };
const example = exampleConfig();
let template: CfnTemplate;
let templatePath: string;

beforeAll(async () => {
  const raw = structuredClone(example) as unknown as Record<string, unknown>;
  raw.securityIncident = {
    cluster: 'backup',
    evidence: { bucket: 'frontier-prod-incident-evidence' },
    blockIps: { clientAddressPreserved: true, wafIpSet: { ...IP_SET, scope: 'REGIONAL', region: 'eu-west-1' } },
  };
  const file = path.join(await temporaryDirectory('frontier-dr-containment-'), 'containment.yml');
  await writeFile(file, toYaml(raw));
  const stack = await packageStack({ config: file });
  template = stack.template;
  templatePath = stack.templatePath;
}, PACKAGING_TEST_TIMEOUT_MS);

afterAll(removePackages);

const list = (value: unknown): unknown[] => (value === undefined ? [] : [value].flat());
const sub = (value: unknown) => (value as { 'Fn::Sub'?: string })['Fn::Sub'] ?? value;

/** A function's Allow statements as { action: resources } (no conditions expected). */
function allowed(functionLogicalId: string): Record<string, unknown[]> {
  const role = (template.Resources[functionLogicalId]?.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  const statements: Statement[] = statementsOf(template, role);
  const byAction = new Map<string, unknown[]>();
  for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
    expect(statement.Condition).toBeUndefined();
    for (const action of list(statement.Action) as string[]) byAction.set(action, [...(byAction.get(action) ?? []), ...list(statement.Resource).map(sub)]);
  }
  // Its CloudWatch Logs group and the recovery lock's read are every function's; not what is under test here.
  for (const action of [...byAction.keys()]) if (action.startsWith('logs:') || action === 'dynamodb:GetItem') byAction.delete(action);
  return Object.fromEntries(byAction);
}

describe('containment in the stack', () => {
  const backupCluster = example.kubernetes!.clusters.backup;
  const describeServing = [`arn:\${AWS::Partition}:eks:${backupCluster.region}:\${AWS::AccountId}:cluster/${backupCluster.name}`];

  it('lets blockAddresses find the serving cluster and read and update the configured WAF IP set, nothing else', () => {
    expect(allowed('BlockAddressesLambdaFunction')).toEqual({
      'eks:DescribeCluster': describeServing,
      'wafv2:GetIPSet': [`arn:\${AWS::Partition}:wafv2:eu-west-1:\${AWS::AccountId}:regional/ipset/${IP_SET.name}/${IP_SET.id}`],
      'wafv2:UpdateIPSet': [`arn:\${AWS::Partition}:wafv2:eu-west-1:\${AWS::AccountId}:regional/ipset/${IP_SET.name}/${IP_SET.id}`],
    });
  });

  it('lets setEmergencyMode only find the serving cluster (the ConfigMap is Kubernetes RBAC\'s)', () => {
    expect(allowed('SetEmergencyModeLambdaFunction')).toEqual({ 'eks:DescribeCluster': describeServing });
  });

  it('gives each its own role, the lock table and its KubernetesAccess output', () => {
    for (const [fn, role, group] of [
      ['BlockAddressesLambdaFunction', 'BlockAddressesRole', 'frontier-dr:block-addresses'],
      ['SetEmergencyModeLambdaFunction', 'SetEmergencyModeRole', 'frontier-dr:set-emergency-mode'],
    ] as const) {
      const properties = template.Resources[fn]!.Properties!;
      expect(properties.Role).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
      expect((properties.Environment as { Variables: Record<string, unknown> }).Variables.RECOVERY_LOCK_TABLE).toEqual({ Ref: 'RecoveryLockTable' });
      expect(properties.VpcConfig).toBeUndefined();
      const outputs = (template as { Outputs?: Record<string, { Description?: string; Value?: unknown }> }).Outputs ?? {};
      expect(Object.values(outputs).find((o) => o.Description === group)?.Value).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    }
  });

  it('passes cfn-lint', async () => {
    const lint = await lintTemplate(templatePath, [example.recoveryRegion]);
    expect({ exitCode: lint.exitCode, output: lint.output.trim() }).toEqual({ exitCode: 0, output: '' });
  }, 120_000);
});
