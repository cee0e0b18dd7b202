// The config channel at the size it is built for (issue 7): the example deployment with 100 databases
// and its two clusters (the schema has exactly a primary and a backup cluster, no list of them)
// packages, every function's package carries all of it, pinned by its sha256, and no function's
// environment comes near Lambda's 4 KB. Its IAM roles, scoped per database, fit IAM's size limits
// (managed policies where inline ones cannot hold them) at 100 and 300 databases, granting exactly
// what the config derives; a deployment too large for them stops packaging with a clear message.
import path from 'node:path';
import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
import { stringify as toYaml } from 'yaml';
import { parseDeploymentConfig, type DeploymentConfig } from '../../shared/config.js';
import { MAX_PACKAGED_CONFIG_BYTES, packageDeploymentConfig } from '../../shared/config-file.js';
import { withManyDatabases } from '../../local/large-deployment.js';
import { exampleConfig } from '../support/fixtures.js';
import { IAM_LIMITS, grants, iamPolicySize, policiesOf, statementsOf, type Statement } from '../support/iam.js';
import {
  deliveredConfig,
  environmentBytes,
  packageExpectingFailure,
  packageStack,
  projectRoot,
  removePackages,
  lintTemplate,
  temporaryDirectory,
  type PackagedStack,
  PACKAGING_TEST_TIMEOUT_MS,
} from '../support/package-stack.js';

const DATABASES = 100;
const LAMBDA_ENVIRONMENT_LIMIT = 4 * 1024;
/**
 * Roles whose policies pass IAM's inline limit at 100 databases (26.9 K, 25.3 K, 17.8 K, 13.6 K as derived;
 * the readiness evaluation's, which reads every database's instance, snapshots and secret, about 33 K).
 */
const LARGE_ROLES = ['VerifyDatabaseBackupsRole', 'StartScratchRestoreRole', 'DeleteScratchInstanceRole', 'StartDatabaseRestoreRole', 'EvaluateScenarioReadinessRole'];

let large: DeploymentConfig;
let largeFile: string;
let stack: PackagedStack;

/** Writes `config` as a deployment file in a temp dir the test file removes. */
async function deploymentFile(config: DeploymentConfig, name: string): Promise<string> {
  const file = path.join(await temporaryDirectory('frontier-dr-large-config-'), name);
  await writeFile(file, toYaml(config));
  return file;
}

beforeAll(async () => {
  large = withManyDatabases(exampleConfig(), DATABASES);
  largeFile = await deploymentFile(large, 'large.yml');
  stack = await packageStack({ config: largeFile });
}, PACKAGING_TEST_TIMEOUT_MS);

afterAll(removePackages);

