// Last action of a successful database recovery: let the next incident start its own. A failed run
// keeps the lock on purpose, so a re-run resumes it (and finds the replica count it must restore).
import { dynamoClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { databaseLockTarget } from '../../shared/names.js';
import { releaseRecoveryLock } from '../../shared/recovery-lock.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

const table = requiredEnvironment('RECOVERY_LOCK_TABLE');

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  return runStep(async () => {
    if (event.run.dryRun) return { data: { released: false }, detail: 'dry run: no lock was taken' };
    const released = await releaseRecoveryLock(dynamoClient(config.recoveryRegion), table, databaseLockTarget(request.database), event.run.executionId);
    return { data: { released }, detail: released ? 'recovery lock released' : 'this execution no longer held the lock' };
  });
});
