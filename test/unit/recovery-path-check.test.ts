// validate's static checks of the recovery paths (shared/recovery-path-check.ts): a region-failover step
// that reaches the primary region through the config is an error naming the field and the steps;
// control-plane DNS is a warning (an error when the primary region hosts Route 53's control plane).
import type { DeploymentConfig } from '../../shared/config.js';
import { checkRecoveryPaths, elastiCacheRegionCode, hostIsInRegion } from '../../shared/recovery-path-check.js';
import { REGION_FAILOVER_PATH } from '../../shared/region-failover-path.js';
import { configWith, exampleConfig } from '../support/fixtures.js';

const PRIMARY_CONTROL = 'arn:aws:route53-recovery-control::123456789012:controlpanel/0123456789abcdef/routingcontrol/abcdef0123456789';
const BACKUP_CONTROL = 'arn:aws:route53-recovery-control::123456789012:controlpanel/0123456789abcdef/routingcontrol/0123456789abcdef';

function dataPlane(regions: string[]): NonNullable<DeploymentConfig['regionFailover']>['dns'][number] {
  return {
    mode: 'data-plane',
    recordName: 'api.frontier.com',
    routingControls: { primary: PRIMARY_CONTROL, backup: BACKUP_CONTROL },
    clusterEndpoints: regions.map((region, i) => ({ region, endpoint: `https://host-${i}.${region}.example.aws` })),
    timeoutMinutes: 10,
  } as NonNullable<DeploymentConfig['regionFailover']>['dns'][number];
}

const errors = (config: DeploymentConfig) => checkRecoveryPaths(config).filter((f) => f.severity === 'error');

