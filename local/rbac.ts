// deploy/rbac/ as the local environment and the tests read it: its documents in the order
// `kubectl apply -f deploy/rbac/` applies them (files by name, documents in file order), the groups it
// binds, what it grants each group, and an install through a cluster's admin client.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AuthorizationV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { projectRoot } from './python-environment.js';

export const RBAC_DIRECTORY = path.join(projectRoot, 'deploy/rbac');
/** The namespace deploy/rbac/ is written for (config/example.yml kubernetes.namespace). */
export const RBAC_NAMESPACE = 'production';
/** The Secret deploy/rbac/ names (config/example.yml databases[].recovery.kubernetesSecret.name). */
export const RBAC_SECRET = 'frontier-secrets';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

export interface RbacDocument extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  rules?: PolicyRule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { apiGroup?: string; kind: string; name: string; namespace?: string }[];
}

/**
 * Every document of deploy/rbac/*.yaml, in apply order. With `namespace`, written for that namespace
 * instead of `production`: the Namespace document, the Roles and RoleBindings, and the namespace
 * named in resourceNames. With `secrets`, the Secrets a deployment's databases name in place of
 * `frontier-secrets` (as the header says to change it for another deployment config).
 */
export function rbacDocuments(options: { namespace?: string; secrets?: readonly string[] } = {}): RbacDocument[] {
  const files = readdirSync(RBAC_DIRECTORY)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
  const documents: RbacDocument[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(readFileSync(path.join(RBAC_DIRECTORY, file), 'utf8'))) {
      if (document.errors.length) throw new Error(`deploy/rbac/${file}: ${document.errors[0]!.message}`);
      const value = document.toJS() as RbacDocument | null;
      if (value) documents.push(value);
    }
  }
  const namespace = options.namespace;
  const secrets = options.secrets?.length ? [...new Set(options.secrets)] : undefined;
  if ((!namespace || namespace === RBAC_NAMESPACE) && (!secrets || (secrets.length === 1 && secrets[0] === RBAC_SECRET))) return documents;
  return documents.map((document) => {
    const copy = structuredClone(document);
    if (secrets) {
      for (const rule of copy.rules ?? []) {
        if (rule.resources?.includes('secrets') && rule.resourceNames?.includes(RBAC_SECRET)) rule.resourceNames = [...rule.resourceNames.filter((name) => name !== RBAC_SECRET), ...secrets];
      }
    }
    if (!namespace || namespace === RBAC_NAMESPACE) return copy;
    if (copy.kind === 'Namespace' && copy.metadata.name === RBAC_NAMESPACE) copy.metadata.name = namespace;
    if (copy.metadata.namespace === RBAC_NAMESPACE) copy.metadata.namespace = namespace;
    for (const rule of copy.rules ?? []) {
      if (rule.resources?.includes('namespaces') && rule.resourceNames) rule.resourceNames = rule.resourceNames.map((name) => (name === RBAC_NAMESPACE ? namespace : name));
    }
    return copy;
  });
}

/** The groups deploy/rbac/ binds (one per Lambda function that talks to a cluster), sorted. */
export function rbacGroups(documents: readonly RbacDocument[] = rbacDocuments()): string[] {
  const groups = new Set<string>();
  for (const document of documents) {
    if (document.kind !== 'RoleBinding' && document.kind !== 'ClusterRoleBinding') continue;
    for (const subject of document.subjects ?? []) if (subject.kind === 'Group') groups.add(subject.name);
  }
  return [...groups].sort();
}

/** One verb on one resource (or non-resource URL) that deploy/rbac/ grants a group. */
export interface Grant {
  group: string;
  verb: string;
  /** `apps/deployments/scale`, `/nodes` (core group), or a non-resource URL such as `/version`. */
  resource: string;
  /** Where it holds: a namespace (Role), or undefined for cluster-wide (ClusterRole). */
  namespace?: string;
  /** Only these objects, when the rule names them. */
  resourceNames?: string[];
  nonResource: boolean;
}

/** `group/resource` as grants and requests are compared: `apps/deployments/scale`, `/secrets`. */
export function resourceKey(apiGroup: string, resource: string): string {
  return `${apiGroup}/${resource}`;
}

/**
 * What deploy/rbac/ grants each group: every (verb, resource) of the Roles and ClusterRoles its
 * bindings give the group. A ClusterRole bound by a RoleBinding holds in that namespace only.
 */
