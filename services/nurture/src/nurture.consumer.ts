import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { Erasures, EventConsumers } from '@leadmesh/platform';
import { NurtureScheduler } from './nurture.scheduler.js';
import { NurtureService } from './nurture.service.js';

/** Nurture's durable consumers: translate, delegate, and wake the scheduler for steps due now. */
@Injectable()
export class NurtureConsumer implements OnModuleInit {
  constructor(
    @Inject(EventConsumers) private readonly consumers: EventConsumers,
    @Inject(NurtureService) private readonly nurture: NurtureService,
    @Inject(NurtureScheduler) private readonly scheduler: NurtureScheduler,
    @Inject(Erasures) private readonly erasures: Erasures,
  ) {}

  onModuleInit(): void {
    this.erasures.register(this.consumers, (leadId) => this.nurture.forget(leadId));
    this.consumers.register({
      durable: 'nurture-lead-received',
      subject: SUBJECTS.leadReceived,
      schema: events.LeadReceivedSchema,
      handle: async (event, ctx) => {
        if (await this.nurture.onLeadReceived(event, ctx)) this.scheduler.kick(event.leadId);
      },
    });
    this.consumers.register({
      durable: 'nurture-lead-scored',
      subject: SUBJECTS.leadScored,
      schema: events.LeadScoredSchema,
      handle: async (event, ctx) => {
        if (await this.nurture.onLeadScored(event, ctx)) this.scheduler.kick(event.leadId);
      },
    });
    this.consumers.register({
      durable: 'nurture-lead-routed',
      subject: SUBJECTS.leadRouted,
      schema: events.LeadRoutedSchema,
      handle: async (event, ctx) => {
        if (await this.nurture.onLeadRouted(event, ctx)) this.scheduler.kick(event.leadId);
      },
    });
  }
}
