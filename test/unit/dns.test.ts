// shared/dns.ts against client mocks: the record diff (only what differs is changed), Route 53's
// batch limits, PriorRequestNotComplete repeated with backoff, GetChange's next-look timing, the
// routing-control endpoint fallback (and what must NOT fall back), a failback's read-back
// verification, and every fault on each call.
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  NoSuchChange,
  NoSuchHostedZone,
  Route53Client,
  Route53ServiceException,
  type Change,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import {
  AccessDeniedException,
  ConflictException,
  EndpointTemporarilyUnavailableException,
  GetRoutingControlStateCommand,
  Route53RecoveryClusterClient,
  ThrottlingException,
  UpdateRoutingControlStatesCommand,
  ValidationException,
} from '@aws-sdk/client-route53-recovery-cluster';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { ControlPlaneRecordConfig, DataPlaneRecordConfig } from '../../shared/config.js';
import {
  backupRecordSet,
  batchChanges,
  changeCost,
  CHANGE_RETRY_DELAYS_MS,
  checkTrafficChanges,
  dnsChangeLimitMinutes,
  findRecordSet,
  forgetAnsweringEndpoints,
  moveClientsToBackup,
  moveTraffic,
  normaliseDnsName,
  pointsAtSameTarget,
  restoreRecordedTraffic,
  sameRecordSet,
  type DnsClients,
  type RecordedDnsState,
} from '../../shared/dns.js';
import {
  AwsAccessDenied,
  AwsTransientError,
  DnsChangeTimedOut,
  DnsVerificationFailed,
  InvalidConfig,
  InvalidInput,
  ResourceNotFound,
  RoutingControlConflict,
} from '../../shared/errors.js';
import { exampleConfig, NOW } from '../support/fixtures.js';

const route53 = new Route53Client({ region: 'us-east-1', maxAttempts: 1 });
const route53Mock = mockClient(route53);

const ZONE = 'Z0FRONTIEREXAMPLE01';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-cluster-failover:alarm-1';
const PRIMARY = 'frontier-prod-ingress.us-west-2.elb.amazonaws.com.';
const BACKUP = 'frontier-backup-ingress.us-east-1.elb.amazonaws.com.';
const run = { executionId: EXECUTION, dryRun: false };
const west = { primaryRegion: 'us-west-2' };

const cname: ControlPlaneRecordConfig = {
  mode: 'control-plane',
  hostedZoneId: ZONE,
  recordName: 'API.Frontier.com',
  recordType: 'CNAME',
  ttlSeconds: 60,
  backupValues: ['frontier-backup-ingress.us-east-1.elb.amazonaws.com'],
  timeoutMinutes: 10,
};
const alias: ControlPlaneRecordConfig = {
  mode: 'control-plane',
  hostedZoneId: ZONE,
  recordName: 'api.frontier.com.',
  recordType: 'A',
  ttlSeconds: 60,
  backupAlias: { dnsName: 'frontier-backup-123.us-east-1.elb.amazonaws.com', hostedZoneId: 'Z35SXDOTRQ7X7K', evaluateTargetHealth: true },
  timeoutMinutes: 10,
};

const PANEL = 'arn:aws:route53-recovery-control::123456789012:controlpanel/0123456789abcdef';
const PRIMARY_CONTROL = `${PANEL}/routingcontrol/aaaa1111`;
const BACKUP_CONTROL = `${PANEL}/routingcontrol/bbbb2222`;
const ENDPOINTS = [
  { region: 'us-west-2', endpoint: 'https://host-aaaaaa.us-west-2.example.com/v1' },
  { region: 'us-east-1', endpoint: 'https://host-bbbbbb.us-east-1.example.com/v1' },
  { region: 'eu-west-1', endpoint: 'https://host-cccccc.eu-west-1.example.com/v1' },
];
const dataPlane: DataPlaneRecordConfig = {
  mode: 'data-plane',
  recordName: 'api.frontier.com',
  routingControls: { primary: PRIMARY_CONTROL, backup: BACKUP_CONTROL },
  clusterEndpoints: ENDPOINTS,
  timeoutMinutes: 10,
};

const record = (value: string, extra: Partial<ResourceRecordSet> = {}): ResourceRecordSet => ({ Name: 'api.frontier.com.', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: value }], ...extra });

// One routing-control client (and mock) per endpoint, as shared/clients.ts makes them.
const arcClients = new Map<string, Route53RecoveryClusterClient>();
const arcMocks = new Map<string, AwsStub<any, any, any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any
for (const { region, endpoint } of ENDPOINTS) {
  const client = new Route53RecoveryClusterClient({ region, endpoint, maxAttempts: 1 });
  arcClients.set(endpoint, client);
  arcMocks.set(endpoint, mockClient(client));
}
const arc = (i: number) => arcMocks.get(ENDPOINTS[i]!.endpoint)!;
const clients: DnsClients = {
  route53,
  routingControl: (endpoint, region) => {
    const client = arcClients.get(endpoint);
    if (!client || ENDPOINTS.find((e) => e.endpoint === endpoint)?.region !== region) throw new Error(`no client for ${region} ${endpoint}`);
    return client;
  },
};

