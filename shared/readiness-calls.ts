// What each deployed function's steps call in AWS, per scenario, as concrete (action, resource,
// context) requests built from the deployment config: the requests the readiness evaluation asks IAM
// to simulate against the function's deployed role (shared/readiness-permissions.ts).
//
// Kept in step with the code two ways (test/unit/readiness-calls.test.ts): the functions each
// scenario lists are the Task states of its ASL file (fragments expanded as packaged), and for every
// function here the stack's own statements (deploy/deployment-config.cjs) allow each request and
// grant no action the table leaves out. Functions whose only AWS calls touch the stack's own
// resources (the recovery lock and approvals tables, the alert topic: serverless.yml's inline
// statements, e.g. startRun, notifyOnCall, acquireRecoveryLock) have no entry: their role is still
// found and its function checked to exist.
import type { DeploymentConfig } from './config.js';
import { failbackSnapshotId, incidentIdFor, restoredInstanceId, scratchInstanceId } from './names.js';
import type { ScenarioName } from './scenarios.js';

/** One condition key's value in a simulated request (IAM SimulatePrincipalPolicy ContextEntry). */
export interface CallContext {
  key: string;
  type: 'string' | 'stringList';
  values: string[];
}

/** One AWS request a function's step makes. */
export interface StepCall {
  /** IAM action, e.g. `rds:RestoreDBInstanceFromDBSnapshot`. */
  action: string;
  /** The resource's ARN as the request names it (a sample name where the step names it at run time). */
  resource: string;
  /** Condition keys the request carries that the stack's statements test. */
  context?: CallContext[];
}

/**
 * The functions each scenario's state machine calls (Task states of statemachines/<scenario>.asl.yaml,
 * the approval fragment expanded), plus the rotation functions Secrets Manager runs for the security
 * incident's StartSecretRotation (no Task state names them, yet the incident waits on them).
 */
export const SCENARIO_FUNCTIONS: Record<ScenarioName, readonly string[]> = {
  'backup-verification': ['startRun', 'verifyDatabaseBackups', 'verifyBuckets', 'publishReport', 'notifyOnCall'],
  'restore-test': ['startRun', 'startScratchRestore', 'checkScratchInstance', 'validateScratchInstance', 'deleteScratchInstance', 'publishReport', 'notifyOnCall'],
  'cluster-failover': [
    'startRun', 'acquireRecoveryLock', 'assessPrimaryCluster', 'applyManifestsToBackup', 'scaleDeployment', 'checkRollout', 'runHealthChecks', 'moveTraffic', 'checkDnsChange',
    'releaseRecoveryLock', 'publishReport', 'notifyOnCall',
  ],
  'emergency-rollback': ['startRun', 'planRollback', 'rollBackDeployment', 'checkRollout', 'runHealthChecks', 'publishReport', 'notifyOnCall'],
  'database-recovery': [
    'startRun', 'acquireRecoveryLock', 'assessDatabase', 'stopApiWrites', 'setReadOnlyParameter', 'setDatabaseReadOnly', 'startDatabaseRestore', 'checkDatabaseRestore', 'prewarmDatabase',
    'repointApplication', 'scaleDeployment', 'checkRollout', 'runHealthChecks', 'releaseRecoveryLock', 'publishReport', 'notifyOnCall',
  ],
  'region-failover': [
    'startRun', 'confirmOutage', 'acquireRecoveryLock', 'regionFailoverPreflight', 'regionTrafficPreflight', 'planApproval', 'requestApproval', 'notifyRegionOutage', 'startRegionRestore',
    'checkRegionRestore', 'assessPrimaryCluster', 'applyManifestsToBackup', 'scaleDeployment', 'checkRollout', 'repointApplication', 'runRegionHealthChecks', 'moveDns', 'checkRegionDnsChange',
    'releaseRecoveryLock', 'publishReport', 'notifyOnCall',
  ],
  'region-failback': [
    'startRun', 'loadFailoverRecord', 'acquireRecoveryLock', 'checkPrimaryRegion', 'startFailbackSnapshot', 'checkFailbackProgress', 'copyFailbackSnapshot', 'freezeRecoveryWrites',
    'startPrimaryRestore', 'verifyFailbackData', 'repointApplication', 'scaleDeployment', 'checkRollout', 'runHealthChecks', 'restoreRecordedTraffic', 'checkDnsChange',
    'releaseRecoveryLock', 'publishReport', 'notifyOnCall',
  ],
  'security-incident': [
    'startRun', 'securityIncidentPreflight', 'planApproval', 'requestApproval', 'acquireRecoveryLock', 'blockAddresses', 'setEmergencyMode', 'collectEvidence', 'startSecretRotation',
    'checkSecretRotation', 'rotateApiKeys', 'rotateDatabaseSecret', 'setApiImage', 'checkRollout', 'runHealthChecks', 'releaseRecoveryLock', 'publishReport', 'notifyOnCall',
  ],
};

