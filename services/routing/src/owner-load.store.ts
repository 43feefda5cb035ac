import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, MongoStore, PeriodicWork, defineModel, isDuplicateKey } from '@leadmesh/platform';
import type { Logger } from 'pino';
import { Schema, type Model } from 'mongoose';
import type { OwnerLoad, RoundRobinClaim } from './domain/index.js';

/**
 * One round-robin turn, keyed by team, owner and turn number. The unique key is what makes a claim
 * atomic: of replicas claiming the same turn only one insert succeeds. (A conditional update is not
 * enough: FerretDB 1.x lets two concurrent compare-and-set updates both match.)
 */
interface TurnDoc {
  _id: string;
  teamId: string;
  ownerId: string;
  turn: number;
  at: Date;
}

/**
 * Leads an owner got on one UTC day from one replica (one process), however they reached them, for
 * the daily capacity; the owner's count is the sum over replicas. Each replica increments only its
 * own document, one write at a time, so no two writers ever update one counter: FerretDB 1.x's
 * `$inc` is a read and a write back, and two replicas' increments of one document lost one.
 */
interface OwnerDayDoc {
  _id: string; // owner id | day | replica
  ownerId: string;
  day: string;
  assigned: number;
}

const turnSchema = new Schema<TurnDoc>(
  { _id: String, teamId: { type: String, required: true }, ownerId: { type: String, required: true }, turn: { type: Number, required: true }, at: { type: Date, required: true } },
  { versionKey: false },
);
const ownerDaySchema = new Schema<OwnerDayDoc>(
  { _id: String, ownerId: { type: String, required: true }, day: { type: String, required: true, index: true }, assigned: { type: Number, required: true } },
  { versionKey: false },
);

const ledgerPrefix = (teamId: string, ownerId: string) => `${teamId}|${ownerId}|`;
// Zero-padded so the ledger's keys sort by turn number.
const turnId = (teamId: string, ownerId: string, turn: number) => `${ledgerPrefix(teamId, ownerId)}${String(turn).padStart(10, '0')}`;
const dayKey = (ownerId: string, day: string) => `${ownerId}|${day}`;
/** Lost claims of one owner in a row after which the owner's latest turn is looked up rather than tried. */
const LOOK_UP_AFTER_LOST = 3;

// How old the shared daily counts may get before a decision reads them again, and how often this
// replica writes what it counted since: both bound how far replicas together overshoot a daily cap.
const countsMs = () => Number(process.env.ROUTING_LOAD_CACHE_MS ?? 1000);

/**
 * The counters routing decisions are based on: round-robin turns per team and daily load per owner,
 * held in memory per replica so that a decision reads nothing.
 *
 * Turns: the ledger is the only record, and a replica's count of an owner's turns can only lag (it
 * learns other replicas' turns when its claim of the next one fails). A decision picks the owner
 * with the lowest count for their weight; its claim succeeds only if that owner's count was exact,
 * and the others' counts being low only made them look better, so every granted turn went to an
 * owner who was truly the lowest. Fair across replicas with no summary to write or read.
 *
 * Daily counts: a soft cap. Each replica adds what it assigns to a pending count, written for all
 * owners in one bulk write at most every ROUTING_LOAD_CACHE_MS, and reads the shared counts as often.
 */
