// One read-only readiness check of a preflight: its outcome as a report Check, or its failure turned
// into a failed check (a transient AWS error is thrown instead, for the state's Retry).
import { AwsTransientError } from './errors.js';
import type { Check } from './report.js';

/** A check's outcome, or its failure turned into a failed check (a named error's message). */
export async function check(name: string, resource: string, target: string, probe: () => Promise<string>): Promise<Check> {
  try {
    const measured = await probe();
    return { name, resource, measured, target, passed: true, message: `${resource}: ${measured}` };
  } catch (error) {
    // A throttled or timed-out read says nothing about readiness: the state's Retry tries again.
    if (error instanceof AwsTransientError || !(error instanceof Error)) throw error;
    return { name, resource, measured: `${error.name}: ${error.message}`, target, passed: false, message: `${resource}: ${error.message}` };
  }
}

