// The Alertmanager webhook (POST /alertmanager on the stack's HTTP API): teams whose alerts are
// Prometheus rules start the same recoveries a CloudWatch alarm starts, through the same input
// contract (shared/run.ts, the Alertmanager alert start shape) and the same duplicate protection:
// one execution per alert (its name derived from the alert's fingerprint and start time, so a repeated
// notification starts nothing new), then the recovery lock (an alert counts as an alarm start:
// quiet period, the held incident resumed).
import { createHash, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod/mini';
import { PROMETHEUS_LABEL_NAME, type DeploymentConfig } from './config.js';
import { awsCall, classifyAwsError, describeIssues, InvalidConfig, RecoveryError } from './errors.js';
import { ALERTMANAGER_EVENT, planRun } from './run.js';

/** The largest notification read (bytes of the body). A group of 1,000 alerts with ordinary labels is about 1 MB; the default group is far smaller. */
export const MAX_NOTIFICATION_BYTES = 1024 * 1024;
/** The most alerts one notification may carry (Alertmanager's `max_alerts` of the receiver keeps it lower). */
export const MAX_ALERTS = 1000;

// Alertmanager's webhook body, version 4 (prometheus.io/docs/alerting/latest/configuration/#webhook_config).
// Open to fields a later Alertmanager adds; the fields read are typed.
const labelSet = z.record(z.string().check(z.regex(PROMETHEUS_LABEL_NAME, 'a Prometheus label name')), z.string().check(z.maxLength(1024)));
const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: z.optional(z.record(z.string(), z.string())),
  startsAt: z.string().check(z.maxLength(64)),
  endsAt: z.optional(z.string().check(z.maxLength(64))),
  generatorURL: z.optional(z.string().check(z.maxLength(2048))),
  fingerprint: z.string().check(z.regex(/^[0-9a-f]{16}$/, "Alertmanager's fingerprint (16 hex digits)")),
});

export const notificationSchema = z.looseObject({
  version: z.literal('4'),
  status: z.optional(z.enum(['firing', 'resolved'])),
  receiver: z.optional(z.string()),
  alerts: z.array(alertSchema).check(z.maxLength(MAX_ALERTS)),
});

export type AlertmanagerAlert = z.infer<typeof alertSchema>;

/** What the receiver did with one alert of the notification. */
export interface AlertOutcome {
  alertname: string | null;
  fingerprint: string;
  /** started: a new execution; already-started: the execution for this alert exists (a repeat); skipped: nothing started (reason says why); failed: could not start (retry). */
  outcome: 'started' | 'already-started' | 'skipped' | 'failed';
  scenario?: string;
  executionArn?: string;
  reason?: string;
}

export interface WebhookRequest {
  /** The Authorization header as received (HTTP API lower-cases header names). */
  authorization: string | undefined;
  /** The raw body (decoded from base64 when API Gateway encoded it). */
  body: string;
}

export interface WebhookResponse {
  statusCode: number;
  body: {
    message: string;
    alerts?: AlertOutcome[];
  };
}

export interface WebhookDependencies {
  sfn: SFNClient;
  /** The bearer token the stack generated (Secrets Manager), read once per container. */
  token: () => Promise<string>;
  /** The ARN of a scenario's state machine in this stack (`<prefix><scenario>`). */
  stateMachineArn: (scenario: string) => string;
}

/**
 * True when `authorization` is `Bearer <token>` with exactly the expected token. Compared in constant
 * time (digests of equal length), so the answer's timing tells nothing about how much of a guess
 * was right.
 */
export function bearerTokenMatches(authorization: string | undefined, expected: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match || expected.length === 0) return false;
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(match[1]!), digest(expected));
}

/** `20261130T190000Z` from an ISO time (seconds precision: Alertmanager's startsAt of one alert never changes). */
function compactTime(iso: string): string {
  const parsed = Date.parse(iso);
  if (Number.isNaN(parsed)) return iso.replace(/[^0-9TZ]/g, '').slice(0, 16);
  return new Date(parsed).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
}

/**
 * The execution name of an alert's run: `am-<alertname>-<fingerprint>-<startsAt>`, at most 80
 * characters of [A-Za-z0-9_-] (the alertname shortened to fit). The same alert firing (one fingerprint,
 * one startsAt) always gets the same name, so Step Functions refuses to start it twice; the same
 * label set firing again later has another startsAt, hence a new run.
 */
