// `npx frontier-dr <command>`: the operator CLI. `drill` runs the scenarios locally (cli/drill.ts, as
// `npm run drill` does); `start`, `watch`, `approve` and `report` drive the deployed state machines in
// AWS through the SDK (its credential chain; AWS_ENDPOINT_URL points them at the local emulator);
// `validate` checks a deployment file offline. Arguments are parsed by commander; every command has
// --help. Errors: one line on stderr, exit 2 for bad arguments or input (nothing was sent to AWS), 1 for
// a failure (an AWS call refused, nothing to approve, a run that did not succeed), as the drill's
// statuses are.
//
// Built by `npm run build:cli` (scripts/build-cli.mjs, also on npm install through `prepare`) into
// dist/cli/, the package.json `bin`; `npx tsx cli/frontier-dr.ts` runs the source.
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SCENARIO_NAMES } from '../shared/scenarios.js';
import { CliError, answerApproval, fetchReport, startScenario, watchExecution } from './operator.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** How an operator runs this CLI, in the command lines it prints. */
const COMMAND = 'npx frontier-dr';

/** One client per region for the command's lifetime; AWS_ENDPOINT_URL (the SDK's own variable) redirects them. */
const sfnClients = new Map<string, SFNClient>();
const sfnFor = (region: string) => sfnClients.get(region) ?? sfnClients.set(region, new SFNClient({ region })).get(region)!;
const s3For = (region: string) => new S3Client({ region, forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) });

const EXIT_STATUSES = `
Exit status:
  0  done (validate: no errors, warnings allowed; watch: the execution SUCCEEDED)
  1  a failure: an AWS call failed, nothing to approve, no report yet, validate found errors,
     or the watched execution did not succeed
  2  bad arguments or input (the field named); nothing was sent to AWS`;

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new InvalidArgumentError('expected seconds between 0 and 3600');
  return seconds;
}

/** Runs a command's work; a CliError becomes its one line on stderr and its exit status. */
function action<A extends unknown[]>(name: string, work: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await work(...args);
      process.exitCode = code ?? 0;
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      process.stderr.write(`frontier-dr ${name}: ${error.message}\n`);
      process.exitCode = error.exitCode;
    }
  };
}

