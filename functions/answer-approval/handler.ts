// The approval link's endpoint (HTTP API, GET and POST /approvals/{approvalId}): GET shows the run and
// what it will do with Approve and Decline forms; a POST of one of them answers Step Functions
// (shared/approval.ts). Every refusal is a page that says why; nothing about the link is logged.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { answerApproval, dynamoApprovalStore, openApproval, parseDecision, signingKeyFromSecret, type AnswerDependencies, type LinkParameters } from '../../shared/approval.js';
import { answeredPage, messagePage, pendingPage, type Page } from '../../shared/approval-page.js';
import { dynamoClient, secretsClient, stepFunctionsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { logger, recoveryHandler } from '../common/lambda.js';

const table = requiredEnvironment('APPROVALS_TABLE');
const secret = requiredEnvironment('APPROVAL_SIGNING_SECRET');

let signingKey: (() => Promise<Uint8Array>) | undefined;

function dependencies(): AnswerDependencies {
  const region = deploymentConfigFromEnvironment().recoveryRegion;
  signingKey ??= signingKeyFromSecret(secretsClient(region), secret);
  return { store: dynamoApprovalStore(dynamoClient(region), table), sfn: stepFunctionsClient, signingKey };
}

function refusal(error: unknown): Page {
  const name = (error as Error)?.name;
  const message = (error as Error)?.message ?? String(error);
  switch (name) {
    case 'ApprovalLinkInvalid':
      return messagePage(404, 'Not a valid approval link', message);
    case 'ApprovalExpired':
      return messagePage(410, 'This approval has expired', message);
    case 'ApprovalAlreadyAnswered':
      return messagePage(409, 'Already answered', message);
    case 'InvalidInput':
      return messagePage(400, 'The answer is incomplete', `${message}. Go back and fill in the form.`);
    default:
      logger.error('approval answer failed', { errorName: name, errorMessage: message });
      return messagePage(502, 'The answer could not be recorded', 'Nothing was sent to the run. Try again in a moment, or answer from the Step Functions console or the CLI (see the approval message).');
  }
}

function respond(page: Page): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: page.statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      // The page names a run and carries forms: never cached, framed or sent as a referrer.
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    },
    body: page.body,
  };
}

export const handler = recoveryHandler(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const link: LinkParameters = {
    approvalId: event.pathParameters?.approvalId,
    expires: event.queryStringParameters?.expires,
    signature: event.queryStringParameters?.signature,
  };
  const method = event.requestContext?.http?.method ?? 'GET';
  try {
    const deps = dependencies();
    if (method === 'GET' || method === 'HEAD') {
      const approval = await openApproval(deps, link, new Date());
      return respond(approval.status === 'pending' ? pendingPage(approval) : answeredPage(approval, false));
    }
    if (method !== 'POST') return respond(messagePage(405, 'Not allowed', 'Open the link, then use its Approve or Decline button.'));
    const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
    const decision = parseDecision(new URLSearchParams(body));
    const answered = await answerApproval(deps, link, decision, new Date());
    logger.info('approval answered', { approvalId: answered.approvalId, status: answered.status, by: answered.answeredBy, executionId: answered.request.executionId });
    return respond(answeredPage(answered, true));
  } catch (error) {
    return respond(refusal(error));
  }
});
