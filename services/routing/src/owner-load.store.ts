import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, defineModel, isDuplicateKey } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import type { OwnerLoad, RoundRobinClaim } from './domain/index.js';

/**
 * One team's counters in one document, so taking a round-robin turn and counting the lead against
 * the owner's daily capacity is a single atomic write (the store's writes are the scarce resource).
 */
interface TeamLoadDoc {
  _id: string; // team id
  /** Owner id -> round-robin turns taken in this team. */
  turns: Record<string, number>;
  /** UTC day that `today` counts. */
  day: string;
  /** Owner id -> leads assigned on `day`, however they reached the owner. */
  today: Record<string, number>;
}

const teamLoadSchema = new Schema<TeamLoadDoc>(
  {
    _id: String,
    turns: { type: Schema.Types.Mixed, default: () => ({}) },
    day: { type: String, required: true },
    today: { type: Schema.Types.Mixed, default: () => ({}) },
  },
  { versionKey: false, minimize: false },
);

/** The counters routing decisions are based on: round-robin turns and daily load, per team. */
@Injectable()
export class OwnerLoadStore {
  private readonly teams: Model<TeamLoadDoc>;

  constructor(@Inject(MongoStore) store: MongoStore) {
    this.teams = defineModel(store, 'TeamLoad', teamLoadSchema, 'round_robin_turns');
  }

  /** Each owner's load as their own team's counters see it. */
  async loads(owners: ReadonlyArray<{ id: string; teamId: string }>, day: string): Promise<Map<string, OwnerLoad>> {
    const docs = new Map((await this.teams.find({}).lean<TeamLoadDoc[]>()).map((d) => [d._id, d]));
    return new Map(
      owners.map((o) => {
        const team = docs.get(o.teamId);
        return [o.id, { roundRobinTurns: team?.turns?.[o.id] ?? 0, assignedToday: team?.day === day ? (team.today?.[o.id] ?? 0) : 0 }];
      }),
    );
  }

  /**
   * Takes the owner's next turn with a compare-and-increment on the count the decision was based on:
   * of replicas racing for the same owner with the same view, exactly one wins and the others decide
   * again on fresh counts. Teammates' turns only grow, so a won claim is still the fair pick.
   */
  async claimTurn(claim: RoundRobinClaim, day: string): Promise<boolean> {
    const turns = `turns.${claim.ownerId}`;
    const unchanged = claim.seenTurns === 0 ? { $or: [{ [turns]: { $exists: false } }, { [turns]: 0 }] } : { [turns]: claim.seenTurns };
    for (let attempt = 0; attempt < 2; attempt++) {
      const result = await this.teams.updateOne({ _id: claim.teamId, day, ...unchanged }, { $inc: { [turns]: 1, [`today.${claim.ownerId}`]: 1 } });
      if (result.modifiedCount === 1) return true;
      if (!(await this.startDay(claim.teamId, day))) return false;
    }
    return false;
  }

  /** Counts a lead that reached the owner without a round-robin turn (account match, fallback, re-route to them). */
  async countAssignment(ownerId: string, teamId: string, day: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const result = await this.teams.updateOne({ _id: teamId, day }, { $inc: { [`today.${ownerId}`]: 1 } });
      if (result.modifiedCount === 1) return;
      await this.startDay(teamId, day);
    }
    throw new Error(`could not count the assignment for owner ${ownerId}: too many concurrent updates`);
  }

  /** Creates the team's counters or starts a new day on them; true when it changed anything. */
  private async startDay(teamId: string, day: string): Promise<boolean> {
    const rolled = await this.teams.updateOne({ _id: teamId, day: { $ne: day } }, { $set: { day, today: {} } });
    if (rolled.modifiedCount === 1) return true;
    if (await this.teams.exists({ _id: teamId })) return false;
    try {
      await this.teams.create({ _id: teamId, turns: {}, day, today: {} });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return true;
      throw err;
    }
  }
}
