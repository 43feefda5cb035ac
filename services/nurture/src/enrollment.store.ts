import { Inject, Injectable } from '@nestjs/common';
import {
  MongoStore,
  Outbox,
  appliedEventsFields,
  applyEventOnce,
  defineModel,
  outboxEntrySchema,
  type AppliedEvents,
  type Change,
} from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import type { Enrollment } from './domain/enrollment.js';

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
}

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

  /** Erasure: the lead's nurture state, consent and suppression included, goes. */
  async forget(leadId: string): Promise<void> {
    await this.leads.deleteOne({ _id: leadId });
  }

  async find(leadId: string): Promise<LeadNurtureDoc | null> {
    const doc = await this.leads.findById(leadId).lean<LeadNurtureDoc>();
    // Mixed fields come back as stored: make the dates inside enrollments real dates again.
    if (doc) doc.enrollments = (doc.enrollments ?? []).map(reviveEnrollment);
    return doc;
  }

  apply(leadId: string, eventId: string, decide: (current: LeadNurtureDoc | null) => Change | null) {
    return applyEventOnce(this.leads, this.outbox, leadId, eventId, (current) =>
      decide(current && { ...current, enrollments: (current.enrollments ?? []).map(reviveEnrollment) }),
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
