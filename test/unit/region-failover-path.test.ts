// Proof of independence, the static half: region-failover's definition and the code of its path are
// held to shared/region-failover-path.ts, so wiring the primary region (or the primary cluster) into a
// failover step fails here, before any run. The integration tier proves the same by running the
// failover with the primary region refused (test/integration/region-failover.test.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REGION_DETECTION_FUNCTIONS, REGION_FAILOVER_PATH } from '../../shared/region-failover-path.js';
import { repointTargetFor } from '../../shared/repoint.js';
import { exampleConfig } from '../support/fixtures.js';
import { moduleGraph } from '../support/kubernetes-functions.js';
import { projectRoot } from '../../local/python-environment.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface TaskState {
  name: string;
  function: string;
  parameters: Json;
}

/** Every Task state of the definition, Parallel branches included. */
function taskStates(states: Record<string, Json>): TaskState[] {
  const found: TaskState[] = [];
  for (const [name, state] of Object.entries(states)) {
    if (!state || typeof state !== 'object' || Array.isArray(state)) continue;
    const resource = state.Resource as { 'Fn::GetAtt'?: string[] } | undefined;
    // A callback Task (lambda:invoke.waitForTaskToken) names its function in Parameters.FunctionName.
    const callee = (state.Parameters as { FunctionName?: { 'Fn::GetAtt'?: string[] } } | undefined)?.FunctionName?.['Fn::GetAtt']?.[0];
    if (state.Type === 'Task') found.push({ name, function: resource?.['Fn::GetAtt']?.[0] ?? callee ?? String(state.Resource), parameters: state.Parameters ?? null });
    if (Array.isArray(state.Branches)) {
      for (const branch of state.Branches as { States: Record<string, Json> }[]) found.push(...taskStates(branch.States));
    }
  }
  return found;
}

const definition = parse(readFileSync(path.join(projectRoot, 'statemachines/region-failover.asl.yaml'), 'utf8')) as { States: Record<string, Json> };
const tasks = taskStates(definition.States);
const config = exampleConfig();

/** Every string in a Parameters block, with its key path. */
function strings(value: Json, at: string[] = []): { path: string[]; value: string }[] {
  if (typeof value === 'string') return [{ path: at, value }];
  if (Array.isArray(value)) return value.flatMap((item, i) => strings(item, [...at, String(i)]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => strings(item, [...at, key]));
  return [];
}

/** `functions/<kebab>/handler.ts` of a serverless.yml function. */
function handlerFile(functionName: string): string {
  return `functions/${functionName.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}/handler.ts`;
}

const CLIENT_CALL = /\b(rdsClient|s3Client|secretsClient|snsClient|dynamoClient|eksClient|cloudWatchClient|stepFunctionsClient)\(([^)]*)\)/g;

/**
 * RepointApplication serves database recovery, region failover and region failback: its handler makes
 * its Secrets Manager client for the region repointTargetFor names, which for region-failover is the
 * recovery region (checked by running it, below).
 */
const REPOINT_HANDLER = 'functions/repoint-application/handler.ts';
const REPOINT_SECRET_REGION = 'target.secretRegion';

/**
 * What in one source file would make a failover step call the primary region or the primary cluster:
 * an AWS client made for anything but the recovery region (`config.recoveryRegion`, or a `region`
 * taken from it or from the stack's own topic), a connection or cluster for the 'primary' role.
 */
function primaryReaches(file: string, source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(CLIENT_CALL)) {
    const argument = (match[2] ?? '').trim();
    if (file === REPOINT_HANDLER && argument === REPOINT_SECRET_REGION) continue;
    if (argument !== 'config.recoveryRegion' && argument !== 'region') found.push(`${file}: ${match[0]} (not the recovery region)`);
  }
  for (const match of source.matchAll(/\b(connectTo|clusterFor|assessClusterHealth|scaleApi|applyProductionManifests)\([^)]*'primary'/g)) found.push(`${file}: ${match[0]}...) (the primary cluster)`);
  for (const match of source.matchAll(/\bconst region = ([^;]+);/g)) {
    if (/primaryRegion/.test(match[1] ?? '')) found.push(`${file}: ${match[0]} (a region variable from the primary region)`);
  }
  return found;
}

