import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { routing } from '@leadmesh/contracts';
import { GrpcServer } from '@leadmesh/platform';
import { OwnerManagementService } from './owner-management.service.js';
import { listOwnersToProto, ownerToProto } from './routing.mapping.js';
import { RoutingService } from './routing.service.js';

/** RoutingService over gRPC: translate and delegate. */
@Injectable()
export class RoutingGrpc implements OnModuleInit {
  constructor(
    @Inject(GrpcServer) private readonly grpc: GrpcServer,
    @Inject(RoutingService) private readonly routing: RoutingService,
    @Inject(OwnerManagementService) private readonly owners: OwnerManagementService,
  ) {}

  onModuleInit(): void {
    this.grpc.register(routing.RoutingService, {
      previewRoute: async (request) => ({ assignment: await this.routing.previewRoute(request) }),
      getAssignment: async (request) => ({ assignment: await this.routing.getAssignment(request.leadId) }),
      acceptLead: async (request, { caller }) => ({ assignment: await this.routing.acceptLead(request.leadId, request.ownerId, caller) }),
      listOwners: async (request) => listOwnersToProto(await this.owners.listOwners(request.teamId)),
      upsertOwner: async (request) => ({ owner: ownerToProto(await this.owners.upsertOwner(request)) }),
      setOwnerAvailability: async (request) => ({ owner: ownerToProto(await this.owners.setOwnerAvailability(request)) }),
    });
  }
}
