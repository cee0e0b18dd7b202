// Applies the production manifests (read from the recovery region's bucket) to a cluster with
// server-side apply: safe to repeat, and a dry run lists every object it would apply.
import { s3Client } from '../../shared/clients.js';
import { clusterFor, connectTo, kubernetesConfig, loadProductionManifests, type ClusterRole } from '../../shared/cluster-ops.js';
import { deploymentConfigFromEnvironment } from '../../shared/config.js';
import { applyManifests } from '../../shared/kubernetes/manifests.js';
import type { RunContext } from '../../shared/run.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface ApplyManifestsEvent {
  run: RunContext;
  cluster: ClusterRole;
}

export const handler = recoveryHandler(async (event: ApplyManifestsEvent) => {
  const config = deploymentConfigFromEnvironment();
  const cluster = clusterFor(config, event.cluster);
  const namespace = kubernetesConfig(config).namespace;
  return runStep(async () => {
    const manifests = await loadProductionManifests(s3Client(config.recoveryRegion), config);
    const action = (kind: string, name: string, objectNamespace: string | undefined, performed: boolean, created?: boolean): Action => ({
      description: `server-side apply ${kind} ${objectNamespace ? `${objectNamespace}/` : ''}${name} on ${cluster.name}${created === undefined ? '' : created ? ' (created)' : ' (updated)'}`,
      service: 'kubernetes',
      operation: 'apply',
      parameters: { cluster: cluster.name, kind, name, namespace: objectNamespace ?? null, fieldManager: 'frontier-dr', force: true },
      performed,
    });
    if (event.run.dryRun) {
      const actions = manifests.documents.map((d) => action(d.kind, d.metadata.name, d.metadata.namespace ?? (d.kind === 'Namespace' ? undefined : namespace), false));
      return { data: { sources: manifests.sources, applied: [] }, actions, detail: `would apply ${actions.length} objects from ${manifests.sources.length} files` };
    }
    const applied = await applyManifests(await connectTo(config, event.cluster), manifests.documents, 'frontier-dr', namespace);
    return {
      data: { sources: manifests.sources, applied },
      actions: applied.map((a) => action(a.kind, a.name, a.namespace, true, a.created)),
      detail: `applied ${applied.length} objects from ${manifests.sources.length} files`,
    };
  });
});