/**
 * The readiness functions: not a recovery scenario's steps, so in no scenario's list above and with no
 * requests in the table below. They are what runs these checks (evaluateScenarioReadiness simulates the
 * other roles, publishReadiness writes the result): a role cannot usefully vouch for itself, since a
 * readiness role missing a permission already fails its own check with AwsAccessDenied, naming the call.
 * Their statements are held to read-only, scoped calls by the package tests instead.
 */
export const READINESS_FUNCTIONS: readonly string[] = ['evaluateScenarioReadiness', 'publishReadiness'];

/** Where the stack is deployed: the partition and account of its functions' ARNs. */
export interface StackAccount {
  partition: string;
  accountId: string;
}

// Sample names for what a step names only at run time (an execution's scratch instance, an
// incident's restored instance, a copy job's snapshot). Each has the shape the stack's statements
// scope (shared/names.ts), so a request for it is allowed exactly when the real one would be.
const SAMPLE_EXECUTION = 'readiness-evaluation';
const SAMPLE_INCIDENT = incidentIdFor('2026-01-01T00:00:00Z');
const SAMPLE_SNAPSHOT = 'readiness-sample-snapshot';
const SAMPLE_BACKUP = 'readiness-sample-backup';
// Secrets Manager appends `-` and 6 random characters to a secret's name in its ARN.
const SAMPLE_SECRET_SUFFIX = 'AbCdEf';

