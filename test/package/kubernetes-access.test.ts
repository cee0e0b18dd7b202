// The deploy side of Kubernetes access: every function that talks to a cluster (found by reading the
// source) runs as its own role, and the stack names, for each such role, the Kubernetes group
// deploy/rbac/ binds for it (output KubernetesAccess<Function>: the role's ARN, the group as its
// description), which is what the README's access-entry loop maps. Fast: no `serverless package`,
// just the files (the outputs' intrinsics are read as the strings they are written as).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { rbacGroups } from '../../local/rbac.js';
import { kubernetesFunctions } from '../support/kubernetes-functions.js';
import { projectRoot } from '../support/package-stack.js';

interface Stack {
  functions: Record<string, { role: string }>;
  resources: { Resources: Record<string, { Type: string }>; Outputs: Record<string, { Description?: string; Value: unknown }> };
}

const stack = parse(readFileSync(path.join(projectRoot, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as Stack;
const functions = kubernetesFunctions();
const accessOutputs = Object.entries(stack.resources.Outputs).filter(([key]) => key.startsWith('KubernetesAccess'));

describe('Kubernetes access of the function roles', () => {
  it('gives each function that talks to a cluster a role of its own', () => {
    const roles = functions.map((fn) => fn.role);
    expect(new Set(roles).size).toBe(roles.length);
    for (const fn of functions) expect(stack.resources.Resources[fn.role]?.Type).toBe('AWS::IAM::Role');
    // No other function shares one of these roles (it would get the group's access too).
    const sharing = Object.entries(stack.functions).filter(([name, f]) => roles.includes(f.role) && !functions.some((fn) => fn.name === name));
    expect(sharing).toEqual([]);
  });

  it('outputs, for each such role, its ARN and the group deploy/rbac/ binds for it, and for no other role', () => {
    const expected = functions.map((fn) => [`KubernetesAccess${fn.name[0]!.toUpperCase()}${fn.name.slice(1)}`, { Description: fn.group, Value: `${fn.role}.Arn` }]);
    expect(Object.fromEntries(accessOutputs)).toEqual(Object.fromEntries(expected));
    expect(accessOutputs.map(([, output]) => output.Description).sort()).toEqual(rbacGroups());
  });
});
