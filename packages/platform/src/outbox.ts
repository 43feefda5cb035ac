import { Schema, type Model } from 'mongoose';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import type { NatsClient } from './nats/connection.js';
import type { EventPublisher, OutgoingEvent } from './nats/publisher.js';

/**
 * The outbox: events are stored on the same document as the effect that caused them, in the same
 * single-document write, then published and removed. A crash between the write and the publish
 * leaves them on the document, where the relay finds and publishes them. No transactions needed.
 */
export const outboxEntrySchema = new Schema<OutgoingEvent>(
  {
    subject: { type: String, required: true },
    eventId: { type: String, required: true },
    type: { type: String, required: true },
    payload: { type: Buffer, required: true },
    trace: { type: Schema.Types.Mixed, default: {} },
    createdAt: { type: Date, required: true },
  },
  { _id: false },
);

export interface WithOutbox {
  outbox: OutgoingEvent[];
}

/** Longer than the stream's 2-minute de-duplication window, with room for a slow redelivery. */
const RECENTLY_CLEARED_MS = 10 * 60_000;
const RECENTLY_CLEARED_MAX = 200_000;

export class Outbox {
  private timer?: NodeJS.Timeout;
  /**
   * Whether stored events may be waiting. A scan reads every outbox-carrying collection, which
   * FerretDB does without an index, so the relay scans at start (after a crash), after a publish
   * that failed, and otherwise only every `safetyScanMs` (another replica may have died).
   */
  private dirty = true;
  private lastScan = 0;
  private readonly models: Array<Model<WithOutbox>> = [];
  /**
   * Entries published but still on their documents, by model and document. Clearing them one
   * document at a time cost a read and a write per published event (two of every five store calls
   * of a lead); gathered here they go in one bulk write per model a few times a second. Until then
   * they are harmless: the relay skips them, and a crash only means the relay publishes them again,
   * which the stream drops as duplicates (same Nats-Msg-Id) and consumers recognise anyway.
   */
  private readonly published = new Map<Model<WithOutbox>, Map<unknown, Set<string>>>();
  /**
   * Event ids cleared lately, kept a while after their entries left the store: a redelivered event
   * may have read its document just before the clear, and must not publish those entries again
   * after the stream's de-duplication window. Pruned by age and bounded in size.
   */
  private readonly recentlyCleared = new Map<string, number>();
  private clearing?: NodeJS.Timeout;
  private clearRun: Promise<void> = Promise.resolve();

  constructor(
    private readonly publisher: EventPublisher,
    private readonly nats: NatsClient,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly relayAfterMs = 3000,
    private readonly clearAfterMs = 200,
  ) {}

  /** Models whose documents carry an `outbox` array (schema field `outbox: [outboxEntrySchema]`). */
  track(model: Model<any>): void {
    model.schema.index({ 'outbox.createdAt': 1 }, { sparse: true });
    this.models.push(model as Model<WithOutbox>);
  }

  /** Publishes the events stored on a document; they are cleared from it in the next batch. If the broker is down they stay for the relay. */
  async flush(model: Model<any>, id: unknown, events: OutgoingEvent[]): Promise<boolean> {
    if (events.length === 0) return true;
    try {
      // In order: one document's events are one lead's story (other documents publish meanwhile).
      for (const event of events) await this.publisher.publish(event);
      this.markPublished(model as Model<WithOutbox>, id, events);
      return true;
    } catch (err) {
      this.dirty = true;
      this.logger.warn({ err: (err as Error).message, events: events.map((e) => e.subject) }, 'publish deferred to the outbox relay');
      return false;
    }
  }

  private markPublished(model: Model<WithOutbox>, id: unknown, events: OutgoingEvent[]): void {
    let byDoc = this.published.get(model);
    if (!byDoc) this.published.set(model, (byDoc = new Map()));
    let entries = byDoc.get(id);
    if (!entries) byDoc.set(id, (entries = new Set()));
    for (const event of events) entries.add(event.eventId);
    this.clearing ??= setTimeout(() => {
      this.clearing = undefined;
      void this.clearPublished();
    }, this.clearAfterMs);
  }

  private isPublished(model: Model<WithOutbox>, id: unknown, eventId: string): boolean {
    return (this.published.get(model)?.get(id)?.has(eventId) ?? false) || this.recentlyCleared.has(eventId);
  }

