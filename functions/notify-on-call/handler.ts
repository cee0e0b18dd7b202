// Sends the alert a report asked for to the on-call SNS topic.
import { snsClient } from '../../shared/clients.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { publishAlert } from '../../shared/notify.js';
import { recoveryHandler } from '../common/lambda.js';

interface NotifyEvent {
  subject: string;
  message: string;
}

const topicArn = requiredEnvironment('ALERT_TOPIC_ARN');
// The topic lives in the stack's own region (the recovery region).
const region = topicArn.split(':')[3] ?? '';

export const handler = recoveryHandler(async (event: NotifyEvent) => {
  const messageId = await publishAlert(snsClient(region), topicArn, event.subject, event.message);
  return { topicArn, messageId };
});
