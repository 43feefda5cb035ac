// @leadmesh/client: typed gRPC clients for the leadmesh services, for other teams.
//
//   const leadmesh = createLeadmeshClient({ token: process.env.LEADMESH_TOKEN });
//   const { leadId } = await leadmesh.intake.submitLead({ contact: { email: 'ada@example.com' } });
//   const journey = await readLeadJourney(leadmesh, leadId);
export { createLeadmeshClient, type LeadmeshClient, type IntakeClient, type ScoringClient, type RoutingClient, type NurtureClient, type CrmSyncClient, type ParkedEventsClient, type AuditClient } from './leadmesh-client.js';
export { createServiceClient, grpcServiceDefinition, type CallOptions, type ServiceClient, type ServiceClientOptions } from './service-client.js';
export { channelCredentials, authMetadata } from './credentials.js';
export { isRetryable, isServiceError, retryDelayMs, serverRetryDelayMs } from './retry.js';
export { fetchLeadState, journeyOf, readLeadJourney, type JourneyEvent, type LeadJourney, type LeadState } from './journey.js';
export {
  DEFAULT_ADDRESSES,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  SERVICE_NAMES,
  addressEnvName,
  optionsFromEnv,
  type LeadmeshClientOptions,
  type RetryOptions,
  type ServiceName,
  type TlsOptions,
  type TokenSource,
} from './options.js';
export { audit, crmsync, intake, lead, nurture, parkedevents, routing, scoring } from '@leadmesh/contracts';
export { status as GrpcStatus, Metadata } from '@grpc/grpc-js';
