// The first state of every state machine: validate the execution input against the deployment and
// turn it into the run context later states read. Nothing here calls AWS, so bad input stops the
// execution before any change.
import * as z from 'zod/mini';
import { isIP } from 'node:net';
import { ALERT_STARTED_SCENARIOS, incidentRotatableSecrets, PROMETHEUS_LABEL_NAME, type DeploymentConfig } from './config.js';
import { InvalidConfig, InvalidInput, describeIssues, formatPath, formatValue } from './errors.js';
import { isScenarioName, scenario as scenarioNeeds, SCENARIO_NAMES, type ScenarioName } from './scenarios.js';

export interface RollbackTarget {
  cluster: 'primary' | 'backup';
  namespace: string;
  deployment: string;
  /** Null: the revision before the current one, resolved once by the plan step. */
  toRevision: number | null;
}

export interface DatabaseRecoveryRequest {
  database: string;
  /** A snapshot named by the operator (id or ARN). */
  snapshot: string | null;
  /** A point in time named by the operator. */
  restoreTime: string | null;
  /**
   * The DB instance that serves the database now and that this recovery acts on (assesses, makes
   * read-only, restores from): the configured name, until a completed recovery leaves another one
   * serving (its restored instance, which AcquireRecoveryLock reads from the lock's record).
   */
  sourceInstance: string;
}

export interface RunContext {
  scenario: ScenarioName;
  executionId: string;
  executionName: string;
  startedAt: string;
  /** When the incident began: the alarm's state-change time, else the execution's start. */
  incidentAt: string;
  /**
   * True only when an operator named the incident time in a manual input (`incidentTime`). Such a
   * start may supersede an unfinished recovery of another incident; an alarm (its time is the
   * incident time too) never does: repeated or flapping alarms resume the incident already held.
   */
  incidentNamedByOperator: boolean;
  trigger: string;
  dryRun: boolean;
  reason: string | null;
  /** The protected databases this run covers, in config order. */
  databases: string[];
  /** cluster-failover: fail over even when the primary cluster looks healthy. */
  force: boolean;
  /** emergency-rollback only. */
  rollback: RollbackTarget | null;
  /** Replica count the API runs with in production (cluster-failover). */
  productionReplicas: number | null;
  /**
   * database-recovery; in region-failback, once LoadFailoverRecord has read the failover's record: the
   * database it moves back (`sourceInstance`: the recovery-region instance that serves until then).
   */
  recovery: DatabaseRecoveryRequest | null;
  /** region-failback only: the region-failover run whose recorded state it returns to. */
  failback?: RegionFailbackRequest | null;
  /** region-failover only. */
  regionFailover?: RegionFailoverRequest;
  /** security-incident only. */
  securityIncident?: SecurityIncidentRequest;
}

export interface SecurityIncidentRequest {
  /** The incident's own id (a ticket number), also the folder of its evidence: letters, digits, . _ - */
  incidentId: string;
  /** Addresses and networks to block, as CIDRs (a bare address becomes /32 or /128), each once. */
  blockIps: string[];
  /** The image the API rolls to (the patch), or null: no rollout. */
  patchedImage: string | null;
  /** Secrets Manager secrets rotated now (config `incidentRotatableSecrets`), in config order. */
  secrets: string[];
}

export interface RegionFailoverRequest {
  /**
   * True only for a manual start that asked for it (`skipConfirmation`): the operator has confirmed
   * the outage, so the run does not wait for the alarm's confirmation period; the report says so. An
   * alarm start always confirms.
   */
  skipConfirmation: boolean;
}

export interface RegionFailbackRequest {
  /** The completed region-failover execution, by name or ARN, as the operator gave it. */
  failoverExecution: string;
}

export interface ExecutionInfo {
  id: string;
  name: string;
  startTime: string;
}

const kubernetesName = z.string().check(z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a Kubernetes name (lower-case letters, digits, dashes)'), z.maxLength(63));

// Fields every manual input may carry. Each scenario's schema is strict: a typo such as "dryrun"
// must fail, not be ignored.
const commonFields = {
  dryRun: z._default(z.boolean(), false),
  reason: z.optional(z.string().check(z.maxLength(500))),
  /** Set by the stack's own schedules that pass a fixed input (e.g. the monthly drill). */
  trigger: z._default(z.enum(['manual', 'schedule']), 'manual'),
};

const databaseScenarioInput = z.strictObject({
  ...commonFields,
  databases: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(63))).check(z.minLength(1), z.maxLength(1000))),
});

// The scenario inputs are built when a run is planned: a function that only reads a run (most of
// them, through the recovery lock) leaves them out of its bundle.
const clusterFailoverInput = () =>
  z.strictObject({
    ...commonFields,
    force: z._default(z.boolean(), false),
  });