@Injectable()
export class OwnerLoadStore implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly ledger: Model<TurnDoc>;
  private readonly days: Model<OwnerDayDoc>;
  /** Latest turn known per team|owner|, only ever raised. */
  private readonly turns = new Map<string, number>();
  private readonly lostInARow = new Map<string, number>();
  private turnsReadAt = 0;
  /** Today's counts as last read from the store (they include what this replica had written then). */
  private stored?: { day: string; at: number; assigned: Map<string, number> };
  private reading?: Promise<void>;
  /** Counted by this replica and not yet written, by owner|day. */
  private pending = new Map<string, number>();
  /** This process's own daily count documents are keyed by it (see OwnerDayDoc). */
  private readonly replica = randomUUID();
  private flushing: Promise<unknown> = Promise.resolve();
  private readonly flusher: PeriodicWork;

  constructor(
    @Inject(MongoStore) store: MongoStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.ledger = defineModel(store, 'RoundRobinTurn', turnSchema, 'round_robin_turns');
    this.days = defineModel(store, 'OwnerDay', ownerDaySchema, 'owner_days');
    this.flusher = new PeriodicWork('owner counts flush', () => this.flush(), { everyMs: countsMs(), logger });
  }

  onApplicationBootstrap(): void {
    this.flusher.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flusher.stop();
    await this.flush();
  }

  /**
   * Each owner's load as this replica knows it. `fresh` reads every owner's latest turn and today's
   * counts first (at most once per ROUTING_LOAD_CACHE_MS): for previews, which claim nothing and so
   * would never learn another replica's turns.
   */
  async loads(owners: ReadonlyArray<{ id: string; teamId: string }>, day: string, fresh = false): Promise<Map<string, OwnerLoad>> {
    const stale = Date.now() - this.turnsReadAt > countsMs();
    const unknown = owners.filter((o) => (fresh && stale) || !this.turns.has(ledgerPrefix(o.teamId, o.id)));
    if (unknown.length > 0) {
      if (fresh) this.turnsReadAt = Date.now();
      await Promise.all(unknown.map(async (o) => this.raise(o.teamId, o.id, await this.latestTurn(o.teamId, o.id, this.turns.get(ledgerPrefix(o.teamId, o.id)) ?? 0))));
    }
    const assigned = await this.assignedToday(day, fresh);
    return new Map(
      owners.map((o) => [o.id, { roundRobinTurns: this.turns.get(ledgerPrefix(o.teamId, o.id)) ?? 0, assignedToday: (assigned.get(o.id) ?? 0) + (this.pending.get(dayKey(o.id, day)) ?? 0) }]),
    );
  }

  /**
   * Takes turn `seenTurns + 1` of the owner with one insert, and counts the lead against the owner's
   * day. Losing means another replica took it first: the caller decides again on the raised count.
   */
  async claimTurn(claim: RoundRobinClaim, day: string): Promise<boolean> {
    const turn = claim.seenTurns + 1;
    try {
      await this.ledger.insertMany([{ _id: turnId(claim.teamId, claim.ownerId, turn), teamId: claim.teamId, ownerId: claim.ownerId, turn, at: new Date() }], { lean: true });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Another replica took the turn. It is usually only a turn or two ahead, which the next claims
      // find out at no extra cost; after a run of lost claims the owner's latest turn is looked up.
      const key = ledgerPrefix(claim.teamId, claim.ownerId);
      const lost = (this.lostInARow.get(key) ?? 0) + 1;
      this.lostInARow.set(key, lost);
      this.raise(claim.teamId, claim.ownerId, lost >= LOOK_UP_AFTER_LOST ? await this.latestTurn(claim.teamId, claim.ownerId, turn) : turn);
      return false;
    }
    this.lostInARow.delete(ledgerPrefix(claim.teamId, claim.ownerId));
    this.raise(claim.teamId, claim.ownerId, turn);
    this.countAssignment(claim.ownerId, day);
    return true;
  }

  /** Counts a lead against the owner's daily capacity; written with the next batch. */
  countAssignment(ownerId: string, day: string): void {
    const key = dayKey(ownerId, day);
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
  }

  /** Writes the pending daily counts: one bulk write for every owner counted since the last one. */
  flush(): Promise<void> {
    return this.inTurn(() => this.writePending());
  }

  /** Flushes and reads run one after the other, so a read never misses a batch being written. */
  private inTurn(work: () => Promise<void>): Promise<void> {
    const run = this.flushing.then(work);
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const entries = [...this.pending];
    this.pending = new Map();
    const op = ([key, n]: [string, number], upsert: boolean) => {
      const [ownerId, day] = key.split('|') as [string, string];
      return { updateOne: { filter: { _id: `${key}|${this.replica}` }, update: upsert ? { $inc: { assigned: n }, $setOnInsert: { ownerId, day } } : { $inc: { assigned: n } }, upsert } };
    };
    try {
      await this.days.collection.bulkWrite(entries.map((e) => op(e, true)) as never, { ordered: false });
    } catch (err) {
      const failed = (err as { writeErrors?: Array<{ index: number; code?: number }> }).writeErrors;
      if (!failed) {
        // Nothing known to be written (store unreachable): counted again with the next batch.
        for (const [key, n] of entries) this.pending.set(key, (this.pending.get(key) ?? 0) + n);
        this.logger.warn({ err: (err as Error).message }, 'writing daily owner counts failed, will try again');
        return;
      }
      // An upsert answered as a duplicate (a retry of a write that had landed): the document exists now.
      const retry = failed.filter((e) => isDuplicateKey(e)).map((e) => entries[e.index]!);
      if (retry.length === 0) return;
      await this.days.collection.bulkWrite(retry.map((e) => op(e, false)) as never, { ordered: false }).catch((again: unknown) => {
        for (const [key, n] of retry) this.pending.set(key, (this.pending.get(key) ?? 0) + n);
        this.logger.warn({ err: (again as Error).message }, 'writing daily owner counts failed, will try again');
      });
    }
  }

  private raise(teamId: string, ownerId: string, turn: number): void {
    const key = ledgerPrefix(teamId, ownerId);
    this.turns.set(key, Math.max(this.turns.get(key) ?? 0, turn));
  }

  /**
   * Today's shared counts. Read before the first decision of a day; afterwards refreshed in the
   * background when older than ROUTING_LOAD_CACHE_MS, unless the caller waits for fresh ones.
   */
  private async assignedToday(day: string, fresh: boolean): Promise<Map<string, number>> {
    const current = this.stored?.day === day ? this.stored : undefined;
    if (!current || Date.now() - current.at > countsMs()) {
      this.reading ??= this.readCounts(day).finally(() => (this.reading = undefined));
      if (!current || fresh) await this.reading;
      else this.reading.catch(() => undefined);
    }
    return this.stored?.day === day ? this.stored.assigned : new Map();
  }

  private readCounts(day: string): Promise<void> {
    return this.inTurn(async () => {
      // What this replica counted is written first, so the shared counts read next include it.
      await this.writePending();
      const today = await this.days.find({ day }, { ownerId: 1, assigned: 1 }).lean<OwnerDayDoc[]>();
      // Counts added while the read was under way are still pending: the sum stays right.
      const assigned = new Map<string, number>();
      for (const d of today) assigned.set(d.ownerId, (assigned.get(d.ownerId) ?? 0) + d.assigned);
      this.stored = { day, at: Date.now(), assigned };
    });
  }

  /**
   * The owner's latest turn, from `known` (a turn known to exist, or 0). Turns are numbered without
   * gaps, so it is found by looking turns up by key, doubling the step then halving it: a few
   * lookups by _id, which every store answers from its primary index. (A range or sorted query over
   * the ledger is not: FerretDB 1.24 reads the whole collection for it, 0.37 s at 5,000 turns.)
   */
  private async latestTurn(teamId: string, ownerId: string, known: number): Promise<number> {
    const exists = async (turn: number) => (await this.ledger.exists({ _id: turnId(teamId, ownerId, turn) })) !== null;
    let present = known;
    let step = 1;
    let absent: number;
    for (;;) {
      if (!(await exists(present + step))) {
        absent = present + step;
        break;
      }
      present += step;
      step *= 2;
    }
    while (absent - present > 1) {
      const middle = Math.floor((present + absent) / 2);
      if (await exists(middle)) present = middle;
      else absent = middle;
    }
    return present;
  }
}
