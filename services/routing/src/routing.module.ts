import { Module } from '@nestjs/common';
import { PlatformModule } from '@leadmesh/platform';
import { AssignmentStore } from './assignment.store.js';
import { RoutingConfigRegistry } from './routing-config.registry.js';
import { RoutingConsumer } from './routing.consumer.js';
import { RoutingGrpc } from './routing.grpc.js';
import { RoutingService } from './routing.service.js';

@Module({
  imports: [PlatformModule.forService('routing')],
  providers: [RoutingConfigRegistry, AssignmentStore, RoutingService, RoutingGrpc, RoutingConsumer],
})
export class RoutingModule {}
