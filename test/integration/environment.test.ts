// Proves the emulated environment every other integration test stands on: moto answers AWS calls and
// forgets them on reset, the embedded PostgreSQL answers queries, and an RDS endpoint reaches it only
// while the endpoint map is installed.
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import pg from 'pg';
import { mapDatabaseEndpoints } from '../../local/endpoint-map.js';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { startPostgres, type LocalPostgres } from '../../local/postgres.js';

const RDS_ENDPOINT_HOST = 'frontier-prod.aaaaaaaaaa.us-east-1.rds.amazonaws.com';

let moto: MotoServer;
let database: LocalPostgres;
let rds: RDSClient;

beforeAll(async () => {
  // Assigned as each one starts, so afterAll still stops the one that started when the other fails.
  await Promise.all([startMoto().then((server) => (moto = server)), startPostgres().then((server) => (database = server))]);
  rds = new RDSClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}, 60_000);

afterAll(async () => {
  rds?.destroy();
  await Promise.all([moto?.stop(), database?.stop()]);
}, 60_000);

describe('moto server', () => {
  beforeEach(async () => {
    await moto.reset();
  });

  it('answers RDS DescribeDBInstances', async () => {
    const result = await rds.send(new DescribeDBInstancesCommand({}));

    expect(result.DBInstances).toEqual([]);
  });

  it('forgets a created instance on reset', async () => {
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'frontier-prod',
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        AllocatedStorage: 20,
        MasterUsername: 'frontier',
        MasterUserPassword: 'not-a-real-password',
      }),
    );
    const before = await rds.send(new DescribeDBInstancesCommand({}));
    expect(before.DBInstances?.map((instance) => instance.Endpoint?.Address)).toEqual([RDS_ENDPOINT_HOST]);

    await moto.reset();

    const after = await rds.send(new DescribeDBInstancesCommand({}));
    expect(after.DBInstances).toEqual([]);
  });
});

describe('embedded PostgreSQL', () => {
  it('answers SELECT 1 in the named database', async () => {
    const client = new pg.Client({
      host: database.host,
      port: database.port,
      user: database.user,
      password: database.password,
      database: database.databaseName,
    });
    await client.connect();
    try {
      const result = await client.query<{ one: number; current: string }>('SELECT 1 AS one, current_database() AS current');

      expect(result.rows).toEqual([{ one: 1, current: 'frontier' }]);
    } finally {
      await client.end();
    }
  });
});

describe('database endpoint map', () => {
  // What the recovery code does with an endpoint it read from the RDS API.
  const connectToRdsEndpoint = () =>
    new pg.Client({
      host: RDS_ENDPOINT_HOST,
      port: 5432,
      user: database.user,
      password: database.password,
      database: database.databaseName,
      connectionTimeoutMillis: 5_000,
    });

  it('sends a connection to an RDS endpoint to the embedded PostgreSQL while installed', async () => {
    const undo = mapDatabaseEndpoints({ host: database.host, port: database.port });
    const client = connectToRdsEndpoint();
    try {
      await client.connect();
      const result = await client.query<{ port: number }>('SELECT inet_server_port() AS port');

      expect(result.rows[0]?.port).toBe(database.port);
    } finally {
      await client.end().catch(() => undefined);
      undo();
    }
  });

  it('no longer reaches it after undo', async () => {
    mapDatabaseEndpoints({ host: database.host, port: database.port })();
    const client = connectToRdsEndpoint();
    // The host does not exist outside the emulator, so the connection fails (DNS error or timeout).
    await expect(client.connect()).rejects.toThrow();
    await client.end().catch(() => undefined);
  });
});
