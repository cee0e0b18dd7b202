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
  return runStep(async () => {
    const result = await verifyDatabaseBackups(
      config,
      database,
      { primary: rdsClient(config.primaryRegion), recovery: rdsClient(config.recoveryRegion) },
      new Date(),
    );
    return {
      data: { database: result.database, newestSnapshot: result.newestSnapshot, newestRecoveryCopy: result.newestRecoveryCopy },
      checks: result.checks,
      objectives: result.objectives,
      detail: `${result.checks.filter((c) => c.passed).length}/${result.checks.length} checks passed`,
    };
  });
});
