// The static half of DESIGN principle 1 for a deployment config (`frontier-dr validate`): no step on a
// recovery path may need the primary region to answer. The steps and the parts of the config each
// reaches are declared once, in shared/region-failover-path.ts; here each of those parts is resolved
// to the names, ARNs and hosts the config gives it, and any that lives in the primary region is an
// error (the failover would wait on the region that failed). Also flagged, as warnings: DNS moved
// through Route 53's control plane (served from us-east-1; AWS advises the data plane during an
// outage), and a backup cluster that shares the primary's region. Calls nothing: only the config's
// own text is read, so it can run anywhere, before packaging.
import type { DeploymentConfig, DnsRecordConfig } from './config.js';
import { REGION_FAILOVER_PATH, type ConfigReach } from './region-failover-path.js';

export interface PathFinding {
  severity: 'error' | 'warning';
  /** The config field, e.g. `regionFailover.health.redis.host`. */
  field: string;
  /** What is wrong and what to do, in one line. */
  message: string;
}

/** A value of the config a step reaches, and what it is. */
interface Reached {
  field: string;
  value: string;
  kind: 'region' | 'arn' | 'host' | 'url' | 'bucket' | 'secret';
}

/** Where Route 53's control plane (ChangeResourceRecordSets, GetChange) is served from. */
const ROUTE53_CONTROL_PLANE_REGION = 'us-east-1';

/**
 * ElastiCache's short form of a region in its endpoints (`...0001.use1.cache.amazonaws.com` for
 * us-east-1, `apse1` for ap-southeast-1): the area, the initials of the direction, the number.
 */
export function elastiCacheRegionCode(region: string): string {
  const match = /^([a-z]{2})-((?:gov-)?)([a-z]+)-(\d+)$/.exec(region);
  if (!match) return region;
  const direction = (match[3] as string).replace(/(north|south)?(east|west|central)?/, (_all, ns?: string, ew?: string) => `${ns ? ns[0] : ''}${ew ? ew[0] : ''}`);
  return `${match[1]}${match[2] ? 'g' : ''}${direction}${match[4]}`;
}

/** True when a host name says it is in `region` (`x.us-west-2.elb.amazonaws.com`, `...usw2.cache.amazonaws.com`). */
export function hostIsInRegion(host: string, region: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (labels.includes(region)) return true;
  return name.endsWith('.cache.amazonaws.com') && labels.includes(elastiCacheRegionCode(region));
}

/** The region of an ARN (`arn:aws:secretsmanager:us-west-2:...`), or null for a global one or not an ARN. */
export function arnRegion(value: string): string | null {
  const parts = value.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) return null;
  return parts[3] ? parts[3] : null;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}

/** The concrete values one part of the config holds (nothing when the config lacks that part). */
function reachedValues(config: DeploymentConfig, part: ConfigReach): Reached[] {
  const kubernetes = config.kubernetes;
  const failover = config.regionFailover;
  switch (part) {
    case 'backup-cluster': {
      if (!kubernetes) return [];
      const backup = kubernetes.clusters.backup;
      return [
        { field: 'kubernetes.clusters.backup.region', value: backup.region, kind: 'region' },
        { field: 'kubernetes.clusters.backup.healthUrl', value: backup.healthUrl, kind: 'url' },
      ];
    }
    case 'manifests':
      return kubernetes ? [{ field: 'kubernetes.manifests.bucket', value: kubernetes.manifests.bucket, kind: 'bucket' }] : [];
    case 'failover-database': {
      const index = config.databases.findIndex((d) => d.name === failover?.database);
      const database = config.databases[index];
      return database ? [{ field: `databases[${index}].credentialsSecret`, value: database.credentialsSecret, kind: 'secret' }] : [];
    }
    case 'recovery-redis': {
      const redis = failover?.health.redis;
      if (!redis) return [];
      return [
        { field: 'regionFailover.health.redis.host', value: redis.host, kind: 'host' },
        ...(redis.authSecret ? [{ field: 'regionFailover.health.redis.authSecret', value: redis.authSecret, kind: 'secret' as const }] : []),
      ];
    }
    case 'dns-records':
      return (failover?.dns ?? []).flatMap((record, i) => dnsTargets(record, `regionFailover.dns[${i}]`));
  }
}

/** The hosts a record sends clients to once moved (its backup side): in the primary region they are the outage. */
function dnsTargets(record: DnsRecordConfig, at: string): Reached[] {
  if (record.mode === 'data-plane') return [];
  return [
    ...(record.backupValues ?? []).map((value, i) => ({ field: `${at}.backupValues[${i}]`, value, kind: 'host' as const })),
    ...(record.backupAlias ? [{ field: `${at}.backupAlias.dnsName`, value: record.backupAlias.dnsName, kind: 'host' as const }] : []),
  ];
}

