// The config channel at the size it is built for (issue 7): the example deployment with 100 databases
// and its two clusters (the schema has exactly a primary and a backup cluster, no list of them)
// packages, every function's package carries all of it, pinned by its sha256, and no function's
// environment comes near Lambda's 4 KB.
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { stringify as toYaml } from 'yaml';
import { parseDeploymentConfig, type DeploymentConfig } from '../../shared/config.js';
import { packageDeploymentConfig } from '../../shared/config-file.js';
import { withManyDatabases } from '../../local/large-deployment.js';
import { exampleConfig } from '../support/fixtures.js';
import {
  deliveredConfig,
  environmentBytes,
  packageStack,
  removePackages,
  temporaryDirectory,
  type PackagedStack,
  PACKAGING_TEST_TIMEOUT_MS,
} from '../support/package-stack.js';

const DATABASES = 100;
const LAMBDA_ENVIRONMENT_LIMIT = 4 * 1024;

let large: DeploymentConfig;
let stack: PackagedStack;

beforeAll(async () => {
  large = withManyDatabases(exampleConfig(), DATABASES);
  const directory = await temporaryDirectory('frontier-dr-large-config-');
  const file = path.join(directory, 'large.yml');
  await writeFile(file, toYaml(large));
  stack = await packageStack({ config: file });
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
    const tooLarge = Object.entries(sizes).filter(([, bytes]) => bytes > LAMBDA_ENVIRONMENT_LIMIT / 4);
    expect(tooLarge).toEqual([]);
  });

  it('leaves the config out of the template', () => {
    // The last database's name appears only in IAM resources (scoped per database), never as config.
    const environments = JSON.stringify(functionNames().map(environmentOf));
    expect(environments).not.toContain(large.databases.at(-1)?.name);
  });
});
