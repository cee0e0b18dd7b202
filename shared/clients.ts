// AWS clients, created once per container and per region (a recovery touches both regions).
// AWS_ENDPOINT_URL (the SDK's standard variable) redirects every client, so the same code runs
// against AWS and against the local emulator.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';

// The SDK retries throttling and 5xx itself; a few more attempts than its default of 3 ride out a
// control-plane brownout, and ASL Retry takes over beyond that. Standard mode: a throttled call waits
// a random 0-1, 0-2, 0-4, 0-8 s (500 ms base, doubling), long enough for RDS's bucket to refill 12
// tokens/s. Not adaptive: its client-side rate limiter learns per client, i.e. per Lambda container,
// and cannot pace the Map's concurrent containers against RDS's account-wide bucket.
// The /* @__PURE__ */ marks let a bundle drop the clients its function never uses.
const MAX_ATTEMPTS = 5;
const RETRY_MODE = 'standard';

function cachedPerRegion<T>(create: (region: string) => T): (region: string) => T {
  const clients = new Map<string, T>();
  return (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = create(region);
      clients.set(region, client);
    }
    return client;
  };
}

export const rdsClient = /* @__PURE__ */ cachedPerRegion((region) => new RDSClient({ region, maxAttempts: MAX_ATTEMPTS, retryMode: RETRY_MODE }));

// A custom endpoint (the emulator) has no per-bucket DNS names, so it needs path-style addressing.
export const s3Client = /* @__PURE__ */ cachedPerRegion(
  (region) => new S3Client({ region, maxAttempts: MAX_ATTEMPTS, forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }),
);

export const secretsClient = /* @__PURE__ */ cachedPerRegion((region) => new SecretsManagerClient({ region, maxAttempts: MAX_ATTEMPTS }));

export const snsClient = /* @__PURE__ */ cachedPerRegion((region) => new SNSClient({ region, maxAttempts: MAX_ATTEMPTS }));

export const dynamoClient = /* @__PURE__ */ cachedPerRegion((region) => new DynamoDBClient({ region, maxAttempts: MAX_ATTEMPTS }));

/** EKS, for DescribeCluster (endpoint and CA) and, through its credential provider, the EKS token's signing keys. */
export const eksClient = /* @__PURE__ */ cachedPerRegion((region) => new EKSClient({ region, maxAttempts: MAX_ATTEMPTS }));

export const stepFunctionsClient = /* @__PURE__ */ cachedPerRegion((region) => new SFNClient({ region, maxAttempts: MAX_ATTEMPTS }));

let route53: Route53Client | undefined;

/** Route 53's API is global, served from us-east-1: its control plane (the README says what that means in an outage). */
export function route53Client(): Route53Client {
  route53 ??= new Route53Client({ region: 'us-east-1', maxAttempts: MAX_ATTEMPTS });
  return route53;
}