/** The shared states of the routing controls behind every endpoint's mock that answers. */
let controls: Record<string, 'On' | 'Off'>;
function answerRoutingControls(i: number) {
  arc(i)
    .on(GetRoutingControlStateCommand)
    .callsFake((input: { RoutingControlArn: string }) => ({ RoutingControlArn: input.RoutingControlArn, RoutingControlState: controls[input.RoutingControlArn] }));
  arc(i)
    .on(UpdateRoutingControlStatesCommand)
    .callsFake((input: { UpdateRoutingControlStateEntries: { RoutingControlArn: string; RoutingControlState: 'On' | 'Off' }[] }) => {
      for (const e of input.UpdateRoutingControlStateEntries) controls[e.RoutingControlArn] = e.RoutingControlState;
      return {};
    });
}

/** A hosted zone behind the Route 53 mock: listing from a name and type, UPSERT and DELETE, changes PENDING until looked at `pendingLooks` times. */
function installZone(records: ResourceRecordSet[], pendingLooks = 1) {
  const key = (r: { Name?: string; Type?: string }) => `${(r.Name ?? '').split('.').reverse().join('.')} ${r.Type}`;
  let changeCount = 0;
  const looks = new Map<string, number>();
  route53Mock.on(ListResourceRecordSetsCommand).callsFake((input: { HostedZoneId: string; StartRecordName: string; StartRecordType: string; MaxItems: number }) => {
    if (input.HostedZoneId !== ZONE) throw new NoSuchHostedZone({ message: `No hosted zone found with ID: ${input.HostedZoneId}`, $metadata: { httpStatusCode: 404 } });
    const from = [...records].sort((a, b) => key(a).localeCompare(key(b))).filter((r) => key(r) >= key({ Name: input.StartRecordName, Type: input.StartRecordType }));
    return { ResourceRecordSets: structuredClone(from.slice(0, input.MaxItems)) };
  });
  route53Mock.on(ChangeResourceRecordSetsCommand).callsFake((input: { ChangeBatch: { Changes: Change[] } }) => {
    for (const change of input.ChangeBatch.Changes) {
      const set = change.ResourceRecordSet!;
      const at = records.findIndex((r) => r.Name === set.Name && r.Type === set.Type);
      if (change.Action === 'DELETE') {
        if (at < 0 || !sameRecordSet(records[at]!, set)) throw new Route53ServiceException({ name: 'InvalidChangeBatch', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Tried to delete resource record set but it was not found' });
        records.splice(at, 1);
      } else if (at >= 0) records[at] = structuredClone(set);
      else records.push(structuredClone(set));
    }
    changeCount += 1;
    return { ChangeInfo: { Id: `/change/C${changeCount}`, Status: 'PENDING', SubmittedAt: NOW } };
  });
  route53Mock.on(GetChangeCommand).callsFake((input: { Id: string }) => {
    const n = (looks.get(input.Id) ?? 0) + 1;
    looks.set(input.Id, n);
    return { ChangeInfo: { Id: input.Id, Status: n <= pendingLooks ? 'PENDING' : 'INSYNC', SubmittedAt: NOW } };
  });
  return records;
}

type Fault = [string, () => Error, new (...args: never[]) => Error];
const faults = (notFound: () => Error): Fault[] => [
  ['throttling', () => new Route53ServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }), AwsTransientError],
  ['a 5xx', () => new Route53ServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'internal failure' }), AwsTransientError],
  ['AccessDenied', () => new Route53ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'not authorized' }), AwsAccessDenied],
  ['not-found', notFound, ResourceNotFound],
];
const noZone = () => new NoSuchHostedZone({ message: `No hosted zone found with ID: ${ZONE}`, $metadata: { httpStatusCode: 404 } });
const priorRequest = () =>
  new Route53ServiceException({ name: 'PriorRequestNotComplete', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'The request was rejected because Route 53 was still processing a prior request.' });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure, got a result');
    },
    (error: unknown) => error as Error,
  );
}

/** Records the waits instead of waiting. */
function sleeps() {
  const waited: number[] = [];
  return { waited, sleep: async (ms: number) => void waited.push(ms) };
}

beforeEach(() => {
  forgetAnsweringEndpoints();
  route53Mock.reset();
  for (const mock of arcMocks.values()) mock.reset();
  controls = { [PRIMARY_CONTROL]: 'On', [BACKUP_CONTROL]: 'Off' };
});

describe('record sets', () => {
  it.each([
    ['api.frontier.com', 'api.frontier.com.'],
    ['API.Frontier.COM.', 'api.frontier.com.'],
    [' api.frontier.com ', 'api.frontier.com.'],
  ])('normaliseDnsName %s -> %s', (given, expected) => {
    expect(normaliseDnsName(given)).toBe(expected);
  });

  it('builds the CNAME record as Route 53 stores it, and an alias without a TTL', () => {
    expect(backupRecordSet(cname)).toEqual({ Name: 'api.frontier.com.', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: BACKUP }] });
    expect(backupRecordSet(alias)).toEqual({
      Name: 'api.frontier.com.',
      Type: 'A',
      AliasTarget: { DNSName: 'frontier-backup-123.us-east-1.elb.amazonaws.com.', HostedZoneId: 'Z35SXDOTRQ7X7K', EvaluateTargetHealth: true },
    });
  });

  it('diffs by target: values in any case, order or final dot, TTL aside', () => {
    const wanted = { Name: 'x.', Type: 'A' as const, ResourceRecords: [{ Value: '192.0.2.1' }, { Value: '192.0.2.2' }] };
    expect(pointsAtSameTarget({ ...wanted, TTL: 300, ResourceRecords: [{ Value: '192.0.2.2' }, { Value: '192.0.2.1' }] }, wanted)).toBe(true);
    expect(pointsAtSameTarget(record(BACKUP.toUpperCase().slice(0, -1), { TTL: 300 }), backupRecordSet(cname))).toBe(true);
    expect(pointsAtSameTarget(record(PRIMARY), backupRecordSet(cname))).toBe(false);
    expect(pointsAtSameTarget(null, backupRecordSet(cname))).toBe(false);
    const stored: ResourceRecordSet = { ...backupRecordSet(alias), AliasTarget: { ...backupRecordSet(alias).AliasTarget!, DNSName: 'dualstack.frontier-backup-123.us-east-1.elb.amazonaws.com.' } };
    expect(pointsAtSameTarget(stored, backupRecordSet(alias))).toBe(true);
    expect(pointsAtSameTarget({ ...stored, AliasTarget: { ...stored.AliasTarget!, HostedZoneId: 'ZOTHER' } }, backupRecordSet(alias))).toBe(false);
  });

  it('compares for a failback in everything it restores: TTL and EvaluateTargetHealth too', () => {
    expect(sameRecordSet(record(PRIMARY), record(PRIMARY.toUpperCase()))).toBe(true);
    expect(sameRecordSet(record(PRIMARY), record(PRIMARY, { TTL: 300 }))).toBe(false);
    expect(sameRecordSet(null, null)).toBe(true);
    expect(sameRecordSet(null, record(PRIMARY))).toBe(false);
    const a = backupRecordSet(alias);
    expect(sameRecordSet(a, { ...a, AliasTarget: { ...a.AliasTarget!, EvaluateTargetHealth: false } })).toBe(false);
  });
});

