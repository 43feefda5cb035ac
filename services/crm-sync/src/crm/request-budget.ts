// HubSpot counts requests per app in a rolling 10-second window and per day. We spend that budget
// ourselves, for the whole adapter, instead of learning about it from 429s: a 429 storm would also
// starve other integrations that share the same HubSpot account.
import { CrmRateLimitedError, type CrmName } from './crm-port.js';

export interface RequestBudgetOptions {
  /** Requests allowed in any burst window (HubSpot: 100 or 190 per 10 s, by tier). */
  burstLimit: number;
  burstWindowMs: number;
  /** Requests allowed per day (HubSpot: 250,000 to 1,000,000, by tier). */
  dailyLimit: number;
  /** HubSpot resets the daily count at midnight in the account's time zone. */
  dailyResetUtcOffsetMinutes: number;
}

export class RequestBudget {
  readonly #crm: CrmName;
  readonly #options: RequestBudgetOptions;
  readonly #now: () => number;
  #recent: number[] = [];
  #usedToday = 0;
  #dayEndsAt: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(crm: CrmName, options: RequestBudgetOptions, now: () => number = Date.now) {
    if (options.burstLimit < 1 || options.burstWindowMs < 1 || options.dailyLimit < 1) {
      throw new Error('burstLimit, burstWindowMs and dailyLimit must be positive');
    }
    this.#crm = crm;
    this.#options = options;
    this.#now = now;
    this.#dayEndsAt = this.#nextMidnight();
  }

  /** Waits for a slot in the burst window; throws CrmRateLimitedError when today's budget is spent. */
  acquire(): Promise<void> {
    // Callers take slots one at a time, in arrival order, so the window is never overshot.
    const turn = this.#queue.then(() => this.#take());
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  /** HubSpot's X-HubSpot-RateLimit-Daily-Remaining knows about other clients of the account. */
  observeDailyRemaining(remaining: number): void {
    if (!Number.isFinite(remaining)) return;
    this.#rollDay();
    this.#usedToday = Math.max(this.#usedToday, this.#options.dailyLimit - remaining);
  }

  /** Milliseconds until the daily budget refills. */
  untilDailyReset(): number {
    this.#rollDay();
    return this.#dayEndsAt - this.#now();
  }

  async #take(): Promise<void> {
    this.#rollDay();
    if (this.#usedToday >= this.#options.dailyLimit) {
      const wait = this.#dayEndsAt - this.#now();
      throw new CrmRateLimitedError(this.#crm, `${this.#crm} daily request limit of ${this.#options.dailyLimit} is spent until midnight`, wait, { code: 'DAILY' });
    }
    for (;;) {
      const now = this.#now();
      this.#recent = this.#recent.filter((t) => t > now - this.#options.burstWindowMs);
      const oldest = this.#recent[0];
      if (this.#recent.length < this.#options.burstLimit || oldest === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, oldest + this.#options.burstWindowMs - now + 1));
    }
    this.#recent.push(this.#now());
    this.#usedToday += 1;
  }

  #rollDay(): void {
    if (this.#now() < this.#dayEndsAt) return;
    this.#usedToday = 0;
    this.#dayEndsAt = this.#nextMidnight();
  }

  #nextMidnight(): number {
    const offset = this.#options.dailyResetUtcOffsetMinutes * 60_000;
    const local = new Date(this.#now() + offset);
    const midnight = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1);
    return midnight - offset;
  }
}
