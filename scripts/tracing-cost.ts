// `npx tsx scripts/tracing-cost.ts [--runs N]`: what Powertools Tracer (X-Ray) would add to a cold
// start. Each function below is bundled twice with serverless.yml's esbuild options, as deployed and
// with the Tracer wired in the way Powertools documents it (captureLambdaHandler middleware, and
// captureAWSv3Client on the function's AWS client), then each bundle's require() is timed in fresh
// node processes, round-robin (as `npm run bench` times module init). A measurement tool, not a test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { deploymentConfigEnvironment } from '../local/deployment-config.js';
import { loadDeploymentConfigFile } from '../shared/config-file.js';

const root = join(import.meta.dirname, '..');

/** The options of serverless.yml custom.esbuild as serverless-esbuild passes them. */
const ESBUILD = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: 'node22',
  platform: 'node',
  format: 'cjs',
  mainFields: ['module', 'main'],
  alias: { '@aws-sdk/credential-provider-node': join(root, 'deploy/lambda-credentials.ts') },
} as const;

/** Functions measured: one that calls no AWS API, and two that do (the client captured). */
const FUNCTIONS: { name: string; folder: string; client?: { module: string; factory: string; region: string } }[] = [
  { name: 'startRun', folder: 'start-run' },
  { name: 'publishReport', folder: 'publish-report', client: { module: 'shared/clients.ts', factory: 's3Client', region: 'us-east-1' } },
  { name: 'receiveAlertmanagerAlerts', folder: 'receive-alertmanager-alerts', client: { module: 'shared/clients.ts', factory: 'stepFunctionsClient', region: 'us-east-1' } },
];

const INIT_CHILD = `'use strict';
const { performance } = require('node:perf_hooks');
const started = performance.now();
require(process.argv[2]);
process.stdout.write(String(performance.now() - started));
`;

function tracedEntry(folder: string, client?: (typeof FUNCTIONS)[number]['client']): string {
  return [
    "import { Tracer } from '@aws-lambda-powertools/tracer';",
    "import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';",
    `import { handler as deployed } from './functions/${folder}/handler.ts';`,
    ...(client ? [`import { ${client.factory} } from './${client.module}';`] : []),
    "const tracer = new Tracer({ serviceName: 'frontier-dr' });",
    ...(client ? [`tracer.captureAWSv3Client(${client.factory}('${client.region}'));`] : []),
    'export const handler = deployed.use(captureLambdaHandler(tracer));',
  ].join('\n');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const runsArgument = process.argv.indexOf('--runs');
  const runs = runsArgument > 0 ? Number(process.argv[runsArgument + 1]) : 15;
  const work = mkdtempSync(join(tmpdir(), 'tracing-cost-'));
  try {
    const script = join(work, 'init.cjs');
    writeFileSync(script, INIT_CHILD);
    const bundles: { name: string; variant: string; file: string; bytes: number; samples: number[] }[] = [];
    for (const fn of FUNCTIONS) {
      for (const variant of ['as deployed', 'with Tracer'] as const) {
        const file = join(work, fn.name, variant === 'as deployed' ? 'plain.js' : 'traced.js');
        const entry = variant === 'as deployed' ? { entryPoints: [join(root, 'functions', fn.folder, 'handler.ts')] } : { stdin: { contents: tracedEntry(fn.folder, fn.client), resolveDir: root, loader: 'ts' as const } };
        await build({ ...ESBUILD, mainFields: [...ESBUILD.mainFields], ...entry, outfile: file, write: true, logLevel: 'silent', absWorkingDir: root });
        bundles.push({ name: fn.name, variant, file, bytes: statSync(file).size, samples: [] });
      }
    }
    const env = {
      // The packaged example config, as `npm run bench` gives it (a function may read it at load).
      ...deploymentConfigEnvironment(loadDeploymentConfigFile(join(root, 'config', 'example.yml'))),
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:frontier-prod-dr-alerts',
      RECOVERY_LOCK_TABLE: 'frontier-dr-bench-recovery-lock',
      ALERTMANAGER_TOKEN_SECRET: 'frontier-dr-bench-alertmanager-token',
      STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:us-east-1:123456789012:stateMachine:frontier-dr-bench-',
      POWERTOOLS_SERVICE_NAME: 'frontier-dr',
      // What Lambda sets with tracing Active; without it the X-Ray SDK logs and skips segments.
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      AWS_LAMBDA_FUNCTION_NAME: 'bench',
    };
    for (let run = 0; run < runs; run++) {
      for (const b of bundles) b.samples.push(Number(execFileSync(process.execPath, [script, b.file], { env, encoding: 'utf8' })));
    }
    console.log(`node ${process.version}, ${runs} fresh processes per bundle, ${new Date().toISOString()}`);
    console.log('function                   variant       bundle KB  init median ms  init min ms');
    for (const b of bundles) {
      console.log(
        `${b.name.padEnd(26)} ${b.variant.padEnd(13)} ${(b.bytes / 1024).toFixed(1).padStart(9)}  ${median(b.samples).toFixed(1).padStart(14)}  ${Math.min(...b.samples).toFixed(1).padStart(11)}`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
