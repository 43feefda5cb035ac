import { Module } from '@nestjs/common';
import { PlatformModule } from '@leadmesh/platform';
import { RuleSetRegistry } from './rule-set.registry.js';
import { ScoreStore } from './score.store.js';
import { ScoringConsumer } from './scoring.consumer.js';
import { ScoringGrpc } from './scoring.grpc.js';
import { ScoringService } from './scoring.service.js';

@Module({
  imports: [PlatformModule.forService('scoring')],
  providers: [RuleSetRegistry, ScoreStore, ScoringService, ScoringGrpc, ScoringConsumer],
})
export class ScoringModule {}