describe('findRecordSet', () => {
  it('asks for the record by name and type, one item, and returns it; null when the listing starts elsewhere', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolvesOnce({ ResourceRecordSets: [record(PRIMARY)] }).resolvesOnce({ ResourceRecordSets: [record('v=spf1 -all', { Type: 'TXT' })] });

    await expect(findRecordSet(route53, ZONE, 'API.frontier.com', 'CNAME')).resolves.toEqual(record(PRIMARY));
    await expect(findRecordSet(route53, ZONE, 'api.frontier.com', 'CNAME')).resolves.toBeNull();
    expect(route53Mock).toHaveReceivedCommandWith(ListResourceRecordSetsCommand, { HostedZoneId: ZONE, StartRecordName: 'api.frontier.com.', StartRecordType: 'CNAME', MaxItems: 1 });
  });

  it('refuses a record with a routing policy in control-plane mode, pointing at data-plane mode', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [record(PRIMARY, { SetIdentifier: 'primary', Failover: 'PRIMARY' })] });

    const error = await rejection(findRecordSet(route53, ZONE, 'api.frontier.com', 'CNAME'));

    expect(error).toBeInstanceOf(InvalidConfig);
    expect(error.message).toContain('has routing-policy records (set identifier primary): control-plane mode moves a simple record only');
    expect(error.message).toContain('mode data-plane');
  });

  it.each(faults(noZone))('fails with %s, naming the call, the record and the zone', async (_label, make, expected) => {
    route53Mock.on(ListResourceRecordSetsCommand).rejects(make());

    const error = await rejection(findRecordSet(route53, ZONE, 'api.frontier.com', 'CNAME'));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain(`route53:ListResourceRecordSets on api.frontier.com. CNAME in ${ZONE}`);
  });
});

