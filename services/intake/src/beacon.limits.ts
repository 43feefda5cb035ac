import { createHash } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, MongoStore, PeriodicWork, defineModel, isDuplicateKey, type Logger } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';

export class BeaconRateLimited extends Error {
  constructor(
    readonly limit: 'visitor' | 'address',
    readonly retryAfterMs: number,
  ) {
    super(`too many activities from this ${limit}, retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** One key's count in one window: `_id` is `<visitor|address>:<key>:<window start ms>`, a client address hashed. */
interface WindowDoc {
  _id: string;
  points: number;
  expire: Date;
}

const windowSchema = new Schema<WindowDoc>({ _id: String, points: { type: Number, required: true }, expire: { type: Date, required: true, index: true } }, { versionKey: false });

const WINDOW_MS = 60_000;

/**
 * The beacon door's limits, per visitor id and per client address, counted in intake's store so
 * every replica counts against the same window (a visitor's beacons land on any replica). Counted
 * in activities, not requests, so a batch costs what it carries. Fixed one-minute windows, one
 * document per key and window, found by `_id`: rate-limiter-flexible's RateLimiterMongo was tried
 * first, but its lookup has a top-level `$or` on the expiry, which FerretDB does not push down, so
 * every beacon scanned every visitor's window (the benchmark fell to about 120 activities/s).
 * FerretDB applies concurrent $inc to one document without atomicity, so under a burst on one key a
 * few activities may slip past the limit; on MongoDB it is exact.
 */
@Injectable()
export class BeaconLimits implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly model: Model<WindowDoc>;
  private readonly perVisitor: number;
  private readonly perAddress: number;
  private readonly sweep: PeriodicWork;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(LOGGER) logger: Logger) {
    this.model = defineModel(store, 'BeaconRateWindow', windowSchema, 'beacon_rate_windows');
    this.perVisitor = Number(process.env.BEACON_VISITOR_LIMIT_PER_MINUTE ?? 300);
    this.perAddress = Number(process.env.BEACON_ADDRESS_LIMIT_PER_MINUTE ?? 6000);
    // Windows that are over: without a TTL index (FerretDB has none) someone removes them; any replica may.
    this.sweep = new PeriodicWork('beacon rate-limit sweep', () => this.model.deleteMany({ expire: { $lt: new Date() } }), { everyMs: WINDOW_MS, logger });
  }

  onApplicationBootstrap(): void {
    this.sweep.start();
  }

  /** Counts `activities` against the address's and the visitor's windows; throws BeaconRateLimited over either. */
  async consume(visitorId: string | undefined, address: string, activities: number): Promise<void> {
    // A client address is personal data: the window names it only by a hash.
    await this.take('address', createHash('sha256').update(address).digest('base64url').slice(0, 22), activities, this.perAddress);
    if (visitorId) await this.take('visitor', visitorId, activities, this.perVisitor);
  }

  private async take(limit: 'visitor' | 'address', key: string, points: number, max: number): Promise<void> {
    const start = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS;
    const expire = new Date(start + WINDOW_MS);
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
    if (total > max) throw new BeaconRateLimited(limit, Math.max(1000, expire.getTime() - Date.now()));
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.sweep.stop();
  }
}
