// One deployment = one YAML file (config/*.yml, read by config-file.ts). It is validated when the
// stack is packaged and again when a Lambda starts, so a typo fails loudly before any recovery step
// runs. Kept free of YAML code: every function bundles this module (node: built-ins cost no bytes).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as z from 'zod/mini';
import { DeploymentConfigMismatch, InvalidConfig, describeIssues } from './errors.js';
import { isScenarioName, SCENARIO_NAMES } from './scenarios.js';

const region = z.string().check(z.regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region name such as us-east-1'));

const resourceName = z.string().check(z.minLength(1), z.maxLength(255));
const nonEmpty = () => z.string().check(z.minLength(1));
const positive = () => z.number().check(z.positive());
const positiveInt = () => z.int().check(z.positive());
const bucketName = z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'));
const securityGroupId = z.string().check(z.regex(/^sg-[0-9a-f]+$/, 'a security group id such as sg-0123abcd'));

// RDS keeps automated backups for at most 35 days; a larger target can only be met with manual
// snapshots, which the snapshot-age checks cover.
const MAX_AUTOMATED_RETENTION_DAYS = 35;

const kubernetesName = z.string().check(z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a Kubernetes name (lower-case letters, digits, dashes)'), z.maxLength(63));

const objectiveSchema = z.strictObject({
  component: nonEmpty(),
  rtoMinutes: positive(),
  rpoMinutes: z.number().check(z.minimum(0)),
  priority: z.enum(['critical', 'high', 'medium', 'low']),
});

const restoreTestSchema = z.strictObject({
  instanceClass: z.string().check(z.regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class such as db.t4g.medium')),
  /**
   * Network of the scratch instance in the recovery region. Required by the restore test (it refuses
   * to start without them rather than let RDS pick the default VPC and security group); optional
   * here so that a deployment without restore tests still packages.
   */
  subnetGroup: z.optional(resourceName),
  securityGroupIds: z._default(z.array(securityGroupId), []),
  /** Parameter and option group of the scratch instance; without them the engine's defaults, and the report says so. */
  parameterGroup: z.optional(resourceName),
  optionGroup: z.optional(resourceName),
  validationQuery: z._default(nonEmpty(), 'SELECT 1'),
  timeoutMinutes: z._default(positiveInt().check(z.maximum(24 * 60)), 120),
  /** KMS key of the encrypted snapshot copies in the recovery region; restoring needs a grant on it. */
  kmsKeyArn: z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/, 'a KMS key ARN'))),
});

