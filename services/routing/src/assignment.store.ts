import { Inject, Injectable } from '@nestjs/common';
import {
  MongoStore,
  Outbox,
  appliedEventsFields,
  applyEventOnce,
  defineModel,
  outboxEntrySchema,
  type AppliedEvents,
  type Change,
} from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';

/** A lead's assignment, with the explanation kept as its audit record. */
export interface AssignmentDoc extends AppliedEvents {
  /** leadmesh.routing.v1.Assignment in proto JSON. */
  assignment?: Record<string, unknown>;
  ownerId?: string;
  history: Array<Record<string, unknown>>;
}

/** How many leads an owner has been given, for weighted round robin and capacity. */
export interface OwnerLoadDoc {
  _id: string; // owner id
  assignedTotal: number;
  day: string; // UTC day the daily count belongs to
  assignedToday: number;
}

const assignmentSchema = new Schema<AssignmentDoc>(
  {
    _id: String,
    ...appliedEventsFields,
    assignment: Schema.Types.Mixed,
    ownerId: { type: String, index: true },
    history: { type: Schema.Types.Mixed, default: () => [] },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false, minimize: false },
);

const ownerLoadSchema = new Schema<OwnerLoadDoc>(
  { _id: String, assignedTotal: { type: Number, required: true }, day: { type: String, required: true }, assignedToday: { type: Number, required: true } },
  { versionKey: false },
);

@Injectable()
export class AssignmentStore {
  readonly assignments: Model<AssignmentDoc>;
  readonly ownerLoad: Model<OwnerLoadDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.assignments = defineModel(store, 'Assignment', assignmentSchema, 'assignments');
    this.ownerLoad = defineModel(store, 'OwnerLoad', ownerLoadSchema, 'owner_load');
    outbox.track(this.assignments);
  }

  find(leadId: string) {
    return this.assignments.findById(leadId).lean<AssignmentDoc>();
  }

  async alreadyApplied(leadId: string, eventId: string): Promise<boolean> {
    const doc = await this.assignments.findOne({ _id: leadId, processedEventIds: { $eq: eventId } }, { _id: 1 }).lean();
    if (doc) await this.outbox.flushStored(this.assignments, leadId);
    return doc !== null;
  }

  apply(leadId: string, eventId: string, decide: (current: AssignmentDoc | null) => Change | null) {
    return applyEventOnce(this.assignments, this.outbox, leadId, eventId, decide);
  }

  async loads(day: string): Promise<Map<string, { assignedToday: number; assignedTotal: number }>> {
    const docs = await this.ownerLoad.find({}).lean<OwnerLoadDoc[]>();
    return new Map(docs.map((d) => [d._id, { assignedTotal: d.assignedTotal, assignedToday: d.day === day ? d.assignedToday : 0 }]));
  }

  /**
   * Claims the owner's next turn: a compare-and-increment on the count the decision was based on,
   * so replicas racing for the same owner cannot both win with a stale view.
   */
  async claim(ownerId: string, seenTotal: number, day: string): Promise<boolean> {
    if (seenTotal === 0) {
      try {
        await this.ownerLoad.create({ _id: ownerId, assignedTotal: 1, day, assignedToday: 1 });
        return true;
      } catch {
        return false;
      }
    }
    const sameDay = await this.ownerLoad.updateOne({ _id: ownerId, assignedTotal: seenTotal, day }, { $inc: { assignedTotal: 1, assignedToday: 1 } });
    if (sameDay.modifiedCount === 1) return true;
    const newDay = await this.ownerLoad.updateOne(
      { _id: ownerId, assignedTotal: seenTotal, day: { $ne: day } },
      { $inc: { assignedTotal: 1 }, $set: { day, assignedToday: 1 } },
    );
    return newDay.modifiedCount === 1;
  }
}
