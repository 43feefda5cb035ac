import { create, toJson } from '@bufbuild/protobuf';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { lead, type events } from '@leadmesh/contracts';
import type { LeadState, Stamped } from './domain/lead-state.js';

/** The events crm-sync builds a lead's CRM record from. */
export type LeadEvent =
  | { kind: 'routed'; event: events.LeadRouted }
  | { kind: 'reassigned'; event: events.LeadReassigned }
  | { kind: 'scored'; event: events.LeadScored }
  | { kind: 'enrolled'; event: events.NurtureEnrolled }
  | { kind: 'unsubscribed'; event: events.LeadUnsubscribed };

/**
 * The parts of the lead one event delivered, each stamped with the moment it describes: a score by
 * when it was scored, the profile by the score it travelled with (scoring sends the profile it scored),
 * an assignment by when it was made, an enrollment by when it began. The event's own time is the
 * fallback: lead.routed happens after the score it carries, so its time would make an older score
 * look newer than a rescore that arrived first.
 */
export function stateOf({ kind, event }: LeadEvent): LeadState {
  const occurredAt = event.occurredAt ? timestampDate(event.occurredAt) : new Date();
  switch (kind) {
    case 'routed':
    case 'reassigned':
    case 'scored': {
      const scoredAt = stampOf(event.score?.scoredAt, occurredAt);
      const state: LeadState = {};
      if (event.profile) {
        state.profile = stamped(toJson(lead.LeadProfileSchema, event.profile), scoredAt);
        if (event.profile.receivedAt) state.receivedAt = timestampDate(event.profile.receivedAt);
      }
      if (event.score) state.score = stamped(toJson(lead.LeadScoreSchema, event.score), scoredAt);
      if (kind !== 'scored' && event.assignment) {
        state.assignment = stamped(toJson(lead.AssignmentSchema, event.assignment), stampOf(event.assignment.assignedAt, occurredAt));
      }
      return state;
    }
    case 'enrolled': {
      // Older producers set only the track; nurture.enrolled is about a lead entering it.
      const enrollment = event.enrollment ?? create(lead.EnrollmentSummarySchema, { trackId: event.trackId, trackVersion: event.trackVersion, status: lead.EnrollmentStatus.ACTIVE });
      return { enrollment: stamped(toJson(lead.EnrollmentSummarySchema, enrollment), stampOf(enrollment.enrolledAt, occurredAt)) };
    }
    case 'unsubscribed':
      return { unsubscribedAt: occurredAt };
  }
}

function stampOf(ts: Timestamp | undefined, fallback: Date): Date {
  return ts ? timestampDate(ts) : fallback;
}

function stamped(value: unknown, at: Date): Stamped {
  return { value: value as Record<string, unknown>, at };
}
