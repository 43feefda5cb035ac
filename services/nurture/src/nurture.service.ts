import { Inject, Injectable } from '@nestjs/common';
import { type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events, nurture, scoring, type lead } from '@leadmesh/contracts';
import { FailedPreconditionError, InvalidArgumentError, Metrics, encodeEvent, type Change, type EventContext, type OutgoingEvent } from '@leadmesh/platform';
import { stepMessageId } from './domain/delivery.js';
import { NO_EVENTS, confirmationTrackFor, enroll, exitEnrollments, type Enrollment } from './domain/enrollment.js';
import { enrollmentStatus, stepProgress, type StepProgress } from './domain/progress.js';
import { recommendTrack, type EnrollmentEvents, type NurtureLead, type TrackRecommendation } from './domain/recommend.js';
import { mayEmail, type ContactEmailState } from './domain/suppression.js';
import { verifyUnsubscribeToken } from './domain/templates.js';
import { EnrollmentStore, type LeadContact, type LeadNurtureDoc } from './enrollment.store.js';
import { NURTURE_SETTINGS, type NurtureSettings } from './nurture.settings.js';
import { StepStore } from './step.store.js';
import { TrackRegistry } from './track.registry.js';

type EnrollmentInit = MessageInitShape<typeof nurture.EnrollmentSchema>;
type GetEnrollmentsInit = MessageInitShape<typeof nurture.GetEnrollmentsResponseSchema>;

const ENROLLMENT_STATUS = { ACTIVE: nurture.EnrollmentStatus.ACTIVE, COMPLETED: nurture.EnrollmentStatus.COMPLETED, EXITED: nurture.EnrollmentStatus.EXITED } as const;
const STEP_STATUS = { DUE: nurture.StepStatus.DUE, SENT: nurture.StepStatus.SENT, SKIPPED: nurture.StepStatus.SKIPPED, FAILED: nurture.StepStatus.FAILED } as const;

/** What one event changes on a lead: its newest data, what happened, and a track to enter if any. */
interface LeadUpdate {
  lead: NurtureLead;
  contact?: LeadContact;
  consent?: boolean;
  happened: Partial<EnrollmentEvents>;
  set?: Partial<Pick<LeadNurtureDoc, 'routedAt' | 'unsubscribedAt' | 'bouncedAt'>>;
  /** Chooses the track to enter, given the lead's state after the exits. */
  enter?: (current: LeadNurtureDoc | null, enrollments: Enrollment[]) => TrackRecommendation | undefined;
  events?: (current: LeadNurtureDoc | null) => OutgoingEvent[];
}

/**
 * Nurture's use cases: recommend a track for anyone; enroll on lead.received (Contact Sales
 * confirmation), lead.scored (marketing) and lead.routed (exit marketing, enter sales assist);
 * unsubscribe; and show a lead's enrollments with their steps.
 */
