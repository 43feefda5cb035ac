import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { scoring } from '@leadmesh/contracts';
import { GrpcServer } from '@leadmesh/platform';
import { ScoringService } from './scoring.service.js';

/** ScoringService over gRPC: translate and delegate. */
@Injectable()
export class ScoringGrpc implements OnModuleInit {
  constructor(
    @Inject(GrpcServer) private readonly grpc: GrpcServer,
    @Inject(ScoringService) private readonly scoring: ScoringService,
  ) {}

  onModuleInit(): void {
    this.grpc.register(scoring.ScoringService, {
      scoreLead: async (request) => ({ score: this.scoring.scoreLead(request) }),
      getLeadScore: async (request) => ({ score: await this.scoring.getLeadScore(request.leadId) }),
    });
  }
}