describe('batchChanges (Route 53: 1,000 record elements and 32,000 characters per request, UPSERT counting twice)', () => {
  const upsert = (name: string, values: string[]): Change => ({ Action: 'UPSERT', ResourceRecordSet: { Name: name, Type: 'A', TTL: 60, ResourceRecords: values.map((Value) => ({ Value })) } });
  const addresses = (n: number) => Array.from({ length: n }, (_, i) => `10.0.${Math.floor(i / 250)}.${i % 250}`);

  it('counts an UPSERT twice, values and characters', () => {
    expect(changeCost(upsert('a.', ['192.0.2.1', '192.0.2.22']))).toEqual({ records: 4, characters: 38 });
    expect(changeCost({ Action: 'DELETE', ResourceRecordSet: { Name: 'a.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] } })).toEqual({ records: 1, characters: 9 });
  });

  it('splits by record elements, keeping the order', () => {
    // 300 values each: 600 elements per UPSERT, so one per request.
    const changes = ['a.', 'b.', 'c.'].map((n) => upsert(n, addresses(300)));
    expect(batchChanges(changes).map((b) => b.map((c) => c.ResourceRecordSet!.Name))).toEqual([['a.'], ['b.'], ['c.']]);
    // 200 values each: two fit in 1,000 (800), a third does not.
    const smaller = ['a.', 'b.', 'c.'].map((n) => upsert(n, addresses(200)));
    expect(batchChanges(smaller).map((b) => b.length)).toEqual([2, 1]);
  });

  it('splits by characters', () => {
    const long = (n: string) => upsert(n, [`"${'v'.repeat(250)}"`]);
    const changes = Array.from({ length: 70 }, (_, i) => long(`r${i}.`)); // 504 characters each: 63 per request
    expect(batchChanges(changes).map((b) => b.length)).toEqual([63, 7]);
  });

  it('refuses one change no request could carry, naming the record', () => {
    expect(() => batchChanges([upsert('huge.frontier.com', addresses(501))])).toThrow(InvalidConfig);
    expect(() => batchChanges([upsert('huge.frontier.com', addresses(501))])).toThrow(/huge\.frontier\.com\. A: its UPSERT counts 1002 record elements/);
  });
});

describe('moveTraffic in control-plane mode', () => {
  it('UPSERTs only the records that differ, and records every record as it was, in config order', async () => {
    const www: ControlPlaneRecordConfig = { ...cname, recordName: 'www.frontier.com', backupValues: ['frontier-backup-ingress.us-east-1.elb.amazonaws.com'] };
    installZone([record(PRIMARY), record(BACKUP, { Name: 'www.frontier.com.' })]);

    const result = await moveTraffic(clients, [cname, www], run, west, NOW);

    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      {
        HostedZoneId: ZONE,
        ChangeBatch: { Comment: `frontier-dr traffic move ${EXECUTION}`, Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'api.frontier.com.', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: BACKUP }] } }] },
      },
    ]);
    expect(result.data).toEqual({
      waitForChange: true,
      changes: [{ changeId: '/change/C1', submittedAt: NOW.toISOString() }],
      recorded: [
        { mode: 'control-plane', record: 'api.frontier.com. CNAME', hostedZoneId: ZONE, recordSet: record(PRIMARY) },
        { mode: 'control-plane', record: 'www.frontier.com. CNAME', hostedZoneId: ZONE, recordSet: record(BACKUP, { Name: 'www.frontier.com.' }) },
      ],
      modes: ['control-plane', 'control-plane'],
      warnings: [],
    });
    expect(result.resources).toEqual([{ kind: 'route53:record', id: `${ZONE}/api.frontier.com. CNAME`, region: 'global', kept: true, note: `before the failover: ${PRIMARY}; set it back to fail back` }]);
    expect(result.detail).toContain(`api.frontier.com. CNAME moved from ${PRIMARY} to the backup (${BACKUP}, control-plane mode); Route 53 change /change/C1`);
    expect(result.detail).toContain('www.frontier.com. CNAME already points at the backup');
    expect(JSON.parse(JSON.stringify(result.data))).toEqual(result.data);
  });

  it('creates a record that does not exist yet, recording "none" for the failback', async () => {
    installZone([]);

    const result = await moveTraffic(clients, [alias], run, west, NOW);

    expect(result.data.recorded).toEqual([{ mode: 'control-plane', record: 'api.frontier.com. A', hostedZoneId: ZONE, recordSet: null }]);
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input.ChangeBatch?.Changes?.[0]?.ResourceRecordSet).toEqual(backupRecordSet(alias));
  });

  it('changes nothing and waits for nothing when every record already points at the backup', async () => {
    installZone([record(BACKUP)]);

    const result = await moveTraffic(clients, [cname], run, west, NOW);

    expect(route53Mock).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(result.data).toMatchObject({ waitForChange: false, changes: [] });
    expect(result.resources).toBeUndefined();
  });

  it('in a dry run reads the records and records the exact request it would make', async () => {
    installZone([record(PRIMARY)]);

    const result = await moveTraffic(clients, [cname], { ...run, dryRun: true }, west, NOW);

    expect(route53Mock).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(result.data.waitForChange).toBe(false);
    expect(result.actions).toEqual([expect.objectContaining({ operation: 'ChangeResourceRecordSets', performed: false, parameters: { HostedZoneId: ZONE, ChangeBatch: expect.objectContaining({ Changes: [expect.objectContaining({ Action: 'UPSERT' })] }) } })]);
    expect(result.detail).toBe(`dry run: api.frontier.com. CNAME now resolves to ${PRIMARY}`);
  });

  it('sends as many requests as the batch limits need, one change to wait for each', async () => {
    const many = Array.from({ length: 3 }, (_, i): ControlPlaneRecordConfig => ({ ...alias, recordName: `r${i}.frontier.com`, backupAlias: undefined, backupValues: Array.from({ length: 300 }, (_, j) => `10.${i}.${Math.floor(j / 250)}.${j % 250}`) }));
    installZone([]);

    const result = await moveTraffic(clients, many, run, west, NOW);

    expect(route53Mock).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 3);
    expect(result.data.changes.map((c) => c.changeId)).toEqual(['/change/C1', '/change/C2', '/change/C3']);
  });

  it('repeats a change Route 53 refuses with PriorRequestNotComplete after 0.5 s, then 1 s, and moves the record once', async () => {
    const records = installZone([record(PRIMARY)]);
    route53Mock.on(ChangeResourceRecordSetsCommand).rejectsOnce(priorRequest()).rejectsOnce(priorRequest()).callsFake(() => {
      records[0] = backupRecordSet(cname);
      return { ChangeInfo: { Id: '/change/C9', Status: 'PENDING', SubmittedAt: NOW } };
    });
    const { waited, sleep } = sleeps();

    const result = await moveTraffic(clients, [cname], run, west, NOW, { sleep });

    expect(route53Mock).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 3);
    expect(waited).toEqual([500, 1_000]);
    expect(result.data.changes).toEqual([{ changeId: '/change/C9', submittedAt: NOW.toISOString() }]);
  });

  it('gives up after its repeats with AwsTransientError (the ASL Retry takes over), having waited 7.5 s in all', async () => {
    installZone([record(PRIMARY)]);
    route53Mock.on(ChangeResourceRecordSetsCommand).rejects(priorRequest());
    const { waited, sleep } = sleeps();

    const error = await rejection(moveTraffic(clients, [cname], run, west, NOW, { sleep }));

    expect(error).toBeInstanceOf(AwsTransientError);
    expect(error.message).toContain('(PriorRequestNotComplete)');
    expect(waited).toEqual([...CHANGE_RETRY_DELAYS_MS]);
    expect(route53Mock).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, CHANGE_RETRY_DELAYS_MS.length + 1);
  });

  it.each(faults(noZone).filter(([label]) => label !== 'throttling'))('fails with %s on ChangeResourceRecordSets, naming the call, without repeating', async (_label, make, expected) => {
    installZone([record(PRIMARY)]);
    route53Mock.on(ChangeResourceRecordSetsCommand).rejects(make());
    const { waited, sleep } = sleeps();

    const error = await rejection(moveTraffic(clients, [cname], run, west, NOW, { sleep }));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain(`route53:ChangeResourceRecordSets on api.frontier.com. CNAME in ${ZONE}`);
    expect(waited).toEqual([]);
  });

  it('refuses a record over the batch limits before moving anything, data-plane records included', async () => {
    const huge: ControlPlaneRecordConfig = { ...alias, recordName: 'huge.frontier.com', backupAlias: undefined, backupValues: Array.from({ length: 501 }, (_, j) => `10.0.${Math.floor(j / 250)}.${j % 250}`) };
    installZone([]);
    answerRoutingControls(0);

    await expect(moveTraffic(clients, [dataPlane, huge], run, west, NOW)).rejects.toThrow(InvalidConfig);

    expect(arc(0)).not.toHaveReceivedCommand(UpdateRoutingControlStatesCommand);
    expect(route53Mock).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
  });

  it('warns, in the data and the detail, when control-plane mode moves a record away from us-east-1', async () => {
    installZone([record(PRIMARY)]);
    answerRoutingControls(0);

    const result = await moveTraffic(clients, [cname, dataPlane], run, { primaryRegion: 'us-east-1' }, NOW);

    expect(result.data.warnings).toEqual([expect.stringContaining("control-plane mode for api.frontier.com. CNAME while the protected region is us-east-1, where Route 53's control plane")]);
    expect(result.detail).toContain('warning: control-plane mode for api.frontier.com. CNAME');
  });

  it('does not warn for data-plane mode in us-east-1', async () => {
    answerRoutingControls(0);

    const result = await moveTraffic(clients, [dataPlane], run, { primaryRegion: 'us-east-1' }, NOW);

    expect(result.data.warnings).toEqual([]);
  });
});

