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
