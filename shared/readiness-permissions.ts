// Readiness: may each function's deployed role make the calls its steps make? Read-only: Lambda
// GetFunctionConfiguration finds the role, IAM SimulatePrincipalPolicy evaluates the role's policies
// (inline, attached, permissions boundary) for each request of shared/readiness-calls.ts. Nothing is
// called on the resources themselves and nothing is changed.
import { SimulatePrincipalPolicyCommand, type ContextEntry, type EvaluationResult, type IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { DeploymentConfig } from './config.js';
import { awsCall, RecoveryError, ResourceNotFound } from './errors.js';
import type { ReadinessCheck } from './readiness-check.js';
import { SCENARIO_FUNCTIONS, stepCalls, type StepCall } from './readiness-calls.js';
import type { ScenarioName } from './scenarios.js';

/** The check names these findings carry (one line each in the readiness report). */
export const FUNCTION_DEPLOYED_CHECK = 'function deployed with its role';
export const ROLE_PERMISSIONS_CHECK = "role may make its steps' calls";

/** `arn:<partition>:lambda:<region>:<account>:function:<name>` -> partition and account. */
function stackAccount(functionArn: string): { partition: string; accountId: string } | undefined {
  const [prefix, partition, service, , accountId] = functionArn.split(':');
  return prefix === 'arn' && service === 'lambda' && partition && accountId ? { partition, accountId } : undefined;
}

const DECISION_WORDS: Record<string, string> = {
  implicitDeny: 'implicitly denied (no statement of the role allows it)',
  explicitDeny: 'explicitly denied (a Deny statement or a permissions boundary refuses it)',
};

/**
 * For each function `scenario`'s state machine calls (SCENARIO_FUNCTIONS), whether its deployed role
 * may make its steps' requests.
 *
 * - `deps.lambda`: GetFunctionConfiguration of `<functionNamePrefix><functionKey>` (e.g.
 *   `frontier-dr-prod-startRun`), in the client's region (the recovery region), for the role's ARN
 *   and the stack's account and partition;
 * - `deps.iam`: SimulatePrincipalPolicy with that role as the policy source, one request per group of
 *   actions on one resource with the same condition keys (paged with Marker).
 *
 * Returns, per function, a failed check when the function is not deployed or its role does not
 * exist, one failed check per denied request (naming the function, action, resource and the decision:
 * implicit or explicit deny), or one passed check when every request is allowed. Throws
 * AwsTransientError (throttling, 5xx, timeouts: the state machine retries) and AwsAccessDenied when
 * the readiness function itself may not call Lambda or IAM (its own role is then what is wrong).
 */
export async function checkRolePermissions(
  deps: { iam: IAMClient; lambda: LambdaClient },
  config: DeploymentConfig,
  scenario: ScenarioName,
  functionNamePrefix: string,
): Promise<ReadinessCheck[]> {
  let table: Record<string, StepCall[]> | undefined;
  const checkFunction = async (functionKey: string): Promise<ReadinessCheck[]> => {
    const functionName = `${functionNamePrefix}${functionKey}`;
    const found = await deployedFunction(deps.lambda, functionName);
    if ('missing' in found) return [{ scenario, name: FUNCTION_DEPLOYED_CHECK, resource: functionName, passed: false, message: found.missing }];
    table ??= stepCalls(config, found.account);
    const requests = table[functionKey] ?? [];
    const results = await simulate(deps.iam, found.role, requests);
    if ('missing' in results) {
      return [{ scenario, name: FUNCTION_DEPLOYED_CHECK, resource: functionName, passed: false, message: `${functionName}'s role ${found.role} ${results.missing}` }];
    }
    const denied = results.filter((r) => r.EvalDecision !== 'allowed');
    if (denied.length === 0) {
      return [
        {
          scenario,
          name: ROLE_PERMISSIONS_CHECK,
          resource: functionName,
          passed: true,
          message: requests.length
            ? `role ${found.role} may make all ${requests.length} request(s) of ${functionKey}'s steps (IAM policy simulation)`
            : `${functionName} deployed with role ${found.role}; ${functionKey}'s calls touch only the stack's own resources (lock and approvals tables, alert topic): not simulated`,
        },
      ];
    }
    return denied.map((result) => {
      const decision = result.EvalDecision ?? 'implicitDeny';
      return {
        scenario,
        name: `role may call ${result.EvalActionName}`,
        resource: result.EvalResourceName ?? '*',
        passed: false,
        message:
          `${functionName} (role ${found.role}) may not call ${result.EvalActionName} on ${result.EvalResourceName ?? '*'}: ` +
          `${DECISION_WORDS[decision] ?? decision}. The step that makes this call would fail with AwsAccessDenied; ` +
          'redeploy the stack so the role gets the statement deploy/deployment-config.cjs derives, or remove the Deny.',
      };
    });
  };
  // A few functions at a time: a region failover asks about some 20 roles, one simulation per
  // resource each, and one after the other they would take most of a Lambda's timeout.
  const perFunction = await inBatches(SCENARIO_FUNCTIONS[scenario], FUNCTIONS_AT_ONCE, checkFunction);
  return perFunction.flat();
}

/** How many functions are looked at concurrently (IAM's API is rate-limited per account). */
export const FUNCTIONS_AT_ONCE = 4;

/** `work` over `items`, at most `concurrency` at a time; results in the items' order; the first failure rejects. */
async function inBatches<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** The function's role and the stack's account, or why there is none. */
async function deployedFunction(lambda: LambdaClient, functionName: string): Promise<{ role: string; account: { partition: string; accountId: string } } | { missing: string }> {
  try {
    const configuration = await awsCall('lambda:GetFunctionConfiguration', functionName, () => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName })));
    const account = configuration.FunctionArn ? stackAccount(configuration.FunctionArn) : undefined;
    if (!configuration.Role || !account) return { missing: `${functionName} has no execution role in its configuration (Role ${configuration.Role ?? 'missing'}, ARN ${configuration.FunctionArn ?? 'missing'})` };
    return { role: configuration.Role, account };
  } catch (error) {
    if (error instanceof ResourceNotFound) {
      return { missing: `function ${functionName} is not deployed in this region: the scenario's state machine cannot call it. Deploy the stack (serverless deploy) for this stage.` };
    }
    throw error;
  }
}

