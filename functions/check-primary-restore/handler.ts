// Region failback: one look at the instance restored in the primary region per loop of the Wait/Choice
// (the same look as database recovery's, with the next look's delay).
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { checkDatabaseRestore } from '../../shared/database-recovery.js';
import type { FailoverRecord } from '../../shared/failback-record.js';
import { MAX_POLL_SECONDS, type PrimaryRestore } from '../../shared/region-failback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext; record: FailoverRecord; restore: PrimaryRestore }) => {
  const config = deploymentConfigFromEnvironment();
  const { record, restore } = event;
  if (restore.dryRun) {
    return runStep(async () => ({ data: { instanceId: restore.instanceId, status: 'dry-run', available: true, endpoint: null, waitedMinutes: 0, nextCheckSeconds: 0 }, status: 'skipped' as const, detail: 'dry run: nothing to wait for' }));
  }
  return runStep(async () => {
    const look = await checkDatabaseRestore(findDatabase(config, record.database.name), restore.instanceId, record.primaryRegion, restore.startedAt, rdsClient(record.primaryRegion), new Date());
    return { ...look, data: { ...look.data, nextCheckSeconds: look.data.available ? 0 : MAX_POLL_SECONDS } };
  });
});