const recoverySchema = z.strictObject({
  /** CloudWatch alarm (name) whose ALARM state starts database-recovery for this database. */
  alarmName: z.optional(nonEmpty()),
  // The restored instance's settings. Each one omitted is taken from the source instance as the
  // assessment found it, never left to an RDS default; the report says which came from where.
  instanceClass: z.optional(z.string().check(z.regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class such as db.r6g.large'))),
  multiAz: z.optional(z.boolean()),
  subnetGroup: z.optional(resourceName),
  securityGroupIds: z.optional(z.array(securityGroupId).check(z.minLength(1))),
  /**
   * Parameter group of the RESTORED instance. It must not be readOnlyParameterGroup (that group is
   * made read-only), so it is required with readOnlyMode parameter-group. The restored instance keeps
   * the source's KMS key: RDS restores cannot change it.
   */
  parameterGroup: z.optional(resourceName),
  optionGroup: z.optional(resourceName),
  port: z.optional(z.int().check(z.minimum(1150), z.maximum(65535))),
  storageType: z.optional(z.enum(['gp2', 'gp3', 'io1', 'io2', 'standard'])),
  iamDatabaseAuthentication: z.optional(z.boolean()),
  copyTagsToSnapshot: z.optional(z.boolean()),
  /** The CA of the server certificate: clients that verify it (sslmode=verify-full) trust only some. */
  caCertificateIdentifier: z.optional(z.string().check(z.regex(/^rds-ca-[a-z0-9-]+$/, 'an RDS CA identifier such as rds-ca-rsa2048-g1'))),
  /**
   * How writes are stopped on the damaged instance. RDS refuses ALTER SYSTEM: `alter-database` runs
   * ALTER DATABASE ... SET default_transaction_read_only = on and ends the other sessions;
   * `parameter-group` sets default_transaction_read_only=1 in readOnlyParameterGroup.
   */
  readOnlyMode: z._default(z.enum(['alter-database', 'parameter-group']), 'alter-database'),
  /**
   * parameter-group mode: the damaged instance's own custom parameter group, the only one the
   * recovery may modify (IAM is scoped to it). RDS applies a change to every instance using the group.
   * When the instance turns out to use another group, the recovery falls back to ALTER DATABASE.
   */
  readOnlyParameterGroup: z.optional(resourceName),
  /**
   * How firmly the damaged instance is kept from writing. Either readOnlyMode only sets
   * default_transaction_read_only, a DEFAULT: any session can turn it off (SET
   * default_transaction_read_only = off, BEGIN READ WRITE, ALTER ROLE ... SET). `default` relies on it
   * (the check names role settings that turn it off, and ends every session open at the switch);
   * `revoke-writes` also revokes INSERT, UPDATE, DELETE and TRUNCATE on every table and view of the
   * non-system schemas from applicationRoles (and from PUBLIC and the roles they inherit from), which no
   * session can undo; the report records exactly what was revoked, and restoreWritePrivileges (or the
   * GRANT statements the report lists) gives it back on failback.
   */
  readOnlyStrength: z._default(z.enum(['default', 'revoke-writes']), 'default'),
  /** revoke-writes: the roles the application (and any other writer) logs in as. Required in that mode. */
  applicationRoles: z._default(z.array(nonEmpty()), []),
  /** Restore this long before the incident, so the restored data predates the damage. */
  safetyMarginMinutes: z._default(z.number().check(z.minimum(0), z.maximum(24 * 60)), 5),
  /** Tables to pg_prewarm on the new instance before traffic returns (a restored volume loads lazily). */
  prewarmTables: z._default(z.array(nonEmpty()), []),
  /** Kubernetes Secret (in kubernetes.namespace) whose key holds the database URL the API reads. */
  kubernetesSecret: z._default(z.strictObject({ name: kubernetesName, key: nonEmpty() }), { name: 'frontier-secrets', key: 'database-url' }),
  timeoutMinutes: z._default(positiveInt().check(z.maximum(24 * 60)), 90),
  /**
   * After a completed recovery, an alarm for this database within this many minutes starts nothing
   * (the run ends skipped, naming the recovery and the instance that now serves). An operator's start
   * is never held back by it. 0: every alarm after a completed recovery starts a new one.
   */
  quietPeriodMinutes: z._default(z.int().check(z.minimum(0), z.maximum(7 * 24 * 60)), 60),
});

/**
 * Secrets Manager's rotation schedule: rate(N days) with N 1-1000, rate(N hours) with N 4-23, or a
 * cron(...) expression of six fields (Secrets Manager's own limits, checked here so packaging says so).
 */
const rotationScheduleExpression = z.string().check(
  z.refine((text) => {
    const rate = /^rate\((\d+) (day|days|hour|hours)\)$/.exec(text);
    if (rate) {
      const count = Number(rate[1]);
      return rate[2]!.startsWith('day') ? count >= 1 && count <= 1000 : count >= 4 && count <= 23;
    }
    return /^cron\(\S+( \S+){5}\)$/.test(text);
  }, 'a Secrets Manager rotation schedule: rate(N days) with N 1-1000, rate(N hours) with N 4-23, or cron(...) with six fields'),
);

/**
 * Rotation of the database's credentialsSecret (functions/rotate-database-secret, README "Secret
 * rotation"). single-user changes the password of the secret's own user; alternating-users switches
 * between the user and `<user>_clone`, created and kept by the user of masterSecret.
 */
const rotationSchema = z.strictObject({
  strategy: z.enum(['single-user', 'alternating-users']),
  scheduleExpression: rotationScheduleExpression,
  /** alternating-users only: a secret (name or ARN, recovery region) whose user may create and alter the clone. */
  masterSecret: z.optional(nonEmpty()),
  /** What testSecret runs with the new credentials before they become current. */
  validationQuery: z._default(nonEmpty(), 'SELECT 1'),
});

const databaseSchema = z.strictObject({
  /** DB instance identifier in the primary region. */
  name: z.string().check(z.regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'an RDS DB instance identifier')),
  /** Row of the objectives table this database is measured against. */
  component: z._default(nonEmpty(), 'Database'),
  engine: z._default(z.enum(['postgres']), 'postgres'),
  databaseName: z._default(nonEmpty(), 'postgres'),
  port: z._default(z.int().check(z.minimum(1), z.maximum(65535)), 5432),
  /**
   * TLS for validation queries. verify-full checks the server certificate against the RDS CA bundle
   * (NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem in Lambda); disable is for local servers only.
   */
  tls: z._default(z.enum(['verify-full', 'require', 'disable']), 'verify-full'),
  /** Manual snapshots count only when their identifier starts with this prefix. */
  snapshotPrefix: nonEmpty(),
  snapshotIntervalHours: positive(),
  /** Slack allowed on top of the interval before a snapshot or copy counts as stale. */
  toleranceMinutes: z._default(z.number().check(z.minimum(0)), 60),
  retentionDays: positiveInt().check(z.maximum(MAX_AUTOMATED_RETENTION_DAYS)),
  requireEncryption: z._default(z.boolean(), true),
  requireCrossRegionCopy: z._default(z.boolean(), true),
  /** RDS automated-backup replication to the recovery region (point-in-time restore there). */
  requireAutomatedBackupReplication: z._default(z.boolean(), false),
  /** Secrets Manager secret (name or ARN) in the recovery region: JSON with username and password. */
  credentialsSecret: nonEmpty(),
  restoreTest: restoreTestSchema,
  /** Database recovery (plan scenario 2); the scenario refuses to run without it. */
  recovery: z.optional(recoverySchema),
  /** Rotation of credentialsSecret by the stack's rotation function; without it the secret is not rotated. */
  rotation: z.optional(rotationSchema),
});

const bucketSchema = z.strictObject({
  name: bucketName,
  purpose: nonEmpty(),
  region,
  retentionDays: positiveInt(),
  requireVersioning: z._default(z.boolean(), true),
  /** Region the replication destination bucket must be in; omit when replication is not expected. */
  replicationRegion: z.optional(region),
});

const clusterSchema = z.strictObject({
  /** EKS cluster name. */
  name: z.string().check(z.regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'an EKS cluster name')),
  region,
  /** The API's health URL when this cluster serves traffic (https://.../health). */
  healthUrl: z.url({ protocol: /^https?$/ }),
});

