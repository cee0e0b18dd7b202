// One look at the region-failure alarm in the recovery region per loop of the state machine's
// Wait/Choice: confirmed once it has stayed in ALARM for regionFailover.detection.confirmationMinutes;
// cleared (the run ends with no change) when it left ALARM.
import { cloudWatchClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { confirmOutage } from '../../shared/region-confirmation.js';
import { startedByAlarm, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  return runStep(() => confirmOutage(config, startedByAlarm(event.run) ? event.run.incidentAt : null, cloudWatchClient(config.recoveryRegion), new Date()));
});
