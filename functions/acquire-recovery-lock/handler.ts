// First action of a database recovery: become the one recovery of this database, or learn which
// execution already is. Also tells a re-run which incident it resumes.
import { DescribeExecutionCommand, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import { dynamoClient, stepFunctionsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { requiredEnvironment } from '../../shared/environment.js';
import { awsCall } from '../../shared/errors.js';
import { databaseLockTarget, incidentIdFor } from '../../shared/names.js';
import { acquireRecoveryLock } from '../../shared/recovery-lock.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface AcquireEvent {
  run: RunContext;
}

interface LockData {
  acquired: boolean;
  incidentId: string;
  incidentAt?: string;
  previousReplicas?: number | null;
  resumed?: boolean;
  heldBy?: string;
}

const table = requiredEnvironment('RECOVERY_LOCK_TABLE');

export const handler = recoveryHandler(async (event: AcquireEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const sfn = stepFunctionsClient(config.recoveryRegion);
  const isRunning = async (executionArn: string) => {
    try {
      const answer = await awsCall('states:DescribeExecution', executionArn, () => sfn.send(new DescribeExecutionCommand({ executionArn })));
      return answer.status === 'RUNNING';
    } catch (error) {
      if (error instanceof Error && error.cause instanceof ExecutionDoesNotExist) return false;
      throw error;
    }
  };
  return runStep<LockData>(async () => {
    const target = databaseLockTarget(request.database);
    // A dry run never takes the lock: it changes nothing, so it must not block a real recovery.
    if (event.run.dryRun) {
      return { data: { acquired: true, incidentId: incidentIdFor(event.run.incidentAt), incidentAt: event.run.incidentAt, previousReplicas: null, resumed: false }, detail: 'dry run: lock not taken' };
    }
    const outcome = await acquireRecoveryLock(dynamoClient(config.recoveryRegion), table, {
      target,
      owner: event.run.executionId,
      incidentId: incidentIdFor(event.run.incidentAt),
      incidentAt: event.run.incidentAt,
      incidentGiven: event.run.incidentGiven,
      now: new Date(),
      isRunning,
    });
    if (!outcome.acquired) {
      return {
        data: { acquired: false, heldBy: outcome.heldBy, incidentId: outcome.incidentId },
        status: 'skipped' as const,
        detail: `execution ${outcome.heldBy} already owns the recovery of ${request.database} (since ${outcome.since}): this start changes nothing`,
      };
    }
    const { lock } = outcome;
    return {
      data: { acquired: true, incidentId: lock.incidentId, incidentAt: lock.incidentAt, previousReplicas: lock.previousReplicas, resumed: outcome.resumed },
      detail: outcome.supersededIncident
        ? `recovery of incident ${lock.incidentId}; it supersedes the unfinished recovery of incident ${outcome.supersededIncident} by ${outcome.takenOverFrom} (whose replica count is kept)`
        : outcome.takenOverFrom
        ? `resuming the recovery of incident ${lock.incidentId} left unfinished by ${outcome.takenOverFrom}`
        : outcome.resumed
          ? `this execution already owned the recovery of ${request.database}`
          : `recovery of ${request.database} for incident ${lock.incidentId} is this execution's`,
    };
  });
});
