// A loopback front for the AWS emulator: every request goes on to moto, except
//  - requests signed for a region declared down, which are refused the way an unreachable regional
//    endpoint fails (connection reset), to prove that no recovery step needs the failing region; and
//  - EKS DescribeCluster for the local Kubernetes clusters, answered with their address and CA (moto's
//    EKS clusters have endpoints nobody listens on);
//  - Route 53 requests for a hosted zone id the deployment config names go to the zone moto created;
//  - RDS actions moto accepted are shown to observers before the answer goes back, so the emulated
//    environment can give them the effect moto cannot (see emulated-environment.ts);
//  - RDS requests can be counted and held to RDS's request throttling (a token bucket per region,
//    answered with RDS's own `Throttling` error when empty), which moto does not have;
//  - every request can be recorded (service, action, signing region), e.g. to prove that a bad input
//    made no AWS request at all;
//  - Step Functions SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat go to the local runs waiting
//    on that task token (local/task-tokens.ts; moto's Step Functions knows no local run's token), with
//    the API's own errors (TaskDoesNotExist, TaskTimedOut, InvalidToken, InvalidOutput);
//  - Step Functions ListStateMachines / DescribeStateMachine / StartExecution / DescribeExecution /
//    GetExecutionHistory for the stack's state machines, once served (`serveStateMachines`), go to the
//    local runner (local/state-machine-service.ts), so another process (the operator CLI) can start,
//    watch, approve and report a run; anything else about Step Functions goes on to moto;
//  - Secrets Manager RotateSecret naming one of the stack's rotation functions (`serveRotationFunctions`)
//    is completed as AWS does it: moto creates the AWSPENDING version, then cannot invoke a function it
//    does not host (`Resource not found for ARN ...`); the front answers success instead ({ARN, Name,
//    VersionId}) and runs the function's four steps asynchronously, in order, stopping at the first
//    failure, as Secrets Manager does (it retries later; here the failure is kept in `rotations()`);
//  - IAM SimulatePrincipalPolicy, which moto lacks, is answered from the role's policies as moto holds
//    them (local/iam-simulation.ts).
// The code under test only sees AWS_ENDPOINT_URL pointing here.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StateMachineService } from './state-machine-service.js';
import { policySimulator } from './iam-simulation.js';
import { sendTaskFailure, sendTaskHeartbeat, sendTaskSuccess } from './task-tokens.js';

export interface ServedCluster {
  name: string;
  region: string;
  endpoint: string;
  /** Base64 PEM, as EKS returns it; empty for a plain-http server. */
  caData?: string;
}

export interface AwsFront {
  endpoint: string;
  /** Refuse every request signed for this region, as if its endpoints were unreachable. */
  failRegion(region: string): void;
  restoreRegion(region: string): void;
  /** Regions whose requests were refused, with the service each was for (e.g. "rds us-west-2"). */
  refused(): string[];
  serveCluster(cluster: ServedCluster): void;
  /**
   * Route 53 requests for hosted zone `configuredId` go to `emulatorId`: moto chooses a zone's id
   * itself, and the deployment config names the one it has in AWS.
   */
  aliasHostedZone(configuredId: string, emulatorId: string): void;
  /**
   * Calls `observer` with each RDS action moto answered with 2xx (its form parameters and signing
   * region), and waits for it before the caller gets the answer.
   */
  observeRds(observer: RdsObserver): void;
  /**
   * Holds RDS requests to a token bucket per signing region (as RDS does per account and region):
   * `burst` tokens, `perSecond` added back each second; a request finding it empty gets HTTP 400
   * `Throttling` / "Rate exceeded", as from RDS. `null` lifts the limit. Also resets the counts.
   */
  limitRds(limit: RdsRateLimit | null): void;
  /** RDS requests seen since the last limitRds: per "region action", and how many were throttled. */
  rdsRequests(): RdsRequestCounts;
  /** Records every request reaching the front from now on (refused ones and those answered here too). */
  recordRequests(): AwsRequestRecording;
  /**
   * RotateSecret with RotationLambdaARN = a key of `functions` runs that function (the local handler,
   * in this process) as Secrets Manager would: createSecret, setSecret, testSecret, finishSecret.
   */
  serveRotationFunctions(functions: Record<string, RotationFunction>): void;
  /**
   * The Step Functions API of the stack's state machines, answered by `service` (the local runner)
   * from now on; requests about other machines and executions still go to moto.
   */
  serveStateMachines(service: StateMachineService): void;
  /** The rotations the front ran (or is running), oldest first. */
  rotations(): LocalRotation[];
  /** Resolves once no rotation the front started is still running. */
  rotationsSettled(): Promise<void>;
  stop(): Promise<void>;
}

