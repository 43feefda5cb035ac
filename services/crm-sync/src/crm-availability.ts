import { PeriodicWork, type Logger } from '@leadmesh/platform';
import type { CrmPort } from './crm/crm-port.js';

export interface CrmAvailabilityOptions {
  /** How often a CRM seen down is asked again (through the adapter's breaker: the half-open trial). */
  probeIntervalMs: number;
  /** How long one event waits in hand for the CRM before it goes back to the broker with its backoff. */
  maxWaitMs: number;
}

export function availabilityFromEnv(env: Record<string, string | undefined>): CrmAvailabilityOptions {
  const read = (key: string, fallback: number) => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${key} must be a positive integer (ms), got "${raw}"`);
    return value;
  };
  return { probeIntervalMs: read('CRM_PROBE_INTERVAL_MS', 2_000), maxWaitMs: read('CRM_OUTAGE_WAIT_MS', 25_000) };
}

interface Outage {
  since: number;
  answering: Promise<void>;
  answered(): void;
}

/**
 * Knows whether the CRM answers. Once a sync met it unavailable, one probe loop (a cheap read through
 * the adapter, so the breaker's half-open trial) asks it every few seconds, and every event waiting
 * on it is released the moment it answers: the backlog reaches the CRM within a probe interval and
 * the breaker's half-open delay of its return, not after each event's own, ever longer backoff.
 * Events wait in hand meanwhile (the consumer keeps them alive), so a down CRM is not hammered and
 * the broker holds the rest.
 */
export class CrmAvailability {
  #outage: Outage | undefined;

  constructor(
    private readonly crm: CrmPort,
    private readonly options: CrmAvailabilityOptions,
    private readonly logger: Logger,
  ) {}

  get maxWaitMs(): number {
    return this.options.maxWaitMs;
  }

  get down(): boolean {
    return this.#outage !== undefined;
  }

  /** Resolves true once the CRM answers again, false when `maxWaitMs` passed first. */
  async waitUntilAnswering(maxWaitMs = this.options.maxWaitMs): Promise<boolean> {
    const outage = this.#outage ?? this.#start();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), maxWaitMs);
      timer.unref();
    });
    try {
      return await Promise.race([outage.answering.then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  #start(): Outage {
    let answered!: () => void;
    const answering = new Promise<void>((resolve) => (answered = resolve));
    const outage: Outage = { since: Date.now(), answering, answered };
    this.#outage = outage;
    this.logger.warn({ crm: this.crm.name }, 'CRM unavailable: syncs wait for it, probing until it answers');
    // One probe at a time, one loop per outage; a failed probe is logged by PeriodicWork and the next tick retries.
    const probe: PeriodicWork = new PeriodicWork(
      `${this.crm.name} availability probe`,
      async () => {
        if (this.#outage !== outage) return;
        await this.crm.probe();
        this.#outage = undefined;
        void probe.stop();
        outage.answered();
        this.logger.info({ crm: this.crm.name, downMs: Date.now() - outage.since }, 'CRM answers again: waiting syncs resume');
      },
      { everyMs: this.options.probeIntervalMs, logger: this.logger },
    );
    probe.start();
    return outage;
  }
}
