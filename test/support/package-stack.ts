// The package tier's view of the stack: `serverless package` run offline, exactly as a deployment would
// package it, and its output read back (CloudFormation template, framework state, function bundles).
// Also runs cfn-lint from the project's Python environment on the packaged template.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { logTail } from '../../local/processes.js';
import { ensurePythonEnvironment } from '../../local/python-environment.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The stage every package test builds: names in the template read `frontier-dr-ci-...`. */
export const PACKAGE_STAGE = 'ci';

const serverlessBin = path.join(projectRoot, 'node_modules/.bin/serverless');
const cfnLintBin = path.join(projectRoot, '.venv/bin/cfn-lint');
/**
 * One packaging run may wait for others (they queue on a lock: the framework writes into the project)
 * and then takes 30-60 s on 2 loaded cores; past this it is stuck.
 */
const PACKAGE_TIMEOUT_MS = 600_000;
/** For a test's beforeAll that packages: the packaging budget and a margin for reading the output. */
export const PACKAGING_TEST_TIMEOUT_MS = PACKAGE_TIMEOUT_MS + 60_000;

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
}

/** The parts of `serverless-state.json` the tests read. */
export interface ServerlessState {
  service: {
    service: string;
    provider: { region: string; stage: string; runtime: string };
    functions: Record<string, { handler: string; name: string; package?: { artifact?: string } }>;
  };
}

export interface PackagedStack {
  /** The `--package` directory (a fresh temp dir). */
  directory: string;
  templatePath: string;
  /** `cloudformation-template-update-stack.json`: the stack as it would be deployed. */
  template: CfnTemplate;
  state: ServerlessState;
  /** Absolute paths of the function bundles (`<functionName>.zip`). */
  artifacts: string[];
  /** What `serverless package` printed (stdout and stderr, interleaved). */
  output: string;
}

export interface PackagingRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
}

// Per module registry, so once per jest test file: every test in a file reads the same package.
const packaged = new Map<string, Promise<PackagedStack>>();
const temporaryDirectories = new Set<string>();

/**
 * Packages the stack for stage `ci` (with `--param config=<file>` when `config` is given; the default
 * is config/example.yml) and reads the result back. Runs once per config per test file.
 */
export function packageStack(options: { config?: string } = {}): Promise<PackagedStack> {
  const key = options.config === undefined ? '' : path.resolve(projectRoot, options.config);
  let result = packaged.get(key);
  if (!result) {
    result = track(buildPackage(key === '' ? undefined : key));
    packaged.set(key, result);
  }
  return result;
}

/** Runs a packaging that is expected to fail; resolves with how it ended and what it printed. */
export function packageExpectingFailure(config: string): Promise<PackagingRun> {
  return track(
    (async () => {
      const directory = await temporaryDirectory('frontier-dr-package-');
      try {
        return await runServerlessPackage(directory, path.resolve(projectRoot, config));
      } finally {
        await removeDirectory(directory);
      }
    })(),
  );
}

/** Removes the package directories (and homes) this test file made; call it from `afterAll`. */
export async function removePackages(): Promise<void> {
  // A failed beforeAll can leave packagings running (Promise.all rejects at the first failure): let
  // them finish first, or they would create their directories after this cleanup.
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  packaged.clear();
  await Promise.all([...temporaryDirectories].map(removeDirectory));
}

const inFlight = new Set<Promise<unknown>>();
function track<T>(work: Promise<T>): Promise<T> {
  inFlight.add(work);
  const forget = (): void => {
    inFlight.delete(work);
  };
  work.then(forget, forget);
  return work;
}

/** Makes a temp dir that {@link removePackages} removes, e.g. for config files written by a test. */
export async function temporaryDirectory(prefix: string): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), prefix));
  temporaryDirectories.add(directory);
  return directory;
}

