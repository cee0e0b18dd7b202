import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deploymentConfigFromEnvironment,
  findDatabase,
  findObjective,
  parseDeploymentConfig,
  resetDeploymentConfigCache,
  type DeploymentConfig,
} from '../../shared/config.js';
import { MAX_PACKAGED_CONFIG_BYTES, loadDeploymentConfigFile, packageDeploymentConfig } from '../../shared/config-file.js';
import { DeploymentConfigMismatch, InvalidConfig } from '../../shared/errors.js';
import { withManyDatabases } from '../../local/large-deployment.js';
import { EXAMPLE_CONFIG_PATH, exampleConfig } from '../support/fixtures.js';

/** The example as a plain object, changed, then validated: returns the error message. */
function problemsWith(change: (raw: Record<string, any>) => void): string {
  const raw = structuredClone(exampleConfig()) as unknown as Record<string, any>;
  change(raw);
  try {
    parseDeploymentConfig(raw, 'config/broken.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfig);
    return (error as Error).message;
  }
  throw new Error('the changed config was accepted');
}

describe('the example deployment file', () => {
  it('loads, with the defaults filled in', () => {
    const config = loadDeploymentConfigFile(EXAMPLE_CONFIG_PATH);

    expect(config).toMatchObject({ deployment: 'frontier-prod', primaryRegion: 'us-west-2', recoveryRegion: 'us-east-1' });
    expect(config.objectives.map((o) => o.component)).toEqual(['API Services', 'Database', 'Cache Layer', 'AI Services', 'Monitoring']);
    expect(config.databases[0]).toMatchObject({ name: 'frontier-prod', engine: 'postgres', port: 5432, tls: 'verify-full' });
    expect(config.buckets.map((b) => [b.name, b.requireVersioning])).toEqual([
      ['frontier-prod-backups', true],
      ['frontier-app-backups', true],
    ]);
    expect(config.schedules).toMatchObject({ backupVerification: 'rate(4 hours)', enabled: true });
    expect(config.reports.prefix).toBe('reports/');
  });
});

describe('parseDeploymentConfig', () => {
  it('names the source in the first line of the message', () => {
    const message = problemsWith((c) => {
      c.primaryRegion = 'Oregon';
    });

    expect(message.split('\n')[0]).toBe('config/broken.yml is not a valid deployment config:');
  });

  it.each([
    [
      'a malformed region',
      (c: Record<string, any>) => {
        c.primaryRegion = 'us-west';
      },
      '  - primaryRegion: got "us-west" (string); expected an AWS region name such as us-east-1',
    ],
    [
      'a malformed bucket region',
      (c: Record<string, any>) => {
        c.buckets[1].replicationRegion = 'US-EAST-1';
      },
      '  - buckets[1].replicationRegion: got "US-EAST-1" (string); expected an AWS region name such as us-east-1',
    ],
    [
      'a value outside an enum',
      (c: Record<string, any>) => {
        c.objectives[2].priority = 'urgent';
      },
      '  - objectives[2].priority: got "urgent" (string); expected one of "critical", "high", "medium", "low"',
    ],
    [
      'a number above its maximum',
      (c: Record<string, any>) => {
        c.databases[0].retentionDays = 400;
      },
      '  - databases[0].retentionDays: got 400 (number); expected at most 35',
    ],
    [
      'zero where a positive number is needed',
      (c: Record<string, any>) => {
        c.databases[0].restoreTest.timeoutMinutes = 0;
      },
      '  - databases[0].restoreTest.timeoutMinutes: got 0 (number); expected more than 0',
    ],
    [
      'a negative RPO',
      (c: Record<string, any>) => {
        c.objectives[0].rpoMinutes = -5;
      },
      '  - objectives[0].rpoMinutes: got -5 (number); expected at least 0',
    ],
    [
      'a fraction where an integer is needed',
      (c: Record<string, any>) => {
        c.databases[0].retentionDays = 7.5;
      },
      '  - databases[0].retentionDays: got 7.5 (number); expected int',
    ],
    [
      'a number as a string',
      (c: Record<string, any>) => {
        c.databases[0].snapshotIntervalHours = '4';
      },
      '  - databases[0].snapshotIntervalHours: got "4" (string); expected number',
    ],
    [
      'an unknown field',
      (c: Record<string, any>) => {
        c.databases[0].snapshotPrefx = 'typo-';
      },
      '  - databases[0].snapshotPrefx: got "typo-" (string); unknown field',
    ],
    [
      'an unknown top-level field',
      (c: Record<string, any>) => {
        c.recoverRegion = 'us-east-2';
      },
      '  - recoverRegion: got "us-east-2" (string); unknown field',
    ],
    [
      'a missing required field',
      (c: Record<string, any>) => {
        delete c.databases[0].snapshotPrefix;
      },
      '  - databases[0].snapshotPrefix: got nothing; expected string',
    ],
    [
      'a missing section',
      (c: Record<string, any>) => {
        delete c.network;
      },
      '  - network: got nothing; expected object',
    ],
    [
      'an empty list that needs an entry',
      (c: Record<string, any>) => {
        c.network.subnetIds = [];
      },
      '  - network.subnetIds: got [] (array); expected a count of at least 1',
    ],
    [
      'a malformed security group',
      (c: Record<string, any>) => {
        c.databases[0].restoreTest.securityGroupIds = ['default'];
      },
      '  - databases[0].restoreTest.securityGroupIds[0]: got "default" (string); expected a security group id such as sg-0123abcd',
    ],
    [
      'a malformed schedule',
      (c: Record<string, any>) => {
        c.schedules.restoreTest = 'weekly';
      },
      '  - schedules.restoreTest: got "weekly" (string); expected an EventBridge schedule such as rate(4 hours) or cron(0 6 ? * SUN *)',
    ],
  ])('reports %s with its path, the value found and what was expected', (_label, change, expected) => {
    expect(problemsWith(change)).toContain(expected);
  });

  it('reports each unknown field on its own line', () => {
    const message = problemsWith((c) => {
      c.recoverRegion = 'us-east-2';
      c.databases[0].restoreTest.instanceClas = 'db.t4g.small';
    });

    const lines = message.split('\n').slice(1);
    expect(lines).toHaveLength(2);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^  - recoverRegion: got "us-east-2" \(string\); unknown field/),
        expect.stringMatching(/^  - databases\[0\]\.restoreTest\.instanceClas: got "db\.t4g\.small" \(string\); unknown field/),
      ]),
    );
  });

  it('refuses a recovery region equal to the primary region', () => {
    const message = problemsWith((c) => {
      c.recoveryRegion = 'us-west-2';
    });

    expect(message).toContain(
      '  - recoveryRegion: got "us-west-2" (string); must differ from primaryRegion: the recovery stack cannot live in the region it protects',
    );
  });

  it('refuses a database whose component is not a row of the objectives table', () => {
    const message = problemsWith((c) => {
      c.databases[0].component = 'Databases';
    });

    expect(message).toContain(
      '  - databases[0].component: got "Databases" (string); must name a row of objectives (API Services, Database, Cache Layer, AI Services, Monitoring)',
    );
  });

  it('refuses a database listed twice, pointing at the second entry', () => {
    const message = problemsWith((c) => {
      c.databases.push(structuredClone(c.databases[0]));
    });

    expect(message).toContain('  - databases[1].name: got "frontier-prod" (string); is listed twice');
    expect(message).not.toContain('databases[0].name');
  });

  it.each([
    ['missing', undefined, 'got nothing; is required with readOnlyMode parameter-group'],
    ['a default group', 'default.postgres16', 'got "default.postgres16" (string); must be a custom parameter group'],
    ["the restored instance's group", 'frontier-prod-pg16', 'got "frontier-prod-pg16" (string); must differ from recovery.parameterGroup'],
  ])('refuses readOnlyMode parameter-group with readOnlyParameterGroup %s', (_label, group, expected) => {
    const message = problemsWith((c) => {
      c.databases[0].recovery.readOnlyMode = 'parameter-group';
      if (group === undefined) delete c.databases[0].recovery.readOnlyParameterGroup;
      else c.databases[0].recovery.readOnlyParameterGroup = group;
    });

    expect(message).toContain(`  - databases[0].recovery.readOnlyParameterGroup: ${expected}`);
  });

  it("requires recovery.parameterGroup with readOnlyMode parameter-group: the source's group (the fallback) is made read-only", () => {
    const message = problemsWith((c) => {
      c.databases[0].recovery.readOnlyMode = 'parameter-group';
      c.databases[0].recovery.readOnlyParameterGroup = 'frontier-prod-own-pg16';
      delete c.databases[0].recovery.parameterGroup;
    });

    expect(message).toContain("  - databases[0].recovery.parameterGroup: got nothing; is required with readOnlyMode parameter-group: the source's own group is made read-only");
  });

  it('accepts a recovery section that names no restore setting: each comes from the source instance', () => {
    const raw = structuredClone(exampleConfig()) as unknown as Record<string, any>;
    for (const key of ['instanceClass', 'multiAz', 'subnetGroup', 'securityGroupIds', 'parameterGroup']) delete raw.databases[0].recovery[key];

    const recovery = parseDeploymentConfig(raw, 'inline').databases[0]!.recovery!;

    expect(recovery).not.toHaveProperty('multiAz');
    expect(recovery).not.toHaveProperty('parameterGroup');
  });

  it('accepts readOnlyMode parameter-group with the instance\'s own custom group', () => {
    const raw = structuredClone(exampleConfig()) as unknown as Record<string, any>;
    raw.databases[0].recovery.readOnlyMode = 'parameter-group';
    raw.databases[0].recovery.readOnlyParameterGroup = 'frontier-prod-own-pg16';

    expect(parseDeploymentConfig(raw, 'inline').databases[0]!.recovery).toMatchObject({ readOnlyMode: 'parameter-group', readOnlyParameterGroup: 'frontier-prod-own-pg16' });
  });

  it.each([
    ['missing', undefined, 'got nothing; must name at least one role with readOnlyStrength revoke-writes'],
    ['empty', [], 'got [] (array); must name at least one role with readOnlyStrength revoke-writes'],
  ])('refuses readOnlyStrength revoke-writes with applicationRoles %s', (_label, roles, expected) => {
    const message = problemsWith((c) => {
      c.databases[0].recovery.readOnlyStrength = 'revoke-writes';
      if (roles === undefined) delete c.databases[0].recovery.applicationRoles;
      else c.databases[0].recovery.applicationRoles = roles;
    });

    expect(message).toContain(`  - databases[0].recovery.applicationRoles: ${expected}`);
  });

  it('defaults readOnlyStrength to default and accepts revoke-writes with the application roles', () => {
    const raw = structuredClone(exampleConfig()) as unknown as Record<string, any>;
    expect(parseDeploymentConfig(structuredClone(raw), 'inline').databases[0]!.recovery).toMatchObject({ readOnlyStrength: 'default', applicationRoles: [] });
    raw.databases[0].recovery.readOnlyStrength = 'revoke-writes';
    raw.databases[0].recovery.applicationRoles = ['frontier_app'];

    expect(parseDeploymentConfig(raw, 'inline').databases[0]!.recovery).toMatchObject({ readOnlyStrength: 'revoke-writes', applicationRoles: ['frontier_app'] });
  });

  it.each([
    ['neither backupValues nor backupAlias', (t: Record<string, any>) => delete t.backupValues, '  - kubernetes.traffic.backupValues: got nothing; must be given, or backupAlias instead: exactly one of the two'],
    [
      'both backupValues and backupAlias',
      (t: Record<string, any>) => (t.backupAlias = { dnsName: 'lb.us-east-1.elb.amazonaws.com', hostedZoneId: 'Z35SXDOTRQ7X7K' }),
      '  - kubernetes.traffic.backupAlias: got {"dnsName":"lb.us-east-1.elb.amazonaws.com","hostedZoneId":"Z35SXDOTRQ7X7K"} (object); must not be given with backupValues: exactly one of the two',
    ],
    ['two values for a CNAME', (t: Record<string, any>) => t.backupValues.push('other.example.com'), '  - kubernetes.traffic.backupValues: got ["frontier-backup-ingress.us-east-1.elb.amazonaws.com","other.example.com"] (array); must hold exactly one value for a CNAME record'],
    [
      'an alias for a CNAME',
      (t: Record<string, any>) => {
        delete t.backupValues;
        t.backupAlias = { dnsName: 'lb.us-east-1.elb.amazonaws.com', hostedZoneId: 'Z35SXDOTRQ7X7K' };
      },
      '  - kubernetes.traffic.recordType: got "CNAME" (string); must be A or AAAA for an alias (backupAlias)',
    ],
    ['a hosted zone id that is an ARN', (t: Record<string, any>) => (t.hostedZoneId = 'arn:aws:route53:::hostedzone/Z0FRONTIEREXAMPLE01'), 'expected a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ'],
    ['a record name that is not a DNS name', (t: Record<string, any>) => (t.recordName = 'https://api.frontier.com'), '  - kubernetes.traffic.recordName: got "https://api.frontier.com" (string); expected a DNS name such as api.frontier.com'],
  ])('refuses kubernetes.traffic with %s', (_label, change, expected) => {
    const message = problemsWith((c) => change(c.kubernetes.traffic));

    expect(message).toContain(expected);
  });

  it('accepts rotation of a database secret in either strategy, defaulting the validation query to SELECT 1', () => {
    const raw = structuredClone(exampleConfig()) as unknown as Record<string, any>;
    raw.databases[0].rotation = { strategy: 'alternating-users', scheduleExpression: 'rate(30 days)', masterSecret: 'frontier/prod/database-master' };
    raw.databases.push({ ...structuredClone(raw.databases[0]), name: 'frontier-orders', credentialsSecret: 'frontier/orders/database', rotation: { strategy: 'single-user', scheduleExpression: 'cron(0 4 ? * SUN *)' } });

    const config = parseDeploymentConfig(raw, 'config/rotation.yml');

    expect(config.databases.map((d) => d.rotation)).toEqual([
      { strategy: 'alternating-users', scheduleExpression: 'rate(30 days)', masterSecret: 'frontier/prod/database-master', validationQuery: 'SELECT 1' },
      { strategy: 'single-user', scheduleExpression: 'cron(0 4 ? * SUN *)', validationQuery: 'SELECT 1' },
    ]);
  });

  it('refuses one secret rotated by two databases (two schedules for one secret)', () => {
    const message = problemsWith((c) => {
      c.databases[0].rotation = { strategy: 'single-user', scheduleExpression: 'rate(30 days)' };
      c.databases.push({ ...structuredClone(c.databases[0]), name: 'frontier-orders' });
    });

    expect(message).toContain('  - databases[1].credentialsSecret: got "frontier/prod/database" (string); is rotated by an earlier database too');
    expect(message).not.toContain('databases[0].credentialsSecret');
  });

  it.each([
    [{ strategy: 'dual', scheduleExpression: 'rate(30 days)' }, '  - databases[0].rotation.strategy: got "dual" (string); expected one of "single-user", "alternating-users"'],
    [{ strategy: 'single-user', scheduleExpression: 'rate(2 hours)' }, '  - databases[0].rotation.scheduleExpression: got "rate(2 hours)" (string); expected a Secrets Manager rotation schedule: rate(N days) with N 1-1000, rate(N hours) with N 4-23, or cron(...) with six fields'],
    [{ strategy: 'single-user', scheduleExpression: 'rate(1001 days)' }, '  - databases[0].rotation.scheduleExpression: got "rate(1001 days)" (string); expected a Secrets Manager rotation schedule'],
    [{ strategy: 'single-user', scheduleExpression: 'monthly' }, '  - databases[0].rotation.scheduleExpression: got "monthly" (string); expected a Secrets Manager rotation schedule'],
    [{ strategy: 'alternating-users', scheduleExpression: 'rate(30 days)' }, '  - databases[0].rotation.masterSecret: got nothing; is required with strategy alternating-users: the secret whose user creates and alters the clone user'],
    [{ strategy: 'single-user', scheduleExpression: 'rate(30 days)', masterSecret: 'frontier/prod/master' }, '  - databases[0].rotation.masterSecret: got "frontier/prod/master" (string); must not be given with strategy single-user'],
    [{ strategy: 'alternating-users', scheduleExpression: 'rate(30 days)', masterSecret: 'frontier/prod/database' }, '  - databases[0].rotation.masterSecret: got "frontier/prod/database" (string); must differ from credentialsSecret'],
    [{ strategy: 'single-user', scheduleExpression: 'rate(30 days)', schedule: 'rate(30 days)' }, '  - databases[0].rotation.schedule: got "rate(30 days)" (string); unknown field (a typo?)'],
  ])('refuses rotation %p, naming the field and the value', (rotation, expected) => {
    const message = problemsWith((c) => {
      c.databases[0].rotation = rotation;
    });

    expect(message).toContain(expected);
  });

  it('reports every problem at once: the rules across fields too, even when a field has the wrong type', () => {
    const message = problemsWith((c) => {
      c.databases[0].retentionDays = 'thirty';
      c.buckets[0].region = 'mars';
      c.recoveryRegion = c.primaryRegion;
      c.databases[0].component = 'Nope';
      c.health.database = 'frontier-staging';
      c.kubernetes.traffic.backupAlias = { dnsName: 'lb.example.com', hostedZoneId: 'Z0ALIAS' };
    });

    expect(message.split('\n').slice(1)).toEqual([
      '  - databases[0].retentionDays: got "thirty" (string); expected number',
      '  - buckets[0].region: got "mars" (string); expected an AWS region name such as us-east-1',
      '  - recoveryRegion: got "us-west-2" (string); must differ from primaryRegion: the recovery stack cannot live in the region it protects',
      expect.stringMatching(/^ {2}- databases\[0\]\.component: got "Nope" \(string\); must name a row of objectives/),
      '  - health.database: got "frontier-staging" (string); must name one of databases (frontier-prod)',
      expect.stringMatching(/^ {2}- kubernetes\.traffic\.backupAlias: .*must not be given with backupValues/),
    ]);
  });

  it('leaves out the rules across fields whose own fields are malformed', () => {
    const message = problemsWith((c) => {
      c.objectives[0].component = 3;
      c.databases = 'frontier-prod';
    });

    expect(message.split('\n').slice(1)).toEqual([
      '  - objectives[0].component: got 3 (number); expected string',
      '  - databases: got "frontier-prod" (string); expected array',
    ]);
  });

  it('refuses input that is not an object at all', () => {
    expect(() => parseDeploymentConfig('deployment: x', 'inline')).toThrow('  - (root): got "deployment: x" (string); expected object');
    expect(() => parseDeploymentConfig(null, 'inline')).toThrow('  - (root): got null (null); expected object');
  });
});

