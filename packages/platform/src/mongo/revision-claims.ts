import type { Connection, Model } from 'mongoose';
import { isStoreUnavailable } from '../failures.js';
import { claimInBatch } from './group-commit.js';
import { isDuplicateKey } from './store.js';

/**
 * Why this exists: FerretDB 1.x runs a conditional update (and findAndModify) as "read the document,
 * change it in Go, write it back", with nothing that stops a second update of the same document in
 * between. Measured on 1.24: two concurrent compare-and-sets on one revision both reported a match in
 * 189 of 200 tries, and one of the two changes was lost. Two replicas taking events of one lead
 * (crm-sync gets lead.scored, lead.routed and nurture.enrolled within milliseconds) then lose an
 * effect. The only atomic step FerretDB has is an insert into a unique index.
 *
 * So, on FerretDB only, the move of a document from revision r to the next is claimed first by
 * inserting `<collection>:<id>:<r+1>` into `revision_claims`: one writer wins the claim, and only the
 * winner writes. The loser reads again and decides on what the winner wrote. MongoDB's
 * compare-and-set is atomic and takes no claim (one store call per write stays one).
 */
const COLLECTION = 'revision_claims';

/** A claim older than this whose document never reached its revision belongs to a writer that died. */
export const ABANDONED_CLAIM_MS = 30_000;
/** The claim's winner writes only while well inside that time, so no one takes it over meanwhile. */
export const WRITE_CLAIM_WITHIN_MS = ABANDONED_CLAIM_MS / 2;
/** Claims are only read while their document may still be at the revision before; older ones go. */
const KEEP_CLAIMS_MS = 4 * ABANDONED_CLAIM_MS;

const nonAtomicStores = new WeakSet<Connection>();

interface ClaimDoc {
  _id: string;
  at: Date;
}

/** Called once the store is connected: FerretDB says so in buildInfo. */
export async function detectNonAtomicUpdates(connection: Connection): Promise<boolean> {
  // A server that refuses buildInfo is not FerretDB (which answers it to anyone); a store that
  // cannot be reached fails the connect, which is retried.
  const info = await connection.db!.admin().command({ buildInfo: 1 }).catch((err: unknown) => {
    if (isStoreUnavailable(err)) throw err;
    return {};
  });
  const ferretdb = 'ferretdbVersion' in info;
  if (ferretdb) nonAtomicStores.add(connection);
  return ferretdb;
}

export function needsRevisionClaims(model: Model<any>): boolean {
  return nonAtomicStores.has(model.db);
}

/** A claimed revision, and when it was claimed (the winner must write soon after, see WRITE_CLAIM_WITHIN_MS). */
export interface RevisionClaim {
  revision: number;
  claimedAt: number;
}

/**
 * Claims the revision after `revision` for document `id`: null when another writer holds it (read the
 * document again). A claim abandoned by a writer that died before writing is stepped over: the
 * revision after it is claimed instead, so a document is never stuck.
 */
export async function claimNextRevision(model: Model<any>, id: string, revision: number): Promise<RevisionClaim | null> {
  const claims = model.db.collection<ClaimDoc>(COLLECTION);
  for (let next = revision + 1; next <= revision + 3; next++) {
    const claimedAt = Date.now();
    const key = `${model.collection.collectionName}:${id}:${next}`;
    try {
      // The usual claim goes with the others asked meanwhile; stepping over an abandoned one is rare.
      if (next === revision + 1) await claimInBatch(model, key, new Date(claimedAt));
      else await claims.insertOne({ _id: key, at: new Date(claimedAt) });
      return { revision: next, claimedAt };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const held = await claims.findOne({ _id: key });
    if (held && claimedAt - held.at.getTime() < ABANDONED_CLAIM_MS) return null;
  }
  return null;
}

/** Backs off while another writer holds the claim, so that its write lands before the next read. */
export const waitForOtherWriter = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.min(100, 5 * 2 ** attempt)));

/** Claims are small and short-lived; FerretDB has no TTL index, so each replica clears old ones now and then. */
export async function sweepRevisionClaims(connection: Connection): Promise<void> {
  await connection.collection<ClaimDoc>(COLLECTION).deleteMany({ at: { $lt: new Date(Date.now() - KEEP_CLAIMS_MS) } });
}

/**
 * One compare-and-set write of a lead-keyed document read at `revision`: `write` gets the revision
 * to store when a claim was taken (FerretDB) and undefined otherwise (MongoDB: the filter on the
 * read revision decides alone). False when another writer got there first: read again, decide again.
 * Every write of such a document goes through here (applyEventOnce, the outbox clear, forgetLead),
 * so none of them can overwrite another's on either store.
 */
export async function writeAtRevision(
  model: Model<any>,
  id: string,
  revision: number | undefined,
  attempt: number,
  write: (claimedRevision: number | undefined) => Promise<{ modifiedCount: number }>,
): Promise<boolean> {
  const claim = revision !== undefined && needsRevisionClaims(model) ? await claimNextRevision(model, id, revision) : undefined;
  if (claim === null) {
    // Another replica is writing this document: let its write land before the caller reads again.
    await waitForOtherWriter(attempt);
    return false;
  }
  // Past this, another writer may already take the claim for abandoned and step over it.
  if (claim && Date.now() - claim.claimedAt > WRITE_CLAIM_WITHIN_MS) return false;
  return (await write(claim?.revision)).modifiedCount === 1;
}
