import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { scoring } from '@leadmesh/contracts';
import { GrpcServer } from '@leadmesh/platform';
import { RuleSetService } from './rule-set.service.js';
import { ScoringService } from './scoring.service.js';

/** ScoringService over gRPC: translate and delegate. */
@Injectable()
export class ScoringGrpc implements OnModuleInit {
  constructor(
    @Inject(GrpcServer) private readonly grpc: GrpcServer,
    @Inject(ScoringService) private readonly scoring: ScoringService,
    @Inject(RuleSetService) private readonly ruleSets: RuleSetService,
  ) {}

  onModuleInit(): void {
    this.grpc.register(scoring.ScoringService, {
      scoreLead: async (request) => ({ score: await this.scoring.scoreLead(request) }),
      getLeadScore: async (request) => this.scoring.getLeadScore(request.leadId),
      publishRuleSet: async (request) => ({ ruleSet: await this.ruleSets.publish(request.document) }),
      listRuleSets: async () => this.ruleSets.list(),
      activateRuleSet: async (request) => this.ruleSets.activate(request.version),
      getRescoreProgress: async (request) => ({ rescore: await this.ruleSets.progress(request.jobId) }),
    });
  }
}
