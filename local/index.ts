// The local environment's one entry point, used alike by the drill (cli/drill.ts), the bench
// (scripts/bench.ts) and the integration tests: an emulated AWS (moto behind a loopback front), real
// PostgreSQL, Redis-protocol and /health servers on loopback, a Route 53 ARC routing-control cluster
// (loopback endpoints, one per region), two real Kubernetes control planes, the seeded example
// deployment with its planted problems, and the local state-machine runner. Nothing deployed imports
// anything under local/ (test/package/boundaries.test.ts proves it).
export { startEmulatedEnvironment, emulatorConfig, awsFrontOf, type EmulatedEnvironment } from './environment.js';
export {
  startClusterEnvironment,
  type ClusterEnvironment,
  type ClusterEnvironmentOptions,
  type PrimaryClusterCondition,
  BAD_RELEASE,
} from './clusters.js';
export { seedExampleDeployment, withSeededWafIpSet, primaryIngress, readStoredObject, RECOVERY_LOCK_TABLE, APPROVALS_TABLE, APPROVAL_SIGNING_SECRET, type SeededDeployment } from './seed.js';
export { productionManifests, PRODUCTION_IMAGE } from './manifests.js';
export { databaseRoutes } from './rds-effects.js';
// Which endpoint hosts are restored instances: the rule lives with the names (shared/names.ts).
export { RESTORED_INSTANCE_HOST } from '../shared/names.js';
export { runEmulatedExecution } from './executions.js';
export { loadDefinition, runStateMachine, importHandler, handlerPath } from './local-state-machine.js';
export type { EventLog, LocalRunOptions, LocalRunResult, TaskCall, LambdaHandler, LoadedDefinition, DefinitionSource } from './local-state-machine.js';
// The callback pattern's tokens (e.g. a drill approving the approval step it waits on).
export { onTaskWaiting, waitingTasks, sendTaskSuccess, sendTaskFailure, TaskTokenError } from './task-tokens.js';
export type { WaitingTask } from './task-tokens.js';
export { mapDatabaseEndpoints, type DatabaseRoute, type DatabaseTarget, type DatabaseMapping } from './endpoint-map.js';
export { checkPrerequisites, requirePrerequisites, type MissingPrerequisite, type PrerequisiteNeeds } from './prerequisites.js';
export { useConfig, deploymentConfigEnvironment } from './deployment-config.js';
export { withManyDatabases, seedDatabasesForVerification } from './large-deployment.js';
export { startLocalCluster, until, type LocalCluster, type LocalClusterOptions, type LocalNode, type SeedDeployment } from './kube-cluster.js';
export { startKubeFaultProxy, type KubeFaultProxy, type KubeFaultProxyOptions, type Fault, type RecordedRequest } from './kube-fault-proxy.js';
export { startControlPlane, type LocalControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { startEksTokenWebhook, reviewEksToken, type AwsKey, type EksTokenWebhook } from './eks-token-review.js';
export { rbacDocuments, rbacGroups, RBAC_DIRECTORY } from './rbac.js';
export { EMULATOR_CREDENTIALS, emulatorClients } from './emulator-clients.js';
export type { RdsRateLimit, RdsRequestCounts, RecordedAwsRequest, AwsRequestRecording } from './aws-front.js';
export {
  startRoutingControlCluster,
  type RoutingControlCluster,
  type RoutingControlClusterOptions,
  type LocalRoutingControl,
  type LocalAssertionRule,
  type EndpointBehaviour,
  type RoutingControlRequest,
} from './routing-control-server.js';
// Readiness: the stack's roles, functions and recovery VPC, and their planted problems
export {
  seedStackRolesAndNetwork,
  plantMissingRolePermission,
  plantMissingVpcRoute,
  withSeededNetwork,
  LOCAL_FUNCTION_NAME_PREFIX,
  PLANTED_ROLE_PROBLEM,
  type SeededStack,
} from './readiness-seed.js';