const dnsName = z.string().check(z.regex(/^(?=.{1,253}\.?$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}\.?$/i, 'a DNS name such as api.frontier.com'));
const hostedZoneId = z.string().check(z.regex(/^Z[A-Z0-9]{1,31}$/, 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ'));

/**
 * One DNS record a recovery moves to the backup side, in one of two modes (README "DNS: data-plane and
 * control-plane modes"). `mode` may be omitted: control-plane, so configs written before data-plane
 * mode existed keep working.
 *
 * control-plane: the record itself is set in Route 53 (ChangeResourceRecordSets UPSERT, then GetChange
 * until INSYNC). Route 53's control plane is served from us-east-1 only. Exactly one of
 * `backupValues` and `backupAlias`; a simple record (no failover or weighted routing).
 */
const dataPlaneOnly = z.custom<never>(() => false, { message: 'must go with mode: data-plane (without mode, a record is control-plane)' });

const controlPlaneRecordSchema = z.strictObject({
  mode: z._default(z.literal('control-plane'), 'control-plane'),
  hostedZoneId,
  /** The name clients use, e.g. api.frontier.com: a simple record (no failover or weighted routing). */
  recordName: dnsName,
  recordType: z._default(z.enum(['CNAME', 'A', 'AAAA']), 'CNAME'),
  ttlSeconds: z._default(positiveInt().check(z.maximum(86_400)), 60),
  /** The record's values when the backup serves, e.g. its load balancer's DNS name for a CNAME. */
  backupValues: z.optional(z.array(nonEmpty()).check(z.minLength(1))),
  /** Or an alias to the backup's load balancer (its DNS name and its canonical hosted zone id). */
  backupAlias: z.optional(z.strictObject({ dnsName, hostedZoneId, evaluateTargetHealth: z._default(z.boolean(), false) })),
  /** How long Route 53 may take to report the change INSYNC before the run fails. */
  timeoutMinutes: z._default(positiveInt().check(z.maximum(60)), 10),
  // A data-plane record whose `mode` was forgotten is read as control-plane: say so, not "a typo?".
  routingControls: z.optional(dataPlaneOnly),
  clusterEndpoints: z.optional(dataPlaneOnly),
});

const routingControlArn = z
  .string()
  .check(z.regex(/^arn:aws[a-z-]*:route53-recovery-control::\d{12}:controlpanel\/[0-9a-z]+\/routingcontrol\/[0-9a-z]+$/, 'a routing control ARN such as arn:aws:route53-recovery-control::123456789012:controlpanel/abc123/routingcontrol/def456'));

/**
 * A regional endpoint of the ARC cluster (`aws route53-recovery-control-config describe-cluster`).
 * https, or plain http to a loopback address (a local endpoint; nothing in AWS answers on one).
 */
const clusterEndpointSchema = z.strictObject({
  region,
  endpoint: z.string().check(
    z.regex(
      /^(https:\/\/[a-z0-9.-]+(:\d+)?(\/[^\s]*)?|http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/[^\s]*)?)$/i,
      'an https:// URL of an ARC cluster endpoint such as https://host-aaaaaa.us-west-2.example.com/v1',
    ),
  ),
});

/**
 * data-plane: Route 53 ARC routing controls, set through the ARC cluster's regional endpoints (the
 * records are failover records whose health checks follow the routing controls: nothing in Route 53's
 * control plane is called). Moving turns `backup` On and `primary` Off in one request.
 */
const dataPlaneRecordSchema = z.strictObject({
  mode: z.literal('data-plane'),
  /** The name the routing controls move, for the report only. */
  recordName: dnsName,
  routingControls: z.strictObject({ primary: routingControlArn, backup: routingControlArn }),
  /** The cluster's regional endpoints (it has five); any one answering is enough. Tried in this order. */
  clusterEndpoints: z.array(clusterEndpointSchema).check(z.minLength(1), z.maxLength(5)),
  /** Accepted as in control-plane mode; a routing-control change takes effect at once (nothing to wait for). */
  timeoutMinutes: z._default(positiveInt().check(z.maximum(60)), 10),
});

/** One record in either mode, chosen by `mode` (omitted: control-plane). Cross-field rules: dnsRecordProblems. */
export const dnsRecordSchema = z.discriminatedUnion('mode', [controlPlaneRecordSchema, dataPlaneRecordSchema], { error: 'mode: control-plane (the default) or data-plane' });

const redisSchema = z.strictObject({
  host: z.string().check(z.minLength(1)),
  port: z._default(z.int().check(z.minimum(1), z.maximum(65535)), 6379),
  tls: z._default(z.boolean(), true),
  /** Secrets Manager secret holding the AUTH token (plain string or JSON {"password": ...}). */
  authSecret: z.optional(z.string().check(z.minLength(1))),
});

/**
 * Region failover (plan scenario 1): the whole product moved to the recovery region when the primary
 * region fails. Everything here is read in, and acts on, the recovery region.
 */
const regionFailoverSchema = z.strictObject({
  /** The databases[] entry restored in the recovery region. */
  database: nonEmpty(),
  detection: z.strictObject({
    /**
     * route53-health-check: a Route 53 health check on the primary API and an alarm on its
     * HealthCheckStatus metric, which Route 53 publishes in us-east-1 only: allowed only when the
     * recovery region (where the alarm lives) is us-east-1. probe: a function in the recovery region
     * calls the primary API's /health on a schedule and publishes its own metric.
     */
    mode: z.enum(['route53-health-check', 'probe']),
    alarmName: z._default(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,200}$/, 'an alarm name (letters, digits, _ . -)')), 'RegionFailure'),
    healthCheck: z.strictObject({
      fqdn: dnsName,
      port: z._default(z.int().check(z.minimum(1), z.maximum(65535)), 443),
      path: z._default(z.string().check(z.regex(/^\/[^\s]*$/, 'a URL path such as /health')), '/health'),
      /** Route 53 accepts 10 or 30; the probe runs every minute whatever this says. */
      requestIntervalSeconds: z._default(z.union([z.literal(10), z.literal(30)]), 30),
      failureThreshold: z._default(z.int().check(z.minimum(1), z.maximum(10)), 3),
      /** probe mode: how long one GET may take before it counts as a failure. */
      timeoutSeconds: z._default(positive().check(z.maximum(30)), 5),
    }),
    /** The alarm must still be in ALARM this long after it fired before anything changes. */
    confirmationMinutes: z._default(z.number().check(z.minimum(0), z.maximum(60)), 3),
  }),
  /** The restored instance's settings in the recovery region (the primary region cannot be asked for its own). */
  restore: z.strictObject({
    instanceClass: z.string().check(z.regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class such as db.r6g.large')),
    subnetGroup: resourceName,
    securityGroupIds: z.array(securityGroupId).check(z.minLength(1)),
    parameterGroup: resourceName,
    optionGroup: z.optional(resourceName),
    multiAz: z._default(z.boolean(), true),
    port: z.optional(z.int().check(z.minimum(1150), z.maximum(65535))),
    storageType: z.optional(z.enum(['gp2', 'gp3', 'io1', 'io2', 'standard'])),
    caCertificateIdentifier: z.optional(z.string().check(z.regex(/^rds-ca-[a-z0-9-]+$/, 'an RDS CA identifier such as rds-ca-rsa2048-g1'))),
    /** The KMS key (recovery region) of the snapshot copies and replicated backups: the restore needs a grant on it. */
    kmsKeyArn: z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/, 'a KMS key ARN'))),
    /** How long the restored instance may take to become available. */
    timeoutMinutes: z._default(positiveInt().check(z.maximum(24 * 60)), 60),
  }),
  /** Kubernetes Secret (kubernetes.namespace, backup cluster) whose key holds the database URL the API reads. */
  kubernetesSecret: z._default(z.strictObject({ name: kubernetesName, key: nonEmpty() }), { name: 'frontier-secrets', key: 'database-url' }),
  /** The records moved to the recovery region, each in its mode, in this order. */
  dns: z.array(dnsRecordSchema).check(z.minLength(1)),
  /** The recovery region's own cache, PINGed before DNS moves (optional). */
  health: z._default(z.strictObject({ redis: z.optional(redisSchema) }), {}),
  /** After a completed region failover, a RegionFailure alarm within this many minutes starts nothing. */
  quietPeriodMinutes: z._default(z.int().check(z.minimum(0), z.maximum(7 * 24 * 60)), 60),
});

