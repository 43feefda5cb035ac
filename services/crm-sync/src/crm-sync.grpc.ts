import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { crmsync } from '@leadmesh/contracts';
import { GrpcServer } from '@leadmesh/platform';
import { CrmSyncService } from './crm-sync.service.js';

/** CrmSyncService over gRPC: translate and delegate. */
@Injectable()
export class CrmSyncGrpc implements OnModuleInit {
  constructor(
    @Inject(GrpcServer) private readonly grpc: GrpcServer,
    @Inject(CrmSyncService) private readonly crmSync: CrmSyncService,
  ) {}

  onModuleInit(): void {
    this.grpc.register(crmsync.CrmSyncService, {
      getSyncStatus: async (request) => ({ record: await this.crmSync.getSyncStatus(request.leadId) }),
    });
  }
}
