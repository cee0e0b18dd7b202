// The notification sent once a region outage is confirmed, before anything changes: what happened and
// what the failover will do, so the people on call know before the first change.
import { SNSClient } from '@aws-sdk/client-sns';
import type { DeploymentConfig } from './config.js';
import { publishAlert } from './notify.js';
import { regionFailoverPlan } from './region-failover-plan.js';
import type { RunContext } from './run.js';
import type { Action, StepResult } from './steps.js';

/** Subject and message of the outage notice. Pure. */
export function regionOutageNotice(config: DeploymentConfig, run: Pick<RunContext, 'dryRun' | 'trigger' | 'incidentAt' | 'regionFailover' | 'executionId'>, confirmation: string): { subject: string; message: string } {
  const subject = `[frontier-dr] region ${config.primaryRegion} outage: failing over to ${config.recoveryRegion}${run.dryRun ? ' (dry run)' : ''}`.replace(/[^\x20-\x7e]/g, '').slice(0, 100);
  const message = [
    `Region ${config.primaryRegion} outage since ${run.incidentAt} (${run.trigger}). ${confirmation}.`,
    '',
    `The failover will now${run.dryRun ? ' (dry run: only record what it would)' : ''}:`,
    ...regionFailoverPlan(config).map((line, i) => `${i + 1}. ${line}.`),
    '',
    `Execution: ${run.executionId}`,
  ].join('\n');
  return { subject, message };
}

/**
 * The NotifyOutageConfirmed step: publishes the notice to the on-call topic. AWS: sns:Publish (the
 * topic's region: the recovery region). Throws what awsCall names for SNS.
 */
export async function notifyRegionOutage(
  config: DeploymentConfig,
  run: Pick<RunContext, 'dryRun' | 'trigger' | 'incidentAt' | 'regionFailover' | 'executionId'>,
  confirmation: string,
  sns: SNSClient,
  topicArn: string,
): Promise<StepResult<{ messageId: string | null; subject: string }>> {
  const notice = regionOutageNotice(config, run, confirmation);
  const messageId = await publishAlert(sns, topicArn, notice.subject, notice.message);
  const action: Action = { description: `notify ${topicArn}: ${notice.subject}`, service: 'sns', operation: 'Publish', parameters: { TopicArn: topicArn, Subject: notice.subject }, performed: true };
  return { data: { messageId, subject: notice.subject }, actions: [action], detail: notice.message.split('\n')[0] };
}
