import { Inject, Injectable } from '@nestjs/common';
import {
  MongoStore,
  Outbox,
  appliedEventsFields,
  applyEventOnce,
  defineModel,
  forgetLead,
  outboxEntrySchema,
  type AppliedEvents,
  type ApplyResult,
  type Change,
} from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import type { Enrollment, EnrollmentStatus } from './domain/enrollment.js';

/** The lead data an email is rendered with, from the newest profile seen. */
export interface LeadContact {
  email: string;
  firstName?: string;
  lastName?: string;
  company?: string;
  product?: string;
  ownerName?: string;
}

/** A lead's nurture state: what it may receive, and its enrollments with their plans. */
export interface LeadNurtureDoc extends AppliedEvents {
  contact?: LeadContact;
  emailMarketingConsent: boolean;
  /** Sticky: no later profile or consent brings marketing email back. */
  unsubscribedAt?: Date;
  bouncedAt?: Date;
  routedAt?: Date;
  enrollments: Enrollment[];
  /**
   * The lead's schedule in one field (domain takeDueSteps): steps of active enrollments due before
   * it have been handed to a sender, steps due at or after it have not. Null when none is pending.
   */
  nextStepAt?: Date | null;
  /** 'WAITING' while nextStepAt is set: the sweep's equality filter, which FerretDB answers from an index. */
  nextStep?: 'WAITING' | null;
  /**
   * The trace context of the event that last enrolled the lead: the steps the sweep sends days
   * later start traces of their own, linked to it, so the lead's trace leads to every email.
   */
  scheduledBy?: Record<string, string>;
}

/** What a sender needs of a lead to check and render an email: no outbox, no bookkeeping. */
export type LeadEmailState = Pick<LeadNurtureDoc, '_id' | 'contact' | 'emailMarketingConsent' | 'unsubscribedAt' | 'bouncedAt' | 'enrollments' | 'scheduledBy'>;

/** A lead whose next step has come, as the sweep reads it. */
export type DueLead = LeadEmailState & Pick<LeadNurtureDoc, 'nextStepAt'>;

const schema = new Schema<LeadNurtureDoc>(
  {
    _id: String,
    ...appliedEventsFields,
    contact: { type: Schema.Types.Mixed },
    emailMarketingConsent: { type: Boolean, default: false },
    unsubscribedAt: Date,
    bouncedAt: Date,
    routedAt: Date,
    enrollments: { type: Schema.Types.Mixed, default: () => [] },
    nextStepAt: Date,
    nextStep: { type: String, index: true },
    scheduledBy: { type: Schema.Types.Mixed },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false, minimize: false },
);

@Injectable()
export class EnrollmentStore {
  readonly leads: Model<LeadNurtureDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.leads = defineModel(store, 'LeadNurture', schema, 'lead_nurture');
    outbox.track(this.leads);
  }

  /** How many enrollments each track has, by status (the console's tracks page). */
  async enrollmentCounts(): Promise<{ trackId: string; status: EnrollmentStatus; count: number }[]> {
    const rows = await this.leads.aggregate<{ _id: { trackId: string; status: EnrollmentStatus }; count: number }>([
      { $match: { 'enrollments.0': { $exists: true } } },
      { $unwind: '$enrollments' },
      { $group: { _id: { trackId: '$enrollments.trackId', status: '$enrollments.status' }, count: { $sum: 1 } } },
    ]);
    return rows.map((r) => ({ trackId: r._id.trackId, status: r._id.status, count: r.count }));
  }

  countUnsubscribed(): Promise<number> {
    return this.leads.countDocuments({ unsubscribedAt: { $exists: true, $ne: null } });
  }

  /**
   * Erasure: the lead's nurture state, consent and suppression included, goes. A tombstone takes
   * its place so that an event already on its way cannot enroll the person again.
   */
  async forget(leadId: string): Promise<void> {
    await forgetLead(this.leads, leadId);
  }

  /** The lead's document is an erasure's tombstone; one read by _id, of that field alone. */
  async isErased(leadId: string): Promise<boolean> {
    const doc = await this.leads.findById(leadId, { erasedAt: 1 }).lean<Pick<LeadNurtureDoc, 'erasedAt'>>();
    return Boolean(doc?.erasedAt);
  }

  async find(leadId: string): Promise<LeadNurtureDoc | null> {
    const doc = await this.leads.findById(leadId).lean<LeadNurtureDoc>();
    if (!doc || doc.erasedAt) return null;
    // Mixed fields come back as stored: make the dates inside enrollments real dates again.
    doc.enrollments = (doc.enrollments ?? []).map(reviveEnrollment);
    return doc;
  }

  /**
   * Leads whose next step has come, oldest first: equality on `nextStep` narrows the read to
   * leads with a step pending at all before the time is compared.
   */
  async dueLeads(now: Date, limit: number): Promise<DueLead[]> {
    const docs = await this.leads
      .find({ nextStep: 'WAITING', nextStepAt: { $lte: now } }, { contact: 1, emailMarketingConsent: 1, unsubscribedAt: 1, bouncedAt: 1, enrollments: 1, nextStepAt: 1, scheduledBy: 1 })
      .sort({ nextStepAt: 1 })
      .limit(limit)
      .lean<DueLead[]>();
    for (const doc of docs) doc.enrollments = (doc.enrollments ?? []).map(reviveEnrollment);
    return docs;
  }

  /**
   * Applies one change once (platform applyEventOnce: one read, one compare-and-set write holding
   * the effect, the event id and the outbox). `likelyNew` skips the read for a lead's first event.
   */
  apply(leadId: string, eventId: string, decide: (current: LeadNurtureDoc | null) => Change | null, likelyNew = false): Promise<ApplyResult> {
    return applyEventOnce(
      this.leads,
      this.outbox,
      leadId,
      eventId,
      (current) => decide(current && { ...current, enrollments: (current.enrollments ?? []).map(reviveEnrollment) }),
      { likelyNew },
    );
  }
}

function reviveEnrollment(e: Enrollment): Enrollment {
  return {
    ...e,
    enrolledAt: new Date(e.enrolledAt),
    ...(e.exitedAt ? { exitedAt: new Date(e.exitedAt) } : {}),
    steps: e.steps.map((s) => ({ ...s, dueAt: new Date(s.dueAt) })),
  };
}
