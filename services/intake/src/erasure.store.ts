import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, Outbox, defineModel, isDuplicateKey, outboxEntrySchema, type OutgoingEvent } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';

/** An erasure request: the tombstone that outlives the person (only a keyed hash of the address). */
export interface ErasureDoc {
  _id: string; // erasure id
  emailHash: string;
  leadId?: string;
  requestedAt: Date;
  /** Service name -> when it reported its part done. */
  completed: Record<string, Date>;
  outbox: OutgoingEvent[];
}

const schema = new Schema<ErasureDoc>(
  {
    _id: String,
    emailHash: { type: String, required: true, index: true },
    leadId: { type: String, index: true },
    requestedAt: { type: Date, required: true },
    completed: { type: Schema.Types.Mixed, default: () => ({}) },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false, minimize: false },
);

@Injectable()
export class ErasureStore {
  readonly erasures: Model<ErasureDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.erasures = defineModel(store, 'Erasure', schema, 'erasures');
    outbox.track(this.erasures);
  }

  find(erasureId: string) {
    return this.erasures.findById(erasureId).lean<ErasureDoc>();
  }

  findByEmailHash(emailHash: string) {
    return this.erasures.findOne({ emailHash: { $eq: emailHash } }).sort({ requestedAt: -1 }).lean<ErasureDoc>();
  }

  /** Stores the request with its contact.erased event; false when this erasure id exists already. */
  async insert(doc: ErasureDoc): Promise<boolean> {
    try {
      await this.erasures.create(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  publish(doc: Pick<ErasureDoc, '_id' | 'outbox'>) {
    return doc.outbox.length ? this.outbox.flush(this.erasures, doc._id, doc.outbox) : this.outbox.flushStored(this.erasures, doc._id);
  }

  async markCompleted(erasureId: string, service: string, at: Date): Promise<void> {
    await this.erasures.updateOne({ _id: erasureId }, { $set: { [`completed.${service}`]: at } });
  }
}
