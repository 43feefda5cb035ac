import { runService } from '@leadmesh/platform';
import { RoutingModule } from './routing.module.js';

await runService('routing', RoutingModule);
