// The operator CLI's AWS commands: start a scenario's state machine, watch an execution, answer its
// approval, print its report. Each takes its clients, so tests can give them mocks; the command line
// (cli/frontier-dr.ts) makes them with the SDK's own credential chain and AWS_ENDPOINT_URL.
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  paginateGetExecutionHistory,
  paginateListStateMachines,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { DeploymentConfig } from '../shared/config.js';
import { loadDeploymentConfigFile } from '../shared/config-file.js';
import { planRun } from '../shared/run.js';
import { isScenarioName, SCENARIO_NAMES, type ScenarioName } from '../shared/scenarios.js';
import { consoleLink, parseExecutionArn, progressLines, reportLocation, scenarioObjectives, waitingApproval, type ExecutionArnParts } from './execution-history.js';

/** A failure the CLI reports in one line on stderr; `exitCode` 2 for bad arguments or input, 1 for the rest. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, 2);
export const failure = (message: string) => new CliError(message, 1);

/** Several lines of a validation message in one: `a: x; b: y`. */
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim().replace(/^- /, ''))
    .filter(Boolean)
    .join('; ')
    .replace(/:; /g, ': ');
}

/** What the operator sees of an AWS call that failed: the call and the service's own error, in one line. */
export function awsFailure(call: string, error: unknown): CliError {
  if (error instanceof CliError) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return failure(`${call} failed: ${name}: ${oneLine(message)}`);
}

/**
 * The deployment file: `--config` when given, else `config/<stage>.yml` when it exists, else the file
 * serverless.yml packages when none is named (`config/example.yml`). Throws a usage error naming every
 * bad field in one line.
 */
export function loadConfig(file: string | undefined, stage: string | undefined): { config: DeploymentConfig; file: string } {
  const chosen = file ?? (stage && existsSync(`config/${stage}.yml`) ? `config/${stage}.yml` : 'config/example.yml');
  try {
    return { config: loadDeploymentConfigFile(chosen), file: chosen };
  } catch (error) {
    throw usageError(oneLine((error as Error).message));
  }
}

/** `--input`: JSON text, or a file holding it. */
export function readInput(value: string | undefined): Record<string, unknown> {
  if (value === undefined) return {};
  let text = value;
  if (!value.trim().startsWith('{')) {
    if (!existsSync(value)) throw usageError(`--input: got ${JSON.stringify(value)}; expected a JSON object or a file holding one`);
    text = readFileSync(value, 'utf8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw usageError(`--input: not JSON (${(error as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw usageError(`--input: got ${JSON.stringify(parsed)}; expected a JSON object`);
  return parsed as Record<string, unknown>;
}

const STAGE = /^[A-Za-z0-9-]{1,40}$/;

export function parseExecution(arn: string): ExecutionArnParts {
  const parts = parseExecutionArn(arn);
  if (!parts) throw usageError(`execution: got ${JSON.stringify(arn)}; expected an execution ARN (arn:aws:states:<region>:<account>:execution:<state machine>:<name>)`);
  return parts;
}

export interface StartOptions {
  scenario: string;
  stage: string;
  input?: string;
  dryRun?: boolean;
  region?: string;
  config?: string;
  name?: string;
}

export interface Started {
  executionArn: string;
  stateMachineArn: string;
  region: string;
  link: string;
  /** The input as sent. */
  input: Record<string, unknown>;
}

/**
 * Checks everything locally first (the scenario, the stage, the config, the input against the contract
 * StartRun applies: shared/run.ts planRun), so a bad input makes no AWS request; then finds the state
 * machine `frontier-dr-<stage>-<scenario>` (states:ListStateMachines) and starts it (states:StartExecution).
 * Throws CliError: exit 2 for bad input, 1 for a missing state machine or a failed call.
 */
export async function startScenario(options: StartOptions, sfnFor: (region: string) => SFNClient, now: Date = new Date()): Promise<Started> {
  if (!isScenarioName(options.scenario)) throw usageError(`scenario: got ${JSON.stringify(options.scenario)}; expected one of ${SCENARIO_NAMES.join(', ')}`);
  const scenario: ScenarioName = options.scenario;
  if (!STAGE.test(options.stage)) throw usageError(`--stage: got ${JSON.stringify(options.stage)}; expected the stage the stack was deployed with (letters, digits, -)`);
  const { config } = loadConfig(options.config, options.stage);
  const input = readInput(options.input);
  if (options.dryRun) input.dryRun = true;
  const region = options.region ?? config.recoveryRegion;
  const name = options.name ?? `${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`;
  try {
    // The same contract the first state applies, with the execution it would be.
    planRun(scenario, input, { id: `arn:aws:states:${region}:000000000000:execution:frontier-dr-${options.stage}-${scenario}:${name}`, name, startTime: now.toISOString() }, config);
  } catch (error) {
    throw usageError(oneLine((error as Error).message));
  }
  const sfn = sfnFor(region);
  const wanted = `frontier-dr-${options.stage}-${scenario}`;
  let stateMachineArn: string | undefined;
  try {
    for await (const page of paginateListStateMachines({ client: sfn }, {})) {
      stateMachineArn = page.stateMachines?.find((m) => m.name === wanted)?.stateMachineArn;
      if (stateMachineArn) break;
    }
  } catch (error) {
    throw awsFailure(`states:ListStateMachines in ${region}`, error);
  }
  if (!stateMachineArn) throw failure(`no state machine ${wanted} in ${region}: is the stack deployed there with --stage ${options.stage}?`);
  try {
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    const executionArn = started.executionArn as string;
    return { executionArn, stateMachineArn, region, link: consoleLink(executionArn, region), input };
  } catch (error) {
    throw awsFailure(`states:StartExecution of ${stateMachineArn}`, error);
  }
}

/** The whole history, oldest first (states:GetExecutionHistory, every page, with the states' data). */
export async function readHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  try {
    for await (const page of paginateGetExecutionHistory({ client: sfn, pageSize: 1000 }, { executionArn, includeExecutionData: true })) events.push(...(page.events ?? []));
  } catch (error) {
    throw awsFailure(`states:GetExecutionHistory of ${executionArn}`, error);
  }
  return events;
}

async function describe(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    throw awsFailure(`states:DescribeExecution of ${executionArn}`, error);
  }
}

