import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, Outbox, bulkWriteErrors, defineModel, isDuplicateKey, outboxEntrySchema, type OutgoingEvent } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import type { StoredStepStatus } from './domain/progress.js';
import type { TrackKind } from './domain/tracks.js';

/**
 * One email of one enrollment, recorded when a sender is handed the step (its own document, not
 * an element of the lead's, so recording it is a unique-key insert: of several replicas handed the
 * same step exactly one records it, on every MongoDB-protocol store).
 *
 * Recorded SENDING (the attempt counted, a lease running) when the email is about to go to SMTP,
 * then SENT; or recorded SKIPPED / FAILED at once when it may not or cannot be sent. A temporary
 * SMTP failure makes it DUE again with a later dueAt; a retry claims it through a claim document.
 * A SENDING step whose lease ran out was interrupted with the email possibly delivered: like a
 * send whose reply never came, it is sent once more and marked possibly duplicated, and a second
 * such outcome settles it FAILED (domain sendAfterUnknownOutcome). (CLAIMED: a state of earlier
 * versions, read as due.)
 */
export interface ScheduledStepDoc {
  _id: string;
  leadId: string;
  trackId: string;
  stepId: string;
  kind: TrackKind;
  template: string;
  subject: string;
  dueAt: Date;
  status: StoredStepStatus;
  attempts: number;
  /** Fixed before the first attempt, so every attempt of this email carries the same id. */
  messageId: string;
  leaseOwner?: string;
  leaseUntil?: Date;
  sendingAt?: Date;
  sentAt?: Date;
  lastError?: string;
  /** Sent once more after an attempt whose outcome is unknown: the recipient may hold two copies, with one Message-ID. */
  possiblyDuplicate?: boolean;
  /**
   * The W3C trace context (traceparent, tracestate) of the event that handed the step over, when
   * one did: a retry sends later in a trace of its own and links its SMTP span to it.
   */
  traceContext?: Record<string, string>;
  outbox: OutgoingEvent[];
}

const schema = new Schema<ScheduledStepDoc>(
  {
    _id: String,
    leadId: { type: String, required: true },
    trackId: { type: String, required: true },
    stepId: { type: String, required: true },
    kind: { type: String, required: true },
    template: { type: String, required: true },
    subject: { type: String, required: true },
    dueAt: { type: Date, required: true },
    status: { type: String, required: true },
    attempts: { type: Number, default: 0 },
    messageId: { type: String, required: true },
    leaseOwner: String,
    leaseUntil: Date,
    sendingAt: Date,
    sentAt: Date,
    lastError: String,
    possiblyDuplicate: Boolean,
    traceContext: { type: Schema.Types.Mixed, required: false },
    outbox: { type: [outboxEntrySchema], default: [] },
  },
  { versionKey: false, minimize: false },
);
interface StepClaimDoc {
  _id: string;
  owner: string;
  at: Date;
}

