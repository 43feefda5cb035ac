// All five services behind one object, sharing one set of credentials and defaults.
import { randomUUID } from 'node:crypto';
import { audit, crmsync, intake, nurture, parkedevents, routing, scoring } from '@leadmesh/contracts';
import { channelCredentials, channelOptions } from './credentials.js';
import { DEFAULT_ADDRESSES, type LeadmeshClientOptions, type ServiceName } from './options.js';
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from './service-client.js';

export type IntakeClient = ServiceClient<typeof intake.IntakeService.method>;
export type ScoringClient = ServiceClient<typeof scoring.ScoringService.method>;
export type RoutingClient = ServiceClient<typeof routing.RoutingService.method>;
export type NurtureClient = ServiceClient<typeof nurture.NurtureService.method>;
export type CrmSyncClient = ServiceClient<typeof crmsync.CrmSyncService.method>;
export type ParkedEventsClient = ServiceClient<typeof parkedevents.ParkedEventsService.method>;
export type AuditClient = ServiceClient<typeof audit.AuditService.method>;

export interface LeadmeshClient {
  intake: IntakeClient;
  scoring: ScoringClient;
  routing: RoutingClient;
  nurture: NurtureClient;
  crmSync: CrmSyncClient;
  /** Each service's parked events (the same API on every service's port). */
  parkedEvents: Record<ServiceName, ParkedEventsClient>;
  /** Each service's audit record of its privileged calls (the same API on every service's port). */
  audit: Record<ServiceName, AuditClient>;
  /** The address each service is called on. */
  addresses: Record<ServiceName, string>;
  close(): void;
}

/**
 * A retried SubmitLead or RecordActivity must not become a second submission or activity, so the
 * client gives each call a key of its own when the caller gave none; every retry of that call then
 * carries the same key and intake answers it as a replay.
 */
const intakePrepare: ServiceClientOptions['prepare'] = {
  submitLead: (request) => {
    if (!request.idempotencyKey) request.idempotencyKey = randomUUID();
  },
  recordActivity: (request) => {
    if (!request.activityId) request.activityId = randomUUID();
  },
};

export function createLeadmeshClient(options: LeadmeshClientOptions = {}): LeadmeshClient {
  const addresses = { ...DEFAULT_ADDRESSES, ...options.addresses };
  const common: ServiceClientOptions = {
    credentials: channelCredentials(options.tls),
    channelOptions: channelOptions(options.tls),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  };
  const clients = {
    intake: createServiceClient(intake.IntakeService, addresses.intake, { ...common, prepare: intakePrepare }),
    scoring: createServiceClient(scoring.ScoringService, addresses.scoring, common),
    routing: createServiceClient(routing.RoutingService, addresses.routing, common),
    nurture: createServiceClient(nurture.NurtureService, addresses.nurture, common),
    crmSync: createServiceClient(crmsync.CrmSyncService, addresses['crm-sync'], common),
  };
  const parkedEvents = Object.fromEntries(
    (Object.keys(addresses) as ServiceName[]).map((name) => [name, createServiceClient(parkedevents.ParkedEventsService, addresses[name], common)]),
  ) as Record<ServiceName, ParkedEventsClient>;
  const audits = Object.fromEntries(
    (Object.keys(addresses) as ServiceName[]).map((name) => [name, createServiceClient(audit.AuditService, addresses[name], common)]),
  ) as Record<ServiceName, AuditClient>;
  return {
    ...clients,
    parkedEvents,
    audit: audits,
    addresses,
    close: () => [...Object.values(clients), ...Object.values(parkedEvents), ...Object.values(audits)].forEach((c) => c.close()),
  };
}
