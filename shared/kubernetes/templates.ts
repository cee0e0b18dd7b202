// Pod templates compared as the deployment controller compares them: a ReplicaSet's template is its
// deployment's, plus the pod-template-hash label the controller adds.
import type { V1PodTemplateSpec } from '@kubernetes/client-node';

const POD_TEMPLATE_HASH = 'pod-template-hash';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The pod template a ReplicaSet was made from, without the label the controller added (a plain copy). */
export function templateWithoutHash(template: V1PodTemplateSpec | undefined): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(template ?? {})) as { metadata?: { labels?: Record<string, string> } };
  if (plain.metadata?.labels) {
    delete plain.metadata.labels[POD_TEMPLATE_HASH];
  }
  return plain as Record<string, unknown>;
}

/** JSON with sorted keys: two templates are the same when these strings are. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whether two pod templates are the same once the pod-template-hash label is set aside (the controller's EqualIgnoreHash). */
export function samePodTemplate(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined): boolean {
  return canonical(templateWithoutHash(a)) === canonical(templateWithoutHash(b));
}