const functionNames = (): string[] => Object.keys(stack.state.service.functions);
const environmentOf = (name: string): Record<string, unknown> => {
  const logicalId = `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;
  return (stack.template.Resources[logicalId]?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
};

describe(`a deployment with ${DATABASES} databases and both clusters`, () => {
  it('is the size the old channel could not carry', () => {
    expect(large.databases).toHaveLength(DATABASES);
    expect(large.kubernetes?.clusters).toEqual({ primary: expect.any(Object), backup: expect.any(Object) });
    expect(packageDeploymentConfig(large, 'large.yml').bytes).toBeGreaterThan(20 * LAMBDA_ENVIRONMENT_LIMIT);
  });

  it('packages, and every function reads all of it from its own package, pinned by its sha256', async () => {
    const expected = packageDeploymentConfig(large, 'large.yml');
    expect(functionNames().length).toBeGreaterThan(20);
    for (const name of functionNames()) {
      const delivered = await deliveredConfig(stack, name);
      expect({ name, sha256: delivered.sha256, actual: delivered.actualSha256 }).toEqual({ name, sha256: expected.sha256, actual: expected.sha256 });
      const config = parseDeploymentConfig(JSON.parse(delivered.text as string), `the package of ${name}`);
      expect(config.databases.map((d) => d.name)).toEqual(large.databases.map((d) => d.name));
    }
  });

  it("keeps every function's environment far below Lambda's 4 KB", () => {
    const sizes = Object.fromEntries(functionNames().map((name) => [name, environmentBytes(environmentOf(name))]));
    // Half the limit: a function with five resource references (the approval step's table, key, topic,
    // link base and config) counts 5 x 256 bytes at the bound; what must never be here is anything
    // that grows with the databases, which the deployment config would.
    const tooLarge = Object.entries(sizes).filter(([, bytes]) => bytes > LAMBDA_ENVIRONMENT_LIMIT / 2);
    expect(tooLarge).toEqual([]);
  });

  it('leaves the config out of the template', () => {
    // The last database's name appears only in IAM resources (scoped per database), never as config.
    const environments = JSON.stringify(functionNames().map(environmentOf));
    expect(environments).not.toContain(large.databases.at(-1)?.name);
  });
});

// ---- IAM's size limits ----

const deploymentConfig = createRequire(import.meta.url)(path.join(projectRoot, 'deploy/deployment-config.cjs')) as {
  iamStatementsFor: (file: string) => { total: number; statements: (count: number, options?: { compact?: boolean }) => Record<string, Statement[]> };
};

const rolesOf = (packaged: PackagedStack): string[] => Object.entries(packaged.template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => id);

/** Per role: its inline aggregate, each managed policy of the template, and how many are attached. */
function roleSizes(packaged: PackagedStack): Record<string, { inline: number; managed: number[]; attached: number }> {
  const region = packaged.state.service.provider.region;
  return Object.fromEntries(
    rolesOf(packaged).map((role) => {
      const { inline, managed } = policiesOf(packaged.template.Resources, role);
      const byArn = [packaged.template.Resources[role]?.Properties?.ManagedPolicyArns ?? []].flat().length;
      return [role, { inline: inline.reduce((sum, d) => sum + iamPolicySize(d, region, packaged.template.Resources), 0), managed: managed.map((m) => iamPolicySize(m.document, region, packaged.template.Resources)), attached: byArn + managed.length }];
    }),
  );
}

function expectWithinIamLimits(packaged: PackagedStack): void {
  const problems = Object.entries(roleSizes(packaged)).flatMap(([role, size]) => [
    ...(size.inline > IAM_LIMITS.inlineAggregate ? [`${role}: inline ${size.inline}`] : []),
    ...size.managed.filter((m) => m > IAM_LIMITS.managedPolicy).map((m) => `${role}: managed policy ${m}`),
    ...(size.attached > IAM_LIMITS.managedPoliciesPerRole ? [`${role}: ${size.attached} managed policies`] : []),
  ]);
  expect(problems).toEqual([]);
}

/** The function a role belongs to (one role per function). */
function functionOf(packaged: PackagedStack, role: string): string {
  const names = Object.keys(packaged.state.service.functions).filter((name) => {
    const fn = packaged.template.Resources[`${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`];
    return (fn?.Properties?.Role as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0] === role;
  });
  expect(names).toHaveLength(1);
  return names[0] as string;
}

/** What the role grants besides writing its own logs. */
/** The lock table: the ownership check every mutating step makes is declared in serverless.yml, not derived from the config. */
const onLockTable = (statement: { Resource?: unknown }): boolean =>
  [statement.Resource].flat().every((r) => JSON.stringify(r) === JSON.stringify({ 'Fn::GetAtt': ['RecoveryLockTable', 'Arn'] }));

/** What a role grants from the config: its logs and the lock-table ownership check left out. */
const ownGrants = (packaged: PackagedStack, role: string): Set<string> =>
  grants(statementsOf(packaged.template, role).filter((s) => ![s.Action].flat().every((a) => String(a).startsWith('logs:')) && !onLockTable(s)));

describe(`IAM at ${DATABASES} databases`, () => {
  it("keeps every role within IAM's limits: inline 10,240 in all, managed 6,144 each, 10 per role", () => {
    expectWithinIamLimits(stack);
  });

  it('moves into managed policies exactly the roles inline policies cannot hold, attached to that role only', () => {
    const sizes = roleSizes(stack);
    const withManaged = Object.entries(sizes).filter(([, s]) => s.managed.length > 0).map(([role]) => role);
    expect(withManaged.sort()).toEqual([...LARGE_ROLES].sort());
    for (const [id, resource] of Object.entries(stack.template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::ManagedPolicy')) {
      const roles = resource.Properties?.Roles as { Ref: string }[];
      expect({ id, roles }).toEqual({ id, roles: [{ Ref: expect.stringMatching(/Role$/) }] });
      expect(id.startsWith(roles[0]!.Ref)).toBe(true);
      // The function is created only once its managed policies are attached.
      const fn = functionOf(stack, roles[0]!.Ref);
      expect(stack.template.Resources[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`]?.DependsOn).toContain(id);
    }
  });

  it('grants each of those roles exactly what the config derives for its function: nothing wider, nothing lost', () => {
    const derived = deploymentConfig.iamStatementsFor(largeFile).statements(DATABASES, { compact: false });
    for (const role of LARGE_ROLES) {
      const expected = grants(derived[functionOf(stack, role)] ?? []);
      expect(expected.size).toBeGreaterThan(DATABASES);
      const actual = ownGrants(stack, role);
      expect({ role, missing: [...expected].filter((g) => !actual.has(g)), extra: [...actual].filter((g) => !expected.has(g)) }).toEqual({ role, missing: [], extra: [] });
    }
  });

  it('lists no resource twice in a statement', () => {
    const repeated = rolesOf(stack).flatMap((role) =>
      statementsOf(stack.template, role).flatMap((s) => {
        const resources = [s.Resource ?? []].flat().map((r) => JSON.stringify(r));
        return resources.length === new Set(resources).size ? [] : [`${role}: ${JSON.stringify(s.Action)}`];
      }),
    );
    expect(repeated).toEqual([]);
  });

  it('passes cfn-lint', async () => {
    const result = await lintTemplate(stack.templatePath, [large.recoveryRegion]);
    expect({ exitCode: result.exitCode, output: result.output.trim() }).toEqual({ exitCode: 0, output: '' });
  }, 120_000);
});

