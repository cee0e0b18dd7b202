// AWS clients, created once per container and per region (a recovery touches both regions).
// AWS_ENDPOINT_URL (the SDK's standard variable) redirects every client, so the same code runs
// against AWS and against the local emulator.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { EndpointTimeout } from './errors.js';

// The SDK retries throttling and 5xx itself; a few more attempts than its default of 3 ride out a
// control-plane brownout, and ASL Retry takes over beyond that. Standard mode: a throttled call waits
// a random 0-1, 0-2, 0-4, 0-8 s (500 ms base, doubling), long enough for RDS's bucket to refill 12
// tokens/s. Not adaptive: its client-side rate limiter learns per client, i.e. per Lambda container,
// and cannot pace the Map's concurrent containers against RDS's account-wide bucket.
// The /* @__PURE__ */ marks let a bundle drop the clients its function never uses.
const MAX_ATTEMPTS = 5;
const RETRY_MODE = 'standard';

// A silent endpoint (a function in a VPC with no route to the service: no VPC endpoint, no NAT, or a
// security group without HTTPS out) would otherwise keep a call waiting until the Lambda itself times
// out, and the run would end in a bare States.Timeout. Every client gives up on a connection after
// CONNECTION_TIMEOUT_MS and on a whole request after REQUEST_TIMEOUT_MS, and a timed-out attempt is not
// retried by the SDK (the endpoint stays silent; the ASL Retry of AwsTransientError retries the step in
// a fresh invocation). Worst case per call: REQUEST_TIMEOUT_MS, a third of the shortest timeout of a
// function that calls AWS (15 s, serverless.yml; test/unit/network-timeouts.test.ts checks it).
export const CONNECTION_TIMEOUT_MS = 2_000;
export const REQUEST_TIMEOUT_MS = 5_000;

/** The configuration every AWS client here is created with. */
export function awsClientConfig(region: string) {
  return {
    region,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
  };
}

/**
 * A network failure of one attempt, with the endpoint it could not reach. A timeout becomes an
 * EndpointTimeout, which the SDK does not retry (its name and code are not transient ones, and the
 * original error is kept outside `cause`, which the SDK's classification would follow).
 */
const endpointErrors = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
  try {
    return await next(args);
  } catch (error) {
    throw withEndpoint(error, (args as { request?: { protocol?: string; hostname?: string; port?: number } }).request);
  }
};

function withEndpoint(error: unknown, request: { protocol?: string; hostname?: string; port?: number } | undefined): unknown {
  // An answer from the service (it has an HTTP status) is not a network failure.
  if (typeof error !== 'object' || error === null || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined || !request?.hostname) return error;
  const endpoint = `${request.protocol ?? 'https:'}//${request.hostname}${request.port ? `:${request.port}` : ''}`;
  const { name, code, message } = error as { name?: unknown; code?: unknown; message?: unknown };
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') return new EndpointTimeout(endpoint, String(message ?? ''), error);
  if (typeof code !== 'string') return error;
  // A fresh Error of this realm (Node's own can come from another one under a test runner, and the SDK
  // would then replace it with a wrapper that has lost its code), still retried by the SDK by its code.
  return Object.assign(new Error(String(message ?? code)), { name: typeof name === 'string' ? name : 'Error', code, $endpoint: endpoint });
}

type WithMiddleware = { middlewareStack: { add(middleware: unknown, options: { step: 'deserialize'; name: string; priority: 'low' }): void } };

/** Adds the per-attempt endpoint-error middleware (inside the SDK's retry loop) to a client. */
export function withEndpointErrors<C extends WithMiddleware>(client: C): C {
  client.middlewareStack.add(endpointErrors, { step: 'deserialize', name: 'frontierDrEndpointErrors', priority: 'low' });
  return client;
}

/** Every per-region cache below, so that forgetClients can empty them. */
const caches: Map<string, { destroy(): void }>[] = [];

function cachedPerRegion<T extends { destroy(): void }>(create: (region: string) => T): (region: string) => T {
  const clients = new Map<string, T>();
  caches.push(clients);
  return (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = create(region);
      clients.set(region, client);
    }
    return client;
  };
}

export const rdsClient = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new RDSClient({ ...awsClientConfig(region), retryMode: RETRY_MODE })));

// A custom endpoint (the emulator) has no per-bucket DNS names, so it needs path-style addressing.
export const s3Client = /* @__PURE__ */ cachedPerRegion(
  (region) => withEndpointErrors(new S3Client({ ...awsClientConfig(region), forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })),
);

