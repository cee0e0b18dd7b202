// One deployment = one YAML file (config/*.yml). It is validated when the stack is packaged and again
// when a Lambda starts, so a typo fails loudly before any recovery step runs.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InvalidConfig, describeIssues } from './errors.js';

const region = z
  .string()
  .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region name such as us-east-1');

const resourceName = z.string().min(1).max(255);

// RDS keeps automated backups for at most 35 days; a larger target can only be met with manual
// snapshots, which the snapshot-age checks cover.
const MAX_AUTOMATED_RETENTION_DAYS = 35;

const objectiveSchema = z.strictObject({
  component: z.string().min(1),
  rtoMinutes: z.number().positive(),
  rpoMinutes: z.number().min(0),
  priority: z.enum(['critical', 'high', 'medium', 'low']),
});

const restoreTestSchema = z.strictObject({
  instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class such as db.t4g.medium'),
  subnetGroup: resourceName.optional(),
  securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, 'a security group id such as sg-0123abcd')).default([]),
  validationQuery: z.string().min(1).default('SELECT 1'),
  timeoutMinutes: z.number().int().positive().max(24 * 60).default(120),
});

const databaseSchema = z.strictObject({
  /** DB instance identifier in the primary region. */
  name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'an RDS DB instance identifier'),
  /** Row of the objectives table this database is measured against. */
  component: z.string().min(1).default('Database'),
  engine: z.enum(['postgres']).default('postgres'),
  databaseName: z.string().min(1).default('postgres'),
  port: z.number().int().min(1).max(65535).default(5432),
  /**
   * TLS for validation queries. verify-full checks the server certificate against the RDS CA bundle
   * (NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem in Lambda); disable is for local servers only.
   */
  tls: z.enum(['verify-full', 'require', 'disable']).default('verify-full'),
  /** Manual snapshots count only when their identifier starts with this prefix. */
  snapshotPrefix: z.string().min(1),
  snapshotIntervalHours: z.number().positive(),
  /** Slack allowed on top of the interval before a snapshot or copy counts as stale. */
  toleranceMinutes: z.number().min(0).default(60),
  retentionDays: z.number().int().positive().max(MAX_AUTOMATED_RETENTION_DAYS),
  requireEncryption: z.boolean().default(true),
  requireCrossRegionCopy: z.boolean().default(true),
  /** RDS automated-backup replication to the recovery region (point-in-time restore there). */
  requireAutomatedBackupReplication: z.boolean().default(false),
  /** Secrets Manager secret (name or ARN) in the recovery region: JSON with username and password. */
  credentialsSecret: z.string().min(1),
  restoreTest: restoreTestSchema,
});

const bucketSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
  purpose: z.string().min(1),
  region: region,
  retentionDays: z.number().int().positive(),
  requireVersioning: z.boolean().default(true),
  /** Region the replication destination bucket must be in; omit when replication is not expected. */
  replicationRegion: region.optional(),
});

const scheduleExpression = z
  .string()
  .regex(/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/, 'an EventBridge schedule such as rate(4 hours) or cron(0 6 ? * SUN *)');

export const deploymentConfigSchema = z
  .strictObject({
    deployment: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, 'lower-case letters, digits and dashes (2-31 characters)'),
    primaryRegion: region,
    recoveryRegion: region,
    objectives: z.array(objectiveSchema).min(1),
    databases: z.array(databaseSchema).min(1),
    buckets: z.array(bucketSchema).default([]),
    reports: z.strictObject({
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
      prefix: z.string().default('reports/'),
    }),
    notifications: z.strictObject({ topicName: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'an SNS topic name') }),
    schedules: z
      .strictObject({
        backupVerification: scheduleExpression.default('rate(4 hours)'),
        restoreTest: scheduleExpression.default('cron(0 6 ? * SUN *)'),
        databaseFailoverDrill: scheduleExpression.default('cron(0 8 ? * SUN#1 *)'),
        enabled: z.boolean().default(true),
      })
      .prefault({}),
    /** Recovery-region VPC for functions that open database connections. */
    network: z
      .strictObject({
        subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'a subnet id such as subnet-0123abcd')).min(1),
        securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, 'a security group id such as sg-0123abcd')).min(1),
      })
      .optional(),
    maxConcurrentChecks: z.number().int().min(1).max(40).default(4),
  })
  .superRefine((config, ctx) => {
    if (config.primaryRegion === config.recoveryRegion) {
      ctx.addIssue({
        code: 'custom',
        path: ['recoveryRegion'],
        message: 'must differ from primaryRegion: the recovery stack cannot live in the region it protects',
      });
    }
    const components = new Set(config.objectives.map((o) => o.component));
    config.databases.forEach((db, i) => {
      if (!components.has(db.component)) {
        ctx.addIssue({
          code: 'custom',
          path: ['databases', i, 'component'],
          message: `must name a row of objectives (${[...components].join(', ')})`,
        });
      }
    });
    const names = config.databases.map((d) => d.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) {
        ctx.addIssue({ code: 'custom', path: ['databases', i, 'name'], message: 'is listed twice' });
      }
    });
  });

export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;
export type DatabaseConfig = DeploymentConfig['databases'][number];
export type BucketConfig = DeploymentConfig['buckets'][number];
export type Objective = DeploymentConfig['objectives'][number];

/** Validates a parsed config; `source` names the file or variable in the error. */
export function parseDeploymentConfig(raw: unknown, source: string): DeploymentConfig {
  const result = deploymentConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new InvalidConfig(`${source} is not a valid deployment config:\n${describeIssues(result.error.issues, raw)}`);
  }
  return result.data;
}

export function loadDeploymentConfigFile(path: string): DeploymentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidConfig(`cannot read deployment config ${path}: ${(error as Error).message}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new InvalidConfig(`${path} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  return parseDeploymentConfig(raw, path);
}

let cachedFromEnvironment: DeploymentConfig | undefined;

/**
 * The deployed functions receive the validated config as JSON in DR_CONFIG (written at packaging time).
 * Parsed once per container; a missing or broken value fails the cold start, not a recovery step.
 */
export function deploymentConfigFromEnvironment(): DeploymentConfig {
  if (cachedFromEnvironment) return cachedFromEnvironment;
  const text = process.env.DR_CONFIG;
  if (!text) throw new InvalidConfig('environment variable DR_CONFIG is not set: the function was packaged without a deployment config');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidConfig(`DR_CONFIG is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  cachedFromEnvironment = parseDeploymentConfig(raw, 'DR_CONFIG');
  return cachedFromEnvironment;
}

/** Lets tests and the local drill swap the deployment without touching process.env parsing rules. */
export function resetDeploymentConfigCache(): void {
  cachedFromEnvironment = undefined;
}

export function findDatabase(config: DeploymentConfig, name: string): DatabaseConfig {
  const database = config.databases.find((d) => d.name === name);
  if (!database) {
    throw new InvalidConfig(`database ${name} is not protected by this deployment (known: ${config.databases.map((d) => d.name).join(', ')})`);
  }
  return database;
}

export function findObjective(config: DeploymentConfig, component: string): Objective {
  const objective = config.objectives.find((o) => o.component === component);
  if (!objective) throw new InvalidConfig(`objectives has no row for component ${component}`);
  return objective;
}