// Declared after the times and names they use (below).
const databaseRecoveryInput = () =>
  z.strictObject({
    ...commonFields,
    database: z.optional(z.string().check(z.minLength(1), z.maxLength(63))),
    incidentTime: z.optional(isoTime),
    snapshot: z.optional(snapshotName),
    restoreTime: z.optional(isoTime),
  });

const regionFailoverInput = () =>
  z.strictObject({
    ...commonFields,
    skipConfirmation: z._default(z.boolean(), false),
  });

/** A Step Functions execution name (1-80 characters), or an execution ARN. */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_-]{1,80}:[A-Za-z0-9_-]{1,80}$/;

const regionFailbackInput = () =>
  z.strictObject({
    ...commonFields,
    failoverExecution: z.string().check(
      z.refine((value) => EXECUTION_NAME.test(value) || EXECUTION_ARN.test(value), 'the name or ARN of a region-failover execution (letters, digits, - and _, at most 80)'),
    ),
  });

const INCIDENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// An image reference as `kubectl set image` takes it: [registry[:port]/]path[:tag][@sha256:digest].
const IMAGE_REFERENCE = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
/** The most addresses one run blocks: a WAF IP set holds 10,000, a NetworkPolicy this many comfortably. */
const MAX_BLOCKED_ADDRESSES = 1000;

/** The widest network one entry of blockIps may name. */
const MIN_PREFIX = { ipv4: 8, ipv6: 32 } as const;

function narrowerThanAllowed(value: string): boolean {
  const cidr = toCidr(value);
  if (!cidr) return false;
  const prefix = Number(cidr.split('/')[1]);
  return prefix < (cidr.includes(':') ? MIN_PREFIX.ipv6 : MIN_PREFIX.ipv4);
}

const securityIncidentInput = () =>
  z.strictObject({
    ...commonFields,
    incidentId: z.string().check(z.regex(INCIDENT_ID, 'an incident id: letters, digits, . _ - (at most 64), starting with a letter or digit, such as SEC-2026-041')),
    blockIps: z._default(
      z
        .array(
          z.string().check(
            z.refine((value) => toCidr(value) !== null, 'an IPv4 or IPv6 address or CIDR (no host bits set) such as 203.0.113.7 or 198.51.100.0/24'),
            // A typo such as 0.0.0.0/0 would block every client: the containment must not become the outage.
            z.refine((value) => !narrowerThanAllowed(value), `a network no wider than /${MIN_PREFIX.ipv4} (IPv4) or /${MIN_PREFIX.ipv6} (IPv6): a wider block would cut off ordinary clients`),
          ),
        )
        .check(z.maxLength(MAX_BLOCKED_ADDRESSES)),
      [],
    ),
    patchedImage: z.optional(z.string().check(z.maxLength(512), z.regex(IMAGE_REFERENCE, 'a container image reference such as frontier/api:security-patch or registry.example.com/api@sha256:<64 hex>'))),
    secrets: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(2048))).check(z.maxLength(100))),
  });

/**
 * `value` as a CIDR in canonical form (`203.0.113.7` -> `203.0.113.7/32`, `2001:DB8::/32` ->
 * `2001:db8::/32`), or null when it is not an IPv4/IPv6 address or network, or when it has host bits
 * set (`10.0.0.5/8` is a typo for 10.0.0.0/8 or 10.0.0.5/32). WAF and NetworkPolicy both take CIDRs.
 * Parsing is Node's own (net.isIP: no octal, hex or short IPv4 forms; the WHATWG URL parser writes an
 * IPv6 address in its RFC 5952 form): no library in every function's bundle for one input field.
 */
export function toCidr(value: string): string | null {
  const match = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(value);
  if (!match) return null;
  const version = isIP(match[1]!);
  if (version === 0) return null;
  let address: string;
  try {
    address = version === 4 ? match[1]! : new URL(`http://[${match[1]!}]`).hostname.slice(1, -1);
  } catch {
    // An IPv6 zone id (fe80::1%eth0) is no address a firewall rule can hold.
    return null;
  }
  const bits = version === 4 ? 32 : 128;
  const prefix = match[2] === undefined ? bits : Number(match[2]);
  if (prefix > bits) return null;
  const bytes = version === 4 ? address.split('.').map(Number) : ipv6Bytes(address);
  for (let bit = prefix; bit < bits; bit++) if ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return null;
  return `${address}/${prefix}`;
}

/** The 16 bytes of an IPv6 address in the URL parser's form (hex groups, at most one `::`, no dotted quad). */
function ipv6Bytes(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 0xff]);
}

const emergencyRollbackInput = () =>
  z.strictObject({
    ...commonFields,
    cluster: z._default(z.enum(['primary', 'backup']), 'primary'),
    namespace: z.optional(kubernetesName),
    deployment: z.optional(kubernetesName),
    toRevision: z.optional(z.int().check(z.minimum(1))),
  });

