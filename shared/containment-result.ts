// What the BlockAddresses step reports, per place: its own module so that the report, which every
// report-writing function loads, reads the shape without loading the containment (and its Kubernetes
// and WAF clients).

export type BlockPlace = 'network-policy' | 'waf-ip-set';

/**
 * What happened at one place:
 * - blocked: this run added addresses (`added`);
 * - already-blocked: every address was there already, nothing changed;
 * - would-block: dry run, `added` would be added (the action carries the exact call);
 * - not-applied: the block was deliberately not put in place (`reason`), e.g. other policies select the pods;
 * - not-configured: no such place in the config (no WAF IP set);
 * - nothing-to-block: the input blocks no address (of this place's kind).
 */
export type BlockOutcome = 'blocked' | 'already-blocked' | 'would-block' | 'not-applied' | 'not-configured' | 'nothing-to-block';

export interface PlaceBlock {
  place: BlockPlace;
  outcome: BlockOutcome;
  /** What the place is, for a person: `NetworkPolicy production/frontier-emergency-block on cluster frontier-prod (us-west-2)`. */
  resource: string;
  /** Every address blocked there after this step (canonical CIDRs, sorted): earlier runs' and this one's. */
  blocked: string[];
  /** The addresses this run added there (or would add, in a dry run). */
  added: string[];
  /** Input addresses this place cannot block (a WAF IP set holds one IP version), with why in `effective`. */
  notBlockable: string[];
  /** Where (and when) the block holds, in words for the report. */
  effective: string;
  /** not-applied: why; the NetworkPolicies that already select the API pods are also in `otherPolicies`. */
  reason?: string;
  otherPolicies?: string[];
}

/** The data of the BlockAddresses step. */
export interface BlockAddressesData {
  /** The input's addresses (run.securityIncident.blockIps). */
  addresses: string[];
  /** One entry per place, network-policy first. */
  places: PlaceBlock[];
}
