// Route 53 ARC's routing-control data plane on loopback, since the emulator has none: one HTTP server
// per regional endpoint of a cluster, all sharing one set of routing-control states, as the five
// endpoints of a real ARC cluster do. It speaks the API's JSON 1.0 protocol as documented (POST /,
// `X-Amz-Target: ToggleCustomerAPI.<operation>`, `Content-Type: application/x-amz-json-1.0`; errors as
// `{"__type": ..., "message": ...}` with the documented status) for the four operations:
// GetRoutingControlState, UpdateRoutingControlState, UpdateRoutingControlStates, ListRoutingControls,
// and their documented errors: ValidationException (400), AccessDeniedException (403, a request not
// signed for route53-recovery-cluster in the endpoint's region), ResourceNotFoundException (404),
// ConflictException (409, a safety rule the change would break), ThrottlingException (429),
// EndpointTemporarilyUnavailableException (503).
//
// Tests tell an endpoint to fail (refuse connections, reset them, answer 503 or 429) to prove that the
// client goes on to the next one with real HTTP. Assertion safety rules ("at least N of these On") are
// evaluated on the states a request would leave, as ARC does, and can be overridden by naming them in
// SafetyRulesToOverride.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RoutingControlState = 'On' | 'Off';

export interface LocalRoutingControl {
  arn: string;
  name: string;
  state: RoutingControlState;
}

/** An assertion rule: after any update, at least `atLeast` of `controls` must be On. */
export interface LocalAssertionRule {
  arn: string;
  name: string;
  controls: string[];
  atLeast: number;
}

/** What an endpoint does with the next requests: answer, or fail in one of the ways a real one can. */
export type EndpointBehaviour = 'ok' | 'refuse-connections' | 'reset-connections' | 'unavailable' | 'throttle';

export interface RoutingControlRequest {
  region: string;
  operation: string;
  body: unknown;
  status: number;
}

export interface RoutingControlCluster {
  /** One per region, in the order given: what a config's clusterEndpoints lists. */
  endpoints: { region: string; endpoint: string }[];
  /** The shared state of a routing control (throws for an unknown ARN). */
  state(arn: string): RoutingControlState;
  /** Sets states directly (test setup), without safety rules. */
  setStates(states: Record<string, RoutingControlState>): void;
  /** How the endpoint of `region` answers from the next request on. */
  behave(region: string, behaviour: EndpointBehaviour): Promise<void>;
  /** Every request the endpoints answered (refused connections never arrive). */
  requests(): RoutingControlRequest[];
  stop(): Promise<void>;
}

export interface RoutingControlClusterOptions {
  /** The regions of the cluster's endpoints (ARC has five), one server each. */
  regions: string[];
  controlPanelArn: string;
  controlPanelName?: string;
  controls: LocalRoutingControl[];
  rules?: LocalAssertionRule[];
  /** The account in the controls' ARNs ("Owner" in ListRoutingControls). */
  owner?: string;
}

const JSON_10 = 'application/x-amz-json-1.0';
const NAMESPACE = 'com.amazonaws.route53recoverycluster';
const ARN = /^arn:aws[a-z-]*:route53-recovery-control::\d{12}:controlpanel\/[0-9a-z]+\/routingcontrol\/[0-9a-z]+$/;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const validation = (message: string, field?: string) =>
  new ApiError(400, 'ValidationException', message, { reason: 'fieldValidationFailed', ...(field ? { fields: [{ name: field, message }] } : {}) });

/**
 * Starts one loopback endpoint per region of the cluster. The states are shared: a change through one
 * endpoint is read back through any other.
 */
