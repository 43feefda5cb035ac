import { runService } from '@leadmesh/platform';
import { CrmSyncModule } from './crm-sync.module.js';

await runService('crm-sync', CrmSyncModule);
