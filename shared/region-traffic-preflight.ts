// The PreflightTraffic step of a region failover: what the DNS move needs, checked before the first
// change: each control-plane record in its zone (Route 53, global). Data-plane records are read by the
// DNS move itself (their routing controls). Read-only; a failure ends the run with DNS untouched. (The
// manifests are checked by CheckManifests, the manifest function in preflight mode: each function
// bundles only the clients it calls.)
import type { Route53Client } from '@aws-sdk/client-route-53';
import { regionFailoverConfig, type DeploymentConfig } from './config.js';
import { findRecordSet, normaliseDnsName } from './dns.js';
import { RecoveryError } from './errors.js';
import { check } from './preflight-check.js';
import type { StepResult } from './steps.js';

/**
 * Checks that every control-plane record of regionFailover.dns exists as a simple record
 * (route53:ListResourceRecordSets). Every finding is a Check; `passed` only when all pass. Throws only
 * InvalidConfig (no regionFailover section) and AwsTransientError (retried by the state).
 */
export async function preflightRegionTraffic(config: DeploymentConfig, clients: { route53: Route53Client }): Promise<StepResult<{ passed: boolean }>> {
  const failover = regionFailoverConfig(config);
  const checks = await Promise.all(
    failover.dns.map((record) =>
      record.mode === 'data-plane'
        ? check('dns-record', `${normaliseDnsName(record.recordName)} (data-plane)`, 'routing controls configured', async () => `routing controls ${record.routingControls.primary} / ${record.routingControls.backup} through ${record.clusterEndpoints.length} cluster endpoints`)
        : check('dns-record', `${normaliseDnsName(record.recordName)} ${record.recordType} in ${record.hostedZoneId}`, 'exists as a simple record', async () => {
            const found = await findRecordSet(clients.route53, record.hostedZoneId, record.recordName, record.recordType);
            if (!found) throw new RecoveryError(`${normaliseDnsName(record.recordName)} ${record.recordType} does not exist in ${record.hostedZoneId}: nothing to move`);
            return 'exists';
          }),
    ),
  );
  const failed = checks.filter((c) => !c.passed);
  return {
    data: { passed: failed.length === 0 },
    checks,
    detail: failed.length === 0 ? `${failover.dns.length} DNS record(s) ready to move` : `not ready, nothing changed: ${failed.map((c) => c.message).join('; ')}`,
  };
}