export async function startRoutingControlCluster(options: RoutingControlClusterOptions): Promise<RoutingControlCluster> {
  const controls = new Map(options.controls.map((c) => [c.arn, { ...c }]));
  const rules = options.rules ?? [];
  const owner = options.owner ?? '123456789012';
  const log: RoutingControlRequest[] = [];

  function knownControl(arn: unknown, field: string) {
    if (typeof arn !== 'string' || arn.length === 0) throw validation(`${field} is required`, field);
    if (!ARN.test(arn)) throw validation(`${field} is not a valid routing control ARN: ${arn}`, field);
    const control = controls.get(arn);
    if (!control) throw new ApiError(404, 'ResourceNotFoundException', `Routing control ${arn} was not found`, { resourceId: arn, resourceType: 'RoutingControl' });
    return control;
  }

  function stateOf(value: unknown, field: string): RoutingControlState {
    if (value !== 'On' && value !== 'Off') throw validation(`${field} must be On or Off, got ${JSON.stringify(value)}`, field);
    return value;
  }

  /** Applies all entries or none, after checking the assertion rules against the resulting states. */
  function update(entries: { arn: string; state: RoutingControlState }[], overrides: unknown) {
    if (overrides !== undefined && (!Array.isArray(overrides) || !overrides.every((o) => typeof o === 'string'))) {
      throw validation('SafetyRulesToOverride must be a list of safety rule ARNs', 'SafetyRulesToOverride');
    }
    const overridden = new Set((overrides as string[] | undefined) ?? []);
    const after = new Map([...controls].map(([arn, c]) => [arn, c.state]));
    for (const entry of entries) after.set(entry.arn, entry.state);
    for (const rule of rules) {
      if (overridden.has(rule.arn)) continue;
      const on = rule.controls.filter((arn) => after.get(arn) === 'On').length;
      if (on < rule.atLeast) {
        throw new ApiError(409, 'ConflictException', `Failed to update routing control state: safety rule ${rule.name} (${rule.arn}) requires at least ${rule.atLeast} of its routing controls On, the update would leave ${on}`, {
          resourceId: rule.arn,
          resourceType: 'SafetyRule',
        });
      }
    }
    for (const entry of entries) controls.get(entry.arn)!.state = entry.state;
  }

  function answer(operation: string, body: Record<string, unknown>): unknown {
    switch (operation) {
      case 'GetRoutingControlState': {
        const control = knownControl(body.RoutingControlArn, 'RoutingControlArn');
        return { RoutingControlArn: control.arn, RoutingControlState: control.state, RoutingControlName: control.name };
      }
      case 'UpdateRoutingControlState': {
        const control = knownControl(body.RoutingControlArn, 'RoutingControlArn');
        update([{ arn: control.arn, state: stateOf(body.RoutingControlState, 'RoutingControlState') }], body.SafetyRulesToOverride);
        return {};
      }
      case 'UpdateRoutingControlStates': {
        const entries = body.UpdateRoutingControlStateEntries;
        if (!Array.isArray(entries) || entries.length === 0) throw validation('UpdateRoutingControlStateEntries must hold at least one entry', 'UpdateRoutingControlStateEntries');
        const checked = entries.map((entry: Record<string, unknown>, i) => ({
          arn: knownControl(entry?.RoutingControlArn, `UpdateRoutingControlStateEntries[${i}].RoutingControlArn`).arn,
          state: stateOf(entry?.RoutingControlState, `UpdateRoutingControlStateEntries[${i}].RoutingControlState`),
        }));
        update(checked, body.SafetyRulesToOverride);
        return {};
      }
      case 'ListRoutingControls': {
        if (body.ControlPanelArn !== undefined && body.ControlPanelArn !== options.controlPanelArn) {
          throw new ApiError(404, 'ResourceNotFoundException', `Control panel ${String(body.ControlPanelArn)} was not found`, { resourceId: body.ControlPanelArn, resourceType: 'ControlPanel' });
        }
        const max = body.MaxResults === undefined ? 500 : Number(body.MaxResults);
        if (!Number.isInteger(max) || max < 1 || max > 1000) throw validation('MaxResults must be between 1 and 1000', 'MaxResults');
        const start = body.NextToken === undefined ? 0 : Number(body.NextToken);
        if (!Number.isInteger(start) || start < 0) throw validation('NextToken is not valid', 'NextToken');
        const all = [...controls.values()];
        const page = all.slice(start, start + max).map((c) => ({
          ControlPanelArn: options.controlPanelArn,
          ControlPanelName: options.controlPanelName ?? 'frontier-dr',
          RoutingControlArn: c.arn,
          RoutingControlName: c.name,
          RoutingControlState: c.state,
          Owner: owner,
        }));
        return { RoutingControls: page, ...(start + max < all.length ? { NextToken: String(start + max) } : {}) };
      }
      default:
        throw new ApiError(400, 'ValidationException', `Unknown operation ${operation}`, { reason: 'unknownOperation' });
    }
  }

  function send(response: http.ServerResponse, status: number, body: unknown, errorType?: string) {
    response.writeHead(status, { 'content-type': JSON_10, ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
    response.end(JSON.stringify(body));
  }

  interface Endpoint {
    region: string;
    port: number;
    server: http.Server;
    sockets: Set<Socket>;
    behaviour: EndpointBehaviour;
    listening: boolean;
  }

  function handler(endpoint: Endpoint) {
    return (request: http.IncomingMessage, response: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const target = String(request.headers['x-amz-target'] ?? '');
        const operation = target.startsWith('ToggleCustomerAPI.') ? target.slice('ToggleCustomerAPI.'.length) : target;
        let body: unknown = {};
        const record = (status: number) => log.push({ region: endpoint.region, operation, body, status });
        if (endpoint.behaviour === 'reset-connections') {
          record(0);
          request.socket.destroy();
          return;
        }
        if (endpoint.behaviour === 'unavailable' || endpoint.behaviour === 'throttle') {
          const [status, type, message] =
            endpoint.behaviour === 'unavailable' ? [503, 'EndpointTemporarilyUnavailableException', 'The cluster endpoint isn\'t available. Try another cluster endpoint.'] : [429, 'ThrottlingException', 'Rate exceeded'];
          record(status);
          send(response, status, { __type: `${NAMESPACE}#${type}`, message }, type);
          return;
        }
        try {
          if (request.method !== 'POST' || !String(request.headers['content-type'] ?? '').startsWith(JSON_10)) {
            throw validation(`expected POST with Content-Type ${JSON_10}`);
          }
          // SigV4: the credential scope names the region and service the request was signed for.
          const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(request.headers.authorization ?? ''));
          if (!scope || scope[2] !== 'route53-recovery-cluster' || scope[1] !== endpoint.region) {
            throw new ApiError(403, 'AccessDeniedException', `request must be signed for route53-recovery-cluster in ${endpoint.region}, got ${scope ? `${scope[2]} in ${scope[1]}` : 'no signature'}`);
          }
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            body = text ? JSON.parse(text) : {};
          } catch {
            throw new ApiError(400, 'ValidationException', 'request body is not JSON', { reason: 'cannotParse' });
          }
          if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'ValidationException', 'request body must be a JSON object', { reason: 'cannotParse' });
          const result = answer(operation, body as Record<string, unknown>);
          record(200);
          send(response, 200, result);
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          record(error.status);
          send(response, error.status, { __type: `${NAMESPACE}#${error.type}`, message: error.message, ...error.extra }, error.type);
        }
      });
    };
  }

  function listen(endpoint: Endpoint, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      endpoint.server.once('error', reject);
      endpoint.server.listen(port, '127.0.0.1', () => {
        endpoint.server.off('error', reject);
        endpoint.port = (endpoint.server.address() as AddressInfo).port;
        endpoint.listening = true;
        resolve();
      });
    });
  }

  function close(endpoint: Endpoint): Promise<void> {
    if (!endpoint.listening) return Promise.resolve();
    endpoint.listening = false;
    for (const socket of endpoint.sockets) socket.destroy();
    return new Promise((resolve) => endpoint.server.close(() => resolve()));
  }

  const endpoints: Endpoint[] = [];
  try {
    for (const region of options.regions) {
      const endpoint: Endpoint = { region, port: 0, server: http.createServer(), sockets: new Set(), behaviour: 'ok', listening: false };
      endpoint.server.on('request', handler(endpoint));
      endpoint.server.on('connection', (socket) => {
        endpoint.sockets.add(socket);
        socket.on('close', () => endpoint.sockets.delete(socket));
      });
      endpoints.push(endpoint);
      await listen(endpoint, 0);
    }
  } catch (error) {
    await Promise.all(endpoints.map(close));
    throw error;
  }

  const byRegion = (region: string) => {
    const endpoint = endpoints.find((e) => e.region === region);
    if (!endpoint) throw new Error(`no routing-control endpoint in ${region} (have ${endpoints.map((e) => e.region).join(', ')})`);
    return endpoint;
  };

  return {
    endpoints: endpoints.map((e) => ({ region: e.region, endpoint: `http://127.0.0.1:${e.port}` })),
    state(arn) {
      const control = controls.get(arn);
      if (!control) throw new Error(`no routing control ${arn}`);
      return control.state;
    },
    setStates(states) {
      for (const [arn, state] of Object.entries(states)) {
        const control = controls.get(arn);
        if (!control) throw new Error(`no routing control ${arn}`);
        control.state = state;
      }
    },
    async behave(region, behaviour) {
      const endpoint = byRegion(region);
      endpoint.behaviour = behaviour;
      // Refusing connections is not listening: the client sees ECONNREFUSED, as for a dark region.
      if (behaviour === 'refuse-connections') await close(endpoint);
      else if (!endpoint.listening) await listen(endpoint, endpoint.port);
    },
    requests: () => [...log],
    async stop() {
      await Promise.all(endpoints.map(close));
    },
  };
}
