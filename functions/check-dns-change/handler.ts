// One look at the DNS change per loop of the state machine's Wait/Choice: INSYNC once every Route 53
// name server answers with the new record; gives up past kubernetes.traffic.timeoutMinutes. The look
// also says when to look again (`nextCheckSeconds`, the Wait's SecondsPath): a change can be INSYNC
// within seconds, so 10 s polls from the first look on, never past the limit (shared/polling.ts).
import { route53Client } from '../../shared/clients.js';
import { deploymentConfigFromEnvironment, kubernetesConfig } from '../../shared/config.js';
import { checkTrafficMove } from '../../shared/dns.js';
import { nextCheckSeconds, secondsBetween } from '../../shared/polling.js';
import type { RunContext } from '../../shared/run.js';
import { runStep } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface CheckDnsChangeEvent {
  run: RunContext;
  changeId: string;
  submittedAt: string;
}

export const handler = recoveryHandler(async (event: CheckDnsChangeEvent) => {
  const config = deploymentConfigFromEnvironment();
  const traffic = kubernetesConfig(config).traffic;
  return runStep(async () => {
    const now = new Date();
    const look = await checkTrafficMove(route53Client(), traffic, { changeId: event.changeId, submittedAt: event.submittedAt }, now);
    const next = nextCheckSeconds({ elapsedSeconds: secondsBetween(event.submittedAt, now), expectedSeconds: 0, ...(traffic ? { timeoutSeconds: traffic.timeoutMinutes * 60 } : {}) });
    return { ...look, data: { ...look.data, nextCheckSeconds: next } };
  });
});
