import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { Erasures, EventConsumers } from '@leadmesh/platform';
import { NurtureService } from './nurture.service.js';
import { StepSender } from './step.sender.js';

/**
 * Nurture's durable consumers: translate, delegate, and give the steps an event made due now to
 * the sender, which records them before the event is acknowledged and then sends.
 */
@Injectable()
export class NurtureConsumer implements OnModuleInit {
  constructor(
    @Inject(EventConsumers) private readonly consumers: EventConsumers,
    @Inject(NurtureService) private readonly nurture: NurtureService,
    @Inject(StepSender) private readonly sender: StepSender,
    @Inject(Erasures) private readonly erasures: Erasures,
  ) {}

  onModuleInit(): void {
    this.erasures.register(this.consumers, (leadId) => this.nurture.forget(leadId));
    this.consumers.register({
      durable: 'nurture-lead-received',
      subject: SUBJECTS.leadReceived,
      schema: events.LeadReceivedSchema,
      handle: async (event, ctx) => this.sender.take(await this.nurture.onLeadReceived(event, ctx)),
    });
    this.consumers.register({
      durable: 'nurture-lead-scored',
      subject: SUBJECTS.leadScored,
      schema: events.LeadScoredSchema,
      handle: async (event, ctx) => this.sender.take(await this.nurture.onLeadScored(event, ctx)),
    });
    this.consumers.register({
      durable: 'nurture-lead-routed',
      subject: SUBJECTS.leadRouted,
      schema: events.LeadRoutedSchema,
      handle: async (event, ctx) => this.sender.take(await this.nurture.onLeadRouted(event, ctx)),
    });
  }
}
