// Read-only through the damaged instance's own parameter group (readOnlyMode: parameter-group): the
// RDS way to do what the plan's ALTER SYSTEM meant. Skipped in alter-database mode. Kept apart from
// the step that connects to the database so that neither bundle carries both RDS and the driver.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { recoveryConfig, setReadOnlyParameter } from '../../shared/database-recovery.js';
import { InvalidConfig } from '../../shared/errors.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  const recovery = recoveryConfig(database);
  return runStep(async () => {
    if (recovery.readOnlyMode !== 'parameter-group') {
      return { data: { applied: false }, status: 'skipped' as const, detail: 'readOnlyMode is alter-database: the next step sets read-only mode in the database itself' };
    }
    if (!recovery.parameterGroup) throw new InvalidConfig(`databases ${database.name}: recovery.readOnlyMode is parameter-group but recovery.parameterGroup is not set`);
    const action: Action = {
      description: `set default_transaction_read_only=1 in parameter group ${recovery.parameterGroup} (new sessions start read-only)`,
      service: 'rds',
      operation: 'ModifyDBParameterGroup',
      parameters: { DBParameterGroupName: recovery.parameterGroup, Parameters: [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1', ApplyMethod: 'immediate' }] },
      performed: false,
    };
    if (event.run.dryRun) return { data: { applied: false }, actions: [action] };
    await setReadOnlyParameter(rdsClient(config.primaryRegion), config.primaryRegion, recovery.parameterGroup);
    return { data: { applied: true }, actions: [{ ...action, performed: true }] };
  });
});