export interface WatchOptions {
  /** Seconds between two looks at the history. */
  intervalSeconds: number;
  config?: string;
  command: string;
  /** Where each line goes (stdout). */
  print: (line: string) => void;
}

/**
 * Follows an execution until it ends: prints each step as it starts, finishes or fails, waits, the
 * approval prompt, elapsed time against the scenario's RTO (config `objectives`), then the status and
 * where the report is. Returns the final status (states:DescribeExecution, states:GetExecutionHistory).
 */
export async function watchExecution(executionArn: string, sfn: SFNClient, options: WatchOptions): Promise<{ status: string; report: { json: string; markdown: string } | null }> {
  const parts = parseExecution(executionArn);
  const first = await describe(sfn, executionArn);
  // frontier-dr-<stage>-<scenario>: the stage picks the default deployment file (config/<stage>.yml).
  const suffix = `-${parts.scenario ?? ''}`;
  const stage = parts.scenario && parts.stateMachine.startsWith('frontier-dr-') && parts.stateMachine.endsWith(suffix) ? parts.stateMachine.slice('frontier-dr-'.length, -suffix.length) || undefined : undefined;
  let objectives: ReturnType<typeof scenarioObjectives> = [];
  let configNote = '';
  if (parts.scenario) {
    try {
      const { config, file } = loadConfig(options.config, stage);
      let input: Record<string, unknown> = {};
      try {
        input = JSON.parse(first.input ?? '{}') as Record<string, unknown>;
      } catch {
        // An input the run itself refused; the objectives are the scenario's defaults.
      }
      objectives = scenarioObjectives(config, parts.scenario, input);
      configNote = objectives.length ? `RTO ${objectives.map((o) => `${o.rtoMinutes} min (${o.component})`).join(', ')}, from ${file}` : `no RTO for ${parts.scenario}`;
    } catch (error) {
      configNote = `RTO unknown: ${(error as Error).message}`;
    }
  }
  const startedAt = first.startDate ?? new Date();
  options.print(`${parts.scenario ?? parts.stateMachine} ${parts.name}: ${first.status}, started ${startedAt.toISOString()}; ${configNote}`);
  const context = { executionArn, startedAt, objectives, command: options.command };
  let seen: HistoryEvent[] = [];
  for (;;) {
    const status = (await describe(sfn, executionArn)).status ?? 'UNKNOWN';
    const events = await readHistory(sfn, executionArn);
    const fresh = events.slice(seen.length);
    for (const line of progressLines(fresh, context, seen)) options.print(line);
    seen = events;
    if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
      const final = await describe(sfn, executionArn);
      // The end event can lag the status by a look: say it once, from the description.
      if (!events.some((e) => e.type?.startsWith('Execution') && e.type !== 'ExecutionStarted')) {
        options.print(`ended ${status}${final.error ? `: ${final.error}` : ''}`);
      }
      const report = reportLocation(final.output, events);
      options.print(report ? `report: ${report.markdown} (JSON ${report.json}); print it with: ${options.command} report ${executionArn}` : 'report: none was stored (the run ended before PublishReport)');
      return { status, report };
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalSeconds * 1000));
  }
}

