// The approval step, written once for every scenario that asks before it acts (region-failover,
// security-incident): plan it from the config's policy, ask the approvers (one SNS message naming
// the run, what it will do and the three ways to answer), and take an answer given through the signed
// link. The console and the CLI answer Step Functions directly (SendTaskSuccess / SendTaskFailure on
// the task token); the link's answer page calls the same two APIs through shared/clients.ts.
//
// What is secret here, and where it goes:
//  - the task token lets whoever holds it answer, but only with IAM permission for
//    states:SendTaskSuccess / SendTaskFailure on this stack's state machines: it appears in the
//    notification only inside the two CLI command lines (what the CLI needs), never in the link, a
//    page, a log line or the step's output; the approvals table keeps it for the answer page;
//  - the link carries no token: an unguessable approval id (128 random bits), its expiry and an
//    HMAC-SHA256 signature over both, keyed by the stack's own signing secret. Opening it (GET) only
//    shows a page; only a POST of its Approve or Decline form, with the approver's name, answers.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import { DEFAULT_APPROVAL_POLICY, type ApprovalPolicyConfig, type DeploymentConfig } from './config.js';
import { ApprovalAlreadyAnswered, ApprovalDeclined, ApprovalExpired, ApprovalLinkInvalid, InvalidConfig, InvalidInput, awsCall, formatValue } from './errors.js';
import { publishAlert } from './notify.js';
import type { RunContext } from './run.js';
import type { StepResult } from './steps.js';

/** What the machine says it will do once approved (the ASL passes `$.approvalRequest`). */
export interface ApprovalRequestInput {
  /** Each change the run will make, in words (names of resources, never secret values). */
  actions: string[];
}

/** What the approvers are asked: the run, and what it will do. JSON-safe, no secret values. */
export interface ApprovalRequest {
  scenario: string;
  executionId: string;
  executionName: string;
  trigger: string;
  reason: string | null;
  dryRun: boolean;
  actions: string[];
}

/** PlanApproval's data: what IsApprovalRequired and RequestApproval read. */
export interface ApprovalPlan {
  required: boolean;
  policy: ApprovalPolicyConfig['policy'];
  /** How long RequestApproval waits for an answer (its TimeoutSecondsPath). */
  timeoutSeconds: number;
  onTimeout: ApprovalPolicyConfig['onTimeout'];
  request: ApprovalRequest;
}

/** What Step Functions returns from RequestApproval once approved (`$.steps.RequestApproval.data`). */
export interface ApprovalAnswer {
  approved: boolean;
  by: string | null;
  via: 'link' | 'console' | 'cli' | 'timeout' | string;
  at: string | null;
}

const MAX_ACTIONS = 30;
const MAX_ACTION_LENGTH = 300;

/** The policy the config gives `scenario`, or the default (ask, 30 minutes, then decline). */
export function approvalPolicy(config: Pick<DeploymentConfig, 'approvals'>, scenario: string): ApprovalPolicyConfig {
  return config.approvals?.[scenario] ?? { ...DEFAULT_APPROVAL_POLICY };
}

/**
 * PlanApproval: reads the scenario's policy (config `approvals.<scenario>`, else the default) and
 * writes the request the approvers will see. `input.actions`: the changes the run will make, 1-30
 * lines of at most 300 characters. Calls no AWS API.
 * Result: {required, policy, timeoutSeconds, onTimeout, request}. A dry run changes nothing, so it
 * is never held for an approval (the report says so).
 * Throws InvalidInput naming the field and value for a malformed request.
 */
export function planApproval(config: Pick<DeploymentConfig, 'approvals'>, run: RunContext, input: unknown): StepResult<ApprovalPlan> {
  const actions = requestActions(input);
  const policy = approvalPolicy(config, run.scenario);
  const request: ApprovalRequest = {
    scenario: run.scenario,
    executionId: run.executionId,
    executionName: run.executionName,
    trigger: run.trigger,
    reason: run.reason,
    dryRun: run.dryRun,
    actions,
  };
  const required = policy.policy === 'approval' && !run.dryRun;
  const detail = run.dryRun
    ? 'dry run: nothing will change, so no approval is asked'
    : required
      ? `approval required (approvals.${run.scenario}): waiting up to ${policy.timeoutMinutes} min, then ${policy.onTimeout}`
      : `policy automatic (approvals.${run.scenario}): no approval asked`;
  return {
    data: { required, policy: policy.policy, timeoutSeconds: policy.timeoutMinutes * 60, onTimeout: policy.onTimeout, request },
    detail,
  };
}

