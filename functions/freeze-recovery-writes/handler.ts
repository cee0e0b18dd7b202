// Region failback: the recovery-region database stops taking writes for the final delta (reads still
// served), proven by a refused write.
import { rdsClient, secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { freezeRecoveryWrites, type FailoverRecord } from '../../shared/region-failback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';
import { ensureOwnsRecovery } from '../common/recovery-lock.js';

export const handler = recoveryHandler(async (event: { run: RunContext; record: FailoverRecord }) => {
  const config = deploymentConfigFromEnvironment();
  await ensureOwnsRecovery(config, event.run, 'FreezeRecoveryWrites');
  const deps = { rds: rdsClient(event.record.recoveryRegion), secrets: secretsClient(config.recoveryRegion) };
  return runStep(() => freezeRecoveryWrites(config, event.record, event.run, deps, () => new Date()));
});