// ---------------------------------------------------------------------------------------------------
// Events: EventBridge starts a state machine with the whole event when a rule gives no Input. An input
// that carries an event's keys is read as that event, strictly: its envelope, and for an alarm the
// fields the run depends on. Only `dryRun` and `reason` may be added by hand (an operator replaying an
// event), and they are honoured; any other key is refused by its path, never dropped.

const SCHEDULED_EVENT = { source: 'aws.events', detailType: 'Scheduled Event' } as const;
const ALARM_EVENT = { source: 'aws.cloudwatch', detailType: 'CloudWatch Alarm State Change' } as const;

/** An alarm older than this when its run starts is a replay or a stuck delivery, not a live incident. */
const MAX_ALARM_AGE_MS = 60 * 60_000;
/** RDS keeps automated backups at most 35 days: a restore point or incident older than that is a typo. */
const MAX_PAST_DAYS = 35;

/** ISO 8601 with seconds optional and a zone: `Z`, `+01:00`, or CloudWatch's own `+0000`. */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|([+-])(\d{2}):?(\d{2}))$/;

/**
 * True for a time written in ISO 8601 with a zone that is also a real calendar time
 * (`2026-02-31T00:00:00Z` matches a pattern but is not a day, and Date would quietly roll it over).
 */
function isIsoTime(value: string): boolean {
  const match = ISO_TIME.exec(value);
  if (!match) return false;
  const [, date, hours, minutes, seconds, sign, offsetHours, offsetMinutes] = match;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds ?? 0) > 59 || Number(offsetHours ?? 0) > 23 || Number(offsetMinutes ?? 0) > 59) return false;
  const parsed = Date.parse(normaliseZone(value));
  if (Number.isNaN(parsed)) return false;
  const shift = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000 : 0;
  return new Date(parsed + shift).toISOString().slice(0, 10) === date;
}

/** `+0000` -> `+00:00`: the one ISO zone form JavaScript's Date does not read everywhere. */
function normaliseZone(value: string): string {
  return value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
}

const isoTime = z.string().check(z.refine(isIsoTime, 'an ISO 8601 time with a zone on a real calendar day, such as 2026-11-25T12:04:00Z'));

// The envelope is not read by the run, but a field AWS writes in a known form is held to it: a replayed
// or hand-made event carrying shell or path characters there is not an event AWS sent.
const eventEnvelope = {
  version: z.optional(z.string().check(z.regex(/^\d{1,16}$/, 'an event format version such as "0"'))),
  id: z.optional(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'an event id (letters, digits, dashes; at most 128), such as a UUID'))),
  account: z.optional(z.string().check(z.regex(/^\d{12}$/, 'a 12-digit AWS account id'))),
  time: z.optional(isoTime),
  region: z.optional(z.string().check(z.regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'an AWS region name such as us-east-1'))),
  // ARNs: an alarm's name may hold almost any printable character, but no control character.
  resources: z.optional(z.array(z.string().check(z.maxLength(2048), z.regex(/^arn:[^\u0000-\u001f\u007f]+$/, 'an ARN without control characters'))).check(z.maxLength(20))),
  // Added by hand when replaying an event; honoured like in a manual input.
  dryRun: z._default(z.boolean(), false),
  reason: z.optional(z.string().check(z.maxLength(500))),
};

const scheduledEventSchema = z.strictObject({
  ...eventEnvelope,
  source: z.literal(SCHEDULED_EVENT.source),
  'detail-type': z.literal(SCHEDULED_EVENT.detailType),
  // EventBridge always sends a schedule's detail as {}: anything in it (a dryRun put there by hand) would be ignored.
  detail: z.optional(z.strictObject({})),
});

/**
 * A run option written inside an alarm's detail (`detail.dryRun`) would be ignored, so a dry run meant
 * by hand would act for real: refused by its path. The detail stays open to fields AWS adds.
 */
const RUN_OPTIONS = ['dryRun', 'reason', 'trigger', 'databases', 'database', 'force', 'incidentTime', 'snapshot', 'restoreTime', 'cluster', 'namespace', 'deployment', 'toRevision', 'skipConfirmation'];
const optionKey = (key: string) => key.toLowerCase().replace(/[-_\s]/g, '');
const RUN_OPTION_KEYS = new Set(RUN_OPTIONS.map(optionKey));

function optionsInsideDetail(event: Record<string, unknown>): string[] {
  const detail = event.detail;
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return [];
  return Object.keys(detail)
    .filter((key) => RUN_OPTION_KEYS.has(optionKey(key)))
    .map(
      (key) =>
        `  - ${formatPath(['detail', key])}: got ${formatValue((detail as Record<string, unknown>)[key])}; expected no run option inside an alarm's detail, where it would be ignored (only dryRun and reason may be added, at the top of the event)`,
    );
}

const alarmState = z.looseObject({
  value: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
  timestamp: isoTime,
  // CloudWatch's StateReason is at most 1023 characters.
  reason: z.optional(z.string().check(z.maxLength(1023))),
});

