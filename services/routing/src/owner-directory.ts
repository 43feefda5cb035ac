import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, MongoStore, Readiness } from '@leadmesh/platform';
import type { Logger } from 'pino';
import { ownersToSeed, type Owner, type Team } from './domain/index.js';
import { OwnerDirectoryStore } from './owner-directory.store.js';
import { ROUTING_CONFIG_FILES } from './config-files/routing-config-files.js';
import { RoutingConfigRegistry } from './routing-config.registry.js';

export interface Directory {
  owners: Owner[];
  teams: Team[];
}

// Short enough that an owner switched off over gRPC stops getting leads within seconds on every
// replica, long enough that a burst of leads does not read the whole directory once per lead.
const cacheMs = () => Number(process.env.ROUTING_OWNER_CACHE_MS ?? 1000);

/** The owner directory routing decides with: seeded from the files once, then read from the store. */
@Injectable()
export class OwnerDirectory implements OnApplicationBootstrap {
  private cached?: { at: number; directory: Promise<Directory> };
  private markSeeded!: () => void;
  private readonly seeded = new Promise<void>((resolve) => (this.markSeeded = resolve));

  constructor(
    @Inject(OwnerDirectoryStore) private readonly store: OwnerDirectoryStore,
    @Inject(RoutingConfigRegistry) private readonly registry: RoutingConfigRegistry,
    @Inject(MongoStore) private readonly mongo: MongoStore,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Readiness) private readonly readiness: Readiness,
  ) {}

  onApplicationBootstrap(): void {
    void this.seedWhenReady();
    // Routing without its owners would send every lead to the fallback owner.
    this.readiness.hold('owner directory seeded', this.whenSeeded());
  }

  /** Owners and teams as of at most `ROUTING_OWNER_CACHE_MS` ago. */
  async current(): Promise<Directory> {
    await this.seeded;
    if (!this.cached || Date.now() - this.cached.at > cacheMs()) {
      const directory = Promise.all([this.store.listOwners(), this.store.listTeams()]).then(([owners, teams]) => ({ owners, teams }));
      this.cached = { at: Date.now(), directory };
      directory.catch(() => (this.cached = undefined));
    }
    return this.cached.directory;
  }

  /** Drops the cached directory after a change made through this replica, so its next decision sees it. */
  changed(): void {
    this.cached = undefined;
  }

  whenSeeded(): Promise<void> {
    return this.seeded;
  }

  private async seedWhenReady(): Promise<void> {
    let delay = 250;
    for (;;) {
      await this.mongo.ready();
      try {
        await this.seed();
        this.markSeeded();
        return;
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, retryInMs: delay }, 'seeding owners failed, retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private async seed(): Promise<void> {
    const file = ROUTING_CONFIG_FILES.owners;
    const { owners, teams, versions } = this.registry.config;
    const isNew = (await this.store.seedVersion(file)) !== versions.owners;
    const storedTeams = new Set((await this.store.listTeams()).map((t) => t.id));
    for (const team of teams) if (isNew || !storedTeams.has(team.id)) await this.store.saveTeam(team);
    const seeds = ownersToSeed(owners, await this.store.ownerIds(), isNew);
    for (const owner of seeds) await this.store.saveOwner(owner);
    if (isNew) await this.store.recordSeedVersion(file, versions.owners);
    this.logger.info({ file, version: versions.owners, seededOwners: seeds.length, replaced: isNew }, 'owner directory seeded');
  }
}
