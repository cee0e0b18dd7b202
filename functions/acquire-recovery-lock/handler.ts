// First action of a recovery (database-recovery, cluster-failover): become the one recovery of the
// protected target, or learn which execution already is, or that a recovery of it completed within
// the quiet period. Also tells a re-run which incident it resumes, and returns the run every later
// state reads (the lock's incident time, what serves now).
import { stepFunctionsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { InvalidInput } from '../../shared/errors.js';
import { claimRecovery, lockClaimFor } from '../../shared/recovery-lock.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { lockStore } from '../common/recovery-lock.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  const claim = lockClaimFor(config, event.run);
  if (!claim) throw new InvalidInput(`run.scenario: ${event.run.scenario} takes no recovery lock`);
  const store = lockStore(config);
  return runStep(() => claimRecovery(store, stepFunctionsClient(config.recoveryRegion), event.run, claim, new Date()));
});
