import {
  databaseLockTarget,
  incidentIdFor,
  INCIDENT_ID_LENGTH,
  RESTORED_INSTANCE_HOST,
  RESTORED_STEM_MAX_LENGTH,
  restoredInstanceId,
  restoredInstancePattern,
  restoredInstanceStem,
  scratchInstanceId,
  scratchInstancePattern,
} from '../../shared/names.js';
import { iamWildcardMatches, rdsIdentifierProblems } from '../support/iam.js';

const INCIDENT_ID = '202611251150';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-restore-test:weekly-2026-11-22';
const OTHER_EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-restore-test:weekly-2026-11-15';

// Every database name the config schema accepts is `^[a-zA-Z][a-zA-Z0-9-]{0,62}$` (shared/config.ts).
const SCHEMA_NAME = /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/;

/** Deterministic sample of names the schema accepts: every length 1..63, hyphens anywhere, mixed case. */
function schemaNames(count: number): string[] {
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const rest = `${letters}0123456789----`;
  return Array.from({ length: count }, (_, i) => {
    const length = (i % 63) + 1;
    let name = letters[next() % letters.length]!;
    while (name.length < length) name += rest[next() % rest.length]!;
    return name;
  });
}

const EDGE_NAMES: [string, string][] = [
  ['an ordinary name', 'frontier-prod'],
  ['upper case', 'Frontier-PROD'],
  ['a trailing hyphen', 'reporting-'],
  ['consecutive hyphens', 'billing--ledger---eu'],
  ['exactly 48 characters', `a${'b'.repeat(47)}`],
  ['49 characters', `a${'b'.repeat(48)}`],
  ['the longest name the schema allows (63)', `a${'b'.repeat(62)}`],
  ['a long name cut just after a hyphen', `${'c'.repeat(40)}-tail-of-a-very-long-database-name`],
  ['a long name cut inside a run of hyphens', `${'d'.repeat(38)}-----${'x'.repeat(19)}`],
  ['a long name ending in hyphens', `${'e'.repeat(50)}-------------`],
  ['a one-letter name', 'q'],
];

describe('incidentIdFor', () => {
  it.each([
    ['2026-11-25T12:04:00Z', '202611251204'],
    ['2026-11-25T12:04:37.123Z', '202611251204'],
    ['2026-01-02T03:04:59.999Z', '202601020304'],
  ])('names the incident at %s by its minute: %s', (incidentAt, id) => {
    expect(incidentIdFor(incidentAt)).toBe(id);
    expect(id).toHaveLength(INCIDENT_ID_LENGTH);
  });
});

