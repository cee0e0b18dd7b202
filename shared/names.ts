// Every name the functions generate and something else must agree on: the IAM resource patterns the
// stack grants (deploy/deployment-config.cjs loads this file), the tags an IAM condition or a later
// step checks, the recovery lock's key, and the local environment's endpoint routing (local/).
// Change a rule here and every side follows; test/unit/names.test.ts and test/package/ hold them to it.
//
// Plain functions and constants only (no AWS SDK, no config): deploy/ bundles this file with esbuild
// at package time.
import { createHash } from 'node:crypto';

/** RDS DB instance identifiers: at most 63 characters, a letter first, letters/digits/hyphens, no `--`, no trailing `-`. */
export const RDS_IDENTIFIER_MAX_LENGTH = 63;

/** `incidentIdFor()`'s length: minutes precision, `YYYYMMDDhhmm`. */
export const INCIDENT_ID_LENGTH = 12;

const RESTORED_INFIX = '-r-';
const SCRATCH_INFIX = '-drtest-';
const SCRATCH_HASH_LENGTH = 10;
/** Room left for the database part of a restored instance id: 63 - 3 - 12 = 48. */
export const RESTORED_STEM_MAX_LENGTH = RDS_IDENTIFIER_MAX_LENGTH - RESTORED_INFIX.length - INCIDENT_ID_LENGTH;
const SCRATCH_STEM_MAX_LENGTH = 40;
/** A stem cut short ends in `-<this many hex digits of the name's hash>`, so two long names never share it. */
const SHORTENED_HASH_LENGTH = 6;

// Tags the functions put on what they create; IAM conditions and later steps read them back.
/** `true` on a scratch restore-test instance; the only instances the cleanup role may delete carry it. */
export const SCRATCH_TAG = 'frontier-dr:scratch';
/** The Step Functions execution ARN that created the resource. */
export const EXECUTION_TAG = 'frontier-dr:execution';
export const PURPOSE_TAG = 'frontier-dr:purpose';
/** The snapshot a scratch instance was restored from. */
export const SNAPSHOT_TAG = 'frontier-dr:snapshot';
/** The configured database name a scratch instance tests. */
export const DATABASE_TAG = 'frontier-dr:database';
/** The incident id a restored instance belongs to. */
export const INCIDENT_TAG = 'frontier-dr:incident';
/** The source instance a restored instance was restored from. */
export const SOURCE_TAG = 'frontier-dr:restored-from';

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * `name` made an RDS-safe identifier prefix: lower-case, letters/digits/single hyphens, a letter first
 * (`db-` prepended otherwise). Callers cut it to length and trim a trailing hyphen.
 */
function rdsSafe(name: string): string {
  const safe = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '');
  return /^[a-z]/.test(safe) ? safe : `db-${safe}`;
}

/** A readable incident id that names what is restored: `202611251204` for 2026-11-25T12:04Z (an ISO time). */
export function incidentIdFor(incidentAt: string): string {
  return incidentAt.replace(/[-:T]/g, '').slice(0, INCIDENT_ID_LENGTH);
}

/**
 * The database part of a restored instance id (and of its IAM pattern). A database name that fits
 * (48 characters, RDS-safe) is kept as is, lower-cased; a longer one keeps its first 41 characters and
 * ends in `-<6 hex digits of sha256(lower-cased name)>`, so two long names with a common start differ.
 */
export function restoredInstanceStem(database: string): string {
  const safe = rdsSafe(database).replace(/-+$/, '');
  if (safe.length <= RESTORED_STEM_MAX_LENGTH) return safe;
  const keep = RESTORED_STEM_MAX_LENGTH - 1 - SHORTENED_HASH_LENGTH;
  return `${safe.slice(0, keep).replace(/-+$/, '')}-${shortHash(database.toLowerCase(), SHORTENED_HASH_LENGTH)}`;
}

/**
 * `<database>-r-<incident id>` (e.g. `frontier-prod-r-202611251204`): the DB instance identifier a
 * database recovery restores to. The same incident always gets the same new identifier (a re-run finds
 * its instance), never the source's; at most 63 characters. `incidentId` comes from `incidentIdFor()`.
 */