@Injectable()
export class NurtureService {
  constructor(
    @Inject(EnrollmentStore) private readonly store: EnrollmentStore,
    @Inject(StepStore) private readonly steps: StepStore,
    @Inject(TrackRegistry) private readonly registry: TrackRegistry,
    @Inject(NURTURE_SETTINGS) private readonly settings: NurtureSettings,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /** Right to erasure: enrollments, scheduled and sent steps, consent and suppression state. */
  async forget(leadId: string): Promise<void> {
    await this.steps.forget(leadId);
    await this.store.forget(leadId);
  }

  /** Pure: which track this lead belongs in and why. */
  recommendTrack(request: nurture.RecommendTrackRequest): MessageInitShape<typeof nurture.RecommendTrackResponseSchema> {
    const recommendation = recommendTrack(toNurtureLead(request.profile, request.score, request.routedToSales), this.registry.files.tracks);
    if (!recommendation) throw new FailedPreconditionError('no track accepts this lead');
    return { trackId: recommendation.track.id, trackVersion: recommendation.track.version, reason: recommendation.reason };
  }

  async getEnrollments(leadId: string): Promise<GetEnrollmentsInit> {
    const [doc, records] = await Promise.all([this.store.find(leadId), this.steps.forLead(leadId)]);
    const suppression = mayEmail('MARKETING', suppressionState(doc));
    return {
      enrollments: (doc?.enrollments ?? []).map((e) => toEnrollment(leadId, e, stepProgress(e, records.filter((r) => r.trackId === e.trackId)))),
      suppressed: !suppression.allowed,
      suppressionReason: suppression.allowed ? '' : suppression.reason,
    };
  }

  /** A Contact Sales submission enters the confirmation track, whose first step is due at once. */
  async onLeadReceived(event: events.LeadReceived, ctx: EventContext): Promise<boolean> {
    const lead = toNurtureLead(event.profile, undefined, false);
    const confirmation = confirmationTrackFor(lead, this.registry.files.tracks);
    return this.update(event.leadId, ctx.eventId, { ...profileUpdate(event.profile), lead, happened: {}, enter: () => confirmation });
  }

  /**
   * A scored lead that did not come through Contact Sales enters the marketing track its profile
   * recommends. A Contact Sales lead asked to talk to sales and waits for routing instead; a lead
   * already routed (events may arrive out of order) never enters marketing; a lead already in a
   * marketing track stays there when it is scored again.
   */
  async onLeadScored(event: events.LeadScored, ctx: EventContext): Promise<boolean> {
    const lead = toNurtureLead(event.profile, event.score, false);
    const contactSales = confirmationTrackFor(lead, this.registry.files.tracks) !== undefined;
    return this.update(event.leadId, ctx.eventId, {
      ...profileUpdate(event.profile),
      lead,
      happened: { becameMql: event.becameMql },
      enter: (current, enrollments) =>
        contactSales || current?.routedAt || enrollments.some((e) => e.kind === 'MARKETING') ? undefined : recommendTrack(lead, this.registry.files.tracks),
    });
  }

  /** A routed lead leaves marketing nurture and enters a sales-assist track where one matches. */
  async onLeadRouted(event: events.LeadRouted, ctx: EventContext): Promise<boolean> {
    const lead = toNurtureLead(event.profile, event.score, true);
    const profile = profileUpdate(event.profile);
    const ownerName = event.assignment?.ownerName || undefined;
    const dueNow = await this.update(event.leadId, ctx.eventId, {
      ...profile,
      contact: profile.contact && { ...profile.contact, ...(ownerName ? { ownerName } : {}) },
      lead,
      happened: { routedToSales: true },
      set: { routedAt: new Date() },
      enter: () => recommendTrack(lead, this.registry.files.tracks),
    });
    this.metrics.leadFinished();
    return dueNow;
  }

  /** Stops all marketing email to the lead for good, by lead id or by the signed token of an email's link. */
  async unsubscribe(by: { leadId?: string; token?: string }): Promise<{ leadId: string; unsubscribedAt: Date }> {
    const leadId = by.token !== undefined ? verifyUnsubscribeToken(by.token, this.settings.unsubscribeSecret) : by.leadId;
    if (!leadId) throw new InvalidArgumentError([{ field: 'token', description: 'is not a valid unsubscribe token' }]);
    const now = new Date();
    await this.update(leadId, `unsubscribe:${leadId}`, {
      lead: { email: '', routedToSales: false },
      happened: { unsubscribed: true },
      set: { unsubscribedAt: now },
      events: (current) =>
        current?.unsubscribedAt
          ? []
          : [encodeEvent(SUBJECTS.leadUnsubscribed, events.LeadUnsubscribedSchema, { eventId: `lead.unsubscribed:${leadId}`, leadId, occurredAt: timestampFromDate(now) })],
    });
    const doc = await this.store.find(leadId);
    return { leadId, unsubscribedAt: doc?.unsubscribedAt ?? now };
  }

  /** The SMTP server refused the address for good: nothing more goes to it. */
  async recordBounce(leadId: string): Promise<void> {
    await this.update(leadId, `bounce:${leadId}`, { lead: { email: '', routedToSales: false }, happened: { bounced: true }, set: { bouncedAt: new Date() } });
  }

  /**
   * Applies one event to the lead once: newest data, exits whose criteria are now met, the track
   * to enter; then records the steps with the scheduler. A redelivered event (a crash may have
   * come between the two writes) records every enrollment's steps again, which loses nothing and
   * changes nothing already recorded. True when a step recorded may be due now, so the caller
   * wakes the scheduler for this lead rather than leaving the step to the next sweep.
   */
  private async update(leadId: string, eventId: string, u: LeadUpdate): Promise<boolean> {
    const now = new Date();
    const tracks = this.registry.files.tracks;
    let decided: { entered?: Enrollment; ended: Enrollment[] } = { ended: [] };
    const result = await this.store.apply(leadId, eventId, (current): Change => {
      // Sticky facts stay as first recorded.
      const set: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(u.set ?? {})) if (!current?.[key as keyof LeadNurtureDoc]) set[key] = value;
      const lead: NurtureLead = { ...u.lead, routedToSales: u.lead.routedToSales || Boolean(current?.routedAt) };
      const { enrollments, exited } = exitEnrollments(current?.enrollments ?? [], tracks, lead, { ...NO_EVENTS, ...u.happened }, now);
      const outgoing = u.events?.(current) ?? [];
      const entering = u.enter?.(current, enrollments);
      let entered: Enrollment | undefined;
      if (entering && !enrollments.some((e) => e.trackId === entering.track.id)) {
        entered = enroll(entering, now, this.settings.delayScale);
        enrollments.push(entered);
        outgoing.push(
          encodeEvent(SUBJECTS.nurtureEnrolled, events.NurtureEnrolledSchema, {
            eventId: `nurture.enrolled:${leadId}:${entering.track.id}`,
            leadId,
            occurredAt: timestampFromDate(now),
            trackId: entering.track.id,
            trackVersion: entering.track.version,
            enrollment: { trackId: entering.track.id, trackVersion: entering.track.version, status: nurture.EnrollmentStatus.ACTIVE, reason: entering.reason, enrolledAt: timestampFromDate(now) },
          }),
        );
      }
      // The last decision is the one stored: a lost compare-and-set decides again.
      decided = { entered, ended: exited };
      if (u.contact) set.contact = { ...current?.contact, ...u.contact };
      if (u.consent !== undefined) set.emailMarketingConsent = u.consent;
      return { set: { ...set, enrollments }, events: outgoing };
    });
    if (result === 'applied') return this.recordSteps(leadId, decided.entered ? [decided.entered] : [], decided.ended);
    const doc = await this.store.find(leadId);
    const enrollments = doc?.enrollments ?? [];
    return this.recordSteps(leadId, enrollments, enrollments.filter((e) => e.status !== 'ACTIVE'));
  }

