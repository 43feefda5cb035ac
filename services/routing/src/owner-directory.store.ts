import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, defineModel } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import type { Owner, OutOfOffice, Team } from './domain/index.js';

type OwnerDoc = Omit<Owner, 'id'> & { _id: string; updatedAt: Date };
type TeamDoc = Omit<Team, 'id'> & { _id: string };
/** Which version of a seed file the store last applied. */
interface SeedDoc {
  _id: string;
  version: string;
}

const windowSchema = new Schema<OutOfOffice>({ from: { type: Date, required: true }, to: { type: Date, required: true } }, { _id: false });
const ownerSchema = new Schema<OwnerDoc>(
  {
    _id: String,
    name: { type: String, required: true },
    email: { type: String, required: true },
    teamId: { type: String, required: true, index: true },
    territories: { type: [String], default: [] },
    segments: Schema.Types.Mixed,
    weight: { type: Number, required: true },
    capacityPerDay: { type: Number, required: true },
    timeZone: { type: String, required: true },
    workingHours: { type: Schema.Types.Mixed, required: true },
    outOfOffice: { type: [windowSchema], default: [] },
    active: { type: Boolean, required: true },
    crmUserIds: Schema.Types.Mixed,
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, minimize: false },
);
const teamSchema = new Schema<TeamDoc>({ _id: String, name: { type: String, required: true }, slaMinutes: { type: Number, required: true } }, { versionKey: false });
const seedSchema = new Schema<SeedDoc>({ _id: String, version: { type: String, required: true } }, { versionKey: false });

function toOwner(doc: OwnerDoc): Owner {
  const owner: Owner = {
    id: doc._id,
    name: doc.name,
    email: doc.email,
    teamId: doc.teamId,
    territories: doc.territories ?? [],
    weight: doc.weight,
    capacityPerDay: doc.capacityPerDay,
    timeZone: doc.timeZone,
    workingHours: doc.workingHours,
    outOfOffice: (doc.outOfOffice ?? []).map((w) => ({ from: new Date(w.from), to: new Date(w.to) })),
    active: doc.active,
  };
  if (doc.segments) owner.segments = doc.segments;
  if (doc.crmUserIds) owner.crmUserIds = doc.crmUserIds;
  return owner;
}

function toOwnerFields(owner: Owner): Omit<OwnerDoc, '_id'> {
  const { id: _id, ...fields } = owner;
  return { ...fields, segments: owner.segments, crmUserIds: owner.crmUserIds, updatedAt: new Date() } as Omit<OwnerDoc, '_id'>;
}

/** Sales owners and teams: seeded from config/owners.yaml, changed over gRPC, read by every routing decision. */
@Injectable()
export class OwnerDirectoryStore {
  private readonly owners: Model<OwnerDoc>;
  private readonly teams: Model<TeamDoc>;
  private readonly seeds: Model<SeedDoc>;

  constructor(@Inject(MongoStore) store: MongoStore) {
    this.owners = defineModel(store, 'Owner', ownerSchema, 'owners');
    this.teams = defineModel(store, 'Team', teamSchema, 'teams');
    this.seeds = defineModel(store, 'SeedState', seedSchema, 'seed_state');
  }

  async listOwners(teamId?: string): Promise<Owner[]> {
    const docs = await this.owners.find(teamId ? { teamId } : {}).sort({ _id: 1 }).lean<OwnerDoc[]>();
    return docs.map(toOwner);
  }

  async findOwner(ownerId: string): Promise<Owner | undefined> {
    const doc = await this.owners.findById(ownerId).lean<OwnerDoc>();
    return doc ? toOwner(doc) : undefined;
  }

  async listTeams(): Promise<Team[]> {
    const docs = await this.teams.find({}).sort({ _id: 1 }).lean<TeamDoc[]>();
    return docs.map((d) => ({ id: d._id, name: d.name, slaMinutes: d.slaMinutes }));
  }

  async ownerIds(): Promise<Set<string>> {
    const docs = await this.owners.find({}, { _id: 1 }).lean<Array<{ _id: string }>>();
    return new Set(docs.map((d) => d._id));
  }

  /** Creates or replaces an owner as a whole: the caller sends every field. */
  async saveOwner(owner: Owner): Promise<void> {
    await this.owners.replaceOne({ _id: owner.id }, toOwnerFields(owner), { upsert: true });
  }

  /** Returns false when there is no such owner. */
  async setAvailability(ownerId: string, active: boolean, outOfOffice: OutOfOffice[]): Promise<boolean> {
    const result = await this.owners.updateOne({ _id: ownerId }, { $set: { active, outOfOffice, updatedAt: new Date() } });
    return result.matchedCount === 1;
  }

  async saveTeam(team: Team): Promise<void> {
    await this.teams.replaceOne({ _id: team.id }, { name: team.name, slaMinutes: team.slaMinutes }, { upsert: true });
  }

  async seedVersion(file: string): Promise<string | undefined> {
    return (await this.seeds.findById(file).lean<SeedDoc>())?.version;
  }

  async recordSeedVersion(file: string, version: string): Promise<void> {
    await this.seeds.replaceOne({ _id: file }, { version }, { upsert: true });
  }
}
