import { Module } from '@nestjs/common';
import { PlatformModule } from '@leadmesh/platform';
import { AssignmentStore } from './assignment.store.js';
import { CrmAccountBook } from './crm-account-book.js';
import { CrmAccountStore } from './crm-account.store.js';
import { CrmAccountsService } from './crm-accounts.service.js';
import { OwnerDirectory } from './owner-directory.js';
import { OwnerDirectoryStore } from './owner-directory.store.js';
import { OwnerLoadStore } from './owner-load.store.js';
import { OwnerManagementService } from './owner-management.service.js';
import { RouteDecider } from './route-decider.js';
import { RoutingConfigRegistry } from './routing-config.registry.js';
import { RoutingConsumer } from './routing.consumer.js';
import { RoutingGrpc } from './routing.grpc.js';
import { RoutingService } from './routing.service.js';
import { SLA_SETTINGS, loadSlaSettings } from './sla-settings.js';
import { SlaRerouteService } from './sla-reroute.service.js';

@Module({
  imports: [PlatformModule.forService('routing')],
  providers: [
    { provide: SLA_SETTINGS, useValue: loadSlaSettings() },
    RoutingConfigRegistry,
    AssignmentStore,
    OwnerDirectoryStore,
    OwnerLoadStore,
    OwnerDirectory,
    CrmAccountStore,
    CrmAccountBook,
    CrmAccountsService,
    RouteDecider,
    RoutingService,
    OwnerManagementService,
    SlaRerouteService,
    RoutingGrpc,
    RoutingConsumer,
  ],
})
export class RoutingModule {}