export function restoredInstanceId(database: string, incidentId: string): string {
  return `${restoredInstanceStem(database)}${RESTORED_INFIX}${incidentId}`;
}

/**
 * The IAM resource name (after `db:`) matching every `restoredInstanceId(database, *)`: `<stem>-r-*`.
 * deploy/deployment-config.cjs scopes the restore and describe permissions with it.
 */
export function restoredInstancePattern(database: string): string {
  return `${restoredInstanceStem(database)}${RESTORED_INFIX}*`;
}

/**
 * Matches the endpoint host of any restored instance
 * (`frontier-prod-r-202611251204.aaaaaaaaaa.us-west-2.rds.amazonaws.com`); the local environment routes
 * those to the "restored" PostgreSQL server.
 */
export const RESTORED_INSTANCE_HOST = new RegExp(`^[a-z](?:-?[a-z0-9])*${RESTORED_INFIX}\\d{${INCIDENT_ID_LENGTH}}\\.`);

/**
 * Stem of a scratch restore-test instance identifier: the database name made RDS-safe (letters,
 * digits, single hyphens, at most 40 characters). The full name is `<stem>-drtest-<hash>`.
 */
export function scratchInstanceStem(database: string): string {
  return rdsSafe(database).slice(0, SCRATCH_STEM_MAX_LENGTH).replace(/-+$/, '');
}

/**
 * `<database>-drtest-<10 hex digits of sha256(execution ARN)>`: the scratch instance a restore test
 * creates. The same execution always gets the same name (a retried or redriven step finds its
 * instance), two executions never share one; at most 58 characters.
 */
export function scratchInstanceId(database: string, executionId: string): string {
  return `${scratchInstanceStem(database)}${SCRATCH_INFIX}${shortHash(executionId, SCRATCH_HASH_LENGTH)}`;
}

/** The IAM resource name (after `db:`) matching every `scratchInstanceId(database, *)`: `<stem>-drtest-*`. */
export function scratchInstancePattern(database: string): string {
  return `${scratchInstanceStem(database)}${SCRATCH_INFIX}*`;
}

/** The recovery lock item's key (`target`) for a database's recovery, `database/<name>`; the README's manual release names it too. */
export function databaseLockTarget(database: string): string {
  return `database/${database}`;
}

/** The recovery lock item's key for a cluster failover, `cluster/<primary cluster name>`: one failover of a cluster at a time. */
export function clusterLockTarget(cluster: string): string {
  return `cluster/${cluster}`;
}

/**
 * The recovery lock item's key for a region failover and its failback, `region/<primary region>`: one
 * recovery of a region at a time, failover or failback.
 */
export function regionLockTarget(primaryRegion: string): string {
  return `region/${primaryRegion}`;
}

/**
 * The recovery lock item's key for a security incident response, `security-incident/<deployment>`: one
 * response at a time per deployment (two would rotate the same keys and patch the same API at once).
 */
export function securityIncidentLockTarget(deployment: string): string {
  return `security-incident/${deployment}`;
}

/** RDS snapshot identifiers: at most 255 characters, a letter first, letters/digits/hyphens. */
const SNAPSHOT_ID_MAX_LENGTH = 255;

/**
 * `<database>-failback-<execution hash>-<phase>`: the snapshot a region failback takes of the
 * recovery-region instance (and the name of its copy in the primary region). The same execution always
 * gets the same names, so a retried step finds its own snapshot instead of taking a second one.
 */
export function failbackSnapshotId(database: string, executionId: string, phase: 'baseline' | 'final'): string {
  const stem = restoredInstanceStem(database);
  return `${stem}-failback-${shortHash(executionId, SCRATCH_HASH_LENGTH)}-${phase}`.slice(0, SNAPSHOT_ID_MAX_LENGTH);
}

/** The IAM resource name (after `snapshot:`) matching every `failbackSnapshotId(database, *, *)`: `<stem>-failback-*`. */
export function failbackSnapshotPattern(database: string): string {
  return `${restoredInstanceStem(database)}-failback-*`;
}