describe('DNS records (dnsRecordSchema): kubernetes.traffic in either mode', () => {
  const PANEL = 'arn:aws:route53-recovery-control::123456789012:controlpanel/0123456789abcdef';
  const dataPlane = () => ({
    mode: 'data-plane',
    recordName: 'api.frontier.com',
    routingControls: { primary: `${PANEL}/routingcontrol/aaaa1111`, backup: `${PANEL}/routingcontrol/bbbb2222` },
    clusterEndpoints: [
      { region: 'us-west-2', endpoint: 'https://host-aaaaaa.us-west-2.example.com/v1' },
      { region: 'eu-west-1', endpoint: 'https://host-bbbbbb.eu-west-1.example.com/v1' },
    ],
  });
  const withTraffic = (traffic: unknown) => {
    const raw = structuredClone(exampleConfig()) as unknown as Record<string, any>;
    raw.kubernetes.traffic = traffic;
    return raw;
  };

  it('takes a record without mode as control-plane, as configs written before data-plane mode are', () => {
    const { mode, ...withoutMode } = exampleConfig().kubernetes!.traffic! as Record<string, unknown>;
    expect(mode).toBe('control-plane');

    expect(parseDeploymentConfig(withTraffic(withoutMode), 'inline').kubernetes!.traffic).toMatchObject({ mode: 'control-plane', recordName: 'api.frontier.com', backupValues: ['frontier-backup-ingress.us-east-1.elb.amazonaws.com'] });
  });

  it('accepts a data-plane record, with the default timeout, and a loopback http endpoint (a local one)', () => {
    const traffic = { ...dataPlane(), clusterEndpoints: [{ region: 'us-west-2', endpoint: 'http://127.0.0.1:41234' }] };

    expect(parseDeploymentConfig(withTraffic(traffic), 'inline').kubernetes!.traffic).toEqual({ ...traffic, timeoutMinutes: 10 });
  });

  it.each([
    ['an unknown mode', (t: Record<string, any>) => (t.mode = 'route53'), '  - kubernetes.traffic.mode: got "route53" (string); expected mode: control-plane (the default) or data-plane'],
    [
      'the same routing control twice',
      (t: Record<string, any>) => (t.routingControls.backup = t.routingControls.primary),
      '(string); must differ from routingControls.primary: moving turns one On and the other Off',
    ],
    [
      'controls of two control panels',
      (t: Record<string, any>) => (t.routingControls.backup = 'arn:aws:route53-recovery-control::123456789012:controlpanel/ffff0000/routingcontrol/bbbb2222'),
      'must be in the same control panel as routingControls.primary (0123456789abcdef): safety rules apply within one panel',
    ],
    ['a routing control that is not an ARN', (t: Record<string, any>) => (t.routingControls.primary = 'aaaa1111'), '  - kubernetes.traffic.routingControls.primary: got "aaaa1111" (string); expected a routing control ARN'],
    ['no cluster endpoint', (t: Record<string, any>) => (t.clusterEndpoints = []), '  - kubernetes.traffic.clusterEndpoints: got [] (array); expected a count of at least 1'],
    ['six cluster endpoints', (t: Record<string, any>) => (t.clusterEndpoints = Array.from({ length: 6 }, (_, i) => ({ region: 'us-west-2', endpoint: `https://h${i}.us-west-2.example.com/v1` }))), 'kubernetes.traffic.clusterEndpoints: got [{'],
    ['a plain-http endpoint on the network', (t: Record<string, any>) => (t.clusterEndpoints[0].endpoint = 'http://host-aaaaaa.us-west-2.example.com/v1'), '  - kubernetes.traffic.clusterEndpoints[0].endpoint: got "http://host-aaaaaa.us-west-2.example.com/v1" (string); expected an https:// URL'],
    ['an endpoint listed twice', (t: Record<string, any>) => (t.clusterEndpoints[1] = { ...t.clusterEndpoints[0] }), '  - kubernetes.traffic.clusterEndpoints[1].endpoint: got "https://host-aaaaaa.us-west-2.example.com/v1" (string); is listed twice (also clusterEndpoints[0])'],
    ['an endpoint under the wrong region', (t: Record<string, any>) => (t.clusterEndpoints[1].region = 'us-east-1'), '  - kubernetes.traffic.clusterEndpoints[1].region: got "us-east-1" (string); must be the region the endpoint names (eu-west-1)'],
    ['a control-plane field', (t: Record<string, any>) => (t.hostedZoneId = 'Z0FRONTIEREXAMPLE01'), '  - kubernetes.traffic.hostedZoneId: got "Z0FRONTIEREXAMPLE01" (string); unknown field (a typo?)'],
  ])('refuses a data-plane record with %s', (_label, change, expected) => {
    const message = problemsWith((c) => {
      c.kubernetes.traffic = dataPlane();
      change(c.kubernetes.traffic);
    });

    expect(message).toContain(expected);
  });

  it('names mode when a record has routing controls but no mode (it would be taken as control-plane)', () => {
    const { mode: _mode, ...withoutMode } = dataPlane();

    const message = problemsWith((c) => (c.kubernetes.traffic = withoutMode));

    expect(message).toMatch(/ {2}- kubernetes\.traffic\.routingControls: got .*; must go with mode: data-plane \(without mode, a record is control-plane\)/);
    expect(message).not.toContain('a typo?');
  });
});

