// Evidence: the recent log of every container of the pods a label selector matches.
import { InvalidInput, KubernetesNotFound, KubernetesRejected } from '../errors.js';
import type { KubernetesConnection } from './connection.js';
import { listAll, PAGE_SIZE, requestOptions, send } from './requests.js';

export interface PodLog {
  pod: string;
  container: string;
  log: string;
  truncated: boolean;
  /** Set when this container's log could not be read (e.g. it has not started); the others still are. */
  error?: string;
}

const LOG_CONCURRENCY = 4;

/**
 * The last `sinceSeconds` of log of every container of the pods matching `labelSelector`, each capped at `maxBytesPerPod`.
 * Calls LIST v1 pods (label selector, paged) and GET pods/<name>/log per container of a scheduled pod (4 at a time).
 * `sinceSeconds` (s) and `maxBytesPerPod` (bytes) must be whole numbers >= 1 (InvalidInput). A container whose
 * log cannot be read (not started, or its pod not scheduled yet) gets `error` instead of failing the whole call;
 * other failures throw the named errors.
 */
export async function readPodLogs(
  conn: KubernetesConnection,
  namespace: string,
  labelSelector: string,
  sinceSeconds: number,
  maxBytesPerPod: number,
): Promise<PodLog[]> {
  if (!Number.isInteger(sinceSeconds) || sinceSeconds < 1) throw new InvalidInput(`sinceSeconds must be a whole number >= 1, got ${sinceSeconds}`);
  if (!Number.isInteger(maxBytesPerPod) || maxBytesPerPod < 1) throw new InvalidInput(`maxBytesPerPod must be a whole number >= 1, got ${maxBytesPerPod}`);
  const pods = await listAll((token) =>
    send(conn, { verb: 'list', resource: 'pods', namespace }, () =>
      conn.core.listNamespacedPod({ namespace, labelSelector, limit: PAGE_SIZE, _continue: token }, requestOptions(conn)),
    ),
  );
  const work = pods
    .flatMap((pod) =>
      (pod.spec?.containers ?? []).map((container) => ({ pod: pod.metadata?.name ?? '', container: container.name, scheduled: Boolean(pod.spec?.nodeName) })),
    )
    .sort((a, b) => a.pod.localeCompare(b.pod) || a.container.localeCompare(b.container));

  const results: PodLog[] = new Array<PodLog>(work.length);
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const index = next++;
      const item = work[index]!;
      // A pod no node has taken has no log yet. The API server answers its log request with an empty
      // body and no Content-Type, which the client cannot read: it is not asked.
      results[index] = item.scheduled
        ? await readOneLog(conn, namespace, item.pod, item.container, sinceSeconds, maxBytesPerPod)
        : { pod: item.pod, container: item.container, log: '', truncated: false, error: `pod ${namespace}/${item.pod} is not scheduled to a node yet: no log` };
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOG_CONCURRENCY, work.length) }, worker));
  return results;
}

async function readOneLog(conn: KubernetesConnection, namespace: string, pod: string, container: string, sinceSeconds: number, maxBytes: number): Promise<PodLog> {
  try {
    // One byte more than kept tells a log that fills the cap exactly from one that was cut.
    const text = await send(conn, { verb: 'get', resource: 'pods/log', namespace, name: pod }, () =>
      conn.core.readNamespacedPodLog({ name: pod, namespace, container, sinceSeconds, limitBytes: maxBytes + 1, timestamps: true }, requestOptions(conn)),
    );
    const bytes = Buffer.from(text ?? '', 'utf8');
    if (bytes.length <= maxBytes) return { pod, container, log: bytes.toString('utf8'), truncated: false };
    let end = maxBytes;
    // Never cut a UTF-8 character in half.
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    return { pod, container, log: bytes.subarray(0, end).toString('utf8'), truncated: true };
  } catch (error) {
    // A pod that is gone or not started yet must not cost the evidence of the others.
    if (error instanceof KubernetesNotFound || error instanceof KubernetesRejected) {
      return { pod, container, log: '', truncated: false, error: error.message };
    }
    throw error;
  }
}
