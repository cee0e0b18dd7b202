// The production manifests: parse multi-document YAML, then server-side apply the kinds the recovery
// knows, in dependency order, after checking every document (a bad one changes nothing).
import { PatchStrategy, type ConfigurationOptions } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { InvalidInput } from '../errors.js';
import type { KubernetesConnection } from './connection.js';
import { requestOptions, send, type RequestTarget } from './requests.js';

export interface KubernetesManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

/**
 * Parses multi-document YAML (`---` separated; `kind: List` flattened). Empty documents are skipped.
 * No API call. Throws InvalidInput naming the document (and line) that is not valid YAML or lacks
 * apiVersion, kind or metadata.name.
 */
export function parseManifests(yamlText: string, source = 'manifests'): KubernetesManifest[] {
  const documents = parseAllDocuments(yamlText);
  if (!Array.isArray(documents)) return [];
  const manifests: KubernetesManifest[] = [];
  documents.forEach((document, index) => {
    const error = document.errors[0];
    if (error) {
      const line = error.linePos?.[0]?.line;
      throw new InvalidInput(`${source}: document ${index + 1}${line ? ` (line ${line})` : ''} is not valid YAML: ${error.message.split('\n')[0]}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    const items = isObject(value) && value.kind === 'List' && Array.isArray(value.items) ? (value.items as unknown[]) : [value];
    items.forEach((item) => manifests.push(checkManifest(item, `${source}: document ${index + 1}`)));
  });
  return manifests;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkManifest(value: unknown, where: string): KubernetesManifest {
  if (!isObject(value)) throw new InvalidInput(`${where} is not an object`);
  const metadata = value.metadata;
  if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') throw new InvalidInput(`${where} lacks apiVersion or kind`);
  if (!isObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
    throw new InvalidInput(`${where} (${value.kind}) lacks metadata.name`);
  }
  if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string') throw new InvalidInput(`${where} (${value.kind}) has a non-string metadata.namespace`);
  return value as KubernetesManifest;
}

type ApplyCall = (conn: KubernetesConnection, name: string, namespace: string, body: KubernetesManifest, options: ConfigurationOptions, fieldManager: string) => Promise<{ httpStatusCode: number }>;

interface ApplyKind {
  apiVersion: string;
  resource: string;
  group?: string;
  namespaced: boolean;
  apply: ApplyCall;
}

// The kinds the recovery applies, in the order they are applied (namespaces before what lives in them,
// configuration before the workloads that read it). Adding a kind here means adding its create/patch
// verbs to deploy/rbac/frontier-dr-rbac.yaml.
const APPLY_KINDS: Record<string, ApplyKind> = {
  Namespace: {
    apiVersion: 'v1',
    resource: 'namespaces',
    namespaced: false,
    apply: (c, name, _ns, body, o, fieldManager) => c.core.patchNamespaceWithHttpInfo({ name, body, fieldManager, force: true }, o),
  },
  ServiceAccount: {
    apiVersion: 'v1',
    resource: 'serviceaccounts',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.core.patchNamespacedServiceAccountWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  ConfigMap: {
    apiVersion: 'v1',
    resource: 'configmaps',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.core.patchNamespacedConfigMapWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  Secret: {
    apiVersion: 'v1',
    resource: 'secrets',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.core.patchNamespacedSecretWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  NetworkPolicy: {
    apiVersion: 'networking.k8s.io/v1',
    resource: 'networkpolicies',
    group: 'networking.k8s.io',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.networking.patchNamespacedNetworkPolicyWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  Service: {
    apiVersion: 'v1',
    resource: 'services',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.core.patchNamespacedServiceWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  Deployment: {
    apiVersion: 'apps/v1',
    resource: 'deployments',
    group: 'apps',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.apps.patchNamespacedDeploymentWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  HorizontalPodAutoscaler: {
    apiVersion: 'autoscaling/v2',
    resource: 'horizontalpodautoscalers',
    group: 'autoscaling',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) =>
      c.autoscaling.patchNamespacedHorizontalPodAutoscalerWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
  PodDisruptionBudget: {
    apiVersion: 'policy/v1',
    resource: 'poddisruptionbudgets',
    group: 'policy',
    namespaced: true,
    apply: (c, name, namespace, body, o, fieldManager) => c.policy.patchNamespacedPodDisruptionBudgetWithHttpInfo({ name, namespace, body, fieldManager, force: true }, o),
  },
};

export const APPLICABLE_KINDS = Object.keys(APPLY_KINDS);

export interface AppliedObject {
  kind: string;
  namespace?: string;
  name: string;
  /** true when the apply created the object, false when it updated (or left) an existing one. */
  created: boolean;
}

/**
 * Server-side applies each document (PATCH application/apply-patch+yaml, force, fieldManager), creating
 * what is missing. Every document is checked before the first request, so a bad one changes nothing.
 * Namespaced documents without a namespace go to `defaultNamespace`.
 * Calls PATCH (application/apply-patch+yaml, force) on each object's resource. Result: one
 * { kind, namespace?, name, created } per document, in apply order. Throws InvalidInput for a document
 * of an unknown kind/apiVersion or without a namespace, and the named Kubernetes errors (KubernetesNotFound
 * for a missing namespace, KubernetesRejected for an invalid object...).
 */
export async function applyManifests(
  conn: KubernetesConnection,
  documents: object[],
  fieldManager = 'frontier-dr',
  defaultNamespace?: string,
): Promise<AppliedObject[]> {
  const planned = documents.map((document, index) => {
    const manifest = checkManifest(document, `manifest ${index + 1}`);
    const kind = APPLY_KINDS[manifest.kind];
    if (!kind) throw new InvalidInput(`manifest ${index + 1}: kind ${manifest.kind} is not one the recovery applies (${APPLICABLE_KINDS.join(', ')})`);
    if (manifest.apiVersion !== kind.apiVersion) {
      throw new InvalidInput(`manifest ${index + 1}: ${manifest.kind} ${manifest.metadata.name} has apiVersion ${manifest.apiVersion}, expected ${kind.apiVersion}`);
    }
    const namespace = kind.namespaced ? (manifest.metadata.namespace ?? defaultNamespace) : undefined;
    if (kind.namespaced && !namespace) throw new InvalidInput(`manifest ${index + 1}: ${manifest.kind} ${manifest.metadata.name} has no metadata.namespace`);
    const body: KubernetesManifest = { ...manifest, metadata: { ...manifest.metadata, ...(namespace ? { namespace } : {}) } };
    return { kind, kindName: manifest.kind, name: manifest.metadata.name, namespace, body, order: APPLICABLE_KINDS.indexOf(manifest.kind), index };
  });
  planned.sort((a, b) => a.order - b.order || a.index - b.index);

  const applied: AppliedObject[] = [];
  for (const item of planned) {
    const target: RequestTarget = { verb: 'patch', resource: item.kind.resource, group: item.kind.group, namespace: item.namespace, name: item.name };
    const answer = await send(conn, target, () =>
      item.kind.apply(conn, item.name, item.namespace ?? '', item.body, requestOptions(conn, { contentType: PatchStrategy.ServerSideApply }), fieldManager),
    );
    applied.push({ kind: item.kindName, ...(item.namespace ? { namespace: item.namespace } : {}), name: item.name, created: answer.httpStatusCode === 201 });
  }
  return applied;
}
