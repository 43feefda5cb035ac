import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { Schema, type Model } from 'mongoose';
import { encodeEvent, type OutgoingEvent } from '../nats/publisher.js';
import type { EventConsumers } from '../nats/consumer.js';
import { outboxEntrySchema, type Outbox } from '../outbox.js';
import { PeriodicWork } from '../periodic-work.js';
import { defineModel, isDuplicateKey, type MongoStore } from './store.js';

interface ErasedLeadDoc {
  _id: string; // lead id: random, not personal data
  erasureId: string;
  erasedAt: Date;
  outbox: OutgoingEvent[];
}

/** How often a replica picks up the erasures other replicas handled. */
const REFRESH_MS = 5000;

/**
 * Right to erasure, the same way in every service: on contact.erased the service deletes what it
 * holds about the lead, keeps a tombstone of the (random) lead id so a replayed old event cannot
 * bring the person back, and reports completion with erasure.completed.
 *
 * Every replica keeps the erased lead ids in memory, loaded before its consumers start and kept
 * current from its own erasures and a periodic look at the newest ones, so an event costs no store
 * read to know whether its lead was erased. The view may lag another replica's erasure by a few
 * seconds; what closes that gap is the lead's own document, which erasure turns into a tombstone
 * that no event's write can bring back (forgetLead).
 */
export class Erasures {
  private readonly erased: Model<ErasedLeadDoc>;
  private readonly known = new Set<string>();
  private newestSeen = new Date(0);
  private readonly listeners: Array<(leadId: string) => void> = [];
  /** Other replicas' erasures, picked up every few seconds. */
  private readonly refresher = new PeriodicWork('erased leads refresh', () => this.refresh(), { everyMs: REFRESH_MS });

  constructor(
    store: MongoStore,
    private readonly outbox: Outbox,
    private readonly service: string,
  ) {
    const schema = new Schema<ErasedLeadDoc>(
      { _id: String, erasureId: { type: String, required: true }, erasedAt: { type: Date, required: true, index: true }, outbox: { type: [outboxEntrySchema], default: [] } },
      { versionKey: false },
    );
    this.erased = defineModel<ErasedLeadDoc>(store, 'ErasedLead', schema, 'erased_leads');
    outbox.track(this.erased);
  }

  /** Told of every erased lead this replica learns of (its own erasures and other replicas'). */
  onErased(listener: (leadId: string) => void): void {
    this.listeners.push(listener);
  }

  /** Answered from memory: load() runs before the consumers start. */
  async isErased(leadId: string): Promise<boolean> {
    return this.known.has(leadId);
  }

  /** Reads every erased lead id once (in pages), then keeps up with the newest every few seconds. */
  async load(): Promise<void> {
    for (let after: string | undefined; ; ) {
      const page = await this.erased
        .find(after === undefined ? {} : { _id: { $gt: after } }, { _id: 1, erasedAt: 1 })
        .sort({ _id: 1 })
        .limit(5000)
        .lean();
      for (const doc of page) this.remember(doc._id, doc.erasedAt);
      if (page.length < 5000) break;
      after = page.at(-1)!._id;
    }
    this.refresher.start();
  }

  stop(): Promise<void> {
    return this.refresher.stop();
  }

  private async refresh(): Promise<void> {
    // A little overlap: another replica's clock and write may land just behind the newest we saw.
    const since = new Date(this.newestSeen.getTime() - 60_000);
    for (const doc of await this.erased.find({ erasedAt: { $gte: since } }, { _id: 1, erasedAt: 1 }).lean()) this.remember(doc._id, doc.erasedAt);
  }

  private remember(leadId: string, erasedAt: Date): void {
    this.learn(leadId);
    if (erasedAt > this.newestSeen) this.newestSeen = erasedAt;
  }

  private learn(leadId: string): void {
    if (this.known.has(leadId)) return;
    this.known.add(leadId);
    for (const listener of this.listeners) listener(leadId);
  }

  /** Registers the contact.erased consumer; `forget` deletes or anonymises everything this service holds about the lead. */
  register(consumers: EventConsumers, forget: (leadId: string) => Promise<void>): void {
    consumers.register({
      durable: `${this.service}-contact-erased`,
      subject: SUBJECTS.contactErased,
      schema: events.ContactErasedSchema,
      handle: async (event) => {
        // Idempotent: deleting twice is harmless, the tombstone is written once.
        this.learn(event.leadId);
        await forget(event.leadId);
        await this.complete(event.leadId, event.erasureId);
      },
    });
  }

  private async complete(leadId: string, erasureId: string): Promise<void> {
    const now = new Date();
    const done = encodeEvent(SUBJECTS.erasureCompleted, events.ErasureCompletedSchema, {
      eventId: `erasure.completed:${erasureId}:${this.service}`,
      leadId,
      occurredAt: timestampFromDate(now),
      erasureId,
      service: this.service,
    });
    try {
      await this.erased.create({ _id: leadId, erasureId, erasedAt: now, outbox: [done] });
      await this.outbox.flush(this.erased, leadId, [done]);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await this.outbox.flushStored(this.erased, leadId);
    }
  }
}