async function buildPackage(config: string | undefined): Promise<PackagedStack> {
  const directory = await temporaryDirectory('frontier-dr-package-');
  const run = await runServerlessPackage(directory, config);
  if (run.exitCode !== 0) {
    const how = run.timedOut ? `timed out after ${PACKAGE_TIMEOUT_MS / 1000} s` : `exit ${run.exitCode ?? run.signal}`;
    throw new Error(`serverless package ${config ? `with ${config} ` : ''}failed (${how}):\n${run.output}`);
  }
  const templatePath = path.join(directory, 'cloudformation-template-update-stack.json');
  const [template, state, entries] = await Promise.all([
    readJson<CfnTemplate>(templatePath),
    readJson<ServerlessState>(path.join(directory, 'serverless-state.json')),
    readdir(directory),
  ]);
  const artifacts = entries.filter((name) => name.endsWith('.zip')).sort().map((name) => path.join(directory, name));
  return { directory, templatePath, template, state, artifacts, output: run.output };
}

async function runServerlessPackage(directory: string, config: string | undefined): Promise<PackagingRun> {
  const [major = 0] = process.versions.node.split('.').map(Number);
  if (major < 22) {
    // serverless-step-functions and the other ESM-only plugins need 22; npm scripts and npx put the
    // node@22 devDependency first on the PATH, and the child inherits the Node running this test.
    throw new Error(`jest runs on Node ${process.versions.node}; run it through npm (npm run test:package) or npx so Node 22 is used`);
  }
  const home = await temporaryDirectory('frontier-dr-home-');
  const args = ['package', '--stage', PACKAGE_STAGE, '--package', directory, ...(config ? ['--param', `config=${config}`] : [])];
  // serverless-esbuild builds in <repo>/.esbuild and deletes it when done, so two packagings of this
  // repository at once break each other: take turns (flock is in Debian's essential util-linux).
  const lock = path.join(os.tmpdir(), `frontier-dr-package-${hashOf(projectRoot)}.lock`);
  const [command, commandArgs] = hasFlock() ? ['flock', [lock, serverlessBin, ...args]] : [serverlessBin, args];
  return runCommand(command, commandArgs, packagingEnvironment(home), PACKAGE_TIMEOUT_MS);
}

/**
 * What the framework gets: no AWS variables at all (proving packaging needs no credentials, profile,
 * region or endpoint), an empty HOME (no ~/.aws, no ~/.serverless), and this Node first on the PATH.
 */
function packagingEnvironment(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AWS_') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  env.HOME = home;
  env.PATH = [path.dirname(process.execPath), process.env.PATH].filter(Boolean).join(path.delimiter);
  env.FORCE_COLOR = '0';
  env.NO_COLOR = '1';
  return env;
}

export interface LintResult {
  exitCode: number | null;
  output: string;
}

/**
 * Runs cfn-lint on a template from the repository root, where cfn-lint 1.x finds `.cfnlintrc`.
 * `regions` are the regions to validate resource types and properties against.
 */
export async function lintTemplate(templatePath: string, regions: readonly string[]): Promise<LintResult> {
  await ensurePythonEnvironment();
  const home = await temporaryDirectory('frontier-dr-home-');
  // An empty HOME: a ~/.cfnlintrc of whoever runs the tests must not change the verdict.
  const env = { ...process.env, HOME: home };
  const run = await runCommand(cfnLintBin, ['--regions', ...regions, '--', templatePath], env, 60_000);
  return { exitCode: run.exitCode, output: run.output };
}

function runCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<PackagingRun> {
  return new Promise((resolve) => {
    const output = logTail(200_000);
    // Its own process group, so a timeout stops flock, the framework and whatever they started.
    const child = spawn(command, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => output.append(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.append(chunk.toString('utf8')));
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ exitCode: null, signal: null, timedOut, output: `${command} could not start: ${error.message}` });
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, timedOut, output: output.text() });
    });
  });
}

let flockAvailable: boolean | undefined;
function hasFlock(): boolean {
  flockAvailable ??= spawnSync('flock', ['--version'], { stdio: 'ignore' }).status === 0;
  return flockAvailable;
}

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

async function removeDirectory(directory: string): Promise<void> {
  temporaryDirectories.delete(directory);
  await rm(directory, { recursive: true, force: true });
}

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  /** 0 stored, 8 deflated. */
  method: number;
  localHeaderOffset: number;
}

