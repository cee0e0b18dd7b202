import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { listUsableSnapshots, type SnapshotSummary } from '../../shared/backups.js';
import { InvalidInput, ResourceNotFound } from '../../shared/errors.js';
import { chooseRestorePoint, describeRestorePoint, engineMajor, restorePointTime, snapshotMismatch, type RestorePoint, type RestorePointFacts } from '../../shared/restore-point.js';
import { exampleConfig, hoursAgo, minutesAgo, snapshot } from '../support/fixtures.js';

// The incident is at the fixtures' NOW; every time below is relative to it.
const INCIDENT_AT = '2026-11-25T12:00:00.000Z';
const at = (minutesBefore: number): string => minutesAgo(minutesBefore).toISOString();
const WINDOW = { earliest: at(7 * 24 * 60), latest: at(2) };

function summary(id: string, minutesBefore: number, type: 'manual' | 'automated' = 'manual'): SnapshotSummary {
  return {
    id,
    arn: `arn:aws:rds:us-west-2:123456789012:snapshot:${id}`,
    type,
    createdAt: at(minutesBefore),
    encrypted: true,
    region: 'us-west-2',
    sourceInstance: 'frontier-prod',
  };
}

// Newest first, as listUsableSnapshots returns them: one after the incident, one at it, two before.
const SNAPSHOTS = [
  summary('frontier-prod-after', -30),
  summary('rds:frontier-prod-2026-11-25-12-00', 0, 'automated'),
  summary('rds:frontier-prod-2026-11-25-10-00', 120, 'automated'),
  summary('frontier-prod-20261125-0800', 240),
];

function facts(overrides: Partial<RestorePointFacts> = {}): RestorePointFacts {
  return {
    database: 'frontier-prod',
    incidentAt: INCIDENT_AT,
    safetyMarginMinutes: 5,
    requestedSnapshot: null,
    requestedTime: null,
    window: WINDOW,
    snapshots: SNAPSHOTS,
    ...overrides,
  };
}

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

function snapshotOf(point: RestorePoint): SnapshotSummary {
  if (point.kind !== 'snapshot') throw new Error(`expected a snapshot restore point, got ${point.kind}`);
  return point.snapshot;
}

describe('chooseRestorePoint: a snapshot named in the input', () => {
  it('finds it by identifier, even when point-in-time recovery could do better', () => {
    const point = chooseRestorePoint(facts({ requestedSnapshot: 'frontier-prod-20261125-0800' }));

    expect(point).toMatchObject({ kind: 'snapshot', rejected: [], dataLossMinutes: 240 });
    expect(snapshotOf(point).id).toBe('frontier-prod-20261125-0800');
    expect(point.reason).toBe('snapshot frontier-prod-20261125-0800 named in the input.');
  });

  it('finds it by ARN', () => {
    const point = chooseRestorePoint(facts({ requestedSnapshot: 'arn:aws:rds:us-west-2:123456789012:snapshot:rds:frontier-prod-2026-11-25-10-00' }));

    expect(snapshotOf(point).id).toBe('rds:frontier-prod-2026-11-25-10-00');
    expect(point.dataLossMinutes).toBe(120);
  });

  it('wins over a requested time when both are given', () => {
    const point = chooseRestorePoint(facts({ requestedSnapshot: 'frontier-prod-20261125-0800', requestedTime: at(10) }));

    expect(point.kind).toBe('snapshot');
  });

  it('refuses a snapshot that is not available, listing the ones that are', () => {
    const error = thrown(() => chooseRestorePoint(facts({ requestedSnapshot: 'frontier-prod-typo' })));

    expect(error).toBeInstanceOf(ResourceNotFound);
    expect(error.name).toBe('ResourceNotFound');
    expect(error.message).toBe(
      'snapshot frontier-prod-typo is not an available snapshot of frontier-prod (available: frontier-prod-after, rds:frontier-prod-2026-11-25-12-00, rds:frontier-prod-2026-11-25-10-00, frontier-prod-20261125-0800)',
    );
  });

  it('lists at most five available snapshots, and says "none" when there are none', () => {
    const many = Array.from({ length: 8 }, (_, i) => summary(`frontier-prod-${i}`, 60 * (i + 1)));

    const fiveListed = thrown(() => chooseRestorePoint(facts({ requestedSnapshot: 'frontier-prod-x', snapshots: many })));
    const noneListed = thrown(() => chooseRestorePoint(facts({ requestedSnapshot: 'frontier-prod-x', snapshots: [] })));

    expect(fiveListed.message).toContain('(available: frontier-prod-0, frontier-prod-1, frontier-prod-2, frontier-prod-3, frontier-prod-4)');
    expect(noneListed).toBeInstanceOf(ResourceNotFound);
    expect(noneListed.message).toContain('(available: none)');
  });

  it('uses a snapshot taken after the incident, but the reason warns it may hold the damage', () => {
    const point = chooseRestorePoint(facts({ requestedSnapshot: 'frontier-prod-after' }));

    expect(snapshotOf(point).id).toBe('frontier-prod-after');
    expect(point.reason).toBe('snapshot frontier-prod-after named in the input. It was taken after the incident time: check it predates the damage.');
    expect(point.dataLossMinutes).toBe(0);
  });
});