const stepClaimSchema = new Schema<StepClaimDoc>({ _id: String, owner: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

schema.index({ status: 1, dueAt: 1 });
schema.index({ status: 1, leaseUntil: 1 });
schema.index({ leadId: 1 });

export const stepKey = (leadId: string, trackId: string, stepId: string) => `${leadId}/${trackId}/${stepId}`;

/** A step as a sender records it: everything but the outbox, which starts empty. */
export type NewStep = Omit<ScheduledStepDoc, 'outbox'>;

@Injectable()
export class StepStore {
  readonly steps: Model<ScheduledStepDoc>;
  /** One document per (retry of a step, state seen) a replica took; the unique _id makes the take exclusive. */
  private readonly claims: Model<StepClaimDoc>;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(Outbox) private readonly outbox: Outbox) {
    this.steps = defineModel(store, 'ScheduledStep', schema, 'scheduled_steps');
    this.claims = defineModel(store, 'StepClaim', stepClaimSchema, 'scheduled_step_claims');
    outbox.track(this.steps);
  }

  /** Erasure: the lead's steps, sent and due, go. */
  async forget(leadId: string): Promise<void> {
    await this.steps.deleteMany({ leadId: { $eq: leadId } });
    // Claim ids start with the step id, which starts with the lead id.
    await this.claims.deleteMany({ _id: { $gte: `${leadId}/`, $lt: `${leadId}0` } });
  }

  /**
   * Records a step handed to this replica, in one insert: SENDING when the email goes out next,
   * or its final status. False when the step was recorded before (another replica, or an earlier
   * hand-over of a redelivered event, has it): then this replica leaves it alone.
   */
  async record(step: NewStep): Promise<boolean> {
    try {
      // Lean: the record is built complete here; no casting, defaults or document to hydrate.
      await this.steps.insertMany([{ ...step, outbox: [] }], { lean: true });
      return true;
    } catch (err) {
      if (isDuplicateKey(err) || onlyDuplicates(err)) return false;
      throw err;
    }
  }

  forLead(leadId: string): Promise<ScheduledStepDoc[]> {
    return this.steps.find({ leadId }).lean<ScheduledStepDoc[]>().exec();
  }

  /** Steps due again after a temporary failure (and steps recorded DUE by earlier versions). */
  retriesDue(now: Date, limit: number): Promise<Candidate[]> {
    return this.steps.find(dueBy(now), CANDIDATE).sort({ dueAt: 1 }).limit(limit).lean<Candidate[]>().exec();
  }

  /**
   * Takes a step due again for this replica and marks it SENDING (the attempt counted, a lease
   * running). Exactly one replica wins the state it saw: a unique-key insert is atomic on every
   * MongoDB-protocol store, where FerretDB's conditional update alone is not. The key also names
   * the lease period, so a claim whose step update never landed (the store went away between the
   * two writes) does not hold the step forever: the next period claims it again.
   */
  async claimRetry(candidate: Candidate, owner: string, now: Date, leaseMs: number): Promise<ScheduledStepDoc | null> {
    const period = Math.floor(now.getTime() / leaseMs);
    if (!(await this.takeClaim(`${candidate._id}@${candidate.attempts}:due:${period}`, owner, now))) return null;
    return this.steps
      .findOneAndUpdate(
        { _id: candidate._id, ...dueBy(now) } as never,
        { $set: { status: 'SENDING', leaseOwner: owner, sendingAt: now, leaseUntil: new Date(now.getTime() + leaseMs) }, $inc: { attempts: 1 } },
        { returnDocument: 'after' },
      )
      .lean<ScheduledStepDoc>();
  }

  private async takeClaim(key: string, owner: string, at: Date): Promise<boolean> {
    try {
      await this.claims.insertMany([{ _id: key, owner, at }], { lean: true });
      return true;
    } catch (err) {
      if (isDuplicateKey(err) || onlyDuplicates(err)) return false;
      throw err;
    }
  }

  /**
   * Steps whose replica died while SENDING: the email may or may not have gone out. Each is sent
   * once more (due now, marked possibly duplicated); one interrupted again, or whose outcome was
   * unknown before, becomes FAILED with a note naming the Message-ID to look up in the SMTP log.
   */
  async settleInterrupted(now: Date): Promise<{ resent: number; failed: number }> {
    const interrupted = { status: 'SENDING' as const, leaseUntil: { $lt: now } };
    const failed = await this.steps.updateMany(
      { ...interrupted, possiblyDuplicate: true } as never,
      {
        $set: { status: 'FAILED', lastError: 'interrupted again after being sent once more; not resent, it may have been delivered twice already (look up its Message-ID in the SMTP log)' },
        $unset: { leaseOwner: 1, leaseUntil: 1 },
      },
    );
    const resent = await this.steps.updateMany(
      { ...interrupted, possiblyDuplicate: { $ne: true } } as never,
      {
        $set: { status: 'DUE', dueAt: now, possiblyDuplicate: true, lastError: 'interrupted while sending, outcome unknown; sent once more with the same Message-ID' },
        $unset: { leaseOwner: 1, leaseUntil: 1 },
      },
    );
    return { resent: resent.modifiedCount, failed: failed.modifiedCount };
  }

  /**
   * The SMTP server accepted it: a fact, recorded even if the lease ran out meanwhile (over an
   * interrupted settlement too), with email.sent in the same write. True when this call recorded it.
   */
  async markSent(id: string, sentAt: Date, event: OutgoingEvent): Promise<boolean> {
    const result = await this.steps.updateOne(
      { _id: id, status: { $ne: 'SENT' } },
      { $set: { status: 'SENT', sentAt }, $unset: { leaseOwner: 1, leaseUntil: 1, lastError: 1 }, $push: { outbox: event } },
    );
    if (result.modifiedCount !== 1) return false;
    await this.outbox.flush(this.steps, id, [event]);
    return true;
  }

  /** Due again at `dueAt`; `possiblyDuplicate` when this attempt's outcome is unknown (it may have been delivered). */
  async markRetry(id: string, owner: string, dueAt: Date, error: string, possiblyDuplicate = false): Promise<void> {
    await this.steps.updateOne(
      { _id: id, status: 'SENDING', leaseOwner: owner },
      { $set: { status: 'DUE', dueAt, lastError: error, ...(possiblyDuplicate && { possiblyDuplicate }) }, $unset: { leaseOwner: 1, leaseUntil: 1 } },
    );
  }

  /** Ends a step this replica holds (SENDING) as SKIPPED or FAILED. */
  async finish(id: string, owner: string, status: 'SKIPPED' | 'FAILED', reason: string): Promise<void> {
    await this.steps.updateOne(
      { _id: id, status: 'SENDING', leaseOwner: owner },
      { $set: { status, lastError: reason }, $unset: { leaseOwner: 1, leaseUntil: 1 } },
    );
  }
}

/** An insert that failed only because the document was already there. */
function onlyDuplicates(err: unknown): boolean {
  const failed = bulkWriteErrors(err);
  return Boolean(failed?.length) && failed!.every((e) => e.code === 11000);
}

export type Candidate = Pick<ScheduledStepDoc, '_id' | 'status' | 'attempts' | 'leaseUntil' | 'dueAt'>;
const CANDIDATE = { _id: 1, status: 1, attempts: 1, leaseUntil: 1, dueAt: 1 };
const dueBy = (now: Date) => ({ status: 'DUE' as const, dueAt: { $lte: now } });
