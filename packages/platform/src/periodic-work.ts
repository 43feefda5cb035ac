import type { Logger } from 'pino';

export interface PeriodicWorkOptions {
  /** Time between passes started by the clock. */
  everyMs: number;
  /** Where a failed pass is reported; the next pass is the retry. */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * Work a service does because time passed rather than because an event arrived: the outbox relay,
 * nurture's due steps, SLA re-routes, rescoring, refreshing what other replicas changed. Every
 * replica runs its own; the store decides which replica does what.
 *
 * One pass at a time: a pass slower than the interval is never joined by a second one, which on a
 * slow store would pile up passes that each redo the same work. A failed pass is logged and the
 * next tick retries, so a store outage of any length is ridden out here without special cases.
 * Timers never keep the process alive, and stop() waits for the pass in hand so shutdown does not
 * cut a write in half.
 */
export class PeriodicWork<T = unknown> {
  private timer?: NodeJS.Timeout;
  private running?: Promise<T | undefined>;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly pass: () => Promise<T>,
    private readonly options: PeriodicWorkOptions,
  ) {}

  /** Starts the clock; with `now`, the first pass runs at once instead of after one interval. */
  start(now = false): void {
    if (this.stopped || this.timer) return;
    this.timer = setInterval(() => void this.runNow(), this.options.everyMs);
    this.timer.unref();
    if (now) void this.runNow();
  }

  /** A pass now, or the one already running: callers that need the work done wait on the same pass. */
  runNow(): Promise<T | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    this.running ??= this.guarded().finally(() => (this.running = undefined));
    return this.running;
  }

  /** One extra pass at a given time, for work known to come due before the next tick. */
  runAt(when: Date): void {
    setTimeout(() => void this.runNow(), Math.max(0, when.getTime() - Date.now())).unref();
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async guarded(): Promise<T | undefined> {
    try {
      return await this.pass();
    } catch (err) {
      this.options.logger?.warn({ work: this.name, err: (err as Error).message }, `${this.name} failed; the next pass retries`);
      return undefined;
    }
  }
}
