// CollectEvidence of security-incident: the API pods' recent logs and the databases' log-file lists
// into the evidence bucket, each object with its SHA-256 (shared/evidence.ts).
import { connectTo } from '../../shared/cluster-ops.js';
import { rdsClient, s3Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, securityIncidentConfig } from '../../shared/config.js';
import { collectEvidence } from '../../shared/evidence.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CollectEvidenceEvent {
  run: RunContext;
}

export const handler = recoveryHandler(async (event: CollectEvidenceEvent) => {
  const config = deploymentConfigFromEnvironment();
  const { cluster } = securityIncidentConfig(config);
  // The evidence bucket is the stack's (recovery region); the databases are in the primary region.
  return runStep(() =>
    collectEvidence(config, event.run, {
      s3: s3Client(config.recoveryRegion),
      rds: rdsClient(config.primaryRegion),
      connection: () => connectTo(config, cluster),
    }),
  );
});