describe('region-failover reaches only the recovery region (static check)', () => {
  it('declares every Task state of the definition, with the function it runs, and nothing else', () => {
    expect(Object.fromEntries(tasks.map((t) => [t.name, t.function]))).toEqual(Object.fromEntries(Object.entries(REGION_FAILOVER_PATH).map(([name, step]) => [name, step.function])));
  });

  it('gives no state the primary cluster, the primary region or a path into the primary side', () => {
    const primaryNames = [config.primaryRegion, config.kubernetes!.clusters.primary.name];
    const problems = tasks.flatMap((task) =>
      strings(task.parameters).flatMap(({ path: at, value }) => {
        const where = `${task.name}.Parameters.${at.join('.')}`;
        if (at[at.length - 1] === 'cluster' && value !== 'backup') return [`${where}: cluster ${value}`];
        if (primaryNames.includes(value)) return [`${where}: ${value}`];
        if (at[at.length - 1]?.endsWith('.$') && /primary/i.test(value)) return [`${where}: ${value}`];
        return [];
      }),
    );
    expect(problems).toEqual([]);
    // The Kubernetes steps do name a cluster: the recovery one.
    expect(tasks.filter((t) => REGION_FAILOVER_PATH[t.name]!.reaches.includes('recovery-cluster') && t.name !== 'RepointApplication').map((t) => (t.parameters as { cluster?: string }).cluster)).toEqual(
      expect.arrayContaining(['backup']),
    );
  });

  it("makes every AWS client of the path's handlers and region-failover modules for the recovery region", () => {
    const functions = [...new Set([...Object.values(REGION_FAILOVER_PATH).map((s) => s.function), ...REGION_DETECTION_FUNCTIONS])];
    const files = new Set<string>();
    for (const fn of functions) {
      files.add(handlerFile(fn));
      // The region failover's own shared modules the handler loads (shared code of the other scenarios
      // takes its region or cluster from the handler, checked above and here).
      for (const file of moduleGraph(handlerFile(fn))) if (/^shared\/region-/.test(file) || file === 'functions/common/recovery-lock.ts') files.add(file);
    }
    expect(files.size).toBeGreaterThan(functions.length);
    const problems = [...files].flatMap((file) => primaryReaches(file, readFileSync(path.join(projectRoot, file), 'utf8')));
    expect(problems).toEqual([]);
  });

  it("repoints a region failover's recovery-region secret and the recovery cluster's Secret (the shared repoint handler)", () => {
    const failover = config.regionFailover!;
    const target = repointTargetFor(config, { scenario: 'region-failover', recovery: null });
    expect(target.secretRegion).toBe(config.recoveryRegion);
    expect(target.cluster).toEqual({ role: 'backup', kubernetesSecret: failover.kubernetesSecret });
    expect(target.database.name).toBe(failover.database);
    expect(readFileSync(path.join(projectRoot, REPOINT_HANDLER), 'utf8')).toMatch(/const target = repointTargetFor\(config, event\.run\);/);
    // The exception is the handler's own: anywhere else that argument is flagged like any other.
    expect(primaryReaches('x.ts', `secretsClient(${REPOINT_SECRET_REGION})`)).toHaveLength(1);
  });

  it('catches a step wired to the primary region or the primary cluster', () => {
    // What the check above would see if someone made these changes.
    expect(primaryReaches('x.ts', 'rdsClient(config.primaryRegion)')).toHaveLength(1);
    expect(primaryReaches('x.ts', 'cloudWatchClient(config.kubernetes.clusters.primary.region)')).toHaveLength(1);
    expect(primaryReaches('x.ts', "await connectTo(config, 'primary')")).toHaveLength(1);
    expect(primaryReaches('x.ts', 'const region = config.primaryRegion;')).toHaveLength(1);
    expect(primaryReaches('x.ts', 'secretsClient(config.recoveryRegion)')).toEqual([]);
  });
});
