// The generated contracts, re-exported by package. Import a package's names from here, e.g.
// `import { intake, events } from '@leadmesh/contracts'`.
export * as lead from './lead.js';
export * as intake from './gen/leadmesh/intake/v1/intake_service_pb.js';
export * as scoring from './scoring.js';
export * as routing from './routing.js';
export * as nurture from './nurture.js';
export * as crmsync from './gen/leadmesh/crmsync/v1/crm_sync_service_pb.js';
export * as events from './gen/leadmesh/events/v1/events_pb.js';
export * as parkedevents from './gen/leadmesh/parkedevents/v1/parked_events_service_pb.js';
export * as audit from './gen/leadmesh/audit/v1/audit_service_pb.js';
// The console's own compositions (`console` would shadow the global in an importing module).
export * as consoleApi from './gen/leadmesh/console/v1/console_service_pb.js';
export { SUBJECTS } from './subjects.js';
export * as health from './gen/grpc/health/v1/health_pb.js';
export * as auth from './gen/leadmesh/auth/v1/auth_pb.js';
