import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, MongoStore } from '@leadmesh/platform';
import type { Logger } from 'pino';
import { NURTURE_SETTINGS, type NurtureSettings } from './nurture.settings.js';
import { StepSender } from './step.sender.js';

/**
 * Wakes the sender: a sweep on an interval (steps that came due with time, retries, abandoned
 * leases), and at once for a lead whose event may have made a step due now. A lead's own pass
 * looks up that lead's steps only, so its cost does not grow with the collection.
 * Every replica runs one; the store's claims decide who sends what.
 */
@Injectable()
export class NurtureScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private sweepRequested = false;
  private readonly leadsWaiting = new Set<string>();
  private stopped = false;

  constructor(
    @Inject(StepSender) private readonly sender: StepSender,
    @Inject(MongoStore) private readonly mongo: MongoStore,
    @Inject(NURTURE_SETTINGS) private readonly settings: NurtureSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void this.mongo.ready().then(() => {
      if (this.stopped) return;
      this.timer = setInterval(() => this.sweep(), this.settings.schedulerIntervalMs);
      this.sweep();
    });
  }

  /** A pass over every lead's due steps, now or right after the pass in progress. */
  sweep(): void {
    this.sweepRequested = true;
    this.start();
  }

  /** A pass over this lead's due steps, now or right after the pass in progress. */
  kick(leadId: string): void {
    this.leadsWaiting.add(leadId);
    this.start();
  }

  private start(): void {
    if (this.stopped || this.running) return;
    this.running = this.passes().finally(() => (this.running = undefined));
  }

  private async passes(): Promise<void> {
    while (!this.stopped && (this.sweepRequested || this.leadsWaiting.size > 0)) {
      try {
        if (this.leadsWaiting.size > 0) {
          const leads = [...this.leadsWaiting];
          this.leadsWaiting.clear();
          await this.sender.runForLeads(leads);
        }
        if (this.sweepRequested) {
          this.sweepRequested = false;
          // A full batch means more may be due: keep going instead of waiting for the next tick.
          while (!this.stopped && (await this.sender.runOnce()) >= this.settings.batchSize);
        }
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'scheduler pass failed; the next sweep retries');
      }
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
