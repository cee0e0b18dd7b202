// shared/dns.ts over real HTTP: Route 53 in moto (control-plane mode) and the loopback ARC cluster
// (local/routing-control-server.ts: three regional endpoints sharing one set of routing-control
// states, data-plane mode), through the product's own clients (shared/clients.ts). A move records what
// each record held; a failback from that record (through JSON, as a report carries it) sets exactly
// that again. Endpoints that refuse connections, reset them or answer 503 are passed over; a safety
// rule that forbids the change is reported as such.
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import {
  GetRoutingControlStateCommand,
  ListRoutingControlsCommand,
  Route53RecoveryClusterClient,
  UpdateRoutingControlStateCommand,
  UpdateRoutingControlStatesCommand,
} from '@aws-sdk/client-route53-recovery-cluster';
import { dnsClients, forgetClients, routingControlClient } from '../../shared/clients.js';
import type { ControlPlaneRecordConfig, DataPlaneRecordConfig } from '../../shared/config.js';
import { checkTrafficChanges, forgetAnsweringEndpoints, moveTraffic, restoreRecordedTraffic, type RecordedDnsState } from '../../shared/dns.js';
import { AwsTransientError, ResourceNotFound, RoutingControlConflict } from '../../shared/errors.js';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { startRoutingControlCluster, type RoutingControlCluster } from '../../local/index.js';
import { acceptErrorsFromNodeRealm } from '../support/error-realm.js';

const PANEL = 'arn:aws:route53-recovery-control::123456789012:controlpanel/0123456789abcdef';
const PRIMARY_CONTROL = `${PANEL}/routingcontrol/aaaa1111`;
const BACKUP_CONTROL = `${PANEL}/routingcontrol/bbbb2222`;
const AT_LEAST_ONE_ON = `${PANEL}/safetyrule/cccc3333`;
const PRIMARY_INGRESS = 'frontier-prod-ingress.us-west-2.elb.amazonaws.com.';
const BACKUP_INGRESS = 'frontier-backup-ingress.us-east-1.elb.amazonaws.com.';
const run = { executionId: 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-region-failover:dns-test', dryRun: false };

let moto: MotoServer;
let arc: RoutingControlCluster;
let direct: Route53Client;
let zoneId: string;
let restoreErrorRealm: () => void = () => undefined;
const saved = { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL };

beforeAll(async () => {
  restoreErrorRealm = acceptErrorsFromNodeRealm();
  [moto, arc] = await Promise.all([
    startMoto(),
    startRoutingControlCluster({
      regions: ['us-west-2', 'us-east-1', 'eu-west-1'],
      controlPanelArn: PANEL,
      controls: [
        { arn: PRIMARY_CONTROL, name: 'frontier-us-west-2', state: 'On' },
        { arn: BACKUP_CONTROL, name: 'frontier-us-east-1', state: 'Off' },
      ],
      // The usual assertion rule: never both Off (clients would have nowhere to go).
      rules: [{ arn: AT_LEAST_ONE_ON, name: 'at-least-one-on', controls: [PRIMARY_CONTROL, BACKUP_CONTROL], atLeast: 1 }],
    }),
  ]);
  // The product's Route 53 client follows AWS_ENDPOINT_URL; the routing-control clients must not.
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  forgetClients();
  direct = new Route53Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const zone = await direct.send(new CreateHostedZoneCommand({ Name: 'frontier.com', CallerReference: `dns-test-${Date.now()}` }));
  zoneId = (zone.HostedZone?.Id ?? '').replace(/^\/hostedzone\//, '');
}, 60_000);

afterAll(async () => {
  direct?.destroy();
  if (saved.AWS_ENDPOINT_URL === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = saved.AWS_ENDPOINT_URL;
  forgetClients();
  await arc?.stop();
  await moto?.stop();
  restoreErrorRealm();
});

beforeEach(async () => {
  forgetAnsweringEndpoints();
  arc.setStates({ [PRIMARY_CONTROL]: 'On', [BACKUP_CONTROL]: 'Off' });
  for (const region of ['us-west-2', 'us-east-1', 'eu-west-1']) await arc.behave(region, 'ok');
});

const cnameRecord = (name: string, value: string, ttl: number): ResourceRecordSet => ({ Name: name, Type: 'CNAME', TTL: ttl, ResourceRecords: [{ Value: value }] });

async function upsert(record: ResourceRecordSet): Promise<void> {
  await direct.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: record }] } }));
}

/** The record as moto holds it (null: none). */
async function stored(name: string, type: string): Promise<ResourceRecordSet | null> {
  const answer = await direct.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: name, StartRecordType: type as 'CNAME', MaxItems: 1 }));
  const first = answer.ResourceRecordSets?.[0];
  return first && first.Name === name && first.Type === type ? first : null;
}