describe('moveTraffic in data-plane mode', () => {
  it('reads both controls, turns backup On and primary Off in ONE request, reads them back, and records the old states', async () => {
    answerRoutingControls(0);

    const result = await moveTraffic(clients, [dataPlane], run, west, NOW);

    expect(arc(0).commandCalls(UpdateRoutingControlStatesCommand).map((c) => c.args[0].input)).toEqual([
      {
        UpdateRoutingControlStateEntries: [
          { RoutingControlArn: BACKUP_CONTROL, RoutingControlState: 'On' },
          { RoutingControlArn: PRIMARY_CONTROL, RoutingControlState: 'Off' },
        ],
      },
    ]);
    expect(controls).toEqual({ [PRIMARY_CONTROL]: 'Off', [BACKUP_CONTROL]: 'On' });
    // Two reads before, two reads back after.
    expect(arc(0)).toHaveReceivedCommandTimes(GetRoutingControlStateCommand, 4);
    expect(result.data).toEqual({
      waitForChange: false,
      changes: [],
      recorded: [
        {
          mode: 'data-plane',
          record: 'api.frontier.com.',
          routingControls: [
            { arn: PRIMARY_CONTROL, state: 'On' },
            { arn: BACKUP_CONTROL, state: 'Off' },
          ],
          clusterEndpoints: ENDPOINTS,
        },
      ],
      modes: ['data-plane'],
      warnings: [],
    });
    expect(result.resources).toEqual([
      { kind: 'route53-arc:routing-control', id: BACKUP_CONTROL, region: 'global', kept: true, note: 'api.frontier.com.: before the failover: Off; set it back to fail back' },
      { kind: 'route53-arc:routing-control', id: PRIMARY_CONTROL, region: 'global', kept: true, note: 'api.frontier.com.: before the failover: On; set it back to fail back' },
    ]);
    expect(route53Mock.calls()).toEqual([]);
  });

  it('changes only the control that differs', async () => {
    controls[BACKUP_CONTROL] = 'On';
    answerRoutingControls(0);

    await moveTraffic(clients, [dataPlane], run, west, NOW);

    expect(arc(0).commandCalls(UpdateRoutingControlStatesCommand)[0]!.args[0].input).toEqual({ UpdateRoutingControlStateEntries: [{ RoutingControlArn: PRIMARY_CONTROL, RoutingControlState: 'Off' }] });
  });

  it('changes nothing when the backup is already On and the primary Off', async () => {
    controls = { [PRIMARY_CONTROL]: 'Off', [BACKUP_CONTROL]: 'On' };
    answerRoutingControls(0);

    const result = await moveTraffic(clients, [dataPlane], run, west, NOW);

    expect(arc(0)).not.toHaveReceivedCommand(UpdateRoutingControlStatesCommand);
    expect(result.detail).toContain('already routed to the backup');
  });

  it.each([
    ['a 503 (EndpointTemporarilyUnavailableException)', () => new EndpointTemporarilyUnavailableException({ message: "The cluster endpoint isn't available. Try another cluster endpoint.", $metadata: { httpStatusCode: 503 } })],
    ['throttling (429)', () => new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } })],
    ['a refused connection', () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { name: 'Error', code: 'ECONNREFUSED', $metadata: {} })],
    ['a timeout', () => Object.assign(new Error('no answer from https://host-aaaaaa.us-west-2.example.com in time'), { name: 'EndpointTimeout' })],
  ])('tries the next endpoint after %s, and names the one passed over', async (_label, make) => {
    arc(0).onAnyCommand().rejects(make());
    answerRoutingControls(1);

    const result = await moveTraffic(clients, [dataPlane], run, west, NOW);

    expect(arc(1)).toHaveReceivedCommandTimes(UpdateRoutingControlStatesCommand, 1);
    expect(controls).toEqual({ [PRIMARY_CONTROL]: 'Off', [BACKUP_CONTROL]: 'On' });
    // Once us-east-1 answered, the step's next calls (second read, update, two read-backs) went there first.
    expect(arc(0).calls()).toHaveLength(1);
    expect(arc(1).calls()).toHaveLength(5);
    expect(result.actions?.[0]?.parameters).toMatchObject({ endpoint: `us-east-1 ${ENDPOINTS[1]!.endpoint}` });
    expect(result.detail).toContain(`ARC endpoints that failed and were passed over: us-west-2 ${ENDPOINTS[0]!.endpoint}`);
    expect(arc(2).calls()).toEqual([]);
  });

  it('fails with AwsTransientError naming every endpoint when none answers, having changed nothing', async () => {
    for (let i = 0; i < ENDPOINTS.length; i++) arc(i).onAnyCommand().rejects(new EndpointTemporarilyUnavailableException({ message: 'unavailable', $metadata: { httpStatusCode: 503 } }));

    const error = await rejection(moveTraffic(clients, [dataPlane], run, west, NOW));

    expect(error).toBeInstanceOf(AwsTransientError);
    expect(error.message).toContain(`route53-recovery-cluster:GetRoutingControlState on ${PRIMARY_CONTROL}: no endpoint of the ARC cluster answered`);
    for (const e of ENDPOINTS) expect(error.message).toContain(`${e.region} ${e.endpoint} (EndpointTemporarilyUnavailableException`);
  });

  it.each([
    ['ValidationException', () => new ValidationException({ message: 'RoutingControlArn is not valid', $metadata: { httpStatusCode: 400 } }), 'RecoveryError'],
    ['AccessDeniedException', () => new AccessDeniedException({ message: 'not authorized', $metadata: { httpStatusCode: 403 } }), 'AwsAccessDenied'],
  ])('does not try another endpoint for %s: every endpoint would say the same', async (_label, make, name) => {
    arc(0).onAnyCommand().rejects(make());
    answerRoutingControls(1);

    const error = await rejection(moveTraffic(clients, [dataPlane], run, west, NOW));

    expect(error.name).toBe(name);
    expect(error.message).toContain(`route53-recovery-cluster:GetRoutingControlState on ${PRIMARY_CONTROL} (endpoint us-west-2`);
    expect(arc(1).calls()).toEqual([]);
  });

  it('reports a safety rule that refuses the change (ConflictException) as RoutingControlConflict, without retrying', async () => {
    answerRoutingControls(0);
    arc(0)
      .on(UpdateRoutingControlStatesCommand)
      .rejects(new ConflictException({ message: 'safety rule at-least-one-on would be violated', resourceId: `${PANEL}/safetyrule/cccc3333`, resourceType: 'SafetyRule', $metadata: { httpStatusCode: 409 } }));
    answerRoutingControls(1);

    const error = await rejection(moveTraffic(clients, [dataPlane], run, west, NOW));

    expect(error).toBeInstanceOf(RoutingControlConflict);
    expect(error.name).toBe('RoutingControlConflict');
    expect(error.message).toContain('was refused by ARC (ConflictException: safety rule at-least-one-on would be violated): a safety rule of the control panel');
    expect(arc(1)).not.toHaveReceivedCommand(UpdateRoutingControlStatesCommand);
    expect(controls).toEqual({ [PRIMARY_CONTROL]: 'On', [BACKUP_CONTROL]: 'Off' });
  });

  it('fails with DnsVerificationFailed when a control reads back otherwise', async () => {
    answerRoutingControls(0);
    arc(0).on(UpdateRoutingControlStatesCommand).resolves({});

    const error = await rejection(moveTraffic(clients, [dataPlane], run, west, NOW));

    expect(error).toBeInstanceOf(DnsVerificationFailed);
    expect(error.message).toContain(`${BACKUP_CONTROL} is Off, expected On`);
  });

  it('in a dry run only reads', async () => {
    answerRoutingControls(0);

    const result = await moveTraffic(clients, [dataPlane], { ...run, dryRun: true }, west, NOW);

    expect(arc(0)).not.toHaveReceivedCommand(UpdateRoutingControlStatesCommand);
    expect(result.actions).toEqual([expect.objectContaining({ operation: 'UpdateRoutingControlStates', performed: false })]);
  });
});

