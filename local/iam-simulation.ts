// IAM SimulatePrincipalPolicy for the local environment: moto has no policy simulator, so the AWS
// front (local/aws-front.ts) answers it here, evaluating the role's policies as moto holds them
// (inline and attached managed policies) with @cloud-copilot/iam-simulate, an IAM policy evaluation
// library, in the API's own response shape. Like the real call without a ResourcePolicy parameter,
// only the identity's policies are evaluated (no key or bucket policy). Never part of a deployment.
import { GetPolicyCommand, GetPolicyVersionCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { EMULATOR_CREDENTIALS } from './emulator-clients.js';

/** A policy document as IAM stores it (JSON). */
export interface PolicyDocument {
  Version?: string;
  Statement: unknown;
}

/** One simulated request. `context`: condition keys and their values (a list for a stringList key). */
export interface SimulatedRequest {
  principal: string;
  action: string;
  /** `*` for an action on no resource. */
  resource: string;
  accountId: string;
  context?: Record<string, string | string[]>;
}

/** SimulatePrincipalPolicy's EvalDecision values. */
export type EvalDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

/** The decision the identity's own policies give `request` (a Deny anywhere wins; no Allow: implicit). */
export async function evaluateIdentityPolicies(policies: readonly { name: string; document: PolicyDocument }[], request: SimulatedRequest): Promise<EvalDecision> {
  if (policies.length === 0) return 'implicitDeny';
  const result = await runSimulation(
    {
      identityPolicies: policies.map((p) => ({ name: p.name, policy: p.document })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.accountId },
        contextVariables: request.context ?? {},
      },
    } as Parameters<typeof runSimulation>[0],
    {},
  );
  if (result.resultType === 'error') throw new Error(`IAM policy simulation of ${request.action} on ${request.resource} failed: ${result.errors.message}`);
  const analyses = result.resultType === 'single' ? [result.result.analysis] : result.results.map((r) => r.analysis);
  const outcomes = analyses.map((a) => a.identityAnalysis?.result ?? 'ImplicitlyDenied');
  if (outcomes.includes('ExplicitlyDenied')) return 'explicitDeny';
  return outcomes.length > 0 && outcomes.every((o) => o === 'Allowed') ? 'allowed' : 'implicitDeny';
}

/** The inline and attached managed policies moto holds for `roleArn`; null when the role does not exist. */
export async function rolePolicies(iam: IAMClient, roleArn: string): Promise<{ name: string; document: PolicyDocument }[] | null> {
  const roleName = roleArn.split('/').pop() as string;
  try {
    await iam.send(new GetRoleCommand({ RoleName: roleName }));
  } catch (error) {
    if (error instanceof NoSuchEntityException) return null;
    throw error;
  }
  const policies: { name: string; document: PolicyDocument }[] = [];
  const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
  for (const name of inline.PolicyNames ?? []) {
    const policy = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
    policies.push({ name, document: parseDocument(policy.PolicyDocument) });
  }
  const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  for (const policy of attached.AttachedPolicies ?? []) {
    const described = await iam.send(new GetPolicyCommand({ PolicyArn: policy.PolicyArn }));
    const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: policy.PolicyArn, VersionId: described.Policy?.DefaultVersionId }));
    policies.push({ name: policy.PolicyName ?? policy.PolicyArn ?? 'managed', document: parseDocument(version.PolicyVersion?.Document) });
  }
  return policies;
}

/** IAM returns policy documents URL-encoded (moto too, depending on the call). */
function parseDocument(text: string | undefined): PolicyDocument {
  if (!text) return { Statement: [] };
  const raw = text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
  return JSON.parse(raw) as PolicyDocument;
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `<Name>.member.<n>` values of a query-protocol form, in order. */
function members(form: URLSearchParams, name: string): string[] {
  const values: string[] = [];
  for (let n = 1; form.has(`${name}.member.${n}`); n += 1) values.push(form.get(`${name}.member.${n}`) as string);
  return values;
}

/** Answers SimulatePrincipalPolicy for one emulator; see answer(). */
export interface PolicySimulator {
  /**
   * Answers a SimulatePrincipalPolicy request (its form-encoded body) from the policies moto holds for
   * the role: every action on every resource (or `*`), with the request's context entries. A role moto
   * does not know gets IAM's NoSuchEntity (HTTP 404).
   */
  answer(body: string): Promise<{ status: number; body: string }>;
  /** Forgets the roles' policies read so far (the front calls it for every IAM request that may change one). */
  forget(): void;
  stop(): void;
}

/**
 * A simulator reading roles from moto at `motoEndpoint`. A role's policies are read once and kept until
 * forget(): a readiness evaluation simulates each role once per resource, and reading them again for
 * each request made the local checks of every scenario take about a minute. The front forgets on every
 * IAM request that is not a read, so a policy changed through it (the planted problems) is seen; one
 * changed by a client talking to moto directly is not.
 */
export function policySimulator(motoEndpoint: string): PolicySimulator {
  const iam = new IAMClient({ region: 'us-east-1', endpoint: motoEndpoint, credentials: EMULATOR_CREDENTIALS });
  let read = new Map<string, Promise<{ name: string; document: PolicyDocument }[] | null>>();
  const policiesOf = (roleArn: string) => {
    let policies = read.get(roleArn);
    if (!policies) {
      policies = rolePolicies(iam, roleArn);
      read.set(roleArn, policies);
      // A failed read is not remembered.
      policies.catch(() => read.delete(roleArn));
    }
    return policies;
  };
  return {
    answer: async (body) => {
      const form = new URLSearchParams(body);
      const roleArn = form.get('PolicySourceArn') ?? '';
      const actions = members(form, 'ActionNames');
      const resources = members(form, 'ResourceArns');
      const context: Record<string, string | string[]> = {};
      for (let n = 1; form.has(`ContextEntries.member.${n}.ContextKeyName`); n += 1) {
        const values = members(form, `ContextEntries.member.${n}.ContextKeyValues`);
        const type = form.get(`ContextEntries.member.${n}.ContextKeyType`) ?? 'string';
        context[form.get(`ContextEntries.member.${n}.ContextKeyName`) as string] = type.endsWith('List') ? values : (values[0] ?? '');
      }
      const policies = await policiesOf(roleArn);
      if (!policies) {
        return {
          status: 404,
          body:
            '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>' +
            `<Message>The role with name ${xml(roleArn.split('/').pop() ?? roleArn)} cannot be found.</Message></Error><RequestId>local-simulation</RequestId></ErrorResponse>`,
        };
      }
      const accountId = roleArn.split(':')[4] ?? '123456789012';
      const results: string[] = [];
      for (const action of actions) {
        for (const resource of resources.length ? resources : ['*']) {
          const decision = await evaluateIdentityPolicies(policies, { principal: roleArn, action, resource, accountId, context });
          results.push(`<member><EvalActionName>${xml(action)}</EvalActionName><EvalResourceName>${xml(resource)}</EvalResourceName><EvalDecision>${decision}</EvalDecision><MatchedStatements/><MissingContextValues/></member>`);
        }
      }
      return {
        status: 200,
        body:
          '<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult>' +
          `<IsTruncated>false</IsTruncated><EvaluationResults>${results.join('')}</EvaluationResults></SimulatePrincipalPolicyResult>` +
          '<ResponseMetadata><RequestId>local-simulation</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>',
      };
    },
    forget: () => {
      read = new Map();
    },
    stop: () => iam.destroy(),
  };
}
