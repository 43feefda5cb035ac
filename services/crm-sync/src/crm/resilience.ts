// The policies every CRM call goes through, built from cockatiel so the retry and breaker logic is
// a maintained library's, not ours:
//   rate-limit retry( transient retry( gate -> limiter -> breaker( timeout( request ) ) ) )
// Only 5xx, network failures and timeouts are retried or trip the breaker; validation errors pass
// straight through. A 429 closes the shared gate, so every request of the adapter waits, not only
// the one that was told off.
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ConstantBackoff,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  type CircuitBreakerPolicy,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import { safeErrorText } from '@leadmesh/platform';
import { CrmRateLimitedError, CrmUnavailableError, type CrmName } from './crm-port.js';

export interface ResilienceOptions {
  /** Per HTTP request; a slower answer counts as a failure. */
  requestTimeoutMs: number;
  /** Attempts in total (first try included) for 5xx, network errors and timeouts. */
  retryMaxAttempts: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  /** Consecutive transient failures that open the breaker. */
  breakerThreshold: number;
  /** How long the breaker stays open before one trial request is let through. */
  breakerHalfOpenAfterMs: number;
  /** Pause when a rate limit answer carries no Retry-After. */
  rateLimitDefaultPauseMs: number;
  /** Waits up to this long are absorbed here; longer ones go back to the caller as CrmRateLimitedError. */
  rateLimitMaxWaitMs: number;
  rateLimitMaxRetries: number;
}

export const DEFAULT_RESILIENCE: ResilienceOptions = {
  requestTimeoutMs: 10_000,
  retryMaxAttempts: 4,
  retryInitialDelayMs: 200,
  retryMaxDelayMs: 5_000,
  breakerThreshold: 5,
  // Short, so a CRM back from an outage is tried again within seconds (crm-availability's probe is
  // the half-open trial); the breaker still spares a down CRM a request per event.
  breakerHalfOpenAfterMs: 5_000,
  rateLimitDefaultPauseMs: 60_000,
  rateLimitMaxWaitMs: 30_000,
  rateLimitMaxRetries: 3,
};

export type CrmAdapterEvent =
  | { type: 'retry'; crm: CrmName; attempt: number; delayMs: number; error: string }
  | { type: 'breaker'; crm: CrmName; state: 'open' | 'half-open' | 'closed' }
  | { type: 'rate-limited'; crm: CrmName; pauseMs: number };

export type CrmEventListener = (event: CrmAdapterEvent) => void;

/** Closed while the CRM has asked us to back off; every request awaits it before going out. */
export class PauseGate {
  #resumeAt = 0;

  pauseFor(ms: number): void {
    this.#resumeAt = Math.max(this.#resumeAt, Date.now() + ms);
  }

  get resumeAt(): number {
    return this.#resumeAt;
  }

  async wait(): Promise<void> {
    // A loop, because another 429 may push the reopening further out while we sleep.
    for (let left = this.#resumeAt - Date.now(); left > 0; left = this.#resumeAt - Date.now()) {
      await new Promise((resolve) => setTimeout(resolve, left));
    }
  }
}

const isTransient = (err: Error) => err instanceof CrmUnavailableError && !err.breakerOpen;

export class ResilientExecutor {
  readonly gate = new PauseGate();
  readonly #crm: CrmName;
  readonly #options: ResilienceOptions;
  readonly #beforeAttempt: (() => Promise<void>) | undefined;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #timeout: TimeoutPolicy;
  readonly #transientRetry: RetryPolicy;
  readonly #rateLimitRetry: RetryPolicy;
  readonly #emit: CrmEventListener;

  constructor(crm: CrmName, options: ResilienceOptions, hooks: { beforeAttempt?: () => Promise<void>; onEvent?: CrmEventListener } = {}) {
    this.#crm = crm;
    this.#options = options;
    this.#beforeAttempt = hooks.beforeAttempt;
    this.#emit = hooks.onEvent ?? (() => {});
    this.#timeout = timeout(options.requestTimeoutMs, TimeoutStrategy.Aggressive);
    this.#breaker = circuitBreaker(
      handleWhen((err) => isTransient(err) || err instanceof TaskCancelledError),
      { halfOpenAfter: options.breakerHalfOpenAfterMs, breaker: new ConsecutiveBreaker(options.breakerThreshold) },
    );
    this.#breaker.onStateChange((state) => {
      const name = state === CircuitState.Open ? 'open' : state === CircuitState.HalfOpen ? 'half-open' : 'closed';
      this.#emit({ type: 'breaker', crm, state: name });
    });
    this.#transientRetry = retry(handleWhen(isTransient), {
      maxAttempts: options.retryMaxAttempts - 1,
      backoff: new ExponentialBackoff({ initialDelay: options.retryInitialDelayMs, maxDelay: options.retryMaxDelayMs }),
    });
    this.#transientRetry.onRetry((e) =>
      this.#emit({ type: 'retry', crm, attempt: e.attempt, delayMs: e.delay, error: 'error' in e ? safeErrorText(e.error) : 'bad result' }),
    );
    // No delay of its own: the gate already holds the retry until the CRM's Retry-After has passed.
    this.#rateLimitRetry = retry(
      handleWhen((err) => err instanceof CrmRateLimitedError && err.retryAfterMs <= options.rateLimitMaxWaitMs),
      { maxAttempts: options.rateLimitMaxRetries, backoff: new ConstantBackoff(0) },
    );
  }

  get breakerState(): 'closed' | 'open' | 'half-open' | 'isolated' {
    const state = this.#breaker.state;
    if (state === CircuitState.Open) return 'open';
    if (state === CircuitState.HalfOpen) return 'half-open';
    if (state === CircuitState.Isolated) return 'isolated';
    return 'closed';
  }

  /** Runs one HTTP exchange under every policy; `request` must honour the abort signal. */
  run<T>(request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.#rateLimitRetry.execute(() => this.#transientRetry.execute(() => this.#once(request)));
  }

  async #once<T>(request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    await this.gate.wait();
    await this.#beforeAttempt?.();
    try {
      return await this.#breaker.execute(() => this.#timeout.execute((_ctx, signal) => request(signal)));
    } catch (err) {
      if (err instanceof CrmRateLimitedError) {
        this.gate.pauseFor(err.retryAfterMs);
        this.#emit({ type: 'rate-limited', crm: this.#crm, pauseMs: err.retryAfterMs });
        throw err;
      }
      if (err instanceof BrokenCircuitError) {
        throw new CrmUnavailableError(this.#crm, `${this.#crm} circuit breaker is open after repeated failures`, { breakerOpen: true, cause: err });
      }
      if (err instanceof TaskCancelledError) {
        throw new CrmUnavailableError(this.#crm, `${this.#crm} did not answer within ${this.#options.requestTimeoutMs} ms`, { code: 'TIMEOUT', cause: err });
      }
      throw err;
    }
  }
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, fallbackMs: number, now = Date.now()): number {
  if (header === null || header.trim() === '') return fallbackMs;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? fallbackMs : Math.max(0, date - now);
}
