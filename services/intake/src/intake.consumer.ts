import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { EventConsumers } from '@leadmesh/platform';
import { IntakeService } from './intake.service.js';

/** Intake's durable consumer: each service reporting its part of an erasure done. */
@Injectable()
export class IntakeConsumer implements OnModuleInit {
  constructor(
    @Inject(EventConsumers) private readonly consumers: EventConsumers,
    @Inject(IntakeService) private readonly intake: IntakeService,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      durable: 'intake-erasure-completed',
      subject: SUBJECTS.erasureCompleted,
      schema: events.ErasureCompletedSchema,
      handle: (event) => this.intake.onErasureCompleted(event),
    });
  }
}
