import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { EventConsumers } from '@leadmesh/platform';
import { NurtureService } from './nurture.service.js';

/** Nurture's durable consumer: translate and delegate. */
@Injectable()
export class NurtureConsumer implements OnModuleInit {
  constructor(
    @Inject(EventConsumers) private readonly consumers: EventConsumers,
    @Inject(NurtureService) private readonly nurture: NurtureService,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      durable: 'nurture-lead-routed',
      subject: SUBJECTS.leadRouted,
      schema: events.LeadRoutedSchema,
      handle: (event, ctx) => this.nurture.onLeadRouted(event, ctx),
    });
  }
}
