// Region failback's first read: the named region-failover run's report (reports bucket, recovery
// region) and the record it left for a failback; a report that cannot be failed back from is refused,
// naming it, before anything changes.
import { s3Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { loadFailoverRecord } from '../../shared/failback-record.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => loadFailoverRecord(s3Client(config.recoveryRegion), config, event.run));
});
