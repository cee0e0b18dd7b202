// Region failback: every table of the frozen recovery-region database has as many rows in the new
// primary-region instance (exact counts), before the application moves there.
import { secretsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { FailoverRecord } from '../../shared/failback-record.js';
import { verifyFailbackData, type FreezeData } from '../../shared/failback-data.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface VerifyEvent {
  run: RunContext;
  record: FailoverRecord;
  endpoint: { host: string; port: number } | null;
  freeze: Pick<FreezeData, 'endpoint'>;
}

export const handler = recoveryHandler(async (event: VerifyEvent) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => verifyFailbackData(config, event.record, event.endpoint, event.freeze, event.run, { secrets: secretsClient(config.recoveryRegion) }));
});
