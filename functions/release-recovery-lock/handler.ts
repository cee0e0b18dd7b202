// Two ends of a recovery's lock. `completed` (the last action of a successful recovery): the lock
// becomes the record of a completed recovery and of what now serves, which a later alarm reads.
// `unchanged` (a check before the first change failed): a lock taken fresh is given back. A failed
// run that changed something keeps the lock on purpose, so a re-run resumes it.
import { clusterFor, deploymentConfigFromEnvironment } from '../../shared/config.js';
import { InvalidInput } from '../../shared/errors.js';
import { completeRecoveryStep, lockClaimFor, releaseUnchangedStep, type RecoveryClaim } from '../../shared/recovery-lock.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { lockStore } from '../common/recovery-lock.js';

interface ReleaseEvent {
  run: RunContext;
  /** Default `completed`. */
  outcome?: 'completed' | 'unchanged';
  /** `unchanged`: AcquireRecoveryLock's answer (was the lock taken fresh?). */
  claim?: Pick<RecoveryClaim, 'fresh' | 'resumed'>;
  /** `completed` in database-recovery: the restored instance, which serves now. */
  servingInstance?: string | null;
}

export const handler = recoveryHandler(async (event: ReleaseEvent) => {
  const config = deploymentConfigFromEnvironment();
  const claim = lockClaimFor(config, event.run);
  if (!claim) throw new InvalidInput(`run.scenario: ${event.run.scenario} takes no recovery lock`);
  const store = lockStore(config);
  if (event.outcome === 'unchanged') return runStep(() => releaseUnchangedStep(store, event.run, claim.target, event.claim ?? { fresh: false, resumed: true }));
  const serving = event.servingInstance ?? (event.run.scenario === 'cluster-failover' ? clusterFor(config, 'backup').name : null);
  return runStep(() => completeRecoveryStep(store, event.run, claim.target, serving, new Date()));
});
