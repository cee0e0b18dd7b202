// shared/dns.ts against a Route 53 client mock: finding the one simple record, moving it to the backup
// once (and not again), waiting for INSYNC, and every fault on each of the three calls.
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  NoSuchChange,
  NoSuchHostedZone,
  Route53Client,
  Route53ServiceException,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import type { TrafficConfig } from '../../shared/config.js';
import {
  backupRecordSet,
  checkDnsChange,
  checkTrafficMove,
  findRecordSet,
  moveClientsToBackup,
  moveTrafficToBackup,
  normaliseDnsName,
  pointsAtSameTarget,
} from '../../shared/dns.js';
import { AwsAccessDenied, AwsTransientError, DnsChangeTimedOut, InvalidConfig, ResourceNotFound } from '../../shared/errors.js';
import { minutesAgo, NOW } from '../support/fixtures.js';

const route53 = new Route53Client({ region: 'us-east-1', maxAttempts: 1 });
const route53Mock = mockClient(route53);

const ZONE = 'Z0FRONTIEREXAMPLE01';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-cluster-failover:alarm-1';
const PRIMARY = 'frontier-prod-ingress.us-west-2.elb.amazonaws.com.';
const BACKUP = 'frontier-backup-ingress.us-east-1.elb.amazonaws.com.';

const cname: TrafficConfig = {
  hostedZoneId: ZONE,
  recordName: 'API.Frontier.com',
  recordType: 'CNAME',
  ttlSeconds: 60,
  backupValues: ['frontier-backup-ingress.us-east-1.elb.amazonaws.com'],
  timeoutMinutes: 10,
};
const alias: TrafficConfig = {
  hostedZoneId: ZONE,
  recordName: 'api.frontier.com.',
  recordType: 'A',
  ttlSeconds: 60,
  backupAlias: { dnsName: 'frontier-backup-123.us-east-1.elb.amazonaws.com', hostedZoneId: 'Z35SXDOTRQ7X7K', evaluateTargetHealth: true },
  timeoutMinutes: 10,
};

const record = (value: string, extra: Partial<ResourceRecordSet> = {}): ResourceRecordSet => ({ Name: 'api.frontier.com.', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: value }], ...extra });

type Fault = [string, () => Error, new (...args: never[]) => Error];
const faults = (notFound: () => Error): Fault[] => [
  ['throttling', () => new Route53ServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }), AwsTransientError],
  [
    'PriorRequestNotComplete',
    () => new Route53ServiceException({ name: 'PriorRequestNotComplete', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'still processing a prior request' }),
    AwsTransientError,
  ],
  ['a 5xx', () => new Route53ServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'internal failure' }), AwsTransientError],
  ['AccessDenied', () => new Route53ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized' }), AwsAccessDenied],
  ['not-found', notFound, ResourceNotFound],
];
const noZone = () => new NoSuchHostedZone({ message: `No hosted zone found with ID: ${ZONE}`, $metadata: { httpStatusCode: 404 } });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure, got a result');
    },
    (error: unknown) => error as Error,
  );
}

beforeEach(() => {
  route53Mock.reset();
});

describe('normaliseDnsName', () => {
  it.each([
    ['api.frontier.com', 'api.frontier.com.'],
    ['API.Frontier.COM.', 'api.frontier.com.'],
    [' api.frontier.com ', 'api.frontier.com.'],
  ])('%s -> %s', (given, expected) => {
    expect(normaliseDnsName(given)).toBe(expected);
  });
});