function requestActions(input: unknown): string[] {
  const actions = (input as { actions?: unknown } | null | undefined)?.actions;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidInput(`request: got ${formatValue(input)}; expected {actions: [...]}, the changes the run will make in words`);
  }
  if (!Array.isArray(actions) || actions.length === 0 || actions.length > MAX_ACTIONS) {
    throw new InvalidInput(`request.actions: got ${formatValue(actions)}; expected 1 to ${MAX_ACTIONS} lines naming the changes the run will make`);
  }
  actions.forEach((action, i) => {
    if (typeof action !== 'string' || action.trim() === '' || action.length > MAX_ACTION_LENGTH || /[\u0000-\u001f]/.test(action)) {
      throw new InvalidInput(`request.actions[${i}]: got ${formatValue(action)}; expected one line of 1 to ${MAX_ACTION_LENGTH} printable characters`);
    }
  });
  return actions as string[];
}

// ---------------------------------------------------------------------------------------------------
// Signed links

/** What the link names: the approval and until when it may be used (epoch seconds). */
export interface LinkClaims {
  approvalId: string;
  expiresAt: number;
}

const APPROVAL_ID = /^[A-Za-z0-9_-]{22}$/;

/** A fresh approval id: 128 random bits, URL-safe (22 characters). */
export function newApprovalId(): string {
  return randomBytes(16).toString('base64url');
}

function signature(key: Uint8Array, claims: LinkClaims): string {
  // Versioned and newline-separated: no two claim pairs give the same signed text.
  return createHmac('sha256', key).update(`frontier-dr-approval-v1\n${claims.approvalId}\n${claims.expiresAt}`).digest('base64url');
}

/** `<base>/approvals/<id>?expires=<epoch s>&signature=<HMAC-SHA256, base64url>`. */
export function signedLink(baseUrl: string, key: Uint8Array, claims: LinkClaims): string {
  const query = new URLSearchParams({ expires: String(claims.expiresAt), signature: signature(key, claims) });
  return `${baseUrl.replace(/\/+$/, '')}/approvals/${claims.approvalId}?${query.toString()}`;
}

/**
 * Checks a link's id, expiry and signature (in constant time) and returns its claims.
 * Throws ApprovalLinkInvalid (malformed, forged or altered: the message does not say which part) or
 * ApprovalExpired (a genuine link past its expiry; checked after the signature, so an expiry cannot
 * be probed with forged links).
 */
export function verifyLink(key: Uint8Array, approvalId: string | undefined, expires: string | undefined, given: string | undefined, now: Date): LinkClaims {
  const invalid = () => new ApprovalLinkInvalid('this approval link is not valid: it was altered or is incomplete. Use the link from the approval message as it was sent.');
  if (!approvalId || !APPROVAL_ID.test(approvalId) || !expires || !/^\d{1,12}$/.test(expires) || !given || !/^[A-Za-z0-9_-]{43}$/.test(given)) throw invalid();
  const claims = { approvalId, expiresAt: Number(expires) };
  const expected = Buffer.from(signature(key, claims));
  const actual = Buffer.from(given);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw invalid();
  if (now.getTime() >= claims.expiresAt * 1000) {
    throw new ApprovalExpired(`this approval expired at ${new Date(claims.expiresAt * 1000).toISOString()}: the run no longer waits for an answer`);
  }
  return claims;
}

// ---------------------------------------------------------------------------------------------------
// The approvals table: one item per request, keyed by its approval id

export type ApprovalStatus = 'pending' | 'approved' | 'declined' | 'closed';

export interface StoredApproval {
  approvalId: string;
  taskToken: string;
  request: ApprovalRequest;
  /** Epoch seconds: the run stops waiting then. */
  expiresAt: number;
  onTimeout: ApprovalPolicyConfig['onTimeout'];
  status: ApprovalStatus;
  answeredBy: string | null;
  answeredVia: string | null;
  answeredAt: string | null;
  /** Why a `closed` approval took no answer from the link (answered elsewhere, timed out). */
  note: string | null;
}

