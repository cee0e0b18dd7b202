// The approval step's decisions without AWS: the policy from the config, the request the approvers
// read (no secret values; the task token only in the CLI lines), the signed link (forged, altered,
// expired), and answering through the link once (a second answer, or one after the console or the
// CLI answered, is refused and sends nothing). Step Functions and SNS are client mocks (their
// refusals injected); the approvals table is an in-memory double with DynamoDB's conditional update.
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import {
  answerApproval,
  approvalMessage,
  openApproval,
  parseDecision,
  planApproval,
  requestApproval,
  signedLink,
  verifyLink,
  type ApprovalPlan,
  type ApprovalStore,
  type StoredApproval,
} from '../../shared/approval.js';
import { parseDeploymentConfig } from '../../shared/config.js';
import { InvalidConfig } from '../../shared/errors.js';
import type { RunContext } from '../../shared/run.js';
import { answeredPage, pendingPage } from '../../shared/approval-page.js';
import { configWith, exampleConfig } from '../support/fixtures.js';

const KEY = Buffer.from('k'.repeat(64));
const OTHER_KEY = Buffer.from('x'.repeat(64));
const TOKEN = 'AAAAKgAAAAIAAAAAAAAAAQ+secret/token=value';
const NOW = new Date('2026-11-30T12:00:00.000Z');
const BASE_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com';

const run: RunContext = {
  scenario: 'cluster-failover',
  executionId: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-prod-cluster-failover:manual-1',
  executionName: 'manual-1',
  startedAt: NOW.toISOString(),
  incidentAt: NOW.toISOString(),
  incidentNamedByOperator: false,
  trigger: 'manual',
  dryRun: false,
  reason: 'primary API down',
  databases: ['frontier-prod'],
  force: false,
  rollback: null,
  productionReplicas: 3,
  recovery: null,
};
const ACTIONS = ['Restore database frontier-prod in us-east-1', 'Scale frontier-api to 3 replicas on frontier-backup', 'Point api.frontier.com at us-east-1'];

