import type { Model } from 'mongoose';
import type { Outbox, WrittenOutbox } from '../outbox.js';
import type { OutgoingEvent } from '../nats/publisher.js';
import { insertInBatch, readInBatch, updateClaimedInBatch } from './group-commit.js';
import { needsRevisionClaims, writeAtRevision } from './revision-claims.js';
import { isDuplicateKey } from './store.js';

/** The bookkeeping every event-driven document carries so an event's effect lands once. */
export interface AppliedEvents {
  _id: string;
  /** Optimistic-concurrency counter: two replicas handling events of one lead never overwrite each other. */
  revision: number;
  /** Recent events already applied; a redelivered one is recognised and skipped. */
  processedEventIds: string[];
  outbox: OutgoingEvent[];
  /** Set on the tombstone an erasure leaves in place of the lead's document (see forgetLead). */
  erasedAt?: Date;
}

export interface Change {
  set: Record<string, unknown>;
  /** Arrays to append to, each kept to its last `keep` entries. */
  append?: Record<string, { values: unknown[]; keep: number }>;
  events: OutgoingEvent[];
}

export type ApplyResult = 'applied' | 'duplicate' | 'unchanged' | 'erased';

export interface ApplyOptions<D = AppliedEvents> {
  /**
   * The event most likely creates the document (a new lead's first event): try the insert without
   * reading first, one store call instead of two. If the document exists after all, the unique _id
   * refuses the insert and the event is applied the usual way, read then compare-and-set.
   */
  likelyNew?: boolean;
  /**
   * The document as the caller read it just before (null: it was missing), e.g. before a call to
   * the CRM: the first try decides on it without reading again. If it changed meanwhile, the
   * compare-and-set misses and the event is decided again on what the store holds.
   */
  read?: D | null;
}

const KEEP_EVENT_IDS = 500;
/** Enough tries to wait out another replica's write on a slow store (about 4 s with the pauses). */
const MAX_ATTEMPTS = 40;

/**
 * Applies one event's effect to one document exactly once: a compare-and-set on the revision, the
 * event id recorded in the same write, and the events to publish stored beside it (outbox).
 * Single-document atomicity only; no transactions.
 */
export async function applyEventOnce<D extends AppliedEvents>(
  model: Model<D>,
  outbox: Outbox,
  id: string,
  eventId: string,
  decide: (current: D | null) => Change | null,
  options: ApplyOptions<D> = {},
): Promise<ApplyResult> {
  // One change at a time per document within a replica: no replica races itself. Between replicas,
  // MongoDB's compare-and-set is atomic on its own; FerretDB's is not, and takes a revision claim
  // first (revision-claims.ts).
  return serialized(`${model.modelName}:${id}`, () => applyOnce(model, outbox, id, eventId, decide, options.likelyNew ? null : options.read));
}

const inFlight = new Map<string, Promise<unknown>>();

async function serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = inFlight.get(key) ?? Promise.resolve();
  const run = before.then(work, work);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  inFlight.set(key, settled);
  try {
    return await run;
  } finally {
    if (inFlight.get(key) === settled) inFlight.delete(key);
  }
}

