// Loaded by serverless.yml (`${file(./deploy/deployment-config.cjs):...}`) when packaging or
// deploying. It validates the deployment file with the very schema the functions use at cold start
// (shared/config.ts, compiled on the fly), so a bad field stops packaging with its path and value,
// and derives what the stack needs: regions, schedules, and least-privilege IAM statements scoped to
// the configured databases, buckets and secrets. Resource names in those statements come from the
// rules the functions name things by (shared/names.ts, compiled the same way), never a copy of them.
// It also writes the validated config as JSON to dist/deployment-config/<sha256>.json, which
// serverless.yml puts into every function's package (package.patterns) and names in DR_CONFIG_FILE /
// DR_CONFIG_SHA256 (shared/config.ts reads it).
// CommonJS because the framework loads variable sources with require().
const path = require('node:path');
const Module = require('node:module');
const { buildSync } = require('esbuild');
const { compactStatements } = require('./iam-policies.cjs');

const root = path.join(__dirname, '..');
/** Relative to the service directory: the path inside each function package is the same. */
const PACKAGED_CONFIG_DIRECTORY = 'dist/deployment-config';
let schemaModule;

function loadConfigModule() {
  if (schemaModule) return schemaModule;
  const bundle = buildSync({
    stdin: {
      contents: "export * from './shared/config-file.ts'; export * as nameRules from './shared/names.ts'; export * as scenarios from './shared/scenarios.ts';",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  const compiled = new Module(path.join(root, 'shared', 'config.cjs'));
  compiled.filename = compiled.id;
  compiled.paths = Module._nodeModulePaths(root);
  compiled._compile(bundle.outputFiles[0].text, compiled.id);
  schemaModule = compiled.exports;
  return schemaModule;
}

// CloudFormation fills in partition and account, so one template works in any account.
const sub = (text) => ({ 'Fn::Sub': text });
const arn = (service, region, rest) => sub(`arn:\${AWS::Partition}:${service}:${region}:\${AWS::AccountId}:${rest}`);

function kubernetesStatements(config) {
  const k8s = config.kubernetes;
  if (!k8s) return { assessPrimaryCluster: [], applyManifestsToBackup: [], scaleDeployment: [], checkRollout: [], planRollback: [], rollBackDeployment: [], moveTraffic: [], checkDnsChange: [], runHealthChecks: healthStatements(config) };

  const clusters = [k8s.clusters.primary, k8s.clusters.backup].map((c) => arn('eks', c.region, `cluster/${c.name}`));
  // Kubernetes itself authorises what these functions do inside the cluster: deploy/rbac/ gives each
  // its own group (frontier-dr:<function>), to which its role is mapped on each cluster (the stack's
  // KubernetesAccess<Function> outputs, README); AWS IAM only lets them find the cluster and sign the token.
  const describeClusters = [{ Effect: 'Allow', Action: ['eks:DescribeCluster'], Resource: clusters }];
  return {
    assessPrimaryCluster: describeClusters,
    applyManifestsToBackup: [
      ...describeClusters,
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${k8s.manifests.bucket}`)] },
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${k8s.manifests.bucket}/${k8s.manifests.prefix}*`)] },
    ],
    scaleDeployment: describeClusters,
    checkRollout: describeClusters,
    planRollback: describeClusters,
    rollBackDeployment: describeClusters,
    ...trafficStatements(k8s.traffic),
    runHealthChecks: healthStatements(config),
  };
}

/** The one record cluster failover may move (kubernetes.traffic), in its mode; none without it. */
function trafficStatements(traffic) {
  if (!traffic) return { moveTraffic: [], checkDnsChange: [] };
  const statements = dnsRecordStatements([traffic]);
  return { moveTraffic: statements.move, checkDnsChange: statements.check };
}

/**
 * What moving DNS records (shared/dns.ts) needs, scoped to the records: control-plane records may be
 * listed in their hosted zones and changed there by name, type and action only (UPSERT; DELETE too
 * for a failback, `restore`, which deletes a record that did not exist before); data-plane records'
 * routing controls may be read and set (ARC's data plane), and nothing else. `check` is GetChange,
 * for control-plane records only (change ids are not known in advance).
 */
function dnsRecordStatements(records, { restore = false } = {}) {
  const controlPlane = records.filter((r) => (r.mode ?? 'control-plane') === 'control-plane');
  const dataPlane = records.filter((r) => r.mode === 'data-plane');
  const move = [];
  const zones = [...new Set(controlPlane.map((r) => r.hostedZoneId))];
  for (const zoneId of zones) {
    const inZone = controlPlane.filter((r) => r.hostedZoneId === zoneId);
    const zone = sub(`arn:\${AWS::Partition}:route53:::hostedzone/${zoneId}`);
    move.push(
      { Effect: 'Allow', Action: ['route53:ListResourceRecordSets'], Resource: [zone] },
      {
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: [zone],
        Condition: {
          'ForAllValues:StringEquals': {
            // IAM compares record names lower-cased and without the final dot.
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [...new Set(inZone.map((r) => r.recordName.toLowerCase().replace(/\.$/, '')))],
            'route53:ChangeResourceRecordSetsRecordTypes': [...new Set(inZone.map((r) => r.recordType))],
            'route53:ChangeResourceRecordSetsActions': restore ? ['UPSERT', 'DELETE'] : ['UPSERT'],
          },
        },
      },
    );
  }
  const controls = [...new Set(dataPlane.flatMap((r) => [r.routingControls.primary, r.routingControls.backup]))];
  if (controls.length) {
    move.push({
      Effect: 'Allow',
      Action: ['route53-recovery-cluster:GetRoutingControlState', 'route53-recovery-cluster:UpdateRoutingControlState', 'route53-recovery-cluster:UpdateRoutingControlStates'],
      Resource: controls,
    });
  }
  const check = controlPlane.length ? [{ Effect: 'Allow', Action: ['route53:GetChange'], Resource: [sub('arn:${AWS::Partition}:route53:::change/*')] }] : [];
  return { move, check };
}

function healthStatements(config) {
  const statements = [];
  const database = config.databases.find((d) => d.name === config.health.database);
  const secrets = [];
  if (database) secrets.push(database.credentialsSecret);
  if (config.health.redis?.authSecret) secrets.push(config.health.redis.authSecret);
  if (secrets.length) {
    statements.push({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: secrets.map((s) => (s.startsWith('arn:') ? s : arn('secretsmanager', config.recoveryRegion, `secret:${s}-??????`))),
    });
  }
  return statements;
}

/**
 * The subnet groups restores place instances in: the configured ones. A database without one restores
 * into the region's default VPC, whose group the stack cannot name: then any group (`subgrp:*`).
 */
function subnetGroups(region, configured) {
  if (configured.some((g) => !g)) return [arn('rds', region, 'subgrp:*')];
  return [...new Set(configured)].map((g) => arn('rds', region, `subgrp:${g}`));
}

/**
 * A role's inline policy needs at least one statement. A function whose scenario this deployment
 * does not configure (no kubernetes section, no buckets) gets one that denies its only action.
 */
function atLeastOneStatement(statementsByFunction) {
  const placeholder = { Effect: 'Deny', Action: ['s3:GetObject'], Resource: [sub('arn:${AWS::Partition}:s3:::frontier-dr-not-configured/*')] };
  return Object.fromEntries(Object.entries(statementsByFunction).map(([name, statements]) => [name, statements.length ? statements : [placeholder]]));
}

