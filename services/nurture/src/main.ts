import { runService } from '@leadmesh/platform';
import { NurtureModule } from './nurture.module.js';

await runService('nurture', NurtureModule);