describe('backupRecordSet and pointsAtSameTarget', () => {
  it('builds the CNAME record as Route 53 stores it', () => {
    expect(backupRecordSet(cname)).toEqual({ Name: 'api.frontier.com.', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: BACKUP }] });
  });

  it('builds an alias record without a TTL', () => {
    expect(backupRecordSet(alias)).toEqual({
      Name: 'api.frontier.com.',
      Type: 'A',
      AliasTarget: { DNSName: 'frontier-backup-123.us-east-1.elb.amazonaws.com.', HostedZoneId: 'Z35SXDOTRQ7X7K', EvaluateTargetHealth: true },
    });
  });

  it('compares values whatever their case, final dot, order or TTL', () => {
    const wanted = { Name: 'x.', Type: 'A' as const, ResourceRecords: [{ Value: '192.0.2.1' }, { Value: '192.0.2.2' }] };
    expect(pointsAtSameTarget({ ...wanted, TTL: 300, ResourceRecords: [{ Value: '192.0.2.2' }, { Value: '192.0.2.1' }] }, wanted)).toBe(true);
    expect(pointsAtSameTarget(record(BACKUP.toUpperCase().slice(0, -1), { TTL: 300 }), backupRecordSet(cname))).toBe(true);
    expect(pointsAtSameTarget(record(PRIMARY), backupRecordSet(cname))).toBe(false);
    expect(pointsAtSameTarget(null, backupRecordSet(cname))).toBe(false);
  });

  it('takes an alias stored with the dualstack. prefix as the same target, and a plain record as another', () => {
    const wanted = backupRecordSet(alias);
    const stored: ResourceRecordSet = { ...wanted, AliasTarget: { ...wanted.AliasTarget!, DNSName: 'dualstack.frontier-backup-123.us-east-1.elb.amazonaws.com.' } };
    expect(pointsAtSameTarget(stored, wanted)).toBe(true);
    expect(pointsAtSameTarget({ ...stored, AliasTarget: { ...stored.AliasTarget!, HostedZoneId: 'ZOTHER' } }, wanted)).toBe(false);
    expect(pointsAtSameTarget({ Name: 'api.frontier.com.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] }, wanted)).toBe(false);
  });
});

describe('findRecordSet', () => {
  it('asks for the record by name and type, one item, and returns it', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record(PRIMARY)] });

    await expect(findRecordSet(route53, ZONE, 'API.frontier.com', 'CNAME')).resolves.toEqual(record(PRIMARY));
    expect(route53Mock).toHaveReceivedCommandWith(ListResourceRecordSetsCommand, { HostedZoneId: ZONE, StartRecordName: 'api.frontier.com.', StartRecordType: 'CNAME', MaxItems: 1 });
  });

  it.each([
    ['the next name', record(PRIMARY, { Name: 'www.frontier.com.' })],
    ['another type of the same name', record('v=spf1 -all', { Type: 'TXT' })],
  ])('returns null when the listing starts at %s (the record does not exist)', async (_label, next) => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [next] });

    await expect(findRecordSet(route53, ZONE, 'api.frontier.com', 'CNAME')).resolves.toBeNull();
  });

  it('refuses a record with a routing policy: failover records move by health checks', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record(PRIMARY, { SetIdentifier: 'primary', Failover: 'PRIMARY' })] });

    const error = await rejection(findRecordSet(route53, ZONE, 'api.frontier.com', 'CNAME'));

    expect(error).toBeInstanceOf(InvalidConfig);
    expect(error.message).toContain('has routing-policy records (set identifier primary): kubernetes.traffic moves a simple record only');
  });

  it.each(faults(noZone))('fails with %s, naming the call, the record and the zone', async (_label, make, expected) => {
    route53Mock.on(ListResourceRecordSetsCommand).rejects(make());

    const error = await rejection(findRecordSet(route53, ZONE, 'api.frontier.com', 'CNAME'));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain(`route53:ListResourceRecordSets on api.frontier.com. CNAME in ${ZONE}`);
  });
});

