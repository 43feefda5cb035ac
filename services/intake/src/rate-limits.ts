import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, MongoStore, PeriodicWork, defineModel, isDuplicateKey, type Logger } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import { keyedHash } from './domain/keyed-hash.js';
import { INTAKE_SETTINGS, type IntakeSettings, type WindowLimit } from './intake.settings.js';

/** What a window counts: the beacon door's visitors and addresses, the web form door's addresses, public keys and recipients. */
export type LimitName = 'visitor' | 'address' | 'form-address' | 'form-key' | 'recipient';

const WHAT: Record<LimitName, string> = {
  visitor: 'activities from this visitor',
  address: 'activities from this address',
  'form-address': 'submissions from this address',
  'form-key': 'submissions with this form key',
  recipient: 'submissions for this recipient',
};

export class RateLimited extends Error {
  constructor(
    readonly limit: LimitName,
    readonly retryAfterMs: number,
  ) {
    // Names the kind of limit only, never whose: the message reaches the client and the logs.
    super(`too many ${WHAT[limit]}, retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** One key's count in one window: `_id` is `<limit>:<key>:<window start ms>`; client addresses and recipients by their keyed hash. */
interface WindowDoc {
  _id: string;
  points: number;
  expire: Date;
}

const windowSchema = new Schema<WindowDoc>({ _id: String, points: { type: Number, required: true }, expire: { type: Date, required: true, index: true } }, { versionKey: false });

const SWEEP_EVERY_MS = 60_000;

/**
 * The browser doors' limits, counted in intake's store so every replica counts against the same
 * window (a visitor's beacons and a bot's submissions land on any replica). One mechanism for both
 * doors, each limit with its own budget and window (settings). Fixed windows, one document per key
 * and window, found by `_id`: rate-limiter-flexible's RateLimiterMongo was tried first, but its
 * lookup has a top-level `$or` on the expiry, which FerretDB does not push down, so every beacon
 * scanned every visitor's window (the benchmark fell to about 120 activities/s). FerretDB applies
 * concurrent $inc to one document without atomicity, so under a burst on one key a few may slip
 * past the limit; on MongoDB it is exact. A client address and a recipient are personal data: a
 * window names them only by the keyed hash erasure uses (ERASURE_HASH_KEY).
 */
@Injectable()
export class RateLimits implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly model: Model<WindowDoc>;
  private readonly sweep: PeriodicWork;

  constructor(
    @Inject(MongoStore) store: MongoStore,
    @Inject(LOGGER) logger: Logger,
    @Inject(INTAKE_SETTINGS) private readonly settings: Pick<IntakeSettings, 'erasureHashKey' | 'limits'>,
  ) {
    this.model = defineModel(store, 'RateWindow', windowSchema, 'rate_windows');
    // Windows that are over: without a TTL index (FerretDB has none) someone removes them; any replica may.
    this.sweep = new PeriodicWork('rate-limit sweep', () => this.model.deleteMany({ expire: { $lt: new Date() } }), { everyMs: SWEEP_EVERY_MS, logger });
  }

  onApplicationBootstrap(): void {
    this.sweep.start();
  }

  /** Counts `activities` against the address's and the visitor's windows; throws RateLimited over either. */
  async consumeBeacon(visitorId: string | undefined, address: string, activities: number): Promise<void> {
    const { beaconAddress, beaconVisitor } = this.settings.limits;
    await this.take('address', this.hash(address), activities, beaconAddress);
    if (visitorId) await this.take('visitor', visitorId, activities, beaconVisitor);
  }

  /**
   * Counts one web-form submission made with a public key against its client address, its key (a
   * form key, public; or the retired token's subject) and its recipient (the normalised email);
   * throws RateLimited over any. Called before anything is stored.
   */
  async consumeWebForm(submission: { address: string; key: string; recipient: string }): Promise<void> {
    const { formAddress, formKey, formRecipient } = this.settings.limits;
    await this.take('form-address', this.hash(submission.address), 1, formAddress);
    await this.take('form-key', submission.key, 1, formKey);
    await this.take('recipient', this.hash(submission.recipient), 1, formRecipient);
  }

  private hash(value: string): string {
    return keyedHash(this.settings.erasureHashKey, value);
  }

  private async take(limit: LimitName, key: string, points: number, { max, windowMs }: WindowLimit): Promise<void> {
    const start = Math.floor(Date.now() / windowMs) * windowMs;
    const expire = new Date(start + windowMs);
    const _id = `${limit}:${key}:${start}`;
    const count = async () =>
      (await this.model.findOneAndUpdate({ _id }, { $inc: { points }, $setOnInsert: { expire } }, { upsert: true, new: true, lean: true }))!.points;
    let total: number;
    try {
      total = await count();
    } catch (err) {
      // Two replicas opened the same window at once: the loser's upsert becomes an increment.
      if (!isDuplicateKey(err)) throw err;
      total = await count();
    }
    if (total > max) throw new RateLimited(limit, Math.max(1000, expire.getTime() - Date.now()));
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.sweep.stop();
  }
}
