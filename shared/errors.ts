// Errors cross the Lambda -> Step Functions boundary by name: `error.name` is what an ASL
// `Retry`/`Catch` `ErrorEquals` matches, so every class sets a stable name.
import {
  isServerError,
  isThrottlingError,
  isTransientError,
  isClockSkewError,
} from '@smithy/service-error-classification';
import type { SdkError } from '@smithy/types';
import type { $ZodIssue } from 'zod/v4/core';

export class RecoveryError extends Error {
  override name = 'RecoveryError';
}

/** The execution input is wrong; nothing was changed. Never retried. */
export class InvalidInput extends RecoveryError {
  override name = 'InvalidInput';
}

/** The deployment config is wrong; fix config/*.yml and redeploy. */
export class InvalidConfig extends RecoveryError {
  override name = 'InvalidConfig';
}

/**
 * The deployment config a function found is not the one it was deployed with (its sha256 differs from
 * the function's DR_CONFIG_SHA256): a half-finished or hand-edited deployment. Never retried: redeploy.
 */
export class DeploymentConfigMismatch extends InvalidConfig {
  override name = 'DeploymentConfigMismatch';
}

/** Throttling, 5xx or a network fault that outlived the SDK's own retries: ASL retries with backoff. */
export class AwsTransientError extends RecoveryError {
  override name = 'AwsTransientError';
}

/**
 * Internal, never crosses the state-machine boundary: one attempt of an AWS call got no answer in time
 * from `endpoint` (shared/clients.ts turns the HTTP handler's timeout into this, so the SDK does not
 * retry a silent endpoint). classifyAwsError turns it into an AwsTransientError that names the endpoint.
 */
export class EndpointTimeout extends Error {
  constructor(
    readonly endpoint: string,
    readonly detail: string,
    readonly original: unknown,
  ) {
    super(`no answer from ${endpoint} in time: ${detail}`);
    this.name = 'EndpointTimeout';
  }
}

/** The function's role lacks a permission: a deployment problem, retrying will not help. */
export class AwsAccessDenied extends RecoveryError {
  override name = 'AwsAccessDenied';
}

export class ResourceNotFound extends RecoveryError {
  override name = 'ResourceNotFound';
}

/** A resource exists but is in a state the step cannot work with (e.g. a restore that ended `failed`). */
export class UnexpectedResourceState extends RecoveryError {
  override name = 'UnexpectedResourceState';
}

/** A health or validation probe ran and got a wrong answer (or none in time). */
export class ValidationFailed extends RecoveryError {
  override name = 'ValidationFailed';
}

/** This execution no longer holds the recovery lock (another execution took over): stop before acting. Never retried. */
export class RecoveryLockLost extends RecoveryError {
  override name = 'RecoveryLockLost';
}

/**
 * A region failback was started from a region-failover report it cannot fail back from (not found, not
 * a region failover, not completed, a dry run, or without the record a failback needs); the message
 * names the report and why. Nothing was changed. Never retried.
 */
export class FailbackRefused extends InvalidInput {
  override name = 'FailbackRefused';
}

/** A region failback found the primary region not answering (RDS, EKS): nothing was changed. Start it again once the region is back. */
export class PrimaryRegionUnavailable extends RecoveryError {
  override name = 'PrimaryRegionUnavailable';
}

/** A snapshot or a snapshot copy did not become `available` within the configured limit, or failed. */
export class SnapshotTransferFailed extends UnexpectedResourceState {
  override name = 'SnapshotTransferFailed';
}

/** A restored database instance did not become `available` within `recovery.timeoutMinutes`. */
export class DatabaseRestoreTimedOut extends UnexpectedResourceState {
  override name = 'DatabaseRestoreTimedOut';
}

/** A scratch restore-test instance did not become `available` within the configured limit. */
export class RestoreTimedOut extends RecoveryError {
  override name = 'RestoreTimedOut';
}

/** A Route 53 change was not `INSYNC` within the configured limit: clients may still resolve the old address. */
export class DnsChangeTimedOut extends UnexpectedResourceState {
  override name = 'DnsChangeTimedOut';
}

/**
 * Route 53 ARC refused a routing-control change with ConflictException: a safety rule of the control
 * panel (an assertion rule such as "at least one On", or a gating rule) forbids the resulting states,
 * or another update of the same controls was under way. Never retried: a person decides (fix the
 * states, or override the rule as the README shows).
 */