export function program(): Command {
  const cli = new Command('frontier-dr')
    .description('Disaster-recovery scenarios for AWS: drill them locally, start, watch, approve and report them in AWS, validate a deployment.')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText('after', EXIT_STATUSES);

  cli
    .command('drill')
    .description('run scenarios locally against the emulated environment, exactly as `npm run drill` (its own --help lists the options)')
    .argument('[args...]', 'the drill\'s own arguments: scenarios, --out, --config, --endpoint, --fail-on-findings, --help')
    .helpOption(false)
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (args: string[]) => {
      // The drill runs the handlers from source, as `npm run drill` does under tsx: the same loader here.
      const { register } = (await import('tsx/esm/api')) as { register: () => unknown };
      register();
      const drill = (await import(pathToFileURL(join(root, 'cli', 'drill.ts')).href)) as { runDrill: (args: string[]) => Promise<void> };
      await drill.runDrill(args);
    });

  cli
    .command('start')
    .description('start a scenario\'s state machine (frontier-dr-<stage>-<scenario>) in AWS; the input is checked locally first, with the contract the first state applies')
    .argument('<scenario>', `one of ${SCENARIO_NAMES.join(', ')}`)
    .requiredOption('--stage <stage>', 'the stage the stack was deployed with (serverless --stage)')
    .option('--input <json|file>', 'the execution input: JSON text or a file holding it (README "Running by hand")')
    .option('--dry-run', 'record every change the run would make, make none (sets "dryRun": true)')
    .option('--region <region>', 'the stack\'s region (default: the config\'s recoveryRegion)')
    .option('--config <file>', 'the deployment file the stack was packaged with (default config/<stage>.yml, else config/example.yml)')
    .option('--name <name>', 'the execution name (default: the UTC time and a random suffix)')
    .option('--watch', 'then follow it as `watch` does')
    .addOption(new Option('--interval <seconds>', 'with --watch: seconds between two looks').argParser(positiveSeconds).default(5))
    .addHelpText('after', EXIT_STATUSES)
    .action(
      action('start', async (scenario: string, options: { stage: string; input?: string; dryRun?: boolean; region?: string; config?: string; name?: string; watch?: boolean; interval: number }) => {
        const started = await startScenario({ scenario, ...options }, sfnFor);
        console.log(`started ${scenario}${started.input.dryRun === true ? ' (dry run)' : ''}: ${started.executionArn}`);
        console.log(`console: ${started.link}`);
        if (!options.watch) {
          console.log(`follow it: ${COMMAND} watch ${started.executionArn}`);
          return 0;
        }
        const watched = await watchExecution(started.executionArn, sfnFor(started.region), { intervalSeconds: options.interval, ...(options.config ? { config: options.config } : {}), command: COMMAND, print: (line) => console.log(line) });
        return watched.status === 'SUCCEEDED' ? 0 : 1;
      }),
    );

  cli
    .command('watch')
    .description('follow an execution until it ends: each step, waits, approval prompts, elapsed time against the scenario\'s RTO, then its status and report')
    .argument('<execution-arn>', 'the execution (start prints it)')
    .addOption(new Option('--interval <seconds>', 'seconds between two looks at the history').argParser(positiveSeconds).default(5))
    .option('--config <file>', 'the deployment file, for the RTO (default config/<stage>.yml, else config/example.yml)')
    .addHelpText('after', EXIT_STATUSES)
    .action(
      action('watch', async (arn: string, options: { interval: number; config?: string }) => {
        const region = arn.split(':')[3] ?? '';
        const watched = await watchExecution(arn, sfnFor(region), { intervalSeconds: options.interval, ...(options.config ? { config: options.config } : {}), command: COMMAND, print: (line) => console.log(line) });
        return watched.status === 'SUCCEEDED' ? 0 : 1;
      }),
    );

  cli
    .command('approve')
    .description('answer the approval an execution waits on (SendTaskSuccess, or SendTaskFailure ApprovalDeclined with --decline)')
    .argument('<execution-arn>', 'the execution waiting for approval')
    .option('--decline', 'decline: the run changes nothing and ends failed with ApprovalDeclined')
    .option('--by <name>', 'your name, recorded in the run\'s report (default: your user name)')
    .option('--reason <text>', 'with --decline: why, recorded in the report')
    .addHelpText('after', EXIT_STATUSES)
    .action(
      action('approve', async (arn: string, options: { decline?: boolean; by?: string; reason?: string }) => {
        const region = arn.split(':')[3] ?? '';
        const answered = await answerApproval(arn, sfnFor(region), options);
        console.log(`${answered.state}: ${answered.answer}`);
      }),
    );

  cli
    .command('report')
    .description('print the report the execution stored (PublishReport: the reports bucket)')
    .argument('<execution-arn>', 'the execution')
    .addOption(new Option('--format <format>', 'markdown or json').choices(['markdown', 'json']).default('markdown'))
    .addHelpText('after', EXIT_STATUSES)
    .action(
      action('report', async (arn: string, options: { format: 'markdown' | 'json' }) => {
        const region = arn.split(':')[3] ?? '';
        process.stdout.write(await fetchReport(arn, options.format, sfnFor(region), s3For));
      }),
    );

  cli
    .command('validate')
    .description('check a deployment file offline: every bad field, the state machine definitions, and the recovery paths (no step of a region failover in the primary region; control-plane DNS flagged)')
    .requiredOption('--config <file>', 'the deployment file (e.g. config/prod.yml)')
    .addHelpText('after', EXIT_STATUSES)
    .action(
      action('validate', async (options: { config: string }) => {
        const { validateDeployment } = await import('./validate.js');
        const { findings } = validateDeployment(options.config);
        for (const finding of findings) console.log(`${finding.severity === 'error' ? 'error  ' : 'warning'} ${finding.where}: ${finding.message}`);
        const errors = findings.filter((f) => f.severity === 'error').length;
        const warnings = findings.length - errors;
        console.log(`${options.config}: ${errors === 0 ? 'valid' : 'NOT valid'} (${errors} error(s), ${warnings} warning(s))`);
        return errors > 0 ? 1 : 0;
      }),
    );

  return cli;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  // Output piped into a reader that stops early (`| head`): nothing more to say, not a crash.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    await program().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has written its one line (or the help) already.
      process.exitCode = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code) ? 0 : 2;
      return;
    }
    process.stderr.write(`frontier-dr: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  } finally {
    for (const client of sfnClients.values()) client.destroy();
  }
}

// Run as the program (the bin, or tsx cli/frontier-dr.ts), not when a test imports it.
if (process.argv[1] && /frontier-dr(\.ts|\.js)?$/.test(process.argv[1])) void main();
