import { Schema, type Model } from 'mongoose';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import { writeAtRevision } from './mongo/revision-claims.js';
import type { NatsClient } from './nats/connection.js';
import type { EventPublisher, OutgoingEvent } from './nats/publisher.js';
import { PeriodicWork } from './periodic-work.js';

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
  /** Lead-keyed documents (AppliedEvents) carry one; their writers compare-and-set on it. */
  revision?: number;
}

const MAX_REMEMBERED_PUBLISHED = 100_000;

/** The document as the write that stored the events left it, when the writer knows it. */
export type WrittenOutbox = Required<WithOutbox>;

export class Outbox {
  private readonly relayWork: PeriodicWork<number>;
  /**
   * Whether stored events may be waiting. A scan reads every outbox-carrying collection, which
   * FerretDB does without an index (measured: 1.3 s of FerretDB time for 1,000 documents), so the
   * relay scans at start (after a crash), after a publish that failed, when entries it saw too young
   * to take over come due, and otherwise only every `safetyScanMs` (another replica may have died).
   * Scanning on every tick while entries are young, as it once did, kept FerretDB busy with scans
   * all through a steady load and slowed every other call.
   */
  private dirty = true;
  private lastScan = 0;
  /** When entries seen young, and not in this replica's hands, come due for a takeover. */
  private recheckAt = Number.POSITIVE_INFINITY;
  /** Events this replica is publishing right now: a relay pass leaves them to their writer. */
  private readonly inHand = new Set<string>();
  /**
   * Events this replica published whose clear from the document failed (the store went down right
   * after the publish). The relay only clears them: published again after a store outage longer
   * than the stream's duplicate window, they would be in the stream twice.
   */
  private readonly publishedNotCleared = new Set<string>();
  private safetyScanMs = 60_000;
  private readonly models: Array<Model<WithOutbox>> = [];

  constructor(
    private readonly publisher: EventPublisher,
    private readonly nats: NatsClient,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly relayAfterMs = 3000,
  ) {
    // The tick is cheap: it reads the store only when a scan is due (see `dirty`).
    this.relayWork = new PeriodicWork('outbox relay', () => (this.scanDue() ? this.relayPass() : Promise.resolve(0)), { everyMs: 1000, logger });
  }

  /** Models whose documents carry an `outbox` array (schema field `outbox: [outboxEntrySchema]`). */
  track(model: Model<any>): void {
    model.schema.index({ 'outbox.createdAt': 1 }, { sparse: true });
    this.models.push(model as Model<WithOutbox>);
  }

  /** Publishes the events stored on a document and clears them. If the broker is down they stay for the relay. */
  async flush(model: Model<any>, id: unknown, events: OutgoingEvent[], written?: WrittenOutbox): Promise<boolean> {
    if (events.length === 0) return true;
    const ids = events.map((e) => e.eventId);
    for (const eventId of ids) this.inHand.add(eventId);
    const published: string[] = [];
    try {
      for (const event of events) {
        if (!this.publishedNotCleared.has(event.eventId)) await this.publisher.publish(event);
        published.push(event.eventId);
      }
      await this.remove(model, id, new Set(ids), written);
      for (const eventId of ids) this.publishedNotCleared.delete(eventId);
      return true;
    } catch (err) {
      this.rememberPublished(published);
      this.dirty = true;
      this.logger.warn({ err: (err as Error).message, events: events.map((e) => e.subject) }, 'publish deferred to the outbox relay');
      return false;
    } finally {
      for (const eventId of ids) this.inHand.delete(eventId);
    }
  }

