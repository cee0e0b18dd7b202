// The example deployment's production Kubernetes manifests, as kept in the recovery region's bucket.
import { stringify as toYaml } from 'yaml';
import type { KubernetesConfig } from '../shared/config.js';

/** The production release the manifests deploy (the backup cluster's newest revision runs it too). */
export const PRODUCTION_IMAGE = 'frontier/api:1.8.2';

/**
 * The production manifests as kept in the recovery region's bucket (kubectl's k8s/ folder): file name
 * -> YAML. The Deployment leaves `replicas` out on purpose, as manifests under an autoscaler do: an apply
 * must not scale the API, the failover's scale step does.
 */
export function productionManifests(kubernetes: KubernetesConfig): Record<string, string> {
  const { namespace, apiDeployment: name } = kubernetes;
  const labels = { app: name };
  return {
    '00-namespace.yaml': toYaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'frontier' } } }),
    '10-frontier-config.yaml': toYaml({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'frontier-config', namespace },
      data: { LOG_LEVEL: 'info', DATABASE_NAME: 'frontier', REDIS_TLS: 'true', FEATURE_FLAGS: 'search,exports' },
    }),
    '20-frontier-api.yaml': [
      toYaml({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace, labels },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name,
                  image: PRODUCTION_IMAGE,
                  ports: [{ containerPort: 8080, protocol: 'TCP' }],
                  envFrom: [{ configMapRef: { name: 'frontier-config' } }],
                  readinessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 5 },
                },
              ],
            },
          },
        },
      }),
      toYaml({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace, labels },
        spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      }),
    ].join('---\n'),
  };
}