function databaseRecoveryStatements(config, nameRules) {
  const primary = config.primaryRegion;
  const recoverable = config.databases.filter((d) => d.recovery);
  const sources = recoverable.map((d) => arn('rds', primary, `db:${d.name}`));
  // Restored instances are named `<database>-r-<incident>` (nameRules.restoredInstanceId).
  const restored = recoverable.map((d) => arn('rds', primary, `db:${nameRules.restoredInstancePattern(d.name)}`));
  const secretArns = recoverable.map((d) => (d.credentialsSecret.startsWith('arn:') ? d.credentialsSecret : arn('secretsmanager', config.recoveryRegion, `secret:${d.credentialsSecret}-??????`)));
  // Only the groups parameter-group mode makes read-only: the damaged instances' own.
  const parameterGroups = recoverable.filter((d) => d.recovery.readOnlyMode === 'parameter-group').map((d) => d.recovery.readOnlyParameterGroup);
  const primaryCluster = config.kubernetes ? [arn('eks', config.kubernetes.clusters.primary.region, `cluster/${config.kubernetes.clusters.primary.name}`)] : [];
  const describePrimaryCluster = primaryCluster.length ? [{ Effect: 'Allow', Action: ['eks:DescribeCluster'], Resource: primaryCluster }] : [];
  if (recoverable.length === 0) return { stopApiWrites: [], setReadOnlyParameter: [], setDatabaseReadOnly: [], assessDatabase: [], startDatabaseRestore: [], checkDatabaseRestore: [], prewarmDatabase: [], repointApplication: [] };
  const readSecrets = { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: secretArns };
  return {
    stopApiWrites: describePrimaryCluster,
    setReadOnlyParameter: parameterGroups.length ? [{ Effect: 'Allow', Action: ['rds:ModifyDBParameterGroup'], Resource: parameterGroups.map((g) => arn('rds', primary, `pg:${g}`)) }] : [],
    setDatabaseReadOnly: [readSecrets],
    assessDatabase: [
      { Effect: 'Allow', Action: ['rds:DescribeDBInstances', 'rds:DescribeDBSnapshots', 'rds:DescribeDBInstanceAutomatedBackups'], Resource: [...sources, arn('rds', primary, 'snapshot:*'), arn('rds', primary, 'auto-backup:*')] },
    ],
    startDatabaseRestore: [
      { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: restored },
      {
        Effect: 'Allow',
        Action: ['rds:RestoreDBInstanceToPointInTime', 'rds:RestoreDBInstanceFromDBSnapshot'],
        // The source instance is named because a point-in-time restore reads from it; nothing here modifies it.
        // Snapshots, option and parameter groups stay wildcards for the reasons startScratchRestore gives.
        Resource: [...sources, ...restored, arn('rds', primary, 'snapshot:*'), ...subnetGroups(primary, recoverable.map((d) => d.recovery.subnetGroup)), arn('rds', primary, 'pg:*'), arn('rds', primary, 'og:*')],
      },
      // Tags go on the restored instance only: never on the source, its snapshots or any group.
      tagCreatedInstances(restored, nameRules),
      { Effect: 'Allow', Action: ['kms:CreateGrant', 'kms:DescribeKey'], Resource: [arn('kms', primary, 'key/*')], Condition: { StringEquals: { 'kms:ViaService': `rds.${primary}.amazonaws.com` } } },
    ],
    checkDatabaseRestore: [{ Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: restored }],
    prewarmDatabase: [readSecrets],
    repointApplication: [...describePrimaryCluster, { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], Resource: secretArns }],
  };
}

/** A secret as an IAM resource: an ARN as given, a name with the 6-character suffix Secrets Manager adds. */
function secretResource(config, secret) {
  return secret.startsWith('arn:') ? secret : arn('secretsmanager', config.recoveryRegion, `secret:${secret}-??????`);
}

/**
 * The rotation function may read, store and relabel versions of the secrets databases[].rotation lists,
 * and only read the master secrets; nothing else. GetRandomPassword acts on no resource: IAM allows it
 * only on "*", and it reads and changes nothing.
 */
function rotationStatements(config) {
  const rotated = config.databases.filter((d) => d.rotation);
  if (rotated.length === 0) return { rotateDatabaseSecret: [] };
  const masters = [...new Set(rotated.map((d) => d.rotation.masterSecret).filter(Boolean))];
  return {
    rotateDatabaseSecret: [
      {
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        Resource: rotated.map((d) => secretResource(config, d.credentialsSecret)),
      },
      ...(masters.length ? [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: masters.map((s) => secretResource(config, s)) }] : []),
      { Effect: 'Allow', Action: ['secretsmanager:GetRandomPassword'], Resource: ['*'] },
    ],
  };
}

// API-key rotation
/**
 * The API-key rotation function may read, store and relabel versions of securityIncident.apiKeys.secret
 * only, generate keys (GetRandomPassword acts on no resource: IAM allows it only on "*"), and describe
 * the two clusters to reach the Kubernetes copies (deploy/rbac/ authorises what it does there). Nothing
 * without an apiKeys section.
 */
function apiKeyRotationStatements(config) {
  const apiKeys = config.securityIncident?.apiKeys;
  if (!apiKeys || !config.kubernetes) return { rotateApiKeys: [] };
  const clusters = [config.kubernetes.clusters.primary, config.kubernetes.clusters.backup].map((c) => arn('eks', c.region, `cluster/${c.name}`));
  return {
    rotateApiKeys: [
      {
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        Resource: [secretResource(config, apiKeys.secret)],
      },
      { Effect: 'Allow', Action: ['secretsmanager:GetRandomPassword'], Resource: ['*'] },
      { Effect: 'Allow', Action: ['eks:DescribeCluster'], Resource: clusters },
    ],
  };
}

/** The API keys' rotation schedule (securityIncident.apiKeys.scheduleExpression), naming rotateApiKeys; none without one. */
function apiKeyRotationSchedules(config) {
  const apiKeys = config.securityIncident?.apiKeys;
  if (!apiKeys?.scheduleExpression) return [];
  return [{ logicalId: 'RotationScheduleApiKeys', rotationFunction: 'api-keys', secretId: apiKeys.secret, scheduleExpression: apiKeys.scheduleExpression }];
}

/**
 * The secrets a run may rotate now (shared/rotate-now.ts): every databases[].credentialsSecret with
 * rotation, and securityIncident.apiKeys.secret. As IAM resources (secretResource) and as the values of
 * an EventBridge pattern on the secret's ARN (a name matches by prefix: its ARN ends in `-` and six
 * random characters).
 */
function rotatedNowSecrets(config) {
  const names = [...config.databases.filter((d) => d.rotation).map((d) => d.credentialsSecret), ...(config.securityIncident?.apiKeys ? [config.securityIncident.apiKeys.secret] : [])];
  return [...new Set(names)];
}

/**
 * startSecretRotation may describe and rotate those secrets and nothing else (RotateSecret never reads
 * a value); checkSecretRotation may only describe them. Passing the rotation function to Secrets
 * Manager also needs lambda:InvokeFunction on it: serverless.yml grants that on the stack's two
 * rotation functions (their ARNs need the stage, which this file does not know).
 */
