// Region failback's last step before the lock is released: what moved, and how long writes were frozen.
import type { FailoverRecord } from '../../shared/failback-record.js';
import { summariseFailback, type FreezeData } from '../../shared/failback-data.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface SummaryEvent {
  run: RunContext;
  record: FailoverRecord;
  freeze: Pick<FreezeData, 'frozenAt'>;
  data: { tables: number; rows: number } | null;
}

export const handler = recoveryHandler(async (event: SummaryEvent) => runStep(async () => summariseFailback(event.record, event.freeze, event.data, event.run, new Date())));
