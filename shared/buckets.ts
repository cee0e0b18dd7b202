// Application-data bucket checks: versioning (so a bad write or delete can be undone), replication to
// the recovery region (so the data survives the region), and lifecycle rules that keep objects at
// least as long as the plan's retention.
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  type LifecycleRule,
  type ReplicationRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BucketConfig } from './config.js';
import { awsCall, AwsAccessDenied, classifyAwsError, ResourceNotFound } from './errors.js';
import type { Check } from './report.js';
import type { StepResult } from './steps.js';

// S3 answers these "nothing configured" cases with an error; for a check they are a finding.
const NO_REPLICATION = 'ReplicationConfigurationNotFoundError';
const NO_LIFECYCLE = 'NoSuchLifecycleConfiguration';

async function optional<T>(call: string, resource: string, absentName: string, send: () => Promise<T>): Promise<T | null> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof Error && error.name === absentName) return null;
    throw classifyAwsError(error, call, resource);
  }
}

/** `s3:GetBucketLocation` answers an empty constraint for us-east-1 (and `EU` for old eu-west-1 buckets). */
export function normaliseBucketRegion(constraint: string | undefined | null): string {
  if (!constraint) return 'us-east-1';
  if (constraint === 'EU') return 'eu-west-1';
  return constraint;
}

/**
 * VerifyBuckets: every configured bucket's checks (verifyBucket), one bucket after the other, in config
 * order. Read-only. `data.buckets` names the buckets checked; `detail` counts the passed checks;
 * `status: 'skipped'` when the deployment configures no bucket.
 *
 * AWS (per bucket, in its own region): s3:GetBucketVersioning, s3:GetBucketReplication,
 * s3:GetBucketLocation (replication destination), s3:GetBucketLifecycleConfiguration.
 * Throws what verifyBucket throws: AwsTransientError (throttling, 5xx, timeouts), AwsAccessDenied,
 * ResourceNotFound (an unexpected not-found answer); a missing bucket is a failed check, not an error.
 *
 * @param s3ForRegion An S3 client for a region (shared/clients.ts s3Client).
 */
export async function verifyBuckets(buckets: readonly BucketConfig[], s3ForRegion: (region: string) => S3Client): Promise<StepResult<{ buckets: string[] }>> {
  const checks: Check[] = [];
  for (const bucket of buckets) checks.push(...(await verifyBucket(bucket, s3ForRegion)));
  return {
    data: { buckets: buckets.map((b) => b.name) },
    checks,
    detail: buckets.length === 0 ? 'no bucket configured' : `${checks.filter((c) => c.passed).length}/${checks.length} checks passed`,
    ...(buckets.length === 0 ? { status: 'skipped' as const } : {}),
  };
}

/**
 * One bucket's checks: versioning (when required), replication to `replicationRegion` (when set) and
 * retention by its lifecycle rules. Read-only; a missing bucket is one failed `bucket-exists` check.
 * AWS and errors: as verifyBuckets.
 */
export async function verifyBucket(bucket: BucketConfig, s3ForRegion: (region: string) => S3Client): Promise<Check[]> {
  const s3 = s3ForRegion(bucket.region);
  const resource = `s3://${bucket.name} (${bucket.purpose})`;
  const checks: Check[] = [];

  let versioning;
  try {
    versioning = await awsCall('s3:GetBucketVersioning', bucket.name, () => s3.send(new GetBucketVersioningCommand({ Bucket: bucket.name })));
  } catch (error) {
    if (!(error instanceof ResourceNotFound)) throw error;
    return [
      {
        name: 'bucket-exists',
        resource,
        measured: 'not found',
        target: 'bucket exists',
        passed: false,
        message: `Bucket ${bucket.name} does not exist in ${bucket.region}: fix the name in the deployment config or create it.`,
      },
    ];
  }
  if (bucket.requireVersioning) {
    const status = versioning.Status ?? 'never enabled';
    checks.push({
      name: 'bucket-versioning',
      resource,
      measured: status,
      target: 'Enabled',
      passed: status === 'Enabled',
      message:
        status === 'Enabled'
          ? 'Versioning is enabled.'
          : `Versioning is ${status}: overwritten or deleted objects cannot be recovered, and replication needs it. aws s3api put-bucket-versioning --bucket ${bucket.name} --versioning-configuration Status=Enabled`,
    });
  }

  if (bucket.replicationRegion) {
    checks.push(await checkReplication(bucket, bucket.replicationRegion, s3, s3ForRegion(bucket.replicationRegion), resource));
  }

  const lifecycle = await optional('s3:GetBucketLifecycleConfiguration', bucket.name, NO_LIFECYCLE, () =>
    s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket.name })),
  );
  checks.push(checkRetention(bucket, lifecycle?.Rules ?? [], resource));
  return checks;
}

