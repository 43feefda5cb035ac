import { Inject, Injectable } from '@nestjs/common';
import {
  MongoStore,
  Outbox,
  appliedBefore,
  appliedEventsFields,
  applyEventOnce,
  defineModel,
  forgetLead,
  isDuplicateKey,
  notErased,
  outboxEntrySchema,
  readInBatch,
  type AppliedEvents,
  type ApplyOptions,
  type Change,
} from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import type { RoutingLead } from './domain/index.js';

/** A lead's assignment, with every decision's explanation kept as its audit record. */
export interface AssignmentDoc extends AppliedEvents {
  /** leadmesh.routing.v1.Assignment in proto JSON: what GetAssignment returns. */
  assignment?: Record<string, unknown>;
  ownerId?: string;
  teamId?: string;
  slaDueAt?: Date | null;
  /** When the SLA scanner should look at the lead next; null once accepted or when nobody else can take it. */
  nextSlaCheckAt?: Date | null;
  acceptedAt?: Date | null;
  previousOwnerIds?: string[];
  /** What a re-route decides on and republishes: the lead as routing saw it, profile and score in proto JSON. */
  lead?: RoutingLead;
  profile?: unknown;
  score?: unknown;
  history: Array<Record<string, unknown>>;
}

const assignmentSchema = new Schema<AssignmentDoc>(
  {
    _id: String,
    ...appliedEventsFields,
    assignment: Schema.Types.Mixed,
    ownerId: { type: String, index: true },
    teamId: String,
    slaDueAt: Date,
    nextSlaCheckAt: { type: Date, index: true },
    acceptedAt: Date,
    previousOwnerIds: { type: [String], default: [] },
    lead: Schema.Types.Mixed,
    profile: Schema.Types.Mixed,
    score: Schema.Types.Mixed,
    history: { type: Schema.Types.Mixed, default: () => [] },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false, minimize: false },
);

/** Which replica re-routes a lead at one step of its SLA: lead id | step | lease window. */
interface SlaClaimDoc {
  _id: string;
  leadId: string;
  at: Date;
}
const slaClaimSchema = new Schema<SlaClaimDoc>({ _id: String, leadId: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

const KEEP_HISTORY = 20;

@Injectable()
export class AssignmentStore {
  readonly assignments: Model<AssignmentDoc>;
  private readonly claims: Model<SlaClaimDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.assignments = defineModel(store, 'Assignment', assignmentSchema, 'assignments');
    this.claims = defineModel(store, 'SlaClaim', slaClaimSchema, 'sla_claims');
    outbox.track(this.assignments);
  }

  /**
   * Erasure: the assignment with its audit history (it holds the lead's profile) becomes a tombstone
   * holding only the lead id, so a lead.scored still on its way cannot assign the lead again.
   */
  async forget(leadId: string): Promise<void> {
    await forgetLead(this.assignments, leadId);
  }

  /** The lead's assignment document; an erased lead's tombstone reads as no document. */
  async find(leadId: string): Promise<AssignmentDoc | null> {
    const doc = await this.assignments.findById(leadId).lean<AssignmentDoc>();
    return doc?.erasedAt ? null : doc;
  }

  /**
   * What an incoming event needs to know about the lead's document: whether it exists, was erased,
   * holds an assignment, or already applied the event (with the outbox, to finish its publish).
   */
  eventState(leadId: string) {
    // Read with the other leads' events in hand (one command for all of them under load).
    return readInBatch<Pick<AssignmentDoc, '_id' | 'revision' | 'processedEventIds' | 'outbox' | 'erasedAt' | 'ownerId'>>(this.assignments, leadId);
  }

  /** True when the lead's document, as just read, already holds this event. */
  alreadyApplied(doc: Pick<AssignmentDoc, '_id' | 'processedEventIds' | 'erasedAt' | 'outbox'> | null, eventId: string): Promise<boolean> {
    return appliedBefore(this.assignments, this.outbox, doc, eventId);
  }

  apply(leadId: string, eventId: string, decide: (current: AssignmentDoc | null) => Change | null, options?: ApplyOptions<AssignmentDoc>) {
    return applyEventOnce(this.assignments, this.outbox, leadId, eventId, decide, options);
  }

  /** Records acceptance if the document is still at `revision`; a re-route in between wins and this returns false. */
  async accept(doc: AssignmentDoc, acceptedAt: Date, assignment: Record<string, unknown>): Promise<boolean> {
    const result = await this.assignments.updateOne(
      { _id: doc._id, revision: doc.revision, ownerId: doc.ownerId },
      {
        $set: { acceptedAt, nextSlaCheckAt: null, assignment },
        $inc: { revision: 1 },
        $push: { history: { $each: [{ kind: 'accepted', ownerId: doc.ownerId, acceptedAt: assignment.acceptedAt }], $slice: -KEEP_HISTORY } },
      },
    );
    return result.modifiedCount === 1;
  }

  /** Leads whose SLA check is due, oldest first. */
  dueForSlaCheck(now: Date, limit: number) {
    return this.assignments
      .find({ nextSlaCheckAt: { $lte: now }, ...notErased })
      .sort({ nextSlaCheckAt: 1 })
      .limit(limit)
      .lean<AssignmentDoc[]>();
  }

  /**
   * Claims one lead's SLA re-route for this replica by inserting a claim keyed by lead, re-route step
   * and lease window: the unique key lets exactly one replica win (a conditional update does not on
   * FerretDB), and a replica that dies half-way leaves the lead to whoever claims the next window.
   */
  async claimSlaCheck(doc: AssignmentDoc, now: Date, leaseMs: number): Promise<boolean> {
    const step = doc.previousOwnerIds?.length ?? 0;
    const window = Math.floor((now.getTime() - new Date(doc.slaDueAt ?? now).getTime()) / leaseMs);
    try {
      await this.claims.create({ _id: `${doc._id}|${step}|${window}`, leadId: doc._id, at: now });
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
    await this.assignments.updateOne({ _id: doc._id, ownerId: doc.ownerId }, { $set: { nextSlaCheckAt: new Date(now.getTime() + leaseMs) } });
    return true;
  }

  /** Stops SLA checks for a lead nobody else can take, unless it moved or was accepted since. */
  async stopSlaChecks(leadId: string, ownerId: string, why: string): Promise<void> {
    await this.assignments.updateOne(
      { _id: leadId, ownerId, acceptedAt: null },
      {
        $set: { nextSlaCheckAt: null },
        $inc: { revision: 1 },
        $push: { history: { $each: [{ kind: 'sla-reroute-skipped', why, at: new Date().toISOString() }], $slice: -KEEP_HISTORY } },
      },
    );
  }
}

export { KEEP_HISTORY };
