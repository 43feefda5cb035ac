import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, Outbox, defineModel, outboxEntrySchema, type OutgoingEvent } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';

/** A lead whose sync crm-sync gave up on, until a replay gets it into the CRM. One per lead. */
export interface DeadLetterDoc {
  _id: string;
  /** The CRM's own message (or the mapping error naming the field). */
  error: string;
  /** The CRM's error code when it gave one, e.g. FIELD_CUSTOM_VALIDATION_EXCEPTION. */
  code?: string;
  /** CRM attempts for this lead so far, replays included. */
  attempts: number;
  /** The event whose sync first failed, and its subject ('replay' for a failed replay of a synced lead). */
  eventId: string;
  subject: string;
  failedAt: Date;
  outbox: OutgoingEvent[];
}

export interface DeadLetterEntry {
  leadId: string;
  error: string;
  code?: string | undefined;
  attempts: number;
  eventId: string;
  subject: string;
  failedAt: Date;
}

const schema = new Schema<DeadLetterDoc>(
  {
    _id: String,
    error: { type: String, required: true },
    code: String,
    attempts: { type: Number, required: true },
    eventId: { type: String, required: true },
    subject: { type: String, required: true },
    failedAt: { type: Date, required: true, index: true },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false },
);

@Injectable()
export class DeadLetterStore {
  readonly letters: Model<DeadLetterDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.letters = defineModel(store, 'DeadLetter', schema, 'dead_letters');
    outbox.track(this.letters);
  }

  /**
   * Parks the lead (or refreshes its error after another failed try) and publishes the given-up event
   * through the outbox on the same document: one write, no transaction. The first failing event stays.
   */
  async put(entry: DeadLetterEntry, event: OutgoingEvent): Promise<void> {
    await this.letters.updateOne(
      { _id: entry.leadId },
      {
        $set: { error: entry.error, code: entry.code ?? null, attempts: entry.attempts, failedAt: entry.failedAt },
        $setOnInsert: { eventId: entry.eventId, subject: entry.subject },
        $push: { outbox: event },
      },
      { upsert: true },
    );
    await this.outbox.flush(this.letters, entry.leadId, [event]);
  }

  async find(leadId: string): Promise<DeadLetterEntry | undefined> {
    const doc = await this.letters.findById(leadId).lean<DeadLetterDoc>();
    return doc ? toEntry(doc) : undefined;
  }

  /** Lead-id order, so a page token is just the last lead id and paging survives removals meanwhile. */
  async page(after: string | undefined, size: number): Promise<DeadLetterEntry[]> {
    const docs = await this.letters
      .find(after ? { _id: { $gt: after } } : {}, { outbox: 0 })
      .sort({ _id: 1 })
      .limit(size)
      .lean<DeadLetterDoc[]>();
    return docs.map(toEntry);
  }

  /** Removes the lead's dead letter once its sync succeeded (a given-up event still unpublished is moot now). */
  async remove(leadId: string): Promise<boolean> {
    const result = await this.letters.deleteOne({ _id: leadId });
    return result.deletedCount === 1;
  }
}

function toEntry(doc: DeadLetterDoc): DeadLetterEntry {
  return {
    leadId: doc._id,
    error: doc.error,
    code: doc.code ?? undefined,
    attempts: doc.attempts,
    eventId: doc.eventId,
    subject: doc.subject,
    failedAt: new Date(doc.failedAt),
  };
}
