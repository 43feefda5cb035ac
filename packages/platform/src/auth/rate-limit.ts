import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export class RateLimitedError extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`rate limit exceeded, retry in ${retryAfterMs} ms`);
    this.name = 'RateLimitedError';
  }
}

/**
 * Per-caller limits on the public RPCs, per replica (AUTH_RATE_LIMIT_PER_SECOND, burst over one
 * second). A caller over the limit gets RESOURCE_EXHAUSTED with the delay to wait.
 */
export class CallerRateLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(perSecond = Number(process.env.AUTH_RATE_LIMIT_PER_SECOND ?? 500)) {
    this.limiter = new RateLimiterMemory({ points: perSecond, duration: 1 });
  }

  async consume(caller: string): Promise<void> {
    try {
      await this.limiter.consume(caller, 1);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, res.msBeforeNext));
      throw res;
    }
  }
}
