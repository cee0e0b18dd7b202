// The connection secret's new version token (shared/repoint.ts repointToken) against moto's Secrets
// Manager, which, as AWS does, refuses a ClientRequestToken already used with another value
// (ResourceExistsException) and answers a repeated one with the same value with the version it has.
//
// The sequence the bench ran on one environment: database-recovery restored `frontier-prod` to
// `frontier-prod-r-<minute>` in the primary region and repointed the recovery region's connection
// secret at it; a rotation (the security incident's) then wrote a new password; region-failover, started
// in the same minute, restored to the same instance id in the recovery region and repointed the same
// secret at another host. With a token of the secret and the instance id alone, the second repoint
// reused the first one's token with another value and failed; each recovery must get its own version,
// and a retried step must get its first attempt's.
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand, ResourceExistsException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createHash } from 'node:crypto';
import { repointConnectionSecret } from '../../shared/database-recovery.js';
import { restoredInstanceId } from '../../shared/names.js';
import { repointToken } from '../../shared/repoint.js';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { emulatorClients } from '../../local/emulator-clients.js';

const RECOVERY_REGION = 'us-east-1';
const SECRET = 'frontier/prod/database';
const PASSWORD = 'Old-Password-1a';
const ROTATED_PASSWORD = 'Rotated-Password-2b';
const ORIGINAL = { engine: 'postgres', host: 'frontier-prod.aaaaaaaaaa.us-west-2.rds.amazonaws.com', port: 5432, username: 'frontier_admin', password: PASSWORD, dbname: 'frontier' };
// Both recoveries restore to the same identifier when they start in the same minute.
const INSTANCE = restoredInstanceId('frontier-prod', '202611301212');
const DATABASE_RECOVERY_HOST = { host: `${INSTANCE}.aaaaaaaaaa.us-west-2.rds.amazonaws.com`, port: 5432 };
const REGION_FAILOVER_HOST = { host: `${INSTANCE}.aaaaaaaaaa.us-east-1.rds.amazonaws.com`, port: 5432 };

let moto: MotoServer;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  moto = await startMoto();
  secrets = emulatorClients(moto.endpoint, RECOVERY_REGION).secrets;
}, 120_000);

afterAll(async () => {
  secrets?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  await secrets.send(new CreateSecretCommand({ Name: SECRET, SecretString: JSON.stringify(ORIGINAL) }));
});

/** The step as RepointApplication calls it (shared/repoint.ts). */
function repoint(endpoint: { host: string; port: number }) {
  return repointConnectionSecret(secrets, SECRET, endpoint, (base) => repointToken(SECRET, INSTANCE, base, endpoint));
}

async function current(): Promise<{ versionId: string; value: Record<string, unknown> }> {
  const answer = await secrets.send(new GetSecretValueCommand({ SecretId: SECRET, VersionStage: 'AWSCURRENT' }));
  return { versionId: answer.VersionId ?? '', value: JSON.parse(answer.SecretString ?? '{}') as Record<string, unknown> };
}

async function versionCount(): Promise<number> {
  return (await secrets.send(new ListSecretVersionIdsCommand({ SecretId: SECRET, IncludeDeprecated: true }))).Versions?.length ?? 0;
}

/** What the security incident's rotation leaves: a new AWSCURRENT with another password, the host kept. */
async function rotate(): Promise<void> {
  const { value } = await current();
  await secrets.send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: JSON.stringify({ ...value, password: ROTATED_PASSWORD }), VersionStages: ['AWSCURRENT'] }));
}

describe('the connection secret repointed by two recoveries restoring to the same instance id', () => {
  it('a token of the secret and the instance alone is refused the second time (the bench failure)', async () => {
    const oldToken = createHash('sha256').update(`${SECRET}/${INSTANCE}`).digest('hex').slice(0, 48);
    await secrets.send(new PutSecretValueCommand({ SecretId: SECRET, ClientRequestToken: oldToken, SecretString: JSON.stringify({ ...ORIGINAL, ...DATABASE_RECOVERY_HOST }), VersionStages: ['AWSCURRENT'] }));

    await expect(
      secrets.send(new PutSecretValueCommand({ SecretId: SECRET, ClientRequestToken: oldToken, SecretString: JSON.stringify({ ...ORIGINAL, ...REGION_FAILOVER_HOST }), VersionStages: ['AWSCURRENT'] })),
    ).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('database-recovery, a rotation, then region-failover: each repoint writes its own version, every earlier one kept', async () => {
    const first = await repoint(DATABASE_RECOVERY_HOST);
    expect(first).toMatchObject({ changed: true, previousHost: ORIGINAL.host });
    await rotate();
    const rotated = await current();

    const second = await repoint(REGION_FAILOVER_HOST);

    expect(second).toMatchObject({ changed: true, previousHost: DATABASE_RECOVERY_HOST.host, previousVersionId: rotated.versionId });
    expect(second.newVersionId).not.toBe(first.newVersionId);
    const now = await current();
    expect(now.versionId).toBe(second.newVersionId);
    // Host moved; the rotated password (not the one the first repoint saw) kept.
    expect(now.value).toEqual({ ...ORIGINAL, ...REGION_FAILOVER_HOST, password: ROTATED_PASSWORD });
    // The original, the first repoint, the rotation and the second repoint.
    expect(await versionCount()).toBe(4);
    // No secret value in the tokens or the step's result.
    expect(JSON.stringify([first, second])).not.toContain(PASSWORD);
    expect(JSON.stringify([first, second])).not.toContain(ROTATED_PASSWORD);
  });

  it('a retried repoint gets the first attempt\'s version: no second version, and the displaced one still named', async () => {
    const first = await repoint(REGION_FAILOVER_HOST);
    const retried = await repoint(REGION_FAILOVER_HOST);

    expect(retried).toEqual({ ...first, changed: false });
    expect(await versionCount()).toBe(2);
  });

  it('a retry whose first write landed but whose answer was lost writes the same version again (same token, same value)', async () => {
    const before = await current();
    const token = repointToken(SECRET, INSTANCE, before.versionId, REGION_FAILOVER_HOST);
    const value = JSON.stringify({ ...ORIGINAL, ...REGION_FAILOVER_HOST });
    // The first attempt's PutSecretValue, then the same call again (what a retry that read the same base sends).
    const once = await secrets.send(new PutSecretValueCommand({ SecretId: SECRET, ClientRequestToken: token, SecretString: value, VersionStages: ['AWSCURRENT'] }));
    const again = await secrets.send(new PutSecretValueCommand({ SecretId: SECRET, ClientRequestToken: token, SecretString: value, VersionStages: ['AWSCURRENT'] }));

    expect(again.VersionId).toBe(once.VersionId);
    expect(await versionCount()).toBe(2);
  });
});