describe('chooseRestorePoint: a time named in the input', () => {
  it('restores to it when the restorable window covers it, with the data loss up to the incident', () => {
    const point = chooseRestorePoint(facts({ requestedTime: at(42) }));

    expect(point).toEqual({
      kind: 'point-in-time',
      time: at(42),
      reason: `point in time ${at(42)} named in the input.`,
      rejected: [],
      dataLossMinutes: 42,
    });
  });

  it('accepts both ends of the window', () => {
    expect(chooseRestorePoint(facts({ requestedTime: WINDOW.earliest })).kind).toBe('point-in-time');
    expect(chooseRestorePoint(facts({ requestedTime: WINDOW.latest })).kind).toBe('point-in-time');
  });

  it.each([
    ['after the latest restorable time', at(1)],
    ['before the earliest restorable time', at(8 * 24 * 60)],
  ])('refuses a time %s, naming the window', (_case, requestedTime) => {
    const error = thrown(() => chooseRestorePoint(facts({ requestedTime })));

    expect(error).toBeInstanceOf(InvalidInput);
    expect(error.name).toBe('InvalidInput');
    expect(error.message).toBe(`restore time ${requestedTime} is outside frontier-prod's restorable window ${WINDOW.earliest} .. ${WINDOW.latest}`);
  });

  it('refuses any time when point-in-time recovery is off, instead of silently using a snapshot', () => {
    const error = thrown(() => chooseRestorePoint(facts({ requestedTime: at(42), window: null })));

    expect(error).toBeInstanceOf(InvalidInput);
    expect(error.message).toContain('needs point-in-time recovery, which is off for frontier-prod');
  });
});