describe('restoredInstanceId', () => {
  it('is <database>-r-<incident id>: derived from the database and the incident, never the source name itself', () => {
    expect(restoredInstanceId('frontier-prod', INCIDENT_ID)).toBe('frontier-prod-r-202611251150');
    expect(restoredInstanceId('frontier-prod', '202611251151')).not.toBe(restoredInstanceId('frontier-prod', INCIDENT_ID));
    expect(restoredInstanceId('Frontier-Prod', INCIDENT_ID)).toBe('frontier-prod-r-202611251150');
  });

  it('keeps a name of up to 48 characters whole (lower-cased), so existing restored instances keep their names', () => {
    const name = `Orders-${'x'.repeat(RESTORED_STEM_MAX_LENGTH - 7)}`;

    expect(name).toHaveLength(48);
    expect(restoredInstanceId(name, INCIDENT_ID)).toBe(`${name.toLowerCase()}-r-${INCIDENT_ID}`);
  });

  it.each(EDGE_NAMES)('is a valid RDS identifier for %s', (_label, name) => {
    const id = restoredInstanceId(name, INCIDENT_ID);

    expect(rdsIdentifierProblems(id)).toEqual([]);
    expect(id.endsWith(`-r-${INCIDENT_ID}`)).toBe(true);
  });

  it('is a valid RDS identifier of at most 63 characters, the same every time, for every name the config schema accepts', () => {
    const names = schemaNames(630);
    expect(names.every((n) => SCHEMA_NAME.test(n))).toBe(true);
    expect(new Set(names.map((n) => n.length)).size).toBe(63);

    const problems = names.flatMap((name) => {
      const id = restoredInstanceId(name, INCIDENT_ID);
      const found = rdsIdentifierProblems(id);
      if (restoredInstanceId(name, INCIDENT_ID) !== id) found.push('differs between calls');
      return found.length ? [`${name} -> ${id}: ${found.join(', ')}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('gives two long names that share their first 48 characters different identifiers', () => {
    const common = `warehouse-${'w'.repeat(40)}`;

    expect(restoredInstanceId(`${common}-eu`, INCIDENT_ID)).not.toBe(restoredInstanceId(`${common}-us`, INCIDENT_ID));
  });

  it('keeps the start of a long name readable so an operator can tell which database it restores', () => {
    const id = restoredInstanceId(`Analytics-Warehouse-${'x'.repeat(27)}-${'y'.repeat(15)}`, INCIDENT_ID);

    expect(id.startsWith('analytics-warehouse-xxx')).toBe(true);
    expect(id).toMatch(new RegExp(`^analytics-warehouse-x+-[0-9a-f]{6}-r-${INCIDENT_ID}$`));
  });
});

describe('restoredInstancePattern', () => {
  it('is <database>-r-* for an ordinary name', () => {
    expect(restoredInstancePattern('frontier-prod')).toBe('frontier-prod-r-*');
  });

  it.each(EDGE_NAMES)('matches the restored instance of %s under IAM wildcard rules', (_label, name) => {
    expect(iamWildcardMatches(restoredInstancePattern(name), restoredInstanceId(name, INCIDENT_ID))).toBe(true);
  });

  it('matches the restored instance of every name the config schema accepts', () => {
    const unmatched = schemaNames(630).filter((name) => !iamWildcardMatches(restoredInstancePattern(name), restoredInstanceId(name, INCIDENT_ID)));

    expect(unmatched).toEqual([]);
  });

  it('does not match the source instance itself, nor another database restored for the same incident', () => {
    expect(iamWildcardMatches(restoredInstancePattern('frontier-prod'), 'frontier-prod')).toBe(false);
    expect(iamWildcardMatches(restoredInstancePattern('frontier-prod'), restoredInstanceId('frontier-orders', INCIDENT_ID))).toBe(false);
  });

  it('is built from the same stem as the identifier', () => {
    const name = `a${'b'.repeat(62)}`;

    expect(restoredInstancePattern(name)).toBe(`${restoredInstanceStem(name)}-r-*`);
    expect(restoredInstanceId(name, INCIDENT_ID)).toBe(`${restoredInstanceStem(name)}-r-${INCIDENT_ID}`);
  });
});

describe('RESTORED_INSTANCE_HOST', () => {
  const host = (id: string) => `${id}.aaaaaaaaaa.us-west-2.rds.amazonaws.com`;

  it.each(EDGE_NAMES)('matches the endpoint of the restored instance of %s', (_label, name) => {
    expect(RESTORED_INSTANCE_HOST.test(host(restoredInstanceId(name, INCIDENT_ID)))).toBe(true);
  });

  it('matches no source instance and no scratch restore-test instance', () => {
    expect(RESTORED_INSTANCE_HOST.test(host('frontier-prod'))).toBe(false);
    expect(RESTORED_INSTANCE_HOST.test(host('frontier-r-prod'))).toBe(false);
    expect(RESTORED_INSTANCE_HOST.test(host(scratchInstanceId('frontier-prod', EXECUTION)))).toBe(false);
  });
});

describe('scratchInstanceId', () => {
  it('is the same for the same execution, so a retried step finds its instance', () => {
    expect(scratchInstanceId('frontier-prod', EXECUTION)).toBe(scratchInstanceId('frontier-prod', EXECUTION));
    expect(scratchInstanceId('frontier-prod', EXECUTION)).toMatch(/^frontier-prod-drtest-[0-9a-f]{10}$/);
  });

  it('differs between executions and between databases', () => {
    expect(scratchInstanceId('frontier-prod', EXECUTION)).not.toBe(scratchInstanceId('frontier-prod', OTHER_EXECUTION));
    expect(scratchInstanceId('frontier-prod', EXECUTION)).not.toBe(scratchInstanceId('frontier-orders', EXECUTION));
  });

  it.each([
    ...EDGE_NAMES,
    ['underscores', 'orders_db_main'],
    ['dots and underscores together', 'orders.db__main'],
    ['a leading digit', '1orders'],
  ])('is a valid RDS identifier for %s', (_label, name) => {
    const id = scratchInstanceId(name, EXECUTION);

    expect(rdsIdentifierProblems(id)).toEqual([]);
    expect(id).toContain('-drtest-');
    expect(iamWildcardMatches(scratchInstancePattern(name), id)).toBe(true);
  });

  it('is a valid RDS identifier matched by its IAM pattern for every name the config schema accepts', () => {
    const problems = schemaNames(630).flatMap((name) => {
      const id = scratchInstanceId(name, EXECUTION);
      const found = rdsIdentifierProblems(id);
      if (!iamWildcardMatches(scratchInstancePattern(name), id)) found.push(`not matched by ${scratchInstancePattern(name)}`);
      return found.length ? [`${name} -> ${id}: ${found.join(', ')}`] : [];
    });

    expect(problems).toEqual([]);
  });

  it('keeps the start of a long name readable so an operator can tell whose instance it is', () => {
    const id = scratchInstanceId(`Analytics-Warehouse_${'x'.repeat(50)}`, EXECUTION);

    expect(id.startsWith('analytics-warehouse-xxx')).toBe(true);
    expect(rdsIdentifierProblems(id)).toEqual([]);
  });

  it('is never matched by the restored-instance pattern of the same database (cleanup cannot reach a recovery)', () => {
    expect(iamWildcardMatches(restoredInstancePattern('frontier-prod'), scratchInstanceId('frontier-prod', EXECUTION))).toBe(false);
  });
});

describe('databaseLockTarget', () => {
  it('is database/<name>, the key the README tells an operator to delete by hand', () => {
    expect(databaseLockTarget('frontier-prod')).toBe('database/frontier-prod');
    expect(databaseLockTarget('frontier-orders')).not.toBe(databaseLockTarget('frontier-prod'));
  });
});
