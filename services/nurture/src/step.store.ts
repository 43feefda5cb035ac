import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, Outbox, defineModel, isDuplicateKey, outboxEntrySchema, type OutgoingEvent } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import type { Enrollment } from './domain/enrollment.js';
import type { StoredStepStatus } from './domain/progress.js';
import type { TrackKind } from './domain/tracks.js';

/**
 * One email of one enrollment, as the scheduler sees it. Its own document (not an element of the
 * lead's enrollments) so a replica can claim it with a single-document compare-and-set.
 *
 * DUE -> CLAIMED (leased; nothing sent yet, safe to take over) -> SENDING (handed to SMTP) -> SENT.
 * Side exits: SKIPPED (left the track, or may not be emailed), FAILED (gave up), or DUE again
 * with a later dueAt after a temporary failure.
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

/** An insert of many steps that failed only because some were already recorded. */
function onlyDuplicates(err: unknown): boolean {
  const writeErrors = (err as { writeErrors?: { code?: number; err?: { code?: number } }[] })?.writeErrors;
  if (writeErrors?.length) return writeErrors.every((e) => (e.code ?? e.err?.code) === 11000);
  return isDuplicateKey(err);
}

export const stepKey = (leadId: string, trackId: string, stepId: string) => `${leadId}/${trackId}/${stepId}`;

@Injectable()
export class StepStore {
  readonly steps: Model<ScheduledStepDoc>;
  /** One document per (step, state seen) a replica took; the unique _id makes the take exclusive. */
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
   * Records each planned step of these enrollments once (the key is lead/track/step), in one
   * write. Safe to repeat after a crash or a redelivered event: a step already recorded, by this
   * replica or another, is left as it is.
   */
  async record(leadId: string, enrollments: Enrollment[], messageIdOf: (trackId: string, stepId: string) => string): Promise<void> {
    const docs = enrollments.flatMap((enrollment) => {
      const active = enrollment.status === 'ACTIVE';
      return enrollment.steps.map(
        (step): Omit<ScheduledStepDoc, 'outbox'> => ({
          _id: stepKey(leadId, enrollment.trackId, step.stepId),
          leadId,
          trackId: enrollment.trackId,
          stepId: step.stepId,
          kind: enrollment.kind,
          template: step.template,
          subject: step.subject,
          dueAt: step.dueAt,
          status: active ? 'DUE' : 'SKIPPED',
          attempts: 0,
          messageId: messageIdOf(enrollment.trackId, step.stepId),
          ...(active ? {} : { lastError: enrollment.exitReason ?? 'the enrollment ended' }),
        }),
      );
    });
    if (docs.length === 0) return;
    await this.steps.insertMany(docs, { ordered: false }).catch((err: unknown) => {
      if (!onlyDuplicates(err)) throw err;
    });
  }

  /** These enrollments ended: their steps not yet in a replica's hands will never be sent. */
  async skipRemaining(leadId: string, ended: Pick<Enrollment, 'trackId' | 'exitReason'>[]): Promise<void> {
    for (const { trackId, exitReason } of ended) {
      await this.steps.updateMany({ leadId, trackId, status: 'DUE' }, { $set: { status: 'SKIPPED', lastError: exitReason ?? 'the enrollment ended' } });
    }
  }

  forLead(leadId: string): Promise<ScheduledStepDoc[]> {
    return this.steps.find({ leadId }).lean<ScheduledStepDoc[]>().exec();
  }

