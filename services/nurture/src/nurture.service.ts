import { Inject, Injectable } from '@nestjs/common';
import { type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { context, trace } from '@opentelemetry/api';
import { SUBJECTS, events, nurture, scoring, type lead } from '@leadmesh/contracts';
import { FailedPreconditionError, InvalidArgumentError, Metrics, captureTraceContext, encodeEvent, type Change, type EventContext, type OutgoingEvent } from '@leadmesh/platform';
import { NO_EVENTS, confirmationTrackFor, enroll, exitEnrollments, type Enrollment } from './domain/enrollment.js';
import { enrollmentStatus, stepProgress, type StepProgress } from './domain/progress.js';
import { takeDueSteps, type DueStep } from './domain/schedule.js';
import { recommendTrack, type EnrollmentEvents, type NurtureLead, type TrackRecommendation } from './domain/recommend.js';
import { mayEmail, type ContactEmailState } from './domain/suppression.js';
import { verifyUnsubscribeToken } from './domain/templates.js';
import { delaySeconds, tallyEnrollments } from './domain/track-summary.js';
import { EnrollmentStore, type LeadContact, type LeadEmailState, type LeadNurtureDoc } from './enrollment.store.js';
import { NURTURE_SETTINGS, type NurtureSettings } from './nurture.settings.js';
import { StepStore } from './step.store.js';
import { TrackRegistry } from './track.registry.js';

type EnrollmentInit = MessageInitShape<typeof nurture.EnrollmentSchema>;
type GetEnrollmentsInit = MessageInitShape<typeof nurture.GetEnrollmentsResponseSchema>;

const ENROLLMENT_STATUS = { ACTIVE: nurture.EnrollmentStatus.ACTIVE, COMPLETED: nurture.EnrollmentStatus.COMPLETED, EXITED: nurture.EnrollmentStatus.EXITED } as const;
const STEP_STATUS = { DUE: nurture.StepStatus.DUE, SENT: nurture.StepStatus.SENT, SKIPPED: nurture.StepStatus.SKIPPED, FAILED: nurture.StepStatus.FAILED } as const;

/** Steps a change to a lead handed to a sender, with the lead as that change left it. */
export interface Handoff {
  lead: LeadEmailState;
  steps: DueStep[];
}

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

  /**
   * Right to erasure: enrollments, scheduled and sent steps, consent and suppression state. The
   * tombstone first: a sender that records a step after the steps are deleted finds it and takes
   * the step back (StepSender), where steps deleted first could be recorded again behind them.
   */
  async forget(leadId: string): Promise<void> {
    await this.store.forget(leadId);
    await this.steps.forget(leadId);
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

  /** ListTracks: the tracks as configured, with the leads in each and the unsubscribes. */
  async listTracks(): Promise<MessageInitShape<typeof nurture.ListTracksResponseSchema>> {
    const [counts, unsubscribedLeads] = await Promise.all([this.store.enrollmentCounts(), this.store.countUnsubscribed()]);
    const tallies = tallyEnrollments(counts);
    return {
      tracks: this.registry.files.tracks.map((track) => {
        const tally = tallies.get(track.id);
        return {
          trackId: track.id,
          version: track.version,
          name: track.name,
          kind: track.kind,
          steps: track.steps.map((step) => ({ stepId: step.id, template: step.template, subject: step.subject, delay: { seconds: BigInt(delaySeconds(step.delay)) } })),
          activeEnrollments: tally?.active ?? 0,
          completedEnrollments: tally?.completed ?? 0,
          exitedEnrollments: tally?.exited ?? 0,
        };
      }),
      unsubscribedLeads,
    };
  }

  /** A Contact Sales submission enters the confirmation track, whose first step is due at once. */
  async onLeadReceived(event: events.LeadReceived, ctx: EventContext): Promise<Handoff | undefined> {
    const lead = toNurtureLead(event.profile, undefined, false);
    const confirmation = confirmationTrackFor(lead, this.registry.files.tracks);
    // Nurture's first event of a lead: stored without reading first.
    return this.update(event.leadId, ctx.eventId, { ...profileUpdate(event.profile), lead, happened: {}, enter: () => confirmation }, { handOver: true, likelyNew: true });
  }

  /**
   * A scored lead that did not come through Contact Sales enters the marketing track its profile
   * recommends. A Contact Sales lead asked to talk to sales and waits for routing instead; a lead
   * already routed (events may arrive out of order) never enters marketing; a lead already in a
   * marketing track stays there when it is scored again.
   */
  async onLeadScored(event: events.LeadScored, ctx: EventContext): Promise<Handoff | undefined> {
    const lead = toNurtureLead(event.profile, event.score, false);
    const contactSales = confirmationTrackFor(lead, this.registry.files.tracks) !== undefined;
    return this.update(event.leadId, ctx.eventId, {
      ...profileUpdate(event.profile),
      lead,
      happened: { becameMql: event.becameMql },
      enter: (current, enrollments) =>
        contactSales || current?.routedAt || enrollments.some((e) => e.kind === 'MARKETING') ? undefined : recommendTrack(lead, this.registry.files.tracks),
    }, { handOver: true });
  }

  /** A routed lead leaves marketing nurture and enters a sales-assist track where one matches. */
  async onLeadRouted(event: events.LeadRouted, ctx: EventContext): Promise<Handoff | undefined> {
    const lead = toNurtureLead(event.profile, event.score, true);
    const profile = profileUpdate(event.profile);
    const ownerName = event.assignment?.ownerName || undefined;
    const handoff = await this.update(event.leadId, ctx.eventId, {
      ...profile,
      contact: profile.contact && { ...profile.contact, ...(ownerName ? { ownerName } : {}) },
      lead,
      happened: { routedToSales: true },
      set: { routedAt: new Date() },
      enter: () => recommendTrack(lead, this.registry.files.tracks),
    }, { handOver: true });
    this.metrics.leadFinished();
    return handoff;
  }

  /** Stops all marketing email to the lead for good, by lead id or by the signed token of an email's link. */
  async unsubscribe(by: { leadId?: string; token?: string }): Promise<{ leadId: string; unsubscribedAt: Date }> {
    const leadId = by.token !== undefined ? verifyUnsubscribeToken(by.token, this.settings.unsubscribeSecret) : by.leadId;
    if (!leadId) throw new InvalidArgumentError([{ field: 'token', description: 'is not a valid unsubscribe token' }]);
    const now = new Date();
    const handoff = await this.update(leadId, `unsubscribe:${leadId}`, {
      lead: { email: '', routedToSales: false },
      happened: { unsubscribed: true },
      set: { unsubscribedAt: now },
      events: (current) =>
        current?.unsubscribedAt
          ? []
          : [encodeEvent(SUBJECTS.leadUnsubscribed, events.LeadUnsubscribedSchema, { eventId: `lead.unsubscribed:${leadId}`, leadId, occurredAt: timestampFromDate(now) })],
    }, { handOver: false });
    // A repeated unsubscribe keeps the first time, which only the store knows.
    const unsubscribedAt = handoff ? handoff.lead.unsubscribedAt : (await this.store.find(leadId))?.unsubscribedAt;
    return { leadId, unsubscribedAt: unsubscribedAt ?? now };
  }

  /** The SMTP server refused the address for good: nothing more goes to it. */
  async recordBounce(leadId: string): Promise<void> {
    await this.update(leadId, `bounce:${leadId}`, { lead: { email: '', routedToSales: false }, happened: { bounced: true }, set: { bouncedAt: new Date() } }, { handOver: false });
  }

  /**
   * The sweep found this lead's next step come (its mark was `seen`): moves the mark past the steps
   * due by `now` and hands them over. Keyed by the mark, so of several replicas sweeping the same
   * lead one moves it; undefined for the others and when nothing changed.
   */
  async moveSchedule(leadId: string, seen: Date, now: Date): Promise<Handoff | undefined> {
    let handoff: Handoff | undefined;
    const result = await this.store.apply(leadId, `steps-due:${seen.getTime()}`, (current): Change | null => {
      handoff = undefined;
      if (!current) return null;
      const { due, nextStepAt } = takeDueSteps(current.enrollments, current.nextStepAt, new Set(), now);
      handoff = { lead: current, steps: due };
      return { set: scheduleFields(nextStepAt), events: [] };
    });
    return result === 'applied' ? handoff : undefined;
  }

  /**
   * Applies one event to the lead once, in one read and one write (platform applyEventOnce): the
   * newest data, exits whose criteria are now met, the track to enter, the events to publish and
   * the lead's schedule mark. With `handOver`, the steps the change made due now are returned for
   * the caller to give to the sender, which records each before the event is acknowledged. A
   * redelivered event (a crash may have come between the write and those records) hands over again
   * every step the mark says was handed over and is due; a step already recorded stays as it is.
   */
  private async update(leadId: string, eventId: string, u: LeadUpdate, options: { handOver: boolean; likelyNew?: boolean }): Promise<Handoff | undefined> {
    const now = new Date();
    const tracks = this.registry.files.tracks;
    let decided: Handoff | undefined;
    const result = await this.store.apply(leadId, eventId, (current): Change => {
      // Sticky facts stay as first recorded.
      const set: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(u.set ?? {})) if (!current?.[key as keyof LeadNurtureDoc]) set[key] = value;
      const lead: NurtureLead = { ...u.lead, routedToSales: u.lead.routedToSales || Boolean(current?.routedAt) };
      const { enrollments } = exitEnrollments(current?.enrollments ?? [], tracks, lead, { ...NO_EVENTS, ...u.happened }, now);
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
      if (entered && trace.getSpan(context.active())) set.scheduledBy = captureTraceContext();
      if (u.contact) set.contact = { ...current?.contact, ...u.contact };
      if (u.consent !== undefined) set.emailMarketingConsent = u.consent;
      const { due, nextStepAt } = takeDueSteps(enrollments, current?.nextStepAt, new Set(entered ? [entered.trackId] : []), now, options.handOver);
      Object.assign(set, scheduleFields(nextStepAt));
      // The last decision is the one stored: a lost compare-and-set decides again.
      decided = { lead: { _id: leadId, emailMarketingConsent: false, ...current, ...set, enrollments } as LeadEmailState, steps: due };
      return { set: { ...set, enrollments }, events: outgoing };
    }, options.likelyNew);
    if (result === 'applied') return decided;
    if (result !== 'duplicate' || !options.handOver) return undefined;
    const doc = await this.store.find(leadId);
    if (!doc) return undefined;
    const handedOver = doc.enrollments.flatMap((e) =>
      e.status !== 'ACTIVE' ? [] : e.steps.filter((step) => step.dueAt <= now && (!doc.nextStepAt || step.dueAt < doc.nextStepAt)).map((step) => ({ trackId: e.trackId, step })),
    );
    return { lead: doc, steps: handedOver };
  }
}

/** The lead's schedule mark as stored: a time and the marker the sweep filters on, or neither. */
function scheduleFields(nextStepAt: Date | undefined): Pick<LeadNurtureDoc, 'nextStepAt' | 'nextStep'> {
  return nextStepAt ? { nextStepAt, nextStep: 'WAITING' } : { nextStepAt: null, nextStep: null };
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
      possiblyDuplicated: p.possiblyDuplicate ?? false,
    })),
  };
}