describe('loadDeploymentConfigFile', () => {
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'frontier-dr-config-'));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('fails with InvalidConfig naming a file it cannot read', () => {
    const path = join(directory, 'missing.yml');

    expect(() => loadDeploymentConfigFile(path)).toThrow(InvalidConfig);
    expect(() => loadDeploymentConfigFile(path)).toThrow(`cannot read deployment config ${path}`);
  });

  it('fails with InvalidConfig naming a file that is not YAML', () => {
    const path = join(directory, 'broken.yml');
    writeFileSync(path, 'deployment: frontier-prod\ndatabases: [ { name: frontier-prod\n  primaryRegion: : :\n');

    expect(() => loadDeploymentConfigFile(path)).toThrow(InvalidConfig);
    expect(() => loadDeploymentConfigFile(path)).toThrow(`${path} is not valid YAML`);
  });

  it('names the file when its content is invalid', () => {
    const path = join(directory, 'incomplete.yml');
    writeFileSync(path, 'deployment: frontier-prod\nprimaryRegion: us-west-2\n');

    expect(() => loadDeploymentConfigFile(path)).toThrow(`${path} is not a valid deployment config:`);
    expect(() => loadDeploymentConfigFile(path)).toThrow('  - recoveryRegion: got nothing; expected string');
  });
});

