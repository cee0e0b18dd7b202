// `kubectl set image` for one container of a deployment, with the change-cause annotation `kubectl
// rollout history` shows: which container, what it runs now, and the patch that changes only that.
import { PatchStrategy, type V1Deployment } from '@kubernetes/client-node';
import { PatchContainerNotFound } from '../errors.js';
import type { KubernetesConnection } from './connection.js';
import { requestOptions, send } from './requests.js';
import { CHANGE_CAUSE_ANNOTATION } from './rollback.js';
import { readDeployment } from './workloads.js';

/**
 * The container of `deployment` a new image goes to: the one named like the deployment, else the only
 * one. Pure. Throws PatchContainerNotFound listing the containers when neither rule picks one.
 */
export function containerForImage(deployment: V1Deployment): { name: string; image: string | null } {
  const name = deployment.metadata?.name ?? '';
  const containers = deployment.spec?.template.spec?.containers ?? [];
  const chosen = containers.find((c) => c.name === name) ?? (containers.length === 1 ? containers[0] : undefined);
  if (!chosen) {
    throw new PatchContainerNotFound(
      `deployment ${deployment.metadata?.namespace ?? ''}/${name} has ${containers.length === 0 ? 'no container' : `containers ${containers.map((c) => c.name).join(', ')}, none named ${name}`}: the patched image has no container to go to (name the API's container like its deployment)`,
    );
  }
  return { name: chosen.name, image: chosen.image ?? null };
}

export interface ImageChange {
  container: string;
  previousImage: string | null;
  image: string;
  /** false when the container already ran `image` (a re-run after success): nothing was patched. */
  changed: boolean;
}

/**
 * Sets the image of the deployment's API container (containerForImage) and its change-cause, as
 * `kubectl set image` + `kubectl annotate` would, in one patch so the new ReplicaSet carries the cause.
 * Calls GET apps/v1 deployments/<name>, then (only when the image differs) PATCH (strategic merge: the
 * containers list merges by name, the other containers and fields stay). Throws PatchContainerNotFound
 * and the named Kubernetes errors (KubernetesNotFound, KubernetesForbidden, KubernetesTransientError...).
 */
export async function setDeploymentImage(conn: KubernetesConnection, namespace: string, name: string, image: string, changeCause: string): Promise<ImageChange> {
  const container = containerForImage(await readDeployment(conn, namespace, name));
  if (container.image === image) return { container: container.name, previousImage: container.image, image, changed: false };
  await send(conn, { verb: 'patch', resource: 'deployments', group: 'apps', namespace, name }, () =>
    conn.apps.patchNamespacedDeployment(
      {
        name,
        namespace,
        body: {
          metadata: { annotations: { [CHANGE_CAUSE_ANNOTATION]: changeCause } },
          spec: { template: { spec: { containers: [{ name: container.name, image }] } } },
        },
      },
      requestOptions(conn, { contentType: PatchStrategy.StrategicMergePatch }),
    ),
  );
  return { container: container.name, previousImage: container.image, image, changed: true };
}
