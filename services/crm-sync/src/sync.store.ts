import { Inject, Injectable } from '@nestjs/common';
import {
  MongoStore,
  Outbox,
  appliedBefore,
  appliedEventsFields,
  applyEventOnce,
  defineModel,
  forgetLead,
  isDuplicateKey,
  notErased,
  outboxEntrySchema,
  type AppliedEvents,
  type ApplyResult,
  type Change,
} from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import type { MappingIssue } from './domain/field-mapping.js';
import type { LeadState } from './domain/lead-state.js';

export type SyncState = 'PENDING' | 'SYNCED' | 'FAILED';

/** Sales converted the CRM Lead (Salesforce): where updates go now, and by which rule. */
export interface ConvertedDoc {
  contactId: string;
  rule: 'follow' | 'stop';
  at: Date;
}

export interface CampaignMembershipDoc {
  campaignId: string;
  /** 'form' or 'utm_campaign:<value>'. */
  source: string;
  memberId?: string;
  status: string;
  addedAt: Date;
}

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
  /** The lead as the pipeline's events delivered it; the CRM record is mapped from this alone. */
  lead?: LeadState;
  /** Where records written before crm-sync kept the lead's state held the unsubscribe; read, never written. */
  unsubscribedAt?: Date;
  fields: Record<string, unknown>;
  /** What leadmesh wrote last per CRM field: a CRM value that differs from it is a sales edit to keep. */
  written?: Record<string, unknown>;
  /** Set once sales converted the Lead; updates then follow it to the Contact or stop, by rule. */
  converted?: ConvertedDoc;
  /** The CRM campaigns leadmesh made the lead a member of, once each. */
  campaigns?: CampaignMembershipDoc[];
  /** Named problems of the last sync that did not stop it (e.g. OWNER_NOT_MAPPED); empty when none. */
  issues?: MappingIssue[];
  /**
   * On a tombstone only: a CRM write of the lead landed after its erasure and the CRM refused to
   * delete it again at that moment; 'PENDING' until a later try does (an equality the sweep's index answers).
   */
  crmErasure?: 'PENDING';
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
    lead: { type: Schema.Types.Mixed },
    unsubscribedAt: Date,
    fields: { type: Schema.Types.Mixed, default: () => ({}) },
    issues: { type: Schema.Types.Mixed },
    written: { type: Schema.Types.Mixed },
    campaigns: { type: Schema.Types.Mixed },
    converted: { type: Schema.Types.Mixed },
    crmErasure: { type: String, index: true },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false, minimize: false },
);

/** A record crm-sync starts for a lead it has not sent to the CRM yet. */
export const pendingRecord = (crm: string) => ({ crm, status: 'PENDING' as const, attempts: 0, fields: {} });

@Injectable()
export class SyncStore {
  readonly records: Model<SyncRecordDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.records = defineModel(store, 'SyncRecord', schema, 'sync_records');
    outbox.track(this.records);
  }

  /** A tombstone, not a delete: an event of the lead still on its way must not bring its state back. */
  async forget(leadId: string): Promise<void> {
    await forgetLead(this.records, leadId);
  }

  /**
   * Remembers on the lead's tombstone that the CRM still holds a record written after the erasure.
   * A tombstone takes no other write (events find it and stop, a second erasure returns early), so
   * this plain update cannot lose to one.
   */
  async markCrmErasurePending(leadId: string): Promise<void> {
    await this.records.updateOne({ _id: leadId, erasedAt: { $exists: true } }, { $set: { crmErasure: 'PENDING' } });
  }

  /** Erased leads whose CRM record is still to be deleted again, oldest first. */
  async crmErasuresPending(limit: number): Promise<string[]> {
    const docs = await this.records.find({ crmErasure: 'PENDING' }, { _id: 1 }).sort({ _id: 1 }).limit(limit).lean<Array<{ _id: string }>>();
    return docs.map((d) => d._id);
  }

  async crmErasureDone(leadId: string): Promise<void> {
    await this.records.updateOne({ _id: leadId, crmErasure: 'PENDING' }, { $unset: { crmErasure: 1 } });
  }

  async find(leadId: string): Promise<SyncRecordDoc | null> {
    const record = await this.records.findById(leadId).lean<SyncRecordDoc>();
    // A record from before the lead's state was kept: its unsubscribe still withdraws consent.
    if (record?.unsubscribedAt && !record.lead?.unsubscribedAt) record.lead = { ...record.lead, unsubscribedAt: record.unsubscribedAt };
    return record;
  }

  /** The record already took this event in (a redelivery); its events still unpublished go out now. */
  appliedBefore(record: SyncRecordDoc | null, eventId: string): Promise<boolean> {
    return appliedBefore(this.records, this.outbox, record, eventId);
  }

  /**
   * A failure that will be retried: counted, with the CRM's message for GetSyncStatus; the status
   * stays as it is (a synced lead is still in the CRM). The event's state is not kept here: the
   * event comes again and brings it.
   */
  async recordTransientFailure(leadId: string, crm: string, error: string): Promise<void> {
    await this.upsertUnlessErased(() =>
      this.records.updateOne(
        { _id: leadId, ...notErased },
        { $set: { lastError: error }, $inc: { attempts: 1 }, $setOnInsert: { status: 'PENDING', crm, revision: 1, processedEventIds: [], outbox: [], fields: {} } },
        { upsert: true },
      ),
    );
  }

  /** An erasure that came in meanwhile left a tombstone: the upsert's insert collides with it, and nothing is written. */
  private async upsertUnlessErased<T>(write: () => Promise<T>): Promise<T | undefined> {
    try {
      return await write();
    } catch (err) {
      if (isDuplicateKey(err)) return undefined;
      throw err;
    }
  }

  /**
   * The sync is given up (the lead is in dead letters), keeping the lead's state so that a replay can
   * map it without asking anyone; returns the attempts made so far, this one included.
   */
  async recordGivenUp(leadId: string, crm: string, error: string, lead: LeadState | undefined): Promise<number> {
    const doc = await this.upsertUnlessErased(() =>
      this.records
        .findOneAndUpdate(
          { _id: leadId, ...notErased },
          {
            $set: { status: 'FAILED', lastError: error, ...(lead && { lead }) },
            $inc: { attempts: 1 },
            $setOnInsert: { crm, revision: 1, processedEventIds: [], outbox: [], fields: {} },
          },
          { upsert: true, returnDocument: 'after' },
        )
        .lean<SyncRecordDoc>(),
    );
    return doc?.attempts ?? 1;
  }

  /**
   * Stores one event's effect on the record as read before the CRM call, in one write: the
   * platform's compare-and-set on that read, with the event id and the events to publish (outbox).
   * If another replica wrote the record meanwhile, the effect is decided again on what it holds now.
   */
  async commit(leadId: string, eventId: string, read: SyncRecordDoc | null, decide: (current: SyncRecordDoc | null) => Change | null): Promise<ApplyResult> {
    if (!decide(read)) return 'unchanged';
    return applyEventOnce(this.records, this.outbox, leadId, eventId, decide, { read });
  }
}
