// Region failback's starting point: the record a region-failover run leaves in its published report
// (the DNS values it moved, the database it restored), read from the reports bucket and refused, naming
// the report and why, when a failback cannot start from it. Read-only.
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';
import { findDatabase, type DatabaseConfig, type DeploymentConfig } from './config.js';
import type { RecordedDnsState } from './dns.js';
import type { RecordedDnsState as ReportedDnsState } from './dns-state.js';
import type { FailbackRecord } from './region-failover-report.js';
import { awsCall, describeIssues, FailbackRefused, InvalidConfig } from './errors.js';
import { failbackSnapshotId, incidentIdFor, restoredInstanceId } from './names.js';
import type { RunContext } from './run.js';
import type { StepResult } from './steps.js';

// ---------------------------------------------------------------------------------------------------
// The failover's record

const recordedDnsSchema = z.union([
  z.object({
    mode: z.literal('control-plane'),
    // `api.frontier.com. CNAME` (shared/dns.ts recordLabel).
    record: z.string().check(z.minLength(1)),
    hostedZoneId: z.string().check(z.minLength(1)),
    // The record set as Route 53 returned it (or null: there was none); set again as it is.
    recordSet: z.nullable(z.looseObject({ Name: z.string(), Type: z.string() })),
  }),
  z.object({
    mode: z.literal('data-plane'),
    record: z.string().check(z.minLength(1)),
    routingControls: z.array(z.object({ arn: z.string().check(z.minLength(1)), state: z.enum(['On', 'Off']) })).check(z.minLength(1)),
    clusterEndpoints: z.array(z.object({ region: z.string(), endpoint: z.string() })).check(z.minLength(1)),
  }),
]);

/** The `failback` object a region-failover report carries (written by that scenario's report). */
const failbackObjectSchema = z.object({
  primaryRegion: z.string().check(z.minLength(1)),
  recoveryRegion: z.string().check(z.minLength(1)),
  dns: z.array(recordedDnsSchema).check(z.minLength(1)),
  database: z.object({
    name: z.string().check(z.minLength(1)),
    recoveryInstanceId: z.string().check(z.minLength(1)),
    restorePoint: z.string().check(z.minLength(1)),
  }),
});

// What region failover writes (shared/region-failover-report.ts FailbackRecord, its DNS states as
// shared/dns-state.ts declares them) and what this module reads must stay one shape: these fail to
// compile when either side changes a field. The report's nullable recoveryInstanceId and restorePoint
// are null only in a dry run or a run that never restored, both refused below.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type ReadFailback = z.infer<typeof failbackObjectSchema>;
type WrittenFailback = Omit<FailbackRecord, 'database'> & { database: { [K in keyof FailbackRecord['database']]: NonNullable<FailbackRecord['database'][K]> } };
const sameFields: Same<keyof ReadFailback, keyof FailbackRecord> & Same<keyof ReadFailback['database'], keyof FailbackRecord['database']> = true;
const sameDnsStates: Same<RecordedDnsState, ReportedDnsState> = true;
const writtenIsRead: WrittenFailback extends Omit<ReadFailback, 'dns'> & { dns: RecordedDnsState[] } ? true : false = true;
void [sameFields, sameDnsStates, writtenIsRead];

const failoverReportSchema = z.object({
  scenario: z.string(),
  executionId: z.string(),
  executionName: z.string(),
  dryRun: z.boolean(),
  status: z.string(),
  finishedAt: z.string(),
  failures: z.optional(z.array(z.object({ step: z.string(), error: z.string() }))),
  failback: z.optional(z.unknown()),
});

/** What LoadFailoverRecord hands every later state: the failover's record and this failback's names. */
export interface FailoverRecord {
  /** The failover execution's ARN, from its report. */
  failoverExecution: string;
  /** Where its report is (`s3://bucket/key.json`). */
  report: string;
  failoverFinishedAt: string;
  primaryRegion: string;
  recoveryRegion: string;
  dns: RecordedDnsState[];
  database: { name: string; recoveryInstanceId: string; restorePoint: string };
  /** The new primary-region instance this failback restores to (`<database>-r-<failback start>`). */
  primaryInstanceId: string;
  /** The snapshots this failback takes in the recovery region, and their copies' names in the primary region. */
  snapshots: { baseline: string; final: string };
}

/** `arn:aws:states:<region>:<account>:execution:<state machine>:<name>` -> its parts; a bare name -> name only. */
function executionParts(execution: string): { stateMachine: string | null; name: string } {
  const arn = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:([^:]+):([^:]+)$/.exec(execution);
  return arn ? { stateMachine: arn[1] as string, name: arn[2] as string } : { stateMachine: null, name: execution };
}

/**
 * The settings a failback restore needs from the database's `recovery` section (the primary region's
 * network and parameter group: the recovery-region instance's own are of another region): named
 * before anything changes.
 */
export function failbackRestoreProblems(config: DeploymentConfig, database: DatabaseConfig): string[] {
  const index = config.databases.indexOf(database);
  const at = (field: string) => `databases[${index}].recovery.${field}`;
  const recovery = database.recovery;
  if (!recovery) return [`databases[${index}].recovery: missing; a failback restores ${database.name} in ${config.primaryRegion} with its settings (subnetGroup, securityGroupIds, parameterGroup)`];
  const problems: string[] = [];
  if (!recovery.subnetGroup) problems.push(`${at('subnetGroup')}: missing; the primary region's subnet group the failback restores into`);
  if (!recovery.securityGroupIds?.length) problems.push(`${at('securityGroupIds')}: missing; the primary region's security groups of the restored instance`);
  if (!recovery.parameterGroup) problems.push(`${at('parameterGroup')}: missing; the primary region's parameter group of the restored instance`);
  return problems;
}

