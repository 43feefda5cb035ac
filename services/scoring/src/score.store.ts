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
  type ApplyOptions,
  type Change,
} from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';

export interface StoredActivity {
  activityId: string;
  type: string;
  occurredAt: Date;
}

/** A lead as scoring knows it: profile, activity, the current score and its history. */
export interface LeadScoreDoc extends AppliedEvents {
  /** leadmesh.lead.v1.LeadProfile in proto JSON; absent until lead.received arrives. */
  profile?: Record<string, unknown>;
  activities: StoredActivity[];
  /** leadmesh.scoring.v1.LeadScore in proto JSON. */
  score?: Record<string, unknown>;
  history: Array<Record<string, unknown>>;
  lifecycleStage?: string;
  ruleSetVersion?: string;
}

const schema = new Schema<LeadScoreDoc>(
  {
    _id: String,
    ...appliedEventsFields,
    profile: Schema.Types.Mixed,
    activities: { type: [{ activityId: String, type: { type: String }, occurredAt: Date, _id: false }], default: [] },
    score: Schema.Types.Mixed,
    history: { type: Schema.Types.Mixed, default: () => [] },
    lifecycleStage: String,
    ruleSetVersion: { type: String, index: true },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false, minimize: false },
);

@Injectable()
export class ScoreStore {
  readonly scores: Model<LeadScoreDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.scores = defineModel(store, 'LeadScore', schema, 'lead_scores');
    outbox.track(this.scores);
  }

  /** Erasure: the profile, activity, score and history of the lead go; a tombstone keeps late events out. */
  forget(leadId: string): Promise<void> {
    return forgetLead(this.scores, leadId);
  }

  find(leadId: string) {
    return this.scores.findById(leadId).lean<LeadScoreDoc>();
  }

  /** Leads with a known profile: the ones a rule-set activation rescores. */
  countScorable(): Promise<number> {
    return this.scores.countDocuments({ profile: { $exists: true } }).exec();
  }

  /** The next page of scorable lead ids after `cursor`, in id order, for a rescore that can resume. */
  async scorableIdsAfter(cursor: string | undefined, limit: number): Promise<string[]> {
    const filter: Record<string, unknown> = { profile: { $exists: true } };
    if (cursor !== undefined) filter._id = { $gt: cursor };
    const docs = await this.scores.find(filter, { _id: 1 }).sort({ _id: 1 }).limit(limit).lean<Array<{ _id: string }>>();
    return docs.map((d) => d._id);
  }

  apply(leadId: string, eventId: string, decide: (current: LeadScoreDoc | null) => Change | null, options?: ApplyOptions<LeadScoreDoc>) {
    return applyEventOnce(this.scores, this.outbox, leadId, eventId, decide, options);
  }
}
