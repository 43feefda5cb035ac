import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { routing } from '@leadmesh/contracts';
import { GrpcServer } from '@leadmesh/platform';
import { RoutingService } from './routing.service.js';

/** RoutingService over gRPC: translate and delegate. */
@Injectable()
export class RoutingGrpc implements OnModuleInit {
  constructor(
    @Inject(GrpcServer) private readonly grpc: GrpcServer,
    @Inject(RoutingService) private readonly routing: RoutingService,
  ) {}

  onModuleInit(): void {
    this.grpc.register(routing.RoutingService, {
      previewRoute: async (request) => ({ assignment: await this.routing.previewRoute(request) }),
      getAssignment: async (request) => ({ assignment: await this.routing.getAssignment(request.leadId) }),
    });
  }
}
