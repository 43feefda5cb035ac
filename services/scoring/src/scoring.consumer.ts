import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { Erasures, EventConsumers } from '@leadmesh/platform';
import { ScoringService } from './scoring.service.js';

/** Scoring's durable consumers: translate and delegate. */
@Injectable()
export class ScoringConsumer implements OnModuleInit {
  constructor(
    @Inject(EventConsumers) private readonly consumers: EventConsumers,
    @Inject(ScoringService) private readonly scoring: ScoringService,
    @Inject(Erasures) private readonly erasures: Erasures,
  ) {}

  onModuleInit(): void {
    this.erasures.register(this.consumers, (leadId) => this.scoring.forget(leadId));
    this.consumers.register({
      durable: 'scoring-lead-received',
      subject: SUBJECTS.leadReceived,
      schema: events.LeadReceivedSchema,
      handle: (event, ctx) => this.scoring.onLeadReceived(event, ctx),
    });
    this.consumers.register({
      durable: 'scoring-activity-recorded',
      subject: SUBJECTS.activityRecorded,
      schema: events.ActivityRecordedSchema,
      handle: (event, ctx) => this.scoring.onActivityRecorded(event, ctx),
    });
  }
}