  private async recordSteps(leadId: string, entered: Enrollment[], ended: Enrollment[]): Promise<boolean> {
    await this.steps.record(leadId, entered, (trackId, stepId) => stepMessageId(leadId, trackId, stepId, this.settings.fromDomain));
    await this.steps.skipRemaining(leadId, ended);
    const now = Date.now();
    return entered.some((e) => e.status === 'ACTIVE' && e.steps.some((step) => step.dueAt.getTime() <= now));
  }
}

/** Consent and the sticky suppressions, as the suppression rule reads them. */
export function suppressionState(doc: Pick<LeadNurtureDoc, 'emailMarketingConsent' | 'unsubscribedAt' | 'bouncedAt'> | null): ContactEmailState {
  return { emailMarketingConsent: Boolean(doc?.emailMarketingConsent), unsubscribed: Boolean(doc?.unsubscribedAt), bounced: Boolean(doc?.bouncedAt) };
}

function profileUpdate(profile: lead.LeadProfile | undefined): Pick<LeadUpdate, 'contact' | 'consent'> {
  const c = profile?.contact;
  if (!c?.email) return {};
  const contact: LeadContact = { email: c.email };
  if (c.firstName) contact.firstName = c.firstName;
  if (c.lastName) contact.lastName = c.lastName;
  if (c.company) contact.company = c.company;
  if (profile?.interest?.product) contact.product = profile.interest.product;
  return { contact, consent: Boolean(profile?.consent?.emailMarketing) };
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

function toEnrollment(leadId: string, e: Enrollment, progress: StepProgress[]): EnrollmentInit {
  return {
    leadId,
    trackId: e.trackId,
    trackVersion: e.trackVersion,
    status: ENROLLMENT_STATUS[enrollmentStatus(e, progress)],
    reason: e.reason,
    enrolledAt: timestampFromDate(e.enrolledAt),
    exitReason: e.exitReason ?? '',
    steps: progress.map((p) => ({
      stepId: p.stepId,
      template: p.template,
      dueAt: timestampFromDate(p.dueAt),
      status: STEP_STATUS[p.status],
      sentAt: p.sentAt ? timestampFromDate(p.sentAt) : undefined,
      attempts: p.attempts,
      lastError: p.note ?? '',
    })),
  };
}