function rotateNowStatements(config) {
  const secrets = rotatedNowSecrets(config).map((s) => secretResource(config, s));
  if (secrets.length === 0) return { startSecretRotation: [], checkSecretRotation: [] };
  return {
    startSecretRotation: [{ Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:RotateSecret'], Resource: secrets }],
    checkSecretRotation: [{ Effect: 'Allow', Action: ['secretsmanager:DescribeSecret'], Resource: secrets }],
  };
}

/**
 * The `detail.additionalEventData.SecretId` values of the rule that sends Secrets Manager's
 * RotationFailed events for these secrets to the alert topic. Never empty (an event pattern may not
 * hold an empty list): without any rotated secret it matches an ARN no secret can have.
 */
function rotationFailedSecretIds(config) {
  const ids = rotatedNowSecrets(config).map((s) =>
    s.startsWith('arn:') ? s : { prefix: sub(`arn:\${AWS::Partition}:secretsmanager:${config.recoveryRegion}:\${AWS::AccountId}:secret:${s}-`) },
  );
  return ids.length ? ids : ['frontier-dr: no rotated secret configured'];
}

/**
 * One Secrets Manager rotation schedule per rotated secret (deploy/secret-rotation.cjs adds them to the
 * template). The logical id is the database's name in letters and digits plus a hash of the name, so
 * two names that differ only in dashes cannot collide.
 */
function rotationSchedules(config) {
  const { createHash } = require('node:crypto');
  return config.databases
    .filter((d) => d.rotation)
    .map((d) => ({
      logicalId: `RotationSchedule${d.name.replace(/[^A-Za-z0-9]/g, '')}${createHash('sha256').update(d.name).digest('hex').slice(0, 8)}`,
      database: d.name,
      secretId: d.credentialsSecret,
      scheduleExpression: d.rotation.scheduleExpression,
    }));
}

/**
 * The region failover's own functions: every resource they may touch is in the RECOVERY region (or
 * Route 53, which is global), never the primary one (test/package/region-failover-stack.test.ts checks
 * it). The shared functions it also runs (assessPrimaryCluster, applyManifestsToBackup, scaleDeployment,
 * checkRollout, repointApplication) are given the recovery cluster by the state machine.
 */
function regionFailoverStatements(config, nameRules) {
  const none = { confirmOutage: [], regionFailoverPreflight: [], regionTrafficPreflight: [], startRegionRestore: [], checkRegionRestore: [], runRegionHealthChecks: [], moveDns: [], checkRegionDnsChange: [], probePrimaryApi: [] };
  const failover = config.regionFailover;
  if (!failover) return none;
  const recovery = config.recoveryRegion;
  const database = config.databases.find((d) => d.name === failover.database);
  // Absent only from the trimmed configs iam-policies.cjs sizes roles with (fewer databases).
  if (!database) return none;
  const secretArn = (s) => (s.startsWith('arn:') ? s : arn('secretsmanager', recovery, `secret:${s}-??????`));
  const restored = [arn('rds', recovery, `db:${nameRules.restoredInstancePattern(database.name)}`)];
  const zones = [...new Set(failover.dns.filter((r) => r.mode !== 'data-plane').map((r) => r.hostedZoneId))].map((id) => sub(`arn:\${AWS::Partition}:route53:::hostedzone/${id}`));
  const secrets = [database.credentialsSecret, ...(failover.health.redis?.authSecret ? [failover.health.redis.authSecret] : [])].map(secretArn);
  return {
    confirmOutage: [{ Effect: 'Allow', Action: ['cloudwatch:DescribeAlarms'], Resource: [arn('cloudwatch', recovery, `alarm:${failover.detection.alarmName}`)] }],
    regionFailoverPreflight: [
      { Effect: 'Allow', Action: ['rds:DescribeDBSnapshots'], Resource: [arn('rds', recovery, `db:${database.name}`), arn('rds', recovery, 'snapshot:*')] },
      { Effect: 'Allow', Action: ['rds:DescribeDBInstanceAutomatedBackups'], Resource: [arn('rds', recovery, 'auto-backup:*')] },
      { Effect: 'Allow', Action: ['rds:DescribeDBSubnetGroups'], Resource: [arn('rds', recovery, `subgrp:${failover.restore.subnetGroup}`)] },
      { Effect: 'Allow', Action: ['rds:DescribeDBParameterGroups'], Resource: [arn('rds', recovery, `pg:${failover.restore.parameterGroup}`)] },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [secretArn(database.credentialsSecret)] },
    ],
    regionTrafficPreflight: zones.length ? [{ Effect: 'Allow', Action: ['route53:ListResourceRecordSets'], Resource: zones }] : [],
    startRegionRestore: [
      { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: restored },
      {
        Effect: 'Allow',
        Action: ['rds:RestoreDBInstanceToPointInTime', 'rds:RestoreDBInstanceFromDBSnapshot'],
        // The snapshot copies and replicated backups are named by the copy and replication jobs, not by us.
        Resource: [...restored, arn('rds', recovery, 'snapshot:*'), arn('rds', recovery, 'auto-backup:*'), arn('rds', recovery, `subgrp:${failover.restore.subnetGroup}`), arn('rds', recovery, 'pg:*'), arn('rds', recovery, 'og:*')],
      },
      tagCreatedInstances(restored, nameRules),
      {
        Effect: 'Allow',
        Action: ['kms:CreateGrant', 'kms:DescribeKey'],
        Resource: failover.restore.kmsKeyArn ? [failover.restore.kmsKeyArn] : [arn('kms', recovery, 'key/*')],
        Condition: { StringEquals: { 'kms:ViaService': `rds.${recovery}.amazonaws.com` } },
      },
    ],
    checkRegionRestore: [{ Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: restored }],
    runRegionHealthChecks: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: secrets }],
    // The records in their modes, as cluster failover's traffic move (dnsRecordStatements).
    moveDns: dnsRecordStatements(failover.dns).move,
    checkRegionDnsChange: dnsRecordStatements(failover.dns).check,
    // PutMetricData has no resource type: held to the probe's own namespace instead.
    probePrimaryApi:
      failover.detection.mode === 'probe'
        ? [{ Effect: 'Allow', Action: ['cloudwatch:PutMetricData'], Resource: ['*'], Condition: { StringEquals: { 'cloudwatch:namespace': 'FrontierDR/RegionProbe' } } }]
        : [],
  };
}

/**
 * Region failover repoints the recovery region's connection secret and the API's Secret on the
 * recovery cluster: the same function as database recovery, with the recovery cluster and that
 * database's secret added (region failback adds the primary region's secret: withRegionFailback).
 */
function databaseRecoveryWithRegionFailover(config, nameRules) {
  const recovery = databaseRecoveryStatements(config, nameRules);
  const failover = config.regionFailover;
  if (!failover || !config.kubernetes) return recovery;
  const database = config.databases.find((d) => d.name === failover.database);
  // Absent only from the trimmed configs iam-policies.cjs sizes roles with (fewer databases).
  if (!database) return recovery;
  const backup = config.kubernetes.clusters.backup;
  const secret = database.credentialsSecret.startsWith('arn:') ? database.credentialsSecret : arn('secretsmanager', config.recoveryRegion, `secret:${database.credentialsSecret}-??????`);
  return {
    ...recovery,
    repointApplication: [
      ...recovery.repointApplication,
      { Effect: 'Allow', Action: ['eks:DescribeCluster'], Resource: [arn('eks', backup.region, `cluster/${backup.name}`)] },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], Resource: [secret] },
    ],
  };
}

/**
 * Region failback (shared/region-failback.ts), per function. It snapshots the recovery-region instance
 * a region failover restored (named `<database>-r-<incident>`, nameRules.restoredInstanceId), copies
 * the snapshots (`<database>-failback-*`) to the primary region with regionFailback.kmsKeyArn, and
 * restores `<database>-r-<failback start>` there; it reads the region-failover reports, repoints the
 * primary region's connection secret and moves kubernetes.traffic back. Nothing without the
 * regionFailback section.
 */
