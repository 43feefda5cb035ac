import { Inject, Injectable } from '@nestjs/common';
import {
  MongoStore,
  Outbox,
  appliedBefore,
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
  /** The last time the CRM record was written (syncedAt stays the first time, for the latency). */
  lastSyncedAt?: Date;
  /** Set by leadmesh.lead.unsubscribed: consent stays withdrawn in the CRM from then on. */
  unsubscribedAt?: Date;
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
    lastSyncedAt: Date,
    unsubscribedAt: Date,
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

  async forget(leadId: string): Promise<void> {
    await this.records.deleteOne({ _id: leadId });
  }

  find(leadId: string) {
    return this.records.findById(leadId).lean<SyncRecordDoc>();
  }

  /** The record already took this event in (a redelivery); its events still unpublished go out now. */
  appliedBefore(record: SyncRecordDoc | null, eventId: string): Promise<boolean> {
    return appliedBefore(this.records, this.outbox, record, eventId);
  }

  /** Counts an attempt before calling the CRM, so GetSyncStatus shows retries as they happen; returns the count. */
  async recordAttempt(leadId: string, crm: string, leadReceivedAt: Date): Promise<number> {
    const doc = await this.records
      .findOneAndUpdate(
        { _id: leadId },
        { $inc: { attempts: 1 }, $setOnInsert: { status: 'PENDING', crm, leadReceivedAt, revision: 1, processedEventIds: [], outbox: [], fields: {} } },
        { upsert: true, new: true },
      )
      .lean<SyncRecordDoc>();
    return doc?.attempts ?? 1;
  }

  /** A failure that will be retried: the status stays as it is (a synced lead is still in the CRM). */
  async recordTransientFailure(leadId: string, error: string): Promise<void> {
    await this.records.updateOne({ _id: leadId }, { $set: { lastError: error } });
  }

  /** The sync is given up (the lead is in dead letters); returns the attempts made so far. */
  async recordGivenUp(leadId: string, crm: string, error: string): Promise<number> {
    const doc = await this.records
      .findOneAndUpdate(
        { _id: leadId },
        { $set: { status: 'FAILED', lastError: error }, $setOnInsert: { crm, attempts: 0, revision: 1, processedEventIds: [], outbox: [], fields: {} } },
        { upsert: true, new: true },
      )
      .lean<SyncRecordDoc>();
    return doc?.attempts ?? 0;
  }

  /** Remembers the unsubscribe even before the lead was first synced, so the first sync carries it. */
  async markUnsubscribed(leadId: string, crm: string, at: Date): Promise<void> {
    await this.records.updateOne(
      { _id: leadId },
      { $setOnInsert: { status: 'PENDING', crm, attempts: 0, revision: 1, processedEventIds: [], outbox: [], fields: {}, unsubscribedAt: at } },
      { upsert: true },
    );
    await this.records.updateOne({ _id: leadId, unsubscribedAt: { $exists: false } }, { $set: { unsubscribedAt: at } });
  }

  apply(leadId: string, eventId: string, decide: (current: SyncRecordDoc | null) => Change | null) {
    return applyEventOnce(this.records, this.outbox, leadId, eventId, decide);
  }
}
