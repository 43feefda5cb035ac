import { runService } from '@leadmesh/platform';
import { CrmSyncModule } from './crm-sync.module.js';

// HTTP for HubSpot's webhooks (changes that flow back from the CRM).
await runService('crm-sync', CrmSyncModule, { httpPort: Number(process.env.HTTP_PORT ?? 8086) });
