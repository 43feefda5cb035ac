import { Module } from '@nestjs/common';
import { PlatformModule } from '@leadmesh/platform';
import { RescoreJobStore } from './rescore-job.store.js';
import { RescoreWorker } from './rescore.worker.js';
import { RuleSetRegistry } from './rule-set.registry.js';
import { RuleSetService } from './rule-set.service.js';
import { RuleSetStore } from './rule-set.store.js';
import { ScoreStore } from './score.store.js';
import { ScoringConsumer } from './scoring.consumer.js';
import { ScoringGrpc } from './scoring.grpc.js';
import { SCORING_OPTIONS, loadScoringOptions } from './scoring.options.js';
import { ScoringService } from './scoring.service.js';

@Module({
  imports: [PlatformModule.forService('scoring')],
  providers: [
    { provide: SCORING_OPTIONS, useFactory: () => loadScoringOptions() },
    RuleSetStore,
    RuleSetRegistry,
    ScoreStore,
    RescoreJobStore,
    ScoringService,
    RescoreWorker,
    RuleSetService,
    ScoringGrpc,
    ScoringConsumer,
  ],
})
export class ScoringModule {}
