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

export interface ScheduledStep {
  stepId: string;
  template: string;
  subject: string;
  dueAt: Date;
  sentAt?: Date;
}

export interface StoredEnrollment {
  trackId: string;
  trackVersion: string;
  kind: string;
  status: 'ACTIVE' | 'COMPLETED' | 'EXITED';
  reason: string;
  enrolledAt: Date;
  steps: ScheduledStep[];
}

/** A lead's nurture state: its enrollments and their scheduled steps. */
export interface LeadNurtureDoc extends AppliedEvents {
  enrollments: StoredEnrollment[];
}

const schema = new Schema<LeadNurtureDoc>(
  {
    _id: String,
    ...appliedEventsFields,
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

  find(leadId: string) {
    return this.leads.findById(leadId).lean<LeadNurtureDoc>();
  }

  apply(leadId: string, eventId: string, decide: (current: LeadNurtureDoc | null) => Change | null) {
    return applyEventOnce(this.leads, this.outbox, leadId, eventId, decide);
  }
}