export class RoutingControlConflict extends RecoveryError {
  override name = 'RoutingControlConflict';
}

/**
 * A failback set DNS back to the recorded values, but reading them back found something else (another
 * change raced it, or the record/routing control differs): clients may not resolve the old address.
 */
export class DnsVerificationFailed extends UnexpectedResourceState {
  override name = 'DnsVerificationFailed';
}

/** A Kubernetes rollout did not finish within the configured limit. */
export class RolloutTimedOut extends RecoveryError {
  override name = 'RolloutTimedOut';
}

// ---------------------------------------------------------------------------------------------------
// Secret rotation (shared/rotation.ts). Secrets Manager invokes the rotation function itself, not a
// state machine, and retries a failed step on its own schedule; the names still say what went wrong,
// and no message carries a secret value.

/**
 * The rotation event or the secret's state forbids the step: rotation not enabled, a token that is no
 * version of the secret (or one that is neither AWSPENDING nor AWSCURRENT), a secret the config does not
 * list, a pending value that does not belong with the current one. Nothing was changed.
 */
export class RotationRefused extends RecoveryError {
  override name = 'RotationRefused';
}

/**
 * Secrets Manager gave no answer in time (shared/clients.ts's endpoint timeouts): the function runs in
 * the database's VPC, and that VPC has no route to the Secrets Manager endpoint the message names.
 */
export class SecretsManagerUnreachable extends AwsTransientError {
  override name = 'SecretsManagerUnreachable';
}

/** The database refused the login (SQLSTATE class 28: wrong password, no such role, pg_hba.conf). */
export class DatabaseLoginRefused extends RecoveryError {
  override name = 'DatabaseLoginRefused';
}

/** The database could not be reached: connection refused, DNS, or no answer within the timeout. */
export class DatabaseUnreachable extends RecoveryError {
  override name = 'DatabaseUnreachable';
}

/** A statement of the rotation was refused by the database (e.g. the user may not create or alter the role). */
export class DatabaseStatementFailed extends RecoveryError {
  override name = 'DatabaseStatementFailed';
}

// ---------------------------------------------------------------------------------------------------
// Rotating a secret now and waiting for it (shared/rotate-now.ts).

/**
 * RotateSecret was not called: another version of the secret is AWSPENDING (and not AWSCURRENT), a
 * rotation Secrets Manager still has in progress and retries on its own. The message names the version
 * and the rotation function's log group. Nothing was changed.
 */
export class RotationInProgress extends RecoveryError {
  override name = 'RotationInProgress';
}

/**
 * A started rotation did not complete: its version is gone, or still not AWSCURRENT after the limit
 * (securityIncident.rotationTimeoutMinutes). The message names the secret, the version and where to
 * look (the rotation function's log group). The current credentials are untouched and still work.
 */
export class RotationNotCompleted extends RecoveryError {
  override name = 'RotationNotCompleted';
}

// ---------------------------------------------------------------------------------------------------
// Approvals (shared/approval.ts). ApprovalDeclined is what Step Functions carries when an approver
// declines (SendTaskFailure with this error name, from the console, the CLI or the signed link) or
// when a timeout's policy declines: nothing was changed. The others are the answer page's, never a
// state's.

/** An approver said no, or no one answered and `onTimeout` is decline: the run stops before any change. */
export class ApprovalDeclined extends RecoveryError {
  override name = 'ApprovalDeclined';
}

/** An approval link whose signature does not match (forged or altered) or that names no approval. */
export class ApprovalLinkInvalid extends RecoveryError {
  override name = 'ApprovalLinkInvalid';
}

/** An approval link used after its approval's timeout: the run already did what onTimeout says. */
export class ApprovalExpired extends RecoveryError {
  override name = 'ApprovalExpired';
}

/** An approval that already has its answer (from the link, the console or the CLI). */
export class ApprovalAlreadyAnswered extends RecoveryError {
  override name = 'ApprovalAlreadyAnswered';
}

// ---------------------------------------------------------------------------------------------------
// Kubernetes API (shared/kubernetes/): KubernetesTransientError and KubernetesUnreachable are worth an
// ASL Retry, the others go straight to a Catch.

