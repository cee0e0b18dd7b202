// RequestApproval, invoked with .waitForTaskToken: stores the approval and its task token, then asks
// the approvers on the alert topic (shared/approval.ts). Step Functions waits for the token's answer.
import { dynamoApprovalStore, requestApproval, signingKeyFromSecret, type RequestApprovalEvent } from '../../shared/approval.js';
import { dynamoClient, secretsClient, snsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { logger, recoveryHandler } from '../common/lambda.js';

const table = requiredEnvironment('APPROVALS_TABLE');
const secret = requiredEnvironment('APPROVAL_SIGNING_SECRET');
const topicArn = requiredEnvironment('ALERT_TOPIC_ARN');
const linkBaseUrl = requiredEnvironment('APPROVAL_LINK_BASE_URL');

let signingKey: (() => Promise<Uint8Array>) | undefined;

export const handler = recoveryHandler(async (event: RequestApprovalEvent) => {
  // Everything lives in the stack's own region, the recovery region.
  const region = deploymentConfigFromEnvironment().recoveryRegion;
  signingKey ??= signingKeyFromSecret(secretsClient(region), secret);
  const asked = await requestApproval(
    { store: dynamoApprovalStore(dynamoClient(region), table), sns: snsClient(region), topicArn, signingKey, linkBaseUrl },
    event,
    new Date(),
  );
  // The approval id, never the token or the link.
  logger.info('approval requested', { approvalId: asked.approvalId, expiresAt: asked.expiresAt, executionId: event.run?.executionId });
  return asked;
});
