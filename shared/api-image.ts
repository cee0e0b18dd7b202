// The security incident's patch: the API deployment on the serving cluster to the patched image
// (functions/set-api-image). The state machine then waits for the rollout with CheckRollout.
import { clusterFor, kubernetesConfig, securityIncidentConfig, type DeploymentConfig } from './config.js';
import { InvalidInput } from './errors.js';
import type { KubernetesConnection } from './kubernetes/connection.js';
import { containerForImage, setDeploymentImage } from './kubernetes/images.js';
import { readDeployment } from './kubernetes/workloads.js';
import type { RunContext } from './run.js';
import { incidentRequest } from './security-incident-plan.js';
import type { StepResult } from './steps.js';

/** What CheckRollout needs (cluster, namespace, deployment), and what the report says of the patch. */
export interface ApiImageResult {
  cluster: 'primary' | 'backup';
  namespace: string;
  deployment: string;
  container: string;
  previousImage: string | null;
  image: string;
  /** false: already on the image (nothing patched), or a dry run. */
  changed: boolean;
  /** True when the state machine has a rollout to wait for. */
  rolloutStarted: boolean;
}

/** The change-cause `kubectl rollout history` shows for the patch. */
export function patchChangeCause(run: Pick<RunContext, 'executionName' | 'securityIncident' | 'scenario'>, image: string): string {
  return `security incident ${incidentRequest(run).incidentId}: patched image ${image} (frontier-dr ${run.executionName})`;
}

/**
 * The SetApiImage step: `kubectl set image` of the API deployment (kubernetes.apiDeployment in
 * kubernetes.namespace) on securityIncident.cluster to `run.securityIncident.patchedImage`, on the
 * container named like the deployment (else the only one), with a kubernetes.io/change-cause naming
 * the incident. Already on that image: nothing to do (a re-run). A dry run only reads the deployment
 * and reports the patch it would send.
 *
 * Kubernetes: GET apps/v1 deployments/<name>, PATCH it (strategic merge) when the image differs; AWS:
 * eks:DescribeCluster (the connection). Throws InvalidInput (no patchedImage in the run),
 * PatchContainerNotFound (listing the containers), and the named Kubernetes errors.
 */
export async function setApiImage(config: DeploymentConfig, run: RunContext, connect: () => Promise<KubernetesConnection>): Promise<StepResult<ApiImageResult>> {
  const request = incidentRequest(run);
  const image = request.patchedImage;
  if (!image) throw new InvalidInput('run.securityIncident.patchedImage is null: this run has no patch to roll out');
  const role = securityIncidentConfig(config).cluster;
  const cluster = clusterFor(config, role).name;
  const { namespace, apiDeployment: deployment } = kubernetesConfig(config);
  const cause = patchChangeCause(run, image);
  const conn = await connect();
  if (run.dryRun) {
    const container = containerForImage(await readDeployment(conn, namespace, deployment));
    const already = container.image === image;
    return {
      data: { cluster: role, namespace, deployment, container: container.name, previousImage: container.image, image, changed: false, rolloutStarted: false },
      actions: already
        ? []
        : [
            {
              description: `set image of ${namespace}/${deployment} container ${container.name} on ${cluster} to ${image}`,
              service: 'kubernetes',
              operation: 'patch deployments',
              parameters: { cluster, namespace, deployment, container: container.name, image, changeCause: cause },
              performed: false,
            },
          ],
      detail: already ? `dry run: ${namespace}/${deployment} already runs ${image}: nothing to do` : `dry run: would roll ${namespace}/${deployment} on ${cluster} from ${container.image ?? 'no image'} to ${image}`,
    };
  }
  const change = await setDeploymentImage(conn, namespace, deployment, image, cause);
  return {
    data: { cluster: role, namespace, deployment, ...change, rolloutStarted: true },
    actions: change.changed
      ? [
          {
            description: `set image of ${namespace}/${deployment} container ${change.container} on ${cluster} to ${image}`,
            service: 'kubernetes',
            operation: 'patch deployments',
            parameters: { cluster, namespace, deployment, container: change.container, image, changeCause: cause },
            performed: true,
          },
        ]
      : [],
    detail: change.changed
      ? `${namespace}/${deployment} on ${cluster}: container ${change.container} from ${change.previousImage ?? 'no image'} to ${image} (${cause})`
      : `${namespace}/${deployment} on ${cluster} already runs ${image}: nothing to do (its rollout is still waited for)`,
  };
}