/** Each function's requests for this deployment (only functions whose requests the config names). */
export function stepCalls(config: DeploymentConfig, account: StackAccount): Record<string, StepCall[]> {
  const { partition, accountId } = account;
  const { primaryRegion: primary, recoveryRegion: recovery, databases } = config;
  const arn = (service: string, region: string, rest: string) => `arn:${partition}:${service}:${region}:${accountId}:${rest}`;
  const s3 = (rest: string) => `arn:${partition}:s3:::${rest}`;
  const secret = (name: string, region = recovery) => (name.startsWith('arn:') ? name : arn('secretsmanager', region, `secret:${name}-${SAMPLE_SECRET_SUFFIX}`));
  const db = (region: string, name: string) => arn('rds', region, `db:${name}`);
  const snapshot = (region: string, name = SAMPLE_SNAPSHOT) => arn('rds', region, `snapshot:${name}`);
  const cluster = (c: { name: string; region: string }) => arn('eks', c.region, `cluster/${c.name}`);
  const call = (action: string, resource: string, context?: CallContext[]): StepCall => (context ? { action, resource, context } : { action, resource });
  const calls = (actions: string[], resources: string[], context?: CallContext[]) => actions.flatMap((a) => resources.map((r) => call(a, r, context)));
  const viaRds = (region: string): CallContext[] => [{ key: 'kms:ViaService', type: 'string', values: [`rds.${region}.amazonaws.com`] }];
  const productTags: CallContext[] = [{ key: 'aws:TagKeys', type: 'stringList', values: ['frontier-dr:execution'] }];
  const anyKey = (region: string) => arn('kms', region, 'key/readiness-sample-key');
  const k8s = config.kubernetes;
  const describeCluster = (...clusters: { name: string; region: string }[]) => calls(['eks:DescribeCluster'], clusters.map(cluster));
  const table: Record<string, StepCall[]> = {};

  // Backup verification
  table.verifyDatabaseBackups = databases.flatMap((d) => [
    call('rds:DescribeDBInstances', db(primary, d.name)),
    ...[primary, recovery].flatMap((r) => [call('rds:DescribeDBSnapshots', db(r, d.name)), call('rds:DescribeDBSnapshots', snapshot(r))]),
    call('rds:DescribeDBInstanceAutomatedBackups', arn('rds', recovery, `auto-backup:${SAMPLE_BACKUP}`)),
  ]);
  table.verifyBuckets = config.buckets.flatMap((b) =>
    calls(['s3:GetBucketVersioning', 's3:GetReplicationConfiguration', 's3:GetLifecycleConfiguration', 's3:GetBucketLocation'], [s3(b.name)]),
  );

  // Restore test
  const scratch = (d: (typeof databases)[number]) => db(recovery, scratchInstanceId(d.name, SAMPLE_EXECUTION));
  table.startScratchRestore = databases.flatMap((d) => [
    call('rds:DescribeDBSnapshots', db(recovery, d.name)),
    call('rds:DescribeDBSnapshots', snapshot(recovery)),
    call('rds:DescribeDBInstances', scratch(d)),
    ...calls(['rds:RestoreDBInstanceFromDBSnapshot'], [scratch(d), snapshot(recovery), ...(d.restoreTest.subnetGroup ? [arn('rds', recovery, `subgrp:${d.restoreTest.subnetGroup}`)] : [])]),
    call('rds:AddTagsToResource', scratch(d), productTags),
    ...calls(['kms:CreateGrant', 'kms:DescribeKey'], [d.restoreTest.kmsKeyArn ?? anyKey(recovery)], viaRds(recovery)),
  ]);
  table.checkScratchInstance = databases.map((d) => call('rds:DescribeDBInstances', scratch(d)));
  table.validateScratchInstance = databases.map((d) => call('secretsmanager:GetSecretValue', secret(d.credentialsSecret)));
  table.deleteScratchInstance = databases.flatMap((d) => [
    call('rds:DescribeDBInstances', scratch(d)),
    // Only an instance carrying the scratch tag may be deleted: the request as it would be for one.
    call('rds:DeleteDBInstance', scratch(d), [{ key: 'rds:db-tag/frontier-dr:scratch', type: 'string', values: ['true'] }]),
  ]);
  // The report, then the report index read back before its conditional rewrite (shared/report-index.ts):
  // ListBucket limited to the index's own key, so a missing index answers NoSuchKey.
  const indexKey = `${config.reports.prefix && !config.reports.prefix.endsWith('/') ? `${config.reports.prefix}/` : config.reports.prefix}index.html`;
  table.publishReport = [
    call('s3:PutObject', s3(`${config.reports.bucket}/${config.reports.prefix}${SAMPLE_EXECUTION}.json`)),
    call('s3:GetObject', s3(`${config.reports.bucket}/${indexKey}`)),
    call('s3:ListBucket', s3(config.reports.bucket), [{ key: 's3:prefix', type: 'string', values: [indexKey] }]),
  ];

  // Health gates: the database's and Redis's secrets.
  const healthDatabase = databases.find((d) => d.name === config.health.database);
  const healthSecrets = [...(healthDatabase ? [healthDatabase.credentialsSecret] : []), ...(config.health.redis?.authSecret ? [config.health.redis.authSecret] : [])];
  table.runHealthChecks = healthSecrets.map((s) => call('secretsmanager:GetSecretValue', secret(s)));

  // Kubernetes scenarios
  if (k8s) {
    const { primary: primaryCluster, backup: backupCluster } = k8s.clusters;
    const both = describeCluster(primaryCluster, backupCluster);
    table.assessPrimaryCluster = both;
    table.applyManifestsToBackup = [
      ...both,
      call('s3:ListBucket', s3(k8s.manifests.bucket)),
      call('s3:GetObject', s3(`${k8s.manifests.bucket}/${k8s.manifests.prefix}deployment.yaml`)),
    ];
    for (const name of ['scaleDeployment', 'checkRollout', 'planRollback', 'rollBackDeployment']) table[name] = both;
    if (k8s.traffic) {
      table.moveTraffic = dnsMoveCalls([k8s.traffic], { partition, change: ['UPSERT'] });
      table.checkDnsChange = (k8s.traffic.mode ?? 'control-plane') === 'control-plane' ? [call('route53:GetChange', `arn:${partition}:route53:::change/C0READINESS`)] : [];
    }
  }

  // Database recovery
  const recoverable = databases.filter((d) => d.recovery);
  if (recoverable.length) {
    const restored = (d: (typeof databases)[number], region = primary) => db(region, restoredInstanceId(d.name, SAMPLE_INCIDENT));
    const readSecrets = recoverable.map((d) => call('secretsmanager:GetSecretValue', secret(d.credentialsSecret)));
    table.stopApiWrites = k8s ? describeCluster(k8s.clusters.primary) : [];
    table.setReadOnlyParameter = recoverable
      .filter((d) => d.recovery?.readOnlyMode === 'parameter-group' && d.recovery.readOnlyParameterGroup)
      .map((d) => call('rds:ModifyDBParameterGroup', arn('rds', primary, `pg:${d.recovery?.readOnlyParameterGroup}`)));
    table.setDatabaseReadOnly = readSecrets;
    table.assessDatabase = recoverable.flatMap((d) =>
      ['rds:DescribeDBInstances', 'rds:DescribeDBSnapshots', 'rds:DescribeDBInstanceAutomatedBackups'].map((a) => call(a, db(primary, d.name))),
    );
    table.startDatabaseRestore = recoverable.flatMap((d) => [
      call('rds:DescribeDBInstances', restored(d)),
      ...calls(['rds:RestoreDBInstanceToPointInTime', 'rds:RestoreDBInstanceFromDBSnapshot'], [db(primary, d.name), restored(d), ...(d.recovery?.subnetGroup ? [arn('rds', primary, `subgrp:${d.recovery.subnetGroup}`)] : [])]),
      call('rds:RestoreDBInstanceFromDBSnapshot', snapshot(primary)),
      call('rds:AddTagsToResource', restored(d), productTags),
      ...calls(['kms:CreateGrant', 'kms:DescribeKey'], [anyKey(primary)], viaRds(primary)),
    ]);
    table.checkDatabaseRestore = recoverable.map((d) => call('rds:DescribeDBInstances', restored(d)));
    table.prewarmDatabase = readSecrets;
    table.repointApplication = [
      ...(k8s ? describeCluster(k8s.clusters.primary) : []),
      ...recoverable.flatMap((d) => calls(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], [secret(d.credentialsSecret)])),
    ];
  }

  // Region failover
  const failover = config.regionFailover;
  const failoverDatabase = failover ? databases.find((d) => d.name === failover.database) : undefined;
  if (failover && failoverDatabase) {
    const restored = db(recovery, restoredInstanceId(failoverDatabase.name, SAMPLE_INCIDENT));
    table.confirmOutage = [call('cloudwatch:DescribeAlarms', arn('cloudwatch', recovery, `alarm:${failover.detection.alarmName}`))];
    table.regionFailoverPreflight = [
      call('rds:DescribeDBSnapshots', db(recovery, failoverDatabase.name)),
      call('rds:DescribeDBSnapshots', snapshot(recovery)),
      call('rds:DescribeDBInstanceAutomatedBackups', arn('rds', recovery, `auto-backup:${SAMPLE_BACKUP}`)),
      call('rds:DescribeDBSubnetGroups', arn('rds', recovery, `subgrp:${failover.restore.subnetGroup}`)),
      call('rds:DescribeDBParameterGroups', arn('rds', recovery, `pg:${failover.restore.parameterGroup}`)),
      call('secretsmanager:GetSecretValue', secret(failoverDatabase.credentialsSecret)),
    ];
    const zones = [...new Set(failover.dns.filter((r) => r.mode !== 'data-plane').map((r) => (r as { hostedZoneId: string }).hostedZoneId))];
    table.regionTrafficPreflight = zones.map((z) => call('route53:ListResourceRecordSets', `arn:${partition}:route53:::hostedzone/${z}`));
    table.startRegionRestore = [
      call('rds:DescribeDBInstances', restored),
      ...calls(['rds:RestoreDBInstanceToPointInTime', 'rds:RestoreDBInstanceFromDBSnapshot'], [restored, arn('rds', recovery, `subgrp:${failover.restore.subnetGroup}`)]),
      call('rds:RestoreDBInstanceFromDBSnapshot', snapshot(recovery)),
      call('rds:RestoreDBInstanceToPointInTime', arn('rds', recovery, `auto-backup:${SAMPLE_BACKUP}`)),
      call('rds:AddTagsToResource', restored, productTags),
      ...calls(['kms:CreateGrant', 'kms:DescribeKey'], [failover.restore.kmsKeyArn ?? anyKey(recovery)], viaRds(recovery)),
    ];
    table.checkRegionRestore = [call('rds:DescribeDBInstances', restored)];
    table.runRegionHealthChecks = [failoverDatabase.credentialsSecret, ...(failover.health.redis?.authSecret ? [failover.health.redis.authSecret] : [])].map((s) =>
      call('secretsmanager:GetSecretValue', secret(s)),
    );
    table.moveDns = dnsMoveCalls(failover.dns, { partition, change: ['UPSERT'] });
    table.checkRegionDnsChange = zones.length ? [call('route53:GetChange', `arn:${partition}:route53:::change/C0READINESS`)] : [];
    table.probePrimaryApi =
      failover.detection.mode === 'probe' ? [call('cloudwatch:PutMetricData', '*', [{ key: 'cloudwatch:namespace', type: 'string', values: ['FrontierDR/RegionProbe'] }])] : [];
    // Region failover repoints the recovery region's connection secret on the recovery cluster too.
    if (k8s) {
      table.repointApplication = [
        ...(table.repointApplication ?? []),
        ...describeCluster(k8s.clusters.backup),
        ...calls(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], [secret(failoverDatabase.credentialsSecret)]),
      ];
    }
  }

  // Region failback: the database region failover restores (else the first with a recovery section).
  const failback = config.regionFailback;
  const movedBack = databases.find((d) => d.recovery && (!failover?.database || d.name === failover.database));
  if (failback && movedBack) {
    const recoveryInstance = db(recovery, restoredInstanceId(movedBack.name, SAMPLE_INCIDENT));
    const primaryInstance = db(primary, restoredInstanceId(movedBack.name, SAMPLE_INCIDENT));
    const failbackSnapshot = (region: string) => snapshot(region, failbackSnapshotId(movedBack.name, SAMPLE_EXECUTION, 'final'));
    const reports = `${config.reports.prefix}region-failover/`;
    table.loadFailoverRecord = [
      call('s3:ListBucket', s3(config.reports.bucket), [{ key: 's3:prefix', type: 'string', values: [reports] }]),
      call('s3:GetObject', s3(`${config.reports.bucket}/${reports}${SAMPLE_EXECUTION}.json`)),
    ];
    table.checkPrimaryRegion = [call('rds:DescribeDBInstances', db(primary, movedBack.name)), ...(k8s ? describeCluster(k8s.clusters.primary) : [])];
    table.startFailbackSnapshot = [
      call('rds:DescribeDBInstances', recoveryInstance),
      ...calls(['rds:CreateDBSnapshot'], [recoveryInstance, failbackSnapshot(recovery)]),
      call('rds:DescribeDBSnapshots', failbackSnapshot(recovery)),
      call('rds:AddTagsToResource', failbackSnapshot(recovery), productTags),
    ];
    table.checkFailbackProgress = [
      call('rds:DescribeDBSnapshots', failbackSnapshot(recovery)),
      call('rds:DescribeDBSnapshots', failbackSnapshot(primary)),
      call('rds:DescribeDBInstances', primaryInstance),
    ];
    table.copyFailbackSnapshot = [
      ...calls(['rds:CopyDBSnapshot'], [failbackSnapshot(recovery), failbackSnapshot(primary)]),
      call('rds:DescribeDBSnapshots', failbackSnapshot(primary)),
      call('rds:AddTagsToResource', failbackSnapshot(primary), productTags),
      ...calls(['kms:CreateGrant', 'kms:DescribeKey'], [failback.kmsKeyArn], viaRds(primary)),
      ...calls(['kms:CreateGrant', 'kms:DescribeKey'], [anyKey(recovery)], viaRds(recovery)),
    ];
    table.freezeRecoveryWrites = [call('rds:DescribeDBInstances', recoveryInstance), call('secretsmanager:GetSecretValue', secret(movedBack.credentialsSecret))];
    table.startPrimaryRestore = [
      call('rds:DescribeDBInstances', primaryInstance),
      ...calls(['rds:RestoreDBInstanceFromDBSnapshot'], [primaryInstance, failbackSnapshot(primary), ...(movedBack.recovery?.subnetGroup ? [arn('rds', primary, `subgrp:${movedBack.recovery.subnetGroup}`)] : [])]),
      call('rds:AddTagsToResource', primaryInstance, productTags),
      ...calls(['kms:CreateGrant', 'kms:DescribeKey'], [failback.kmsKeyArn], viaRds(primary)),
    ];
    table.verifyFailbackData = [call('secretsmanager:GetSecretValue', secret(movedBack.credentialsSecret))];
    table.restoreRecordedTraffic = k8s?.traffic ? dnsMoveCalls([k8s.traffic], { partition, change: ['UPSERT', 'DELETE'] }) : [];
    // The primary region's copies of the connection and Redis secrets.
    table.repointApplication = [...(table.repointApplication ?? []), ...calls(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], [secret(movedBack.credentialsSecret, primary)])];
    table.runHealthChecks = [
      ...table.runHealthChecks,
      call('secretsmanager:GetSecretValue', secret(movedBack.credentialsSecret, primary)),
      ...(config.health.redis?.authSecret ? [call('secretsmanager:GetSecretValue', secret(config.health.redis.authSecret, primary))] : []),
    ];
  }

  // Secret rotation (Secrets Manager runs these functions) and rotating now.
  const rotated = databases.filter((d) => d.rotation);
  if (rotated.length) {
    table.rotateDatabaseSecret = [
      ...rotated.flatMap((d) =>
        calls(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'], [secret(d.credentialsSecret)]),
      ),
      ...[...new Set(rotated.map((d) => d.rotation?.masterSecret).filter((s): s is string => Boolean(s)))].map((s) => call('secretsmanager:GetSecretValue', secret(s))),
      call('secretsmanager:GetRandomPassword', '*'),
    ];
  }

  // Security incident
  const incident = config.securityIncident;
  if (incident && k8s) {
    const serving = k8s.clusters[incident.cluster];
    const ipSet = incident.blockIps.wafIpSet;
    const ipSetArn = ipSet
      ? ipSet.scope === 'CLOUDFRONT'
        ? arn('wafv2', 'us-east-1', `global/ipset/${ipSet.name}/${ipSet.id}`)
        : arn('wafv2', ipSet.region ?? primary, `regional/ipset/${ipSet.name}/${ipSet.id}`)
      : undefined;
    const incidentSecrets = [...new Set([...(incident.apiKeys ? [incident.apiKeys.secret] : []), ...rotated.map((d) => d.credentialsSecret)])];
    table.securityIncidentPreflight = [
      ...describeCluster(serving),
      ...incidentSecrets.map((s) => call('secretsmanager:DescribeSecret', secret(s))),
      call('s3:ListBucket', s3(incident.evidence.bucket)),
      ...(ipSetArn ? [call('wafv2:GetIPSet', ipSetArn)] : []),
    ];
    table.blockAddresses = [...describeCluster(serving), ...(ipSetArn ? calls(['wafv2:GetIPSet', 'wafv2:UpdateIPSet'], [ipSetArn]) : [])];
    table.setEmergencyMode = describeCluster(serving);
    table.setApiImage = describeCluster(serving);
    table.collectEvidence = [
      ...describeCluster(serving),
      ...databases.map((d) => call('rds:DescribeDBLogFiles', db(primary, d.name))),
      call('s3:PutObject', s3(`${incident.evidence.bucket}/${incident.evidence.prefix}${SAMPLE_EXECUTION}/pods.log`)),
    ];
    if (incident.apiKeys) {
      table.rotateApiKeys = [
        ...calls(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'], [secret(incident.apiKeys.secret)]),
        call('secretsmanager:GetRandomPassword', '*'),
        ...describeCluster(k8s.clusters.primary, k8s.clusters.backup),
      ];
    }
  }
  const rotatedNow = [...new Set([...rotated.map((d) => d.credentialsSecret), ...(incident?.apiKeys ? [incident.apiKeys.secret] : [])])];
  if (rotatedNow.length) {
    table.startSecretRotation = rotatedNow.flatMap((s) => calls(['secretsmanager:DescribeSecret', 'secretsmanager:RotateSecret'], [secret(s)]));
    table.checkSecretRotation = rotatedNow.map((s) => call('secretsmanager:DescribeSecret', secret(s)));
  }
  return table;
}

type DnsRecord = NonNullable<DeploymentConfig['regionFailover']>['dns'][number];

/**
 * Moving records (shared/dns.ts): a control-plane record is listed in its zone and changed there by
 * name, type and action (the request's route53:ChangeResourceRecordSets* keys); a data-plane record's
 * routing controls are read and set.
 */
function dnsMoveCalls(records: readonly DnsRecord[], { partition, change }: { partition: string; change: string[] }): StepCall[] {
  const result: StepCall[] = [];
  for (const record of records) {
    if (record.mode === 'data-plane') {
      for (const control of [record.routingControls.primary, record.routingControls.backup]) {
        for (const action of ['route53-recovery-cluster:GetRoutingControlState', 'route53-recovery-cluster:UpdateRoutingControlState', 'route53-recovery-cluster:UpdateRoutingControlStates']) {
          result.push({ action, resource: control });
        }
      }
      continue;
    }
    const zone = `arn:${partition}:route53:::hostedzone/${record.hostedZoneId}`;
    result.push({ action: 'route53:ListResourceRecordSets', resource: zone });
    result.push({
      action: 'route53:ChangeResourceRecordSets',
      resource: zone,
      context: [
        { key: 'route53:ChangeResourceRecordSetsNormalizedRecordNames', type: 'stringList', values: [record.recordName.toLowerCase().replace(/\.$/, '')] },
        { key: 'route53:ChangeResourceRecordSetsRecordTypes', type: 'stringList', values: [record.recordType] },
        { key: 'route53:ChangeResourceRecordSetsActions', type: 'stringList', values: change },
      ],
    });
  }
  return result;
}
