// Read-only through the damaged instance's own parameter group (readOnlyMode: parameter-group): the
// RDS way to do what the plan's ALTER SYSTEM meant. Skipped in alter-database mode. Kept apart from
// the step that connects to the database so that neither bundle carries both RDS and the driver.
// It decides the mode the next step uses: when the instance turns out to use another group than
// recovery.readOnlyParameterGroup (the only one IAM lets it modify), it falls back to ALTER DATABASE
// rather than failing the recovery with the API already stopped; the report says why.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, findDatabase } from '../../shared/config.js';
import { readOnlyParameterGroupProblem, recoveryConfig, setReadOnlyParameter, type ReadOnlyMode } from '../../shared/database-recovery.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface SetReadOnlyParameterEvent {
  run: RunContext;
  /** The damaged instance's own parameter group, from AssessDatabase. */
  sourceParameterGroup: string | null;
}

export const handler = recoveryHandler(async (event: SetReadOnlyParameterEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  const recovery = recoveryConfig(database);
  return runStep<{ applied: boolean; mode: ReadOnlyMode }>(async () => {
    if (recovery.readOnlyMode !== 'parameter-group') {
      return { data: { applied: false, mode: 'alter-database' }, status: 'skipped', detail: 'readOnlyMode is alter-database: the next step sets read-only mode in the database itself' };
    }
    const group = event.sourceParameterGroup;
    const problem = readOnlyParameterGroupProblem(database, group);
    if (problem || !group) {
      return { data: { applied: false, mode: 'alter-database' }, status: 'skipped', detail: `${problem}: the next step uses ALTER DATABASE instead` };
    }
    const action: Action = {
      description: `set default_transaction_read_only=1 in ${database.name}'s parameter group ${group} (new sessions start read-only)`,
      service: 'rds',
      operation: 'ModifyDBParameterGroup',
      parameters: { DBParameterGroupName: group, Parameters: [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1', ApplyMethod: 'immediate' }] },
      performed: false,
    };
    if (event.run.dryRun) return { data: { applied: false, mode: 'parameter-group' }, actions: [action] };
    await setReadOnlyParameter(rdsClient(config.primaryRegion), config.primaryRegion, group);
    return {
      data: { applied: true, mode: 'parameter-group' },
      actions: [{ ...action, performed: true }],
      detail: `default_transaction_read_only=1 in ${group}: new sessions of every instance using it start read-only`,
    };
  });
});
