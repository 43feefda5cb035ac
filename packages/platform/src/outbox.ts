import { Schema, type Model } from 'mongoose';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import { applyingTo } from './mongo/apply-once.js';
import { WRITE_CLAIM_WITHIN_MS, claimNextRevisions, needsRevisionClaims, writeAtRevision } from './mongo/revision-claims.js';
import type { NatsClient } from './nats/connection.js';
import type { EventPublisher, OutgoingEvent } from './nats/publisher.js';
import { PeriodicWork } from './periodic-work.js';

/**
 * The outbox: events are stored on the same document as the effect that caused them, in the same
 * single-document write, then published and removed. A crash between the write and the publish
 * leaves them on the document, where the relay finds and publishes them. No transactions needed.
 *
 * Removing is not worth a store call per document: published entries wait in this replica's
 * memory and leave with the document's next write (applyEventOnce), or with one bulk clear for
 * every document published to in the last moment (`clearEveryMs`). An entry whose clear is lost
 * with a crash is published again by the relay; the stream's duplicate window and the consumers'
 * applied-event ids make that harmless.
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
/** Documents cleared by one bulk write at most. */
const CLEAR_BATCH = 500;
/** Bulk clears a document waits through (another writer kept winning) before it is cleared alone. */
const BULK_CLEAR_TRIES = 5;

/** A document whose published entries wait for their clear. */
interface PendingClear {
  id: unknown;
  eventIds: Set<string>;
  /** The document as its writer left it, while nothing else is known to have written it since. */
  written?: WrittenOutbox;
  tries: number;
}

/**
 * The document's outbox (and revision, if it carries one) as the write that stored the events left
 * it, when the writer knows it: the clear then needs no read.
 */