// The detail stays open to fields AWS may add (configuration, previousState...); the ones read are typed.
const alarmEventSchema = z.strictObject({
  ...eventEnvelope,
  source: z.literal(ALARM_EVENT.source),
  'detail-type': z.literal(ALARM_EVENT.detailType),
  detail: z.looseObject({
    alarmName: z.string().check(z.minLength(1), z.maxLength(255)),
    state: alarmState,
    previousState: z.optional(alarmState),
  }),
});

// An Alertmanager alert (functions/receive-alertmanager-alerts builds it from one alert of a webhook
// notification, shared/alertmanager.ts): an event of its own source, read like an alarm's state change.
// Only the alert's stable fields are in it (no annotations, no receive time), so a repeated
// notification gives the same input and the same execution name: Step Functions starts nothing new.
export const ALERTMANAGER_EVENT = { source: 'frontier-dr.alertmanager', detailType: 'Alertmanager Alert' } as const;

const alertmanagerEventSchema = z.strictObject({
  source: z.literal(ALERTMANAGER_EVENT.source),
  'detail-type': z.literal(ALERTMANAGER_EVENT.detailType),
  detail: z.strictObject({
    alertname: z.string().check(z.regex(PROMETHEUS_LABEL_NAME, 'an alertname (letters, digits and _, at most 128)')),
    status: z.enum(['firing', 'resolved']),
    startsAt: isoTime,
    // Alertmanager's fingerprint of the alert's label set: 16 hex digits.
    fingerprint: z.string().check(z.regex(/^[0-9a-f]{16}$/, "Alertmanager's fingerprint (16 hex digits)")),
    labels: z.record(z.string().check(z.regex(PROMETHEUS_LABEL_NAME, 'a Prometheus label name')), z.string().check(z.maxLength(1024))),
  }),
  // Added by hand when replaying an alert; honoured like in a manual input.
  dryRun: z._default(z.boolean(), false),
  reason: z.optional(z.string().check(z.maxLength(500))),
});

/** The scenario an alertname starts in this deployment (config alertmanager.alerts), or undefined. */
function scenarioForAlert(config: DeploymentConfig, alertname: string): string | undefined {
  const alerts = config.alertmanager?.alerts;
  return alerts && Object.hasOwn(alerts, alertname) ? alerts[alertname] : undefined;
}

/**
 * Plans a run started by an Alertmanager alert: the same rules as an alarm's state change (the alert
 * the config maps to this scenario, firing, a real start time not in the future and at most 60 min
 * old), and for database-recovery the database its label names (alertmanager.databaseLabel), or the
 * only database with a recovery section. The trigger is `alertmanager <alertname>`: an alarm start
 * for the recovery lock (shared/trigger.ts).
 */
function planFromAlert(scenario: ScenarioName, event: Record<string, unknown>, base: RunContext, config: DeploymentConfig): RunContext {
  const parsed = alertmanagerEventSchema.safeParse(event);
  if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, event));
  const { alertname, status, startsAt, labels } = parsed.data.detail;
  const problems: string[] = [];
  const mapped = scenarioForAlert(config, alertname);
  if (mapped !== scenario) {
    const starting = Object.entries(config.alertmanager?.alerts ?? {}).flatMap(([name, target]) => (target === scenario ? [name] : []));
    problems.push(
      starting.length === 0
        ? `  - detail.alertname: got ${JSON.stringify(alertname)}; expected a manual input: no alert starts ${scenario} (config alertmanager.alerts)`
        : `  - detail.alertname: got ${JSON.stringify(alertname)}; expected an alert this deployment starts ${scenario} on (${starting.join(', ')})`,
    );
  }
  // The webhook starts only firing alerts; a resolved one reaching here (a hand-replayed alert) changes nothing.
  if (status !== 'firing') problems.push(`  - detail.status: got ${JSON.stringify(status)}; expected "firing"`);
  if (problems.length > 0) throw invalid(scenario, problems.join('\n'));
  refuseImplausibleTimes(scenario, base.startedAt, { 'detail.startsAt': startsAt });
  const age = Date.parse(base.startedAt) - Date.parse(normaliseZone(startsAt));
  if (age > MAX_ALARM_AGE_MS) {
    throw invalid(
      scenario,
      `  - detail.startsAt: got ${JSON.stringify(startsAt)}; expected an alert firing at most ${MAX_ALARM_AGE_MS / 60_000} min before the run started (${base.startedAt}): a stale or replayed alert starts nothing; start a manual run with incidentTime instead`,
    );
  }
  const fromAlert: RunContext = {
    ...base,
    trigger: `alertmanager ${alertname}`,
    reason: parsed.data.reason ?? `Alertmanager alert ${alertname} firing since ${normaliseTime(startsAt)}`,
    dryRun: parsed.data.dryRun,
    incidentAt: normaliseTime(startsAt),
    // As with an alarm: a repeated alert must not re-decide the incident.
    incidentNamedByOperator: false,
  };
  if (scenario === 'region-failover') return { ...fromAlert, regionFailover: { skipConfirmation: false } };
  if (scenario !== 'database-recovery') return fromAlert;
  const label = config.alertmanager?.databaseLabel ?? 'database';
  const recoverable = config.databases.filter((d) => d.recovery).map((d) => d.name);
  const named = labels[label];
  const database = named ?? (recoverable.length === 1 ? recoverable[0] : undefined);
  if (database === undefined || !recoverable.includes(database)) {
    throw invalid(
      scenario,
      named === undefined
        ? `  - detail.labels.${label}: got nothing; expected the database to recover (one of ${recoverable.join(', ')}): this deployment protects several`
        : `  - detail.labels.${label}: got ${JSON.stringify(named)}; expected a database with a recovery section (${recoverable.join(', ') || 'none configured'})`,
    );
  }
  return { ...fromAlert, databases: [database], recovery: { database, snapshot: null, restoreTime: null, sourceInstance: database } };
}

