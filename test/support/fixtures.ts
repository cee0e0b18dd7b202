// Test fixtures in one place: a deployment config derived from the example file, and RDS shapes
// built the way the SDK returns them (Dates, not strings).
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DBInstance, DBSnapshot } from '@aws-sdk/client-rds';
import { parseDeploymentConfig, type DeploymentConfig } from '../../shared/config.js';
import { useConfig as useLocalConfig } from '../../local/deployment-config.js';
import { loadDeploymentConfigFile } from '../../shared/config-file.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXAMPLE_CONFIG_PATH = join(root, 'config', 'example.yml');

export const NOW = new Date('2026-11-25T12:00:00.000Z');
export const ALERT_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:frontier-prod-dr-alerts';

export function exampleConfig(): DeploymentConfig {
  return loadDeploymentConfigFile(EXAMPLE_CONFIG_PATH);
}

/** The example deployment with changes applied, validated like a real file. */
export function configWith(change: (raw: DeploymentConfig) => void): DeploymentConfig {
  const raw = structuredClone(exampleConfig());
  change(raw);
  return parseDeploymentConfig(raw, 'test config');
}

/** Makes the handlers see this config (and the test alert topic), as the deployed functions do. */
export function useConfig(config: DeploymentConfig): void {
  useLocalConfig(config, ALERT_TOPIC_ARN);
}

export function hoursAgo(hours: number, from: Date = NOW): Date {
  return new Date(from.getTime() - hours * 3_600_000);
}

export function minutesAgo(minutes: number, from: Date = NOW): Date {
  return new Date(from.getTime() - minutes * 60_000);
}

export function snapshot(
  id: string,
  createdAt: Date,
  options: Partial<{ type: 'manual' | 'automated'; status: string; encrypted: boolean; instance: string; region: string }> = {},
): DBSnapshot {
  const region = options.region ?? 'us-west-2';
  return {
    DBSnapshotIdentifier: id,
    DBSnapshotArn: `arn:aws:rds:${region}:123456789012:snapshot:${id}`,
    DBInstanceIdentifier: options.instance ?? 'frontier-prod',
    SnapshotCreateTime: createdAt,
    SnapshotType: options.type ?? 'manual',
    Status: options.status ?? 'available',
    Encrypted: options.encrypted ?? true,
    Engine: 'postgres',
  };
}

export function dbInstance(identifier: string, options: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: identifier,
    DBInstanceArn: `arn:aws:rds:us-west-2:123456789012:db:${identifier}`,
    DBInstanceStatus: 'available',
    StorageEncrypted: true,
    BackupRetentionPeriod: 30,
    LatestRestorableTime: minutesAgo(4),
    Endpoint: { Address: `${identifier}.abcdefghij.us-west-2.rds.amazonaws.com`, Port: 5432 },
    ...options,
  };
}
