// Moves the application to the restored instance: a new version of the connection secret (the old
// one stays as AWSPREVIOUS) and the Kubernetes secret the API reads its database URL from. The URL is
// built here and never leaves the function.
import { createHash } from 'node:crypto';
import { secretsClient } from '../../shared/clients.js';
import { connectTo } from '../../shared/cluster-ops.js';
import { clusterFor, deploymentConfigFromEnvironment, findDatabase, kubernetesConfig } from '../../shared/config.js';
import { databaseUrl, recoveryConfig, repointConnectionSecret, type SecretRepoint } from '../../shared/database-recovery.js';
import { patchSecretKeys } from '../../shared/kubernetes/objects.js';
import { recoveryRequest, type RunContext } from '../../shared/run.js';
import { fetchDatabaseCredentials } from '../../shared/secrets.js';
import { runStep, type Action } from '../../shared/steps.js';
import { recoveryHandler } from '../common/lambda.js';

interface RepointEvent {
  run: RunContext;
  instanceId: string;
  endpoint: { host: string; port: number } | null;
}

export const handler = recoveryHandler(async (event: RepointEvent) => {
  const request = recoveryRequest(event.run);
  const config = deploymentConfigFromEnvironment();
  const database = findDatabase(config, request.database);
  const { namespace } = kubernetesConfig(config);
  const secretRef = recoveryConfig(database).kubernetesSecret;
  const cluster = clusterFor(config, 'primary');
  const endpoint = event.endpoint ?? { host: `${event.instanceId}.<endpoint once available>`, port: database.port };
  return runStep<{ secret: SecretRepoint | null; kubernetesSecretChanged: boolean }>(async () => {
    const actions: Action[] = [
      {
        description: `new version of secret ${database.credentialsSecret} with host ${endpoint.host}:${endpoint.port} (the current one kept as AWSPREVIOUS)`,
        service: 'secretsmanager',
        operation: 'PutSecretValue',
        parameters: { SecretId: database.credentialsSecret, changes: { host: endpoint.host, port: endpoint.port } },
        performed: false,
      },
      {
        description: `set ${namespace}/${secretRef.name} key ${secretRef.key} on ${cluster.name} to the new database URL`,
        service: 'kubernetes',
        operation: 'patch secrets',
        parameters: { cluster: cluster.name, namespace, secret: secretRef.name, key: secretRef.key },
        performed: false,
      },
    ];
    if (event.run.dryRun || !event.endpoint) return { data: { secret: null, kubernetesSecretChanged: false }, actions };
    const secrets = secretsClient(config.recoveryRegion);
    // One version per incident and instance: a retry gets the version the first attempt created.
    const token = createHash('sha256').update(`${database.credentialsSecret}/${event.instanceId}`).digest('hex').slice(0, 48);
    const secret = await repointConnectionSecret(secrets, database.credentialsSecret, event.endpoint, token);
    const credentials = await fetchDatabaseCredentials(secrets, database.credentialsSecret);
    let patched;
    try {
      patched = await patchSecretKeys(await connectTo(config, 'primary'), namespace, secretRef.name, {
        [secretRef.key]: databaseUrl(credentials, event.endpoint, database.databaseName),
      });
    } catch (error) {
      // The secret has moved already: say so, so that the report (and a person failing back) knows.
      if (error instanceof Error && secret.changed) {
        error.message = `connection secret ${database.credentialsSecret} already points at ${event.endpoint.host} (previous version ${secret.previousVersionId ?? 'unknown'} kept as AWSPREVIOUS); then ${error.message}`;
      }
      throw error;
    }
    const kubernetesSecretChanged = patched.keys.some((k) => k.changed);
    return {
      data: { secret, kubernetesSecretChanged },
      resources: secret.previousVersionId
        ? [
            {
              kind: 'secretsmanager:secret-version',
              id: `${database.credentialsSecret}@${secret.previousVersionId}`,
              region: config.recoveryRegion,
              kept: true,
              note: `previous connection (host ${secret.previousHost ?? 'unknown'}), now AWSPREVIOUS: move AWSCURRENT back to fail back`,
            },
          ]
        : [],
      actions: [
        { ...actions[0]!, performed: secret.changed },
        { ...actions[1]!, performed: kubernetesSecretChanged },
      ],
      detail: `connection secret ${secret.changed ? `now points at ${event.endpoint.host} (previous host ${secret.previousHost ?? 'unknown'}, previous version ${secret.previousVersionId ?? 'unknown'} kept)` : 'already pointed at the restored instance'}; ${secretRef.name}/${secretRef.key} ${kubernetesSecretChanged ? 'updated' : 'already up to date'}`,
    };
  });
});