/** True when the input carries an EventBridge event's keys: it is read as an event, never as a manual input. */
function isEventShaped(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input) && ('source' in input || 'detail-type' in input);
}

/** Times are compared as strings later on: always UTC with milliseconds. Only called on validated times. */
function normaliseTime(time: string): string {
  return new Date(normaliseZone(time)).toISOString();
}

/** Clocks differ a little between an operator's machine and Step Functions; more than this is a typo. */
const CLOCK_SKEW_MS = 60_000;

/**
 * A time in the future is a typo (a wrong year, local time written as UTC): restoring to it would bring
 * the damage back. A time older than any backup RDS keeps is a typo too. Both are refused, naming the
 * field; every bad field is reported at once.
 */
function refuseImplausibleTimes(scenario: ScenarioName, startedAt: string, times: Record<string, string | undefined>): void {
  const start = Date.parse(startedAt);
  const lines = Object.entries(times).flatMap(([field, time]) => {
    if (time === undefined) return [];
    const at = Date.parse(normaliseZone(time));
    if (at > start + CLOCK_SKEW_MS) return [`  - ${field}: got ${JSON.stringify(time)}; expected a time before the run started (${startedAt}), not in the future`];
    if (at < start - MAX_PAST_DAYS * 86_400_000) {
      return [`  - ${field}: got ${JSON.stringify(time)}; expected a time within the last ${MAX_PAST_DAYS} days (RDS keeps no backup older than that)`];
    }
    return [];
  });
  if (lines.length > 0) throw invalid(scenario, lines.join('\n'));
}

/** At most this many bad fields are listed (10,000 wrong items would otherwise make a megabyte of message). */
const MAX_LISTED_PROBLEMS = 20;

function invalid(scenario: ScenarioName, lines: string): InvalidInput {
  const all = lines.split('\n');
  const listed = all.length > MAX_LISTED_PROBLEMS ? [...all.slice(0, MAX_LISTED_PROBLEMS), `  - ... and ${all.length - MAX_LISTED_PROBLEMS} more`] : all;
  return new InvalidInput(`${scenario} input is invalid; nothing was changed:\n${listed.join('\n')}`);
}

// Limits on the input's structure, checked before its contract: no start shape comes near them (an alarm
// event nests about 7 deep), and past them the checks themselves would fail untyped (reporting a value
// 10,000 levels deep overflows the stack) or write a message as large as the input.
const MAX_DEPTH = 32;
const MAX_KEY_LENGTH = 256;
const MAX_STRING_LENGTH = 65_536;
const MAX_ARRAY_LENGTH = 1000;

