import { Inject, Injectable } from '@nestjs/common';
import { type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, nurture, scoring, type lead } from '@leadmesh/contracts';
import { FailedPreconditionError, Metrics, encodeEvent, type EventContext } from '@leadmesh/platform';
import { recommendTrack, type NurtureLead } from './domain/recommend.js';
import { planSteps } from './domain/schedule.js';
import { EnrollmentStore, type StoredEnrollment } from './enrollment.store.js';
import { TrackRegistry } from './track.registry.js';

type EnrollmentInit = MessageInitShape<typeof nurture.EnrollmentSchema>;

const STATUS = {
  ACTIVE: nurture.EnrollmentStatus.ACTIVE,
  COMPLETED: nurture.EnrollmentStatus.COMPLETED,
  EXITED: nurture.EnrollmentStatus.EXITED,
} as const;

/** Nurture's use cases: recommend a track for anyone, and enroll each routed lead once. */
@Injectable()
export class NurtureService {
  constructor(
    @Inject(EnrollmentStore) private readonly store: EnrollmentStore,
    @Inject(TrackRegistry) private readonly registry: TrackRegistry,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /** Pure: which track this lead belongs in and why. */
  recommendTrack(request: nurture.RecommendTrackRequest): MessageInitShape<typeof nurture.RecommendTrackResponseSchema> {
    const recommendation = recommendTrack(toNurtureLead(request.profile, request.score, request.routedToSales), this.registry.files.tracks);
    if (!recommendation) throw new FailedPreconditionError('no track accepts this lead');
    return { trackId: recommendation.track.id, trackVersion: recommendation.track.version, reason: recommendation.reason };
  }

  async getEnrollments(leadId: string): Promise<EnrollmentInit[]> {
    const doc = await this.store.find(leadId);
    return (doc?.enrollments ?? []).map((e) => toEnrollment(leadId, e));
  }

  /** A routed lead enters the track its profile recommends (a sales-assist one when a track says so). */
  async onLeadRouted(event: events.LeadRouted, ctx: EventContext): Promise<void> {
    const recommendation = recommendTrack(toNurtureLead(event.profile, event.score, true), this.registry.files.tracks);
    const now = new Date();
    await this.store.apply(event.leadId, ctx.eventId, (current) => {
      if (!recommendation) return null;
      const { track, reason } = recommendation;
      if (current?.enrollments.some((e) => e.trackId === track.id)) return null;
      const enrollment: StoredEnrollment = {
        trackId: track.id,
        trackVersion: track.version,
        kind: track.kind,
        status: 'ACTIVE',
        reason,
        enrolledAt: now,
        steps: planSteps(track, now).map((s) => ({ stepId: s.stepId, template: s.template, subject: s.subject, dueAt: s.dueAt })),
      };
      return {
        set: { enrollments: [...(current?.enrollments ?? []), enrollment] },
        events: [
          encodeEvent(SUBJECTS.nurtureEnrolled, events.NurtureEnrolledSchema, {
            eventId: `nurture.enrolled:${event.leadId}:${track.id}`,
            leadId: event.leadId,
            occurredAt: timestampFromDate(now),
            trackId: track.id,
            trackVersion: track.version,
          }),
        ],
      };
    });
    this.metrics.leadFinished();
  }
}

function toNurtureLead(profile: lead.LeadProfile | undefined, score: scoring.LeadScore | undefined, routedToSales: boolean): NurtureLead {
  const c = profile?.contact;
  return {
    email: c?.email ?? '',
    firstName: c?.firstName || undefined,
    company: c?.company || undefined,
    product: profile?.interest?.product || undefined,
    formId: profile?.source?.formId || undefined,
    utmSource: profile?.source?.utmSource || undefined,
    grade: score?.grade || undefined,
    stage: score?.lifecycleStage === scoring.LifecycleStage.MQL ? 'MQL' : score ? 'LEAD' : undefined,
    routedToSales,
  };
}

function toEnrollment(leadId: string, e: StoredEnrollment): EnrollmentInit {
  return {
    leadId,
    trackId: e.trackId,
    trackVersion: e.trackVersion,
    status: STATUS[e.status],
    reason: e.reason,
    enrolledAt: timestampFromDate(new Date(e.enrolledAt)),
  };
}
