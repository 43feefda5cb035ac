import { exitReasons, type EnrollmentEvents, type NurtureLead, type TrackRecommendation } from './recommend.js';
import { planSteps, type PlannedStep } from './schedule.js';
import type { Track, TrackKind } from './tracks.js';

export type EnrollmentStatus = 'ACTIVE' | 'COMPLETED' | 'EXITED';

/** A lead's place in one track, with the plan it was enrolled on (the real due times). */
export interface Enrollment {
  trackId: string;
  trackVersion: string;
  kind: TrackKind;
  status: EnrollmentStatus;
  reason: string;
  enrolledAt: Date;
  exitReason?: string;
  exitedAt?: Date;
  steps: PlannedStep[];
}

/**
 * The Contact Sales rule: a submission whose form id names a TRANSACTIONAL track's source (the
 * `contact-sales` form) enrolls the lead in that confirmation track. Only the form id counts, not
 * utm_source: the confirmation answers a request the person made on that form, and a campaign
 * tag is not a request. Undefined for every other submission.
 */
export function confirmationTrackFor(lead: Pick<NurtureLead, 'formId'>, tracks: Track[]): TrackRecommendation | undefined {
  const formId = lead.formId?.trim().toLowerCase();
  if (!formId) return undefined;
  const track = tracks
    .filter((t) => t.kind === 'TRANSACTIONAL' && t.entry.sources?.some((s) => s.trim().toLowerCase() === formId))
    .sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id))[0];
  if (!track) return undefined;
  return {
    track,
    reason: `A '${formId}' submission is answered at once: '${track.name}' (${track.id} v${track.version}) confirms the person's own request.`,
  };
}

/**
 * Step due times, with every delay multiplied by `scale`: 1 in production; a test stack shrinks
 * "day 3" to seconds with a tiny scale instead of waiting days.
 */
export function enroll(recommendation: TrackRecommendation, enrolledAt: Date, scale = 1): Enrollment {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`scale: must be a positive number, got ${scale}`);
  const { track, reason } = recommendation;
  const start = enrolledAt.getTime();
  return {
    trackId: track.id,
    trackVersion: track.version,
    kind: track.kind,
    status: 'ACTIVE',
    reason,
    enrolledAt,
    steps: planSteps(track, enrolledAt).map((s) => ({ ...s, dueAt: new Date(start + Math.round((s.dueAt.getTime() - start) * scale)) })),
  };
}

/** A stand-in for a track whose file was removed since the lead enrolled: only the exits every track has. */
function retiredTrack(e: Enrollment): Track {
  return { id: e.trackId, version: e.trackVersion, name: e.trackId, kind: e.kind, entry: {}, exit: { onUnsubscribe: true, onBounce: true }, priority: 0, steps: [] };
}

/**
 * Ends every active enrollment whose track's exit criteria are now met, recording why. Returns
 * a new list (the input is not changed) and the enrollments that ended now.
 */
export function exitEnrollments(
  enrollments: Enrollment[],
  tracks: Track[],
  lead: NurtureLead,
  events: EnrollmentEvents,
  now: Date,
): { enrollments: Enrollment[]; exited: Enrollment[] } {
  const exited: Enrollment[] = [];
  const next = enrollments.map((e) => {
    if (e.status !== 'ACTIVE') return e;
    const track = tracks.find((t) => t.id === e.trackId) ?? retiredTrack(e);
    const why = exitReasons(track, lead, events);
    if (!why) return e;
    const ended: Enrollment = { ...e, status: 'EXITED', exitReason: why, exitedAt: now };
    exited.push(ended);
    return ended;
  });
  return { enrollments: next, exited };
}

/** No events: a helper for callers that only pass what happened. */
export const NO_EVENTS: EnrollmentEvents = { unsubscribed: false, bounced: false, replied: false, becameMql: false, routedToSales: false };
