// The primary-region template (deploy/alarm-forwarding.yml) read as written: the CloudWatch alarms
// equivalent to the plan's Prometheus rules DatabaseDown and ClusterUnreachable (metric, period and
// evaluation periods against each rule's `for:`), created only when their parameters name what they
// watch, and cfn-lint on the template (RegionFailure's equivalent is the recovery stack's own
// detection alarm: test/package/stack.test.ts and region-failover-stack.test.ts).
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { exampleConfig } from '../support/fixtures.js';
import { lintTemplate, projectRoot, type CfnResource, type CfnTemplate } from '../support/package-stack.js';

const example = exampleConfig();

describe("the CloudWatch equivalents of the plan's Prometheus rules", () => {
  const FORWARDING = path.join(projectRoot, 'deploy/alarm-forwarding.yml');
  const cfnTags = [
    { tag: '!Sub', resolve: (value: string) => ({ 'Fn::Sub': value }) },
    { tag: '!Ref', resolve: (value: string) => ({ Ref: value }) },
    { tag: '!GetAtt', resolve: (value: string) => ({ 'Fn::GetAtt': value.split('.') }) },
  ];
  type Template = CfnTemplate & { Parameters: Record<string, { Default?: string }>; Conditions: Record<string, unknown> };
  const primaryRegionTemplate = async () => parseYaml(await readFile(FORWARDING, 'utf8'), { customTags: cfnTags }) as Template;

  it('DatabaseDown (`up{job="postgres-exporter"} == 0 for 1m`): no RDS metric from the instance for two 1-minute periods, in the primary region, named as the config names it', async () => {
    const template = await primaryRegionTemplate();
    const alarm = template.Resources.DatabaseDownAlarm as CfnResource & { Condition: string };

    expect(alarm.Condition).toBe('CreateDatabaseDownAlarm');
    expect(template.Conditions.CreateDatabaseDownAlarm).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'DatabaseInstanceId' }, ''] }] });
    expect(alarm.Properties).toMatchObject({
      AlarmName: { Ref: 'DatabaseDownAlarmName' },
      Namespace: 'AWS/RDS',
      MetricName: 'CPUUtilization',
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: { Ref: 'DatabaseInstanceId' } }],
      Statistic: 'SampleCount',
      Period: 60,
      EvaluationPeriods: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(template.Parameters.DatabaseDownAlarmName!.Default).toBe(example.databases[0]!.recovery!.alarmName);
    expect(template.Parameters.AlarmNames!.Default!.split(',')).toContain(template.Parameters.DatabaseDownAlarmName!.Default);
  });

  it('passes cfn-lint in the primary region', async () => {
    const result = await lintTemplate(FORWARDING, [example.primaryRegion]);
    expect({ exitCode: result.exitCode, output: result.output.trim() }).toEqual({ exitCode: 0, output: '' });
  }, 60_000);

  it('ClusterUnreachable (`up{job="kubernetes-nodes"} < 0.5 for 3m`): the Ready share of Container Insights node counts under one half for three 1-minute periods', async () => {
    const template = await primaryRegionTemplate();
    const alarm = template.Resources.ClusterUnreachableAlarm as CfnResource & { Condition: string };
    const metrics = alarm.Properties!.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { Namespace: string; MetricName: string }; Period: number } }[];

    expect(alarm.Condition).toBe('CreateClusterUnreachableAlarm');
    expect(metrics.filter((m) => m.MetricStat).map((m) => [m.MetricStat!.Metric.Namespace, m.MetricStat!.Metric.MetricName, m.MetricStat!.Period])).toEqual([
      ['ContainerInsights', 'cluster_node_count', 60],
      ['ContainerInsights', 'cluster_failed_node_count', 60],
    ]);
    expect(metrics.find((m) => m.Expression)!.Expression).toBe('(nodes - failed) / nodes');
    expect(alarm.Properties).toMatchObject({ AlarmName: { Ref: 'ClusterUnreachableAlarmName' }, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 0.5, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
    expect(template.Parameters.ClusterUnreachableAlarmName!.Default).toBe(example.alarms.clusterUnreachable);
  });

});
