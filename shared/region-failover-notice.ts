// The notification sent once a region outage is confirmed, before anything changes: what happened and
// what the failover will do, so the people on call know before the first change.
import { SNSClient } from '@aws-sdk/client-sns';
import { kubernetesConfig, regionFailoverConfig, type DeploymentConfig } from './config.js';
import { normaliseDnsName } from './dns.js';
import { publishAlert } from './notify.js';
import type { RunContext } from './run.js';
import type { Action, StepResult } from './steps.js';

/** Subject and message of the outage notice. Pure. */
export function regionOutageNotice(config: DeploymentConfig, run: Pick<RunContext, 'dryRun' | 'trigger' | 'incidentAt' | 'regionFailover' | 'executionId'>, confirmation: string): { subject: string; message: string } {
  const failover = regionFailoverConfig(config);
  const kubernetes = kubernetesConfig(config);
  const records = failover.dns.map((r) => `${normaliseDnsName(r.recordName)} (${r.mode})`).join(', ');
  const subject = `[frontier-dr] region ${config.primaryRegion} outage: failing over to ${config.recoveryRegion}${run.dryRun ? ' (dry run)' : ''}`.replace(/[^\x20-\x7e]/g, '').slice(0, 100);
  const message = [
    `Region ${config.primaryRegion} outage since ${run.incidentAt} (${run.trigger}). ${confirmation}.`,
    '',
    `The failover will now${run.dryRun ? ' (dry run: only record what it would)' : ''}:`,
    `1. check the recovery region (restore source, restore settings, manifests, DNS records, the recovery cluster);`,
    `2. in parallel: restore ${failover.database} in ${config.recoveryRegion}, and bring up ${kubernetes.apiDeployment} on ${kubernetes.clusters.backup.name} (${kubernetes.productionReplicas} replicas);`,
    `3. point the API at the restored database, pass the health gates (API /health, SELECT 1, Redis PING);`,
    `4. only then move ${records} to ${config.recoveryRegion}.`,
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