  /**
   * Drops published entries with a compare-and-set on the outbox's length: portable to stores
   * whose $pull cannot match on an embedded field, and safe against an entry added meanwhile.
   * On FerretDB a lead-keyed document's write is claimed like any other (revision-claims.ts):
   * otherwise the clear and another replica's effect can each write over the other.
   */
  private rememberPublished(eventIds: string[]): void {
    for (const eventId of eventIds) this.publishedNotCleared.add(eventId);
    // Bounded: beyond it the oldest are forgotten, and at worst published once more.
    for (const eventId of this.publishedNotCleared) {
      if (this.publishedNotCleared.size <= MAX_REMEMBERED_PUBLISHED) break;
      this.publishedNotCleared.delete(eventId);
    }
  }

  private async remove(model: Model<any>, id: unknown, published: Set<string>, written?: WrittenOutbox): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      // The writer that just stored these events knows the document as it left it: no read first.
      const doc = attempt === 0 && written ? written : await (model as Model<WithOutbox>).findById(id, { outbox: 1, revision: 1 }).lean();
      if (!doc?.outbox?.length) return;
      const remaining = doc.outbox.filter((e) => !published.has(e.eventId));
      if (remaining.length === doc.outbox.length) return;
      // Documents without a revision (not lead-keyed) and MongoDB: the outbox's length is the condition.
      const revision = typeof doc.revision === 'number' ? doc.revision : undefined;
      const cleared = await writeAtRevision(model, String(id), revision, attempt, (claimed) =>
        claimed !== undefined
          ? model.updateOne({ _id: id, revision }, { $set: { outbox: remaining, revision: claimed } })
          : model.updateOne({ _id: id, outbox: { $size: doc.outbox!.length } }, { $set: { outbox: remaining } }),
      );
      if (cleared) return;
    }
  }

  /** Publishes whatever a document still holds in its outbox (after a redelivered event found its effect already stored). */
  async flushStored(model: Model<any>, id: unknown): Promise<boolean> {
    const doc = await (model as Model<WithOutbox>).findById(id, { outbox: 1 }).lean();
    return this.flushEntries(model, doc);
  }

  /** Like flushStored, for a document the caller has just read with its outbox. */
  flushEntries(model: Model<any>, doc: { _id: unknown; outbox?: OutgoingEvent[] } | null): Promise<boolean> {
    if (!doc?.outbox?.length) return Promise.resolve(true);
    return this.flush(model, doc._id, doc.outbox.map((e) => ({ ...e, payload: toBytes(e.payload) })));
  }

  start(safetyScanMs = Number(process.env.OUTBOX_SAFETY_SCAN_MS ?? 60_000)): void {
    this.safetyScanMs = safetyScanMs;
    this.relayWork.start();
  }

  stop(): Promise<void> {
    return this.relayWork.stop();
  }

  /** Publishes events left behind by a crash or a broker outage. Safe on every replica: publishes are de-duplicated by event id. */
  async relay(): Promise<number> {
    return (await this.relayWork.runNow()) ?? 0;
  }

  private scanDue(): boolean {
    const now = Date.now();
    return this.dirty || now >= this.recheckAt || now - this.lastScan >= this.safetyScanMs;
  }

  private async relayPass(): Promise<number> {
    if (!this.nats.isConnected) return 0;
    this.dirty = false;
    this.lastScan = Date.now();
    this.recheckAt = Number.POSITIVE_INFINITY;
    let published = 0;
    let pending = 0;
    for (const model of this.models) {
      try {
        const cutoff = new Date(Date.now() - this.relayAfterMs);
        const docs = await model.find({ 'outbox.createdAt': { $lte: new Date() } }, { outbox: 1 }).limit(200).lean();
        // More than one page: look again on the next tick.
        if (docs.length === 200) this.dirty = true;
        for (const doc of docs) {
          const left = doc.outbox.filter((e) => !this.inHand.has(e.eventId));
          const due = left.filter((e) => e.createdAt < cutoff);
          // Young entries are most likely being published by their writer on another replica; look
          // again once they are due, in case that writer died.
          for (const entry of left) if (entry.createdAt >= cutoff) this.recheckAt = Math.min(this.recheckAt, entry.createdAt.getTime() + this.relayAfterMs);
          pending += doc.outbox.length;
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
