import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { EventConsumers } from '@leadmesh/platform';
import { CrmSyncService } from './crm-sync.service.js';

/** crm-sync's durable consumer: translate and delegate. */
@Injectable()
export class CrmSyncConsumer implements OnModuleInit {
  constructor(
    @Inject(EventConsumers) private readonly consumers: EventConsumers,
    @Inject(CrmSyncService) private readonly crmSync: CrmSyncService,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      durable: 'crm-sync-lead-routed',
      subject: SUBJECTS.leadRouted,
      schema: events.LeadRoutedSchema,
      // A CRM outage is waited out, not dead-lettered: about an hour of retries, then the backlog
      // still sits in the stream for a replay. Validation errors go to dead letters at once.
      retry: { maxDeliver: 70, backoffMs: [500, 2000, 5000, 15_000, 30_000, 60_000] },
      handle: (event, ctx) => this.crmSync.onLeadRouted(event, ctx),
    });
  }
}
