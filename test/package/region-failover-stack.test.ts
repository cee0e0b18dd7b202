// Region failover as `serverless package` builds it: detection in the recovery region's template (the
// Route 53 health check on the primary API, the alarm of the configured mode, the rule that starts
// region-failover), the probe in probe mode, and the proof of independence on the deploy side: the
// functions only region-failover runs hold no primary-region resource in IAM or environment, and the
// DNS move may change only the configured zone's configured records.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { REGION_DETECTION_FUNCTIONS, REGION_FAILOVER_PATH } from '../../shared/region-failover-path.js';
import { exampleConfig } from '../support/fixtures.js';
import { PACKAGE_STAGE, PACKAGING_TEST_TIMEOUT_MS, packageStack, removePackages, temporaryDirectory, type CfnResource, type CfnTemplate } from '../support/package-stack.js';

const example = exampleConfig();
let template: CfnTemplate;
let probeTemplate: CfnTemplate;

beforeAll(async () => {
  // The other mode: the primary region IS us-east-1, so the stack lives elsewhere and probes.
  const probe = structuredClone(example) as unknown as Record<string, any>;
  probe.primaryRegion = 'us-east-1';
  probe.recoveryRegion = 'us-west-2';
  probe.kubernetes.clusters.primary.region = 'us-east-1';
  probe.kubernetes.clusters.backup.region = 'us-west-2';
  probe.regionFailover.detection.mode = 'probe';
  // The failback copies its snapshots to the primary region, with a key of that region.
  probe.regionFailback.kmsKeyArn = probe.regionFailback.kmsKeyArn.replace(':us-west-2:', ':us-east-1:');
  probe.buckets = [];
  const file = path.join(await temporaryDirectory('frontier-dr-probe-'), 'probe.yml');
  await writeFile(file, toYaml(probe));
  [template, probeTemplate] = await Promise.all([packageStack().then((s) => s.template), packageStack({ config: file }).then((s) => s.template)]);
}, PACKAGING_TEST_TIMEOUT_MS * 2);

afterAll(removePackages);