/** `path` for a message, cut short when a key is itself huge. */
function shortPath(path: readonly PropertyKey[]): string {
  const text = formatPath(path);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/**
 * Walks the input without recursion (its depth is what is being checked) and names the first place
 * that passes a structural limit.
 */
function refuseOversizedStructure(scenario: ScenarioName, input: unknown): void {
  const pending: { value: unknown; path: PropertyKey[] }[] = [{ value: input, path: [] }];
  while (pending.length > 0) {
    const { value, path } = pending.pop() as { value: unknown; path: PropertyKey[] };
    const at = shortPath(path) || '(root)';
    if (typeof value === 'string' && value.length > MAX_STRING_LENGTH) {
      throw invalid(scenario, `  - ${at}: got a string of ${value.length} characters; expected at most ${MAX_STRING_LENGTH}`);
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= MAX_DEPTH) throw invalid(scenario, `  - ${at}: got a value nested ${path.length} levels deep; expected at most ${MAX_DEPTH - 1}`);
    if (Array.isArray(value)) {
      if (value.length > MAX_ARRAY_LENGTH) throw invalid(scenario, `  - ${at}: got ${value.length} items; expected a count of at most ${MAX_ARRAY_LENGTH}`);
      value.forEach((item, i) => pending.push({ value: item, path: [...path, i] }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key.length > MAX_KEY_LENGTH) throw invalid(scenario, `  - ${shortPath([...path, key])}: got a field name of ${key.length} characters; expected at most ${MAX_KEY_LENGTH}`);
      pending.push({ value: item, path: [...path, key] });
    }
  }
}

/** The alarm names that may start `scenario`, from the deployment config. */
function configuredAlarms(scenario: ScenarioName, config: DeploymentConfig): string[] {
  if (scenario === 'cluster-failover') return [config.alarms.clusterUnreachable];
  if (scenario === 'database-recovery') return config.databases.flatMap((d) => (d.recovery?.alarmName ? [d.recovery.alarmName] : []));
  if (scenario === 'region-failover') return config.regionFailover ? [config.regionFailover.detection.alarmName] : [];
  return [];
}

/**
 * Plans a run started by an EventBridge event (raw scheduled event, or an alarm state change, also one
 * forwarded from the primary region). Throws InvalidInput naming each bad field.
 */
function planFromEvent(scenario: ScenarioName, event: Record<string, unknown>, base: RunContext, config: DeploymentConfig): RunContext {
  const source = event.source;
  if (source === ALERTMANAGER_EVENT.source && (ALERT_STARTED_SCENARIOS as readonly string[]).includes(scenario) && config.alertmanager) return planFromAlert(scenario, event, base, config);
  if (source === SCHEDULED_EVENT.source) {
    const parsed = scheduledEventSchema.safeParse(event);
    if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, event));
    if (!scenarioNeeds(scenario).startedByScheduleEvent) {
      throw invalid(scenario, `  - detail-type: got "${SCHEDULED_EVENT.detailType}"; expected a manual input: ${scenario} is never started by a schedule's raw event`);
    }
    if (parsed.data.time) refuseImplausibleTimes(scenario, base.startedAt, { time: parsed.data.time });
    return { ...base, trigger: 'schedule', dryRun: parsed.data.dryRun, reason: parsed.data.reason ?? 'scheduled run' };
  }
  if (source === ALARM_EVENT.source && configuredAlarms(scenario, config).length > 0) {
    const parsed = alarmEventSchema.safeParse(event);
    const misplaced = optionsInsideDetail(event);
    if (!parsed.success || misplaced.length > 0) {
      throw invalid(scenario, [...(parsed.success ? [] : [describeIssues(parsed.error.issues, event)]), ...misplaced].join('\n'));
    }
    const alarms = configuredAlarms(scenario, config);
    const { alarmName, state } = parsed.data.detail;
    const problems: string[] = [];
    if (!alarms.includes(alarmName)) {
      problems.push(
        alarms.length === 0
          ? `  - detail.alarmName: got ${JSON.stringify(alarmName)}; expected a manual input: no alarm starts ${scenario}`
          : `  - detail.alarmName: got ${JSON.stringify(alarmName)}; expected an alarm this deployment starts ${scenario} on (${alarms.join(', ')})`,
      );
    }
    // The rules match ALARM only; anything else reaching here (a hand-replayed event) changes nothing.
    if (state.value !== 'ALARM') problems.push(`  - detail.state.value: got ${JSON.stringify(state.value)}; expected "ALARM"`);
    if (problems.length > 0) throw invalid(scenario, problems.join('\n'));
    refuseImplausibleTimes(scenario, base.startedAt, { 'detail.state.timestamp': state.timestamp, ...(parsed.data.time ? { time: parsed.data.time } : {}) });
    const age = Date.parse(base.startedAt) - Date.parse(normaliseZone(state.timestamp));
    if (age > MAX_ALARM_AGE_MS) {
      throw invalid(
        scenario,
        `  - detail.state.timestamp: got ${JSON.stringify(state.timestamp)}; expected an alarm at most ${MAX_ALARM_AGE_MS / 60_000} min before the run started (${base.startedAt}): a stale or replayed alarm starts nothing; start a manual run with incidentTime instead`,
      );
    }
    const fromAlarm: RunContext = {
      ...base,
      trigger: `alarm ${alarmName}`,
      reason: parsed.data.reason ?? `alarm ${alarmName} in ALARM`,
      dryRun: parsed.data.dryRun,
      incidentAt: normaliseTime(state.timestamp),
      // An alarm's time is the incident time, but a repeated alarm must not re-decide the incident.
      incidentNamedByOperator: false,
    };
    // An alarm start always waits out the confirmation period: only an operator may vouch for the outage.
    if (scenario === 'region-failover') return { ...fromAlarm, regionFailover: { skipConfirmation: false } };
    if (scenario !== 'database-recovery') return fromAlarm;
    const database = config.databases.find((d) => d.recovery?.alarmName === alarmName) as DeploymentConfig['databases'][number];
    return { ...fromAlarm, databases: [database.name], recovery: { database: database.name, snapshot: null, restoreTime: null, sourceInstance: database.name } };
  }
  const expected = [
    scenarioNeeds(scenario).startedByScheduleEvent ? SCHEDULED_EVENT : null,
    configuredAlarms(scenario, config).length > 0 ? ALARM_EVENT : null,
    (ALERT_STARTED_SCENARIOS as readonly string[]).includes(scenario) && config.alertmanager ? ALERTMANAGER_EVENT : null,
  ].filter(
    (shape) => shape !== null,
  );
  throw invalid(
    scenario,
    expected.length === 0
      ? `  - source: got ${formatValue(source)}; expected a manual input: no EventBridge event starts ${scenario}`
      : `  - source: got ${formatValue(source)}; expected ${expected.map((shape) => `"${shape.source}" (${shape.detailType})`).join(' or ')}`,
  );
}

