// Checks the configured backup and application-data buckets: versioning, cross-region replication,
// retention (shared/buckets.ts). Read-only.
import { verifyBuckets } from '../../shared/buckets.js';
import { s3Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface VerifyBucketsEvent {
  run: RunContext;
}

export const handler = recoveryHandler(async (_event: VerifyBucketsEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => verifyBuckets(config.buckets, s3Client));
});
