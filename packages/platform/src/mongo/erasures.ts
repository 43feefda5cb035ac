import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { Schema, type Model } from 'mongoose';
import { encodeEvent, type OutgoingEvent } from '../nats/publisher.js';
import type { EventConsumers } from '../nats/consumer.js';
import { outboxEntrySchema, type Outbox } from '../outbox.js';
import { defineModel, isDuplicateKey, type MongoStore } from './store.js';

interface ErasedLeadDoc {
  _id: string; // lead id: random, not personal data
  erasureId: string;
  erasedAt: Date;
  outbox: OutgoingEvent[];
}

/**
 * Right to erasure, the same way in every service: on contact.erased the service deletes what it
 * holds about the lead, keeps a tombstone of the (random) lead id so a replayed old event cannot
 * bring the person back, and reports completion with erasure.completed.
 */
export class Erasures {
  private readonly erased: Model<ErasedLeadDoc>;
  private readonly known = new Set<string>();

  constructor(
    store: MongoStore,
    private readonly outbox: Outbox,
    private readonly service: string,
  ) {
    const schema = new Schema<ErasedLeadDoc>(
      { _id: String, erasureId: { type: String, required: true }, erasedAt: { type: Date, required: true }, outbox: { type: [outboxEntrySchema], default: [] } },
      { versionKey: false },
    );
    this.erased = defineModel<ErasedLeadDoc>(store, 'ErasedLead', schema, 'erased_leads');
    outbox.track(this.erased);
  }

  async isErased(leadId: string): Promise<boolean> {
    if (this.known.has(leadId)) return true;
    const found = (await this.erased.exists({ _id: leadId })) !== null;
    if (found) this.known.add(leadId);
    return found;
  }

  /** Registers the contact.erased consumer; `forget` deletes or anonymises everything this service holds about the lead. */
  register(consumers: EventConsumers, forget: (leadId: string) => Promise<void>): void {
    consumers.register({
      durable: `${this.service}-contact-erased`,
      subject: SUBJECTS.contactErased,
      schema: events.ContactErasedSchema,
      handle: async (event) => {
        // Idempotent: deleting twice is harmless, the tombstone is written once.
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
    this.known.add(leadId);
  }
}
