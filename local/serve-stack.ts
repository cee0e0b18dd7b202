// The example deployment served locally for the operator CLI: the emulated environment started and
// seeded as the drill seeds it (without the Kubernetes clusters unless asked: the cluster scenarios
// need them), the functions' environment set as the stack sets it, and the stack's state machines
// (frontier-dr-<stage>-<scenario>) answered through the Step Functions API by the local runner. A CLI
// in another process, with AWS_ENDPOINT_URL at `endpoint`, then starts, watches, approves and reports
// runs as it would in AWS.
//
//   npx tsx local/serve-stack.ts [--stage local] [--clusters]   # prints what to export, runs until Ctrl-C
import { parseArgs } from 'node:util';
import type { DeploymentConfig } from '../shared/config.js';
import { loadDeploymentConfigFile } from '../shared/config-file.js';
import { SCENARIO_NAMES } from '../shared/scenarios.js';
import { startClusterEnvironment } from './clusters.js';
import { useConfig } from './deployment-config.js';
import { awsFrontOf, emulatorConfig, startEmulatedEnvironment, type EmulatedEnvironment } from './environment.js';
import { runEmulatedExecution } from './executions.js';
import { APPROVAL_SIGNING_SECRET, APPROVALS_TABLE, seedExampleDeployment, withSeededWafIpSet } from './seed.js';
import { createStateMachineService, type StateMachineService } from './state-machine-service.js';

export interface ServedStack {
  /** Where the CLI's AWS_ENDPOINT_URL points. */
  endpoint: string;
  environment: EmulatedEnvironment;
  config: DeploymentConfig;
  service: StateMachineService;
  /** Waits for the runs started so far, then stops everything. */
  stop(): Promise<void>;
}

export interface ServeStackOptions {
  stage: string;
  /** The deployment file (default config/example.yml). */
  configFile?: string;
  /** Also the two Kubernetes clusters, Redis and the API /health (the cluster scenarios need them). */
  clusters?: boolean;
  /** Wait states last this long (ms); default 0, as in the tests. */
  waitMilliseconds?: number;
}

export async function serveStack(options: ServeStackOptions): Promise<ServedStack> {
  const environment = await startEmulatedEnvironment();
  try {
    let config = loadDeploymentConfigFile(options.configFile ?? 'config/example.yml');
    const clusters = options.clusters ? await startClusterEnvironment(environment, config, { primary: 'healthy' }) : undefined;
    config = emulatorConfig(config, environment);
    const seeded = await seedExampleDeployment(config, environment.endpoint, environment.postgres, clusters);
    if (config.regionFailback && seeded.failbackKeyArn) config = { ...config, regionFailback: { ...config.regionFailback, kmsKeyArn: seeded.failbackKeyArn } };
    config = withSeededWafIpSet(config, seeded);
    // What the stack gives every function (serverless.yml provider.environment and the approval step's).
    useConfig(config, seeded.alertTopicArn);
    process.env.ALERT_TOPIC_ARN = seeded.alertTopicArn;
    process.env.RECOVERY_LOCK_TABLE = seeded.recoveryLockTable;
    process.env.APPROVALS_TABLE = APPROVALS_TABLE;
    process.env.APPROVAL_SIGNING_SECRET = APPROVAL_SIGNING_SECRET;
    process.env.APPROVAL_LINK_BASE_URL ??= 'https://approvals.local.invalid';
    const service = createStateMachineService({
      stage: options.stage,
      scenarios: SCENARIO_NAMES,
      run: (scenario, input, run) => runEmulatedExecution(environment.endpoint, scenario, input, { ...run, waitMilliseconds: options.waitMilliseconds ?? 0 }),
    });
    awsFrontOf(environment.endpoint)?.serveStateMachines(service);
    return {
      endpoint: environment.endpoint,
      environment,
      config,
      service,
      stop: async () => {
        await service.settled();
        service.stop();
        await environment.stop();
      },
    };
  } catch (error) {
    await environment.stop();
    throw error;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { stage: { type: 'string', default: 'local' }, config: { type: 'string' }, clusters: { type: 'boolean', default: false } } });
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const served = await serveStack({ stage: values.stage, ...(values.config ? { configFile: values.config } : {}), clusters: values.clusters, waitMilliseconds: values.clusters ? 300 : 0 });
  console.log(`Serving frontier-dr-${values.stage}-<scenario> for ${served.config.deployment} at ${served.endpoint}. In another shell:`);
  console.log(`  export AWS_ENDPOINT_URL=${served.endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1`);
  console.log(`  npx frontier-dr start backup-verification --stage ${values.stage} --dry-run --watch`);
  console.log('Ctrl-C stops it.');
  const stop = () => void served.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1]?.endsWith('serve-stack.ts')) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
