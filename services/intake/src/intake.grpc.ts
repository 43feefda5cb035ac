import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { intake } from '@leadmesh/contracts';
import { GrpcServer } from '@leadmesh/platform';
import { IntakeService } from './intake.service.js';
import { JourneyService } from './journey.service.js';
import { PersonalizationService, toPersonalizationMessage } from './personalization.service.js';

/** IntakeService over gRPC: translate and delegate. */
@Injectable()
export class IntakeGrpc implements OnModuleInit {
  constructor(
    @Inject(GrpcServer) private readonly grpc: GrpcServer,
    @Inject(IntakeService) private readonly intake: IntakeService,
    @Inject(JourneyService) private readonly journeys: JourneyService,
    @Inject(PersonalizationService) private readonly personalization: PersonalizationService,
  ) {}

  onModuleInit(): void {
    this.grpc.register(intake.IntakeService, {
      submitLead: async (request, call) => (await this.intake.submitLead(request, 'grpc', undefined, call.caller?.subject ?? '')).response,
      recordActivity: (request) => this.intake.recordActivity(request),
      getLead: async (request) => ({ lead: await this.intake.getLead(request.leadId) }),
      searchLeads: async (request) => ({ leads: await this.intake.searchLeads(request.query, request.pageSize) }),
      getLeadJourney: (request) => this.journeys.getLeadJourney(request.leadId),
      getPersonalization: async (request) => ({ personalization: toPersonalizationMessage(await this.personalization.forVisitor(request.visitorId)) }),
      eraseContact: (request) => this.intake.eraseContact(request.email),
      getErasure: (request) => this.intake.getErasure(request.erasureId),
    });
  }
}