/** Lists a zip file's entries from its central directory (enough for bundles; no ZIP64). */
export async function listZip(file: string): Promise<ZipEntry[]> {
  const data = await readFile(file);
  const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
  const CENTRAL_DIRECTORY_HEADER = 0x02014b50;
  // The end record is 22 bytes plus a comment of up to 64 KiB, at the very end of the file.
  let end = -1;
  for (let offset = data.length - 22; offset >= Math.max(0, data.length - 22 - 0xffff); offset--) {
    if (data.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) {
      end = offset;
      break;
    }
  }
  if (end < 0) throw new Error(`${file} is not a zip file (no end of central directory record)`);
  const count = data.readUInt16LE(end + 10);
  let offset = data.readUInt32LE(end + 16);
  if (count === 0xffff || offset === 0xffffffff) throw new Error(`${file} is a ZIP64 archive, which listZip does not read`);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (data.readUInt32LE(offset) !== CENTRAL_DIRECTORY_HEADER) throw new Error(`${file}: bad central directory entry ${i}`);
    const compressedSize = data.readUInt32LE(offset + 20);
    const size = data.readUInt32LE(offset + 24);
    const nameLength = data.readUInt16LE(offset + 28);
    const extraLength = data.readUInt16LE(offset + 30);
    const commentLength = data.readUInt16LE(offset + 32);
    const method = data.readUInt16LE(offset + 10);
    const localHeaderOffset = data.readUInt32LE(offset + 42);
    const name = data.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.push({ name, size, compressedSize, method, localHeaderOffset });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** One file of a zip, uncompressed (stored or deflated entries: what the framework's zips hold). */
export async function readZipEntry(file: string, name: string): Promise<Buffer> {
  const entry = (await listZip(file)).find((e) => e.name === name);
  if (!entry) throw new Error(`${file} has no entry ${name}`);
  const data = await readFile(file);
  const LOCAL_FILE_HEADER = 0x04034b50;
  if (data.readUInt32LE(entry.localHeaderOffset) !== LOCAL_FILE_HEADER) throw new Error(`${file}: bad local header for ${name}`);
  const start = entry.localHeaderOffset + 30 + data.readUInt16LE(entry.localHeaderOffset + 26) + data.readUInt16LE(entry.localHeaderOffset + 28);
  const raw = data.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return Buffer.from(raw);
  if (entry.method === 8) return inflateRawSync(raw);
  throw new Error(`${file}: ${name} uses compression method ${entry.method}`);
}

// ---- the deployment config as a function receives it ----

/**
 * What Lambda counts against its 4 KB environment limit is names plus resolved values. A value the
 * template leaves to CloudFormation (Ref, GetAtt, Sub) resolves to an ARN or a name: 256 characters
 * bound those here.
 */
export const RESOLVED_INTRINSIC_BOUND = 256;

export function environmentBytes(variables: Record<string, unknown>): number {
  return Object.entries(variables).reduce(
    (total, [name, value]) => total + Buffer.byteLength(name) + (typeof value === 'string' ? Buffer.byteLength(value) : RESOLVED_INTRINSIC_BOUND),
    0,
  );
}

export interface DeliveredConfig {
  /** DR_CONFIG_FILE and DR_CONFIG_SHA256 as the function's environment carries them. */
  file: unknown;
  sha256: unknown;
  /** The file's bytes as the function's package holds them (undefined when it is not in the zip). */
  text?: string;
  /** sha256 of those bytes. */
  actualSha256?: string;
}

/** The deployment config one packaged function would read at cold start. */
export async function deliveredConfig(stack: PackagedStack, functionName: string): Promise<DeliveredConfig> {
  const logicalId = `${functionName.charAt(0).toUpperCase()}${functionName.slice(1)}LambdaFunction`;
  const variables = ((stack.template.Resources[logicalId]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
  const file = variables.DR_CONFIG_FILE;
  const sha256 = variables.DR_CONFIG_SHA256;
  const artifact = stack.artifacts.find((a) => path.basename(a, '.zip') === functionName);
  if (typeof file !== 'string' || !artifact) return { file, sha256 };
  const entries = await listZip(artifact);
  if (!entries.some((e) => e.name === file)) return { file, sha256 };
  const bytes = await readZipEntry(artifact, file);
  return { file, sha256, text: bytes.toString('utf8'), actualSha256: createHash('sha256').update(bytes).digest('hex') };
}
