// The Lambda functions that talk to a Kubernetes cluster, found by reading the source: a function whose
// handler (serverless.yml functions.<name>.handler) loads any module of shared/kubernetes/, directly or
// not. Each gets its own Kubernetes group in deploy/rbac/, named after its directory.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../../local/python-environment.js';

export interface KubernetesFunction {
  /** The serverless.yml function key: `checkRollout`. */
  name: string;
  /** Its directory under functions/: `check-rollout`. */
  directory: string;
  /** The IAM role it runs as (serverless.yml `role`): `CheckRolloutRole`. */
  role: string;
  /** Its Kubernetes group: `frontier-dr:check-rollout`. */
  group: string;
}

/** The Kubernetes group deploy/rbac/ binds for the function in functions/<directory>/. */
export function kubernetesGroupOf(directory: string): string {
  return `frontier-dr:${directory}`;
}

/** The project's own modules `entry` loads, itself included (relative imports and re-exports, followed). */
export function moduleGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(path.join(projectRoot, file), 'utf8');
    for (const match of text.matchAll(/\b(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      pending.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), `${match[1]}.ts`)));
    }
  }
  return seen;
}

/** Every function that reaches shared/kubernetes/, sorted by directory. */
export function kubernetesFunctions(): KubernetesFunction[] {
  const stack = parse(readFileSync(path.join(projectRoot, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    functions: Record<string, { handler: string; role: string }>;
  };
  return Object.entries(stack.functions)
    .map(([name, { handler, role }]) => ({ name, role, entry: `${handler.replace(/\.[^./]+$/, '')}.ts` }))
    .filter(({ entry }) => [...moduleGraph(entry)].some((file) => file.startsWith('shared/kubernetes/')))
    .map(({ name, role, entry }) => {
      const directory = path.posix.basename(path.posix.dirname(entry));
      return { name, directory, role, group: kubernetesGroupOf(directory) };
    })
    .sort((a, b) => a.directory.localeCompare(b.directory));
}
