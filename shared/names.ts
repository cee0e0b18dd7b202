// Names the stack and the functions must agree on (IAM policies are scoped by these patterns).

/**
 * Stem of a scratch restore-test instance identifier: the database name made RDS-safe (letters,
 * digits, single hyphens, at most 40 characters). The full name is `<stem>-drtest-<hash>`.
 */
export function scratchInstanceStem(database: string): string {
  const safe = database
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '');
  // RDS identifiers must start with a letter.
  return (/^[a-z]/.test(safe) ? safe : `db-${safe}`).slice(0, 40).replace(/-+$/, '');
}