describe('restoreRecordedTraffic', () => {
  const recordedCname: RecordedDnsState = { mode: 'control-plane', record: 'api.frontier.com. CNAME', hostedZoneId: ZONE, recordSet: record(PRIMARY, { TTL: 300 }) };

  it('sets exactly the recorded record set again (its TTL too) and verifies it', async () => {
    const records = installZone([record(BACKUP)]);

    const result = await restoreRecordedTraffic(clients, [recordedCname], run, NOW);

    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch)).toEqual([
      { Comment: `frontier-dr failback ${EXECUTION}`, Changes: [{ Action: 'UPSERT', ResourceRecordSet: record(PRIMARY, { TTL: 300 }) }] },
    ]);
    expect(records).toEqual([record(PRIMARY, { TTL: 300 })]);
    expect(result.data).toMatchObject({ waitForChange: true, changes: [{ changeId: '/change/C1' }], recorded: [{ ...recordedCname, recordSet: record(BACKUP) }] });
    expect(result.detail).toContain('verified: every record and routing control reads back as recorded');
  });

  it('restores a record whose values are right but whose TTL is not', async () => {
    installZone([record(PRIMARY)]);

    await restoreRecordedTraffic(clients, [recordedCname], run, NOW);

    expect(route53Mock).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
  });

  it('deletes a record that did not exist before the failover, naming it exactly as it is now', async () => {
    const records = installZone([record(BACKUP, { Type: 'CNAME' })]);

    const result = await restoreRecordedTraffic(clients, [{ ...recordedCname, recordSet: null }], run, NOW);

    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input.ChangeBatch?.Changes).toEqual([{ Action: 'DELETE', ResourceRecordSet: record(BACKUP) }]);
    expect(records).toEqual([]);
    expect(result.detail).toContain('deleted (it did not exist before the failover)');
  });

  it('changes nothing when the record already holds the recorded state', async () => {
    installZone([record(PRIMARY, { TTL: 300 })]);

    const result = await restoreRecordedTraffic(clients, [recordedCname], run, NOW);

    expect(route53Mock).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(result.data.waitForChange).toBe(false);
  });

  it('fails with DnsVerificationFailed, naming what it found and what was recorded, when the read-back differs', async () => {
    installZone([record(BACKUP)]);
    // Another change wins the race: Route 53 accepts ours, but the record reads back otherwise.
    route53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: NOW } });

    const error = await rejection(restoreRecordedTraffic(clients, [recordedCname], run, NOW));

    expect(error).toBeInstanceOf(DnsVerificationFailed);
    expect(error.message).toBe(`DNS read back after the failback differs from the recorded state: api.frontier.com. CNAME in ${ZONE} is ${BACKUP} (TTL 60), recorded ${PRIMARY} (TTL 300)`);
  });

  it('sets routing controls back in one request and verifies them', async () => {
    controls = { [PRIMARY_CONTROL]: 'Off', [BACKUP_CONTROL]: 'On' };
    answerRoutingControls(0);
    const recorded: RecordedDnsState = { mode: 'data-plane', record: 'api.frontier.com.', routingControls: [{ arn: PRIMARY_CONTROL, state: 'On' }, { arn: BACKUP_CONTROL, state: 'Off' }], clusterEndpoints: ENDPOINTS };

    await restoreRecordedTraffic(clients, [recorded], run, NOW);

    expect(arc(0).commandCalls(UpdateRoutingControlStatesCommand).map((c) => c.args[0].input)).toEqual([
      { UpdateRoutingControlStateEntries: [{ RoutingControlArn: PRIMARY_CONTROL, RoutingControlState: 'On' }, { RoutingControlArn: BACKUP_CONTROL, RoutingControlState: 'Off' }] },
    ]);
    expect(controls).toEqual({ [PRIMARY_CONTROL]: 'On', [BACKUP_CONTROL]: 'Off' });
  });

  it('fails with DnsVerificationFailed when a routing control reads back otherwise', async () => {
    controls = { [PRIMARY_CONTROL]: 'Off', [BACKUP_CONTROL]: 'On' };
    answerRoutingControls(0);
    arc(0).on(UpdateRoutingControlStatesCommand).resolves({});
    const recorded: RecordedDnsState = { mode: 'data-plane', record: 'api.frontier.com.', routingControls: [{ arn: PRIMARY_CONTROL, state: 'On' }, { arn: BACKUP_CONTROL, state: 'Off' }], clusterEndpoints: ENDPOINTS };

    const error = await rejection(restoreRecordedTraffic(clients, [recorded], run, NOW));

    expect(error).toBeInstanceOf(DnsVerificationFailed);
    expect(error.message).toContain(`routing control ${PRIMARY_CONTROL} is Off, recorded On`);
  });

  it.each([
    ['no list', undefined, 'recorded: got undefined'],
    ['an unknown mode', [{ ...recordedCname, mode: 'dns' }], 'recorded[0].mode: got "dns"; expected "control-plane" or "data-plane"'],
    ['a zone id that is an ARN', [{ ...recordedCname, hostedZoneId: 'arn:aws:route53:::hostedzone/Z1' }], 'recorded[0].hostedZoneId: got "arn:aws:route53:::hostedzone/Z1"'],
    ['a record set of another name', [{ ...recordedCname, recordSet: record(PRIMARY, { Name: 'www.frontier.com.' }) }], 'recorded[0].recordSet:'],
    ['a routing control state that is neither On nor Off', [{ mode: 'data-plane', record: 'api.frontier.com.', routingControls: [{ arn: PRIMARY_CONTROL, state: 'ON' }], clusterEndpoints: ENDPOINTS }], 'recorded[0].routingControls:'],
    ['no cluster endpoints', [{ mode: 'data-plane', record: 'api.frontier.com.', routingControls: [{ arn: PRIMARY_CONTROL, state: 'On' }] }], 'recorded[0].clusterEndpoints: got nothing'],
  ])('refuses %s before any call (InvalidInput naming the field)', async (_label, recorded, expected) => {
    const error = await rejection(restoreRecordedTraffic(clients, recorded as RecordedDnsState[], run, NOW));

    expect(error).toBeInstanceOf(InvalidInput);
    expect(error.message).toContain(expected);
    expect(route53Mock.calls()).toEqual([]);
    expect(arc(0).calls()).toEqual([]);
  });
});

