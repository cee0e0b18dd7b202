// Checks the configured backup and application-data buckets: versioning, cross-region replication,
// retention. Read-only.
import { verifyBucket } from '../../shared/buckets.js';
import { s3Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { Check } from '../../shared/report.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface VerifyBucketsEvent {
  run: RunContext;
}

export const handler = recoveryHandler(async (_event: VerifyBucketsEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(async () => {
    const checks: Check[] = [];
    for (const bucket of config.buckets) checks.push(...(await verifyBucket(bucket, s3Client)));
    return {
      data: { buckets: config.buckets.map((b) => b.name) },
      checks,
      detail: `${checks.filter((c) => c.passed).length}/${checks.length} checks passed`,
      ...(config.buckets.length === 0 ? { status: 'skipped' as const } : {}),
    };
  });
});
