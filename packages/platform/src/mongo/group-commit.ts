import { context, type Context } from '@opentelemetry/api';
import type { Model } from 'mongoose';
import { bulkWriteErrors } from './store.js';

/**
 * Why this exists: a store answers one command carrying many documents for little more than the
 * cost of one (FerretDB: one round trip, one PostgreSQL transaction), and a consumer under load has
 * many events of different leads in hand at once. So the reads, inserts and claimed updates that
 * applyEventOnce makes of one collection are sent together: whatever was asked while the previous
 * commands of that kind were under way leaves as one command. Nothing waits for a batch to fill: an
 * idle service sends each at once, so batching costs no latency and only appears under load.
 *
 * Each caller still gets its own answer (its document, its insert's duplicate key, whether its
 * compare-and-set landed), so the logic around it is the same as for one document at a time.
 */
const MAX_BATCH = 200;
/** Commands of one kind for one collection under way at once: more wait and leave together. */
const MAX_IN_FLIGHT = 2;

type Outcome<O> = { ok: O } | { err: unknown };

interface Job<I, O> {
  input: I;
  /** The caller's trace: the batch's command is a span of the first job's trace. */
  context: Context;
  resolve: (output: O) => void;
  reject: (err: unknown) => void;
}

class Batcher<I, O> {
  private queue: Array<Job<I, O>> = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly run: (inputs: I[]) => Promise<Array<Outcome<O>>>) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, context: context.active(), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    // Whatever is asked in the same turn of the event loop goes in the same command.
    queueMicrotask(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const jobs = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      // Dispatched from whatever finished last (another lead's batch): run in the first caller's trace.
      context
        .with(jobs[0]!.context, () => this.run(jobs.map((j) => j.input)))
        .then(
          (outcomes) => jobs.forEach((job, i) => settle(job, outcomes[i] ?? { err: new Error('no outcome for a batched store command') })),
          (err: unknown) => jobs.forEach((job) => job.reject(err)),
        )
        .finally(() => {
          this.inFlight--;
          this.schedule();
        });
    }
  }
}

function settle<I, O>(job: Job<I, O>, outcome: Outcome<O>): void {
  if ('ok' in outcome) job.resolve(outcome.ok);
  else job.reject(outcome.err);
}

/** Inserts that failed alone get their own error (a duplicate key is code 11000, as isDuplicateKey reads it). */
async function insertEach(insert: () => Promise<unknown>, count: number): Promise<Array<Outcome<void>>> {
  try {
    await insert();
    return Array.from({ length: count }, () => ({ ok: undefined }));
  } catch (err) {
    const errors = bulkWriteErrors(err);
    if (!errors?.length) throw err;
    const byIndex = new Map(errors.map((e) => [e.index, e]));
    return Array.from({ length: count }, (_, i) => {
      const failed = byIndex.get(i);
      return failed ? { err: Object.assign(new Error(`write error ${failed.code ?? 'unknown'}`), { code: failed.code }) } : { ok: undefined };
    });
  }
}

export interface ClaimedUpdate {
  id: string;
  /** The revision the document was read at (the filter) and the one claimed for it (written). */
  readRevision: number;
  claimedRevision: number;
  update: Record<string, unknown>;
}

interface ModelBatches {
  read: Batcher<string, unknown>;
  insert: Batcher<Record<string, unknown>, void>;
  claim: Batcher<{ key: string; at: Date }, void>;
  update: Batcher<ClaimedUpdate, boolean>;
}

const batches = new WeakMap<Model<any>, ModelBatches>();

function batchesOf(model: Model<any>): ModelBatches {
  const known = batches.get(model);
  if (known) return known;
  const found: ModelBatches = {
    read: new Batcher<string, unknown>(async (ids) => {
      const docs = await model.find({ _id: { $in: [...new Set(ids)] } } as never).lean();
      const byId = new Map((docs as Array<{ _id: unknown }>).map((doc) => [String(doc._id), doc]));
      return ids.map((id) => ({ ok: byId.get(id) ?? null }));
    }),
    // Documents already cast by the caller (castObject/applyDefaults): the driver's insert, unordered.
    insert: new Batcher((docs) => insertEach(() => model.collection.insertMany(docs as never[], { ordered: false }), docs.length)),
    claim: new Batcher((claims) => insertEach(() => model.db.collection('revision_claims').insertMany(claims.map((c) => ({ _id: c.key, at: c.at })) as never[], { ordered: false }), claims.length)),
    update: new Batcher(async (updates) => {
      const ops = updates.map((u) => ({ updateOne: { filter: { _id: u.id, revision: u.readRevision }, update: u.update } }));
      const result = await model.bulkWrite(ops as never, { ordered: false });
      if (result.matchedCount === updates.length) return updates.map(() => ({ ok: true }));
      // Which one missed is not told: each claimed revision is looked up (rare: a claim makes the writer alone).
      const now = await model.find({ _id: { $in: updates.map((u) => u.id) } } as never, { revision: 1 }).lean();
      const revisions = new Map((now as Array<{ _id: unknown; revision?: number }>).map((doc) => [String(doc._id), doc.revision]));
      return updates.map((u) => ({ ok: revisions.get(u.id) === u.claimedRevision }));
    }),
  };
  batches.set(model, found);
  return found;
}

/** findById(id).lean(), sent with the other reads of the collection asked meanwhile. */
export function readInBatch<D>(model: Model<any>, id: string): Promise<D | null> {
  return batchesOf(model).read.submit(id) as Promise<D | null>;
}

/** An insert of one cast document, sent with the others; a duplicate _id rejects this one only. */
export function insertInBatch(model: Model<any>, doc: Record<string, unknown>): Promise<void> {
  return batchesOf(model).insert.submit(doc);
}

/** A revision claim (revision-claims.ts), inserted with the others; a claim held already rejects with a duplicate key. */
export function claimInBatch(model: Model<any>, key: string, at: Date): Promise<void> {
  return batchesOf(model).claim.submit({ key, at });
}

/**
 * A claimed compare-and-set (FerretDB only: the claim makes this writer the only one, so a bulk
 * write of many such updates lands them all); true when the document took the claimed revision.
 */
export function updateClaimedInBatch(model: Model<any>, update: ClaimedUpdate): Promise<boolean> {
  return batchesOf(model).update.submit(update);
}
