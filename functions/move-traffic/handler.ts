// Cluster failover's last action, once the backup passed the health gates: the DNS record clients use
// (kubernetes.traffic) is set to the backup cluster. Skipped when the config names no record. The
// record's previous value goes into the report: failing back is setting it again.
import { route53Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, kubernetesConfig } from '../../shared/config.js';
import { describeRecordSet, moveTrafficToBackup } from '../../shared/dns.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface MoveTrafficData {
  /** True when the state machine must wait for Route 53 to apply the change. */
  waitForChange: boolean;
  changeId: string | null;
  submittedAt: string | null;
  record: string | null;
}

export const handler = recoveryHandler(async (event: { run: RunContext }) => {
  const config = deploymentConfigFromEnvironment();
  const traffic = kubernetesConfig(config).traffic;
  return runStep<MoveTrafficData>(async () => {
    if (!traffic) {
      return {
        data: { waitForChange: false, changeId: null, submittedAt: null, record: null },
        status: 'skipped',
        detail: 'traffic not moved: the deployment config names no DNS record (kubernetes.traffic); move clients to the backup cluster by hand',
      };
    }
    const move = await moveTrafficToBackup(route53Client(), traffic, event.run.executionId, event.run.dryRun, new Date());
    const data = { waitForChange: move.changeId !== null, changeId: move.changeId, submittedAt: move.submittedAt, record: move.record };
    const before = describeRecordSet(move.previous);
    if (!move.changed) {
      return {
        data,
        actions: [move.action],
        detail: event.run.dryRun ? `dry run: ${move.record} now resolves to ${before}` : `${move.record} already points at the backup cluster (${before})`,
      };
    }
    return {
      data,
      actions: [move.action],
      resources: [
        {
          kind: 'route53:record',
          id: `${traffic.hostedZoneId}/${move.record}`,
          region: 'global',
          kept: true,
          note: `before the failover: ${before}; set it back to fail back`,
        },
      ],
      detail: `${move.record} moved from ${before} to the backup cluster; Route 53 change ${move.changeId}`,
    };
  });
});