export function executionNameFor(alertname: string, fingerprint: string, startsAt: string): string {
  const tail = `-${fingerprint}-${compactTime(startsAt)}`;
  const room = 80 - 'am-'.length - tail.length;
  return `am-${alertname.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, room)}${tail}`;
}

/**
 * The execution input of one alert: the Alertmanager alert start shape shared/run.ts reads. Only the
 * alert's stable fields (its labels and fingerprint, when it started), never the annotations or the
 * time it was received: a repeated notification must give the same input for Step Functions to see
 * the same execution.
 */
export function alertStartInput(alert: AlertmanagerAlert): Record<string, unknown> {
  return {
    source: ALERTMANAGER_EVENT.source,
    'detail-type': ALERTMANAGER_EVENT.detailType,
    detail: { alertname: alert.labels.alertname, status: alert.status, startsAt: alert.startsAt, fingerprint: alert.fingerprint, labels: alert.labels },
  };
}

/** `arn:...:stateMachine:<machine>` + name -> `arn:...:execution:<machine>:<name>`. */
function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * One alert: resolved or unmapped alerts start nothing; a mapped firing alert is checked against the
 * run contract first (a stale alert, an unknown database label: refused here with the contract's
 * message, no execution started), then started unless its execution exists already.
 *
 * AWS: states:DescribeExecution (is this alert's run there already?), states:StartExecution. Throws
 * what classifyAwsError makes of their failures (AwsTransientError, AwsAccessDenied...); an execution
 * that exists is an answer, not an error.
 */
async function startForAlert(deps: WebhookDependencies, config: DeploymentConfig, alert: AlertmanagerAlert, now: Date): Promise<AlertOutcome> {
  const alertname = alert.labels.alertname ?? null;
  const base = { alertname, fingerprint: alert.fingerprint };
  if (alertname === null) return { ...base, outcome: 'skipped', reason: 'the alert has no alertname label' };
  const alerts = config.alertmanager?.alerts ?? {};
  const scenario = Object.hasOwn(alerts, alertname) ? alerts[alertname] : undefined;
  if (alert.status === 'resolved') return { ...base, outcome: 'skipped', ...(scenario ? { scenario } : {}), reason: 'resolved: a resolved alert starts nothing' };
  if (!scenario) {
    const known = Object.keys(alerts);
    return { ...base, outcome: 'skipped', reason: `unmapped: no scenario for alertname ${alertname} (alertmanager.alerts maps ${known.length ? known.join(', ') : 'none'})` };
  }
  const input = alertStartInput(alert);
  const name = executionNameFor(alertname, alert.fingerprint, alert.startsAt);
  const stateMachineArn = deps.stateMachineArn(scenario);
  const executionArn = executionArnFor(stateMachineArn, name);
  try {
    // The state machine's StartRun checks the input again; checking it here first means a refused
    // alert starts no execution (whose failure would page on-call for nothing) and the answer says why.
    planRun(scenario, input, { id: executionArn, name, startTime: now.toISOString() }, config);
  } catch (error) {
    if ((error as Error).name === 'InvalidInput' || (error as Error).name === 'InvalidConfig') {
      return { ...base, outcome: 'skipped', scenario, reason: `refused: ${(error as Error).message}` };
    }
    throw error;
  }
  let existing: { startDate?: Date; status?: string } | null;
  try {
    existing = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if ((error as Error)?.name !== 'ExecutionDoesNotExist') throw classifyAwsError(error, 'states:DescribeExecution', executionArn);
    existing = null;
  }
  if (existing) {
    return { ...base, outcome: 'already-started', scenario, executionArn, reason: `already started at ${existing.startDate?.toISOString() ?? 'an earlier notification'} (${existing.status ?? 'status unknown'}): a repeated notification starts nothing` };
  }
  try {
    const started = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return { ...base, outcome: 'started', scenario, executionArn: started.executionArn ?? executionArn };
  } catch (error) {
    // Another notification of the same alert started it between the look and the start.
    if ((error as Error)?.name === 'ExecutionAlreadyExists') return { ...base, outcome: 'already-started', scenario, executionArn, reason: 'already started by a concurrent notification: nothing new started' };
    throw classifyAwsError(error, 'states:StartExecution', stateMachineArn);
  }
}

/**
 * The webhook: authenticates the request (`Authorization: Bearer <token>`, the stack's generated
 * secret, compared in constant time), validates the notification (Alertmanager's webhook JSON,
 * version 4, at most MAX_NOTIFICATION_BYTES and MAX_ALERTS) and starts each firing mapped alert's
 * scenario. Answers:
 *  - 401 without the header or with a wrong token (nothing read from the body, nothing started);
 *  - 413 for a body over the limit, 400 for a body that is not a version-4 notification (every bad
 *    field named), nothing started;
 *  - 200 with each alert's outcome (started, already started, skipped and why);
 *  - 502 when an alert's execution could not be started (throttled, denied...): Alertmanager retries
 *    the notification, and what did start is not started twice.
 *
 * AWS: secretsmanager:GetSecretValue through `deps.token` (once per container), states:DescribeExecution
 * and states:StartExecution per firing mapped alert. Throws nothing but a failure of `deps.token`
 * (the secret unreadable: the function's configuration, a 5xx for the caller).
 */
export async function receiveAlertmanagerNotification(deps: WebhookDependencies, config: DeploymentConfig, request: WebhookRequest, now: Date): Promise<WebhookResponse> {
  if (!/^Bearer\s+\S+/i.test(request.authorization ?? '')) {
    return { statusCode: 401, body: { message: 'unauthorized: send Authorization: Bearer <token> (http_config.authorization of the Alertmanager receiver); nothing was started' } };
  }
  if (!bearerTokenMatches(request.authorization, await deps.token())) {
    return { statusCode: 401, body: { message: 'unauthorized: wrong bearer token; nothing was started' } };
  }
  const size = Buffer.byteLength(request.body, 'utf8');
  if (size > MAX_NOTIFICATION_BYTES) {
    return { statusCode: 413, body: { message: `notification too large: ${size} bytes; expected at most ${MAX_NOTIFICATION_BYTES} (lower max_alerts of the receiver); nothing was started` } };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(request.body);
  } catch (error) {
    return { statusCode: 400, body: { message: `not JSON (${(error as Error).message}); expected an Alertmanager webhook notification; nothing was started` } };
  }
  const parsed = notificationSchema.safeParse(payload);
  if (!parsed.success) {
    return { statusCode: 400, body: { message: `not an Alertmanager webhook notification (version 4); nothing was started:\n${describeIssues(parsed.error.issues, payload)}` } };
  }
  const outcomes: AlertOutcome[] = [];
  for (const alert of parsed.data.alerts) {
    try {
      outcomes.push(await startForAlert(deps, config, alert, now));
    } catch (error) {
      const reason = error instanceof RecoveryError ? `${error.name}: ${error.message}` : String((error as Error)?.message ?? error);
      outcomes.push({ alertname: alert.labels.alertname ?? null, fingerprint: alert.fingerprint, outcome: 'failed', reason });
    }
  }
  const count = (outcome: AlertOutcome['outcome']) => outcomes.filter((o) => o.outcome === outcome).length;
  const message = `${count('started')} started, ${count('already-started')} already started, ${count('skipped')} skipped, ${count('failed')} failed`;
  return { statusCode: count('failed') > 0 ? 502 : 200, body: { message, alerts: outcomes } };
}

/**
 * The bearer token from its Secrets Manager secret, read on first use and kept for the container's
 * life (a failed read is retried on the next request). A token under 32 characters is refused: the
 * stack generates 64.
 *
 * AWS: secretsmanager:GetSecretValue. Throws InvalidConfig (too short), what awsCall throws.
 */
export function tokenFromSecret(secrets: SecretsManagerClient, secretId: string): () => Promise<string> {
  let token: Promise<string> | undefined;
  return () => {
    token ??= awsCall('secretsmanager:GetSecretValue', secretId, () => secrets.send(new GetSecretValueCommand({ SecretId: secretId }))).then((answer) => {
      const value = answer.SecretString ?? '';
      if (value.length < 32) throw new InvalidConfig(`secret ${secretId}: the webhook token holds ${value.length} characters; expected at least 32 (the stack generates 64)`);
      return value;
    });
    token.catch(() => (token = undefined));
    return token;
  };
}
