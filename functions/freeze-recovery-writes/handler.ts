// Region failback: the recovery-region database stops taking writes for the final delta (reads still
// served), proven by a refused write.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { freezeRecoveryWrites } from '../../shared/failback-data.js';
import type { FailoverRecord } from '../../shared/failback-record.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

interface FreezeEvent {
  run: RunContext;
  record: FailoverRecord;
  /** The recovery-region instance's endpoint, as StartBaselineSnapshot found it. */
  endpoint: { host: string; port: number } | null;
}

export const handler = recoveryHandler(async (event: FreezeEvent) => {
  const config = deploymentConfigFromEnvironment();
  await ensureOwnsRecovery(config, event.run, 'FreezeRecoveryWrites');
  return runStep(() => freezeRecoveryWrites(config, event.record, event.endpoint, event.run, { secrets: secretsClient(config.recoveryRegion) }, () => new Date()));
});
