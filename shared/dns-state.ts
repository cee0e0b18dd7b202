// What a DNS record held before a failover moved it, in either mode: exactly what a failback must set
// again. JSON-safe, kept in the report's `failback`. Types only, so the report module can name them
// without loading the code that moves records (shared/dns.ts, whose RecordedDnsState this mirrors).
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';

export type RecordedDnsState =
  | { mode: 'control-plane'; record: string; hostedZoneId: string; recordSet: ResourceRecordSet | null }
  | { mode: 'data-plane'; record: string; routingControls: { arn: string; state: 'On' | 'Off' }[]; clusterEndpoints: { region: string; endpoint: string }[] };
