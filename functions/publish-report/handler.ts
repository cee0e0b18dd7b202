// Last state of every state machine: builds the report from the run's state, stores it (JSON and
// Markdown), emits the metrics and notifies when something needs a person.
import { s3Client, snsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { recordRunMetrics } from '../../shared/metrics.js';
import { buildReport, notifyIfNeeded, storeReport, type RunState } from '../../shared/report.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { logger, metrics, recoveryHandler } from '../common/lambda.js';

export interface PublishReportResult {
  status: 'succeeded' | 'failed';
  summary: string;
  report: { json: string; markdown: string };
  notified: boolean;
}

export const handler = recoveryHandler(async (event: RunState): Promise<PublishReportResult> => {
  const config = deploymentConfigFromEnvironment();
  const report = buildReport(event, new Date());
  const location = await storeReport(s3Client(config.recoveryRegion), config.reports.bucket, config.reports.prefix, report);
  recordRunMetrics(metrics, report);
  const notified = await notifyIfNeeded(snsClient(config.recoveryRegion), requiredEnvironment('ALERT_TOPIC_ARN'), report, location.markdown);
  logger.info('run finished', { scenario: report.scenario, status: report.status, summary: report.summary, report: location.json });
  return { status: report.status, summary: report.summary, report: location, notified };
});