/** RDS snapshot identifiers (1-255: a letter first, then letters, digits, single hyphens, no hyphen last). */
const SNAPSHOT_ID = /^[A-Za-z](?:-?[A-Za-z0-9])*$/;
/** A snapshot ARN, own account or shared from another: `arn:<partition>:rds:<region>:<account>:snapshot:<id>`. */
const SNAPSHOT_ARN = /^arn:aws(?:-[a-z]+)*:rds:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:snapshot:(?:rds:)?[A-Za-z](?:-?[A-Za-z0-9])*$/;

const snapshotName = z.string().check(
  z.minLength(1),
  z.maxLength(1024),
  z.refine((value) => (value.startsWith('arn:') ? SNAPSHOT_ARN.test(value) : SNAPSHOT_ID.test(value.replace(/^rds:/, '')) && value.length <= 255), {
    message: 'an RDS snapshot identifier (a letter, then letters, digits and single hyphens, at most 255) or a snapshot ARN',
  }),
);

/**
 * The first state's decision: validates the execution input of the scenario named `scenarioName` (one
 * of shared/scenarios.ts) in any of its start shapes
 * (manual JSON, the raw event of a schedule, a CloudWatch alarm state change, also one forwarded from
 * the primary region) against the deployment, and returns the run every later state reads.
 * `execution.startTime` is a UTC ISO time. Calls no AWS API.
 * Throws InvalidInput (an unknown scenario, named with the known ones; every bad field named by its
 * path, with the value found and what was expected) or InvalidConfig (a scenario the deployment has no section for). Nothing else can escape it.
 */
