import { runService } from '@leadmesh/platform';
import { IntakeModule } from './intake.module.js';

await runService('intake', IntakeModule, { httpPort: Number(process.env.HTTP_PORT ?? 8080) });
