// Tells the on-call engineers that a region outage is confirmed and what the failover will do, before
// it changes anything.
import { snsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { notifyRegionOutage } from '../../shared/region-failover-notice.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface NotifyOutageEvent {
  run: RunContext;
  /** ConfirmOutage's detail, or the skipped confirmation's. */
  confirmation: string;
}

const topicArn = requiredEnvironment('ALERT_TOPIC_ARN');
// The topic lives in the stack's own region (the recovery region).
const region = topicArn.split(':')[3] ?? '';

export const handler = recoveryHandler(async (event: NotifyOutageEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => notifyRegionOutage(config, event.run, event.confirmation, snsClient(region), topicArn));
});
