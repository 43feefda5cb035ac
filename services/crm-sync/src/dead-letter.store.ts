import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, Metrics, MongoStore, Outbox, PeriodicWork, defineModel, outboxEntrySchema, type Logger, type OutgoingEvent } from '@leadmesh/platform';
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

/** The consumer label crm-sync's given-up leads carry in the parked-events metrics, beside the consumers' own. */
export const DEAD_LETTERS_CONSUMER = 'crm-sync-dead-letters';

@Injectable()
export class DeadLetterStore implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly letters: Model<DeadLetterDoc>;
  /** Given-up leads waiting for a replay, for the dead-letters alert like every service's parked events. */
  private readonly waitingCount: PeriodicWork;

  constructor(
    @Inject(MongoStore) private readonly store: MongoStore,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(Metrics) metrics: Metrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.letters = defineModel(store, 'DeadLetter', schema, 'dead_letters');
    outbox.track(this.letters);
    this.waitingCount = new PeriodicWork(
      'dead letters count',
      async () => {
        if (this.store.isConnected) metrics.parkedEvents.set({ consumer: DEAD_LETTERS_CONSUMER }, await this.letters.estimatedDocumentCount());
      },
      { everyMs: 15_000, logger },
    );
  }

  onApplicationBootstrap(): void {
    this.waitingCount.start(true);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.waitingCount.stop();
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