export function planRun(scenarioName: string, rawInput: unknown, execution: ExecutionInfo, config: DeploymentConfig): RunContext {
  if (!isScenarioName(scenarioName)) {
    throw new InvalidInput(`scenario: got ${formatValue(scenarioName)}; expected one of ${SCENARIO_NAMES.join(', ')}`);
  }
  const scenario = scenarioName;
  if (scenarioNeeds(scenario).needsKubernetesSection && !config.kubernetes) {
    throw new InvalidConfig(`${scenario} needs the deployment config's kubernetes section (clusters, namespace, API deployment)`);
  }
  if (scenarioNeeds(scenario).needsRegionFailover && !config.regionFailover) {
    throw new InvalidConfig(`${scenario} needs the deployment config's regionFailover section (detection, restore, dns)`);
  }
  const startedAt = Date.parse(execution.startTime);
  if (Number.isNaN(startedAt)) throw new InvalidInput(`execution.startTime: got ${formatValue(execution.startTime)}; expected the execution's ISO start time`);
  const configured = config.databases.map((d) => d.name);
  const base: RunContext = {
    scenario,
    executionId: execution.id,
    executionName: execution.name,
    startedAt: normaliseTime(execution.startTime),
    incidentAt: normaliseTime(execution.startTime),
    incidentNamedByOperator: false,
    trigger: 'manual',
    dryRun: false,
    reason: null,
    databases: configured,
    force: false,
    rollback: null,
    productionReplicas: config.kubernetes?.productionReplicas ?? null,
    recovery: null,
  };

  refuseOversizedStructure(scenario, rawInput);
  if (isEventShaped(rawInput)) return planFromEvent(scenario, rawInput, base, config);

  // An empty input (`{}` or no input at all) is a manual start with every default.
  const input = rawInput === undefined || rawInput === null ? {} : rawInput;
  switch (scenario) {
    case 'backup-verification':
    case 'restore-test': {
      const parsed = databaseScenarioInput.safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      const requested = parsed.data.databases ?? configured;
      const unknown = requested.filter((name) => !configured.includes(name));
      if (unknown.length > 0) {
        throw invalid(scenario, `  - databases: got ${JSON.stringify(unknown)}; expected databases protected by this deployment (${configured.join(', ')})`);
      }
      return {
        ...base,
        trigger: parsed.data.trigger,
        dryRun: parsed.data.dryRun,
        reason: parsed.data.reason ?? null,
        databases: configured.filter((name) => requested.includes(name)),
      };
    }
    case 'cluster-failover': {
      const parsed = clusterFailoverInput().safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      return { ...base, trigger: parsed.data.trigger, dryRun: parsed.data.dryRun, reason: parsed.data.reason ?? null, force: parsed.data.force };
    }
    case 'database-recovery': {
      const parsed = databaseRecoveryInput().safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      const recoverable = config.databases.filter((d) => d.recovery).map((d) => d.name);
      const database = parsed.data.database ?? recoverable[0];
      if (!database || !recoverable.includes(database)) {
        throw invalid(scenario, `  - database: got ${JSON.stringify(parsed.data.database ?? null)}; expected a database with a recovery section (${recoverable.join(', ') || 'none configured'})`);
      }
      if (parsed.data.snapshot && parsed.data.restoreTime) throw invalid(scenario, '  - snapshot, restoreTime: got both; expected at most one restore point');
      refuseImplausibleTimes(scenario, base.startedAt, { incidentTime: parsed.data.incidentTime, restoreTime: parsed.data.restoreTime });
      const incidentAt = parsed.data.incidentTime ? normaliseTime(parsed.data.incidentTime) : base.startedAt;
      const restoreTime = parsed.data.restoreTime ? normaliseTime(parsed.data.restoreTime) : null;
      if (restoreTime && parsed.data.incidentTime && restoreTime >= incidentAt) {
        throw invalid(
          scenario,
          `  - restoreTime: got ${JSON.stringify(parsed.data.restoreTime)}; expected a time before incidentTime (${incidentAt}): a point at or after the incident may hold the damage`,
        );
      }
      return {
        ...base,
        trigger: parsed.data.trigger,
        dryRun: parsed.data.dryRun,
        reason: parsed.data.reason ?? null,
        databases: [database],
        incidentAt,
        incidentNamedByOperator: parsed.data.incidentTime !== undefined,
        recovery: { database, snapshot: parsed.data.snapshot ?? null, restoreTime, sourceInstance: database },
      };
    }
    case 'region-failover': {
      const parsed = regionFailoverInput().safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      return {
        ...base,
        trigger: parsed.data.trigger,
        dryRun: parsed.data.dryRun,
        reason: parsed.data.reason ?? null,
        regionFailover: { skipConfirmation: parsed.data.skipConfirmation },
      };
    }
    case 'region-failback': {
      const parsed = regionFailbackInput().safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      if (!config.regionFailback) throw new InvalidConfig('region-failback needs the deployment config\'s regionFailback section (kmsKeyArn: the primary region\'s key for the snapshot copies)');
      return { ...base, trigger: parsed.data.trigger, dryRun: parsed.data.dryRun, reason: parsed.data.reason ?? null, failback: { failoverExecution: parsed.data.failoverExecution } };
    }
    case 'security-incident': {
      const parsed = securityIncidentInput().safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      if (!config.securityIncident) throw new InvalidConfig('security-incident needs the deployment config\'s securityIncident section (evidence bucket, API keys, where to block addresses)');
      const rotatable = incidentRotatableSecrets(config);
      const requested = parsed.data.secrets ?? rotatable;
      const problems = requested.flatMap((name, i) =>
        rotatable.includes(name) ? [] : [`  - secrets[${i}]: got ${JSON.stringify(name)}; expected a secret this stack rotates (${rotatable.join(', ') || 'none: no database has a rotation section'})`],
      );
      if (problems.length > 0) throw invalid(scenario, problems.join('\n'));
      const blockIps = [...new Set(parsed.data.blockIps.map((value) => toCidr(value) as string))];
      return {
        ...base,
        trigger: parsed.data.trigger,
        dryRun: parsed.data.dryRun,
        reason: parsed.data.reason ?? null,
        securityIncident: {
          incidentId: parsed.data.incidentId,
          blockIps,
          patchedImage: parsed.data.patchedImage ?? null,
          secrets: rotatable.filter((name) => requested.includes(name)),
        },
      };
    }
    case 'emergency-rollback': {
      const parsed = emergencyRollbackInput().safeParse(input);
      if (!parsed.success) throw invalid(scenario, describeIssues(parsed.error.issues, input));
      const kubernetes = config.kubernetes as NonNullable<DeploymentConfig['kubernetes']>;
      return {
        ...base,
        trigger: parsed.data.trigger,
        dryRun: parsed.data.dryRun,
        reason: parsed.data.reason ?? null,
        rollback: {
          cluster: parsed.data.cluster,
          namespace: parsed.data.namespace ?? kubernetes.namespace,
          deployment: parsed.data.deployment ?? kubernetes.apiDeployment,
          toRevision: parsed.data.toRevision ?? null,
        },
      };
    }
  }
}

export { startedByAlarm } from './trigger.js';

/** The database-recovery part of the run; a step of that scenario cannot run without it. */
export function recoveryRequest(run: RunContext): DatabaseRecoveryRequest {
  if (!run.recovery) throw new InvalidInput(`run.recovery is missing: this step belongs to database-recovery, not ${run.scenario}`);
  return run.recovery;
}
