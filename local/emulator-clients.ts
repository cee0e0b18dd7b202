// AWS SDK clients the local environment itself uses to seed and inspect the emulator (never the code
// under test, which builds its clients from AWS_ENDPOINT_URL like it would in AWS).
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { KMSClient } from '@aws-sdk/client-kms';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';

/** The emulator accepts any keys; these are the ones the environment signs with. Not frozen: the SDK marks
 * the credentials object it is given with where they came from. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** One client per service the seed touches, for `region` of the emulator at `endpoint`. */
export function emulatorClients(endpoint: string, region: string) {
  const common = { region, endpoint, credentials: EMULATOR_CREDENTIALS };
  return {
    rds: new RDSClient(common),
    s3: new S3Client({ ...common, forcePathStyle: true }),
    secrets: new SecretsManagerClient(common),
    sns: new SNSClient(common),
    ec2: new EC2Client(common),
    kms: new KMSClient(common),
    dynamodb: new DynamoDBClient(common),
    route53: new Route53Client(common),
    cloudwatch: new CloudWatchClient(common),
  };
}
