// leadmesh.routing.v1, plus the assignment read model under its old name while code is renamed: it
// moved to leadmesh.lead.v1 with the same fields, numbers and JSON names, so messages read the same.
export * from './gen/leadmesh/routing/v1/routing_service_pb.js';
/** @deprecated moved to leadmesh.lead.v1: use `lead.Assignment`; delete once nothing uses these. */
export { AssignmentSchema, type Assignment } from './gen/leadmesh/lead/v1/assignment_pb.js';
