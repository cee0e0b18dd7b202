// Data travels with snapshots in the emulated environment (local/rds-effects.ts): a snapshot of an
// instance whose database holds tables carries that data, a copy to another region carries it on, and
// an instance restored from it answers with that data in a database of its own, through its own
// endpoint, unaffected by later writes to the source (and the source by writes to it).
import { CopyDBSnapshotCommand, CreateDBSnapshotCommand, DescribeDBInstancesCommand, RestoreDBInstanceFromDBSnapshotCommand } from '@aws-sdk/client-rds';
import pg from 'pg';
import { emulatorConfig, seedExampleDeployment, startEmulatedEnvironment, type EmulatedEnvironment, type SeededDeployment } from '../../local/index.js';
import { emulatorClients } from '../../local/emulator-clients.js';
import { configWith } from '../support/fixtures.js';

let environment: EmulatedEnvironment;
let seeded: SeededDeployment;
const PRIMARY = 'us-west-2';
const RECOVERY = 'us-east-1';

async function rows(host: string, sql = 'SELECT note FROM orders ORDER BY id'): Promise<string[]> {
  return (await run(host, sql)).rows.map((r) => r.note);
}

async function run(host: string, sql: string): Promise<pg.QueryResult<{ note: string }>> {
  const client = new pg.Client({ host, port: 5432, user: environment.postgres.user, password: environment.postgres.password, database: 'frontier', connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await client.query<{ note: string }>(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  environment = await startEmulatedEnvironment();
  const config = emulatorConfig(configWith(() => undefined));
  seeded = await seedExampleDeployment(config, environment.endpoint, environment.postgres);
}, 180_000);

afterAll(async () => {
  await environment?.stop();
}, 60_000);

it('carries the data of a snapshot through a cross-region copy into the instance restored from it', async () => {
  const source = seeded.databaseEndpoints['frontier-prod']!.host;
  const primary = emulatorClients(environment.endpoint, PRIMARY).rds;
  const recovery = emulatorClients(environment.endpoint, RECOVERY).rds;
  await run(source, 'CREATE TABLE orders (id serial PRIMARY KEY, note text)');
  await run(source, `INSERT INTO orders (note) VALUES ('before the snapshot')`);

  const snapshot = await primary.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'frontier-prod', DBSnapshotIdentifier: 'carries-data' }));
  await run(source, `INSERT INTO orders (note) VALUES ('after the snapshot')`);
  await recovery.send(new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: snapshot.DBSnapshot!.DBSnapshotArn, TargetDBSnapshotIdentifier: 'carries-data-copy' }));
  await recovery.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: 'frontier-prod-copy', DBSnapshotIdentifier: 'carries-data-copy', DBInstanceClass: 'db.r6g.large', DBSubnetGroupName: 'frontier-dr-restore-test' }));
  const restored = (await recovery.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'frontier-prod-copy' }))).DBInstances![0]!.Endpoint!.Address!;

  expect(environment.snapshotData.snapshot(RECOVERY, 'carries-data-copy')).toBeDefined();
  expect(await rows(restored)).toEqual(['before the snapshot']);
  // Two databases: a write to the restored instance stays there.
  await run(restored, `INSERT INTO orders (note) VALUES ('written in the recovery region')`);
  expect(await rows(restored)).toEqual(['before the snapshot', 'written in the recovery region']);
  expect(await rows(source)).toEqual(['before the snapshot', 'after the snapshot']);

  // And back: a snapshot of the restored instance carries what was written there.
  await recovery.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'frontier-prod-copy', DBSnapshotIdentifier: 'back' }));
  await primary.send(new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: `arn:aws:rds:${RECOVERY}:123456789012:snapshot:back`, TargetDBSnapshotIdentifier: 'back' }));
  await primary.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: 'frontier-prod-back', DBSnapshotIdentifier: 'back', DBInstanceClass: 'db.r6g.large', DBSubnetGroupName: 'frontier-prod-db' }));
  const back = (await primary.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'frontier-prod-back' }))).DBInstances![0]!.Endpoint!.Address!;
  expect(await rows(back)).toEqual(['before the snapshot', 'written in the recovery region']);
  // A snapshot of a database without tables carries nothing (the seed's): its restores answer as before.
  expect(environment.snapshotData.snapshot(PRIMARY, seeded.primarySnapshots.at(-1)!)).toBeUndefined();
}, 120_000);
