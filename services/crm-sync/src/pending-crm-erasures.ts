import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, PeriodicWork, type Logger } from '@leadmesh/platform';
import { LeadSync } from './lead-sync.js';

/** How often the CRM records left after a failed delete-again are tried (CRM_ERASURE_RETRY_MS). */
const everyMs = () => Number(process.env.CRM_ERASURE_RETRY_MS ?? 60_000);

/**
 * Tries again, every minute, to delete the CRM records that a write in flight made after the lead's
 * erasure and that the CRM did not let crm-sync delete at the time (LeadSync.deleteAgain). Any
 * replica may run it: deleting twice is harmless.
 */
@Injectable()
export class PendingCrmErasures implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly work: PeriodicWork;

  constructor(
    @Inject(LeadSync) sync: LeadSync,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.work = new PeriodicWork('pending CRM erasures', () => sync.erasePending(), { everyMs: everyMs(), logger });
  }

  onApplicationBootstrap(): void {
    this.work.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.work.stop();
  }
}
