import { runService } from '@leadmesh/platform';
import { NurtureModule } from './nurture.module.js';

await runService('nurture', NurtureModule, { httpPort: Number(process.env.HTTP_PORT ?? 8084) });