const kubernetesSchema = z.strictObject({
  namespace: z._default(kubernetesName, 'production'),
  apiDeployment: z._default(kubernetesName, 'frontier-api'),
  /** Replica count the API runs with in production (the plan scales to 3). */
  productionReplicas: z._default(z.int().check(z.minimum(1), z.maximum(1000)), 3),
  rolloutTimeoutMinutes: z._default(positiveInt().check(z.maximum(120)), 5),
  /** After a completed cluster failover, a ClusterUnreachable alarm within this many minutes starts nothing (as databases[].recovery.quietPeriodMinutes). */
  failoverQuietPeriodMinutes: z._default(z.int().check(z.minimum(0), z.maximum(7 * 24 * 60)), 60),
  /** Row of the objectives table a cluster recovery is measured against. */
  component: z._default(nonEmpty(), 'API Services'),
  clusters: z.strictObject({ primary: clusterSchema, backup: clusterSchema }),
  /** Production manifests (YAML, applied with server-side apply), kept in the recovery region. */
  manifests: z.strictObject({ bucket: bucketName, prefix: z._default(z.string(), '') }),
  /** Optional: the DNS record cluster failover moves to the backup cluster. Without it, traffic is not moved. */
  traffic: z.optional(dnsRecordSchema),
});

const healthSchema = z.strictObject({
  timeoutSeconds: z._default(positive().check(z.maximum(60)), 5),
  /** Which protected database the `SELECT 1` gate connects to (its endpoint and credentials secret). */
  database: z.optional(z.string().check(z.minLength(1))),
  redis: z.optional(
    z.strictObject({
      host: z.string().check(z.minLength(1)),
      port: z._default(z.int().check(z.minimum(1), z.maximum(65535)), 6379),
      tls: z._default(z.boolean(), true),
      /** Secrets Manager secret holding the AUTH token (plain string or JSON {"password": ...}). */
      authSecret: z.optional(z.string().check(z.minLength(1))),
    }),
  ),
});

/**
 * How a scenario that asks before it acts (region-failover, security-incident) gets its go-ahead:
 * `automatic` acts at once; `approval` waits for an approver (console, CLI or the signed link) for
 * `timeoutMinutes`, then does what `onTimeout` says. Keyed by scenario name (shared/scenarios.ts).
 */
const approvalPolicySchema = z.strictObject({
  policy: z._default(z.enum(['automatic', 'approval']), 'approval'),
  // Step Functions waits at most a year for a task token; a day is already longer than any recovery objective.
  timeoutMinutes: z._default(z.int().check(z.minimum(1), z.maximum(24 * 60)), 30),
  onTimeout: z._default(z.enum(['decline', 'approve']), 'decline'),
});

/** What a scenario missing from `approvals` gets: ask, wait 30 minutes, then change nothing. */
export const DEFAULT_APPROVAL_POLICY = { policy: 'approval', timeoutMinutes: 30, onTimeout: 'decline' } as const;

/**
 * The security incident (plan scenario 4; statemachines/security-incident.asl.yaml, README "Security
 * incident"): where its containment, evidence and rotations act. The cluster, namespace and API
 * deployment are the `kubernetes` section's.
 */
const securityIncidentSchema = z.strictObject({
  /** The cluster serving the API now, which the containment, the evidence and the patch act on. */
  cluster: z._default(z.enum(['primary', 'backup']), 'primary'),
  /**
   * The API keys clients call the API with. `secret` (Secrets Manager, recovery region) is their source:
   * a JSON object of key name to key. `kubernetesSecret` (in kubernetes.namespace) is the copy the API
   * reads, one data entry per key name. Rotated by functions/rotate-api-keys: on this schedule when
   * given, and by every security incident (containment: revoke the keys).
   */
  apiKeys: z.optional(
    z.strictObject({
      secret: nonEmpty(),
      kubernetesSecret: z._default(kubernetesName, 'frontier-api-keys'),
      /** Characters per generated key (letters and digits). */
      keyLength: z._default(z.int().check(z.minimum(32), z.maximum(4096)), 48),
      scheduleExpression: z.optional(rotationScheduleExpression),
    }),
  ),
  /** Where the input's `blockIps` are blocked. */
  blockIps: z._default(
    z.strictObject({
      /** The NetworkPolicy (kubernetes.namespace) that denies the listed addresses ingress to the API pods. */
      networkPolicy: z._default(kubernetesName, 'frontier-emergency-block'),
      /**
       * Whether the API pods see the client's own address (e.g. an NLB with IP targets and client IP
       * preservation, or externalTrafficPolicy: Local). When false, a network policy never sees a client
       * address behind the load balancer and blocks nothing from the internet: the report says so.
       */
      clientAddressPreserved: z._default(z.boolean(), false),
      /** A WAFv2 IP set referenced by a block rule of the web ACL in front of the API. */
      wafIpSet: z.optional(
        z.strictObject({
          name: z.string().check(z.regex(/^[\w-]{1,128}$/, 'a WAF IP set name (letters, digits, _ and -)')),
          id: z.string().check(z.regex(/^[0-9a-f-]{36}$/, 'a WAF IP set id (a UUID)')),
          scope: z._default(z.enum(['REGIONAL', 'CLOUDFRONT']), 'REGIONAL'),
          /** REGIONAL: the region of the protected load balancer (default primaryRegion). CLOUDFRONT: us-east-1. */
          region: z.optional(region),
        }),
      ),
    }),
    { networkPolicy: 'frontier-emergency-block', clientAddressPreserved: false },
  ),
  /** The ConfigMap key the API reads to serve read-only (kubectl patch configmap frontier-config ... emergency_mode). */
  emergencyMode: z._default(z.strictObject({ configMap: z._default(kubernetesName, 'frontier-config'), key: z._default(nonEmpty(), 'emergency_mode') }), {
    configMap: 'frontier-config',
    key: 'emergency_mode',
  }),
  /** Minutes a secret rotation started now may take before the run fails it (checkSecretRotation). */
  rotationTimeoutMinutes: z._default(z.int().check(z.minimum(1), z.maximum(120)), 10),
  /** The evidence bucket (created by the stack in the recovery region, versioned, with Object Lock). */
  evidence: z.strictObject({
    bucket: bucketName,
    prefix: z._default(z.string(), 'incidents/'),
    /** API pod logs collected: this many hours back from the run's start. */
    logHours: z._default(z.int().check(z.minimum(1), z.maximum(30 * 24)), 24),
    /** Object Lock (governance mode) retention of every evidence object. */
    retentionDays: z._default(positiveInt().check(z.maximum(36_500)), 365),
  }),
});

