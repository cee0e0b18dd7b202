// The longest database name the config accepts (63 characters) still gets restored and restore-tested:
// the packaged roles' resource patterns match the identifiers the functions generate for it
// (shared/names.ts), because the stack derives them from the same rules. A pattern written from a
// copy of the rule (e.g. `db:<full name>-r-*` while the id is cut to fit 63 characters) is denied
// at StartDatabaseRestore during a real recovery; this catches it at package time.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { incidentIdFor, restoredInstanceId, scratchInstanceId } from '../../shared/names.js';
import { EXAMPLE_CONFIG_PATH, exampleConfig } from '../support/fixtures.js';
import { iamWildcardMatches, statementsOf } from '../support/iam.js';
import { PACKAGING_TEST_TIMEOUT_MS, packageStack, removePackages, temporaryDirectory, type CfnTemplate } from '../support/package-stack.js';

const LONG_NAME = 'frontier-analytics-warehouse-eu-central-primary-reporting-db-01';
const INCIDENT_ID = incidentIdFor('2026-11-25T12:04:00Z');
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:frontier-dr-ci-restore-test:weekly';
const ACCOUNT = '123456789012';
const example = exampleConfig();

let template: CfnTemplate;

beforeAll(async () => {
  const document = parseDocument(await readFile(EXAMPLE_CONFIG_PATH, 'utf8'));
  document.setIn(['databases', 0, 'name'], LONG_NAME);
  document.setIn(['health', 'database'], LONG_NAME);
  document.setIn(['regionFailover', 'database'], LONG_NAME);
  const file = path.join(await temporaryDirectory('frontier-dr-long-name-'), 'long-database-name.yml');
  await writeFile(file, document.toString());
  template = (await packageStack({ config: file })).template;
}, PACKAGING_TEST_TIMEOUT_MS);

afterAll(removePackages);

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : [value].flat());

/** The resource patterns a function's role allows `action` on, with partition and account filled in. */
function allowedResources(functionName: string, action: string): string[] {
  const fn = template.Resources[`${functionName.charAt(0).toUpperCase()}${functionName.slice(1)}LambdaFunction`];
  const role = (fn?.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  if (!role) throw new Error(`${functionName} has no role of its own`);
  return statementsOf(template, role)
    .filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action))
    .flatMap((s) => [s.Resource ?? []].flat())
    .map((r) => (typeof r === 'string' ? r : String((r as { 'Fn::Sub'?: unknown })['Fn::Sub'])))
    .map((r) => r.replaceAll('${AWS::Partition}', 'aws').replaceAll('${AWS::AccountId}', ACCOUNT));
}

describe('a database name of 63 characters', () => {
  const restoredArn = `arn:aws:rds:${example.primaryRegion}:${ACCOUNT}:db:${restoredInstanceId(LONG_NAME, INCIDENT_ID)}`;
  const scratchArn = `arn:aws:rds:${example.recoveryRegion}:${ACCOUNT}:db:${scratchInstanceId(LONG_NAME, EXECUTION)}`;

  it('is the longest the config schema allows, and its restored instance id is cut to fit', () => {
    expect(LONG_NAME).toHaveLength(63);
    expect(restoredInstanceId(LONG_NAME, INCIDENT_ID).length).toBeLessThanOrEqual(63);
    expect(restoredInstanceId(LONG_NAME, INCIDENT_ID).startsWith(LONG_NAME)).toBe(false);
  });

  it.each(['rds:RestoreDBInstanceToPointInTime', 'rds:RestoreDBInstanceFromDBSnapshot', 'rds:AddTagsToResource', 'rds:DescribeDBInstances'])(
    'startDatabaseRestore may %s on its restored instance',
    (action) => {
      const patterns = allowedResources('startDatabaseRestore', action);

      expect(patterns.length).toBeGreaterThan(0);
      expect(patterns.filter((pattern) => iamWildcardMatches(pattern, restoredArn))).not.toEqual([]);
    },
  );

  it('checkDatabaseRestore may describe its restored instance', () => {
    expect(allowedResources('checkDatabaseRestore', 'rds:DescribeDBInstances').some((pattern) => iamWildcardMatches(pattern, restoredArn))).toBe(true);
  });

  it.each([
    ['startScratchRestore', 'rds:RestoreDBInstanceFromDBSnapshot'],
    ['checkScratchInstance', 'rds:DescribeDBInstances'],
    ['deleteScratchInstance', 'rds:DeleteDBInstance'],
  ])('%s may %s on its scratch restore-test instance', (functionName, action) => {
    expect(allowedResources(functionName, action).some((pattern) => iamWildcardMatches(pattern, scratchArn))).toBe(true);
  });
});