function regionFailbackStatements(config, nameRules) {
  const names = ['loadFailoverRecord', 'checkPrimaryRegion', 'startFailbackSnapshot', 'checkFailbackProgress', 'copyFailbackSnapshot', 'freezeRecoveryWrites', 'startPrimaryRestore', 'verifyFailbackData', 'restoreRecordedTraffic'];
  const none = Object.fromEntries(names.map((n) => [n, []]));
  const failback = config.regionFailback;
  // A failback moves back the one database region failover restores (regionFailover.database), else
  // the first with a recovery section (the default a database recovery takes too): its roles stay the
  // same size however many databases the deployment has.
  const moved = config.regionFailover?.database;
  const recoverable = config.databases.filter((d) => d.recovery && (!moved || d.name === moved)).slice(0, 1);
  if (!failback || recoverable.length === 0) return { ...none, primarySecrets: [] };
  const { primaryRegion: primary, recoveryRegion: recovery } = config;
  const recoveryInstances = recoverable.map((d) => arn('rds', recovery, `db:${nameRules.restoredInstancePattern(d.name)}`));
  const primaryInstances = recoverable.map((d) => arn('rds', primary, `db:${nameRules.restoredInstancePattern(d.name)}`));
  const snapshotsIn = (region) => recoverable.map((d) => arn('rds', region, `snapshot:${nameRules.failbackSnapshotPattern(d.name)}`));
  const secretIn = (region, secret) => (secret.startsWith('arn:') ? secret : arn('secretsmanager', region, `secret:${secret}-??????`));
  const recoverySecrets = recoverable.map((d) => secretIn(recovery, d.credentialsSecret));
  const primarySecrets = recoverable.map((d) => secretIn(primary, d.credentialsSecret));
  const tagKeys = { 'ForAllValues:StringEquals': { 'aws:TagKeys': productTagKeys(nameRules) }, Null: { 'aws:TagKeys': 'false' } };
  const tagSnapshots = (region) => ({ Effect: 'Allow', Action: ['rds:AddTagsToResource'], Resource: snapshotsIn(region), Condition: tagKeys });
  const reports = `${config.reports.prefix}region-failover/`;
  const cluster = config.kubernetes ? [arn('eks', config.kubernetes.clusters.primary.region, `cluster/${config.kubernetes.clusters.primary.name}`)] : [];
  const traffic = config.kubernetes?.traffic ? dnsRecordStatements([config.kubernetes.traffic], { restore: true }) : { move: [], check: [] };
  const viaRds = (region) => ({ StringEquals: { 'kms:ViaService': `rds.${region}.amazonaws.com` } });
  return {
    loadFailoverRecord: [
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${config.reports.bucket}`)], Condition: { StringLike: { 's3:prefix': [`${reports}*`] } } },
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${config.reports.bucket}/${reports}*`)] },
    ],
    // Any instance: the call only proves that RDS in the primary region answers.
    checkPrimaryRegion: [{ Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: [arn('rds', primary, 'db:*')] }, ...(cluster.length ? [{ Effect: 'Allow', Action: ['eks:DescribeCluster'], Resource: cluster }] : [])],
    startFailbackSnapshot: [
      { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: recoveryInstances },
      { Effect: 'Allow', Action: ['rds:CreateDBSnapshot'], Resource: [...recoveryInstances, ...snapshotsIn(recovery)] },
      { Effect: 'Allow', Action: ['rds:DescribeDBSnapshots'], Resource: snapshotsIn(recovery) },
      tagSnapshots(recovery),
    ],
    // Also the look at the instance restored in the primary region.
    checkFailbackProgress: [
      { Effect: 'Allow', Action: ['rds:DescribeDBSnapshots'], Resource: [...snapshotsIn(recovery), ...snapshotsIn(primary)] },
      { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: primaryInstances },
    ],
    copyFailbackSnapshot: [
      { Effect: 'Allow', Action: ['rds:CopyDBSnapshot'], Resource: [...snapshotsIn(recovery), ...snapshotsIn(primary)] },
      { Effect: 'Allow', Action: ['rds:DescribeDBSnapshots'], Resource: snapshotsIn(primary) },
      tagSnapshots(primary),
      // The copy is encrypted with the primary region's configured key; the source is read with its own.
      { Effect: 'Allow', Action: ['kms:CreateGrant', 'kms:DescribeKey'], Resource: [failback.kmsKeyArn], Condition: viaRds(primary) },
      { Effect: 'Allow', Action: ['kms:CreateGrant', 'kms:DescribeKey'], Resource: [arn('kms', recovery, 'key/*')], Condition: viaRds(recovery) },
    ],
    freezeRecoveryWrites: [
      { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: recoveryInstances },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: recoverySecrets },
    ],
    startPrimaryRestore: [
      { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: primaryInstances },
      {
        Effect: 'Allow',
        Action: ['rds:RestoreDBInstanceFromDBSnapshot'],
        Resource: [...primaryInstances, ...snapshotsIn(primary), ...subnetGroups(primary, recoverable.map((d) => d.recovery.subnetGroup)), arn('rds', primary, 'pg:*'), arn('rds', primary, 'og:*')],
      },
      tagCreatedInstances(primaryInstances, nameRules),
      { Effect: 'Allow', Action: ['kms:CreateGrant', 'kms:DescribeKey'], Resource: [failback.kmsKeyArn], Condition: viaRds(primary) },
    ],
    verifyFailbackData: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: recoverySecrets }],
    restoreRecordedTraffic: traffic.move,
    // Added to repointApplication (the new version) and runHealthChecks (read) by iamStatements.
    primarySecrets: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], Resource: primarySecrets }],
  };
}

/**
 * Every tag key the functions put on what they create (the `*_TAG` constants of shared/names.ts). The
 * tag permissions allow these keys and no other, so a step cannot relabel anything with tags that
 * other policies or people rely on.
 */
function productTagKeys(nameRules) {
  return Object.entries(nameRules)
    .filter(([name, value]) => name.endsWith('_TAG') && typeof value === 'string')
    .map(([, value]) => value)
    .sort();
}

/**
 * Tag-on-create: RDS authorises the Tags of a restore call as rds:AddTagsToResource on the new
 * instance. Only instances the run creates (named by `instances`), only with the product's keys, and
 * never a request without tags (ForAllValues alone is true for an empty set).
 */
function tagCreatedInstances(instances, nameRules) {
  return {
    Effect: 'Allow',
    Action: ['rds:AddTagsToResource'],
    Resource: instances,
    Condition: {
      'ForAllValues:StringEquals': { 'aws:TagKeys': productTagKeys(nameRules) },
      Null: { 'aws:TagKeys': 'false' },
    },
  };
}

/**
 * What the alert topic's key policy allows, and the alarms that may publish to the topic. Built here
 * because the topic's ARN must be spelled out (the key cannot Ref the topic it encrypts: a cycle).
 */