  /**
   * Removes every published entry gathered so far: for each model one read of the documents'
   * outboxes and one unordered bulk write, however many leads the batch holds. Each document's
   * published entries are pulled by their whole stored value, so an entry added meanwhile stays:
   * FerretDB's $pull matches no condition on an embedded field (it would match nothing), and a value
   * rebuilt here may differ from the stored one in its BSON form (key order, binary subtype, an empty
   * object kept or dropped), which would leave it stored and the relay publishing it again. So the
   * values come from the read, through the driver, uncast.
   */
  clearPublished(): Promise<void> {
    this.clearRun = this.clearRun.then(async () => {
      for (const [model, byDoc] of this.published) {
        if (byDoc.size === 0) continue;
        const batch = [...byDoc].slice(0, 1000);
        try {
          const stored = await model.collection.find({ _id: { $in: batch.map(([id]) => id) } } as never, { projection: { outbox: 1 } }).toArray();
          const byKey = new Map([...byDoc].map(([id, entries]) => [String(id), entries]));
          const ops = stored.flatMap((doc) => {
            const published = byKey.get(String(doc._id));
            const values = ((doc.outbox ?? []) as Array<{ eventId: string }>).filter((e) => published?.has(e.eventId));
            return values.length > 0 ? [{ updateOne: { filter: { _id: doc._id }, update: { $pullAll: { outbox: values } } } }] : [];
          });
          if (ops.length > 0) await model.collection.bulkWrite(ops as never, { ordered: false });
          const now = Date.now();
          for (const [id, entries] of batch) {
            for (const eventId of entries) this.recentlyCleared.set(eventId, now);
            if (byDoc.get(id) === entries) byDoc.delete(id);
          }
          this.forgetClearedBefore(now - RECENTLY_CLEARED_MS);
        } catch (err) {
          this.logger.warn({ err: (err as Error).message, documents: batch.length }, 'clearing published outbox entries failed, will try again');
        }
        if (byDoc.size > 0) this.markPending();
      }
    });
    return this.clearRun;
  }

  private forgetClearedBefore(cutoff: number): void {
    // Insertion order is clearing order, so the oldest are first.
    for (const [eventId, clearedAt] of this.recentlyCleared) {
      if (clearedAt >= cutoff && this.recentlyCleared.size <= RECENTLY_CLEARED_MAX) break;
      this.recentlyCleared.delete(eventId);
    }
  }

  private markPending(): void {
    this.clearing ??= setTimeout(() => {
      this.clearing = undefined;
      void this.clearPublished();
    }, Math.max(this.clearAfterMs, 1000));
  }

  /** Publishes whatever a document still holds in its outbox (after a redelivered event found its effect already stored). */
  async flushStored(model: Model<any>, id: unknown): Promise<boolean> {
    const doc = await (model as Model<WithOutbox>).findById(id, { outbox: 1 }).lean();
    return this.flushEntries(model, doc);
  }

  /** Like flushStored, for a document the caller has just read with its outbox. */
  flushEntries(model: Model<any>, doc: { _id: unknown; outbox?: OutgoingEvent[] } | null): Promise<boolean> {
    const waiting = (doc?.outbox ?? []).filter((e) => !this.isPublished(model as Model<WithOutbox>, doc!._id, e.eventId));
    if (waiting.length === 0) return Promise.resolve(true);
    return this.flush(model, doc!._id, waiting.map((e) => ({ ...e, payload: toBytes(e.payload) })));
  }

  start(intervalMs = 1000, safetyScanMs = Number(process.env.OUTBOX_SAFETY_SCAN_MS ?? 60_000)): void {
    this.timer = setInterval(() => {
      if (this.dirty || Date.now() - this.lastScan >= safetyScanMs) void this.relay();
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the relay and clears what was published, so a rollout leaves no work for the next relay. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.clearing);
    this.clearing = undefined;
    await this.clearPublished().catch(() => undefined);
  }

  /** Publishes events left behind by a crash or a broker outage. Safe on every replica: publishes are de-duplicated by event id. */
  async relay(): Promise<number> {
    if (!this.nats.isConnected) return 0;
    this.dirty = false;
    this.lastScan = Date.now();
    let published = 0;
    let pending = 0;
    for (const model of this.models) {
      try {
        const cutoff = new Date(Date.now() - this.relayAfterMs);
        const docs = await model.find({ 'outbox.createdAt': { $lte: new Date() } }, { outbox: 1 }).limit(200).lean();
        // More than one page, or entries too young to relay yet: look again on the next tick.
        if (docs.length === 200) this.dirty = true;
        for (const doc of docs) {
          const waiting = doc.outbox.filter((e) => !this.isPublished(model, doc._id, e.eventId));
          const due = waiting.filter((e) => e.createdAt < cutoff);
          if (due.length < waiting.length) this.dirty = true;
          pending += waiting.length;
          const events = due.map((e) => ({ ...e, payload: toBytes(e.payload) }));
          if (await this.flush(model, doc._id, events)) published += events.length;
        }
      } catch (err) {
        this.dirty = true;
        this.logger.warn({ err: (err as Error).message }, 'outbox relay pass failed');
      }
    }
    this.metrics.outboxPending.set(pending - published);
    if (published > 0) this.logger.info({ published }, 'outbox relay published stored events');
    return published;
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  // A lean() read returns BSON Binary.
  const binary = value as { buffer?: Uint8Array; value?: () => Uint8Array };
  if (binary.buffer instanceof Uint8Array) return binary.buffer;
  throw new Error('outbox payload is not binary');
}