export interface ApprovalStore {
  put(approval: StoredApproval): Promise<void>;
  get(approvalId: string): Promise<StoredApproval | null>;
  /** pending -> `status` with the answer; false when the approval is no longer pending or has expired. */
  answer(approvalId: string, answer: { status: 'approved' | 'declined'; by: string; via: string; at: string }, nowEpoch: number): Promise<boolean>;
  /** Back to pending, only when it still holds exactly `answeredAt` (an answer Step Functions did not take). */
  reopen(approvalId: string, answeredAt: string): Promise<void>;
  close(approvalId: string, note: string): Promise<void>;
}

/** Items stay readable this long after expiry (to show who answered), then DynamoDB's TTL removes them. */
const KEEP_SECONDS = 30 * 86_400;

/**
 * The approvals table in DynamoDB (key `approvalId`, TTL attribute `expiresAtTtl`).
 * Calls dynamodb:PutItem, GetItem, UpdateItem (conditional: one answer per approval).
 */
export function dynamoApprovalStore(dynamo: DynamoDBClient, table: string): ApprovalStore {
  const s = (value: string | null): AttributeValue => (value === null ? { NULL: true } : { S: value });
  const text = (item: Record<string, AttributeValue>, key: string): string | null => item[key]?.S ?? null;
  return {
    async put(approval) {
      await awsCall('dynamodb:PutItem', table, () =>
        dynamo.send(
          new PutItemCommand({
            TableName: table,
            Item: {
              approvalId: { S: approval.approvalId },
              taskToken: { S: approval.taskToken },
              request: { S: JSON.stringify(approval.request) },
              expiresAt: { N: String(approval.expiresAt) },
              expiresAtTtl: { N: String(approval.expiresAt + KEEP_SECONDS) },
              onTimeout: { S: approval.onTimeout },
              status: { S: approval.status },
              answeredBy: s(approval.answeredBy),
              answeredVia: s(approval.answeredVia),
              answeredAt: s(approval.answeredAt),
              note: s(approval.note),
            },
            // A retried RequestApproval invocation gets a new id; an id is never overwritten.
            ConditionExpression: 'attribute_not_exists(approvalId)',
          }),
        ),
      );
    },
    async get(approvalId) {
      const answer = await awsCall('dynamodb:GetItem', table, () => dynamo.send(new GetItemCommand({ TableName: table, Key: { approvalId: { S: approvalId } }, ConsistentRead: true })));
      const item = answer.Item;
      if (!item) return null;
      return {
        approvalId,
        taskToken: text(item, 'taskToken') ?? '',
        request: JSON.parse(text(item, 'request') ?? '{}') as ApprovalRequest,
        expiresAt: Number(item.expiresAt?.N ?? 0),
        onTimeout: (text(item, 'onTimeout') ?? 'decline') as ApprovalPolicyConfig['onTimeout'],
        status: (text(item, 'status') ?? 'closed') as ApprovalStatus,
        answeredBy: text(item, 'answeredBy'),
        answeredVia: text(item, 'answeredVia'),
        answeredAt: text(item, 'answeredAt'),
        note: text(item, 'note'),
      };
    },
    async answer(approvalId, answer, nowEpoch) {
      try {
        await dynamo.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { approvalId: { S: approvalId } },
            UpdateExpression: 'SET #status = :answer, answeredBy = :by, answeredVia = :via, answeredAt = :at',
            ConditionExpression: '#status = :pending AND expiresAt > :now',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':answer': { S: answer.status },
              ':by': { S: answer.by },
              ':via': { S: answer.via },
              ':at': { S: answer.at },
              ':pending': { S: 'pending' },
              ':now': { N: String(nowEpoch) },
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return false;
        return awsCall('dynamodb:UpdateItem', table, () => Promise.reject(error));
      }
    },
    async reopen(approvalId, answeredAt) {
      await awsCall('dynamodb:UpdateItem', table, () =>
        dynamo.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { approvalId: { S: approvalId } },
            UpdateExpression: 'SET #status = :pending, answeredBy = :null, answeredVia = :null, answeredAt = :null',
            ConditionExpression: 'answeredAt = :at',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':pending': { S: 'pending' }, ':null': { NULL: true }, ':at': { S: answeredAt } },
          }),
        ),
      ).catch(() => undefined);
    },
    async close(approvalId, note) {
      await awsCall('dynamodb:UpdateItem', table, () =>
        dynamo.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { approvalId: { S: approvalId } },
            UpdateExpression: 'SET #status = :closed, note = :note',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':closed': { S: 'closed' }, ':note': { S: note } },
          }),
        ),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Asking