function alertStatements(config) {
  const topicArn = arn('sns', '${AWS::Region}', config.notifications.topicName);
  // The alarms that start recoveries, where they live in this (the recovery) region, may also page
  // on-call directly: set the topic as their alarm action. No other alarm may.
  const alarmNames = [
    ...new Set([
      config.alarms.clusterUnreachable,
      ...config.databases.map((d) => d.recovery?.alarmName).filter(Boolean),
      ...(config.regionFailover ? [config.regionFailover.detection.alarmName] : []),
      // The alarms on the verification, restore test and readiness results (monitoringStack).
      ...Object.values(resultAlarmNames(config)),
    ]),
  ];
  const alarmArns = alarmNames.map((name) => arn('cloudwatch', '${AWS::Region}', `alarm:${name}`));
  const useForTopic = ['kms:GenerateDataKey*', 'kms:Decrypt'];
  const onlyThisTopic = { 'kms:EncryptionContext:aws:sns:topicArn': topicArn };
  return {
    alarmArns,
    keyPolicy: [
      // The account keeps administering the key, and IAM policies (the notify function's role) apply.
      { Sid: 'AccountAdministersKey', Effect: 'Allow', Principal: { AWS: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root') }, Action: 'kms:*', Resource: '*' },
      {
        // EventBridge's KMS request carries no aws:SourceArn / aws:SourceAccount (AWS documents them as
        // unsupported here; a condition on them would drop every alert). The topic policy checks both
        // before EventBridge may publish at all; this statement keeps the key to this one topic.
        Sid: 'EventBridgeEncryptsAlerts',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: useForTopic,
        Resource: '*',
        Condition: { StringEquals: onlyThisTopic },
      },
      {
        Sid: 'ConfiguredAlarmsEncryptAlerts',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: useForTopic,
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': sub('${AWS::AccountId}'), ...onlyThisTopic }, ArnEquals: { 'aws:SourceArn': alarmArns } },
      },
    ],
  };
}

function iamStatements(config, nameRules) {
  const { primaryRegion: primary, recoveryRegion: recovery, databases, buckets } = config;
  const bothRegions = [primary, recovery];
  // Scratch restore-test instances are named `<stem>-drtest-<hash>` (nameRules.scratchInstanceId).
  const scratchInstances = databases.map((d) => arn('rds', recovery, `db:${nameRules.scratchInstancePattern(d.name)}`));
  const snapshotsIn = (regions) => regions.map((r) => arn('rds', r, 'snapshot:*'));
  const sourceInstancesIn = (regions) => regions.flatMap((r) => databases.map((d) => arn('rds', r, `db:${d.name}`)));
  const kmsKeys = [...new Set(databases.map((d) => d.restoreTest.kmsKeyArn).filter(Boolean))];

  return {
    verifyDatabaseBackups: [
      { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: sourceInstancesIn([primary]) },
      { Effect: 'Allow', Action: ['rds:DescribeDBSnapshots'], Resource: [...sourceInstancesIn(bothRegions), ...snapshotsIn(bothRegions)] },
      { Effect: 'Allow', Action: ['rds:DescribeDBInstanceAutomatedBackups'], Resource: [arn('rds', recovery, 'auto-backup:*')] },
    ],
    verifyBuckets:
      buckets.length === 0
        ? []
        : [
            {
              Effect: 'Allow',
              Action: ['s3:GetBucketVersioning', 's3:GetReplicationConfiguration', 's3:GetLifecycleConfiguration', 's3:GetBucketLocation'],
              Resource: buckets.map((b) => sub(`arn:\${AWS::Partition}:s3:::${b.name}`)),
            },
            // Replication destinations are read from the source bucket's configuration at run time.
            { Effect: 'Allow', Action: ['s3:GetBucketLocation'], Resource: [sub('arn:${AWS::Partition}:s3:::*')] },
          ],
    startScratchRestore: [
      { Effect: 'Allow', Action: ['rds:DescribeDBSnapshots'], Resource: [...sourceInstancesIn([recovery]), ...snapshotsIn([recovery])] },
      { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: scratchInstances },
      {
        Effect: 'Allow',
        Action: ['rds:RestoreDBInstanceFromDBSnapshot'],
        // A restore is authorised on everything the new instance uses: the snapshot copy (named by the
        // copy job, not by us), its subnet group, and the option and parameter groups it inherits from
        // the snapshot or the engine defaults (names the stack cannot know). Restoring changes none of them.
        Resource: [...scratchInstances, ...snapshotsIn([recovery]), ...subnetGroups(recovery, databases.map((d) => d.restoreTest.subnetGroup)), arn('rds', recovery, 'og:*'), arn('rds', recovery, 'pg:*')],
      },
      tagCreatedInstances(scratchInstances, nameRules),
      {
        Effect: 'Allow',
        Action: ['kms:CreateGrant', 'kms:DescribeKey'],
        Resource: kmsKeys.length ? kmsKeys : [arn('kms', recovery, 'key/*')],
        Condition: { StringEquals: { 'kms:ViaService': `rds.${recovery}.amazonaws.com` } },
      },
    ],
    checkScratchInstance: [{ Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: scratchInstances }],
    validateScratchInstance: [
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        // Secret ARNs end in a random 6-character suffix.
        Resource: databases.map((d) => (d.credentialsSecret.startsWith('arn:') ? d.credentialsSecret : arn('secretsmanager', recovery, `secret:${d.credentialsSecret}-??????`))),
      },
    ],
    deleteScratchInstance: [
      { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: scratchInstances },
      {
        Effect: 'Allow',
        Action: ['rds:DeleteDBInstance'],
        Resource: scratchInstances,
        // Belt and braces: even a bug in the name cannot delete an instance without the scratch tag.
        Condition: { StringEquals: { [`rds:db-tag/${nameRules.SCRATCH_TAG}`]: 'true' } },
      },
    ],
    ...kubernetesStatements(config),
    ...withRegionFailback(config, nameRules, {
      ...databaseRecoveryWithRegionFailover(config, nameRules),
      runHealthChecks: healthStatements(config),
    }),
    ...regionFailoverStatements(config, nameRules),
    ...rotationStatements(config),
    ...apiKeyRotationStatements(config),
    // Security incident containment
    ...containmentStatements(config),
    ...evidenceStatements(config),
    // The security-incident state machine.
    ...securityIncidentStatements(config),
    // Rotating a secret now and waiting for it.
    ...rotateNowStatements(config),
    publishReport: [
      { Effect: 'Allow', Action: ['s3:PutObject'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${config.reports.bucket}/${config.reports.prefix}*`)] },
      // Report charts and index: the report index is read back before its conditional rewrite
      // (shared/report-index.ts). ListBucket on exactly that key, so a missing index answers NoSuchKey
      // (S3 answers AccessDenied for a missing key without it) and nothing else in the bucket is listed.
      ...reportIndexStatements(config),
    ],
    // Readiness
    ...readinessStatements(config),
    // Readiness: permissions and network
    ...readinessAccessStatements(config),
  };
}

// Readiness: permissions and network
/**
 * What the readiness checks of roles and routes (shared/readiness-permissions.ts,
 * shared/readiness-network.ts) need; the readiness function's role holds both. Not a function of their
 * own: `readinessPermissions` reads the stack's functions' configuration (their role) and simulates the
 * stack's roles, nothing else. The stack's functions are `<service>-<stage>-<key>` and its roles are
 * named by CloudFormation `<stack>-<LogicalId>-<suffix>`; the stack is `<service>-<stage>`, so both are
 * scoped by the stack's name (this file does not know the stage). SimulatePrincipalPolicy evaluates
 * policies, it cannot act as the role. `readinessNetwork`: EC2's Describe calls support no resource
 * scoping (IAM allows them only on "*"); they read, never change.
 */
function readinessAccessStatements(config) {
  const region = config.recoveryRegion;
  return {
    readinessPermissions: [
      { Effect: 'Allow', Action: ['lambda:GetFunctionConfiguration'], Resource: [sub(`arn:\${AWS::Partition}:lambda:${region}:\${AWS::AccountId}:function:\${AWS::StackName}-*`)] },
      { Effect: 'Allow', Action: ['iam:SimulatePrincipalPolicy'], Resource: [sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-*')] },
    ],
    readinessNetwork: [{ Effect: 'Allow', Action: ['ec2:DescribeSubnets', 'ec2:DescribeRouteTables', 'ec2:DescribeVpcEndpoints', 'ec2:DescribeSecurityGroups'], Resource: ['*'] }],
  };
}

// Readiness
/**
 * evaluateScenarioReadiness (shared/readiness.ts): read-only, and only the resources the config names:
 * what each scenario's preflight reads, in the region it reads it. ec2:DescribeSecurityGroups has no
 * resource type (IAM allows it on * only). kms:DescribeKey on the recovery region's keys: the key of a
 * snapshot copy is chosen by the copy job, not named in the config. The permission and network checks'
 * statements (iam.readinessPermissions, iam.readinessNetwork) join these when they exist.
 */
function readinessStatements(config) {
  const { primaryRegion: primary, recoveryRegion: recovery, databases } = config;
  const secretIn = (region) => (s) => (s.startsWith('arn:') ? s : arn('secretsmanager', region, `secret:${s}-??????`));
  const failover = config.regionFailover;
  const incident = config.securityIncident;
  const k8s = config.kubernetes;
  const subnetGroups = [
    ...databases.filter((d) => d.restoreTest.subnetGroup).map((d) => arn('rds', recovery, `subgrp:${d.restoreTest.subnetGroup}`)),
    ...databases.filter((d) => d.recovery?.subnetGroup).map((d) => arn('rds', primary, `subgrp:${d.recovery.subnetGroup}`)),
    ...(failover ? [arn('rds', recovery, `subgrp:${failover.restore.subnetGroup}`)] : []),
  ];
  const parameterGroups = [
    ...databases.filter((d) => d.restoreTest.parameterGroup).map((d) => arn('rds', recovery, `pg:${d.restoreTest.parameterGroup}`)),
    ...databases.flatMap((d) => [d.recovery?.parameterGroup, d.recovery?.readOnlyMode === 'parameter-group' ? d.recovery.readOnlyParameterGroup : undefined].filter(Boolean).map((g) => arn('rds', primary, `pg:${g}`))),
    ...(failover ? [arn('rds', recovery, `pg:${failover.restore.parameterGroup}`)] : []),
  ];
  const recoverySecrets = [
    ...databases.map((d) => d.credentialsSecret),
    ...(failover?.health.redis?.authSecret ? [failover.health.redis.authSecret] : []),
    ...(incident?.apiKeys ? [incident.apiKeys.secret] : []),
  ];
  const failbackDatabase = config.regionFailback && failover ? databases.find((d) => d.name === failover.database) : undefined;
  const keys = [
    ...new Set([...databases.map((d) => d.restoreTest.kmsKeyArn), failover?.restore.kmsKeyArn].filter(Boolean)),
    arn('kms', recovery, 'key/*'),
    ...(config.regionFailback ? [config.regionFailback.kmsKeyArn] : []),
  ];
  const records = [...(k8s?.traffic ? [k8s.traffic] : []), ...(failover ? failover.dns : [])];
  const zones = [...new Set(records.filter((r) => (r.mode ?? 'control-plane') === 'control-plane').map((r) => r.hostedZoneId))];
  const controls = [...new Set(records.filter((r) => r.mode === 'data-plane').flatMap((r) => [r.routingControls.primary, r.routingControls.backup]))];
  const statements = [
    { Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: databases.map((d) => arn('rds', primary, `db:${d.name}`)) },
    { Effect: 'Allow', Action: ['rds:DescribeDBSnapshots'], Resource: [primary, recovery].flatMap((r) => [...databases.map((d) => arn('rds', r, `db:${d.name}`)), arn('rds', r, 'snapshot:*')]) },
    { Effect: 'Allow', Action: ['rds:DescribeDBInstanceAutomatedBackups'], Resource: [arn('rds', primary, 'auto-backup:*'), arn('rds', recovery, 'auto-backup:*'), ...databases.map((d) => arn('rds', primary, `db:${d.name}`))] },
    ...(subnetGroups.length ? [{ Effect: 'Allow', Action: ['rds:DescribeDBSubnetGroups'], Resource: [...new Set(subnetGroups.map((a) => JSON.stringify(a)))].map((a) => JSON.parse(a)) }] : []),
    ...(parameterGroups.length ? [{ Effect: 'Allow', Action: ['rds:DescribeDBParameterGroups'], Resource: [...new Set(parameterGroups.map((a) => JSON.stringify(a)))].map((a) => JSON.parse(a)) }] : []),
    { Effect: 'Allow', Action: ['kms:DescribeKey'], Resource: keys },
    { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: [...new Set(recoverySecrets)].map(secretIn(recovery)) },
    ...(failbackDatabase ? [{ Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: [secretIn(primary)(failbackDatabase.credentialsSecret)] }] : []),
    ...(zones.length ? [{ Effect: 'Allow', Action: ['route53:GetHostedZone', 'route53:ListResourceRecordSets'], Resource: zones.map((z) => sub(`arn:\${AWS::Partition}:route53:::hostedzone/${z}`)) }] : []),
    ...(controls.length ? [{ Effect: 'Allow', Action: ['route53-recovery-cluster:GetRoutingControlState'], Resource: controls }] : []),
  ];
  if (k8s) {
    statements.push(
      { Effect: 'Allow', Action: ['eks:DescribeCluster'], Resource: [k8s.clusters.primary, k8s.clusters.backup].map((c) => arn('eks', c.region, `cluster/${c.name}`)) },
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${k8s.manifests.bucket}`)] },
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${k8s.manifests.bucket}/${k8s.manifests.prefix}*`)] },
    );
  }
  if (incident) {
    // HeadBucket is authorised as s3:ListBucket.
    statements.push({ Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${incident.evidence.bucket}`)] });
    if (incident.blockIps.wafIpSet) statements.push({ Effect: 'Allow', Action: ['wafv2:GetIPSet'], Resource: [wafIpSetArn(config, incident.blockIps.wafIpSet)] });
  }
  // The role and route checks (shared/readiness-permissions.ts, shared/readiness-network.ts) run in
  // the same function: its role holds their statements too.
  const access = readinessAccessStatements(config);
  return { evaluateScenarioReadiness: [...statements, ...access.readinessPermissions, ...access.readinessNetwork] };
}