export interface ApproveOptions {
  decline?: boolean;
  by?: string;
  reason?: string;
}

/**
 * Answers the approval the execution waits on, as README "Answering" documents: SendTaskSuccess with
 * `{"approved": true, "by", "via": "cli", "at"}`, or SendTaskFailure with error ApprovalDeclined and a
 * cause naming who declined, through what, when and why. The token comes from the execution's history
 * (the TaskScheduled event of the callback Task). Throws CliError (1) when nothing waits or the answer is
 * refused (TaskDoesNotExist, TaskTimedOut: answered another way, timed out, or the run ended).
 */
export async function answerApproval(executionArn: string, sfn: SFNClient, options: ApproveOptions, now: Date = new Date()): Promise<{ state: string; answer: string }> {
  parseExecution(executionArn);
  if (options.reason !== undefined && !options.decline) throw usageError('--reason goes with --decline: an approval carries the approver\'s name only');
  const by = (options.by ?? userInfo().username).trim();
  if (!by || by.length > 200) throw usageError(`--by: got ${JSON.stringify(options.by ?? '')}; expected your name (1 to 200 characters)`);
  const events = await readHistory(sfn, executionArn);
  const waiting = waitingApproval(events);
  if (!waiting) {
    const { status } = await describe(sfn, executionArn);
    throw failure(`no approval is waiting in ${executionArn} (execution ${status}): it was answered, timed out, or the run never asked`);
  }
  const at = now.toISOString();
  try {
    if (options.decline) {
      const cause = `declined by ${by} through the CLI at ${at}${options.reason ? `: ${options.reason}` : ''}; nothing was changed`;
      await sfn.send(new SendTaskFailureCommand({ taskToken: waiting.taskToken, error: 'ApprovalDeclined', cause: cause.slice(0, 32_768) }));
      return { state: waiting.state, answer: cause };
    }
    await sfn.send(new SendTaskSuccessCommand({ taskToken: waiting.taskToken, output: JSON.stringify({ approved: true, by, via: 'cli', at }) }));
    return { state: waiting.state, answer: `approved by ${by} through the CLI at ${at}` };
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'TaskDoesNotExist' || name === 'TaskTimedOut') throw failure(`the approval in ${executionArn} is no longer waiting (${name}): answered another way, timed out, or the run ended; nothing was sent`);
    throw awsFailure(`states:${options.decline ? 'SendTaskFailure' : 'SendTaskSuccess'} for ${waiting.state}`, error);
  }
}

/** `s3://bucket/key` -> bucket, key */
function s3Location(url: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) throw failure(`report location ${url} is not an s3:// URL`);
  return { bucket: match[1] as string, key: match[2] as string };
}

/**
 * The run's report as PublishReport stored it: its location from the execution's output, or from
 * PublishReport's own output in the history (a run that ended failed has no output), then
 * s3:GetObject from the reports bucket (the execution's region). Throws CliError (1) when no report
 * was stored yet.
 */
export async function fetchReport(executionArn: string, format: 'markdown' | 'json', sfn: SFNClient, s3For: (region: string) => S3Client): Promise<string> {
  const parts = parseExecution(executionArn);
  const execution = await describe(sfn, executionArn);
  const location = reportLocation(execution.output, await readHistory(sfn, executionArn));
  if (!location) throw failure(`no report for ${executionArn} (execution ${execution.status}): PublishReport has not stored one${execution.status === 'RUNNING' ? ' yet' : ''}`);
  const url = format === 'json' ? location.json : location.markdown;
  const { bucket, key } = s3Location(url);
  try {
    const object = await s3For(parts.region).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    throw awsFailure(`s3:GetObject of ${url}`, error);
  }
}