/** The API server could not be reached (refused, timed out, DNS): the cluster or its network is down. */
export class KubernetesUnreachable extends RecoveryError {
  override name = 'KubernetesUnreachable';
}

/** 401 even with a fresh token, or 403 (RBAC): a deployment problem, retrying will not help. */
export class KubernetesUnauthorized extends RecoveryError {
  override name = 'KubernetesUnauthorized';
}

export class KubernetesNotFound extends RecoveryError {
  override name = 'KubernetesNotFound';
}

export class KubernetesConflict extends RecoveryError {
  override name = 'KubernetesConflict';
}

/** 5xx or 429 from the API server: ASL retries with backoff. */
export class KubernetesTransientError extends RecoveryError {
  override name = 'KubernetesTransientError';
}

/** 400, 415 or 422: the API server refused what we sent (e.g. an invalid manifest). Never retried. */
export class KubernetesRejected extends RecoveryError {
  override name = 'KubernetesRejected';
}

/** The deployment has no earlier revision, or not the one asked for. */
export class NothingToRollBack extends RecoveryError {
  override name = 'NothingToRollBack';
}

/** The rollout hit its progressDeadlineSeconds (condition Progressing=False, ProgressDeadlineExceeded). */
export class RolloutFailed extends RecoveryError {
  override name = 'RolloutFailed';
}

// ---------------------------------------------------------------------------------------------------
// API-key rotation (shared/api-key-rotation.ts). Invoked by Secrets Manager like the
// database rotation; no message carries a key, only key names and digest prefixes.

/**
 * The API-key secret's value (or a version of it) is not a key set: a JSON object of at least one
 * Kubernetes Secret data key name ([-._a-zA-Z0-9]+) to a non-empty string. Nothing was changed.
 */
export class ApiKeySetInvalid extends InvalidConfig {
  override name = 'ApiKeySetInvalid';
}

/** The serving cluster's Kubernetes copy of the API keys does not hold the pending key set (testSecret, finishSecret). */
export class ApiKeyCopyMismatch extends RecoveryError {
  override name = 'ApiKeyCopyMismatch';
}

// ---------------------------------------------------------------------------------------------------
// Containment (shared/containment.ts): blocking addresses (NetworkPolicy, WAF IP set) and
// emergency mode. Kubernetes failures keep the library's names (KubernetesNotFound, ...).

/** The WAF IP set the config names (securityIncident.blockIps.wafIpSet) does not exist: name, id, scope or region is wrong. Nothing was changed. */
export class WafIpSetNotFound extends ResourceNotFound {
  override name = 'WafIpSetNotFound';
}

/**
 * The WAF IP set kept changing under us (WAFOptimisticLockException on every attempt): someone else is
 * updating it. Nothing was changed by this attempt; the ASL Retry tries again later.
 */
export class WafIpSetBusy extends AwsTransientError {
  override name = 'WafIpSetBusy';
}

/** The union of the IP set's addresses and the ones to block exceeds WAF's 10,000 per set. Nothing was changed. */
export class WafIpSetFull extends RecoveryError {
  override name = 'WafIpSetFull';
}

/** The emergency-mode ConfigMap (securityIncident.emergencyMode.configMap) does not exist: the plan patches an existing one, never creates it. */
export class EmergencyModeConfigMapMissing extends KubernetesNotFound {
  override name = 'EmergencyModeConfigMapMissing';
}

// ---------------------------------------------------------------------------------------------------
// Security incident evidence (shared/evidence.ts)

/**
 * S3 refused an evidence object because its SHA-256 did not match the one sent with it (BadDigest,
 * InvalidRequest about the checksum): the bytes changed on the way. Nothing was stored under that
 * version; worth an ASL Retry (the content is read again).
 */
export class EvidenceChecksumMismatch extends RecoveryError {
  override name = 'EvidenceChecksumMismatch';
}

/**
 * The evidence bucket stored an object without a version id: it is not versioned, so it has no Object
 * Lock either, and the evidence could be overwritten or deleted. A deployment problem (the bucket is
 * not the one the stack creates); never retried.
 */
export class EvidenceBucketUnprotected extends RecoveryError {
  override name = 'EvidenceBucketUnprotected';
}

// ---------------------------------------------------------------------------------------------------
// The security-incident state machine (shared/security-incident-preflight.ts,
// shared/kubernetes/images.ts): its preflight and the patch rollout.