function resourcesOfType(t: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

/** A condition as the template holds it, evaluated (only Fn::Equals and Fn::Not appear). */
function condition(t: CfnTemplate, name: string): boolean {
  const parameters = (t as unknown as { Parameters: Record<string, { Default: string }> }).Parameters;
  const resolve = (value: any): unknown => (value && typeof value === 'object' && 'Ref' in value ? parameters[value.Ref]!.Default : value);
  const evaluate = (value: any): boolean => {
    if (value['Fn::Equals']) return resolve(value['Fn::Equals'][0]) === resolve(value['Fn::Equals'][1]);
    if (value['Fn::Not']) return !evaluate(value['Fn::Not'][0]);
    throw new Error(`unexpected condition ${JSON.stringify(value)}`);
  };
  return evaluate((t as unknown as { Conditions: Record<string, unknown> }).Conditions[name]);
}

/** The resources CloudFormation would create: those without a condition, or whose condition holds. */
/** The stack's alarms on run results (the dashboard's, test/package/stack.test.ts): not region-failure detection. */
const RESULT_ALARMS = ['BackupVerificationFailedAlarm', 'RestoreTestFailedAlarm', 'ScenarioNotReadyAlarm'];

function created(t: CfnTemplate, type: string): [string, CfnResource][] {
  return resourcesOfType(t, type).filter(([id, r]) => {
    if (RESULT_ALARMS.includes(id)) return false;
    const name = (r as unknown as { Condition?: string }).Condition;
    return !name || condition(t, name);
  });
}

function functionLogicalId(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;
}

/** Everything that grants or configures `functionName`: its function resource, its role, managed policies on that role. */
function grantsOf(t: CfnTemplate, functionName: string): string {
  const fn = t.Resources[functionLogicalId(functionName)]!;
  const role = ((fn.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'] ?? [])[0]!;
  const managed = resourcesOfType(t, 'AWS::IAM::ManagedPolicy').filter(([, p]) => JSON.stringify(p.Properties?.Roles ?? []).includes(`"${role}"`));
  return JSON.stringify([fn.Properties?.Environment ?? {}, t.Resources[role], ...managed.map(([, p]) => p)]);
}

describe('region-failure detection (route53-health-check mode: the example, recovery region us-east-1)', () => {
  it('health-checks the primary API over HTTPS as configured', () => {
    const checks = created(template, 'AWS::Route53::HealthCheck');
    expect(checks).toHaveLength(1);
    const { fqdn, port, path: resourcePath, requestIntervalSeconds, failureThreshold } = example.regionFailover!.detection.healthCheck;
    expect(checks[0]![1].Properties?.HealthCheckConfig).toEqual({ Type: 'HTTPS', FullyQualifiedDomainName: fqdn, Port: port, ResourcePath: resourcePath, RequestInterval: requestIntervalSeconds, FailureThreshold: failureThreshold });
  });

  it('alarms on the health check status in the stack (recovery) region, missing data breaching', () => {
    const alarms = created(template, 'AWS::CloudWatch::Alarm');
    expect(alarms.map(([, a]) => a.Properties?.AlarmName)).toEqual(['RegionFailure']);
    expect(alarms[0]![1].Properties).toMatchObject({
      Namespace: 'AWS/Route53',
      MetricName: 'HealthCheckStatus',
      Dimensions: [{ Name: 'HealthCheckId', Value: { Ref: created(template, 'AWS::Route53::HealthCheck')[0]![0] } }],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    // The probe's schedule is there but off in this mode.
    const probeRules = resourcesOfType(template, 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties?.Targets ?? []).includes(functionLogicalId('probePrimaryApi')));
    expect(probeRules.map(([, r]) => [r.Properties?.ScheduleExpression, r.Properties?.State])).toEqual([['rate(1 minute)', 'DISABLED']]);
  });

  it('starts region-failover on the alarm going to ALARM', () => {
    const machine = resourcesOfType(template, 'AWS::StepFunctions::StateMachine').find(([, m]) => m.Properties?.StateMachineName === `frontier-dr-${PACKAGE_STAGE}-region-failover`)!;
    const rules = resourcesOfType(template, 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties?.Targets ?? []).includes(`"${machine[0]}"`));
    expect(rules.map(([, r]) => r.Properties?.EventPattern)).toEqual([
      { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: ['RegionFailure'], state: { value: ['ALARM'] } } },
    ]);
  });
});

describe('region-failure detection (probe mode: primary us-east-1, recovery us-west-2)', () => {
  it('runs the probe every minute and alarms on its own metric, a missing point counting as a failure', () => {
    expect(condition(probeTemplate, 'ProbeMode')).toBe(true);
    expect(condition(probeTemplate, 'HealthCheckMode')).toBe(false);
    const alarms = created(probeTemplate, 'AWS::CloudWatch::Alarm');
    expect(alarms.map(([, a]) => a.Properties)).toEqual([
      expect.objectContaining({
        AlarmName: 'RegionFailure',
        Namespace: 'FrontierDR/RegionProbe',
        MetricName: 'PrimaryApiHealthy',
        Dimensions: [{ Name: 'Deployment', Value: example.deployment }],
        EvaluationPeriods: example.regionFailover!.detection.healthCheck.failureThreshold,
        TreatMissingData: 'breaching',
      }),
    ]);
    const probeRules = resourcesOfType(probeTemplate, 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties?.Targets ?? []).includes(functionLogicalId('probePrimaryApi')));
    expect(probeRules.map(([, r]) => [r.Properties?.ScheduleExpression, r.Properties?.State])).toEqual([['rate(1 minute)', 'ENABLED']]);
    // The probe may publish its metric, to its own namespace only.
    expect(grantsOf(probeTemplate, 'probePrimaryApi')).toContain('"cloudwatch:namespace":"FrontierDR/RegionProbe"');
  });
});

describe('the failover path asks nothing of the primary region (deploy side)', () => {
  const dedicated = [...new Set([...Object.values(REGION_FAILOVER_PATH).filter((s) => s.dedicated).map((s) => s.function), ...REGION_DETECTION_FUNCTIONS])];

  it.each([
    ['route53-health-check', 'us-west-2', () => template],
    ['probe', 'us-east-1', () => probeTemplate],
  ])('%s mode: the functions only region-failover runs name no %s (primary region) resource', (_mode, primary, get) => {
    const t = get();
    const leaks = dedicated.filter((fn) => grantsOf(t, fn).includes(`:${primary}:`) || grantsOf(t, fn).includes(`"${primary}"`));
    expect(dedicated.length).toBeGreaterThan(6);
    expect(leaks).toEqual([]);
  });

  it('lets MoveDns change only the configured records, by UPSERT, in the configured zone', () => {
    const grants = JSON.parse(grantsOf(template, 'moveDns')) as unknown[];
    const text = JSON.stringify(grants);
    const record = example.regionFailover!.dns[0]!;
    expect(text).toContain(`hostedzone/${record.mode === 'control-plane' ? record.hostedZoneId : ''}`);
    expect(text).toContain('"route53:ChangeResourceRecordSetsNormalizedRecordNames":["api.frontier.com"]');
    expect(text).toContain('"route53:ChangeResourceRecordSetsActions":["UPSERT"]');
    expect(text).not.toMatch(/hostedzone\/\*/);
  });
});
