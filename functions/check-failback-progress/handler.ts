// Region failback's looks, which change nothing: one look per loop of a Wait/Choice at what it waits for
// in RDS (a snapshot or its cross-region copy: `snapshot`; the instance restored in the primary region:
// `restore`), and at the end the summary (`summary`): what moved, and how long writes were frozen.
// One function for all of them keeps the state machine's role within IAM's size limit.
import { rdsClient } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import type { FreezeData } from '../../shared/failback-data.js';
import type { FailoverRecord } from '../../shared/failback-record.js';
import { checkFailbackSnapshot, checkPrimaryRestore, summariseFailback, type PrimaryRestore, type SnapshotRef } from '../../shared/region-failback.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

type ProgressEvent =
  | { run: RunContext; snapshot: SnapshotRef }
  | { run: RunContext; record: FailoverRecord; restore: PrimaryRestore }
  | { run: RunContext; record: FailoverRecord; summary: { freeze: Pick<FreezeData, 'frozenAt'>; data: { tables: number; rows: number } | null } };

export const handler = recoveryHandler(async (event: ProgressEvent) => {
  if ('summary' in event) return runStep(async () => summariseFailback(event.record, event.summary.freeze, event.summary.data, event.run, new Date()));
  const config = deploymentConfigFromEnvironment();
  if ('restore' in event) return runStep(() => checkPrimaryRestore(rdsClient(event.record.primaryRegion), config, event.record, event.restore, new Date()));
  return runStep(() => checkFailbackSnapshot(rdsClient(event.snapshot.region), config, event.snapshot, new Date()));
});