function configError(approvals: unknown): string {
  const raw = structuredClone(exampleConfig()) as unknown as Record<string, unknown>;
  raw.approvals = approvals;
  try {
    parseDeploymentConfig(raw, 'config/broken.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfig);
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('the approvals config', () => {
  it('defaults to asking, 30 minutes, then decline, for a scenario not listed', () => {
    const plan = planApproval(exampleConfig(), run, { actions: ACTIONS }).data;
    expect(plan).toMatchObject({ required: true, policy: 'approval', timeoutSeconds: 1800, onTimeout: 'decline' });
  });

  it('fills each listed policy with the defaults', () => {
    const config = configWith((raw) => {
      (raw as unknown as Record<string, unknown>).approvals = { 'cluster-failover': { policy: 'approval', timeoutMinutes: 5 } };
    });
    expect(config.approvals['cluster-failover']).toEqual({ policy: 'approval', timeoutMinutes: 5, onTimeout: 'decline' });
  });

  it('refuses a key that is no scenario, naming it and the known ones', () => {
    const message = configError({ 'region-falover': { policy: 'automatic' } });
    expect(message).toContain(
      'approvals.region-falover: got {"policy":"automatic"} (object); is keyed by "region-falover", which is no scenario; expected one of backup-verification, restore-test, cluster-failover, emergency-rollback, database-recovery',
    );
  });

  it('refuses a bad policy, timeout or onTimeout, naming field and value', () => {
    const message = configError({ 'cluster-failover': { policy: 'manual', timeoutMinutes: 0, onTimeout: 'ignore', extra: true } });
    expect(message).toContain('approvals.cluster-failover.policy: got "manual" (string); expected one of "automatic", "approval"');
    expect(message).toContain('approvals.cluster-failover.timeoutMinutes: got 0 (number); expected at least 1');
    expect(message).toContain('approvals.cluster-failover.onTimeout: got "ignore" (string); expected one of "decline", "approve"');
    expect(message).toContain('approvals.cluster-failover.extra: got true (boolean); unknown field');
  });
});

describe('planning', () => {
  const withPolicy = (policy: Record<string, unknown>) =>
    configWith((raw) => {
      (raw as unknown as Record<string, unknown>).approvals = { 'cluster-failover': policy };
    });

  it('asks for approval with the configured timeout (seconds) and onTimeout', () => {
    const result = planApproval(withPolicy({ policy: 'approval', timeoutMinutes: 45, onTimeout: 'approve' }), run, { actions: ACTIONS });
    expect(result.data).toEqual({
      required: true,
      policy: 'approval',
      timeoutSeconds: 2700,
      onTimeout: 'approve',
      request: { scenario: 'cluster-failover', executionId: run.executionId, executionName: 'manual-1', trigger: 'manual', reason: 'primary API down', dryRun: false, actions: ACTIONS },
    });
    expect(result.detail).toBe('approval required (approvals.cluster-failover): waiting up to 45 min, then approve');
  });

  it('skips the approval with policy automatic, saying so', () => {
    const result = planApproval(withPolicy({ policy: 'automatic' }), run, { actions: ACTIONS });
    expect(result.data.required).toBe(false);
    expect(result.detail).toContain('policy automatic');
  });

  it('never holds a dry run (it changes nothing)', () => {
    expect(planApproval(exampleConfig(), { ...run, dryRun: true }, { actions: ACTIONS }).data.required).toBe(false);
  });

  it('refuses a request without actions, or with a bad line, naming the field and value', () => {
    expect(() => planApproval(exampleConfig(), run, {})).toThrow(/^request\.actions: got nothing; expected 1 to 30 lines/);
    expect(() => planApproval(exampleConfig(), run, { actions: ['ok', 'two\nlines'] })).toThrow('request.actions[1]: got "two\\nlines" (string)');
    expect(() => planApproval(exampleConfig(), run, null)).toThrow(/^request: got null/);
  });
});

describe('the request the approvers receive', () => {
  const plan: ApprovalPlan = planApproval(exampleConfig(), run, { actions: ACTIONS }).data;
  const link = signedLink(BASE_URL, KEY, { approvalId: 'A'.repeat(22), expiresAt: 1_800_000_000 });
  const { subject, message } = approvalMessage({ request: plan.request, link, taskToken: TOKEN, expiresAt: new Date(1_800_000_000_000), timeoutMinutes: 30, onTimeout: 'decline' });

  it('names the run, what it will do, what declining and the timeout mean', () => {
    expect(subject).toBe('frontier-dr: approve cluster-failover? (manual-1)');
    expect(message).toContain(run.executionId);
    for (const action of ACTIONS) expect(message).toContain(`  - ${action}`);
    expect(message).toContain('Declining changes nothing');
    expect(message).toContain('No answer by 2027-01-15T08:00:00.000Z (30 min): the run stops as if declined, changing nothing.');
  });

  it('gives the link, the console steps and two CLI command lines', () => {
    expect(message).toContain(`   ${link}`);
    expect(message).toContain('"Send task success" with the output {"approved": true, "by": "YOUR NAME"}');
    expect(message).toContain('"Send task failure" with the error ApprovalDeclined');
    expect(message).toContain(`https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${encodeURIComponent(run.executionId)}`);
    expect(message).toContain(`aws stepfunctions send-task-success --region us-east-1 --task-token '${TOKEN}' --task-output '{"approved":true,"by":"YOUR NAME","via":"cli"}'`);
    expect(message).toContain(`aws stepfunctions send-task-failure --region us-east-1 --task-token '${TOKEN}' --error ApprovalDeclined --cause 'declined by YOUR NAME'`);
  });

  it('carries the task token only in the two CLI lines, and the link carries none', () => {
    const withToken = message.split('\n').filter((line) => line.includes(TOKEN));
    expect(withToken).toHaveLength(2);
    expect(withToken.every((line) => line.trimStart().startsWith('aws stepfunctions send-task-'))).toBe(true);
    expect(link).not.toContain(TOKEN);
    expect(link).not.toContain(encodeURIComponent(TOKEN));
  });

  it('quotes a token with a quote in it so the shell passes it unchanged', () => {
    const odd = approvalMessage({ request: plan.request, link, taskToken: "ab'cd", expiresAt: new Date(0), timeoutMinutes: 1, onTimeout: 'approve' }).message;
    expect(odd).toContain(`--task-token 'ab'\\''cd'`);
    expect(odd).toContain('the run goes ahead as if approved');
  });
});

describe('signed links', () => {
  const claims = { approvalId: 'Q2hhbmdlIG5vdGhpbmcuLi', expiresAt: Math.floor(NOW.getTime() / 1000) + 600 };
  const parts = (link: string) => {
    const url = new URL(link);
    return { id: url.pathname.split('/').pop(), expires: url.searchParams.get('expires') ?? undefined, signature: url.searchParams.get('signature') ?? undefined };
  };
  const good = parts(signedLink(BASE_URL, KEY, claims));

  it('verifies its own link', () => {
    expect(signedLink(`${BASE_URL}/`, KEY, claims)).toMatch(new RegExp(`^${BASE_URL}/approvals/${claims.approvalId}\\?expires=\\d+&signature=[A-Za-z0-9_-]{43}$`));
    expect(verifyLink(KEY, good.id, good.expires, good.signature, NOW)).toEqual(claims);
  });

  it('refuses a forged signature, another key, an altered id or expiry, or a missing part', () => {
    const forged = `${good.signature!.slice(0, -1)}${good.signature!.endsWith('A') ? 'B' : 'A'}`;
    expect(() => verifyLink(KEY, good.id, good.expires, forged, NOW)).toThrow(expect.objectContaining({ name: 'ApprovalLinkInvalid' }));
    expect(() => verifyLink(OTHER_KEY, good.id, good.expires, good.signature, NOW)).toThrow(expect.objectContaining({ name: 'ApprovalLinkInvalid' }));
    expect(() => verifyLink(KEY, `R${good.id!.slice(1)}`, good.expires, good.signature, NOW)).toThrow(expect.objectContaining({ name: 'ApprovalLinkInvalid' }));
    // Pushing the expiry later breaks the signature.
    expect(() => verifyLink(KEY, good.id, String(claims.expiresAt + 3600), good.signature, NOW)).toThrow(expect.objectContaining({ name: 'ApprovalLinkInvalid' }));
    expect(() => verifyLink(KEY, good.id, good.expires, undefined, NOW)).toThrow(expect.objectContaining({ name: 'ApprovalLinkInvalid' }));
    expect(() => verifyLink(KEY, '../../etc', good.expires, good.signature, NOW)).toThrow(expect.objectContaining({ name: 'ApprovalLinkInvalid' }));
  });

  it('refuses a genuine link once expired, and a forged one as forged even then', () => {
    const later = new Date(claims.expiresAt * 1000);
    expect(() => verifyLink(KEY, good.id, good.expires, good.signature, later)).toThrow(expect.objectContaining({ name: 'ApprovalExpired' }));
    expect(() => verifyLink(OTHER_KEY, good.id, good.expires, good.signature, later)).toThrow(expect.objectContaining({ name: 'ApprovalLinkInvalid' }));
  });
});

/** The approvals table as DynamoDB keeps it: answer() is its conditional update. */
function memoryStore(): ApprovalStore & { items: Map<string, StoredApproval> } {
  const items = new Map<string, StoredApproval>();
  return {
    items,
    async put(approval) {
      if (items.has(approval.approvalId)) throw new Error('ConditionalCheckFailed');
      items.set(approval.approvalId, structuredClone(approval));
    },
    async get(id) {
      return items.has(id) ? structuredClone(items.get(id)!) : null;
    },
    async answer(id, answer, nowEpoch) {
      const item = items.get(id);
      if (!item || item.status !== 'pending' || item.expiresAt <= nowEpoch) return false;
      Object.assign(item, { status: answer.status, answeredBy: answer.by, answeredVia: answer.via, answeredAt: answer.at });
      return true;
    },
    async reopen(id, at) {
      const item = items.get(id);
      if (item?.answeredAt === at) Object.assign(item, { status: 'pending', answeredBy: null, answeredVia: null, answeredAt: null });
    },
    async close(id, note) {
      Object.assign(items.get(id)!, { status: 'closed', note });
    },
  };
}

describe('requesting and answering through the link', () => {
  const sns = new SNSClient({ region: 'us-east-1' });
  const sfn = new SFNClient({ region: 'us-east-1' });
  const snsMock = mockClient(sns);
  const sfnMock = mockClient(sfn);
  let store: ReturnType<typeof memoryStore>;
  let link: { approvalId: string; expires: string; signature: string };
  const plan = planApproval(exampleConfig(), run, { actions: ACTIONS }).data;
  const deps = () => ({ store, sfn: () => sfn, signingKey: async () => KEY });

  beforeEach(async () => {
    snsMock.reset();
    sfnMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    sfnMock.on(SendTaskSuccessCommand).resolves({}).on(SendTaskFailureCommand).resolves({});
    store = memoryStore();
    const asked = await requestApproval(
      { store, sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts', signingKey: async () => KEY, linkBaseUrl: BASE_URL },
      { run, approval: plan, taskToken: TOKEN },
      NOW,
    );
    const published = String(snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Message);
    const url = new URL(/^ {3}(https:\/\/\S+)$/m.exec(published)![1]!);
    link = { approvalId: url.pathname.split('/').pop()!, expires: url.searchParams.get('expires')!, signature: url.searchParams.get('signature')! };
    expect(link.approvalId).toBe(asked.approvalId);
  });

  it('stores the token and the request, and publishes no key and no token outside the CLI lines', () => {
    const stored = store.items.get(link.approvalId)!;
    expect(stored).toMatchObject({ taskToken: TOKEN, status: 'pending', onTimeout: 'decline', expiresAt: NOW.getTime() / 1000 + 1800, request: plan.request });
    const input = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.TopicArn).toBe('arn:aws:sns:us-east-1:123456789012:alerts');
    expect(String(input.Message)).not.toContain(KEY.toString());
    expect(String(input.Message).split(TOKEN)).toHaveLength(3);
  });

  it('refuses to ask without a task token (invoked without .waitForTaskToken)', async () => {
    await expect(
      requestApproval({ store, sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts', signingKey: async () => KEY, linkBaseUrl: BASE_URL }, { run, approval: plan, taskToken: '' }, NOW),
    ).rejects.toMatchObject({ name: 'InvalidInput', message: expect.stringContaining('taskToken: got "" (string)') });
  });

  it('shows a page naming the run and what it will do, with two forms and no token', async () => {
    const page = pendingPage(await openApproval(deps(), link, NOW));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('manual-1');
    for (const action of ACTIONS) expect(page.body).toContain(`<li>${action}</li>`);
    expect(page.body.match(/<form method="post">/g)).toHaveLength(2);
    expect(page.body).not.toContain(TOKEN);
    expect(page.body).not.toContain(link.signature);
  });

  it('approves once: SendTaskSuccess with who, how and when; a second answer is refused and sends nothing', async () => {
    const later = new Date(NOW.getTime() + 60_000);
    const answered = await answerApproval(deps(), link, parseDecision(new URLSearchParams('decision=approve&by=Dana+Ops')), later);
    expect(answered.status).toBe('approved');
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: TOKEN,
      output: JSON.stringify({ approved: true, by: 'Dana Ops', via: 'link', at: later.toISOString() }),
    });
    await expect(answerApproval(deps(), link, parseDecision(new URLSearchParams('decision=decline&by=Eve')), later)).rejects.toMatchObject({
      name: 'ApprovalAlreadyAnswered',
      message: `this approval was already answered: approved by Dana Ops through the link at ${later.toISOString()}`,
    });
    expect(sfnMock.calls()).toHaveLength(1);
    expect(answeredPage((await store.get(link.approvalId))!, false).statusCode).toBe(409);
  });

  it('declines with SendTaskFailure ApprovalDeclined, the cause naming who and why', async () => {
    await answerApproval(deps(), link, parseDecision(new URLSearchParams('decision=decline&by=Dana&reason=false+alarm')), NOW);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'ApprovalDeclined',
      cause: `declined by Dana through the approval link at ${NOW.toISOString()}: false alarm; nothing was changed`,
    });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it.each(['TaskDoesNotExist', 'TaskTimedOut'])('after the run stopped waiting (%s): a clear refusal, and the approval is closed', async (name) => {
    sfnMock.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('gone'), { name, $metadata: { httpStatusCode: 400 } }));
    await expect(answerApproval(deps(), link, parseDecision(new URLSearchParams('decision=approve&by=Dana')), NOW)).rejects.toMatchObject({
      name: 'ApprovalAlreadyAnswered',
      message: expect.stringContaining(`the run no longer waited for this approval (${name}): it was answered from the console or the CLI, it timed out, or the execution ended`),
    });
    expect((await store.get(link.approvalId))!.status).toBe('closed');
    await expect(answerApproval(deps(), link, parseDecision(new URLSearchParams('decision=approve&by=Dana')), NOW)).rejects.toMatchObject({ name: 'ApprovalAlreadyAnswered' });
  });

  it('keeps the approval open when Step Functions did not take the answer, so it can be given again', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await expect(answerApproval(deps(), link, parseDecision(new URLSearchParams('decision=approve&by=Dana')), NOW)).rejects.toMatchObject({ name: 'AwsTransientError' });
    expect((await store.get(link.approvalId))!.status).toBe('pending');
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    await expect(answerApproval(deps(), link, parseDecision(new URLSearchParams('decision=approve&by=Dana')), NOW)).resolves.toMatchObject({ status: 'approved' });
  });

  it('refuses an answer after the timeout, and sends nothing', async () => {
    const expired = new Date((Number(link.expires) + 1) * 1000);
    await expect(answerApproval(deps(), link, parseDecision(new URLSearchParams('decision=approve&by=Dana')), expired)).rejects.toMatchObject({ name: 'ApprovalExpired' });
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('refuses a forged link, and a replayed link of an approval the table no longer holds', async () => {
    await expect(answerApproval(deps(), { ...link, signature: 'A'.repeat(43) }, parseDecision(new URLSearchParams('decision=approve&by=Dana')), NOW)).rejects.toMatchObject({ name: 'ApprovalLinkInvalid' });
    store.items.clear();
    await expect(openApproval(deps(), link, NOW)).rejects.toMatchObject({ name: 'ApprovalLinkInvalid' });
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('needs a decision and the approver name in the form', () => {
    expect(() => parseDecision(new URLSearchParams('decision=approve'))).toThrow(/^by: got "" \(string\); expected your name/);
    expect(() => parseDecision(new URLSearchParams('decision=yes&by=Dana'))).toThrow('decision: got "yes" (string); expected "approve" or "decline"');
  });
});
