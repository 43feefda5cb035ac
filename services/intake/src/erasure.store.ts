import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, Outbox, defineModel, isDuplicateKey, outboxEntrySchema, type OutgoingEvent } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';

/** An erasure request: the tombstone that outlives the person (only a keyed hash of the address). */
export interface ErasureDoc {
  _id: string; // erasure id
  emailHash: string;
  leadId?: string;
  requestedAt: Date;
  outbox: OutgoingEvent[];
}

/** One service's report that its part of an erasure is done: a document of its own, because the
 * five reports arrive together and concurrent updates of one document are not safe on FerretDB. */
interface ErasureReportDoc {
  _id: string; // <erasure id>|<service>
  erasureId: string;
  service: string;
  completedAt: Date;
}

const reportSchema = new Schema<ErasureReportDoc>(
  { _id: String, erasureId: { type: String, required: true, index: true }, service: { type: String, required: true }, completedAt: { type: Date, required: true } },
  { versionKey: false },
);

const schema = new Schema<ErasureDoc>(
  {
    _id: String,
    emailHash: { type: String, required: true, index: true },
    leadId: { type: String, index: true },
    requestedAt: { type: Date, required: true },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false, minimize: false },
);

@Injectable()
export class ErasureStore {
  readonly erasures: Model<ErasureDoc>;
  private readonly reports: Model<ErasureReportDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.erasures = defineModel(store, 'Erasure', schema, 'erasures');
    this.reports = defineModel(store, 'ErasureReport', reportSchema, 'erasure_reports');
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
    try {
      await this.reports.create({ _id: `${erasureId}|${service}`, erasureId, service, completedAt: at });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** Service name -> when it reported its part done. */
  async completions(erasureId: string): Promise<Map<string, Date>> {
    const reports = await this.reports.find({ erasureId: { $eq: erasureId } }).lean<ErasureReportDoc[]>();
    return new Map(reports.map((r) => [r.service, r.completedAt]));
  }
}
