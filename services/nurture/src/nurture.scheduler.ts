import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, MongoStore } from '@leadmesh/platform';
import type { Logger } from 'pino';
import { NURTURE_SETTINGS, type NurtureSettings } from './nurture.settings.js';
import { StepSender } from './step.sender.js';

/**
 * Wakes the sender on an interval, and at once when an enrollment has a step due now (kick).
 * Every replica runs one; the store's claims decide who sends what.
 */
@Injectable()
export class NurtureScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
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
      this.timer = setInterval(() => this.kick(), this.settings.schedulerIntervalMs);
      this.kick();
    });
  }

  /** Runs a pass now, or right after the one in progress. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.passes().finally(() => (this.running = undefined));
  }

  private async passes(): Promise<void> {
    do {
      this.again = false;
      try {
        // A full batch means more may be due: keep going instead of waiting for the next tick.
        while (!this.stopped && (await this.sender.runOnce()) >= this.settings.batchSize);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'scheduler pass failed; next tick retries');
      }
    } while (this.again && !this.stopped);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
