import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { Erasures, EventConsumers } from '@leadmesh/platform';
import { CrmAccountsService } from './crm-accounts.service.js';
import { RoutingService } from './routing.service.js';

/** Routing's durable consumer: translate and delegate. */
@Injectable()
export class RoutingConsumer implements OnModuleInit {
  constructor(
    @Inject(EventConsumers) private readonly consumers: EventConsumers,
    @Inject(RoutingService) private readonly routing: RoutingService,
    @Inject(Erasures) private readonly erasures: Erasures,
    @Inject(CrmAccountsService) private readonly accounts: CrmAccountsService,
  ) {}

  onModuleInit(): void {
    this.erasures.register(this.consumers, (leadId) => this.routing.forget(leadId));
    this.consumers.register({
      durable: 'routing-lead-scored',
      subject: SUBJECTS.leadScored,
      schema: events.LeadScoredSchema,
      handle: (event, ctx) => this.routing.onLeadScored(event, ctx),
    });
    // Sales reassigned or accepted the lead in the CRM.
    this.consumers.register({
      durable: 'routing-crm-lead-changed',
      subject: SUBJECTS.crmLeadChanged,
      schema: events.CrmLeadChangedSchema,
      handle: (event, ctx) => this.routing.onCrmLeadChanged(event, ctx),
    });
    // An account created or changed in the CRM: lead-to-account matching follows it.
    this.consumers.register({
      durable: 'routing-crm-account-changed',
      subject: SUBJECTS.crmAccountChanged,
      schema: events.CrmAccountChangedSchema,
      handle: (event, ctx) => this.accounts.onCrmAccountChanged(event, ctx),
    });
  }
}