describe('moveTrafficToBackup', () => {
  it('UPSERTs the backup record, naming the execution, and keeps the previous one for failback', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record(PRIMARY)] });
    route53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: minutesAgo(0) } });

    const move = await moveTrafficToBackup(route53, cname, EXECUTION, false, NOW);

    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      {
        HostedZoneId: ZONE,
        ChangeBatch: {
          Comment: `frontier-dr cluster failover ${EXECUTION}`,
          Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'api.frontier.com.', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: BACKUP }] } }],
        },
      },
    ]);
    expect(move).toMatchObject({ record: 'api.frontier.com. CNAME', previous: record(PRIMARY), changeId: '/change/C1', submittedAt: NOW.toISOString(), changed: true });
    expect(move.action).toMatchObject({ operation: 'ChangeResourceRecordSets', performed: true, description: `point api.frontier.com. CNAME in zone ${ZONE} at the backup cluster (${BACKUP})` });
  });

  it('creates the record when it does not exist yet (previous: none)', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [] });
    route53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C2', Status: 'PENDING', SubmittedAt: NOW } });

    const move = await moveTrafficToBackup(route53, alias, EXECUTION, false, NOW);

    expect(move).toMatchObject({ previous: null, changed: true, changeId: '/change/C2' });
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input.ChangeBatch?.Changes?.[0]?.ResourceRecordSet).toEqual(backupRecordSet(alias));
  });

  it('changes nothing when the record already points at the backup (a repeated step)', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record(BACKUP)] });

    const move = await moveTrafficToBackup(route53, cname, EXECUTION, false, NOW);

    expect(route53Mock).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(move).toMatchObject({ changed: false, changeId: null, action: { performed: false } });
  });

  it('in a dry run reads the record and records the exact change it would make', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record(PRIMARY)] });

    const move = await moveTrafficToBackup(route53, cname, EXECUTION, true, NOW);

    expect(route53Mock).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(move).toMatchObject({ changed: false, changeId: null, previous: record(PRIMARY) });
    expect(move.action.parameters).toEqual({ HostedZoneId: ZONE, ChangeBatch: expect.objectContaining({ Changes: [expect.objectContaining({ Action: 'UPSERT' })] }) });
  });

  it.each(faults(noZone))('fails with %s on ChangeResourceRecordSets, naming the call', async (_label, make, expected) => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record(PRIMARY)] });
    route53Mock.on(ChangeResourceRecordSetsCommand).rejects(make());

    const error = await rejection(moveTrafficToBackup(route53, cname, EXECUTION, false, NOW));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain(`route53:ChangeResourceRecordSets on api.frontier.com. CNAME in ${ZONE}`);
  });

  it('does not retry a change Route 53 refuses as invalid', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [] });
    route53Mock.on(ChangeResourceRecordSetsCommand).rejects(new Route53ServiceException({ name: 'InvalidChangeBatch', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'RRSet of type CNAME with DNS name api.frontier.com. is not permitted at apex' }));

    const error = await rejection(moveTrafficToBackup(route53, cname, EXECUTION, false, NOW));

    expect(error).not.toBeInstanceOf(AwsTransientError);
    expect(error.message).toContain('(InvalidChangeBatch)');
  });
});

describe('checkDnsChange', () => {
  const look = (submittedMinutesAgo: number) => checkDnsChange(route53, '/change/C1', minutesAgo(submittedMinutesAgo).toISOString(), 10, NOW);

  it('says INSYNC once Route 53 has applied the change everywhere', async () => {
    route53Mock.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: NOW } });

    await expect(look(1.5)).resolves.toEqual({ changeId: '/change/C1', status: 'INSYNC', insync: true, waitedMinutes: 1.5 });
    expect(route53Mock).toHaveReceivedCommandWith(GetChangeCommand, { Id: '/change/C1' });
  });

  it('says "not yet" while PENDING within the limit', async () => {
    route53Mock.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: NOW } });

    await expect(look(9)).resolves.toMatchObject({ status: 'PENDING', insync: false });
  });

  it('gives up with DnsChangeTimedOut past the limit', async () => {
    route53Mock.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: NOW } });

    const error = await rejection(look(11));

    expect(error).toBeInstanceOf(DnsChangeTimedOut);
    expect(error.name).toBe('DnsChangeTimedOut');
    expect(error.message).toBe('Route 53 change /change/C1 is still PENDING after 11.0 min (limit 10 min): clients may still resolve the old address');
  });

  it.each(faults(() => new NoSuchChange({ message: 'A change with the specified change ID does not exist.', $metadata: { httpStatusCode: 404 } })))(
    'fails with %s on GetChange, naming the call',
    async (_label, make, expected) => {
      route53Mock.on(GetChangeCommand).rejects(make());

      const error = await rejection(look(1));

      expect(error).toBeInstanceOf(expected);
      expect(error.message).toContain('route53:GetChange on /change/C1');
    },
  );
});