// Alertmanager webhook
/** The scenarios an alert may start: those an alarm starts (the others need an operator's input). */
export const ALERT_STARTED_SCENARIOS = ['region-failover', 'database-recovery', 'cluster-failover'] as const;
/** A Prometheus label name (also an alertname's form, so one rule fits both). */
export const PROMETHEUS_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/;
const alertmanagerSchema = z.strictObject({
  /** alertname -> scenario, e.g. {RegionFailure: region-failover, DatabaseDown: database-recovery}. */
  alerts: z
    .record(
      z.string().check(z.regex(PROMETHEUS_LABEL_NAME, 'an alertname (letters, digits and _, not starting with a digit, at most 128)')),
      z.enum(ALERT_STARTED_SCENARIOS),
    )
    .check(z.refine((alerts) => Object.keys(alerts).length > 0, 'at least one alertname mapped to a scenario')),
  /**
   * The label of a database-recovery alert that names the database (databases[].name); without it on
   * the alert, the only database with a recovery section.
   */
  databaseLabel: z._default(z.string().check(z.regex(PROMETHEUS_LABEL_NAME, 'a Prometheus label name')), 'database'),
});

const scheduleExpression = z
  .string()
  .check(z.regex(/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/, 'an EventBridge schedule such as rate(4 hours) or cron(0 6 ? * SUN *)'));

