// Checks one protected database's snapshots, point-in-time recovery, encryption, retention and
// recovery-region copies. Read-only.
import { verifyDatabaseBackups } from '../../shared/backups.js';
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface VerifyDatabaseEvent {
  run: RunContext;
  database: string;
}

export const handler = recoveryHandler(async (event: VerifyDatabaseEvent) => {
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, event.database);
  const clients = { primary: rdsClient(config.primaryRegion), recovery: rdsClient(config.recoveryRegion) };
  return runStep(() => verifyDatabaseBackups(config, database, clients, new Date()));
});
