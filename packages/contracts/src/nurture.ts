// leadmesh.nurture.v1, plus the enrollment status under its old name while code is renamed: it
// moved to leadmesh.lead.v1 with the same values and JSON names, so messages read the same.
export * from './gen/leadmesh/nurture/v1/nurture_service_pb.js';
/** @deprecated moved to leadmesh.lead.v1: use `lead.EnrollmentStatus`; delete once nothing uses these. */
export { EnrollmentStatus, EnrollmentStatusSchema } from './gen/leadmesh/lead/v1/enrollment_pb.js';
