// CloudWatch metrics from a finished run, through Powertools EMF (one structured log line, no API
// call): the plan's KPIs (backup success rate, RPO adherence, DR test success rate, MTTR, incident
// response time) and the numeric measurements checks carry (backup age, restore duration).
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Report } from './report.js';

export const METRICS_NAMESPACE = 'FrontierDR';

/** The scenarios that bring a service back (their completed runs are the MTTR's `TimeToRecover`). */
export const RECOVERY_SCENARIOS = ['cluster-failover', 'database-recovery', 'region-failover', 'emergency-rollback', 'region-failback'] as const;

export function recordRunMetrics(metrics: Metrics, report: Report): void {
  if (report.dryRun) return; // A rehearsal must not move the success rates.
  const scenarioMetric = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number) => {
    const single = metrics.singleMetric();
    single.addDimension('Scenario', report.scenario);
    single.addMetric(name, unit, value);
  };
  scenarioMetric('RunSucceeded', MetricUnit.Count, report.status === 'succeeded' ? 1 : 0);
  scenarioMetric('RunDuration', MetricUnit.Seconds, report.durationSeconds);

  if (report.scenario === 'backup-verification') {
    const verified = report.status === 'succeeded' && report.checks.every((c) => c.passed);
    scenarioMetric('BackupVerificationSuccess', MetricUnit.Count, verified ? 1 : 0);
    scenarioMetric('BackupChecksFailed', MetricUnit.Count, report.checks.filter((c) => !c.passed).length);
  }
  if (report.scenario === 'restore-test') {
    scenarioMetric('DrTestSuccess', MetricUnit.Count, report.status === 'succeeded' && report.checks.every((c) => c.passed) ? 1 : 0);
  }
  for (const objective of report.objectives) {
    if (objective.measuredRpoMinutes === null) continue;
    const single = metrics.singleMetric();
    single.addDimension('Scenario', report.scenario);
    single.addDimension('Component', objective.component);
    single.addMetric('RpoAdherence', MetricUnit.Count, objective.measuredRpoMinutes <= objective.rpoMinutes ? 1 : 0);
  }
  // Time to recover (the dashboard's MTTR): RunDuration counts failed runs too, so a recovery that
  // gave up early would pull the mean down. Only a completed recovery counts.
  if ((RECOVERY_SCENARIOS as readonly string[]).includes(report.scenario) && report.status === 'succeeded') {
    scenarioMetric('TimeToRecover', MetricUnit.Seconds, report.durationSeconds);
  }
  // Incident response time: the run's start to the end of the containment (security-incident-report.ts).
  if (report.securityIncident?.responseTime) {
    scenarioMetric('IncidentResponseTime', MetricUnit.Seconds, report.securityIncident.responseTime.seconds);
  }
  for (const check of report.checks) {
    if (!check.metric) continue;
    const single = metrics.singleMetric();
    single.addDimension('Resource', check.resource);
    single.addMetric(check.metric.name, check.metric.unit === 'Seconds' ? MetricUnit.Seconds : MetricUnit.Count, check.metric.value);
  }
}
