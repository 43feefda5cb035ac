import { Inject, Injectable } from '@nestjs/common';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { events } from '@leadmesh/contracts';
import { LOGGER, PoisonEventError, type EventContext, type Logger } from '@leadmesh/platform';
import { CrmAccountBook } from './crm-account-book.js';
import { CrmAccountStore } from './crm-account.store.js';

/** Accounts from the CRM: routing keeps its own copy for lead-to-account matching (CRM first, the accounts file as fallback). */
@Injectable()
export class CrmAccountsService {
  constructor(
    @Inject(CrmAccountStore) private readonly store: CrmAccountStore,
    @Inject(CrmAccountBook) private readonly book: CrmAccountBook,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onCrmAccountChanged(event: events.CrmAccountChanged, ctx: EventContext): Promise<void> {
    if (!event.crm || !event.accountId || !event.crmModifiedAt) throw new PoisonEventError('crm.account_changed without crm, account id or modification stamp');
    const applied = await this.store.apply(
      {
        crm: event.crm,
        accountId: event.accountId,
        name: event.name,
        domains: event.domains.map((d) => d.toLowerCase()),
        ownerId: event.ownerId,
        crmOwnerId: event.crmOwnerId,
        crmModifiedAt: timestampDate(event.crmModifiedAt),
      },
      ctx.eventId,
    );
    if (applied) this.book.invalidate();
    this.logger.debug({ crm: event.crm, accountId: event.accountId, domains: event.domains.length, applied }, 'CRM account taken in');
  }
}
