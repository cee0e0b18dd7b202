// What a security-incident report adds to every report: the incident, the containment per place and
// where each block is effective, emergency mode, the API keys revoked, the evidence objects with their
// SHA-256 and versions, every rotation with its version id, the patch rollout, and the incident
// response time (the run's start to the end of the containment). Pure: built from the run's state as
// the state machine hands it to PublishReport. It reads the steps' data as declared below (names and
// versions only: no step returns a secret value), tolerating fields a step leaves out.
import type { BlockAddressesData } from './containment-result.js';
import type { RunItem, RunState } from './report.js';
import type { StepOutput } from './steps.js';

export interface BlockPlace {
  /** `network-policy`, `waf-ip-set`. */
  place: string;
  /** What was done there (applied, updated, not applied and why...). */
  outcome: string;
  addresses: string[];
  /** Where the block is effective, in words. */
  effective: string;
}

export interface EvidenceObject {
  key: string;
  bytes: number;
  /** Base64, as S3's ChecksumSHA256. */
  sha256: string;
  versionId: string | null;
  kind: string;
  truncated?: boolean;
}

export interface SecretRotationRecord {
  secret: string;
  /** The version the rotation made AWSCURRENT (the token), when known. */
  versionId: string | null;
  /** completed, failed, not started, dry run. */
  status: 'completed' | 'failed' | 'not completed' | 'dry run';
}

export interface SecurityIncidentSection {
  incidentId: string;
  blockedAddresses: string[];
  /** Per place; empty when nothing was to be blocked or BlockAddresses did not run. */
  containment: BlockPlace[];
  emergencyMode: { configMap: string; key: string; previousValue: string | null; changed: boolean } | null;
  /** The API keys' rotation (their revocation), and the secrets rotated after the containment. */
  apiKeys: SecretRotationRecord | null;
  rotations: SecretRotationRecord[];
  evidence: { bucket: string; prefix: string; objects: EvidenceObject[] } | null;
  patch: { image: string; previousImage: string | null; container: string | null; changed: boolean; rolledOut: boolean | null } | null;
  /** Run start -> the last containment job done (null when containment did not complete). */
  responseTime: { from: string; containedAt: string; seconds: number } | null;
}

type Data = Record<string, unknown>;

