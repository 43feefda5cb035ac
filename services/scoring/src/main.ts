import { runService } from '@leadmesh/platform';
import { ScoringModule } from './scoring.module.js';

await runService('scoring', ScoringModule);
