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
