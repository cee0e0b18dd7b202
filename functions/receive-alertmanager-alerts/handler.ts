// The Alertmanager webhook (HTTP API, POST /alertmanager): a notification's firing alerts start the
// scenarios the config maps them to, through the same input contract and duplicate protection as the
// CloudWatch alarms (shared/alertmanager.ts). The token and the alerts' labels are never logged.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { receiveAlertmanagerNotification, tokenFromSecret, type WebhookDependencies } from '../../shared/alertmanager.js';
import { secretsClient, stepFunctionsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { logger, recoveryHandler } from '../common/lambda.js';

const tokenSecret = requiredEnvironment('ALERTMANAGER_TOKEN_SECRET');
/** `arn:<partition>:states:<region>:<account>:stateMachine:<service>-<stage>-`: the scenario's name completes it. */
const stateMachinePrefix = requiredEnvironment('STATE_MACHINE_ARN_PREFIX');

let token: WebhookDependencies['token'] | undefined;

function dependencies(): WebhookDependencies {
  const region = deploymentConfigFromEnvironment().recoveryRegion;
  token ??= tokenFromSecret(secretsClient(region), tokenSecret);
  return { sfn: stepFunctionsClient(region), token, stateMachineArn: (scenario) => `${stateMachinePrefix}${scenario}` };
}

export const handler = recoveryHandler(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  const response = await receiveAlertmanagerNotification(dependencies(), deploymentConfigFromEnvironment(), { authorization: event.headers?.authorization, body }, new Date());
  logger.info('alertmanager notification', {
    statusCode: response.statusCode,
    summary: response.body.message.split('\n')[0],
    alerts: response.body.alerts?.map(({ alertname, fingerprint, outcome, scenario, executionArn }) => ({ alertname, fingerprint, outcome, scenario, executionArn })),
  });
  return { statusCode: response.statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(response.body) };
});