async function applyOnce<D extends AppliedEvents>(
  model: Model<D>,
  outbox: Outbox,
  id: string,
  eventId: string,
  decide: (current: D | null) => Change | null,
  /** What the first try decides on without reading: undefined means read it. */
  firstRead: D | null | undefined,
): Promise<ApplyResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = attempt === 0 && firstRead !== undefined ? firstRead : await readInBatch<D>(model, id);
    // The person was forgotten while this event was on its way: it must not bring them back.
    if (current?.erasedAt) return 'erased';
    if (current?.processedEventIds?.includes(eventId)) {
      // Applied before; finish a publish a crash may have interrupted (the read brought the outbox).
      await outbox.flushEntries(model, current);
      return 'duplicate';
    }
    const change = decide(current);
    const push: Record<string, unknown> = {
      processedEventIds: { $each: [eventId], $slice: -KEEP_EVENT_IDS },
    };
    for (const [field, { values, keep }] of Object.entries(change?.append ?? {})) push[field] = { $each: values, $slice: -keep };
    if (change && change.events.length > 0) push.outbox = { $each: change.events };
    let written: WrittenOutbox | undefined;
    try {
      if (!current) {
        const doc: Record<string, unknown> = { _id: id, revision: 1, processedEventIds: [eventId], outbox: change?.events ?? [], ...(change?.set ?? {}) };
        for (const [field, { values }] of Object.entries(change?.append ?? {})) doc[field] = values;
        // Cast and defaulted by the schema without building a mongoose document: validation and
        // hydration were a visible share of every service's CPU profile, for documents the code built.
        await insertInBatch(model, model.applyDefaults(model.castObject(doc)));
        written = { revision: 1, outbox: change?.events ?? [] };
      } else {
        let newRevision = current.revision + 1;
        const stored = await writeAtRevision(model, id, current.revision, attempt, (claimed) => {
          if (claimed !== undefined) newRevision = claimed;
          const set = { ...(change?.set ?? {}), ...(claimed !== undefined && { revision: claimed }) };
          const update = { $set: set, ...(claimed === undefined && { $inc: { revision: 1 } }), $push: push };
          // Claimed, this writer is alone on the document: its update can go in a bulk write with others'.
          if (claimed !== undefined) {
            return updateClaimedInBatch(model, { id, readRevision: current.revision, claimedRevision: claimed, update }).then((landed) => ({ modifiedCount: landed ? 1 : 0 }));
          }
          return model.updateOne({ _id: id, revision: current.revision } as never, update as never);
        });
        if (!stored) continue;
        // Known only if the caller's read brought the outbox; otherwise the clear reads it.
        written = Array.isArray(current.outbox) ? { revision: newRevision, outbox: [...current.outbox, ...(change?.events ?? [])] } : undefined;
      }
    } catch (err) {
      if (isDuplicateKey(err)) continue;
      throw err;
    }
    if (change && change.events.length > 0) await outbox.flush(model, id, change.events, written);
    return change ? 'applied' : 'unchanged';
  }
  throw new Error(`too many concurrent updates to ${model.modelName} ${id}`);
}

/**
 * True when the document, as just read by _id, already records this event (a redelivery): then a
 * publish a crash may have interrupted is finished. Reading by _id alone is what every store
 * answers from its primary index.
 */
export async function appliedBefore(model: Model<any>, outbox: Outbox, doc: Pick<AppliedEvents, '_id' | 'processedEventIds' | 'erasedAt'> & { outbox?: OutgoingEvent[] } | null, eventId: string): Promise<boolean> {
  if (doc?.erasedAt) return true;
  if (!doc?.processedEventIds?.includes(eventId)) return false;
  if (doc.outbox) await outbox.flushEntries(model, doc);
  else await outbox.flushStored(model, doc._id);
  return true;
}

/** The revision a tombstone carries: no reader's compare-and-set can match it. */
const ERASED_REVISION = -1;

/**
 * Right to erasure for a lead-keyed document: it is replaced by a tombstone holding only the
 * (random, not personal) lead id, rather than deleted. An event already on its way when the
 * erasure arrived then finds the tombstone and changes nothing (applyEventOnce answers 'erased'):
 * a delete would have let its write create the document again. The tombstone is written even where
 * the service never held the lead, for the same reason.
 */
export async function forgetLead(model: Model<any>, leadId: string): Promise<void> {
  const tombstone = () => ({ _id: leadId, revision: ERASED_REVISION, erasedAt: new Date(), processedEventIds: [], outbox: [] });
  if (!needsRevisionClaims(model)) {
    await model.replaceOne({ _id: leadId }, tombstone(), { upsert: true });
    return;
  }
  // On FerretDB the replacement takes the document's next revision like any other write, so an event
  // applied by another replica at the same moment cannot write the lead back over the tombstone.
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = (await model.findById(leadId, { revision: 1, erasedAt: 1 }).lean()) as Pick<AppliedEvents, 'revision' | 'erasedAt'> | null;
    if (current?.erasedAt) return;
    let written: WrittenOutbox | undefined;
    try {
      if (!current) {
        // The driver's insert: a tombstone is not a valid document of the service's schema.
        await model.collection.insertOne(tombstone() as never);
        return;
      }
    } catch (err) {
      if (isDuplicateKey(err)) continue;
      throw err;
    }
    if (await writeAtRevision(model, leadId, current.revision, attempt, () => model.replaceOne({ _id: leadId, revision: current.revision }, tombstone()))) return;
  }
  throw new Error(`too many concurrent updates to ${model.modelName} ${leadId} while erasing it`);
}

/** Leaves tombstones out of a query on a lead-keyed collection. */
export const notErased = { erasedAt: { $exists: false } } as const;

/** Schema fields for AppliedEvents, to spread into a service's schema definition. */
export const appliedEventsFields = {
  revision: { type: Number, required: true, default: 1 },
  processedEventIds: { type: [String], default: [] },
  erasedAt: Date,
};