describe('chooseRestorePoint: the default choice', () => {
  it('restores to the incident minus the safety margin when the window covers it: the data loss is the margin', () => {
    const point = chooseRestorePoint(facts());

    expect(point).toEqual({
      kind: 'point-in-time',
      time: at(5),
      reason: `point in time 5 min before the incident (${INCIDENT_AT}), within the restorable window.`,
      rejected: [],
      dataLossMinutes: 5,
    });
  });

  it('follows the configured margin', () => {
    const point = chooseRestorePoint(facts({ safetyMarginMinutes: 15 }));

    expect(point).toMatchObject({ kind: 'point-in-time', time: at(15), dataLossMinutes: 15 });
  });

  it('falls back to the latest restorable time when the logs have not reached the target yet', () => {
    // Logs reach S3 about every five minutes: here the newest restorable time is 8 minutes old.
    const point = chooseRestorePoint(facts({ window: { earliest: WINDOW.earliest, latest: at(8) } }));

    expect(point).toEqual({
      kind: 'point-in-time',
      time: at(8),
      reason: `latest restorable time ${at(8)}: transaction logs up to ${at(5)} (incident minus 5 min) have not reached the backups yet.`,
      rejected: [`point in time: ${at(5)} is after the latest restorable time ${at(8)}`],
      dataLossMinutes: 8,
    });
  });

  it('uses snapshots when the target is before the earliest restorable time, and records why', () => {
    // A freshly restored instance: its automated backups only start 3 minutes before the incident.
    const point = chooseRestorePoint(facts({ window: { earliest: at(3), latest: at(1) } }));

    expect(snapshotOf(point).id).toBe('rds:frontier-prod-2026-11-25-10-00');
    expect(point.rejected[0]).toBe(`point in time: ${at(5)} is before the earliest restorable time ${at(3)}`);
    expect(point.rejected).toHaveLength(3);
    expect(point.dataLossMinutes).toBe(120);
  });

  it('uses snapshots when point-in-time recovery is off, and says so', () => {
    const point = chooseRestorePoint(facts({ window: null }));

    expect(snapshotOf(point).id).toBe('rds:frontier-prod-2026-11-25-10-00');
    expect(point.rejected[0]).toBe('point in time: automated backups are off (backup retention 0)');
  });

  it('rejects each snapshot taken after or exactly at the incident by id and time, and chooses the newest one before', () => {
    const point = chooseRestorePoint(facts({ window: null }));

    expect(point).toEqual({
      kind: 'snapshot',
      snapshot: SNAPSHOTS[2],
      reason: `newest usable snapshot taken before the incident (${INCIDENT_AT}).`,
      rejected: [
        'point in time: automated backups are off (backup retention 0)',
        `snapshot frontier-prod-after (${at(-30)}): taken at or after the incident, it may contain the damage`,
        `snapshot rds:frontier-prod-2026-11-25-12-00 (${INCIDENT_AT}): taken at or after the incident, it may contain the damage`,
      ],
      dataLossMinutes: 120,
    });
  });

  it('takes a snapshot one second before the incident, with the data loss rounded to a tenth of a minute', () => {
    const justBefore = { ...summary('frontier-prod-just-before', 0), createdAt: '2026-11-25T11:59:59.000Z' };

    const point = chooseRestorePoint(facts({ window: null, snapshots: [justBefore] }));

    expect(snapshotOf(point).id).toBe('frontier-prod-just-before');
    expect(point.dataLossMinutes).toBe(0);
  });

  it('finds no restore point when every snapshot is at or after the incident, naming every reason', () => {
    const error = thrown(() => chooseRestorePoint(facts({ window: null, snapshots: SNAPSHOTS.slice(0, 2) })));

    expect(error).toBeInstanceOf(ResourceNotFound);
    expect(error.name).toBe('ResourceNotFound');
    expect(error.message).toBe(
      'no clean restore point for frontier-prod: point in time: automated backups are off (backup retention 0); ' +
        `snapshot frontier-prod-after (${at(-30)}): taken at or after the incident, it may contain the damage; ` +
        `snapshot rds:frontier-prod-2026-11-25-12-00 (${INCIDENT_AT}): taken at or after the incident, it may contain the damage`,
    );
  });

  it('finds no restore point with the window too young and no snapshot at all', () => {
    const error = thrown(() => chooseRestorePoint(facts({ window: { earliest: at(3), latest: at(1) }, snapshots: [] })));

    expect(error).toBeInstanceOf(ResourceNotFound);
    expect(error.message).toBe(`no clean restore point for frontier-prod: point in time: ${at(5)} is before the earliest restorable time ${at(3)}`);
  });
});

