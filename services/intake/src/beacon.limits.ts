import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER, MongoStore, PeriodicWork, defineModel, type Logger } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';

export class BeaconRateLimited extends Error {
  constructor(
    readonly limit: 'visitor' | 'address',
    readonly retryAfterMs: number,
  ) {
    super(`too many activities from this ${limit}, retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

interface LimitDoc {
  key: string;
  points: number;
  expire: Date;
}

// rate-limiter-flexible's own document shape; the indexes are ours, since its TTL index is one
// FerretDB does not have: expired windows are replaced in place by the limiter and swept below.
const limitSchema = new Schema<LimitDoc>({ key: { type: String, required: true, unique: true }, points: Number, expire: { type: Date, index: true } }, { versionKey: false });

const SWEEP_MS = 60_000;

/**
 * The beacon door's limits, per visitor id and per client address, counted in intake's store so
 * every replica counts against the same window (a visitor's beacons land on any replica). Counted
 * in activities, not requests, so a batch costs what it carries. FerretDB applies concurrent $inc
 * to one document without atomicity, so under a burst on one key a few activities may slip past the
 * limit; on MongoDB it is exact.
 */
@Injectable()
export class BeaconLimits implements OnModuleDestroy {
  private readonly model: Model<LimitDoc>;
  private readonly perVisitor: RateLimiterMongo;
  private readonly perAddress: RateLimiterMongo;
  private readonly sweep: PeriodicWork;

  constructor(@Inject(MongoStore) store: MongoStore, @Inject(LOGGER) logger: Logger) {
    const env = process.env;
    this.model = defineModel(store, 'BeaconRateLimit', limitSchema, 'beacon_rate_limits');
    const client = { collection: () => this.model.collection };
    const common = { storeClient: client, tableName: 'beacon_rate_limits', disableIndexesCreation: true, duration: 60 };
    this.perVisitor = new RateLimiterMongo({ ...common, keyPrefix: 'visitor', points: Number(env.BEACON_VISITOR_LIMIT_PER_MINUTE ?? 300) });
    this.perAddress = new RateLimiterMongo({ ...common, keyPrefix: 'address', points: Number(env.BEACON_ADDRESS_LIMIT_PER_MINUTE ?? 6000) });
    // Windows long over: without a TTL index someone has to remove them; any replica may.
    this.sweep = new PeriodicWork('beacon rate-limit sweep', () => this.model.deleteMany({ expire: { $lt: new Date(Date.now() - SWEEP_MS) } }), { everyMs: SWEEP_MS, logger });
    this.sweep.start();
  }

  /** Counts `activities` against the visitor's and the address's windows; throws BeaconRateLimited over either. */
  async consume(visitorId: string | undefined, address: string, activities: number): Promise<void> {
    await this.take(this.perAddress, 'address', address, activities);
    if (visitorId) await this.take(this.perVisitor, 'visitor', visitorId, activities);
  }

  private async take(limiter: RateLimiterMongo, limit: 'visitor' | 'address', key: string, points: number): Promise<void> {
    try {
      await limiter.consume(key, points);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw new BeaconRateLimited(limit, Math.max(1000, res.msBeforeNext));
      throw res;
    }
  }

  onModuleDestroy(): Promise<void> {
    return this.sweep.stop();
  }
}