/**
 * What serverless.yml builds the scheduled drills from: each rule's state (DISABLED when its scenario
 * is not configured, or schedules.enabled is false) and its input (a dry run unless
 * schedules.drillsDryRun is false), as a JSON string for the rule's target.
 */
function readinessStack(config) {
  const { enabled, drillsDryRun } = config.schedules;
  const prefix = config.reports.prefix && !config.reports.prefix.endsWith('/') ? `${config.reports.prefix}/` : config.reports.prefix;
  const drill = (configured, input) => ({ state: enabled && configured ? 'ENABLED' : 'DISABLED', input: JSON.stringify({ trigger: 'schedule', dryRun: drillsDryRun, ...input }) });
  return {
    reportsPrefix: prefix,
    // A drill is not an outage: the operator's skipConfirmation, so the run walks the whole path at once.
    regionFailoverDrill: drill(Boolean(config.regionFailover && config.kubernetes), { skipConfirmation: true, reason: 'scheduled quarterly region failover drill (the plan\'s drill calendar)' }),
    securityIncidentDrill: drill(Boolean(config.securityIncident && config.kubernetes), { incidentId: 'DRILL-scheduled', reason: 'scheduled security incident drill, twice a year (the plan\'s drill calendar)' }),
  };
}

/** Report charts and index: what publishReport needs besides writing under the prefix (shared/report-index.ts). */
function reportIndexStatements(config) {
  const prefix = config.reports.prefix;
  const indexKey = `${prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix}index.html`;
  return [
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${config.reports.bucket}/${indexKey}`)] },
    {
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [sub(`arn:\${AWS::Partition}:s3:::${config.reports.bucket}`)],
      Condition: { StringEquals: { 's3:prefix': indexKey } },
    },
  ];
}

/**
 * The security-incident state machine's own functions. The preflight reads (never changes)
 * the secrets an incident rotates (the API keys' and every database secret with a rotation section)
 * and the evidence bucket, and finds the serving cluster; setApiImage only finds the cluster (Kubernetes
 * RBAC, deploy/rbac/, authorises the patch itself).
 */
function securityIncidentStatements(config) {
  const incident = config.securityIncident;
  if (!incident || !config.kubernetes) return { securityIncidentPreflight: [], setApiImage: [] };
  const cluster = config.kubernetes.clusters[incident.cluster];
  const describeCluster = { Effect: 'Allow', Action: ['eks:DescribeCluster'], Resource: [arn('eks', cluster.region, `cluster/${cluster.name}`)] };
  const secrets = [...new Set([...(incident.apiKeys ? [incident.apiKeys.secret] : []), ...config.databases.filter((d) => d.rotation).map((d) => d.credentialsSecret)])];
  return {
    securityIncidentPreflight: [
      describeCluster,
      ...(secrets.length ? [{ Effect: 'Allow', Action: ['secretsmanager:DescribeSecret'], Resource: secrets.map((s) => secretResource(config, s)) }] : []),
      // HeadBucket is authorised as s3:ListBucket.
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${incident.evidence.bucket}`)] },
      // Read only: that the set the block will update exists.
      ...(incident.blockIps.wafIpSet ? [{ Effect: 'Allow', Action: ['wafv2:GetIPSet'], Resource: [wafIpSetArn(config, incident.blockIps.wafIpSet)] }] : []),
    ],
    setApiImage: [describeCluster],
  };
}

