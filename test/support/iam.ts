// IAM resource-pattern semantics, for tests that hold generated names to the stack's policies.

/**
 * True when `value` matches an IAM resource `pattern` the way IAM compares them: `*` matches any
 * sequence of characters (also empty, also across `:` and `/`), `?` exactly one, everything else
 * itself, case-sensitively.
 */
export function iamWildcardMatches(pattern: string, value: string): boolean {
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** What a generated identifier breaks of RDS's DB instance identifier rules (empty: none). */
export function rdsIdentifierProblems(id: string): string[] {
  const problems: string[] = [];
  if (!/^[a-z]/.test(id)) problems.push('does not start with a letter');
  if (!/^[a-z0-9-]+$/.test(id)) problems.push('has characters other than a-z, 0-9 and -');
  if (id.includes('--')) problems.push('has two consecutive hyphens');
  if (id.endsWith('-')) problems.push('ends with a hyphen');
  if (id.length > 63) problems.push(`is ${id.length} characters long`);
  return problems;
}

// ---- a role's policies in a packaged template ----

/** An IAM policy statement as the template writes it. */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

interface PolicyDocument {
  Statement: Statement | Statement[];
}

/** The policy documents IAM holds for a role: inline (on the role or naming it) and managed by this template. */
export function policiesOf(resources: Record<string, TemplateResource>, roleLogicalId: string): { inline: PolicyDocument[]; managed: { logicalId: string; document: PolicyDocument }[] } {
  const role = resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`the template has no role ${roleLogicalId}`);
  const namesRole = (roles: unknown): boolean => [roles ?? []].flat().some((r) => (r as { Ref?: string }).Ref === roleLogicalId);
  const inline = ((role.Properties?.Policies ?? []) as { PolicyDocument: PolicyDocument }[]).map((p) => p.PolicyDocument);
  const managed: { logicalId: string; document: PolicyDocument }[] = [];
  const attachedArns = [role.Properties?.ManagedPolicyArns ?? []].flat().map((arn) => (arn as { Ref?: string }).Ref);
  for (const [logicalId, resource] of Object.entries(resources)) {
    const properties = resource.Properties ?? {};
    if ((resource.Type === 'AWS::IAM::Policy' && namesRole(properties.Roles)) || (resource.Type === 'AWS::IAM::RolePolicy' && (properties.RoleName as { Ref?: string } | undefined)?.Ref === roleLogicalId)) {
      inline.push(properties.PolicyDocument as PolicyDocument);
    }
    if (resource.Type === 'AWS::IAM::ManagedPolicy' && (namesRole(properties.Roles) || attachedArns.includes(logicalId))) {
      managed.push({ logicalId, document: properties.PolicyDocument as PolicyDocument });
    }
  }
  return { inline, managed };
}

/**
 * Every statement a role of the template is given, wherever it lives: its inline policies, inline
 * policy resources naming it, and the managed policies of the template attached to it (packaging
 * moves what does not fit inline into those: deploy/iam-policies.cjs). AWS managed policies attached
 * by ARN are not in the template, so not here.
 */
export function statementsOf(template: { Resources: Record<string, TemplateResource> }, roleLogicalId: string): Statement[] {
  const { inline, managed } = policiesOf(template.Resources, roleLogicalId);
  return [...inline, ...managed.map((m) => m.document)].flatMap((d) => [d.Statement].flat());
}

/** IAM's limits on what one role holds (characters counted without whitespace). */
export const IAM_LIMITS = { inlineAggregate: 10_240, managedPolicy: 6_144, managedPoliciesPerRole: 10 } as const;

/**
 * A policy document's size as IAM counts it: JSON without whitespace, after CloudFormation has filled
 * in the pseudo parameters (commercial partition, a 12-digit account, the stack's `region`) and, given
 * the template's `resources`, the ARNs of its functions (from their FunctionName). Any other intrinsic
 * (a Ref or GetAtt of a stack resource) counts as 256 characters, more than the ARNs here.
 */
export function iamPolicySize(document: unknown, region: string, resources: Record<string, TemplateResource> = {}): number {
  const unknown = 'x'.repeat(256);
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::AccountId': '123456789012', 'AWS::Region': region };
  // A function's ARN is spelled out by its FunctionName (what a state machine's role lists, twice per function).
  const functionArn = (logicalId: unknown): string | undefined => {
    const name = resources[String(logicalId)]?.Properties?.FunctionName;
    return resources[String(logicalId)]?.Type === 'AWS::Lambda::Function' && typeof name === 'string' ? `arn:aws:lambda:${region}:123456789012:function:${name}` : undefined;
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))) {
      if (key === 'Ref') return pseudo[argument as string] ?? unknown;
      if (key === 'Fn::GetAtt' && Array.isArray(argument) && argument[1] === 'Arn') return functionArn(argument[0]) ?? unknown;
      if (key === 'Fn::Sub') {
        const [text, variables = {}] = Array.isArray(argument) ? (argument as [unknown, Record<string, unknown>?]) : [argument];
        if (typeof text !== 'string') return unknown;
        return text.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
          const bound = Object.hasOwn(variables, name) ? resolve(variables[name]) : pseudo[name];
          return typeof bound === 'string' ? bound : unknown;
        });
      }
      return unknown;
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
  };
  return JSON.stringify(resolve(document)).length;
}

/** Every (effect, action, resource, condition) a list of statements allows or denies, one string each. */
export function grants(statements: readonly Statement[]): Set<string> {
  const list = (value: unknown): unknown[] => (value === undefined ? [] : [value].flat());
  return new Set(
    statements.flatMap((s) => list(s.Action).flatMap((action) => list(s.Resource).map((resource) => JSON.stringify([s.Effect, action, resource, s.Condition ?? null])))),
  );
}