const dataOf = (output: StepOutput<unknown> | undefined): Data | undefined => (output?.data && typeof output.data === 'object' ? (output.data as Data) : undefined);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** A response time as people read it: seconds under two minutes (a drill's), minutes with one decimal above. */
function duration(seconds: number): string {
  return seconds < 120 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} min (${Math.round(seconds)} s)`;
}

/** BlockAddresses' places (shared/containment.ts BlockAddressesData), in words for the report. */
function blockPlaces(data: Data | undefined): BlockPlace[] {
  const places = (data as Partial<BlockAddressesData> | undefined)?.places;
  if (!Array.isArray(places)) return [];
  return places.map((p) => ({
    place: p.place,
    outcome: p.reason ? `${p.outcome}: ${p.reason}` : p.outcome,
    addresses: p.blocked ?? [],
    effective: p.effective,
  }));
}

function rotationRecord(secret: string, start: StepOutput<unknown> | undefined, check: StepOutput<unknown> | undefined, failed: boolean, dryRun: boolean): SecretRotationRecord {
  const started = dataOf(start);
  const looked = dataOf(check);
  const versionId = text(looked?.versionId) ?? text(started?.versionId);
  const status = dryRun ? 'dry run' : looked?.completed === true ? 'completed' : failed ? 'failed' : 'not completed';
  return { secret, versionId, status };
}

const itemNamed = (items: RunItem[] | undefined, name: string) => items?.find((i) => i.item === name);
const hasFailures = (item: RunItem | undefined) => Object.keys(item?.failures ?? {}).length > 0;

/** The incident part of a security-incident report. */
export function securityIncidentReport(state: RunState): SecurityIncidentSection | null {
  const request = state.run.securityIncident;
  if (!request) return null;
  const dryRun = state.run.dryRun;
  const containment = state.items ?? [];
  const keys = itemNamed(containment, 'api-keys');
  const block = itemNamed(containment, 'block-addresses');
  const emergency = dataOf(itemNamed(containment, 'emergency-mode')?.steps?.SetEmergencyMode);
  const evidence = dataOf(itemNamed(containment, 'evidence')?.steps?.CollectEvidence);
  const keySecret = text(dataOf(keys?.steps?.RevokeApiKeys)?.secret);
  const patch = dataOf(state.steps?.SetApiImage);
  const rollout = dataOf(state.steps?.CheckRollout);

  // The response time ends when the last containment job did, and only if all four completed.
  const contained = containment.length === 4 && containment.every((i) => !hasFailures(i));
  const finished = containment.flatMap((i) => Object.values(i.steps ?? {}).map((s) => s.step.finishedAt)).filter((t): t is string => Boolean(t));
  const containedAt = contained && finished.length ? finished.sort()[finished.length - 1]! : null;

  return {
    incidentId: request.incidentId,
    blockedAddresses: request.blockIps,
    containment: blockPlaces(dataOf(block?.steps?.BlockAddresses)),
    emergencyMode: emergency
      ? { configMap: String(emergency.configMap ?? ''), key: String(emergency.key ?? ''), previousValue: text(emergency.previousValue), changed: emergency.changed === true }
      : null,
    apiKeys: keySecret ? rotationRecord(keySecret, keys?.steps?.RevokeApiKeys, keys?.steps?.CheckApiKeyRotation, hasFailures(keys), dryRun) : null,
    rotations: (state.rotations ?? []).map((item) =>
      rotationRecord(item.item.replace(/^secret /, ''), item.steps?.StartSecretRotation, item.steps?.CheckSecretRotation, hasFailures(item), dryRun),
    ),
    evidence: evidence
      ? {
          bucket: String(evidence.bucket ?? ''),
          prefix: String(evidence.prefix ?? ''),
          objects: (Array.isArray(evidence.objects) ? (evidence.objects as Data[]) : []).map((o) => ({
            key: String(o.key ?? ''),
            bytes: Number(o.bytes ?? 0),
            sha256: String(o.sha256 ?? ''),
            versionId: text(o.versionId),
            kind: String(o.kind ?? ''),
            ...(o.truncated === true ? { truncated: true } : {}),
          })),
        }
      : null,
    patch: request.patchedImage
      ? {
          image: request.patchedImage,
          previousImage: text(patch?.previousImage),
          container: text(patch?.container),
          changed: patch?.changed === true,
          rolledOut: dryRun || !patch ? null : rollout?.done === true,
        }
      : null,
    responseTime: containedAt && !dryRun ? { from: state.run.startedAt, containedAt, seconds: Math.max(0, Math.round((Date.parse(containedAt) - Date.parse(state.run.startedAt)) / 1000)) } : null,
  };
}

/** One line for the report's summary. */
export function summariseSecurityIncident(section: SecurityIncidentSection): string[] {
  const parts = [`incident ${section.incidentId}`];
  if (section.responseTime) parts.push(`contained ${duration(section.responseTime.seconds)} after the start`);
  return parts;
}

/** The Markdown section. */
export function renderSecurityIncident(section: SecurityIncidentSection): string[] {
  const cell = (value: unknown) => String(value ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = ['', '## Security incident', '', `- Incident: ${section.incidentId}`];
  lines.push(
    section.responseTime
      ? `- Response time: ${duration(section.responseTime.seconds)}, from the start (${section.responseTime.from}) to the end of the containment (${section.responseTime.containedAt})`
      : '- Response time: not measured (the containment did not complete, or a dry run)',
  );
  if (section.apiKeys) lines.push(`- API keys (${section.apiKeys.secret}): ${section.apiKeys.status === 'completed' ? `revoked: the new key set is version ${section.apiKeys.versionId ?? '?'}` : section.apiKeys.status}`);
  if (section.emergencyMode) {
    lines.push(`- Emergency mode: ${section.emergencyMode.key}=true in ConfigMap ${section.emergencyMode.configMap} (${section.emergencyMode.changed ? `was ${section.emergencyMode.previousValue ?? 'unset'}` : 'already set'})`);
  }
  lines.push('', '### Containment: where each block is effective', '');
  if (section.blockedAddresses.length === 0) lines.push('No addresses were given to block.');
  else if (section.containment.length === 0) lines.push(`Addresses to block: ${section.blockedAddresses.join(', ')} (the block did not report: see the timeline).`);
  else {
    lines.push('| Place | Outcome | Addresses | Effective |', '|---|---|---|---|');
    for (const p of section.containment) lines.push(`| ${cell(p.place)} | ${cell(p.outcome)} | ${cell(p.addresses.join(', '))} | ${cell(p.effective)} |`);
  }
  if (section.evidence) {
    lines.push('', `### Evidence (s3://${section.evidence.bucket}/${section.evidence.prefix})`, '', '| Object | Kind | Bytes | SHA-256 (base64) | Version |', '|---|---|---|---|---|');
    for (const o of section.evidence.objects) lines.push(`| ${cell(o.key)}${o.truncated ? ' (truncated)' : ''} | ${cell(o.kind)} | ${o.bytes} | ${cell(o.sha256)} | ${cell(o.versionId)} |`);
  }
  if (section.rotations.length > 0) {
    lines.push('', '### Secrets rotated', '', '| Secret | Status | New version |', '|---|---|---|');
    for (const r of section.rotations) lines.push(`| ${cell(r.secret)} | ${r.status} | ${cell(r.versionId)} |`);
  }
  if (section.patch) {
    const rolled = section.patch.rolledOut === null ? 'not waited for' : section.patch.rolledOut ? 'rolled out' : 'NOT rolled out';
    lines.push('', `### Patch`, '', `${section.patch.container ?? 'the API container'}: ${section.patch.previousImage ?? '?'} -> ${section.patch.image} (${section.patch.changed ? 'patched' : 'not patched by this run'}; ${rolled})`);
  }
  return lines;
}
