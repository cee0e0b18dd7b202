// ConfigMaps and Secrets: set some keys with a merge patch, leave the others, say what each was before
// (a Secret's previous value only as a hash prefix, never the value).
import { createHash } from 'node:crypto';
import { PatchStrategy } from '@kubernetes/client-node';
import { InvalidInput } from '../errors.js';
import type { KubernetesConnection } from './connection.js';
import { requestOptions, send } from './requests.js';

export interface ConfigMapKeyChange {
  key: string;
  existed: boolean;
  /** The value before the patch (ConfigMaps hold configuration, not secrets). */
  previous?: string;
  changed: boolean;
}

export interface SecretKeyChange {
  key: string;
  existed: boolean;
  /** First 12 hex digits of the SHA-256 of the previous value: enough to tell versions apart, never the value. */
  previousSha256Prefix?: string;
  changed: boolean;
}

function validateKeys(data: Record<string, string>, what: string): string[] {
  const keys = Object.keys(data);
  if (keys.length === 0) throw new InvalidInput(`${what}: no keys to set`);
  for (const key of keys) {
    if (!/^[-._a-zA-Z0-9]{1,253}$/.test(key)) throw new InvalidInput(`${what}: "${key}" is not a valid key (letters, digits, '-', '_', '.')`);
    if (typeof data[key] !== 'string') throw new InvalidInput(`${what}: the value of "${key}" must be a string`);
  }
  return keys;
}

/**
 * Sets keys of a ConfigMap with a merge patch (other keys stay) and reports what each was before.
 * Calls GET then (only when a value differs) PATCH v1 configmaps/<name> (merge patch). Throws InvalidInput
 * for no keys or an invalid key, KubernetesNotFound for a missing ConfigMap, and the other named Kubernetes errors.
 */
export async function patchConfigMapKeys(
  conn: KubernetesConnection,
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<{ namespace: string; name: string; keys: ConfigMapKeyChange[] }> {
  const keys = validateKeys(data, `ConfigMap ${namespace}/${name}`);
  const target = { resource: 'configmaps', namespace, name };
  const current = await send(conn, { verb: 'get', ...target }, () => conn.core.readNamespacedConfigMap({ name, namespace }, requestOptions(conn)));
  const changes = keys.map((key): ConfigMapKeyChange => {
    const previous = current.data?.[key];
    return { key, existed: previous !== undefined, ...(previous !== undefined ? { previous } : {}), changed: previous !== data[key] };
  });
  if (changes.some((c) => c.changed)) {
    await send(conn, { verb: 'patch', ...target }, () =>
      conn.core.patchNamespacedConfigMap({ name, namespace, body: { data } }, requestOptions(conn, { contentType: PatchStrategy.MergePatch })),
    );
  }
  return { namespace, name, keys: changes };
}

function sha256Prefix(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

/**
 * Sets keys of a Secret with a merge patch; the result never carries a value, old or new.
 * `data` holds plain UTF-8 values (base64-encoded here). Calls GET then (only when a value differs) PATCH
 * v1 secrets/<name> (merge patch). Result keys: { key, existed, previousSha256Prefix?, changed }. Throws
 * InvalidInput for no keys or an invalid key, KubernetesNotFound for a missing Secret, and the other named errors.
 */
export async function patchSecretKeys(
  conn: KubernetesConnection,
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<{ namespace: string; name: string; keys: SecretKeyChange[] }> {
  const keys = validateKeys(data, `Secret ${namespace}/${name}`);
  const target = { resource: 'secrets', namespace, name };
  const current = await send(conn, { verb: 'get', ...target }, () => conn.core.readNamespacedSecret({ name, namespace }, requestOptions(conn)));
  const encoded: Record<string, string> = {};
  const changes = keys.map((key): SecretKeyChange => {
    const next = Buffer.from(data[key] ?? '', 'utf8');
    encoded[key] = next.toString('base64');
    const previousEncoded = current.data?.[key];
    if (previousEncoded === undefined) return { key, existed: false, changed: true };
    const previous = Buffer.from(previousEncoded, 'base64');
    return { key, existed: true, previousSha256Prefix: sha256Prefix(previous), changed: !previous.equals(next) };
  });
  if (changes.some((c) => c.changed)) {
    await send(conn, { verb: 'patch', ...target }, () =>
      conn.core.patchNamespacedSecret({ name, namespace, body: { data: encoded } }, requestOptions(conn, { contentType: PatchStrategy.MergePatch })),
    );
  }
  return { namespace, name, keys: changes };
}

/**
 * One key of a Secret, decoded as UTF-8; undefined when the Secret has no such key. Calls GET v1
 * secrets/<name>. For a caller that edits a value (rather than replacing it) before patchSecretKeys.
 * Throws KubernetesNotFound for a missing Secret and the other named Kubernetes errors.
 */
export async function readSecretKey(conn: KubernetesConnection, namespace: string, name: string, key: string): Promise<string | undefined> {
  const current = await send(conn, { verb: 'get', resource: 'secrets', namespace, name }, () => conn.core.readNamespacedSecret({ name, namespace }, requestOptions(conn)));
  const encoded = current.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}