export const deploymentConfigSchema = z
  .strictObject({
    deployment: z.string().check(z.regex(/^[a-z][a-z0-9-]{1,30}$/, 'lower-case letters, digits and dashes (2-31 characters)')),
    primaryRegion: region,
    recoveryRegion: region,
    objectives: z.array(objectiveSchema).check(z.minLength(1)),
    databases: z.array(databaseSchema).check(z.minLength(1)),
    buckets: z._default(z.array(bucketSchema), []),
    reports: z.strictObject({
      bucket: bucketName,
      prefix: z._default(z.string(), 'reports/'),
    }),
    notifications: z.strictObject({ topicName: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,256}$/, 'an SNS topic name')) }),
    schedules: z.prefault(
      z.strictObject({
        backupVerification: z._default(scheduleExpression, 'rate(4 hours)'),
        restoreTest: z._default(scheduleExpression, 'cron(0 6 ? * SUN *)'),
        databaseFailoverDrill: z._default(scheduleExpression, 'cron(0 8 ? * SUN#1 *)'),
        enabled: z._default(z.boolean(), true),
        // Readiness: the evaluation, and the plan's drill calendar (quarterly region failover, the
        // security incident twice a year). Each drill starts only when its scenario is configured.
        readiness: z._default(scheduleExpression, 'rate(30 minutes)'),
        regionFailoverDrill: z._default(scheduleExpression, 'cron(0 9 ? 1,4,7,10 SUN#1 *)'),
        securityIncidentDrill: z._default(scheduleExpression, 'cron(0 9 ? 3,9 SUN#1 *)'),
        /** The scheduled drills run as dry runs (nothing changed); false: they really fail over and back. */
        drillsDryRun: z._default(z.boolean(), true),
      }),
      {},
    ),
    /**
     * Recovery-region VPC for functions that open database connections (restored instances are
     * private). Needs a route to Secrets Manager: a VPC endpoint or a NAT gateway.
     */
    network: z.strictObject({
      subnetIds: z.array(z.string().check(z.regex(/^subnet-[0-9a-f]+$/, 'a subnet id such as subnet-0123abcd'))).check(z.minLength(1)),
      securityGroupIds: z.array(securityGroupId).check(z.minLength(1)),
    }),
    /** CloudWatch alarm names whose ALARM state starts a recovery (EventBridge rules of the stack). */
    alarms: z.prefault(
      z.strictObject({
        clusterUnreachable: z._default(nonEmpty(), 'ClusterUnreachable'),
      }),
      {},
    ),
    /** EKS clusters and the API deployment (cluster failover, rollback, database recovery). */
    kubernetes: z.optional(kubernetesSchema),
    /** The gates every recovery passes before it reports success. */
    health: z._default(healthSchema, { timeoutSeconds: 5 }),
    /**
     * Approval policy per scenario name (any of shared/scenarios.ts; an unknown name is refused).
     * A scenario not listed gets DEFAULT_APPROVAL_POLICY.
     */
    approvals: z._default(z.record(z.string(), approvalPolicySchema), {}),
    /** Region failover: detection, the restore in the recovery region and the records it moves. */
    regionFailover: z.optional(regionFailoverSchema),
    /**
     * Region failback (after a region failover, by hand): how the data goes back to the primary region.
     * The restored instance's settings come from the database's `recovery` section (the primary
     * region's subnet group, security groups, parameter group, class), as a database recovery's do.
     */
    /** Security incident (plan scenario 4): containment, evidence, rotations. */
    securityIncident: z.optional(securityIncidentSchema),
    regionFailback: z.optional(
      z.strictObject({
        /** The primary region's KMS key the snapshot copies are encrypted with (a restore there needs it). */
        kmsKeyArn: z.string().check(z.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/, 'a KMS key ARN')),
        /** How long one snapshot or one cross-region copy may take. */
        transferTimeoutMinutes: z._default(positiveInt().check(z.maximum(24 * 60)), 120),
      }),
    ),
    // Alertmanager webhook
    /**
     * Prometheus alerts that start recoveries (README "Alertmanager"): which alertname starts which
     * scenario through the stack's webhook. Without this section the webhook starts nothing. An alert
     * mapped to a scenario this deployment does not configure (no regionFailover section, say) is
     * refused when it arrives, naming the missing section, as a manual start of it would be.
     */
    alertmanager: z.optional(alertmanagerSchema),
  })
  .check(
    // The rules across fields. They run even when fields failed their own schema (`when`), so that a
    // bad file is reported whole, not in rounds; each rule therefore reads only well-formed fields.
    z.superRefine(
      (parsed, ctx) => {
        const config: unknown = parsed;
        const databases = entries(field(config, 'databases'));
        const kubernetes = field(config, 'kubernetes');
        const recoveryRegion = field(config, 'recoveryRegion');
        if (isText(recoveryRegion) && recoveryRegion === field(config, 'primaryRegion')) {
          ctx.addIssue({
            code: 'custom',
            input: recoveryRegion,
            path: ['recoveryRegion'],
            message: 'must differ from primaryRegion: the recovery stack cannot live in the region it protects',
          });
        }
        // A snapshot copy can only be encrypted with a key of the region it is copied to.
        const failbackKey = field(field(config, 'regionFailback'), 'kmsKeyArn');
        const primaryRegion = field(config, 'primaryRegion');
        const keyRegion = isText(failbackKey) ? /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(failbackKey)?.[1] : undefined;
        if (keyRegion && isText(primaryRegion) && keyRegion !== primaryRegion) {
          ctx.addIssue({
            code: 'custom',
            input: failbackKey,
            path: ['regionFailback', 'kmsKeyArn'],
            message: `must be a key of primaryRegion (${primaryRegion}): a failback copies snapshots there, and a copy is encrypted with a key of the region it is copied to`,
          });
        }
        // Against a well-formed objectives table only: a broken row is reported on its own.
        const objectives = field(config, 'objectives');
        const componentNames = Array.isArray(objectives) ? objectives.map((o) => field(o, 'component')) : [];
        if (Array.isArray(objectives) && componentNames.every(isText)) {
          const components = new Set(componentNames);
          const mustName = `must name a row of objectives (${[...components].join(', ')})`;
          for (const [i, db] of databases) {
            const component = field(db, 'component');
            if (isText(component) && !components.has(component)) ctx.addIssue({ code: 'custom', input: component, path: ['databases', i, 'component'], message: mustName });
          }
          const component = field(kubernetes, 'component');
          if (isText(component) && !components.has(component)) ctx.addIssue({ code: 'custom', input: component, path: ['kubernetes', 'component'], message: mustName });
        }
        const names = databases.map(([, db]) => field(db, 'name'));
        const healthDatabase = field(field(config, 'health'), 'database');
        if (isText(healthDatabase) && Array.isArray(field(config, 'databases')) && names.every(isText) && !names.includes(healthDatabase)) {
          ctx.addIssue({
            code: 'custom',
            input: healthDatabase,
            path: ['health', 'database'],
            message: `must name one of databases (${names.join(', ')})`,
          });
        }
        for (const [i, db] of databases) {
          const recovery = field(db, 'recovery');
          const roles = field(recovery, 'applicationRoles');
          if (field(recovery, 'readOnlyStrength') === 'revoke-writes' && (roles === undefined || (Array.isArray(roles) && roles.length === 0))) {
            ctx.addIssue({ code: 'custom', input: roles, path: ['databases', i, 'recovery', 'applicationRoles'], message: 'must name at least one role with readOnlyStrength revoke-writes: the roles whose write privileges are revoked' });
          }
          if (field(recovery, 'readOnlyMode') !== 'parameter-group') continue;
          if (field(recovery, 'parameterGroup') === undefined) {
            ctx.addIssue({
              code: 'custom',
              input: undefined,
              path: ['databases', i, 'recovery', 'parameterGroup'],
              message: "is required with readOnlyMode parameter-group: the source's own group is made read-only, so the restored instance cannot take it",
            });
          }
          const path = ['databases', i, 'recovery', 'readOnlyParameterGroup'];
          const group = field(recovery, 'readOnlyParameterGroup');
          if (group === undefined) {
            ctx.addIssue({ code: 'custom', input: group, path, message: "is required with readOnlyMode parameter-group: the damaged instance's own custom parameter group" });
          } else if (isText(group) && group.startsWith('default.')) {
            ctx.addIssue({ code: 'custom', input: group, path, message: 'must be a custom parameter group: RDS does not let anyone modify a default one' });
          } else if (isText(group) && group === field(recovery, 'parameterGroup')) {
            ctx.addIssue({ code: 'custom', input: group, path, message: 'must differ from recovery.parameterGroup, or the restored instance would start read-only too' });
          }
        }
        const traffic = field(kubernetes, 'traffic');
        if (traffic !== undefined) for (const { input, path, message } of dnsRecordProblems(traffic, ['kubernetes', 'traffic'])) ctx.addIssue({ code: 'custom', input, path, message });
        const approvals = field(config, 'approvals');
        if (approvals !== null && typeof approvals === 'object' && !Array.isArray(approvals)) {
          for (const key of Object.keys(approvals)) {
            if (!isScenarioName(key)) {
              ctx.addIssue({ code: 'custom', input: key, path: ['approvals', key], message: `is keyed by ${JSON.stringify(key)}, which is no scenario; expected one of ${SCENARIO_NAMES.join(', ')}` });
            }
          }
        }
        // Rotation: the master secret belongs to alternating-users only, and each secret has one schedule.
        const rotatedSecrets: string[] = [];
        for (const [i, db] of databases) {
          const rotation = field(db, 'rotation');
          if (rotation !== undefined) {
            const masterSecret = field(rotation, 'masterSecret');
            const strategy = field(rotation, 'strategy');
            const path = ['databases', i, 'rotation', 'masterSecret'];
            if (strategy === 'alternating-users' && masterSecret === undefined) {
              ctx.addIssue({ code: 'custom', input: masterSecret, path, message: 'is required with strategy alternating-users: the secret whose user creates and alters the clone user' });
            } else if (strategy === 'single-user' && masterSecret !== undefined) {
              ctx.addIssue({ code: 'custom', input: masterSecret, path, message: 'must not be given with strategy single-user: the user changes its own password (use alternating-users to rotate through a master user)' });
            } else if (isText(masterSecret) && masterSecret === field(db, 'credentialsSecret')) {
              ctx.addIssue({ code: 'custom', input: masterSecret, path, message: 'must differ from credentialsSecret: the master user is not the one being rotated' });
            }
          }
          const secret = field(db, 'credentialsSecret');
          if (rotation !== undefined && isText(secret)) {
            if (rotatedSecrets.includes(secret)) {
              ctx.addIssue({ code: 'custom', input: secret, path: ['databases', i, 'credentialsSecret'], message: 'is rotated by an earlier database too: a secret has one rotation (one schedule, one strategy)' });
            }
            rotatedSecrets.push(secret);
          }
        }
        const securityIncident = field(config, 'securityIncident');
        if (securityIncident !== undefined) {
          if (kubernetes === undefined) {
            ctx.addIssue({ code: 'custom', input: undefined, path: ['kubernetes'], message: 'is required with securityIncident: the containment, the evidence and the patch act on the API deployment it names' });
          }
          const apiKeySecret = field(field(securityIncident, 'apiKeys'), 'secret');
          if (isText(apiKeySecret) && databases.some(([, db]) => field(db, 'credentialsSecret') === apiKeySecret || field(field(db, 'rotation'), 'masterSecret') === apiKeySecret)) {
            ctx.addIssue({ code: 'custom', input: apiKeySecret, path: ['securityIncident', 'apiKeys', 'secret'], message: 'is a database secret: the API keys need a secret of their own (a secret has one rotation function)' });
          }
          const wafIpSet = field(field(securityIncident, 'blockIps'), 'wafIpSet');
          const wafRegion = field(wafIpSet, 'region');
          if (field(wafIpSet, 'scope') === 'CLOUDFRONT' && wafRegion !== undefined && wafRegion !== 'us-east-1') {
            ctx.addIssue({ code: 'custom', input: wafRegion, path: ['securityIncident', 'blockIps', 'wafIpSet', 'region'], message: 'must be us-east-1 (or left out) with scope CLOUDFRONT: CloudFront IP sets live in us-east-1' });
          }
          const evidenceBucket = field(field(securityIncident, 'evidence'), 'bucket');
          if (isText(evidenceBucket) && evidenceBucket === field(field(config, 'reports'), 'bucket')) {
            ctx.addIssue({ code: 'custom', input: evidenceBucket, path: ['securityIncident', 'evidence', 'bucket'], message: 'must differ from reports.bucket: evidence objects are locked against deletion, reports are not' });
          }
        }
        const regionFailover = field(config, 'regionFailover');
        if (regionFailover !== undefined) {
          const database = field(regionFailover, 'database');
          if (isText(database) && Array.isArray(field(config, 'databases')) && names.every(isText) && !names.includes(database)) {
            ctx.addIssue({ code: 'custom', input: database, path: ['regionFailover', 'database'], message: `must name one of databases (${names.join(', ')})` });
          }
          // With the regions the same, that one problem is reported above; the regional rules would only repeat it.
          const regionsDiffer = isText(recoveryRegion) && recoveryRegion !== field(config, 'primaryRegion');
          const mode = field(field(regionFailover, 'detection'), 'mode');
          if (regionsDiffer && mode === 'route53-health-check' && recoveryRegion !== 'us-east-1') {
            ctx.addIssue({
              code: 'custom',
              input: mode,
              path: ['regionFailover', 'detection', 'mode'],
              message: `must be probe with recoveryRegion ${recoveryRegion}: Route 53 publishes health-check metrics only in us-east-1, so an alarm in ${recoveryRegion} would never see them`,
            });
          }
          const backupRegion = field(field(field(kubernetes, 'clusters'), 'backup'), 'region');
          if (regionsDiffer && isText(backupRegion) && backupRegion !== recoveryRegion) {
            ctx.addIssue({
              code: 'custom',
              input: backupRegion,
              path: ['kubernetes', 'clusters', 'backup', 'region'],
              message: `must be recoveryRegion (${recoveryRegion}) with regionFailover: a region failover brings the API up on the backup cluster`,
            });
          }
          for (const [i, record] of entries(field(regionFailover, 'dns'))) {
            for (const { input, path, message } of dnsRecordProblems(record, ['regionFailover', 'dns', i])) ctx.addIssue({ code: 'custom', input, path, message });
          }
        }
        names.forEach((name, i) => {
          if (isText(name) && names.indexOf(name) !== i) {
            ctx.addIssue({ code: 'custom', input: name, path: ['databases', i, 'name'], message: 'is listed twice' });
          }
        });
      },
      { when: () => true },
    ),
  );

