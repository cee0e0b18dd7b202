// The scenarios, once: each is a state machine (statemachines/<name>.asl.yaml) and what it needs to run,
// for the tools that run them all (the drill, cli/drill.ts; the bench, scripts/bench.ts). In run order:
// database-recovery next to last, since it leaves the primary's database read-only and the application
// repointed; region-failover last, since it moves DNS, the API and the database to the recovery region
// (nothing after it would find the primary serving).
import type { DeploymentConfig } from './config.js';

export interface Scenario {
  /** The state machine's name: statemachines/<name>.asl.yaml. */
  readonly name: string;
  /** One line on what it does, for --help. */
  readonly summary: string;
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
    summary: 'checks snapshots, encryption, retention, point-in-time recovery, cross-region copies and bucket replication against the RPO',
    needsClusters: false,
    needsKubernetesSection: false,
    needsDatabaseRecovery: false,
    startedByScheduleEvent: true,
  },
  {
    name: 'restore-test',
    summary: 'restores the newest recovery-region copy to a scratch instance, queries it, deletes it and measures the RTO',
    needsClusters: false,
    needsKubernetesSection: false,
    needsDatabaseRecovery: false,
    startedByScheduleEvent: true,
  },
  {
    name: 'cluster-failover',
    summary: 'brings the API up on the backup cluster when the primary is unhealthy, passes the health gates and moves DNS',
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: false,
    startedByScheduleEvent: false,
    triggerCheck: 'primary-cluster-health',
  },
  {
    name: 'emergency-rollback',
    summary: "rolls the API's deployment back one revision on the primary cluster and passes the health gates",
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: false,
    startedByScheduleEvent: false,
  },
  {
    name: 'database-recovery',
    summary: 'restores the database to before the incident while it stops the API and makes the damaged database read-only, then repoints the API (runs last)',
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: true,
    startedByScheduleEvent: false,
  },
  {
    name: 'region-failover',
    summary: 'moves the product to the recovery region when the primary region fails: restores the database there and brings up the recovery cluster in parallel, passes the gates, then moves DNS (runs last)',
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: false,
    needsRegionFailover: true,
    startedByScheduleEvent: false,
  },
  {
    name: 'region-failback',
    summary: 'after a region failover, by hand: moves the data back to the primary region (short write freeze), brings the primary up and returns DNS to the recorded values',
    needsClusters: true,
    needsKubernetesSection: true,
    needsDatabaseRecovery: true,
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
export function whyUnsupported(name: ScenarioName, config: Pick<DeploymentConfig, 'kubernetes' | 'databases'> & Partial<Pick<DeploymentConfig, 'regionFailover' | 'regionFailback'>>): string | null {
  const needs = scenario(name);
  // It starts from a completed region failover's report, which only a region-failover run writes.
  if (name === 'region-failback') {
    return config.regionFailback ? 'is not run by the drill yet: it starts from a completed region-failover run' : 'has no regionFailback section';
  }
  if (needs.needsRegionFailover && !config.regionFailover) return 'has no regionFailover section (detection, restore, dns)';
  if (needs.needsKubernetesSection && !config.kubernetes) return 'has no kubernetes section (clusters, namespace, API deployment)';
  if (needs.needsDatabaseRecovery && !config.databases.some((d) => d.recovery)) return 'has no database with a recovery section';
  return null;
}
