import { Inject, Injectable } from '@nestjs/common';
import { CrmAccountStore } from './crm-account.store.js';
import type { CrmAccount } from './domain/index.js';

/** How long a replica reuses the CRM accounts it read (ROUTING_ACCOUNT_REFRESH_MS); another replica's update shows after at most this. */
export function accountRefreshMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ROUTING_ACCOUNT_REFRESH_MS;
  if (raw === undefined || raw === '') return 30_000;
  const value = Number(raw);
  if (!(Number.isInteger(value) && value >= 0)) throw new Error(`ROUTING_ACCOUNT_REFRESH_MS must be a non-negative integer, got "${raw}"`);
  return value;
}

/**
 * The CRM accounts every routing decision matches against, read from the store at most once per
 * refresh period: a decision must not read a whole collection. An account this replica applied
 * invalidates its copy at once.
 */
@Injectable()
export class CrmAccountBook {
  private cached?: { at: number; accounts: Promise<CrmAccount[]> };
  private readonly refreshMs = accountRefreshMs();

  constructor(@Inject(CrmAccountStore) private readonly store: CrmAccountStore) {}

  current(): Promise<CrmAccount[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= this.refreshMs) {
      const accounts = this.store.all();
      this.cached = { at: now, accounts };
      // A failed read is not kept: the next decision reads again.
      accounts.catch(() => {
        if (this.cached?.accounts === accounts) this.cached = undefined;
      });
    }
    return this.cached.accounts;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}
