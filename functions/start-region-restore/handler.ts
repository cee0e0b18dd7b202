// Starts the database restore in the recovery region from the source Preflight chose; returns at once
// (the state machine waits). Re-running the same incident adopts the instance instead of restoring twice.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase, regionFailoverConfig } from '../../shared/config.js';
import { startRegionRestore, type RegionRestoreSource } from '../../shared/region-failover.js';
import type { RestoreSetting } from '../../shared/restore-settings.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface StartRegionRestoreEvent {
  run: RunContext;
  incidentId: string;
  source: RegionRestoreSource;
  settings: RestoreSetting[];
}

export const handler = recoveryHandler(async (event: StartRegionRestoreEvent) => {
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, regionFailoverConfig(config).database);
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'StartRegionRestore');
  const run = { incidentId: event.incidentId, executionId: event.run.executionId, dryRun: event.run.dryRun };
  return runStep(() => startRegionRestore(config, database, event.source, event.settings ?? [], run, rdsClient(config.recoveryRegion), new Date()));
});
