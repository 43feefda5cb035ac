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

export type SyncState = 'PENDING' | 'SYNCED' | 'FAILED';

/** A lead's record in the CRM as crm-sync knows it. */
export interface SyncRecordDoc extends AppliedEvents {
  status: SyncState;
  crm: string;
  crmId?: string;
  attempts: number;
  lastError?: string;
  leadReceivedAt?: Date;
  syncedAt?: Date;
  latencyMs?: number;
  fields: Record<string, unknown>;
}

const schema = new Schema<SyncRecordDoc>(
  {
    _id: String,
    ...appliedEventsFields,
    status: { type: String, required: true, index: true },
    crm: { type: String, required: true },
    crmId: { type: String, index: true },
    attempts: { type: Number, default: 0 },
    lastError: String,
    leadReceivedAt: Date,
    syncedAt: Date,
    latencyMs: Number,
    fields: { type: Schema.Types.Mixed, default: () => ({}) },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false, minimize: false },
);

@Injectable()
export class SyncStore {
  readonly records: Model<SyncRecordDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.records = defineModel(store, 'SyncRecord', schema, 'sync_records');
    outbox.track(this.records);
  }

  find(leadId: string) {
    return this.records.findById(leadId).lean<SyncRecordDoc>();
  }

  async alreadyApplied(leadId: string, eventId: string): Promise<boolean> {
    const doc = await this.records.findOne({ _id: leadId, processedEventIds: { $eq: eventId } }, { _id: 1 }).lean();
    if (doc) await this.outbox.flushStored(this.records, leadId);
    return doc !== null;
  }

  /** Counts an attempt before calling the CRM, so GetSyncStatus shows retries as they happen. */
  async recordAttempt(leadId: string, crm: string, leadReceivedAt: Date): Promise<void> {
    await this.records.updateOne(
      { _id: leadId },
      { $inc: { attempts: 1 }, $setOnInsert: { status: 'PENDING', crm, leadReceivedAt, revision: 1, processedEventIds: [], outbox: [], fields: {} } },
      { upsert: true },
    );
  }

  async recordFailure(leadId: string, error: string): Promise<void> {
    await this.records.updateOne({ _id: leadId, status: { $ne: 'SYNCED' } }, { $set: { status: 'FAILED', lastError: error } });
  }

  apply(leadId: string, eventId: string, decide: (current: SyncRecordDoc | null) => Change | null) {
    return applyEventOnce(this.records, this.outbox, leadId, eventId, decide);
  }
}