const controlPlane = (recordName: string, extra: Partial<ControlPlaneRecordConfig> = {}): ControlPlaneRecordConfig => ({
  mode: 'control-plane',
  hostedZoneId: zoneId,
  recordName,
  recordType: 'CNAME',
  ttlSeconds: 60,
  backupValues: [BACKUP_INGRESS],
  timeoutMinutes: 10,
  ...extra,
});
const dataPlane = (): DataPlaneRecordConfig => ({
  mode: 'data-plane',
  recordName: 'api.frontier.com',
  routingControls: { primary: PRIMARY_CONTROL, backup: BACKUP_CONTROL },
  clusterEndpoints: arc.endpoints,
  timeoutMinutes: 10,
});

/** What a failback reads: the recorded states as the published report JSON carries them. */
const throughReport = (recorded: RecordedDnsState[]): RecordedDnsState[] => JSON.parse(JSON.stringify(recorded)) as RecordedDnsState[];

describe('control-plane mode against moto Route 53', () => {
  it('moves only the records that differ, waits for INSYNC, and a failback sets exactly the recorded values again (a new record deleted)', async () => {
    await upsert(cnameRecord('api.frontier.com.', PRIMARY_INGRESS, 300));
    await upsert(cnameRecord('www.frontier.com.', BACKUP_INGRESS, 60));
    const records = [controlPlane('api.frontier.com'), controlPlane('www.frontier.com'), controlPlane('status.frontier.com')];

    const move = await moveTraffic(dnsClients(), records, run, { primaryRegion: 'us-west-2' }, new Date());

    expect(move.data.modes).toEqual(['control-plane', 'control-plane', 'control-plane']);
    expect(move.data.recorded.map((r) => (r.mode === 'control-plane' ? [r.record, r.recordSet?.ResourceRecords?.[0]?.Value ?? null, r.recordSet?.TTL ?? null] : null))).toEqual([
      ['api.frontier.com. CNAME', PRIMARY_INGRESS, 300],
      ['www.frontier.com. CNAME', BACKUP_INGRESS, 60],
      ['status.frontier.com. CNAME', null, null],
    ]);
    // api and status changed in one request (www already pointed at the backup).
    expect(move.data.changes).toHaveLength(1);
    expect(await stored('api.frontier.com.', 'CNAME')).toEqual(cnameRecord('api.frontier.com.', BACKUP_INGRESS, 60));
    expect(await stored('status.frontier.com.', 'CNAME')).toEqual(cnameRecord('status.frontier.com.', BACKUP_INGRESS, 60));
    const look = await checkTrafficChanges(dnsClients(), move.data.changes, 10, new Date());
    expect(look.data).toMatchObject({ insync: true, nextCheckSeconds: 0 });

    const failback = await restoreRecordedTraffic(dnsClients(), throughReport(move.data.recorded), { ...run, executionId: `${run.executionId}-failback` }, new Date());

    expect(await stored('api.frontier.com.', 'CNAME')).toEqual(cnameRecord('api.frontier.com.', PRIMARY_INGRESS, 300));
    expect(await stored('www.frontier.com.', 'CNAME')).toEqual(cnameRecord('www.frontier.com.', BACKUP_INGRESS, 60));
    expect(await stored('status.frontier.com.', 'CNAME')).toBeNull();
    expect(failback.detail).toContain('verified: every record and routing control reads back as recorded');
    expect(failback.data.recorded.map((r) => (r.mode === 'control-plane' ? r.recordSet?.ResourceRecords?.[0]?.Value ?? null : null))).toEqual([BACKUP_INGRESS, BACKUP_INGRESS, BACKUP_INGRESS]);

    // A second failback finds everything as recorded and changes nothing.
    const again = await restoreRecordedTraffic(dnsClients(), throughReport(move.data.recorded), run, new Date());
    expect(again.data.changes).toEqual([]);
  }, 30_000);

  it('refuses a failover record (routing policy) in control-plane mode, before changing anything', async () => {
    await direct.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { ...cnameRecord('app.frontier.com.', PRIMARY_INGRESS, 60), SetIdentifier: 'primary', Failover: 'PRIMARY' } }] },
      }),
    );
    await upsert(cnameRecord('docs.frontier.com.', PRIMARY_INGRESS, 60));

    await expect(moveTraffic(dnsClients(), [controlPlane('docs.frontier.com'), controlPlane('app.frontier.com')], run, { primaryRegion: 'us-west-2' }, new Date())).rejects.toThrow(
      /app\.frontier\.com\. CNAME .* has routing-policy records \(set identifier primary\)/,
    );
    expect(await stored('docs.frontier.com.', 'CNAME')).toEqual(cnameRecord('docs.frontier.com.', PRIMARY_INGRESS, 60));
  }, 30_000);
});

