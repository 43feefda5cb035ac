import { Module } from '@nestjs/common';
import { Erasures, LOGGER, PlatformModule, type Logger } from '@leadmesh/platform';
import { ChangeWatermarkStore } from './change-watermark.store.js';
import { CRM_ACCOUNT_SETTINGS, CrmAccounts, accountSettingsFromEnv } from './crm-accounts.service.js';
import { CrmAvailability, availabilityFromEnv } from './crm-availability.js';
import { CRM_CHANGE_SETTINGS, CrmChanges, changeSettingsFromEnv } from './crm-changes.service.js';
import { CrmGateway } from './crm.gateway.js';
import { CrmSyncConsumer } from './crm-sync.consumer.js';
import { CrmSyncGrpc } from './crm-sync.grpc.js';
import { CrmSyncService } from './crm-sync.service.js';
import { DeadLetterStore } from './dead-letter.store.js';
import { HubspotWebhookController } from './hubspot-webhook.controller.js';
import { LeadSync } from './lead-sync.js';
import { PendingCrmErasures } from './pending-crm-erasures.js';
import { SyncStore } from './sync.store.js';

@Module({
  imports: [PlatformModule.forService('crm-sync')],
  controllers: [HubspotWebhookController],
  providers: [
    { provide: CRM_CHANGE_SETTINGS, useValue: changeSettingsFromEnv(process.env) },
    { provide: CRM_ACCOUNT_SETTINGS, useValue: accountSettingsFromEnv(process.env) },
    {
      provide: CrmGateway,
      useFactory: async (erasures: Erasures) => {
        const gateway = await CrmGateway.fromEnv(process.env);
        gateway.isErased = (leadId) => erasures.isErased(leadId);
        return gateway;
      },
      inject: [Erasures],
    },
    {
      provide: CrmAvailability,
      useFactory: (gateway: CrmGateway, logger: Logger) => new CrmAvailability(gateway.crm, availabilityFromEnv(process.env), logger),
      inject: [CrmGateway, LOGGER],
    },
    SyncStore,
    DeadLetterStore,
    LeadSync,
    PendingCrmErasures,
    CrmSyncService,
    CrmSyncGrpc,
    CrmSyncConsumer,
    ChangeWatermarkStore,
    CrmChanges,
    CrmAccounts,
  ],
})
export class CrmSyncModule {}
