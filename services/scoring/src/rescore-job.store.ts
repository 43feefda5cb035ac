import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, defineModel } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';

/**
 * A background rescore of every stored lead with one rule-set version. Whoever holds the lease runs
 * it; a lease that runs out (the holder crashed) can be taken over, and the cursor says where to go on.
 */
export interface RescoreJobDoc {
  _id: string;
  ruleSetVersion: string;
  total: number;
  done: number;
  finished: boolean;
  /** Another version was activated before this job finished, so it stopped. */
  superseded: boolean;
  startedAt: Date;
  finishedAt?: Date;
  /** Not run before this moment, so every replica's cached active version has caught up. */
  notBefore: Date;
  /** The last lead id rescored; leads are walked in id order. */
  cursor?: string;
  owner?: string;
  leaseUntil: Date;
}

export interface RescoreProgress {
  cursor: string;
  done: number;
  total: number;
}

const schema = new Schema<RescoreJobDoc>(
  {
    _id: String,
    ruleSetVersion: String,
    total: Number,
    done: Number,
    finished: { type: Boolean, index: true },
    superseded: Boolean,
    startedAt: Date,
    finishedAt: Date,
    notBefore: Date,
    cursor: String,
    owner: String,
    leaseUntil: Date,
  },
  { versionKey: false },
);

@Injectable()
export class RescoreJobStore {
  private readonly jobs: Model<RescoreJobDoc>;

  constructor(@Inject(MongoStore) store: MongoStore) {
    this.jobs = defineModel(store, 'RescoreJob', schema, 'rescore_jobs');
  }

  async create(job: RescoreJobDoc): Promise<void> {
    await this.jobs.create(job);
  }

  find(jobId: string): Promise<RescoreJobDoc | null> {
    return this.jobs.findById(jobId).lean<RescoreJobDoc>().exec();
  }

  /**
   * Claims the oldest runnable job whose lease has run out, with a compare-and-set on the lease it
   * saw, so of two replicas claiming at once exactly one wins.
   */
  async claimNext(owner: string, now: Date, leaseMs: number): Promise<RescoreJobDoc | null> {
    const candidates = await this.jobs
      .find({ finished: false, leaseUntil: { $lt: now }, notBefore: { $lte: now } })
      .sort({ startedAt: 1 })
      .limit(5)
      .lean<RescoreJobDoc[]>();
    for (const job of candidates) {
      // From the moment of the claim, not of the search: a slow store must not shorten the lease.
      const leaseUntil = new Date(Date.now() + leaseMs);
      const result = await this.jobs.updateOne(
        { _id: job._id, finished: false, leaseUntil: job.leaseUntil },
        { $set: { owner, leaseUntil } },
      );
      if (result.modifiedCount === 1) return { ...job, owner, leaseUntil };
    }
    return null;
  }

  /** Records a finished batch and renews the lease; false when the lease was lost to another replica. */
  async progress(jobId: string, owner: string, progress: RescoreProgress, leaseUntil: Date): Promise<boolean> {
    const result = await this.jobs.updateOne({ _id: jobId, owner, finished: false }, { $set: { ...progress, leaseUntil } });
    return result.modifiedCount === 1;
  }

  async finish(jobId: string, owner: string, outcome: { done: number; total: number; superseded: boolean }, now: Date): Promise<boolean> {
    const result = await this.jobs.updateOne(
      { _id: jobId, owner, finished: false },
      { $set: { ...outcome, finished: true, finishedAt: now, leaseUntil: now } },
    );
    return result.modifiedCount === 1;
  }
}