describe('checkTrafficChanges', () => {
  const submitted = (secondsAgo: number) => new Date(NOW.getTime() - secondsAgo * 1000).toISOString();
  const look = (secondsAgo: number, timeoutMinutes = 10) => checkTrafficChanges(clients, [{ changeId: '/change/C1', submittedAt: submitted(secondsAgo) }], timeoutMinutes, NOW);

  it('says INSYNC once Route 53 applied the change everywhere, with nothing more to wait for', async () => {
    route53Mock.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: NOW } });

    const result = await look(90);

    expect(result.data).toEqual({ insync: true, nextCheckSeconds: 0, changes: [{ changeId: '/change/C1', status: 'INSYNC' }], waitedMinutes: 1.5 });
    expect(result.detail).toBe('Route 53 change /change/C1 is INSYNC (after 1.5 min)');
    expect(route53Mock).toHaveReceivedCommandWith(GetChangeCommand, { Id: '/change/C1' });
  });

  it.each([
    [0, 10],
    [4, 10],
    [29.5, 10],
    [595, 5],
    [599.5, 1],
  ])('while PENDING %s s after submission, looks again in %s s (every 10 s from the start, never past the 10-min limit)', async (secondsAgo, next) => {
    route53Mock.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: NOW } });

    const result = await look(secondsAgo);

    expect(result.data).toMatchObject({ insync: false, nextCheckSeconds: next });
    expect(result.detail).toContain(`next look in ${next} s`);
  });

  it('waits for every change; the earliest pending one sets the clock', async () => {
    route53Mock.on(GetChangeCommand, { Id: '/change/C1' }).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: NOW } });
    route53Mock.on(GetChangeCommand, { Id: '/change/C2' }).resolves({ ChangeInfo: { Id: '/change/C2', Status: 'PENDING', SubmittedAt: NOW } });

    const result = await checkTrafficChanges(clients, [{ changeId: '/change/C1', submittedAt: submitted(50) }, { changeId: '/change/C2', submittedAt: submitted(10) }], 10, NOW);

    expect(result.data).toMatchObject({ insync: false, nextCheckSeconds: 10, waitedMinutes: 0.2, changes: [{ changeId: '/change/C1', status: 'INSYNC' }, { changeId: '/change/C2', status: 'PENDING' }] });
  });

  it('gives up with DnsChangeTimedOut past the limit', async () => {
    route53Mock.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: NOW } });

    const error = await rejection(look(11 * 60));

    expect(error).toBeInstanceOf(DnsChangeTimedOut);
    expect(error.message).toBe('Route 53 change /change/C1 is still PENDING after 11.0 min (limit 10 min): clients may still resolve the old address');
  });

  it.each([
    ['no changes', []],
    ['a change without an id', [{ submittedAt: NOW.toISOString() }]],
    ['a submission time that is not a time', [{ changeId: '/change/C1', submittedAt: 'yesterday' }]],
  ])('refuses %s before any call', async (_label, changes) => {
    await expect(checkTrafficChanges(clients, changes as never, 10, NOW)).rejects.toThrow(InvalidInput);
    expect(route53Mock.calls()).toEqual([]);
  });

  it.each([
    ...faults(() => new NoSuchChange({ message: 'A change with the specified change ID does not exist.', $metadata: { httpStatusCode: 404 } })),
  ])('fails with %s on GetChange, naming the call', async (_label, make, expected) => {
    route53Mock.on(GetChangeCommand).rejects(make());

    const error = await rejection(look(60));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain('route53:GetChange on /change/C1');
  });
});

