// Alerts to the on-call SNS topic (e-mail, chat, paging subscriptions hang off it).
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { awsCall } from './errors.js';

export async function publishAlert(sns: SNSClient, topicArn: string, subject: string, message: string): Promise<string | null> {
  const answer = await awsCall('sns:Publish', topicArn, () => sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message })));
  return answer.MessageId ?? null;
}