/** The region a reached value names, if it names one; buckets are looked up in the config's buckets. */
function inPrimaryRegion(config: DeploymentConfig, reached: Reached): boolean {
  const primary = config.primaryRegion;
  switch (reached.kind) {
    case 'region':
      return reached.value === primary;
    case 'arn':
    case 'secret':
      return arnRegion(reached.value) === primary;
    case 'host':
      return hostIsInRegion(reached.value, primary);
    case 'url': {
      const host = hostOf(reached.value);
      return host !== null && hostIsInRegion(host, primary);
    }
    case 'bucket':
      return config.buckets.some((b) => b.name === reached.value && b.region === primary);
  }
}

/** Why a value in the primary region matters, in words for the finding. */
function whatItIs(reached: Reached): string {
  switch (reached.kind) {
    case 'region':
      return 'is the primary region';
    case 'bucket':
      return 'is a bucket in the primary region (buckets[] says so)';
    case 'secret':
    case 'arn':
      return 'is an ARN in the primary region';
    default:
      return 'is a host in the primary region';
  }
}

/**
 * Every finding for `config`, errors first, each in one line: a region-failover step that reaches the
 * primary region (through a field of the config: a cluster, a bucket, a secret ARN, a Redis host, a
 * DNS target), DNS moved through Route 53's control plane (a warning; an error when the primary region
 * is us-east-1, where that control plane lives), data-plane records whose ARC cluster endpoints are all
 * in the primary region, and a backup cluster in the primary region (cluster failover only).
 */
export function checkRecoveryPaths(config: DeploymentConfig): PathFinding[] {
  const findings: PathFinding[] = [];
  const primary = config.primaryRegion;
  if (config.regionFailover) {
    // Which steps reach each field, so the finding names them.
    const stepsByField = new Map<string, { reached: Reached; steps: string[] }>();
    for (const [state, step] of Object.entries(REGION_FAILOVER_PATH)) {
      for (const part of step.config) {
        for (const reached of reachedValues(config, part)) {
          const entry = stepsByField.get(reached.field) ?? { reached, steps: [] };
          entry.steps.push(state);
          stepsByField.set(reached.field, entry);
        }
      }
    }
    for (const { reached, steps } of stepsByField.values()) {
      if (!inPrimaryRegion(config, reached)) continue;
      findings.push({
        severity: 'error',
        field: reached.field,
        message: `${JSON.stringify(reached.value)} ${whatItIs(reached)} (${primary}): region-failover's ${steps.join(', ')} would need the failing region to answer; name the recovery region's (${config.recoveryRegion}) instead`,
      });
    }
    config.regionFailover.dns.forEach((record, i) => findings.push(...dnsModeFindings(record, `regionFailover.dns[${i}]`, primary, 'region-failover')));
  }
  const kubernetes = config.kubernetes;
  if (kubernetes) {
    if (kubernetes.traffic) findings.push(...dnsModeFindings(kubernetes.traffic, 'kubernetes.traffic', primary, 'cluster-failover'));
    // With regionFailover the schema already requires the backup cluster in the recovery region.
    if (!config.regionFailover && kubernetes.clusters.backup.region === primary) {
      findings.push({
        severity: 'warning',
        field: 'kubernetes.clusters.backup.region',
        message: `${JSON.stringify(primary)} is the primary region: cluster failover moves the API to a cluster that an outage of ${primary} takes down too`,
      });
    }
  }
  return [...findings.filter((f) => f.severity === 'error'), ...findings.filter((f) => f.severity === 'warning')];
}

/** Control-plane DNS (a warning, or an error when the primary region hosts that control plane); ARC endpoints all in the primary region. */
function dnsModeFindings(record: DnsRecordConfig, at: string, primary: string, scenario: string): PathFinding[] {
  if (record.mode === 'data-plane') {
    const outside = record.clusterEndpoints.filter((e) => e.region !== primary);
    return outside.length > 0
      ? []
      : [
          {
            severity: 'error',
            field: `${at}.clusterEndpoints`,
            message: `every ARC cluster endpoint of ${record.recordName} is in the primary region (${primary}): ${scenario} could not reach any; list endpoints of other regions too`,
          },
        ];
  }
  if (primary === ROUTE53_CONTROL_PLANE_REGION) {
    return [
      {
        severity: 'error',
        field: `${at}.mode`,
        message: `control-plane DNS for ${record.recordName}: Route 53's control plane is served from ${ROUTE53_CONTROL_PLANE_REGION}, the primary region; ${scenario} would need it to answer; use mode data-plane (ARC routing controls)`,
      },
    ];
  }
  return [
    {
      severity: 'warning',
      field: `${at}.mode`,
      message: `control-plane DNS for ${record.recordName}: ${scenario} depends on Route 53's control plane (${ROUTE53_CONTROL_PLANE_REGION}) during the outage; data-plane mode (ARC routing controls) does not`,
    },
  ];
}