/** `value[key]` when value is an object (the cross-field rules read possibly malformed input). */
function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

/** Each item of an array with its index; nothing for anything else. */
function entries(value: unknown): [number, unknown][] {
  return Array.isArray(value) ? value.map((item, i): [number, unknown] => [i, item]) : [];
}

function isText(value: unknown): value is string {
  return typeof value === 'string';
}

/** A problem dnsRecordProblems found: the field's path, the value found, and what is expected. */
export interface DnsRecordProblem {
  code: 'custom';
  input: unknown;
  path: PropertyKey[];
  message: string;
}

/**
 * The rules across the fields of one DNS record (dnsRecordSchema), for a record at `path` of a
 * possibly malformed config (only well-formed fields are read): kubernetes.traffic here, and any other
 * list of records (e.g. a region failover's) the same way.
 */
export function dnsRecordProblems(record: unknown, path: PropertyKey[]): DnsRecordProblem[] {
  const problems: DnsRecordProblem[] = [];
  const add = (at: string, input: unknown, message: string) => problems.push({ code: 'custom', input, path: [...path, ...at.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part))], message });
  const mode = field(record, 'mode');
  if (mode === undefined || mode === 'control-plane') {
    const backupValues = field(record, 'backupValues');
    const backupAlias = field(record, 'backupAlias');
    const recordType = field(record, 'recordType');
    if (backupValues === undefined && backupAlias === undefined) {
      add('backupValues', undefined, 'must be given, or backupAlias instead: exactly one of the two');
    } else if (backupValues !== undefined && backupAlias !== undefined) {
      add('backupAlias', backupAlias, 'must not be given with backupValues: exactly one of the two');
    } else if ((recordType === 'CNAME' || recordType === undefined) && Array.isArray(backupValues) && backupValues.length !== 1) {
      add('backupValues', backupValues, 'must hold exactly one value for a CNAME record');
    } else if ((recordType === 'CNAME' || recordType === undefined) && backupAlias !== undefined) {
      add('recordType', recordType, 'must be A or AAAA for an alias (backupAlias)');
    }
    return problems;
  }
  if (mode !== 'data-plane') return problems;
  const controls = field(record, 'routingControls');
  const primary = field(controls, 'primary');
  const backup = field(controls, 'backup');
  if (isText(primary) && primary === backup) add('routingControls.backup', backup, 'must differ from routingControls.primary: moving turns one On and the other Off');
  // ARC's safety rules (e.g. "at least one On") only cover routing controls of one control panel: two
  // panels could not keep the pair from being both Off.
  const panel = (arn: unknown) => (isText(arn) ? /controlpanel\/([^/]+)\//.exec(arn)?.[1] : undefined);
  if (panel(primary) && panel(backup) && panel(primary) !== panel(backup)) {
    add('routingControls.backup', backup, `must be in the same control panel as routingControls.primary (${panel(primary)}): safety rules apply within one panel`);
  }
  const endpoints = entries(field(record, 'clusterEndpoints'));
  const seen = new Map<string, number>();
  for (const [i, entry] of endpoints) {
    const url = field(entry, 'endpoint');
    const region = field(entry, 'region');
    if (isText(url)) {
      const key = url.toLowerCase().replace(/\/+$/, '');
      if (seen.has(key)) add(`clusterEndpoints.${i}.endpoint`, url, `is listed twice (also clusterEndpoints[${seen.get(key)}])`);
      else seen.set(key, i);
      // The host of a regional endpoint names its region: a mismatch is a copy-paste slip.
      const named = /\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\./.exec(url)?.[1];
      if (isText(region) && named && named !== region) add(`clusterEndpoints.${i}.region`, region, `must be the region the endpoint names (${named})`);
    }
  }
  return problems;
}