/** Requests on one resource with the same condition keys go in one simulation. */
function groups(requests: readonly StepCall[]): { resource: string; context?: StepCall['context']; actions: string[] }[] {
  const byKey = new Map<string, { resource: string; context?: StepCall['context']; actions: string[] }>();
  for (const request of requests) {
    const key = JSON.stringify([request.resource, request.context ?? []]);
    const group = byKey.get(key) ?? { resource: request.resource, ...(request.context ? { context: request.context } : {}), actions: [] };
    if (!group.actions.includes(request.action)) group.actions.push(request.action);
    byKey.set(key, group);
  }
  return [...byKey.values()];
}

/** SimulatePrincipalPolicy of every request against `role`; `missing` when IAM has no such role. */
async function simulate(iam: IAMClient, role: string, requests: readonly StepCall[]): Promise<EvaluationResult[] | { missing: string }> {
  const results: EvaluationResult[] = [];
  for (const group of groups(requests)) {
    const contextEntries: ContextEntry[] | undefined = group.context?.map((c) => ({ ContextKeyName: c.key, ContextKeyType: c.type, ContextKeyValues: c.values }));
    let marker: string | undefined;
    do {
      try {
        const page = await awsCall('iam:SimulatePrincipalPolicy', `${role} (${group.actions.join(', ')} on ${group.resource})`, () =>
          iam.send(
            new SimulatePrincipalPolicyCommand({
              PolicySourceArn: role,
              ActionNames: group.actions,
              // "*" is how IAM names a request on no resource (e.g. secretsmanager:GetRandomPassword).
              ...(group.resource === '*' ? {} : { ResourceArns: [group.resource] }),
              ...(contextEntries ? { ContextEntries: contextEntries } : {}),
              ...(marker ? { Marker: marker } : {}),
            }),
          ),
        );
        results.push(...(page.EvaluationResults ?? []).map((r) => ({ ...r, EvalResourceName: r.EvalResourceName ?? group.resource })));
        marker = page.IsTruncated ? page.Marker : undefined;
      } catch (error) {
        // IAM answers a role that does not exist with NoSuchEntity (HTTP 404).
        const cause = error instanceof RecoveryError ? (error.cause as { name?: string } | undefined) : undefined;
        if (error instanceof ResourceNotFound || cause?.name === 'NoSuchEntityException' || cause?.name === 'NoSuchEntity') {
          return { missing: 'does not exist in IAM: the function cannot run. Redeploy the stack.' };
        }
        throw error;
      }
    } while (marker);
  }
  return results;
}