describe('chooseRestorePoint over what listUsableSnapshots really returns', () => {
  const rds = new RDSClient({ region: 'us-west-2', maxAttempts: 1 });
  const rdsMock = mockClient(rds);
  const database = exampleConfig().databases[0]!;

  // Three pages, in no particular order, as DescribeDBSnapshots returns them. The newest candidates
  // are the ones that must never be chosen: still being created, failed, or someone else's.
  const pages = [
    {
      DBSnapshots: [
        snapshot('frontier-prod-20261124-2000', hoursAgo(16)),
        snapshot('frontier-prod-creating', minutesAgo(10), { status: 'creating' }),
        snapshot('rds:frontier-prod-2026-11-25-12-10', minutesAgo(-10), { type: 'automated' }),
      ],
      Marker: 'page-2',
    },
    {
      DBSnapshots: [
        snapshot('analytics-manual-copy', minutesAgo(20)),
        snapshot('frontier-prod-failed', minutesAgo(30), { status: 'failed' }),
        snapshot('rds:frontier-prod-2026-11-25-11-00', hoursAgo(1), { type: 'automated', status: 'creating' }),
      ],
      Marker: 'page-3',
    },
    {
      DBSnapshots: [
        snapshot('frontier-prod-20261125-1200', minutesAgo(0)),
        snapshot('rds:frontier-prod-2026-11-25-10-00', hoursAgo(2), { type: 'automated' }),
        snapshot('frontier-prod-20261125-0800', hoursAgo(4)),
      ],
    },
  ];

  let markersSent: (string | undefined)[];

  beforeEach(() => {
    rdsMock.reset();
    markersSent = [];
    // The paginator reuses one input object: record the marker when each call is made.
    rdsMock.on(DescribeDBSnapshotsCommand).callsFake((input: { Marker?: string }) => {
      markersSent.push(input.Marker);
      return pages[markersSent.length - 1];
    });
  });

  it('chooses the newest available own snapshot before the incident, never a creating, failed or foreign one', async () => {
    const snapshots = await listUsableSnapshots(rds, 'us-west-2', database);

    const point = chooseRestorePoint(facts({ window: null, snapshots }));

    expect(markersSent).toEqual([undefined, 'page-2', 'page-3']);
    expect(snapshots.map((s) => s.id)).toEqual([
      'rds:frontier-prod-2026-11-25-12-10',
      'frontier-prod-20261125-1200',
      'rds:frontier-prod-2026-11-25-10-00',
      'frontier-prod-20261125-0800',
      'frontier-prod-20261124-2000',
    ]);
    expect(snapshotOf(point)).toMatchObject({ id: 'rds:frontier-prod-2026-11-25-10-00', type: 'automated', region: 'us-west-2' });
    expect(point.dataLossMinutes).toBe(120);
    // Only usable snapshots are weighed (and refused) at all: the unusable ones never enter the report.
    expect(point.rejected).toEqual([
      'point in time: automated backups are off (backup retention 0)',
      `snapshot rds:frontier-prod-2026-11-25-12-10 (${at(-10)}): taken at or after the incident, it may contain the damage`,
      `snapshot frontier-prod-20261125-1200 (${INCIDENT_AT}): taken at or after the incident, it may contain the damage`,
    ]);
    for (const unusable of ['frontier-prod-creating', 'analytics-manual-copy', 'frontier-prod-failed', 'rds:frontier-prod-2026-11-25-11-00']) {
      expect(point.rejected.join('\n')).not.toContain(unusable);
    }
  });

  it.each([
    ['still being created', 'frontier-prod-creating'],
    ['failed', 'frontier-prod-failed'],
    ["another database's manual snapshot", 'analytics-manual-copy'],
    ['a creating automated snapshot, by ARN', 'arn:aws:rds:us-west-2:123456789012:snapshot:rds:frontier-prod-2026-11-25-11-00'],
  ])('refuses a requested snapshot that is %s', async (_case, requested) => {
    const snapshots = await listUsableSnapshots(rds, 'us-west-2', database);

    const error = thrown(() => chooseRestorePoint(facts({ window: null, snapshots, requestedSnapshot: requested })));

    expect(error).toBeInstanceOf(ResourceNotFound);
    expect(error.message).toContain(`snapshot ${requested} is not an available snapshot of frontier-prod`);
  });
});