describe('moveClientsToBackup', () => {
  const run = { executionId: EXECUTION, dryRun: false };
  const primaryRecord: ResourceRecordSet = { Name: 'api.frontier.com.', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: PRIMARY }] };

  it('is skipped, telling on-call to move clients by hand, when the config names no record', async () => {
    const result = await moveClientsToBackup(route53, undefined, run, NOW);

    expect(result).toMatchObject({ status: 'skipped', data: { waitForChange: false, changeId: null, record: null } });
    expect(result.detail).toContain('move clients to the backup cluster by hand');
    expect(route53Mock.calls()).toHaveLength(0);
  });

  it('records the UPSERT in a dry run, changes nothing and waits for nothing', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [primaryRecord] });

    const result = await moveClientsToBackup(route53, cname, { ...run, dryRun: true }, NOW);

    expect(result.data.waitForChange).toBe(false);
    expect(result.actions).toEqual([expect.objectContaining({ operation: 'ChangeResourceRecordSets', performed: false })]);
    expect(result.resources).toBeUndefined();
    expect(result.detail).toBe(`dry run: api.frontier.com. CNAME now resolves to ${PRIMARY}`);
    expect(route53Mock).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
  });

  it('moves the record, keeps its previous value for failback, and asks the state machine to wait', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [primaryRecord] });
    route53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: NOW } });

    const result = await moveClientsToBackup(route53, cname, run, NOW);

    expect(result.data).toEqual({ waitForChange: true, changeId: '/change/C1', submittedAt: NOW.toISOString(), record: 'api.frontier.com. CNAME' });
    expect(result.actions?.map((a) => a.performed)).toEqual([true]);
    expect(result.resources).toEqual([{ kind: 'route53:record', id: `${ZONE}/api.frontier.com. CNAME`, region: 'global', kept: true, note: `before the failover: ${PRIMARY}; set it back to fail back` }]);
  });

  it('leaves a record that already points at the backup and waits for nothing', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [{ ...primaryRecord, ResourceRecords: [{ Value: BACKUP }] }] });

    const result = await moveClientsToBackup(route53, cname, run, NOW);

    expect(result.data.waitForChange).toBe(false);
    expect(result.detail).toContain('already points at the backup cluster');
    expect(route53Mock).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
  });

  it('fails the step, naming the call, when Route 53 denies the change', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [primaryRecord] });
    route53Mock.on(ChangeResourceRecordSetsCommand).rejects(new Route53ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'denied' }));

    await expect(moveClientsToBackup(route53, cname, run, NOW)).rejects.toThrow(AwsAccessDenied);
  });
});

describe('checkTrafficMove', () => {
  it('refuses to wait when the config names no record', async () => {
    await expect(checkTrafficMove(route53, undefined, { changeId: '/change/C1', submittedAt: NOW.toISOString() }, NOW)).rejects.toThrow(InvalidConfig);
    expect(route53Mock.calls()).toHaveLength(0);
  });

  it('reports the change status with the minutes waited', async () => {
    route53Mock.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: NOW } });

    const result = await checkTrafficMove(route53, cname, { changeId: '/change/C1', submittedAt: minutesAgo(2).toISOString() }, NOW);

    expect(result.data).toEqual({ changeId: '/change/C1', status: 'INSYNC', insync: true, waitedMinutes: 2 });
    expect(result.detail).toBe('Route 53 change /change/C1 is INSYNC (after 2 min)');
  });

  it('gives up past kubernetes.traffic.timeoutMinutes with DnsChangeTimedOut', async () => {
    route53Mock.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: NOW } });

    await expect(checkTrafficMove(route53, cname, { changeId: '/change/C1', submittedAt: minutesAgo(11).toISOString() }, NOW)).rejects.toThrow(DnsChangeTimedOut);
  });
});
