// A deployment the size the config channel is built for (issue 7: at least 100 databases), made from
// the example: used by the package tier (it packages) and the bench (backup verification of all of
// them against the emulator). The extra databases are copies of the example's first one under their
// own names, secrets and alarms; seeding them is kept to what backup verification reads.
import { CopyDBSnapshotCommand, CreateDBInstanceCommand, CreateDBSnapshotCommand } from '@aws-sdk/client-rds';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { parseDeploymentConfig, type DeploymentConfig } from '../shared/config.js';
import { emulatorClients } from './emulator-clients.js';
import { snapshotStamp } from './seed.js';

/** `config` with `count` databases: its own first one, then copies named `<first>-001`, `<first>-002`... */
export function withManyDatabases(config: DeploymentConfig, count: number): DeploymentConfig {
  const first = config.databases[0];
  if (!first) throw new Error('the deployment has no database to copy');
  const copies = Array.from({ length: count - 1 }, (_, i) => {
    const suffix = String(i + 1).padStart(3, '0');
    const name = `${first.name}-${suffix}`;
    const copy = structuredClone(first);
    copy.name = name;
    copy.snapshotPrefix = `${name}-`;
    copy.credentialsSecret = `${first.credentialsSecret}-${suffix}`;
    // The copies size the per-database IAM statements; only the first keeps its rotation schedule.
    delete copy.rotation;
    if (copy.recovery) {
      if (copy.recovery.alarmName) copy.recovery.alarmName = `${copy.recovery.alarmName}-${suffix}`;
      // Only the first keeps the Kubernetes Secret of the one API; others have their own.
      copy.recovery.kubernetesSecret = { name: `${copy.recovery.kubernetesSecret.name}-${suffix}`, key: copy.recovery.kubernetesSecret.key };
    }
    return copy;
  });
  return parseDeploymentConfig({ ...structuredClone(config), databases: [first, ...copies] }, `the example with ${count} databases`);
}

/**
 * Seeds `databases` into the emulator, fast: per database an encrypted instance in the primary region,
 * one manual snapshot taken now and its encrypted copy in the recovery region (3 calls, `parallel` at
 * once). No history, subnet groups or secrets: what backup verification reads, and no more.
 */
export async function seedDatabasesForVerification(config: DeploymentConfig, databases: DeploymentConfig['databases'], endpoint: string, parallel = 8): Promise<void> {
  const primary = emulatorClients(endpoint, config.primaryRegion).rds;
  const recovery = emulatorClients(endpoint, config.recoveryRegion);
  const key = await recovery.kms.send(new CreateKeyCommand({ Description: 'frontier-dr snapshot copies (bench)' }));
  const queue = [...databases];
  const worker = async (): Promise<void> => {
    for (let database = queue.shift(); database; database = queue.shift()) {
      await primary.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: database.name,
          Engine: 'postgres',
          EngineVersion: '16.4',
          DBInstanceClass: 'db.r6g.large',
          AllocatedStorage: 100,
          MasterUsername: 'frontier',
          MasterUserPassword: 'not-a-secret-0',
          BackupRetentionPeriod: database.retentionDays,
          StorageEncrypted: true,
        }),
      );
      const id = `${database.snapshotPrefix}${snapshotStamp(new Date())}`;
      const created = await primary.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: database.name, DBSnapshotIdentifier: id }));
      await recovery.rds.send(new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: created.DBSnapshot?.DBSnapshotArn, TargetDBSnapshotIdentifier: id, KmsKeyId: key.KeyMetadata?.Arn }));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