export type WrittenOutbox = WithOutbox;

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
  private readonly toClear = new Map<Model<any>, Map<string, PendingClear>>();
  private readonly clearWork: PeriodicWork<number>;

  constructor(
    private readonly publisher: EventPublisher,
    private readonly nats: NatsClient,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly relayAfterMs = 3000,
    clearEveryMs = 1000,
  ) {
    // The tick is cheap: it reads the store only when a scan is due (see `dirty`).
    this.relayWork = new PeriodicWork('outbox relay', () => (this.scanDue() ? this.relayPass() : Promise.resolve(0)), { everyMs: 1000, logger });
    this.clearWork = new PeriodicWork('outbox clear', () => this.clearPass(), { everyMs: clearEveryMs, logger });
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
      this.rememberPublished(published);
      this.queueClear(model, id, ids, written);
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

  /** Whether this replica published the entry and its document still holds it. */
  awaitsClear(eventId: string): boolean {
    return this.publishedNotCleared.has(eventId);
  }

  /** A write of the document (applyEventOnce) took these published entries out. */
  cleared(model: Model<any>, id: unknown, eventIds: string[]): void {
    const pending = this.toClear.get(model)?.get(String(id));
    for (const eventId of eventIds) {
      this.publishedNotCleared.delete(eventId);
      pending?.eventIds.delete(eventId);
    }
    if (pending) {
      // Whatever is left must be read again: the document has moved on from the written one.
      pending.written = undefined;
      if (pending.eventIds.size === 0) this.toClear.get(model)!.delete(String(id));
    }
  }

  private queueClear(model: Model<any>, id: unknown, eventIds: string[], written?: WrittenOutbox): void {
    let pending = this.toClear.get(model);
    if (!pending) this.toClear.set(model, (pending = new Map()));
    const known = pending.get(String(id));
    if (known) {
      for (const eventId of eventIds) known.eventIds.add(eventId);
      known.written = undefined;
    } else pending.set(String(id), { id, eventIds: new Set(eventIds), written, tries: 0 });
  }

  private rememberPublished(eventIds: string[]): void {
    for (const eventId of eventIds) this.publishedNotCleared.add(eventId);
    // Bounded: beyond it the oldest are forgotten, and at worst published once more.
    for (const eventId of this.publishedNotCleared) {
      if (this.publishedNotCleared.size <= MAX_REMEMBERED_PUBLISHED) break;
      this.publishedNotCleared.delete(eventId);
    }
  }

  /** Clears every document waiting, a bulk write per collection (and a bulk claim first on FerretDB). */
  private async clearPass(): Promise<number> {
    let cleared = 0;
    for (const [model, pending] of this.toClear) {
      // A document an event is being applied to now is cleared by that write, or by the next pass.
      const batch = [...pending.values()].filter((p) => !applyingTo(model, p.id)).slice(0, CLEAR_BATCH);
      for (const p of batch) pending.delete(String(p.id));
      let again: PendingClear[] = batch;
      try {
        again = await this.clearBatch(model, batch);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, documents: batch.length }, 'outbox clear deferred');
        for (const p of batch) p.written = undefined;
      }
      cleared += batch.length - again.length;
      for (const p of again) {
        if (++p.tries < BULK_CLEAR_TRIES) this.requeue(model, p);
        // Another writer kept winning, or a claim was abandoned: cleared alone, stepping over it.
        else await this.remove(model, p.id, p.eventIds).then(() => this.forget(p), (err: Error) => (this.requeue(model, p), this.logger.warn({ err: err.message }, 'outbox clear deferred')));
      }
    }
    return cleared;
  }

  private requeue(model: Model<any>, p: PendingClear): void {
    const pending = this.toClear.get(model)!;
    const newer = pending.get(String(p.id));
    if (newer) for (const eventId of p.eventIds) newer.eventIds.add(eventId);
    else pending.set(String(p.id), p);
  }

  private forget(p: PendingClear): void {
    for (const eventId of p.eventIds) this.publishedNotCleared.delete(eventId);
  }

  /** One bulk write for the batch; answers the documents to try again (read afresh). */
  private async clearBatch(model: Model<any>, batch: PendingClear[]): Promise<PendingClear[]> {
    if (batch.length === 0) return [];
    const unread = batch.filter((p) => !p.written);
    const read = unread.length > 0 ? await (model as Model<WithOutbox>).find({ _id: { $in: unread.map((p) => p.id) } } as never, { outbox: 1, revision: 1 }).lean() : [];
    const stored = new Map(read.map((doc) => [String(doc._id), doc as WithOutbox]));
    const writes: Array<{ p: PendingClear; doc: WithOutbox; remaining: OutgoingEvent[] }> = [];
    for (const p of batch) {
      const doc = p.written ?? stored.get(String(p.id));
      const remaining = doc?.outbox?.filter((e) => !p.eventIds.has(e.eventId)) ?? [];
      if (!doc?.outbox || remaining.length === doc.outbox.length) this.forget(p);
      else writes.push({ p, doc, remaining });
    }
    const claimed = needsRevisionClaims(model)
      ? await claimNextRevisions(model, writes.filter((w) => typeof w.doc.revision === 'number').map((w) => ({ id: String(w.p.id), revision: w.doc.revision! })))
      : undefined;
    const ops: unknown[] = [];
    const attempted: PendingClear[] = [];
    const again: PendingClear[] = [];
    for (const { p, doc, remaining } of writes) {
      p.written = undefined;
      if (typeof doc.revision !== 'number') {
        // Not lead-keyed: the outbox's length is the condition (safe against an entry added meanwhile).
        ops.push({ updateOne: { filter: { _id: p.id, outbox: { $size: doc.outbox.length } }, update: { $set: { outbox: remaining } } } });
      } else if (!claimed) {
        ops.push({ updateOne: { filter: { _id: p.id, revision: doc.revision }, update: { $set: { outbox: remaining }, $inc: { revision: 1 } } } });
      } else {
        const claim = claimed.get(String(p.id));
        // Held by another writer, or claimed too long ago to write safely: read again next time.
        if (!claim || Date.now() - claim.claimedAt > WRITE_CLAIM_WITHIN_MS) {
          again.push(p);
          continue;
        }
        ops.push({ updateOne: { filter: { _id: p.id, revision: doc.revision }, update: { $set: { outbox: remaining, revision: claim.revision } } } });
      }
      attempted.push(p);
    }
    if (ops.length === 0) return again;
    const result = await model.bulkWrite(ops as never, { ordered: false });
    // Which write missed is not told: if any did, those documents are read again and only what is still there is cleared.
    if (result.matchedCount === ops.length) attempted.forEach((p) => this.forget(p));
    else again.push(...attempted);
    return again;
  }

  /**
   * Drops published entries from one document with a compare-and-set on the outbox's length:
   * portable to stores whose $pull cannot match on an embedded field, and safe against an entry
   * added meanwhile. On FerretDB a lead-keyed document's write is claimed like any other
   * (revision-claims.ts): otherwise the clear and another replica's effect can each write over the other.
   */
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
    this.clearWork.start();
  }

  /** Stops the relay, and clears what was published so the next start has nothing to publish again. */
  async stop(): Promise<void> {
    await this.relayWork.stop();
    await this.clearWork.stop();
    await this.clearPass().catch(() => 0);
  }

  /** Clears now what waits for the next clearing pass (tests, and callers that read the outbox at once). */
  async clearPublished(): Promise<number> {
    return (await this.clearWork.runNow()) ?? 0;
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
          // Entries this replica published wait for their clear (clearPass), not for the relay.
          const left = doc.outbox.filter((e) => !this.inHand.has(e.eventId) && !this.publishedNotCleared.has(e.eventId));
          const due = left.filter((e) => e.createdAt < cutoff);
          // Young entries are most likely being published by their writer on another replica; look
          // again once they are due, in case that writer died.
          for (const entry of left) if (entry.createdAt >= cutoff) this.recheckAt = Math.min(this.recheckAt, entry.createdAt.getTime() + this.relayAfterMs);
          pending += left.length;
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
