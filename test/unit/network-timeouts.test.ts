// A silent endpoint (a VPC without a route to the service) must end a call well inside the function's
// Lambda timeout, in a named error that says which endpoint could not be reached and why that usually
// happens, never in a bare States.Timeout.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse } from 'yaml';
import {
  awsClientConfig,
  CONNECTION_TIMEOUT_MS,
  dynamoClient,
  eksClient,
  rdsClient,
  REQUEST_TIMEOUT_MS,
  route53Client,
  s3Client,
  secretsClient,
  snsClient,
  stepFunctionsClient,
  wafClient,
  withEndpointErrors,
} from '../../shared/clients.js';
import { AwsTransientError } from '../../shared/errors.js';
import { fetchDatabaseCredentials } from '../../shared/secrets.js';

/** A TCP server on loopback that accepts connections and never answers. */
async function silentServer(): Promise<{ url: string; connections: () => number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('AWS clients against a silent endpoint', () => {
  it('GetSecretValue fails within the request timeout with AwsTransientError naming the endpoint and the likely cause', async () => {
    const silent = await silentServer();
    try {
      const client = withEndpointErrors(
        new SecretsManagerClient({ ...awsClientConfig('us-east-1'), endpoint: silent.url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }),
      );
      const started = Date.now();

      const failure = await fetchDatabaseCredentials(client, 'frontier/prod/database').then(
        () => undefined,
        (error: unknown) => error,
      );
      const elapsed = Date.now() - started;

      expect(failure).toBeInstanceOf(AwsTransientError);
      const message = (failure as Error).message;
      expect(message).toContain(`secretsmanager:GetSecretValue on frontier/prod/database could not reach ${silent.url}`);
      expect(message).toContain(`${REQUEST_TIMEOUT_MS} ms`);
      expect(message).toMatch(/VPC interface endpoint.*NAT gateway.*security group.*443/);
      // One attempt: the SDK does not retry a silent endpoint (ASL retries the step instead).
      expect(silent.connections()).toBe(1);
      expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);
    } finally {
      await silent.stop();
    }
  }, 20_000);

  it('a refused connection is still retried by the SDK and then named with the endpoint', async () => {
    const silent = await silentServer();
    const url = silent.url;
    await silent.stop(); // nothing listens there now
    const client = withEndpointErrors(
      new SecretsManagerClient({ ...awsClientConfig('us-east-1'), maxAttempts: 2, endpoint: url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }),
    );

    const failure = await fetchDatabaseCredentials(client, 'frontier/prod/database').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(AwsTransientError);
    expect((failure as Error).message).toContain(`could not reach ${url} (ECONNREFUSED`);
  }, 20_000);
});

describe('timeouts of every client, against the functions that use them', () => {
  const clients = {
    rds: rdsClient('us-east-1'),
    s3: s3Client('us-east-1'),
    secrets: secretsClient('us-east-1'),
    sns: snsClient('us-east-1'),
    dynamodb: dynamoClient('us-east-1'),
    eks: eksClient('us-east-1'),
    sfn: stepFunctionsClient('us-east-1'),
    route53: route53Client(),
    // Security incident containment
    waf: wafClient('us-east-1'),
  };

  it.each(Object.entries(clients))('%s client has connection and request timeouts and names unreachable endpoints', async (_name, client) => {
    // The Node HTTP handler resolves its options lazily (configProvider).
    const handler = client.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> };
    expect(await handler.configProvider).toMatchObject({ connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true });
    expect(client.middlewareStack.identify().some((entry) => entry.startsWith('frontierDrEndpointErrors'))).toBe(true);
  });

  it('the worst case of one call is well inside (at most a third of) every AWS-calling function timeout in serverless.yml', () => {
    const stack = parse(readFileSync('serverless.yml', 'utf8'), { logLevel: 'silent' }) as { provider: { timeout: number }; functions: Record<string, { timeout?: number }> };
    // startRun validates input and plans, planApproval reads the approval policy: no AWS, Kubernetes or database call.
    const withoutNetwork = new Set(['startRun', 'planApproval']);
    for (const [name, fn] of Object.entries(stack.functions)) {
      if (withoutNetwork.has(name)) continue;
      const timeoutMs = (fn.timeout ?? stack.provider.timeout) * 1000;
      expect({ name, budget: Math.max(REQUEST_TIMEOUT_MS, CONNECTION_TIMEOUT_MS) * 3 <= timeoutMs }).toEqual({ name, budget: true });
    }
  });
});
