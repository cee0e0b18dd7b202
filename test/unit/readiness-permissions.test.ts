import { IAMClient, IAMServiceException, NoSuchEntityException, SimulatePrincipalPolicyCommand, type EvaluationResult } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, LambdaClient, ResourceNotFoundException, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessDenied, AwsTransientError } from '../../shared/errors.js';
import { SCENARIO_FUNCTIONS, stepCalls } from '../../shared/readiness-calls.js';
import { checkRolePermissions, FUNCTION_DEPLOYED_CHECK, ROLE_PERMISSIONS_CHECK } from '../../shared/readiness-permissions.js';
import { exampleConfig } from '../support/fixtures.js';

const iam = new IAMClient({ region: 'us-east-1', maxAttempts: 1 });
const lambda = new LambdaClient({ region: 'us-east-1', maxAttempts: 1 });
const iamMock = mockClient(iam);
const lambdaMock = mockClient(lambda);
const PREFIX = 'frontier-dr-prod-';
const ACCOUNT = '123456789012';
const roleOf = (functionKey: string) => `arn:aws:iam::${ACCOUNT}:role/frontier-dr-prod-${functionKey}Role`;

/** Every function deployed, each with its own role. */
function deployed(): void {
  lambdaMock.on(GetFunctionConfigurationCommand).callsFake((input: { FunctionName: string }) => {
    const key = input.FunctionName.slice(PREFIX.length);
    return { FunctionName: input.FunctionName, FunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${input.FunctionName}`, Role: roleOf(key) };
  });
}

/** IAM answers every simulated action with `decide(action, resource)`. */
function simulation(decide: (action: string, resource: string, role: string) => EvaluationResult['EvalDecision']): void {
  iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input: { PolicySourceArn: string; ActionNames: string[]; ResourceArns?: string[] }) => ({
    EvaluationResults: input.ActionNames.map((action) => ({
      EvalActionName: action,
      EvalResourceName: input.ResourceArns?.[0] ?? '*',
      EvalDecision: decide(action, input.ResourceArns?.[0] ?? '*', input.PolicySourceArn),
    })),
    IsTruncated: false,
  }));
}

beforeEach(() => {
  iamMock.reset();
  lambdaMock.reset();
});

describe('checkRolePermissions', () => {
  it('passes one check per function when every request is allowed, and simulates each against its own role', async () => {
    deployed();
    simulation(() => 'allowed');

    const checks = await checkRolePermissions({ iam, lambda }, exampleConfig(), 'backup-verification', PREFIX);

    expect(checks.map((c) => [c.name, c.resource, c.passed])).toEqual(SCENARIO_FUNCTIONS['backup-verification'].map((f) => [ROLE_PERMISSIONS_CHECK, `${PREFIX}${f}`, true]));
    // Looked at a few at a time: each function once.
    expect(lambdaMock.commandCalls(GetFunctionConfigurationCommand).map((c) => c.args[0].input.FunctionName).sort()).toEqual(SCENARIO_FUNCTIONS['backup-verification'].map((f) => `${PREFIX}${f}`).sort());
    const verifyBuckets = iamMock.commandCalls(SimulatePrincipalPolicyCommand).filter((c) => c.args[0].input.PolicySourceArn === roleOf('verifyBuckets'));
    expect(verifyBuckets.map((c) => c.args[0].input)).toContainEqual({
      PolicySourceArn: roleOf('verifyBuckets'),
      ActionNames: ['s3:GetBucketVersioning', 's3:GetReplicationConfiguration', 's3:GetLifecycleConfiguration', 's3:GetBucketLocation'],
      ResourceArns: ['arn:aws:s3:::frontier-app-backups'],
    });
    // The concrete ARNs carry the stack's own account, read from the function's ARN.
    const resources = iamMock.commandCalls(SimulatePrincipalPolicyCommand).flatMap((c) => c.args[0].input.ResourceArns ?? []);
    expect(resources.filter((r) => r.startsWith('arn:aws:rds:')).every((r) => r.includes(`:${ACCOUNT}:`))).toBe(true);
  });

  it.each([
    ['implicitDeny', 'implicitly denied (no statement of the role allows it)'],
    ['explicitDeny', 'explicitly denied (a Deny statement or a permissions boundary refuses it)'],
  ] as const)('fails a %s request, naming the function, the action, the resource and the decision', async (decision, words) => {
    deployed();
    simulation((action, resource, role) =>
      role === roleOf('verifyBuckets') && action === 's3:GetReplicationConfiguration' && resource === 'arn:aws:s3:::frontier-app-backups' ? decision : 'allowed',
    );

    const checks = await checkRolePermissions({ iam, lambda }, exampleConfig(), 'backup-verification', PREFIX);

    const failed = checks.filter((c) => !c.passed);
    expect(failed).toEqual([
      {
        scenario: 'backup-verification',
        name: 'role may call s3:GetReplicationConfiguration',
        resource: 'arn:aws:s3:::frontier-app-backups',
        passed: false,
        message: expect.stringContaining(`frontier-dr-prod-verifyBuckets (role ${roleOf('verifyBuckets')}) may not call s3:GetReplicationConfiguration on arn:aws:s3:::frontier-app-backups: ${words}`),
      },
    ]);
    // The other functions still pass; the failing one has no passing summary.
    expect(checks.filter((c) => c.passed).map((c) => c.resource)).not.toContain(`${PREFIX}verifyBuckets`);
    expect(checks.filter((c) => c.passed)).toHaveLength(SCENARIO_FUNCTIONS['backup-verification'].length - 1);
  });

  it('carries the condition keys the stack statements test (kms:ViaService, the scratch tag)', async () => {
    deployed();
    simulation(() => 'allowed');

    await checkRolePermissions({ iam, lambda }, exampleConfig(), 'restore-test', PREFIX);

    const inputs = iamMock.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    expect(inputs).toContainEqual(
      expect.objectContaining({ ActionNames: ['kms:CreateGrant', 'kms:DescribeKey'], ContextEntries: [{ ContextKeyName: 'kms:ViaService', ContextKeyType: 'string', ContextKeyValues: ['rds.us-east-1.amazonaws.com'] }] }),
    );
    expect(inputs).toContainEqual(
      expect.objectContaining({ PolicySourceArn: roleOf('deleteScratchInstance'), ActionNames: ['rds:DeleteDBInstance'], ContextEntries: [{ ContextKeyName: 'rds:db-tag/frontier-dr:scratch', ContextKeyType: 'string', ContextKeyValues: ['true'] }] }),
    );
  });

  it('reads every page of a truncated simulation', async () => {
    deployed();
    iamMock
      .on(SimulatePrincipalPolicyCommand)
      .resolves({ EvaluationResults: [{ EvalActionName: 's3:PutObject', EvalDecision: 'allowed' }], IsTruncated: false })
      .on(SimulatePrincipalPolicyCommand, { PolicySourceArn: roleOf('verifyBuckets') })
      .resolvesOnce({ EvaluationResults: [{ EvalActionName: 's3:GetBucketVersioning', EvalResourceName: 'arn:aws:s3:::frontier-app-backups', EvalDecision: 'allowed' }], IsTruncated: true, Marker: 'm1' })
      .resolves({ EvaluationResults: [{ EvalActionName: 's3:GetBucketLocation', EvalResourceName: 'arn:aws:s3:::frontier-app-backups', EvalDecision: 'implicitDeny' }], IsTruncated: false });

    const checks = await checkRolePermissions({ iam, lambda }, exampleConfig(), 'backup-verification', PREFIX);

    expect(iamMock.commandCalls(SimulatePrincipalPolicyCommand, { PolicySourceArn: roleOf('verifyBuckets'), Marker: 'm1' })).toHaveLength(1);
    expect(checks.filter((c) => !c.passed).map((c) => c.name)).toContain('role may call s3:GetBucketLocation');
  });

  it('fails a function that is not deployed, and goes on with the others', async () => {
    deployed();
    lambdaMock
      .on(GetFunctionConfigurationCommand, { FunctionName: `${PREFIX}verifyBuckets` })
      .rejects(new ResourceNotFoundException({ message: 'Function not found: verifyBuckets', $metadata: { httpStatusCode: 404 } }));
    simulation(() => 'allowed');

    const checks = await checkRolePermissions({ iam, lambda }, exampleConfig(), 'backup-verification', PREFIX);

    expect(checks.find((c) => c.resource === `${PREFIX}verifyBuckets`)).toEqual({
      scenario: 'backup-verification',
      name: FUNCTION_DEPLOYED_CHECK,
      resource: `${PREFIX}verifyBuckets`,
      passed: false,
      message: expect.stringContaining('function frontier-dr-prod-verifyBuckets is not deployed in this region'),
    });
    expect(checks.filter((c) => c.passed)).toHaveLength(SCENARIO_FUNCTIONS['backup-verification'].length - 1);
  });

  it('fails a function whose role does not exist in IAM', async () => {
    deployed();
    simulation(() => 'allowed');
    iamMock
      .on(SimulatePrincipalPolicyCommand, { PolicySourceArn: roleOf('publishReport') })
      .rejects(new NoSuchEntityException({ message: `The role with name ${roleOf('publishReport')} cannot be found.`, $metadata: { httpStatusCode: 404 } }));

    const checks = await checkRolePermissions({ iam, lambda }, exampleConfig(), 'backup-verification', PREFIX);

    expect(checks.find((c) => c.resource === `${PREFIX}publishReport`)).toMatchObject({
      name: FUNCTION_DEPLOYED_CHECK,
      passed: false,
      message: `${PREFIX}publishReport's role ${roleOf('publishReport')} does not exist in IAM: the function cannot run. Redeploy the stack.`,
    });
  });

  it.each([
    ['Lambda throttling', () => lambdaMock.on(GetFunctionConfigurationCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } })), AwsTransientError],
    [
      'an IAM 5xx',
      () => {
        deployed();
        iamMock.on(SimulatePrincipalPolicyCommand).rejects(new IAMServiceException({ name: 'ServiceFailure', $fault: 'server', message: 'internal', $metadata: { httpStatusCode: 500 } }));
      },
      AwsTransientError,
    ],
    [
      'IAM throttling',
      () => {
        deployed();
        iamMock.on(SimulatePrincipalPolicyCommand).rejects(new IAMServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));
      },
      AwsTransientError,
    ],
    [
      'a timeout',
      () => {
        deployed();
        iamMock.on(SimulatePrincipalPolicyCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ETIMEDOUT' }));
      },
      AwsTransientError,
    ],
    [
      'the readiness role denied SimulatePrincipalPolicy',
      () => {
        deployed();
        iamMock.on(SimulatePrincipalPolicyCommand).rejects(new IAMServiceException({ name: 'AccessDenied', $fault: 'client', message: 'not authorized to perform: iam:SimulatePrincipalPolicy', $metadata: { httpStatusCode: 403 } }));
      },
      AwsAccessDenied,
    ],
  ])('throws a named error on %s (the state machine retries or reports it), naming the call', async (_label, arrange, type) => {
    arrange();

    const error = await checkRolePermissions({ iam, lambda }, exampleConfig(), 'backup-verification', PREFIX).catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(/lambda:GetFunctionConfiguration|iam:SimulatePrincipalPolicy/);
  });
});

describe('stepCalls', () => {
  it('builds requests for every function with config-named resources, in the stack account', () => {
    const table = stepCalls(exampleConfig(), { partition: 'aws', accountId: ACCOUNT });

    for (const [name, calls] of Object.entries(table)) {
      for (const call of calls) {
        expect(call.action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
        // No pattern reaches IAM as a resource: a simulated request names one resource (or none, '*').
        expect([name, call.resource.replace(/^\*$/, 'none')]).not.toEqual([name, expect.stringMatching(/[*?]/)]);
      }
    }
    expect(table.verifyBuckets).toContainEqual({ action: 's3:GetReplicationConfiguration', resource: 'arn:aws:s3:::frontier-app-backups' });
  });
});
