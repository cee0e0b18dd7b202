// The readiness state machine's last step: the report, the ScenarioReady metrics, the alert when a
// scenario's readiness changed, and each verdict recorded for the next evaluation (shared/readiness-report.ts).
import { dynamoClient, s3Client, snsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { publishReadiness, type ReadinessState } from '../../shared/readiness-report.js';
import { logger, metrics, recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: ReadinessState) => {
  const config = deploymentConfigFromEnvironment();
  const region = config.recoveryRegion;
  const topicArn = requiredEnvironment('ALERT_TOPIC_ARN');
  return publishReadiness(
    event,
    {
      s3: s3Client(region),
      bucket: config.reports.bucket,
      prefix: config.reports.prefix,
      ddb: dynamoClient(region),
      table: requiredEnvironment('RECOVERY_LOCK_TABLE'),
      // The topic lives in the stack's own region (the recovery region).
      sns: snsClient(topicArn.split(':')[3] ?? region),
      topicArn,
      metrics,
      logger,
    },
    new Date(),
  );
});