// Security incident evidence
/**
 * collectEvidence (shared/evidence.ts): find the cluster the incident acts on (securityIncident.cluster)
 * to sign its token, list every configured database's log files in the primary region, and store
 * objects under the evidence prefix of the evidence bucket, nothing else: no read, no delete, no
 * retention change (the bucket's default Object Lock retention applies to every new version without
 * one). Kubernetes itself grants the pods and their logs (deploy/rbac/, frontier-dr:collect-evidence).
 */
function evidenceStatements(config) {
  const incident = config.securityIncident;
  if (!incident || !config.kubernetes) return { collectEvidence: [] };
  const cluster = config.kubernetes.clusters[incident.cluster];
  const { bucket, prefix } = incident.evidence;
  return {
    collectEvidence: [
      { Effect: 'Allow', Action: ['eks:DescribeCluster'], Resource: [arn('eks', cluster.region, `cluster/${cluster.name}`)] },
      { Effect: 'Allow', Action: ['rds:DescribeDBLogFiles'], Resource: config.databases.map((d) => arn('rds', config.primaryRegion, `db:${d.name}`)) },
      { Effect: 'Allow', Action: ['s3:PutObject'], Resource: [sub(`arn:\${AWS::Partition}:s3:::${bucket}/${prefix}*`)] },
    ],
  };
}

/**
 * What serverless.yml builds the evidence bucket from: its name ('none' without a securityIncident
 * section: the EvidenceBucketConfigured condition then leaves the bucket out) and its default retention.
 */
function evidenceStack(config) {
  const evidence = config.securityIncident?.evidence;
  return evidence ? { bucket: evidence.bucket, retentionDays: evidence.retentionDays } : { bucket: 'none', retentionDays: 1 };
}

// Security incident containment
/**
 * The containment functions of the security incident: both find the serving cluster (its EKS endpoint;
 * Kubernetes RBAC, deploy/rbac/, authorises the rest), and blockAddresses reads and updates the one WAF
 * IP set the config names (no other set, no web ACL). Without a securityIncident section: nothing.
 */
/** The configured WAF IP set's ARN: a CLOUDFRONT set lives in us-east-1 under `global/`, a REGIONAL one in its region (default primaryRegion). */
function wafIpSetArn(config, ipSet) {
  return ipSet.scope === 'CLOUDFRONT'
    ? arn('wafv2', 'us-east-1', `global/ipset/${ipSet.name}/${ipSet.id}`)
    : arn('wafv2', ipSet.region ?? config.primaryRegion, `regional/ipset/${ipSet.name}/${ipSet.id}`);
}

