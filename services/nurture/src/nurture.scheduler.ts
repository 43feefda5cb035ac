import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, MongoStore, PeriodicWork } from '@leadmesh/platform';
import type { Logger } from 'pino';
import { NURTURE_SETTINGS, type NurtureSettings } from './nurture.settings.js';
import { StepSender } from './step.sender.js';

/**
 * Wakes the sender on an interval for what time brings: leads whose next step came due, retries,
 * sends interrupted by a crash. Steps an event makes due at once never wait for it: the event's
 * own handling hands them to the sender. Every replica runs one; the step records decide who
 * sends what.
 */
@Injectable()
export class NurtureScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly work: PeriodicWork<void>;
  private stopped = false;

  constructor(
    @Inject(StepSender) private readonly sender: StepSender,
    @Inject(MongoStore) private readonly mongo: MongoStore,
    @Inject(NURTURE_SETTINGS) private readonly settings: NurtureSettings,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.work = new PeriodicWork('nurture sweep', () => this.passes(), { everyMs: settings.schedulerIntervalMs, logger });
  }

  onApplicationBootstrap(): void {
    void this.mongo.ready().then(() => {
      if (this.stopped) return;
      this.work.start(true);
    });
  }

  /** A sweep now, unless one is in progress. */
  sweep(): void {
    void this.work.runNow();
  }

  private async passes(): Promise<void> {
    // A full batch means more may be due: keep going instead of waiting for the next tick.
    while (!this.stopped && (await this.sender.runOnce()) >= this.settings.batchSize);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.work.stop();
    await this.sender.idle();
  }
}