/**
 * The LoadFailoverRecord step: finds the named region-failover run's published report in the reports
 * bucket (recovery region), and refuses one a failback cannot start from, naming it and why: not
 * found, not a region failover, not completed, a dry run, no `failback` record, another pair of
 * regions, an unknown database. Also refuses a deployment whose database lacks the primary-region
 * restore settings. Read-only.
 *
 * AWS: s3:ListObjectsV2 (`<prefix>region-failover/`), s3:GetObject. Thrown: FailbackRefused,
 * InvalidConfig, what awsCall names.
 */
export async function loadFailoverRecord(s3: S3Client, config: DeploymentConfig, run: Pick<RunContext, 'failback' | 'executionId' | 'startedAt'>): Promise<StepResult<FailoverRecord>> {
  const wanted = run.failback?.failoverExecution;
  if (!wanted) throw new FailbackRefused('run.failback.failoverExecution is missing: name the region-failover execution to fail back from');
  const { stateMachine, name } = executionParts(wanted);
  if (stateMachine !== null && !stateMachine.endsWith('region-failover')) {
    throw new FailbackRefused(`failoverExecution ${wanted} is an execution of ${stateMachine}, not of region-failover: only a region failover's record can be failed back; nothing was changed`);
  }
  const { bucket } = config.reports;
  const folder = config.reports.prefix && !config.reports.prefix.endsWith('/') ? `${config.reports.prefix}/` : config.reports.prefix;
  const prefix = `${folder}region-failover/`;
  const suffix = `-${name.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
  const keys: string[] = [];
  await awsCall('s3:ListObjectsV2', `s3://${bucket}/${prefix}`, async () => {
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
      for (const object of page.Contents ?? []) if (object.Key?.endsWith(suffix)) keys.push(object.Key);
    }
  });
  // Keys sort by the run's start within a scenario; the same execution's report is one key.
  const key = keys.sort().at(-1);
  if (!key) throw new FailbackRefused(`no region-failover report of execution ${name} in s3://${bucket}/${prefix}: check the execution name (a failover that never reached its report cannot be failed back automatically); nothing was changed`);
  const location = `s3://${bucket}/${key}`;
  const body = await awsCall('s3:GetObject', location, async () => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString());
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch (error) {
    throw new FailbackRefused(`${location} is not JSON (${(error as Error).message}): not a report this product wrote; nothing was changed`, { cause: error });
  }
  const parsed = failoverReportSchema.safeParse(json);
  if (!parsed.success) throw new FailbackRefused(`${location} is not a run report:\n${describeIssues(parsed.error.issues, json)}`);
  const report = parsed.data;
  const refuse = (why: string) => new FailbackRefused(`${location} (execution ${report.executionName}) ${why}; nothing was changed`);
  if (report.scenario !== 'region-failover') throw refuse(`is a ${report.scenario} report, not a region failover`);
  if (report.dryRun) throw refuse('is a dry run: it moved nothing, so there is nothing to fail back');
  if (report.status !== 'succeeded') {
    const failed = (report.failures ?? []).map((f) => `${f.step} (${f.error})`).join(', ');
    throw refuse(`did not complete (status ${report.status}${failed ? `: ${failed}` : ''}): fail back by hand from what its report says it changed`);
  }
  if (report.failback === undefined) throw refuse('holds no failback record (the DNS values and database it moved)');
  const record = failbackObjectSchema.safeParse(report.failback);
  if (!record.success) throw refuse(`has a failback record a failback cannot use:\n${describeIssues(record.error.issues, report.failback).replaceAll('  - ', '  - failback.')}`);
  const failback = record.data;
  if (failback.primaryRegion !== config.primaryRegion || failback.recoveryRegion !== config.recoveryRegion) {
    throw refuse(`moved ${failback.primaryRegion} to ${failback.recoveryRegion}; this deployment protects ${config.primaryRegion} from ${config.recoveryRegion}`);
  }
  if (!config.databases.some((d) => d.name === failback.database.name)) throw refuse(`moved database ${failback.database.name}, which this deployment does not configure`);
  // The failback's IAM covers the one database region failover restores (regionFailover.database).
  if (config.regionFailover && failback.database.name !== config.regionFailover.database) {
    throw refuse(`moved database ${failback.database.name}; this deployment's region failover restores ${config.regionFailover.database} (regionFailover.database), the only one a failback may move`);
  }
  const database = findDatabase(config, failback.database.name);
  const problems = failbackRestoreProblems(config, database);
  if (problems.length) throw new InvalidConfig(`region failback cannot restore ${database.name} in ${config.primaryRegion}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const data: FailoverRecord = {
    failoverExecution: report.executionId,
    report: location,
    failoverFinishedAt: report.finishedAt,
    primaryRegion: failback.primaryRegion,
    recoveryRegion: failback.recoveryRegion,
    dns: failback.dns as RecordedDnsState[],
    database: failback.database,
    primaryInstanceId: restoredInstanceId(database.name, incidentIdFor(run.startedAt)),
    snapshots: { baseline: failbackSnapshotId(database.name, run.executionId, 'baseline'), final: failbackSnapshotId(database.name, run.executionId, 'final') },
  };
  return {
    data,
    detail: `region failover ${report.executionName} (finished ${report.finishedAt}) moved ${data.database.name} to ${data.database.recoveryInstanceId} in ${data.recoveryRegion} (restore point ${data.database.restorePoint}) and ${data.dns.length} DNS record(s); failing back to ${data.primaryInstanceId} in ${data.primaryRegion}`,
  };
}