  /**
   * Claims up to `limit` due steps for this replica, of one lead when `leadId` is given (the lead
   * whose event just arrived) or of any lead (the periodic sweep, which also takes over claims
   * whose lease ran out: their replica died before handing the email to SMTP). Each claim is a
   * compare-and-set on the state the step was seen in, so of several replicas exactly one gets it.
   */
  async claimDue(owner: string, now: Date, leaseMs: number, limit: number, leadId?: string): Promise<ScheduledStepDoc[]> {
    const candidates = leadId ? await this.dueOf(leadId, now, limit) : await this.dueAnywhere(now, limit);
    const claimed: ScheduledStepDoc[] = [];
    for (const { _id, status, attempts, leaseUntil } of candidates) {
      // Exactly one replica wins the state it saw: a unique-key insert is atomic on every
      // MongoDB-protocol store, where FerretDB's conditional update alone is not. The key also
      // names the lease period, so a claim whose step update never landed (the store went away
      // between the two writes) does not hold the step forever: the next period claims it again.
      const period = Math.floor(now.getTime() / leaseMs);
      const seen = `${_id}@${attempts}:${status === 'CLAIMED' ? leaseUntil?.getTime() : 'due'}:${period}`;
      if (!(await this.takeClaim(seen, owner, now))) continue;
      const doc = await this.steps
        .findOneAndUpdate(
          { _id, ...(status === 'CLAIMED' ? leaseRanOut(now) : dueBy(now)) } as never,
          { $set: { status: 'CLAIMED', leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs) } },
          { returnDocument: 'after' },
        )
        .lean<ScheduledStepDoc>();
      if (doc) claimed.push(doc);
    }
    return claimed;
  }

  // Equality on top-level fields only: FerretDB turns those into an indexed SQL lookup, and reads
  // and filters every document of the collection for anything else (a top-level $or, ranges alone).
  private dueOf(leadId: string, now: Date, limit: number) {
    return this.steps.find({ leadId, ...dueBy(now) }, CANDIDATE).sort({ dueAt: 1 }).limit(limit).lean<Candidate[]>();
  }

  private async dueAnywhere(now: Date, limit: number): Promise<Candidate[]> {
    const [due, abandoned] = await Promise.all([
      this.steps.find(dueBy(now), CANDIDATE).sort({ dueAt: 1 }).limit(limit).lean<Candidate[]>(),
      this.steps.find(leaseRanOut(now), CANDIDATE).sort({ dueAt: 1 }).limit(limit).lean<Candidate[]>(),
    ]);
    return [...due, ...abandoned].sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime()).slice(0, limit);
  }

  private async takeClaim(key: string, owner: string, at: Date): Promise<boolean> {
    try {
      await this.claims.create({ _id: key, owner, at });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * Steps whose replica died after handing the email to SMTP and before recording the answer.
   * The email may have gone out, so they are not sent again: they become FAILED with a note
   * naming the Message-ID to look up in the SMTP log.
   */
  async settleInterrupted(now: Date): Promise<number> {
    const result = await this.steps.updateMany(
      { status: 'SENDING', leaseUntil: { $lt: now } },
      {
        $set: {
          status: 'FAILED',
          lastError: 'interrupted while the SMTP server had the email; not resent because it may have been delivered (look up its Message-ID in the SMTP log)',
        },
      },
    );
    return result.modifiedCount;
  }

  /** Last check before SMTP: still ours, and the attempt is counted. False when the lease was lost. */
  async markSending(id: string, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const result = await this.steps.updateOne(
      { _id: id, status: 'CLAIMED', leaseOwner: owner },
      { $set: { status: 'SENDING', sendingAt: now, leaseUntil: new Date(now.getTime() + leaseMs) }, $inc: { attempts: 1 } },
    );
    return result.modifiedCount === 1;
  }

  /** The SMTP server accepted it: a fact, recorded even if the lease ran out meanwhile. */
  async markSent(id: string, sentAt: Date, event: OutgoingEvent): Promise<void> {
    const result = await this.steps.updateOne(
      { _id: id, status: { $ne: 'SENT' } },
      { $set: { status: 'SENT', sentAt }, $unset: { leaseOwner: 1, leaseUntil: 1, lastError: 1 }, $push: { outbox: event } },
    );
    if (result.modifiedCount === 1) await this.outbox.flush(this.steps, id, [event]);
  }

  async markRetry(id: string, owner: string, dueAt: Date, error: string): Promise<void> {
    await this.steps.updateOne(
      { _id: id, status: 'SENDING', leaseOwner: owner },
      { $set: { status: 'DUE', dueAt, lastError: error }, $unset: { leaseOwner: 1, leaseUntil: 1 } },
    );
  }

  /** Ends a step this replica holds (CLAIMED or SENDING) as SKIPPED or FAILED. */
  async finish(id: string, owner: string, status: 'SKIPPED' | 'FAILED', reason: string): Promise<void> {
    await this.steps.updateOne(
      { _id: id, status: { $in: ['CLAIMED', 'SENDING'] }, leaseOwner: owner },
      { $set: { status, lastError: reason }, $unset: { leaseOwner: 1, leaseUntil: 1 } },
    );
  }
}

type Candidate = Pick<ScheduledStepDoc, '_id' | 'status' | 'attempts' | 'leaseUntil' | 'dueAt'>;
const CANDIDATE = { _id: 1, status: 1, attempts: 1, leaseUntil: 1, dueAt: 1 };
const dueBy = (now: Date) => ({ status: 'DUE' as const, dueAt: { $lte: now } });
const leaseRanOut = (now: Date) => ({ status: 'CLAIMED' as const, leaseUntil: { $lt: now } });
