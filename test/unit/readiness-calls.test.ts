// The readiness table of each function's requests (shared/readiness-calls.ts) kept in step with the
// code: the scenarios' functions with the ASL files, the requests with the statements the stack grants
// (deploy/deployment-config.cjs), evaluated by an IAM policy evaluation library.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateIdentityPolicies } from '../../local/iam-simulation.js';
import { loadDefinition } from '../../local/local-state-machine.js';
import { READINESS_FUNCTIONS, SCENARIO_FUNCTIONS, stepCalls, type StepCall } from '../../shared/readiness-calls.js';
import type { DeploymentConfig } from '../../shared/config.js';
import { SCENARIO_NAMES } from '../../shared/scenarios.js';
import { configWith, exampleConfig } from '../support/fixtures.js';
import type { Statement } from '../support/iam.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const deployment = createRequire(import.meta.url)(path.join(root, 'deploy/deployment-config.cjs')) as {
  iamStatementsFor: (file: string) => { total: number; statements: (count: number, options?: { compact?: boolean }) => Record<string, Statement[]> };
};
const ACCOUNT = '123456789012';

/** The statements as CloudFormation fills them in for account ACCOUNT. */
function resolved(statements: Statement[]): Statement[] {
  const fill = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object') {
      const sub = (value as { 'Fn::Sub'?: string })['Fn::Sub'];
      if (typeof sub === 'string') return sub.replaceAll('${AWS::Partition}', 'aws').replaceAll('${AWS::AccountId}', ACCOUNT).replaceAll('${AWS::Region}', 'us-east-1');
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    }
    return value;
  };
  return fill(statements) as Statement[];
}

/** The decision the stack's statements give `call` (identity policies only, as SimulatePrincipalPolicy). */
async function decision(statements: Statement[], call: StepCall): Promise<string> {
  return evaluateIdentityPolicies([{ name: 'stack', document: { Version: '2012-10-17', Statement: statements } }], {
    principal: `arn:aws:iam::${ACCOUNT}:role/readiness-test`,
    action: call.action,
    resource: call.resource,
    accountId: ACCOUNT,
    context: Object.fromEntries((call.context ?? []).map((c) => [c.key, c.type === 'stringList' ? c.values : c.values[0]!])),
  });
}

describe('SCENARIO_FUNCTIONS', () => {
  it.each(SCENARIO_NAMES.map((n) => [n]))('%s lists the functions of its ASL Task states (approval fragment expanded)', (scenario) => {
    const fromAsl = new Set(Object.values(loadDefinition(scenario).taskFunctions));
    // Secrets Manager runs the rotation functions the incident's StartSecretRotation asks for.
    if (scenario === 'security-incident') ['rotateApiKeys', 'rotateDatabaseSecret'].forEach((f) => fromAsl.add(f));
    expect([...SCENARIO_FUNCTIONS[scenario]].sort()).toEqual([...fromAsl].sort());
  });
});

/** The example, and a variant with data-plane traffic and parameter-group read-only mode (other statements). */
const variants: [string, DeploymentConfig][] = [
  ['the example', exampleConfig()],
  [
    'data-plane traffic, parameter-group read-only',
    configWith((raw) => {
      raw.kubernetes!.traffic = {
        mode: 'data-plane',
        recordName: 'api.frontier.com',
        routingControls: {
          primary: 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc123/routingcontrol/def456',
          backup: 'arn:aws:route53-recovery-control::123456789012:controlpanel/abc123/routingcontrol/ghi789',
        },
        clusterEndpoints: [{ region: 'us-west-2', endpoint: 'https://host-aaaaaa.us-west-2.example.com/v1' }],
        timeoutMinutes: 10,
      };
      const recovery = raw.databases[0]!.recovery as Record<string, unknown>;
      recovery.readOnlyMode = 'parameter-group';
      recovery.readOnlyParameterGroup = 'frontier-prod-own-pg16';
    }),
  ],
];

describe.each(variants)('stepCalls (%s)', (_label, config) => {
  let granted: Record<string, Statement[]>;
  let table: Record<string, StepCall[]>;
  beforeAll(() => {
    // The same deployment, derived the way packaging derives it (from a file).
    const directory = mkdtempSync(path.join(tmpdir(), 'frontier-dr-readiness-calls-'));
    const file = path.join(directory, 'deployment.json');
    writeFileSync(file, JSON.stringify(config));
    const derived = deployment.iamStatementsFor(file);
    rmSync(directory, { recursive: true, force: true });
    // The readiness functions' own statements are not a step's (they are what runs these checks: see
    // READINESS_FUNCTIONS); readinessPermissions and readinessNetwork are their statement groups, no function.
    const notSteps = [...READINESS_FUNCTIONS, 'readinessPermissions', 'readinessNetwork'];
    granted = Object.fromEntries(Object.entries(derived.statements(derived.total)).filter(([name]) => !notSteps.includes(name)));
    table = stepCalls(config, { partition: 'aws', accountId: ACCOUNT });
  });

  it('has requests for every function the stack grants config-derived statements to, and for no other', () => {
    const withStatements = Object.entries(granted)
      .filter(([, statements]) => statements.some((s) => s.Effect === 'Allow'))
      .map(([name]) => name)
      .sort();
    const withRequests = Object.entries(table)
      .filter(([, calls]) => calls.length > 0)
      .map(([name]) => name)
      .sort();
    expect(withRequests).toEqual(withStatements);
  });

  it('makes each request the stack allows its function (so a deployed stack is ready)', async () => {
    const refused: string[] = [];
    for (const [name, calls] of Object.entries(table)) {
      const statements = resolved(granted[name] ?? []);
      for (const call of calls) {
        if ((await decision(statements, call)) !== 'allowed') refused.push(`${name}: ${call.action} on ${call.resource}`);
      }
    }
    expect(refused).toEqual([]);
  });

  it('asks about every action the stack grants each function (a new permission needs its request here)', () => {
    const missing: string[] = [];
    for (const [name, statements] of Object.entries(granted)) {
      const asked = new Set((table[name] ?? []).map((c) => c.action));
      for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
        for (const action of [statement.Action ?? []].flat()) if (!asked.has(action)) missing.push(`${name}: ${action}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('READINESS_FUNCTIONS', () => {
  it('are no scenario\'s step and have no requests, though the stack grants the evaluation read-only statements', () => {
    const derived = deployment.iamStatementsFor('config/example.yml');
    const granted = derived.statements(derived.total);
    const table = stepCalls(exampleConfig(), { partition: 'aws', accountId: ACCOUNT });
    for (const name of READINESS_FUNCTIONS) {
      expect(Object.values(SCENARIO_FUNCTIONS).flat()).not.toContain(name);
      expect(table[name]).toBeUndefined();
    }
    expect(granted.evaluateScenarioReadiness?.length).toBeGreaterThan(0);
  });
});

describe('stepCalls against a role missing a statement', () => {
  it('is refused (the check can fail)', async () => {
    const derived = deployment.iamStatementsFor('config/example.yml');
    const granted = derived.statements(derived.total);
    const table = stepCalls(exampleConfig(), { partition: 'aws', accountId: ACCOUNT });
    const statements = resolved(granted.verifyBuckets!).map((s) => ({ ...s, Action: [s.Action ?? []].flat().filter((a) => a !== 's3:GetReplicationConfiguration') }));
    const call = table.verifyBuckets!.find((c) => c.action === 's3:GetReplicationConfiguration')!;
    expect(await decision(statements, call)).toBe('implicitDeny');
  });
});
