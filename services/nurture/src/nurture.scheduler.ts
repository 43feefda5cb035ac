import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, MongoStore } from '@leadmesh/platform';
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
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
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

  /** A sweep now, unless one is in progress. */
  sweep(): void {
    if (this.stopped || this.running) return;
    this.running = this.passes().finally(() => (this.running = undefined));
  }

  private async passes(): Promise<void> {
    try {
      // A full batch means more may be due: keep going instead of waiting for the next tick.
      while (!this.stopped && (await this.sender.runOnce()) >= this.settings.batchSize);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'scheduler pass failed; the next sweep retries');
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    await this.sender.idle();
  }
}
