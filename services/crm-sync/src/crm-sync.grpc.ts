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
      listDeadLetters: (request) => this.crmSync.listDeadLetters(request.pageSize, request.pageToken),
      // protovalidate has already required exactly one target, and `all` to be true.
      replay: (request) =>
        this.crmSync.replay(request.target.case === 'leadId' ? { leadId: request.target.value } : { all: true }),
    });
  }
}
