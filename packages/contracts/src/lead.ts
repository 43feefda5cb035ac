// leadmesh.lead.v1 spans several files: the lead itself and the read models several packages share
// (score, assignment, enrollment). One package in the proto, one namespace here.
export * from './gen/leadmesh/lead/v1/lead_pb.js';
export * from './gen/leadmesh/lead/v1/score_pb.js';
export * from './gen/leadmesh/lead/v1/assignment_pb.js';
export * from './gen/leadmesh/lead/v1/enrollment_pb.js';