export const secretsClient = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new SecretsManagerClient(awsClientConfig(region))));

export const snsClient = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new SNSClient(awsClientConfig(region))));

export const dynamoClient = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new DynamoDBClient(awsClientConfig(region))));

/** EKS, for DescribeCluster (endpoint and CA) and, through its credential provider, the EKS token's signing keys. */
export const eksClient = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new EKSClient(awsClientConfig(region))));

/** CloudWatch: the region-failure alarm's state (DescribeAlarms) and the probe's metric (PutMetricData). */
export const cloudWatchClient = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new CloudWatchClient(awsClientConfig(region))));

export const stepFunctionsClient = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new SFNClient(awsClientConfig(region))));

/** WAFv2 (the security incident's containment): the IP set the blocked addresses go into, in its own region (us-east-1 for CLOUDFRONT scope). */
export const wafClient = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new WAFV2Client(awsClientConfig(region))));

// An ARC cluster has five regional endpoints, and its guidance is to try the next one when one fails
// rather than insist: one attempt per endpoint (no SDK retry), and a shorter limit per request, so that
// five endpoints fit in a function's timeout (5 x 3 s) even when each one is silent.
export const ROUTING_CONTROL_REQUEST_TIMEOUT_MS = 3_000;

const routingControlClients = /* @__PURE__ */ cachedPerRegion((key) => {
  const [region, endpoint] = key.split(' ') as [string, string];
  return withEndpointErrors(
    new Route53RecoveryClusterClient({
      ...awsClientConfig(region),
      endpoint,
      maxAttempts: 1,
      requestHandler: { connectionTimeout: Math.min(CONNECTION_TIMEOUT_MS, ROUTING_CONTROL_REQUEST_TIMEOUT_MS), requestTimeout: ROUTING_CONTROL_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
    }),
  );
});

/**
 * Route 53 ARC's data plane: one client per regional endpoint of the cluster (the endpoint given in
 * the config is used as is; AWS_ENDPOINT_URL does not redirect it), signed for that endpoint's region.
 */
export function routingControlClient(endpoint: string, region: string): Route53RecoveryClusterClient {
  return routingControlClients(`${region} ${endpoint}`);
}

let route53: Route53Client | undefined;

/** Route 53's API is global, served from us-east-1: its control plane (the README says what that means in an outage). */
export function route53Client(): Route53Client {
  route53 ??= withEndpointErrors(new Route53Client(awsClientConfig('us-east-1')));
  return route53;
}

/** The clients shared/dns.ts moves DNS with (its DnsClients). */
export function dnsClients(): { route53: Route53Client; routingControl: (endpoint: string, region: string) => Route53RecoveryClusterClient } {
  return { route53: route53Client(), routingControl: routingControlClient };
}

/**
 * Forgets every client created so far (closing its connections), as a new Lambda container starts
 * without any: the next call creates a client that reads AWS_ENDPOINT_URL and the credentials again.
 * A client resolves its endpoint once, at its first request, and keeps it; the local environment
 * calls this whenever it points this process at another emulator (local/environment.ts), so a
 * handler run under a later environment never calls the address of a stopped one.
 */
export function forgetClients(): void {
  for (const cache of caches) {
    for (const client of cache.values()) client.destroy();
    cache.clear();
  }
  route53?.destroy();
  route53 = undefined;
  iam?.destroy();
  iam = undefined;
}

// Readiness: permissions and network
// IAM is global (its API is served from us-east-1); Lambda and EC2 are asked in the recovery region,
// where the stack's functions and VPC are.
let iam: IAMClient | undefined;

/** IAM, for SimulatePrincipalPolicy of the stack's roles (shared/readiness-permissions.ts). */
export function iamClient(): IAMClient {
  iam ??= withEndpointErrors(new IAMClient(awsClientConfig('us-east-1')));
  return iam;
}

/** Lambda, for GetFunctionConfiguration of the stack's functions (their roles). */
export const lambdaClient = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new LambdaClient(awsClientConfig(region))));

/** EC2, for the recovery VPC's subnets, route tables and endpoints (shared/readiness-network.ts). */
export const ec2Client = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new EC2Client(awsClientConfig(region))));

/** KMS: DescribeKey of the keys restores and failbacks encrypt with (shared/readiness.ts). */
export const kmsClient = /* @__PURE__ */ cachedPerRegion((region) => withEndpointErrors(new KMSClient(awsClientConfig(region))));