async function checkReplication(
  bucket: BucketConfig,
  expectedRegion: string,
  s3: S3Client,
  destinationS3: S3Client,
  resource: string,
): Promise<Check> {
  const target = `enabled rule replicating to a bucket in ${expectedRegion}`;
  const replication = await optional('s3:GetBucketReplication', bucket.name, NO_REPLICATION, () =>
    s3.send(new GetBucketReplicationCommand({ Bucket: bucket.name })),
  );
  const rules: ReplicationRule[] = (replication?.ReplicationConfiguration?.Rules ?? []).filter((r) => r.Status === 'Enabled');
  if (rules.length === 0) {
    return {
      name: 'bucket-replication',
      resource,
      measured: replication ? 'all rules disabled' : 'no replication configuration',
      target,
      passed: false,
      message: `Bucket ${bucket.name} is not replicated: its data would be lost with ${bucket.region}. Configure cross-region replication to ${expectedRegion}.`,
    };
  }
  const destinations: string[] = [];
  for (const rule of rules) {
    const arn = rule.Destination?.Bucket ?? '';
    const name = arn.replace(/^arn:aws[a-z-]*:s3:::/, '');
    if (!name) continue;
    let region: string;
    try {
      const location = await awsCall('s3:GetBucketLocation', name, () => destinationS3.send(new GetBucketLocationCommand({ Bucket: name })));
      region = normaliseBucketRegion(location.LocationConstraint);
    } catch (error) {
      // A deleted destination, or one in another account we may not read, is a finding about this
      // bucket's replication, not a reason to stop verifying.
      if (error instanceof ResourceNotFound) {
        destinations.push(`${name} (does not exist)`);
        continue;
      }
      if (error instanceof AwsAccessDenied) {
        destinations.push(`${name} (region unknown: access denied)`);
        continue;
      }
      throw error;
    }
    destinations.push(`${name} (${region})`);
    if (region === expectedRegion) {
      return {
        name: 'bucket-replication',
        resource,
        measured: `replicating to ${name} in ${region}`,
        target,
        passed: true,
        message: `Objects replicate to ${name} in ${region}.`,
      };
    }
  }
  return {
    name: 'bucket-replication',
    resource,
    measured: `replicating to ${destinations.join(', ') || 'no destination'}`,
    target,
    passed: false,
    message: `Bucket ${bucket.name} replicates, but not to ${expectedRegion}: a failover there would not find the data.`,
  };
}

function expiryDays(rule: LifecycleRule): number[] {
  const days: number[] = [];
  if (rule.Expiration?.Days !== undefined) days.push(rule.Expiration.Days);
  if (rule.NoncurrentVersionExpiration?.NoncurrentDays !== undefined) days.push(rule.NoncurrentVersionExpiration.NoncurrentDays);
  return days;
}

/** Retention is met when no enabled rule deletes objects (current or previous versions) sooner. */
function checkRetention(bucket: BucketConfig, rules: LifecycleRule[], resource: string): Check {
  const expiries = rules.filter((r) => r.Status === 'Enabled').flatMap(expiryDays);
  const shortest = expiries.length ? Math.min(...expiries) : null;
  const passed = shortest === null || shortest >= bucket.retentionDays;
  return {
    name: 'bucket-retention',
    resource,
    measured: shortest === null ? 'no expiration rule (kept indefinitely)' : `shortest expiration ${shortest} days`,
    target: `objects kept >= ${bucket.retentionDays} days`,
    passed,
    message: passed
      ? shortest === null
        ? `No lifecycle rule expires objects; they are kept at least ${bucket.retentionDays} days.`
        : `Lifecycle rules keep objects ${shortest} days or more.`
      : `A lifecycle rule deletes objects after ${shortest} days, before the ${bucket.retentionDays}-day retention: raise its expiration.`,
  };
}
