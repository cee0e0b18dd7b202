// Secret rotation schedules, one per secret the deployment config rotates (databases[].rotation), added
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

const FUNCTION_LOGICAL_ID = 'RotateDatabaseSecretLambdaFunction';
const PERMISSION_LOGICAL_ID = 'RotateDatabaseSecretInvokedBySecretsManager';

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
      resources[schedule.logicalId] = {
        Type: 'AWS::SecretsManager::RotationSchedule',
        DependsOn: [PERMISSION_LOGICAL_ID],
        Properties: {
          SecretId: schedule.secretId,
          RotationLambdaARN: { 'Fn::GetAtt': [FUNCTION_LOGICAL_ID, 'Arn'] },
          RotateImmediatelyOnUpdate: false,
          RotationRules: { ScheduleExpression: schedule.scheduleExpression },
        },
      };
    }
  }
}

module.exports = SecretRotation;
