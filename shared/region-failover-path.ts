// Where every state of region-failover may reach, declared once. DESIGN principle 1: no step of a
// recovery path may need the failing (primary) region to answer. Each Task state of
// statemachines/region-failover.asl.yaml is listed with the function it runs and what it calls:
// AWS in the recovery region, Route 53 (global, its control plane served from us-east-1), and at most
// the recovery cluster. test/unit/region-failover-path.test.ts holds the definition and the code to
// this table (every Task listed, no `cluster: primary`, no client made for the primary region in the
// path's own code), and test/package/region-failover-stack.test.ts holds the IAM and environment of
// the path's own functions to it (no primary-region ARN). Nothing deployed reads it.

/**
 * `arc-cluster-endpoints`: a data-plane record's Route 53 ARC cluster endpoints (five regions); one that
 * does not answer (e.g. in the failing region) is passed over for the next (shared/dns.ts).
 */
export type PathReach = 'recovery-region' | 'route53-global' | 'arc-cluster-endpoints' | 'recovery-cluster' | 'network';

export interface PathStep {
  /** The serverless.yml function the state runs. */
  function: string;
  /** What the step may call. */
  reaches: readonly PathReach[];
  /**
   * True for a function only region-failover runs: its IAM and environment must name no primary-region
   * resource at all. The shared ones (also run by cluster failover or database recovery, where the
   * primary is theirs to look at) are held by the state's parameters instead: `cluster: backup`.
   */
  dedicated: boolean;
  /**
   * The deployment config's resources the step reaches (besides the stack's own: the lock and approvals
   * tables, the alert topic, the reports bucket, all created in the recovery region). `validate`
   * (shared/recovery-path-check.ts) checks each against the primary region: a name, ARN or host there
   * would make the step need the failing region.
   */
  config: readonly ConfigReach[];
}

/**
 * A part of the deployment config a region-failover step reaches:
 * - `backup-cluster`: kubernetes.clusters.backup (EKS DescribeCluster, its API server, its healthUrl);
 * - `manifests`: kubernetes.manifests.bucket (S3 GetObject/ListObjectsV2);
 * - `failover-database`: the databases[] entry regionFailover.database names (its recovery-region
 *   copies or replicated backups, its credentialsSecret);
 * - `recovery-redis`: regionFailover.health.redis (its host, its authSecret);
 * - `dns-records`: regionFailover.dns (Route 53 records, their targets, ARC cluster endpoints).
 */
export type ConfigReach = 'backup-cluster' | 'manifests' | 'failover-database' | 'recovery-redis' | 'dns-records';

export const REGION_FAILOVER_PATH: Readonly<Record<string, PathStep>> = {
  StartRun: { function: 'startRun', reaches: [], config: [], dedicated: false },
  AcquireRecoveryLock: { function: 'acquireRecoveryLock', reaches: ['recovery-region'], config: [], dedicated: false },
  ConfirmOutage: { function: 'confirmOutage', reaches: ['recovery-region'], config: [], dedicated: true },
  NotifyOutageConfirmed: { function: 'notifyRegionOutage', reaches: ['recovery-region'], config: [], dedicated: true },
  PlanApproval: { function: 'planApproval', reaches: [], config: [], dedicated: false },
  RequestApproval: { function: 'requestApproval', reaches: ['recovery-region'], config: [], dedicated: false },
  Preflight: { function: 'regionFailoverPreflight', reaches: ['recovery-region'], config: ['failover-database'], dedicated: true },
  PreflightTraffic: { function: 'regionTrafficPreflight', reaches: ['route53-global'], config: ['dns-records'], dedicated: true },
  CheckManifests: { function: 'applyManifestsToBackup', reaches: ['recovery-region'], config: ['manifests'], dedicated: false },
  AssessRecoveryCluster: { function: 'assessPrimaryCluster', reaches: ['recovery-region', 'recovery-cluster'], config: ['backup-cluster'], dedicated: false },
  ReleaseUnchangedLock: { function: 'releaseRecoveryLock', reaches: ['recovery-region'], config: [], dedicated: false },
  StartRegionRestore: { function: 'startRegionRestore', reaches: ['recovery-region'], config: ['failover-database'], dedicated: true },
  CheckRegionRestore: { function: 'checkRegionRestore', reaches: ['recovery-region'], config: ['failover-database'], dedicated: true },
  ApplyManifestsToBackup: { function: 'applyManifestsToBackup', reaches: ['recovery-region', 'recovery-cluster'], config: ['manifests', 'backup-cluster'], dedicated: false },
  ScaleApiOnBackup: { function: 'scaleDeployment', reaches: ['recovery-region', 'recovery-cluster'], config: ['backup-cluster'], dedicated: false },
  CheckRollout: { function: 'checkRollout', reaches: ['recovery-region', 'recovery-cluster'], config: ['backup-cluster'], dedicated: false },
  RepointApplication: { function: 'repointApplication', reaches: ['recovery-region', 'recovery-cluster'], config: ['failover-database', 'backup-cluster'], dedicated: false },
  StopApiForRestart: { function: 'scaleDeployment', reaches: ['recovery-region', 'recovery-cluster'], config: ['backup-cluster'], dedicated: false },
  StartApiAfterRestart: { function: 'scaleDeployment', reaches: ['recovery-region', 'recovery-cluster'], config: ['backup-cluster'], dedicated: false },
  CheckRestartRollout: { function: 'checkRollout', reaches: ['recovery-region', 'recovery-cluster'], config: ['backup-cluster'], dedicated: false },
  RunHealthChecks: { function: 'runRegionHealthChecks', reaches: ['recovery-region', 'network'], config: ['backup-cluster', 'failover-database', 'recovery-redis'], dedicated: true },
  MoveDns: { function: 'moveDns', reaches: ['route53-global', 'arc-cluster-endpoints', 'recovery-region'], config: ['dns-records'], dedicated: true },
  CheckDnsChange: { function: 'checkRegionDnsChange', reaches: ['route53-global'], config: ['dns-records'], dedicated: true },
  ReleaseRecoveryLock: { function: 'releaseRecoveryLock', reaches: ['recovery-region'], config: [], dedicated: false },
  PublishReport: { function: 'publishReport', reaches: ['recovery-region'], config: [], dedicated: false },
  NotifyOnCall: { function: 'notifyOnCall', reaches: ['recovery-region'], config: [], dedicated: false },
};

/** The detector runs outside the state machine, in the recovery region too. */
export const REGION_DETECTION_FUNCTIONS: readonly string[] = ['probePrimaryApi'];
