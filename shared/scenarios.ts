// The scenarios, once: each is a state machine (statemachines/<name>.asl.yaml) and what it needs to run,
// for the tools that run them all (the drill, cli/drill.ts; the bench, scripts/bench.ts). In run order:
// database-recovery after the single-region scenarios, since it leaves the primary's database read-only
// and the application repointed; region-failover after it, since it moves DNS, the API and the database
// to the recovery region (nothing after it would find the primary serving); region-failback, its way
// back: the drill runs it from that run once the primary region is back (the bench leaves it out);
// security-incident last, on the primary cluster serving again. The one-line summaries are in
// shared/scenario-summaries.ts (the CLI's alone: every function loads this module).
import type { DeploymentConfig } from './config.js';

export interface Scenario {
  /** The state machine's name: statemachines/<name>.asl.yaml. */
  readonly name: string;
  /** The EKS clusters, Redis and the API's /health (locally: two real Kubernetes control planes and their servers). */
  readonly needsClusters: boolean;
  /** A `kubernetes` section in the deployment config. */
  readonly needsKubernetesSection: boolean;
  /** A database with a `recovery` section in the deployment config. */
  readonly needsDatabaseRecovery: boolean;
  /** A `regionFailover` section in the deployment config. */
  readonly needsRegionFailover?: boolean;
  /**
   * Started by a stack schedule with the raw scheduled event as its input (serverless.yml `schedule`
   * events with no Input); the other scenarios refuse such an event.
   */
  readonly startedByScheduleEvent: boolean;
  /**
   * A check that, when it fails, is the reason the run acted rather than a failure of the run (the
   * unhealthy primary cluster a failover moves away from).
   */
  readonly triggerCheck?: string;
}

export const SCENARIOS = [
  {
    name: 'backup-verification',
    needsClusters: false,
    needsKubernetesSection: false,
    needsDatabaseRecovery: false,
    startedByScheduleEvent: true,
  },
  {
    name: 'restore-test',
    needsClusters: false,
    needsKubernetesSection: false,
    needsDatabaseRecovery: false,
    startedByScheduleEvent: true,
  },
  {
    name: 'cluster-failover',
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: false,
    startedByScheduleEvent: false,
    triggerCheck: 'primary-cluster-health',
  },
  {
    name: 'emergency-rollback',
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: false,
    startedByScheduleEvent: false,
  },
  {
    name: 'database-recovery',
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: true,
    startedByScheduleEvent: false,
  },
  {
    name: 'region-failover',
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: false,
    needsRegionFailover: true,
    startedByScheduleEvent: false,
  },
  {
    name: 'region-failback',
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: true,
    startedByScheduleEvent: false,
  },
  {
    name: 'security-incident',
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: false,
    startedByScheduleEvent: false,
  },
] as const satisfies readonly Scenario[];

export type ScenarioName = (typeof SCENARIOS)[number]['name'];

export const SCENARIO_NAMES: readonly ScenarioName[] = SCENARIOS.map((s) => s.name);

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

export function scenario(name: ScenarioName): Scenario {
  return SCENARIOS.find((s) => s.name === name) as Scenario;
}

/** `names` in run order (database-recovery, then region-failover last), each once, whatever order they were given in. */
export function inRunOrder(names: readonly string[]): ScenarioName[] {
  return SCENARIO_NAMES.filter((name) => names.includes(name));
}

/** Why `config` cannot run the scenario, or null when it can. */
export function whyUnsupported(name: ScenarioName, config: Pick<DeploymentConfig, 'kubernetes' | 'databases'> & Partial<Pick<DeploymentConfig, 'regionFailover' | 'regionFailback' | 'securityIncident'>>): string | null {
  const needs = scenario(name);
  // It starts from a completed region failover's report, which only a region-failover run writes.
  if (name === 'region-failback') {
    if (!config.regionFailback) return 'has no regionFailback section';
    if (!config.regionFailover) return 'has no regionFailover section: a failback starts from a completed region failover';
  }
  if (name === 'security-incident' && !config.securityIncident) return 'has no securityIncident section (evidence bucket, API keys, where to block addresses)';
  if (needs.needsRegionFailover && !config.regionFailover) return 'has no regionFailover section (detection, restore, dns)';
  if (needs.needsKubernetesSection && !config.kubernetes) return 'has no kubernetes section (clusters, namespace, API deployment)';
  if (needs.needsDatabaseRecovery && !config.databases.some((d) => d.recovery)) return 'has no database with a recovery section';
  return null;
}
