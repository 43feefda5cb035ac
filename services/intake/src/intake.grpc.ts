import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { intake } from '@leadmesh/contracts';
import { GrpcServer } from '@leadmesh/platform';
import { IntakeService } from './intake.service.js';

/** IntakeService over gRPC: translate and delegate. */
@Injectable()
export class IntakeGrpc implements OnModuleInit {
  constructor(
    @Inject(GrpcServer) private readonly grpc: GrpcServer,
    @Inject(IntakeService) private readonly intake: IntakeService,
  ) {}

  onModuleInit(): void {
    this.grpc.register(intake.IntakeService, {
      submitLead: (request) => this.intake.submitLead(request, 'grpc'),
      recordActivity: (request) => this.intake.recordActivity(request),
      getLead: async (request) => ({ lead: await this.intake.getLead(request.leadId) }),
    });
  }
}