describe('data-plane mode against the loopback ARC cluster', () => {
  it('speaks the documented API: ListRoutingControls through the SDK, signed for each endpoint\'s region', async () => {
    for (const { region, endpoint } of arc.endpoints) {
      const answer = await routingControlClient(endpoint, region).send(new ListRoutingControlsCommand({ ControlPanelArn: PANEL }));
      expect(answer.RoutingControls?.map((c) => [c.RoutingControlName, c.RoutingControlState])).toEqual([
        ['frontier-us-west-2', 'On'],
        ['frontier-us-east-1', 'Off'],
      ]);
    }
  });

  it('answers the documented errors: ValidationException, AccessDeniedException (signed for another region), pages of ListRoutingControls', async () => {
    const west = arc.endpoints[0]!;
    const client = routingControlClient(west.endpoint, west.region);
    const invalid = await client
      .send(new UpdateRoutingControlStatesCommand({ UpdateRoutingControlStateEntries: [{ RoutingControlArn: BACKUP_CONTROL, RoutingControlState: 'on' as 'On' }] }))
      .catch((e: unknown) => e as { name: string; reason?: string; fields?: { name: string }[] });
    expect(invalid).toMatchObject({ name: 'ValidationException', reason: 'fieldValidationFailed', fields: [{ name: 'UpdateRoutingControlStateEntries[0].RoutingControlState' }] });
    const elsewhere = new Route53RecoveryClusterClient({ region: 'eu-west-1', endpoint: west.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 });
    try {
      await expect(elsewhere.send(new GetRoutingControlStateCommand({ RoutingControlArn: PRIMARY_CONTROL }))).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    } finally {
      elsewhere.destroy();
    }
    const first = await client.send(new ListRoutingControlsCommand({ MaxResults: 1 }));
    const second = await client.send(new ListRoutingControlsCommand({ MaxResults: 1, NextToken: first.NextToken }));
    expect([...first.RoutingControls!, ...second.RoutingControls!].map((c) => c.RoutingControlArn)).toEqual([PRIMARY_CONTROL, BACKUP_CONTROL]);
    expect(second.NextToken).toBeUndefined();
    // The single-control update, and its safety rule: the primary alone Off would leave none On.
    await expect(client.send(new UpdateRoutingControlStateCommand({ RoutingControlArn: PRIMARY_CONTROL, RoutingControlState: 'Off' }))).rejects.toMatchObject({ name: 'ConflictException', resourceId: AT_LEAST_ONE_ON });
    await client.send(new UpdateRoutingControlStateCommand({ RoutingControlArn: PRIMARY_CONTROL, RoutingControlState: 'Off', SafetyRulesToOverride: [AT_LEAST_ONE_ON] }));
    expect(arc.state(PRIMARY_CONTROL)).toBe('Off');
  });

  it('moves with the first endpoint refusing connections, in one request the safety rule accepts, and fails back exactly', async () => {
    await arc.behave('us-west-2', 'refuse-connections');
    const before = arc.requests().length;

    const move = await moveTraffic(dnsClients(), [dataPlane()], run, { primaryRegion: 'us-west-2' }, new Date());

    expect(arc.state(BACKUP_CONTROL)).toBe('On');
    expect(arc.state(PRIMARY_CONTROL)).toBe('Off');
    const updates = arc.requests().slice(before).filter((r) => r.operation.startsWith('UpdateRoutingControlState'));
    expect(updates).toEqual([
      {
        region: 'us-east-1',
        operation: 'UpdateRoutingControlStates',
        status: 200,
        body: { UpdateRoutingControlStateEntries: [{ RoutingControlArn: BACKUP_CONTROL, RoutingControlState: 'On' }, { RoutingControlArn: PRIMARY_CONTROL, RoutingControlState: 'Off' }] },
      },
    ]);
    expect(move.detail).toContain(`ARC endpoints that failed and were passed over: us-west-2 ${arc.endpoints[0]!.endpoint}`);
    expect(move.data.recorded).toEqual([
      { mode: 'data-plane', record: 'api.frontier.com.', routingControls: [{ arn: PRIMARY_CONTROL, state: 'On' }, { arn: BACKUP_CONTROL, state: 'Off' }], clusterEndpoints: arc.endpoints },
    ]);

    // The failback runs later, in another container (no endpoint known to answer): the first endpoint
    // now resets connections, and is passed over too.
    forgetAnsweringEndpoints();
    await arc.behave('us-west-2', 'reset-connections');
    const resets = arc.requests().filter((r) => r.region === 'us-west-2').length;
    await restoreRecordedTraffic(dnsClients(), throughReport(move.data.recorded), run, new Date());

    expect(arc.state(PRIMARY_CONTROL)).toBe('On');
    expect(arc.state(BACKUP_CONTROL)).toBe('Off');
    expect(arc.requests().filter((r) => r.region === 'us-west-2').length).toBe(resets + 1);
  }, 30_000);

  it('passes over an endpoint answering 503 (EndpointTemporarilyUnavailableException) and one throttling', async () => {
    await arc.behave('us-west-2', 'unavailable');
    await arc.behave('us-east-1', 'throttle');
    const before = arc.requests().length;

    await moveTraffic(dnsClients(), [dataPlane()], run, { primaryRegion: 'us-west-2' }, new Date());

    expect(arc.state(BACKUP_CONTROL)).toBe('On');
    expect(new Set(arc.requests().slice(before).filter((r) => r.status === 200 && r.operation === 'UpdateRoutingControlStates').map((r) => r.region))).toEqual(new Set(['eu-west-1']));
  }, 30_000);

  it('fails with AwsTransientError naming each endpoint when none answers, and changes nothing', async () => {
    for (const region of ['us-west-2', 'us-east-1', 'eu-west-1']) await arc.behave(region, 'refuse-connections');

    const error = await moveTraffic(dnsClients(), [dataPlane()], run, { primaryRegion: 'us-west-2' }, new Date()).catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(AwsTransientError);
    for (const { region, endpoint } of arc.endpoints) expect((error as Error).message).toContain(`${region} ${endpoint}`);
    expect(arc.state(PRIMARY_CONTROL)).toBe('On');
  }, 30_000);

  it('reports a safety rule that forbids the states as RoutingControlConflict (HTTP 409 ConflictException), changing nothing', async () => {
    // Both Off already (set by hand, past the rule), and a failback recorded "primary Off" too: the rule refuses.
    arc.setStates({ [PRIMARY_CONTROL]: 'Off', [BACKUP_CONTROL]: 'On' });
    const recorded: RecordedDnsState[] = [{ mode: 'data-plane', record: 'api.frontier.com.', routingControls: [{ arn: PRIMARY_CONTROL, state: 'Off' }, { arn: BACKUP_CONTROL, state: 'Off' }], clusterEndpoints: arc.endpoints }];

    const before = arc.requests().length;

    const error = await restoreRecordedTraffic(dnsClients(), recorded, run, new Date()).catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(RoutingControlConflict);
    expect((error as Error).message).toContain('safety rule at-least-one-on');
    expect(arc.state(BACKUP_CONTROL)).toBe('On');
    // Refused by the cluster, not by an endpoint: no other endpoint was asked.
    expect(arc.requests().slice(before).filter((r) => r.status === 409)).toHaveLength(1);
  }, 30_000);

  it('names a routing control the cluster does not know (HTTP 404 ResourceNotFoundException)', async () => {
    const unknown = { ...dataPlane(), routingControls: { primary: `${PANEL}/routingcontrol/ffff9999`, backup: BACKUP_CONTROL } };

    const error = await moveTraffic(dnsClients(), [unknown], run, { primaryRegion: 'us-west-2' }, new Date()).catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(ResourceNotFound);
    expect((error as Error).message).toContain(`route53-recovery-cluster:GetRoutingControlState on ${PANEL}/routingcontrol/ffff9999`);
  });
});

describe('both modes in one move', () => {
  it('moves the data-plane record and the control-plane record, warns about us-east-1, and fails both back', async () => {
    await upsert(cnameRecord('legacy.frontier.com.', PRIMARY_INGRESS, 120));
    const records = [controlPlane('legacy.frontier.com'), dataPlane()];

    const move = await moveTraffic(dnsClients(), records, run, { primaryRegion: 'us-east-1' }, new Date());

    expect(move.data.modes).toEqual(['control-plane', 'data-plane']);
    expect(move.data.warnings).toEqual([expect.stringContaining('control-plane mode for legacy.frontier.com. CNAME while the protected region is us-east-1')]);
    expect(arc.state(BACKUP_CONTROL)).toBe('On');
    expect((await stored('legacy.frontier.com.', 'CNAME'))?.ResourceRecords).toEqual([{ Value: BACKUP_INGRESS }]);

    await restoreRecordedTraffic(dnsClients(), throughReport(move.data.recorded), run, new Date());

    expect(arc.state(PRIMARY_CONTROL)).toBe('On');
    expect(await stored('legacy.frontier.com.', 'CNAME')).toEqual(cnameRecord('legacy.frontier.com.', PRIMARY_INGRESS, 120));
  }, 30_000);
});
