// Secret rotation schedules, one per secret the deployment config rotates (databases[].rotation, and
// securityIncident.apiKeys with a scheduleExpression), added
// to the template when packaging (a local plugin: serverless.yml `plugins`). CloudFormation has no loop
// without a transform, and serverless.yml cannot repeat a resource per list item, so the list comes from
// deploy/deployment-config.cjs (`rotationSchedules`) and is written out here.
//
// Each schedule: AWS::SecretsManager::RotationSchedule naming the rotation function; it depends on the
// permission that lets Secrets Manager invoke the function (CloudFormation would otherwise enable
// rotation before Secrets Manager may call it). RotateImmediatelyOnUpdate is false: a deployment never
// rotates production credentials as a side effect; the first rotation comes with the schedule, or
// `aws secretsmanager rotate-secret` (README, "Secret rotation").
'use strict';

// The rotation function of each kind of secret, and the permission Secrets Manager invokes it with.
// A schedule without `rotationFunction` is a database's (databases[].rotation).
const ROTATION_FUNCTIONS = {
  database: { functionLogicalId: 'RotateDatabaseSecretLambdaFunction', permissionLogicalId: 'RotateDatabaseSecretInvokedBySecretsManager' },
  // The API key set (securityIncident.apiKeys.scheduleExpression).
  'api-keys': { functionLogicalId: 'RotateApiKeysLambdaFunction', permissionLogicalId: 'RotateApiKeysInvokedBySecretsManager' },
};

class SecretRotation {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'package:compileEvents': () => this.addSchedules(),
    };
  }

  addSchedules() {
    const schedules = this.serverless.service.custom?.dr?.rotationSchedules ?? [];
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const schedule of schedules) {
      const rotation = ROTATION_FUNCTIONS[schedule.rotationFunction ?? 'database'];
      if (!rotation) throw new Error(`rotation schedule ${schedule.logicalId}: no rotation function ${schedule.rotationFunction}`);
      resources[schedule.logicalId] = {
        Type: 'AWS::SecretsManager::RotationSchedule',
        DependsOn: [rotation.permissionLogicalId],
        Properties: {
          SecretId: schedule.secretId,
          RotationLambdaARN: { 'Fn::GetAtt': [rotation.functionLogicalId, 'Arn'] },
          RotateImmediatelyOnUpdate: false,
          RotationRules: { ScheduleExpression: schedule.scheduleExpression },
        },
      };
    }
  }
}

module.exports = SecretRotation;