function containmentStatements(config) {
  const incident = config.securityIncident;
  if (!incident || !config.kubernetes) return { blockAddresses: [], setEmergencyMode: [] };
  const cluster = config.kubernetes.clusters[incident.cluster];
  const describeCluster = [{ Effect: 'Allow', Action: ['eks:DescribeCluster'], Resource: [arn('eks', cluster.region, `cluster/${cluster.name}`)] }];
  const ipSet = incident.blockIps.wafIpSet;
  const waf = ipSet ? [{ Effect: 'Allow', Action: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'], Resource: [wafIpSetArn(config, ipSet)] }] : [];
  return { blockAddresses: [...describeCluster, ...waf], setEmergencyMode: describeCluster };
}

/**
 * The region-failback functions' statements, and what two shared steps need for it: repointApplication
 * writes the primary region's connection secret, runHealthChecks reads the primary region's secrets
 * (the connection and the Redis AUTH secret, replicated there).
 */
function withRegionFailback(config, nameRules, shared) {
  const { primarySecrets, ...failback } = regionFailbackStatements(config, nameRules);
  if (primarySecrets.length === 0) return { ...shared, ...failback };
  const redis = config.health.redis?.authSecret;
  const readPrimary = {
    Effect: 'Allow',
    Action: ['secretsmanager:GetSecretValue'],
    Resource: [...primarySecrets[0].Resource, ...(redis ? [redis.startsWith('arn:') ? redis : arn('secretsmanager', config.primaryRegion, `secret:${redis}-??????`)] : [])],
  };
  return {
    ...shared,
    ...failback,
    repointApplication: [...(shared.repointApplication ?? []), ...primarySecrets],
    runHealthChecks: [...(shared.runHealthChecks ?? []), readPrimary],
  };
}

/**
 * Each function's statements as the stack grants them: compacted (every resource listed once per
 * action set and condition: the same permissions in fewer characters; deploy/iam-policies.cjs), and
 * at least one per function.
 */
function functionStatements(config, nameRules) {
  const derived = iamStatements(config, nameRules);
  return atLeastOneStatement(Object.fromEntries(Object.entries(derived).map(([name, statements]) => [name, compactStatements(statements)])));
}

module.exports = async ({ resolveVariable }) => {
  const file = await resolveVariable('self:custom.configFile');
  const { loadDeploymentConfigFile, packageDeploymentConfig, writePackagedDeploymentConfig, nameRules } = loadConfigModule();
  const configPath = path.resolve(root, file);
  let config;
  let packaged;
  try {
    config = loadDeploymentConfigFile(configPath);
    packaged = packageDeploymentConfig(config, configPath);
  } catch (error) {
    // A bad file is the operator's to fix, named field by field: every problem at once, without the
    // framework's stack trace around it, and the drill's exit status for a bad config (2).
    if (error?.name !== 'InvalidConfig') throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const written = writePackagedDeploymentConfig(packaged, path.join(root, PACKAGED_CONFIG_DIRECTORY));
  return {
    deployment: config.deployment,
    primaryRegion: config.primaryRegion,
    recoveryRegion: config.recoveryRegion,
    // The functions check its sha256 and validate it again at cold start (shared/config.ts).
    packagedConfig: path.relative(root, written).split(path.sep).join('/'),
    configSha256: packaged.sha256,
    schedules: config.schedules,
    reportsBucket: config.reports.bucket,
    topicName: config.notifications.topicName,
    network: config.network,
    alarms: config.alarms,
    // One EventBridge pattern value per database that a down alarm recovers. An event pattern may not
    // hold an empty list: without any, the rule matches a name no alarm can have.
    databaseDownAlarms: (() => {
      const names = config.databases.map((d) => d.recovery?.alarmName).filter(Boolean);
      return names.length ? names : ['frontier-dr: no database-recovery alarm configured'];
    })(),
    iam: functionStatements(config, nameRules),
    // The rotation schedules deploy/secret-rotation.cjs adds to the template, one per rotated secret.
    rotationSchedules: [...rotationSchedules(config), ...apiKeyRotationSchedules(config)],
    // The RotationFailed alert rule's secrets.
    rotationFailedSecretIds: rotationFailedSecretIds(config),
    alerts: alertStatements(config),
    regionFailover: regionFailoverStack(config),
    // Security incident evidence
    evidence: evidenceStack(config),
    // Readiness
    readiness: readinessStack(config),
    // Dashboard and alarms
    monitoring: monitoringStack(config),
  };
};

/** The DNS statements of a list of records (also for scenarios other than cluster failover). */
module.exports.dnsRecordStatements = dnsRecordStatements;

/**
 * What serverless.yml builds region-failure detection from: `mode` (none without a regionFailover
 * section; the CloudFormation conditions read it), the alarm name(s) the rule starts region-failover
 * on, and the health check's settings. Never empty values: a condition-less resource still resolves.
 */
function regionFailoverStack(config) {
  const failover = config.regionFailover;
  if (!failover) {
    return {
      mode: 'none',
      probeEnabled: false,
      alarmNames: ['frontier-dr: no region-failure alarm configured'],
      alarmName: 'frontier-dr-no-region-failure-alarm',
      healthCheck: { fqdn: 'example.invalid', port: 443, path: '/health', requestIntervalSeconds: 30, failureThreshold: 3 },
      evaluationPeriods: 3,
    };
  }
  const { mode, alarmName, healthCheck } = failover.detection;
  return {
    mode,
    probeEnabled: mode === 'probe',
    alarmNames: [alarmName],
    alarmName,
    healthCheck: { fqdn: healthCheck.fqdn.replace(/\.$/, ''), port: healthCheck.port, path: healthCheck.path, requestIntervalSeconds: healthCheck.requestIntervalSeconds, failureThreshold: healthCheck.failureThreshold },
    // The probe publishes once a minute: the alarm fires after failureThreshold failed (or missing) minutes.
    evaluationPeriods: healthCheck.failureThreshold,
  };
}

/**
 * For the package-time size check (deploy/iam-policies.cjs) and the package tests: every function's
 * statements for the first `count` databases of a deployment file (compacted as the stack grants
 * them, or as derived), to find how many databases a role can hold.
 */
module.exports.iamStatementsFor = (file) => {
  const { loadDeploymentConfigFile, nameRules } = loadConfigModule();
  const config = loadDeploymentConfigFile(path.resolve(root, file));
  return {
    total: config.databases.length,
    statements: (count, { compact = true } = {}) => {
      const some = { ...config, databases: config.databases.slice(0, count) };
      return compact ? functionStatements(some, nameRules) : iamStatements(some, nameRules);
    },
  };
};

// ---------------------------------------------------------------------------------------------------
// Dashboard and alarms
// The CloudWatch dashboard (serverless.yml MonitoringDashboard) and the alarms on the verification,
// restore test and readiness results. Metrics are the ones shared/metrics.ts emits through Powertools:
// namespace FrontierDR, dimensions service (Powertools' default, frontier-dr) and Scenario.

const METRICS_NAMESPACE = 'FrontierDR';
const METRICS_SERVICE = 'frontier-dr';
/** The scenarios whose completed runs are the MTTR (shared/metrics.ts RECOVERY_SCENARIOS). */
const RECOVERY_SCENARIOS = ['cluster-failover', 'database-recovery', 'region-failover', 'emergency-rollback', 'region-failback'];
/** A day: the dashboard's rates and times are daily points over its 30 days. */
const DAY_SECONDS = 86_400;
/** The readiness alarm's period: the readiness schedule (default every 30 minutes) must publish within it. */
const READINESS_ALARM_PERIOD_SECONDS = 3600;

/** shared/scenarios.ts (the scenarios this config supports), compiled with the schema by loadConfigModule. */
function loadScenarioModule() {
  return loadConfigModule().scenarios;
}

/** The scenarios this deployment can run (shared/scenarios.ts whyUnsupported): those readiness evaluates. */
function supportedScenarios(config) {
  const { SCENARIO_NAMES, whyUnsupported } = loadScenarioModule();
  return SCENARIO_NAMES.filter((name) => whyUnsupported(name, config) === null);
}

/** The result alarms' names: the deployment's name first, so two deployments in one account never share one. */
function resultAlarmNames(config) {
  return {
    backupVerification: `${config.deployment}-dr-backup-verification-failed`,
    restoreTest: `${config.deployment}-dr-restore-test-failed`,
    readiness: `${config.deployment}-dr-scenario-not-ready`,
  };
}

/** A dashboard metric line: [namespace, name, dimension, value, ...] with the service dimension. */
const metricLine = (name, scenario, options) => [METRICS_NAMESPACE, name, 'service', METRICS_SERVICE, 'Scenario', scenario, ...(options ? [options] : [])];

/**
 * The dashboard's widgets, in the order an operator reads them: readiness now, then the plan's KPIs
 * over 30 days. Rates are the 0/1 metrics' daily average in percent.
 */
function dashboardBody(config, alarmNames) {
  const scenarios = supportedScenarios(config);
  const recoveries = RECOVERY_SCENARIOS.filter((name) => scenarios.includes(name));
  const graph = (title, metrics, extra = {}) => ({
    type: 'metric',
    width: 12,
    height: 6,
    properties: { title, region: '${AWS::Region}', view: 'timeSeries', stacked: false, period: DAY_SECONDS, metrics, ...extra },
  });
  const percent = (name, scenario, label) => [
    [{ expression: 'm1 * 100', label, id: 'rate' }],
    metricLine(name, scenario, { id: 'm1', stat: 'Average', visible: false }),
  ];
  const widgets = [
    graph(
      'Readiness per scenario (1 ready, 0 not ready)',
      scenarios.map((name) => metricLine('ScenarioReady', name, { stat: 'Minimum', label: name })),
      { period: 1800, yAxis: { left: { min: 0, max: 1 } }, annotations: { horizontal: [{ label: 'ready', value: 1 }] } },
    ),
    {
      type: 'alarm',
      width: 12,
      height: 6,
      properties: { title: 'Result alarms', alarms: Object.values(alarmNames).map((name) => `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${name}`) },
    },
    graph(
      'MTTR: time to recover, completed recoveries (s)',
      recoveries.map((name) => metricLine('TimeToRecover', name, { stat: 'Average', label: name })),
      { annotations: { horizontal: config.objectives.map((o) => ({ label: `${o.component} RTO`, value: o.rtoMinutes * 60 })) } },
    ),
    graph('RPO adherence (% of measured objectives met)', [[{ expression: `SEARCH('{${METRICS_NAMESPACE},Component,Scenario,service} MetricName="RpoAdherence"', 'Average', ${DAY_SECONDS}) * 100`, label: 'RPO met %', id: 'rpo' }]], {
      yAxis: { left: { min: 0, max: 100 } },
    }),
    graph('Backup success rate (%)', percent('BackupVerificationSuccess', 'backup-verification', 'backups verified %'), { yAxis: { left: { min: 0, max: 100 } } }),
    graph('DR test success rate (%)', percent('DrTestSuccess', 'restore-test', 'restore tests passed %'), { yAxis: { left: { min: 0, max: 100 } } }),
    graph('Incident response time: run start to containment (s)', [metricLine('IncidentResponseTime', 'security-incident', { stat: 'Maximum', label: 'security-incident' })]),
    graph('Run duration, every run (s)', scenarios.map((name) => metricLine('RunDuration', name, { stat: 'Average', label: name }))),
  ];
  // Two widgets a row, in order.
  widgets.forEach((widget, i) => Object.assign(widget, { x: (i % 2) * 12, y: Math.floor(i / 2) * 6 }));
  return JSON.stringify({ start: '-P30D', periodOverride: 'inherit', widgets });
}

/**
 * What serverless.yml builds the dashboard and the result alarms from: the dashboard body (for
 * Fn::Sub: the region and account are filled in by CloudFormation), the alarm names, and the
 * readiness alarm's metrics (one ScenarioReady per supported scenario; the alarm takes their minimum).
 */
function monitoringStack(config) {
  const alarmNames = resultAlarmNames(config);
  const scenarios = supportedScenarios(config);
  const readinessMetrics = [
    ...scenarios.map((name, i) => ({
      Id: `ready${i}`,
      Label: name,
      ReturnData: false,
      MetricStat: {
        Metric: { Namespace: METRICS_NAMESPACE, MetricName: 'ScenarioReady', Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }, { Name: 'Scenario', Value: name }] },
        Period: READINESS_ALARM_PERIOD_SECONDS,
        Stat: 'Minimum',
      },
    })),
    { Id: 'leastReady', Label: 'least ready scenario (1 ready, 0 not)', Expression: 'MIN(METRICS())', ReturnData: true },
  ];
  return { dashboardBody: dashboardBody(config, alarmNames), alarmNames, readinessMetrics, readinessScenarios: scenarios.join(', '), readinessPeriodSeconds: READINESS_ALARM_PERIOD_SECONDS };
}

module.exports.monitoringStackFor = (file) => {
  const { loadDeploymentConfigFile } = loadConfigModule();
  return monitoringStack(loadDeploymentConfigFile(path.resolve(root, file)));
};