describe('moveClientsToBackup (cluster failover)', () => {
  it('is skipped, telling on-call to move clients by hand, when the config names no record', async () => {
    const result = await moveClientsToBackup(clients, undefined, run, west, NOW);

    expect(result).toMatchObject({ status: 'skipped', data: { waitForChange: false, changes: [], recorded: [] } });
    expect(result.detail).toContain('move clients to the backup cluster by hand');
    expect(route53Mock.calls()).toHaveLength(0);
  });

  it('moves kubernetes.traffic in its mode', async () => {
    answerRoutingControls(0);

    const result = await moveClientsToBackup(clients, dataPlane, run, west, NOW);

    expect(result.data.modes).toEqual(['data-plane']);
    expect(controls[BACKUP_CONTROL]).toBe('On');
    expect(result.detail).toContain('api.frontier.com. moved to the backup cluster with ARC routing controls (data-plane mode; was primary On, backup Off) through us-west-2');
  });
});

describe('dnsChangeLimitMinutes (how long each scenario waits for its DNS changes)', () => {
  it("gives cluster failover kubernetes.traffic's limit, and region failover and its failback the longest of regionFailover.dns", () => {
    const config = exampleConfig();
    config.kubernetes!.traffic = { ...config.kubernetes!.traffic!, timeoutMinutes: 7 };
    const record = config.regionFailover!.dns[0]!;
    config.regionFailover!.dns = [{ ...record, timeoutMinutes: 4 }, { ...record, recordName: 'www.frontier.com', timeoutMinutes: 12 }];

    expect(dnsChangeLimitMinutes(config, 'cluster-failover')).toBe(7);
    expect(dnsChangeLimitMinutes(config, 'region-failover')).toBe(12);
    expect(dnsChangeLimitMinutes(config, 'region-failback')).toBe(12);
  });

  it('refuses a cluster failover whose config names no record: there is nothing to wait for', () => {
    const config = exampleConfig();
    delete config.kubernetes!.traffic;
    expect(() => dnsChangeLimitMinutes(config, 'cluster-failover')).toThrow(InvalidConfig);
  });
});