describe('deploymentConfigFromEnvironment', () => {
  const VARIABLES = ['DR_CONFIG_FILE', 'DR_CONFIG_SHA256', 'LAMBDA_TASK_ROOT'] as const;
  const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  let directory: string;

  /** Packages `text` as the functions' config file; returns its path and sha256. */
  function packaged(text: string, name = 'config.json'): { file: string; sha256: string } {
    const file = join(directory, name);
    writeFileSync(file, text);
    return { file, sha256: createHash('sha256').update(text).digest('hex') };
  }

  function deployWith(file: string, sha256: string): void {
    process.env.DR_CONFIG_FILE = file;
    process.env.DR_CONFIG_SHA256 = sha256;
  }

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'frontier-dr-config-env-'));
    resetDeploymentConfigCache();
  });

  afterEach(() => {
    for (const name of VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    resetDeploymentConfigCache();
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads, checks and validates the packaged file once, and serves later calls from the cache', () => {
    const { file, sha256 } = packaged(JSON.stringify(exampleConfig()));
    deployWith(file, sha256);

    const first = deploymentConfigFromEnvironment();
    writeFileSync(file, 'not json any more');
    const second = deploymentConfigFromEnvironment();

    expect(second).toBe(first);
    expect(first).toEqual(exampleConfig());
    // After a reset the (now altered) file is read again, and refused.
    resetDeploymentConfigCache();
    expect(() => deploymentConfigFromEnvironment()).toThrow(DeploymentConfigMismatch);
  });

  it('resolves a relative DR_CONFIG_FILE against the package root (LAMBDA_TASK_ROOT)', () => {
    const { sha256 } = packaged(JSON.stringify(exampleConfig()), 'deployment-config.json');
    process.env.LAMBDA_TASK_ROOT = directory;
    deployWith('deployment-config.json', sha256);

    expect(deploymentConfigFromEnvironment().deployment).toBe('frontier-prod');
  });

  it('refuses a file that is not the version the function was deployed with, by name, before parsing it', () => {
    const deployed = JSON.stringify(exampleConfig());
    const other = JSON.stringify({ ...exampleConfig(), deployment: 'frontier-other' });
    const { file } = packaged(other);
    deployWith(file, createHash('sha256').update(deployed).digest('hex'));

    let caught: unknown;
    try {
      deploymentConfigFromEnvironment();
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(DeploymentConfigMismatch);
    expect(caught).toBeInstanceOf(InvalidConfig);
    expect((caught as Error).name).toBe('DeploymentConfigMismatch');
    expect((caught as Error).message).toContain(`has sha256 ${createHash('sha256').update(other).digest('hex')}`);
    expect((caught as Error).message).toContain('redeploy the stack');
  });

  it.each([
    ['neither variable is set', undefined, undefined],
    ['DR_CONFIG_SHA256 is missing', 'config.json', undefined],
    ['DR_CONFIG_FILE is empty', '', 'ab'],
  ])('fails clearly when %s', (_label, file, sha256) => {
    if (file === undefined) delete process.env.DR_CONFIG_FILE;
    else process.env.DR_CONFIG_FILE = file;
    if (sha256 === undefined) delete process.env.DR_CONFIG_SHA256;
    else process.env.DR_CONFIG_SHA256 = sha256;

    expect(() => deploymentConfigFromEnvironment()).toThrow(InvalidConfig);
    expect(() => deploymentConfigFromEnvironment()).toThrow('environment variables DR_CONFIG_FILE and DR_CONFIG_SHA256 are not both set');
  });

  it('fails clearly when the file is missing from the package, keeping the file error as the cause', () => {
    deployWith(join(directory, 'absent.json'), 'ab');

    expect(() => deploymentConfigFromEnvironment()).toThrow(/^cannot read the deployment config .*absent\.json: ENOENT/);
  });

  it('fails clearly when the file is not JSON, keeping the parser error as the cause', () => {
    const { file, sha256 } = packaged('deployment: frontier-prod');
    deployWith(file, sha256);

    let caught: unknown;
    try {
      deploymentConfigFromEnvironment();
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(InvalidConfig);
    expect((caught as Error).message).toMatch(/^deployment config .*config\.json is not valid JSON: /);
    expect((caught as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('validates the file at first use like a YAML file, naming it', () => {
    const broken = structuredClone(exampleConfig()) as DeploymentConfig;
    broken.recoveryRegion = broken.primaryRegion;
    const { file, sha256 } = packaged(JSON.stringify(broken));
    deployWith(file, sha256);

    expect(() => deploymentConfigFromEnvironment()).toThrow(`deployment config ${file} is not a valid deployment config:\n  - recoveryRegion`);
  });
});

describe('packageDeploymentConfig', () => {
  it('serialises the validated config and names its sha256, which the loader pins', () => {
    const config = exampleConfig();
    const packaged = packageDeploymentConfig(config, 'config/example.yml');

    expect(JSON.parse(packaged.text)).toEqual(config);
    expect(packaged.sha256).toBe(createHash('sha256').update(packaged.text).digest('hex'));
    expect(packaged.bytes).toBe(Buffer.byteLength(packaged.text));
  });

  it('holds 100 databases, far below its size limit', () => {
    const packaged = packageDeploymentConfig(withManyDatabases(exampleConfig(), 100), 'large.yml');

    expect(packaged.bytes).toBeLessThan(MAX_PACKAGED_CONFIG_BYTES / 4);
  });

  it('stops packaging with a clear error past the size limit', () => {
    const huge = withManyDatabases(exampleConfig(), 2000);

    expect(() => packageDeploymentConfig(huge, 'huge.yml')).toThrow(InvalidConfig);
    expect(() => packageDeploymentConfig(huge, 'huge.yml')).toThrow(
      new RegExp(`^huge\\.yml is too large to package: the validated config is \\d+ bytes of JSON \\(2000 databases\\); the limit is ${MAX_PACKAGED_CONFIG_BYTES} bytes`),
    );
  });
});

describe('findDatabase and findObjective', () => {
  const config = exampleConfig();

  it('find what the config has', () => {
    expect(findDatabase(config, 'frontier-prod').snapshotPrefix).toBe('frontier-prod-');
    expect(findObjective(config, 'Database')).toEqual({ component: 'Database', rtoMinutes: 30, rpoMinutes: 15, priority: 'critical' });
  });

  it('fail with InvalidConfig naming what is missing', () => {
    expect(() => findDatabase(config, 'frontier-staging')).toThrow(
      new InvalidConfig('database frontier-staging is not protected by this deployment (known: frontier-prod)'),
    );
    expect(() => findObjective(config, 'Search')).toThrow('objectives has no row for component Search');
  });
});
