// Second-to-last state of every state machine: builds the report from the run's state, stores it
// (JSON and Markdown) and emits the metrics. The alert, when one is needed, is the next state's job,
// so a failed notification is retried without rewriting the report.
import { s3Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { recordRunMetrics } from '../../shared/metrics.js';
import { buildReport, needsAttention, notificationText, storeReport, type RunState } from '../../shared/report.js';
import { logger, metrics, recoveryHandler } from '../common/lambda.js';

export interface PublishReportResult {
  status: 'succeeded' | 'failed';
  summary: string;
  location: { json: string; markdown: string };
  needsAttention: boolean;
  notification: { subject: string; message: string };
}

export const handler = recoveryHandler(async (event: RunState): Promise<PublishReportResult> => {
  const config = deploymentConfigFromEnvironment();
  const report = buildReport(event, new Date());
  const location = await storeReport(s3Client(config.recoveryRegion), config.reports.bucket, config.reports.prefix, report);
  recordRunMetrics(metrics, report);
  logger.info('run finished', { scenario: report.scenario, status: report.status, summary: report.summary, report: location.json });
  return {
    status: report.status,
    summary: report.summary,
    location,
    needsAttention: needsAttention(report),
    notification: notificationText(report, location.markdown),
  };
});
