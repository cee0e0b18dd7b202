// One finding of a readiness evaluation: could this scenario run now? Read-only checks produce these;
// the readiness state machine gathers them per scenario (ready = every check passed).
import type { ScenarioName } from './scenarios.js';

/** One read-only check of what a scenario needs, and whether it holds now. */
export interface ReadinessCheck {
  scenario: ScenarioName;
  /** What was checked, e.g. "restore source fresh enough", "role may call rds:RestoreDBInstanceFromDBSnapshot". */
  name: string;
  /** The resource checked (ARN, name, cluster/namespace/name, function name). */
  resource: string;
  passed: boolean;
  /** One line an on-call engineer can act on: what is wrong and where to fix it (or what was found). */
  message: string;
}
