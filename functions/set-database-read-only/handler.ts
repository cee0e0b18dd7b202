// Read-only mode on the damaged instance (the plan's ALTER SYSTEM is refused on RDS), verified by a
// write that must fail; shared/read-only.ts decides what each answer of the database means.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import type { ReadOnlyMode } from '../../shared/database-recovery.js';
import { makeDamagedDatabaseReadOnly } from '../../shared/read-only.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface SetReadOnlyEvent {
  run: RunContext;
  /** The damaged instance's endpoint, from AssessDatabase; null when it has none (e.g. it is stopped). */
  sourceEndpoint: { host: string; port: number } | null;
  /** How SetReadOnlyParameter said writes are stopped: it falls back to alter-database when the group cannot be used. */
  mode: ReadOnlyMode;
}

export const handler = recoveryHandler(async (event: SetReadOnlyEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  // Before any change: a superseded execution (or a redriven step of one) changes nothing.
  await ensureOwnsRecovery(config, event.run, 'SetDatabaseReadOnly');
  return runStep(() =>
    makeDamagedDatabaseReadOnly(config, database, { mode: event.mode, sourceEndpoint: event.sourceEndpoint, dryRun: event.run.dryRun }, { secrets: secretsClient(config.recoveryRegion) }),
  );
});