describe('IAM at 300 databases', () => {
  const COUNT = 300;
  let stack300: PackagedStack;

  beforeAll(async () => {
    stack300 = await packageStack({ config: await deploymentFile(withManyDatabases(exampleConfig(), COUNT), 'large-300.yml') });
  }, PACKAGING_TEST_TIMEOUT_MS);

  it("packages, every role within IAM's limits", () => {
    expectWithinIamLimits(stack300);
    const attached = roleSizes(stack300).StartScratchRestoreRole;
    expect(attached?.managed.length).toBeGreaterThan(2);
  });
});

describe('a deployment too large for IAM', () => {
  /** The most databases, up to 1,000, whose config still packages (1 MiB). */
  const count = (() => {
    let n = 1000;
    while (packageDeploymentConfig(withManyDatabases(exampleConfig(), n), 'many.yml').bytes > MAX_PACKAGED_CONFIG_BYTES) n -= 50;
    return n;
  })();

  it(`(${count} databases) fits, or stops packaging naming each role, its size, the limit and how many databases fit`, async () => {
    const run = await packageExpectingFailure(await deploymentFile(withManyDatabases(exampleConfig(), count), 'too-many.yml'));
    if (run.exitCode === 0) return;
    expect({ exitCode: run.exitCode, timedOut: run.timedOut }).toEqual({ exitCode: 2, timedOut: false });
    expect(run.output).toContain("Cannot package: CloudFormation would refuse these roles (IAM's limits per role: 10,240 characters of inline policy, 10 managed policies of 6,144 characters each");
    const roles = [...run.output.matchAll(/^- IAM role (\w+) \(function (\w+)\) is too large for IAM: it would need (\d+) managed policies \(its policies are (\d+) characters in all\); IAM attaches at most 10 to a role\. Its permissions are scoped per database: (\d+) of the (\d+) configured databases fit\.$/gm)];
    expect(roles.map((m) => m[1])).toEqual(expect.arrayContaining(LARGE_ROLES));
    for (const [, , , needed, size, fit, total] of roles) {
      expect(Number(needed)).toBeGreaterThan(10);
      expect(Number(size)).toBeGreaterThan(10 * 6_144);
      expect(Number(total)).toBe(count);
      expect(Number(fit)).toBeLessThan(count);
    }
    const fewest = Math.min(...roles.map((m) => Number(m[5])));
    expect(run.output).toContain(`At most ${fewest} of the ${count} databases of`);
    // The 300-database deployment packages, as the count says it would.
    expect(fewest).toBeGreaterThanOrEqual(300);
    // Stopped before anything was built, without the framework's stack trace.
    expect(run.output).not.toMatch(/\bat .+\.(c?js|ts):\d+/);
  }, PACKAGING_TEST_TIMEOUT_MS);
});
