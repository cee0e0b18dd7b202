// deploy/rbac/ as the local clusters install it: every document of every YAML file there, and the
// Kubernetes groups its bindings name (what the EKS token webhook maps the local keys to, as an EKS
// access entry maps the functions' roles to them).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { projectRoot } from './python-environment.js';

export const RBAC_DIR = path.join(projectRoot, 'deploy/rbac');

export interface RbacSubject {
  kind: string;
  name: string;
  apiGroup?: string;
  namespace?: string;
}

/** Every object deploy/rbac/ holds, files in name order, documents in file order. */
export function rbacObjects(dir = RBAC_DIR): KubernetesObject[] {
  const files = readdirSync(dir).filter((file) => /\.ya?ml$/.test(file)).sort();
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))
      .map((document) => document.toJSON() as KubernetesObject | null)
      .filter((object): object is KubernetesObject => object !== null && typeof object === 'object' && typeof object.kind === 'string'),
  );
}

/** The groups deploy/rbac/'s RoleBindings and ClusterRoleBindings bind (system: groups left out), sorted. */
export function rbacGroups(objects = rbacObjects()): string[] {
  const groups = new Set<string>();
  for (const object of objects) {
    if (object.kind !== 'RoleBinding' && object.kind !== 'ClusterRoleBinding') continue;
    for (const subject of ((object as { subjects?: RbacSubject[] }).subjects ?? [])) {
      if (subject.kind === 'Group' && !subject.name.startsWith('system:')) groups.add(subject.name);
    }
  }
  return [...groups].sort();
}