/** The region and console address of an execution, from its ARN. */
function executionRegion(executionId: string): string {
  return executionId.split(':')[3] ?? 'us-east-1';
}

function consoleUrl(executionId: string): string {
  const region = executionRegion(executionId);
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionId)}`;
}

/** A value inside single quotes in a POSIX shell (task tokens are base64-like; this keeps any token safe). */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface ApprovalMessageParts {
  request: ApprovalRequest;
  link: string;
  taskToken: string;
  expiresAt: Date;
  timeoutMinutes: number;
  onTimeout: ApprovalPolicyConfig['onTimeout'];
}

/**
 * The notification: what the run will do, the execution, and the three ways to answer. The task
 * token appears only in the two CLI command lines (the CLI cannot answer without it, and it is
 * useless without IAM permission on this stack's state machines); the link carries none.
 * SNS subjects are at most 100 printable ASCII characters.
 */
export function approvalMessage(parts: ApprovalMessageParts): { subject: string; message: string } {
  const { request } = parts;
  const region = executionRegion(request.executionId);
  const subject = `frontier-dr: approve ${request.scenario}? (${request.executionName})`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
  const approveOutput = JSON.stringify({ approved: true, by: 'YOUR NAME', via: 'cli' });
  const lines = [
    `frontier-dr asks for approval before ${request.scenario} makes any change.`,
    '',
    `Execution: ${request.executionName}`,
    `  ${request.executionId}`,
    `Started by: ${request.trigger}${request.reason ? ` (${request.reason})` : ''}`,
    '',
    'Once approved, the run will:',
    ...request.actions.map((action) => `  - ${action}`),
    '',
    'Declining changes nothing: the run stops before its first change and reports.',
    `No answer by ${parts.expiresAt.toISOString()} (${parts.timeoutMinutes} min): the run ${
      parts.onTimeout === 'approve' ? 'goes ahead as if approved' : 'stops as if declined, changing nothing'
    }.`,
    '',
    'Answer in one of three ways:',
    '',
    '1. The approval link (a page naming this run; nothing happens until you press Approve or Decline there):',
    `   ${parts.link}`,
    '',
    '2. The Step Functions console: open the execution, select the RequestApproval step and use',
    '   "Send task success" with the output {"approved": true, "by": "YOUR NAME"} to approve,',
    '   or "Send task failure" with the error ApprovalDeclined to decline.',
    `   ${consoleUrl(request.executionId)}`,
    '',
    '3. The AWS CLI (needs states:SendTaskSuccess / SendTaskFailure on this stack\'s state machines):',
    `   aws stepfunctions send-task-success --region ${region} --task-token ${shellQuote(parts.taskToken)} --task-output ${shellQuote(approveOutput)}`,
    `   aws stepfunctions send-task-failure --region ${region} --task-token ${shellQuote(parts.taskToken)} --error ApprovalDeclined --cause ${shellQuote('declined by YOUR NAME')}`,
  ];
  return { subject, message: lines.join('\n') };
}

export interface RequestDependencies {
  store: ApprovalStore;
  sns: SNSClient;
  topicArn: string;
  signingKey: () => Promise<Uint8Array>;
  /** The HTTP API's base URL (https://<api>.execute-api.<region>.amazonaws.com). */
  linkBaseUrl: string;
}

export interface RequestApprovalEvent {
  run: RunContext;
  approval: ApprovalPlan;
  taskToken: string;
}

/**
 * RequestApproval (invoked with .waitForTaskToken): stores the approval (its token, the request, its
 * expiry) under a new approval id and publishes the request to the approvers' topic. What it returns
 * is not the state's result (Step Functions waits for the token's answer); it names the approval id
 * and the SNS message for the function's own log. Calls dynamodb:PutItem, secretsmanager (through
 * `signingKey`) and sns:Publish. Throws InvalidInput when the event lacks the token or the plan.
 */
export async function requestApproval(deps: RequestDependencies, event: RequestApprovalEvent, now: Date): Promise<{ approvalId: string; messageId: string | null; expiresAt: string }> {
  if (typeof event.taskToken !== 'string' || event.taskToken.length === 0) {
    throw new InvalidInput(`taskToken: got ${formatValue(event.taskToken)}; expected the task token ($$.Task.Token): invoke RequestApproval with .waitForTaskToken`);
  }
  const plan = event.approval;
  if (!plan || !Number.isInteger(plan.timeoutSeconds) || plan.timeoutSeconds <= 0 || !plan.request) {
    throw new InvalidInput(`approval: got ${formatValue(plan)}; expected the PlanApproval data (required, timeoutSeconds, onTimeout, request)`);
  }
  const approvalId = newApprovalId();
  const expiresAt = Math.floor(now.getTime() / 1000) + plan.timeoutSeconds;
  await deps.store.put({
    approvalId,
    taskToken: event.taskToken,
    request: plan.request,
    expiresAt,
    onTimeout: plan.onTimeout,
    status: 'pending',
    answeredBy: null,
    answeredVia: null,
    answeredAt: null,
    note: null,
  });
  const link = signedLink(deps.linkBaseUrl, await deps.signingKey(), { approvalId, expiresAt });
  const { subject, message } = approvalMessage({
    request: plan.request,
    link,
    taskToken: event.taskToken,
    expiresAt: new Date(expiresAt * 1000),
    timeoutMinutes: Math.round(plan.timeoutSeconds / 60),
    onTimeout: plan.onTimeout,
  });
  const messageId = await publishAlert(deps.sns, deps.topicArn, subject, message);
  return { approvalId, messageId, expiresAt: new Date(expiresAt * 1000).toISOString() };
}

// ---------------------------------------------------------------------------------------------------
// Answering through the link

export interface AnswerDependencies {
  store: ApprovalStore;
  sfn: (region: string) => SFNClient;
  signingKey: () => Promise<Uint8Array>;
}

export interface LinkParameters {
  approvalId: string | undefined;
  expires: string | undefined;
  signature: string | undefined;
}

export interface Decision {
  decision: 'approve' | 'decline';
  by: string;
  reason: string | null;
}

/**
 * What the link's GET shows: the stored approval, once the link is verified.
 * Throws ApprovalLinkInvalid (bad signature, or no such approval) or ApprovalExpired.
 */
export async function openApproval(deps: Pick<AnswerDependencies, 'store' | 'signingKey'>, link: LinkParameters, now: Date): Promise<StoredApproval> {
  const claims = verifyLink(await deps.signingKey(), link.approvalId, link.expires, link.signature, now);
  const approval = await deps.store.get(claims.approvalId);
  // The signature is genuine but the item is gone (its TTL passed long ago): nothing to answer.
  if (!approval || approval.expiresAt !== claims.expiresAt) throw new ApprovalLinkInvalid('this approval link names no approval waiting for an answer');
  return approval;
}

/** Reads the POSTed form: decision approve|decline, the approver's name (required), a reason (optional). */
export function parseDecision(form: URLSearchParams): Decision {
  const decision = form.get('decision');
  if (decision !== 'approve' && decision !== 'decline') throw new InvalidInput(`decision: got ${formatValue(decision ?? undefined)}; expected "approve" or "decline"`);
  const by = (form.get('by') ?? '').trim();
  if (by.length === 0 || by.length > 100 || /[\u0000-\u001f]/.test(by)) {
    throw new InvalidInput(`by: got ${formatValue(by)}; expected your name (1 to 100 characters): it is recorded with the answer`);
  }
  const reason = (form.get('reason') ?? '').trim();
  if (reason.length > 500 || /[\u0000-\u0009\u000b-\u001f]/.test(reason)) throw new InvalidInput(`reason: got ${formatValue(reason)}; expected at most 500 characters`);
  return { decision, by, reason: reason || null };
}

/** Step Functions' answers that mean the run no longer waits for this token. */
const GONE = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

/**
 * The link's POST: verifies the link, records the answer once (a conditional update: a second answer,
 * from this link or another tab, finds it taken) and sends it to Step Functions: SendTaskSuccess with
 * {approved: true, by, via: 'link', at}, or SendTaskFailure with error ApprovalDeclined.
 * Throws ApprovalLinkInvalid, ApprovalExpired, ApprovalAlreadyAnswered (answered here before, or the
 * run stopped waiting: answered from the console or the CLI, timed out, or the execution ended; the
 * approval is then closed), InvalidInput (the form), AwsTransientError (the answer was not delivered:
 * the approval is pending again, so it can be retried).
 */
export async function answerApproval(deps: AnswerDependencies, link: LinkParameters, decision: Decision, now: Date): Promise<StoredApproval> {
  const approval = await openApproval(deps, link, now);
  if (approval.status !== 'pending') throw alreadyAnswered(approval);
  const at = now.toISOString();
  const status = decision.decision === 'approve' ? 'approved' : 'declined';
  const taken = await deps.store.answer(approval.approvalId, { status, by: decision.by, via: 'link', at }, Math.floor(now.getTime() / 1000));
  if (!taken) {
    const current = await deps.store.get(approval.approvalId);
    if (current && current.status === 'pending') throw new ApprovalExpired(`this approval expired at ${new Date(approval.expiresAt * 1000).toISOString()}: the run no longer waits for an answer`);
    throw alreadyAnswered(current ?? approval);
  }
  const sfn = deps.sfn(executionRegion(approval.request.executionId));
  const resource = approval.request.executionId;
  try {
    if (status === 'approved') {
      const output: ApprovalAnswer = { approved: true, by: decision.by, via: 'link', at };
      await sfn.send(new SendTaskSuccessCommand({ taskToken: approval.taskToken, output: JSON.stringify(output) }));
    } else {
      // The error the RequestApproval state's Catch matches, by its class's name.
      const declined = new ApprovalDeclined(`declined by ${decision.by} through the approval link at ${at}${decision.reason ? `: ${decision.reason}` : ''}; nothing was changed`);
      await sfn.send(new SendTaskFailureCommand({ taskToken: approval.taskToken, error: declined.name, cause: declined.message.slice(0, 32_768) }));
    }
  } catch (error) {
    const name = (error as Error).name;
    if (GONE.has(name)) {
      const note = `the run no longer waited for this approval (${name}): it was answered from the console or the CLI, it timed out, or the execution ended`;
      await deps.store.close(approval.approvalId, note);
      throw new ApprovalAlreadyAnswered(`${note}. Your answer was not sent; see the execution for what happened.`);
    }
    await deps.store.reopen(approval.approvalId, at);
    return awsCall(status === 'approved' ? 'states:SendTaskSuccess' : 'states:SendTaskFailure', resource, () => Promise.reject(error));
  }
  return { ...approval, status, answeredBy: decision.by, answeredVia: 'link', answeredAt: at };
}

function alreadyAnswered(approval: StoredApproval): ApprovalAlreadyAnswered {
  if (approval.status === 'closed') return new ApprovalAlreadyAnswered(approval.note ?? 'the run no longer waits for this approval');
  return new ApprovalAlreadyAnswered(`this approval was already answered: ${approval.status} by ${approval.answeredBy ?? 'someone'} through the ${approval.answeredVia ?? 'link'} at ${approval.answeredAt ?? 'an earlier time'}`);
}

/**
 * The link-signing key: the stack's generated secret (APPROVAL_SIGNING_SECRET), read once per
 * container. Calls secretsmanager:GetSecretValue (its failures named by awsCall); throws InvalidConfig
 * for a secret shorter than 32 characters (a weak key).
 */
export function signingKeyFromSecret(secrets: SecretsManagerClient, secretId: string): () => Promise<Uint8Array> {
  let key: Promise<Uint8Array> | undefined;
  return () => {
    key ??= awsCall('secretsmanager:GetSecretValue', secretId, () => secrets.send(new GetSecretValueCommand({ SecretId: secretId }))).then((answer) => {
      const value = answer.SecretString ?? '';
      if (value.length < 32) throw new InvalidConfig(`secret ${secretId}: the approval signing key holds ${value.length} characters; expected at least 32 (the stack generates 64)`);
      return Buffer.from(value, 'utf8');
    });
    key.catch(() => (key = undefined));
    return key;
  };
}