describe('checkRecoveryPaths', () => {
  it('finds no error in the example, and flags its two control-plane DNS records as warnings', () => {
    expect(checkRecoveryPaths(exampleConfig())).toEqual([
      { severity: 'warning', field: 'regionFailover.dns[0].mode', message: expect.stringContaining("region-failover depends on Route 53's control plane (us-east-1)") },
      { severity: 'warning', field: 'kubernetes.traffic.mode', message: expect.stringContaining("cluster-failover depends on Route 53's control plane (us-east-1)") },
    ]);
  });

  it.each<[string, (c: DeploymentConfig) => void, string, RegExp]>([
    [
      "the recovery region's Redis gate pointed at the primary region's cache",
      (c) => (c.regionFailover!.health.redis!.host = 'frontier-cache.abc123.ng.0001.usw2.cache.amazonaws.com'),
      'regionFailover.health.redis.host',
      /RunHealthChecks would need the failing region/,
    ],
    [
      'the Redis AUTH secret named by its primary-region ARN',
      (c) => (c.regionFailover!.health.redis!.authSecret = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:frontier/prod/redis-auth-AbCdEf'),
      'regionFailover.health.redis.authSecret',
      /is an ARN in the primary region/,
    ],
    [
      "the restored database's credentials secret in the primary region",
      (c) => (c.databases[0]!.credentialsSecret = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:frontier/prod/database-AbCdEf'),
      'databases[0].credentialsSecret',
      /Preflight, StartRegionRestore, CheckRegionRestore, RepointApplication, RunHealthChecks/,
    ],
    [
      "DNS moved to the primary region's load balancer",
      (c) => ((c.regionFailover!.dns[0] as { backupValues: string[] }).backupValues = ['frontier-prod-ingress.us-west-2.elb.amazonaws.com']),
      'regionFailover.dns[0].backupValues[0]',
      /PreflightTraffic, MoveDns, CheckDnsChange/,
    ],
    [
      "the backup cluster's /health served from the primary region",
      (c) => (c.kubernetes!.clusters.backup.healthUrl = 'https://frontier-ingress.us-west-2.elb.amazonaws.com/health'),
      'kubernetes.clusters.backup.healthUrl',
      /AssessRecoveryCluster/,
    ],
    [
      'the manifests in a bucket of the primary region',
      (c) => c.buckets.push({ name: c.kubernetes!.manifests.bucket, purpose: 'manifests', region: 'us-west-2', retentionDays: 30, replicationRegion: 'us-east-1' } as DeploymentConfig['buckets'][number]),
      'kubernetes.manifests.bucket',
      /is a bucket in the primary region .*CheckManifests, ApplyManifestsToBackup/,
    ],
  ])('fails %s, in one finding naming the field', (_what, change, field, message) => {
    const found = errors(configWith(change));
    expect(found).toEqual([{ severity: 'error', field, message: expect.stringMatching(message) }]);
    expect(found[0]!.message).not.toContain('\n');
  });

  it('fails data-plane DNS whose ARC endpoints are all in the primary region, and passes one with another region', () => {
    expect(errors(configWith((c) => (c.regionFailover!.dns = [dataPlane(['us-west-2'])])))).toEqual([
      { severity: 'error', field: 'regionFailover.dns[0].clusterEndpoints', message: expect.stringContaining('every ARC cluster endpoint of api.frontier.com is in the primary region (us-west-2)') },
    ]);
    const findings = checkRecoveryPaths(configWith((c) => (c.regionFailover!.dns = [dataPlane(['us-west-2', 'us-east-1'])])));
    expect(findings.filter((f) => f.field.startsWith('regionFailover.dns'))).toEqual([]);
  });

  it("makes control-plane DNS an error when the primary region is us-east-1, where Route 53's control plane lives", () => {
    const config = configWith((c) => {
      c.primaryRegion = 'us-east-1';
      c.recoveryRegion = 'us-west-2';
      const failover = c.regionFailover!;
      failover.detection = { ...failover.detection, mode: 'probe' } as typeof failover.detection;
      c.kubernetes!.clusters = { primary: { ...c.kubernetes!.clusters.primary, region: 'us-east-1' }, backup: { ...c.kubernetes!.clusters.backup, region: 'us-west-2' } };
      c.buckets = [];
      c.regionFailover!.health.redis = undefined;
      (c.regionFailover!.dns[0] as { backupValues: string[] }).backupValues = ['frontier-backup-ingress.us-west-2.elb.amazonaws.com'];
      if (c.securityIncident?.blockIps.wafIpSet) c.securityIncident.blockIps.wafIpSet.region = 'us-east-1';
      if (c.regionFailback) c.regionFailback.kmsKeyArn = 'arn:aws:kms:us-east-1:123456789012:key/5f1c9a3e-7b2d-4e8f-9a6c-1d2e3f4a5b6c';
    });
    expect(errors(config)).toEqual([
      { severity: 'error', field: 'regionFailover.dns[0].mode', message: expect.stringContaining("Route 53's control plane is served from us-east-1, the primary region") },
      { severity: 'error', field: 'kubernetes.traffic.mode', message: expect.stringContaining('use mode data-plane') },
    ]);
  });

  it('warns about a backup cluster in the primary region when there is no region failover', () => {
    const config = configWith((c) => {
      delete c.regionFailover;
      delete c.regionFailback;
      c.kubernetes!.clusters.backup.region = 'us-west-2';
    });
    expect(checkRecoveryPaths(config)).toContainEqual({ severity: 'warning', field: 'kubernetes.clusters.backup.region', message: expect.stringContaining('an outage of us-west-2 takes down too') });
  });

  it('declares the backup cluster for every region-failover step that reaches the recovery cluster', () => {
    const missing = Object.entries(REGION_FAILOVER_PATH).filter(([, step]) => step.reaches.includes('recovery-cluster') && !step.config.includes('backup-cluster'));
    expect(missing).toEqual([]);
    // And the DNS records for every step that reaches Route 53.
    expect(Object.entries(REGION_FAILOVER_PATH).filter(([, step]) => step.reaches.includes('route53-global') && !step.config.includes('dns-records'))).toEqual([]);
  });
});

describe('hostIsInRegion', () => {
  it.each([
    ['frontier-prod-ingress.us-west-2.elb.amazonaws.com', 'us-west-2', true],
    ['frontier-prod.aaaaaaaaaa.us-west-2.rds.amazonaws.com', 'us-west-2', true],
    ['frontier-cache.abc123.ng.0001.usw2.cache.amazonaws.com', 'us-west-2', true],
    ['frontier-cache-dr.def456.ng.0001.use1.cache.amazonaws.com', 'us-west-2', false],
    ['api.frontier.com', 'us-west-2', false],
    // A label that only resembles a region code outside ElastiCache's domain says nothing.
    ['usw2.frontier.com', 'us-west-2', false],
  ])('%s in %s: %s', (host, region, expected) => {
    expect(hostIsInRegion(host, region)).toBe(expected);
  });

  it.each([
    ['us-east-1', 'use1'],
    ['us-west-2', 'usw2'],
    ['eu-central-1', 'euc1'],
    ['ap-southeast-2', 'apse2'],
    ['ap-northeast-1', 'apne1'],
    ['sa-east-1', 'sae1'],
  ])("ElastiCache's code for %s is %s", (region, code) => {
    expect(elastiCacheRegionCode(region)).toBe(code);
  });
});