describe('describeRestorePoint and restorePointTime', () => {
  it('name a point in time by its time', () => {
    const point = chooseRestorePoint(facts());

    expect(describeRestorePoint(point)).toBe(`point in time ${at(5)}`);
    expect(restorePointTime(point)).toBe(at(5));
  });

  it('name a snapshot by its id and when it was taken', () => {
    const point = chooseRestorePoint(facts({ window: null }));

    expect(describeRestorePoint(point)).toBe(`snapshot rds:frontier-prod-2026-11-25-10-00 (taken ${at(120)})`);
    expect(restorePointTime(point)).toBe(at(120));
  });
});

describe('chooseRestorePoint: never changes encryption or major version on its own (issue 8)', () => {
  const SOURCE = { instance: 'frontier-prod', encrypted: true, kmsKeyId: 'arn:aws:kms:us-west-2:123456789012:key/abc', engineVersion: '16.4' };
  const unencrypted = { ...summary('frontier-prod-20261125-1100', 60), encrypted: false };
  const olderMajor = { ...summary('frontier-prod-20261125-1000', 120), engineVersion: '15.8' };
  const good = { ...summary('frontier-prod-20261125-0800', 240), engineVersion: '16.2' };

  it('skips an unencrypted snapshot and one of another major version, and takes the next', () => {
    const point = chooseRestorePoint(facts({ window: null, snapshots: [unencrypted, olderMajor, good], source: SOURCE }));

    expect(snapshotOf(point).id).toBe('frontier-prod-20261125-0800');
    expect(point.rejected).toEqual([
      'point in time: automated backups are off (backup retention 0)',
      `snapshot frontier-prod-20261125-1100 (${at(60)}): it is unencrypted and would restore an unencrypted instance from encrypted frontier-prod (name it in the input to use it anyway)`,
      `snapshot frontier-prod-20261125-1000 (${at(120)}): its engine version 15.8 is another major version than frontier-prod's 16.4 (name it in the input to use it anyway)`,
    ]);
  });

  it('uses an unencrypted snapshot for an unencrypted source', () => {
    const point = chooseRestorePoint(facts({ window: null, snapshots: [unencrypted], source: { ...SOURCE, encrypted: false, kmsKeyId: null } }));

    expect(snapshotOf(point).id).toBe('frontier-prod-20261125-1100');
  });

  it('takes a named snapshot anyway, saying it was named and what automatic choice would have said', () => {
    const point = chooseRestorePoint(facts({ requestedSnapshot: olderMajor.id, snapshots: [olderMajor], source: SOURCE }));

    expect(snapshotOf(point).id).toBe(olderMajor.id);
    expect(point.reason).toBe(`snapshot ${olderMajor.id} named in the input. Automatic choice would not have used it: its engine version 15.8 is another major version than frontier-prod's 16.4.`);
  });

  it('takes the named snapshot as looked up (not in the list: no prefix, shared), saying whose it is', () => {
    const shared = { ...summary('handover', 600), arn: 'arn:aws:rds:us-west-2:210987654321:snapshot:handover', sourceInstance: 'frontier-staging', sharedFrom: '210987654321' };

    const point = chooseRestorePoint(facts({ requestedSnapshot: shared.arn, namedSnapshot: shared, snapshots: SNAPSHOTS, source: SOURCE }));

    expect(snapshotOf(point)).toBe(shared);
    expect(point.reason).toContain('It is a snapshot of frontier-staging, not of frontier-prod.');
  });

  it.each([
    ['16.4', '16'],
    ['16', '16'],
    ['9.6.22', '9.6'],
    ['10.21', '10'],
  ])('engine version %s is major %s', (version, major) => {
    expect(engineMajor(version)).toBe(major);
  });

  it('holds nothing unknown against a snapshot', () => {
    expect(snapshotMismatch(summary('x', 10), undefined)).toBeNull();
    expect(snapshotMismatch(summary('x', 10), { ...SOURCE, engineVersion: null })).toBeNull();
  });
});