/**
 * SecurityIncidentPreflight found something that would stop the response part-way (a missing
 * deployment, ConfigMap, secret or bucket, a secret that is a replica or already rotating): every
 * problem at once, before the approval and the first change. Never retried: fix them and start again.
 */
export class IncidentPreflightFailed extends RecoveryError {
  override name = 'IncidentPreflightFailed';
}

/**
 * The API deployment has no container the patched image can go to: none named like the deployment,
 * and not exactly one (the message lists them). Never retried.
 */
export class PatchContainerNotFound extends RecoveryError {
  override name = 'PatchContainerNotFound';
}

/** Error names the state machines retry; the other names go straight to the Catch. */
export const RETRYABLE_ERROR_NAMES = ['AwsTransientError'] as const;

const ACCESS_DENIED_NAMES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'AuthorizationError',
  'KMSAccessDeniedFault',
]);

// Names the SDK uses for missing resources across RDS, S3, SNS and Secrets Manager; RDS and Secrets
// Manager also have modelled classes, but S3's "no such configuration" answers only carry a name.
const NOT_FOUND_NAMES = new Set([
  // WAFv2 answers a missing IP set (wrong name, id, scope or region) with HTTP 400.
  'WAFNonexistentItemException',
  'DBInstanceNotFoundFault',
  'DBInstanceNotFound',
  'DBSnapshotNotFoundFault',
  'DBSnapshotNotFound',
  'DBInstanceAutomatedBackupNotFoundFault',
  'DBInstanceAutomatedBackupNotFound',
  'ResourceNotFoundException',
  'NoSuchBucket',
  'NoSuchKey',
  'NotFound',
  'NotFoundException',
  'NoSuchHostedZone',
  'NoSuchChange',
  // Step Functions answers an unknown execution with HTTP 400, so only the name tells.
  'ExecutionDoesNotExist',
  // A task token Step Functions no longer holds (the approval step answers its own earlier).
  'TaskDoesNotExist',
  'DBParameterGroupNotFoundFault',
  'DBParameterGroupNotFound',
  // Readiness: EC2 answers a security group id that does not exist with HTTP 400 and this name.
  'InvalidGroup.NotFound',
  // Readiness: EC2 answers an unknown subnet or VPC id the same way (HTTP 400).
  'InvalidSubnetID.NotFound',
  'InvalidVpcID.NotFound',
  // Alertmanager: Step Functions answers an unknown state machine with HTTP 400.
  'StateMachineDoesNotExist',
]);

// Errors are recognised by shape, not `instanceof Error`: Node's own network errors come from
// another realm under test runners (and from other copies of a class in a bundle).
function errorLike(error: unknown): (Error & { code?: string }) | undefined {
  return typeof error === 'object' && error !== null && typeof (error as Error).name === 'string' ? (error as Error & { code?: string }) : undefined;
}

function sdkError(error: unknown): SdkError | undefined {
  const candidate = errorLike(error);
  return candidate && '$metadata' in candidate ? (candidate as SdkError) : undefined;
}

/**
 * Turns whatever an AWS call threw into one of the named errors above, with a message that says
 * which call on which resource failed, so the report and the Step Functions console read plainly.
 */
export function classifyAwsError(error: unknown, call: string, resource: string): RecoveryError {
  if (error instanceof RecoveryError) return error;
  const what = `${call} on ${resource}`;
  const sdk = sdkError(error);
  const like = errorLike(error);
  const name = like?.name ?? 'UnknownError';
  const detail = like ? String(like.message) : String(error);
  const denied = () =>
    new AwsAccessDenied(`${what} was denied (${name}): the function's IAM role needs this permission. ${detail}`, { cause: error });
  // Checked first: the SDK's clock-skew list contains AccessDeniedException, and a missing
  // permission retried with backoff only delays the page.
  if (ACCESS_DENIED_NAMES.has(name)) return denied();
  // (After its retries the SDK adds $metadata to a network error too, but no HTTP status.)
  if (name === 'EndpointTimeout' || (sdk?.$metadata?.httpStatusCode === undefined && isUnreachable(error))) return unreachable(error, what, name, detail);
  // The SDK's own classification also covers Node network errors (ECONNRESET, timeouts) that
  // carry no $metadata.
  const candidate = like as SdkError | undefined;
  if (TRANSIENT_NAMES.has(name)) return new AwsTransientError(`${what} failed temporarily (${name}): ${detail}`, { cause: error });
  if (candidate && (isThrottlingError(candidate) || isTransientError(candidate) || isServerError(candidate) || isClockSkewError(candidate))) {
    return new AwsTransientError(`${what} failed temporarily (${name}): ${detail}`, { cause: error });
  }
  if (sdk?.$metadata?.httpStatusCode === 403) return denied();
  if (NOT_FOUND_NAMES.has(name) || sdk?.$metadata?.httpStatusCode === 404) {
    return new ResourceNotFound(`${what}: not found (${name}). ${detail}`, { cause: error });
  }
  return new RecoveryError(`${what} failed (${name}): ${detail}`, { cause: error });
}

