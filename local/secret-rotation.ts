// Rotation configured on a secret in moto, as the stack's AWS::SecretsManager::RotationSchedule does in
// AWS (deploy/secret-rotation.cjs): rotation on, nothing rotated. moto turns rotation on only through
// RotateSecret with RotationRules; sent without a rotation function and with RotateImmediately false it
// does that by making a copy of the current value the current version (the old one AWSPREVIOUS): no
// value changes, no AWSPENDING is left. The function is named by each later RotateSecret (the stack's
// startSecretRotation always names it), which the AWS front then runs (local/aws-front.ts).
import { DescribeSecretCommand, RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Turns rotation on for `secretId` (every `days` days) without rotating it; nothing when it is on already. */
export async function enableRotation(secrets: SecretsManagerClient, secretId: string, days = 30): Promise<void> {
  const described = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (described.RotationEnabled) return;
  await secrets.send(new RotateSecretCommand({ SecretId: secretId, RotationRules: { AutomaticallyAfterDays: days }, RotateImmediately: false }));
}