export interface RdsRateLimit {
  burst: number;
  perSecond: number;
}

export interface RdsRequestCounts {
  total: number;
  throttled: number;
  byAction: Record<string, number>;
}

export interface RecordedAwsRequest {
  /** The signing service (`rds`, `dynamodb`, `s3`...), or "unsigned". */
  service: string;
  /** The signing region, or "unknown". */
  region: string;
  /**
   * The API action: from X-Amz-Target (JSON protocols), the form's or query's `Action` (query
   * protocols), else "<METHOD> <path>" (REST protocols: S3, Route 53, EKS).
   */
  action: string;
  /** Describe*, Get* or List* (REST: GET or HEAD): a request that changes nothing. */
  readOnly: boolean;
}

export interface AwsRequestRecording {
  /** The requests seen so far; a query-protocol action is known once its body has arrived. */
  requests(): RecordedAwsRequest[];
  stop(): void;
}

/** A rotation function as Secrets Manager invokes it: one step per call. */
export type RotationFunction = (event: { SecretId: string; ClientRequestToken: string; Step: string }) => Promise<unknown>;

export interface LocalRotation {
  secretArn: string;
  versionId: string;
  functionArn: string;
  /** Steps that completed, in order. */
  steps: string[];
  /** The step that failed and its error (`name: message`); the later steps did not run. */
  failed?: { step: string; error: string };
  done: boolean;
}

const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

const READ_ONLY_ACTION = /^(Describe|Get|List|Simulate)/;

export type RdsObserver = (action: string, parameters: URLSearchParams, region: string) => Promise<void>;

/** `AWS4-HMAC-SHA256 Credential=AKID/20261125/us-west-2/rds/aws4_request, ...` -> region, service */
function signedScope(request: IncomingMessage): { region: string; service: string } | null {
  const authorization = request.headers.authorization ?? '';
  const match = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/.exec(authorization);
  if (match) return { region: match[1] as string, service: match[2] as string };
  const url = new URL(request.url ?? '/', 'http://front');
  const credential = url.searchParams.get('X-Amz-Credential');
  const presigned = credential ? /\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/.exec(credential) : null;
  return presigned ? { region: presigned[1] as string, service: presigned[2] as string } : null;
}

const TASK_TOKEN_ACTIONS = new Set(['AWSStepFunctions.SendTaskSuccess', 'AWSStepFunctions.SendTaskFailure', 'AWSStepFunctions.SendTaskHeartbeat']);

/** A Step Functions (JSON 1.0 protocol) call on a task token, answered from the local runs. */
function answerTaskToken(request: IncomingMessage, response: ServerResponse, target: string): void {
  const body: Buffer[] = [];
  request.on('data', (chunk: Buffer) => body.push(chunk));
  request.on('end', () => {
    const reply = (status: number, payload: Record<string, unknown>, errorType?: string) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
      response.end(JSON.stringify(payload));
    };
    try {
      const input = JSON.parse(Buffer.concat(body).toString('utf8') || '{}') as { taskToken?: unknown; output?: unknown; error?: unknown; cause?: unknown };
      if (target.endsWith('SendTaskSuccess')) sendTaskSuccess(input.taskToken, input.output);
      else if (target.endsWith('SendTaskFailure')) sendTaskFailure(input.taskToken, input.error, input.cause);
      else sendTaskHeartbeat(input.taskToken);
      reply(200, {});
    } catch (error) {
      const name = error instanceof Error ? error.name : 'InvalidToken';
      reply(400, { __type: `com.amazonaws.swf.service.v2.model#${name}`, message: error instanceof Error ? error.message : String(error) }, name);
    }
  });
}

