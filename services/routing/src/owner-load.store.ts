import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, defineModel, isDuplicateKey } from '@leadmesh/platform';
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

/** Latest turn per owner of a team: a read-side summary of the ledger, only ever raised. */
interface TeamTurnsDoc {
  _id: string; // team id
  turns: Record<string, number>;
}

/** Leads an owner got on one UTC day, however they reached them, for the daily capacity. */
interface OwnerDayDoc {
  _id: string; // owner id | day
  ownerId: string;
  day: string;
  assigned: number;
}

const turnSchema = new Schema<TurnDoc>(
  { _id: String, teamId: { type: String, required: true }, ownerId: { type: String, required: true }, turn: { type: Number, required: true }, at: { type: Date, required: true } },
  { versionKey: false },
);
const teamTurnsSchema = new Schema<TeamTurnsDoc>({ _id: String, turns: { type: Schema.Types.Mixed, default: () => ({}) } }, { versionKey: false, minimize: false });
const ownerDaySchema = new Schema<OwnerDayDoc>(
  { _id: String, ownerId: { type: String, required: true }, day: { type: String, required: true, index: true }, assigned: { type: Number, required: true } },
  { versionKey: false },
);

const ledgerPrefix = (teamId: string, ownerId: string) => `${teamId}|${ownerId}|`;
// Zero-padded so the ledger's keys sort by turn number.
const turnId = (teamId: string, ownerId: string, turn: number) => `${ledgerPrefix(teamId, ownerId)}${String(turn).padStart(10, '0')}`;

/** The counters routing decisions are based on: round-robin turns per team and daily load per owner. */
@Injectable()
export class OwnerLoadStore {
  private readonly ledger: Model<TurnDoc>;
  private readonly summary: Model<TeamTurnsDoc>;
  private readonly days: Model<OwnerDayDoc>;
  // The store is shared and slow under load, so decisions read the counters at most every
  // ROUTING_LOAD_CACHE_MS and add what this replica claimed since; the ledger still arbitrates.
  private snapshot?: { at: number; counters: Promise<{ turns: Map<string, Record<string, number>>; assigned: Map<string, number>; day: string }> };
  private readonly claimed = new Map<string, number>();

  constructor(@Inject(MongoStore) store: MongoStore) {
    this.ledger = defineModel(store, 'RoundRobinTurn', turnSchema, 'round_robin_turns');
    this.summary = defineModel(store, 'TeamTurns', teamTurnsSchema, 'team_turns');
    this.days = defineModel(store, 'OwnerDay', ownerDaySchema, 'owner_days');
  }

  /** Each owner's load as their own team's round robin and today's count see it. */
  async loads(owners: ReadonlyArray<{ id: string; teamId: string }>, day: string): Promise<Map<string, OwnerLoad>> {
    const { turns, assigned } = await this.counters(day);
    return new Map(
      owners.map((o) => {
        const stored = turns.get(o.teamId)?.[o.id] ?? 0;
        return [o.id, { roundRobinTurns: Math.max(stored, this.claimed.get(ledgerPrefix(o.teamId, o.id)) ?? 0), assignedToday: assigned.get(o.id) ?? 0 }];
      }),
    );
  }

  private counters(day: string) {
    const ttl = Number(process.env.ROUTING_LOAD_CACHE_MS ?? 1000);
    if (!this.snapshot || Date.now() - this.snapshot.at > ttl) {
      const counters = Promise.all([this.summary.find({}).lean<TeamTurnsDoc[]>(), this.days.find({ day }).lean<OwnerDayDoc[]>()]).then(([teams, today]) => ({
        turns: new Map(teams.map((t) => [t._id, t.turns ?? {}])),
        assigned: new Map(today.map((d) => [d.ownerId, d.assigned])),
        day,
      }));
      counters.catch(() => (this.snapshot = undefined));
      this.snapshot = { at: Date.now(), counters };
    }
    return this.snapshot.counters;
  }

  private noteClaimed(teamId: string, ownerId: string, turn: number): void {
    const key = ledgerPrefix(teamId, ownerId);
    this.claimed.set(key, Math.max(this.claimed.get(key) ?? 0, turn));
  }

  /**
   * Takes turn `seenTurns + 1` of the owner. Losing means another decision took it first, so the
   * caller decides again on fresh counts; the summary is brought up to the ledger for that.
   */
  async claimTurn(claim: RoundRobinClaim, day: string): Promise<boolean> {
    const turn = claim.seenTurns + 1;
    try {
      await this.ledger.create({ _id: turnId(claim.teamId, claim.ownerId, turn), teamId: claim.teamId, ownerId: claim.ownerId, turn, at: new Date() });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const latest = await this.latestTurn(claim.teamId, claim.ownerId);
      this.noteClaimed(claim.teamId, claim.ownerId, latest);
      await this.raiseSummary(claim.teamId, claim.ownerId, latest);
      return false;
    }
    this.noteClaimed(claim.teamId, claim.ownerId, turn);
    // Off the claim's critical path: the summary only speeds up other replicas' reads (a stale one
    // costs a lost claim, which repairs it), and the daily count is a soft cap.
    void this.raiseSummary(claim.teamId, claim.ownerId, turn).catch(() => undefined);
    void this.countAssignment(claim.ownerId, day).catch(() => undefined);
    return true;
  }

  /** Counts a lead against the owner's daily capacity. */
  async countAssignment(ownerId: string, day: string): Promise<void> {
    await this.days.updateOne({ _id: `${ownerId}|${day}` }, { $inc: { assigned: 1 }, $setOnInsert: { ownerId, day } }, { upsert: true }).catch(async (err: unknown) => {
      // Two first assignments of the day raced on the upsert; the document exists now.
      if (!isDuplicateKey(err)) throw err;
      await this.days.updateOne({ _id: `${ownerId}|${day}` }, { $inc: { assigned: 1 } });
    });
  }

  private async latestTurn(teamId: string, ownerId: string): Promise<number> {
    const prefix = ledgerPrefix(teamId, ownerId);
    const latest = await this.ledger.findOne({ _id: { $gt: prefix, $lt: `${prefix}~` } }).sort({ _id: -1 }).lean<TurnDoc>();
    return latest?.turn ?? 0;
  }

  private async raiseSummary(teamId: string, ownerId: string, turn: number): Promise<void> {
    await this.summary.updateOne({ _id: teamId }, { $max: { [`turns.${ownerId}`]: turn } }, { upsert: true }).catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
  }
}