export function rbacGrants(documents: readonly RbacDocument[] = rbacDocuments()): Grant[] {
  const roles = new Map(documents.filter((d) => d.kind === 'Role' || d.kind === 'ClusterRole').map((d) => [`${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`, d]));
  const grants: Grant[] = [];
  for (const binding of documents) {
    if (binding.kind !== 'RoleBinding' && binding.kind !== 'ClusterRoleBinding') continue;
    const ref = binding.roleRef!;
    const role = roles.get(`${ref.kind}/${ref.kind === 'Role' ? (binding.metadata.namespace ?? '') : ''}/${ref.name}`);
    if (!role) throw new Error(`deploy/rbac/: ${binding.kind} ${binding.metadata.name} refers to ${ref.kind} ${ref.name}, which the manifest does not hold`);
    const namespace = binding.kind === 'RoleBinding' ? binding.metadata.namespace : undefined;
    for (const subject of binding.subjects ?? []) {
      if (subject.kind !== 'Group') continue;
      for (const rule of role.rules ?? []) {
        for (const verb of rule.verbs) {
          for (const url of rule.nonResourceURLs ?? []) grants.push({ group: subject.name, verb, resource: url, nonResource: true });
          for (const apiGroup of rule.apiGroups ?? []) {
            for (const resource of rule.resources ?? []) {
              grants.push({
                group: subject.name,
                verb,
                resource: resourceKey(apiGroup, resource),
                ...(namespace ? { namespace } : {}),
                ...(rule.resourceNames ? { resourceNames: [...rule.resourceNames] } : {}),
                nonResource: false,
              });
            }
          }
        }
      }
    }
  }
  return grants;
}

/**
 * What deploy/rbac/ takes to cover one more namespace, as its header says to copy it: the Namespace,
 * every Role and RoleBinding, and for a ClusterRole that names the namespace in resourceNames a copy
 * (`<name>:<namespace>`) naming the new one, bound to the same groups. Applied beside the cluster-wide
 * documents, it leaves `production`'s grants as they are. A test gives each case its own namespace so.
 */
export function rbacDocumentsForNamespace(namespace: string, options: { secrets?: readonly string[] } = {}): RbacDocument[] {
  const all = rbacDocuments({ namespace, ...options });
  const namespaced = all.filter((d) => d.kind === 'Namespace' || d.metadata.namespace === namespace);
  const copies: RbacDocument[] = [];
  for (const role of all.filter((d) => d.kind === 'ClusterRole')) {
    const rules = (role.rules ?? []).filter((rule) => rule.resources?.includes('namespaces') && rule.resourceNames?.includes(namespace));
    if (rules.length === 0 || namespace === RBAC_NAMESPACE) continue;
    const name = `${role.metadata.name}:${namespace}`;
    copies.push({ ...role, metadata: { ...role.metadata, name }, rules: rules.map((rule) => ({ ...rule, resources: ['namespaces'], resourceNames: [namespace] })) });
    for (const binding of all.filter((d) => d.kind === 'ClusterRoleBinding' && d.roleRef?.kind === 'ClusterRole' && d.roleRef.name === role.metadata.name)) {
      copies.push({ ...binding, metadata: { ...binding.metadata, name }, roleRef: { ...binding.roleRef!, name } });
    }
  }
  return [...namespaced, ...copies];
}

/**
 * Installs deploy/rbac/ as `kubectl apply -f deploy/rbac/` would, through an admin client: each
 * document in apply order, created or updated (server-side apply, field manager
 * `frontier-dr-rbac-install`). `documents`: rbacDocuments() unless given (e.g.
 * rbacDocumentsForNamespace()). Returns the documents applied.
 */
export async function installRbac(admin: KubeConfig, documents: readonly RbacDocument[] = rbacDocuments()): Promise<readonly RbacDocument[]> {
  const client = KubernetesObjectApi.makeApiClient(admin);
  for (const document of documents) {
    await client.patch(document, undefined, undefined, 'frontier-dr-rbac-install', true, PatchStrategy.ServerSideApply);
  }
  return documents;
}

/**
 * Waits until the API server's authorizer allows every grant of `documents` (RBAC objects reach it
 * through an informer, a moment after they are written), asked as SubjectAccessReviews. Throws after
 * `timeoutMs` naming what is still refused.
 */
export async function untilRbacAllows(admin: KubeConfig, documents: readonly RbacDocument[], timeoutMs = 30_000): Promise<void> {
  const authorization = admin.makeApiClient(AuthorizationV1Api);
  const deadline = Date.now() + timeoutMs;
  for (const grant of rbacGrants(documents)) {
    const [apiGroup, ...rest] = grant.resource.split('/');
    const [resource, subresource] = rest;
    const spec = grant.nonResource
      ? { groups: [grant.group], user: 'rbac-probe', nonResourceAttributes: { path: grant.resource, verb: grant.verb } }
      : {
          groups: [grant.group],
          user: 'rbac-probe',
          resourceAttributes: { group: apiGroup, resource, ...(subresource ? { subresource } : {}), verb: grant.verb, ...(grant.namespace ? { namespace: grant.namespace } : {}), ...(grant.resourceNames ? { name: grant.resourceNames[0] } : {}) },
        };
    for (;;) {
      const review = await authorization.createSubjectAccessReview({ body: { spec } });
      if (review.status?.allowed) break;
      if (Date.now() > deadline) throw new Error(`RBAC still refuses ${grant.group} ${grant.verb} ${grant.resource}${grant.namespace ? ` in ${grant.namespace}` : ''} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
