// Region-failure detection where Route 53 health-check metrics cannot be alarmed on (they exist only in
// us-east-1): a function in the recovery region calls the primary API's /health every minute and
// publishes the answer as its own metric, which the RegionFailure alarm watches (missing data counts as
// a failure, so a probe that cannot run at all still raises it).
import { PutMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { regionFailoverConfig, type DeploymentConfig } from './config.js';
import { awsCall } from './errors.js';
import { checkApiHealth } from './health/api.js';

/** The probe's metric: 1 when the primary API answered /health, 0 when not. */
export const PROBE_NAMESPACE = 'FrontierDR/RegionProbe';
export const PROBE_METRIC = 'PrimaryApiHealthy';
export const PROBE_DIMENSION = 'Deployment';

/** `https://<fqdn>:<port><path>` of regionFailover.detection.healthCheck. */
export function probeUrl(config: DeploymentConfig): string {
  const { fqdn, port, path } = regionFailoverConfig(config).detection.healthCheck;
  return `https://${fqdn.replace(/\.$/, '')}${port === 443 ? '' : `:${port}`}${path}`;
}

/**
 * One probe: GET the primary API's /health within healthCheck.timeoutSeconds, then publish 1 or 0
 * (cloudwatch:PutMetricData in the recovery region, namespace PROBE_NAMESPACE, dimension Deployment).
 * A failed GET is the measurement, not an error; throws only what awsCall names for PutMetricData.
 */
export async function probePrimaryApi(config: DeploymentConfig, cloudwatch: CloudWatchClient, now: Date): Promise<{ healthy: boolean; url: string; message: string }> {
  const url = probeUrl(config);
  const result = await checkApiHealth(url, regionFailoverConfig(config).detection.healthCheck.timeoutSeconds * 1000);
  await awsCall('cloudwatch:PutMetricData', `${PROBE_NAMESPACE}/${PROBE_METRIC} in ${config.recoveryRegion}`, () =>
    cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: PROBE_NAMESPACE,
        MetricData: [{ MetricName: PROBE_METRIC, Dimensions: [{ Name: PROBE_DIMENSION, Value: config.deployment }], Timestamp: now, Value: result.passed ? 1 : 0, Unit: 'Count' }],
      }),
    ),
  );
  return { healthy: result.passed, url, message: result.message };
}