export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;
export type DatabaseConfig = DeploymentConfig['databases'][number];
export type BucketConfig = DeploymentConfig['buckets'][number];
export type Objective = DeploymentConfig['objectives'][number];
export type KubernetesConfig = NonNullable<DeploymentConfig['kubernetes']>;
export type ClusterConfig = KubernetesConfig['clusters']['primary'];
export type HealthConfig = DeploymentConfig['health'];
export type ApprovalPolicyConfig = z.infer<typeof approvalPolicySchema>;
/** One DNS record a recovery moves, in either mode (dnsRecordSchema). */
export type DnsRecordConfig = z.infer<typeof dnsRecordSchema>;
export type ControlPlaneRecordConfig = Extract<DnsRecordConfig, { mode: 'control-plane' }>;
export type DataPlaneRecordConfig = Extract<DnsRecordConfig, { mode: 'data-plane' }>;
/** kubernetes.traffic: the record cluster failover moves to the backup cluster. */
export type TrafficConfig = DnsRecordConfig;
export type RotationConfig = NonNullable<DatabaseConfig['rotation']>;
export type SecurityIncidentConfig = NonNullable<DeploymentConfig['securityIncident']>;
export type ApiKeysConfig = NonNullable<SecurityIncidentConfig['apiKeys']>;
export type RegionFailoverConfig = NonNullable<DeploymentConfig['regionFailover']>;

export function regionFailoverConfig(config: DeploymentConfig): RegionFailoverConfig {
  if (!config.regionFailover) throw new InvalidConfig('the deployment config has no regionFailover section: region-failover cannot run');
  return config.regionFailover;
}

/** The `securityIncident` section. Throws InvalidConfig when there is none. */
export function securityIncidentConfig(config: DeploymentConfig): SecurityIncidentConfig {
  if (!config.securityIncident) throw new InvalidConfig('the deployment config has no securityIncident section: security-incident cannot run');
  return config.securityIncident;
}

/**
 * The secrets a security incident may rotate (its input's `secrets`, and the default when the input
 * names none): the `credentialsSecret` of every database with a `rotation` section, in config order.
 * The API keys are not among them: the containment rotates those (revokes the keys) on every run.
 */
export function incidentRotatableSecrets(config: DeploymentConfig): string[] {
  return config.databases.filter((db) => db.rotation).map((db) => db.credentialsSecret);
}

/** The region of the WAF IP set: us-east-1 for CLOUDFRONT scope, else its `region` or primaryRegion. */
export function wafIpSetRegion(config: DeploymentConfig, ipSet: NonNullable<SecurityIncidentConfig['blockIps']['wafIpSet']>): string {
  if (ipSet.scope === 'CLOUDFRONT') return 'us-east-1';
  return ipSet.region ?? config.primaryRegion;
}

/** Validates a parsed config; `source` names the file or variable in the error. */
export function parseDeploymentConfig(raw: unknown, source: string): DeploymentConfig {
  const result = deploymentConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new InvalidConfig(`${source} is not a valid deployment config:\n${describeIssues(result.error.issues, raw)}`);
  }
  return result.data;
}

/** Where a function finds its deployment config: a file in its own code package (see below). */
export const CONFIG_FILE_VARIABLE = 'DR_CONFIG_FILE';
/** The sha256 (hex) of that file as it was packaged: the version the function was deployed with. */
export const CONFIG_SHA256_VARIABLE = 'DR_CONFIG_SHA256';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

let cachedFromEnvironment: DeploymentConfig | undefined;

/**
 * The deployed functions find the validated config as a JSON file inside their own code package
 * (written at packaging time, deploy/deployment-config.cjs): no environment-size limit (Lambda allows
 * 4 KB of environment, about six databases), and nothing to call at cold start, so no outage, throttle
 * or permission can make it unreadable. DR_CONFIG_FILE names it (relative paths are resolved against
 * the package root, LAMBDA_TASK_ROOT), DR_CONFIG_SHA256 pins the version deployed with the function.
 * Read, checked and validated once per container; a missing, altered or invalid file fails the first
 * invocation with a named error before any recovery step runs.
 */
export function deploymentConfigFromEnvironment(): DeploymentConfig {
  if (cachedFromEnvironment) return cachedFromEnvironment;
  const file = process.env[CONFIG_FILE_VARIABLE];
  const expected = process.env[CONFIG_SHA256_VARIABLE];
  if (!file || !expected) {
    throw new InvalidConfig(`environment variables ${CONFIG_FILE_VARIABLE} and ${CONFIG_SHA256_VARIABLE} are not both set: the function was packaged without a deployment config`);
  }
  const path = isAbsolute(file) ? file : join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new InvalidConfig(`cannot read the deployment config ${path}: ${(error as Error).message}`, { cause: error });
  }
  const actual = sha256Hex(bytes);
  if (actual !== expected.toLowerCase()) {
    throw new DeploymentConfigMismatch(
      `deployment config ${path} has sha256 ${actual}, but this function was deployed with ${expected} (${CONFIG_SHA256_VARIABLE}): redeploy the stack`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new InvalidConfig(`deployment config ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  cachedFromEnvironment = parseDeploymentConfig(raw, `deployment config ${path}`);
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

export type ClusterRole = 'primary' | 'backup';

export function kubernetesConfig(config: DeploymentConfig): KubernetesConfig {
  if (!config.kubernetes) throw new InvalidConfig('the deployment config has no kubernetes section');
  return config.kubernetes;
}

export function clusterFor(config: DeploymentConfig, role: ClusterRole): ClusterConfig {
  return kubernetesConfig(config).clusters[role];
}