// Route 53 answers a change made while an earlier one is still being applied with this (HTTP 400): it
// asks to be retried after a few seconds, but the SDK does not count it as throttling.
const TRANSIENT_NAMES = new Set(['PriorRequestNotComplete']);

// DNS failures are not in the SDK's transient list, but during a regional event they often are.
const UNREACHABLE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

function isUnreachable(error: unknown): boolean {
  const code = errorLike(error)?.code;
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

/**
 * An AWS endpoint that could not be reached: AwsTransientError (the ASL Retry takes it), with the
 * endpoint (shared/clients.ts records it on the error) and what usually causes it.
 */
function unreachable(error: unknown, what: string, name: string, detail: string): AwsTransientError {
  const endpoint = (error as { endpoint?: unknown; $endpoint?: unknown }).endpoint ?? (error as { $endpoint?: unknown }).$endpoint;
  const where = typeof endpoint === 'string' ? endpoint : 'the service endpoint';
  const code = (error as { code?: unknown }).code;
  const how = name === 'EndpointTimeout' ? `no answer: ${(error as EndpointTimeout).detail}` : `${typeof code === 'string' ? code : name}: ${detail}`;
  // Keep the original timeout out of `cause` only where the SDK must not see it; here it is safe.
  const cause = name === 'EndpointTimeout' ? (error as EndpointTimeout).original : error;
  return new AwsTransientError(
    `${what} could not reach ${where} (${how}). Likely cause: the function runs in a VPC without a route to this endpoint ` +
      `(add a VPC interface endpoint for the service with private DNS, or a NAT gateway route), or its security group does not allow outbound HTTPS (443)`,
    { cause },
  );
}

/** Runs one AWS call and rethrows its failure as a named, readable error. */
export async function awsCall<T>(call: string, resource: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw classifyAwsError(error, call, resource);
  }
}

/**
 * Renders schema issues as one line each: the field's path, the value found, and what was expected,
 * e.g. `databases[0].retentionDays: got 400 (number); expected at most 35`.
 */
export function describeIssues(issues: readonly $ZodIssue[], input: unknown): string {
  return issues
    .flatMap((issue) =>
      // An unknown field is reported at its own path (a typo such as `databses`), not its parent's.
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => {
            const path = [...issue.path, key];
            return `  - ${formatPath(path)}: got ${formatValue(valueAt(input, path))}; unknown field (a typo?)`;
          })
        : [`  - ${formatPath(issue.path) || '(root)'}: got ${formatValue(valueAt(input, issue.path))}; ${expectation(issue)}`],
    )
    .join('\n');
}

function expectation(issue: $ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_big':
      return `expected ${issue.origin === 'string' ? 'a length of ' : issue.origin === 'array' ? 'a count of ' : ''}at most ${String(issue.maximum)}`;
    case 'too_small':
      return `expected ${issue.origin === 'string' ? 'a length of ' : issue.origin === 'array' ? 'a count of ' : ''}${
        issue.inclusive === false ? 'more than' : 'at least'
      } ${String(issue.minimum)}`;
    default: {
      // Custom and format messages are written as what was expected ("an AWS region name ...").
      const message = issue.message;
      if (message.startsWith('must') || message.startsWith('is ')) return message;
      return message.startsWith('expected') ? message : `expected ${message}`;
    }
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

export function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  const shown = json.length > 80 ? `${json.slice(0, 77)}...` : json;
  const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return `${shown} (${kind})`;
}