export async function startAwsFront(motoEndpoint: string): Promise<AwsFront> {
  const moto = new URL(motoEndpoint);
  const failing = new Set<string>();
  const refused: string[] = [];
  const clusters = new Map<string, ServedCluster>();
  const rdsObservers: RdsObserver[] = [];
  const zoneAliases = new Map<string, string>();
  let rdsLimit: RdsRateLimit | null = null;
  const rdsBuckets = new Map<string, { tokens: number; at: number }>();
  let rdsCounts: RdsRequestCounts = { total: 0, throttled: 0, byAction: {} };
  const rotationFunctions = new Map<string, RotationFunction>();
  const rotations: LocalRotation[] = [];
  const running = new Set<Promise<void>>();
  let stateMachines: StateMachineService | null = null;
  const simulator = policySimulator(motoEndpoint);

  /** Takes a token from the region's bucket; false when it is empty (the request is throttled). */
  const takeRdsToken = (region: string): boolean => {
    if (!rdsLimit) return true;
    const now = Date.now();
    const bucket = rdsBuckets.get(region) ?? { tokens: rdsLimit.burst, at: now };
    bucket.tokens = Math.min(rdsLimit.burst, bucket.tokens + ((now - bucket.at) / 1000) * rdsLimit.perSecond);
    bucket.at = now;
    rdsBuckets.set(region, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };

  const describeCluster = (cluster: ServedCluster, response: ServerResponse) => {
    const body = {
      cluster: {
        name: cluster.name,
        arn: `arn:aws:eks:${cluster.region}:123456789012:cluster/${cluster.name}`,
        endpoint: cluster.endpoint,
        status: 'ACTIVE',
        version: '1.34',
        certificateAuthority: { data: cluster.caData ?? '' },
      },
    };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

  const recordings = new Set<RecordedAwsRequest[]>();

  /** Adds the request to every running recording; a form body is read alongside whoever consumes it. */
  const record = (request: IncomingMessage, scope: { region: string; service: string } | null) => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://front');
    const entry: RecordedAwsRequest = { service: scope?.service ?? 'unsigned', region: scope?.region ?? 'unknown', action: `${method} ${url.pathname}`, readOnly: method === 'GET' || method === 'HEAD' };
    const named = (action: string) => {
      entry.action = action;
      entry.readOnly = READ_ONLY_ACTION.test(action);
    };
    const target = request.headers['x-amz-target'];
    if (typeof target === 'string') named(target.split('.').pop() ?? target);
    else if (url.searchParams.get('Action')) named(url.searchParams.get('Action') as string);
    else if ((request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      entry.action = 'pending';
      entry.readOnly = false;
      const body: Buffer[] = [];
      request.on('data', (chunk: Buffer) => body.push(chunk));
      request.on('end', () => named(new URLSearchParams(Buffer.concat(body).toString('utf8')).get('Action') ?? 'unknown'));
    }
    for (const recording of recordings) recording.push(entry);
  };

  const server = createServer((request, response) => {
    const scope = signedScope(request);
    if (recordings.size > 0) record(request, scope);
    if (scope && failing.has(scope.region)) {
      refused.push(`${scope.service} ${scope.region}`);
      request.socket.destroy();
      return;
    }
    const path = new URL(request.url ?? '/', 'http://front').pathname;
    const eks = /^\/clusters\/([^/]+)$/.exec(path);
    if (scope?.service === 'eks' && request.method === 'GET' && eks) {
      const cluster = clusters.get(`${scope.region}/${decodeURIComponent(eks[1] as string)}`);
      if (cluster) {
        request.resume();
        describeCluster(cluster, response);
        return;
      }
    }
    const target = request.headers['x-amz-target'];
    if (scope?.service === 'states' && typeof target === 'string' && TASK_TOKEN_ACTIONS.has(target)) {
      answerTaskToken(request, response, target);
      return;
    }
    if (scope?.service === 'states' && stateMachines && typeof target === 'string' && stateMachines.handles(target.split('.').pop() ?? '')) {
      answerStateMachines(request, response, target, scope.region, stateMachines);
      return;
    }
    if (scope?.service === 'secretsmanager' && target === 'secretsmanager.RotateSecret' && rotationFunctions.size > 0) {
      rotateSecret(request, response);
      return;
    }
    if (scope?.service === 'route53' && zoneAliases.size > 0) {
      request.url = (request.url ?? '/').replace(/\/hostedzone\/([A-Z0-9]+)/, (_whole, id: string) => `/hostedzone/${zoneAliases.get(id) ?? id}`);
    }
    if (scope?.service === 'rds') {
      forwardObservingRds(request, response, scope.region);
      return;
    }
    // IAM policy simulation (readiness)
    if (scope?.service === 'iam' && request.method === 'POST') {
      simulateOrForward(request, response);
      return;
    }
    const upstream = toMoto(request, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    }, response);
    request.pipe(upstream);
  });

  function toMoto(request: IncomingMessage, onAnswer: (answer: IncomingMessage) => void, response: ServerResponse) {
    const upstream = httpRequest({ host: moto.hostname, port: moto.port, method: request.method, path: request.url, headers: request.headers }, onAnswer);
    upstream.on('error', (error) => {
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`front could not reach moto: ${error.message}`);
    });
    return upstream;
  }

  /** One JSON-protocol call to moto with the original request's headers (moto does not check signatures). */
  function motoJson(request: IncomingMessage, target: string, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...request.headers, 'x-amz-target': target, 'content-length': String(body.length) };
      const upstream = httpRequest({ host: moto.hostname, port: moto.port, method: 'POST', path: request.url, headers }, (answer) => {
        const reply: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => reply.push(chunk));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(reply) }));
      });
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  /** A Step Functions call the served machines answer, else moto (the body read here is sent on). */
  function answerStateMachines(request: IncomingMessage, response: ServerResponse, target: string, region: string, service: StateMachineService) {
    const body: Buffer[] = [];
    request.on('data', (chunk: Buffer) => body.push(chunk));
    request.on('end', () => {
      const sent = Buffer.concat(body);
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(sent.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        // Not JSON: moto answers it as it would.
      }
      const answer = service.answer(target.split('.').pop() ?? '', parsed, region);
      if (answer === null) {
        motoJson(request, target, sent).then(
          (reply) => {
            response.writeHead(reply.status, reply.headers);
            response.end(reply.body);
          },
          (error: unknown) => {
            response.writeHead(502, { 'content-type': 'text/plain' });
            response.end(`front could not reach moto: ${String(error)}`);
          },
        );
        return;
      }
      const headers = { 'content-type': 'application/x-amz-json-1.0', ...(answer.status === 400 ? { 'x-amzn-errortype': answer.error } : {}) };
      response.writeHead(answer.status, headers);
      response.end(JSON.stringify(answer.status === 200 ? answer.body : { __type: `com.amazonaws.swf.service.v2.model#${answer.error}`, message: answer.message }));
    });
  }

  /**
   * RotateSecret: moto does its part (the AWSPENDING version, the rotation settings) and then fails to
   * invoke the function; for a served function that failure becomes AWS's answer and the steps run here.
   */
  function rotateSecret(request: IncomingMessage, response: ServerResponse) {
    const body: Buffer[] = [];
    request.on('data', (chunk: Buffer) => body.push(chunk));
    request.on('end', () => {
      const sent = Buffer.concat(body);
      const fail = (error: unknown) => {
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`front could not reach moto: ${String(error)}`);
      };
      void (async () => {
        const input = JSON.parse(sent.toString('utf8') || '{}') as { SecretId?: string; RotationLambdaARN?: string };
        const answer = await motoJson(request, 'secretsmanager.RotateSecret', sent);
        const invoke = input.RotationLambdaARN ? rotationFunctions.get(input.RotationLambdaARN) : undefined;
        if (!invoke || answer.status < 400 || !answer.body.toString('utf8').includes(`Resource not found for ARN '${input.RotationLambdaARN}'`)) {
          response.writeHead(answer.status, answer.headers);
          response.end(answer.body);
          return;
        }
        const described = await motoJson(request, 'secretsmanager.DescribeSecret', Buffer.from(JSON.stringify({ SecretId: input.SecretId })));
        const secret = JSON.parse(described.body.toString('utf8')) as { ARN: string; Name: string; VersionIdsToStages?: Record<string, string[]> };
        const versionId = Object.entries(secret.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'))?.[0];
        if (!versionId) throw new Error(`moto left no AWSPENDING version on ${secret.Name}`);
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ ARN: secret.ARN, Name: secret.Name, VersionId: versionId }));
        const rotation: LocalRotation = { secretArn: secret.ARN, versionId, functionArn: input.RotationLambdaARN as string, steps: [], done: false };
        rotations.push(rotation);
        // After the answer, as Secrets Manager invokes the function asynchronously.
        const run = (async () => {
          for (const step of ROTATION_STEPS) {
            try {
              await invoke({ SecretId: secret.ARN, ClientRequestToken: versionId, Step: step });
              rotation.steps.push(step);
            } catch (error) {
              rotation.failed = { step, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
              break;
            }
          }
          rotation.done = true;
        })();
        running.add(run);
        void run.finally(() => running.delete(run));
      })().catch(fail);
    });
  }

  /** IAM speaks the query protocol: SimulatePrincipalPolicy is answered here, every other action by moto. */
  function simulateOrForward(request: IncomingMessage, response: ServerResponse) {
    const body: Buffer[] = [];
    request.on('data', (chunk: Buffer) => body.push(chunk));
    request.on('end', () => {
      const sent = Buffer.concat(body);
      const action = new URLSearchParams(sent.toString('utf8')).get('Action') ?? '';
      if (action !== 'SimulatePrincipalPolicy') {
        // A role's policies may change: the next simulation reads them again.
        if (!READ_ONLY_ACTION.test(action)) simulator.forget();
        toMoto(request, (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        }, response).end(sent);
        return;
      }
      void simulator.answer(sent.toString('utf8')).then(
        (answer) => {
          response.writeHead(answer.status, { 'content-type': 'text/xml' });
          response.end(answer.body);
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/xml' });
          response.end(`<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceFailure</Code><Message>${String(error).replace(/[<&>]/g, ' ')}</Message></Error></ErrorResponse>`);
        },
      );
    });
  }

  /** RDS speaks the query protocol: the action and its parameters are the form-encoded body. */
  function forwardObservingRds(request: IncomingMessage, response: ServerResponse, region: string) {
    const body: Buffer[] = [];
    request.on('data', (chunk: Buffer) => body.push(chunk));
    request.on('end', () => {
      const sent = Buffer.concat(body);
      const sentAction = new URLSearchParams(sent.toString('utf8')).get('Action') ?? 'unknown';
      rdsCounts.total += 1;
      rdsCounts.byAction[`${region} ${sentAction}`] = (rdsCounts.byAction[`${region} ${sentAction}`] ?? 0) + 1;
      if (!takeRdsToken(region)) {
        rdsCounts.throttled += 1;
        response.writeHead(400, { 'content-type': 'text/xml' });
        response.end(
          '<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>Throttling</Code>' +
            `<Message>Rate exceeded</Message></Error><RequestId>throttled-${rdsCounts.throttled}</RequestId></ErrorResponse>`,
        );
        return;
      }
      const upstream = toMoto(request, (answer) => {
        const reply: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => reply.push(chunk));
        answer.on('end', () => {
          const status = answer.statusCode ?? 502;
          const parameters = new URLSearchParams(sent.toString('utf8'));
          const action = parameters.get('Action');
          const observed = status < 300 && action ? Promise.all(rdsObservers.map((observe) => observe(action, parameters, region))) : Promise.resolve([]);
          // An observer that fails is the emulator's fault, not the caller's: answer as moto did.
          void observed
            .catch((error: unknown) => console.error(`emulated environment: RDS ${action} effect failed: ${String(error)}`))
            .finally(() => {
              response.writeHead(status, answer.headers);
              response.end(Buffer.concat(reply));
            });
        });
      }, response);
      upstream.end(sent);
    });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    failRegion: (region) => void failing.add(region),
    restoreRegion: (region) => void failing.delete(region),
    refused: () => [...refused],
    serveCluster: (cluster) => void clusters.set(`${cluster.region}/${cluster.name}`, cluster),
    observeRds: (observer) => void rdsObservers.push(observer),
    aliasHostedZone: (configuredId, emulatorId) => void zoneAliases.set(configuredId, emulatorId),
    limitRds: (limit) => {
      rdsLimit = limit;
      rdsBuckets.clear();
      rdsCounts = { total: 0, throttled: 0, byAction: {} };
    },
    rdsRequests: () => ({ ...rdsCounts, byAction: { ...rdsCounts.byAction } }),
    recordRequests: () => {
      const seen: RecordedAwsRequest[] = [];
      recordings.add(seen);
      return { requests: () => seen.map((entry) => ({ ...entry })), stop: () => void recordings.delete(seen) };
    },
    serveRotationFunctions: (functions) => {
      for (const [arn, invoke] of Object.entries(functions)) rotationFunctions.set(arn, invoke);
    },
    serveStateMachines: (service) => {
      stateMachines = service;
    },
    rotations: () => rotations.map((rotation) => ({ ...rotation, steps: [...rotation.steps] })),
    rotationsSettled: async () => {
      while (running.size > 0) await Promise.all([...running]);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        simulator.stop();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
