// A connection to one cluster's API: endpoint and CA from EKS DescribeCluster (or, in tests and the local
// drill, from `resolveEndpoint`), a KubeConfig built in memory, and a bearer token minted in-process and
// replaced before EKS would refuse it.
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  NetworkingV1Api,
  PolicyV1Api,
  ServerConfiguration,
  VersionApi,
  type ApiConstructor,
  type ApiType,
  type HttpLibrary,
} from '@kubernetes/client-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { eksClient } from '../clients.js';
import type { ClusterConfig } from '../config.js';
import { awsCall, classifyAwsError, UnexpectedResourceState } from '../errors.js';
import { eksToken, FixedToken, RefreshingToken, type BearerToken } from './token.js';

export type { BearerToken } from './token.js';

/** Where a cluster's API is, when it does not come from EKS (tests, the local drill). */
export interface ClusterEndpoint {
  endpoint: string;
  /** Base64 PEM bundle, as EKS DescribeCluster returns it. */
  caData?: string;
  /** A fixed bearer token instead of an EKS token (it cannot be refreshed). */
  token?: string;
  /** Defaults to true for a plain http:// endpoint (the loopback fake), false otherwise. */
  skipTLSVerify?: boolean;
}

export interface ConnectOptions {
  /** Replaces EKS DescribeCluster. Never set in AWS. */
  resolveEndpoint?: (cluster: ClusterTarget) => ClusterEndpoint | Promise<ClusterEndpoint>;
  /** EKS client for DescribeCluster (default: one per region, created once per container). */
  eks?: EKSClient;
  /** Credentials the token is signed with (default: the EKS client's, i.e. the SDK's provider chain). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Clock for token age and signing (tests). */
  now?: () => Date;
  /** Age at which the token is replaced before use. EKS accepts a token for 15 minutes. */
  refreshTokenAfterMs?: number;
  /** Deadline of each API request. */
  requestTimeoutMs?: number;
  /**
   * Sends the API requests instead of the Kubernetes client's own HTTP library (unit tests answer them
   * in-process). Everything above it still runs: request building, token, deadline. Never set in AWS.
   */
  httpApi?: HttpLibrary;
}

export type ClusterTarget = Pick<ClusterConfig, 'name' | 'region'>;

export interface KubernetesConnection {
  readonly cluster: string;
  readonly region: string;
  readonly server: string;
  readonly kubeConfig: KubeConfig;
  readonly token: BearerToken;
  readonly requestTimeoutMs: number;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly networking: NetworkingV1Api;
  readonly autoscaling: AutoscalingV2Api;
  readonly policy: PolicyV1Api;
  readonly version: VersionApi;
}

const DEFAULT_REFRESH_AFTER_MS = 10 * 60_000;
// Connect, TLS, answer and body of one request; a third of the shortest timeout of a function that
// calls the API (30 s, serverless.yml), so a silent API server ends in KubernetesUnreachable, not States.Timeout.
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const AUTH_PROVIDER = 'frontier-dr-eks-token';

/**
 * Connects to a cluster: its endpoint and CA from EKS DescribeCluster (or `resolveEndpoint`), and a
 * KubeConfig built in memory whose token is minted per request and replaced before EKS would refuse it.
 * Calls EKS DescribeCluster (unless `resolveEndpoint` is given); no Kubernetes request is made yet.
 * Throws UnexpectedResourceState (cluster not ACTIVE/UPDATING, or no endpoint/CA yet) and the named AWS
 * errors of awsCall (ResourceNotFound for an unknown cluster, AwsAccessDenied, AwsTransientError).
 */
export async function connectToCluster(cluster: ClusterTarget, options: ConnectOptions = {}): Promise<KubernetesConnection> {
  const now = options.now ?? (() => new Date());
  const endpoint = options.resolveEndpoint ? await options.resolveEndpoint(cluster) : await describeEndpoint(cluster, options.eks);

  let token: BearerToken;
  if (endpoint.token !== undefined) {
    token = new FixedToken(endpoint.token);
  } else {
    const credentials = options.credentials ?? (options.eks ?? eksClient(cluster.region)).config.credentials;
    token = new RefreshingToken(
      async (at) => {
        try {
          return await eksToken(cluster.name, cluster.region, credentials, at);
        } catch (error) {
          throw classifyAwsError(error, 'signing the EKS token (credentials)', cluster.name);
        }
      },
      now,
      options.refreshTokenAfterMs ?? DEFAULT_REFRESH_AFTER_MS,
    );
  }

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: endpoint.endpoint,
        caData: endpoint.caData,
        skipTLSVerify: endpoint.skipTLSVerify ?? endpoint.endpoint.startsWith('http:'),
      },
    ],
    users: [{ name: 'frontier-dr', authProvider: { name: AUTH_PROVIDER, config: {} } }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: 'frontier-dr' }],
    currentContext: cluster.name,
  });
  // The token is asked for at every request, so a refreshed one is used from the next request on.
  kubeConfig.addAuthenticator({
    isAuthProvider: (user) => (user.authProvider as { name?: unknown } | undefined)?.name === AUTH_PROVIDER,
    applyAuthentication: async (_user, requestOptions) => {
      const bearer = `Bearer ${await token.current()}`;
      const headers = requestOptions.headers;
      if (headers && !Array.isArray(headers)) (headers as Record<string, string>).Authorization = bearer;
      else requestOptions.headers = { Authorization: bearer };
    },
  });

  const httpApi = options.httpApi;
  // makeApiClient, with the HTTP library replaced when one is given.
  const client = <T extends ApiType>(type: ApiConstructor<T>): T =>
    httpApi
      ? new type(createConfiguration({ baseServer: new ServerConfiguration(endpoint.endpoint, {}), authMethods: { default: kubeConfig }, httpApi }))
      : kubeConfig.makeApiClient(type);

  return {
    cluster: cluster.name,
    region: cluster.region,
    server: endpoint.endpoint,
    kubeConfig,
    token,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    core: client(CoreV1Api),
    apps: client(AppsV1Api),
    networking: client(NetworkingV1Api),
    autoscaling: client(AutoscalingV2Api),
    policy: client(PolicyV1Api),
    version: client(VersionApi),
  };
}

async function describeEndpoint(cluster: ClusterTarget, client?: EKSClient): Promise<ClusterEndpoint> {
  const eks = client ?? eksClient(cluster.region);
  const answer = await awsCall('eks:DescribeCluster', `${cluster.name} (${cluster.region})`, () => eks.send(new DescribeClusterCommand({ name: cluster.name })));
  const described = answer.cluster;
  // UPDATING clusters (version or config updates) keep serving the API.
  if (described?.status !== 'ACTIVE' && described?.status !== 'UPDATING') {
    throw new UnexpectedResourceState(`EKS cluster ${cluster.name} in ${cluster.region} is ${described?.status ?? 'unknown'}, not ACTIVE`);
  }
  // An https endpoint (every real EKS one) is only trusted through the cluster's own CA.
  const caData = described.certificateAuthority?.data;
  if (!described.endpoint || (described.endpoint.startsWith('https:') && !caData)) {
    throw new UnexpectedResourceState(`EKS cluster ${cluster.name} in ${cluster.region} has no API endpoint or CA yet`);
  }
  return { endpoint: described.endpoint, ...(caData ? { caData } : {}) };
}
