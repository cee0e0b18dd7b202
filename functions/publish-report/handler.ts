// Second-to-last state of every state machine: builds the report from the run's state, stores it
// (JSON and Markdown) and emits the metrics (shared/report.ts publishReport). The alert, when one is
// needed, is the next state's job, so a failed notification is retried without rewriting the report.
import { s3Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { publishReport, type RunState } from '../../shared/report.js';
import { logger, metrics, recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: RunState) => {
  const config = deploymentConfigFromEnvironment();
  const sinks = { s3: s3Client(config.recoveryRegion), bucket: config.reports.bucket, prefix: config.reports.prefix, metrics, logger };
  return publishReport(event, sinks, new Date());
});
